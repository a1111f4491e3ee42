//! Every record parser of `terminal::record` on arbitrary bytes.
//!
//! Input: a selector byte (which parser), a few option bytes, then the
//! payload. Properties: no panic; where a record keeps all of its bytes,
//! decode → encode gives the same bytes; elsewhere decode → encode → decode
//! gives the same value.

use crate::util::{Input, chunk_cuts};
use zkproto::terminal::Packet;
use zkproto::terminal::record::RecordError;
use zkproto::terminal::record::attendance::{
    Attendance, AttendanceLayout, encode_attendance_table, iter_attendance, parse_attendance,
};
use zkproto::terminal::record::bulk::{
    BufferDescriptor, BulkRead, PrepareData, ReadChunk, split_table, table_buffer,
};
use zkproto::terminal::record::door::{
    DoorPolarity, DoorState, parse_unlock_request, unlock_request,
};
use zkproto::terminal::record::event::Event;
use zkproto::terminal::record::oplog::{OpLogEntry, encode_oplog_table, parse_oplog};
use zkproto::terminal::record::options::{
    encode_reply, parse_reply, parse_request, parse_write, write_request,
};
use zkproto::terminal::record::sizes::FreeSizes;
use zkproto::terminal::record::template::{
    TemplateWrite, batch_upload_buffer, encode_template_table, parse_batch_upload, parse_templates,
};
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::record::user::{User, UserLayout, encode_users, parse_users};
use zkproto::terminal::session::RecordSplitter;

/// Number of parsers the selector chooses from.
pub const PARSERS: u8 = 12;

/// Runs the record check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.u8();
    let opt = input.u8();
    match selector % PARSERS {
        0 => users(opt, input.rest()),
        1 => attendance(opt, input.u16(), input.rest()),
        2 => templates(input.rest()),
        3 => batch_upload(opt, input.rest()),
        4 => oplog(input.rest()),
        5 => free_sizes(input.rest()),
        6 => options(opt, input.rest()),
        7 => {
            let flag = input.u16();
            event(flag, opt, input.rest());
        }
        8 => door(opt, input.rest()),
        9 => bulk(input.rest()),
        10 => time(input.rest()),
        _ => {
            let n = usize::from(opt % 16);
            let sizes = input.take(n).to_vec();
            table(opt, &sizes, input.rest());
        }
    }
}

fn encoding(b: u8) -> TextEncoding {
    [
        TextEncoding::Utf8,
        TextEncoding::Gbk,
        TextEncoding::Big5,
        TextEncoding::ShiftJis,
        TextEncoding::EucKr,
        TextEncoding::Windows1250,
        TextEncoding::Windows1251,
        TextEncoding::Windows1252,
        TextEncoding::Windows1253,
    ][usize::from(b) % 9]
}

fn user_layout(b: u8) -> UserLayout {
    if b & 1 == 0 {
        UserLayout::Compact28
    } else {
        UserLayout::Extended72
    }
}

fn users(opt: u8, payload: &[u8]) {
    let layout = user_layout(opt);
    let enc = encoding(opt >> 1);
    let Ok(list) = parse_users(payload, layout) else {
        assert!(
            !payload.len().is_multiple_of(layout.record_len()),
            "parse_users refused whole records"
        );
        return;
    };
    assert_eq!(list.len(), payload.len() / layout.record_len());
    for (u, rec) in list.iter().zip(payload.chunks_exact(layout.record_len())) {
        assert_eq!(
            u.as_bytes(),
            rec,
            "user record does not re-encode to its bytes"
        );
        assert_eq!(&u.to_bytes()[..], rec);
        assert_eq!(User::parse(rec, layout).as_ref(), Ok(u));
        // Accessors never panic; the info view is consistent with the record.
        let info = u.info(enc);
        let _ = (
            u.uid(),
            u.privilege(),
            u.is_enabled(),
            u.card(),
            u.group(),
            u.timezones(),
            u.has_password(),
        );
        let _ = (
            u.name(enc),
            u.user_id(enc),
            format!("{u:?}"),
            format!("{info:?}"),
        );
        // Setters keep the record length and the other fields.
        let mut v = u.clone();
        v.set_card(u.card().wrapping_add(1));
        assert_eq!(v.as_bytes().len(), rec.len());
        assert_eq!(v.uid(), u.uid());
        assert_eq!(v.card(), u.card().wrapping_add(1));
        if v.set_user_id("12345", enc).is_ok() {
            assert_eq!(v.user_id(enc), "12345");
            assert_eq!(v.uid(), u.uid());
        }
    }
    let table = encode_users(&list);
    assert_eq!(split_table(&table), Ok((payload.len() as u32, payload)));
    let count = u32::try_from(list.len()).ok();
    if let Ok(detected) = UserLayout::detect(payload.len(), count)
        && !payload.is_empty()
    {
        assert!(
            payload.len().is_multiple_of(detected.record_len()),
            "detected user layout {detected:?} does not divide {} bytes",
            payload.len()
        );
    }
}

