//! Golden vectors of the C3/inBio panel protocol (reference c3-panel.md §1.4 A, B, C, D),
//! read from tests/vectors/panel/. Every frame: CRC, decode to the documented meaning,
//! and encode back to the same bytes.

use bytes::Bytes;
use std::collections::BTreeMap;
use zkproto::detect::{PeerKind, classify};
use zkproto::panel::control::{ControlCommand, OutputTarget};
use zkproto::panel::discovery::{self, DiscoveryReply, ModifyIp};
use zkproto::panel::params::{self, ParamList};
use zkproto::panel::rtlog::{
    AlarmFlags, DoorSensor, EventCode, InOutState, RtRecord, TextRecord, VerifyMode,
};
use zkproto::panel::session::{ConnectMode, PanelSession, ReplyKind, SessionState};
use zkproto::panel::table::{
    self, RowSet, TableStructure, TransactionRow, UserAuthorizeRow, UserRow, Value,
};
use zkproto::panel::{Command, ErrorCode, Frame, PanelTime, ReplyError, SessionHeader, crc};

fn load(text: &str) -> BTreeMap<String, Vec<u8>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('|').map(str::trim);
            let id = parts.next().unwrap().to_owned();
            let mut hex_field = parts.next().unwrap();
            if hex_field == "c2d" || hex_field == "d2c" {
                hex_field = parts.next().unwrap();
            }
            (id, hex::decode(hex_field.replace(' ', "")).unwrap())
        })
        .collect()
}

fn frames() -> BTreeMap<String, Vec<u8>> {
    load(include_str!("vectors/panel/frames.txt"))
}

fn frame(id: &str) -> Vec<u8> {
    frames()
        .remove(id)
        .unwrap_or_else(|| panic!("no vector {id}"))
}

fn decoded(id: &str) -> Frame {
    Frame::decode(&frame(id)).unwrap()
}

/// Payload after the 4-byte session header.
fn after_header(f: &Frame) -> (SessionHeader, Bytes) {
    let (h, rest) = SessionHeader::parse(&f.data).unwrap();
    let off = f.data.len() - rest.len();
    (h, f.data.slice(off..))
}

fn structure() -> TableStructure {
    let (_, payload) = after_header(&decoded("B10"));
    TableStructure::parse(&payload).unwrap()
}

#[test]
fn every_frame_crc_decode_encode() {
    let all = frames();
    assert_eq!(all.len(), 57, "vector count");
    for (id, bytes) in &all {
        let n = bytes.len();
        assert_eq!(
            crc::crc16(&bytes[1..n - 3]),
            u16::from_le_bytes([bytes[n - 3], bytes[n - 2]]),
            "{id} CRC"
        );
        assert_eq!(crc::crc16(&bytes[1..n - 1]), 0, "{id} residue");
        let f = Frame::decode(bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(f.data.len(), n - 8, "{id} length");
        assert_eq!(&f.to_bytes().unwrap()[..], &bytes[..], "{id} re-encode");
        assert_eq!(classify(bytes), PeerKind::Panel, "{id} detection");
        let (g, used) = Frame::parse(bytes).unwrap();
        assert_eq!((g, used), (f, n));
    }
}

#[test]
fn crc_only_vectors() {
    for (input, expected) in load(include_str!("vectors/panel/crc.txt")) {
        let input = hex::decode(input).unwrap();
        let expected = u16::from_str_radix(&hex::encode(&expected), 16).unwrap();
        assert_eq!(crc::crc16(&input), expected, "{}", hex::encode(&input));
    }
}

#[cfg(feature = "codec")]
#[test]
fn codec_decodes_all_frames_back_to_back() {
    use tokio_util::codec::{Decoder, Encoder};
    use zkproto::panel::codec::PanelCodec;
    let all = frames();
    let stream: Vec<u8> = all.values().flatten().copied().collect();
    let mut codec = PanelCodec::new();
    let mut buf = bytes::BytesMut::new();
    let mut got = Vec::new();
    for chunk in stream.chunks(7) {
        buf.extend_from_slice(chunk);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            got.push(f);
        }
    }
    assert_eq!(got.len(), all.len());
    let mut out = bytes::BytesMut::new();
    for f in &got {
        codec.encode(f, &mut out).unwrap();
    }
    assert_eq!(&out[..], &stream[..]);
}

