//! The pure device model: golden replies (reference §11.A via
//! tests/vectors/wire_frames.txt, §3.2), protocol rules, faults, and a
//! property test that no request sequence panics the simulator.

use proptest::prelude::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::frame::tcp_frame;
use zkproto::terminal::packet::hex;
use zkproto::terminal::record::bulk::{
    BufferDescriptor, BulkRead, PrepareData, ReadChunk, buffer_hash,
};
use zkproto::terminal::record::sizes::FreeSizes;
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::record::user::{User, UserLayout, encode_users, parse_users};
use zkproto::terminal::sim::{Device, Fault, Outgoing, PeerKey, Profile, SimConfig};
use zkproto::terminal::{ChecksumMode, Command, EventFlag, Packet, ReplyCode};

/// A frame of tests/vectors/wire_frames.txt, by name.
fn vector(name: &str) -> Vec<u8> {
    let text = include_str!("vectors/wire_frames.txt");
    let line = text
        .lines()
        .find(|l| l.split(" | ").next() == Some(name))
        .unwrap_or_else(|| panic!("vector {name} not in wire_frames.txt"));
    let h = line.split(" | ").nth(1).expect("hex column");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

fn tcp_peer() -> PeerKey {
    PeerKey::Tcp(1)
}

fn udp_peer(port: u16) -> PeerKey {
    PeerKey::Udp(SocketAddr::from(([127, 0, 0, 1], port)))
}

struct Rig {
    dev: Device,
    peer: PeerKey,
    session: u16,
    reply: u16,
    now: Instant,
}

impl Rig {
    fn new(config: SimConfig, peer: PeerKey) -> Rig {
        let mut dev = Device::new(&config);
        let now = Instant::now();
        let out = dev.handle(
            peer,
            &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(),
            now,
        );
        let session = out[0].packet.session_id;
        Rig {
            dev,
            peer,
            session,
            reply: 0,
            now,
        }
    }

    fn send(&mut self, cmd: Command, data: &[u8]) -> Vec<Outgoing> {
        self.reply += 1;
        let p = Packet::new(cmd, self.session, self.reply, data.to_vec());
        self.dev.handle(self.peer, &p.to_bytes(), self.now)
    }

    fn one(&mut self, cmd: Command, data: &[u8]) -> Packet {
        let out = self.send(cmd, data);
        assert_eq!(out.len(), 1, "{cmd}: {out:?}");
        out[0].packet.clone()
    }
}

#[test]
fn golden_option_replies_of_reference_11a() {
    let mut dev = Device::new(&SimConfig::default());
    dev.set_next_session_id(0x8DF3);
    let now = Instant::now();
    let peer = tcp_peer();
    let c = dev.handle(
        peer,
        &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(),
        now,
    );
    assert_eq!(c[0].packet.session_id, 0x8DF3);
    // Requests as captured (the TCP envelope stripped), in reply-id order 11 then 12.
    for (req, rep) in [
        (
            "a10_request_cmd_options_rrq_workcode_0",
            "a11_reply_cmd_ack_ok_workcode_0_0",
        ),
        (
            "a08_request_cmd_options_rrq_platform_0",
            "a09_reply_cmd_ack_ok_platform_zem760_tft_0",
        ),
    ] {
        let out = dev.handle(peer, &vector(req)[8..], now);
        assert_eq!(out.len(), 1);
        assert_eq!(hex(&tcp_frame(&out[0].packet)), hex(&vector(rep)), "{rep}");
    }
}

#[test]
fn golden_state_reply_of_reference_11a() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    r.reply = 54;
    let p = r.one(Command::StateRrq, &[]);
    assert_eq!(
        hex(&tcp_frame(&p)),
        hex(&vector("a14_reply_to_cmd_state_rrq_cmd_ack_ok_state"))
    );
}

