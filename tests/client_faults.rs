//! The client under the simulator's fault injection, and against peers that
//! are not terminals at all.

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zkproto::terminal::client::{Client, Error, Options, Transport};
use zkproto::terminal::command::{Command, EventFlag, EventMask, ReplyCode};
use zkproto::terminal::error::WireError;
use zkproto::terminal::record::event::Event;
use zkproto::terminal::sim::{Fault, Profile, SimConfig, SimServer, Simulator};

struct Rig {
    sim: Simulator,
    _server: SimServer,
    tcp: Option<SocketAddr>,
    udp: SocketAddr,
}

async fn rig(profile: Profile, users: usize, attendance: usize) -> Rig {
    let sim = Simulator::new(SimConfig {
        profile,
        users,
        attendance,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), Some(any)).await.unwrap();
    Rig {
        tcp: server.tcp_addr(),
        udp: server.udp_addr().unwrap(),
        sim,
        _server: server,
    }
}

fn opts(t: Transport) -> Options {
    Options::new()
        .transport(t)
        .timeout(Duration::from_millis(600))
        .connect_timeout(Duration::from_millis(600))
}

impl Rig {
    async fn client(&self, t: Transport, o: Options) -> Client {
        let addr = if t == Transport::Udp {
            self.udp
        } else {
            self.tcp.unwrap()
        };
        Client::connect(addr, o.transport(t)).await.unwrap()
    }
}

#[tokio::test]
async fn frames_split_at_every_byte() {
    // The simulator pauses 1 ms between pieces: keep the frames small.
    for chunk in [1, 2, 3, 7, 13] {
        let r = rig(Profile::zk8(), 5, 30).await;
        r.sim.set_fault(Fault::SplitFrames { chunk });
        let o = opts(Transport::Tcp)
            .timeout(Duration::from_secs(5))
            .chunk_size(700);
        let mut c = r.client(Transport::Tcp, o).await;
        assert_eq!(c.users().await.unwrap(), r.sim.users());
        assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
        assert_eq!(c.templates().await.unwrap(), r.sim.templates());
        assert_eq!(
            c.firmware_version().await.unwrap(),
            r.sim.profile().firmware
        );
    }
}

#[tokio::test]
async fn coalesced_frames_and_interleaved_events() {
    let r = rig(Profile::zk8(), 20, 60).await;
    let mut c = r.client(Transport::Tcp, opts(Transport::Tcp)).await;
    c.register_events(EventMask::all()).await.unwrap();
    r.sim.set_fault(Fault::CoalesceWithEvent);
    assert_eq!(c.users().await.unwrap(), r.sim.users());
    assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
    let before = c.stats();
    assert!(
        before.events > 0,
        "events arrived between replies: {before:?}"
    );
    // The queued events come out of the event stream, acknowledged.
    let mut ev = c
        .events(EventMask::empty().with(EventFlag::FpFtr))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(2), ev.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first, Event::FpFtr { score: 100 });
}

#[tokio::test]
async fn one_dropped_udp_datagram_is_recovered_by_retransmission() {
    let r = rig(Profile::zk8(), 20, 300).await;
    let mut c = r.client(Transport::Udp, opts(Transport::Udp)).await;
    r.sim.set_fault(Fault::DropNextReply {
        command: Some(Command::GetTime),
    });
    let t0 = Instant::now();
    let t = c.time().await.unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(500),
        "waited for the timeout first"
    );
    assert!(t.is_valid());
    assert_eq!(c.stats().retransmissions, 1);
    // The retransmission used the same reply id: the device executed
    // CMD_GET_TIME once.
    assert_eq!(
        r.sim
            .commands()
            .iter()
            .filter(|c| **c == Command::GetTime)
            .count(),
        1
    );

    // A datagram lost in the middle of a bulk burst.
    r.sim.set_fault(Fault::DropNextReply {
        command: Some(Command::ReadBuffer),
    });
    assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
    assert!(c.stats().retransmissions >= 2);
}

