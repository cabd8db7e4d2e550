//! Whether a measurement shared its CPUs: how busy the CPUs a run may use were with work
//! other than the run's own while each point was measured, and which other `hpc-tutor run`s
//! were going on the same host.
//!
//! - **Other work**: `/proc/stat` gives every CPU's busy time; only the CPUs of this
//!   process's affinity mask count, so jobs on other cores of a shared node do not. The
//!   run's own CPU time — this process, its threads, and every process below it (the MPI
//!   launcher and its ranks), alive or already reaped — is subtracted. What is left, over
//!   the wall time × CPUs, is the share other programs took. Steal time (another virtual
//!   machine on the same host) counts as other work. Both counters tick at `USER_HZ`
//!   (10 ms), so a point of a tenth of a second or less is too short to tell.
//! - **Other runs**: every `hpc-tutor run` registers itself as a small file in the data
//!   folder (`active/HOST-PID.json`) and removes it when it ends; a file whose process is
//!   gone is stale and removed. Only runs on the same host count (a data folder on a
//!   cluster's shared home holds every node's).
//!
//! Reading both costs a few hundred microseconds per point: nothing against a point.

use std::path::{Path, PathBuf};

/// Other work above this share of the CPUs makes a point *disturbed*: flagged in tables,
/// charts and cards, and left out of the fit's trust.
pub const DISTURBED: f64 = 0.25;

/// A window shorter than this many ticks per CPU (of `USER_HZ`, 10 ms) says nothing.
const MIN_TICKS_PER_CPU: u64 = 10;

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuSnapshot {
    /// Busy ticks of the CPUs in the affinity mask (user, nice, system, irq, softirq,
    /// steal).
    busy_ticks: u64,
    /// All ticks of those CPUs.
    total_ticks: u64,
    /// How many CPUs those are.
    cpus: u64,
    /// CPU ticks used by this process and everything below it.
    own_ticks: u64,
}

impl CpuSnapshot {
    /// Reads the counters now, with `own_ticks` the CPU ticks of the run's own processes;
    /// `None` where `/proc/stat` cannot be read.
    fn take(own_ticks: u64) -> Option<Self> {
        let (busy_ticks, total_ticks, cpus) = mask_ticks()?;
        Some(Self {
            busy_ticks,
            total_ticks,
            cpus,
            own_ticks,
        })
    }

    /// The share of the CPUs (0 to 1) that work other than this process tree's used
    /// between `self` and `later`; `None` when the window is too short to tell.
    pub fn other_busy_until(&self, later: &CpuSnapshot) -> Option<f64> {
        let total = later.total_ticks.checked_sub(self.total_ticks)?;
        if self.cpus == 0 || total < MIN_TICKS_PER_CPU * self.cpus {
            return None;
        }
        let busy = later.busy_ticks.saturating_sub(self.busy_ticks);
        let own = later.own_ticks.saturating_sub(self.own_ticks);
        Some((busy.saturating_sub(own) as f64 / total as f64).clamp(0.0, 1.0))
    }
}

/// Busy and total ticks of the CPUs in this process's affinity mask, and their count.
pub(crate) fn mask_ticks() -> Option<(u64, u64, u64)> {
    let mask = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok();
    let ours = |cpu: usize| mask.as_ref().is_none_or(|m| m.is_set(cpu).unwrap_or(false));
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let (mut busy, mut total, mut cpus) = (0u64, 0u64, 0u64);
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let Some(Ok(cpu)) = fields.next().map(str::parse::<usize>) else {
            continue; // the aggregate "cpu" line
        };
        if !ours(cpu) {
            continue;
        }
        let v: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal (guest time is inside user).
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        let all: u64 = v.iter().take(8).sum();
        busy += all.saturating_sub(idle);
        total += all;
        cpus += 1;
    }
    (cpus > 0).then_some((busy, total, cpus))
}

/// `utime + stime + cutime + cstime` of `/proc/PID/stat`, in ticks: the process's own CPU
/// time and that of its children it has reaped; `None` when the process is gone.
fn process_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rfind(')').map(|i| &stat[i + 1..])?;
    // After the command: state, ppid, … utime is the 12th field from there.
    Some(
        after
            .split_whitespace()
            .skip(11)
            .take(4)
            .filter_map(|f| f.parse::<u64>().ok())
            .sum(),
    )
}