#[test]
fn golden_attlog_event_of_reference_11a() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    let u = User::new(UserLayout::Extended72, 13, "999111333", TextEncoding::Utf8).unwrap();
    r.dev.state_mut().put_user(u);
    assert_eq!(
        r.one(Command::RegEvent, &[1, 0, 0, 0]).reply_code(),
        ReplyCode::AckOk
    );
    r.dev
        .set_time(DeviceTime::new(2018, 6, 25, 17, 41, 5), r.now);
    let rec = r.dev.punch("999111333", 1, 0, r.now).unwrap();
    assert_eq!(rec.uid, Some(13));
    let ev = r.dev.take_pushes_for(&r.peer);
    assert_eq!(ev.len(), 1, "only EF_ATTLOG was registered");
    assert_eq!(
        hex(&tcp_frame(&ev[0].packet)),
        hex(&vector("a07_realtime_ef_attlog_event_32_data_bytes_u"))
    );
}

#[test]
fn golden_fpftr_event_of_reference_11a() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    r.dev.set_fault(Fault::CoalesceWithEvent);
    let out = r.send(Command::GetTime, &[]);
    assert_eq!(out.len(), 2);
    assert!(out[0].coalesce_with_next);
    assert_eq!(
        hex(&tcp_frame(&out[0].packet)),
        hex(&vector("a01_realtime_event_ef_fpftr_0x0100_1_data_by"))
    );
}

#[test]
fn comm_key_replies_of_reference_3_2() {
    for (key, frame, want) in [
        (
            45,
            "c_cmd_auth_comm_key_45_session_0x45cf_repl",
            "d0075fb2cf450100",
        ),
        (
            45,
            "c_cmd_auth_comm_key_12_session_0x45cf_repl",
            "d5075ab2cf450100",
        ),
    ] {
        let mut dev = Device::new(&SimConfig {
            comm_key: Some(CommKey::new(key)),
            ..SimConfig::default()
        });
        dev.set_next_session_id(0x45CF);
        let now = Instant::now();
        let c = dev.handle(
            tcp_peer(),
            &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(),
            now,
        );
        assert_eq!(c[0].packet.reply_code(), ReplyCode::AckUnauth);
        assert_eq!(c[0].packet.session_id, 0x45CF);
        let out = dev.handle(tcp_peer(), &vector(frame)[8..], now);
        assert_eq!(hex(&out[0].packet.to_bytes()), want);
    }
}

#[test]
fn unauthenticated_commands_get_unauth_only() {
    let mut r = Rig::new(
        SimConfig {
            comm_key: Some(CommKey::new(7)),
            users: 3,
            ..SimConfig::default()
        },
        tcp_peer(),
    );
    for cmd in [
        Command::GetFreeSizes,
        Command::GetTime,
        Command::PrepareBuffer,
        Command::Unlock,
        Command::Exit,
    ] {
        let p = r.one(cmd, &[]);
        assert_eq!(p.reply_code(), ReplyCode::AckUnauth, "{cmd}");
        assert!(p.data.is_empty());
    }
    assert!(!r.dev.lock_released(r.now));
    let auth = zkproto::terminal::commkey::make_key(CommKey::new(7), r.session, 0x32);
    assert_eq!(r.one(Command::Auth, &auth).reply_code(), ReplyCode::AckOk);
    assert_eq!(
        r.one(Command::GetFreeSizes, &[]).reply_code(),
        ReplyCode::AckOk
    );
}

