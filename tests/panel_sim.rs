//! The panel simulator: device model against the reference's vectors and
//! rules, the tokio server (single client, faults, discovery), detection by
//! the terminal client, and a property test that arbitrary input never
//! panics the model.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use std::time::{Duration, Instant};
use tokio_util::codec::Framed;
use zkproto::panel::bigdata::Announce;
use zkproto::panel::codec::PanelCodec;
use zkproto::panel::rtlog::{DoorSensor, EventCode, RtRecord, TextRecord};
use zkproto::panel::session::{ConnectMode, ReplyKind};
use zkproto::panel::sim::{
    Credential, Device, Fault, ForeignBytes, Outgoing, PeerKey, Profile, SimConfig, Simulator,
};
use zkproto::panel::table::{GetDataRequest, TableStructure, UserRow, Value};
use zkproto::panel::{Command, ErrorCode, Frame, PanelSession, PanelTime, ParamList};

fn hexb(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("hex")
}

fn frame(cmd: Command, data: &[u8]) -> Vec<u8> {
    Frame::new(1, cmd, Bytes::copy_from_slice(data))
        .to_bytes()
        .expect("encodes")
        .to_vec()
}

fn wire(out: &[Outgoing]) -> Vec<u8> {
    out.iter().flat_map(|o| o.encode().to_vec()).collect()
}

const PEER: PeerKey = PeerKey::Tcp(1);

/// A sans-IO client session wired straight to a device.
struct Rig {
    dev: Device,
    s: PanelSession,
    t0: Instant,
    at: Duration,
}

impl Rig {
    fn new(config: SimConfig) -> Rig {
        Rig {
            dev: Device::new(&config),
            s: PanelSession::new(),
            t0: Instant::now(),
            at: Duration::ZERO,
        }
    }
    fn now(&self) -> Instant {
        self.t0 + self.at
    }
    fn advance(&mut self, secs: u64) {
        self.at += Duration::from_secs(secs);
    }
    fn exchange(&mut self, f: Frame) -> Vec<Outgoing> {
        let now = self.now();
        self.dev.handle(PEER, &f.to_bytes().expect("encodes"), now)
    }
    fn connect(&mut self, mode: ConnectMode, pw: &[u8]) -> Result<(), zkproto::panel::ReplyError> {
        let f = self.s.connect(mode, pw).expect("connect frame");
        let out = self.exchange(f);
        self.s.handle_reply(&out[0].frame).map(|_| ())
    }
    fn call(
        &mut self,
        cmd: Command,
        payload: &[u8],
    ) -> Result<zkproto::panel::Reply, zkproto::panel::ReplyError> {
        let f = self.s.request(cmd, payload).expect("request");
        let out = self.exchange(f);
        assert_eq!(out.len(), 1, "one reply to {cmd}");
        self.s.handle_reply(&out[0].frame)
    }
    fn ok(&mut self, cmd: Command, payload: &[u8]) -> Bytes {
        self.call(cmd, payload)
            .unwrap_or_else(|e| panic!("{cmd}: {e}"))
            .payload
    }
    fn records(&mut self) -> Vec<RtRecord> {
        let p = self.ok(Command::GetRtLog, &[]);
        RtRecord::decode_all(&p).expect("16-byte records")
    }
}

fn new_fw(doors: u8) -> SimConfig {
    SimConfig {
        profile: Profile::new_firmware(doors),
        users: 3,
        ..SimConfig::default()
    }
}

fn old_fw(doors: u8) -> SimConfig {
    SimConfig {
        profile: Profile::old_firmware(doors),
        users: 3,
        ..SimConfig::default()
    }
}

#[test]
fn session_connect_reproduces_captures() {
    let mut dev = Device::new(&SimConfig::default());
    let now = Instant::now();
    dev.set_next_session_id(0x2014);
    // A1 -> B2.
    let out = dev.handle(PEER, &hexb("aa 01 76 04 00 fe fe fe fe 46 77 55"), now);
    assert_eq!(wire(&out), hexb("aa 01 c8 04 00 14 20 fe fe 4c 5e 55"));
    // Wrong password (A2): the panel assigns a session, refuses with -14, closes.
    let mut dev = Device::new(&SimConfig {
        password: Some("banana123".into()),
        ..SimConfig::default()
    });
    dev.set_next_session_id(0xa750);
    let out = dev.handle(PEER, &hexb("aa 01 76 04 00 fe fe fe fe 46 77 55"), now);
    assert_eq!(wire(&out), hexb("aa 01 c9 05 00 50 a7 fe fe f2 d7 c7 55"));
    assert!(out[0].close_after);
    // B1: the right password.
    let out = dev.handle(
        PEER,
        &hexb("aa 01 76 0d 00 fe fe fe fe 62 61 6e 61 6e 61 31 32 33 96 19 55"),
        now,
    );
    assert_eq!(out[0].frame.command, Command::AckOk);
    assert_eq!(dev.connected_peers(), [PEER]);
}

