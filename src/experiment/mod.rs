//! The experiment registry: names, typed parameters with ranges and defaults, and how each
//! experiment's kernel is built from its parameters.
//!
//! Lessons name experiments; `lessons check` rejects names that are not here.

mod params;
pub mod request;

use std::time::Duration;

pub use params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};
pub use request::{Backend, RunRequest};

use crate::kernel::amdahl::Amdahl;
use crate::kernel::imbalance::{Imbalance, Schedule};
use crate::kernel::integral::Integral;
use crate::kernel::locks::{self, Locks};
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::pingpong;
use crate::kernel::race::{self, Race};
use crate::kernel::{Kernel, Output};
use crate::record::Model;

/// Which experiment: every behaviour that differs between experiments is an exhaustive
/// `match` on this, so adding one makes the compiler point at every place it must fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Monte Carlo π, strong or weak scaling.
    McPi,
    /// The trapezoid rule.
    Integral,
    /// Work with a tunable serial fraction.
    Amdahl,
    /// Uneven tasks, static against dynamic scheduling.
    Imbalance,
    /// Lost updates and the cost of synchronization.
    Race,
    /// Two threads, two locks: lock-order deadlock.
    Locks,
    /// Two ranks swap buffers: send/recv ordering and the eager limit.
    Exchange,
    /// Latency and bandwidth against the message size.
    Pingpong,
    /// Broadcast, scatter, gather, reduce, allreduce.
    Collectives,
    /// MPI ranks times threads per rank.
    Hybrid,
    /// The learner's own program (`hpc-tutor run --exec`), on threads, processes or ranks.
    Program,
}

/// One experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentInfo {
    /// Which one.
    pub kind: Kind,
    /// The name lessons and the command line use, e.g. `mc-pi`.
    pub name: &'static str,
    /// One line saying what the experiment measures.
    pub summary: &'static str,
    /// Its parameters; empty for experiments that cannot run yet.
    pub params: &'static [ParamSpec],
    /// Backends it runs on in this version, the usual one first; empty means not runnable.
    pub backends: &'static [Backend],
}

const MC_PI: &[ParamSpec] = &[
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int {
            min: 1_000,
            max: 100_000_000_000,
            default: 200_000_000,
        },
        help: "random points: in total (strong) or per worker (weak)",
    },
    ParamSpec {
        name: "mode",
        kind: ParamKind::Choice {
            options: &["strong", "weak"],
            default: "strong",
        },
        help: "strong: fixed total work; weak: fixed work per worker",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int {
            min: 0,
            max: u64::MAX,
            default: 42,
        },
        help: "seed of the random streams (each worker gets its own stream)",
    },
];

const INTEGRAL: &[ParamSpec] = &[
    ParamSpec {
        name: "a",
        kind: ParamKind::Float {
            min: -1e6,
            max: 1e6,
            default: 0.0,
        },
        help: "lower bound of the integral of x^2",
    },
    ParamSpec {
        name: "b",
        kind: ParamKind::Float {
            min: -1e6,
            max: 1e6,
            default: 100.0,
        },
        help: "upper bound",
    },
    ParamSpec {
        name: "n",
        kind: ParamKind::Int {
            min: 1,
            max: 100_000_000_000,
            default: 100_000_000,
        },
        help: "number of trapezoid intervals",
    },
];

const AMDAHL: &[ParamSpec] = &[
    ParamSpec {
        name: "serial",
        kind: ParamKind::Float {
            min: 0.0,
            max: 1.0,
            default: 0.1,
        },
        help: "fraction of the work done on one worker only",
    },
    ParamSpec {
        name: "work",
        kind: ParamKind::Int {
            min: 1_000,
            max: 1_000_000_000_000,
            default: 100_000_000,
        },
        help: "total work units (a few ns each)",
    },
];

