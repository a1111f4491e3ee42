//! The panel clock: a calendar time that runs with the `Instant`s the
//! caller passes in.

use crate::panel::time::PanelTime;
use std::time::Instant;

/// Days from 2000-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - 10_957
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Seconds since 2000-01-01 00:00:00 (real calendar, not the packed form).
pub(crate) fn to_seconds(t: PanelTime) -> i64 {
    days_from_civil(t.year().into(), t.month().into(), t.day().into()) * 86_400
        + i64::from(t.hour()) * 3600
        + i64::from(t.minute()) * 60
        + i64::from(t.second())
}

/// The inverse of [`to_seconds`], clamped to the representable range.
pub(crate) fn from_seconds(s: i64) -> PanelTime {
    let max = to_seconds(PanelTime::MAX);
    let s = s.clamp(0, max);
    let (y, m, d) = civil_from_days(s.div_euclid(86_400));
    let r = s.rem_euclid(86_400);
    let parts = (
        u16::try_from(y),
        u8::try_from(m),
        u8::try_from(d),
        u8::try_from(r / 3600),
        u8::try_from(r / 60 % 60),
        u8::try_from(r % 60),
    );
    match parts {
        (Ok(y), Ok(m), Ok(d), Ok(h), Ok(mi), Ok(se)) => {
            PanelTime::new(y, m, d, h, mi, se).unwrap_or(PanelTime::MIN)
        }
        _ => PanelTime::MIN,
    }
}

/// Day of the week, 0 = Sunday.
pub(crate) fn weekday(t: PanelTime) -> usize {
    // 2000-01-01 was a Saturday.
    let days = days_from_civil(t.year().into(), t.month().into(), t.day().into());
    usize::try_from((days + 6).rem_euclid(7)).unwrap_or(0)
}

/// A clock anchored at an `Instant`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base: i64,
    anchor: Option<Instant>,
}

impl Clock {
    pub(crate) fn new(t: PanelTime) -> Clock {
        Clock {
            base: to_seconds(t),
            anchor: None,
        }
    }

    /// Starts the clock at `now` if it is not running yet.
    pub(crate) fn start(&mut self, now: Instant) {
        if self.anchor.is_none() {
            self.anchor = Some(now);
        }
    }

    /// The time at `at` (an instant before the anchor counts backwards).
    pub(crate) fn at(&self, at: Instant) -> PanelTime {
        let Some(anchor) = self.anchor else {
            return from_seconds(self.base);
        };
        let delta = match at.checked_duration_since(anchor) {
            Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            None => -i64::try_from(anchor.duration_since(at).as_secs()).unwrap_or(0),
        };
        from_seconds(self.base.saturating_add(delta))
    }

    pub(crate) fn set(&mut self, t: PanelTime, now: Instant) {
        self.base = to_seconds(t);
        self.anchor = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn calendar_and_clock() {
        for (y, mo, d) in [(2000, 1, 1), (2024, 2, 29), (2025, 12, 31), (2133, 8, 17)] {
            let t = PanelTime::new(y, mo, d, 13, 14, 15).unwrap();
            assert_eq!(from_seconds(to_seconds(t)), t);
        }
        assert_eq!(weekday(PanelTime::new(2024, 6, 1, 0, 0, 0).unwrap()), 6);
        assert_eq!(weekday(PanelTime::new(2024, 6, 2, 0, 0, 0).unwrap()), 0);
        let mut c = Clock::new(PanelTime::new(2024, 2, 28, 23, 59, 58).unwrap());
        let t0 = Instant::now();
        c.start(t0);
        assert_eq!(
            c.at(t0 + Duration::from_secs(3)).to_string(),
            "2024-02-29 00:00:01"
        );
        assert_eq!(from_seconds(-5), PanelTime::MIN);
    }
}
