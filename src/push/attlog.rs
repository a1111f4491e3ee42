//! `table=ATTLOG` punch lines (2.x, push §3.2): positional, HT-separated.
//!
//! ```
//! use zkproto::push::AttLog;
//! let a = AttLog::parse("1\t2024-07-28 01:25:24\t0\t1\t\t0\t0\t").unwrap();
//! assert_eq!((a.pin.as_str(), a.status, a.verify), ("1", 0, 1));
//! assert_eq!(a.time.to_string(), "2024-07-28 01:25:24");
//! assert_eq!(a.to_line(), "1\t2024-07-28 01:25:24\t0\t1\t\t0\t0");
//! ```

use super::error::DecodeError;
use crate::panel::PanelTime;

/// One attendance punch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttLog {
    /// User id (text; may have leading zeros).
    pub pin: String,
    /// Device-local time, no zone (push §5.9).
    pub time: PanelTime,
    /// 0 check-in, 1 check-out, 2 break-out, 3 break-in, 4 OT-in, 5 OT-out;
    /// other values (255) kept as sent.
    pub status: u16,
    /// Verify mode actually used (push §3.2.1; code 0 is ambiguous, §7 Q6).
    pub verify: u16,
    /// Work code, often empty.
    pub workcode: String,
    /// Fields 5 onwards as sent (reserved, mask flag, temperature, time
    /// offset, extend data — firmware-dependent); trailing empty fields
    /// (from trailing HTs) are dropped, so the line re-encodes to itself.
    pub rest: Vec<String>,
}

impl AttLog {
    /// Parses one line (without its line ending).
    ///
    /// ```
    /// use zkproto::push::{AttLog, DecodeError};
    /// assert_eq!(AttLog::parse("1\t2024-07-28 01:25:24\t0"), Err(DecodeError::Missing("Verify")));
    /// assert!(matches!(AttLog::parse("\t2024-07-28 01:25:24\t0\t1"), Err(DecodeError::Missing("PIN"))));
    /// assert!(matches!(AttLog::parse("1\t2024-07-28\t0\t1"), Err(DecodeError::BadValue { field: "Time", .. })));
    /// assert_eq!(AttLog::parse("1\t2024-07-28 01:25:24\t0\t1\t\t0\t\t\t").unwrap().rest, ["0"]);
    /// ```
    pub fn parse(line: &str) -> Result<Self, DecodeError> {
        let mut f = line.split('\t');
        let mut next = |name| {
            f.next()
                .filter(|s| !s.is_empty())
                .ok_or(DecodeError::Missing(name))
        };
        let pin = next("PIN")?.to_owned();
        let time_text = next("Time")?;
        let time =
            PanelTime::parse_text(time_text).map_err(|_| DecodeError::bad("Time", time_text))?;
        let status = number("Status", next("Status")?)?;
        let verify = number("Verify", next("Verify")?)?;
        let workcode = f.next().unwrap_or("").to_owned();
        let mut rest: Vec<String> = f.map(str::to_owned).collect();
        while rest.last().is_some_and(String::is_empty) {
            rest.pop();
        }
        Ok(AttLog {
            pin,
            time,
            status,
            verify,
            workcode,
            rest,
        })
    }

    /// The line as a device would send it (no line ending, no trailing HT).
    ///
    /// ```
    /// use zkproto::push::AttLog;
    /// let a = AttLog::parse("2\t2022-07-12 16:00:20\t1\t15").unwrap();
    /// assert_eq!(a.to_line(), "2\t2022-07-12 16:00:20\t1\t15\t");
    /// ```
    pub fn to_line(&self) -> String {
        let mut s = format!(
            "{}\t{}\t{}\t{}\t{}",
            self.pin, self.time, self.status, self.verify, self.workcode
        );
        for r in &self.rest {
            s.push('\t');
            s.push_str(r);
        }
        s
    }
}

fn number(field: &'static str, s: &str) -> Result<u16, DecodeError> {
    s.parse().map_err(|_| DecodeError::bad(field, s))
}
