//! What differs between experiments, one type per experiment.
//!
//! [`Behaviour`]'s defaults describe the common case — a strong-scaling kernel over worker
//! counts, no variants, no message sizes, one thread per rank — so an experiment states only
//! where it differs. Adding an experiment is one new type here and one entry in
//! [`super::EXPERIMENTS`].

use std::time::Duration;

use super::{COLLECTIVES, ParamError, Params};
use crate::kernel::amdahl::Amdahl;
use crate::kernel::imbalance::{Imbalance, Schedule};
use crate::kernel::integral::Integral;
use crate::kernel::locks::{self, Locks};
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::pingpong;
use crate::kernel::race::{self, Race};
use crate::kernel::{Kernel, Output};
use crate::kernel::{farm, stream};
use crate::record::Model;

/// How one experiment behaves. Every method has the default of a plain scaling experiment.
pub trait Behaviour: Sync + Send {
    /// The parameter whose value picks the variants, e.g. `schedule`; its name heads the
    /// variant column of tables.
    fn variant_param(&self) -> Option<&'static str> {
        None
    }

    /// The value of the variant parameter that compares every variant in one run.
    fn compare_all(&self) -> Option<&'static str> {
        None
    }

    /// The names of the variants a run can compare, e.g. `static` and `dynamic`.
    fn variant_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// The only worker count the experiment runs with, if it has one.
    fn fixed_workers(&self) -> Option<usize> {
        None
    }

    /// Whether the run is weak scaling (work grows with the workers): Gustafson applies.
    fn weak_scaling(&self, _params: &Params) -> bool {
        false
    }

    /// The law fitted to the points; `None` for points that are times only.
    fn model(&self, params: &Params) -> Option<Model> {
        Some(if self.weak_scaling(params) {
            Model::Gustafson
        } else {
            Model::Amdahl
        })
    }

    /// The sizes that are points of their own, in bytes (message sizes, array sizes).
    /// Empty when only the workers are swept.
    fn sizes(&self, _params: &Params) -> Vec<u64> {
        Vec::new()
    }

    /// The parameter that gives the workers a point's size when every size is its own
    /// set-up (`size`); `None` when the workers go through the sizes themselves, or there
    /// are no sizes.
    fn size_param(&self) -> Option<&'static str> {
        None
    }

    /// Whether the MPI library's transports decide what the run measures.
    fn about_messages(&self) -> bool {
        false
    }

    /// Whether the memory system decides what the run measures: the run then keeps the
    /// machine's cache sizes.
    fn about_memory(&self) -> bool {
        false
    }

    /// Whether a deadlock is what the run measures (each deadlocked size is a point).
    fn probes_deadlocks(&self, _params: &Params) -> bool {
        false
    }

    /// Threads each MPI rank runs.
    fn threads_per_rank(&self, _params: &Params) -> usize {
        1
    }

    /// How long a launcher waits for any report of the ranks before it declares them
    /// stuck, in seconds.
    fn default_deadline(&self, _params: &Params) -> f64 {
        120.0
    }

    /// The parameter that sets the serial fraction the run was configured with.
    fn configured_serial_param(&self) -> Option<&'static str> {
        None
    }

    /// The outputs a table shows first, before the others in name order.
    fn lead_outputs(&self) -> &'static [Output] {
        &[]
    }

    /// What the worker column of an MPI run's table counts.
    fn mpi_workers_label(&self) -> &'static str {
        "ranks"
    }

    /// What to run next after a deadlock, in a sentence; `None` for experiments that do
    /// not deadlock.
    fn deadlock_fixes(&self) -> Option<&'static str> {
        None
    }

    /// Builds the kernel for `params` and `variant`; `None` where MPI ranks build and run
    /// their own (see [`Behaviour::remote_kernel`]).
    fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>>;

    /// What stands for the kernel in `hpc-tutor run` when the MPI ranks run it themselves.
    fn remote_kernel(&self) -> Box<dyn Kernel> {
        Box::new(crate::kernel::Remote)
    }

    /// Checks rules that involve more than one parameter.
    fn check_together(&self, _params: &Params) -> Result<(), ParamError> {
        Ok(())
    }

    /// Checks a run's worker counts on `backend` against the parameters (e.g. a manager
    /// rank needs a second rank to work for it), before anything starts.
    fn check_workers(
        &self,
        _params: &Params,
        _backend: super::Backend,
        _workers: &[usize],
    ) -> Result<(), ParamError> {
        Ok(())
    }
}