#[test]
fn a_session_connect_flows() {
    // A1 + A2: session connect, wrong password, new session id 0xA750
    let mut s = PanelSession::new();
    assert_eq!(
        &s.connect(ConnectMode::Session, b"")
            .unwrap()
            .to_bytes()
            .unwrap()[..],
        &frame("A1")[..]
    );
    let a2 = decoded("A2");
    let (h, rest) = after_header(&a2);
    assert_eq!(
        (h, &rest[..]),
        (SessionHeader::new(0xa750, 0xfefe), &[0xf2u8][..])
    );
    assert_eq!(
        s.handle_reply(&a2),
        Err(ReplyError::Device {
            command: Command::ConnectSession,
            code: ErrorCode::WrongPassword
        })
    );
    // A3: old firmware, −13 without header → fall back to A4, answered by A5
    let mut s = PanelSession::new();
    s.connect(ConnectMode::Session, b"").unwrap();
    let err = s.handle_reply(&decoded("A3")).unwrap_err();
    assert!(err.is_session_unsupported());
    assert_eq!(
        &s.connect(ConnectMode::SessionLess, b"")
            .unwrap()
            .to_bytes()
            .unwrap()[..],
        &frame("A4")[..]
    );
    let ok = s.handle_reply(&decoded("A5")).unwrap();
    assert_eq!((ok.kind, ok.payload.len()), (ReplyKind::Ok, 0));
    assert_eq!(s.state(), SessionState::SessionLess);
    // A13: binary RT log, session-less; A7: disconnect
    assert_eq!(
        &s.request(Command::GetRtLog, &[])
            .unwrap()
            .to_bytes()
            .unwrap()[..],
        &frame("A13")[..]
    );
    s.handle_reply(&decoded("A5")).unwrap();
    assert_eq!(
        &s.disconnect().unwrap().to_bytes().unwrap()[..],
        &frame("A7")[..]
    );
    // A6: 0x76 with no data at all
    assert_eq!(
        decoded("A6"),
        Frame::new(1, Command::ConnectSession, Bytes::new())
    );
}

#[test]
fn a_params() {
    for (req, reply) in [("A8", Some("A9")), ("A10", Some("A11")), ("A12", None)] {
        let f = decoded(req);
        assert_eq!(f.command, Command::GetDeviceParam);
        let names = params::parse_get_request(&f.data).unwrap();
        assert_eq!(
            &params::encode_get_request(&names).unwrap()[..],
            &f.data[..]
        );
        let mut s = PanelSession::new();
        s.connect(ConnectMode::SessionLess, b"").unwrap();
        s.handle_reply(&decoded("A5")).unwrap();
        assert_eq!(s.request(Command::GetDeviceParam, &f.data).unwrap(), f);
        if let Some(reply) = reply {
            let r = s.handle_reply(&decoded(reply)).unwrap();
            let p = ParamList::parse(&r.payload).unwrap();
            assert_eq!(
                p.iter().map(|(k, _)| k.to_owned()).collect::<Vec<_>>(),
                names,
                "{reply} order"
            );
            assert_eq!(p.get("~SerialNumber"), Some("DDG8130016092200401"));
            assert_eq!(p.get_u32("LockCount"), Some(4));
            assert_eq!(&p.encode().unwrap()[..], &r.payload[..]);
        }
    }
    let a11 = ParamList::parse(&decoded("A11").data).unwrap();
    assert_eq!(a11.get("~ZKFPVersion"), Some(""));
    assert_eq!(
        a11.date_time().unwrap().unwrap().to_string(),
        "2023-06-25 07:52:05"
    );
    assert_eq!(a11.get_u32("ReaderCount"), Some(4));
}

