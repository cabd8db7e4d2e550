//! The experiment registry: the experiments hpc-tutor knows, by name.
//!
//! Lessons name the experiments they run; `lessons check` rejects names that are not here.

/// One experiment a lesson can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExperimentInfo {
    /// The name lessons and the command line use, e.g. `mc-pi`.
    pub name: &'static str,
    /// One line saying what the experiment measures.
    pub summary: &'static str,
}

/// Every experiment, in the order the documentation lists them.
pub const EXPERIMENTS: &[ExperimentInfo] = &[
    ExperimentInfo {
        name: "mc-pi",
        summary: "Monte Carlo estimate of pi; strong or weak scaling",
    },
    ExperimentInfo {
        name: "integral",
        summary: "Trapezoid rule of x^2 split over workers",
    },
    ExperimentInfo {
        name: "amdahl",
        summary: "Real work with a tunable serial fraction",
    },
    ExperimentInfo {
        name: "imbalance",
        summary: "Uneven tasks: static vs dynamic scheduling",
    },
    ExperimentInfo {
        name: "race",
        summary: "Lost updates and the cost of synchronization",
    },
    ExperimentInfo {
        name: "locks",
        summary: "Two threads, two mutexes: lock-order deadlock",
    },
    ExperimentInfo {
        name: "exchange",
        summary: "Two MPI ranks swap buffers; send/recv ordering",
    },
    ExperimentInfo {
        name: "pingpong",
        summary: "MPI latency and bandwidth vs message size",
    },
    ExperimentInfo {
        name: "collectives",
        summary: "Broadcast, scatter, gather, reduce, allreduce",
    },
    ExperimentInfo {
        name: "hybrid",
        summary: "MPI ranks times threads per rank",
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
}
