//! The panel simulator's device model (`panel::sim::Device::handle`) fed
//! arbitrary frames and bytes.
//!
//! Input: a configuration byte (firmware, doors, password, foreign-byte
//! policy, transport), a session id, then a script: each step is raw bytes
//! handed to `handle` as they are, a well-formed session-less frame, a frame
//! with a session header (the session id the device will hand out, and a
//! running message number) whose command and payload come from the input, or
//! a clock step.
//!
//! Properties: no panic; every frame the device sends encodes, and its wire
//! bytes (after any configured garbage, unless the CRC is corrupted on
//! purpose) decode back to the same frame; replies fit the frame limit; the
//! number of frames per request stays bounded.

use crate::util::Input;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use zkproto::panel::frame::{DEFAULT_ADDRESS, MAX_DATA};
use zkproto::panel::session::SessionHeader;
use zkproto::panel::sim::{Device, ForeignBytes, Outgoing, PeerKey, Profile, SimConfig};
use zkproto::panel::{Command, Frame};

const MAX_OUT_PER_REQUEST: usize = 10_000;
const MAX_STEPS: usize = 64;

/// Runs the panel simulator check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let cfg = input.u8();
    let session_id = input.u16();
    let doors = [1, 2, 4, 4][usize::from(cfg & 3)];
    let mut profile = if cfg & 4 == 0 {
        Profile::new_firmware(doors)
    } else {
        Profile::old_firmware(doors)
    };
    profile.foreign_bytes = match (cfg >> 3) & 3 {
        0 => ForeignBytes::Ignore,
        1 => ForeignBytes::Close,
        _ => ForeignBytes::ErrorReply,
    };
    let config = SimConfig {
        profile,
        password: (cfg & 0x20 != 0).then(|| "1234".to_string()),
        users: 3,
        transactions: 5,
        seed: u64::from(session_id),
        ..SimConfig::default()
    };
    let mut dev = Device::new(&config);
    dev.set_next_session_id(session_id);
    let peer = if cfg & 0x40 == 0 {
        PeerKey::Tcp(1)
    } else {
        PeerKey::Udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000)))
    };
    let mut now = Instant::now();
    let mut message = 0u16;
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let out = match op & 3 {
            0 => {
                let n = usize::from(input.u8());
                let raw = input.take(n);
                dev.handle(peer, raw, now)
            }
            1 | 2 => {
                let command = Command::from(input.u8());
                let n = usize::from(input.u16() % 2048);
                let payload = input.take(n);
                let mut body = Vec::with_capacity(payload.len() + SessionHeader::LEN);
                if op & 3 == 2 {
                    message = message.wrapping_add(1);
                    body.extend_from_slice(&SessionHeader::new(session_id, message).to_bytes());
                }
                body.extend_from_slice(payload);
                let frame = Frame::new(DEFAULT_ADDRESS, command, body);
                let bytes = frame.to_bytes().expect("a small frame encodes");
                dev.handle(peer, &bytes, now)
            }
            _ => {
                now += Duration::from_millis(u64::from(input.u8()) * 100);
                dev.tick(now);
                Vec::new()
            }
        };
        check_replies(&out);
    }
}

fn check_replies(out: &[Outgoing]) {
    assert!(
        out.len() <= MAX_OUT_PER_REQUEST,
        "device sent {} frames for one request",
        out.len()
    );
    for o in out {
        assert!(
            o.frame.data.len() <= MAX_DATA,
            "reply of {} bytes does not fit a frame",
            o.frame.data.len()
        );
        let bytes = o.frame.to_bytes().expect("a reply encodes");
        assert_eq!(
            Frame::decode(&bytes).as_ref(),
            Ok(&o.frame),
            "reply does not decode back to itself"
        );
        let wire = o.encode();
        if o.drop {
            assert!(wire.is_empty(), "a dropped reply has wire bytes");
            continue;
        }
        let Some(framed) = wire.get(o.garbage.len()..) else {
            panic!("wire bytes shorter than the garbage before the frame");
        };
        if o.corrupt_crc {
            assert!(
                Frame::decode(framed).is_err(),
                "a reply with a corrupted CRC still decodes"
            );
        } else {
            assert_eq!(framed, &bytes[..], "wire bytes differ from the frame");
        }
    }
}
