//! Hostile and broken device input for the push core: bad UTF-8 and GB2312
//! names, missing fields, over-long lines, 10 MB bodies, unknown tables and
//! endpoints. Every case is a typed error or a reported, skipped line.

use zkproto::push::body::{Batch, Skipped};
use zkproto::push::command::{AccessUser, Command, CommandId, command_list};
use zkproto::push::config::{Charset, CountStyle};
use zkproto::push::operlog::{OperRecord, UserInfo};
use zkproto::push::reply::{OptionBlock, ack};
use zkproto::push::{Config, DecodeError, EncodeError, Limits, Message, Request, TableBody};

fn parse(path: &str, query: &str, body: &[u8]) -> Result<Request, DecodeError> {
    Request::parse(path, query, body, &Config::default())
}

fn oper(r: &Request) -> &Batch<OperRecord> {
    match &r.message {
        Message::Upload(u) => match &u.body {
            TableBody::OperLog { records, .. } => records,
            b => panic!("{b:?}"),
        },
        m => panic!("{m:?}"),
    }
}

fn user_name(r: &Request, i: usize) -> &str {
    match &oper(r).records[i] {
        OperRecord::User(u) => &u.name,
        o => panic!("{o:?}"),
    }
}

#[test]
fn gb2312_name_is_decoded_by_default() {
    let mut body = b"USER PIN=1\tName=".to_vec();
    body.extend_from_slice(b"\xd5\xc5\xc8\xfd"); // 张三
    body.extend_from_slice(b"\tPri=0\nUSER PIN=2\tName=Zo\xc3\xab\n");
    let r = parse("/iclock/cdata", "SN=A&table=OPERLOG", &body).unwrap();
    assert_eq!((user_name(&r, 0), user_name(&r, 1)), ("张三", "Zoë"));
}

#[test]
fn non_text_name_is_reported_and_skipped() {
    let body = b"USER PIN=1\tName=\xff\xff\nUSER PIN=2\tName=ok\n";
    let r = parse("/iclock/cdata", "SN=A&table=OPERLOG", body).unwrap();
    let b = oper(&r);
    assert_eq!(b.records.len(), 1);
    assert_eq!(
        b.skipped,
        [Skipped {
            line: 1,
            error: DecodeError::BadText {
                charset: "UTF-8 or GB18030"
            }
        }]
    );
    assert_eq!(
        ack(&r.message, &Config::default()).unwrap().as_deref(),
        Some("OK:1")
    );
}

#[test]
fn utf8_only_skips_gb2312() {
    let c = Config {
        charset: Charset::Utf8,
        ..Config::default()
    };
    let r = Request::parse(
        "/iclock/cdata",
        "SN=A&table=USERINFO",
        b"PIN=1\tName=\xd5\xc5\n",
        &c,
    )
    .unwrap();
    let b = oper(&r);
    assert!(b.records.is_empty());
    assert_eq!(
        b.skipped[0].error,
        DecodeError::BadText { charset: "UTF-8" }
    );
    // USERINFO is acknowledged with a plain OK.
    assert_eq!(ack(&r.message, &c).unwrap().as_deref(), Some("OK"));
}

#[test]
fn gb18030_only_reads_gbk() {
    let c = Config {
        charset: Charset::Gb18030,
        ..Config::default()
    };
    let r = Request::parse(
        "/iclock/cdata",
        "SN=A&table=OPERLOG",
        b"USER PIN=1\tName=\xd5\xc5\n",
        &c,
    )
    .unwrap();
    assert_eq!(user_name(&r, 0), "张");
}

#[test]
fn bad_text_in_whole_bodies_is_an_error() {
    assert_eq!(
        parse("/iclock/devicecmd", "SN=A", b"ID=1&Return=0&CMD=\xff"),
        Err(DecodeError::BadText {
            charset: "UTF-8 or GB18030"
        })
    );
    assert!(parse("/iclock/registry", "SN=A", b"~DeviceName=\xff").is_err());
    assert!(parse("/iclock/cdata", "SN=A&table=options", b"a=\xff").is_err());
    assert_eq!(
        parse("/iclock/cdata", "SN=A&table=ATTLOG&Stamp=%ff", b""),
        Err(DecodeError::BadText { charset: "UTF-8" })
    );
}