#[test]
fn old_firmware_refuses_session_connect_and_accepts_0x01() {
    let mut dev = Device::new(&old_fw(4));
    let now = Instant::now();
    // A1 -> A3, A6 -> A3, A4 -> A5.
    for req in [
        "aa 01 76 04 00 fe fe fe fe 46 77 55",
        "aa 01 76 00 00 e0 26 55",
    ] {
        assert_eq!(
            wire(&dev.handle(PEER, &hexb(req), now)),
            hexb("aa 01 c9 01 00 f3 13 d9 55")
        );
    }
    assert_eq!(
        wire(&dev.handle(PEER, &hexb("aa 01 01 00 00 50 3c 55"), now)),
        hexb("aa 01 c8 00 00 80 02 55")
    );
    // A8 -> A9 (C3-400 with the capture's serial number).
    let out = dev.handle(
        PEER,
        &frame(
            Command::GetDeviceParam,
            b"~SerialNumber,LockCount,AuxInCount,AuxOutCount",
        ),
        now,
    );
    let mut a9 = hexb("aa 01 c8 48 00");
    a9.extend_from_slice(
        b"~SerialNumber=DDG8130016092200401,LockCount=4,AuxInCount=4,AuxOutCount=4",
    );
    a9.extend_from_slice(&hexb("c6 be 55"));
    assert_eq!(wire(&out), a9);
    // A7: disconnect, then the socket closes.
    let out = dev.handle(PEER, &hexb("aa 01 02 00 00 a0 3c 55"), now);
    assert_eq!(wire(&out), hexb("aa 01 c8 00 00 80 02 55"));
    assert!(out[0].close_after);
}

#[test]
fn passwords_follow_the_firmware_rule() {
    let mut pw = old_fw(2);
    pw.password = Some("1234".into());
    let mut rig = Rig::new(pw.clone());
    // Commands before connect are refused while a password is set.
    assert_eq!(
        rig.call(Command::GetDeviceParam, b"LockCount")
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::NotAuthorized)
    );
    let out = rig.exchange(Frame::decode(&hexb("aa 01 01 04 00 31 32 33 34 6a 9c 55")).unwrap());
    assert_eq!(out[0].frame.command, Command::AckOk);
    // Wrong or missing password: -14 and close.
    for bad in [&b"4321"[..], b""] {
        let mut rig = Rig::new(pw.clone());
        let out = rig.exchange(Frame::new(1, Command::Connect, Bytes::copy_from_slice(bad)));
        assert_eq!(&out[0].frame.data[..], &[0xf2]);
        assert!(out[0].close_after);
    }
    // A password sent to a panel without one also fails.
    let mut rig = Rig::new(old_fw(2));
    assert_eq!(
        rig.connect(ConnectMode::SessionLess, b"1234")
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::WrongPassword)
    );
    // Without a password the old firmware runs commands without a connect (§2.4).
    assert_eq!(
        &rig.ok(Command::GetDeviceParam, b"LockCount")[..],
        b"LockCount=2"
    );
}

#[test]
fn session_header_is_echoed_and_checked() {
    let mut rig = Rig::new(new_fw(4));
    rig.connect(ConnectMode::Session, b"").unwrap();
    let sid = rig.s.session_id().unwrap();
    let f = rig
        .s
        .request(Command::GetDeviceParam, b"LockCount")
        .unwrap();
    let out = rig.exchange(f.clone());
    assert_eq!(&out[0].frame.data[..4], &f.data[..4]);
    rig.s.handle_reply(&out[0].frame).unwrap();
    // Another session id: -8 with the request's header.
    let mut bad = f.data.to_vec();
    bad[0] ^= 0xff;
    let out = rig
        .dev
        .handle(PEER, &frame(Command::GetDeviceParam, &bad), rig.now());
    assert_eq!(out[0].frame.command, Command::AckError);
    assert_eq!(
        &out[0].frame.data[..],
        &[
            bad[0],
            bad[1],
            bad[2],
            bad[3],
            ErrorCode::NotAuthorized.to_byte()
        ]
    );
    assert_ne!(u16::from_le_bytes([bad[0], bad[1]]), sid);
}

#[test]
fn params_and_time() {
    let mut rig = Rig::new(new_fw(2));
    rig.connect(ConnectMode::Session, b"").unwrap();
    let p = ParamList::parse(&rig.ok(
        Command::GetDeviceParam,
        b"~ZKFPVersion,~SerialNumber,LockCount,ReaderCount,NoSuchThing,DateTime",
    ))
    .unwrap();
    assert_eq!(p.get("~ZKFPVersion"), Some(""));
    assert_eq!(p.get("LockCount"), Some("2"));
    assert_eq!(p.get("ReaderCount"), Some("4"));
    assert_eq!(p.get("NoSuchThing"), Some(""));
    assert_eq!(p.date_time(), Some(Ok(rig.dev.time(rig.now()))));
    // B3: set the clock; it runs on.
    rig.ok(
        Command::SetDeviceParam,
        b"DateTime=812649252,Door1Drivertime=9",
    );
    rig.advance(10);
    let p =
        ParamList::parse(&rig.ok(Command::GetDeviceParam, b"DateTime,Door1Drivertime")).unwrap();
    assert_eq!(
        p.date_time().unwrap().unwrap().to_string(),
        "2025-04-13 15:54:22"
    );
    assert_eq!(p.get("Door1Drivertime"), Some("9"));
    // Refusals.
    for bad in [
        &b"LockCount=3"[..],
        b"DateTime=x",
        b"Door1Drivertime=300",
        b"IPAddress=0.1.2.3",
    ] {
        assert_eq!(
            rig.call(Command::SetDeviceParam, bad)
                .unwrap_err()
                .device_code(),
            Some(ErrorCode::NotExecuted),
            "{bad:?}"
        );
    }
    assert_eq!(
        rig.call(Command::SetDeviceParam, b"")
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::BadParameter)
    );
    assert_eq!(
        rig.call(Command::GetDeviceParam, b"")
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::BadParameter)
    );
    // Unknown command.
    assert_eq!(
        rig.call(Command::Other(0x42), b"")
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::CommandNotAvailable)
    );
}