#[tokio::test]
async fn corrupted_checksum() {
    for t in [Transport::Tcp, Transport::Udp] {
        let r = rig(Profile::zk8(), 20, 300).await;
        let mut c = r.client(t, opts(t)).await;
        r.sim.set_fault(Fault::CorruptChecksum {
            command: Some(Command::GetTime),
        });
        assert!(c.time().await.unwrap().is_valid());
        assert_eq!(c.stats().corrupt_dropped, 1);
        assert_eq!(c.stats().retransmissions, 1);

        r.sim.set_fault(Fault::CorruptChecksum {
            command: Some(Command::ReadBuffer),
        });
        assert_eq!(
            c.attendance().await.unwrap().records,
            r.sim.attendance(),
            "{t:?}"
        );
        assert_eq!(c.stats().corrupt_dropped, 2);

        // Without retries the corrupt reply is a clear error.
        let mut strict = r.client(t, opts(t).retries(0)).await;
        r.sim.set_fault(Fault::CorruptChecksum {
            command: Some(Command::GetTime),
        });
        let e = strict.time().await.unwrap_err();
        assert!(
            matches!(e, Error::Frame(WireError::ChecksumMismatch { .. })),
            "{e}"
        );
        // And the connection is still usable.
        assert!(strict.time().await.unwrap().is_valid());
    }
}

#[tokio::test]
async fn connection_closed_mid_download() {
    let r = rig(Profile::zk8(), 20, 5000).await;
    let mut c = r
        .client(Transport::Tcp, opts(Transport::Tcp).chunk_size(40 * 1000))
        .await;
    r.sim.set_fault(Fault::CloseMidBulk {
        after_data_packets: 1,
    });
    let result = {
        let mut g = c.disable().await.unwrap();
        assert!(!r.sim.is_enabled());
        g.attendance().await
    };
    let e = result.unwrap_err();
    assert!(
        matches!(&e, Error::Closed { during } if during.contains("bulk")),
        "{e}"
    );
    assert!(e.is_network());
    drop(c);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        r.sim.is_enabled(),
        "the device is enabled after the failed job"
    );
    // A retry on a new connection works.
    let mut c = r.client(Transport::Tcp, opts(Transport::Tcp)).await;
    assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
}

#[tokio::test]
async fn udp_burst_cut_short_is_asked_again() {
    let r = rig(Profile::zk8(), 20, 2000).await;
    let mut c = r.client(Transport::Udp, opts(Transport::Udp)).await;
    r.sim.set_fault(Fault::CloseMidBulk {
        after_data_packets: 3,
    });
    assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
}

#[tokio::test]
async fn absurd_announced_size_is_refused_before_allocating() {
    for t in [Transport::Tcp, Transport::Udp] {
        let r = rig(Profile::zk8(), 20, 300).await;
        let mut c = r.client(t, opts(t)).await;
        r.sim.set_fault(Fault::AnnounceSize(0xFFFF_FFF0));
        let e = c.attendance().await.unwrap_err();
        assert_eq!(
            e,
            Error::TooLarge {
                announced: 0xFFFF_FFF0,
                limit: u64::from(zkproto::terminal::record::bulk::MAX_BULK_SIZE)
            }
        );
        // A configured lower limit applies too.
        let mut small = r.client(t, opts(t).max_bulk(1000)).await;
        let e = small.attendance().await.unwrap_err();
        assert!(matches!(e, Error::TooLarge { limit: 1000, .. }), "{e}");
        // The session is still usable afterwards.
        assert_eq!(c.attendance().await.unwrap().records, r.sim.attendance());
    }
}

#[tokio::test]
async fn refusals_are_typed() {
    let r = rig(Profile::zk8(), 3, 0).await;
    for t in [Transport::Tcp, Transport::Udp] {
        let mut c = r.client(t, opts(t)).await;
        r.sim.set_fault(Fault::ReplyWith {
            command: Command::Unlock,
            reply: ReplyCode::AckError,
        });
        r.sim.set_fault(Fault::ReplyWith {
            command: Command::TestVoice,
            reply: ReplyCode::AckUnknown,
        });
        let e = c.unlock(Duration::from_secs(1)).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Refused {
                    command: Command::Unlock,
                    reply: ReplyCode::AckError,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.is_refusal() && !e.is_network());
        let e = c.test_voice(1).await.unwrap_err();
        assert!(
            matches!(
                e,
                Error::Refused {
                    command: Command::TestVoice,
                    reply: ReplyCode::AckUnknown,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("does not know this command"));
        r.sim.clear_faults();
        c.unlock(Duration::from_secs(1)).await.unwrap();
    }
}

#[tokio::test]
async fn silent_peer_times_out_naming_what_was_awaited() {
    let r = rig(Profile::zk8(), 3, 0).await;
    for t in [Transport::Tcp, Transport::Udp] {
        let mut c = r.client(t, opts(t).retries(1)).await;
        r.sim.set_fault(Fault::Silent);
        let e = c.time().await.unwrap_err();
        match &e {
            Error::Timeout { waiting_for, after } => {
                assert!(waiting_for.contains("CMD_GET_TIME"), "{waiting_for}");
                assert!(*after >= Duration::from_millis(500));
            }
            other => panic!("{other}"),
        }
        r.sim.clear_faults();
    }
    // A UDP socket that never answers.
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let e = Client::connect(udp.local_addr().unwrap(), opts(Transport::Udp).retries(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { waiting_for, .. } if waiting_for == "reply to CMD_CONNECT (2 attempts)"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("did not answer") && msg.contains("port") && msg.contains("comm key"),
        "{msg}"
    );
    // A TCP listener that accepts and never says anything.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let e = Client::connect(addr, opts(Transport::Tcp))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { waiting_for, .. } if waiting_for == "reply to CMD_CONNECT"),
        "{e}"
    );
    assert!(e.to_string().contains("did not answer"));
    drop(udp);
}

const C3_REPLY: [u8; 12] = [
    0xaa, 0x01, 0xc8, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x33, 0x55,
];

#[tokio::test]
async fn c3_panel_is_recognised() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&C3_REPLY).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let e = Client::connect(addr, opts(Transport::Tcp))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotATerminal { what } if what.contains("C3")),
        "{e}"
    );
    assert!(!e.is_network());

    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let uaddr = udp.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = udp.recv_from(&mut buf).await {
            let _ = udp.send_to(&C3_REPLY, from).await;
        }
    });
    let e = Client::connect(uaddr, opts(Transport::Udp))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotATerminal { what } if what.contains("C3")),
        "{e}"
    );
}

