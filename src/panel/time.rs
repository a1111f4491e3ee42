//! Date and time encodings (reference §4.3, §5.4, §7.4).
//!
//! * [`PanelTime`]: the packed u32 "seconds since 2000 in 12 × 31-day months"
//!   used by `DateTime`, real-time log records and `transaction.Time_second`,
//!   and the text form `YYYY-MM-DD hh:mm:ss` of the text real-time log;
//! * [`TimeSpan`]: a time-zone interval `(start_hhmm << 16) | end_hhmm`.
//!
//! ```
//! use zkproto::panel::PanelTime;
//! let t = PanelTime::from_packed(812_649_252).unwrap();
//! assert_eq!(t.to_string(), "2025-04-13 15:54:12");
//! assert_eq!(t.to_packed(), 812_649_252);
//! assert!(PanelTime::new(2024, 2, 30, 0, 0, 0).is_err());
//! ```

use super::error::TimeError;
use core::fmt;

const DAY: u32 = 86_400;

/// A calendar date and time as the panel stores it (no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PanelTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

impl PanelTime {
    /// The earliest representable time, 2000-01-01 00:00:00 (packed 0).
    pub const MIN: PanelTime = PanelTime {
        year: 2000,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    };
    /// The latest representable time, 2133-08-18 06:28:15 (packed `u32::MAX`).
    pub const MAX: PanelTime = PanelTime {
        year: 2133,
        month: 8,
        day: 18,
        hour: 6,
        minute: 28,
        second: 15,
    };

    /// A validated time: a real calendar date between [`PanelTime::MIN`] and [`PanelTime::MAX`].
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, TimeError> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(TimeError::InvalidDate { year, month, day });
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(TimeError::InvalidTime {
                hour,
                minute,
                second,
            });
        }
        let t = PanelTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        if t < Self::MIN || t > Self::MAX {
            return Err(TimeError::OutOfRange { year, month, day });
        }
        Ok(t)
    }

    /// Year (2000–2133).
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month (1–12).
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of month (1–31).
    pub fn day(&self) -> u8 {
        self.day
    }
    /// Hour (0–23).
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute (0–59).
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// Second (0–59).
    pub fn second(&self) -> u8 {
        self.second
    }

    /// Decodes a packed value; invalid calendar dates (February 30, …) are rejected.
    pub fn from_packed(v: u32) -> Result<Self, TimeError> {
        let second = (v % 60) as u8;
        let minute = (v / 60 % 60) as u8;
        let hour = (v / 3600 % 24) as u8;
        let day = (v / DAY % 31 + 1) as u8;
        let month = (v / (DAY * 31) % 12 + 1) as u8;
        let year = (v / (DAY * 31 * 12) + 2000) as u16;
        Self::new(year, month, day, hour, minute, second)
    }

    /// The packed value.
    pub fn to_packed(&self) -> u32 {
        let days = (u32::from(self.year) - 2000) * 372
            + (u32::from(self.month) - 1) * 31
            + u32::from(self.day)
            - 1;
        // In range by construction (MIN..=MAX), so this cannot overflow.
        days.wrapping_mul(DAY).wrapping_add(
            u32::from(self.hour) * 3600 + u32::from(self.minute) * 60 + u32::from(self.second),
        )
    }

    /// Parses `YYYY-MM-DD hh:mm:ss` (the text real-time log's form).
    ///
    /// ```
    /// use zkproto::panel::PanelTime;
    /// let t = PanelTime::parse_text("2023-12-09 15:09:33").unwrap();
    /// assert_eq!((t.year(), t.minute()), (2023, 9));
    /// ```
    pub fn parse_text(text: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadText {
            text: text.chars().take(32).collect(),
        };
        let b = text.as_bytes();
        if b.len() != 19 {
            return Err(bad());
        }
        let num = |from: usize, len: usize| -> Result<u16, TimeError> {
            let digits = b.get(from..from + len).ok_or_else(bad)?;
            digits.iter().try_fold(0u16, |acc, &d| {
                if d.is_ascii_digit() {
                    Ok(acc * 10 + u16::from(d - b'0'))
                } else {
                    Err(bad())
                }
            })
        };
        let seps = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
            return Err(bad());
        }
        let small = |v: u16| u8::try_from(v).map_err(|_| bad());
        Self::new(
            num(0, 4)?,
            small(num(5, 2)?)?,
            small(num(8, 2)?)?,
            small(num(11, 2)?)?,
            small(num(14, 2)?)?,
            small(num(17, 2)?)?,
        )
    }
}

