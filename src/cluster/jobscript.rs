//! The sbatch script that reproduces an experiment on a cluster: resources from the sweep,
//! a time limit estimated from a measured run, and output paths next to the job's output.
//!
//! `hpc-tutor slurm script` prints it; the TUI shows it for the experiment just run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::record::Record;

/// What the script runs and asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// The experiment.
    pub experiment: String,
    /// Threads, processes (a program starting its own) or MPI ranks.
    pub backend: crate::experiment::Backend,
    /// Worker counts of the sweep.
    pub workers: Vec<usize>,
    /// Timed repetitions per point.
    pub reps: usize,
    /// Warm-up runs per point.
    pub warmup: usize,
    /// Every parameter with its value (defaults filled in, so the job reproduces the run
    /// even if a later version changes a default).
    pub params: BTreeMap<String, String>,
    /// Threads per MPI rank (`hybrid`), else 1.
    pub threads_per_rank: usize,
    /// `--nodes`.
    pub nodes: usize,
    /// `--partition`, if one is named.
    pub partition: Option<String>,
    /// `--account`, if one is named.
    pub account: Option<String>,
    /// The time limit and how it was arrived at.
    pub time: TimeLimit,
    /// The hpc-tutor binary the job runs unless `$HPC_TUTOR` says otherwise.
    pub exe: String,
    /// `--ntasks`: one for threads, a task per rank for MPI (see [`JobSpec::resources`]).
    pub ntasks: usize,
    /// `--cpus-per-task`: a CPU per thread, or per thread of a rank.
    pub cpus_per_task: usize,
    /// Comment lines on choices the learner should know about.
    pub notes: Vec<String>,
    /// The command that made the script, for its header.
    pub made_by: String,
}

/// A `--time` and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeLimit {
    /// Seconds.
    pub seconds: u64,
    /// One line on how it was chosen (from which measured run, or given).
    pub basis: String,
}

impl TimeLimit {
    /// The limit for a sweep estimated at `estimate_s` ([`limit_for`]), with how the
    /// estimate was made, e.g. `this sweep takes by run … on node01`.
    pub fn estimated(estimate_s: f64, how: &str) -> Self {
        let seconds = limit_for(estimate_s);
        TimeLimit {
            seconds,
            basis: format!(
                "{} = 2 × the {estimate_s:.0} s {how}, + 2 min",
                format_time(seconds)
            ),
        }
    }

    /// One hour, said to be a guess, and `why` there is no estimate.
    pub fn guess(why: &str) -> Self {
        TimeLimit {
            seconds: 3600,
            basis: format!("01:00:00 is a GUESS, not an estimate: {why}"),
        }
    }
}

