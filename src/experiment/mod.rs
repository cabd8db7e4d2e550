//! The experiment registry: names, typed parameters with ranges and defaults, and how each
//! experiment's kernel is built from its parameters.
//!
//! Lessons name experiments; `lessons check` rejects names that are not here.

mod params;

use std::time::Duration;

pub use params::{ParamError, ParamKind, ParamSpec, ParamValue, Params};

use crate::kernel::Kernel;
use crate::kernel::amdahl::Amdahl;
use crate::kernel::imbalance::{Imbalance, Schedule};
use crate::kernel::integral::Integral;
use crate::kernel::locks::{self, Locks};
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::race::{self, Race};

/// One experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentInfo {
    /// The name lessons and the command line use, e.g. `mc-pi`.
    pub name: &'static str,
    /// One line saying what the experiment measures.
    pub summary: &'static str,
    /// Its parameters; empty for experiments that cannot run yet.
    pub params: &'static [ParamSpec],
    /// Backends it runs on in this version; empty means not runnable yet.
    pub backends: &'static [&'static str],
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
        help: "bytes each rank sends",
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

const THREADS: &[&str] = &["threads"];
const THREADS_MPI: &[&str] = &["threads", "mpi"];
const MPI_ONLY: &[&str] = &["mpi"];

/// Every experiment, in the order the documentation lists them.
pub const EXPERIMENTS: &[ExperimentInfo] = &[
    ExperimentInfo {
        name: "mc-pi",
        summary: "Monte Carlo estimate of pi; strong or weak scaling",
        params: MC_PI,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        name: "integral",
        summary: "Trapezoid rule of x^2 split over workers",
        params: INTEGRAL,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        name: "amdahl",
        summary: "Real work with a tunable serial fraction",
        params: AMDAHL,
        backends: THREADS_MPI,
    },
    ExperimentInfo {
        name: "imbalance",
        summary: "Uneven tasks: static vs dynamic scheduling",
        params: IMBALANCE,
        backends: THREADS,
    },
    ExperimentInfo {
        name: "race",
        summary: "Lost updates and the cost of synchronization",
        params: RACE,
        backends: THREADS,
    },
    ExperimentInfo {
        name: "locks",
        summary: "Two threads, two mutexes: lock-order deadlock",
        params: LOCKS,
        backends: THREADS,
    },
    ExperimentInfo {
        name: "exchange",
        summary: "Two MPI ranks swap buffers; send/recv ordering",
        params: EXCHANGE,
        backends: MPI_ONLY,
    },
    ExperimentInfo {
        name: "pingpong",
        summary: "MPI latency and bandwidth vs message size",
        params: &[],
        backends: &[],
    },
    ExperimentInfo {
        name: "collectives",
        summary: "Broadcast, scatter, gather, reduce, allreduce",
        params: &[],
        backends: &[],
    },
    ExperimentInfo {
        name: "hybrid",
        summary: "MPI ranks times threads per rank",
        params: &[],
        backends: &[],
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

    /// The parameter whose value picks the variants, e.g. `schedule`; its name heads the
    /// variant column of tables.
    pub fn variant_param(&self) -> Option<&'static str> {
        match self.name {
            "imbalance" => Some("schedule"),
            "race" => Some("variant"),
            _ => None,
        }
    }

    /// The variants one run compares (e.g. static and dynamic scheduling); `[None]` for
    /// experiments without variants.
    pub fn variants(&self, params: &Params) -> Vec<Option<String>> {
        let chosen = self.variant_param().and_then(|p| params.choice(p));
        match (self.name, chosen) {
            ("imbalance", Some("both")) => vec![Some("static".into()), Some("dynamic".into())],
            ("race", Some("all")) => race::Variant::ALL
                .iter()
                .map(|v| Some(v.name().to_owned()))
                .collect(),
            (_, Some(s)) => vec![Some(s.to_owned())],
            _ => vec![None],
        }
    }

    /// The names of the variants a run can compare, e.g. `static` and `dynamic`; empty for
    /// experiments without variants.
    pub fn variant_names(&self) -> &'static [&'static str] {
        match self.name {
            "imbalance" => &["static", "dynamic"],
            "race" => &[
                "unsynchronized",
                "atomic",
                "mutex",
                "reduction",
                "false-sharing",
                "padded",
            ],
            _ => &[],
        }
    }

    /// The only worker count the experiment runs with, if it has one: `locks` is always two
    /// threads and two locks.
    pub fn fixed_workers(&self) -> Option<usize> {
        matches!(self.name, "locks" | "exchange").then_some(2)
    }

    /// Whether the run is weak scaling (work grows with the workers): Gustafson applies.
    pub fn weak_scaling(&self, params: &Params) -> bool {
        // race gives every worker its own `increments`: the work grows with the workers.
        (self.name == "mc-pi" && params.choice("mode") == Some("weak")) || self.name == "race"
    }

    /// How long a launcher waits for any report of the ranks before it declares them stuck.
    pub fn default_deadline(&self) -> f64 {
        match self.name {
            "exchange" => 10.0,
            _ => 120.0,
        }
    }

    /// Builds the kernel for `params` and `variant`.
    pub fn kernel(&self, params: &Params, variant: Option<&str>) -> Option<Box<dyn Kernel>> {
        let int = |k: &str| params.int(k);
        let float = |k: &str| params.float(k);
        Some(match self.name {
            "mc-pi" => Box::new(McPi {
                samples: int("samples")?,
                mode: if params.choice("mode")? == "weak" {
                    Mode::Weak
                } else {
                    Mode::Strong
                },
                seed: int("seed")?,
            }),
            "integral" => Box::new(Integral {
                a: float("a")?,
                b: float("b")?,
                n: int("n")?,
            }),
            "amdahl" => Box::new(Amdahl {
                serial: float("serial")?,
                work: int("work")?,
            }),
            "imbalance" => Box::new(Imbalance {
                tasks: int("tasks")?,
                work: int("work")?,
                schedule: if variant? == "dynamic" {
                    Schedule::Dynamic
                } else {
                    Schedule::Static
                },
            }),
            "race" => Box::new(Race::new(
                int("increments")?,
                race::Variant::from_name(variant?)?,
            )),
            "locks" => Box::new(Locks::new(
                locks::Order::from_name(params.choice("order")?)?,
                Duration::from_millis(int("hold_ms")?),
                int("rounds")?,
                Duration::from_secs_f64(float("deadline")?),
            )),
            _ => return None,
        })
    }

    /// Checks rules that involve more than one parameter.
    pub fn check_together(&self, params: &Params) -> Result<(), ParamError> {
        if self.name == "integral"
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
    fn every_runnable_experiment_builds_from_its_defaults() {
        for e in EXPERIMENTS
            .iter()
            .filter(|e| e.backends.contains(&"threads"))
        {
            let p = Params::parse(e, &[]).expect("defaults are valid");
            for v in e.variants(&p) {
                assert!(e.kernel(&p, v.as_deref()).is_some(), "{}", e.name);
            }
        }
    }
}
