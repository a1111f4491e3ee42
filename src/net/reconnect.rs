//! Reconnecting with backoff, as a state machine with no I/O and no clock:
//! the one policy behind both families' event supervisors
//! ([`terminal::client::Supervisor`](crate::terminal::client) and
//! [`panel::client::Supervisor`](crate::panel::client)).
//!
//! The supervisor asks [`Reconnect::before_attempt`] how long to wait, tries
//! to connect, and reports the outcome with [`Reconnect::connected`] or
//! [`Reconnect::failed`]; a working connection that breaks is reported with
//! [`Reconnect::lost`]. Both families thereby wait the same, report the
//! outage once (the first failure) and report its length (the gap) when the
//! connection is back.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use zkproto::net::{Backoff, Reconnect};
//! let t0 = Instant::now();
//! let mut r = Reconnect::new(Backoff::default());
//! assert_eq!(r.before_attempt(), Duration::ZERO); // the first attempt at once
//! assert!(r.failed(t0)); // the first failure starts an outage: report it
//! assert_eq!(r.before_attempt(), Duration::from_millis(500));
//! assert!(!r.failed(t0 + Duration::from_millis(500))); // already reported
//! assert_eq!(r.before_attempt(), Duration::from_secs(1));
//! let outage = r.connected(t0 + Duration::from_secs(2)).unwrap();
//! assert_eq!((outage.gap, outage.attempts), (Duration::from_secs(2), 3));
//! ```

use std::time::{Duration, Instant};

/// How long to wait between connection attempts: `min` before the second
/// attempt, doubling with every further failure, never more than `max`.
/// The first attempt after a loss is made at once.
///
/// ```
/// use std::time::Duration;
/// use zkproto::net::Backoff;
/// let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
/// let waits: Vec<_> = (1..=4).map(|n| b.delay(n).as_millis()).collect();
/// assert_eq!(waits, [100, 200, 350, 350]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
}

impl Backoff {
    /// The default first delay: 500 ms.
    pub const DEFAULT_MIN: Duration = Duration::from_millis(500);
    /// The default largest delay: 30 s.
    pub const DEFAULT_MAX: Duration = Duration::from_secs(30);

    /// A policy from the first and the largest delay; a `max` below `min`
    /// is raised to `min`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zkproto::net::Backoff;
    /// let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
    /// assert_eq!(b.max(), Duration::from_secs(2));
    /// ```
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max: max.max(min),
        }
    }

    /// The first delay.
    ///
    /// ```
    /// use zkproto::net::Backoff;
    /// assert_eq!(Backoff::default().min(), Backoff::DEFAULT_MIN);
    /// ```
    pub fn min(&self) -> Duration {
        self.min
    }

    /// The largest delay.
    ///
    /// ```
    /// use zkproto::net::Backoff;
    /// assert_eq!(Backoff::default().max(), Backoff::DEFAULT_MAX);
    /// ```
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The wait after `failures` failed attempts in a row (zero for none).
    ///
    /// ```
    /// use std::time::Duration;
    /// use zkproto::net::Backoff;
    /// let b = Backoff::default();
    /// assert_eq!(b.delay(0), Duration::ZERO);
    /// assert_eq!(b.delay(1), Duration::from_millis(500));
    /// assert_eq!(b.delay(3), Duration::from_secs(2));
    /// assert_eq!(b.delay(u32::MAX), Duration::from_secs(30));
    /// ```
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl((failures - 1).min(16)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(Backoff::DEFAULT_MIN, Backoff::DEFAULT_MAX)
    }
}

/// An outage that ended: how long the connection was down and how many
/// attempts it took to get it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// From the loss (or the first failed attempt) to the new connection.
    pub gap: Duration,
    /// Connection attempts since the loss, the successful one included.
    pub attempts: u32,
}

/// The connection state of a supervised stream. See the
/// [`net`](crate::net) module documentation.
#[derive(Clone, Debug)]
pub struct Reconnect {
    policy: Backoff,
    /// Attempts since the last success or loss.
    attempts: u32,
    /// When the current outage began.
    down_since: Option<Instant>,
}

impl Reconnect {
    /// A supervisor state that has not connected yet.
    ///
    /// ```
    /// use zkproto::net::{Backoff, Reconnect};
    /// let r = Reconnect::new(Backoff::default());
    /// assert!(!r.is_down());
    /// ```
    pub fn new(policy: Backoff) -> Reconnect {
        Reconnect {
            policy,
            attempts: 0,
            down_since: None,
        }
    }

    /// The policy in use.
    ///
    /// ```
    /// use zkproto::net::{Backoff, Reconnect};
    /// assert_eq!(Reconnect::new(Backoff::default()).policy(), Backoff::default());
    /// ```
    pub fn policy(&self) -> Backoff {
        self.policy
    }

    /// Whether an outage is under way (a loss or a failed attempt not yet
    /// followed by a connection).
    ///
    /// ```
    /// use std::time::Instant;
    /// use zkproto::net::{Backoff, Reconnect};
    /// let mut r = Reconnect::new(Backoff::default());
    /// r.lost(Instant::now());
    /// assert!(r.is_down());
    /// ```
    pub fn is_down(&self) -> bool {
        self.down_since.is_some()
    }

