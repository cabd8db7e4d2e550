//! Time for the demo player, behind a trait so that tests step it by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock: time since some fixed start.
pub trait Clock {
    /// Time since the clock's start; never goes backwards.
    fn now(&self) -> Duration;
}

/// The real clock, started when made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock at zero now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A clock that only moves when told to. Clones share the same time, so a test keeps one
/// clone and gives the other to the player.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    nanos: Arc<AtomicU64>,
}

impl FakeClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let n = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(n, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Time that only runs while playing: pausing autoplay freezes puzzle ticks, replays and
/// holds alike, while the wall clock goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlayTime {
    /// Play time accumulated before the last resume.
    banked: Duration,
    /// Clock time of the last resume; `None` while paused.
    resumed: Option<Duration>,
}

impl PlayTime {
    /// Play time that starts running at clock time `now`.
    pub fn running_from(now: Duration) -> Self {
        Self {
            banked: Duration::ZERO,
            resumed: Some(now),
        }
    }

    /// Play time at clock time `now`.
    pub fn at(&self, now: Duration) -> Duration {
        self.banked
            + self
                .resumed
                .map_or(Duration::ZERO, |r| now.saturating_sub(r))
    }

    /// Whether it is paused.
    pub fn paused(&self) -> bool {
        self.resumed.is_none()
    }

    /// Stops it at clock time `now`.
    pub fn pause(&mut self, now: Duration) {
        self.banked = self.at(now);
        self.resumed = None;
    }

    /// Lets it run again from clock time `now`.
    pub fn resume(&mut self, now: Duration) {
        if self.resumed.is_none() {
            self.resumed = Some(now);
        }
    }

    /// The clock time at which play time reaches `play`, if it is running; `now` if that is
    /// already past.
    pub fn clock_time_of(&self, play: Duration, now: Duration) -> Option<Duration> {
        self.resumed?;
        Some(now + play.saturating_sub(self.at(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_time_stops_while_paused() {
        let s = Duration::from_secs;
        let mut p = PlayTime::running_from(s(10));
        assert_eq!(p.at(s(13)), s(3));
        p.pause(s(13));
        assert_eq!(p.at(s(20)), s(3));
        assert_eq!(p.clock_time_of(s(5), s(20)), None);
        p.resume(s(20));
        assert_eq!(p.at(s(21)), s(4));
        assert_eq!(p.clock_time_of(s(5), s(21)), Some(s(22)));
        assert_eq!(p.clock_time_of(s(1), s(21)), Some(s(21)), "already past");
    }

    #[test]
    fn fake_clock_clones_share_time() {
        let a = FakeClock::new();
        let b = a.clone();
        a.advance(Duration::from_millis(1500));
        assert_eq!(b.now(), Duration::from_millis(1500));
    }
}
