//! Golden vectors, round trips and malformed input for the user,
//! attendance, template and operation-log records.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use zkproto::terminal::EncodeError;
use zkproto::terminal::record::attendance::{
    Attendance, AttendanceIter, AttendanceLayout, encode_attendance_table, iter_attendance,
    parse_attendance,
};
use zkproto::terminal::record::oplog::{OpLogEntry, encode_oplog_table, parse_oplog};
use zkproto::terminal::record::template::{
    MAX_TEMPLATE_LEN, Template, TemplateWrite, batch_upload_buffer, encode_template_table,
    parse_batch_upload, parse_templates,
};
use zkproto::terminal::record::time::{DeviceTime, InvalidTime};
use zkproto::terminal::record::user::{
    Privilege, Role, User, UserLayout, encode_users, parse_users,
};
use zkproto::terminal::record::{Overflow, RecordError, TextEncoding};

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(hex).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const UTF8: TextEncoding = TextEncoding::Utf8;

// ---------------------------------------------------------------- users

#[test]
fn golden_user_ned_72() {
    let raw = vector("user72_ned.hex");
    assert_eq!(raw.len(), 72);
    let u = User::parse(&raw, UserLayout::Extended72).unwrap();
    assert_eq!(u.uid(), 13);
    assert_eq!(u.privilege(), Privilege(0));
    assert_eq!(u.privilege().role(), Role::User);
    assert!(u.is_enabled());
    assert!(u.has_password());
    assert_eq!(u.password(UTF8).expose(), "444");
    assert_eq!(u.name(UTF8), "Ned");
    assert_eq!(u.card(), 222);
    assert_eq!(u.group(), 2);
    assert_eq!(u.timezones(), [1, 1, 2, 0]);
    assert_eq!(u.user_id(UTF8), "555");
    // Decode → encode reproduces the bytes, junk after the password NUL included.
    assert_eq!(&u.to_bytes()[..], &raw[..]);
    let mut out = BytesMut::new();
    u.encode_into(&mut out);
    assert_eq!(&out[..], &raw[..]);
    // Secrets stay out of Debug.
    let dbg = format!("{u:?}");
    assert!(!dbg.contains("444"), "{dbg}");
    assert!(dbg.contains("Ned"), "{dbg}");
    assert_eq!(format!("{:?}", u.password(UTF8)), "Pin(***)");
    let info = u.info(UTF8);
    assert_eq!(info.user_id, "555");
    assert!(info.has_password);
}

#[test]
fn golden_user_wrq_nuevo_72() {
    let frame = vector("user_wrq_nuevo_frame.hex");
    assert_eq!(frame.len(), 8 + 8 + 72);
    // TCP length 80 and command 8 (CMD_USER_WRQ).
    assert_eq!(&frame[4..8], &80u32.to_le_bytes());
    assert_eq!(&frame[8..10], &8u16.to_le_bytes());
    let data = &frame[16..];
    let u = User::parse(data, UserLayout::Extended72).unwrap();
    assert_eq!(u.uid(), 14);
    assert_eq!(u.privilege(), Privilege(6));
    assert_eq!(u.privilege().role(), Role::Manager);
    assert_eq!(u.password(UTF8).expose(), "123456");
    assert_eq!(u.name(UTF8), "Nuevo");
    assert_eq!(u.card(), 6543);
    assert_eq!(u.group(), 1);
    assert_eq!(u.timezones(), [0; 4]);
    assert_eq!(u.user_id(UTF8), "11224488");
    assert_eq!(&u.to_bytes()[..], data);

    // Built from its values, the record matches the capture except for the
    // junk byte after the password's NUL (offset 10), which a fresh record zeroes.
    let mut built = User::new(UserLayout::Extended72, 14, "11224488", UTF8).unwrap();
    built.set_privilege(Privilege(6));
    built.set_password("123456").unwrap();
    built.set_name("Nuevo", UTF8, Overflow::Error).unwrap();
    built.set_card(6543);
    let b = built.to_bytes();
    let diff: Vec<usize> = (0..72).filter(|&i| b[i] != data[i]).collect();
    assert_eq!(diff, vec![10]);
    assert_eq!(data[10], 0x7c);
}

