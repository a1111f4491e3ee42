//! The simulator's pure device model (`terminal::sim::Device::handle`) fed
//! arbitrary client packets.
//!
//! Input: a configuration byte (profile, comm key, transport), then a
//! script: each step is either raw bytes handed to `handle` as they are, or a
//! well-formed packet whose command, session id, reply id and data come from
//! the input (so the fuzzer gets past the checksum and the session checks).
//!
//! Properties: no panic; every packet the device sends encodes and decodes
//! back to itself; replies carry the request's reply id (events carry
//! reply id 0 and code 500); UDP replies fit a datagram; the number of
//! packets per request stays bounded.

use crate::util::Input;
use std::time::{Duration, Instant};
use zkproto::terminal::commkey::{CommKey, DEFAULT_TICK, make_key};
use zkproto::terminal::frame::decode_udp;
use zkproto::terminal::sim::{Device, Outgoing, PeerKey, Profile, SimConfig, Transport};
use zkproto::terminal::{ChecksumMode, Command, Packet, ReplyCode};

/// Commands the script picks from (most of the protocol), plus any u16.
const COMMANDS: [Command; 28] = [
    Command::Connect,
    Command::Exit,
    Command::Auth,
    Command::EnableDevice,
    Command::DisableDevice,
    Command::GetTime,
    Command::SetTime,
    Command::GetFreeSizes,
    Command::OptionsRrq,
    Command::OptionsWrq,
    Command::PrepareBuffer,
    Command::ReadBuffer,
    Command::FreeData,
    Command::PrepareData,
    Command::Data,
    Command::UserWrq,
    Command::DeleteUser,
    Command::UserTempRrq,
    Command::AttLogRrq,
    Command::ClearAttLog,
    Command::RegEvent,
    Command::Unlock,
    Command::DoorStateRrq,
    Command::RefreshData,
    Command::DbRrq,
    Command::OpLogRrq,
    Command::TmpWrite,
    Command::ClearData,
];

const MAX_OUT_PER_REQUEST: usize = 70_000;

/// Runs the simulator check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let cfg = input.u8();
    let profile = if cfg & 1 == 0 {
        Profile::zk8()
    } else {
        Profile::zk6()
    };
    let key = (cfg & 2 != 0).then(|| CommKey::new(u32::from(input.u16())));
    let config = SimConfig {
        profile,
        comm_key: key,
        users: usize::from(cfg >> 4),
        attendance: usize::from(cfg >> 3) * 7,
        ..SimConfig::default()
    };
    let mut dev = Device::new(&config);
    let peer = if cfg & 4 != 0 {
        PeerKey::Udp(std::net::SocketAddr::from(([127, 0, 0, 1], 4000)))
    } else {
        PeerKey::Tcp(1)
    };
    let transport = peer.transport();
    let mut now = Instant::now();
    let mut session_id = 0u16;
    let mut reply_id = 0u16;
    let mut steps = 0usize;
    while !input.is_empty() && steps < 64 {
        steps += 1;
        let action = input.u8();
        now += Duration::from_millis(u64::from(action & 0x0F) * 50);
        let (request, bytes) = if action & 0xC0 == 0xC0 {
            // Raw bytes, as received.
            let n = usize::from(input.u8());
            let raw = input.take(n).to_vec();
            (Packet::decode(&raw, ChecksumMode::Strict).ok(), raw)
        } else {
            let code = match input.u8() {
                b @ 0..=0xDF => COMMANDS[usize::from(b) % COMMANDS.len()].value(),
                _ => input.u16(),
            };
            let sid = if action & 0x10 != 0 {
                input.u16()
            } else {
                session_id
            };
            reply_id = match action & 0x20 {
                0 => reply_id.wrapping_add(1),
                _ => input.u16(),
            };
            let data = if code == Command::Auth.value() && action & 0x80 != 0 {
                make_key(key.unwrap_or_default(), session_id, DEFAULT_TICK).to_vec()
            } else {
                let n = usize::from(input.u8());
                let n = if n >= 0xF0 { (n - 0xEF) * 200 } else { n };
                let mut d = input.take(n).to_vec();
                d.resize(n, 0);
                d
            };
            let p = Packet::new(code, sid, reply_id, data);
            let bytes = p.to_bytes().to_vec();
            (Some(p), bytes)
        };
        let out = dev.handle(peer, &bytes, now);
        assert!(
            out.len() <= MAX_OUT_PER_REQUEST,
            "{} packets for one request",
            out.len()
        );
        for o in &out {
            check_outgoing(o, transport, request.as_ref());
            if o.packet.reply_code() == ReplyCode::AckOk
                && request
                    .as_ref()
                    .is_some_and(|r| r.command() == Command::Connect)
            {
                session_id = o.packet.session_id;
            }
        }
        for o in dev.take_pushes_for(&peer) {
            check_outgoing(&o, transport, None);
        }
        if transport == Transport::Udp {
            for (_, o) in dev.take_udp_pushes() {
                check_outgoing(&o, transport, None);
            }
        }
    }
    let _ = (
        dev.session_count(),
        dev.commands().len(),
        dev.free_sizes_now(),
        dev.time(now),
        format!("{dev:?}"),
    );
    dev.disconnect(&peer);
}

fn check_outgoing(o: &Outgoing, transport: Transport, request: Option<&Packet>) {
    let p = &o.packet;
    let wire = o.encode(transport);
    if !o.corrupt_checksum {
        let back = match transport {
            Transport::Udp => decode_udp(&wire, ChecksumMode::Strict),
            Transport::Tcp => match zkproto::terminal::frame::TcpFraming::default()
                .decode(&wire, ChecksumMode::Strict)
            {
                Ok(Some((q, used))) => {
                    assert_eq!(used, wire.len());
                    Ok(q)
                }
                Ok(None) => panic!("device frame is incomplete"),
                Err(e) => Err(e),
            },
        };
        assert_eq!(
            back.as_ref(),
            Ok(p),
            "device packet does not decode back to itself"
        );
    }
    if transport == Transport::Udp {
        assert!(wire.len() <= 65_507, "UDP reply of {} bytes", wire.len());
    }
    if p.is_event() {
        assert_eq!(p.reply_id, 0, "event with a reply id");
    } else if let Some(r) = request {
        assert_eq!(
            p.reply_id, r.reply_id,
            "reply {p:?} to {r:?} carries another reply id"
        );
    }
}
