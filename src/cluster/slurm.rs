//! The SLURM allocation hpc-tutor runs in, read from the `SLURM_*` variables that `srun`,
//! `salloc` and `sbatch` set, and the CPU topology of the CPUs this process may use.

use std::collections::BTreeSet;

/// A SLURM job (and, inside `srun`, the job step) this process runs in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Allocation {
    /// `SLURM_JOB_ID`.
    pub job_id: String,
    /// `SLURM_JOB_NAME`.
    pub job_name: Option<String>,
    /// `SLURM_JOB_PARTITION`.
    pub partition: Option<String>,
    /// `SLURM_JOB_NUM_NODES` (or `SLURM_NNODES`).
    pub nodes: Option<usize>,
    /// `SLURM_JOB_NODELIST` (or `SLURM_NODELIST`), in SLURM's compressed form.
    pub nodelist: Option<String>,
    /// `SLURM_NTASKS` (or `SLURM_NPROCS`): the tasks of the job, or of the step inside `srun`.
    /// Unset when the job did not ask for a number of tasks.
    pub ntasks: Option<usize>,
    /// `SLURM_CPUS_PER_TASK`; unset when the job did not ask (SLURM then gives one CPU a task).
    pub cpus_per_task: Option<usize>,
    /// `SLURM_CPUS_ON_NODE`: CPUs of the allocation on this node.
    pub cpus_on_node: Option<usize>,
    /// `SLURM_MEM_PER_NODE` in MiB.
    pub mem_per_node_mb: Option<u64>,
    /// `SLURM_MEM_PER_CPU` in MiB.
    pub mem_per_cpu_mb: Option<u64>,
    /// Inside a job step (`srun`): the step's tasks (`SLURM_STEP_NUM_TASKS`) and this
    /// task's rank (`SLURM_PROCID`). `None` in a batch script or an `salloc` shell.
    pub step: Option<Step>,
    /// `SLURM_ARRAY_JOB_ID` and `SLURM_ARRAY_TASK_ID`, in a job array.
    pub array: Option<(String, String)>,
}

/// The job step (`srun`) this process is one task of.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// `SLURM_STEP_ID`.
    pub id: String,
    /// `SLURM_STEP_NUM_TASKS`: how many copies of the program the step started.
    pub tasks: usize,
    /// `SLURM_PROCID`: which copy this is, from 0.
    pub procid: usize,
}

