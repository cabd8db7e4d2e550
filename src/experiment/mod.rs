//! The experiment registry: names, typed parameters with ranges and defaults, and how each
//! experiment's kernel is built from its parameters.
//!
//! Lessons name experiments; `lessons check` rejects names that are not here.

pub mod behaviour;
mod params;
pub mod request;

pub use behaviour::Behaviour;

pub use params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};
pub use request::{Backend, RunRequest};

use crate::kernel::race;

/// Which experiment, as an identity: what differs between experiments is each one's
/// [`Behaviour`] type; this names it (in records of MPI ranks' dispatch, and equality).
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
    /// STREAM: memory bandwidth against array size and workers.
    Stream,
    /// A task farm of string matching: static, round-robin or manager distribution.
    Farm,
}

/// One experiment: its name, parameters and backends as data, and how it behaves as a type
/// ([`Behaviour`], which the info derefs to).
#[derive(Clone, Copy)]
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
    /// Everything else that differs between experiments.
    pub behaviour: &'static dyn Behaviour,
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
    PLACEMENT,
];

/// Where two ranks that talk run: what decides the transport (shared memory or network).
const PLACEMENT: ParamSpec = ParamSpec {
    name: "placement",
    kind: ParamKind::Choice {
        options: &["auto", "same-node", "cross-node"],
        default: "auto",
    },
    help: "auto: where the launcher puts the ranks; same-node: all on this node (shared memory); cross-node: consecutive ranks on different nodes (the network; needs a SLURM allocation of 2 nodes, e.g. salloc -N 2 --ntasks-per-node=2)",
};

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
    PLACEMENT,
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

const STREAM: &[ParamSpec] = &[
    ParamSpec {
        name: "size",
        kind: ParamKind::Int {
            min: crate::kernel::stream::MIN_ARRAY_BYTES,
            max: 8_589_934_592,
            default: 67_108_864,
        },
        help: "bytes per array (8-byte numbers); with sweep = on, the largest of the sweep",
    },
    ParamSpec {
        name: "sweep",
        kind: ParamKind::Choice {
            options: &["off", "on"],
            default: "off",
        },
        help: "on: one point per size, doubling from 4 KiB per array up to size, to see the caches; off: size only",
    },
    ParamSpec {
        name: "op",
        kind: ParamKind::Choice {
            options: &["triad", "copy", "both"],
            default: "triad",
        },
        help: "triad: a[i] = b[i] + s*c[i] (3 arrays counted); copy: a[i] = b[i] (2); both: compare",
    },
];

const FARM: &[ParamSpec] = &[
    ParamSpec {
        name: "tasks",
        kind: ParamKind::Int {
            min: 1,
            max: 1_000_000,
            default: 600,
        },
        help: "left strings, one task each",
    },
    ParamSpec {
        name: "right",
        kind: ParamKind::Int {
            min: 0,
            max: 100_000,
            default: 100,
        },
        help: "right strings each task compares with (0: empty tasks, to measure the overhead per task)",
    },
    ParamSpec {
        name: "length",
        kind: ParamKind::Int {
            min: 1,
            max: 4_096,
            default: 32,
        },
        help: "length of a right string, and of the shortest left string",
    },
    ParamSpec {
        name: "cost",
        kind: ParamKind::Choice {
            options: &["ramp", "even"],
            default: "ramp",
        },
        help: "ramp: left string i is 1 to 8 times length long, growing with i (uneven tasks); even: all length",
    },
    ParamSpec {
        name: "distribution",
        kind: ParamKind::Choice {
            options: &["all", "static", "round-robin", "manager"],
            default: "all",
        },
        help: "static: equal contiguous chunks; round-robin: task i to worker i mod n; manager: one task at a time on request (on MPI rank 0 manages and computes none); all: compare",
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
        behaviour: &behaviour::McPiExp,
    },
    ExperimentInfo {
        kind: Kind::Integral,
        name: "integral",
        summary: "Trapezoid rule of x^2 split over workers",
        params: INTEGRAL,
        backends: THREADS_MPI,
        behaviour: &behaviour::IntegralExp,
    },
    ExperimentInfo {
        kind: Kind::Amdahl,
        name: "amdahl",
        summary: "Real work with a tunable serial fraction",
        params: AMDAHL,
        backends: THREADS_MPI,
        behaviour: &behaviour::AmdahlExp,
    },
    ExperimentInfo {
        kind: Kind::Imbalance,
        name: "imbalance",
        summary: "Uneven tasks: static vs dynamic scheduling",
        params: IMBALANCE,
        backends: THREADS,
        behaviour: &behaviour::ImbalanceExp,
    },
    ExperimentInfo {
        kind: Kind::Race,
        name: "race",
        summary: "Lost updates and the cost of synchronization",
        params: RACE,
        backends: THREADS,
        behaviour: &behaviour::RaceExp,
    },
    ExperimentInfo {
        kind: Kind::Locks,
        name: "locks",
        summary: "Two threads, two mutexes: lock-order deadlock",
        params: LOCKS,
        backends: THREADS,
        behaviour: &behaviour::LocksExp,
    },
    ExperimentInfo {
        kind: Kind::Exchange,
        name: "exchange",
        summary: "Two MPI ranks swap buffers; send/recv ordering",
        params: EXCHANGE,
        backends: MPI_ONLY,
        behaviour: &behaviour::ExchangeExp,
    },
    ExperimentInfo {
        kind: Kind::Pingpong,
        name: "pingpong",
        summary: "MPI latency and bandwidth vs message size",
        params: PINGPONG,
        backends: MPI_ONLY,
        behaviour: &behaviour::PingpongExp,
    },
    ExperimentInfo {
        kind: Kind::Collectives,
        name: "collectives",
        summary: "Broadcast, scatter, gather, reduce, allreduce",
        params: COLLECTIVES_PARAMS,
        backends: MPI_ONLY,
        behaviour: &behaviour::CollectivesExp,
    },
    ExperimentInfo {
        kind: Kind::Hybrid,
        name: "hybrid",
        summary: "MPI ranks times threads per rank",
        params: HYBRID,
        backends: MPI_ONLY,
        behaviour: &behaviour::HybridExp,
    },
    ExperimentInfo {
        kind: Kind::Stream,
        name: "stream",
        summary: "Memory bandwidth (STREAM triad) vs array size and workers",
        params: STREAM,
        backends: THREADS,
        behaviour: &behaviour::StreamExp,
    },
    ExperimentInfo {
        kind: Kind::Farm,
        name: "farm",
        summary: "Task farm of string matching: static, round-robin, manager",
        params: FARM,
        backends: THREADS_MPI,
        behaviour: &behaviour::FarmExp,
    },
    ExperimentInfo {
        kind: Kind::Program,
        name: "program",
        summary: "Your own program: any command (run --exec)",
        params: PROGRAM,
        backends: ANY_BACKEND,
        behaviour: &behaviour::ProgramExp,
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
}

/// An experiment answers every [`Behaviour`] question through its type.
impl std::ops::Deref for ExperimentInfo {
    type Target = dyn Behaviour;

    fn deref(&self) -> &Self::Target {
        self.behaviour
    }
}

impl PartialEq for ExperimentInfo {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl std::fmt::Debug for ExperimentInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExperimentInfo")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Model;

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
