//! The simulator's tokio servers, driven with raw frames over real sockets:
//! bulk reads over TCP and UDP, realtime events, faults, session end,
//! relay timing, persistence, and a one-million-record attendance log.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::codec::Framed;
use zkproto::terminal::codec::TcpCodec;
use zkproto::terminal::record::attendance::{AttendanceLayout, parse_attendance};
use zkproto::terminal::record::bulk::{
    BufferDescriptor, BulkRead, PrepareData, ReadChunk, buffer_hash,
};
use zkproto::terminal::record::user::{UserLayout, parse_users};
use zkproto::terminal::sim::{Fault, Pacing, Profile, SimConfig, Simulator};
use zkproto::terminal::{ChecksumMode, Command, EventFlag, Packet, ReplyCode};

const T: Duration = Duration::from_secs(10);

fn local() -> Option<SocketAddr> {
    "127.0.0.1:0".parse().ok()
}

struct Tcp {
    io: Framed<TcpStream, TcpCodec>,
    session: u16,
    reply: u16,
}

impl Tcp {
    async fn connect(addr: SocketAddr) -> Tcp {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut t = Tcp {
            io: Framed::new(stream, TcpCodec::with_max_packet(1 << 20)),
            session: 0,
            reply: 0,
        };
        t.io.send(Packet::new(Command::Connect, 0, 0, &[][..]))
            .await
            .expect("send");
        let p = t.recv().await.expect("connect reply");
        assert_eq!(p.reply_code(), ReplyCode::AckOk);
        t.session = p.session_id;
        t
    }

    async fn recv(&mut self) -> Option<Packet> {
        match tokio::time::timeout(T, self.io.next())
            .await
            .expect("reply in time")
        {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => panic!("bad frame: {e}"),
            None => None,
        }
    }

    async fn send(&mut self, cmd: Command, data: &[u8]) -> u16 {
        self.reply += 1;
        self.io
            .send(Packet::new(cmd, self.session, self.reply, data.to_vec()))
            .await
            .expect("send");
        self.reply
    }

    async fn call(&mut self, cmd: Command, data: &[u8]) -> Packet {
        let id = self.send(cmd, data).await;
        let p = self.recv().await.expect("reply");
        assert_eq!(p.reply_id, id);
        p
    }

    /// 1503 + 1504 chunks (+ burst reassembly) + 1502.
    async fn read_table(&mut self, req: BulkRead, chunk: u32) -> Vec<u8> {
        let p = self.call(Command::PrepareBuffer, &req.encode()).await;
        if p.reply_code() == ReplyCode::Data {
            return p.data.to_vec();
        }
        let d = BufferDescriptor::parse(&p.data).expect("descriptor");
        let mut out = Vec::with_capacity(d.size as usize);
        while (out.len() as u32) < d.size {
            let len = chunk.min(d.size - out.len() as u32);
            let id = self
                .send(
                    Command::ReadBuffer,
                    &ReadChunk {
                        offset: out.len() as u32,
                        len,
                    }
                    .encode(),
                )
                .await;
            let first = self.recv().await.expect("chunk reply");
            assert_eq!(first.reply_id, id);
            if first.reply_code() == ReplyCode::Data {
                out.extend_from_slice(&first.data);
                continue;
            }
            assert_eq!(first.reply_code(), ReplyCode::PrepareData);
            assert_eq!(PrepareData::parse(&first.data).unwrap().len, len);
            let mut index = 0u16;
            loop {
                let p = self.recv().await.expect("burst packet");
                assert_eq!(p.reply_id, id);
                if p.reply_code() == ReplyCode::AckOk {
                    break;
                }
                assert_eq!(p.reply_code(), ReplyCode::Data);
                assert_eq!(p.session_id, index);
                index = index.wrapping_add(1);
                out.extend_from_slice(&p.data);
            }
        }
        assert_eq!(buffer_hash(&out), d.hash);
        assert_eq!(
            self.call(Command::FreeData, &[]).await.reply_code(),
            ReplyCode::AckOk
        );
        out
    }
}

struct Udp {
    sock: UdpSocket,
    to: SocketAddr,
    session: u16,
    reply: u16,
}

