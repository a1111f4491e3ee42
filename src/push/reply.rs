//! Server replies: acknowledgements, handshake blocks and the `Date`
//! header value (push §1.1, §2.2, §2.5, §3.2, §3.11, §5.2).
//!
//! * Every reply should carry an HTTP `Date:` header in RFC 1123 GMT form:
//!   2.x firmware sets its clock from it and 3.x requires it (push §1.1).
//!   [`HttpDate`] formats it from a time the caller passes in (this core
//!   reads no clock).
//! * [`ack`] gives the body that acknowledges an upload: `OK:<n>` for
//!   ATTLOG / OPERLOG (style per [`CountStyle`]), `<table>=<n>` for 3.x
//!   tabledata and querydata (answering `OK` there makes the device resend,
//!   push §5.2), `OK` otherwise.
//! * [`OptionBlock`] builds the 2.x `GET OPTION FROM` block, the 3.x
//!   `registry=ok` block and the `/iclock/push` parameter block.
//!
//! ```
//! use zkproto::push::reply::HttpDate;
//! assert_eq!(HttpDate(1_436_338_381).to_string(), "Wed, 08 Jul 2015 06:53:01 GMT");
//! ```

use super::config::{Config, CountStyle, LineEnding, TokenSeparator};
use super::error::EncodeError;
use super::request::{Message, TableBody};
use super::text::{check_key, check_value};
use core::fmt;

/// The plain acknowledgement.
pub const OK: &str = "OK";

/// `OK:<n>`, `OK: <n>` or `OK` (push §3.2, §7 Q3).
///
/// ```
/// use zkproto::push::{config::CountStyle, reply::count_ok};
/// assert_eq!(count_ok(3, CountStyle::Colon), "OK:3");
/// assert_eq!(count_ok(3, CountStyle::ColonSpace), "OK: 3");
/// assert_eq!(count_ok(3, CountStyle::Bare), "OK");
/// ```
pub fn count_ok(n: usize, style: CountStyle) -> String {
    match style {
        CountStyle::Colon => format!("OK:{n}"),
        CountStyle::ColonSpace => format!("OK: {n}"),
        CountStyle::Bare => OK.to_owned(),
    }
}

/// `<table>=<n>` (push §3.11, §3.12).
///
/// ```
/// use zkproto::push::reply::table_count;
/// assert_eq!(table_count("user", 1).unwrap(), "user=1");
/// assert!(table_count("user\nC:1:REBOOT", 1).is_err());
/// ```
pub fn table_count(table: &str, n: usize) -> Result<String, EncodeError> {
    Ok(format!("{}={n}", check_key("table", table)?))
}

/// The body acknowledging `message`, or `None` where the server must
/// decide (handshake, poll, registry, push parameters).
///
/// ```
/// use zkproto::push::{Config, Request, reply::ack};
/// let c = Config::default();
/// let r = Request::parse("/iclock/cdata", "SN=1&table=ATTLOG", b"1\t2024-07-28 01:25:24\t0\t1\n", &c).unwrap();
/// assert_eq!(ack(&r.message, &c).unwrap().as_deref(), Some("OK:1"));
/// let r = Request::parse("/iclock/cdata", "SN=1&table=tabledata&tablename=user&count=1", b"user pin=4\n", &c).unwrap();
/// assert_eq!(ack(&r.message, &c).unwrap().as_deref(), Some("user=1"));
/// let r = Request::parse("/iclock/ping", "SN=1", b"", &c).unwrap();
/// assert_eq!(ack(&r.message, &c).unwrap().as_deref(), Some("OK"));
/// let r = Request::parse("/iclock/getrequest", "SN=1", b"", &c).unwrap();
/// assert_eq!(ack(&r.message, &c).unwrap(), None);
/// ```
pub fn ack(message: &Message, config: &Config) -> Result<Option<String>, EncodeError> {
    let body = match message {
        Message::Upload(u) => match &u.body {
            TableBody::AttLog(b) => count_ok(b.records.len(), config.count_style),
            TableBody::OperLog {
                table: "OPERLOG",
                records,
            } => count_ok(records.records.len(), config.count_style),
            TableBody::TableData { table, records, .. } => {
                table_count(table, records.records.len())?
            }
            _ => OK.to_owned(),
        },
        Message::Query(q) => table_count(&q.table, q.records.records.len())?,
        Message::Results(_) | Message::Ping => OK.to_owned(),
        _ => return Ok(None),
    };
    Ok(Some(body))
}

/// An HTTP `Date` value (RFC 1123, GMT) for `.0` seconds after the Unix
/// epoch.
///
/// ```
/// use zkproto::push::reply::HttpDate;
/// assert_eq!(HttpDate(0).to_string(), "Thu, 01 Jan 1970 00:00:00 GMT");
/// assert_eq!(HttpDate(1_203_436_330).to_string(), "Tue, 19 Feb 2008 15:52:10 GMT");
/// assert_eq!(HttpDate(951_782_400).to_string(), "Tue, 29 Feb 2000 00:00:00 GMT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpDate(pub u64);

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = self.0 / 86_400;
        let secs = self.0 % 86_400;
        // Civil from days (H. Hinnant), with eras starting 0000-03-01.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = (mp + 2) % 12;
        let year = yoe + era * 400 + u64::from(month < 2);
        write!(
            f,
            "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
            DAYS.get((days % 7) as usize).unwrap_or(&"Thu"),
            MONTHS.get(month as usize).unwrap_or(&"Jan"),
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// A block of `Key=Value` lines under an optional first line.
///
/// ```
/// use zkproto::push::{config::{LineEnding, TokenSeparator}, reply::OptionBlock};
/// let b = OptionBlock::attendance("0316144680030").unwrap()
///     .set("ATTLOGStamp", "None").unwrap()
///     .trans_flag(&["AttLog", "OpLog"], TokenSeparator::Tab).unwrap()
///     .set("TimeZone", 8).unwrap();
/// assert_eq!(b.encode(LineEnding::Lf),
///     "GET OPTION FROM: 0316144680030\nATTLOGStamp=None\nTransFlag=TransData AttLog\tOpLog\nTimeZone=8\n");
/// assert!(OptionBlock::params().set("A", "x\ny").is_err());
/// assert!(OptionBlock::params().set("A=B", 1).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionBlock {
    header: Option<String>,
    lines: Vec<(String, String)>,
}