#[test]
fn a19_a20_control_in_session() {
    let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0xfefe, 0x3994));
    s.connect(ConnectMode::Session, b"").unwrap();
    s.handle_reply(&Frame::new(
        1,
        Command::AckOk,
        &[0xd2, 0xfe, 0x94, 0x39][..],
    ))
    .unwrap();
    let req = s
        .request(
            Command::ControlDevice,
            &ControlCommand::close_door(1).encode(),
        )
        .unwrap();
    assert_eq!(&req.to_bytes().unwrap()[..], &frame("A19")[..]);
    let (h, payload) = after_header(&decoded("A19"));
    assert_eq!(h, SessionHeader::new(0xfed2, 0x3995));
    assert_eq!(
        ControlCommand::parse(&payload).unwrap(),
        ControlCommand::Output {
            target: OutputTarget::Door(1),
            seconds: 0
        }
    );
    let r = s.handle_reply(&decoded("A20")).unwrap();
    assert_eq!((r.header, r.payload.len()), (Some(h), 0));
}

#[test]
fn a21_a22_rt_records() {
    let recs = load(include_str!("vectors/panel/rtlog_records.txt"));
    for (id, bytes) in &recs {
        let arr: [u8; 16] = bytes.as_slice().try_into().unwrap();
        assert_eq!(RtRecord::decode(&arr).unwrap().encode(), arr, "{id}");
    }
    let rec = |id: &str| RtRecord::decode(&recs[id].as_slice().try_into().unwrap()).unwrap();
    let RtRecord::Status(a) = rec("A21a") else {
        panic!("A21a is a status record")
    };
    assert_eq!(a.alarm(1), Some(AlarmFlags(3)));
    assert!(a.alarm(1).unwrap().alarm() && a.alarm(1).unwrap().open_timeout());
    assert!(!a.alarm(2).unwrap().any());
    assert_eq!(a.sensor(1), Some(DoorSensor::Closed));
    assert_eq!(a.sensor(3), Some(DoorSensor::Unknown));
    let RtRecord::Status(b) = rec("A21b") else {
        panic!("A21b is a status record")
    };
    assert_eq!(b.sensor(1), Some(DoorSensor::Open));
    let RtRecord::Event(e) = rec("A22a") else {
        panic!("A22a is an event")
    };
    assert_eq!(
        (e.door, e.event, e.verify),
        (1, EventCode::OpenedAccidentally, VerifyMode::System)
    );
    assert_eq!(e.time.to_string(), "2017-07-31 08:54:10");
    let RtRecord::Event(e) = rec("A22b") else {
        panic!("A22b is an event")
    };
    assert_eq!(
        (e.card_no, e.pin, e.verify, e.door),
        (308_555_799, 307_682, VerifyMode::Card, 1)
    );
    assert_eq!(
        (e.event, e.in_out),
        (EventCode::NormalPunchOpen, InOutState::Entry)
    );
    assert_eq!(e.time.to_string(), "2017-07-31 20:05:08");
    let two = [recs["A22a"].clone(), recs["A22b"].clone()].concat();
    assert_eq!(RtRecord::decode_all(&two).unwrap().len(), 2);
}