#[test]
fn set_password_changes_only_the_password_bytes() {
    let raw = vector("user72_ned.hex");
    let mut u = User::parse(&raw, UserLayout::Extended72).unwrap();
    u.set_password("98765432").unwrap();
    let out = u.to_bytes();
    for i in 0..72 {
        if !(3..11).contains(&i) {
            assert_eq!(out[i], raw[i], "byte {i} changed");
        }
    }
    assert_eq!(&out[3..11], b"98765432");
    assert_eq!(u.password(UTF8).expose(), "98765432");
    u.set_password("1").unwrap();
    assert_eq!(&u.to_bytes()[3..11], b"1\0\0\0\0\0\0\0");
    assert_eq!(
        u.set_password("123456789"),
        Err(EncodeError::FieldTooLong {
            field: "password",
            len: 9,
            max: 8
        })
    );
    assert!(matches!(
        u.set_password("12ab"),
        Err(EncodeError::OutOfRange {
            field: "password",
            ..
        })
    ));
    // A failed set leaves the record unchanged.
    assert_eq!(&u.to_bytes()[3..11], b"1\0\0\0\0\0\0\0");
}

#[test]
fn gbk_names_round_trip_in_both_layouts() {
    let gbk = TextEncoding::Gbk;
    for layout in [UserLayout::Compact28, UserLayout::Extended72] {
        let mut u = User::new(layout, 3, "42", gbk).unwrap();
        u.set_name("张三", gbk, Overflow::Error).unwrap();
        assert_eq!(&u.name_raw()[..4], &[0xd5, 0xc5, 0xc8, 0xfd]);
        assert!(u.name_raw()[4..].iter().all(|&b| b == 0));
        let back = User::parse(&u.to_bytes(), layout).unwrap();
        assert_eq!(back.name(gbk), "张三");
        assert_eq!(back, u);
    }
    // Too long for the 8-byte name of the 28-byte layout: refused or cut.
    let mut u = User::new(UserLayout::Compact28, 3, "42", gbk).unwrap();
    assert!(matches!(
        u.set_name("张三李四王五", gbk, Overflow::Error),
        Err(EncodeError::FieldTooLong {
            field: "name",
            max: 8,
            ..
        })
    ));
    u.set_name("张三李四王五", gbk, Overflow::Truncate).unwrap();
    assert_eq!(u.name(gbk), "张三李四");
}

#[test]
fn non_utf8_names_decode_lossily() {
    let mut raw = vector("user72_ned.hex");
    raw[11..15].copy_from_slice(&[0xff, 0xfe, b'A', 0x80]);
    let u = User::parse(&raw, UserLayout::Extended72).unwrap();
    assert_eq!(u.name(UTF8), "\u{fffd}\u{fffd}A\u{fffd}");
    // Still re-encodes byte for byte, and Debug does not panic.
    assert_eq!(&u.to_bytes()[..], &raw[..]);
    let _ = format!("{u:?}");
}

#[test]
fn compact_28_layout_keeps_byte_20() {
    let mut raw = [0u8; 28];
    raw[0] = 9;
    raw[16..20].copy_from_slice(&123_456u32.to_le_bytes());
    raw[20] = 0xEE;
    raw[24..28].copy_from_slice(&77u32.to_le_bytes());
    let mut u = User::parse(&raw, UserLayout::Compact28).unwrap();
    assert_eq!(u.card(), 123_456);
    assert_eq!(u.user_id(UTF8), "77");
    assert_eq!(&u.to_bytes()[..], &raw);
    u.set_card(1);
    assert_eq!(u.to_bytes()[20], 0xEE);
    assert!(u.set_user_id("12x", UTF8).is_err());
    assert!(u.set_user_id("0", UTF8).is_err());
    assert!(u.set_user_id("99999999999", UTF8).is_err());
}