impl JobSpec {
    /// The job for a sweep of `experiment` with `params` (every value, defaults filled
    /// in): one node, tasks and CPUs per task from [`JobSpec::resources`], the partition of
    /// the current job if any, and no time limit yet (the caller sets it).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        experiment: &str,
        backend: crate::experiment::Backend,
        workers: Vec<usize>,
        (reps, warmup): (usize, usize),
        params: BTreeMap<String, String>,
        threads_per_rank: usize,
        system: &super::SystemInfo,
        exe: &str,
        made_by: String,
    ) -> Self {
        let mpi = backend == crate::experiment::Backend::Mpi;
        let (ntasks, cpus_per_task) = Self::resources(mpi, &workers, threads_per_rank);
        let mut notes = Vec::new();
        // The current job's partition, from SLURM_JOB_PARTITION: only a real partition
        // name goes into an #SBATCH line.
        let partition = system
            .allocation
            .as_ref()
            .and_then(|a| a.partition.clone())
            .filter(|p| match check_partition(p) {
                Ok(()) => true,
                Err(_) => {
                    notes.push(format!(
                        "the current job's partition `{}` is not a partition name: left out; give --partition",
                        p.escape_debug()
                    ));
                    false
                }
            });
        JobSpec {
            experiment: experiment.to_owned(),
            backend,
            workers,
            reps,
            warmup,
            params,
            threads_per_rank,
            nodes: 1,
            partition,
            account: None,
            time: TimeLimit {
                seconds: 0,
                basis: String::new(),
            },
            exe: exe.to_owned(),
            ntasks,
            cpus_per_task,
            notes,
            made_by,
        }
    }

    /// Ranks (a task each), or threads or processes of one task.
    pub fn mpi(&self) -> bool {
        self.backend == crate::experiment::Backend::Mpi
    }

    /// `threads`, `processes` or `mpi`.
    pub fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// Tasks and CPUs per task for a sweep: threads are one task with a CPU per thread of
    /// the largest point; MPI is a task per rank of the largest point, with a CPU per
    /// thread of a rank.
    pub fn resources(mpi: bool, workers: &[usize], threads_per_rank: usize) -> (usize, usize) {
        let max_w = workers.iter().copied().max().unwrap_or(1).max(1);
        if mpi {
            (max_w, threads_per_rank.max(1))
        } else {
            (1, max_w)
        }
    }

    /// Fits the request to nodes of `cpus_per_node` CPUs (as `sinfo` reports them): a
    /// threads sweep gets at most one node's CPUs, and an MPI sweep at most as many tasks
    /// as the nodes have CPUs for. The larger points still run — threads share the CPUs,
    /// and `hpc-tutor run` starts the extra ranks with `srun --overcommit` — and the
    /// results label them oversubscribed; a note in the script says so.
    pub fn fit_to_nodes(&mut self, cpus_per_node: usize) {
        let cpn = cpus_per_node.max(1);
        if !self.mpi() && self.cpus_per_task > cpn {
            self.notes.push(format!(
                "the nodes have {cpn} CPUs: the job asks for {cpn}, and points above {cpn} threads run oversubscribed"
            ));
            self.cpus_per_task = cpn;
        }
        let total = cpn * self.nodes.max(1);
        let cpt = self.cpus_per_task.max(1);
        if self.mpi() && self.ntasks * cpt > total {
            let fit = (total / cpt).max(1);
            self.notes.push(format!(
                "{} node(s) of {cpn} CPUs have room for {fit} rank(s): the job asks for {fit} task(s), and the points above {fit} ranks start with srun --overcommit and run oversubscribed",
                self.nodes.max(1),
            ));
            self.ntasks = fit;
        }
    }

    /// A file name for the script: `mc-pi-mpi.sbatch`.
    pub fn file_name(&self) -> String {
        format!("{}.sbatch", self.stem())
    }

    fn stem(&self) -> String {
        format!("{}-{}", self.experiment, self.backend())
    }

    /// The script's text.
    pub fn render(&self) -> String {
        let list = |w: &[usize]| {
            w.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut s = String::new();
        let unit = if self.mpi() {
            if self.threads_per_rank > 1 {
                format!("MPI ranks × {} threads", self.threads_per_rank)
            } else {
                "MPI ranks".to_owned()
            }
        } else {
            self.backend().to_owned()
        };
        // Writing to a String cannot fail.
        let _ = writeln!(s, "#!/bin/bash");
        let _ = writeln!(
            s,
            "# hpc-tutor job: {} on {unit} {}, {} timed repetition{} per point.",
            self.experiment,
            list(&self.workers),
            self.reps,
            if self.reps == 1 { "" } else { "s" }
        );
        // Text from outside (the command line, stored runs) stays inside its comment line.
        for (i, line) in self.made_by.split('\n').enumerate() {
            let line = comment(line);
            match (i, line.strip_prefix('#')) {
                (0, _) => {
                    let _ = writeln!(s, "# Made by: {line}");
                }
                (_, Some(rest)) => {
                    let _ = writeln!(s, "#{rest}");
                }
                (_, None) => {
                    let _ = writeln!(s, "#          {line}");
                }
            }
        }
        let _ = writeln!(s, "#");
        let _ = writeln!(s, "# Submit:  sbatch {}", self.file_name());
        let _ = writeln!(
            s,
            "# Results: $RESULTS_DIR/{}-<job id>.jsonl; RESULTS_DIR defaults to results/ in the job's",
            self.stem()
        );
        let _ = writeln!(
            s,
            "#          working folder, next to its output hpc-tutor-<name>-<job id>.out."
        );
        let _ = writeln!(
            s,
            "# Plot:    hpc-tutor --results results   (or: hpc-tutor export --run <results file>)"
        );
        let _ = writeln!(
            s,
            "# Change:  HPC_TUTOR=<path of hpc-tutor> and RESULTS_DIR=<folder>, e.g."
        );
        let _ = writeln!(
            s,
            "#          sbatch --export=ALL,RESULTS_DIR=$HOME/runs {}",
            self.file_name()
        );
        let _ = writeln!(s, "#");
        let _ = writeln!(s, "# --time: {}", comment(&self.time.basis));
        for note in &self.notes {
            let _ = writeln!(s, "# Note: {}", comment(note));
        }
        let _ = writeln!(s, "#SBATCH --job-name=hpc-tutor-{}", self.experiment);
        if let Some(p) = &self.partition {
            let _ = writeln!(s, "#SBATCH --partition={p}");
        }
        if let Some(a) = &self.account {
            let _ = writeln!(s, "#SBATCH --account={a}");
        }
        let _ = writeln!(s, "#SBATCH --nodes={}", self.nodes.max(1));
        let _ = writeln!(s, "#SBATCH --ntasks={}", self.ntasks);
        let _ = writeln!(s, "#SBATCH --cpus-per-task={}", self.cpus_per_task);
        let _ = writeln!(s, "#SBATCH --time={}", format_time(self.time.seconds));
        let _ = writeln!(s, "#SBATCH --output=hpc-tutor-%x-%j.out");
        let _ = writeln!(s);
        let _ = writeln!(s, "set -euo pipefail");
        let _ = writeln!(s);
        if shell_word(&self.exe) == self.exe {
            let _ = writeln!(s, "HPC_TUTOR=\"${{HPC_TUTOR:-{}}}\"", self.exe);
        } else {
            // A path with quotes, `$` or spaces: quoted on its own line.
            let _ = writeln!(s, "HPC_TUTOR=\"${{HPC_TUTOR:-}}\"");
            let _ = writeln!(
                s,
                "[ -n \"$HPC_TUTOR\" ] || HPC_TUTOR={}",
                shell_word(&self.exe)
            );
        }
        let _ = writeln!(s, "RESULTS_DIR=\"${{RESULTS_DIR:-$PWD/results}}\"");
        let _ = writeln!(s, "mkdir -p \"$RESULTS_DIR\"");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "echo \"job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: {} {}\"",
            self.experiment,
            self.backend()
        );
        let program = self.experiment == "program";
        let param = |k: &str| self.params.get(k).map_or("", String::as_str);
        if program {
            // A program run as it is typed: `--exec 'COMMAND'`.
            let _ = writeln!(
                s,
                "\"$HPC_TUTOR\" run --exec {} \\",
                shell_word(param("command"))
            );
        } else {
            let _ = writeln!(s, "\"$HPC_TUTOR\" run {} \\", self.experiment);
        }
        if self.mpi() {
            let _ = writeln!(s, "  --backend mpi --launcher srun \\");
        } else {
            let _ = writeln!(s, "  --backend {} \\", self.backend());
        }
        let _ = writeln!(
            s,
            "  --workers {} --reps {} --warmup {} \\",
            list(&self.workers),
            self.reps,
            self.warmup
        );
        for (k, v) in &self.params {
            if program {
                match (k.as_str(), v.as_str()) {
                    ("command", _) | ("shell", "off") | (_, "") => continue,
                    ("shell", _) => {
                        let _ = writeln!(s, "  --shell \\");
                        continue;
                    }
                    ("time_from", re) => {
                        let _ = writeln!(s, "  --time-from {} \\", shell_word(re));
                        continue;
                    }
                    ("mode", m) => {
                        let _ = writeln!(s, "  --mode {m} \\");
                        continue;
                    }
                    _ => {}
                }
            }
            let _ = writeln!(s, "  --param {} \\", shell_word(&format!("{k}={v}")));
        }
        let _ = writeln!(
            s,
            "  --format json --out \"$RESULTS_DIR/{}-$SLURM_JOB_ID.jsonl\"",
            self.stem()
        );
        s
    }
}