#[test]
fn lock_relay_timers_normal_open_and_aux() {
    let mut rig = Rig::new(new_fw(4));
    rig.connect(ConnectMode::Session, b"").unwrap();
    // Open door 1 for 5 s (§1.4 D).
    rig.ok(Command::ControlDevice, &[1, 1, 1, 5, 0]);
    assert!(rig.dev.relay(1, rig.now()));
    rig.advance(4);
    assert!(rig.dev.relay(1, rig.now()));
    rig.advance(2);
    assert!(!rig.dev.relay(1, rig.now()));
    // 255 = normally open: closing fails (37) until normal-open is cancelled.
    rig.ok(Command::ControlDevice, &[1, 2, 1, 255, 0]);
    rig.advance(1000);
    assert!(rig.dev.relay(2, rig.now()));
    rig.ok(Command::ControlDevice, &[1, 2, 1, 0, 0]);
    assert!(rig.dev.relay(2, rig.now()));
    rig.ok(Command::ControlDevice, &[4, 2, 0, 0, 0]);
    rig.ok(Command::ControlDevice, &[1, 2, 1, 0, 0]);
    assert!(!rig.dev.relay(2, rig.now()));
    // Aux output 2 for 10 s.
    rig.ok(Command::ControlDevice, &[1, 2, 2, 10, 0]);
    assert!(rig.dev.aux_output(2, rig.now()));
    rig.advance(11);
    rig.dev.tick(rig.now());
    assert!(!rig.dev.aux_output(2, rig.now()));
    let events: Vec<(u8, EventCode)> = rig
        .dev
        .queued_events()
        .iter()
        .map(|e| (e.door, e.event))
        .collect();
    assert_eq!(
        events,
        [
            (1, EventCode::RemoteOpening),
            (2, EventCode::RemoteNormalOpening),
            (2, EventCode::FailedToCloseDuringNormalOpen),
            (2, EventCode::DisableNormalOpen),
            (2, EventCode::RemoteClosing),
            (2, EventCode::AuxOutputOpened),
        ]
    );
    // Bad door / address type / debug hooks: -11.
    for bad in [
        [1u8, 5, 1, 5, 0],
        [1, 1, 3, 5, 0],
        [5, 0, 0, 0, 0],
        [6, 0, 0, 0, 0],
        [4, 9, 1, 0, 0],
    ] {
        assert_eq!(
            rig.call(Command::ControlDevice, &bad)
                .unwrap_err()
                .device_code(),
            Some(ErrorCode::BadParameter),
            "{bad:?}"
        );
    }
    assert!(rig.call(Command::ControlDevice, &[1, 1, 1]).is_err());
}

#[test]
fn sensors_alarms_and_status_record() {
    let mut rig = Rig::new(new_fw(4));
    rig.connect(ConnectMode::Session, b"").unwrap();
    // Forced open while locked: 102 and the alarm bit; 15 s later event 28.
    assert!(rig.dev.open_door(3, rig.now()));
    rig.advance(16);
    let recs = rig.records();
    let evs: Vec<EventCode> = recs
        .iter()
        .filter_map(|r| match r {
            RtRecord::Event(e) => Some(e.event),
            _ => None,
        })
        .collect();
    assert_eq!(
        evs,
        [EventCode::OpenedAccidentally, EventCode::OpeningTimeout]
    );
    let RtRecord::Status(s) = rig.records()[0] else {
        panic!("status expected")
    };
    assert_eq!(s.sensor(3), Some(DoorSensor::Open));
    assert_eq!(s.sensor(1), Some(DoorSensor::Closed));
    assert!(s.alarm(3).unwrap().alarm() && s.alarm(3).unwrap().open_timeout());
    assert_eq!(s.time, rig.dev.time(rig.now()));
    // Closing clears the timeout bit, cancel alarm the alarm bit (event 7).
    rig.dev.close_door(3, rig.now());
    rig.ok(Command::ControlDevice, &[2, 0, 0, 0, 0]);
    rig.ok(Command::ControlDevice, &[1, 4, 1, 30, 0]);
    let recs = rig.records();
    assert_eq!(recs.len(), 3);
    let RtRecord::Status(s) = rig.records()[0] else {
        panic!("status expected")
    };
    assert!(!s.alarm(3).unwrap().any());
    assert_eq!(s.relay_on(4), Some(true));
    assert_eq!(s.relay, 0b1000);
    // Text log (0x79): status with the same facts.
    let p = rig.ok(Command::GetRtLogText, &[]);
    let TextRecord::Status(t) = &TextRecord::parse_all(&p).unwrap()[0] else {
        panic!("text status")
    };
    assert_eq!(
        (t.sensor(3), t.sensor(1), t.relay_on(4)),
        (
            Some(DoorSensor::Closed),
            Some(DoorSensor::Closed),
            Some(true)
        )
    );
    // No sensor configured: nothing reported.
    rig.ok(Command::SetDeviceParam, b"Door2SensorType=0");
    rig.dev.open_door(2, rig.now());
    let RtRecord::Status(s) = rig.records()[0] else {
        panic!("no event expected")
    };
    assert_eq!(s.sensor(2), Some(DoorSensor::Unknown));
}