impl OptionBlock {
    /// The 2.x handshake reply, first line `GET OPTION FROM: <sn>` (push §2.2).
    pub fn attendance(sn: &str) -> Result<Self, EncodeError> {
        Ok(OptionBlock {
            header: Some(format!("GET OPTION FROM: {}", check_value("SN", sn)?)),
            lines: Vec::new(),
        })
    }

    /// The 3.x init reply of a registered device: `registry=ok` then
    /// `RegistryCode=<code>` (push §2.5; code 1–32 characters).
    ///
    /// ```
    /// use zkproto::push::{config::LineEnding, reply::OptionBlock};
    /// let b = OptionBlock::registered("Uy47fxftP3").unwrap().set("RequestDelay", 2).unwrap();
    /// assert_eq!(b.encode(LineEnding::CrLf), "registry=ok\r\nRegistryCode=Uy47fxftP3\r\nRequestDelay=2\r\n");
    /// assert!(OptionBlock::registered("").is_err() && OptionBlock::registered(&"x".repeat(33)).is_err());
    /// ```
    pub fn registered(code: &str) -> Result<Self, EncodeError> {
        let block = OptionBlock {
            header: Some("registry=ok".to_owned()),
            lines: Vec::new(),
        };
        block.set("RegistryCode", registry_code_value(code)?)
    }

    /// A block without a first line: the `/iclock/push` parameters (push §2.5).
    pub fn params() -> Self {
        OptionBlock {
            header: None,
            lines: Vec::new(),
        }
    }

    /// Appends `key=value` (key: no `=`, HT, CR, LF, NUL; value: no CR, LF, NUL).
    pub fn set(mut self, key: &str, value: impl fmt::Display) -> Result<Self, EncodeError> {
        let value = value.to_string();
        check_key("key", key)?;
        if let Some(c) = value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
            return Err(EncodeError::Forbidden {
                field: "value",
                found: c,
            });
        }
        self.lines.push((key.to_owned(), value));
        Ok(self)
    }

    /// Appends `TransFlag=TransData <tokens>` (push §2.3).
    pub fn trans_flag(self, tokens: &[&str], sep: TokenSeparator) -> Result<Self, EncodeError> {
        for t in tokens {
            check_key("TransFlag", t)?;
        }
        let joined = tokens.join(&sep.as_char().to_string());
        self.set("TransFlag", format!("TransData {joined}"))
    }

    /// The block, every line ended by `ending`.
    pub fn encode(&self, ending: LineEnding) -> String {
        let mut out = String::new();
        for line in self
            .header
            .iter()
            .cloned()
            .chain(self.lines.iter().map(|(k, v)| format!("{k}={v}")))
        {
            out.push_str(&line);
            out.push_str(ending.as_str());
        }
        out
    }
}

/// `RegistryCode=<code>`, the reply to `/iclock/registry` (push §2.5).
///
/// ```
/// use zkproto::push::reply::registry_code;
/// assert_eq!(registry_code("Uy47fxftP3").unwrap(), "RegistryCode=Uy47fxftP3");
/// ```
pub fn registry_code(code: &str) -> Result<String, EncodeError> {
    Ok(format!("RegistryCode={}", registry_code_value(code)?))
}

fn registry_code_value(code: &str) -> Result<&str, EncodeError> {
    let len = code.chars().count();
    if len == 0 || len > 32 {
        return Err(EncodeError::Length {
            field: "RegistryCode",
            len,
            max: 32,
        });
    }
    check_key("RegistryCode", code)
}

/// The reply to a 3.x init request (`GET cdata?options=all`) from a device
/// that is not registered yet (push §2.5, §7 Q5): `OK` by default, or the
/// encoded `options` block with [`AccessInit::OptionBlock`](super::config::AccessInit).
///
/// ```
/// use zkproto::push::{Config, config::AccessInit, reply::{OptionBlock, unregistered_init}};
/// let block = OptionBlock::attendance("3383154200002").unwrap().set("Delay", 10).unwrap();
/// assert_eq!(unregistered_init(&block, &Config::default()), "OK");
/// let c = Config { access_init: AccessInit::OptionBlock, ..Config::default() };
/// assert_eq!(unregistered_init(&block, &c), "GET OPTION FROM: 3383154200002\nDelay=10\n");
/// ```
pub fn unregistered_init(options: &OptionBlock, config: &Config) -> String {
    match config.access_init {
        super::config::AccessInit::Ok => OK.to_owned(),
        super::config::AccessInit::OptionBlock => options.encode(config.line_ending),
    }
}
