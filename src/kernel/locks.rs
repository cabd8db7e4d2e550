//! Two threads, two mutexes `A` and `B`: each thread, `rounds` times, takes one lock, holds
//! it `hold` long, takes the other, then lets both go.
//!
//! Taken in opposite orders (thread 0 A then B, thread 1 B then A) they deadlock: each holds
//! the lock the other waits for. Taken in the same order they cannot. With back-off, a
//! thread that finds its second lock taken lets go of its first and retries after a random
//! pause, so no thread ever waits while holding a lock.
//!
//! Nobody waits forever, even in a deadlock: every wait is a timed `try_lock_for`, and the
//! waiting threads themselves are the watchdog. When every unfinished thread has been
//! waiting for a lock for `deadline`, and the waits form a cycle (each waits for a lock held
//! by the next), no thread can make progress; the thread that sees it writes down who holds
//! what and waits for what (the [`DiagnosisRecord`]), and all threads give up, let go of
//! their locks and return.

use crate::kernel::Output;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};

use super::rng::Xoshiro256pp;
use super::{Kernel, Outputs, Partial};
use crate::record::{DiagnosisRecord, WaitRecord};

/// The order in which the threads take the two locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Even threads take A then B, odd threads B then A: a cycle, so a deadlock.
    Opposite,
    /// Every thread takes A then B: no cycle can form.
    Same,
    /// Opposite orders, but the second lock is only tried; on failure the thread releases
    /// the first, backs off for a random time and starts over.
    Backoff,
}

impl Order {
    /// Every order, as parameters name them.
    pub const ALL: [Order; 3] = [Order::Opposite, Order::Same, Order::Backoff];

    /// The name used in parameters and records.
    pub fn name(self) -> &'static str {
        match self {
            Order::Opposite => "opposite",
            Order::Same => "same",
            Order::Backoff => "backoff",
        }
    }

    /// The order called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// The names of the two locks, as diagnoses show them.
pub const LOCK_NAMES: [&str; 2] = ["A", "B"];

/// What one thread is doing, as the watchdog sees it.
#[derive(Debug, Clone, Default)]
struct ThreadState {
    /// Locks held, by index into `LOCK_NAMES`, in the order taken.
    holds: Vec<usize>,
    /// The lock it is blocked on, and since when.
    waiting: Option<(usize, Instant)>,
    last_action: String,
    done: bool,
    backoffs: u64,
}

/// The shared board every thread reports to; guarded by its own small mutex, held only for
/// bookkeeping, never while waiting.
#[derive(Debug, Default)]
struct Board {
    threads: Vec<ThreadState>,
    holder: [Option<usize>; 2],
    gave_up: bool,
    diagnosis: Option<DiagnosisRecord>,
}

impl Board {
    fn thread(&mut self, i: usize) -> &mut ThreadState {
        if self.threads.len() <= i {
            self.threads.resize_with(i + 1, ThreadState::default);
        }
        &mut self.threads[i]
    }

    /// How long every unfinished thread has been waiting, if every one is.
    fn stalled_for(&self, now: Instant) -> Option<Duration> {
        let mut latest: Option<Instant> = None;
        for t in self.threads.iter().filter(|t| !t.done) {
            let (_, since) = t.waiting?;
            latest = Some(latest.map_or(since, |l| l.max(since)));
        }
        latest.map(|l| now.saturating_duration_since(l))
    }

    fn diagnose(&self, stalled: Duration) -> DiagnosisRecord {
        let who = |i: usize| format!("thread {i}");
        let waits = self
            .threads
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.done)
            .map(|(i, t)| WaitRecord {
                who: who(i),
                holds: t.holds.iter().map(|&l| LOCK_NAMES[l].to_owned()).collect(),
                waits_for: t.waiting.map(|(l, _)| LOCK_NAMES[l].to_owned()),
                held_by: t.waiting.and_then(|(l, _)| self.holder[l]).map(who),
                last_action: Some(t.last_action.clone()),
                host: None,
            })
            .collect();
        DiagnosisRecord::new(self.threads.len(), stalled.as_secs_f64(), waits)
    }
}

/// The kernel: its parameters, the two locks and the watchdog's board.
#[derive(Debug)]
pub struct Locks {
    order: Order,
    hold: Duration,
    rounds: u64,
    deadline: Duration,
    locks: [Mutex<()>; 2],
    board: Mutex<Board>,
}

/// A lock taken, with which one it is.
type Held<'a> = (usize, MutexGuard<'a, ()>);

impl Locks {
    /// Threads taking the locks in `order`, `rounds` times each, holding the first lock for
    /// `hold` before taking the second; they give up when all of them have waited `deadline`.
    pub fn new(order: Order, hold: Duration, rounds: u64, deadline: Duration) -> Self {
        Self {
            order,
            hold,
            rounds,
            deadline,
            locks: [Mutex::new(()), Mutex::new(())],
            board: Mutex::new(Board::default()),
        }
    }