fn attendance_layout(opt: u8, wide: u16) -> AttendanceLayout {
    match opt % 5 {
        0 => AttendanceLayout::Short8,
        1 => AttendanceLayout::Extended16,
        2 => AttendanceLayout::Tft40,
        3 => AttendanceLayout::Tft49,
        _ => AttendanceLayout::Wide(wide % 512),
    }
}

fn attendance(opt: u8, wide: u16, payload: &[u8]) {
    let layout = attendance_layout(opt, wide);
    let parsed = parse_attendance(payload, layout);
    let iter = iter_attendance(payload, layout);
    let list = match parsed {
        Ok(list) => list,
        Err(e) => {
            assert!(
                iter.is_err(),
                "iter_attendance accepts what parse_attendance refuses ({e})"
            );
            if let AttendanceLayout::Wide(n) = layout {
                if n > 40 {
                    assert!(
                        !payload.len().is_multiple_of(usize::from(n)),
                        "whole wide records refused: {e}"
                    );
                }
            } else {
                assert!(
                    !payload.len().is_multiple_of(layout.record_len()),
                    "whole records refused: {e}"
                );
            }
            return;
        }
    };
    let len = layout.record_len();
    assert_eq!(list.len(), payload.len() / len);
    let mut from_iter = Vec::new();
    if let Ok(it) = iter {
        from_iter.extend(it);
    }
    assert_eq!(
        from_iter, list,
        "iter_attendance and parse_attendance differ"
    );
    for (a, rec) in list.iter().zip(payload.chunks_exact(len)) {
        assert_eq!(a.raw(), rec);
        match a.to_bytes() {
            Ok(b) => assert_eq!(
                &b[..],
                rec,
                "attendance record does not re-encode to its bytes"
            ),
            Err(e) => panic!("a parsed attendance record cannot be re-encoded: {e}"),
        }
        assert_eq!(Attendance::parse(rec, layout).as_ref(), Ok(a));
        let _ = (
            a.user_id(),
            a.info(),
            a.time_error(),
            a.time_is_zero(),
            a.layout(),
            format!("{a:?}"),
        );
        let mut b = a.clone();
        if b.set_user_id("42").is_ok() {
            assert_eq!(b.user_id(), "42");
            if let Ok(bytes) = b.to_bytes() {
                match Attendance::parse(&bytes, layout) {
                    Ok(c) => assert_eq!(c.user_id(), "42", "user id lost in re-encoding"),
                    Err(e) => panic!("re-encoded attendance does not parse: {e}"),
                }
            }
        }
    }
    match encode_attendance_table(&list) {
        Ok(table) => assert_eq!(split_table(&table), Ok((payload.len() as u32, payload))),
        Err(e) => panic!("parsed attendance cannot be re-encoded as a table: {e}"),
    }
    let count = u32::try_from(list.len()).ok();
    let _ = AttendanceLayout::detect(payload.len(), count);
}

fn templates(payload: &[u8]) {
    match parse_templates(payload) {
        Ok(list) => match encode_template_table(&list) {
            Ok(table) => {
                assert_eq!(
                    split_table(&table),
                    Ok((payload.len() as u32, payload)),
                    "template table does not re-encode"
                )
            }
            Err(e) => panic!("parsed templates cannot be re-encoded: {e}"),
        },
        Err(e) => assert!(!payload.is_empty(), "empty template table refused: {e}"),
    }
    if let Ok((w, rest)) = TemplateWrite::parse(payload) {
        assert_eq!(&w.encode()[..], &payload[..TemplateWrite::LEN]);
        assert_eq!(rest.len(), payload.len() - TemplateWrite::LEN);
    } else {
        assert!(payload.len() < TemplateWrite::LEN);
    }
}

