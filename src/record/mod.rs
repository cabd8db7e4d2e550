//! The results format: JSON Lines, one record per line, each with `"v": 1` and a `"kind"`.
//!
//! This one definition is used by everything that writes or reads results: `hpc-tutor run`,
//! the TUI (which reads a child run's output line by line), the results store, batch jobs
//! and, later, export and demo replay. `docs/results-format.md` describes it for users.

pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format version written in every record's `v` field.
pub const VERSION: u32 = 1;

/// One line of a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The first line: what is run, where, and with which parameters.
    Run(RunRecord),
    /// One timed repetition of one point.
    Sample(SampleRecord),
    /// The statistics of one point (one worker count, one variant) once its repetitions are done.
    Point(PointRecord),
    /// A model fitted to the points: Amdahl (strong scaling) or Gustafson (weak scaling).
    Fit(FitRecord),
    /// Why the workers stopped making progress: who holds what and waits for whom. Written
    /// just before an `end` record with status `deadlock`.
    Diagnosis(DiagnosisRecord),
    /// The last line: how the run ended.
    End(EndRecord),
}

/// What is run, where, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Unique id: start time and process id, e.g. `20261122-071502-4242`.
    pub run_id: String,
    /// Experiment name from the registry.
    pub experiment: String,
    /// `threads`, `processes` (a program's own) or `mpi`.
    pub backend: String,
    /// Every parameter with the value used (defaults filled in), as given on the command line.
    pub params: BTreeMap<String, String>,
    /// Worker counts of the sweep, in order.
    pub workers: Vec<usize>,
    /// Timed repetitions per point.
    pub reps: usize,
    /// Untimed warm-up runs per point.
    pub warmup: usize,
    /// Where it ran.
    pub env: Environment,
    /// Start time, RFC 3339 with offset.
    pub started_at: String,
    /// For a run merged from several (`hpc-tutor results merge`, e.g. the tasks of a job
    /// array): the run ids it was made from, in start order. Empty for a measured run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

impl RunRecord {
    /// Whether this is a run of a lesson panel's entry `entry`
    /// ([`crate::lesson::Lesson::runnables`]): of the experiment of that name, or for
    /// `program:ID` a program run named ID.
    pub fn is_run_of(&self, entry: &str) -> bool {
        match entry.strip_prefix("program:") {
            Some(id) => {
                self.experiment == "program" && self.params.get("name").is_some_and(|n| n == id)
            }
            None => self.experiment == entry,
        }
    }

    /// How charts and legends name what ran: the experiment, or for a program run
    /// (`run --exec`) its `name`, else the file it runs (`pi.py` of `python3 pi.py 100`).
    pub fn display_name(&self) -> String {
        if self.experiment != "program" {
            return self.experiment.clone();
        }
        if let Some(n) = self.params.get("name").filter(|n| !n.is_empty()) {
            return n.clone();
        }
        let command = self.params.get("command").map_or("", String::as_str);
        let words = shell_words::split(command).unwrap_or_default();
        let base = |w: &String| w.rsplit('/').next().unwrap_or(w).to_owned();
        words
            .iter()
            .skip(1)
            .find(|w| !w.starts_with('-') && (w.contains('/') || w.contains('.')))
            .or(words.first())
            .map_or_else(|| "program".to_owned(), base)
    }
}

/// The environment a result was measured in; a result without it cannot be trusted later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Host name.
    pub host: String,
    /// CPU model from `/proc/cpuinfo`, or `unknown`.
    pub cpu_model: String,
    /// CPUs this process may use (affinity mask and cgroup quota).
    pub cpus_available: usize,
    /// `SLURM_JOB_ID` when inside an allocation.
    pub slurm_job_id: Option<String>,
    /// hpc-tutor version.
    pub version: String,
    /// Git commit the binary was built from, when known.
    pub git_commit: Option<String>,
    /// How busy this process's CPUs were just before the run (0 idle .. 1 fully used by
    /// other programs), measured over a short window. High values mean other programs
    /// competed with the run and speedups are lower than the hardware allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_before: Option<f64>,
    /// The MPI library's version and eager limits, for MPI runs about messages (where the
    /// library's transport decides what is measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mpi: Option<crate::backend::library::MpiLibrary>,
    /// The CPU's data caches, for runs about memory (`stream`), which the charts mark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<CacheLevel>,
    /// Every node of the SLURM allocation the run had, when it had more than one (MPI ranks
    /// may run on any of them; each point names the host of each rank).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

