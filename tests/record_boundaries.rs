//! Boundary behaviour of the user and attendance records that no other test
//! pins down: the field layout constants, layout detection corner cases,
//! exact error counts for short and long records, the raw user-id bytes of
//! each attendance layout, and the privilege and PIN helpers.
//!
//! These were found by mutation testing (`scripts/mutants.sh`): each test
//! asserts a documented behaviour (reference §6.1, §6.2, §2.5, §4.6) that a
//! plausible off-by-one, swapped constant or inverted condition would break.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use bytes::BytesMut;
use zkproto::terminal::EncodeError;
use zkproto::terminal::record::attendance::{
    Attendance, AttendanceIter, AttendanceLayout, iter_attendance, parse_attendance,
};
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::record::user::{
    Pin, Privilege, Role, User, UserLayout, encode_users, parse_users,
};
use zkproto::terminal::record::{Overflow, RecordError, TextEncoding};

const ENC: TextEncoding = TextEncoding::Utf8;

fn time() -> DeviceTime {
    DeviceTime::new(2024, 2, 29, 23, 59, 58)
}

// -------------------------------------------------------------- user layout

#[test]
fn user_layout_sizes() {
    let l = UserLayout::Compact28;
    assert_eq!(
        (
            l.record_len(),
            l.password_len(),
            l.name_len(),
            l.user_id_max()
        ),
        (28, 5, 8, 10)
    );
    let l = UserLayout::Extended72;
    assert_eq!(
        (
            l.record_len(),
            l.password_len(),
            l.name_len(),
            l.user_id_max()
        ),
        (72, 8, 24, 24)
    );
}

#[test]
fn user_layout_from_record_len_knows_only_28_and_72() {
    assert_eq!(UserLayout::from_record_len(28), Some(UserLayout::Compact28));
    assert_eq!(
        UserLayout::from_record_len(72),
        Some(UserLayout::Extended72)
    );
    for n in [0, 1, 27, 29, 56, 71, 73, 144] {
        assert_eq!(UserLayout::from_record_len(n), None, "{n}");
    }
}

#[test]
fn user_layout_detection_corner_cases() {
    // 504 = 7 × 72 = 18 × 28: the count decides, and a count matching
    // neither size falls back to 72.
    assert_eq!(UserLayout::detect(504, Some(7)), Ok(UserLayout::Extended72));
    assert_eq!(UserLayout::detect(504, Some(18)), Ok(UserLayout::Compact28));
    assert_eq!(UserLayout::detect(504, Some(5)), Ok(UserLayout::Extended72));
    assert_eq!(UserLayout::detect(504, Some(9)), Ok(UserLayout::Extended72));
    assert_eq!(
        UserLayout::detect(504, Some(504 * 28)),
        Ok(UserLayout::Extended72)
    );
    // 2016 = 72 × 28 = 28 × 72: the quotient, not the divisibility, decides.
    assert_eq!(
        UserLayout::detect(2016, Some(72)),
        Ok(UserLayout::Compact28)
    );
    assert_eq!(
        UserLayout::detect(2016, Some(28)),
        Ok(UserLayout::Extended72)
    );
    // A count of zero is "unknown", never a divisor.
    assert_eq!(UserLayout::detect(144, Some(0)), Ok(UserLayout::Extended72));
    assert_eq!(UserLayout::detect(56, Some(0)), Ok(UserLayout::Compact28));
    assert!(UserLayout::detect(0, Some(0)).is_ok());
    // A wrong count does not override a size only one layout divides.
    assert_eq!(UserLayout::detect(56, Some(3)), Ok(UserLayout::Compact28));
    assert_eq!(UserLayout::detect(144, Some(5)), Ok(UserLayout::Extended72));
    assert_eq!(UserLayout::detect(56, Some(1)), Ok(UserLayout::Compact28));
    assert_eq!(
        UserLayout::detect(100, Some(4)),
        Err(RecordError::UnknownRecordSize {
            what: "user",
            len: 100
        })
    );
}

// ------------------------------------------------------- privilege and PIN