#[test]
fn b_session_and_params() {
    let mut s = PanelSession::new();
    assert_eq!(
        &s.connect(ConnectMode::Session, b"banana123")
            .unwrap()
            .to_bytes()
            .unwrap()[..],
        &frame("B1")[..]
    );
    s.handle_reply(&decoded("B2")).unwrap();
    assert_eq!(s.session_id(), Some(0x2014));

    let b3 = decoded("B3");
    let (h, payload) = after_header(&b3);
    assert_eq!(h, SessionHeader::new(0x8ad1, 0xff00));
    let p = ParamList::parse(&payload).unwrap();
    let t = p.date_time().unwrap().unwrap();
    assert_eq!(t.to_string(), "2025-04-13 15:54:12");
    let mut set = ParamList::new();
    set.push_date_time(t);
    let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 0xfeff));
    s.connect(ConnectMode::Session, b"").unwrap();
    s.handle_reply(&Frame::new(
        1,
        Command::AckOk,
        &[0xd1, 0x8a, 0xff, 0xfe][..],
    ))
    .unwrap();
    assert_eq!(
        s.request(Command::SetDeviceParam, &set.encode_set_request().unwrap())
            .unwrap(),
        b3
    );

    let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 0));
    s.connect(ConnectMode::Session, b"").unwrap();
    s.handle_reply(&decoded("B4")).unwrap();
    assert_eq!(s.session_id(), Some(0x66eb));
    s.request(
        Command::GetDeviceParam,
        b"~SerialNumber,LockCount,AuxInCount,AuxOutCount",
    )
    .unwrap();
    let r = s.handle_reply(&decoded("B5")).unwrap();
    let p = ParamList::parse(&r.payload).unwrap();
    assert_eq!(
        (p.get("~SerialNumber"), p.get_u32("LockCount")),
        (Some("6404162101689"), Some(2))
    );
    assert_eq!(&p.encode().unwrap()[..], &r.payload[..]);

    let (_, b9) = after_header(&decoded("B9"));
    let p = ParamList::parse(&b9).unwrap();
    assert_eq!(
        p.iter().collect::<Vec<_>>(),
        [
            ("Door1SensorType", "2"),
            ("Door1Drivertime", "1"),
            ("Door1Detectortime", "250")
        ]
    );
    assert_eq!(&p.encode().unwrap()[..], &b9[..]);

    let (h, b15) = after_header(&decoded("B15"));
    assert_eq!(h, SessionHeader::new(0x8ad1, 2));
    let p = ParamList::parse(&b15).unwrap();
    assert_eq!(
        (p.get("~ZKFPVersion"), p.get_u32("ReaderCount")),
        (Some("10"), Some(4))
    );

    let b16 = decoded("B16");
    assert_eq!(b16.address, 0);
    assert_eq!(
        ParamList::parse(&b16.data).unwrap().get_u32("AuxOutCount"),
        Some(4)
    );

    let b14 = decoded("B14");
    assert_eq!(
        (b14.address, b14.command, &b14.data[..]),
        (2, Command::AckError, &[0xf3u8][..])
    );
    assert_eq!(ErrorCode::from_byte(0xf3), ErrorCode::CommandNotAvailable);
}

#[test]
fn b_binary_rt_events() {
    for (id, sid, msg, code, door) in [
        ("B6", 0x66eb, 0x3c, EventCode::AuxInputShorted, 2),
        ("B7a", 0x66eb, 0x3e, EventCode::AuxInputDisconnected, 2),
        ("B7b", 0x66eb, 0x43, EventCode::AuxOutputOpened, 2),
        ("B7c", 0x66eb, 0x4c, EventCode::AuxOutputClosed, 2),
        ("B8", 0x9c4d, 0xff07, EventCode::ExitButtonOpen, 2),
    ] {
        let f = decoded(id);
        let (h, payload) = after_header(&f);
        assert_eq!(h, SessionHeader::new(sid, msg), "{id}");
        let recs = RtRecord::decode_all(&payload).unwrap();
        let [RtRecord::Event(e)] = recs.as_slice() else {
            panic!("{id}: one event expected")
        };
        assert_eq!(
            (e.event, e.door, e.verify, e.in_out),
            (code, door, VerifyMode::System, InOutState::None),
            "{id}"
        );
        assert_eq!(&RtRecord::encode_all(&recs)[..], &payload[..], "{id}");
    }
    assert_eq!(decoded("B8").address, 0);
}

#[test]
fn b10_table_structure() {
    let s = structure();
    assert_eq!(s.tables.len(), 13);
    let user = s.table("user").unwrap();
    assert_eq!((user.id, user.fields.len()), (1, 9));
    assert_eq!(
        (
            user.fields[5].name.as_str(),
            user.fields[5].kind,
            user.fields[5].id
        ),
        ("StartTime", table::FieldKind::Int, 6)
    );
    assert_eq!(
        (
            user.fields[7].name.as_str(),
            user.fields[7].kind,
            user.fields[7].id
        ),
        ("Name", table::FieldKind::Str, 8)
    );
    assert_eq!(
        s.table("templatev10")
            .unwrap()
            .field("Template")
            .unwrap()
            .kind,
        table::FieldKind::LongBinary
    );
    assert_eq!(s.table("wiegandfmt").unwrap().id, 13);
    assert_eq!(s.table("timezone").unwrap().fields.len(), 31);
    let (_, payload) = after_header(&decoded("B10"));
    assert_eq!(payload.len(), 1196);
    assert_eq!(s.to_text().as_bytes(), &payload[..]);
}