fn batch_upload(opt: u8, payload: &[u8]) {
    let layout = user_layout(opt);
    let Ok((users, templates)) = parse_batch_upload(payload, layout) else {
        return;
    };
    if users.iter().any(|u| u.layout() != layout) {
        panic!("batch upload parsed users of another layout");
    }
    match batch_upload_buffer(&users, &templates) {
        Ok(buf) => match parse_batch_upload(&buf, layout) {
            Ok((u2, t2)) => {
                assert_eq!(u2, users, "batch users differ after re-encoding");
                assert_eq!(t2, templates, "batch templates differ after re-encoding");
            }
            Err(e) => panic!("re-encoded batch upload does not parse: {e}"),
        },
        Err(e) => panic!("parsed batch upload cannot be re-encoded: {e}"),
    }
}

fn oplog(payload: &[u8]) {
    let Ok(list) = parse_oplog(payload) else {
        assert!(!payload.len().is_multiple_of(16));
        return;
    };
    for (e, rec) in list.iter().zip(payload.chunks_exact(16)) {
        assert_eq!(OpLogEntry::parse(rec).as_ref(), Ok(e));
        match e.to_bytes() {
            Ok(b) => assert_eq!(&b[..], rec, "oplog entry does not re-encode to its bytes"),
            Err(err) => panic!("parsed oplog entry cannot be re-encoded: {err}"),
        }
        let _ = (e.op_name(), e.time_error());
    }
    match encode_oplog_table(&list) {
        Ok(t) => assert_eq!(split_table(&t), Ok((payload.len() as u32, payload))),
        Err(err) => panic!("parsed oplog cannot be re-encoded: {err}"),
    }
}

