//! A whole device request — path, query string and body, as the HTTP layer
//! hands them over — parsed into a typed [`Request`] (push §1–§3).
//!
//! The HTTP method is not needed: a `cdata` request with `options=all` is
//! the handshake, one with `table=` is an upload.
//!
//! ```
//! use zkproto::push::{Config, Dialect, Message, Request};
//! let r = Request::parse("/iclock/cdata", "SN=0316144680030&options=all&pushver=2.2.14&language=83", b"", &Config::default()).unwrap();
//! assert_eq!((r.sn.as_str(), r.dialect), ("0316144680030", Some(Dialect::Attendance)));
//! let Message::Handshake(h) = r.message else { panic!() };
//! assert_eq!(h.language, Some(83));
//! ```

use super::access::{RtLog, RtState, TableRecord};
use super::attlog::AttLog;
use super::body::{Batch, Fields, decode_text, lines};
use super::config::Config;
use super::devicecmd::{CommandResult, parse_results};
use super::endpoint::{Dialect, Endpoint, PushVersion};
use super::error::DecodeError;
use super::operlog::OperRecord;
use super::options::{DeviceInfo, parse_options};
use super::query::Query;

/// A parsed device request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Device serial number (`SN=`, 1–64 of `[A-Za-z0-9_-]`).
    pub sn: String,
    /// Where it was sent.
    pub endpoint: Endpoint,
    /// The dialect this request shows (push §2.6), or `None` when it carries
    /// no sign of one (a bare poll): then use what the handshake showed.
    pub dialect: Option<Dialect>,
    /// All query parameters, for anything not modelled.
    pub query: Query,
    /// What the request carries.
    pub message: Message,
}

/// What a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `GET cdata?options=all…` (push §2.1).
    Handshake(Handshake),
    /// `POST cdata?table=…` (push §3).
    Upload(Upload),
    /// `GET getrequest` (push §3.8), with `INFO=` if sent.
    Poll(Option<DeviceInfo>),
    /// `POST devicecmd` (push §3.13).
    Results(Vec<CommandResult>),
    /// `GET ping`.
    Ping,
    /// `POST registry` (3.x): the capability list (push §2.5).
    Registry(Fields),
    /// `GET`/`POST push` (3.x): the device asks for server parameters.
    PushParams,
    /// `POST querydata` (3.x, push §3.12).
    Query(QueryData),
}

/// Handshake parameters (push §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// `pushver`, or the dialect's default when absent (push §2.1).
    pub push_version: PushVersion,
    /// Whether `pushver` was absent.
    pub push_version_assumed: bool,
    /// `language` code (83 Simplified Chinese, 69 English, …).
    pub language: Option<u16>,
    /// `DeviceType` as sent (`att`, `pid`, `ins`, `acc`).
    pub device_type: Option<String>,
    /// `PushOptionsFlag=1`.
    pub push_options: bool,
    /// `pushcommkey`, as sent.
    pub comm_key: Option<String>,
}

/// An upload to `cdata` (push §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// `Stamp=` as sent (its meaning varies, push §7 Q16).
    pub stamp: Option<String>,
    /// The decoded body.
    pub body: TableBody,
}

/// A decoded table body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableBody {
    /// `table=ATTLOG`.
    AttLog(Batch<AttLog>),
    /// `table=OPERLOG`, `USERINFO` or `BIODATA` (lines dispatched by tag);
    /// `table` is the table named.
    OperLog {
        /// `OPERLOG`, `USERINFO` or `BIODATA`.
        table: &'static str,
        /// The records.
        records: Batch<OperRecord>,
    },
    /// `table=options`.
    Options(Fields),
    /// `table=rtlog` (3.x).
    RtLog(Batch<RtLog>),
    /// `table=rtstate` (3.x).
    RtState(Batch<RtState>),
    /// `table=tabledata&tablename=…&count=…` (3.x).
    TableData {
        /// `tablename`.
        table: String,
        /// `count` as announced.
        count: Option<u32>,
        /// The records.
        records: Batch<TableRecord>,
    },
}

/// A `querydata` post (3.x, push §3.12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryData {
    /// `type`: `tabledata`, `count`, `options`.
    pub kind: String,
    /// `cmdid` of the command answered.
    pub cmd_id: String,
    /// `tablename`.
    pub table: String,
    /// `count`, `packcnt`, `packidx`, as announced.
    pub count: Option<u32>,
    /// Total packets.
    pub packets: Option<u32>,
    /// This packet, 1-based.
    pub packet: Option<u32>,
    /// The records (for `type=options` and `count`, one record of `k=v` fields).
    pub records: Batch<TableRecord>,
}

impl Request {
    /// Parses a request; see the [module](self) docs.
    ///
    /// ```
    /// use zkproto::push::{Config, DecodeError, Request};
    /// let c = Config::default();
    /// assert_eq!(Request::parse("/iclock/cdata", "table=ATTLOG", b"", &c), Err(DecodeError::Missing("SN")));
    /// assert!(matches!(Request::parse("/iclock/cdata", "SN=a/b", b"", &c), Err(DecodeError::BadValue { field: "SN", .. })));
    /// assert_eq!(Request::parse("/iclock/cdata", "SN=1&table=FOO", b"", &c), Err(DecodeError::UnknownTable("FOO".into())));
    /// assert_eq!(Request::parse("/iclock/cdata", "SN=1", b"", &c), Err(DecodeError::Missing("table")));
    /// ```
    pub fn parse(
        path: &str,
        query: &str,
        body: &[u8],
        config: &Config,
    ) -> Result<Self, DecodeError> {
        let endpoint = Endpoint::from_path(path)?;
        let query = Query::parse(query, &config.limits)?;
        let sn = query.require("SN")?;
        let sn_ok = sn.len() <= 64
            && sn
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if sn.is_empty() || !sn_ok {
            return Err(DecodeError::bad("SN", sn));
        }
        let message = message(endpoint, &query, body, config)?;
        Ok(Request {
            sn: sn.to_owned(),
            endpoint,
            dialect: dialect(endpoint, &query, &message),
            message,
            query,
        })
    }
}

