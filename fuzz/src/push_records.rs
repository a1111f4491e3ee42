//! The push core's line and list parsers on arbitrary text.
//!
//! Input: a selector byte (`% PARSERS` picks the parser), then the text
//! (lossy UTF-8).
//!
//! Properties: no panic; ATTLOG lines that parse re-encode to a line that
//! parses back to the same record; `Fields` keep every key they were given;
//! a command list yields no more commands than `C:` lines, each with a
//! valid id.

use crate::util::Input;
use zkproto::push::AttLog;
use zkproto::push::access::{RtLog, RtState, TableRecord};
use zkproto::push::body::{Fields, split_tag};
use zkproto::push::command::{CommandId, parse_command_list};
use zkproto::push::devicecmd::parse_results;
use zkproto::push::operlog::OperRecord;
use zkproto::push::options::{DeviceInfo, parse_options};
use zkproto::push::query::percent_decode;

/// Number of parsers the selector byte chooses from.
pub const PARSERS: u8 = 8;

/// Runs the record check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let sel = input.u8();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    match sel % PARSERS {
        0 => {
            if let Ok(a) = AttLog::parse(&text) {
                assert_eq!(
                    AttLog::parse(&a.to_line()).as_ref(),
                    Ok(&a),
                    "ATTLOG round trip"
                );
            }
        }
        1 => {
            let _ = OperRecord::parse(&text, false);
            let _ = OperRecord::parse(&text, true);
            let _ = split_tag(&text);
        }
        2 => {
            let _ = RtLog::parse(&text);
            let _ = RtState::parse(&text);
        }
        3 => {
            let _ = TableRecord::parse(&text);
        }
        4 => {
            if let Ok(f) = parse_options(&text) {
                for (k, v) in &f.0 {
                    assert!(
                        !k.contains([',', '\n']) && !v.contains('\n'),
                        "separator kept in {k:?}={v:?}"
                    );
                }
            }
            let _ = DeviceInfo::parse(&text);
        }
        5 => {
            if let Ok(results) = parse_results(&text) {
                assert!(
                    results.len() <= text.matches('=').count(),
                    "more results than keys"
                );
            }
        }
        6 => {
            if let Ok(f) = Fields::parse(&text) {
                for (k, v) in &f.0 {
                    assert!(f.get(k).is_some(), "key {k:?} lost");
                    assert!(
                        !k.contains('=') && !k.contains('\t') && !v.contains('\t'),
                        "split wrong: {k:?}={v:?}"
                    );
                }
            }
            let _ = percent_decode(&text);
        }
        _ => {
            let starts = text.lines().filter(|l| l.starts_with("C:")).count();
            let cmds = parse_command_list(&text);
            assert!(cmds.len() <= starts, "more commands than C: lines");
            for (id, _) in &cmds {
                assert!(
                    CommandId::new(id).is_ok(),
                    "invalid command id {id:?} accepted"
                );
            }
        }
    }
}