#[test]
fn privilege_disabled_bit_is_idempotent_and_keeps_other_bits() {
    assert_eq!(Privilege(7).with_disabled(true), Privilege(7));
    assert_eq!(Privilege(6).with_disabled(true), Privilege(7));
    assert_eq!(Privilege(6).with_disabled(false), Privilege(6));
    assert_eq!(Privilege(15).with_disabled(false), Privilege(14));
    assert_eq!(Privilege(0xFF).with_disabled(false), Privilege(0xFE));
    assert_eq!(Privilege(0xF0).with_disabled(true), Privilege(0xF1));
    assert!(Privilege(1).is_disabled());
    assert!(Privilege(0x0F).is_disabled());
    assert!(!Privilege(0xFE).is_disabled());
    assert!(!Privilege(0).is_disabled());
}

#[test]
fn privilege_role_reads_bits_1_to_3_only() {
    assert_eq!(Privilege(0).role(), Role::User);
    assert_eq!(Privilege(0xF1).role(), Role::User);
    assert_eq!(Privilege(3).role(), Role::Enroller);
    assert_eq!(Privilege(0x17).role(), Role::Manager);
    assert_eq!(Privilege(0x0F).role(), Role::SuperAdmin);
    for other in [4u8, 8, 10, 12] {
        assert_eq!(Privilege(other).role(), Role::Other(other));
        assert_eq!(Privilege(other | 0x71).role(), Role::Other(other));
    }
}

#[test]
fn pin_emptiness_and_redaction() {
    assert!(Pin::new("").is_empty());
    assert!(Pin::default().is_empty());
    assert!(!Pin::new("0").is_empty());
    let p = Pin::new("24680");
    assert_eq!(p.expose(), "24680");
    assert_eq!(format!("{p:?}"), "Pin(***)");
    assert_eq!(format!("{p}"), "Pin(***)");
}

// ------------------------------------------------------------ user records

#[test]
fn user_fields_sit_at_their_documented_offsets() {
    // (layout, password (off, len), name (off, len), card, group, tz,
    // user id (offset, first byte of "7": a u32 or text))
    let cases = [
        (UserLayout::Compact28, (3, 5), (8, 8), 16, 21, 22, (24, 7)),
        (
            UserLayout::Extended72,
            (3, 8),
            (11, 24),
            35,
            39,
            40,
            (48, b'7'),
        ),
    ];
    for (layout, pw, name, card, group, tz, (uid_off, uid_byte)) in cases {
        let mut u = User::new(layout, 0x0201, "7", ENC).unwrap();
        u.set_password(&"9".repeat(pw.1)).unwrap();
        u.set_name(&"N".repeat(name.1), ENC, Overflow::Error)
            .unwrap();
        u.set_card(0x0A0B_0C0D);
        u.set_group(0x33);
        u.set_timezones([0x4142, 0x4344, 0x4546, 0x4748]);
        u.set_privilege(Privilege(0x0E));
        let b = u.to_bytes();
        assert_eq!(b.len(), layout.record_len());
        assert_eq!(&b[..3], &[0x01, 0x02, 0x0E], "{layout:?}");
        assert_eq!(&b[pw.0..pw.0 + pw.1], "9".repeat(pw.1).as_bytes());
        assert_eq!(&b[name.0..name.0 + name.1], "N".repeat(name.1).as_bytes());
        assert_eq!(u.name_raw(), "N".repeat(name.1).as_bytes());
        assert_eq!(&b[card..card + 4], &[0x0D, 0x0C, 0x0B, 0x0A]);
        assert_eq!(b[group], 0x33);
        assert_eq!(&b[tz..tz + 2], &[0x42, 0x41]);
        assert_eq!(b[uid_off], uid_byte, "{layout:?}: user id at {uid_off}");
        assert_eq!(u.user_id_raw()[0], uid_byte);
        assert_eq!(u.user_id(ENC), "7");
        // Exactly one more character or digit than the field holds is refused.
        assert_eq!(
            u.set_password(&"9".repeat(pw.1 + 1)),
            Err(EncodeError::FieldTooLong {
                field: "password",
                len: pw.1 + 1,
                max: pw.1
            })
        );
        assert!(matches!(
            u.set_name(&"N".repeat(name.1 + 1), ENC, Overflow::Error),
            Err(EncodeError::FieldTooLong { .. })
        ));
        // Nothing above changed the record.
        assert_eq!(u.to_bytes(), b);
    }
}

