//! The job-script advisor: the classic ways a run and its allocation disagree, each with
//! why it matters and the corrected `#SBATCH` lines. `hpc-tutor run` prints the advice on
//! standard error; the TUI shows it on the experiment screen before a run starts.

use super::slurm::{Allocation, Topology};

/// What a run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `mpi` or `threads`.
    pub mpi: bool,
    /// Worker counts of the sweep (threads, or MPI ranks).
    pub workers: Vec<usize>,
    /// Threads each MPI rank runs (`hybrid`); 1 otherwise.
    pub threads_per_rank: usize,
    /// The experiment always runs on this many workers (e.g. a two-rank exchange): using
    /// fewer CPUs than the job has is then the lesson, not a mistake.
    pub fixed_workers: bool,
}

/// Which mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// More threads than CPUs.
    ThreadsOversubscribed,
    /// More MPI ranks than tasks (or, outside SLURM, ranks × threads above the CPUs).
    RanksBeyondTasks,
    /// Threads of a hybrid rank above its CPUs per task.
    RankThreadsBeyondCpus,
    /// A threads-only program in a job of several tasks, or started several times by srun.
    ManyTasksForThreads,
    /// A threads-only program in a job of several nodes.
    ManyNodesForThreads,
    /// Many CPUs held, one used.
    IdleCpus,
    /// More workers than physical cores, on CPUs with hardware threads (SMT).
    Hyperthreads,
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// Which mistake.
    pub kind: Kind,
    /// What is wrong, in one sentence with the numbers.
    pub problem: String,
    /// Why it matters for what is measured.
    pub why: String,
    /// The corrected job-script lines.
    pub sbatch: Vec<String>,
    /// The same request for an interactive session, when there is one.
    pub srun: Option<String>,
}

impl Advice {
    /// The advice as the CLI prints it: problem, why, and the fix, indented.
    pub fn to_text(&self) -> String {
        let mut s = format!("advice: {}\n  why: {}\n", self.problem, self.why);
        if !self.sbatch.is_empty() {
            s.push_str("  fix, in the job script:\n");
            for l in &self.sbatch {
                s.push_str(&format!("    {l}\n"));
            }
        }
        if let Some(srun) = &self.srun {
            s.push_str(&format!("  or interactively: {srun}\n"));
        }
        s
    }
}

