//! Property tests of the push core: what is built parses back to the same
//! value, checked text never spans fields or lines, and no input panics.

use proptest::prelude::*;
use zkproto::panel::PanelTime;
use zkproto::push::command::{Command, CommandId, command_list, parse_command_list};
use zkproto::push::config::LineEnding;
use zkproto::push::devicecmd::parse_results;
use zkproto::push::operlog::{OperRecord, UserInfo};
use zkproto::push::options::parse_options;
use zkproto::push::query::percent_decode;
use zkproto::push::reply::OptionBlock;
use zkproto::push::{AttLog, Config, Request};

fn time() -> impl Strategy<Value = PanelTime> {
    (2000u16..2099, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60)
        .prop_map(|(y, mo, d, h, mi, s)| PanelTime::new(y, mo, d, h, mi, s).unwrap())
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{1,10}"
}

/// Text a name may hold: anything but HT, CR, LF, NUL.
fn name() -> impl Strategy<Value = String> {
    "[^\t\r\n\0]{0,20}"
}

proptest! {
    #[test]
    fn attlog_line_round_trips(
        pin in word(), time in time(), status in any::<u16>(), verify in any::<u16>(),
        workcode in "[0-9]{0,3}", mut rest in prop::collection::vec("[0-9A-Za-z+=]{0,4}", 0..7),
    ) {
        if rest.last().is_some_and(String::is_empty) {
            rest.push("0".into());
        }
        let a = AttLog { pin, time, status, verify, workcode, rest };
        prop_assert_eq!(AttLog::parse(&a.to_line()).unwrap(), a);
    }

    #[test]
    fn user_command_parses_back_as_a_user(
        pin in word(), name in name(), privilege in any::<u8>(), password in "[0-9]{0,6}",
        card in "[0-9]{0,10}", group in "[1-9]{1,2}", tz in "[0-9]{0,16}", verify in "(-1|[0-9]{0,2})",
    ) {
        let u = UserInfo { pin, name, privilege, password, card, group, time_zones: tz, verify, ..UserInfo::default() };
        let line = Command::UpdateUser(u.clone()).encode(&Config::default()).unwrap();
        prop_assert!(!line.contains(['\n', '\r']));
        let rec = line.strip_prefix("DATA UPDATE USERINFO ").unwrap();
        prop_assert_eq!(OperRecord::parse(rec, false).unwrap(), OperRecord::User(u));
    }

    #[test]
    fn forbidden_characters_are_always_refused(pre in name(), bad in "[\t\r\n\0]", post in name()) {
        let u = UserInfo { pin: "1".into(), name: format!("{pre}{bad}{post}"), ..UserInfo::default() };
        prop_assert!(Command::UpdateUser(u).encode(&Config::default()).is_err());
    }

    #[test]
    fn command_lists_split_back(cmds in prop::collection::vec((1u32..100_000, "[A-Z][A-Z ]{0,10}[A-Z]"), 0..8), crlf in any::<bool>()) {
        let c = Config { line_ending: if crlf { LineEnding::CrLf } else { LineEnding::Lf }, ..Config::default() };
        let list: Vec<_> = cmds.iter().map(|(id, t)| (CommandId::from(*id), Command::Raw(t.clone()))).collect();
        let text = command_list(&list, &c).unwrap();
        let back = parse_command_list(&text);
        let want: Vec<_> = cmds.iter().map(|(id, t)| (id.to_string(), t.clone())).collect();
        prop_assert_eq!(back, want);
    }

    #[test]
    fn results_round_trip(results in prop::collection::vec((word(), any::<i32>(), "[A-Z]{1,6}( [A-Z]{1,6})?"), 1..6), lf in any::<bool>()) {
        let sep = if lf { "\n" } else { "&" };
        let body: Vec<String> = results.iter().map(|(id, code, cmd)| format!("ID={id}{sep}Return={code}{sep}CMD={cmd}")).collect();
        let parsed = parse_results(&body.join("\n")).unwrap();
        let got: Vec<_> = parsed.iter().map(|r| (r.id.clone(), r.code, r.cmd.clone())).collect();
        prop_assert_eq!(got, results);
    }

    #[test]
    fn option_blocks_parse_back(pairs in prop::collection::vec(("[A-Za-z~][A-Za-z0-9]{0,12}", "[^\r\n\0,]{0,20}"), 0..10)) {
        let mut b = OptionBlock::params();
        for (k, v) in &pairs {
            b = b.set(k, v).unwrap();
        }
        let text = b.encode(LineEnding::Lf);
        let back: Vec<_> = text.lines().map(|l| { let (k, v) = l.split_once('=').unwrap(); (k.to_owned(), v.to_owned()) }).collect();
        prop_assert_eq!(&back, &pairs);
        // The same pairs as a comma list (values without commas) parse back too.
        let list: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let fields = parse_options(&list.join(",")).unwrap();
        let trimmed: Vec<_> = pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(fields.0, trimmed);
    }

    #[test]
    fn percent_encoding_round_trips(s in "\\PC{0,30}") {
        let enc: String = s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
        prop_assert_eq!(percent_decode(&enc).unwrap(), s);
    }

    #[test]
    fn no_input_panics(
        path in prop::sample::select(vec!["/iclock/cdata", "/iclock/getrequest", "/iclock/devicecmd", "/iclock/querydata", "/iclock/registry", "/iclock/ping", "/x"]),
        query in "(SN=[A-Z0-9]{1,4}|table=(ATTLOG|OPERLOG|USERINFO|BIODATA|options|rtlog|rtstate|tabledata)|tablename=user|type=(count|tabledata|options)|options=all|pushver=[0-9.]{0,5}|INFO=[^&]{0,10}|%[0-9a-g]{0,2})(&[A-Za-z]{1,8}=[^&]{0,6}){0,4}",
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let _ = Request::parse(path, &query, &body, &Config::default());
    }
}