#[test]
fn bulk_read_over_tcp_and_udp_follows_section_4() {
    for (peer, psize) in [(tcp_peer(), 65_528usize), (udp_peer(4000), 1024)] {
        let mut r = Rig::new(
            SimConfig {
                users: 70,
                ..SimConfig::default()
            },
            peer,
        );
        let table = encode_users(&r.dev.state().users);
        assert_eq!(table.len(), 5044);
        let p = r.one(Command::PrepareBuffer, &BulkRead::users().encode());
        assert_eq!(p.reply_code(), ReplyCode::AckOk);
        let d = BufferDescriptor::parse(&p.data).unwrap();
        assert_eq!(
            (d.compressed, d.size, d.original_size, d.hash),
            (0, 5044, 5044, buffer_hash(&table))
        );

        // One chunk over the whole buffer: PREPARE_DATA, DATA×n, ACK_OK, same reply id.
        let out = r.send(
            Command::ReadBuffer,
            &ReadChunk {
                offset: 0,
                len: 5044,
            }
            .encode(),
        );
        let id = r.reply;
        assert!(out.iter().all(|o| o.packet.reply_id == id));
        let prep = PrepareData::parse(&out[0].packet.data).unwrap();
        assert_eq!(out[0].packet.reply_code(), ReplyCode::PrepareData);
        assert_eq!((prep.len, prep.packet_size), (5044, Some(psize as u32)));
        let data: Vec<&Outgoing> = out[1..out.len() - 1].iter().collect();
        assert_eq!(data.len(), 5044usize.div_ceil(psize));
        let mut joined = Vec::new();
        for (i, o) in data.iter().enumerate() {
            assert_eq!(o.packet.reply_code(), ReplyCode::Data);
            assert_eq!(
                usize::from(o.packet.session_id),
                i,
                "packet index in the session slot"
            );
            assert!(o.packet.data.len() <= psize);
            joined.extend_from_slice(&o.packet.data);
        }
        assert_eq!(joined, table.to_vec());
        assert_eq!(out.last().unwrap().packet.reply_code(), ReplyCode::AckOk);

        // Small chunks come as one CMD_DATA; out-of-range chunks are refused.
        let p = r.one(
            Command::ReadBuffer,
            &ReadChunk {
                offset: 5000,
                len: 44,
            }
            .encode(),
        );
        assert_eq!(
            (p.reply_code(), &p.data[..]),
            (ReplyCode::Data, &table[5000..])
        );
        let p = r.one(
            Command::ReadBuffer,
            &ReadChunk {
                offset: 5000,
                len: 45,
            }
            .encode(),
        );
        assert_eq!(p.reply_code(), ReplyCode::AckError);
        assert_eq!(r.one(Command::FreeData, &[]).reply_code(), ReplyCode::AckOk);
        let p = r.one(
            Command::ReadBuffer,
            &ReadChunk { offset: 0, len: 8 }.encode(),
        );
        assert_eq!(
            p.reply_code(),
            ReplyCode::AckError,
            "no buffer after CMD_FREE_DATA"
        );
        let records = parse_users(&joined[4..], UserLayout::Extended72).unwrap();
        assert_eq!(records, r.dev.state().users);
    }
}

#[test]
fn small_tables_come_directly_and_empty_ones_are_refused() {
    let mut r = Rig::new(
        SimConfig {
            users: 2,
            attendance: 0,
            ..SimConfig::default()
        },
        tcp_peer(),
    );
    let p = r.one(Command::PrepareBuffer, &BulkRead::users().encode());
    assert_eq!(p.reply_code(), ReplyCode::Data);
    assert_eq!(p.data.len(), 4 + 144);
    assert_eq!(
        r.one(Command::PrepareBuffer, &BulkRead::attendance().encode())
            .reply_code(),
        ReplyCode::AckError
    );
    assert_eq!(
        r.one(Command::PrepareBuffer, &[1, 9, 0]).reply_code(),
        ReplyCode::AckError
    );
}

#[test]
fn free_sizes_match_state() {
    let mut r = Rig::new(
        SimConfig {
            users: 9,
            attendance: 33,
            ..SimConfig::default()
        },
        udp_peer(1),
    );
    let f = FreeSizes::parse(&r.one(Command::GetFreeSizes, &[]).data).unwrap();
    assert_eq!(
        (f.users, f.records, f.fingers),
        (9, 33, r.dev.state().templates.len() as i32)
    );
    assert_eq!(f.users_cap, 10_000);
    assert_eq!(f.users_av, 10_000 - 9);
    let one = r.one(Command::GetFreeSizes, &[8]);
    assert_eq!(&one.data[..], 33i32.to_le_bytes());
}

