//! Device time: the packed 32-bit format of reference §9 and the 6-byte form
//! used in realtime events (§7.4).
//!
//! The packed format gives every month 31 days, so impossible dates (Feb 31)
//! are representable. Decoding therefore never fails; [`DeviceTime::validate`]
//! reports whether the date exists on a calendar.
//!
//! ```
//! use zkproto::terminal::record::time::DeviceTime;
//! let t = DeviceTime::from_packed(0x2368B36B);
//! assert_eq!(t, DeviceTime::new(2018, 6, 25, 17, 50, 35));
//! assert_eq!(t.to_packed().unwrap(), 0x2368B36B);
//! assert_eq!(t.to_string(), "2018-06-25T17:50:35");
//! ```

use crate::terminal::error::EncodeError;
use core::fmt;

/// A wall-clock date and time as the device stores it (local time, no zone).
///
/// Fields are public and unchecked so that impossible values read from a
/// device can be shown as they are; use [`validate`](Self::validate) before
/// trusting one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceTime {
    /// Year (2000–2099 for the packed format).
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

/// Why a [`DeviceTime`] is not a real calendar date-time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidTime {
    /// The year cannot be stored (packed format: 2000–2099).
    #[error("year {0} is outside 2000-2099")]
    Year(u16),
    /// Month outside 1–12.
    #[error("month {0} is outside 1-12")]
    Month(u8),
    /// The day does not exist in that month.
    #[error("day {day} does not exist in {year}-{month:02}")]
    Day {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
    },
    /// Hour, minute or second out of range.
    #[error("time of day {0:02}:{1:02}:{2:02} is out of range")]
    TimeOfDay(u8, u8, u8),
}

const fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

