//! The panel clock: [`PanelTime`] on the shared simulator clock
//! ([`crate::net::sim::Clock`]), and the calendar helpers the panel's
//! time zones need.

use crate::net::sim::Seconds;
use crate::panel::time::PanelTime;
use crate::terminal::record::time::DeviceTime;

/// 2000-01-01T00:00:00 in Unix seconds.
const UNIX_2000: i64 = 946_684_800;

/// The same instant on the terminal's calendar type, whose civil-date
/// arithmetic both families share.
fn as_device_time(t: PanelTime) -> DeviceTime {
    DeviceTime::new(
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
}

/// Seconds since 2000-01-01 00:00:00 (real calendar, not the packed form).
pub(crate) fn to_seconds(t: PanelTime) -> i64 {
    as_device_time(t).to_unix_seconds() - UNIX_2000
}

/// The inverse of [`to_seconds`], clamped to the representable range.
pub(crate) fn from_seconds(s: i64) -> PanelTime {
    let s = s.clamp(0, to_seconds(PanelTime::MAX));
    DeviceTime::from_unix_seconds(s + UNIX_2000)
        .and_then(|d| PanelTime::new(d.year, d.month, d.day, d.hour, d.minute, d.second).ok())
        .unwrap_or(PanelTime::MIN)
}

/// Day of the week, 0 = Sunday.
pub(crate) fn weekday(t: PanelTime) -> usize {
    // 1970-01-01 was a Thursday.
    let days = as_device_time(t).to_unix_seconds().div_euclid(86_400);
    usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)
}

impl Seconds for PanelTime {
    fn to_seconds(self) -> i64 {
        to_seconds(self)
    }
    fn from_seconds(s: i64) -> PanelTime {
        from_seconds(s)
    }
}

/// The panel's clock.
pub(crate) type Clock = crate::net::sim::Clock<PanelTime>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

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