#[test]
fn user_write_follows_firmware_rules() {
    let enc = TextEncoding::Utf8;
    let mut r = Rig::new(
        SimConfig {
            users: 3,
            ..SimConfig::default()
        },
        tcp_peer(),
    );
    let mut u = User::new(UserLayout::Extended72, 50, "A-50", enc).unwrap();
    u.set_password("4321").unwrap();
    // Wrong size (a 28-byte record on a 72-byte device) is refused.
    let small = User::new(UserLayout::Compact28, 50, "50", enc).unwrap();
    assert_eq!(
        r.one(Command::UserWrq, &small.to_bytes()).reply_code(),
        ReplyCode::AckError
    );
    assert_eq!(
        r.one(Command::UserWrq, &u.to_bytes()).reply_code(),
        ReplyCode::AckOk
    );
    assert_eq!(r.dev.state().users.len(), 4);
    // Same user id, other uid: refused with 1.
    let mut other = u.clone();
    other.set_uid(51);
    let p = r.one(Command::UserWrq, &other.to_bytes());
    assert_eq!((p.reply_code(), p.session_id), (ReplyCode::AckError, 1));
    // New user id on a taken uid: refused with 2.
    let mut clash = User::new(UserLayout::Extended72, 1, "new", enc).unwrap();
    clash.set_card(5);
    let p = r.one(Command::UserWrq, &clash.to_bytes());
    assert_eq!((p.reply_code(), p.session_id), (ReplyCode::AckError, 2));
    // Same user id and uid: modified in place.
    u.set_card(777);
    assert_eq!(
        r.one(Command::UserWrq, &u.to_bytes()).reply_code(),
        ReplyCode::AckOk
    );
    assert_eq!(
        r.dev
            .state()
            .users
            .iter()
            .find(|x| x.uid() == 50)
            .unwrap()
            .card(),
        777
    );
    // Delete, then delete again.
    assert_eq!(
        r.one(Command::DeleteUser, &50u16.to_le_bytes())
            .reply_code(),
        ReplyCode::AckOk
    );
    assert_eq!(
        r.one(Command::DeleteUser, &50u16.to_le_bytes())
            .reply_code(),
        ReplyCode::AckError
    );
    assert_eq!(r.dev.state().users.len(), 3);
}

#[test]
fn retransmission_and_old_reply_ids() {
    let mut r = Rig::new(SimConfig::default(), udp_peer(9));
    let first = r.send(Command::ClearAttLog, &[]);
    let n = r.dev.commands().len();
    let again = r.dev.handle(
        r.peer,
        &Packet::new(Command::ClearAttLog, r.session, r.reply, &[][..]).to_bytes(),
        r.now,
    );
    assert_eq!(first, again);
    assert_eq!(
        r.dev.commands().len(),
        n,
        "a retransmission is not executed again"
    );
    let older = r.dev.handle(
        r.peer,
        &Packet::new(Command::GetTime, r.session, r.reply - 1, &[][..]).to_bytes(),
        r.now,
    );
    assert!(older.is_empty());
}

#[test]
fn malformed_packets_are_dropped() {
    let mut r = Rig::new(SimConfig::default(), udp_peer(2));
    let mut bad = Packet::new(Command::GetTime, r.session, 1, &[][..])
        .to_bytes()
        .to_vec();
    bad[2] ^= 1;
    assert!(r.dev.handle(r.peer, &bad, r.now).is_empty(), "bad checksum");
    assert!(
        r.dev.handle(r.peer, &bad[..5], r.now).is_empty(),
        "truncated header"
    );
    assert!(
        r.dev
            .handle(
                udp_peer(3),
                &Packet::new(Command::GetTime, r.session, 1, &[][..]).to_bytes(),
                r.now
            )
            .is_empty()
    );
    let big = Packet::new(Command::Data, r.session, 1, vec![0x5au8; 1100]).to_bytes();
    assert!(
        r.dev.handle(r.peer, &big, r.now).is_empty(),
        "UDP datagrams are cut at 1032 bytes"
    );
    assert_eq!(
        r.one(Command::Unknown(4242), &[]).reply_code(),
        ReplyCode::AckUnknown
    );
}