#[test]
fn user_tables() {
    let ned = vector("user72_ned.hex");
    let mut area = ned.clone();
    area.extend_from_slice(&ned);
    let users = parse_users(&area, UserLayout::Extended72).unwrap();
    assert_eq!(users.len(), 2);
    let table = encode_users(&users);
    assert_eq!(&table[..4], &144u32.to_le_bytes());
    assert_eq!(&table[4..], &area[..]);
    assert!(matches!(
        parse_users(&area[..143], UserLayout::Extended72),
        Err(RecordError::Truncated {
            offset: 72,
            need: 72,
            got: 71,
            ..
        })
    ));
    assert!(matches!(
        User::parse(&area, UserLayout::Extended72),
        Err(RecordError::TrailingBytes { extra: 72, .. })
    ));
    assert_eq!(UserLayout::detect(144, Some(2)), Ok(UserLayout::Extended72));
    assert_eq!(UserLayout::detect(504, Some(18)), Ok(UserLayout::Compact28));
    assert_eq!(UserLayout::detect(504, None), Ok(UserLayout::Extended72));
    assert_eq!(
        UserLayout::detect(100, Some(4)),
        Err(RecordError::UnknownRecordSize {
            what: "user",
            len: 100
        })
    );
}

// ----------------------------------------------------------- attendance

#[test]
fn golden_attendance_40_uid13() {
    let raw = vector("att40_uid13.hex");
    let layout = AttendanceLayout::detect(raw.len(), Some(1)).unwrap();
    assert_eq!(layout, AttendanceLayout::Tft40);
    let log = parse_attendance(&raw, layout).unwrap();
    let a = &log[0];
    assert_eq!(a.uid, Some(13));
    assert_eq!(a.user_id(), "999111333");
    assert_eq!(a.verify, 1);
    assert_eq!(a.state, 0);
    assert_eq!(a.time, DeviceTime::new(2018, 6, 25, 17, 50, 35));
    assert_eq!(a.work_code, 0);
    assert_eq!(a.time_error(), None);
    assert_eq!(a.raw(), &raw[..]);
    let table = encode_attendance_table(&log).unwrap();
    assert_eq!(&table[..4], &40u32.to_le_bytes());
    assert_eq!(&table[4..], &raw[..]);
}

#[test]
fn golden_attendance_40_pyzk139() {
    let raw = vector("att40_pyzk139.hex");
    assert_eq!(raw.len(), 40);
    let a = Attendance::parse(&raw, AttendanceLayout::Tft40).unwrap();
    assert_eq!(a.uid, Some(1));
    assert_eq!(a.user_id(), "10036");
    assert_eq!(a.verify, 15);
    assert_eq!(a.time, DeviceTime::new(2021, 10, 24, 13, 42, 16));
    assert_eq!(a.state, 0);
    assert_eq!(&a.to_bytes().unwrap()[..], &raw[..]);
}

#[test]
fn golden_attendance_8_pyzk99() {
    let raw = vector("att8_pyzk99.hex");
    assert_eq!(
        AttendanceLayout::detect(raw.len(), Some(3)),
        Ok(AttendanceLayout::Short8)
    );
    let log = parse_attendance(&raw, AttendanceLayout::Short8).unwrap();
    let got: Vec<(Option<u16>, String, DeviceTime)> =
        log.iter().map(|a| (a.uid, a.user_id(), a.time)).collect();
    assert_eq!(
        got,
        vec![
            (
                Some(7),
                "7".to_string(),
                DeviceTime::new(2016, 1, 1, 19, 2, 0)
            ),
            (
                Some(123),
                "123".to_string(),
                DeviceTime::new(2016, 1, 1, 19, 4, 43)
            ),
            (
                Some(123),
                "123".to_string(),
                DeviceTime::new(2016, 1, 1, 19, 4, 46)
            ),
        ]
    );
    // Byte 2 = 0x28: state = low nibble 8, verify = high nibble 2 (pyzk #99).
    assert!(
        log.iter()
            .all(|a| a.state == 8 && a.verify == 2 && a.work_code == 0)
    );
    assert_eq!(&encode_attendance_table(&log).unwrap()[4..], &raw[..]);
}