/// One level of the CPU's data caches, as `/sys/devices/system/cpu/cpu0/cache` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLevel {
    /// 1, 2, 3…
    pub level: u8,
    /// Bytes of one cache of this level.
    pub bytes: u64,
    /// How many CPUs share one such cache.
    pub shared_by: usize,
}

impl CacheLevel {
    /// The data and unified caches of CPU 0, smallest level first; empty where the system
    /// does not say.
    pub fn of_this_machine() -> Vec<CacheLevel> {
        Self::read(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache"))
    }

    /// The caches described under `dir` (`index0`, `index1`, …).
    pub fn read(dir: &std::path::Path) -> Vec<CacheLevel> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<CacheLevel> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
            .filter_map(|e| {
                let read = |f: &str| std::fs::read_to_string(e.path().join(f)).ok();
                let kind = read("type")?;
                if kind.trim() == "Instruction" {
                    return None;
                }
                let level = read("level")?.trim().parse().ok()?;
                let bytes = parse_cache_size(read("size")?.trim())?;
                let shared_by = read("shared_cpu_list")
                    .and_then(|l| crate::cluster::slurm::parse_cpu_list(&l))
                    .map_or(1, |c| c.len().max(1));
                Some(CacheLevel {
                    level,
                    bytes,
                    shared_by,
                })
            })
            .collect();
        out.sort_by_key(|c| c.level);
        out.dedup_by_key(|c| c.level);
        out
    }

    /// `L2 512 KiB`.
    pub fn label(&self) -> String {
        format!(
            "L{} {}",
            self.level,
            crate::chart::sizes::format_bytes(self.bytes)
        )
    }
}

/// `32K`, `16384K`, `1M` (as `/sys` writes cache sizes) in bytes.
fn parse_cache_size(text: &str) -> Option<u64> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().ok()?;
    Some(match unit.trim() {
        "" => n,
        "K" | "KB" | "KiB" => n * 1024,
        "M" | "MB" | "MiB" => n * 1024 * 1024,
        "G" | "GB" | "GiB" => n * 1024 * 1024 * 1024,
        _ => return None,
    })
}

/// One timed (or warm-up) repetition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// Worker count of the point.
    pub workers: usize,
    /// Variant of the experiment (e.g. `static` or `dynamic`), for experiments that compare variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Repetition number, from 0; warm-ups are numbered separately.
    pub rep: usize,
    /// Whether this was a warm-up run (not used in the statistics).
    pub warmup: bool,
    /// Kernel time in seconds (setup excluded): per kernel run, when the sample ran the
    /// kernel several times (`inner_runs`).
    pub seconds: f64,
    /// How many times the kernel ran back to back in this sample: more than 1 when one run
    /// is shorter than [`crate::measure::protocol::SAMPLE_FLOOR_S`], so that scheduler
    /// noise does not decide the time.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub inner_runs: usize,
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// Statistics of one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    /// Worker count.
    pub workers: usize,
    /// Variant, for experiments that compare variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Timed repetitions the statistics use.
    pub reps: usize,
    /// Median kernel time.
    pub median_s: f64,
    /// Fastest repetition.
    pub min_s: f64,
    /// Slowest repetition.
    pub max_s: f64,
    /// 95 % confidence interval of the median, `[low, high]` (bootstrap percentile).
    pub ci95_s: [f64; 2],
    /// Repetitions flagged as outliers (modified z-score above 3.5).
    pub outliers: usize,
    /// T(1) / T(N) from medians, against the 1-worker point of the same variant. For weak
    /// scaling this is the scaled speedup N · T(1) / T(N).
    pub speedup: Option<f64>,
    /// speedup / N.
    pub efficiency: Option<f64>,
    /// Karp–Flatt experimentally determined serial fraction, for N > 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub karp_flatt: Option<f64>,
    /// More workers than CPUs available: workers take turns on the CPUs.
    pub oversubscribed: bool,
    /// Time to build the worker pool, measured outside the kernel time.
    pub setup_s: f64,
    /// The kernel's own outputs of the last repetition (e.g. `estimate`, `abs_error`), and
    /// values derived from the point's median (e.g. pingpong's `latency_us`).
    #[serde(default)]
    pub outputs: BTreeMap<String, f64>,
    /// MPI ranks of the point (the same as `workers`); absent for the thread backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranks: Option<usize>,
    /// Threads per MPI rank: 1 for plain MPI, the `threads` parameter for `hybrid`; absent
    /// for the thread backend. `oversubscribed` counts ranks × threads against the CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The share of the run's CPUs (0 to 1) that other programs used while this point was
    /// measured (the run's own CPU time subtracted); absent where it could not be told (a
    /// point shorter than a tenth of a second, no `/proc`). See [`crate::measure::contention`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_busy: Option<f64>,
    /// How many other `hpc-tutor run`s were going on the same host during the point.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_runs: usize,
    /// Kernel runs per sample (see [`SampleRecord::inner_runs`]); the times are per run.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub inner_runs: usize,
    /// The host of each MPI rank, by rank, as the ranks said; absent for threads (and for
    /// results written before hosts were recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl PointRecord {
    /// Why this point's times are not the machine's alone, e.g. `shared its CPUs: 43 % busy
    /// with other work`; `None` for a point measured undisturbed (as far as is known).
    pub fn disturbance(&self) -> Option<String> {
        crate::measure::contention::point_warning(self.other_busy, self.other_runs)
    }

    /// What shared this point's CPUs, without the `shared its CPUs:` of
    /// [`PointRecord::disturbance`], for sentences that say that themselves.
    pub fn disturbance_detail(&self) -> Option<String> {
        crate::measure::contention::shared_detail(self.other_busy, self.other_runs)
    }
}

