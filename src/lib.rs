//! hpc-tutor: learn parallel computing and scaling by running real experiments.
//!
//! The library holds everything; `main.rs` only parses the command line and dispatches.
//! See `DESIGN` notes in the README for where each part lives.
//!
//! No `unsafe` code, except in `kernel::simd` (calling AVX2/AVX-512 code after detecting
//! the CPU has it): every other module forbids it.

#[forbid(unsafe_code)]
pub mod backend;
#[forbid(unsafe_code)]
pub mod chart;
#[forbid(unsafe_code)]
pub mod cli;
#[forbid(unsafe_code)]
pub mod cluster;
#[forbid(unsafe_code)]
pub mod commands;
#[forbid(unsafe_code)]
pub mod demo;
#[forbid(unsafe_code)]
pub mod experiment;
#[forbid(unsafe_code)]
pub mod export;
#[forbid(unsafe_code)]
pub mod fsio;
#[forbid(unsafe_code)]
pub mod input;
// `kernel` forbids unsafe code in each of its modules but `simd` (see kernel/mod.rs).
#[deny(unsafe_code)]
pub mod kernel;
#[forbid(unsafe_code)]
pub mod lesson;
#[forbid(unsafe_code)]
pub mod measure;
#[forbid(unsafe_code)]
pub mod progress;
#[forbid(unsafe_code)]
pub mod puzzle;
#[forbid(unsafe_code)]
pub mod record;
#[forbid(unsafe_code)]
pub mod stdout;
#[forbid(unsafe_code)]
pub mod tui;
