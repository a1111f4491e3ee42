//! Resource limits of the simulators' TCP servers (`zkproto::net::sim`):
//! thousands of connections announcing huge frames leave memory bounded and
//! a normal client working afterwards; connections beyond the limit are
//! refused promptly and the client says so; idle connections are closed
//! unless they listen for events.
//!
//! Memory is the resident set of this test process (simulator and the
//! connecting sockets live in it), read from `/proc/self/status` (the
//! memory tests are skipped where that file does not exist).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zkproto::net::sim::NetLimits;
use zkproto::terminal::client::{Client, Error, Options, Transport};
use zkproto::terminal::sim::{SimConfig, Simulator};
use zkproto::terminal::{Command, Packet, frame::tcp_frame};

/// Resident set size in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// How many sockets this test may open: 2,000, or fewer when the soft
/// open-files limit is lower (said on stderr).
fn connection_budget(want: usize) -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(1024usize);
    let n = want.min(soft.saturating_sub(256));
    if n < want {
        eprintln!("open-files limit {soft}: using {n} connections instead of {want}");
    }
    n
}

/// Opens `n` connections to `addr`, each sending `head` then `body`
/// (errors from refused connections are expected and ignored); returns the
/// sockets, still open.
async fn flood(addr: SocketAddr, n: usize, head: &[u8], body: &[u8]) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            continue;
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            s.write_all(head).await?;
            s.write_all(body).await
        })
        .await;
        held.push(s);
    }
    held
}