impl Allocation {
    /// Reads the allocation from the environment; `None` outside SLURM.
    pub fn from_env() -> Option<Self> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads the allocation from `var` (an environment lookup), so that tests can give
    /// any environment. `None` without a `SLURM_JOB_ID`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let text = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let first_text = |keys: &[&str]| keys.iter().find_map(|k| text(k));
        // Counts such as SLURM_TASKS_PER_NODE may read `2(x3)`; the ones read here are plain
        // numbers, but a malformed value is better ignored than trusted.
        let number = |keys: &[&str]| -> Option<usize> {
            first_text(keys).and_then(|v| v.parse::<usize>().ok())
        };
        let job_id = text("SLURM_JOB_ID").or_else(|| text("SLURM_JOBID"))?;
        let step = text("SLURM_STEP_ID")
            .or_else(|| text("SLURM_STEPID"))
            .map(|id| Step {
                id,
                tasks: number(&["SLURM_STEP_NUM_TASKS"]).unwrap_or(1),
                procid: number(&["SLURM_PROCID"]).unwrap_or(0),
            });
        Some(Self {
            job_id,
            job_name: text("SLURM_JOB_NAME"),
            partition: text("SLURM_JOB_PARTITION"),
            nodes: number(&["SLURM_JOB_NUM_NODES", "SLURM_NNODES"]),
            nodelist: first_text(&["SLURM_JOB_NODELIST", "SLURM_NODELIST"]),
            ntasks: number(&["SLURM_NTASKS", "SLURM_NPROCS"]),
            cpus_per_task: number(&["SLURM_CPUS_PER_TASK"]),
            cpus_on_node: number(&["SLURM_CPUS_ON_NODE"]),
            mem_per_node_mb: first_text(&["SLURM_MEM_PER_NODE"]).and_then(|v| v.parse().ok()),
            mem_per_cpu_mb: first_text(&["SLURM_MEM_PER_CPU"]).and_then(|v| v.parse().ok()),
            step,
            array: text("SLURM_ARRAY_JOB_ID").zip(text("SLURM_ARRAY_TASK_ID")),
        })
    }

    /// The nodes of a multi-node allocation, each by name (`scontrol show hostnames`
    /// expands SLURM's compressed node list; where it cannot, the list as SLURM gave it);
    /// empty on one node.
    pub fn hosts(&self) -> Vec<String> {
        let Some(list) = self
            .nodelist
            .as_deref()
            .filter(|_| self.nodes.unwrap_or(1) > 1)
        else {
            return Vec::new();
        };
        let expanded = std::process::Command::new("scontrol")
            .args(["show", "hostnames", list])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|h| !h.is_empty());
        expanded.unwrap_or_else(|| vec![list.to_owned()])
    }

    /// Nodes of the allocation: `SLURM_JOB_NUM_NODES`, else 1.
    pub fn node_count(&self) -> usize {
        self.nodes.unwrap_or(1).max(1)
    }

    /// Tasks, as SLURM counts them: `--ntasks` when given, else one per node.
    pub fn tasks(&self) -> usize {
        self.ntasks.unwrap_or(self.nodes.unwrap_or(1)).max(1)
    }

    /// CPUs each task gets: `--cpus-per-task` when given, else 1.
    pub fn cpus_per_task_or_one(&self) -> usize {
        self.cpus_per_task.unwrap_or(1).max(1)
    }

    /// CPUs of the whole allocation: `SLURM_CPUS_ON_NODE` × nodes when known, else tasks ×
    /// CPUs per task. Inside `srun --pty -c 2` this is 2, room for two one-CPU ranks.
    pub fn total_cpus(&self) -> usize {
        match self.cpus_on_node {
            Some(c) => (c * self.nodes.unwrap_or(1)).max(1),
            None => self.tasks() * self.cpus_per_task_or_one(),
        }
    }

    /// The status bar's short description, e.g. `SLURM job 42 · 1 node · 1 task × 2 CPUs`.
    pub fn summary(&self) -> String {
        let mut s = format!("SLURM job {}", self.job_id);
        if let Some((array_job, task)) = &self.array {
            s = format!("SLURM job {array_job}_{task}");
        }
        if let Some(n) = self.nodes {
            s.push_str(&format!(" · {n} node{}", plural(n)));
        }
        let tasks = self.tasks();
        let cpt = self.cpus_per_task_or_one();
        s.push_str(&format!(
            " · {tasks} task{} × {cpt} CPU{}",
            plural(tasks),
            plural(cpt)
        ));
        s
    }

    /// Lines describing the allocation for `hpc-tutor slurm info`.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut rows = vec![("job".to_owned(), self.job_id.clone())];
        let mut push = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                rows.push((k.to_owned(), v));
            }
        };
        push("name", self.job_name.clone());
        push("partition", self.partition.clone());
        push(
            "array task",
            self.array
                .as_ref()
                .map(|(j, t)| format!("{t} of array job {j}")),
        );
        push("nodes", self.nodes.map(|n| n.to_string()));
        push("node list", self.nodelist.clone());
        push(
            "tasks",
            Some(match self.ntasks {
                Some(n) => format!("{n} (SLURM_NTASKS)"),
                None => format!("{} (not set: one per node)", self.tasks()),
            }),
        );
        push(
            "CPUs per task",
            Some(match self.cpus_per_task {
                Some(n) => format!("{n} (SLURM_CPUS_PER_TASK)"),
                None => "1 (not set: SLURM's default)".to_owned(),
            }),
        );
        push(
            "CPUs on this node",
            self.cpus_on_node.map(|n| n.to_string()),
        );
        push(
            "memory",
            match (self.mem_per_node_mb, self.mem_per_cpu_mb) {
                (Some(m), _) => Some(format!("{m} MiB per node")),
                (None, Some(m)) => Some(format!("{m} MiB per CPU")),
                (None, None) => None,
            },
        );
        push(
            "job step",
            self.step.as_ref().map(|s| {
                format!(
                    "{} (task {} of {}{})",
                    s.id,
                    s.procid,
                    s.tasks,
                    if s.tasks > 1 {
                        ": this program was started that many times"
                    } else {
                        ""
                    }
                )
            }),
        );
        rows
    }
}