/// Which law a fit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Strong scaling: S(N) = 1 / (s + (1 − s) / N).
    Amdahl,
    /// Weak scaling: S(N) = N − s · (N − 1).
    Gustafson,
    /// The cost of one message of n bytes, T(n) = α + n / β (latency α, bandwidth β),
    /// fitted to pingpong's one-way times. Not a scaling law: its fit record has
    /// `latency_s` and `bandwidth_bytes_s`, and `serial_fraction` 0.
    LatencyBandwidth,
}

impl Model {
    /// Whether this is a scaling law of speedup against workers (Amdahl, Gustafson).
    pub fn is_scaling_law(self) -> bool {
        matches!(self, Model::Amdahl | Model::Gustafson)
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// The law fitted.
    pub model: Model,
    /// Variant the fit is for, for experiments that compare variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The fitted serial fraction s; 0 for `latency_bandwidth`, which has none.
    pub serial_fraction: f64,
    /// Root-mean-square difference between measured and modelled speedup; for
    /// `latency_bandwidth`, between measured and modelled times relative to the measured
    /// ones (0.05 = 5 %).
    pub rmse: f64,
    /// Coefficient of determination of the modelled values (1 = perfect).
    pub r2: Option<f64>,
    /// How many points the fit used.
    pub points: usize,
    /// `latency_bandwidth`: the latency α, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
    /// `latency_bandwidth`: the bandwidth β, bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_bytes_s: Option<f64>,
    /// Whether the fitted value says something about the program: `false` when s sits at
    /// a bound of 0..=1, the law does not match the points (r² < 0.5), or points it was
    /// fitted to shared their CPUs with other work. Charts draw only meaningful fits.
    /// Records from before this field read as `true` (charts still check the bounds and
    /// r² themselves).
    #[serde(default = "yes")]
    pub meaningful: bool,
    /// Why the fit is not meaningful, or what to doubt in it (e.g. a fitted s far from the
    /// configured one, with its likely cause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
}

fn yes() -> bool {
    true
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every point measured.
    Ok,
    /// A kernel or the process failed.
    Failed,
    /// Stopped by the user.
    Cancelled,
    /// Its deadline passed.
    Timeout,
    /// A deadlock was detected.
    Deadlock,
}

impl Status {
    /// The exit status of `hpc-tutor run` for this ending.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Failed | Status::Timeout => 1,
            Status::Deadlock => 3,
            Status::Cancelled => 130,
        }
    }
}