/// `HH:MM:SS`, or `D-HH:MM:SS` from a day on, as sbatch reads it.
pub fn format_time(seconds: u64) -> String {
    let (d, rest) = (seconds / 86_400, seconds % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Reads `--time` as sbatch accepts it: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`,
/// `D-HH:MM:SS`.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{}` is not a time limit; expected MM, MM:SS, HH:MM:SS or D-HH:MM:SS, from 1 minute to 365 days",
            text.escape_debug()
        )
    };
    // Digits only (no sign, no spaces), and at most 9 of them: no sum below can overflow.
    let num = |s: &str| {
        if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u64>().map_err(|_| bad())
    };
    let (days, rest) = match text.split_once('-') {
        Some((d, r)) => (num(d)?, Some(r)),
        None => (0, None),
    };
    let secs = match rest {
        Some(r) => {
            let p: Vec<&str> = r.split(':').collect();
            match p.as_slice() {
                [h] => num(h)? * 3600,
                [h, m] => num(h)? * 3600 + num(m)? * 60,
                [h, m, s] => num(h)? * 3600 + num(m)? * 60 + num(s)?,
                _ => return Err(bad()),
            }
        }
        None => {
            let p: Vec<&str> = text.split(':').collect();
            match p.as_slice() {
                [m] => num(m)? * 60,
                [m, s] => num(m)? * 60 + num(s)?,
                [h, m, s] => num(h)? * 3600 + num(m)? * 60 + num(s)?,
                _ => return Err(bad()),
            }
        }
    } + days * 86_400;
    if (60..=365 * 86_400).contains(&secs) {
        Ok(secs)
    } else {
        Err(bad())
    }
}

