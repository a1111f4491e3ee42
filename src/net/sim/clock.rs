//! The clock of a simulated device: a calendar time that runs with the
//! `Instant`s the caller passes in (no clock is read here), written once for
//! every family. A family says how its time type counts seconds
//! ([`Seconds`]); the clock keeps the set time and the instant it was set.

use std::time::Instant;

/// A family's calendar time as seconds since its epoch (the conversion
/// clamps to the type's range).
pub(crate) trait Seconds: Copy {
    /// Seconds since the epoch.
    fn to_seconds(self) -> i64;
    /// The time `s` seconds after the epoch, clamped to the representable
    /// range.
    fn from_seconds(s: i64) -> Self;
}

/// A device clock: the time it was set to, running from the instant it was
/// started or set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock<T> {
    base: i64,
    anchor: Option<Instant>,
    _time: std::marker::PhantomData<T>,
}

impl<T: Seconds> Clock<T> {
    /// A stopped clock showing `t`.
    pub(crate) fn new(t: T) -> Clock<T> {
        Clock {
            base: t.to_seconds(),
            anchor: None,
            _time: std::marker::PhantomData,
        }
    }

    /// Starts the clock at `now` if it is not running yet.
    pub(crate) fn start(&mut self, now: Instant) {
        if self.anchor.is_none() {
            self.anchor = Some(now);
        }
    }

    /// The time at `at`: whole seconds elapsed since the clock started
    /// (an instant before that counts backwards), the set time while it is
    /// stopped.
    pub(crate) fn at(&self, at: Instant) -> T {
        let Some(anchor) = self.anchor else {
            return T::from_seconds(self.base);
        };
        let delta = match at.checked_duration_since(anchor) {
            Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            None => -i64::try_from(anchor.duration_since(at).as_secs()).unwrap_or(i64::MAX / 2),
        };
        T::from_seconds(self.base.saturating_add(delta))
    }

    /// Sets the clock to `t` at `now` (and keeps it running).
    pub(crate) fn set(&mut self, t: T, now: Instant) {
        self.base = t.to_seconds();
        self.anchor = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct S(i64);

    impl Seconds for S {
        fn to_seconds(self) -> i64 {
            self.0
        }
        fn from_seconds(s: i64) -> S {
            S(s.max(0))
        }
    }

    #[test]
    fn runs_from_start_and_from_set() {
        let t0 = Instant::now() + Duration::from_secs(100);
        let mut c = Clock::new(S(50));
        assert_eq!(c.at(t0 + Duration::from_secs(9)), S(50), "stopped");
        c.start(t0);
        c.start(t0 + Duration::from_secs(5)); // already running
        assert_eq!(c.at(t0 + Duration::from_millis(2900)), S(52));
        assert_eq!(c.at(t0 - Duration::from_secs(3)), S(47), "backwards");
        assert_eq!(
            c.at(t0 - Duration::from_secs(99)),
            S(0),
            "clamped by the type"
        );
        c.set(S(10), t0 + Duration::from_secs(1));
        assert_eq!(c.at(t0 + Duration::from_secs(4)), S(13));
    }
}