/// The last record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRecord {
    /// How it ended.
    pub status: Status,
    /// Wall time of the whole run, set-up included.
    pub elapsed_s: f64,
    /// Why, when it did not end `ok`; for a sweep that probes for deadlocks (`exchange`
    /// with `sweep=on`), what it found, e.g. the largest message size that completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last lines a program printed (`run --exec`), kept with the run; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
}

/// The wait-for state of workers that stopped making progress, and the cycle in it.
///
/// General enough for threads and locks (`who` = `thread 0`, `waits_for` = `B`) as well as
/// for MPI ranks (`who` = `rank 0`, `waits_for` = `recv from rank 1, 1048576 B, tag 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisRecord {
    /// Worker count of the run that got stuck.
    pub workers: usize,
    /// Variant of the experiment, for experiments that compare variants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// How long no worker had made progress when the watchdog gave up, in seconds.
    pub stalled_s: f64,
    /// One entry per worker that had not finished.
    pub waits: Vec<WaitRecord>,
    /// The workers of a cycle in the wait-for graph, in order (each waits for the next, the
    /// last for the first); empty when there is no cycle.
    #[serde(default)]
    pub cycle: Vec<String>,
    /// The whole state in one sentence, for people.
    pub message: String,
}

/// What one worker holds and waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRecord {
    /// The worker, e.g. `thread 0` or `rank 1`.
    pub who: String,
    /// Resources it holds, e.g. `["A"]`.
    #[serde(default)]
    pub holds: Vec<String>,
    /// What it is blocked on, e.g. `B`, or `recv from rank 1, 1048576 B, tag 0`; absent when
    /// it is not blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// The worker that must act before this one can go on (the holder of the lock it wants,
    /// the rank that must send); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// The last thing it did or tried, e.g. `lock B`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action: Option<String>,
    /// The host it runs on (an MPI rank's node); absent for threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl WaitRecord {
    /// `thread 0 holds A and waits for B (held by thread 1)`.
    pub fn describe(&self) -> String {
        let mut s = self.who.clone();
        if let Some(host) = &self.host {
            s.push_str(" on ");
            s.push_str(host);
        }
        if !self.holds.is_empty() {
            s.push_str(" holds ");
            s.push_str(&self.holds.join(", "));
        }
        if let Some(w) = &self.waits_for {
            s.push_str(if self.holds.is_empty() {
                " waits for "
            } else {
                " and waits for "
            });
            s.push_str(w);
            if let Some(h) = &self.held_by {
                s.push_str(&format!(" (held by {h})"));
            }
        } else if self.holds.is_empty() {
            s.push_str(" holds nothing and waits for nothing");
        }
        s
    }
}

impl DiagnosisRecord {
    /// A diagnosis of `waits`: finds the cycle and writes the message.
    pub fn new(workers: usize, stalled_s: f64, waits: Vec<WaitRecord>) -> Self {
        let cycle = find_cycle(&waits);
        let mut message = waits
            .iter()
            .map(WaitRecord::describe)
            .collect::<Vec<_>>()
            .join("; ");
        message.push_str(if cycle.is_empty() {
            " — no cycle found in who waits for whom"
        } else {
            " — a cycle"
        });
        Self {
            workers,
            variant: None,
            stalled_s,
            waits,
            cycle,
            message,
        }
    }
}

/// A cycle in the wait-for graph (an edge from `who` to `held_by`), starting from the first
/// worker on it in the order of `waits`; empty when there is none.
fn find_cycle(waits: &[WaitRecord]) -> Vec<String> {
    let next = |who: &str| {
        waits
            .iter()
            .find(|w| w.who == who)
            .and_then(|w| w.held_by.as_deref())
    };
    for start in waits {
        let mut path: Vec<&str> = vec![start.who.as_str()];
        while let Some(n) = path.last().and_then(|w| next(w)) {
            if let Some(i) = path.iter().position(|p| *p == n) {
                let cycle = &path[i..];
                // Rotate so the cycle starts at the worker listed first in `waits`.
                let first = (0..cycle.len())
                    .min_by_key(|&k| waits.iter().position(|w| w.who == cycle[k]))
                    .unwrap_or(0);
                return cycle[first..]
                    .iter()
                    .chain(&cycle[..first])
                    .map(|s| (*s).to_owned())
                    .collect();
            }
            path.push(n);
        }
    }
    Vec::new()
}