/// A word safe to paste into a shell command, on one line: as is when it has only safe
/// characters, else in single quotes, or as bash's `$'…'` when it holds control characters
/// (a newline, a tab), so that it never spans lines.
pub fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._,:/=+-@%".contains(c))
    {
        w.to_owned()
    } else if w.chars().any(char::is_control) {
        let mut out = String::from("$'");
        for c in w.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Text for a comment line of the script: control characters (a newline would end the
/// comment and start a command) are written as escapes.
fn comment(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_owned()
    }
}

/// What SLURM allows in an account or partition name.
const NAME_CHARS: &str = "letters, digits, `_`, `-` and `.`";

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// Checks an `--account` value: one SLURM account name, of letters, digits, `_`, `-` and
/// `.` only (nothing a shell or sbatch would read otherwise). The error names the option
/// and what is allowed.
pub fn check_account(account: &str) -> Result<(), String> {
    if is_name(account) {
        Ok(())
    } else {
        Err(format!(
            "--account: `{}` is not allowed; expected an account name of {NAME_CHARS} only",
            account.escape_debug()
        ))
    }
}

/// Checks a `--partition` value: one partition name, or several separated by commas (the
/// job starts in whichever can run it first), each of letters, digits, `_`, `-` and `.`.
pub fn check_partition(partition: &str) -> Result<(), String> {
    if partition.split(',').all(is_name) {
        Ok(())
    } else {
        Err(format!(
            "--partition: `{}` is not allowed; expected a partition name of {NAME_CHARS} only, or several separated by commas (e.g. short,long)",
            partition.escape_debug()
        ))
    }
}

/// How long the sweep of `spec` should take, from the records of a measured run of the
/// same experiment and parameters: the time of each new point is the median of the
/// measured point with the nearest worker count at or below it (for strong scaling more
/// workers never take longer; for weak scaling it grows in proportion to the workers), times its runs, plus the run's measured per-point overhead (start-up,
/// launches). `None` if the records have no measured point.
/// Empty when a run measured exactly the worker counts a job script asks for; else says
/// that its time was extrapolated: ` (measured on workers 1,2; extrapolated to 1,2,4,8)`.
pub fn extrapolated(measured: &[usize], asked: &[usize]) -> String {
    if measured == asked {
        return String::new();
    }
    let list = |w: &[usize]| {
        w.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        " (measured on workers {}; extrapolated to {})",
        list(measured),
        list(asked)
    )
}

/// The seconds a job running `spec` needs, from a measured run's records.
pub fn estimate_seconds(records: &[Record], spec: &JobSpec, weak: bool) -> Option<f64> {
    let mut per_workers: BTreeMap<usize, f64> = BTreeMap::new();
    let mut samples_total = 0.0;
    let mut points = 0usize;
    let mut elapsed = None;
    for r in records {
        match r {
            Record::Point(p) if p.reps > 0 => {
                *per_workers.entry(p.workers).or_insert(0.0) += p.median_s;
                points += 1;
            }
            Record::Sample(s) => samples_total += s.seconds,
            Record::End(e) => elapsed = Some(e.elapsed_s),
            _ => {}
        }
    }
    if per_workers.is_empty() {
        return None;
    }
    let overhead = elapsed.map_or(0.0, |e| (e - samples_total).max(0.0) / points.max(1) as f64);
    let points_per_worker = (points as f64 / per_workers.len() as f64).max(1.0);
    let mut total = 0.0;
    for &w in &spec.workers {
        let t = match per_workers.range(..=w).next_back() {
            Some((&m, &t)) if weak && m < w => t * w as f64 / m as f64,
            Some((_, &t)) => t,
            // Fewer workers than any measured: more time, in proportion.
            None => {
                let (&m, &t) = per_workers.iter().next()?;
                if weak { t } else { t * m as f64 / w as f64 }
            }
        };
        total += t * (spec.reps + spec.warmup) as f64 + overhead * points_per_worker;
    }
    Some(total)
}

/// The limit to ask for: twice the estimate (another node may be slower, the queue's
/// start-up takes time) plus two minutes, rounded up to whole minutes, at least 5 minutes.
pub fn limit_for(estimate_s: f64) -> u64 {
    let secs = (estimate_s.max(0.0) * 2.0 + 120.0).ceil() as u64;
    secs.div_ceil(60).max(5) * 60
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_estimate_from_other_worker_counts_says_so() {
        assert_eq!(extrapolated(&[1, 2], &[1, 2]), "");
        assert_eq!(
            extrapolated(&[1, 2], &[1, 2, 4, 8]),
            " (measured on workers 1,2; extrapolated to 1,2,4,8)"
        );
    }

    use super::*;
    use crate::record::{EndRecord, PointRecord, SampleRecord, Status};

    fn spec(mpi: bool, workers: &[usize]) -> JobSpec {
        let (ntasks, cpus_per_task) = JobSpec::resources(mpi, workers, 1);
        JobSpec {
            ntasks,
            cpus_per_task,
            notes: Vec::new(),
            experiment: "mc-pi".into(),
            backend: if mpi {
                crate::experiment::Backend::Mpi
            } else {
                crate::experiment::Backend::Threads
            },
            workers: workers.to_vec(),
            reps: 5,
            warmup: 1,
            params: BTreeMap::from([
                ("samples".to_owned(), "1000000".to_owned()),
                ("mode".to_owned(), "strong".to_owned()),
            ]),
            threads_per_rank: 1,
            nodes: 1,
            partition: Some("debug".into()),
            account: None,
            time: TimeLimit {
                seconds: 600,
                basis: "given with --time".into(),
            },
            exe: "/opt/hpc-tutor/bin/hpc-tutor".into(),
            made_by: "hpc-tutor slurm script mc-pi".into(),
        }
    }

    #[test]
    fn an_mpi_script_asks_a_task_per_rank_and_launches_through_srun() {
        let text = spec(true, &[1, 2, 4]).render();
        assert!(text.starts_with("#!/bin/bash\n"));
        for line in [
            "#SBATCH --partition=debug\n",
            "#SBATCH --nodes=1\n",
            "#SBATCH --ntasks=4\n",
            "#SBATCH --cpus-per-task=1\n",
            "#SBATCH --time=00:10:00\n",
            "#SBATCH --output=hpc-tutor-%x-%j.out\n",
            "HPC_TUTOR=\"${HPC_TUTOR:-/opt/hpc-tutor/bin/hpc-tutor}\"\n",
            "  --backend mpi --launcher srun \\\n",
            "  --workers 1,2,4 --reps 5 --warmup 1 \\\n",
            "  --param mode=strong \\\n",
            "  --format json --out \"$RESULTS_DIR/mc-pi-mpi-$SLURM_JOB_ID.jsonl\"\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        // Every #SBATCH line comes before the first command, or sbatch ignores it.
        let first_command = text
            .lines()
            .position(|l| !l.starts_with('#') && !l.trim().is_empty())
            .expect("has commands");
        let lines: Vec<&str> = text.lines().collect();
        let last_directive = lines
            .iter()
            .rposition(|l| l.starts_with("#SBATCH"))
            .expect("has directives");
        assert!(last_directive < first_command);
        assert!(!text.contains("overcommit"));
    }

    #[test]
    fn a_threads_script_is_one_task_with_a_cpu_per_thread() {
        let s = spec(false, &[1, 2, 8]);
        let text = s.render();
        assert!(text.contains("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=8\n"));
        assert!(text.contains("  --backend threads \\\n"));
        assert!(!text.contains("--overcommit"));
        assert_eq!(s.file_name(), "mc-pi-threads.sbatch");
    }

    #[test]
    fn requests_beyond_the_nodes_are_capped_and_say_so() {
        let mut t = spec(false, &[1, 2, 8]);
        t.fit_to_nodes(2);
        assert_eq!((t.ntasks, t.cpus_per_task), (1, 2));
        assert!(t.render().contains("# Note: the nodes have 2 CPUs"));
        let mut m = spec(true, &[1, 2, 4]);
        m.fit_to_nodes(2);
        assert_eq!((m.ntasks, m.cpus_per_task), (2, 1));
        let text = m.render();
        assert!(text.contains("#SBATCH --ntasks=2\n"), "{text}");
        assert!(
            text.contains("  --workers 1,2,4 "),
            "the sweep stays: {text}"
        );
        assert!(
            text.contains("points above 2 ranks start with srun --overcommit"),
            "{text}"
        );
        let mut fits = spec(true, &[1, 2]);
        fits.fit_to_nodes(2);
        assert!(fits.ntasks == 2 && fits.notes.is_empty());
    }

    #[test]
    fn times_read_and_write_like_sbatch() {
        assert_eq!(format_time(3723), "01:02:03");
        assert_eq!(format_time(90_000), "1-01:00:00");
        assert_eq!(parse_time("10"), Ok(600));
        assert_eq!(parse_time("10:30"), Ok(630));
        assert_eq!(parse_time("01:00:00"), Ok(3600));
        assert_eq!(parse_time("2-00"), Ok(172_800));
        assert_eq!(parse_time("1-02:03"), Ok(93_780));
        assert!(parse_time("0").is_err());
        // No overflow, no sign, no space: an error, not a panic.
        for bad in [
            "99999999999999999-00",
            "1-99999999999999999",
            "+5",
            " 5",
            "5\n",
            "",
        ] {
            assert!(parse_time(bad).is_err(), "{bad:?}");
        }
        assert!(!parse_time("5\nx").expect_err("newline").contains('\n'));
        assert!(parse_time("1:2:3:4").is_err());
        assert!(
            parse_time("soon")
                .expect_err("not a time")
                .contains("`soon` is not a time limit")
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("samples=1e8"), "samples=1e8");
        assert_eq!(shell_word("name=a b"), "'name=a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        // Never more than one line, whatever the word holds.
        assert_eq!(shell_word("x\nrm -rf ~"), r"$'x\nrm -rf ~'");
        assert_eq!(shell_word("a'b\\\t"), r"$'a\'b\\\t'");
    }

    #[test]
    fn account_and_partition_names_are_what_slurm_allows() {
        for ok in ["proj_123", "a.b-c", "X"] {
            assert_eq!(check_account(ok), Ok(()));
            assert_eq!(check_partition(ok), Ok(()));
        }
        assert_eq!(check_partition("short,long"), Ok(()));
        assert!(check_account("short,long").is_err(), "one account");
        for bad in [
            "",
            "x\nrm -rf ~",
            "a b",
            "a;b",
            "$(id)",
            "a`b`",
            "debug,",
            ",x",
            "a'b",
        ] {
            let e = check_account(bad).expect_err(bad);
            assert!(e.starts_with("--account: `"), "{e}");
            assert!(!e.contains('\n'), "one line: {e}");
            assert!(e.contains("letters, digits, `_`, `-` and `.`"), "{e}");
            let e = check_partition(bad).expect_err(bad);
            assert!(e.starts_with("--partition: `"), "{e}");
            assert!(e.contains("separated by commas"), "{e}");
        }
        assert_eq!(
            check_account("x\nrm -rf ~").expect_err("newline"),
            "--account: `x\\nrm -rf ~` is not allowed; expected an account name of letters, digits, `_`, `-` and `.` only"
        );
    }

    /// Text from outside — the command line, a stored run's host, the path of the binary —
    /// never leaves its comment line or its quotes.
    #[test]
    fn outside_text_cannot_add_commands_to_the_script() {
        let mut s = spec(false, &[1, 2]);
        s.made_by = format!(
            "hpc-tutor slurm script mc-pi -o {}\n#          (hpc-tutor on host)",
            shell_word("x\nrm -rf ~")
        );
        s.time.basis = "by run r1 on evil\nrm -rf ~".into();
        s.notes.push("a note\r\ntouch /tmp/pwned".into());
        s.exe = "/opt/my tools/\"$(touch /tmp/pwned)\"/it's/hpc-tutor".into();
        let text = s.render();
        let first_command = text
            .lines()
            .position(|l| !l.starts_with('#') && !l.trim().is_empty())
            .expect("has commands");
        for line in text.lines().take(first_command) {
            assert!(
                line.starts_with('#') || line.is_empty(),
                "{line:?} in\n{text}"
            );
        }
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("rm ") || l.starts_with("touch "))
        );
        // The binary's path comes out of the quoting as it went in.
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("HPC_TUTOR") && !l.starts_with('#') && !l.contains("run"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -eu\n{}\nprintf %s \"$HPC_TUTOR\"",
                lines.join("\n")
            ))
            .env_remove("HPC_TUTOR")
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), s.exe);
    }

    #[test]
    fn a_partition_from_the_environment_must_be_a_name_too() {
        let mut system = crate::cluster::SystemInfo::detect();
        system.allocation = Some(crate::cluster::slurm::Allocation {
            partition: Some("debug\nrm -rf ~".into()),
            ..Default::default()
        });
        let s = JobSpec::new(
            "mc-pi",
            crate::experiment::Backend::Threads,
            vec![1],
            (1, 0),
            BTreeMap::new(),
            1,
            &system,
            "hpc-tutor",
            "hpc-tutor".into(),
        );
        assert_eq!(s.partition, None);
        assert!(
            s.notes[0].contains("is not a partition name"),
            "{:?}",
            s.notes
        );
        assert!(!s.render().contains("\nrm -rf"));
    }

    fn point(workers: usize, median: f64) -> Record {
        Record::Point(PointRecord {
            workers,
            variant: None,
            reps: 3,
            median_s: median,
            min_s: median,
            max_s: median,
            ci95_s: [median, median],
            outliers: 0,
            speedup: None,
            efficiency: None,
            karp_flatt: None,
            oversubscribed: false,
            setup_s: 0.0,
            outputs: BTreeMap::new(),
            ranks: None,
            threads: None,
            other_busy: None,
            other_runs: 0,
            inner_runs: 1,
            hosts: Vec::new(),
        })
    }

    fn sample(workers: usize, seconds: f64) -> Record {
        Record::Sample(SampleRecord {
            workers,
            variant: None,
            rep: 0,
            warmup: false,
            seconds,
            inner_runs: 1,
        })
    }

    #[test]
    fn estimates_come_from_the_measured_points() {
        // Measured: 1 worker 2 s, 2 workers 1 s, 3 samples each (9 s), 10 s wall in all:
        // 0.5 s overhead per point.
        let mut records = vec![point(1, 2.0), point(2, 1.0)];
        records.extend((0..3).map(|_| sample(1, 2.0)));
        records.extend((0..3).map(|_| sample(2, 1.0)));
        records.push(Record::End(EndRecord {
            status: Status::Ok,
            elapsed_s: 10.0,
            output: Vec::new(),
            message: None,
        }));
        // New sweep 1,2,4 with 6 runs a point; 4 workers use the 2-worker time (an upper
        // bound for strong scaling): 6·2 + 6·1 + 6·1 + 3·0.5 = 25.5 s.
        let e = estimate_seconds(&records, &spec(false, &[1, 2, 4]), false).expect("points");
        assert!((e - 25.5).abs() < 1e-9, "{e}");
        // Weak scaling: 4 workers take twice the 2-worker time: 6·2 + 6·1 + 6·2 + 1.5.
        let w = estimate_seconds(&records, &spec(false, &[1, 2, 4]), true).expect("points");
        assert!((w - 31.5).abs() < 1e-9, "{w}");
        assert_eq!(estimate_seconds(&[], &spec(false, &[1]), false), None);
        assert_eq!(limit_for(25.5), 300, "at least five minutes");
        assert_eq!(
            limit_for(400.0),
            960,
            "2 × 400 + 120 = 920 s, rounded up to 16 min"
        );
    }
}