#[test]
fn missing_fields() {
    assert_eq!(
        parse("/iclock/cdata", "options=all", b""),
        Err(DecodeError::Missing("SN"))
    );
    assert_eq!(
        parse("/iclock/cdata", "SN=", b"").unwrap_err(),
        DecodeError::bad("SN", "")
    );
    let long_sn = format!("SN={}", "A".repeat(65));
    assert!(matches!(
        parse("/iclock/cdata", &long_sn, b""),
        Err(DecodeError::BadValue { field: "SN", .. })
    ));
    let sn64 = format!("SN={}&options=all", "A".repeat(64));
    assert!(parse("/iclock/cdata", &sn64, b"").is_ok());
    assert!(parse("/iclock/cdata", "SN=a-b_C9&options=all", b"").is_ok());
    assert!(parse("/iclock/cdata", "SN=a.b&options=all", b"").is_err());
    assert_eq!(
        parse("/iclock/cdata", "SN=A&table=tabledata", b""),
        Err(DecodeError::Missing("tablename"))
    );
    assert_eq!(
        parse("/iclock/querydata", "SN=A&tablename=user", b""),
        Err(DecodeError::Missing("type"))
    );
    assert_eq!(
        parse("/iclock/querydata", "SN=A&type=count", b""),
        Err(DecodeError::Missing("tablename"))
    );
    assert!(matches!(
        parse(
            "/iclock/cdata",
            "SN=A&table=tabledata&tablename=user&count=x",
            b""
        ),
        Err(DecodeError::BadValue { field: "count", .. })
    ));
    assert!(matches!(
        parse("/iclock/cdata", "SN=A&options=all&language=zh", b""),
        Err(DecodeError::BadValue {
            field: "language",
            ..
        })
    ));
    assert!(parse("/iclock/cdata", "SN=A&options=all&pushver=x", b"").is_err());
    assert_eq!(
        parse("/iclock/devicecmd", "SN=A", b"ID=1&CMD=DATA"),
        Err(DecodeError::Missing("Return"))
    );

    let body = b"1\t2024-07-28 01:25:24\n\t2024-07-28 01:25:24\t0\t1\nx\t2024-13-28 01:25:24\t0\t1\n2\t2024-07-28 01:25:24\t0\t1\n";
    let r = parse("/iclock/cdata", "SN=A&table=ATTLOG", body).unwrap();
    let Message::Upload(u) = &r.message else {
        panic!()
    };
    let TableBody::AttLog(b) = &u.body else {
        panic!()
    };
    assert_eq!(b.records.len(), 1);
    let lines: Vec<_> = b
        .skipped
        .iter()
        .map(|s| (s.line, s.error.clone()))
        .collect();
    assert_eq!(lines[0], (1, DecodeError::Missing("Status")));
    assert_eq!(lines[1], (2, DecodeError::Missing("PIN")));
    assert_eq!(
        lines[2],
        (3, DecodeError::bad("Time", "2024-13-28 01:25:24"))
    );

    let r = parse(
        "/iclock/cdata",
        "SN=A&table=OPERLOG",
        b"USER Name=x\nOPLOG x\nFP PIN=1\nnonsense\n",
    )
    .unwrap();
    let errs: Vec<_> = oper(&r).skipped.iter().map(|s| s.error.clone()).collect();
    assert_eq!(errs[0], DecodeError::Missing("PIN"));
    assert_eq!(errs[1], DecodeError::bad("OpType", "x"));
    assert_eq!(errs[2], DecodeError::Missing("FID"));
    assert_eq!(errs[3], DecodeError::BadRecord("nonsense".into()));
    assert_eq!(errs.len(), 4);
}

#[test]
fn over_long_lines_and_queries() {
    let c = Config {
        limits: Limits {
            max_body: 1 << 20,
            max_line: 100,
        },
        ..Config::default()
    };
    let mut body = b"1\t2024-07-28 01:25:24\t0\t1\n".to_vec();
    body.extend(std::iter::repeat_n(b'A', 101));
    let e = Request::parse("/iclock/cdata", "SN=A&table=ATTLOG", &body, &c).unwrap_err();
    assert_eq!(
        e,
        DecodeError::LineTooLong {
            line: 2,
            len: 101,
            max: 100
        }
    );
    body.truncate(body.len() - 1);
    assert!(Request::parse("/iclock/cdata", "SN=A&table=ATTLOG", &body, &c).is_ok());
    let q = format!("SN=A&options=all&x={}", "y".repeat(100));
    assert!(matches!(
        Request::parse("/iclock/cdata", &q, b"", &c),
        Err(DecodeError::LineTooLong { line: 0, .. })
    ));
    // Whole-body endpoints check lines too.
    let long = vec![b'a'; 101];
    for path in ["/iclock/devicecmd", "/iclock/registry"] {
        assert!(matches!(
            Request::parse(path, "SN=A", &long, &c),
            Err(DecodeError::LineTooLong { .. })
        ));
    }
}