const IMBALANCE: &[ParamSpec] = &[
    ParamSpec {
        name: "tasks",
        kind: ParamKind::Int {
            min: 1,
            max: 1_000_000,
            default: 256,
        },
        help: "number of tasks; task i costs i+1 units of a ramp",
    },
    ParamSpec {
        name: "work",
        kind: ParamKind::Int {
            min: 1_000,
            max: 1_000_000_000_000,
            default: 100_000_000,
        },
        help: "total work units over all tasks",
    },
    ParamSpec {
        name: "schedule",
        kind: ParamKind::Choice {
            options: &["both", "static", "dynamic"],
            default: "both",
        },
        help: "static: equal contiguous chunks; dynamic: work stealing; both: compare",
    },
];

const EXCHANGE: &[ParamSpec] = &[
    ParamSpec {
        name: "order",
        kind: ParamKind::Choice {
            options: &["send-first", "parity", "sendrecv", "nonblocking"],
            default: "send-first",
        },
        help: "send-first: both send, then receive (deadlocks for large messages); parity: even ranks send first; sendrecv; nonblocking: isend/irecv then wait",
    },
    ParamSpec {
        name: "size",
        kind: ParamKind::Int {
            min: 1,
            max: 67_108_864,
            default: 1_048_576,
        },
        help: "bytes each rank sends (sweep=off)",
    },
    ParamSpec {
        name: "sweep",
        kind: ParamKind::Choice {
            options: &["off", "on"],
            default: "off",
        },
        help: "on: find the eager limit: sizes 1, 2, 4, … B until one deadlocks, then bisection to the byte, then the largest power of two up to max_size as a sample; each size its own launch with a short deadline",
    },
    ParamSpec {
        name: "max_size",
        kind: ParamKind::Int {
            min: 1,
            max: 67_108_864,
            default: 16_777_216,
        },
        help: "largest size of the sweep (sweep=on), bytes",
    },
];

const PINGPONG: &[ParamSpec] = &[
    ParamSpec {
        name: "min_size",
        kind: ParamKind::Int {
            min: 1,
            max: 67_108_864,
            default: 1,
        },
        help: "smallest message, bytes; the sizes double from it up to max_size",
    },
    ParamSpec {
        name: "max_size",
        kind: ParamKind::Int {
            min: 1,
            max: 67_108_864,
            default: 16_777_216,
        },
        help: "largest message, bytes",
    },
    ParamSpec {
        name: "iterations",
        kind: ParamKind::Int {
            min: 1,
            max: 1_000_000,
            default: 1_000,
        },
        help: "round trips per repetition for messages up to 64 KiB; larger messages make proportionally fewer (at least 1)",
    },
];

/// The collective operations the `collectives` experiment compares, in its order.
pub const COLLECTIVES: &[&str] = &["broadcast", "scatter", "gather", "reduce", "allreduce"];

const COLLECTIVES_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "op",
        kind: ParamKind::Choice {
            options: &[
                "all",
                "broadcast",
                "scatter",
                "gather",
                "reduce",
                "allreduce",
            ],
            default: "all",
        },
        help: "which collective to time; all: compare the five",
    },
    ParamSpec {
        name: "size",
        kind: ParamKind::Int {
            min: 8,
            max: 16_777_216,
            default: 1_048_576,
        },
        help: "bytes per rank (8-byte numbers): broadcast sends this, scatter and gather move this to and from each rank, reduce and allreduce add this many bytes of numbers",
    },
    ParamSpec {
        name: "iterations",
        kind: ParamKind::Int {
            min: 1,
            max: 100_000,
            default: 100,
        },
        help: "calls per repetition between the two barriers; the time reported is per call",
    },
];

const HYBRID: &[ParamSpec] = &[
    ParamSpec {
        name: "threads",
        kind: ParamKind::Int {
            min: 1,
            max: 256,
            default: 2,
        },
        help: "threads per rank (a rayon pool of exactly this many in each rank)",
    },
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int {
            min: 1_000,
            max: 100_000_000_000,
            default: 200_000_000,
        },
        help: "random points of the Monte Carlo pi estimate, in total over all ranks and threads",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int {
            min: 0,
            max: u64::MAX,
            default: 42,
        },
        help: "seed of the random streams (each thread of each rank gets its own stream)",
    },
];

