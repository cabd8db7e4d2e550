//! The commands that run without the terminal interface.

pub mod bench;
pub mod export;
pub mod lessons;
pub mod run;
pub mod slurm;