#[test]
fn golden_attendance_16_jszklib50() {
    let raw = vector("att16_jszklib50.hex");
    assert_eq!(
        AttendanceLayout::detect(raw.len(), Some(3)),
        Ok(AttendanceLayout::Extended16)
    );
    let log = parse_attendance(&raw, AttendanceLayout::Extended16).unwrap();
    let got: Vec<(Option<u16>, String, DeviceTime, u8, u8)> = log
        .iter()
        .map(|a| (a.uid, a.user_id(), a.time, a.state, a.verify))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                None,
                "21".to_string(),
                DeviceTime::new(2018, 6, 6, 7, 31, 56),
                0,
                0
            ),
            (
                None,
                "16".to_string(),
                DeviceTime::new(2018, 6, 6, 7, 34, 45),
                0,
                0
            ),
            (
                None,
                "11".to_string(),
                DeviceTime::new(2018, 6, 6, 7, 48, 17),
                0,
                0
            ),
        ]
    );
    assert_eq!(&encode_attendance_table(&log).unwrap()[4..], &raw[..]);
    // The streaming iterator yields the same records chunk by chunk.
    let (first, second) = raw.split_at(20);
    let mut it = AttendanceIter::new(first, AttendanceLayout::Extended16).unwrap();
    assert_eq!(it.next().as_ref(), Some(&log[0]));
    assert!(it.next().is_none());
    let mut carry = it.remainder().to_vec();
    carry.extend_from_slice(second);
    let rest: Vec<Attendance> = iter_attendance(&carry, AttendanceLayout::Extended16)
        .unwrap()
        .collect();
    assert_eq!(rest, log[1..]);
}

#[test]
fn attendance_malformed_input() {
    assert!(matches!(
        parse_attendance(&[0u8; 41], AttendanceLayout::Tft40),
        Err(RecordError::Truncated {
            offset: 40,
            need: 40,
            got: 1,
            ..
        })
    ));
    assert_eq!(
        AttendanceLayout::detect(13, None),
        Err(RecordError::UnknownRecordSize {
            what: "attendance",
            len: 13
        })
    );
    assert!(parse_attendance(&[0u8; 80], AttendanceLayout::Wide(0)).is_err());
    // Impossible dates are reported per record, not fatal.
    let mut raw = vector("att40_uid13.hex");
    let feb31 = DeviceTime::new(2023, 2, 31, 0, 0, 0).to_packed().unwrap();
    raw[27..31].copy_from_slice(&feb31.to_le_bytes());
    let mut area = raw.clone();
    area.extend_from_slice(&[0xff; 40]);
    let log = parse_attendance(&area, AttendanceLayout::Tft40).unwrap();
    assert_eq!(
        log[0].time_error(),
        Some(InvalidTime::Day {
            year: 2023,
            month: 2,
            day: 31
        })
    );
    assert!(matches!(log[1].time_error(), Some(InvalidTime::Year(_))));
    // And they still re-encode to the input.
    assert_eq!(&encode_attendance_table(&log).unwrap()[4..], &area[..]);
    // Non-UTF-8 user ids decode lossily.
    assert!(log[1].user_id().contains('\u{fffd}'));
    // 49-byte records keep the unknown tail.
    let mut r49 = raw.clone();
    r49.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let a = Attendance::parse(&r49, AttendanceLayout::Tft49).unwrap();
    assert_eq!(a.user_id(), "999111333");
    assert_eq!(a.raw(), &r49[..]);
    assert_eq!(&a.to_bytes().unwrap()[..], &r49[..]);
}

// ------------------------------------------------------------ templates

