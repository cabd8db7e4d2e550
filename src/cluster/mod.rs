//! What machine and allocation hpc-tutor runs in: host, usable CPUs, SLURM job, and the
//! advisor that compares a run's request with them.

pub mod advice;
pub mod jobscript;
pub mod slurm;

pub use slurm::{Allocation, Topology};

/// Facts about where the tutor runs, shown in the status bar and kept with results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// The host name.
    pub host: String,
    /// CPUs this process may use: the affinity mask and cgroup CPU quota both count, so
    /// inside `srun -c 2` this is 2 even on a 64-core node.
    pub cpus: usize,
    /// The SLURM job (and step) this process runs in, if any.
    pub allocation: Option<Allocation>,
    /// How the usable CPUs map to physical cores.
    pub topology: Topology,
}

impl SystemInfo {
    /// Reads the facts from the running system and environment.
    pub fn detect() -> Self {
        Self {
            host: host_name(),
            // `available_parallelism` honours sched_getaffinity and cgroup v1/v2 quotas on
            // Linux; it can only fail on exotic platforms, where one CPU is the safe answer.
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            allocation: Allocation::from_env(),
            topology: Topology::detect(),
        }
    }

    /// `SLURM_JOB_ID`, inside an allocation.
    pub fn slurm_job(&self) -> Option<&str> {
        self.allocation.as_ref().map(|a| a.job_id.as_str())
    }

    /// The advice for running `req` here (see [`advice::advise`]).
    pub fn advise(&self, req: &advice::Request) -> Vec<advice::Advice> {
        advice::advise(req, self.allocation.as_ref(), &self.topology, self.cpus)
    }
}

impl SystemInfo {
    /// The environment record kept with every result.
    pub fn environment(&self) -> crate::record::Environment {
        let commit = env!("HPC_TUTOR_GIT_COMMIT");
        crate::record::Environment {
            host: self.host.clone(),
            cpu_model: cpu_model(),
            cpus_available: self.cpus,
            slurm_job_id: self.slurm_job().map(str::to_owned),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: (!commit.is_empty()).then(|| commit.to_owned()),
            busy_before: None,
            mpi: None,
            caches: Vec::new(),
            hosts: self
                .allocation
                .as_ref()
                .map(Allocation::hosts)
                .unwrap_or_default(),
        }
    }
}

/// How busy the CPUs this process may use were during `window`, from 0 (idle) to 1 (every
/// one of them fully used by someone else). Reads `/proc/stat` before and after, counting
/// only the CPUs in the affinity mask, so other jobs on other cores of a shared node do not
/// count. `None` where `/proc/stat` cannot be read.
pub fn busy_fraction(window: std::time::Duration) -> Option<f64> {
    let (b0, t0, _) = crate::measure::contention::mask_ticks()?;
    std::thread::sleep(window);
    let (b1, t1, _) = crate::measure::contention::mask_ticks()?;
    let dt = t1.saturating_sub(t0);
    (dt > 0).then(|| (b1.saturating_sub(b0)) as f64 / dt as f64)
}

/// The CPU model from `/proc/cpuinfo` (`model name`, or `Model` on some ARM systems).
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| matches!(k.trim(), "model name" | "Model" | "cpu model"))
                .map(|(_, v)| v.trim().to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The host name from the kernel, else `$HOSTNAME`, else `unknown-host`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown-host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_reports_at_least_one_cpu_and_a_host() {
        let info = SystemInfo::detect();
        assert!(info.cpus >= 1);
        assert!(!info.host.is_empty());
    }
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn busy_fraction_is_a_fraction() {
        let b = busy_fraction(std::time::Duration::from_millis(50)).expect("/proc/stat on Linux");
        assert!((0.0..=1.0).contains(&b), "{b}");
    }
}