/// Monte Carlo π.
pub struct McPiExp;

impl Behaviour for McPiExp {
    fn weak_scaling(&self, params: &Params) -> bool {
        params.choice("mode") == Some("weak")
    }

    fn kernel(&self, params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(McPi {
            samples: params.int("samples")?,
            mode: if params.choice("mode")? == "weak" {
                Mode::Weak
            } else {
                Mode::Strong
            },
            seed: params.int("seed")?,
        }))
    }
}

/// The trapezoid rule.
pub struct IntegralExp;

impl Behaviour for IntegralExp {
    fn kernel(&self, params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(Integral {
            a: params.float("a")?,
            b: params.float("b")?,
            n: params.int("n")?,
        }))
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if let (Some(a), Some(b)) = (params.float("a"), params.float("b"))
            && a >= b
        {
            return Err(ParamError::Invalid {
                name: "b".into(),
                given: b.to_string(),
                allowed: format!("a number greater than a = {a}"),
            });
        }
        Ok(())
    }
}

/// Work with a tunable serial fraction.
pub struct AmdahlExp;

impl Behaviour for AmdahlExp {
    fn configured_serial_param(&self) -> Option<&'static str> {
        Some("serial")
    }

    fn kernel(&self, params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(Amdahl {
            serial: params.float("serial")?,
            work: params.int("work")?,
        }))
    }
}

/// Uneven tasks, static against dynamic scheduling.
pub struct ImbalanceExp;

impl Behaviour for ImbalanceExp {
    fn variant_param(&self) -> Option<&'static str> {
        Some("schedule")
    }

    fn compare_all(&self) -> Option<&'static str> {
        Some("both")
    }

    fn variant_names(&self) -> &'static [&'static str] {
        &["static", "dynamic"]
    }

    fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(Imbalance {
            tasks: params.int("tasks")?,
            work: params.int("work")?,
            schedule: if variant? == "dynamic" {
                Schedule::Dynamic
            } else {
                Schedule::Static
            },
        }))
    }
}

/// Lost updates and the cost of synchronization.
pub struct RaceExp;

impl Behaviour for RaceExp {
    fn variant_param(&self) -> Option<&'static str> {
        Some("variant")
    }

    fn compare_all(&self) -> Option<&'static str> {
        Some("all")
    }

    fn variant_names(&self) -> &'static [&'static str] {
        race::Variant::NAMES
    }

    // Every worker does its own `increments`: the work grows with the workers.
    fn weak_scaling(&self, _params: &Params) -> bool {
        true
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::LostUpdates, Output::NsPerIncrement]
    }

    fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(Race::new(
            params.int("increments")?,
            race::Variant::from_name(variant?)?,
        )))
    }
}

/// Two threads, two locks.
pub struct LocksExp;

impl Behaviour for LocksExp {
    fn fixed_workers(&self) -> Option<usize> {
        Some(2)
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::Backoffs]
    }

    fn deadlock_fixes(&self) -> Option<&'static str> {
        Some(
            "Fixes to run next: order = same (both take A first: no circular wait), \
             or order = backoff (give back the first lock: no hold-and-wait).",
        )
    }

    fn kernel(&self, params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(Locks::new(
            locks::Order::from_name(params.choice("order")?)?,
            Duration::from_millis(params.int("hold_ms")?),
            params.int("rounds")?,
            Duration::from_secs_f64(params.float("deadline")?),
        )))
    }
}

/// Two ranks swap buffers.
pub struct ExchangeExp;

impl Behaviour for ExchangeExp {
    fn fixed_workers(&self) -> Option<usize> {
        Some(2)
    }

    fn model(&self, _params: &Params) -> Option<Model> {
        None
    }

    fn sizes(&self, params: &Params) -> Vec<u64> {
        if self.probes_deadlocks(params) {
            pingpong::sizes(1, params.int("max_size").unwrap_or(1))
        } else {
            Vec::new()
        }
    }