#[test]
fn b11_user_rows() {
    let s = structure();
    let user = s.table("user").unwrap();
    let (h, payload) = after_header(&decoded("B11"));
    assert_eq!(h, SessionHeader::new(0xc74a, 4));
    let rs = RowSet::parse(payload.clone()).unwrap();
    assert_eq!(
        (rs.table, rs.fields.as_slice(), rs.rows.len()),
        (1, &[1u8, 2, 3, 4, 5, 6, 7, 8, 9][..], 2)
    );
    assert_eq!(rs.encode().unwrap(), payload);
    let users: Vec<UserRow> = user.decode_typed(&rs).unwrap();
    assert_eq!(
        (users[0].uid, users[0].card_no, users[0].pin),
        (Some(1), 1_234_567, 3_298_422)
    );
    assert_eq!(
        (
            users[0].password.as_str(),
            users[0].name.as_str(),
            users[0].group
        ),
        ("", "", 0)
    );
    assert_eq!(
        (users[1].uid, users[1].card_no, users[1].pin),
        (Some(2), 0xa3a3a1, 0xb3b2b1)
    );
    assert_eq!(
        (users[1].start_date, users[1].end_date),
        (20_220_202, 20_230_303)
    );
    // re-encode through the descriptor in the reply's field order
    let names: Vec<&str> = user.fields.iter().map(|f| f.name.as_str()).collect();
    let values = user.decode(&rs).unwrap();
    assert_eq!(
        user.rows(&names, &values).unwrap().encode().unwrap(),
        payload
    );
}

#[test]
fn b12_b13_text_rt_log() {
    let b12 = decoded("B12");
    let recs = TextRecord::parse_all(&b12.data).unwrap();
    let [TextRecord::Status(st)] = recs.as_slice() else {
        panic!("B12: one status record")
    };
    assert_eq!(st.time.to_string(), "2023-12-09 15:09:33");
    assert_eq!(
        (1..=4).map(|d| st.sensor(d).unwrap()).collect::<Vec<_>>(),
        [
            DoorSensor::Unknown,
            DoorSensor::Closed,
            DoorSensor::Open,
            DoorSensor::Unknown
        ]
    );
    assert_eq!(
        (1..=4).map(|d| st.relay_on(d).unwrap()).collect::<Vec<_>>(),
        [false, false, true, false]
    );
    assert!((1..=4).all(|d| !st.alarm(d).unwrap().any()));
    assert_eq!(&TextRecord::encode_all(&recs)[..], &b12.data[..]);

    let b13 = decoded("B13");
    let recs = TextRecord::parse_all(&b13.data).unwrap();
    let [TextRecord::Event(a), TextRecord::Event(b)] = recs.as_slice() else {
        panic!("B13: two events")
    };
    assert_eq!(
        (a.event, a.event_addr, a.index, a.verify),
        (EventCode::DeviceStart, 0, Some(8), VerifyMode::System)
    );
    assert_eq!(
        (b.event, b.event_addr, b.index, b.in_out),
        (EventCode::RemoteOpening, 1, Some(9), InOutState::None)
    );
    assert_eq!(a.time.to_string(), "2023-12-06 22:33:15");
    assert_eq!(&TextRecord::encode_all(&recs)[..], &b13.data[..]);
}

#[test]
fn c_firmware_example() {
    let f = decoded("C_FW");
    assert_eq!(
        (f.address, f.command, &f.data[..]),
        (1, Command::Connect, &[0xcd, 0xcd][..])
    );
}

