//! How kernels run: on a pool of threads (and, in later versions, on MPI ranks).

pub mod threads;
