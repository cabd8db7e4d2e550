//! hpc-tutor: learn parallel computing and scaling by running real experiments.
//!
//! The library holds everything; `main.rs` only parses the command line and dispatches.
//! See `DESIGN` notes in the README for where each part lives.

pub mod cli;
pub mod cluster;
pub mod experiment;
pub mod lesson;
pub mod progress;
pub mod tui;