#[test]
fn unlock_relay_and_door_state() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    assert_eq!(&r.one(Command::DoorStateRrq, &[]).data[..], [0]);
    assert_eq!(
        r.one(Command::Unlock, &30u32.to_le_bytes()).reply_code(),
        ReplyCode::AckOk
    );
    assert!(r.dev.lock_released(r.now + Duration::from_millis(2900)));
    assert!(!r.dev.lock_released(r.now + Duration::from_secs(3)));
    r.dev.open_door(r.now);
    assert_eq!(&r.one(Command::DoorStateRrq, &[]).data[..], [1]);
}

#[test]
fn door_events_follow_the_mask() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    let mask = (EventFlag::Alarm.value() | EventFlag::Unlock.value()) as u32;
    r.one(Command::RegEvent, &mask.to_le_bytes());
    r.dev.open_door(r.now);
    r.dev.close_door();
    r.dev.press_exit_button(r.now);
    r.dev.tamper();
    let _ = r.dev.punch("1", 1, 0, r.now).unwrap();
    let ev: Vec<(u16, Vec<u8>)> = r
        .dev
        .take_pushes_for(&r.peer)
        .into_iter()
        .map(|o| (o.packet.session_id, o.packet.data.to_vec()))
        .collect();
    let alarm = EventFlag::Alarm.value();
    assert_eq!(
        ev,
        vec![
            (alarm, vec![1, 0, 0, 0, 0, 0, 0, 0]),
            (alarm, vec![54, 0, 0, 0, 0, 0, 0, 0]),
            (alarm, vec![0x35, 0, 0, 0]),
            (EventFlag::Unlock.value(), vec![]),
            (alarm, vec![0x37, 0, 0, 0]),
        ]
    );
    assert!(r.dev.lock_released(r.now));
}

#[test]
fn disable_with_timeout_and_session_end_reenable() {
    let mut r = Rig::new(SimConfig::default(), tcp_peer());
    r.one(Command::DisableDevice, &2u32.to_le_bytes());
    assert!(!r.dev.is_enabled(r.now));
    assert!(r.dev.is_enabled(r.now + Duration::from_secs(2)));
    r.one(Command::DisableDevice, &[]);
    assert!(!r.dev.is_enabled(r.now + Duration::from_secs(100)));
    r.one(Command::Exit, &[]);
    assert!(r.dev.is_enabled(r.now));
    assert_eq!(r.dev.session_count(), 0);
}

#[test]
fn faults_at_the_model_level() {
    let mut r = Rig::new(
        SimConfig {
            users: 30,
            ..SimConfig::default()
        },
        udp_peer(5),
    );
    r.dev.set_fault(Fault::ReplyWith {
        command: Command::GetTime,
        reply: ReplyCode::AckError,
    });
    assert_eq!(
        r.one(Command::GetTime, &[]).reply_code(),
        ReplyCode::AckError
    );
    r.dev.clear_faults();

    r.dev.set_fault(Fault::DropNextReply {
        command: Some(Command::GetTime),
    });
    let out = r.send(Command::GetTime, &[]);
    assert!(out[0].drop);
    let again = r.dev.handle(
        r.peer,
        &Packet::new(Command::GetTime, r.session, r.reply, &[][..]).to_bytes(),
        r.now,
    );
    assert!(!again[0].drop, "the retransmission gets the cached reply");
    assert_eq!(again[0].packet, out[0].packet);

    r.dev.set_fault(Fault::CorruptChecksum { command: None });
    let out = r.send(Command::GetTime, &[]);
    let wire = out[0].encode(zkproto::terminal::sim::Transport::Udp);
    assert!(Packet::decode(&wire, ChecksumMode::Strict).is_err());

    r.dev.set_fault(Fault::AnnounceSize(u32::MAX));
    let p = r.one(Command::PrepareBuffer, &BulkRead::users().encode());
    assert_eq!(BufferDescriptor::parse(&p.data).unwrap().size, u32::MAX);

    r.dev.set_fault(Fault::CloseMidBulk {
        after_data_packets: 1,
    });
    let out = r.send(
        Command::ReadBuffer,
        &ReadChunk {
            offset: 0,
            len: 2000,
        }
        .encode(),
    );
    assert_eq!(out.len(), 2);
    assert!(out[1].close_after);

    r.dev.set_fault(Fault::Silent);
    assert!(r.send(Command::GetTime, &[]).is_empty());
}

