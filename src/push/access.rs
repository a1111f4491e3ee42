//! 3.x (A&C) record lines: `rtlog`, `rtstate` and the tagged records of
//! `tabledata` / `querydata` bodies (push §3.9–§3.12). All are parsed by
//! key, in any order; unknown keys are kept.
//!
//! ```
//! use zkproto::push::access::RtLog;
//! let r = RtLog::parse("time=2017-01-10 11:49:32\tpin=0\tcardno=0\teventaddr=1\tevent=27\tinoutstatus=1\tverifytype=0\tindex=21").unwrap();
//! assert_eq!((r.event, r.door, r.index, r.in_out), (27, 1, 21, 1));
//! ```

use super::body::{Fields, split_tag};
use super::error::DecodeError;
use crate::panel::PanelTime;

/// A tagged record of a `tabledata` / `querydata` body: `user uid=…`,
/// `templatev10 …`, `biodata …`, `transaction …` (the tag may be absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRecord {
    /// The leading tag, as sent (`user`, `transaction`, …).
    pub tag: Option<String>,
    /// The fields.
    pub fields: Fields,
}

impl TableRecord {
    /// Parses one record line.
    ///
    /// ```
    /// use zkproto::push::access::TableRecord;
    /// let r = TableRecord::parse("user uid=5\tcardno=\tpin=4").unwrap();
    /// assert_eq!((r.tag.as_deref(), r.fields.get("pin")), (Some("user"), Some("4")));
    /// assert_eq!(TableRecord::parse("pin=4").unwrap().tag, None);
    /// ```
    pub fn parse(line: &str) -> Result<Self, DecodeError> {
        let (tag, rest) = split_tag(line);
        Ok(TableRecord {
            tag: tag.map(str::to_owned),
            fields: Fields::parse(rest)?,
        })
    }
}

fn time(f: &Fields) -> Result<PanelTime, DecodeError> {
    let t = f.get("time").ok_or(DecodeError::Missing("time"))?;
    PanelTime::parse_text(t).map_err(|_| DecodeError::bad("time", t))
}

/// A real-time access event (`table=rtlog`, push §3.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtLog {
    /// Event time (device local).
    pub time: PanelTime,
    /// User id, `0` when nobody was identified.
    pub pin: String,
    /// Card number as sent.
    pub card: String,
    /// `eventaddr`: the door id by default.
    pub door: u16,
    /// Event code (push §3.9: 0 normal open, 8 remote open, 27 not registered…).
    pub event: u16,
    /// `inoutstatus`: 0 in, 1 out, 2 n/a.
    pub in_out: u8,
    /// `verifytype` as sent (a code, or a 16-char bit string with `NewVFStyles`).
    pub verify: String,
    /// `index`: record id, unique on the device (the dedupe key, push §5.1).
    pub index: u64,
    /// Other keys (`sitecode`, `linkid`, `maskflag`, `temperature`, …).
    pub extra: Fields,
}

impl RtLog {
    /// Parses one rtlog line (`time`, `event`, `index` required).
    ///
    /// ```
    /// use zkproto::push::{DecodeError, access::RtLog};
    /// assert_eq!(RtLog::parse("time=2017-01-10 11:49:32\tindex=1"), Err(DecodeError::Missing("event")));
    /// assert_eq!(RtLog::parse("time=2017-01-10 11:49:32\tevent=1"), Err(DecodeError::Missing("index")));
    /// assert_eq!(RtLog::parse("event=1"), Err(DecodeError::Missing("time")));
    /// let r = RtLog::parse("time=2026-02-23 14:13:48\tpin=2\tcardno=9\tevent=3\tindex=140\tverifytype=15\tinoutstatus=0\tsitecode=0").unwrap();
    /// assert_eq!((r.pin.as_str(), r.card.as_str(), r.verify.as_str(), r.door), ("2", "9", "15", 0));
    /// assert_eq!(r.extra.get("sitecode"), Some("0"));
    /// ```
    pub fn parse(line: &str) -> Result<Self, DecodeError> {
        let f = Fields::parse(line)?;
        Ok(RtLog {
            time: time(&f)?,
            pin: f.text(&["pin"]).to_owned(),
            card: f.text(&["cardno"]).to_owned(),
            door: f.num("eventaddr", &["eventaddr"])?.unwrap_or(0),
            event: f
                .num("event", &["event"])?
                .ok_or(DecodeError::Missing("event"))?,
            in_out: f.num("inoutstatus", &["inoutstatus"])?.unwrap_or(0),
            verify: f.text(&["verifytype"]).to_owned(),
            index: f
                .num("index", &["index"])?
                .ok_or(DecodeError::Missing("index"))?,
            extra: f.others(&[
                "time",
                "pin",
                "cardno",
                "eventaddr",
                "event",
                "inoutstatus",
                "verifytype",
                "index",
            ]),
        })
    }
}

/// Door / relay / alarm state (`table=rtstate`, push §3.10). The hex
/// strings are kept as sent: their bit order and the relay polarity are
/// open questions (push §7 Q9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtState {
    /// State time.
    pub time: PanelTime,
    /// `sensor`: 2 bits per door.
    pub sensor: String,
    /// `relay`: 1 bit per door.
    pub relay: String,
    /// `alarm`: 2 hex chars per door.
    pub alarm: String,
    /// Other keys (`door` on a SenseFace).
    pub extra: Fields,
}

impl RtState {
    /// Parses one rtstate line (`time` required).
    ///
    /// ```
    /// use zkproto::push::access::RtState;
    /// let s = RtState::parse("time=2026-02-23 14:13:48\tsensor=01\trelay=00\talarm=0000\tdoor=01").unwrap();
    /// assert_eq!((s.sensor.as_str(), s.relay.as_str(), s.alarm.as_str()), ("01", "00", "0000"));
    /// assert_eq!(s.extra.get("door"), Some("01"));
    /// ```
    pub fn parse(line: &str) -> Result<Self, DecodeError> {
        let f = Fields::parse(line)?;
        Ok(RtState {
            time: time(&f)?,
            sensor: f.text(&["sensor"]).to_owned(),
            relay: f.text(&["relay"]).to_owned(),
            alarm: f.text(&["alarm"]).to_owned(),
            extra: f.others(&["time", "sensor", "relay", "alarm"]),
        })
    }
}
