//! Golden vectors of the push protocol (push §6), read from
//! tests/vectors/push/ (see its README for provenance): each request is
//! parsed to its documented meaning, each reply and command is rebuilt to
//! the same bytes.

use zkproto::panel::PanelTime;
use zkproto::panel::time::TimeSpan;
use zkproto::push::access::RtLog;
use zkproto::push::command::{
    AccessUser, Command, CommandId, ControlDevice, command_line, command_list, parse_command_list,
};
use zkproto::push::config::{LineEnding, TokenSeparator, UserKeys};
use zkproto::push::devicecmd::{CommandResult, parse_results};
use zkproto::push::operlog::{OperRecord, UserInfo};
use zkproto::push::reply::{self, HttpDate, OptionBlock};
use zkproto::push::{Config, Dialect, Endpoint, Message, PushVersion, Request, TableBody};

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/push/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(vector(name)).unwrap()
}

/// Splits a raw request into (method, path, query, headers, body).
fn http(name: &str) -> (String, String, String, Vec<String>, Vec<u8>) {
    let raw = vector(name);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let target = first.next().unwrap();
    assert_eq!(first.next(), Some("HTTP/1.1"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines.map(str::to_owned).collect();
    (
        method,
        path.into(),
        query.into(),
        headers,
        raw[end + 4..].to_vec(),
    )
}

fn parse_http(name: &str) -> Request {
    let (_, path, query, _, body) = http(name);
    Request::parse(&path, &query, &body, &Config::default()).unwrap()
}

fn post(path: &str, query: &str, body: &[u8]) -> Request {
    Request::parse(path, query, body, &Config::default()).unwrap()
}

fn upload(r: &Request) -> &TableBody {
    match &r.message {
        Message::Upload(u) => &u.body,
        m => panic!("not an upload: {m:?}"),
    }
}

fn ack(r: &Request) -> String {
    reply::ack(&r.message, &Config::default()).unwrap().unwrap()
}

fn t(s: &str) -> PanelTime {
    PanelTime::parse_text(s).unwrap()
}

/// Every line of the block ends with LF; the stored vector has none after the last.
fn block_eq(built: String, name: &str) {
    assert_eq!(built.strip_suffix('\n').unwrap(), text(name), "{name}");
}

#[test]
fn v01_handshake_2x() {
    let (method, _, _, headers, _) = http("01_handshake_2x.http");
    assert_eq!(method, "GET");
    assert!(headers.contains(&"User-Agent: iClock Proxy/1.09".to_owned()));
    let r = parse_http("01_handshake_2x.http");
    assert_eq!(
        (r.sn.as_str(), r.endpoint),
        ("0316144680030", Endpoint::Cdata)
    );
    assert_eq!(r.dialect, Some(Dialect::Attendance));
    let Message::Handshake(h) = &r.message else {
        panic!("{r:?}")
    };
    assert_eq!(h.push_version, PushVersion::ATTENDANCE_DEFAULT);
    assert!(!h.push_version_assumed && !h.push_options);
    assert_eq!(h.language, Some(83));
    assert_eq!(
        h.comm_key.as_deref(),
        Some("4a9594af164f2b9779b59e8554b5df26")
    );
    assert_eq!(reply::ack(&r.message, &Config::default()).unwrap(), None);
    let tokens = [
        "AttLog",
        "OpLog",
        "AttPhoto",
        "EnrollUser",
        "ChgUser",
        "EnrollFP",
        "ChgFP",
        "UserPic",
    ];
    let block = OptionBlock::attendance(&r.sn)
        .and_then(|b| b.set("ATTLOGStamp", "None"))
        .and_then(|b| b.set("OPERLOGStamp", 9999))
        .and_then(|b| b.set("ATTPHOTOStamp", "None"))
        .and_then(|b| b.set("ErrorDelay", 30))
        .and_then(|b| b.set("Delay", 10))
        .and_then(|b| b.set("TransTimes", "00:00;14:05"))
        .and_then(|b| b.set("TransInterval", 1))
        .and_then(|b| b.trans_flag(&tokens, TokenSeparator::Tab))
        .and_then(|b| b.set("TimeZone", 8))
        .and_then(|b| b.set("Realtime", 1))
        .and_then(|b| b.set("Encrypt", "None"))
        .unwrap();
    block_eq(block.encode(LineEnding::Lf), "01_handshake_2x.reply");
    assert_eq!(
        HttpDate(1_435_906_381).to_string(),
        "Fri, 03 Jul 2015 06:53:01 GMT"
    );
}

#[test]
fn v02_rich_reply_2x() {
    let tokens = "AttLog OpLog AttPhoto EnrollFP EnrollUser FPImag ChgUser ChgFP FACE UserPic FVEIN BioPhoto";
    let tokens: Vec<&str> = tokens.split(' ').collect();
    let mut b = OptionBlock::attendance("<SN>")
        .unwrap()
        .trans_flag(&tokens, TokenSeparator::Tab)
        .unwrap();
    for line in text("02_rich_reply_2x.reply").lines().skip(2) {
        let (k, v) = line.split_once('=').unwrap();
        b = b.set(k, v).unwrap();
    }
    block_eq(b.encode(LineEnding::Lf), "02_rich_reply_2x.reply");
    let spaced = OptionBlock::params()
        .trans_flag(&tokens[..2], TokenSeparator::Space)
        .unwrap();
    assert_eq!(
        spaced.encode(LineEnding::Lf),
        "TransFlag=TransData AttLog OpLog\n"
    );
}

#[test]
fn v03_attlog_three_crlf() {
    let r = parse_http("03_attlog_three_crlf.http");
    let TableBody::AttLog(b) = upload(&r) else {
        panic!()
    };
    assert!(b.skipped.is_empty());
    let pins: Vec<_> = b.records.iter().map(|a| a.pin.as_str()).collect();
    assert_eq!(pins, ["1", "1", "4"]);
    assert_eq!(b.records[1].time, t("2024-07-28 10:41:21"));
    assert_eq!((b.records[2].status, b.records[2].verify), (0, 1));
    assert_eq!(b.records[0].rest, ["0", "0"]);
    let Message::Upload(u) = &r.message else {
        panic!()
    };
    assert_eq!(u.stamp.as_deref(), Some("9999"));
    assert_eq!(r.dialect, Some(Dialect::Attendance));
    assert_eq!(ack(&r), "OK:3");
}

#[test]
fn v04_attlog_ten_fields() {
    let r = parse_http("04_attlog_ten_fields.http");
    let TableBody::AttLog(b) = upload(&r) else {
        panic!()
    };
    let a = &b.records[0];
    assert_eq!((a.pin.as_str(), a.status, a.verify), ("2", 1, 15));
    assert_eq!(a.workcode, "");
    assert_eq!(a.rest, ["0", "0", "", "", "43"]);
    assert_eq!(a.to_line(), "2\t2022-07-12 16:00:20\t1\t15\t\t0\t0\t\t\t43");
}

#[test]
fn v05_attlog_raw() {
    let (method, _, _, headers, _) = http("05_attlog_raw.http");
    assert_eq!((method.as_str(), headers.len()), ("POST", 4));
    let r = parse_http("05_attlog_raw.http");
    assert_eq!(r.sn, "0782232260009");
    let TableBody::AttLog(b) = upload(&r) else {
        panic!()
    };
    let a = &b.records[0];
    assert_eq!((a.status, a.verify, a.workcode.as_str()), (255, 15, "0"));
    assert_eq!(a.rest, ["0", "0", "255", "0", "0"]);
}

#[test]
fn v06_operlog_mix() {
    let r = post(
        "/iclock/cdata",
        "SN=BOCK200961014&table=OPERLOG&Stamp=9999",
        &vector("06_operlog_mix.body"),
    );
    let TableBody::OperLog { table, records } = upload(&r) else {
        panic!()
    };
    assert_eq!((*table, records.records.len()), ("OPERLOG", 5));
    let codes: Vec<u16> = records
        .records
        .iter()
        .filter_map(|r| match r {
            OperRecord::OpLog(o) => Some(o.code),
            _ => None,
        })
        .collect();
    assert_eq!(codes, [13, 5, 30, 6]);
    let OperRecord::OpLog(op) = &records.records[3] else {
        panic!()
    };
    assert_eq!(op.time, t("2024-06-13 12:55:41"));
    assert_eq!(op.objects, ["1", "0", "0", "906"].map(String::from));
    let OperRecord::Fp(fp) = &records.records[4] else {
        panic!()
    };
    assert_eq!(
        (fp.pin.as_str(), fp.fid, fp.valid, fp.template.as_str()),
        ("1", 0, 1, "…")
    );
    assert_eq!(ack(&r), "OK:5");
}

#[test]
fn v07_user_record_on_either_table() {
    for table in ["USERINFO", "OPERLOG"] {
        let r = post(
            "/iclock/cdata",
            &format!("SN=X1&table={table}"),
            &vector("07_user_record.body"),
        );
        let TableBody::OperLog { records, .. } = upload(&r) else {
            panic!()
        };
        let OperRecord::User(u) = &records.records[0] else {
            panic!()
        };
        assert_eq!((u.pin.as_str(), u.name.as_str()), ("2", "Johny Deep"));
        assert_eq!((u.privilege, u.group.as_str()), (0, "1"));
        assert_eq!(u.time_zones, "0000000100000000");
        assert_eq!(u.verify, "0");
        assert_eq!(u.extra.get("StartDatetime"), Some("0"));
        assert_eq!(u.extra.0.len(), 3);
    }
}

#[test]
fn v08_getrequest_info() {
    let r = parse_http("08_getrequest_info.http");
    assert_eq!((r.endpoint, r.dialect), (Endpoint::GetRequest, None));
    let Message::Poll(Some(info)) = &r.message else {
        panic!()
    };
    assert_eq!(info.firmware(), Some("Ver 2.0.12-20150625"));
    assert_eq!((info.users(), info.ip()), (Some(0), Some("192.168.16.27")));
    assert_eq!(info.0.len(), 10);
}

#[test]
fn v09_poll_mb160() {
    let (_, _, _, headers, _) = http("09_poll_mb160.http");
    assert!(headers.contains(&"Accept-Encoding: gzip".to_owned()));
    let r = parse_http("09_poll_mb160.http");
    assert_eq!(r.sn, "SPK7240100098");
    assert_eq!(r.message, Message::Poll(None));
    assert_eq!(reply::ack(&r.message, &Config::default()).unwrap(), None);
    assert_eq!(command_list(&[], &Config::default()).unwrap(), reply::OK);
}

#[test]
fn v10_commands_and_batched_results() {
    let long = Config {
        user_keys: UserKeys::Long,
        ..Config::default()
    };
    let user = UserInfo {
        pin: "1001".into(),
        name: "John Doe".into(),
        card: "12345678".into(),
        group: "".into(),
        ..UserInfo::default()
    };
    let cmds = [
        (CommandId::from(1), Command::Info),
        (CommandId::from(2), Command::Check),
        (CommandId::from(3), Command::UpdateUser(user)),
    ];
    let built = command_list(&cmds, &long).unwrap();
    // The device accepted the record without Grp; the encoder sends the default group.
    assert_eq!(built.replace("\tGrp=1", ""), text("10_commands.reply"));
    let parsed = parse_command_list(&text("10_commands.reply"));
    assert_eq!(parsed.len(), 3);
    assert_eq!(parsed[2].0, "3");
    assert!(
        parsed[2]
            .1
            .starts_with("DATA UPDATE USERINFO PIN=1001\tName=John Doe")
    );

    let r = post(
        "/iclock/devicecmd",
        "SN=V5L",
        &vector("10_devicecmd_batched.body"),
    );
    let Message::Results(res) = &r.message else {
        panic!()
    };
    let summary: Vec<_> = res
        .iter()
        .map(|r| (r.id.as_str(), r.code, r.cmd.as_str()))
        .collect();
    assert_eq!(
        summary,
        [("1", 0, "DATA"), ("2", 0, "DATA"), ("3", 0, "CHECK")]
    );
    assert_eq!(ack(&r), "OK");
}

#[test]
fn v11_shell_result() {
    let res = parse_results(&text("11_devicecmd_shell.body")).unwrap();
    assert_eq!(
        res,
        [CommandResult {
            id: "32".into(),
            code: 0,
            cmd: "Shell".into(),
            extra: zkproto::push::body::Fields(vec![(
                "Content".into(),
                "Tue Mar 24 16:12:26 GMT 2026".into()
            )]),
        }]
    );
}

#[test]
fn v12_alphanumeric_ids() {
    let res = parse_results(&text("12_devicecmd_alnum_ids.body")).unwrap();
    let ids: Vec<_> = res.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["info8487", "info8488", "info8489", "info7464", "fp7464"]
    );
    assert!(res.iter().all(|r| r.ok() && r.cmd == "DATA"));
    for id in ids {
        assert!(CommandId::new(id).is_ok());
    }
}

#[test]
fn v13_access_init_registry_push() {
    let r = parse_http("13_init_3x.http");
    assert_eq!(r.dialect, Some(Dialect::Access));
    let Message::Handshake(h) = &r.message else {
        panic!()
    };
    assert_eq!(h.push_version, PushVersion::ACCESS_DEFAULT);
    assert_eq!(reply::OK.as_bytes(), vector("13_init_3x.reply"));
    assert_eq!(
        HttpDate(1_483_928_419).to_string(),
        "Mon, 09 Jan 2017 02:20:19 GMT"
    );

    let r = post(
        "/iclock/registry",
        "SN=3383154200002",
        &vector("13_registry_3x.body"),
    );
    assert_eq!(r.dialect, Some(Dialect::Access));
    let Message::Registry(caps) = &r.message else {
        panic!()
    };
    assert_eq!(caps.get("DeviceType"), Some("acc"));
    assert_eq!(caps.get("~DeviceName"), Some("F20/M"));
    assert_eq!(caps.get("FirmVer"), Some("Ver 8.0.1.3-20151229"));
    assert_eq!(caps.get("LockCount"), Some("1"));
    assert_eq!(caps.get("ReaderCount"), Some("2,…"));
    assert_eq!(caps.get("authKey"), Some("dassas"));
    assert_eq!(
        reply::registry_code("Uy47fxftP3").unwrap().as_bytes(),
        vector("13_registry_3x.reply")
    );

    let r = post("/iclock/push", "SN=3383154200002", b"");
    assert_eq!(
        (r.message, r.dialect),
        (Message::PushParams, Some(Dialect::Access))
    );
    let mut b = OptionBlock::params();
    for line in text("13_push_3x.reply").lines() {
        let (k, v) = line.split_once('=').unwrap();
        b = b.set(k, v).unwrap();
    }
    block_eq(b.encode(LineEnding::Lf), "13_push_3x.reply");
}

#[test]
fn v14_rtlog() {
    let r = post(
        "/iclock/cdata",
        "SN=3383154200002&table=rtlog",
        &vector("14_rtlog_spec.body"),
    );
    assert_eq!(r.dialect, Some(Dialect::Access));
    let TableBody::RtLog(b) = upload(&r) else {
        panic!()
    };
    let e = &b.records[0];
    assert_eq!(e.time, t("2017-01-10 11:49:32"));
    assert_eq!((e.pin.as_str(), e.card.as_str(), e.door), ("0", "0", 1));
    assert_eq!(
        (e.event, e.in_out, e.verify.as_str(), e.index),
        (27, 1, "0", 21)
    );
    assert!(e.extra.0.is_empty());
    assert_eq!(ack(&r), "OK");

    let s = RtLog::parse(&text("14_rtlog_senseface.body")).unwrap();
    assert_eq!(
        (s.pin.as_str(), s.event, s.verify.as_str(), s.index),
        ("2", 3, "15", 140)
    );
    assert_eq!(s.extra.0.len(), 5);
    assert_eq!(s.extra.get("convtemperature"), Some("0"));
}

#[test]
fn v15_rtstate() {
    let r = post(
        "/iclock/cdata",
        "SN=3383154200002&table=rtstate",
        &vector("15_rtstate_spec.body"),
    );
    let TableBody::RtState(b) = upload(&r) else {
        panic!()
    };
    let s = &b.records[0];
    assert_eq!(s.time, t("2017-01-10 15:42:40"));
    assert_eq!((s.sensor.as_str(), s.relay.as_str()), ("00", "00"));
    assert_eq!(s.alarm, "020000000000000");
    let r = post(
        "/iclock/cdata",
        "SN=VGU6251500098&table=rtstate",
        &vector("15_rtstate_senseface.body"),
    );
    let TableBody::RtState(b) = upload(&r) else {
        panic!()
    };
    assert_eq!(b.records[0].extra.get("door"), Some("01"));
    assert_eq!(b.records[0].alarm, "0000000000000000");
}

#[test]
fn v16_user_upload_3x() {
    let r = parse_http("16_user_upload_3x.http");
    assert_eq!(r.dialect, Some(Dialect::Access));
    let TableBody::TableData {
        table,
        count,
        records,
    } = upload(&r)
    else {
        panic!()
    };
    assert_eq!((table.as_str(), *count), ("user", Some(1)));
    let u = &records.records[0];
    assert_eq!(u.tag.as_deref(), Some("user"));
    assert_eq!(
        (u.fields.get("uid"), u.fields.get("pin")),
        (Some("5"), Some("4"))
    );
    assert_eq!(u.fields.0.len(), 11);
    assert_eq!(ack(&r).as_bytes(), vector("16_user_upload_3x.reply"));
}

#[test]
fn v17_query_round() {
    let cmd = Command::QueryAccess {
        table: "user".into(),
        pin: None,
    };
    assert_eq!(
        command_line(&CommandId::from(415), &cmd, &Config::default())
            .unwrap()
            .as_bytes(),
        vector("17_query_command.reply")
    );
    let r = parse_http("17_querydata.http");
    assert_eq!(
        (r.endpoint, r.dialect),
        (Endpoint::QueryData, Some(Dialect::Access))
    );
    let Message::Query(q) = &r.message else {
        panic!()
    };
    assert_eq!(
        (q.kind.as_str(), q.cmd_id.as_str(), q.table.as_str()),
        ("tabledata", "415", "user")
    );
    assert_eq!((q.count, q.packets, q.packet), (Some(3), Some(1), Some(1)));
    assert_eq!(q.records.records.len(), 3);
    assert_eq!(ack(&r).as_bytes(), vector("17_querydata.reply"));
    let res = parse_results(&text("17_devicecmd.body")).unwrap();
    assert_eq!(
        (res[0].id.as_str(), res[0].code, res[0].cmd.as_str()),
        ("415", 3, "DATA QUERY")
    );
}

#[test]
fn v18_user_write_and_door() {
    let user = AccessUser {
        pin: "1".into(),
        password: "234".into(),
        group: 0,
        ..AccessUser::default()
    };
    let c = Config::default();
    assert_eq!(
        command_line(&CommandId::from(295), &Command::UpdateAccessUser(user), &c)
            .unwrap()
            .as_bytes(),
        vector("18_user_write_3x.reply")
    );
    assert_eq!(
        command_line(
            &CommandId::from(221),
            &Command::Control(ControlDevice::unlock(1, 5)),
            &c
        )
        .unwrap()
        .as_bytes(),
        vector("18_control_device.reply")
    );
    let r = parse_results(&text("18_user_write_3x_result.body")).unwrap();
    assert_eq!(
        (r[0].id.as_str(), r[0].code, r[0].cmd.as_str()),
        ("295", 0, "DATA UPDATE")
    );
    let r = parse_results(&text("18_control_device_result.body")).unwrap();
    assert_eq!(
        (r[0].id.as_str(), r[0].cmd.as_str()),
        ("221", "CONTROL DEVICE")
    );
}

#[test]
fn v19_set_options() {
    let items = [
        ("IPAddress", "192.168.213.222"),
        ("GATEIPAddress", "192.168.213.1"),
        ("NetMask", "255.255.255"),
    ];
    let cmd = Command::SetOptions(items.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec());
    assert_eq!(
        command_line(&CommandId::from(223), &cmd, &Config::default())
            .unwrap()
            .as_bytes(),
        vector("19_set_options.reply")
    );
}

#[test]
fn v20_time_encoding() {
    for line in text("20_time_encoding.txt").lines() {
        let (packed, when) = line.split_once('|').unwrap();
        let packed: u32 = packed.parse().unwrap();
        assert_eq!(PanelTime::from_packed(packed).unwrap(), t(when), "{line}");
        let cmd = Command::SetTime(t(when))
            .encode(&Config::default())
            .unwrap();
        assert_eq!(cmd, format!("SET OPTIONS DateTime={packed}"));
    }
}

#[test]
fn v21_timezone_slots() {
    for line in text("21_timezone_slots.txt").lines() {
        let mut parts = line.split('|');
        let raw: u32 = parts.next().unwrap().parse().unwrap();
        let hhmm = |s: &str| s.replace(':', "").parse::<u16>().unwrap();
        let span = TimeSpan::from_raw(raw);
        assert_eq!(span.start_hhmm, hhmm(parts.next().unwrap()), "{line}");
        assert_eq!(span.end_hhmm, hhmm(parts.next().unwrap()), "{line}");
    }
}

// ---- Behaviour the vectors do not show -------------------------------------------------

#[test]
fn access_password_is_at_most_six_characters() {
    let c = Config::default();
    let user = |pw: &str| {
        Command::UpdateAccessUser(AccessUser {
            pin: "1".into(),
            password: pw.into(),
            ..AccessUser::default()
        })
        .encode(&c)
    };
    assert!(user("123456").unwrap().contains("\tPassword=123456\t"));
    assert_eq!(
        user("1234567"),
        Err(zkproto::push::EncodeError::Length {
            field: "Password",
            len: 7,
            max: 6
        })
    );
    assert!(user("").is_ok());
}

#[test]
fn negative_returns_are_failures() {
    let r = parse_results("ID=1&Return=-1002&CMD=DATA\nID=2&Return=0\nID=3&Return=5").unwrap();
    let ok: Vec<bool> = r.iter().map(CommandResult::ok).collect();
    assert_eq!(ok, [false, true, true]);
    assert_eq!(r[1].cmd, "");
}

#[test]
fn every_endpoint_routes() {
    let cases = [
        ("/iclock/cdata", Endpoint::Cdata),
        ("/iclock/getrequest.aspx", Endpoint::GetRequest),
        ("/iclock/DeviceCmd", Endpoint::DeviceCmd),
        ("/iclock/ping", Endpoint::Ping),
        ("/iclock/registry", Endpoint::Registry),
        ("/iclock/push", Endpoint::Push),
        ("/iclock/querydata", Endpoint::QueryData),
    ];
    for (path, want) in cases {
        assert_eq!(Endpoint::from_path(path), Ok(want), "{path}");
    }
    let r = post("/iclock/ping", "SN=1", b"");
    assert_eq!((r.message, r.dialect), (Message::Ping, None));
}

#[test]
fn versions_print_and_pick_the_dialect() {
    let v: PushVersion = "2.4.1".parse().unwrap();
    assert_eq!(v.to_string(), "2.4.1");
    assert_eq!(PushVersion::ACCESS_DEFAULT.to_string(), "3.0.1");
    let r = post("/iclock/cdata", "SN=1&options=all&pushver=3.1.2", b"");
    assert_eq!(r.dialect, Some(Dialect::Access));
    let r = post("/iclock/cdata", "SN=1&options=all&DeviceType=acc", b"");
    assert_eq!(r.dialect, Some(Dialect::Access));
    let Message::Handshake(h) = &r.message else {
        panic!()
    };
    assert_eq!(h.push_version, PushVersion::ACCESS_DEFAULT);
    assert!(h.push_version_assumed);
    assert_eq!(h.device_type.as_deref(), Some("acc"));
    let r = post("/iclock/cdata", "SN=1&options=all&PushOptionsFlag=1", b"");
    let Message::Handshake(h) = &r.message else {
        panic!()
    };
    assert!(h.push_options && h.push_version_assumed);
    assert_eq!(r.dialect, Some(Dialect::Attendance));
    assert_eq!(h.push_version, PushVersion::ATTENDANCE_DEFAULT);
    // A 2.x poll says which dialect it is only through pushver / DeviceType.
    let r = post("/iclock/getrequest", "SN=1&pushver=2.4.1", b"");
    assert_eq!(r.dialect, Some(Dialect::Attendance));
    let r = post(
        "/iclock/getrequest",
        "SN=1&DeviceType=ACC&pushver=2.4.1",
        b"",
    );
    assert_eq!(r.dialect, Some(Dialect::Access));
    let r = post("/iclock/getrequest", "SN=1&pushver=9.0", b"");
    assert_eq!(r.dialect, None);
    let r = post("/iclock/cdata", "SN=1&table=options", b"a=1");
    assert_eq!(r.dialect, None);
    let r = post("/iclock/cdata", "SN=1&table=BIODATA", b"");
    assert_eq!(r.dialect, Some(Dialect::Attendance));
}

#[test]
fn biodata_table_reads_untagged_lines_as_templates() {
    let body = b"Pin=1\tNo=0\tIndex=0\tValid=1\tDuress=0\tType=9\tMajorVer=58\tMinorVer=0\tFormat=0\tTmp=QQ==\nBIODATA Pin=2\tType=1\nFACE PIN=3\tFID=0\nFACE\n";
    let r = post("/iclock/cdata", "SN=1&table=BIODATA", body);
    let TableBody::OperLog { table, records } = upload(&r) else {
        panic!()
    };
    assert_eq!(*table, "BIODATA");
    assert!(
        matches!(&records.records[0], OperRecord::Bio(b) if b.pin == "1" && b.kind == 9 && b.template == "QQ==")
    );
    assert!(matches!(&records.records[1], OperRecord::Bio(b) if b.pin == "2" && b.kind == 1));
    assert!(
        matches!(&records.records[2], OperRecord::Other { tag, fields } if tag == "FACE" && fields.get("PIN") == Some("3"))
    );
    assert_eq!(records.skipped.len(), 1);
    assert_eq!(records.skipped[0].line, 4);
    // Not an OPERLOG table: the plain OK.
    assert_eq!(ack(&r), "OK");
    // On OPERLOG an untagged line is a user.
    let r = post("/iclock/cdata", "SN=1&table=OPERLOG", b"Pin=1\tType=9\n");
    let TableBody::OperLog { records, .. } = upload(&r) else {
        panic!()
    };
    assert!(matches!(&records.records[0], OperRecord::User(u) if u.pin == "1"));
}

#[test]
fn info_counts() {
    let r = post(
        "/iclock/getrequest",
        "SN=1&INFO=Ver%201,3,2,10,10.0.0.2",
        b"",
    );
    let Message::Poll(Some(i)) = &r.message else {
        panic!()
    };
    assert_eq!(
        (i.users(), i.fingerprints(), i.records()),
        (Some(3), Some(2), Some(10))
    );
    assert_eq!((i.ip(), i.field(5)), (Some("10.0.0.2"), None));
    let none = zkproto::push::options::DeviceInfo::parse("v");
    assert_eq!(
        (none.users(), none.fingerprints(), none.records()),
        (None, None, None)
    );
}

#[test]
fn http_dates_across_month_and_century_edges() {
    for (secs, want) in [
        (1_709_251_200, "Fri, 01 Mar 2024 00:00:00 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
        (946_684_799, "Fri, 31 Dec 1999 23:59:59 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (1_456_704_000, "Mon, 29 Feb 2016 00:00:00 GMT"),
        (1_435_881_599, "Thu, 02 Jul 2015 23:59:59 GMT"),
    ] {
        assert_eq!(HttpDate(secs).to_string(), want, "{secs}");
    }
}

#[test]
fn block_text_is_checked() {
    for bad in ["a\rb", "a\nb", "a\0b"] {
        assert!(OptionBlock::params().set("K", bad).is_err(), "{bad:?}");
        assert!(OptionBlock::attendance(bad).is_err(), "{bad:?}");
    }
    let tab = OptionBlock::params().set("K", "a\tb").unwrap();
    assert_eq!(tab.encode(LineEnding::CrLf), "K=a\tb\r\n");
    assert!(
        OptionBlock::params()
            .trans_flag(&["Att Log"], TokenSeparator::Tab)
            .is_err()
    );
    assert!(
        OptionBlock::params()
            .trans_flag(&[""], TokenSeparator::Tab)
            .is_err()
    );
    assert_eq!(
        OptionBlock::params()
            .trans_flag(&[], TokenSeparator::Tab)
            .unwrap()
            .encode(LineEnding::Lf),
        "TransFlag=TransData \n"
    );
    assert_eq!(OptionBlock::params().encode(LineEnding::Lf), "");
    let code = "x".repeat(32);
    assert_eq!(
        reply::registry_code(&code).unwrap(),
        format!("RegistryCode={code}")
    );
    assert!(reply::registry_code(&"x".repeat(33)).is_err());
    assert!(reply::registry_code("").is_err());
    assert!(reply::registry_code("a b").is_err());
    assert!(OptionBlock::registered(&code).is_ok());
    assert!(OptionBlock::registered("a\nb").is_err());
}

#[test]
fn keys_refuse_every_separator() {
    use zkproto::push::text::{check_key, check_value, non_empty};
    for c in ['\t', '\r', '\n', '\0', ' ', '=', ',', '&'] {
        let k = format!("a{c}b");
        assert!(check_key("key", &k).is_err(), "{c:?}");
    }
    for c in ['\t', '\r', '\n', '\0'] {
        assert!(check_value("v", &format!("a{c}")).is_err(), "{c:?}");
    }
    for ok in ["a b", "a=b", "a,b", "a&b", "张三"] {
        assert_eq!(check_value("v", ok), Ok(ok));
    }
    assert_eq!(check_key("key", &"k".repeat(64)).map(str::len), Ok(64));
    assert!(check_key("key", &"k".repeat(65)).is_err());
    assert_eq!(non_empty("f", "ab", 2), Ok("ab"));
    assert!(non_empty("f", "", 2).is_err());
    // Length is counted in characters, not bytes.
    assert_eq!(non_empty("f", "张三", 2), Ok("张三"));
}

#[test]
fn every_command_encodes_exactly() {
    use zkproto::push::command::Clear;
    use zkproto::push::config::QueryTime;
    let c = Config::default();
    let s = |cmd: Command| cmd.encode(&c).unwrap();
    let full = UserInfo {
        pin: "7".into(),
        name: "Ana".into(),
        privilege: 14,
        password: "12".into(),
        card: "99".into(),
        group: "2".into(),
        time_zones: "0001000200000000".into(),
        verify: "-1".into(),
        extra: zkproto::push::body::Fields(vec![
            ("ViceCard".into(), "5".into()),
            ("Expires".into(), "".into()),
        ]),
    };
    assert_eq!(
        s(Command::UpdateUser(full.clone())),
        "DATA UPDATE USERINFO PIN=7\tName=Ana\tPri=14\tPasswd=12\tCard=99\tGrp=2\tTZ=0001000200000000\tVerify=-1\tViceCard=5"
    );
    let long = Config {
        user_keys: UserKeys::Long,
        ..Config::default()
    };
    assert_eq!(
        Command::UpdateUser(full).encode(&long).unwrap(),
        "DATA UPDATE USERINFO PIN=7\tName=Ana\tPrivilege=14\tPassword=12\tCard=99\tGrp=2\tTZ=0001000200000000\tVerify=-1\tViceCard=5"
    );
    assert_eq!(
        s(Command::DeleteUser("7".into())),
        "DATA DELETE USERINFO PIN=7"
    );
    assert_eq!(s(Command::QueryUsers(None)), "DATA QUERY USERINFO");
    assert_eq!(
        s(Command::QueryUsers(Some("7".into()))),
        "DATA QUERY USERINFO PIN=7"
    );
    assert_eq!(
        s(Command::DeleteFingers {
            pin: "7".into(),
            fid: None
        }),
        "DATA DELETE FINGERTMP PIN=7"
    );
    assert_eq!(
        s(Command::DeleteFingers {
            pin: "7".into(),
            fid: Some(3)
        }),
        "DATA DELETE FINGERTMP PIN=7\tFID=3"
    );
    let q = Command::QueryAttLog {
        start: t("2024-01-01 00:00:00"),
        end: t("2024-01-31 23:59:59"),
    };
    assert_eq!(
        s(q.clone()),
        "DATA QUERY ATTLOG StartTime=2024-01-01 00:00:00\tEndTime=2024-01-31 23:59:59"
    );
    let tq = Config {
        query_time: QueryTime::T,
        ..Config::default()
    };
    assert_eq!(
        q.encode(&tq).unwrap(),
        "DATA QUERY ATTLOG StartTime=2024-01-01T00:00:00\tEndTime=2024-01-31T23:59:59"
    );
    for (k, want) in [
        (Clear::Log, "CLEAR LOG"),
        (Clear::Photo, "CLEAR PHOTO"),
        (Clear::Data, "CLEAR DATA"),
        (Clear::BioData, "CLEAR BIODATA"),
        (Clear::Users, "CLEAR ALL USERINFO"),
    ] {
        assert_eq!(s(Command::Clear(k)), want);
    }
    for (cmd, want) in [
        (Command::Check, "CHECK"),
        (Command::Log, "LOG"),
        (Command::Info, "INFO"),
        (Command::ReloadOptions, "RELOAD OPTIONS"),
        (Command::Reboot, "REBOOT"),
        (Command::Unlock, "AC_UNLOCK"),
        (Command::CancelAlarm, "AC_UNALARM"),
    ] {
        assert_eq!(s(cmd), want);
    }
    assert_eq!(
        s(Command::SetOption("TimeZone".into(), "330".into())),
        "SET OPTION TimeZone=330"
    );
    assert!(
        Command::SetOption("Time Zone".into(), "1".into())
            .encode(&c)
            .is_err()
    );
    assert_eq!(
        s(Command::UpdateAccessUser(AccessUser {
            pin: "9".into(),
            card: "123".into(),
            password: "1".into(),
            group: 1,
            start: 2,
            end: 3,
            name: "Bo".into(),
            privilege: 14,
        })),
        "DATA UPDATE user CardNo=123\tPin=9\tPassword=1\tGroup=1\tStartTime=2\tEndTime=3\tName=Bo\tPrivilege=14"
    );
    assert_eq!(
        s(Command::Authorize {
            pin: "9".into(),
            timezone: 1,
            doors: 15
        }),
        "DATA UPDATE userauthorize Pin=9\tAuthorizeTimezoneId=1\tAuthorizeDoorId=15"
    );
    assert_eq!(
        s(Command::DeleteAccess {
            table: "userauthorize".into(),
            pin: "9".into()
        }),
        "DATA DELETE userauthorize Pin=9"
    );
    assert_eq!(
        s(Command::QueryAccess {
            table: "user".into(),
            pin: Some("9".into())
        }),
        "DATA QUERY tablename=user,fielddesc=*,filter=Pin=9"
    );
    assert_eq!(s(Command::CountAccess("user".into())), "DATA COUNT user");
    assert_eq!(
        s(Command::Control(ControlDevice::cancel_alarm(0))),
        "CONTROL DEVICE 02000000"
    );
    assert_eq!(
        s(Command::Control(ControlDevice::restart())),
        "CONTROL DEVICE 03000000"
    );
    assert_eq!(
        s(Command::Control(ControlDevice::unlock(2, 255))),
        "CONTROL DEVICE 010201FF"
    );
    assert_eq!(
        s(Command::SetOptions(vec![("A".into(), "1".into())])),
        "SET OPTIONS A=1"
    );
    assert_eq!(
        Command::SetOptions(vec![]).encode(&c),
        Err(zkproto::push::EncodeError::Empty("SET OPTIONS"))
    );
    assert_eq!(
        s(Command::GetOptions(vec![
            "LockCount".into(),
            "~DeviceName".into()
        ])),
        "GET OPTIONS LockCount,~DeviceName"
    );
    assert_eq!(
        Command::GetOptions(vec![]).encode(&c),
        Err(zkproto::push::EncodeError::Empty("GET OPTIONS"))
    );
    assert!(Command::GetOptions(vec!["a,b".into()]).encode(&c).is_err());
    assert_eq!(s(Command::Raw("Shell date\tx".into())), "Shell date\tx");
    assert_eq!(
        Command::Raw(String::new()).encode(&c),
        Err(zkproto::push::EncodeError::Empty("command"))
    );
    // PINs: 1-24 characters, no separators.
    assert!(Command::DeleteUser("1".repeat(24)).encode(&c).is_ok());
    assert!(Command::DeleteUser("1".repeat(25)).encode(&c).is_err());
    assert!(Command::DeleteUser("1 2".into()).encode(&c).is_err());
    assert!(Command::CountAccess("us er".into()).encode(&c).is_err());
    // Command lists: CRLF on request, ids checked.
    let crlf = Config {
        line_ending: LineEnding::CrLf,
        ..Config::default()
    };
    assert_eq!(
        command_list(&[(CommandId::new("A1").unwrap(), Command::Reboot)], &crlf).unwrap(),
        "C:A1:REBOOT\r\n"
    );
    assert_eq!(CommandId::new(&"9".repeat(16)).unwrap().as_str().len(), 16);
    assert!(CommandId::new("é").is_err());
}

#[test]
fn querydata_counts_and_options_and_options_uploads() {
    let r = post(
        "/iclock/querydata",
        "SN=1&type=count&cmdid=288&tablename=user&count=1&packcnt=1&packidx=1",
        b"user=5",
    );
    let Message::Query(q) = &r.message else {
        panic!()
    };
    assert_eq!(q.records.records[0].fields.get("user"), Some("5"));
    assert_eq!(q.records.records[0].tag, None);
    assert_eq!(ack(&r), "user=1");
    let r = post(
        "/iclock/querydata",
        "SN=1&type=options&tablename=options",
        b"~SerialNumber=X,LockCount=2\n",
    );
    let Message::Query(q) = &r.message else {
        panic!()
    };
    assert_eq!(q.cmd_id, "");
    assert_eq!((q.count, q.packets, q.packet), (None, None, None));
    assert_eq!(q.records.records[0].fields.get("LockCount"), Some("2"));
    assert_eq!(q.records.records[0].fields.0.len(), 2);
    // tabledata lines are tagged records, not comma lists.
    let r = post(
        "/iclock/querydata",
        "SN=1&type=tabledata&tablename=user",
        b"user pin=1,x=2\n",
    );
    let Message::Query(q) = &r.message else {
        panic!()
    };
    assert_eq!(q.records.records[0].tag.as_deref(), Some("user"));
    assert_eq!(q.records.records[0].fields.get("pin"), Some("1,x=2"));

    let r = post(
        "/iclock/cdata",
        "SN=1&table=options",
        b"~DeviceName=ProBio,MAC=00:17:61:11:ad:4f,TransactionCount=23\n",
    );
    let TableBody::Options(o) = upload(&r) else {
        panic!()
    };
    assert_eq!(o.get("TransactionCount"), Some("23"));
    assert_eq!(o.0.len(), 3);
    assert_eq!(ack(&r), "OK");
}

#[test]
fn access_init_reply_is_configurable() {
    use zkproto::push::config::AccessInit;
    let block = OptionBlock::attendance("3383154200002").unwrap();
    assert_eq!(
        reply::unregistered_init(&block, &Config::default()).as_bytes(),
        vector("13_init_3x.reply")
    );
    let c = Config {
        access_init: AccessInit::OptionBlock,
        line_ending: LineEnding::CrLf,
        ..Config::default()
    };
    assert_eq!(
        reply::unregistered_init(&block, &c),
        "GET OPTION FROM: 3383154200002\r\n"
    );
}
