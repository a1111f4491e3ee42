//! The sans-IO session driven against the simulator's pure device model,
//! without a runtime, sockets or clock: packets are handed over by hand,
//! lost, reordered or duplicated at will.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use zkproto::terminal::command::{Command, EventFlag, EventMask, ReplyCode};
use zkproto::terminal::packet::Packet;
use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
use zkproto::terminal::record::bulk::{BulkRead, split_table};
use zkproto::terminal::record::user::{UserLayout, parse_users};
use zkproto::terminal::request::Request;
use zkproto::terminal::session::{
    BulkLimits, BulkReader, ConnectState, Incoming, RecordSplitter, Session, SessionError,
    WaitPolicy,
};
use zkproto::terminal::sim::{Fault, PeerKey, Profile, SimConfig, Simulator};

const WAIT: WaitPolicy = WaitPolicy {
    timeout: Duration::from_secs(1),
    retries: 2,
};

struct Rig {
    sim: Simulator,
    peer: PeerKey,
    s: Session,
    now: Instant,
}

impl Rig {
    fn new(profile: Profile, users: usize, attendance: usize) -> Rig {
        let sim = Simulator::new(SimConfig {
            profile,
            users,
            attendance,
            ..SimConfig::default()
        });
        let addr: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let mut r = Rig {
            sim,
            peer: PeerKey::Udp(addr),
            s: Session::new(),
            now: Instant::now(),
        };
        let connect = r.s.connect(r.now, WAIT);
        let replies = r.device(&connect);
        let Incoming::Reply(reply) = r.s.receive(replies[0].clone()) else {
            panic!("no connect reply")
        };
        assert_eq!(r.s.on_connect_reply(&reply).unwrap(), ConnectState::Ready);
        r.s.finish();
        assert_ne!(r.s.session_id(), 0);
        r
    }

    /// The device's answer to one packet.
    fn device(&mut self, p: &Packet) -> Vec<Packet> {
        let (peer, now) = (self.peer, self.now);
        let bytes = p.to_bytes();
        self.sim
            .with_device(|d| d.handle(peer, &bytes, now))
            .into_iter()
            .filter(|o| !o.drop)
            .map(|o| o.packet)
            .collect()
    }

    /// Runs a bulk read; `tamper` may drop or change the packets of each answer.
    fn bulk(
        &mut self,
        read: BulkRead,
        limits: BulkLimits,
        mut tamper: impl FnMut(usize, &mut Vec<Packet>),
    ) -> Result<Vec<u8>, SessionError> {
        let mut r = BulkReader::new(read, limits);
        let p = self.s.send(r.prepare_request(), self.now, WAIT);
        let mut inbox: VecDeque<Packet> = self.device(&p).into();
        let mut out = Vec::new();
        let mut exchange = 0;
        loop {
            let Some(pkt) = inbox.pop_front() else {
                // Silence: the timeout path.
                self.now += WAIT.timeout;
                let again = self.s.on_timeout(self.now)?;
                inbox.extend(self.device(&again));
                continue;
            };
            let Incoming::Reply(p) = self.s.receive(pkt) else {
                continue;
            };
            let step = r.on_packet(&p)?;
            if let Some(d) = step.data {
                out.extend_from_slice(&d);
            }
            if step.done {
                self.s.finish();
                match r.next_request()? {
                    Some(req) => {
                        exchange += 1;
                        let p = self.s.send(req, self.now, WAIT);
                        let mut answer = self.device(&p);
                        tamper(exchange, &mut answer);
                        inbox.extend(answer);
                    }
                    None => break,
                }
            }
        }
        assert_eq!(r.delivered() as usize, out.len());
        assert_eq!(Some(out.len() as u32), r.size());
        let free = self.s.send(r.free_request(), self.now, WAIT);
        let ack = self.device(&free);
        assert!(matches!(self.s.receive(ack[0].clone()), Incoming::Reply(_)));
        self.s.finish();
        Ok(out)
    }
}

fn limits(chunk: u32) -> BulkLimits {
    BulkLimits {
        chunk_size: chunk,
        ..BulkLimits::default()
    }
}