/// The envelope every line has: the version next to the record's own fields.
#[derive(Serialize, Deserialize)]
struct Line<R> {
    v: u32,
    #[serde(flatten)]
    record: R,
}

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not a record.
    #[error("not a results record: {0}")]
    Json(#[from] serde_json::Error),
    /// A record of a version this build does not read.
    #[error("results format version {0} is not supported (this hpc-tutor reads version {VERSION})")]
    Version(u32),
}

impl Record {
    /// The run record among one run's `records` (its first line, in a results file).
    pub fn run_in(records: &[Record]) -> Option<&RunRecord> {
        records.iter().find_map(|r| match r {
            Record::Run(run) => Some(run),
            _ => None,
        })
    }

    /// The record as one JSON line, without the newline.
    pub fn to_line(&self) -> String {
        // A record is plain data (strings, numbers, maps with string keys): serializing it
        // cannot fail. Non-finite floats become `null`, which the reader maps back.
        serde_json::to_string(&Line {
            v: VERSION,
            record: self,
        })
        .unwrap_or_else(|e| format!("{{\"v\":{VERSION},\"kind\":\"error\",\"message\":\"{e}\"}}"))
    }

    /// Reads one line.
    pub fn from_line(line: &str) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let Version { v } = serde_json::from_str(line)?;
        if v != VERSION {
            return Err(ParseError::Version(v));
        }
        let l: Line<Record> = serde_json::from_str(line)?;
        Ok(l.record)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_run() -> Vec<Record> {
        let env = Environment {
            host: "node01".into(),
            cpu_model: "Test CPU".into(),
            cpus_available: 2,
            slurm_job_id: None,
            version: "0.1.0".into(),
            git_commit: Some("abc1234".into()),
            busy_before: Some(0.02),
            mpi: None,
            caches: Vec::new(),
            hosts: Vec::new(),
        };
        vec![
            Record::Run(RunRecord {
                run_id: "r1".into(),
                experiment: "mc-pi".into(),
                backend: "threads".into(),
                params: [("samples".to_owned(), "1000".to_owned())].into(),
                workers: vec![1, 2],
                reps: 3,
                warmup: 1,
                env,
                started_at: "2026-11-22T07:00:00+00:00".into(),
                merged_from: Vec::new(),
            }),
            Record::Sample(SampleRecord {
                workers: 1,
                variant: None,
                rep: 0,
                warmup: false,
                seconds: 0.5,
                inner_runs: 1,
            }),
            Record::Point(PointRecord {
                workers: 2,
                variant: Some("static".into()),
                reps: 3,
                median_s: 0.26,
                min_s: 0.25,
                max_s: 0.3,
                ci95_s: [0.25, 0.3],
                outliers: 0,
                speedup: Some(1.92),
                efficiency: Some(0.96),
                karp_flatt: Some(0.04),
                oversubscribed: false,
                setup_s: 0.0001,
                outputs: [("estimate".to_owned(), 3.0)].into(),
                ranks: None,
                threads: None,
                other_busy: None,
                other_runs: 0,
                inner_runs: 1,
                hosts: Vec::new(),
            }),
            Record::Fit(FitRecord {
                model: Model::Amdahl,
                variant: None,
                serial_fraction: 0.04,
                rmse: 0.01,
                r2: Some(0.99),
                points: 2,
                latency_s: None,
                bandwidth_bytes_s: None,
                meaningful: true,
                caveat: None,
            }),
            Record::Fit(FitRecord {
                model: Model::LatencyBandwidth,
                variant: None,
                serial_fraction: 0.0,
                rmse: 0.05,
                r2: Some(0.999),
                points: 25,
                latency_s: Some(4e-7),
                bandwidth_bytes_s: Some(5e9),
                meaningful: true,
                caveat: None,
            }),
            Record::Diagnosis(two_cycle()),
            Record::End(EndRecord {
                status: Status::Ok,
                elapsed_s: 2.5,
                output: Vec::new(),
                message: None,
            }),
        ]
    }

