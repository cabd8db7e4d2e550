//! How kernels run: on a pool of threads, or on MPI ranks started by a launcher.

pub mod child;
pub mod launch;
pub mod library;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod program;
pub mod threads;