/// How the CPUs this process may use map to physical cores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Logical CPUs in the affinity mask.
    pub cpus: usize,
    /// Physical cores those CPUs belong to (hardware threads of one core count once).
    pub cores: usize,
}

impl Topology {
    /// Reads the affinity mask and `/sys/devices/system/cpu/cpu*/topology/thread_siblings_list`.
    /// Where the topology cannot be read, every CPU counts as a core.
    pub fn detect() -> Self {
        let mask = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok();
        let online = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let ours: Vec<usize> = match &mask {
            Some(m) => (0..nix::sched::CpuSet::count())
                .filter(|&c| m.is_set(c).unwrap_or(false))
                .collect(),
            None => (0..online).collect(),
        };
        Self::from_siblings(&ours, |cpu| {
            std::fs::read_to_string(format!(
                "/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
            ))
            .ok()
        })
    }

    /// The topology of `cpus`, given each CPU's sibling list in the kernel's list format
    /// (`0,64` or `0-1`); a CPU without one is a core of its own.
    pub fn from_siblings(cpus: &[usize], siblings: impl Fn(usize) -> Option<String>) -> Self {
        let cores: BTreeSet<Vec<usize>> = cpus
            .iter()
            .map(|&c| {
                siblings(c)
                    .and_then(|s| parse_cpu_list(&s))
                    .filter(|l| l.contains(&c))
                    .unwrap_or_else(|| vec![c])
            })
            .collect();
        Self {
            cpus: cpus.len().max(1),
            cores: cores.len().max(1),
        }
    }

    /// Hardware threads per core among our CPUs (1 without SMT).
    pub fn threads_per_core(&self) -> usize {
        self.cpus.div_ceil(self.cores).max(1)
    }
}