#[test]
fn swipes_exit_button_and_aux_inputs() {
    let mut rig = Rig::new(new_fw(2));
    rig.connect(ConnectMode::SessionLess, b"").unwrap();
    let users: Vec<UserRow> = rig.dev.users();
    let now = rig.now();
    let granted = rig.dev.swipe(Credential::Card(users[0].card_no), 2, now);
    assert_eq!(
        (granted.event, granted.pin, granted.door),
        (EventCode::NormalPunchOpen, users[0].pin, 2)
    );
    assert!(rig.dev.relay(2, now));
    assert_eq!(
        rig.dev.swipe(Credential::Card(42), 1, now).event,
        EventCode::UnregisteredCard
    );
    assert_eq!(
        rig.dev.swipe(Credential::Pin(999_999), 1, now).event,
        EventCode::AccessDenied
    );
    assert_eq!(
        rig.dev.swipe(Credential::Pin(users[1].pin), 1, now).event,
        EventCode::NormalPunchOpen
    );
    // Revoke all authorisations: denied.
    rig.ok(Command::DeleteData, &[2, 0]);
    assert_eq!(
        rig.dev
            .swipe(Credential::Card(users[0].card_no), 1, now)
            .event,
        EventCode::AccessDenied
    );
    rig.advance(10);
    assert!(rig.dev.press_exit_button(1, rig.now()));
    assert!(rig.dev.relay(1, rig.now()));
    assert!(rig.dev.set_aux_input(2, true, rig.now()));
    let recs = rig.records(); // new firmware: several per poll
    let evs: Vec<(u8, u8)> = recs
        .iter()
        .filter_map(|r| match r {
            RtRecord::Event(e) => Some((e.door, e.event.value())),
            _ => None,
        })
        .collect();
    assert_eq!(
        evs,
        [
            (2, 0),
            (1, 27),
            (1, 23),
            (1, 0),
            (1, 23),
            (1, 202),
            (2, 221)
        ]
    );
    // Every event is also in the transaction table.
    let tx = rig
        .dev
        .state()
        .typed::<zkproto::panel::table::TransactionRow>();
    assert_eq!(tx.iter().rev().take(7).count(), 7);
    assert_eq!(tx.last().unwrap().event, EventCode::AuxInputShorted);
}

#[test]
fn rt_queue_holds_30_is_cleared_on_connect_and_old_firmware_sends_one_per_poll() {
    let mut rig = Rig::new(old_fw(1));
    rig.connect(ConnectMode::SessionLess, b"").unwrap();
    let now = rig.now();
    for i in 0..35 {
        rig.dev.swipe(Credential::Card(5000 + i), 1, now);
    }
    assert_eq!(rig.dev.queued_events().len(), 30);
    let recs = rig.records();
    let [RtRecord::Event(e)] = recs[..] else {
        panic!("one event per poll: {recs:?}")
    };
    assert_eq!(e.card_no, 5005, "the 5 oldest were overwritten");
    // Reconnect clears the queue; the next poll is a status record (byte 8 = 200 on old firmware).
    rig.connect(ConnectMode::SessionLess, b"").unwrap();
    let [RtRecord::Status(s)] = rig.records()[..] else {
        panic!("status")
    };
    assert_eq!((s.verify_byte, s.relay), (200, 0));
    // No text log on the old firmware.
    assert_eq!(
        rig.call(Command::GetRtLogText, &[])
            .unwrap_err()
            .device_code(),
        Some(ErrorCode::CommandNotAvailable)
    );
}

#[test]
fn text_rt_log_events_carry_a_running_index() {
    let mut rig = Rig::new(new_fw(4));
    rig.connect(ConnectMode::Session, b"").unwrap();
    rig.dev.press_exit_button(1, rig.now());
    rig.dev.press_exit_button(2, rig.now());
    let p = rig.ok(Command::GetRtLogText, &[]);
    let recs = TextRecord::parse_all(&p).unwrap();
    let idx: Vec<(u8, Option<u32>)> = recs
        .iter()
        .map(|r| match r {
            TextRecord::Event(e) => (e.event_addr, e.index),
            _ => (0, None),
        })
        .collect();
    assert_eq!(idx, [(1, Some(1)), (2, Some(2))]);
}

