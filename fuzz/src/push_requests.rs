//! The push core's request parser (`Request::parse`) on arbitrary path,
//! query and body, and the acknowledgement built for what parses.
//!
//! Input: a selector byte (endpoint, `% PATHS.len()`), an option byte
//! (character set, small limits), a length byte for the query string, the
//! query (lossy UTF-8), then the body.
//!
//! Properties: no panic; the serial number is 1–64 of `[A-Za-z0-9_-]`;
//! every ATTLOG record re-encodes to a line that parses back to it; kept
//! plus skipped lines never exceed the body's lines; `ack` never panics.

use crate::util::Input;
use zkproto::push::config::Charset;
use zkproto::push::{AttLog, Config, Limits, Message, Request, TableBody, reply};

/// The endpoints the selector chooses from (the last is not one).
pub const PATHS: [&str; 8] = [
    "/iclock/cdata",
    "/iclock/getrequest",
    "/iclock/devicecmd",
    "/iclock/querydata",
    "/iclock/registry",
    "/iclock/push",
    "/iclock/ping",
    "/iclock/nothing",
];

/// Runs the request check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let path = PATHS[usize::from(input.u8()) % PATHS.len()];
    let opt = input.u8();
    let qlen = usize::from(input.u8());
    let query = String::from_utf8_lossy(input.take(qlen)).into_owned();
    let body = input.rest();
    let charset = match opt % 3 {
        0 => Charset::Utf8OrGb18030,
        1 => Charset::Utf8,
        _ => Charset::Gb18030,
    };
    let limits = if opt & 0x80 != 0 {
        Limits {
            max_body: 256,
            max_line: 64,
        }
    } else {
        Limits::default()
    };
    let config = Config {
        charset,
        limits,
        ..Config::default()
    };
    let Ok(r) = Request::parse(path, &query, body, &config) else {
        return;
    };
    assert!(
        (1..=64).contains(&r.sn.len())
            && r.sn
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "serial number not checked: {:?}",
        r.sn
    );
    let lines = body.split(|&b| b == b'\n').count();
    if let Message::Upload(u) = &r.message {
        match &u.body {
            TableBody::AttLog(b) => {
                assert!(
                    b.records.len() + b.skipped.len() <= lines,
                    "more records than lines"
                );
                for a in &b.records {
                    let again = AttLog::parse(&a.to_line()).expect("ATTLOG line re-parses");
                    assert_eq!(&again, a, "ATTLOG record does not round-trip");
                }
            }
            TableBody::OperLog { records, .. } => {
                assert!(
                    records.records.len() + records.skipped.len() <= lines,
                    "more records than lines"
                );
            }
            _ => {}
        }
    }
    let _ = reply::ack(&r.message, &config);
}