#[test]
fn users_in_many_chunks_match_the_device() {
    for (profile, layout) in [
        (Profile::zk8(), UserLayout::Extended72),
        (Profile::zk6(), UserLayout::Compact28),
    ] {
        let mut r = Rig::new(profile, 300, 0);
        for chunk in [500, 1024, 3000, 0xFFC0] {
            let buf = r.bulk(BulkRead::users(), limits(chunk), |_, _| {}).unwrap();
            let (_, records) = split_table(&buf).unwrap();
            assert_eq!(parse_users(records, layout).unwrap(), r.sim.users());
        }
    }
}

#[test]
fn a_lost_burst_packet_is_asked_for_again() {
    let mut r = Rig::new(Profile::zk8(), 5, 400);
    // Drop the second CMD_DATA of the first chunk's burst.
    let buf = r
        .bulk(BulkRead::attendance(), limits(8000), |exchange, answer| {
            if exchange == 1 {
                let idx = answer
                    .iter()
                    .position(|p| p.reply_code() == ReplyCode::Data && p.session_id == 1)
                    .unwrap();
                answer.remove(idx);
            }
        })
        .unwrap();
    let (_, records) = split_table(&buf).unwrap();
    let parsed: Vec<Attendance> = records
        .chunks(40)
        .map(|rec| Attendance::parse(rec, AttendanceLayout::Tft40).unwrap())
        .collect();
    assert_eq!(parsed, r.sim.attendance());
}

#[test]
fn reordered_burst_packets_are_not_delivered_out_of_order() {
    let mut r = Rig::new(Profile::zk8(), 5, 400);
    let buf = r
        .bulk(BulkRead::attendance(), limits(6000), |exchange, answer| {
            if exchange == 1 {
                let a = answer
                    .iter()
                    .position(|p| p.reply_code() == ReplyCode::Data && p.session_id == 1)
                    .unwrap();
                answer.swap(a, a + 1);
            }
        })
        .unwrap();
    let (_, records) = split_table(&buf).unwrap();
    let parsed: Vec<Attendance> = records
        .chunks(40)
        .map(|rec| Attendance::parse(rec, AttendanceLayout::Tft40).unwrap())
        .collect();
    assert_eq!(parsed, r.sim.attendance());
}

#[test]
fn a_silent_chunk_is_retransmitted_with_the_same_reply_id() {
    let mut r = Rig::new(Profile::zk8(), 5, 100);
    let before = r.s.stats().retransmissions;
    let mut dropped = false;
    let buf = r
        .bulk(BulkRead::attendance(), limits(0xFFC0), |_, answer| {
            if !dropped {
                dropped = true;
                answer.clear();
            }
        })
        .unwrap();
    assert_eq!(buf.len(), 4 + 100 * 40);
    assert_eq!(r.s.stats().retransmissions, before + 1);
    // The device executed the 1504 once: the retransmission got the cached reply.
    let reads = r
        .sim
        .commands()
        .iter()
        .filter(|c| **c == Command::ReadBuffer)
        .count();
    assert_eq!(reads, 1);
}

#[test]
fn absurd_descriptor_is_refused() {
    let mut r = Rig::new(Profile::zk8(), 5, 100);
    r.sim.set_fault(Fault::AnnounceSize(0x7FFF_FFFF));
    let e = r
        .bulk(
            BulkRead::attendance(),
            BulkLimits {
                max_bulk: 1 << 20,
                ..limits(1024)
            },
            |_, _| {},
        )
        .unwrap_err();
    assert_eq!(
        e,
        SessionError::TooLarge {
            what: "buffer descriptor",
            announced: 0x7FFF_FFFF,
            limit: 1 << 20
        }
    );
}

#[test]
fn events_are_demultiplexed_and_acknowledged() {
    let mut r = Rig::new(Profile::zk8(), 5, 0);
    let reg = r.s.send(
        Request::reg_event(EventMask::empty().with(EventFlag::AttLog)),
        r.now,
        WAIT,
    );
    let ack = r.device(&reg);
    assert!(matches!(r.s.receive(ack[0].clone()), Incoming::Reply(_)));
    r.s.finish();
    // A request is outstanding when the event arrives.
    let get_time = r.s.send(Request::get_time(), r.now, WAIT);
    r.sim.punch("1002", 1, 0);
    let peer = r.peer;
    let events: Vec<Packet> = r
        .sim
        .with_device(|d| d.take_pushes_for(&peer))
        .into_iter()
        .map(|o| o.packet)
        .collect();
    assert_eq!(events.len(), 1);
    let reply = r.device(&get_time);
    assert_eq!(r.s.receive(events[0].clone()), Incoming::Event);
    let Incoming::Reply(p) = r.s.receive(reply[0].clone()) else {
        panic!()
    };
    assert_eq!(p.reply_id, get_time.reply_id);
    r.s.finish();
    let ev = r.s.pop_event().unwrap();
    assert_eq!(ev.event_flag(), EventFlag::AttLog);
    let ack = r.s.event_ack(&ev);
    assert_eq!(
        (ack.reply_code(), ack.session_id, ack.reply_id),
        (ReplyCode::AckOk, r.s.session_id(), ev.reply_id)
    );
    assert!(
        r.device(&ack).is_empty(),
        "the device accepts the ACK silently"
    );
}