/// Days in `month` of `year` (0 for an invalid month).
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl DeviceTime {
    /// Builds a value (unchecked; see [`validate`](Self::validate)).
    pub const fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Self {
        DeviceTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    /// Decodes the packed u32 format (`OldDecodeTime`). Never fails; the
    /// result may be an impossible date such as Feb 31.
    pub const fn from_packed(t: u32) -> Self {
        let second = (t % 60) as u8;
        let t = t / 60;
        let minute = (t % 60) as u8;
        let t = t / 60;
        let hour = (t % 24) as u8;
        let t = t / 24;
        let day = (t % 31 + 1) as u8;
        let t = t / 31;
        let month = (t % 12 + 1) as u8;
        let t = t / 12;
        DeviceTime {
            year: 2000 + t as u16,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    /// Encodes into the packed u32 format (`OldEncodeTime`).
    ///
    /// Fails when a field is outside the range the format can carry (the
    /// calendar validity of the day is *not* required, so a value read from a
    /// device re-encodes to the same number).
    pub fn to_packed(&self) -> Result<u32, EncodeError> {
        if !(2000..=2099).contains(&self.year) {
            return Err(EncodeError::OutOfRange {
                field: "year",
                reason: "must be 2000-2099",
            });
        }
        if !(1..=12).contains(&self.month) {
            return Err(EncodeError::OutOfRange {
                field: "month",
                reason: "must be 1-12",
            });
        }
        if !(1..=31).contains(&self.day) {
            return Err(EncodeError::OutOfRange {
                field: "day",
                reason: "must be 1-31",
            });
        }
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err(EncodeError::OutOfRange {
                field: "time of day",
                reason: "hh 0-23, mm/ss 0-59",
            });
        }
        let y = u32::from(self.year % 100);
        let days = y * 12 * 31 + (u32::from(self.month) - 1) * 31 + (u32::from(self.day) - 1);
        Ok(days * 86_400
            + (u32::from(self.hour) * 60 + u32::from(self.minute)) * 60
            + u32::from(self.second))
    }

    /// Decodes the 6-byte event form `[year-2000, month, day, hour, minute, second]`.
    pub const fn from_event_bytes(b: [u8; 6]) -> Self {
        DeviceTime {
            year: 2000 + b[0] as u16,
            month: b[1],
            day: b[2],
            hour: b[3],
            minute: b[4],
            second: b[5],
        }
    }

    /// Encodes into the 6-byte event form.
    pub fn to_event_bytes(&self) -> Result<[u8; 6], EncodeError> {
        let y = self
            .year
            .checked_sub(2000)
            .and_then(|y| u8::try_from(y).ok())
            .ok_or(EncodeError::OutOfRange {
                field: "year",
                reason: "must be 2000-2255",
            })?;
        Ok([y, self.month, self.day, self.hour, self.minute, self.second])
    }

    /// Checks that this is a real calendar date-time the packed format can store.
    ///
    /// ```
    /// use zkproto::terminal::record::time::{DeviceTime, InvalidTime};
    /// assert!(DeviceTime::new(2024, 2, 29, 23, 59, 59).validate().is_ok());
    /// assert_eq!(
    ///     DeviceTime::new(2023, 2, 31, 0, 0, 0).validate(),
    ///     Err(InvalidTime::Day { year: 2023, month: 2, day: 31 })
    /// );
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidTime> {
        if self.year < 2000 || self.year > 2099 {
            return Err(InvalidTime::Year(self.year));
        }
        if self.month < 1 || self.month > 12 {
            return Err(InvalidTime::Month(self.month));
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err(InvalidTime::Day {
                year: self.year,
                month: self.month,
                day: self.day,
            });
        }
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err(InvalidTime::TimeOfDay(self.hour, self.minute, self.second));
        }
        Ok(())
    }

    /// Whether [`validate`](Self::validate) succeeds.
    pub const fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// Seconds since 1970-01-01T00:00:00, reading this wall-clock time on
    /// the proleptic Gregorian calendar as if it were UTC (the device keeps
    /// no time zone). A day past the end of its month rolls over into the
    /// next month, as the packed format allows; the month is clamped to 1–12.
    ///
    /// ```
    /// use zkproto::terminal::record::time::DeviceTime;
    /// assert_eq!(DeviceTime::new(2000, 1, 1, 0, 0, 0).to_unix_seconds(), 946_684_800);
    /// assert_eq!(DeviceTime::new(2023, 2, 29, 0, 0, 0).to_unix_seconds(),
    ///            DeviceTime::new(2023, 3, 1, 0, 0, 0).to_unix_seconds());
    /// ```
    pub fn to_unix_seconds(&self) -> i64 {
        // days_from_civil (H. Hinnant).
        let m = i64::from(self.month.clamp(1, 12));
        let (y, m) = if m <= 2 {
            (i64::from(self.year) - 1, m + 9)
        } else {
            (i64::from(self.year), m - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(self.day.max(1)) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The wall-clock time `secs` seconds after 1970-01-01T00:00:00 (a real
    /// calendar date), or `None` when the year falls outside 0–65535.
    ///
    /// ```
    /// use zkproto::terminal::record::time::DeviceTime;
    /// assert_eq!(DeviceTime::from_unix_seconds(1_709_251_199), Some(DeviceTime::new(2024, 2, 29, 23, 59, 59)));
    /// ```
    pub fn from_unix_seconds(secs: i64) -> Option<DeviceTime> {
        // civil_from_days (H. Hinnant).
        let z = secs.div_euclid(86_400).checked_add(719_468)?;
        let rem = secs.rem_euclid(86_400);
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe.checked_add(era.checked_mul(400)?)? + i64::from(month <= 2);
        let small = |v: i64| u8::try_from(v).ok();
        Some(DeviceTime::new(
            u16::try_from(year).ok()?,
            small(month)?,
            small(day)?,
            small(rem / 3600)?,
            small(rem / 60 % 60)?,
            small(rem % 60)?,
        ))
    }

    /// The host's current UTC time, or `None` if the system clock is before
    /// 1970 or beyond year 65535.
    pub fn now_utc() -> Option<DeviceTime> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        DeviceTime::from_unix_seconds(i64::try_from(secs).ok()?)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` (a space is accepted instead of `T`) or
    /// `YYYY-MM-DD` (midnight). The result is validated.
    ///
    /// ```
    /// use zkproto::terminal::record::time::DeviceTime;
    /// let t = DeviceTime::parse("2024-02-29T23:59:59").unwrap();
    /// assert_eq!(t.to_packed().unwrap(), 0x2E4969FF);
    /// assert!(DeviceTime::parse("2023-02-29").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseTimeError> {
        let s = s.trim();
        let (date, time) = match s.split_once(['T', ' ']) {
            Some((d, t)) => (d, Some(t)),
            None => (s, None),
        };
        let mut d = date.splitn(3, '-');
        let num = |p: Option<&str>| -> Result<u32, ParseTimeError> {
            let p = p.ok_or(ParseTimeError::Syntax)?;
            if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseTimeError::Syntax);
            }
            p.parse().map_err(|_| ParseTimeError::Syntax)
        };
        let year = num(d.next())?;
        let month = num(d.next())?;
        let day = num(d.next())?;
        let (hour, minute, second) = match time {
            None => (0, 0, 0),
            Some(t) => {
                let mut it = t.splitn(3, ':');
                let h = num(it.next())?;
                let m = num(it.next())?;
                let sec = match it.next() {
                    Some(x) => num(Some(x))?,
                    None => 0,
                };
                (h, m, sec)
            }
        };
        let small = |v: u32| u8::try_from(v).map_err(|_| ParseTimeError::Syntax);
        let t = DeviceTime {
            year: u16::try_from(year).map_err(|_| ParseTimeError::Syntax)?,
            month: small(month)?,
            day: small(day)?,
            hour: small(hour)?,
            minute: small(minute)?,
            second: small(second)?,
        };
        t.validate().map_err(ParseTimeError::Invalid)?;
        Ok(t)
    }
}

/// Error of [`DeviceTime::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseTimeError {
    /// Not of the form `YYYY-MM-DD[THH:MM[:SS]]`.
    #[error("expected YYYY-MM-DDTHH:MM:SS")]
    Syntax,
    /// Well-formed but not a real date-time.
    #[error(transparent)]
    Invalid(InvalidTime),
}

impl fmt::Display for DeviceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl core::str::FromStr for DeviceTime {
    type Err = ParseTimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceTime::parse(s)
    }
}