fn session_less() -> PanelSession {
    let mut s = PanelSession::new();
    s.connect(ConnectMode::SessionLess, b"").unwrap();
    s.handle_reply(&Frame::new(1, Command::AckOk, Bytes::new()))
        .unwrap();
    s
}

fn request(command: Command, payload: &[u8]) -> Vec<u8> {
    session_less()
        .request(command, payload)
        .unwrap()
        .to_bytes()
        .unwrap()
        .to_vec()
}

#[test]
fn d_constructed_requests() {
    assert_eq!(request(Command::GetTableStruct, &[]), frame("D01"));
    assert_eq!(
        request(Command::GetDataCount, &table::encode_count_request(1)),
        frame("D02")
    );
    assert_eq!(table::parse_count_reply(&decoded("D03").data), Ok(2));
    assert_eq!(
        request(
            Command::ControlDevice,
            &ControlCommand::open_door(1, 5).encode()
        ),
        frame("D04")
    );
    let aux = ControlCommand::Output {
        target: OutputTarget::AuxOutput(2),
        seconds: 10,
    };
    assert_eq!(request(Command::ControlDevice, &aux.encode()), frame("D06"));
    assert_eq!(
        request(
            Command::ControlDevice,
            &ControlCommand::CancelAlarm.encode()
        ),
        frame("D07")
    );
    let cancel = ControlCommand::NormalOpen {
        door: 1,
        enable: false,
    };
    assert_eq!(
        request(Command::ControlDevice, &cancel.encode()),
        frame("D08")
    );
    for id in ["D04", "D06", "D07", "D08"] {
        let c = ControlCommand::parse(&decoded(id).data).unwrap();
        assert!(!matches!(c, ControlCommand::Raw(_)), "{id}");
    }
    assert_eq!(
        request(
            Command::GetDeviceParam,
            &params::encode_get_request(&["DateTime"]).unwrap()
        ),
        frame("D09")
    );
    assert_eq!(
        request(
            Command::GetDeviceParam,
            &params::encode_get_request(&["~SerialNumber"]).unwrap()
        ),
        frame("D10")
    );
    let set = ParamList::new().with("Door1Drivertime", "5");
    assert_eq!(
        request(Command::SetDeviceParam, &set.encode_set_request().unwrap()),
        frame("D11")
    );
    let mut s = PanelSession::new();
    assert_eq!(
        s.connect(ConnectMode::SessionLess, b"1234")
            .unwrap()
            .to_bytes()
            .unwrap()
            .to_vec(),
        frame("D12")
    );
    assert_eq!(
        s.connect(ConnectMode::Session, b"1234")
            .unwrap()
            .to_bytes()
            .unwrap()
            .to_vec(),
        frame("D13")
    );
    assert_eq!(request(Command::GetRtLogText, &[]), frame("D14"));
    assert_eq!(
        discovery::probe_frame().to_bytes().unwrap().to_vec(),
        frame("D22")
    );
    let m = ModifyIp {
        mac: "00:17:61:01:88:27".into(),
        ip: "192.168.12.156".into(),
        netmask: None,
        gateway: None,
    };
    assert_eq!(
        m.frame().unwrap().to_bytes().unwrap().to_vec(),
        frame("D23")
    );
    assert_eq!(ModifyIp::parse(&decoded("D23").data).unwrap(), m);
}

#[test]
fn d_session_requests() {
    // sid 0x8AD1: connect with message 2, then message 3 (D05) … message 9 (D15)
    let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 2));
    s.connect(ConnectMode::Session, b"").unwrap();
    s.handle_reply(&Frame::new(1, Command::AckOk, &[0xd1, 0x8a, 2, 0][..]))
        .unwrap();
    let open = s
        .request(
            Command::ControlDevice,
            &ControlCommand::open_door(1, 5).encode(),
        )
        .unwrap();
    assert_eq!(open.to_bytes().unwrap().to_vec(), frame("D05"));
    let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 8));
    s.connect(ConnectMode::Session, b"").unwrap();
    s.handle_reply(&Frame::new(1, Command::AckOk, &[0xd1, 0x8a, 8, 0][..]))
        .unwrap();
    assert_eq!(
        s.disconnect().unwrap().to_bytes().unwrap().to_vec(),
        frame("D15")
    );
    assert_eq!(
        s.handle_reply(&decoded("D16")),
        Err(ReplyError::Device {
            command: Command::Disconnect,
            code: ErrorCode::CommandNotAvailable
        })
    );
}