impl Udp {
    async fn connect(to: SocketAddr) -> Udp {
        let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let mut u = Udp {
            sock,
            to,
            session: 0,
            reply: 0,
        };
        u.raw(Packet::new(Command::Connect, 0, 0, &[][..])).await;
        let p = u.recv(T).await.expect("connect reply");
        u.session = p.session_id;
        u
    }

    async fn raw(&self, p: Packet) {
        self.sock
            .send_to(&p.to_bytes(), self.to)
            .await
            .expect("send");
    }

    async fn recv(&self, wait: Duration) -> Option<Packet> {
        let mut buf = vec![0u8; 2048];
        let n = tokio::time::timeout(wait, self.sock.recv(&mut buf))
            .await
            .ok()?
            .expect("recv");
        Some(Packet::decode(&buf[..n], ChecksumMode::Strict).expect("valid datagram"))
    }

    async fn call(&mut self, cmd: Command, data: &[u8]) -> Packet {
        self.reply += 1;
        self.raw(Packet::new(cmd, self.session, self.reply, data.to_vec()))
            .await;
        self.recv(T).await.expect("reply")
    }
}

#[tokio::test]
async fn tcp_bulk_read_of_users_and_attendance() {
    let sim = Simulator::new(SimConfig {
        users: 120,
        attendance: 3000,
        ..SimConfig::default()
    });
    let server = sim.serve(local(), local()).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    let users = c.read_table(BulkRead::users(), 0xFFC0).await;
    assert_eq!(
        parse_users(&users[4..], UserLayout::Extended72).unwrap(),
        sim.users()
    );
    let att = c.read_table(BulkRead::attendance(), 50_000).await;
    assert_eq!(
        parse_attendance(&att[4..], AttendanceLayout::Tft40).unwrap(),
        sim.attendance()
    );
    assert_eq!(
        c.call(Command::Exit, &[]).await.reply_code(),
        ReplyCode::AckOk
    );
    server.shutdown().await;
}