const RACE: &[ParamSpec] = &[
    ParamSpec {
        name: "increments",
        kind: ParamKind::Int {
            min: 1_000,
            max: 10_000_000_000,
            default: race::DEFAULT_INCREMENTS,
        },
        help: "increments of the counter by each worker",
    },
    ParamSpec {
        name: "variant",
        kind: ParamKind::Choice {
            options: &[
                "all",
                "unsynchronized",
                "atomic",
                "mutex",
                "reduction",
                "false-sharing",
                "padded",
            ],
            default: "all",
        },
        help: "how workers update the count; all: compare every way",
    },
];

const LOCKS: &[ParamSpec] = &[
    ParamSpec {
        name: "order",
        kind: ParamKind::Choice {
            options: &["opposite", "same", "backoff"],
            default: "opposite",
        },
        help: "opposite: A then B vs B then A; same: both A then B; backoff: try, release, retry",
    },
    ParamSpec {
        name: "hold_ms",
        kind: ParamKind::Int {
            min: 0,
            max: 10_000,
            default: 20,
        },
        help: "milliseconds each thread holds its first lock before taking the second",
    },
    ParamSpec {
        name: "rounds",
        kind: ParamKind::Int {
            min: 1,
            max: 100_000,
            default: 10,
        },
        help: "times each thread takes both locks",
    },
    ParamSpec {
        name: "deadline",
        kind: ParamKind::Float {
            min: 0.1,
            max: 600.0,
            default: 3.0,
        },
        help: "seconds of no progress after which the threads give up: a deadlock",
    },
];

/// The longest command line a program run takes, in characters.
pub const MAX_COMMAND: usize = 4096;

const PROGRAM: &[ParamSpec] = &[
    ParamSpec {
        name: "command",
        kind: ParamKind::Text {
            max_len: MAX_COMMAND,
            default: "",
        },
        help: "the program and its arguments (`--exec`); {workers} is replaced by the worker count",
    },
    ParamSpec {
        name: "shell",
        kind: ParamKind::Choice {
            options: &["off", "on"],
            default: "off",
        },
        help: "off: the command is split into words and run as it is; on: run by `sh -c` (pipes, redirections, variables)",
    },
    ParamSpec {
        name: "time_from",
        kind: ParamKind::Text {
            max_len: 512,
            default: "",
        },
        help: "a regular expression whose first group is the time the program prints, in seconds (`--time-from`); empty: the wall time of the whole process",
    },
    ParamSpec {
        name: "mode",
        kind: ParamKind::Choice {
            options: &["strong", "weak"],
            default: "strong",
        },
        help: "strong: the same work on every worker count; weak: the program grows its work with {workers}",
    },
    ParamSpec {
        name: "name",
        kind: ParamKind::Text {
            max_len: 64,
            default: "",
        },
        help: "a short label for charts and lessons, e.g. gil-threads",
    },
];

const THREADS: &[Backend] = &[Backend::Threads];
const ANY_BACKEND: &[Backend] = &[Backend::Threads, Backend::Processes, Backend::Mpi];
const THREADS_MPI: &[Backend] = &[Backend::Threads, Backend::Mpi];
const MPI_ONLY: &[Backend] = &[Backend::Mpi];