#[tokio::test]
async fn other_protocols_are_not_terminals() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let e = Client::connect(addr, opts(Transport::Tcp))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotATerminal { what } if what.contains(r#"48 54 54 50 "HTTP""#)),
        "{e}"
    );
}

#[tokio::test]
async fn stale_replies_are_discarded() {
    // Delayed replies arrive after the client gave up; the next request
    // must not take them for its own.
    let r = rig(Profile::zk8(), 3, 0).await;
    let mut c = r.client(Transport::Tcp, opts(Transport::Tcp)).await;
    r.sim.set_fault(Fault::Delay(Duration::from_millis(900)));
    assert!(matches!(
        c.firmware_version().await.unwrap_err(),
        Error::Timeout { .. }
    ));
    r.sim.clear_faults();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sizes = c.free_sizes().await.unwrap();
    assert_eq!(sizes, r.sim.free_sizes());
    assert!(c.stats().stale_discarded >= 1);
}

#[tokio::test]
async fn supervised_events_survive_a_server_restart() {
    use zkproto::terminal::client::{SupervisedEvent, Supervisor};
    let sim = Simulator::new(SimConfig {
        users: 5,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), None).await.unwrap();
    let addr = server.tcp_addr().unwrap();
    let o = opts(Transport::Tcp).keepalive(Duration::from_millis(300));
    let sup = Supervisor::new(addr, o, EventMask::empty().with(EventFlag::AttLog))
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut s = std::pin::pin!(sup.into_stream());
        while let Some(item) = s.next().await {
            if tx.send(item).is_err() {
                break;
            }
        }
    });
    let registered = |sim: &Simulator| {
        let sim = sim.clone();
        async move {
            for _ in 0..100 {
                if sim
                    .commands()
                    .iter()
                    .filter(|c| **c == Command::RegEvent)
                    .count()
                    > 0
                    && sim.session_count() == 1
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("no registration");
        }
    };
    async fn next(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<SupervisedEvent>,
    ) -> SupervisedEvent {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap()
    }
    registered(&sim).await;
    sim.punch("1001", 1, 0);
    match next(&mut rx).await {
        SupervisedEvent::Event(Event::Attendance(a)) => assert_eq!(a.user_id, "1001"),
        other => panic!("{other:?}"),
    }
    // The terminal goes away (reboot, network drop) …
    server.shutdown().await;
    assert!(matches!(
        next(&mut rx).await,
        SupervisedEvent::Disconnected { .. }
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // … and comes back on the same address.
    let regs_before = sim
        .commands()
        .iter()
        .filter(|c| **c == Command::RegEvent)
        .count();
    let _server = sim.serve(Some(addr), None).await.unwrap();
    match next(&mut rx).await {
        SupervisedEvent::Reconnected { gap, attempts } => {
            assert!(gap >= Duration::from_millis(300), "{gap:?}");
            assert!(attempts >= 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.commands()
            .iter()
            .filter(|c| **c == Command::RegEvent)
            .count(),
        regs_before + 1,
        "mask registered again"
    );
    sim.punch("1002", 1, 0);
    match next(&mut rx).await {
        SupervisedEvent::Event(Event::Attendance(a)) => assert_eq!(a.user_id, "1002"),
        other => panic!("{other:?}"),
    }
}
