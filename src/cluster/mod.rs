//! What machine and allocation hpc-tutor runs in: host, usable CPUs, SLURM job.

/// Facts about where the tutor runs, shown in the status bar and kept with results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// The host name.
    pub host: String,
    /// CPUs this process may use: the affinity mask and cgroup CPU quota both count, so
    /// inside `srun -c 2` this is 2 even on a 64-core node.
    pub cpus: usize,
    /// `SLURM_JOB_ID`, when running inside a SLURM allocation.
    pub slurm_job: Option<String>,
}

impl SystemInfo {
    /// Reads the facts from the running system and environment.
    pub fn detect() -> Self {
        Self {
            host: host_name(),
            // `available_parallelism` honours sched_getaffinity and cgroup v1/v2 quotas on
            // Linux; it can only fail on exotic platforms, where one CPU is the safe answer.
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            slurm_job: std::env::var("SLURM_JOB_ID")
                .ok()
                .filter(|s| !s.trim().is_empty()),
        }
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
            slurm_job_id: self.slurm_job.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: (!commit.is_empty()).then(|| commit.to_owned()),
        }
    }
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
fn host_name() -> String {
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