    /// How long to wait before the next attempt; counts the attempt.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use zkproto::net::{Backoff, Reconnect};
    /// let mut r = Reconnect::new(Backoff::default());
    /// assert_eq!(r.before_attempt(), Duration::ZERO);
    /// r.failed(Instant::now());
    /// assert_eq!(r.before_attempt(), Duration::from_millis(500));
    /// ```
    pub fn before_attempt(&mut self) -> Duration {
        let wait = self.policy.delay(self.attempts);
        self.attempts = self.attempts.saturating_add(1);
        wait
    }

    /// The attempt failed at `now`. Returns `true` when this failure starts
    /// an outage (the supervisor reports it once; later failures of the
    /// same outage return `false`).
    ///
    /// ```
    /// use std::time::Instant;
    /// use zkproto::net::{Backoff, Reconnect};
    /// let mut r = Reconnect::new(Backoff::default());
    /// r.before_attempt();
    /// assert!(r.failed(Instant::now()));
    /// r.before_attempt();
    /// assert!(!r.failed(Instant::now()));
    /// ```
    pub fn failed(&mut self, now: Instant) -> bool {
        if self.down_since.is_some() {
            return false;
        }
        self.down_since = Some(now);
        true
    }

    /// The attempt succeeded at `now`. Returns the outage it ends, if any
    /// (none for the first connection of a stream that never failed).
    ///
    /// ```
    /// use std::time::Instant;
    /// use zkproto::net::{Backoff, Reconnect};
    /// let mut r = Reconnect::new(Backoff::default());
    /// r.before_attempt();
    /// assert_eq!(r.connected(Instant::now()), None);
    /// ```
    pub fn connected(&mut self, now: Instant) -> Option<Outage> {
        let attempts = std::mem::take(&mut self.attempts);
        self.down_since.take().map(|since| Outage {
            gap: now.saturating_duration_since(since),
            attempts,
        })
    }

    /// The working connection broke at `now`: an outage begins (unless one
    /// is already under way), and the next attempt is made at once.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use zkproto::net::{Backoff, Reconnect};
    /// let t0 = Instant::now();
    /// let mut r = Reconnect::new(Backoff::default());
    /// r.before_attempt();
    /// r.connected(t0);
    /// r.lost(t0);
    /// assert_eq!(r.before_attempt(), Duration::ZERO);
    /// assert_eq!(r.connected(t0 + Duration::from_secs(1)).unwrap().gap, Duration::from_secs(1));
    /// ```
    pub fn lost(&mut self, now: Instant) {
        self.down_since.get_or_insert(now);
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn delays_double_from_min_to_max() {
        let b = Backoff::new(50 * MS, 200 * MS);
        let waits: Vec<_> = (0..6).map(|n| b.delay(n)).collect();
        assert_eq!(
            waits,
            [
                Duration::ZERO,
                50 * MS,
                100 * MS,
                200 * MS,
                200 * MS,
                200 * MS
            ]
        );
        // the factor stops at 2^16: no overflow for huge counts
        let wide = Backoff::new(MS, Duration::MAX);
        assert_eq!(wide.delay(17), 65_536 * MS);
        assert_eq!(wide.delay(40), 65_536 * MS);
        assert_eq!(Backoff::new(Duration::MAX, MS).delay(3), Duration::MAX);
    }

    #[test]
    fn a_loss_reports_the_gap_and_every_attempt() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(Backoff::new(10 * MS, 40 * MS));
        assert_eq!(r.before_attempt(), Duration::ZERO);
        assert_eq!(r.connected(t0), None);
        assert!(!r.is_down());
        r.lost(t0 + 100 * MS);
        assert!(r.is_down());
        // a second loss report does not move the start of the outage
        r.lost(t0 + 150 * MS);
        let mut waits = Vec::new();
        for _ in 0..4 {
            waits.push(r.before_attempt());
            assert!(!r.failed(t0 + 200 * MS), "the loss was reported already");
        }
        assert_eq!(waits, [Duration::ZERO, 10 * MS, 20 * MS, 40 * MS]);
        assert_eq!(r.before_attempt(), 40 * MS);
        let outage = r.connected(t0 + 600 * MS).expect("an outage ended");
        assert_eq!(
            outage,
            Outage {
                gap: 500 * MS,
                attempts: 5
            }
        );
        assert!(!r.is_down());
        // the next loss starts from the first delay again
        r.lost(t0 + 700 * MS);
        assert_eq!(r.before_attempt(), Duration::ZERO);
        assert!(!r.failed(t0 + 700 * MS));
        assert_eq!(r.before_attempt(), 10 * MS);
    }

    #[test]
    fn failing_from_the_start_is_one_outage() {
        let t0 = Instant::now();
        let mut r = Reconnect::new(Backoff::default());
        r.before_attempt();
        assert!(r.failed(t0));
        r.before_attempt();
        assert!(!r.failed(t0 + 500 * MS));
        r.before_attempt();
        assert_eq!(
            r.connected(t0 + 1500 * MS),
            Some(Outage {
                gap: 1500 * MS,
                attempts: 3
            })
        );
        // a clock that went backwards gives a zero gap, not a panic
        r.lost(t0 + 10 * MS);
        r.before_attempt();
        assert_eq!(r.connected(t0).map(|o| o.gap), Some(Duration::ZERO));
    }
}