#[test]
fn zk6_profile_uses_28_and_16_byte_records() {
    let mut r = Rig::new(
        SimConfig {
            profile: Profile::zk6(),
            users: 5,
            attendance: 7,
            ..SimConfig::default()
        },
        udp_peer(6),
    );
    let p = r.one(Command::PrepareBuffer, &BulkRead::users().encode());
    assert_eq!(p.data.len(), 4 + 5 * 28);
    let p = r.one(Command::PrepareBuffer, &BulkRead::attendance().encode());
    assert_eq!(p.data.len(), 4 + 7 * 16);
    r.one(Command::RegEvent, &1u32.to_le_bytes());
    let _ = r.dev.punch("1002", 2, 1, r.now).unwrap();
    let ev = r.dev.take_udp_pushes();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].1.packet.data.len(), 12);
    assert_eq!(&ev[0].1.packet.data[..6], [0xea, 0x03, 0, 0, 2, 1]);
}

#[test]
fn upload_then_template_write_and_read() {
    let mut r = Rig::new(
        SimConfig {
            users: 2,
            ..SimConfig::default()
        },
        tcp_peer(),
    );
    let tmpl = vec![0x4d, 0xfd, b'S', b'S', b'2', b'1', 9, 9, 9];
    assert_eq!(
        r.one(Command::PrepareData, &(tmpl.len() as u32).to_le_bytes())
            .reply_code(),
        ReplyCode::AckOk
    );
    assert_eq!(r.one(Command::Data, &tmpl).reply_code(), ReplyCode::AckOk);
    let h = r.one(Command::ChecksumBuffer, &[]);
    assert_eq!(&h.data[..], buffer_hash(&tmpl).to_le_bytes());
    let hdr = [2, 0, 6, 1, tmpl.len() as u8, 0];
    assert_eq!(
        r.one(Command::TmpWrite, &hdr).reply_code(),
        ReplyCode::AckOk
    );
    let got = r.one(Command::GetUserTemp, &[2, 0, 6]);
    assert_eq!(&got.data[..tmpl.len()], &tmpl[..]);
    assert_eq!(got.data.last(), Some(&1));
    assert_eq!(
        r.one(Command::DeleteUserTemp, &[2, 0, 6]).reply_code(),
        ReplyCode::AckOk
    );
    assert_eq!(
        r.one(Command::GetUserTemp, &[2, 0, 6]).reply_code(),
        ReplyCode::AckError
    );
}

fn command_strategy() -> impl Strategy<Value = u16> {
    prop_oneof![
        8 => proptest::sample::select(Command::ALL.iter().map(|c| c.value()).collect::<Vec<_>>()),
        1 => any::<u16>(),
        1 => Just(ReplyCode::AckOk.value()),
    ]
}