    fn size_param(&self) -> Option<&'static str> {
        Some("size")
    }

    fn about_messages(&self) -> bool {
        true
    }

    fn probes_deadlocks(&self, params: &Params) -> bool {
        params.choice("sweep") == Some("on")
    }

    fn default_deadline(&self, params: &Params) -> f64 {
        // 100 times the longest a completed exchange of the sweep's largest size takes
        // here (16 MiB: 8 ms), and the sweep's time is mostly its deadlocks' deadlines.
        if self.probes_deadlocks(params) {
            1.0
        } else {
            10.0
        }
    }

    fn deadlock_fixes(&self) -> Option<&'static str> {
        Some(
            "Fixes to run next: order = parity (one rank receives first), sendrecv \
             (the library pairs them), or nonblocking (isend/irecv, then wait).",
        )
    }

    fn kernel(&self, _params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        None
    }
}

/// Latency and bandwidth against the message size.
pub struct PingpongExp;

impl Behaviour for PingpongExp {
    fn fixed_workers(&self) -> Option<usize> {
        Some(2)
    }

    fn model(&self, _params: &Params) -> Option<Model> {
        Some(Model::LatencyBandwidth)
    }

    fn sizes(&self, params: &Params) -> Vec<u64> {
        let int = |k: &str| params.int(k).unwrap_or(1);
        pingpong::sizes(int("min_size"), int("max_size"))
    }

    fn about_messages(&self) -> bool {
        true
    }

    fn default_deadline(&self, _params: &Params) -> f64 {
        30.0
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::RoundTrips]
    }

    fn kernel(&self, _params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        None
    }

    fn remote_kernel(&self) -> Box<dyn Kernel> {
        Box::new(pingpong::OneWay)
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if let (Some(min), Some(max)) = (params.int("min_size"), params.int("max_size"))
            && min > max
        {
            return Err(ParamError::Invalid {
                name: "max_size".into(),
                given: max.to_string(),
                allowed: format!("a size of at least min_size = {min} bytes"),
            });
        }
        Ok(())
    }
}

/// Broadcast, scatter, gather, reduce, allreduce.
pub struct CollectivesExp;

impl Behaviour for CollectivesExp {
    fn variant_param(&self) -> Option<&'static str> {
        Some("op")
    }

    fn compare_all(&self) -> Option<&'static str> {
        Some("all")
    }

    fn variant_names(&self) -> &'static [&'static str] {
        COLLECTIVES
    }

    // The work grows with the ranks: a speedup against one rank means nothing.
    fn model(&self, _params: &Params) -> Option<Model> {
        None
    }

    fn default_deadline(&self, _params: &Params) -> f64 {
        60.0
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::DataOk, Output::Calls]
    }

    fn kernel(&self, _params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        None
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if let Some(size) = params.int("size")
            && !size.is_multiple_of(8)
        {
            return Err(ParamError::Invalid {
                name: "size".into(),
                given: size.to_string(),
                allowed: "a multiple of 8 from 8 to 16777216 (whole 8-byte numbers)".into(),
            });
        }
        Ok(())
    }
}

/// MPI ranks times threads per rank.
pub struct HybridExp;

impl Behaviour for HybridExp {
    fn threads_per_rank(&self, params: &Params) -> usize {
        // At most 256 by the parameter's range.
        params.int("threads").unwrap_or(1) as usize
    }

    fn mpi_workers_label(&self) -> &'static str {
        "ranks × threads"
    }

    fn kernel(&self, _params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        None
    }
}

/// The learner's own program.
pub struct ProgramExp;

impl Behaviour for ProgramExp {
    fn weak_scaling(&self, params: &Params) -> bool {
        params.choice("mode") == Some("weak")
    }

    // The longest one run of the program may take.
    fn default_deadline(&self, _params: &Params) -> f64 {
        600.0
    }

    // The executor runs it; the kernel only names its outputs.
    fn kernel(&self, _params: &Params, _variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(crate::kernel::program::Program))
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        crate::backend::program::check_params(params)
    }
}

/// STREAM: memory bandwidth.
pub struct StreamExp;