#[test]
fn ten_megabyte_bodies_are_refused_before_decoding() {
    let big = vec![b'1'; 10 << 20];
    for (path, query) in [
        ("/iclock/cdata", "SN=A&table=ATTLOG"),
        ("/iclock/cdata", "SN=A&table=OPERLOG"),
        ("/iclock/cdata", "SN=A&table=options"),
        ("/iclock/cdata", "SN=A&table=rtlog"),
        ("/iclock/devicecmd", "SN=A"),
        ("/iclock/registry", "SN=A"),
        ("/iclock/querydata", "SN=A&type=tabledata&tablename=user"),
    ] {
        assert_eq!(
            parse(path, query, &big),
            Err(DecodeError::BodyTooLarge {
                len: 10 << 20,
                max: 4 << 20
            }),
            "{path}?{query}"
        );
    }
    let at_limit = Config {
        limits: Limits {
            max_body: 10 << 20,
            max_line: 10 << 20,
        },
        ..Config::default()
    };
    assert!(Request::parse("/iclock/devicecmd", "SN=A", &big, &at_limit).is_err());
}

#[test]
fn unknown_tables_and_endpoints() {
    for t in ["FOO", "ATTPHOTO", "", "ATTLOG2"] {
        assert_eq!(
            parse("/iclock/cdata", &format!("SN=A&table={t}"), b""),
            Err(DecodeError::UnknownTable(t.into()))
        );
    }
    assert_eq!(
        parse("/iclock/fdata", "SN=A", b""),
        Err(DecodeError::UnknownEndpoint("fdata".into()))
    );
    assert_eq!(
        parse("/", "SN=A", b""),
        Err(DecodeError::UnknownEndpoint("".into()))
    );
    // Table names are matched case-insensitively.
    assert!(parse("/iclock/cdata", "SN=A&table=attlog", b"").is_ok());
    assert!(parse("/iclock/cdata", "SN=A&table=OPTIONS", b"a=1").is_ok());
}

#[test]
fn names_cannot_inject_fields_or_commands() {
    let c = Config::default();
    for bad in [
        "Eve\tPri=14",
        "Eve\r\nC:2:REBOOT",
        "Eve\nC:2:CLEAR DATA",
        "Eve\0",
    ] {
        let u = UserInfo {
            pin: "1".into(),
            name: bad.into(),
            ..UserInfo::default()
        };
        assert!(matches!(
            Command::UpdateUser(u).encode(&c),
            Err(EncodeError::Forbidden { field: "Name", .. })
        ));
        let a = AccessUser {
            pin: "1".into(),
            name: bad.into(),
            ..AccessUser::default()
        };
        assert!(matches!(
            Command::UpdateAccessUser(a).encode(&c),
            Err(EncodeError::Forbidden { field: "Name", .. })
        ));
    }
    let pin_inject = Command::DeleteUser("1\tPIN=2".into());
    assert!(matches!(
        pin_inject.encode(&c),
        Err(EncodeError::Forbidden { field: "PIN", .. })
    ));
    let opt = Command::SetOptions(vec![("A".into(), "1,B=2".into())]);
    assert_eq!(
        opt.encode(&c),
        Err(EncodeError::Forbidden {
            field: "value",
            found: ','
        })
    );
    assert!(Command::Raw("INFO\nC:9:REBOOT".into()).encode(&c).is_err());
    assert!(
        Command::SetOption("k".into(), "v\r".into())
            .encode(&c)
            .is_err()
    );
    // A refused command aborts the whole list: nothing half-sent.
    let list = [
        (CommandId::from(1), Command::Info),
        (CommandId::from(2), Command::DeleteUser("".into())),
    ];
    assert!(command_list(&list, &c).is_err());
    assert!(OptionBlock::attendance("A\nB").is_err());
}