    fn wait(who: &str, holds: &str, waits_for: &str, held_by: &str) -> WaitRecord {
        WaitRecord {
            who: who.into(),
            holds: vec![holds.into()],
            waits_for: Some(waits_for.into()),
            held_by: Some(held_by.into()),
            last_action: Some(format!("lock {waits_for}")),
            host: None,
        }
    }

    fn two_cycle() -> DiagnosisRecord {
        DiagnosisRecord::new(
            2,
            3.0,
            vec![
                wait("thread 0", "A", "B", "thread 1"),
                wait("thread 1", "B", "A", "thread 0"),
            ],
        )
    }

    #[test]
    fn a_diagnosis_finds_the_cycle_and_says_it_in_one_sentence() {
        let d = two_cycle();
        assert_eq!(d.cycle, ["thread 0", "thread 1"]);
        assert_eq!(
            d.message,
            "thread 0 holds A and waits for B (held by thread 1); \
             thread 1 holds B and waits for A (held by thread 0) — a cycle"
        );
        let line = Record::Diagnosis(d.clone()).to_line();
        assert!(
            line.starts_with(r#"{"v":1,"kind":"diagnosis","workers":2,"stalled_s":3.0,"waits":[{"who":"thread 0","holds":["A"],"waits_for":"B","held_by":"thread 1","last_action":"lock B"}"#),
            "{line}"
        );

        // Three ranks: 2 waits for 0, which waits for 1, which waits for 2. One waiter
        // outside the cycle; the cycle starts at the first worker listed that is on it.
        let mpi = DiagnosisRecord::new(
            4,
            1.0,
            vec![
                WaitRecord {
                    who: "rank 3".into(),
                    holds: vec![],
                    waits_for: Some("recv from rank 1, 8 B, tag 0".into()),
                    held_by: Some("rank 1".into()),
                    last_action: None,
                    host: None,
                },
                wait("rank 1", "x", "recv from rank 2", "rank 2"),
                wait("rank 2", "y", "recv from rank 0", "rank 0"),
                wait("rank 0", "z", "recv from rank 1", "rank 1"),
            ],
        );
        assert_eq!(mpi.cycle, ["rank 1", "rank 2", "rank 0"]);
        assert!(mpi.message.starts_with(
            "rank 3 waits for recv from rank 1, 8 B, tag 0 (held by rank 1); rank 1 holds x"
        ));

        // Waiting without a cycle (the holder is busy, not blocked).
        let chain = DiagnosisRecord::new(
            2,
            1.0,
            vec![
                wait("thread 1", "B", "A", "thread 0"),
                WaitRecord {
                    who: "thread 0".into(),
                    holds: vec!["A".into()],
                    waits_for: None,
                    held_by: None,
                    last_action: Some("sleep holding A".into()),
                    host: None,
                },
            ],
        );
        assert!(chain.cycle.is_empty());
        assert!(
            chain
                .message
                .ends_with("thread 0 holds A — no cycle found in who waits for whom")
        );
    }

    #[test]
    fn a_diagnosis_with_only_the_required_fields_reads() {
        // Optional fields may be missing.
        let line = r#"{"v":1,"kind":"diagnosis","workers":2,"stalled_s":1.5,"waits":[{"who":"rank 0","waits_for":"recv from rank 1"}],"message":"stuck"}"#;
        let Record::Diagnosis(d) = Record::from_line(line).expect("reads") else {
            panic!("a diagnosis")
        };
        assert_eq!(d.waits[0].who, "rank 0");
        assert!(d.waits[0].holds.is_empty() && d.cycle.is_empty());
        assert_eq!(d.variant, None);
    }

    #[test]
    fn round_trip_every_kind() {
        for r in sample_run() {
            let line = r.to_line();
            assert!(line.starts_with("{\"v\":1,\"kind\":"), "{line}");
            assert!(!line.contains('\n'));
            assert_eq!(Record::from_line(&line).expect("reads back"), r);
        }
    }

    #[test]
    fn other_versions_and_junk_are_refused() {
        let line = r#"{"v":2,"kind":"end","status":"ok","elapsed_s":1.0}"#;
        assert!(matches!(
            Record::from_line(line),
            Err(ParseError::Version(2))
        ));
        assert!(Record::from_line("not json").is_err());
        assert!(Record::from_line(r#"{"v":1,"kind":"nope"}"#).is_err());
    }
}