impl StreamExp {
    fn op(params: &Params) -> &str {
        params.choice("op").unwrap_or("triad")
    }
}

impl Behaviour for StreamExp {
    fn variant_param(&self) -> Option<&'static str> {
        Some("op")
    }

    fn compare_all(&self) -> Option<&'static str> {
        Some("both")
    }

    fn variant_names(&self) -> &'static [&'static str] {
        stream::Op::NAMES
    }

    fn model(&self, params: &Params) -> Option<Model> {
        // Over sizes, bandwidth is the point, not a law of workers.
        (params.choice("sweep") != Some("on")).then_some(Model::Amdahl)
    }

    fn sizes(&self, params: &Params) -> Vec<u64> {
        match (params.choice("sweep"), params.int("size")) {
            (Some("on"), Some(largest)) => stream::sweep_sizes(largest),
            _ => Vec::new(),
        }
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::BandwidthGbS, Output::WorkingSetBytes]
    }

    fn about_memory(&self) -> bool {
        true
    }

    fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        let op = stream::Op::from_name(variant.unwrap_or(Self::op(params)))?;
        Some(Box::new(stream::Stream::new(
            op,
            params.int("size")?,
            params.choice("sweep")? == "on",
        )))
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        let (Some(size), Some(available)) = (params.int("size"), stream::available_memory()) else {
            return Ok(());
        };
        // Three arrays, and room left for everything else on the machine.
        let limit = available / 4 * 3 / 3 / 8 * 8;
        if size > limit {
            return Err(ParamError::Invalid {
                name: "size".into(),
                given: size.to_string(),
                allowed: format!(
                    "16384 to {limit} bytes here: three arrays must fit in three quarters of the {} of memory available now",
                    crate::chart::sizes::format_bytes(available)
                ),
            });
        }
        Ok(())
    }
}

/// A task farm of string matching.
pub struct FarmExp;

impl FarmExp {
    /// The farm's sizes from its parameters.
    pub fn shape(params: &Params) -> Option<farm::Shape> {
        Some(farm::Shape {
            tasks: params.int("tasks")?,
            right: params.int("right")?,
            length: params.int("length")?,
            cost: if params.choice("cost")? == "even" {
                farm::Cost::Even
            } else {
                farm::Cost::Ramp
            },
        })
    }
}

/// The most bytes a farm's strings may take.
const FARM_MAX_BYTES: u64 = 1 << 30;

impl Behaviour for FarmExp {
    fn variant_param(&self) -> Option<&'static str> {
        Some("distribution")
    }

    fn compare_all(&self) -> Option<&'static str> {
        Some("all")
    }

    fn variant_names(&self) -> &'static [&'static str] {
        farm::Distribution::NAMES
    }

    fn lead_outputs(&self) -> &'static [Output] {
        &[Output::TasksMin, Output::TasksMax, Output::Matches]
    }

    fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        Some(Box::new(farm::Farm::new(
            Self::shape(params)?,
            farm::Distribution::from_name(variant?)?,
        )))
    }

    fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if let Some(shape) = Self::shape(params)
            && shape.bytes() > FARM_MAX_BYTES
        {
            return Err(ParamError::Invalid {
                name: "tasks".into(),
                given: shape.tasks.to_string(),
                allowed: format!(
                    "fewer tasks or shorter strings: these strings would take {} (at most 1 GiB)",
                    crate::chart::sizes::format_bytes(shape.bytes())
                ),
            });
        }
        Ok(())
    }

    fn check_workers(
        &self,
        params: &Params,
        backend: super::Backend,
        workers: &[usize],
    ) -> Result<(), ParamError> {
        // On threads the manager is a shared counter: one thread can use it.
        let manager = backend == super::Backend::Mpi
            && matches!(params.choice("distribution"), Some("manager"));
        if manager && !workers.is_empty() && workers.iter().all(|&n| n < 2) {
            return Err(ParamError::Invalid {
                name: "workers".into(),
                given: workers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                allowed: "at least one count of 2 or more for distribution = manager: rank 0 manages and computes no task (a 1 may come along as the baseline, where one rank does every task in order)".into(),
            });
        }
        Ok(())
    }
}