fn sbatch(lines: &[(&str, String)]) -> Vec<String> {
    lines
        .iter()
        .map(|(k, v)| format!("#SBATCH --{k}={v}"))
        .collect()
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Everything that is wrong with running `req` here. `cpus` is what this process may use
/// (affinity mask and cgroup quota); `alloc` is the SLURM allocation, if any.
pub fn advise(
    req: &Request,
    alloc: Option<&Allocation>,
    topo: &Topology,
    cpus: usize,
) -> Vec<Advice> {
    let mut out = Vec::new();
    let max_w = req.workers.iter().copied().max().unwrap_or(1).max(1);
    let tpr = req.threads_per_rank.max(1);
    let cpus = cpus.max(1);
    let where_ = if alloc.is_some() {
        "this job step gives this program"
    } else {
        "this machine lets this program use"
    };

    if !req.mpi {
        if let Some(a) = alloc {
            if let Some(step) = a.step.as_ref().filter(|s| s.tasks > 1) {
                out.push(Advice {
                    kind: Kind::ManyTasksForThreads,
                    problem: format!(
                        "srun started this threads-only program {} times (task {} of {}, -n {})",
                        step.tasks, step.procid, step.tasks, step.tasks
                    ),
                    why: "each copy runs the whole experiment on its own and the copies compete \
                          for the same CPUs: the times are wrong and the work is done several times. \
                          Threads need one task with several CPUs, -n 1 -c N, not -n N"
                        .to_owned(),
                    sbatch: sbatch(&[
                        ("ntasks", "1".into()),
                        ("cpus-per-task", (step.tasks * a.cpus_per_task_or_one()).to_string()),
                    ]),
                    srun: Some(format!(
                        "srun --pty -n 1 -c {} hpc-tutor",
                        step.tasks * a.cpus_per_task_or_one()
                    )),
                });
            } else if a.step.is_none() && a.ntasks.is_some_and(|n| n > 1) {
                let n = a.tasks();
                out.push(Advice {
                    kind: Kind::ManyTasksForThreads,
                    problem: format!(
                        "the job asked for {} (--ntasks={n}) but runs a threads-only program",
                        plural(n, "task")
                    ),
                    why: "threads live in one process on one node: SLURM's tasks are processes \
                          (MPI ranks), so a threads program wants one task with several CPUs"
                        .to_owned(),
                    sbatch: sbatch(&[
                        ("ntasks", "1".into()),
                        ("cpus-per-task", max_w.max(cpus).to_string()),
                    ]),
                    srun: None,
                });
            }
            if a.nodes.is_some_and(|n| n > 1) {
                out.push(Advice {
                    kind: Kind::ManyNodesForThreads,
                    problem: format!(
                        "the job holds {} nodes, and a threads-only program uses one",
                        a.nodes.unwrap_or(1)
                    ),
                    why: "threads share one process's memory and cannot reach another node's \
                          CPUs; the other nodes sit idle. Use MPI (--backend mpi) to use them"
                        .to_owned(),
                    sbatch: sbatch(&[("nodes", "1".into())]),
                    srun: None,
                });
            }
        }
        if max_w > cpus {
            out.push(Advice {
                kind: Kind::ThreadsOversubscribed,
                problem: format!(
                    "{} asked for, but {where_} {}{}",
                    plural(max_w, "thread"),
                    plural(cpus, "CPU"),
                    alloc
                        .and_then(|a| a.cpus_per_task)
                        .map(|c| format!(" (--cpus-per-task={c})"))
                        .unwrap_or_default()
                ),
                why: format!(
                    "the threads take turns on the CPUs, so points above {cpus} are \
                     oversubscribed: they measure sharing, not scaling, and speedup cannot \
                     pass {cpus}. Ask for one CPU per thread, or run --workers up to {cpus}"
                ),
                sbatch: sbatch(&[
                    ("nodes", "1".into()),
                    ("ntasks", "1".into()),
                    ("cpus-per-task", max_w.to_string()),
                ]),
                srun: Some(format!("srun --pty -n 1 -c {max_w} hpc-tutor")),
            });
        }
    } else {
        match alloc {
            // (Ranks that fit the tasks but whose threads do not: the advice below.)
            Some(a)
                if max_w * tpr > a.total_cpus()
                    && !(max_w <= a.tasks() && tpr > a.cpus_per_task_or_one()) =>
            {
                out.push(Advice {
                    kind: Kind::RanksBeyondTasks,
                    problem: format!(
                        "{}{} asked for, but the job has {} ({})",
                        plural(max_w, "MPI rank"),
                        if tpr > 1 {
                            format!(" × {tpr} threads")
                        } else {
                            String::new()
                        },
                        plural(a.total_cpus(), "CPU"),
                        a.ntasks.map_or_else(
                            || "--ntasks not set".to_owned(),
                            |n| format!(
                                "--ntasks={n}, --cpus-per-task={}",
                                a.cpus_per_task_or_one()
                            )
                        )
                    ),
                    why: format!(
                        "each MPI rank is one SLURM task with its own CPUs: the larger points \
                         start with srun --overcommit and take turns on the CPUs, so points \
                         above {} are oversubscribed: they measure sharing, not scaling",
                        (a.total_cpus() / tpr).max(1)
                    ),
                    sbatch: sbatch(&[
                        ("ntasks", max_w.to_string()),
                        ("cpus-per-task", tpr.to_string()),
                    ]),
                    srun: Some(format!("salloc -n {max_w} -c {tpr}, then hpc-tutor in it")),
                })
            }
            None if max_w * tpr > cpus => out.push(Advice {
                kind: Kind::RanksBeyondTasks,
                problem: format!(
                    "{}{} asked for, but {where_} {}",
                    plural(max_w, "MPI rank"),
                    if tpr > 1 {
                        format!(" × {tpr} threads")
                    } else {
                        String::new()
                    },
                    plural(cpus, "CPU")
                ),
                why: format!(
                    "mpirun starts the ranks anyway (--oversubscribe) and they take turns on \
                     the CPUs, so points above {} are oversubscribed: they measure sharing, \
                     not scaling. On a cluster, ask SLURM for one task per rank",
                    (cpus / tpr).max(1)
                ),
                sbatch: sbatch(&[
                    ("ntasks", max_w.to_string()),
                    ("cpus-per-task", tpr.to_string()),
                ]),
                srun: Some(format!("salloc -n {max_w} -c {tpr}, then hpc-tutor in it")),
            }),
            _ => {}
        }
        if let Some(a) = alloc
            && tpr > a.cpus_per_task_or_one()
        {
            out.push(Advice {
                kind: Kind::RankThreadsBeyondCpus,
                problem: format!(
                    "each rank runs {tpr} threads, but the job gives each task {}",
                    plural(a.cpus_per_task_or_one(), "CPU")
                ),
                why: "srun gives each rank the CPUs of its task: the extra threads take turns \
                      on them. Ask for as many CPUs per task as threads per rank"
                    .to_owned(),
                sbatch: sbatch(&[
                    ("ntasks", max_w.to_string()),
                    ("cpus-per-task", tpr.to_string()),
                ]),
                srun: None,
            });
        }
    }

    // Many CPUs held, one used: only a mistake where CPUs are booked (SLURM) and the
    // experiment lets the learner choose the workers.
    if let Some(a) = alloc
        && !req.fixed_workers
        && max_w * tpr == 1
    {
        let held = if req.mpi { a.tasks() } else { cpus };
        if held > 1 {
            let (what, line) = if req.mpi {
                (
                    format!("{} tasks", a.tasks()),
                    sbatch(&[("ntasks", "1".into())]),
                )
            } else {
                (
                    plural(cpus, "CPU"),
                    sbatch(&[("ntasks", "1".into()), ("cpus-per-task", "1".into())]),
                )
            };
            out.push(Advice {
                kind: Kind::IdleCpus,
                problem: format!("the job holds {what} and this run uses one"),
                why: format!(
                    "the other {} sit idle but are booked (and charged) all the same. Either \
                     run more workers (--workers 1,…,{held}) or ask for one",
                    held - 1
                ),
                sbatch: line,
                srun: None,
            });
        }
    }

    if topo.threads_per_core() > 1 && max_w * tpr > topo.cores {
        out.push(Advice {
            kind: Kind::Hyperthreads,
            problem: format!(
                "{} on {} logical CPUs that are {} physical cores ({} hardware threads each)",
                plural(max_w * tpr, "worker"),
                topo.cpus,
                topo.cores,
                topo.threads_per_core()
            ),
            why: format!(
                "hardware threads of one core share its execution units: a compute kernel \
                 gains little beyond {} workers, so the speedup past that point says more \
                 about the core than about the program. Count cores, not hardware threads",
                topo.cores
            ),
            sbatch: {
                let mut l = vec!["#SBATCH --hint=nomultithread".to_owned()];
                l.extend(sbatch(&[("cpus-per-task", (max_w * tpr).to_string())]));
                l
            },
            srun: Some(format!(
                "srun --pty --hint=nomultithread -c {} hpc-tutor",
                max_w * tpr
            )),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slurm::Step;

    fn threads(workers: &[usize]) -> Request {
        Request {
            mpi: false,
            workers: workers.to_vec(),
            threads_per_rank: 1,
            fixed_workers: false,
        }
    }

    fn flat(cpus: usize) -> Topology {
        Topology { cpus, cores: cpus }
    }

    /// What `srun --pty -c C` sets.
    fn srun_c(c: usize) -> Allocation {
        Allocation {
            job_id: "42".into(),
            nodes: Some(1),
            ntasks: Some(1),
            cpus_per_task: Some(c),
            step: Some(Step {
                id: "0".into(),
                tasks: 1,
                procid: 0,
            }),
            ..Allocation::default()
        }
    }

    fn kinds(a: &[Advice]) -> Vec<Kind> {
        a.iter().map(|a| a.kind).collect()
    }

    #[test]
    fn a_well_sized_run_gets_no_advice() {
        assert!(advise(&threads(&[1, 2]), Some(&srun_c(2)), &flat(2), 2).is_empty());
        assert!(advise(&threads(&[1, 2]), None, &flat(2), 2).is_empty());
    }

    #[test]
    fn eight_threads_in_srun_c_2_get_the_corrected_lines() {
        let a = advise(&threads(&[8]), Some(&srun_c(2)), &flat(2), 2);
        assert_eq!(kinds(&a), [Kind::ThreadsOversubscribed]);
        let text = a[0].to_text();
        assert!(text.contains("8 threads asked for"), "{text}");
        assert!(text.contains("2 CPUs (--cpus-per-task=2)"), "{text}");
        assert!(text.contains("#SBATCH --ntasks=1\n"), "{text}");
        assert!(text.contains("#SBATCH --cpus-per-task=8\n"), "{text}");
        assert!(text.contains("srun --pty -n 1 -c 8"), "{text}");
    }

    #[test]
    fn srun_n_for_a_threads_program_is_caught() {
        let mut alloc = srun_c(2);
        alloc.ntasks = Some(4);
        alloc.step = Some(Step {
            id: "0".into(),
            tasks: 4,
            procid: 1,
        });
        let a = advise(&threads(&[1, 2]), Some(&alloc), &flat(2), 2);
        assert_eq!(kinds(&a), [Kind::ManyTasksForThreads]);
        assert!(a[0].problem.contains("4 times"), "{}", a[0].problem);
        assert_eq!(
            a[0].sbatch,
            ["#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=8"]
        );
    }

    #[test]
    fn a_batch_job_with_many_tasks_and_nodes_for_threads_is_caught() {
        let alloc = Allocation {
            job_id: "9".into(),
            nodes: Some(2),
            ntasks: Some(8),
            ..Allocation::default()
        };
        let a = advise(&threads(&[1, 2]), Some(&alloc), &flat(4), 4);
        assert_eq!(
            kinds(&a),
            [Kind::ManyTasksForThreads, Kind::ManyNodesForThreads]
        );
        assert!(a[1].sbatch.contains(&"#SBATCH --nodes=1".to_owned()));
    }

    #[test]
    fn more_ranks_than_tasks_is_caught_inside_slurm() {
        let alloc = Allocation {
            job_id: "9".into(),
            ntasks: Some(2),
            ..Allocation::default()
        };
        let req = Request {
            mpi: true,
            workers: vec![1, 2, 4],
            threads_per_rank: 1,
            fixed_workers: false,
        };
        let a = advise(&req, Some(&alloc), &flat(2), 2);
        assert_eq!(kinds(&a), [Kind::RanksBeyondTasks]);
        assert!(
            a[0].problem
                .contains("4 MPI ranks asked for, but the job has 2 CPUs"),
            "{}",
            a[0].problem
        );
        assert_eq!(
            a[0].sbatch,
            ["#SBATCH --ntasks=4", "#SBATCH --cpus-per-task=1"]
        );
        // Outside SLURM the same request is oversubscription under mpirun.
        let b = advise(&req, None, &flat(2), 2);
        assert_eq!(kinds(&b), [Kind::RanksBeyondTasks]);
        assert!(b[0].why.contains("--oversubscribe"));
    }

    #[test]
    fn hybrid_threads_beyond_cpus_per_task_are_caught() {
        let alloc = Allocation {
            job_id: "9".into(),
            ntasks: Some(2),
            cpus_per_task: Some(1),
            ..Allocation::default()
        };
        let req = Request {
            mpi: true,
            workers: vec![2],
            threads_per_rank: 4,
            fixed_workers: true,
        };
        let a = advise(&req, Some(&alloc), &flat(8), 8);
        assert_eq!(kinds(&a), [Kind::RankThreadsBeyondCpus]);
        assert_eq!(
            a[0].sbatch,
            ["#SBATCH --ntasks=2", "#SBATCH --cpus-per-task=4"]
        );
    }

    #[test]
    fn one_worker_on_many_cpus_is_caught_unless_the_experiment_fixes_it() {
        let a = advise(&threads(&[1]), Some(&srun_c(8)), &flat(8), 8);
        assert_eq!(kinds(&a), [Kind::IdleCpus]);
        assert!(a[0].problem.contains("holds 8 CPUs"), "{}", a[0].problem);
        assert!(
            a[0].sbatch
                .contains(&"#SBATCH --cpus-per-task=1".to_owned())
        );
        let mut fixed = threads(&[1]);
        fixed.fixed_workers = true;
        assert!(advise(&fixed, Some(&srun_c(8)), &flat(8), 8).is_empty());
        // Outside SLURM nobody books CPUs.
        assert!(advise(&threads(&[1]), None, &flat(8), 8).is_empty());
    }

    #[test]
    fn hyperthreads_are_not_cores() {
        let smt = Topology { cpus: 4, cores: 2 };
        let a = advise(&threads(&[1, 2, 4]), None, &smt, 4);
        assert_eq!(kinds(&a), [Kind::Hyperthreads]);
        assert!(
            a[0].problem
                .contains("4 logical CPUs that are 2 physical cores")
        );
        assert_eq!(
            a[0].sbatch,
            ["#SBATCH --hint=nomultithread", "#SBATCH --cpus-per-task=4"]
        );
        assert!(advise(&threads(&[1, 2]), None, &smt, 4).is_empty());
    }
}