#[test]
fn golden_template_entry_prefix() {
    let prefix = vector("template_entry_prefix.hex");
    assert_eq!(prefix.len(), 24);
    // Alone, the entry announces 0x04C4 bytes but only 24 are present.
    assert_eq!(
        parse_templates(&prefix),
        Err(RecordError::BadLength {
            what: "template entry",
            offset: 0,
            value: 0x04c4,
            reason: "entry extends past the end of the buffer",
        })
    );
    let mut entry = prefix.clone();
    entry.resize(0x04c4, 0xAA);
    let t = parse_templates(&entry).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].uid, t[0].finger, t[0].flag), (14, 4, 1));
    assert!(t[0].is_valid() && !t[0].is_duress());
    assert_eq!(&t[0].data[..6], &[0x4d, 0xfd, b'S', b'S', b'2', b'1']);
    let table = encode_template_table(&t).unwrap();
    assert_eq!(&table[..4], &0x04c4u32.to_le_bytes());
    assert_eq!(&table[4..], &entry[..]);
    let w = TemplateWrite::for_template(&t[0]).unwrap();
    assert_eq!(w.encode(), [14, 0, 4, 1, 0xbe, 0x04]);
}

#[test]
fn template_malformed_sizes() {
    // Size 0 is refused instead of looping.
    assert!(matches!(
        parse_templates(&[0, 0, 1, 0, 0, 1, 0, 0]),
        Err(RecordError::BadLength {
            offset: 0,
            value: 0,
            ..
        })
    ));
    // Size 5 is smaller than the header.
    assert!(matches!(
        parse_templates(&[5, 0, 1, 0, 0, 1]),
        Err(RecordError::BadLength { value: 5, .. })
    ));
    // A size over the template limit, even with the bytes present.
    let n = MAX_TEMPLATE_LEN + 7;
    let mut big = vec![0u8; n];
    big[..2].copy_from_slice(&(n as u16).to_le_bytes());
    assert!(matches!(
        parse_templates(&big),
        Err(RecordError::BadLength { offset: 0, .. })
    ));
    // Truncated header after a good entry.
    assert!(matches!(
        parse_templates(&[6, 0, 1, 0, 0, 1, 6, 0]),
        Err(RecordError::Truncated {
            offset: 6,
            need: 6,
            got: 2,
            ..
        })
    ));
    assert!(TemplateWrite::parse(&[1, 2, 3]).is_err());
}

// -------------------------------------------------------------- op log

#[test]
fn golden_oplog() {
    let raw = vector("oplog16_zkp.hex");
    let log = parse_oplog(&raw).unwrap();
    assert_eq!(log.len(), 1);
    let e = &log[0];
    assert_eq!((e.admin, e.op, e.pad), (0, 6, 0x2a));
    assert_eq!(e.op_name(), Some("enroll fingerprint"));
    assert_eq!(e.time, DeviceTime::new(2018, 6, 25, 16, 9, 38));
    assert_eq!(e.params, [3, 0, 7, 0x0502]);
    assert_eq!(&encode_oplog_table(&log).unwrap()[4..], &raw[..]);
    assert!(matches!(
        parse_oplog(&raw[..10]),
        Err(RecordError::Truncated {
            offset: 0,
            got: 10,
            ..
        })
    ));
}

// ------------------------------------------------------------ proptest

fn user_layout() -> impl Strategy<Value = UserLayout> {
    prop_oneof![Just(UserLayout::Compact28), Just(UserLayout::Extended72)]
}

fn att_layout() -> impl Strategy<Value = AttendanceLayout> {
    prop_oneof![
        Just(AttendanceLayout::Short8),
        Just(AttendanceLayout::Extended16),
        Just(AttendanceLayout::Tft40),
        Just(AttendanceLayout::Tft49),
        (41u16..120).prop_map(AttendanceLayout::Wide),
    ]
}

fn valid_time() -> impl Strategy<Value = DeviceTime> {
    (
        2000u16..=2099,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| DeviceTime::new(y, mo, d, h, mi, s))
}

#[derive(Debug, Clone)]
struct UserValues {
    uid: u16,
    privilege: u8,
    password: String,
    name: String,
    card: u32,
    group: u8,
    tz: [u16; 4],
    user_id: String,
}