impl fmt::Display for PanelTime {
    /// `YYYY-MM-DD hh:mm:ss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// A time-zone interval, stored as `(start_hhmm << 16) | end_hhmm` with
/// `hhmm` in decimal (08:30 = 830) (reference §5.4 step 4).
///
/// ```
/// use zkproto::panel::time::TimeSpan;
/// let s = TimeSpan::from_raw(0x033E_04CE);
/// assert_eq!((s.start_hhmm, s.end_hhmm), (830, 1230));
/// assert_eq!(TimeSpan::WHOLE_DAY.to_raw(), 2359);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeSpan {
    /// Start, `hh * 100 + mm`.
    pub start_hhmm: u16,
    /// End, `hh * 100 + mm`.
    pub end_hhmm: u16,
}

impl TimeSpan {
    /// 00:00–23:59.
    pub const WHOLE_DAY: TimeSpan = TimeSpan {
        start_hhmm: 0,
        end_hhmm: 2359,
    };

    /// From the raw table value.
    pub const fn from_raw(v: u32) -> Self {
        TimeSpan {
            start_hhmm: (v >> 16) as u16,
            end_hhmm: (v & 0xffff) as u16,
        }
    }

    /// The raw table value.
    pub const fn to_raw(self) -> u32 {
        ((self.start_hhmm as u32) << 16) | self.end_hhmm as u32
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_checks() {
        for (v, text) in [
            (347_748_895, "2010-10-26 20:54:55"),
            (812_649_252, "2025-04-13 15:54:12"),
            (754_732_325, "2023-06-25 07:52:05"),
            (769_296_829, "2023-12-07 21:33:49"),
        ] {
            let t = PanelTime::from_packed(v).unwrap();
            assert_eq!(t.to_string(), text);
            assert_eq!(t.to_packed(), v);
            assert_eq!(PanelTime::parse_text(text), Ok(t));
        }
        assert_eq!(PanelTime::from_packed(0), Ok(PanelTime::MIN));
        assert_eq!(PanelTime::from_packed(u32::MAX), Ok(PanelTime::MAX));
        assert_eq!(PanelTime::MAX.to_packed(), u32::MAX);
    }

    #[test]
    fn invalid_values() {
        // 2024-02-30: day index 29 of month index 1
        let feb30 = (24 * 372 + 31 + 29) * DAY;
        assert_eq!(
            PanelTime::from_packed(feb30),
            Err(TimeError::InvalidDate {
                year: 2024,
                month: 2,
                day: 30
            })
        );
        assert!(PanelTime::new(2133, 8, 18, 6, 28, 16).is_err());
        assert!(PanelTime::new(1999, 12, 31, 0, 0, 0).is_err());
        assert!(PanelTime::new(2000, 1, 1, 24, 0, 0).is_err());
        for bad in [
            "2023-12-09T15:09:33",
            "2023-12-09 15:09",
            "2023-1a-09 15:09:33",
            "2023-12-09 15:09:333",
        ] {
            assert!(PanelTime::parse_text(bad).is_err(), "{bad}");
        }
    }

    fn any_time() -> impl Strategy<Value = PanelTime> {
        (
            2000u16..=2133,
            1u8..=12,
            1u8..=31,
            0u8..24,
            0u8..60,
            0u8..60,
        )
            .prop_filter_map("valid", |(y, mo, d, h, mi, s)| {
                PanelTime::new(y, mo, d, h, mi, s).ok()
            })
    }

    proptest! {
        #[test]
        fn packed_round_trip(t in any_time()) {
            prop_assert_eq!(PanelTime::from_packed(t.to_packed()), Ok(t));
            prop_assert_eq!(PanelTime::parse_text(&t.to_string()), Ok(t));
        }

        #[test]
        fn decode_then_encode(v: u32) {
            if let Ok(t) = PanelTime::from_packed(v) {
                prop_assert_eq!(t.to_packed(), v);
            }
        }

        #[test]
        fn span_round_trip(v: u32) {
            prop_assert_eq!(TimeSpan::from_raw(v).to_raw(), v);
        }
    }
}