fn free_sizes(payload: &[u8]) {
    let Ok(s) = FreeSizes::parse(payload) else {
        return;
    };
    let again = s.encode();
    assert_eq!(
        &again[..],
        payload,
        "free sizes do not re-encode to their bytes"
    );
    assert_eq!(FreeSizes::parse(&again).as_ref(), Ok(&s));
    assert_eq!(s.word_count() * 4, payload.len());
    for i in 0..s.word_count() {
        let w = payload
            .get(i * 4..i * 4 + 4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        assert_eq!(s.field(i), w, "field {i} differs from the wire word");
    }
    assert_eq!(s.field(s.word_count()), None);
}

fn options(opt: u8, payload: &[u8]) {
    if let Ok((name, value)) = parse_reply(payload) {
        let again = encode_reply(&name, &value);
        assert_eq!(
            parse_reply(&again),
            Ok((name.clone(), value.clone())),
            "option reply round trip"
        );
    }
    if let Ok((name, value)) = parse_write(payload) {
        match write_request(&name, &value) {
            Ok(req) => assert_eq!(
                parse_write(&req),
                Ok((name, value)),
                "option write round trip"
            ),
            Err(e) => assert!(
                name.is_empty() || name.contains(['=', '\0']) || value.contains('\0'),
                "{e}"
            ),
        }
    }
    if let Ok(name) = parse_request(payload) {
        assert!(!name.is_empty());
        if opt & 1 == 0 {
            let req = zkproto::terminal::record::options::read_request(&name);
            if !name.contains('\0') {
                assert_eq!(parse_request(&req), Ok(name), "option request round trip");
            }
        }
    }
}

fn event(flag: u16, opt: u8, payload: &[u8]) {
    let enc = encoding(opt);
    let e = Event::parse_with(flag, payload, enc);
    let _ = (e.flag(), e.identified(), e.hid_card_le(), format!("{e:?}"));
    let packet = Packet::new(
        zkproto::terminal::Command::RegEvent,
        flag,
        0,
        bytes::Bytes::copy_from_slice(payload),
    );
    assert_eq!(Event::from_packet(&packet, enc).as_ref(), Some(&e));
    if let Ok(data) = e.encode_data_with(enc) {
        let again = Event::parse_with(e.flag().value(), &data, enc);
        assert_eq!(again, e, "event decode -> encode -> decode differs");
    }
}

fn door(opt: u8, payload: &[u8]) {
    match DoorState::parse(payload) {
        Ok(d) => {
            assert_eq!(&d.encode()[..], payload);
            let polarity = if opt & 1 == 0 {
                DoorPolarity::OneIsOpen
            } else {
                DoorPolarity::ZeroIsOpen
            };
            let _ = (d.status(polarity), d.bits());
        }
        Err(_) => assert_ne!(payload.len(), 1),
    }
    if let Ok(raw) = parse_unlock_request(payload) {
        assert_eq!(parse_unlock_request(&unlock_request(raw)), Ok(raw));
    }
}

fn bulk(payload: &[u8]) {
    if let Ok(r) = BulkRead::parse(payload) {
        assert_eq!(&r.encode()[..], payload);
        let _ = r.inner_command();
    }
    if let Ok(d) = BufferDescriptor::parse(payload) {
        assert_eq!(&d.encode()[..], payload);
        let _ = d.check_size(zkproto::terminal::record::bulk::MAX_BULK_SIZE);
    }
    if let Ok(c) = ReadChunk::parse(payload) {
        assert_eq!(&c.encode()[..], payload);
        assert_eq!(c.fits(u32::MAX), c.offset.checked_add(c.len).is_some());
    }
    if let Ok(p) = PrepareData::parse(payload) {
        assert_eq!(&p.encode()[..], payload);
    }
    if let Ok((total, records)) = split_table(payload) {
        assert_eq!(records.len(), total as usize);
        match table_buffer(records) {
            Ok(t) => assert_eq!(&t[..], &payload[..4 + records.len()]),
            Err(e) => panic!("table_buffer refused a split table: {e}"),
        }
    }
}

fn time(payload: &[u8]) {
    let mut input = Input::new(payload);
    let packed = input.u32();
    let t = DeviceTime::from_packed(packed);
    if t.year <= 2099 {
        assert_eq!(t.to_packed(), Ok(packed), "packed time round trip");
    }
    let ev = input.take(6);
    if let Some(b) = ev.first_chunk::<6>() {
        assert_eq!(DeviceTime::from_event_bytes(*b).to_event_bytes(), Ok(*b));
    }
    if let Ok(s) = core::str::from_utf8(input.rest())
        && let Ok(t) = DeviceTime::parse(s)
    {
        assert_eq!(
            DeviceTime::parse(&t.to_string()),
            Ok(t),
            "time text round trip"
        );
        let _ = t.validate();
    }
}

/// A table buffer fed through the client's streaming splitter in chunks
/// agrees with `split_table` + fixed-size records.
fn table(opt: u8, sizes: &[u8], payload: &[u8]) {
    let cuts = chunk_cuts(payload.len(), sizes);
    let first = sizes.first().copied().unwrap_or(15);
    let record_len = usize::from(first % 80) + 1;
    if opt & 0x80 != 0 {
        // The layout callback refuses the table: the splitter reports it,
        // and later pieces must not panic either.
        let mut splitter = RecordSplitter::new();
        let refuse = |total: u32| {
            Err(RecordError::UnknownRecordSize {
                what: "fuzz table",
                len: total as usize,
            })
        };
        let mut refused = false;
        for w in cuts.windows(2) {
            let r = splitter.push(&payload[w[0]..w[1]], refuse, |_| {
                panic!("record delivered after the layout was refused")
            });
            refused |= r.is_err();
        }
        assert_eq!(
            refused,
            payload.len() >= 4,
            "splitter did not report the refused layout"
        );
        assert!(splitter.finish().is_err() || !refused);
        return;
    }
    let mut splitter = RecordSplitter::new();
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut failed = None;
    for w in cuts.windows(2) {
        let piece = &payload[w[0]..w[1]];
        if let Err(e) = splitter.push(
            piece,
            |_| Ok::<usize, RecordError>(record_len),
            |r| records.push(r.to_vec()),
        ) {
            failed = Some(e);
            break;
        }
        assert!(
            splitter.buffered() < record_len.max(4),
            "splitter holds {} bytes for {record_len}-byte records",
            splitter.buffered()
        );
    }
    assert!(
        failed.is_none(),
        "splitter failed with a fixed layout: {failed:?}"
    );
    match split_table(payload) {
        Ok((total, body)) => {
            assert_eq!(splitter.total(), Some(total));
            let whole: Vec<Vec<u8>> = body.chunks_exact(record_len).map(<[u8]>::to_vec).collect();
            assert_eq!(records, whole, "streamed records differ from split_table");
            assert_eq!(
                splitter.finish().is_ok(),
                body.len().is_multiple_of(record_len)
            );
        }
        Err(_) => assert!(
            splitter.finish().is_err(),
            "splitter accepted a table split_table refuses"
        ),
    }
}