#[test]
fn stale_and_duplicate_replies_are_discarded() {
    let mut r = Rig::new(Profile::zk8(), 5, 0);
    let first = r.s.send(Request::get_time(), r.now, WAIT);
    let late = r.device(&first);
    r.s.finish();
    let second = r.s.send(Request::get_version(), r.now, WAIT);
    let reply = r.device(&second);
    assert_eq!(r.s.receive(late[0].clone()), Incoming::Stale);
    let Incoming::Reply(p) = r.s.receive(reply[0].clone()) else {
        panic!()
    };
    assert!(String::from_utf8_lossy(&p.data).starts_with("Ver "));
    r.s.finish();
    assert_eq!(r.s.receive(reply[0].clone()), Incoming::Stale);
    assert_eq!(r.s.stats().stale_discarded, 2);
}

#[test]
fn attendance_records_split_across_every_piece_boundary() {
    let mut r = Rig::new(Profile::zk6(), 5, 50);
    let buf = r
        .bulk(BulkRead::attendance(), limits(700), |_, _| {})
        .unwrap();
    let want = r.sim.attendance();
    for piece in [1, 3, 15, 16, 17, 700] {
        let mut s = RecordSplitter::new();
        let mut got = Vec::new();
        for part in buf.chunks(piece) {
            s.push(
                part,
                |total| Ok(AttendanceLayout::detect(total as usize, Some(50))?.record_len()),
                |rec| got.push(Attendance::parse(rec, AttendanceLayout::Extended16).unwrap()),
            )
            .unwrap();
            assert!(s.buffered() < 16);
        }
        s.finish().unwrap();
        assert_eq!(got, want);
    }
}

#[test]
fn comm_key_handshake() {
    use zkproto::terminal::commkey::{CommKey, DEFAULT_TICK};
    let sim = Simulator::new(SimConfig {
        comm_key: Some(CommKey::new(45)),
        ..SimConfig::default()
    });
    let mut r = Rig {
        sim,
        peer: PeerKey::Udp("192.0.2.8:1".parse().unwrap()),
        s: Session::new(),
        now: Instant::now(),
    };
    let c = r.s.connect(r.now, WAIT);
    let reply = r.device(&c);
    let Incoming::Reply(reply) = r.s.receive(reply[0].clone()) else {
        panic!()
    };
    assert_eq!(
        r.s.on_connect_reply(&reply).unwrap(),
        ConnectState::NeedsAuth
    );
    r.s.finish();
    let refused = r.s.send(Request::get_time(), r.now, WAIT);
    let answer = r.device(&refused);
    let Incoming::Reply(p) = r.s.receive(answer[0].clone()) else {
        panic!()
    };
    assert_eq!(p.reply_code(), ReplyCode::AckUnauth);
    r.s.finish();
    let auth = r.s.send(
        Request::auth(CommKey::new(45), r.s.session_id(), DEFAULT_TICK),
        r.now,
        WAIT,
    );
    let answer = r.device(&auth);
    let Incoming::Reply(p) = r.s.receive(answer[0].clone()) else {
        panic!()
    };
    assert_eq!(p.reply_code(), ReplyCode::AckOk);
    r.s.finish();
    let ok = r.s.send(Request::get_time(), r.now, WAIT);
    let answer = r.device(&ok);
    let Incoming::Reply(p) = r.s.receive(answer[0].clone()) else {
        panic!()
    };
    assert_eq!((p.reply_code(), p.data.len()), (ReplyCode::AckOk, 4));
}