    /// The order the threads take the locks in.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The locks thread `i` takes, first and second.
    fn pair(&self, i: usize) -> (usize, usize) {
        match self.order {
            Order::Same => (0, 1),
            Order::Opposite | Order::Backoff => (i % 2, 1 - i % 2),
        }
    }

    /// How long one timed wait lasts before the waiter checks the board again.
    fn slice(&self) -> Duration {
        (self.deadline / 20).clamp(Duration::from_millis(1), Duration::from_millis(10))
    }

    fn note(&self, i: usize, action: String) {
        self.board.lock().thread(i).last_action = action;
    }

    fn took(&self, i: usize, lock: usize) {
        let mut b = self.board.lock();
        b.holder[lock] = Some(i);
        let t = b.thread(i);
        t.holds.push(lock);
        t.waiting = None;
    }

    fn release(&self, i: usize, held: Held<'_>) {
        let (lock, guard) = held;
        {
            let mut b = self.board.lock();
            if b.holder[lock] == Some(i) {
                b.holder[lock] = None;
            }
            let t = b.thread(i);
            t.holds.retain(|&l| l != lock);
            t.last_action = format!("unlock {}", LOCK_NAMES[lock]);
        }
        drop(guard);
    }

    /// Thread `i` waits for `lock`, in timed slices, until it has it or the run is given up
    /// (because of a deadlock this thread or another one found).
    fn acquire(&self, i: usize, lock: usize) -> Option<Held<'_>> {
        {
            let mut b = self.board.lock();
            if b.gave_up {
                return None;
            }
            let t = b.thread(i);
            t.waiting = Some((lock, Instant::now()));
            t.last_action = format!("lock {}", LOCK_NAMES[lock]);
        }
        let slice = self.slice();
        loop {
            if let Some(g) = self.locks[lock].try_lock_for(slice) {
                self.took(i, lock);
                return Some((lock, g));
            }
            let mut b = self.board.lock();
            if b.gave_up {
                return None;
            }
            if let Some(stalled) = b.stalled_for(Instant::now())
                && stalled >= self.deadline
            {
                // Only a cycle is a deadlock. Without one, a thread the board still shows
                // waiting has just got its lock and not yet said so: it goes on soon.
                let d = b.diagnose(stalled);
                if !d.cycle.is_empty() {
                    b.diagnosis = Some(d);
                    b.gave_up = true;
                    return None;
                }
            }
        }
    }

    /// One round of thread `i`: both locks taken once. `false` when the run was given up.
    fn round(&self, i: usize, rng: &mut Xoshiro256pp) -> bool {
        let (first, second) = self.pair(i);
        let mut failures = 0u32;
        loop {
            let Some(a) = self.acquire(i, first) else {
                return false;
            };
            if !self.hold.is_zero() {
                self.note(
                    i,
                    format!(
                        "hold {} for {} ms",
                        LOCK_NAMES[first],
                        self.hold.as_millis()
                    ),
                );
                std::thread::sleep(self.hold);
            }
            let b = if self.order == Order::Backoff {
                match self.locks[second].try_lock() {
                    Some(g) => {
                        self.took(i, second);
                        (second, g)
                    }
                    None => {
                        self.release(i, a);
                        let pause = self.backoff(failures, rng);
                        {
                            let mut board = self.board.lock();
                            let t = board.thread(i);
                            t.backoffs += 1;
                            t.last_action = format!("back off {} µs", pause.as_micros());
                        }
                        std::thread::sleep(pause);
                        failures += 1;
                        continue;
                    }
                }
            } else {
                match self.acquire(i, second) {
                    Some(b) => b,
                    None => {
                        self.release(i, a);
                        return false;
                    }
                }
            };
            // Both locks held: the critical section would be here.
            self.release(i, b);
            self.release(i, a);
            return true;
        }
    }

    /// A random pause after `failures` failed tries in a row: uniform below
    /// 2 · max(hold, 1 ms) · 2^failures (the doubling stops at 2^6). It must be random —
    /// equal pauses would make the threads retry in lockstep and collide forever (livelock)
    /// — and able to exceed `hold`, or a thread retakes its first lock before the other
    /// thread has finished with both.
    fn backoff(&self, failures: u32, rng: &mut Xoshiro256pp) -> Duration {
        let base = self.hold.max(Duration::from_millis(1));
        let window = base.saturating_mul(2 << failures.min(6));
        let window_ns = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX).max(1);
        Duration::from_nanos(rng.next_u64() % window_ns)
    }
}

