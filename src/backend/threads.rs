//! The thread backend: for each point, a rayon pool of exactly N threads.
//!
//! Building the pool is timed as set-up, outside the kernel time. A run times the serial
//! phase and the parallel phase together, from the first instruction of the kernel to the
//! last task's end, and measures how busy each thread was, so load imbalance is a
//! measurement too.
//!
//! A kernel with one task per worker runs exactly one task on each thread, all at once
//! (rayon's broadcast); a kernel with more tasks than workers lets idle threads steal them.

use crate::kernel::{Output, OutputsExt};
use std::time::Instant;

use rayon::prelude::*;

use crate::kernel::{Kernel, Outputs, Partial};
use crate::measure::protocol::{Executor, PointSpec, RunError};

/// Runs kernels on a rayon pool rebuilt for each worker count.
#[derive(Default)]
pub struct Threads {
    pool: Option<(usize, rayon::ThreadPool)>,
    /// The size of the point set up last, until its kernel has set up its workers
    /// ([`Kernel::setup_worker`], on the first run of the point).
    unset: Option<Option<u64>>,
}

impl Threads {
    /// A backend with no pool yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Executor for Threads {
    fn setup(&mut self, point: &PointSpec<'_>) -> Result<f64, String> {
        let workers = point.workers;
        // Drop the old pool first: its threads end before the new ones start.
        self.pool = None;
        let start = Instant::now();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("worker-{i}"))
            .build()
            .map_err(|e| format!("cannot start {workers} threads: {e}"))?;
        // Make every thread run once so that thread creation is not billed to the kernel.
        pool.broadcast(|_| ());
        let seconds = start.elapsed().as_secs_f64();
        self.pool = Some((workers, pool));
        self.unset = Some(point.size);
        Ok(seconds)
    }

    fn run(&mut self, kernel: &dyn Kernel, workers: usize) -> Result<(f64, Outputs), RunError> {
        let Some((n, pool)) = &self.pool else {
            return Err(RunError::Failed("no thread pool set up".to_owned()));
        };
        if *n != workers {
            return Err(RunError::Failed(format!(
                "pool has {n} threads, asked for {workers}"
            )));
        }
        let tasks = kernel.tasks(workers).max(1);
        if let Some(size) = self.unset.take()
            && kernel.sets_up_workers()
        {
            // Each thread sets up the part it works on: thread i runs task i below.
            pool.broadcast(|ctx| kernel.setup_worker(ctx.index(), workers, size));
        }
        kernel.prepare(workers);
        let timed = |i: usize| {
            let t = Instant::now();
            let p = kernel.task(i, tasks, workers);
            let thread = rayon::current_thread_index().unwrap_or(0);
            (p, thread, t.elapsed().as_secs_f64())
        };
        let start = Instant::now();
        let (serial, results): (f64, Vec<(Partial, usize, f64)>) = pool.install(|| {
            let serial = kernel.serial();
            let results = if tasks == workers {
                // One task per thread: broadcast runs task i on thread i, every task at once
                // on its own thread. Work stealing could hand two tasks to one thread, one
                // after the other, which would hide a race or a deadlock.
                rayon::broadcast(|ctx| timed(ctx.index()))
            } else {
                (0..tasks)
                    .into_par_iter()
                    .with_max_len(1)
                    .map(timed)
                    .collect()
            };
            (serial, results)
        });
        let seconds = start.elapsed().as_secs_f64();
        if let Some(d) = kernel.diagnosis() {
            return Err(RunError::Deadlock(Box::new(d)));
        }

        let partials: Vec<Partial> = results.iter().map(|r| r.0).collect();
        let mut outputs = kernel.finish(serial, &partials, workers);
        let mut busy = vec![0.0f64; workers];
        for (_, thread, s) in &results {
            if let Some(b) = busy.get_mut(*thread) {
                *b += s;
            }
        }
        let mean = busy.iter().sum::<f64>() / workers as f64;
        let max = busy.iter().copied().fold(0.0, f64::max);
        if mean > 0.0 {
            // 1.0 is perfect balance; 1.5 means the busiest thread worked 50 % more than average.
            outputs.set_output(Output::LoadImbalance, max / mean);
        }
        Ok((seconds, outputs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::mc_pi::{McPi, Mode};

    #[test]
    fn runs_on_exactly_the_requested_threads() {
        let mut t = Threads::new();
        t.setup(&PointSpec::workers(3)).expect("pool");
        let k = McPi {
            samples: 300_000,
            mode: Mode::Strong,
            seed: 1,
        };
        let (secs, out) = t.run(&k, 3).expect("runs");
        assert!(secs > 0.0);
        assert!(out["abs_error"] < 0.02);
        assert!(out["load_imbalance"] >= 1.0);
        assert!(t.run(&k, 2).is_err(), "wrong worker count is refused");
        // The same seed and worker count give the same estimate as a sequential run.
        let seq: Vec<Partial> = (0..3).map(|i| k.task(i, 3, 3)).collect();
        assert_eq!(k.finish(0.0, &seq, 3)["estimate"], out["estimate"]);
    }

    #[test]
    fn one_task_per_worker_runs_on_every_thread_at_once() {
        use crate::kernel::locks::{Locks, Order};
        use std::time::Duration;
        // Opposite lock orders deadlock only when both tasks run at the same time on two
        // threads; one after the other on one thread, they would both complete.
        let k = Locks::new(
            Order::Opposite,
            Duration::from_millis(20),
            2,
            Duration::from_millis(200),
        );
        let mut t = Threads::new();
        t.setup(&PointSpec::workers(2)).expect("pool");
        let Err(RunError::Deadlock(d)) = t.run(&k, 2) else {
            panic!("a deadlock")
        };
        assert_eq!(d.cycle, ["thread 0", "thread 1"]);
        // The pool is still usable, and `prepare` reset the kernel: it deadlocks again.
        assert!(matches!(t.run(&k, 2), Err(RunError::Deadlock(_))));
    }
}