#[cfg(feature = "chrono")]
mod chrono_impl {
    use super::{DeviceTime, InvalidTime};
    use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

    impl TryFrom<DeviceTime> for NaiveDateTime {
        type Error = InvalidTime;
        fn try_from(t: DeviceTime) -> Result<Self, Self::Error> {
            t.validate()?;
            NaiveDate::from_ymd_opt(i32::from(t.year), u32::from(t.month), u32::from(t.day))
                .and_then(|d| {
                    d.and_hms_opt(u32::from(t.hour), u32::from(t.minute), u32::from(t.second))
                })
                .ok_or(InvalidTime::Day {
                    year: t.year,
                    month: t.month,
                    day: t.day,
                })
        }
    }

    impl TryFrom<NaiveDateTime> for DeviceTime {
        type Error = InvalidTime;
        fn try_from(t: NaiveDateTime) -> Result<Self, Self::Error> {
            let year = u16::try_from(t.year()).map_err(|_| InvalidTime::Year(0))?;
            // chrono values are always in range except the year; leap seconds map to :59.
            let dt = DeviceTime::new(
                year,
                t.month() as u8,
                t.day() as u8,
                t.hour() as u8,
                t.minute() as u8,
                t.second().min(59) as u8,
            );
            dt.validate()?;
            Ok(dt)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        assert_eq!(
            DeviceTime::new(2018, 6, 25, 17, 41, 5).to_packed(),
            Ok(0x2368B131)
        );
        assert_eq!(
            DeviceTime::from_packed(0x23689BC2),
            DeviceTime::new(2018, 6, 25, 16, 9, 38)
        );
        assert_eq!(
            DeviceTime::new(2024, 2, 29, 23, 59, 59).to_packed(),
            Ok(0x2E4969FF)
        );
        assert_eq!(
            DeviceTime::from_packed(0),
            DeviceTime::new(2000, 1, 1, 0, 0, 0)
        );
        // Counter-example for the wrong /365 decoders.
        assert_eq!(
            DeviceTime::from_packed(0x24661BF0),
            DeviceTime::new(2018, 12, 31, 23, 0, 0)
        );
        assert_eq!(
            DeviceTime::from_packed(0x1EA7EBA8),
            DeviceTime::new(2016, 1, 1, 19, 2, 0)
        );
    }

    #[test]
    fn packed_roundtrip_for_all_decodable_values_in_range() {
        // Every u32 below the 2100 boundary re-encodes to itself.
        let limit = 100 * 372 * 86_400u32;
        let mut t = 0u32;
        while t < limit {
            assert_eq!(DeviceTime::from_packed(t).to_packed(), Ok(t));
            t = t.wrapping_add(7_919_993);
        }
        assert!(DeviceTime::from_packed(u32::MAX).to_packed().is_err());
    }

    #[test]
    fn unix_seconds_roundtrip() {
        for secs in [
            0i64,
            946_684_800,
            951_868_800,
            4_102_444_799,
            -86_400,
            253_402_300_799,
        ] {
            let t = DeviceTime::from_unix_seconds(secs).unwrap();
            assert!(t.is_valid() || t.year < 2000 || t.year > 2099);
            assert_eq!(t.to_unix_seconds(), secs);
        }
        let mut s = 946_684_800i64;
        while s < 4_102_444_800 {
            assert_eq!(
                DeviceTime::from_unix_seconds(s).unwrap().to_unix_seconds(),
                s
            );
            s += 7_777_777;
        }
        assert_eq!(DeviceTime::from_unix_seconds(i64::MAX), None);
        assert_eq!(DeviceTime::from_unix_seconds(i64::MIN), None);
    }

    #[test]
    fn event_bytes() {
        let t = DeviceTime::from_event_bytes([0x12, 0x06, 0x19, 0x11, 0x29, 0x05]);
        assert_eq!(t, DeviceTime::new(2018, 6, 25, 17, 41, 5));
        assert_eq!(t.to_event_bytes(), Ok([0x12, 0x06, 0x19, 0x11, 0x29, 0x05]));
    }
}