#[test]
fn compact_user_keeps_only_the_first_time_zone() {
    let mut u = User::new(UserLayout::Compact28, 1, "4294967295", ENC).unwrap();
    u.set_timezones([5, 6, 7, 8]);
    assert_eq!(u.timezones(), [5, 0, 0, 0]);
    // The user id right after the time zone is untouched.
    assert_eq!(u.user_id(ENC), "4294967295");
    assert_eq!(&u.as_bytes()[24..28], &[0xFF; 4]);
    let mut e = User::new(UserLayout::Extended72, 1, "1", ENC).unwrap();
    e.set_timezones([5, 6, 7, 8]);
    assert_eq!(e.timezones(), [5, 6, 7, 8]);
    assert_eq!(&e.as_bytes()[40..48], &[5, 0, 6, 0, 7, 0, 8, 0]);
    assert_eq!(e.user_id(ENC), "1");
}

#[test]
fn compact_user_id_bounds() {
    let mut u = User::new(UserLayout::Compact28, 1, "1", ENC).unwrap();
    assert!(u.set_user_id("4294967296", ENC).is_err());
    assert!(u.set_user_id("00", ENC).is_err());
    assert!(u.set_user_id("-1", ENC).is_err());
    assert_eq!(u.user_id(ENC), "1");
    u.set_user_id("007", ENC).unwrap();
    assert_eq!(u.user_id(ENC), "7");
    assert_eq!(u.user_id_raw(), &[7, 0, 0, 0]);
}

#[test]
fn user_record_length_errors_carry_exact_counts() {
    for layout in [UserLayout::Compact28, UserLayout::Extended72] {
        let n = layout.record_len();
        assert_eq!(
            User::parse(&vec![0; n - 1], layout),
            Err(RecordError::Truncated {
                what: "user",
                offset: 0,
                need: n,
                got: n - 1
            })
        );
        assert_eq!(
            User::parse(&vec![0; n + 3], layout),
            Err(RecordError::TrailingBytes {
                what: "user",
                extra: 3
            })
        );
        assert_eq!(
            parse_users(&vec![0; 2 * n + 5], layout),
            Err(RecordError::Truncated {
                what: "user",
                offset: 2 * n,
                need: n,
                got: 5
            })
        );
        assert_eq!(parse_users(&[], layout), Ok(vec![]));
    }
}

#[test]
fn user_password_presence_and_debug_redaction() {
    let mut u = User::new(UserLayout::Extended72, 1, "1", ENC).unwrap();
    assert!(!u.has_password());
    assert!(u.password(ENC).is_empty());
    u.set_password("31415").unwrap();
    assert!(u.has_password());
    assert!(u.info(ENC).has_password);
    let shown = format!("{u:?}");
    assert!(!shown.contains("31415"), "{shown}");
    u.clear_password();
    assert!(!u.has_password());
    assert_eq!(&u.as_bytes()[3..11], &[0; 8]);
    // Only the first byte decides whether a password is set.
    let mut raw = u.to_bytes().to_vec();
    raw[4] = b'5';
    let junk = User::parse(&raw, UserLayout::Extended72).unwrap();
    assert!(!junk.has_password());
    raw[3] = b'1';
    assert!(
        User::parse(&raw, UserLayout::Extended72)
            .unwrap()
            .has_password()
    );
}

#[test]
fn user_table_total_counts_every_record() {
    let a = User::new(UserLayout::Compact28, 1, "1", ENC).unwrap();
    let b = User::new(UserLayout::Compact28, 2, "2", ENC).unwrap();
    let buf = encode_users(&[a.clone(), b.clone(), a.clone()]);
    assert_eq!(&buf[..4], &84u32.to_le_bytes());
    assert_eq!(buf.len(), 88);
    assert_eq!(
        parse_users(&buf[4..], UserLayout::Compact28).unwrap(),
        vec![a.clone(), b, a]
    );
    assert_eq!(&encode_users(&[])[..], &[0, 0, 0, 0]);
}

// ------------------------------------------------------- attendance layout