#[test]
fn tables_structure_reads_writes_deletes_and_counts() {
    for (config, fields) in [(old_fw(4), 7usize), (new_fw(4), 9)] {
        let mut rig = Rig::new(config);
        rig.connect(ConnectMode::SessionLess, b"").unwrap();
        let s = TableStructure::parse(&rig.ok(Command::GetTableStruct, &[])).unwrap();
        let user = s.require("user").unwrap().clone();
        assert_eq!(user.fields.len(), fields);
        // Write (typed), read back, count.
        let row = UserRow {
            pin: 19999,
            card_no: 13_375_401,
            password: "1".into(),
            ..UserRow::default()
        };
        let set = user.encode_typed(std::slice::from_ref(&row)).unwrap();
        assert!(rig.ok(Command::SetData, &set.encode().unwrap()).is_empty());
        let req = user
            .get_request(&[], &[("Pin", Value::Int(19999))], false)
            .unwrap();
        let got = rig.ok(Command::GetData, &req.encode().unwrap());
        let rows = user
            .decode_typed::<UserRow>(&zkproto::panel::table::RowSet::parse(got).unwrap())
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].pin, rows[0].card_no, rows[0].password.as_str()),
            (19999, 13_375_401, "1")
        );
        // Count (§1.4 D): 3 seeded users + 1.
        let out = rig.exchange(Frame::decode(&hexb("aa 01 0a 01 00 01 ae 18 55")).unwrap());
        assert_eq!(&out[0].frame.data[..], &[4, 0, 0, 0]);
        // A malformed write is acknowledged and stores nothing: read back.
        let mut bad = set.encode().unwrap().to_vec();
        bad.truncate(bad.len() - 1);
        assert!(rig.ok(Command::SetData, &bad).is_empty());
        assert_eq!(rig.dev.users().len(), 4);
        // Delete where Pin=19999.
        let del = user
            .delete_matching(&["Pin"], &[vec![Value::Int(19999)]])
            .unwrap();
        rig.ok(Command::DeleteData, &del.encode().unwrap());
        assert!(rig.dev.users().iter().all(|u| u.pin != 19999));
        // Unknown table: count is an empty C8, get data is refused.
        assert!(rig.ok(Command::GetDataCount, &[77]).is_empty());
        let req = GetDataRequest {
            table: 77,
            fields: vec![1],
            table_param: None,
            conditions: vec![],
        };
        assert!(rig.call(Command::GetData, &req.encode().unwrap()).is_err());
    }
}

#[test]
fn reference_table_frames() {
    let mut dev = Device::new(&new_fw(4));
    let now = Instant::now();
    dev.handle(PEER, &hexb("aa 01 01 00 00 50 3c 55"), now);
    for f in [
        "aa 01 07 0e 00 01 03 03 02 04 02 1f 4e 03 a9 17 cc 01 31 83 0e 55",
        "aa 01 07 0c 00 02 03 01 02 03 02 1f 4e 01 01 01 0f 2c a4 55",
    ] {
        assert_eq!(
            wire(&dev.handle(PEER, &hexb(f), now)),
            hexb("aa 01 c8 00 00 80 02 55")
        );
    }
    let out = dev.handle(
        PEER,
        &hexb("aa 01 08 0a 00 01 02 02 03 00 01 03 02 1f 4e e9 ad 55"),
        now,
    );
    assert_eq!(
        &out[0].frame.data[..],
        &hexb("01 02 02 03 03 a9 17 cc 02 1f 4e")[..]
    );
    assert!(
        dev.users()
            .iter()
            .any(|u| u.pin == 19999 && u.card_no == 13_375_401)
    );
    dev.handle(
        PEER,
        &hexb("aa 01 09 06 00 01 01 03 02 1f 4e ae 2e 55"),
        now,
    );
    assert!(dev.users().iter().all(|u| u.pin != 19999));
}

#[test]
fn new_transactions_and_commit() {
    for config in [old_fw(2), new_fw(2)] {
        let quirk = config.profile.data_ok_quirk;
        let mut rig = Rig::new(SimConfig {
            transactions: 5,
            ..config
        });
        rig.connect(ConnectMode::SessionLess, b"").unwrap();
        let new_only = GetDataRequest {
            table: 5,
            fields: (1..=7).collect(),
            table_param: Some(1),
            conditions: vec![],
        }
        .encode()
        .unwrap();
        let count = |b: &Bytes| {
            zkproto::panel::table::RowSet::parse(b.clone())
                .unwrap()
                .rows
                .len()
        };
        assert_eq!(count(&rig.ok(Command::GetData, &new_only)), 5);
        let out = rig.exchange(Frame::new(1, Command::GetDataOk, &[5u8][..]));
        assert_eq!(
            out[0].frame.command,
            if quirk {
                Command::AckError
            } else {
                Command::AckOk
            }
        );
        rig.dev.press_exit_button(1, rig.now());
        assert_eq!(count(&rig.ok(Command::GetData, &new_only)), 1);
        let all = GetDataRequest {
            table_param: None,
            ..GetDataRequest::parse(new_only.clone()).unwrap()
        };
        assert_eq!(count(&rig.ok(Command::GetData, &all.encode().unwrap())), 6);
    }
}