/// Watches what else used the CPUs while each point of a run was measured.
#[derive(Debug, Default)]
pub struct Watch {
    /// This run's entry among the active runs, if it could register.
    registration: Option<Registration>,
    /// Whether the run's work is done by processes of its own (MPI).
    children: bool,
    /// The processes below this one, as last found: a walk over `/proc` (about 1.2 ms) is
    /// needed only when one of them has gone (a new launch).
    tree: Vec<i32>,
    /// Other work cannot be told from the run's own: its work runs in processes outside
    /// its tree (ranks started by `srun` run under `slurmstepd`), so `other_busy` is not
    /// recorded rather than recorded wrong.
    blind: bool,
}

/// A point being watched: the counters at its start.
#[derive(Debug, Clone)]
pub struct PointWatch {
    start: Option<CpuSnapshot>,
    /// When the point started, in milliseconds since 1970.
    start_ms: u64,
}

impl Watch {
    /// A watch that knows of other runs through `registration`; `children`: the run's work
    /// is done by processes it starts (MPI launchers and ranks), whose CPU time is its own
    /// too.
    pub fn new(registration: Option<Registration>, children: bool) -> Self {
        Self {
            registration,
            children,
            tree: Vec::new(),
            blind: false,
        }
    }

    /// The same watch, recording no share of other work (see [`Watch::blind`]): for runs
    /// whose work runs outside their process tree. Other `hpc-tutor run`s are still seen.
    pub fn without_other_work(mut self) -> Self {
        self.blind = true;
        self
    }

    /// CPU ticks of this process and, for runs with children, every process below it,
    /// alive or reaped.
    fn own_ticks(&mut self) -> u64 {
        let me = std::process::id() as i32;
        let mine = process_ticks(me).unwrap_or(0);
        if !self.children {
            return mine;
        }
        let cached: Option<u64> = (!self.tree.is_empty())
            .then(|| self.tree.iter().map(|&p| process_ticks(p)).sum())
            .flatten();
        if let Some(t) = cached {
            return mine + t;
        }
        self.tree = crate::backend::launch::descendants(me);
        // Read again after the walk: a child reaped meanwhile is in our own count now.
        process_ticks(me).unwrap_or(mine)
            + self
                .tree
                .iter()
                .filter_map(|&p| process_ticks(p))
                .sum::<u64>()
    }

    /// The other runs on this host now.
    pub fn other_runs(&self) -> Vec<ActiveRun> {
        self.registration
            .as_ref()
            .map(Registration::others)
            .unwrap_or_default()
    }

    /// Starts watching a point.
    pub fn begin(&mut self) -> PointWatch {
        let start = if self.blind {
            None
        } else {
            let own = self.own_ticks();
            CpuSnapshot::take(own)
        };
        PointWatch {
            start,
            start_ms: now_ms(),
        }
    }

    /// Ends watching a point: the share of the CPUs other work used meanwhile, and how
    /// many other runs were going on at some time during it.
    pub fn end(&mut self, point: &PointWatch) -> (Option<f64>, usize) {
        let busy = point.start.and_then(|a| {
            let own = self.own_ticks();
            CpuSnapshot::take(own).and_then(|b| a.other_busy_until(&b))
        });
        let runs = self
            .registration
            .as_ref()
            .map_or(0, |r| r.since(point.start_ms).len());
        (busy, runs)
    }
}

/// Another `hpc-tutor run` on this host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActiveRun {
    /// Its process id.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
    /// Its experiment.
    pub experiment: String,
    /// When it started, in milliseconds since 1970.
    #[serde(default)]
    pub started_ms: u64,
    /// When it ended; `None` while it runs. An ended run's entry stays for
    /// [`KEEP_ENDED_MS`], so that a point that began before it ended still counts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<u64>,
}

/// How long the entry of a run that ended is kept.
const KEEP_ENDED_MS: u64 = 10 * 60 * 1000;

/// Milliseconds since 1970.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// This run's entry among the active runs; marked ended when dropped.
#[derive(Debug)]
pub struct Registration {
    dir: PathBuf,
    path: PathBuf,
    host: String,
    me: ActiveRun,
}