#[test]
fn attendance_layout_from_record_len_boundaries() {
    assert_eq!(
        AttendanceLayout::from_record_len(8),
        Some(AttendanceLayout::Short8)
    );
    assert_eq!(
        AttendanceLayout::from_record_len(16),
        Some(AttendanceLayout::Extended16)
    );
    assert_eq!(
        AttendanceLayout::from_record_len(40),
        Some(AttendanceLayout::Tft40)
    );
    assert_eq!(
        AttendanceLayout::from_record_len(49),
        Some(AttendanceLayout::Tft49)
    );
    assert_eq!(
        AttendanceLayout::from_record_len(41),
        Some(AttendanceLayout::Wide(41))
    );
    assert_eq!(
        AttendanceLayout::from_record_len(65_535),
        Some(AttendanceLayout::Wide(65_535))
    );
    for n in [0, 7, 9, 15, 17, 28, 39, 65_536] {
        assert_eq!(AttendanceLayout::from_record_len(n), None, "{n}");
    }
    assert_eq!(AttendanceLayout::Short8.record_len(), 8);
    assert_eq!(AttendanceLayout::Extended16.record_len(), 16);
    assert_eq!(AttendanceLayout::Tft40.record_len(), 40);
}

#[test]
fn attendance_layout_detection_corner_cases() {
    // A zero count is "unknown": no division by zero, even on an empty area.
    assert!(AttendanceLayout::detect(0, Some(0)).is_ok());
    assert_eq!(
        AttendanceLayout::detect(80, Some(0)),
        Ok(AttendanceLayout::Tft40)
    );
    // The count decides when the quotient is a known size…
    assert_eq!(
        AttendanceLayout::detect(80, Some(5)),
        Ok(AttendanceLayout::Extended16)
    );
    assert_eq!(
        AttendanceLayout::detect(80, Some(10)),
        Ok(AttendanceLayout::Short8)
    );
    assert_eq!(
        AttendanceLayout::detect(96, Some(2)),
        Ok(AttendanceLayout::Wide(48))
    );
    // …else the first of 40, 16, 8, 49 that divides the length.
    assert_eq!(
        AttendanceLayout::detect(80, Some(3)),
        Ok(AttendanceLayout::Tft40)
    );
    assert_eq!(
        AttendanceLayout::detect(96, None),
        Ok(AttendanceLayout::Extended16)
    );
    assert_eq!(
        AttendanceLayout::detect(392, None),
        Ok(AttendanceLayout::Short8)
    );
    assert_eq!(
        AttendanceLayout::detect(49, None),
        Ok(AttendanceLayout::Tft49)
    );
    assert_eq!(
        AttendanceLayout::detect(7, Some(1)),
        Err(RecordError::UnknownRecordSize {
            what: "attendance",
            len: 7
        })
    );
}

#[test]
fn wide_layouts_must_be_longer_than_40_bytes() {
    for n in [0u16, 39, 40] {
        assert!(matches!(
            Attendance::parse(&vec![0; usize::from(n)], AttendanceLayout::Wide(n)),
            Err(RecordError::BadLength { value, .. }) if value == u64::from(n)
        ));
        assert!(AttendanceIter::new(&[0; 80], AttendanceLayout::Wide(n)).is_err());
        assert!(matches!(
            Attendance::new(AttendanceLayout::Wide(n), 1, "1", 0, 0, time(), 0),
            Err(EncodeError::OutOfRange {
                field: "layout",
                ..
            })
        ));
    }
    let a = Attendance::parse(&[0; 41], AttendanceLayout::Wide(41)).unwrap();
    assert_eq!(a.raw().len(), 41);
    assert!(Attendance::new(AttendanceLayout::Wide(41), 1, "1", 0, 0, time(), 0).is_ok());
}

// ------------------------------------------------------ attendance records

#[test]
fn attendance_record_length_errors_carry_exact_counts() {
    let layouts = [
        AttendanceLayout::Short8,
        AttendanceLayout::Extended16,
        AttendanceLayout::Tft40,
        AttendanceLayout::Tft49,
        AttendanceLayout::Wide(52),
    ];
    for layout in layouts {
        let n = layout.record_len();
        assert_eq!(
            Attendance::parse(&vec![0; n - 1], layout),
            Err(RecordError::Truncated {
                what: "attendance",
                offset: 0,
                need: n,
                got: n - 1
            }),
            "{layout:?}"
        );
        assert_eq!(
            Attendance::parse(&vec![0; n + 2], layout),
            Err(RecordError::TrailingBytes {
                what: "attendance",
                extra: 2
            }),
            "{layout:?}"
        );
        assert!(Attendance::parse(&vec![0; n], layout).is_ok());
        assert!(matches!(
            iter_attendance(&vec![0; 3 * n + 1], layout),
            Err(RecordError::Truncated { offset, need, got: 1, .. }) if offset == 3 * n && need == n
        ));
    }
}

