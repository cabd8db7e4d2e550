//! The commands that run without the terminal interface.

pub mod bench;
mod bench_limits;
pub mod export;
pub mod lessons;
pub mod results;
pub mod run;
pub mod slurm;