#[test]
fn big_data_download_and_upload() {
    let mut config = new_fw(4);
    config.users = 40;
    config.profile.max_reply = 256;
    let mut rig = Rig::new(config);
    rig.connect(ConnectMode::Session, b"").unwrap();
    let req = GetDataRequest {
        table: 1,
        fields: (1..=9).collect(),
        table_param: None,
        conditions: vec![],
    };
    let r = rig.call(Command::GetData, &req.encode().unwrap()).unwrap();
    assert_eq!(r.kind, ReplyKind::BigData);
    let a = Announce::parse(&r.payload).unwrap();
    assert_eq!(a.max_chunk, 244);
    let mut buf = Vec::new();
    for off in a.chunk_offsets() {
        let chunk = rig.ok(Command::ReadData, &off.to_le_bytes());
        let (o, bytes) = zkproto::panel::bigdata::parse_chunk(chunk).unwrap();
        assert_eq!(o, off);
        buf.extend_from_slice(&bytes);
    }
    rig.ok(Command::FreeData, &[]);
    assert_eq!(buf.len(), a.transfer_len as usize);
    assert_eq!(zkproto::panel::sim::device::crc32(&buf), a.crc32);
    assert_eq!(
        zkproto::panel::table::RowSet::parse(Bytes::from(buf))
            .unwrap()
            .rows
            .len(),
        40
    );
    assert!(
        rig.call(Command::ReadData, &0u32.to_le_bytes()).is_err(),
        "buffer released"
    );
    // Upload a SetDeviceData buffer in chunks and execute it.
    let data = hexb("01 03 03 02 04 02 1f 4e 03 a9 17 cc 01 31");
    let mut prep = (data.len() as u32).to_le_bytes().to_vec();
    prep.extend_from_slice(&8u32.to_le_bytes());
    rig.ok(Command::PrepareData, &prep);
    for (i, c) in data.chunks(8).enumerate() {
        let mut d = ((i * 8) as u32).to_le_bytes().to_vec();
        d.extend_from_slice(c);
        rig.ok(Command::Data, &d);
    }
    let crc = rig.ok(Command::HashData, &[7]);
    assert_eq!(
        &crc[..],
        &zkproto::panel::sim::device::crc32(&data).to_le_bytes()
    );
    rig.ok(Command::FreeData, &[]);
    assert!(rig.dev.users().iter().any(|u| u.pin == 19999));
}

#[test]
fn faults_at_device_level() {
    let mut rig = Rig::new(new_fw(1));
    rig.connect(ConnectMode::Session, b"").unwrap();
    rig.dev.set_fault(Fault::LagReplies);
    let f1 = rig
        .s
        .request(Command::GetDeviceParam, b"LockCount")
        .unwrap();
    assert!(rig.exchange(f1).is_empty(), "first request: nothing yet");
    let f2 = rig
        .s
        .request(Command::GetDeviceParam, b"AuxInCount")
        .unwrap();
    let out = rig.exchange(f2);
    assert!(rig.s.handle_reply(&out[0].frame).unwrap_err().is_stale());
    rig.dev.clear_faults();
    rig.dev.set_fault(Fault::CorruptCrc {
        command: Some(Command::GetRtLog),
    });
    rig.dev
        .set_fault(Fault::GarbageBefore(Bytes::from_static(b"\x00junk")));
    let out = rig.exchange(Frame::new(1, Command::GetRtLog, &[][..]));
    let bytes = out[0].encode();
    assert!(bytes.starts_with(b"\x00junk"));
    assert!(Frame::decode(&bytes[5..]).is_err(), "CRC corrupted");
    rig.dev.clear_faults();
    rig.dev.set_fault(Fault::Disconnect { command: None });
    let out = rig.exchange(Frame::new(1, Command::GetRtLog, &[][..]));
    assert!(out[0].drop && out[0].close_after);
    rig.dev.set_fault(Fault::ReplyError {
        command: Command::GetRtLog,
        code: ErrorCode::Unknown,
    });
    let out = rig.exchange(Frame::new(1, Command::GetRtLog, &[][..]));
    assert_eq!(out[0].frame.command, Command::AckError);
    rig.dev.set_fault(Fault::Silent);
    assert!(
        rig.exchange(Frame::new(1, Command::GetRtLog, &[][..]))
            .is_empty()
    );
}