fn data_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        Just(BulkRead::users().encode().to_vec()),
        Just(BulkRead::attendance().encode().to_vec()),
        Just(BulkRead::templates().encode().to_vec()),
        (any::<u32>(), any::<u32>()).prop_map(|(o, l)| ReadChunk {
            offset: o % 8000,
            len: l % 70_000
        }
        .encode()
        .to_vec()),
        proptest::collection::vec(any::<u8>(), 72..=72),
        proptest::collection::vec(any::<u8>(), 28..=28),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Packet {
        peer: u8,
        code: u16,
        data: Vec<u8>,
        reply: u16,
        right_session: bool,
    },
    Raw {
        peer: u8,
        bytes: Vec<u8>,
    },
    Control(u8),
    Wait(u16),
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0u8..3, command_strategy(), data_strategy(), 0u16..40, proptest::bool::weighted(0.9))
            .prop_map(|(peer, code, data, reply, right_session)| Step::Packet { peer, code, data, reply, right_session }),
        1 => (0u8..3, proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(peer, bytes)| Step::Raw { peer, bytes }),
        1 => (0u8..8).prop_map(Step::Control),
        1 => any::<u16>().prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any sequence of requests never panics the device, and every reply it
    /// produces is a well-formed packet answering the request's reply id.
    #[test]
    fn no_request_sequence_panics(
        steps in proptest::collection::vec(step_strategy(), 1..60),
        profile in prop_oneof![Just(Profile::zk8()), Just(Profile::zk6())],
        key in proptest::option::of(1u32..5),
    ) {
        let mut dev = Device::new(&SimConfig { profile, users: 6, attendance: 12, comm_key: key.map(CommKey::new), ..SimConfig::default() });
        let peers = [PeerKey::Tcp(1), udp_peer(7000), udp_peer(7001)];
        let mut now = Instant::now();
        let mut sessions = [0u16; 3];
        for step in steps {
            match step {
                Step::Packet { peer, code, data, reply, right_session } => {
                    let i = usize::from(peer);
                    let session = if right_session { sessions[i] } else { sessions[i] ^ 0x55 };
                    let p = Packet::new(code, session, reply, data);
                    let out = dev.handle(peers[i], &p.to_bytes(), now);
                    for o in &out {
                        let bytes = o.packet.to_bytes();
                        prop_assert!(Packet::decode(&bytes, ChecksumMode::Strict).is_ok());
                        if o.packet.code != Command::RegEvent.value() {
                            prop_assert_eq!(o.packet.reply_id, reply);
                        }
                    }
                    if let Some(o) = out.first().filter(|_| code == Command::Connect.value()) {
                        sessions[i] = o.packet.session_id;
                    }
                }
                Step::Raw { peer, bytes } => {
                    let _ = dev.handle(peers[usize::from(peer)], &bytes, now);
                }
                Step::Control(c) => match c {
                    0 => { let _ = dev.punch("1001", 1, 0, now); }
                    1 => dev.open_door(now),
                    2 => dev.close_door(),
                    3 => dev.press_exit_button(now),
                    4 => dev.tamper(),
                    5 => dev.disconnect(&peers[0]),
                    6 => { let _ = dev.take_udp_pushes(); let _ = dev.take_pushes_for(&peers[0]); }
                    _ => dev.tick(now),
                },
                Step::Wait(ms) => now += Duration::from_millis(u64::from(ms)),
            }
        }
    }
}

#[test]
fn events_decode_with_the_record_module() {
    use zkproto::terminal::record::event::{Alarm, Event};
    for profile in [Profile::zk8(), Profile::zk6()] {
        let mut r = Rig::new(
            SimConfig {
                profile,
                users: 3,
                ..SimConfig::default()
            },
            udp_peer(8),
        );
        r.one(Command::RegEvent, &u32::MAX.to_le_bytes());
        let _ = r.dev.punch("1002", 1, 0, r.now).unwrap();
        r.dev.close_door();
        r.dev.open_door(r.now);
        r.dev.close_door();
        r.dev.tamper();
        let events: Vec<Event> = r
            .dev
            .take_udp_pushes()
            .iter()
            .map(|(_, o)| {
                Event::from_packet(&o.packet, TextEncoding::Utf8).expect("an event packet")
            })
            .collect();
        let flags: Vec<EventFlag> = events.iter().map(Event::flag).collect();
        assert_eq!(
            flags,
            [
                EventFlag::Verify,
                EventFlag::AttLog,
                EventFlag::Alarm,
                EventFlag::Alarm,
                EventFlag::Alarm
            ]
        );
        assert!(
            matches!(events[3], Event::Alarm(Alarm::DoorClosed { code: 54 })),
            "{:?}",
            events[3]
        );
        assert!(
            matches!(events[4], Event::Alarm(Alarm::Tamper)),
            "{:?}",
            events[4]
        );
    }
}