impl Registration {
    /// Registers this process as a run of `experiment` in `data_dir/active/`. Best effort:
    /// `None` when the folder cannot be written (the run goes on, unaware of others).
    pub fn register(data_dir: &Path, host: &str, experiment: &str) -> Option<Self> {
        let dir = data_dir.join("active");
        std::fs::create_dir_all(&dir).ok()?;
        let me = ActiveRun {
            pid: std::process::id(),
            host: host.to_owned(),
            experiment: experiment.to_owned(),
            started_ms: now_ms(),
            ended_ms: None,
        };
        let path = dir.join(file_name(host, me.pid));
        let text = serde_json::to_vec(&me).ok()?;
        crate::fsio::write(&path, &text).ok()?;
        Some(Self {
            dir,
            path,
            host: host.to_owned(),
            me,
        })
    }

    /// The other runs on this host going on now.
    pub fn others(&self) -> Vec<ActiveRun> {
        self.entries()
            .into_iter()
            .filter(|r| r.ended_ms.is_none())
            .collect()
    }

    /// The other runs on this host that were going on at some time since `since_ms`
    /// (milliseconds since 1970): running now, or ended since then.
    pub fn since(&self, since_ms: u64) -> Vec<ActiveRun> {
        self.entries()
            .into_iter()
            .filter(|r| r.ended_ms.is_none_or(|e| e >= since_ms))
            .collect()
    }

    /// Every other run's entry on this host: running, or ended less than
    /// [`KEEP_ENDED_MS`] ago. Entries of processes that died without ending (killed) and
    /// old ones are removed.
    fn entries(&self) -> Vec<ActiveRun> {
        let now = now_ms();
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            if path == self.path || path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Some(run) = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<ActiveRun>(&b).ok())
            else {
                continue;
            };
            if run.host != self.host {
                continue; // another node's, on a shared home
            }
            let keep = match run.ended_ms {
                Some(e) => now.saturating_sub(e) < KEEP_ENDED_MS,
                None => alive(run.pid),
            };
            if keep {
                out.push(run);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
        out.sort_by_key(|r| r.pid);
        out
    }
}