#[test]
fn attendance_raw_user_id_bytes_per_layout() {
    let short: Vec<u8> = (1..=8).collect();
    let a = Attendance::parse(&short, AttendanceLayout::Short8).unwrap();
    assert_eq!(a.user_id_raw(), &[1, 2]);
    assert_eq!(a.user_id(), "513");

    let ext: Vec<u8> = (1..=16).collect();
    let a = Attendance::parse(&ext, AttendanceLayout::Extended16).unwrap();
    assert_eq!(a.user_id_raw(), &[1, 2, 3, 4]);
    assert_eq!(a.user_id(), u32::from_le_bytes([1, 2, 3, 4]).to_string());
    assert_eq!(a.uid, None);

    let mut tft = vec![0u8; 40];
    tft[..2].copy_from_slice(&[0x34, 0x12]);
    tft[2..8].copy_from_slice(b"A-1234");
    tft[26] = 0xEE;
    let a = Attendance::parse(&tft, AttendanceLayout::Tft40).unwrap();
    assert_eq!(a.user_id_raw(), &tft[2..26]);
    assert_eq!(a.user_id(), "A-1234");
    assert_eq!(a.uid, Some(0x1234));
}

#[test]
fn short_records_read_the_stored_uid_when_the_field_is_cleared() {
    let mut a =
        Attendance::parse(&[0x39, 0x30, 0x21, 0, 0, 0, 0, 0], AttendanceLayout::Short8).unwrap();
    assert_eq!((a.verify, a.state), (2, 1));
    assert_eq!(a.user_id(), "12345");
    a.uid = Some(7);
    assert_eq!(a.user_id(), "7");
    a.uid = None;
    assert_eq!(a.user_id(), "12345");
}

#[test]
fn set_user_id_rules_per_layout() {
    let mut short = Attendance::new(AttendanceLayout::Short8, 3, "", 1, 0, time(), 0).unwrap();
    let before = short.raw().to_vec();
    assert!(matches!(
        short.set_user_id("3"),
        Err(EncodeError::OutOfRange {
            field: "user_id",
            ..
        })
    ));
    assert_eq!(short.raw(), &before[..]);

    let mut ext = Attendance::new(AttendanceLayout::Extended16, 0, "21", 1, 0, time(), 0).unwrap();
    // The error says why: not digits (an empty id included), or too large.
    let cases = [
        ("", "16-byte records need decimal digits"),
        ("12a", "16-byte records need decimal digits"),
        ("-1", "16-byte records need decimal digits"),
        (" 1", "16-byte records need decimal digits"),
        ("4294967296", "must fit in a u32"),
    ];
    for (bad, reason) in cases {
        assert_eq!(
            ext.set_user_id(bad),
            Err(EncodeError::OutOfRange {
                field: "user_id",
                reason
            }),
            "{bad:?}"
        );
        assert_eq!(ext.user_id(), "21", "{bad:?} left the record alone");
    }
    ext.set_user_id("4294967295").unwrap();
    assert_eq!(ext.user_id_raw(), &[0xFF; 4]);
    assert_eq!(ext.user_id(), "4294967295");

    let mut tft = Attendance::new(AttendanceLayout::Tft40, 1, "1", 1, 0, time(), 0).unwrap();
    tft.set_user_id(&"x".repeat(24)).unwrap();
    assert_eq!(tft.user_id_raw(), "x".repeat(24).as_bytes());
    assert!(matches!(
        tft.set_user_id(&"x".repeat(25)),
        Err(EncodeError::FieldTooLong { max: 24, .. })
    ));
    tft.set_user_id("ab").unwrap();
    assert_eq!(&tft.user_id_raw()[..3], b"ab\0");
    assert_eq!(tft.user_id(), "ab");
    assert_eq!(tft.uid, Some(1));
    assert_eq!(&tft.raw()[..2], &[1, 0]);
}