#[test]
fn foreign_bytes_and_bad_frames() {
    let terminal_connect = hexb("50 50 82 7d 08 00 00 00 e8 03 17 fc 00 00 00 00");
    let now = Instant::now();
    for (mode, expect) in [
        (ForeignBytes::Ignore, 0usize),
        (ForeignBytes::Close, 1),
        (ForeignBytes::ErrorReply, 1),
    ] {
        let mut config = new_fw(4);
        config.profile.foreign_bytes = mode;
        let mut dev = Device::new(&config);
        let out = dev.handle(PEER, &terminal_connect, now);
        assert_eq!(out.len(), expect, "{mode:?}");
        if mode == ForeignBytes::ErrorReply {
            assert_eq!(
                zkproto::detect::classify(&out[0].encode()),
                zkproto::detect::PeerKind::Panel
            );
        }
        if mode == ForeignBytes::Close {
            assert!(out[0].close_after && out[0].encode().is_empty());
        }
    }
    let mut dev = Device::new(&new_fw(4));
    // A bad CRC gets no reply.
    assert!(
        dev.handle(PEER, &hexb("aa 01 01 00 00 50 3d 55"), now)
            .is_empty()
    );
}

// --- server ---

async fn framed(addr: std::net::SocketAddr) -> Framed<tokio::net::TcpStream, PanelCodec> {
    Framed::new(
        tokio::net::TcpStream::connect(addr).await.expect("connect"),
        PanelCodec::new(),
    )
}

async fn call(
    f: &mut Framed<tokio::net::TcpStream, PanelCodec>,
    s: &mut PanelSession,
    frame: Frame,
) -> Frame {
    f.send(frame).await.expect("send");
    loop {
        let r = tokio::time::timeout(Duration::from_secs(5), f.next())
            .await
            .expect("reply in time")
            .expect("open")
            .expect("frame");
        match s.handle_reply(&r) {
            Err(e) if e.is_stale() => continue,
            _ => return r,
        }
    }
}

#[tokio::test]
async fn server_single_client_and_stream_faults() {
    let sim = Simulator::new(new_fw(4));
    let server = sim
        .serve(Some("127.0.0.1:0".parse().unwrap()), None, None)
        .await
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let mut a = framed(addr).await;
    let mut sa = PanelSession::new();
    let c = sa.connect(ConnectMode::Session, b"").unwrap();
    call(&mut a, &mut sa, c).await;
    // Split frames and garbage before replies: the codec copes.
    sim.set_fault(Fault::SplitFrames { chunk: 3 });
    sim.set_fault(Fault::GarbageBefore(Bytes::from_static(b"\x13\x37")));
    let f = sa.request(Command::GetDeviceParam, b"LockCount").unwrap();
    let r = call(&mut a, &mut sa, f).await;
    sim.clear_faults();
    assert_eq!(&r.data[4..], b"LockCount=4");
    // A second client's first valid frame closes the first connection.
    let mut b = framed(addr).await;
    let mut sb = PanelSession::new();
    let c = sb.connect(ConnectMode::SessionLess, b"").unwrap();
    call(&mut b, &mut sb, c).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), a.next())
        .await
        .expect("closed in time");
    assert!(
        closed.is_none() || closed.is_some_and(|r| r.is_err()),
        "first client closed"
    );
    // Disconnect fault: EOF instead of a reply.
    sim.set_fault(Fault::Disconnect {
        command: Some(Command::GetRtLog),
    });
    b.send(sb.request(Command::GetRtLog, &[]).unwrap())
        .await
        .unwrap();
    let eof = tokio::time::timeout(Duration::from_secs(5), b.next())
        .await
        .expect("in time");
    assert!(eof.is_none() || eof.is_some_and(|r| r.is_err()));
    server.shutdown().await;
}

#[tokio::test]
async fn udp_and_discovery() {
    let sim = Simulator::new(new_fw(2));
    let local = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(None, Some(local), Some(local)).await.unwrap();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut buf = vec![0u8; 2048];
    sock.send_to(
        &zkproto::panel::discovery::probe_frame().to_bytes().unwrap(),
        server.discovery_addr().unwrap(),
    )
    .await
    .unwrap();
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let f = Frame::decode(&buf[..n]).unwrap();
    let d = zkproto::panel::discovery::DiscoveryReply::parse(&f.data).unwrap();
    assert_eq!(
        (d.device(), d.serial_number()),
        (Some("C3-200"), Some("6404162101689"))
    );
    // Modify IP (MAC must match), then discovery reports the new address.
    let m = zkproto::panel::discovery::ModifyIp {
        mac: "00:17:61:c8:ec:17".into(),
        ip: "10.1.2.3".into(),
        netmask: None,
        gateway: None,
    };
    sock.send_to(
        &m.frame().unwrap().to_bytes().unwrap(),
        server.discovery_addr().unwrap(),
    )
    .await
    .unwrap();
    let (n, _) = sock.recv_from(&mut buf).await.unwrap();
    assert_eq!(Frame::decode(&buf[..n]).unwrap().command, Command::AckOk);
    assert_eq!(sim.param("IPAddress").as_deref(), Some("10.1.2.3"));
    // Protocol frames over UDP.
    sock.send_to(&hexb("aa 01 01 00 00 50 3c 55"), server.udp_addr().unwrap())
        .await
        .unwrap();
    let (n, _) = sock.recv_from(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], &hexb("aa 01 c8 00 00 80 02 55")[..]);
    server.shutdown().await;
}