fn opts() -> Options {
    Options::new().timeout(Duration::from_secs(5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_memory_stays_bounded_under_2000_huge_frame_announcements() {
    let sim = Simulator::new(SimConfig {
        users: 5,
        ..SimConfig::default()
    });
    let server = sim.serve("127.0.0.1:0".parse().ok(), None).await.unwrap();
    let addr = server.tcp_addr().unwrap();
    // Warm up (one full client session) before the baseline.
    Client::connect(addr, opts())
        .await
        .unwrap()
        .disconnect()
        .await
        .unwrap();
    let Some(before) = rss_kib() else {
        eprintln!("no /proc/self/status: memory not checked");
        return;
    };
    let n = connection_budget(2000);
    // An envelope announcing a 1 MiB − 1 packet (the old limit accepted it
    // and buffered whatever came), then 60 KiB of it.
    let mut head = vec![0x50, 0x50, 0x82, 0x7d];
    head.extend_from_slice(&(1024u32 * 1024 - 1).to_le_bytes());
    let body = vec![0x11u8; 60 * 1024];
    let held = flood(addr, n, &head, &body).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = rss_kib().unwrap();
    let grown = during.saturating_sub(before);
    // Buffering every connection's 60 KiB would be ≥ 117 MiB for 2,000.
    eprintln!(
        "{} connections held; RSS {before} KiB → {during} KiB",
        held.len()
    );
    assert!(
        grown < 48 * 1024,
        "RSS grew by {grown} KiB with {} connections",
        held.len()
    );
    drop(held);

    // Legal-size frames left incomplete: at most the limit's worth of one
    // frame each, and the rest refused.
    let mut legal = vec![0x50, 0x50, 0x82, 0x7d];
    let max = u32::try_from(zkproto::terminal::sim::MAX_TCP_PACKET).unwrap();
    legal.extend_from_slice(&max.to_le_bytes());
    let partial = vec![0u8; zkproto::terminal::sim::MAX_TCP_PACKET - 1];
    let held = flood(addr, n, &legal, &partial).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grown = rss_kib().unwrap().saturating_sub(before);
    assert!(grown < 48 * 1024, "RSS grew by {grown} KiB");
    drop(held);

    // A normal client works once they are gone (the server notices the
    // closed sockets promptly; allow a few attempts while it does).
    let deadline = Instant::now() + Duration::from_secs(10);
    let users = loop {
        match Client::connect(addr, opts()).await {
            Ok(mut c) => break c.users().await.unwrap(),
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying after {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the simulator stays unusable: {e}"),
        }
    };
    assert_eq!(users.len(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_beyond_the_limit_is_refused_promptly_and_reported() {
    let sim = Simulator::new(SimConfig::default());
    sim.set_net_limits(NetLimits {
        max_connections: 1,
        ..NetLimits::default()
    });
    let server = sim.serve("127.0.0.1:0".parse().ok(), None).await.unwrap();
    let addr = server.tcp_addr().unwrap();
    let tcp = || opts().transport(Transport::Tcp);
    let mut first = Client::connect(addr, tcp()).await.unwrap();
    let start = Instant::now();
    let second = Client::connect(addr, tcp()).await;
    let took = start.elapsed();
    match second {
        Err(e @ Error::Closed { .. }) => {
            assert!(e.to_string().contains("closed"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(took < Duration::from_secs(2), "refusal took {took:?}");
    // The first client is unaffected; once it leaves, a new one gets in.
    assert!(first.users().await.is_ok());
    first.disconnect().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Client::connect(addr, opts()).await {
            Ok(c) => {
                c.disconnect().await.unwrap();
                break;
            }
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying after {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the slot was not freed: {e}"),
        }
    }
    server.shutdown().await;
}

/// Whether the server closed `s` within `within` (EOF or reset).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    let end = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends CMD_CONNECT and returns the session id.
async fn connect_raw(s: &mut TcpStream) -> u16 {
    s.write_all(&tcp_frame(&Packet::new(Command::Connect, 0, 0, &[][..])))
        .await
        .unwrap();
    let mut reply = [0u8; 16];
    s.read_exact(&mut reply).await.unwrap();
    u16::from_le_bytes([reply[12], reply[13]])
}

#[tokio::test]
async fn idle_connections_close_but_event_listeners_stay() {
    let sim = Simulator::new(SimConfig::default());
    let idle = Duration::from_millis(300);
    sim.set_net_limits(NetLimits {
        max_connections: 8,
        idle_timeout: idle,
        session_idle_timeout: Some(idle),
    });
    let server = sim.serve("127.0.0.1:0".parse().ok(), None).await.unwrap();
    let addr = server.tcp_addr().unwrap();

    // Never says anything.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // A session that only ever half-sends a frame.
    let mut partial = TcpStream::connect(addr).await.unwrap();
    let sid = connect_raw(&mut partial).await;
    let frame = tcp_frame(&Packet::new(Command::GetTime, sid, 1, &[][..]));
    partial.write_all(&frame[..10]).await.unwrap();
    // A session that stops sending commands.
    let mut session = TcpStream::connect(addr).await.unwrap();
    connect_raw(&mut session).await;
    // A listener registered for attendance events.
    let mut listener = TcpStream::connect(addr).await.unwrap();
    let sid = connect_raw(&mut listener).await;
    listener
        .write_all(&tcp_frame(&Packet::new(
            Command::RegEvent,
            sid,
            1,
            &[0xffu8, 0xff, 0, 0][..],
        )))
        .await
        .unwrap();
    let mut ack = [0u8; 16];
    listener.read_exact(&mut ack).await.unwrap();

    // Each must be closed (the bug would be "never"): allow 10× the limit.
    for (what, s) in [
        ("silent", &mut silent),
        ("partial frame", &mut partial),
        ("idle session", &mut session),
    ] {
        assert!(
            closed_within(s, idle * 10).await,
            "{what} connection still open"
        );
    }
    // The listener has been idle for far longer than the limit and still
    // gets the punch.
    let since = Instant::now();
    while since.elapsed() < idle * 2 {
        tokio::time::sleep(idle).await;
    }
    sim.punch("1001", 1, 0);
    let mut head = [0u8; 16];
    tokio::time::timeout(Duration::from_secs(5), listener.read_exact(&mut head))
        .await
        .expect("event within 5 s")
        .expect("listener still connected");
    assert_eq!(u16::from_le_bytes([head[8], head[9]]), 500);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_memory_stays_bounded_and_a_client_works_afterwards() {
    use zkproto::panel::client::{Client as PanelClient, Options as PanelOptions};
    use zkproto::panel::sim::{SimConfig as PanelConfig, Simulator as Panel};
    let sim = Panel::new(PanelConfig {
        users: 3,
        ..PanelConfig::default()
    });
    let server = sim
        .serve("127.0.0.1:0".parse().ok(), None, None)
        .await
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let popts = || PanelOptions::new().timeout(Duration::from_secs(5));
    PanelClient::connect(addr, popts())
        .await
        .unwrap()
        .disconnect()
        .await
        .unwrap();
    let Some(before) = rss_kib() else {
        eprintln!("no /proc/self/status: memory not checked");
        return;
    };
    let n = connection_budget(1000);
    // A frame announcing the largest data length, 60 KiB of it sent.
    let head = [0xaa, 0x01, 0x08, 0xff, 0xff];
    let body = vec![0x11u8; 60 * 1024];
    let held = flood(addr, n, &head, &body).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grown = rss_kib().unwrap().saturating_sub(before);
    eprintln!(
        "{} panel connections held; RSS grew {grown} KiB",
        held.len()
    );
    // Buffering every connection's 60 KiB would be ≥ 58 MiB for 1,000.
    assert!(grown < 24 * 1024, "RSS grew by {grown} KiB");
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    let users = loop {
        match PanelClient::connect(addr, popts()).await {
            Ok(mut c) => break c.users().await.unwrap(),
            Err(e) if Instant::now() < deadline => {
                eprintln!("retrying after {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the panel simulator stays unusable: {e}"),
        }
    };
    assert_eq!(users.len(), 3);
    server.shutdown().await;
}

#[allow(dead_code)]
mod common;

/// `zksim` under a small open-files limit (`ulimit -n`, set by `sh` for the
/// child only): accepting fails with "too many open files" for as long as
/// the flood lasts, which must be logged at most once a second (with the
/// suppressed count) instead of ~20 times a second, and the simulator must
/// serve again once the flood is gone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_errors_at_the_fd_limit_are_throttled_and_recovered_from() {
    use std::process::Stdio;
    use tokio::io::AsyncBufReadExt;
    let zksim = common::bin("zksim");
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 40 && exec "$0" --tcp 127.0.0.1:0 --max-connections 1000"#)
        .arg(&zksim)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = out.next_line().await.unwrap().unwrap();
    let addr: SocketAddr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("tcp="))
        .unwrap()
        .parse()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut all = Vec::new();
        while let Ok(Some(l)) = lines.next_line().await {
            all.push(l);
        }
        all
    });

    // 100 connections held open for 2 s: the child runs out of descriptors
    // after ~30 and the rest wait in its backlog, failing every accept.
    let mut held = Vec::new();
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(addr).await {
            held.push(s);
        }
    }
    let flood = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(held);

    // Serving again (the backoff is at most 1 s; allow plenty).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let served = async {
            let mut s = TcpStream::connect(addr).await.ok()?;
            Some(connect_raw(&mut s).await)
        };
        if tokio::time::timeout(Duration::from_secs(2), served)
            .await
            .ok()
            .flatten()
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < deadline, "zksim does not serve again");
    }
    let secs = flood.elapsed().as_secs() + 1;
    child.start_kill().unwrap();
    let _ = child.wait().await;
    let log = log.await.unwrap();
    let warnings: Vec<&String> = log.iter().filter(|l| l.contains("accept failed")).collect();
    assert!(!warnings.is_empty(), "no accept failure logged: {log:#?}");
    assert!(
        warnings.len() as u64 <= secs + 1,
        "{} accept warnings in ~{secs} s: {warnings:#?}",
        warnings.len()
    );
    // Repeats in between are counted, not dropped silently.
    let suppressed = |w: &str| -> u64 {
        w.split_whitespace()
            .find_map(|f| f.strip_prefix("suppressed="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(warnings.iter().any(|w| suppressed(w) > 0), "{warnings:#?}");
    eprintln!("{warnings:#?}");
}