#[test]
fn d_table_requests() {
    let s = structure();
    let user = s.table("user").unwrap();
    let rows = user
        .rows(
            &["Pin", "CardNo", "Password"],
            &[vec![
                Value::Int(19999),
                Value::Int(13_375_401),
                Value::from("1"),
            ]],
        )
        .unwrap();
    assert_eq!(
        request(Command::SetData, &rows.encode().unwrap()),
        frame("D17")
    );
    let back = RowSet::parse(decoded("D17").data).unwrap();
    let [u]: [UserRow; 1] = user.decode_typed(&back).unwrap().try_into().unwrap();
    assert_eq!(
        (u.pin, u.card_no, u.password.as_str(), u.uid),
        (19999, 13_375_401, "1", None)
    );

    let ua = s.table("userauthorize").unwrap();
    let grant = UserAuthorizeRow {
        pin: 19999,
        timezone_id: 1,
        doors: 15,
    };
    assert_eq!(
        request(
            Command::SetData,
            &ua.encode_typed(&[grant]).unwrap().encode().unwrap()
        ),
        frame("D18")
    );
    assert_eq!(
        ua.decode_typed::<UserAuthorizeRow>(&RowSet::parse(decoded("D18").data).unwrap())
            .unwrap(),
        [grant]
    );

    let del = user
        .delete_matching(&["Pin"], &[vec![Value::Int(19999)]])
        .unwrap();
    assert_eq!(
        request(Command::DeleteData, &del.encode().unwrap()),
        frame("D19")
    );
    assert_eq!(
        table::DeleteRequest::parse(decoded("D19").data).unwrap(),
        del
    );

    let get = user
        .get_request(&["CardNo", "Pin"], &[("Pin", Value::Int(19999))], false)
        .unwrap();
    assert_eq!(
        request(Command::GetData, &get.encode().unwrap()),
        frame("D20")
    );
    assert_eq!(
        table::GetDataRequest::parse(decoded("D20").data).unwrap(),
        get
    );

    let tr = s.table("transaction").unwrap();
    let get = tr.get_typed_request::<TransactionRow>(true).unwrap();
    assert_eq!(
        request(Command::GetData, &get.encode().unwrap()),
        frame("D21")
    );
}

#[test]
fn d_discovery_reply_and_time_checks() {
    let text = b"MAC=00:17:61:C8:EC:17,IP=192.168.1.201,SN=DGD9190019050335134,Device=C3-400,Ver=AC Ver 4.3.4 Apr 28 2017";
    let reply = DiscoveryReply::parse(text).unwrap();
    assert_eq!(
        (reply.mac(), reply.serial_number(), reply.version()),
        (
            Some("00:17:61:C8:EC:17"),
            Some("DGD9190019050335134"),
            Some("AC Ver 4.3.4 Apr 28 2017")
        )
    );
    assert!(discovery::is_probe(&decoded("D22")));
    // §4.3 checks
    assert_eq!(
        PanelTime::from_packed(347_748_895).unwrap().to_string(),
        "2010-10-26 20:54:55"
    );
    assert_eq!(
        PanelTime::from_packed(u32::from_le_bytes([0xbd, 0x89, 0xda, 0x2d]))
            .unwrap()
            .to_string(),
        "2023-12-07 21:33:49"
    );
}

#[test]
fn terminal_bytes_are_not_panel_frames() {
    let tcp_connect = [
        0x50, 0x50, 0x82, 0x7d, 0x08, 0, 0, 0, 0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0,
    ];
    assert_eq!(classify(&tcp_connect), PeerKind::Terminal);
    assert_eq!(classify(&tcp_connect[8..]), PeerKind::Terminal);
    assert!(Frame::decode(&tcp_connect).is_err());
}