#[tokio::test]
async fn terminal_client_detection_paths() {
    use zkproto::terminal::client::{Client, Error, Options, Transport};
    for mode in [
        ForeignBytes::Ignore,
        ForeignBytes::Close,
        ForeignBytes::ErrorReply,
    ] {
        let mut config = new_fw(4);
        config.profile.foreign_bytes = mode;
        let sim = Simulator::new(config);
        let server = sim
            .serve(Some("127.0.0.1:0".parse().unwrap()), None, None)
            .await
            .unwrap();
        let addr = server.tcp_addr().unwrap();
        let options = Options::new()
            .transport(Transport::Tcp)
            .connect_timeout(Duration::from_millis(800))
            .retries(0);
        let e = Client::connect(addr, options)
            .await
            .expect_err("a panel is not a terminal");
        if mode == ForeignBytes::ErrorReply {
            assert!(matches!(e, Error::NotATerminal { .. }), "{e}");
        }
        // The §10 probe on a fresh connection proves a panel.
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tcp.write_all(&hexb(
            "aa 01 04 0d 00 7e 53 65 72 69 61 6c 4e 75 6d 62 65 72 82 92 55",
        ))
        .await
        .unwrap();
        let mut buf = vec![0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            zkproto::detect::classify(&buf[..n]),
            zkproto::detect::PeerKind::Panel,
            "{mode:?}"
        );
        server.shutdown().await;
    }
}

#[test]
fn control_handle_api() {
    let sim = Simulator::new(new_fw(4));
    let u = sim.users()[0].clone();
    assert_eq!(sim.user(u.pin), Some(u.clone()));
    assert_eq!(sim.authorizations().len(), 3);
    let t = sim.swipe(Credential::Card(u.card_no), 4);
    assert!(sim.relay(4));
    assert_eq!(sim.transactions().last(), Some(&t));
    assert!(sim.open_door(4));
    assert!(sim.door_open(4));
    assert_eq!(sim.door_sensor(4), DoorSensor::Open);
    assert!(sim.close_door(4));
    assert_eq!(sim.door_sensor(4), DoorSensor::Closed);
    assert!(!sim.open_door(5), "no door 5");
    assert!(sim.raise_alarm(2, EventCode::TamperAlarm));
    assert!(sim.alarm(2).alarm());
    assert!(sim.set_aux_input(1, true) && sim.aux_input(1));
    assert_eq!(sim.queued_events().len(), 5);
    sim.set_time(PanelTime::new(2030, 1, 1, 0, 0, 0).unwrap());
    assert_eq!(sim.time().year(), 2030);
    assert!(sim.put_user(UserRow {
        pin: 7,
        card_no: 77,
        ..UserRow::default()
    }));
    assert_eq!(sim.user(7).map(|u| u.card_no), Some(77));
    sim.restart();
    assert_eq!(
        sim.transactions().last().map(|t| t.event),
        Some(EventCode::DeviceStart)
    );
    assert_eq!(sim.rows("timezone").map(|r| r.len()), Some(1));
}

fn any_command() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(vec![
            0x01u8, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x0e, 0x0f,
            0x11, 0x14, 0x15, 0x16, 0x17, 0x19, 0x76, 0x77, 0x79
        ]),
        any::<u8>(),
    ]
}

fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (any_command(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(c, d)| frame(Command::from(c), &d)),
        // Frames with a session header of the first session the device assigns.
        (any_command(), prop::collection::vec(any::<u8>(), 0..48)).prop_map(|(c, d)| {
            let mut data = vec![0x14, 0x20, 0, 0];
            data.extend(d);
            frame(Command::from(c), &data)
        }),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_request_sequences_never_panic(
        old in any::<bool>(),
        steps in prop::collection::vec((any_input(), 0u64..30, 0u8..4, 0u8..8), 1..40),
    ) {
        let mut config = if old { old_fw(4) } else { new_fw(2) };
        config.profile.max_reply = 64;
        config.transactions = 3;
        let mut dev = Device::new(&config);
        dev.set_next_session_id(0x2014);
        let t0 = Instant::now();
        let mut at = Duration::ZERO;
        let connect = frame(Command::ConnectSession, &[0xfe, 0xfe, 0xfe, 0xfe]);
        dev.handle(PeerKey::Tcp(1), &connect, t0);
        for (bytes, dt, peer, action) in steps {
            at += Duration::from_secs(dt);
            let now = t0 + at;
            let peer = PeerKey::Tcp(u64::from(peer));
            for o in dev.handle(peer, &bytes, now) {
                let _ = o.encode();
            }
            match action {
                0 => { dev.open_door(1 + dt as u8 % 5, now); }
                1 => { dev.close_door(1 + dt as u8 % 5, now); }
                2 => { dev.swipe(Credential::Card(dt as u32), 1, now); }
                3 => { dev.press_exit_button(dt as u8 % 5, now); }
                _ => {}
            }
            let _ = dev.door_status(now);
            prop_assert!(dev.queued_events().len() <= 30);
        }
    }
}