fn message(
    endpoint: Endpoint,
    q: &Query,
    body: &[u8],
    config: &Config,
) -> Result<Message, DecodeError> {
    let text = || body_text(body, config);
    Ok(match endpoint {
        Endpoint::Cdata if q.get("options").is_some() => Message::Handshake(handshake(q)?),
        Endpoint::Cdata => Message::Upload(upload(q, body, config)?),
        Endpoint::GetRequest => Message::Poll(q.get("INFO").map(DeviceInfo::parse)),
        Endpoint::DeviceCmd => Message::Results(parse_results(&text()?)?),
        Endpoint::Ping => Message::Ping,
        Endpoint::Registry => Message::Registry(parse_options(&text()?)?),
        Endpoint::Push => Message::PushParams,
        Endpoint::QueryData => Message::Query(query_data(q, body, config)?),
    })
}

/// A whole body as text, after the limit checks.
fn body_text(body: &[u8], config: &Config) -> Result<String, DecodeError> {
    drop(lines(body, &config.limits)?);
    decode_text(body, config.charset).map(|s| s.into_owned())
}

fn handshake(q: &Query) -> Result<Handshake, DecodeError> {
    let acc = q
        .get("DeviceType")
        .is_some_and(|t| t.eq_ignore_ascii_case("acc"));
    let push_version = match q.get("pushver") {
        Some(v) => v.parse()?,
        None if acc => PushVersion::ACCESS_DEFAULT,
        None => PushVersion::ATTENDANCE_DEFAULT,
    };
    let language = q
        .get("language")
        .map(|l| l.parse().map_err(|_| DecodeError::bad("language", l)));
    Ok(Handshake {
        push_version,
        push_version_assumed: q.get("pushver").is_none(),
        language: language.transpose()?,
        device_type: q.get("DeviceType").map(str::to_owned),
        push_options: q.get("PushOptionsFlag") == Some("1"),
        comm_key: q.get("pushcommkey").map(str::to_owned),
    })
}

fn upload(q: &Query, body: &[u8], config: &Config) -> Result<Upload, DecodeError> {
    let table = q.require("table")?;
    let oper = |table, bio| {
        Batch::decode(body, config, |l| OperRecord::parse(l, bio))
            .map(|records| TableBody::OperLog { table, records })
    };
    let body = match table.to_ascii_uppercase().as_str() {
        "ATTLOG" => TableBody::AttLog(Batch::decode(body, config, AttLog::parse)?),
        "OPERLOG" => oper("OPERLOG", false)?,
        "USERINFO" => oper("USERINFO", false)?,
        "BIODATA" => oper("BIODATA", true)?,
        "OPTIONS" => TableBody::Options(parse_options(&body_text(body, config)?)?),
        "RTLOG" => TableBody::RtLog(Batch::decode(body, config, RtLog::parse)?),
        "RTSTATE" => TableBody::RtState(Batch::decode(body, config, RtState::parse)?),
        "TABLEDATA" => TableBody::TableData {
            table: q.require("tablename")?.to_owned(),
            count: count(q, "count")?,
            records: Batch::decode(body, config, TableRecord::parse)?,
        },
        _ => return Err(DecodeError::UnknownTable(table.chars().take(64).collect())),
    };
    Ok(Upload {
        stamp: q.get("Stamp").map(str::to_owned),
        body,
    })
}

fn count(q: &Query, name: &'static str) -> Result<Option<u32>, DecodeError> {
    q.get(name)
        .map(|v| v.parse().map_err(|_| DecodeError::bad(name, v)))
        .transpose()
}

fn query_data(q: &Query, body: &[u8], config: &Config) -> Result<QueryData, DecodeError> {
    let kind = q.require("type")?.to_owned();
    let options = kind.eq_ignore_ascii_case("options") || kind.eq_ignore_ascii_case("count");
    let records = Batch::decode(body, config, |l| {
        if options {
            parse_options(l).map(|fields| TableRecord { tag: None, fields })
        } else {
            TableRecord::parse(l)
        }
    })?;
    Ok(QueryData {
        kind,
        cmd_id: q.get("cmdid").unwrap_or("").to_owned(),
        table: q.require("tablename")?.to_owned(),
        count: count(q, "count")?,
        packets: count(q, "packcnt")?,
        packet: count(q, "packidx")?,
        records,
    })
}

/// The dialect rules of push §2.6, strongest sign first.
fn dialect(endpoint: Endpoint, q: &Query, message: &Message) -> Option<Dialect> {
    let acc_type = q
        .get("DeviceType")
        .is_some_and(|t| t.eq_ignore_ascii_case("acc"));
    let by_version = q
        .get("pushver")
        .and_then(|v| v.parse::<PushVersion>().ok())
        .and_then(PushVersion::dialect);
    match (endpoint, message) {
        (Endpoint::Registry | Endpoint::Push | Endpoint::QueryData, _) => Some(Dialect::Access),
        _ if acc_type => Some(Dialect::Access),
        _ if by_version.is_some() => by_version,
        (_, Message::Handshake(h)) => h.push_version.dialect(),
        (_, Message::Upload(u)) => match u.body {
            TableBody::RtLog(_) | TableBody::RtState(_) | TableBody::TableData { .. } => {
                Some(Dialect::Access)
            }
            TableBody::Options(_) => None,
            _ => Some(Dialect::Attendance),
        },
        _ => None,
    }
}
