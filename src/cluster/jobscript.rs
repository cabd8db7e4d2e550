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
    /// Ranks (`true`) or threads.
    pub mpi: bool,
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
        mpi: bool,
        workers: Vec<usize>,
        (reps, warmup): (usize, usize),
        params: BTreeMap<String, String>,
        threads_per_rank: usize,
        system: &super::SystemInfo,
        exe: &str,
        made_by: String,
    ) -> Self {
        let (ntasks, cpus_per_task) = Self::resources(mpi, &workers, threads_per_rank);
        JobSpec {
            experiment: experiment.to_owned(),
            mpi,
            workers,
            reps,
            warmup,
            params,
            threads_per_rank,
            nodes: 1,
            partition: system.allocation.as_ref().and_then(|a| a.partition.clone()),
            account: None,
            time: TimeLimit {
                seconds: 0,
                basis: String::new(),
            },
            exe: exe.to_owned(),
            ntasks,
            cpus_per_task,
            notes: Vec::new(),
            made_by,
        }
    }

    /// `mpi` or `threads`.
    pub fn backend(&self) -> &'static str {
        if self.mpi { "mpi" } else { "threads" }
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
        if !self.mpi && self.cpus_per_task > cpn {
            self.notes.push(format!(
                "the nodes have {cpn} CPUs: the job asks for {cpn}, and points above {cpn} threads run oversubscribed"
            ));
            self.cpus_per_task = cpn;
        }
        let total = cpn * self.nodes.max(1);
        let cpt = self.cpus_per_task.max(1);
        if self.mpi && self.ntasks * cpt > total {
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
        let unit = if self.mpi {
            if self.threads_per_rank > 1 {
                format!("MPI ranks × {} threads", self.threads_per_rank)
            } else {
                "MPI ranks".to_owned()
            }
        } else {
            "threads".to_owned()
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
        let _ = writeln!(s, "# Made by: {}", self.made_by);
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
        let _ = writeln!(s, "# --time: {}", self.time.basis);
        for note in &self.notes {
            let _ = writeln!(s, "# Note: {note}");
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
        let _ = writeln!(s, "HPC_TUTOR=\"${{HPC_TUTOR:-{}}}\"", self.exe);
        let _ = writeln!(s, "RESULTS_DIR=\"${{RESULTS_DIR:-$PWD/results}}\"");
        let _ = writeln!(s, "mkdir -p \"$RESULTS_DIR\"");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "echo \"job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: {} {}\"",
            self.experiment,
            self.backend()
        );
        let _ = writeln!(s, "\"$HPC_TUTOR\" run {} \\", self.experiment);
        if self.mpi {
            let _ = writeln!(s, "  --backend mpi --launcher srun \\");
        } else {
            let _ = writeln!(s, "  --backend threads \\");
        }
        let _ = writeln!(
            s,
            "  --workers {} --reps {} --warmup {} \\",
            list(&self.workers),
            self.reps,
            self.warmup
        );
        for (k, v) in &self.params {
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
            "`{text}` is not a time limit; expected MM, MM:SS, HH:MM:SS or D-HH:MM:SS, from 1 minute to 365 days"
        )
    };
    let num = |s: &str| s.parse::<u64>().map_err(|_| bad());
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

/// A word safe to paste into a shell command: as is when it has only safe characters,
/// else in single quotes.
pub fn shell_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._,:/=+-@%".contains(c))
    {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
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
            mpi,
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
        })
    }

    fn sample(workers: usize, seconds: f64) -> Record {
        Record::Sample(SampleRecord {
            workers,
            variant: None,
            rep: 0,
            warmup: false,
            seconds,
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
