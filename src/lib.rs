//! hpc-tutor: learn parallel computing and scaling by running real experiments.
//!
//! The library holds everything; `main.rs` only parses the command line and dispatches.
//! See `DESIGN` notes in the README for where each part lives.

pub mod backend;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod demo;
pub mod experiment;
pub mod export;
pub mod fsio;
pub mod input;
pub mod kernel;
pub mod lesson;
pub mod measure;
pub mod progress;
pub mod puzzle;
pub mod record;
pub mod stdout;
pub mod tui;