/// Parses the kernel's CPU list format: `0-3,8,10-11`.
pub fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if b < a || b - a > 65_536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    (!out.is_empty()).then_some(out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How long `sinfo` may take: with the controller unreachable it retries for about 9 s,
/// and the tutor asks it while the learner waits for the job-script window.
const SINFO_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// The most CPUs a node of `partition` (else of the default partition) has, from `sinfo`;
/// `None` where SLURM's client is not installed, says nothing, or does not answer within
/// [`SINFO_TIMEOUT`].
pub fn cluster_cpus_per_node(partition: Option<&str>) -> Option<usize> {
    use std::io::Read;
    if !crate::backend::launch::on_path("sinfo") {
        return None;
    }
    let mut cmd = std::process::Command::new("sinfo");
    cmd.args(["-h", "-N", "-o", "%c"]);
    if let Some(p) = partition {
        cmd.args(["-p", p]);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + SINFO_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let mut text = String::new();
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    if !status.success() {
        return None;
    }
    text.lines()
        .filter_map(|l| l.trim().trim_end_matches('+').parse::<usize>().ok())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn outside_slurm_there_is_no_allocation() {
        assert_eq!(Allocation::from_vars(env(&[("HOME", "/root")])), None);
        assert_eq!(Allocation::from_vars(env(&[("SLURM_JOB_ID", " ")])), None);
    }

    #[test]
    fn an_srun_pty_step_is_read_whole() {
        let a = Allocation::from_vars(env(&[
            ("SLURM_JOB_ID", "42"),
            ("SLURM_JOB_NAME", "bash"),
            ("SLURM_JOB_PARTITION", "debug"),
            ("SLURM_JOB_NUM_NODES", "1"),
            ("SLURM_JOB_NODELIST", "node01"),
            ("SLURM_NTASKS", "1"),
            ("SLURM_CPUS_PER_TASK", "2"),
            ("SLURM_CPUS_ON_NODE", "2"),
            ("SLURM_MEM_PER_NODE", "2048"),
            ("SLURM_STEP_ID", "0"),
            ("SLURM_STEP_NUM_TASKS", "1"),
            ("SLURM_PROCID", "0"),
        ]))
        .expect("in a job");
        assert_eq!(a.job_id, "42");
        assert_eq!(a.nodes, Some(1));
        assert_eq!(a.cpus_per_task, Some(2));
        assert_eq!(a.mem_per_node_mb, Some(2048));
        assert_eq!(
            a.step,
            Some(Step {
                id: "0".into(),
                tasks: 1,
                procid: 0
            })
        );
        assert_eq!(a.summary(), "SLURM job 42 · 1 node · 1 task × 2 CPUs");
    }

    #[test]
    fn a_batch_script_without_counts_gets_slurms_defaults() {
        let a = Allocation::from_vars(env(&[
            ("SLURM_JOB_ID", "7"),
            ("SLURM_NNODES", "2"),
            ("SLURM_NTASKS", "garbage"),
            ("SLURM_ARRAY_JOB_ID", "6"),
            ("SLURM_ARRAY_TASK_ID", "1"),
        ]))
        .expect("in a job");
        assert_eq!(a.ntasks, None, "a malformed count is ignored");
        assert_eq!(a.tasks(), 2, "one task per node by default");
        assert_eq!(a.cpus_per_task_or_one(), 1);
        assert_eq!(a.step, None);
        assert_eq!(a.summary(), "SLURM job 6_1 · 2 nodes · 2 tasks × 1 CPU");
        let rows = a.describe();
        assert!(
            rows.iter()
                .any(|(k, v)| k == "array task" && v == "1 of array job 6")
        );
        assert!(
            rows.iter()
                .any(|(k, v)| k == "tasks" && v.contains("not set"))
        );
    }

    #[test]
    fn cpu_lists_parse_like_the_kernel_writes_them() {
        assert_eq!(
            parse_cpu_list("0-3,8,10-11\n"),
            Some(vec![0, 1, 2, 3, 8, 10, 11])
        );
        assert_eq!(parse_cpu_list("5"), Some(vec![5]));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
    }

    #[test]
    fn hyperthreads_count_once_per_core() {
        // Four logical CPUs, two cores with two hardware threads each (siblings 0,2 and 1,3).
        let smt = Topology::from_siblings(&[0, 1, 2, 3], |c| {
            Some(if c % 2 == 0 { "0,2" } else { "1,3" }.to_owned())
        });
        assert_eq!((smt.cpus, smt.cores, smt.threads_per_core()), (4, 2, 2));
        // Only one thread of each core in the mask: no sharing.
        let half = Topology::from_siblings(&[0, 1], |c| {
            Some(if c % 2 == 0 { "0,2" } else { "1,3" }.to_owned())
        });
        assert_eq!((half.cpus, half.cores), (2, 2));
        // No topology files: every CPU is a core.
        let none = Topology::from_siblings(&[0, 1, 2], |_| None);
        assert_eq!((none.cpus, none.cores), (3, 3));
    }

    #[test]
    fn this_machine_has_a_topology() {
        let t = Topology::detect();
        assert!(t.cores >= 1 && t.cores <= t.cpus);
    }
}