impl Kernel for Locks {
    fn prepare(&self, workers: usize) {
        let mut b = self.board.lock();
        *b = Board::default();
        b.threads.resize_with(workers, ThreadState::default);
    }

    fn task(&self, index: usize, _tasks: usize, _workers: usize) -> Partial {
        let mut rng = Xoshiro256pp::seed_from_u64(0x10c4_5eed ^ index as u64);
        let mut done = 0;
        for _ in 0..self.rounds {
            if !self.round(index, &mut rng) {
                break;
            }
            done += 1;
        }
        self.board.lock().thread(index).done = true;
        Partial {
            count: done,
            sum: 0.0,
            units: done,
        }
    }

    fn finish(&self, _serial: f64, partials: &[Partial], _workers: usize) -> Outputs {
        let backoffs: u64 = self.board.lock().threads.iter().map(|t| t.backoffs).sum();
        let rounds: u64 = partials.iter().map(|p| p.count).sum();
        Outputs::from([
            (Output::RoundsDone.key().to_owned(), rounds as f64),
            (Output::Backoffs.key().to_owned(), backoffs as f64),
        ])
    }

    fn diagnosis(&self) -> Option<DiagnosisRecord> {
        self.board.lock().diagnosis.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the tasks on `workers` real threads at once, as the backend does; returns the
    /// outputs or the diagnosis, and the wall time.
    fn run(k: &Locks, workers: usize) -> (Result<Outputs, DiagnosisRecord>, Duration) {
        k.prepare(workers);
        let start = Instant::now();
        let partials: Vec<Partial> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|i| s.spawn(move || k.task(i, workers, workers)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("task ends"))
                .collect()
        });
        let elapsed = start.elapsed();
        match k.diagnosis() {
            Some(d) => (Err(d), elapsed),
            None => (Ok(k.finish(0.0, &partials, workers)), elapsed),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn opposite_orders_deadlock_and_the_watchdog_says_who_waits_for_whom() {
        let k = Locks::new(Order::Opposite, ms(30), 5, ms(300));
        let (result, elapsed) = run(&k, 2);
        let d = result.expect_err("a deadlock");
        // Deadlocked after `hold`, detected `deadline` later, plus a wait slice or two.
        assert!(elapsed >= ms(300), "{elapsed:?}");
        assert!(elapsed < ms(30 + 300 + 500), "{elapsed:?}");
        assert!(d.stalled_s >= 0.3, "{}", d.stalled_s);
        assert_eq!(d.cycle, ["thread 0", "thread 1"]);
        assert_eq!(
            d.message,
            "thread 0 holds A and waits for B (held by thread 1); \
             thread 1 holds B and waits for A (held by thread 0) — a cycle"
        );
        assert_eq!(d.waits[0].last_action.as_deref(), Some("lock B"));
        // Every lock was let go: the next run starts clean, and deadlocks again.
        assert!(k.locks.iter().all(|l| !l.is_locked()));
        let (again, _) = run(&k, 2);
        assert!(again.is_err());
    }

    #[test]
    fn the_same_order_and_back_off_complete_every_round() {
        for order in [Order::Same, Order::Backoff] {
            // A generous deadline: it is never reached when nothing is stuck.
            let k = Locks::new(order, ms(2), 4, ms(2000));
            for _ in 0..2 {
                let (result, _) = run(&k, 2);
                let out = result.unwrap_or_else(|d| panic!("{order:?}: {}", d.message));
                assert_eq!(out["rounds_done"], 8.0, "{order:?}");
                if order == Order::Same {
                    assert_eq!(out["backoffs"], 0.0);
                }
            }
        }
    }

    #[test]
    fn holding_a_lock_longer_than_the_deadline_is_not_a_deadlock() {
        // Thread 1 waits far longer than the deadline, but thread 0 is busy, not waiting.
        let k = Locks::new(Order::Same, ms(150), 2, ms(100));
        let (result, _) = run(&k, 2);
        assert!(result.is_ok(), "{:?}", result.err().map(|d| d.message));
    }

    #[test]
    fn back_off_pauses_are_random_and_grow() {
        let k = Locks::new(Order::Backoff, ms(10), 1, ms(100));
        let mut rng = Xoshiro256pp::seed_from_u64(1);
        let first: Vec<Duration> = (0..50).map(|_| k.backoff(0, &mut rng)).collect();
        assert!(first.iter().all(|d| *d < ms(20)));
        assert!(first.windows(2).any(|w| w[0] != w[1]));
        let late = (0..50).map(|_| k.backoff(5, &mut rng)).max().expect("50");
        assert!(late > ms(20), "{late:?}");
        assert_eq!(Order::from_name("backoff"), Some(Order::Backoff));
        assert_eq!(Order::from_name("sideways"), None);
    }
}