fn user_values(layout: UserLayout) -> impl Strategy<Value = UserValues> {
    let pw =
        proptest::string::string_regex(&format!("[0-9]{{0,{}}}", layout.password_len())).unwrap();
    let name = proptest::string::string_regex(&format!("[a-zA-Z0-9 ]{{0,{}}}", layout.name_len()))
        .unwrap();
    let uid_str: BoxedStrategy<String> = match layout {
        UserLayout::Compact28 => (1u32..=u32::MAX).prop_map(|v| v.to_string()).boxed(),
        UserLayout::Extended72 => "[A-Za-z0-9]{1,24}"
            .prop_filter("not 0", |s| s != "0")
            .boxed(),
    };
    (
        any::<u16>(),
        any::<u8>(),
        pw,
        name,
        any::<u32>(),
        any::<u8>(),
        any::<[u16; 4]>(),
        uid_str,
    )
        .prop_map(
            |(uid, privilege, password, name, card, group, tz, user_id)| UserValues {
                uid,
                privilege,
                password,
                name,
                card,
                group,
                tz,
                user_id,
            },
        )
}

proptest! {
    #[test]
    fn user_bytes_round_trip(layout in user_layout(), seed in proptest::collection::vec(any::<u8>(), 72)) {
        let raw = &seed[..layout.record_len()];
        let u = User::parse(raw, layout).unwrap();
        prop_assert_eq!(&u.to_bytes()[..], raw);
        // Decoding never panics, whatever the bytes.
        let _ = (u.name(UTF8), u.user_id(TextEncoding::Gbk), u.password(UTF8), format!("{u:?}"));
    }

    #[test]
    fn user_values_round_trip((layout, v) in user_layout().prop_flat_map(|l| (Just(l), user_values(l)))) {
        let mut u = User::new(layout, v.uid, &v.user_id, UTF8).unwrap();
        u.set_privilege(Privilege(v.privilege));
        u.set_password(&v.password).unwrap();
        u.set_name(&v.name, UTF8, Overflow::Error).unwrap();
        u.set_card(v.card);
        u.set_group(v.group);
        u.set_timezones(v.tz);
        let back = User::parse(&u.to_bytes(), layout).unwrap();
        prop_assert_eq!(&back, &u);
        prop_assert_eq!(back.uid(), v.uid);
        prop_assert_eq!(back.privilege().0, v.privilege);
        let pin = back.password(UTF8);
        prop_assert_eq!(pin.expose(), v.password.as_str());
        prop_assert_eq!(back.has_password(), !v.password.is_empty());
        prop_assert_eq!(back.name(UTF8), v.name.clone());
        prop_assert_eq!(back.card(), v.card);
        prop_assert_eq!(back.group(), v.group);
        let tz = match layout {
            UserLayout::Compact28 => [v.tz[0], 0, 0, 0],
            UserLayout::Extended72 => v.tz,
        };
        prop_assert_eq!(back.timezones(), tz);
        prop_assert_eq!(back.user_id(UTF8), v.user_id.clone());
    }

    #[test]
    fn user_tables_round_trip(layout in user_layout(), n in 0usize..6, byte in any::<u8>()) {
        let area = vec![byte; n * layout.record_len()];
        let users = parse_users(&area, layout).unwrap();
        prop_assert_eq!(users.len(), n);
        prop_assert_eq!(&encode_users(&users)[4..], &area[..]);
        prop_assert_eq!(UserLayout::detect(area.len(), Some(n as u32)).ok().filter(|_| n > 0), (n > 0).then_some(layout));
    }

    #[test]
    fn attendance_bytes_round_trip(layout in att_layout(), seed in proptest::collection::vec(any::<u8>(), 120 * 3)) {
        let area = &seed[..layout.record_len() * 3];
        let log = parse_attendance(area, layout).unwrap();
        prop_assert_eq!(log.len(), 3);
        let table = encode_attendance_table(&log).unwrap();
        prop_assert_eq!(&table[4..], area);
        for a in &log {
            let _ = (a.user_id(), a.time_error(), a.info());
        }
    }

    #[test]
    fn attendance_values_round_trip(
        layout in att_layout(),
        uid in any::<u16>(),
        user_num in any::<u32>(),
        user_text in "[A-Za-z0-9]{0,24}",
        verify in 0u8..16,
        state in 0u8..16,
        time in valid_time(),
        work_code in any::<u32>(),
    ) {
        let (user_id, work_code) = match layout {
            AttendanceLayout::Short8 => (String::new(), 0),
            AttendanceLayout::Extended16 => (user_num.to_string(), work_code),
            _ => (user_text, work_code),
        };
        let a = Attendance::new(layout, uid, &user_id, verify, state, time, work_code).unwrap();
        let bytes = a.to_bytes().unwrap();
        prop_assert_eq!(&bytes[..], a.raw());
        let back = Attendance::parse(&bytes, layout).unwrap();
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(back.time, time);
        prop_assert_eq!((back.verify, back.state, back.work_code), (verify, state, work_code));
        match layout {
            AttendanceLayout::Extended16 => prop_assert_eq!(back.uid, None),
            _ => prop_assert_eq!(back.uid, Some(uid)),
        }
        let expect_id = if layout == AttendanceLayout::Short8 { uid.to_string() } else { user_id };
        prop_assert_eq!(back.user_id(), expect_id);
    }

    #[test]
    fn template_tables_round_trip(
        entries in proptest::collection::vec(
            (any::<u16>(), 0u8..10, prop_oneof![Just(0u8), Just(1), Just(3)], proptest::collection::vec(any::<u8>(), 0..300)),
            0..5,
        )
    ) {
        let templates: Vec<Template> = entries
            .into_iter()
            .map(|(uid, finger, flag, data)| Template { uid, finger, flag, data: Bytes::from(data) })
            .collect();
        let table = encode_template_table(&templates).unwrap();
        prop_assert_eq!(parse_templates(&table[4..]).unwrap(), templates.clone());
        for t in &templates {
            let w = TemplateWrite::for_template(t).unwrap();
            let enc = w.encode();
            prop_assert_eq!(TemplateWrite::parse(&enc).unwrap(), (w, &[][..]));
        }
    }

    #[test]
    fn template_parser_is_total(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(templates) = parse_templates(&data) {
            let table = encode_template_table(&templates).unwrap();
            prop_assert_eq!(&table[4..], &data[..]);
        }
        let _ = parse_batch_upload(&data, UserLayout::Compact28);
        let _ = parse_batch_upload(&data, UserLayout::Extended72);
    }

    #[test]
    fn batch_upload_round_trip(
        layout in user_layout(),
        uids in proptest::collection::vec(1u16..500, 0..4),
        fingers in proptest::collection::vec((0u8..10, proptest::collection::vec(any::<u8>(), 0..200)), 0..4),
    ) {
        let users: Vec<User> = uids
            .iter()
            .map(|&uid| User::new(layout, uid, &(u32::from(uid) + 1).to_string(), UTF8).unwrap())
            .collect();
        let templates: Vec<Template> = fingers
            .into_iter()
            .enumerate()
            .map(|(i, (finger, data))| Template { uid: i as u16, finger, flag: 1, data: data.into() })
            .collect();
        let buf = batch_upload_buffer(&users, &templates).unwrap();
        prop_assert_eq!(parse_batch_upload(&buf, layout).unwrap(), (users, templates));
    }

    #[test]
    fn oplog_bytes_round_trip(area in proptest::collection::vec(any::<u8>(), 0..5).prop_flat_map(|v| {
        proptest::collection::vec(any::<u8>(), v.len() * 16)
    })) {
        let log = parse_oplog(&area).unwrap();
        prop_assert_eq!(&encode_oplog_table(&log).unwrap()[4..], &area[..]);
    }

    #[test]
    fn oplog_values_round_trip(admin in any::<u16>(), op in any::<u8>(), time in valid_time(), params in any::<[u16; 4]>()) {
        let e = OpLogEntry::new(admin, op, time, params);
        let back = OpLogEntry::parse(&e.to_bytes().unwrap()).unwrap();
        prop_assert_eq!((back.admin, back.op, back.pad, back.time, back.params), (admin, op, 0, time, params));
    }
}
