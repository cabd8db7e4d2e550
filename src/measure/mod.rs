//! Statistics of repeated timings and the scaling models fitted to them.

pub mod contention;
pub mod fit;
pub mod format;
pub mod merge;
pub mod probe;
pub mod protocol;
pub mod stats;