#[test]
fn count_styles() {
    let c = Config {
        count_style: CountStyle::ColonSpace,
        ..Config::default()
    };
    let r = Request::parse(
        "/iclock/cdata",
        "SN=A&table=ATTLOG",
        b"1\t2024-07-28 01:25:24\t0\t1\n",
        &c,
    )
    .unwrap();
    assert_eq!(ack(&r.message, &c).unwrap().as_deref(), Some("OK: 1"));
    let r = Request::parse(
        "/iclock/cdata",
        "SN=A&table=tabledata&tablename=a%0Ab",
        b"",
        &c,
    )
    .unwrap();
    assert!(ack(&r.message, &c).is_err());
}

#[test]
fn fields_split_on_spaces_only_before_keys() {
    use zkproto::push::body::Fields;
    let f = Fields::parse("a=1 b_c=2 ~d=3 e-f=4 =5 g 9=x").unwrap();
    let pairs: Vec<(&str, &str)> = f.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        pairs,
        [("a", "1"), ("b_c", "2"), ("~d", "3 e-f=4 =5 g"), ("9", "x")]
    );
    let g = Fields::parse("time=2017-01-10 11:49:32 pin=0").unwrap();
    assert_eq!(g.get("time"), Some("2017-01-10 11:49:32"));
    // With HT present, SP is part of the value.
    let h = Fields::parse("name=A b=2\tpin=1").unwrap();
    assert_eq!(
        (h.get("name"), h.get("pin"), h.0.len()),
        (Some("A b=2"), Some("1"), 2)
    );
    assert!(Fields::parse("x y=1").is_err());
}

#[test]
fn limits_are_inclusive() {
    let c = Config {
        limits: Limits {
            max_body: 30,
            max_line: 30,
        },
        ..Config::default()
    };
    let line = b"1\t2024-07-28 01:25:24\t0\t1\t\t000"; // 30 bytes
    assert_eq!(line.len(), 30);
    assert!(Request::parse("/iclock/cdata", "SN=A&table=ATTLOG", line, &c).is_ok());
    let q = format!("SN=A&options=all&x={}", "y".repeat(11)); // 30 bytes
    assert_eq!(q.len(), 30);
    assert!(Request::parse("/iclock/cdata", &q, b"", &c).is_ok());
    let c = Config {
        limits: Limits {
            max_body: 10 << 20,
            max_line: 10 << 20,
        },
        ..Config::default()
    };
    let big = vec![b'1'; 10 << 20];
    assert!(Request::parse("/iclock/cdata", "SN=A&table=ATTLOG", &big, &c).is_ok());
}

#[test]
fn blank_lines_are_not_records_but_keep_their_numbers() {
    let body = b"\n \t\n\r\n1\t2024-07-28 01:25:24\t0\t1\r\nbad\n";
    let r = parse("/iclock/cdata", "SN=A&table=ATTLOG", body).unwrap();
    let Message::Upload(u) = &r.message else {
        panic!()
    };
    let TableBody::AttLog(b) = &u.body else {
        panic!()
    };
    assert_eq!(b.records.len(), 1);
    assert_eq!(b.records[0].verify, 1);
    assert_eq!(b.skipped.len(), 1);
    assert_eq!(b.skipped[0].line, 5);
    let lines: Vec<_> = zkproto::push::body::lines(b"a\r\r\nb", &Limits::default())
        .unwrap()
        .collect();
    assert_eq!(lines, [(1, &b"a\r"[..]), (2, &b"b"[..])]);
}

#[test]
fn query_counts_pairs() {
    use zkproto::push::query::Query;
    let q = Query::parse("a=1&&b&c=", &Limits::default()).unwrap();
    assert_eq!((q.len(), q.is_empty()), (3, false));
    assert_eq!(
        (q.get("b"), q.get("c"), q.get("d")),
        (Some(""), Some(""), None)
    );
    let e = Query::parse("", &Limits::default()).unwrap();
    assert_eq!((e.len(), e.is_empty()), (0, true));
    let r = parse("/iclock/ping", "SN=1&x=%41%2f", b"").unwrap();
    assert_eq!((r.query.len(), r.query.get("X")), (2, Some("A/")));
}