#[test]
fn time_is_zero_looks_at_the_time_field_of_each_layout() {
    // (layout, offset of the packed time)
    for (layout, off) in [
        (AttendanceLayout::Short8, 4),
        (AttendanceLayout::Extended16, 4),
        (AttendanceLayout::Tft40, 27),
        (AttendanceLayout::Tft49, 27),
    ] {
        let n = layout.record_len();
        // Every byte set except the time field.
        let mut rec = vec![0x31u8; n];
        rec[off..off + 4].fill(0);
        let a = Attendance::parse(&rec, layout).unwrap();
        assert!(a.time_is_zero(), "{layout:?}");
        assert_eq!(a.time, DeviceTime::from_packed(0));
        for i in 0..4 {
            let mut r = rec.clone();
            r[off + i] = 1;
            let a = Attendance::parse(&r, layout).unwrap();
            assert!(!a.time_is_zero(), "{layout:?} byte {i}");
        }
    }
}

#[test]
fn short_records_hold_four_bit_verify_and_state_and_no_work_code() {
    let ok = Attendance::new(AttendanceLayout::Short8, 9, "", 15, 15, time(), 0).unwrap();
    assert_eq!(ok.raw()[2], 0xFF);
    assert_eq!(&ok.raw()[..2], &[9, 0]);
    for (verify, state, work) in [(16, 0, 0), (0, 16, 0), (0, 0, 1)] {
        assert!(
            matches!(
                Attendance::new(AttendanceLayout::Short8, 9, "", verify, state, time(), work),
                Err(EncodeError::OutOfRange { .. })
            ),
            "{verify} {state} {work}"
        );
    }
}

#[test]
fn failed_encode_of_a_wide_record_leaves_the_buffer_alone() {
    let mut a = Attendance::new(AttendanceLayout::Wide(60), 1, "1", 1, 0, time(), 0).unwrap();
    let mut out = BytesMut::from(&b"head"[..]);
    a.encode_into(&mut out).unwrap();
    assert_eq!(out.len(), 4 + 60);
    a.time = DeviceTime::new(1999, 1, 1, 0, 0, 0);
    let mut out = BytesMut::from(&b"head"[..]);
    assert!(a.encode_into(&mut out).is_err());
    assert_eq!(&out[..], b"head");
    let mut short = BytesMut::from(&b"head"[..]);
    let mut s = Attendance::new(AttendanceLayout::Tft40, 1, "1", 1, 0, time(), 0).unwrap();
    s.time = DeviceTime::new(2100, 1, 1, 0, 0, 0);
    assert!(s.encode_into(&mut short).is_err());
    assert_eq!(&short[..], b"head");
}

#[test]
fn an_unchanged_impossible_time_re_encodes_as_stored() {
    let mut rec = vec![0u8; 16];
    rec[4..8].fill(0xFF);
    let mut a = Attendance::parse(&rec, AttendanceLayout::Extended16).unwrap();
    assert!(a.time_error().is_some());
    assert_eq!(&a.to_bytes().unwrap()[..], &rec[..]);
    // A changed time is packed over it.
    a.time = time();
    let out = a.to_bytes().unwrap();
    assert_eq!(&out[4..8], &time().to_packed().unwrap().to_le_bytes());
    assert_eq!(&out[..4], &rec[..4]);
    assert_eq!(&out[8..], &rec[8..]);
}

#[test]
fn attendance_iterator_reports_its_exact_length() {
    let area = vec![0u8; 5 * 16 + 3];
    let mut it = AttendanceIter::new(&area, AttendanceLayout::Extended16).unwrap();
    assert_eq!(it.size_hint(), (5, Some(5)));
    assert_eq!(it.len(), 5);
    it.next().unwrap();
    assert_eq!(it.size_hint(), (4, Some(4)));
    assert_eq!(it.by_ref().count(), 4);
    assert_eq!(it.size_hint(), (0, Some(0)));
    assert_eq!(it.remainder(), &[0, 0, 0]);
    let log = parse_attendance(&area[..80], AttendanceLayout::Extended16).unwrap();
    assert_eq!(log.len(), 5);
    assert_eq!(
        iter_attendance(&area[..80], AttendanceLayout::Extended16)
            .unwrap()
            .len(),
        5
    );
}