impl Drop for Registration {
    /// The run has ended: its entry says when, for the points of others that overlapped it.
    fn drop(&mut self) {
        self.me.ended_ms = Some(now_ms());
        match serde_json::to_vec(&self.me) {
            Ok(text) if crate::fsio::write(&self.path, &text).is_ok() => {}
            _ => {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

fn file_name(host: &str, pid: u32) -> String {
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{pid}.json")
}

/// Whether process `pid` exists (and is not a zombie) on this host.
fn alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(crate::backend::launch::alive)
}

/// What shared a point's CPUs, e.g. `43 % busy with other work; another hpc-tutor run at
/// the same time`; `None` for an undisturbed point.
pub fn shared_detail(other_busy: Option<f64>, other_runs: usize) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(b) = other_busy.filter(|b| *b > DISTURBED) {
        parts.push(format!("{:.0} % busy with other work", b * 100.0));
    }
    match other_runs {
        0 => {}
        1 => parts.push("another hpc-tutor run at the same time".to_owned()),
        n => parts.push(format!("{n} other hpc-tutor runs at the same time")),
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The per-point warning, e.g. `shared its CPUs: 43 % busy with other work; another
/// hpc-tutor run at the same time`; `None` for an undisturbed point.
pub fn point_warning(other_busy: Option<f64>, other_runs: usize) -> Option<String> {
    shared_detail(other_busy, other_runs).map(|d| format!("shared its CPUs: {d}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(busy: u64, total: u64, own: u64) -> CpuSnapshot {
        CpuSnapshot {
            busy_ticks: busy,
            total_ticks: total,
            cpus: 2,
            own_ticks: own,
        }
    }

    #[test]
    fn other_work_is_what_is_busy_beyond_our_own() {
        // 1 s on 2 CPUs: 200 ticks; 150 busy, 100 of them ours.
        let a = snap(1000, 10_000, 500);
        assert_eq!(a.other_busy_until(&snap(1150, 10_200, 600)), Some(0.25));
        // All busy time ours: nothing else.
        assert_eq!(a.other_busy_until(&snap(1100, 10_200, 600)), Some(0.0));
        // Too short a window (10 ticks on 2 CPUs) says nothing.
        assert_eq!(a.other_busy_until(&snap(1010, 10_010, 500)), None);
    }

    #[test]
    fn the_cpu_time_of_our_children_is_our_own_only_for_runs_with_children() {
        // A child spinning for half a second, alive while it is counted.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "end=$(($(date +%s%N) + 500000000)); while [ $(date +%s%N) -lt $end ]; do :; done; sleep 5"])
            .spawn()
            .expect("sh");
        let mut with = Watch::new(None, true);
        let mut without = Watch::new(None, false);
        let (w0, o0) = (with.own_ticks(), without.own_ticks());
        std::thread::sleep(std::time::Duration::from_millis(700));
        let (w1, o1) = (with.own_ticks(), without.own_ticks());
        let _ = child.kill();
        let _ = child.wait();
        // Both count this process (and the other tests' threads in it); only one counts the
        // child.
        let child_ticks = (w1 - w0).saturating_sub(o1 - o0);
        assert!(
            child_ticks >= 10,
            "the child's ticks are the run's: {child_ticks}"
        );
    }

    #[test]
    fn runs_see_each_other_on_one_host_and_stale_entries_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let me = Registration::register(dir.path(), "node1", "mc-pi").expect("registered");
        assert!(me.others().is_empty());
        // Another live process on this host (our parent, the test harness or a shell).
        let parent = nix::unistd::getppid().as_raw() as u32;
        let other = ActiveRun {
            pid: parent,
            host: "node1".into(),
            experiment: "amdahl".into(),
            started_ms: now_ms(),
            ended_ms: None,
        };
        let write = |run: &ActiveRun| {
            std::fs::write(
                dir.path()
                    .join("active")
                    .join(file_name(&run.host, run.pid)),
                serde_json::to_vec(run).expect("json"),
            )
            .expect("write");
        };
        write(&other);
        // The same pid on another node does not count; a dead one is removed.
        write(&ActiveRun {
            host: "node2".into(),
            ..other.clone()
        });
        let dead = ActiveRun {
            pid: 999_999_999,
            ..other.clone()
        };
        write(&dead);
        assert_eq!(me.others(), std::slice::from_ref(&other));
        assert!(
            !dir.path()
                .join("active")
                .join(file_name("node1", dead.pid))
                .exists()
        );
        let mine = dir
            .path()
            .join("active")
            .join(file_name("node1", std::process::id()));
        assert!(mine.exists());
        // A run that ended still counts for a point that began before it ended, not for
        // one that began after.
        let ended = ActiveRun {
            pid: 999_999_998,
            ended_ms: Some(now_ms() - 1000),
            ..other.clone()
        };
        write(&ended);
        assert_eq!(me.others(), std::slice::from_ref(&other), "running now");
        assert_eq!(me.since(now_ms() - 5000).len(), 2, "ended a second ago");
        assert_eq!(me.since(now_ms()).len(), 1);
        drop(me);
        let text = std::fs::read_to_string(&mine).expect("kept");
        let entry: ActiveRun = serde_json::from_str(&text).expect("json");
        assert!(
            entry.ended_ms.is_some(),
            "marked ended when the run ends: {text}"
        );
    }

    #[test]
    fn warnings_name_what_shared_the_cpus() {
        assert_eq!(point_warning(Some(0.1), 0), None);
        assert_eq!(
            point_warning(Some(0.43), 1).as_deref(),
            Some(
                "shared its CPUs: 43 % busy with other work; another hpc-tutor run at the same time"
            )
        );
        assert_eq!(
            point_warning(None, 2).as_deref(),
            Some("shared its CPUs: 2 other hpc-tutor runs at the same time")
        );
    }
}

#[cfg(test)]
mod cost {
    /// What watching one point costs (run with `--ignored --nocapture`): a figure for the
    /// README, not a test of speed.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn watching_one_point_costs() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A child, as an MPI run has (its launcher), so the walk over /proc is cached.
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .expect("sleep");
        for children in [false, true] {
            let mut watch = super::Watch::new(
                super::Registration::register(dir.path(), "h", "x"),
                children,
            );
            let n = 200;
            let start = std::time::Instant::now();
            for _ in 0..n {
                let p = watch.begin();
                std::hint::black_box(watch.end(&p));
            }
            eprintln!(
                "begin + end of one point (children: {children}): {:.0} µs",
                start.elapsed().as_secs_f64() / f64::from(n) * 1e6
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