/// Every experiment, in the order the documentation lists them.
pub const EXPERIMENTS: &[ExperimentInfo] = &[
    ExperimentInfo {
        kind: Kind::McPi,
        name: "mc-pi",
        summary: "Monte Carlo estimate of pi; strong or weak scaling",
        params: MC_PI,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        kind: Kind::Integral,
        name: "integral",
        summary: "Trapezoid rule of x^2 split over workers",
        params: INTEGRAL,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        kind: Kind::Amdahl,
        name: "amdahl",
        summary: "Real work with a tunable serial fraction",
        params: AMDAHL,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        kind: Kind::Imbalance,
        name: "imbalance",
        summary: "Uneven tasks: static vs dynamic scheduling",
        params: IMBALANCE,
        backends: THREADS,
    },
    ExperimentInfo {
        kind: Kind::Race,
        name: "race",
        summary: "Lost updates and the cost of synchronization",
        params: RACE,
        backends: THREADS,
    },
    ExperimentInfo {
        kind: Kind::Locks,
        name: "locks",
        summary: "Two threads, two mutexes: lock-order deadlock",
        params: LOCKS,
        backends: THREADS,
    },
    ExperimentInfo {
        kind: Kind::Exchange,
        name: "exchange",
        summary: "Two MPI ranks swap buffers; send/recv ordering",
        params: EXCHANGE,
        backends: MPI_ONLY,
    },
    ExperimentInfo {
        kind: Kind::Pingpong,
        name: "pingpong",
        summary: "MPI latency and bandwidth vs message size",
        params: PINGPONG,
        backends: MPI_ONLY,
    },
    ExperimentInfo {
        kind: Kind::Collectives,
        name: "collectives",
        summary: "Broadcast, scatter, gather, reduce, allreduce",
        params: COLLECTIVES_PARAMS,
        backends: MPI_ONLY,
    },
    ExperimentInfo {
        kind: Kind::Hybrid,
        name: "hybrid",
        summary: "MPI ranks times threads per rank",
        params: HYBRID,
        backends: MPI_ONLY,
    },
    ExperimentInfo {
        kind: Kind::Program,
        name: "program",
        summary: "Your own program: any command (run --exec)",
        params: PROGRAM,
        backends: ANY_BACKEND,
    },
];

/// The experiment called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static ExperimentInfo> {
    EXPERIMENTS.iter().find(|e| e.name == name)
}

