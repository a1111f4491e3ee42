//! Golden vectors and properties for free sizes, options, realtime events,
//! door state and bulk-transfer payloads (reference §4, §5.1, §6.5, §6.6,
//! §7, §8, §11.A/C/F). Vector files are listed in `tests/vectors/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::path::Path;
use zkproto::terminal::record::bulk::{
    BufferDescriptor, BulkRead, MAX_BULK_SIZE, PrepareData, ReadChunk, buffer_hash, split_table,
    table_buffer,
};
use zkproto::terminal::record::door::{
    DoorPolarity, DoorState, DoorStatus, UnlockUnit, parse_unlock_request, unlock_request,
};
use zkproto::terminal::record::event::{
    Alarm, AttendanceEvent, Event, NOT_IDENTIFIED, ack, event_packet,
};
use zkproto::terminal::record::options::{self, keys};
use zkproto::terminal::record::sizes::FreeSizes;
use zkproto::terminal::record::{DeviceTime, RecordError, TextEncoding};
use zkproto::terminal::{ChecksumMode, Command, EventFlag, Packet, ReplyCode};

fn load(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(hex).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Strips and checks the TCP envelope, then decodes the packet with a
/// strict checksum.
fn tcp_packet(frame: &[u8]) -> Packet {
    let (head, body) = frame.split_at(8);
    assert_eq!(&head[..4], [0x50, 0x50, 0x82, 0x7d]);
    let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    assert_eq!(len, body.len());
    Packet::decode(body, ChecksumMode::Strict).unwrap()
}

fn tcp_frame(p: &Packet) -> Vec<u8> {
    let body = p.to_bytes();
    let mut out = vec![0x50, 0x50, 0x82, 0x7d];
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

// ---------------------------------------------------------------- events

#[test]
fn realtime_attlog_32_byte_event() {
    let frame = load("rt_event_attlog_32.hex");
    let p = tcp_packet(&frame);
    assert!(p.is_event());
    assert_eq!((p.event_flag(), p.reply_id), (EventFlag::AttLog, 0));
    let ev = Event::from_packet(&p, TextEncoding::Utf8).unwrap();
    let Event::Attendance(a) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(a.user_id, "999111333");
    assert_eq!((a.uid, a.verify, a.state, a.layout_len), (None, 1, 0, 32));
    assert_eq!(a.time, DeviceTime::new(2018, 6, 25, 17, 41, 5));
    assert!(a.extra.is_empty());
    assert_eq!(ev.encode_data().unwrap(), p.data);
    assert_eq!(tcp_frame(&ev.to_packet(0).unwrap()), frame);
    // The same value built from scratch gives the captured bytes.
    let built = AttendanceEvent::new("999111333", 1, 0, DeviceTime::new(2018, 6, 25, 17, 41, 5));
    assert_eq!(Event::Attendance(built), ev);
}

#[test]
fn realtime_fpftr_event() {
    let frame = load("rt_event_fpftr.hex");
    let p = tcp_packet(&frame);
    assert_eq!(p.event_flag(), EventFlag::FpFtr);
    let ev = Event::from_packet(&p, TextEncoding::Utf8).unwrap();
    assert_eq!(ev, Event::FpFtr { score: 100 });
    assert_eq!(ev.flag(), EventFlag::FpFtr);
    assert_eq!(
        tcp_frame(&event_packet(
            EventFlag::FpFtr,
            0,
            ev.encode_data().unwrap()
        )),
        frame
    );
}

#[test]
fn twelve_byte_attlog_event() {
    let data = load("rt_event_attlog_12_data.hex");
    let ev = Event::parse(EventFlag::AttLog.value(), &data);
    let Event::Attendance(a) = &ev else {
        panic!("{ev:?}")
    };
    assert_eq!(a.user_id, "4822257");
    assert_eq!((a.uid, a.verify, a.state, a.layout_len), (None, 0, 0, 12));
    assert_eq!(a.time, DeviceTime::new(2018, 12, 7, 19, 9, 6));
    assert_eq!(&ev.encode_data().unwrap()[..], &data[..]);
    assert_eq!(
        Event::Attendance(AttendanceEvent::numeric(4_822_257, 0, 0, a.time)),
        ev
    );
}

#[test]
fn event_ack_packet() {
    // §7.3: CMD_ACK_OK, session id, the event's reply id, no data.
    let p = ack(0x8df3, 0);
    assert_eq!(p.reply_code(), ReplyCode::AckOk);
    assert_eq!((p.session_id, p.reply_id), (0x8df3, 0));
    assert!(p.data.is_empty());
    assert_eq!(Event::from_packet(&p, TextEncoding::Utf8), None);
    let q = event_packet(0x0200u16, 7, &[0x37, 0, 0, 0][..]);
    assert_eq!(q.command(), Command::RegEvent);
    assert_eq!((q.session_id, q.reply_id), (0x0200, 7));
}

#[test]
fn events_of_undocumented_lengths_fall_back_to_other() {
    let cases: &[(u16, usize)] = &[
        (0x0001, 11),
        (0x0001, 20),
        (0x0001, 33),
        (0x0001, 40),
        (0x0001, 51),
        (0x0002, 3),
        (0x0010, 2),
        (0x0080, 2),
        (0x0100, 0),
        (0x0100, 4),
        (0x0200, 5),
        (0x0200, 16),
        (0x0400, 4),
        (0x0008, 1),
    ];
    for &(flag, len) in cases {
        let data: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
        let ev = Event::parse(flag, &data);
        assert_eq!(
            ev,
            Event::Other {
                flag,
                data: data.clone().into()
            },
            "flag {flag:#x} len {len}"
        );
        assert_eq!(&ev.encode_data().unwrap()[..], &data[..]);
    }
}

#[test]
fn alarm_forms() {
    let duress = [
        0xff, 0xff, 0xff, 0xff, 0x20, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00,
    ];
    assert_eq!(
        Event::parse(0x200, &duress),
        Event::Alarm(Alarm::Duress { uid: 13, verify: 1 })
    );
    assert_eq!(
        Event::parse(0x200, &[54, 0, 0, 0, 0, 0, 0, 0]),
        Event::Alarm(Alarm::DoorClosed { code: 54 })
    );
    assert_eq!(
        Event::parse(0x200, &[0x54, 0, 0, 0, 0, 0, 0, 0]),
        Event::Alarm(Alarm::DoorClosed { code: 0x54 })
    );
    assert_eq!(
        Event::parse(0x200, &[0x3a, 0, 0, 0]),
        Event::Alarm(Alarm::Misoperation)
    );
}

#[test]
fn verify_not_identified() {
    let ev = Event::parse(0x80, &[0xff, 0xff, 0xff, 0xff, 0x01]);
    assert!(matches!(
        ev,
        Event::Verify {
            user: NOT_IDENTIFIED,
            ..
        }
    ));
    assert_eq!(ev.identified(), None);
}

// --------------------------------------------------------------- options

#[test]
fn option_read_platform() {
    let req = tcp_packet(&load("opt_platform_rrq.hex"));
    assert_eq!(req.command(), Command::OptionsRrq);
    assert_eq!(options::read_request(keys::PLATFORM), req.data);
    assert_eq!(options::parse_request(&req.data).unwrap(), keys::PLATFORM);
    let rep = tcp_packet(&load("opt_platform_reply.hex"));
    assert_eq!(rep.reply_code(), ReplyCode::AckOk);
    let (name, value) = options::parse_reply(&rep.data).unwrap();
    assert_eq!((name.as_str(), value.as_str()), ("~Platform", "ZEM760_TFT"));
    assert_eq!(options::encode_reply(&name, &value), rep.data);
}

#[test]
fn option_read_workcode() {
    let req = tcp_packet(&load("opt_workcode_rrq.hex"));
    assert_eq!(options::read_request(keys::WORK_CODE), req.data);
    let rep = tcp_packet(&load("opt_workcode_reply.hex"));
    assert_eq!(
        options::parse_reply(&rep.data).unwrap(),
        ("WorkCode".into(), "0".into())
    );
    assert_eq!(options::encode_reply("WorkCode", "0"), rep.data);
}

#[test]
fn option_reads_os_and_face_version() {
    let os = tcp_packet(&load("opt_os_rrq.hex"));
    assert_eq!(options::read_request(keys::OS), os.data);
    let face =
        Packet::decode(&load("opt_zkfaceversion_rrq_udp.hex"), ChecksumMode::Strict).unwrap();
    assert_eq!(face.command(), Command::OptionsRrq);
    assert_eq!(options::read_request(keys::FACE_VERSION), face.data);
}

#[test]
fn option_writes() {
    let lock = tcp_packet(&load("opt_lockon_wrq.hex"));
    assert_eq!(lock.command(), Command::OptionsWrq);
    assert_eq!(
        options::write_request(keys::LOCK_ON, "5").unwrap(),
        lock.data
    );
    assert_eq!(
        options::parse_write(&lock.data).unwrap(),
        ("LockOn".into(), "5".into())
    );
    let apb = tcp_packet(&load("opt_antipassback_wrq.hex"));
    assert_eq!(
        options::write_request(keys::ANTI_PASSBACK_ON, "0").unwrap(),
        apb.data
    );
    assert_eq!(
        options::parse_write(&apb.data).unwrap(),
        ("AntiPassbackOn".into(), "0".into())
    );
}

#[test]
fn malformed_options() {
    assert!(matches!(
        options::parse_reply(b"~Platform\0"),
        Err(RecordError::InvalidField {
            field: "'=' separator",
            ..
        })
    ));
    assert!(options::parse_write(b"").is_err());
    assert!(options::parse_request(b"").is_err());
    assert!(options::write_request("Lock=On", "1").is_err());
}

// ------------------------------------------------------------------ bulk

#[test]
fn users_descriptor_vector() {
    let p = tcp_packet(&load("bulk_descriptor_users.hex"));
    assert_eq!(p.reply_code(), ReplyCode::AckOk);
    let d = BufferDescriptor::parse(&p.data).unwrap();
    assert_eq!(
        d,
        BufferDescriptor {
            compressed: 0,
            size: 5044,
            original_size: 5044,
            hash: 0x0023_EFCD
        }
    );
    assert_eq!(d.encode(), p.data);
    assert!(d.check_size(MAX_BULK_SIZE).is_ok());
}

#[test]
fn templates_descriptor_vector() {
    let data = load("bulk_descriptor_templates_data.hex");
    let d = BufferDescriptor::parse(&data).unwrap();
    assert_eq!((d.size, d.original_size, d.hash), (7572, 7572, 0x00BE_00B4));
    assert_eq!(&d.encode()[..], &data[..]);
}

#[test]
fn bulk_read_request_vectors() {
    for name in [
        "bulk_read_users_rrq_45cf.hex",
        "bulk_read_users_rrq_2058.hex",
    ] {
        let p = tcp_packet(&load(name));
        assert_eq!(p.command(), Command::PrepareBuffer);
        assert_eq!(BulkRead::parse(&p.data).unwrap(), BulkRead::users());
        assert_eq!(BulkRead::users().encode(), p.data);
    }
}

#[test]
fn descriptor_truncated_or_long() {
    let data = load("bulk_descriptor_templates_data.hex");
    for n in 0..data.len() {
        assert!(
            matches!(
                BufferDescriptor::parse(&data[..n]),
                Err(RecordError::Truncated { .. })
            ),
            "{n}"
        );
    }
    let mut long = data.clone();
    long.push(0);
    assert_eq!(
        BufferDescriptor::parse(&long),
        Err(RecordError::TrailingBytes {
            what: "buffer descriptor",
            extra: 1
        })
    );
}

#[test]
fn split_table_lying_total() {
    let mut buf = table_buffer(&[1u8; 144]).unwrap().to_vec();
    assert_eq!(split_table(&buf).unwrap().0, 144);
    buf[0] = 145;
    assert!(matches!(
        split_table(&buf),
        Err(RecordError::BadLength { value: 145, .. })
    ));
}

#[test]
fn buffer_hash_arithmetic_shift() {
    // Derived (§4.2.1, §11.F): eight bytes `08 00 … 00` push the value to
    // 0x8000_0000; the sign-extending shift yields 0xFFFF_FF80, whose
    // remainder modulo 16 711 679 is 0x10081 (a logical shift would give 0x80).
    assert_eq!(buffer_hash(&[8, 0, 0, 0, 0, 0, 0, 0]), 0x1_0081);
    // Nine bytes: one more round through the high nibble (0xF000_07F0).
    assert_eq!(buffer_hash(&[8, 0, 0, 0, 0, 0, 0, 0, 0]), 0xF0_08E0);
    let d = BufferDescriptor::for_buffer(b"ZKTeco");
    assert_eq!(d.hash, 0xF5_ABA4);
}

#[test]
fn prepare_data_forms() {
    // Device burst header of §4.3 (5044 bytes in 1008-byte packets).
    let p = PrepareData {
        len: 5044,
        packet_size: Some(1008),
    };
    assert_eq!(&p.encode()[..], [0xb4, 0x13, 0, 0, 0xf0, 0x03, 0, 0]);
    // Client upload announcement of §5.1 (4 bytes).
    let u = PrepareData {
        len: 72,
        packet_size: None,
    };
    assert_eq!(&u.encode()[..], [72, 0, 0, 0]);
    assert!(PrepareData::parse(&[0; 9]).is_err());
    assert!(ReadChunk::parse(&[0; 9]).is_err());
}

// ------------------------------------------------------------ sizes/door

#[test]
fn free_sizes_from_documented_counters() {
    // Decoded values of the pyzk `test_tcp_get_size` device (§6.5), 92 bytes.
    let mut s = FreeSizes::new(7, 6, 605, 10_000, 3_000, 100_000).with_faces(0, 0);
    s.oplog = 3087;
    s.admins = 1;
    let bytes = s.encode();
    assert_eq!(bytes.len(), 92);
    assert_eq!(&bytes[16..20], 7i32.to_le_bytes());
    assert_eq!(&bytes[48..52], 1i32.to_le_bytes());
    assert_eq!(&bytes[64..68], 100_000i32.to_le_bytes());
    assert_eq!(&bytes[72..76], 9_993i32.to_le_bytes());
    let back = FreeSizes::parse(&bytes).unwrap();
    assert_eq!(
        (back.users_av, back.fingers_av, back.records_av),
        (9_993, 2_994, 99_395)
    );
    assert_eq!(back, s);
    assert!(FreeSizes::parse(&bytes[..79]).is_err());
    assert!(FreeSizes::parse(&bytes[..84]).is_ok());
}

#[test]
fn door_state_and_unlock() {
    assert_eq!(
        DoorState::parse(&[1])
            .unwrap()
            .status(DoorPolarity::default()),
        DoorStatus::Open
    );
    assert_eq!(
        DoorState::parse(&[0xff])
            .unwrap()
            .status(DoorPolarity::ZeroIsOpen),
        DoorStatus::Unknown
    );
    let raw = UnlockUnit::default()
        .raw_value(std::time::Duration::from_secs(3))
        .unwrap();
    assert_eq!(&unlock_request(raw)[..], [0x1e, 0, 0, 0]);
    assert_eq!(parse_unlock_request(&unlock_request(raw)).unwrap(), 30);
}

// ------------------------------------------------------------ properties

fn arb_time() -> impl Strategy<Value = DeviceTime> {
    (
        2000u16..=2099,
        1u8..=12,
        1u8..=31,
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| DeviceTime::new(y, mo, d, h, mi, s))
}

proptest! {
    #[test]
    fn sizes_round_trip(words in proptest::collection::vec(any::<i32>(), 20..=30)) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let s = FreeSizes::parse(&bytes).unwrap();
        prop_assert_eq!(&s.encode()[..], &bytes[..]);
        prop_assert_eq!(FreeSizes::parse(&s.encode()).unwrap(), s);
    }

    #[test]
    fn options_round_trip(name in "~?[A-Za-z][A-Za-z0-9_]{0,20}", value in "[ -~]{0,32}") {
        let w = options::write_request(&name, &value).unwrap();
        prop_assert_eq!(options::parse_write(&w).unwrap(), (name.clone(), value.clone()));
        prop_assert_eq!(options::parse_reply(&options::encode_reply(&name, &value)).unwrap(), (name.clone(), value));
        prop_assert_eq!(options::parse_request(&options::read_request(&name)).unwrap(), name);
    }

    #[test]
    fn attendance_events_round_trip(
        id in "[0-9A-Za-z]{1,24}", uid in any::<u16>(), num in any::<u32>(),
        verify in any::<u8>(), state in any::<u8>(), t in arb_time(),
        form in 0usize..7, junk in proptest::collection::vec(any::<u8>(), 20..40),
    ) {
        let mut a = match form {
            0 | 1 => AttendanceEvent::with_uid(uid, verify, state, t),
            2 => AttendanceEvent::numeric(num, verify, state, t),
            _ => AttendanceEvent::new(id, verify, state, t),
        };
        a.extra = match form {
            1 | 4 => junk[..4].to_vec().into(),
            5 => junk[..5].to_vec().into(),
            6 => junk.clone().into(),
            _ => Default::default(),
        };
        let ev = Event::Attendance(a);
        let data = ev.encode_data().unwrap();
        prop_assert_eq!(data.len(), [10, 14, 12, 32, 36, 37, 32 + junk.len()][form]);
        let back = Event::parse(1, &data);
        prop_assert_eq!(&back, &ev);
        prop_assert_eq!(back.encode_data().unwrap(), data);
    }

    #[test]
    fn other_events_round_trip(
        flag in prop_oneof![Just(2u16), Just(4), Just(8), Just(0x10), Just(0x20), Just(0x80),
                            Just(0x100), Just(0x200), Just(0x400), Just(0x40), Just(0x1000)],
        data in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let ev = Event::parse(flag, &data);
        prop_assert_eq!(ev.flag().value(), flag);
        prop_assert_eq!(&ev.encode_data().unwrap()[..], &data[..]);
        let p = ev.to_packet(0).unwrap();
        prop_assert_eq!(Event::from_packet(&Packet::decode(&p.to_bytes(), ChecksumMode::Strict).unwrap(), TextEncoding::Utf8), Some(ev));
    }

    #[test]
    fn any_event_bytes_never_panic(flag in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let ev = Event::parse_with(flag, &data, TextEncoding::Gbk);
        let _ = ev.encode_data_with(TextEncoding::Gbk);
    }

    #[test]
    fn door_round_trip(raw in any::<u8>(), secs in 0u64..100_000) {
        let s = DoorState::parse(&[raw]).unwrap();
        prop_assert_eq!(DoorState::parse(&s.encode()).unwrap(), s);
        for unit in [UnlockUnit::Seconds, UnlockUnit::Tenths] {
            let d = std::time::Duration::from_secs(secs);
            prop_assert_eq!(unit.duration(unit.raw_value(d).unwrap()), d);
        }
    }

    #[test]
    fn bulk_round_trip(c in any::<u8>(), cmd in any::<u16>(), p1 in any::<u32>(), p2 in any::<u32>(),
                       h in any::<u32>(), chunk in any::<(u32, u32)>(), psize in any::<Option<u32>>()) {
        let r = BulkRead { command: cmd, param1: p1, param2: p2, compress: c };
        prop_assert_eq!(BulkRead::parse(&r.encode()).unwrap(), r);
        let d = BufferDescriptor { compressed: c, size: p1, original_size: p2, hash: h };
        prop_assert_eq!(BufferDescriptor::parse(&d.encode()).unwrap(), d);
        let k = ReadChunk { offset: chunk.0, len: chunk.1 };
        prop_assert_eq!(ReadChunk::parse(&k.encode()).unwrap(), k);
        let pd = PrepareData { len: p1, packet_size: psize };
        prop_assert_eq!(PrepareData::parse(&pd.encode()).unwrap(), pd);
    }
}

#[cfg(feature = "serde")]
#[test]
fn events_serialize_with_serde() {
    let data = load("rt_event_attlog_32.hex");
    let ev = Event::from_packet(&tcp_packet(&data), TextEncoding::Utf8).unwrap();
    let json = serde_json::to_string(&ev).unwrap();
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), ev);
    let alarm = Event::Alarm(Alarm::Other {
        code: 1,
        raw: vec![1, 0, 0, 0].into(),
    });
    let json = serde_json::to_string(&alarm).unwrap();
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), alarm);
    let sizes = FreeSizes::new(1, 2, 3, 4, 5, 6);
    let json = serde_json::to_string(&sizes).unwrap();
    assert_eq!(serde_json::from_str::<FreeSizes>(&json).unwrap(), sizes);
}