#[tokio::test]
async fn udp_bulk_read_on_zk6() {
    let sim = Simulator::new(SimConfig {
        profile: Profile::zk6(),
        users: 200,
        attendance: 900,
        ..SimConfig::default()
    });
    let server = sim.serve(local(), local()).await.unwrap();
    assert_eq!(server.tcp_addr(), None, "zk6 has no TCP");
    let mut c = Udp::connect(server.udp_addr().unwrap()).await;
    let p = c
        .call(Command::PrepareBuffer, &BulkRead::attendance().encode())
        .await;
    let d = BufferDescriptor::parse(&p.data).unwrap();
    assert_eq!(d.size, 4 + 900 * 16);
    let mut buf = Vec::new();
    while (buf.len() as u32) < d.size {
        let len = 16_384.min(d.size - buf.len() as u32);
        let first = c
            .call(
                Command::ReadBuffer,
                &ReadChunk {
                    offset: buf.len() as u32,
                    len,
                }
                .encode(),
            )
            .await;
        if first.reply_code() == ReplyCode::Data {
            buf.extend_from_slice(&first.data);
            continue;
        }
        assert_eq!(
            PrepareData::parse(&first.data).unwrap().packet_size,
            Some(1024)
        );
        loop {
            let p = c.recv(T).await.expect("burst datagram");
            if p.reply_code() == ReplyCode::AckOk {
                break;
            }
            assert!(p.data.len() <= 1024);
            buf.extend_from_slice(&p.data);
        }
    }
    assert_eq!(
        parse_attendance(&buf[4..], AttendanceLayout::Extended16).unwrap(),
        sim.attendance()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn events_over_tcp_and_udp_with_acks() {
    let sim = Simulator::new(SimConfig {
        users: 5,
        ..SimConfig::default()
    });
    let server = sim.serve(local(), local()).await.unwrap();
    let mut t = Tcp::connect(server.tcp_addr().unwrap()).await;
    let mut u = Udp::connect(server.udp_addr().unwrap()).await;
    let mask = u32::from(EventFlag::AttLog.value() | EventFlag::Alarm.value());
    t.call(Command::RegEvent, &mask.to_le_bytes()).await;
    u.call(Command::RegEvent, &1u32.to_le_bytes()).await;

    let rec = sim.punch("1002", 1, 0);
    let e = t.recv().await.unwrap();
    assert_eq!((e.code, e.session_id, e.reply_id), (500, 1, 0));
    assert_eq!(&e.data[..4], b"1002");
    assert_eq!(e.data[26..32], rec.time.to_event_bytes().unwrap());
    let e = u.recv(T).await.unwrap();
    assert_eq!(e.event_flag(), EventFlag::AttLog);
    // The client's ACK gets no answer; the next command still works.
    t.io.send(Packet::new(ReplyCode::AckOk, t.session, 0, &[][..]))
        .await
        .unwrap();
    u.raw(Packet::new(ReplyCode::AckOk, u.session, 0, &[][..]))
        .await;
    assert!(u.recv(Duration::from_millis(200)).await.is_none());

    sim.open_door();
    let e = t.recv().await.unwrap();
    assert_eq!(
        (e.event_flag(), &e.data[..]),
        (EventFlag::Alarm, &[1u8, 0, 0, 0, 0, 0, 0, 0][..])
    );
    assert_eq!(
        t.call(Command::GetTime, &[]).await.reply_code(),
        ReplyCode::AckOk
    );
    assert!(
        u.recv(Duration::from_millis(200)).await.is_none(),
        "UDP session did not register EF_ALARM"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn split_frames_and_coalesced_events_reassemble() {
    let sim = Simulator::new(SimConfig {
        users: 20,
        ..SimConfig::default()
    });
    let server = sim.serve(local(), None).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    sim.set_fault(Fault::SplitFrames { chunk: 3 });
    sim.set_fault(Fault::CoalesceWithEvent);
    let id = c.send(Command::GetFreeSizes, &[]).await;
    let ev = c.recv().await.unwrap();
    assert_eq!(ev.event_flag(), EventFlag::FpFtr);
    let p = c.recv().await.unwrap();
    assert_eq!(
        (p.reply_code(), p.reply_id, p.data.len()),
        (ReplyCode::AckOk, id, 80)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn close_mid_bulk_closes_the_connection() {
    let sim = Simulator::new(SimConfig {
        users: 100,
        ..SimConfig::default()
    });
    let mut p = Profile::zk8();
    p.tcp_burst_packet_size = 1024;
    let sim2 = Simulator::new(SimConfig {
        profile: p,
        users: 100,
        ..SimConfig::default()
    });
    for (s, packets) in [(&sim, 0usize), (&sim2, 2)] {
        let server = s.serve(local(), None).await.unwrap();
        let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
        let d = BufferDescriptor::parse(
            &c.call(Command::PrepareBuffer, &BulkRead::users().encode())
                .await
                .data,
        )
        .unwrap();
        s.set_fault(Fault::CloseMidBulk {
            after_data_packets: packets,
        });
        c.send(
            Command::ReadBuffer,
            &ReadChunk {
                offset: 0,
                len: d.size,
            }
            .encode(),
        )
        .await;
        assert_eq!(c.recv().await.unwrap().reply_code(), ReplyCode::PrepareData);
        for _ in 0..packets {
            assert_eq!(c.recv().await.unwrap().reply_code(), ReplyCode::Data);
        }
        assert!(c.recv().await.is_none(), "connection closed mid-transfer");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn udp_faults_drop_delay_corrupt_silent_reply_with() {
    let sim = Simulator::new(SimConfig::default());
    let server = sim.serve(None, local()).await.unwrap();
    let mut c = Udp::connect(server.udp_addr().unwrap()).await;

    sim.set_fault(Fault::DropNextReply {
        command: Some(Command::GetTime),
    });
    c.reply += 1;
    let req = Packet::new(Command::GetTime, c.session, c.reply, &[][..]);
    c.raw(req.clone()).await;
    assert!(
        c.recv(Duration::from_millis(300)).await.is_none(),
        "reply dropped"
    );
    c.raw(req).await;
    let p = c.recv(T).await.expect("retransmission answered");
    assert_eq!((p.reply_code(), p.reply_id), (ReplyCode::AckOk, c.reply));

    sim.set_fault(Fault::Delay(Duration::from_millis(300)));
    let t0 = Instant::now();
    c.call(Command::GetTime, &[]).await;
    assert!(t0.elapsed() >= Duration::from_millis(290));
    sim.clear_faults();

    sim.set_fault(Fault::CorruptChecksum { command: None });
    c.reply += 1;
    c.raw(Packet::new(Command::GetTime, c.session, c.reply, &[][..]))
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(T, c.sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(Packet::decode(&buf[..n], ChecksumMode::Strict).is_err());

    sim.set_fault(Fault::ReplyWith {
        command: Command::GetTime,
        reply: ReplyCode::AckUnknown,
    });
    assert_eq!(
        c.call(Command::GetTime, &[]).await.reply_code(),
        ReplyCode::AckUnknown
    );
    sim.set_fault(Fault::Silent);
    c.reply += 1;
    c.raw(Packet::new(Command::GetTime, c.session, c.reply, &[][..]))
        .await;
    assert!(c.recv(Duration::from_millis(300)).await.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn closing_tcp_ends_the_session_and_reenables() {
    let sim = Simulator::new(SimConfig::default());
    let server = sim.serve(local(), None).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    c.call(Command::DisableDevice, &[]).await;
    assert!(!sim.is_enabled());
    drop(c);
    let deadline = Instant::now() + T;
    while !sim.is_enabled() || sim.session_count() != 0 {
        assert!(Instant::now() < deadline, "session ended after close");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A throw-away connection (pyzk's probe) and a new session both work.
    drop(
        TcpStream::connect(server.tcp_addr().unwrap())
            .await
            .unwrap(),
    );
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    assert_eq!(
        c.call(Command::GetTime, &[]).await.reply_code(),
        ReplyCode::AckOk
    );
    server.shutdown().await;
}

#[tokio::test]
async fn unlock_relocks_after_the_requested_time() {
    let sim = Simulator::new(SimConfig::default());
    let server = sim.serve(local(), None).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    c.call(Command::Unlock, &3u32.to_le_bytes()).await;
    assert!(sim.lock_released());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(!sim.lock_released());
    sim.open_door();
    assert_eq!(&c.call(Command::DoorStateRrq, &[]).await.data[..], [1]);
    server.shutdown().await;
}

#[tokio::test]
async fn state_file_persists_users_attendance_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zk.state");
    let config = SimConfig {
        users: 4,
        attendance: 6,
        state_file: Some(path.clone()),
        ..SimConfig::default()
    };
    let sim = Simulator::open(config.clone()).unwrap();
    assert!(path.exists(), "written at start");
    let server = sim.serve(local(), None).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    c.call(Command::OptionsWrq, b"LockOn=9\0").await;
    c.call(Command::DeleteUser, &2u16.to_le_bytes()).await;
    server.shutdown().await;
    sim.punch("1001", 1, 0);
    let (users, att) = (sim.users(), sim.attendance());

    let again = Simulator::open(SimConfig {
        users: 50,
        ..config
    })
    .unwrap();
    assert_eq!(again.users(), users);
    assert_eq!(again.attendance(), att);
    assert_eq!(again.option("LockOn").as_deref(), Some("9"));
    assert!(!dir.path().join("zk.state.tmp").exists());
    std::fs::write(&path, "zksim-state 1\nuser 00\n").unwrap();
    assert!(
        Simulator::open(SimConfig {
            state_file: Some(path),
            ..SimConfig::default()
        })
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_million_attendance_records_are_served() {
    let sim = Simulator::new(SimConfig {
        users: 100,
        attendance: 1_000_000,
        // A volume test: 611 bursts at link pacing would add seconds.
        pacing: Some(Pacing::None),
        ..SimConfig::default()
    });
    let server = sim.serve(local(), None).await.unwrap();
    let mut c = Tcp::connect(server.tcp_addr().unwrap()).await;
    let buf = c.read_table(BulkRead::attendance(), 0xFFC0).await;
    assert_eq!(buf.len(), 4 + 40 * 1_000_000);
    let log = sim.attendance();
    let parsed = parse_attendance(&buf[4..], AttendanceLayout::Tft40).unwrap();
    assert_eq!(parsed.len(), log.len());
    assert_eq!(parsed.first(), log.first());
    assert_eq!(parsed.last(), log.last());
    server.shutdown().await;
}