/// The known names joined with ", ", for error messages.
pub fn known_names() -> String {
    EXPERIMENTS
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ExperimentInfo {
    /// Whether it can run in this version.
    pub fn runnable(&self) -> bool {
        !self.backends.is_empty()
    }

    /// Whether it runs on `backend`.
    pub fn runs_on(&self, backend: Backend) -> bool {
        self.backends.contains(&backend)
    }

    /// The names of its backends, e.g. `["threads", "mpi"]`.
    pub fn backend_names(&self) -> Vec<&'static str> {
        self.backends.iter().map(|b| b.name()).collect()
    }

    /// The parameter whose value picks the variants, e.g. `schedule`; its name heads the
    /// variant column of tables.
    pub fn variant_param(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Imbalance => Some("schedule"),
            Kind::Race => Some("variant"),
            Kind::Collectives => Some("op"),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// The value of the variant parameter that compares every variant in one run.
    fn compare_all(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Imbalance => Some("both"),
            Kind::Race | Kind::Collectives => Some("all"),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// The variants one run compares (e.g. static and dynamic scheduling); `[None]` for
    /// experiments without variants.
    pub fn variants(&self, params: &Params) -> Vec<Option<String>> {
        match self.variant_param().and_then(|p| params.choice(p)) {
            Some(all) if Some(all) == self.compare_all() => self
                .variant_names()
                .iter()
                .map(|v| Some((*v).to_owned()))
                .collect(),
            Some(one) => vec![Some(one.to_owned())],
            None => vec![None],
        }
    }

    /// The names of the variants a run can compare, e.g. `static` and `dynamic`; empty for
    /// experiments without variants.
    pub fn variant_names(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Imbalance => &["static", "dynamic"],
            Kind::Race => race::Variant::NAMES,
            Kind::Collectives => COLLECTIVES,
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Hybrid
            | Kind::Program => &[],
        }
    }

    /// The only worker count the experiment runs with, if it has one: `locks` is always two
    /// threads and two locks; `exchange` and `pingpong` two ranks.
    pub fn fixed_workers(&self) -> Option<usize> {
        match self.kind {
            Kind::Locks | Kind::Exchange | Kind::Pingpong => Some(2),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// Whether the run is weak scaling (work grows with the workers): Gustafson applies.
    pub fn weak_scaling(&self, params: &Params) -> bool {
        match self.kind {
            Kind::McPi | Kind::Program => params.choice("mode") == Some("weak"),
            // race gives every worker its own `increments`: the work grows with the workers.
            Kind::Race => true,
            Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Hybrid => false,
        }
    }

    /// The law fitted to the points: Amdahl or Gustafson over workers, latency–bandwidth
    /// over pingpong's message sizes; `None` for experiments whose points are times only
    /// (`exchange`, and `collectives`, whose work grows with the ranks: a speedup against
    /// one rank means nothing there).
    pub fn model(&self, params: &Params) -> Option<Model> {
        match self.kind {
            Kind::Pingpong => Some(Model::LatencyBandwidth),
            Kind::Exchange | Kind::Collectives => None,
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Hybrid
            | Kind::Program => Some(if self.weak_scaling(params) {
                Model::Gustafson
            } else {
                Model::Amdahl
            }),
        }
    }

    /// The message sizes that are points of their own, in bytes: pingpong's sizes, and the
    /// sizes of `exchange` with `sweep=on`. Empty when only the workers are swept.
    pub fn sizes(&self, params: &Params) -> Vec<u64> {
        let int = |k: &str| params.int(k).unwrap_or(1);
        match self.kind {
            Kind::Pingpong => pingpong::sizes(int("min_size"), int("max_size")),
            Kind::Exchange if self.probes_deadlocks(params) => pingpong::sizes(1, int("max_size")),
            Kind::Exchange
            | Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => Vec::new(),
        }
    }

    /// The parameter that gives the ranks a point's message size when every size is its
    /// own launch (`size`, for the eager-limit sweep); `None` when the ranks go through
    /// the sizes themselves in one launch (`pingpong`), or there are no sizes.
    pub fn size_param(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Exchange => Some("size"),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// Whether the MPI library's transports decide what the run measures (message times,
    /// the eager limit): the library's configuration is then kept with an MPI run.
    pub fn about_messages(&self) -> bool {
        match self.kind {
            Kind::Exchange | Kind::Pingpong => true,
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => false,
        }
    }

    /// Whether a deadlock is what the run measures (`exchange` with `sweep=on`): each
    /// deadlocked size is recorded as a point and the sweep goes on.
    pub fn probes_deadlocks(&self, params: &Params) -> bool {
        match self.kind {
            Kind::Exchange => params.choice("sweep") == Some("on"),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => false,
        }
    }

    /// Threads each MPI rank runs: `threads` for `hybrid`, 1 otherwise.
    pub fn threads_per_rank(&self, params: &Params) -> usize {
        match self.kind {
            // At most 256 by the parameter's range.
            Kind::Hybrid => params.int("threads").unwrap_or(1) as usize,
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Program => 1,
        }
    }

    /// How long a launcher waits for any report of the ranks before it declares them
    /// stuck, in seconds: short where a deadlock is expected (1 s for the eager-limit
    /// sweep, which has many launches), long where repetitions are long.
    pub fn default_deadline(&self, params: &Params) -> f64 {
        match self.kind {
            // 100 times the longest a completed exchange of the sweep's largest size takes
            // here (16 MiB: 8 ms), and the sweep's time is mostly its deadlocks' deadlines.
            Kind::Exchange if self.probes_deadlocks(params) => 1.0,
            Kind::Exchange => 10.0,
            Kind::Pingpong => 30.0,
            Kind::Collectives => 60.0,
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Hybrid => 120.0,
            // The longest one run of the program may take.
            Kind::Program => 600.0,
        }
    }

    /// The parameter that sets the serial fraction the run was configured with, shown next
    /// to the fitted one (`serial`, for `amdahl`).
    pub fn configured_serial_param(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Amdahl => Some("serial"),
            Kind::McPi
            | Kind::Integral
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// The outputs a table shows first, before the others in name order (e.g. `locks`'
    /// back-offs, `race`'s lost updates).
    pub fn lead_outputs(&self) -> &'static [Output] {
        match self.kind {
            Kind::Race => &[Output::LostUpdates, Output::NsPerIncrement],
            Kind::Locks => &[Output::Backoffs],
            Kind::Pingpong => &[Output::RoundTrips],
            Kind::Collectives => &[Output::DataOk, Output::Calls],
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Exchange
            | Kind::Hybrid
            | Kind::Program => &[],
        }
    }

    /// What the worker column of an MPI run's table counts: ranks, or for `hybrid` ranks ×
    /// threads.
    pub fn mpi_workers_label(&self) -> &'static str {
        match self.kind {
            Kind::Hybrid => "ranks × threads",
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Exchange
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Program => "ranks",
        }
    }

    /// What to run next after a deadlock of this experiment, in a sentence: the fixes the
    /// lesson teaches; `None` for experiments that do not deadlock.
    pub fn deadlock_fixes(&self) -> Option<&'static str> {
        match self.kind {
            Kind::Locks => Some(
                "Fixes to run next: order = same (both take A first: no circular wait), \
                 or order = backoff (give back the first lock: no hold-and-wait).",
            ),
            Kind::Exchange => Some(
                "Fixes to run next: order = parity (one rank receives first), sendrecv \
                 (the library pairs them), or nonblocking (isend/irecv, then wait).",
            ),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Pingpong
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => None,
        }
    }

    /// Builds the kernel for `params` and `variant`.
    pub fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        let int = |k: &str| params.int(k);
        let float = |k: &str| params.float(k);
        Some(match self.kind {
            Kind::McPi => Box::new(McPi {
                samples: int("samples")?,
                mode: if params.choice("mode")? == "weak" {
                    Mode::Weak
                } else {
                    Mode::Strong
                },
                seed: int("seed")?,
            }),
            Kind::Integral => Box::new(Integral {
                a: float("a")?,
                b: float("b")?,
                n: int("n")?,
            }),
            Kind::Amdahl => Box::new(Amdahl {
                serial: float("serial")?,
                work: int("work")?,
            }),
            Kind::Imbalance => Box::new(Imbalance {
                tasks: int("tasks")?,
                work: int("work")?,
                schedule: if variant? == "dynamic" {
                    Schedule::Dynamic
                } else {
                    Schedule::Static
                },
            }),
            Kind::Race => Box::new(Race::new(
                int("increments")?,
                race::Variant::from_name(variant?)?,
            )),
            Kind::Locks => Box::new(Locks::new(
                locks::Order::from_name(params.choice("order")?)?,
                Duration::from_millis(int("hold_ms")?),
                int("rounds")?,
                Duration::from_secs_f64(float("deadline")?),
            )),
            // The learner's program: the executor runs it; the kernel only names its outputs.
            Kind::Program => Box::new(crate::kernel::program::Program),
            // MPI ranks build their kernel themselves (see `remote_kernel`).
            Kind::Exchange | Kind::Pingpong | Kind::Collectives | Kind::Hybrid => return None,
        })
    }

    /// What stands for the kernel in `hpc-tutor run` when the MPI ranks build and run it
    /// themselves: their reports as they are, or for pingpong one-way times from which
    /// latency and bandwidth follow.
    pub fn remote_kernel(&self) -> Box<dyn Kernel> {
        match self.kind {
            Kind::Pingpong => Box::new(pingpong::OneWay),
            Kind::McPi
            | Kind::Integral
            | Kind::Amdahl
            | Kind::Imbalance
            | Kind::Race
            | Kind::Locks
            | Kind::Exchange
            | Kind::Collectives
            | Kind::Hybrid
            | Kind::Program => Box::new(crate::kernel::Remote),
        }
    }

    /// Checks rules that involve more than one parameter.
    pub fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if self.kind == Kind::Pingpong
            && let (Some(min), Some(max)) = (params.int("min_size"), params.int("max_size"))
            && min > max
        {
            return Err(ParamError::Invalid {
                name: "max_size".into(),
                given: max.to_string(),
                allowed: format!("a size of at least min_size = {min} bytes"),
            });
        }
        if self.kind == Kind::Collectives
            && let Some(size) = params.int("size")
            && !size.is_multiple_of(8)
        {
            return Err(ParamError::Invalid {
                name: "size".into(),
                given: size.to_string(),
                allowed: "a multiple of 8 from 8 to 16777216 (whole 8-byte numbers)".into(),
            });
        }
        if self.kind == Kind::Program {
            crate::backend::program::check_params(params)?;
        }
        if self.kind == Kind::Integral
            && let (Some(a), Some(b)) = (params.float("a"), params.float("b"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findable() {
        for (i, e) in EXPERIMENTS.iter().enumerate() {
            assert_eq!(find(e.name), Some(e));
            assert!(
                EXPERIMENTS[..i].iter().all(|o| o.name != e.name),
                "{}",
                e.name
            );
        }
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn race_compares_every_variant_or_one() {
        let race = find("race").expect("registered");
        let all = Params::parse(race, &[]).expect("defaults");
        let names: Vec<_> = race.variants(&all).into_iter().flatten().collect();
        assert_eq!(
            names,
            [
                "unsynchronized",
                "atomic",
                "mutex",
                "reduction",
                "false-sharing",
                "padded"
            ]
        );
        let one = Params::parse(race, &["variant=padded".into()]).expect("valid");
        assert_eq!(race.variants(&one), [Some("padded".to_owned())]);
        assert_eq!(race.fixed_workers(), None);
        let locks = find("locks").expect("registered");
        assert_eq!(locks.fixed_workers(), Some(2));
        assert_eq!(
            locks.variants(&Params::parse(locks, &[]).expect("ok")),
            [None]
        );
    }

    #[test]
    fn the_mpi_experiments_read_their_sizes_threads_and_deadlines() {
        let parse = |name: &str, pairs: &[&str]| {
            let e = find(name).expect("registered");
            let p = Params::parse(
                e,
                &pairs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            );
            (e, p)
        };
        let (pp, p) = parse("pingpong", &[]);
        let p = p.expect("defaults");
        assert_eq!(pp.sizes(&p).len(), 25, "1 B to 16 MiB");
        assert_eq!(pp.model(&p), Some(Model::LatencyBandwidth));
        assert_eq!((pp.fixed_workers(), pp.size_param()), (Some(2), None));
        let (_, bad) = parse("pingpong", &["min_size=4096", "max_size=1024"]);
        assert!(bad.expect_err("min > max").to_string().contains("max_size"));

        let (ex, p) = parse("exchange", &["sweep=on", "max_size=1024"]);
        let p = p.expect("valid");
        assert_eq!(ex.sizes(&p), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
        assert!(ex.probes_deadlocks(&p));
        assert_eq!(
            (ex.default_deadline(&p), ex.size_param()),
            (1.0, Some("size"))
        );
        let plain = Params::parse(ex, &[]).expect("defaults");
        assert!(ex.sizes(&plain).is_empty() && !ex.probes_deadlocks(&plain));
        assert_eq!(ex.default_deadline(&plain), 10.0);

        let (co, p) = parse("collectives", &[]);
        let names: Vec<_> = co
            .variants(&p.expect("defaults"))
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(names, COLLECTIVES);
        let (_, one) = parse("collectives", &["op=gather"]);
        assert_eq!(
            co.variants(&one.expect("valid")),
            [Some("gather".to_owned())]
        );
        let (_, odd) = parse("collectives", &["size=12"]);
        assert!(
            odd.expect_err("not whole numbers")
                .to_string()
                .contains("multiple of 8")
        );
        let (_, unknown) = parse("collectives", &["op=alltoall"]);
        assert!(unknown.is_err());

        let (hy, p) = parse("hybrid", &["threads=3"]);
        assert_eq!(hy.threads_per_rank(&p.expect("valid")), 3);
        let (_, zero) = parse("hybrid", &["threads=0"]);
        assert!(
            zero.expect_err("out of range")
                .to_string()
                .contains("from 1 to 256")
        );
    }

    #[test]
    fn every_runnable_experiment_builds_from_its_defaults() {
        for e in EXPERIMENTS.iter().filter(|e| e.runs_on(Backend::Threads)) {
            let p = Params::parse(e, &[]).expect("defaults are valid");
            for v in e.variants(&p) {
                assert!(e.kernel(&p, v.as_deref()).is_some(), "{}", e.name);
            }
        }
    }
}
