//! Fake terminals that answer `CMD_CONNECT` properly and then misbehave
//! (issue 14): every operation must end within its documented budget with
//! an error naming what the device did, over TCP and UDP, in the library
//! and in `zkctl`. Also: table length checks, honest `set_pin`.
//!
//! The bounds are generous ("within 4× the timeout") where the bug is
//! "never ends"; nothing depends on timing luck.

use bytes::{BufMut, Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use zkproto::terminal::client::{Client, Error, Options, Transport};
use zkproto::terminal::frame::{decode_udp, tcp_frame};
use zkproto::terminal::record::bulk::{BufferDescriptor, PrepareData};
use zkproto::terminal::record::sizes::FreeSizes;
use zkproto::terminal::sim::{Fault, SimConfig, SimServer, Simulator};
use zkproto::terminal::{ChecksumMode, Command, Packet, ReplyCode};

#[allow(dead_code)] // the shared harness has more than these tests use
mod common;
use common::Run;

const SESSION: u16 = 0x4242;
const T: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------- fakes

/// How the fake answers after `CMD_CONNECT`.
#[derive(Clone, Debug)]
enum Act {
    /// 1503: descriptor of `table`; 1504: `CMD_PREPARE_DATA`, then empty
    /// `CMD_DATA` frames every `gap`, forever (gap 0: as fast as it can).
    EmptyData { gap: Duration },
    /// 1504: `CMD_PREPARE_DATA` again and again.
    RepeatedPrepare { gap: Duration },
    /// 1504: `CMD_PREPARE_DATA`, then `CMD_DATA` frames with a bad checksum.
    BadChecksum { gap: Duration },
    /// 1504: `CMD_PREPARE_DATA`, one good packet (index 0, 3 bytes), then
    /// packets with a wrong index.
    WrongIndex { gap: Duration },
    /// 1503: a corrupt reply every `gap`.
    Corrupt1503 { gap: Duration },
    /// 1504: no answer.
    Silent1504,
    /// 1504: `CMD_PREPARE_DATA` announcing more than was asked for.
    OversizedPrepare,
    /// Every request after the connect is answered with a corrupt frame.
    CorruptEverything,
    /// 1503 answered directly with this table buffer.
    Table(Bytes),
}

#[derive(Clone, Debug)]
struct Fake {
    act: Act,
    users: i32,
    fingers: i32,
    records: i32,
    /// `CMD_EXIT` is not answered either.
    exit_silent: bool,
}

impl Fake {
    fn new(act: Act) -> Fake {
        Fake {
            act,
            users: 3,
            fingers: 0,
            records: 0,
            exit_silent: true,
        }
    }
}

/// The table the bulk fakes announce: 3 users of 72 bytes.
fn user_table() -> Bytes {
    let mut b = BytesMut::new();
    b.put_u32_le(216);
    b.put_bytes(0, 216);
    b.freeze()
}

#[derive(Clone)]
enum Out {
    Tcp(Arc<Mutex<OwnedWriteHalf>>),
    Udp(Arc<UdpSocket>, SocketAddr),
}

impl Out {
    /// Sends a packet; `corrupt` spoils its checksum. False once the peer is gone.
    async fn send(&self, p: &Packet, corrupt: bool) -> bool {
        match self {
            Out::Tcp(w) => {
                let mut f = BytesMut::from(&tcp_frame(p)[..]);
                if corrupt {
                    f[10] ^= 0x5a;
                }
                w.lock().await.write_all(&f).await.is_ok()
            }
            Out::Udp(s, peer) => {
                let mut f = BytesMut::from(&p.to_bytes()[..]);
                if corrupt {
                    f[2] ^= 0x5a;
                }
                s.send_to(&f, peer).await.is_ok()
            }
        }
    }
}

async fn pause(gap: Duration) {
    if gap.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(gap).await;
    }
}

/// Answers one request (in its own task: a new request aborts it).
async fn answer(fake: Fake, req: Packet, out: Out) {
    let id = req.reply_id;
    let reply = |code: ReplyCode, data: Bytes| Packet::new(code, SESSION, id, data);
    let data = |index: u16, bytes: Bytes| Packet::new(ReplyCode::Data, index, id, bytes);
    let table = match &fake.act {
        Act::Table(t) => t.clone(),
        _ => user_table(),
    };
    // The length a 1504 asks for (offset u32, length u32), else the table's.
    let asked = req
        .data
        .get(4..8)
        .filter(|_| req.command() == Command::ReadBuffer)
        .map_or(u32::try_from(table.len()).unwrap(), |b| {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        });
    let prepare = || {
        reply(
            ReplyCode::PrepareData,
            PrepareData {
                len: asked,
                packet_size: Some(1024),
            }
            .encode(),
        )
    };
    let cmd = req.command();
    if cmd == Command::Connect {
        out.send(&reply(ReplyCode::AckOk, Bytes::new()), false)
            .await;
        return;
    }
    if matches!(fake.act, Act::CorruptEverything) {
        out.send(&reply(ReplyCode::AckOk, Bytes::new()), true).await;
        return;
    }
    match cmd {
        Command::GetFreeSizes => {
            let f = FreeSizes::new(fake.users, fake.fingers, fake.records, 1000, 1000, 100_000);
            out.send(&reply(ReplyCode::AckOk, f.encode()), false).await;
        }
        Command::Exit if fake.exit_silent => {}
        Command::PrepareBuffer => match &fake.act {
            Act::Table(t) => {
                out.send(&reply(ReplyCode::Data, t.clone()), false).await;
            }
            Act::Corrupt1503 { gap } => {
                let desc = BufferDescriptor::for_buffer(&table).encode();
                for _ in 0..100_000 {
                    if !out.send(&reply(ReplyCode::AckOk, desc.clone()), true).await {
                        return;
                    }
                    pause(*gap).await;
                }
            }
            _ => {
                let desc = BufferDescriptor::for_buffer(&table).encode();
                out.send(&reply(ReplyCode::AckOk, desc), false).await;
            }
        },
        Command::ReadBuffer => {
            let (frames, gap): (Vec<(Packet, bool)>, Duration) = match &fake.act {
                Act::EmptyData { gap } => (vec![(data(0, Bytes::new()), false)], *gap),
                Act::RepeatedPrepare { gap } => (vec![(prepare(), false)], *gap),
                Act::BadChecksum { gap } => {
                    (vec![(data(0, Bytes::from_static(b"abc")), true)], *gap)
                }
                Act::WrongIndex { gap } => {
                    (vec![(data(7, Bytes::from_static(b"abc")), false)], *gap)
                }
                Act::OversizedPrepare => {
                    let p = reply(
                        ReplyCode::PrepareData,
                        PrepareData {
                            len: asked + 5000,
                            packet_size: Some(1024),
                        }
                        .encode(),
                    );
                    out.send(&p, false).await;
                    return;
                }
                _ => return,
            };
            if !out.send(&prepare(), false).await {
                return;
            }
            if matches!(fake.act, Act::WrongIndex { .. })
                && !out
                    .send(&data(0, Bytes::from_static(b"\0\0\0")), false)
                    .await
            {
                return;
            }
            for _ in 0..100_000 {
                for (p, corrupt) in &frames {
                    if !out.send(p, *corrupt).await {
                        return;
                    }
                }
                pause(gap).await;
            }
        }
        _ => {
            out.send(&reply(ReplyCode::AckOk, Bytes::new()), false)
                .await;
        }
    }
}

/// A fake listening on TCP and UDP (the same port when `same_port`).
struct FakeServer {
    tcp: SocketAddr,
    udp: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn serve(fake: Fake) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp = listener.local_addr().unwrap();
    let udp_sock = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let udp = udp_sock.local_addr().unwrap();
    let f = fake.clone();
    let t1 = tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve_tcp(f.clone(), s));
        }
    });
    let t2 = tokio::spawn(async move {
        let mut current: Option<JoinHandle<()>> = None;
        let mut buf = vec![0u8; 70_000];
        while let Ok((n, peer)) = udp_sock.recv_from(&mut buf).await {
            let Ok(req) = decode_udp(&buf[..n], ChecksumMode::Strict) else {
                continue;
            };
            if let Some(c) = current.take() {
                c.abort();
            }
            let out = Out::Udp(udp_sock.clone(), peer);
            current = Some(tokio::spawn(answer(fake.clone(), req, out)));
        }
    });
    FakeServer {
        tcp,
        udp,
        tasks: vec![t1, t2],
    }
}

async fn serve_tcp(fake: Fake, s: TcpStream) {
    let (mut r, w) = s.into_split();
    let out = Out::Tcp(Arc::new(Mutex::new(w)));
    let mut current: Option<JoinHandle<()>> = None;
    loop {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).await.is_err() {
            break;
        }
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        if len > 1 << 20 {
            break;
        }
        let mut payload = vec![0u8; len];
        if r.read_exact(&mut payload).await.is_err() {
            break;
        }
        let Ok(req) = Packet::decode(&payload, ChecksumMode::Strict) else {
            continue;
        };
        if let Some(c) = current.take() {
            c.abort();
        }
        current = Some(tokio::spawn(answer(fake.clone(), req, out.clone())));
    }
    if let Some(c) = current {
        c.abort();
    }
}

fn opts(t: Transport) -> Options {
    Options::new()
        .transport(t)
        .timeout(T)
        .connect_timeout(T)
        .chunk_timeout(T)
        .retries(1)
}

async fn client(s: &FakeServer, t: Transport) -> Client {
    let addr = if t == Transport::Udp { s.udp } else { s.tcp };
    Client::connect(addr, opts(t)).await.unwrap()
}

/// Runs `users()` against the fake over both transports; returns the
/// errors, each checked to come within `limit`.
async fn users_fail_within(act: Act, limit: Duration) -> Vec<Error> {
    let mut errors = Vec::new();
    for t in [Transport::Tcp, Transport::Udp] {
        let s = serve(Fake::new(act.clone())).await;
        let mut c = client(&s, t).await;
        let start = Instant::now();
        let r = tokio::time::timeout(limit * 3, c.users()).await;
        let took = start.elapsed();
        let r = r.unwrap_or_else(|_| panic!("{act:?} over {t:?}: users() never ended"));
        let e = r.expect_err("a misbehaving device cannot yield a user list");
        assert!(
            took <= limit,
            "{act:?} over {t:?}: took {took:?} (> {limit:?}): {e}"
        );
        let start = Instant::now();
        let _ = c.disconnect().await;
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "the goodbye after a failure must be brief: {:?}",
            start.elapsed()
        );
        errors.push(e);
    }
    errors
}

// ---------------------------------------------------------------- item 1

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_empty_cmd_data_flood_ends_on_the_frame_budget() {
    for e in users_fail_within(
        Act::EmptyData {
            gap: Duration::ZERO,
        },
        T * 3,
    )
    .await
    {
        assert!(matches!(e, Error::NoProgress { .. }), "{e}");
        assert!(e.to_string().contains("without new data"), "{e}");
        assert!(e.to_string().contains("CMD_DATA"), "{e}");
    }
}

#[tokio::test]
async fn slow_empty_cmd_data_ends_on_the_deadline() {
    for e in users_fail_within(
        Act::EmptyData {
            gap: Duration::from_millis(50),
        },
        T * 3,
    )
    .await
    {
        assert!(matches!(e, Error::NoProgress { .. }), "{e}");
        assert!(e.to_string().contains("without new data in"), "{e}");
    }
}

#[tokio::test]
async fn repeated_prepare_data_ends() {
    for e in users_fail_within(
        Act::RepeatedPrepare {
            gap: Duration::from_millis(20),
        },
        T * 3,
    )
    .await
    {
        assert!(matches!(e, Error::NoProgress { .. }), "{e}");
        assert!(e.to_string().contains("CMD_PREPARE_DATA"), "{e}");
    }
}

#[tokio::test]
async fn frames_with_bad_checksums_end_as_corrupt() {
    for e in users_fail_within(
        Act::BadChecksum {
            gap: Duration::from_millis(20),
        },
        T * 3,
    )
    .await
    {
        assert!(
            matches!(e, Error::NoProgress { corrupt, .. } if corrupt > 0),
            "{e}"
        );
        assert!(e.to_string().contains("corrupt"), "{e}");
        assert!(e.to_string().contains("checksum"), "{e}");
    }
}

#[tokio::test]
async fn cmd_data_with_the_wrong_index_ends() {
    for e in users_fail_within(
        Act::WrongIndex {
            gap: Duration::from_millis(20),
        },
        T * 4,
    )
    .await
    {
        assert!(
            matches!(&e, Error::NoProgress { .. })
                || matches!(&e, Error::Reply(r) if r.to_string().contains("incomplete")),
            "{e}"
        );
    }
}

#[tokio::test]
async fn corrupt_1503_replies_end_as_corrupt_not_silence() {
    for e in users_fail_within(
        Act::Corrupt1503 {
            gap: Duration::from_millis(300),
        },
        T * 3,
    )
    .await
    {
        assert!(matches!(e, Error::NoProgress { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("corrupt") && text.contains("checksum"),
            "{text}"
        );
        assert!(!text.contains("did not answer"), "{text}");
    }
}

// ---------------------------------------------------------------- item 6

#[tokio::test]
async fn silent_chunk_ends_on_the_chunk_timeout() {
    for e in users_fail_within(Act::Silent1504, T * 4).await {
        assert!(matches!(e, Error::Timeout { .. }), "{e}");
    }
}

#[tokio::test]
async fn oversized_announcement_does_not_blame_max_bulk() {
    for e in users_fail_within(Act::OversizedPrepare, T * 3).await {
        let text = e.to_string();
        assert!(!text.contains("max_bulk"), "{text}");
        assert!(text.contains("5220") && text.contains("220"), "{text}");
    }
}

#[tokio::test]
async fn corrupt_answers_to_a_simple_request_are_reported_as_corrupt() {
    for t in [Transport::Tcp, Transport::Udp] {
        let s = serve(Fake::new(Act::CorruptEverything)).await;
        let mut c = client(&s, t).await;
        let start = Instant::now();
        let e = c.time().await.unwrap_err();
        assert!(start.elapsed() <= T * 3, "{t:?}: {:?}", start.elapsed());
        let text = e.to_string();
        assert!(text.contains("checksum"), "{t:?}: {text}");
        assert!(!text.contains("did not answer"), "{t:?}: {text}");
    }
}

#[tokio::test]
async fn auto_mode_error_names_both_attempts() {
    // Silent on both: TCP accepts and says nothing, UDP swallows.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let Ok(udp) = UdpSocket::bind(addr).await else {
        return; // the port is taken for UDP by someone else: nothing to test
    };
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let start = Instant::now();
    let e = Client::connect(addr, opts(Transport::Auto).detect_panel(false))
        .await
        .unwrap_err();
    // TCP: 1 s; UDP: 2 attempts of 1 s.
    assert!(start.elapsed() <= T * 5, "{:?}", start.elapsed());
    assert!(matches!(e, Error::BothTransports { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("TCP") && text.contains("UDP"), "{text}");
    keep.abort();
    drop(udp);
}

// ---------------------------------------------------------------- zkctl

fn zkctl(args: &[&str], stdin: Option<&str>, limit: Duration) -> (Run, Duration) {
    let start = Instant::now();
    let run = common::run_zkctl(args, stdin, &[], limit);
    (run, start.elapsed())
}

async fn zkctl_async(args: Vec<String>, stdin: Option<&'static str>) -> (Run, Duration) {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        zkctl(&a, stdin, Duration::from_secs(60))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zkctl_endless_empty_cmd_data_exits_3_within_the_budget() {
    common::built();
    let s = serve(Fake::new(Act::EmptyData {
        gap: Duration::from_millis(20),
    }))
    .await;
    for (flag, addr) in [("--tcp", s.tcp), ("--udp", s.udp)] {
        let args = vec![
            "--device".into(),
            addr.to_string(),
            flag.into(),
            "--timeout".into(),
            "1".into(),
            "users".into(),
            "list".into(),
        ];
        let (r, took) = zkctl_async(args, None).await;
        let r = r.fails(3);
        assert!(r.stderr.contains("without new data"), "{r:?}");
        // connect + sizes + the idle wait of 1 s + a brief goodbye, with room
        assert!(
            took < Duration::from_secs(4),
            "{flag}: took {took:?}: {r:?}"
        );
        assert!(!r.stderr.contains(&format!("try {flag}")), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zkctl_silent_chunk_honours_timeout() {
    common::built();
    let s = serve(Fake::new(Act::Silent1504)).await;
    for (flag, addr) in [("--tcp", s.tcp), ("--udp", s.udp)] {
        let args = vec![
            "--device".into(),
            addr.to_string(),
            flag.into(),
            "--timeout".into(),
            "1".into(),
            "users".into(),
            "list".into(),
        ];
        let (r, took) = zkctl_async(args, None).await;
        r.fails(3);
        // was 10.1 s (TCP) and 40 s (UDP) with --timeout 1
        assert!(took < Duration::from_secs(4), "{flag}: took {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zkctl_auto_mode_silent_device_names_both_attempts() {
    common::built();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let Ok(udp) = UdpSocket::bind(addr).await else {
        return;
    };
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let args = vec![
        "--device".into(),
        addr.to_string(),
        "--timeout".into(),
        "2".into(),
        "info".into(),
    ];
    let (r, took) = zkctl_async(args, None).await;
    let r = r.fails(3);
    assert!(
        r.stderr.contains("TCP") && r.stderr.contains("UDP"),
        "{r:?}"
    );
    // documented: TCP ≤ T, C3 probe ≤ min(T/2, 2 s), UDP ≤ T (was 17 s with --timeout 3)
    assert!(took < Duration::from_secs(7), "took {took:?}");
    keep.abort();
    drop(udp);
}

// ---------------------------------------------------------------- tables

fn table(length_field: u32, bytes: usize) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u32_le(length_field);
    b.put_bytes(1, bytes);
    b.freeze()
}

async fn users_of(table: Bytes, users: i32) -> Result<usize, Error> {
    let mut fake = Fake::new(Act::Table(table));
    fake.users = users;
    let s = serve(fake).await;
    let mut c = client(&s, Transport::Tcp).await;
    c.users().await.map(|u| u.len())
}

#[tokio::test]
async fn user_table_length_field_disagreeing_with_the_data_is_an_error() {
    // length 72, 216 bytes following, 3 users counted
    let e = users_of(table(72, 216), 3).await.unwrap_err();
    assert_eq!(
        e,
        Error::TableMismatch {
            table: "user",
            length_field: 72,
            received: 216,
            device_count: 3
        }
    );
    let text = e.to_string();
    assert!(
        text.contains("72") && text.contains("216") && text.contains('3'),
        "{text}"
    );
    // length 0 with data
    let e = users_of(table(0, 216), 3).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                length_field: 0,
                received: 216,
                ..
            }
        ),
        "{e}"
    );
    // trailing bytes after the records
    let e = users_of(table(216, 221), 3).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                length_field: 216,
                received: 221,
                ..
            }
        ),
        "{e}"
    );
    // the count disagrees with a consistent table
    let e = users_of(table(216, 216), 2).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                device_count: 2,
                ..
            }
        ),
        "{e}"
    );
    // and the honest table passes
    assert_eq!(users_of(table(216, 216), 3).await.unwrap(), 3);
}

#[tokio::test]
async fn attendance_and_template_tables_are_checked_too() {
    let mut fake = Fake::new(Act::Table(table(40, 120)));
    fake.records = 3;
    let s = serve(fake).await;
    let mut c = client(&s, Transport::Tcp).await;
    let e = c.attendance().await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                table: "attendance",
                length_field: 40,
                received: 120,
                device_count: 3
            }
        ),
        "{e}"
    );
    let mut fake = Fake::new(Act::Table(table(0, 40)));
    fake.records = 1;
    let s = serve(fake).await;
    let mut c = client(&s, Transport::Tcp).await;
    let e = c.attendance().await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                length_field: 0,
                received: 40,
                ..
            }
        ),
        "{e}"
    );

    // one template entry (u16 size = 6 + template) plus trailing bytes
    let mut b = BytesMut::new();
    b.put_u32_le(16);
    b.put_u16_le(16);
    b.put_u16_le(1);
    b.put_u8(0);
    b.put_u8(1);
    b.put_bytes(7, 10);
    b.put_bytes(9, 4);
    let mut fake = Fake::new(Act::Table(b.freeze()));
    fake.fingers = 1;
    let s = serve(fake).await;
    let mut c = client(&s, Transport::Tcp).await;
    let e = c.templates().await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::TableMismatch {
                table: "template",
                length_field: 16,
                received: 20,
                ..
            }
        ),
        "{e}"
    );
}

// ---------------------------------------------------------------- set-pin

async fn sim_server(users: usize) -> (Simulator, SimServer) {
    let sim = Simulator::new(SimConfig {
        users,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), None).await.unwrap();
    (sim, server)
}

fn prepare_buffers(sim: &Simulator) -> usize {
    sim.commands()
        .iter()
        .filter(|c| **c == Command::PrepareBuffer)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_pin_reads_the_user_table_twice() {
    common::built();
    let (sim, server) = sim_server(5).await;
    let id = sim.users()[2].user_id(sim.encoding()).to_string();
    let addr = server.tcp_addr().unwrap();
    let mut c = Client::connect(addr, opts(Transport::Tcp)).await.unwrap();
    let before = prepare_buffers(&sim);
    c.set_pin(&id, "2468").await.unwrap();
    assert_eq!(prepare_buffers(&sim) - before, 2);
    c.disconnect().await.unwrap();

    let before = prepare_buffers(&sim);
    let args = vec![
        "--device".into(),
        addr.to_string(),
        "--tcp".into(),
        "users".into(),
        "set-pin".into(),
        id.clone(),
        "--pin-stdin".into(),
    ];
    let (r, _) = zkctl_async(args, Some("13579\n")).await;
    r.ok();
    assert_eq!(prepare_buffers(&sim) - before, 2, "zkctl users set-pin");
    assert_eq!(
        sim.user(&id).unwrap().password(sim.encoding()).expose(),
        "13579"
    );
}

/// A TCP proxy in front of the simulator that hands the client's packets
/// to `edit` (which may replace them) and closes the connection after
/// forwarding the reply to `CMD_USER_WRQ` when `close_after_write`.
async fn proxy(
    upstream: SocketAddr,
    close_after_write: bool,
    edit: impl Fn(Packet) -> Packet + Send + Sync + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let edit = Arc::new(edit);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let edit = edit.clone();
            tokio::spawn(async move {
                let dev = TcpStream::connect(upstream).await.unwrap();
                let (mut cr, mut cw) = client.into_split();
                let (mut dr, mut dw) = dev.into_split();
                let mut write_id: Option<u16> = None;
                loop {
                    // one request, then its replies until the reply id matches
                    let Some(req) = read_frame(&mut cr).await else {
                        return;
                    };
                    let req = edit(req);
                    if req.command() == Command::UserWrq {
                        write_id = Some(req.reply_id);
                    }
                    if dw.write_all(&tcp_frame(&req)).await.is_err() {
                        return;
                    }
                    let Some(rep) = read_frame(&mut dr).await else {
                        return;
                    };
                    let _ = cw.write_all(&tcp_frame(&rep)).await;
                    if close_after_write && write_id == Some(rep.reply_id) {
                        return; // drops both connections
                    }
                }
            });
        }
    });
    addr
}

async fn read_frame(r: &mut (impl AsyncReadExt + Unpin)) -> Option<Packet> {
    let mut head = [0u8; 8];
    r.read_exact(&mut head).await.ok()?;
    let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await.ok()?;
    Packet::decode(&payload, ChecksumMode::Strict).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_lost_after_the_ack_is_an_unconfirmed_write() {
    common::built();
    let (sim, server) = sim_server(5).await;
    let id = sim.users()[1].user_id(sim.encoding()).to_string();
    let addr = proxy(server.tcp_addr().unwrap(), true, |p| p).await;
    let mut c = Client::connect(addr, opts(Transport::Tcp)).await.unwrap();
    let e = c.set_pin(&id, "1122").await.unwrap_err();
    assert!(matches!(e, Error::WriteUnconfirmed { .. }), "{e}");
    assert!(e.to_string().contains("may have been made"), "{e}");
    drop(c);

    let args = vec![
        "--device".into(),
        addr.to_string(),
        "--tcp".into(),
        "users".into(),
        "set-pin".into(),
        id.clone(),
        "--pin-stdin".into(),
    ];
    let (r, _) = zkctl_async(args, Some("3344\n")).await;
    let r = r.fails(4);
    assert!(
        r.stderr.contains(&format!(
            "the PIN may have been changed; run `zkctl users show {id}` to check"
        )),
        "{r:?}"
    );
    assert!(!r.stderr.contains("check the address"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_refresh_after_the_ack_never_shows_the_session_id() {
    common::built();
    let (sim, server) = sim_server(5).await;
    sim.set_next_session_id(16962);
    sim.set_fault(Fault::ReplyWith {
        command: Command::RefreshData,
        reply: ReplyCode::AckError,
    });
    let id = sim.users()[1].user_id(sim.encoding()).to_string();
    let args = vec![
        "--device".into(),
        server.tcp_addr().unwrap().to_string(),
        "--tcp".into(),
        "users".into(),
        "set-pin".into(),
        id.clone(),
        "--pin-stdin".into(),
    ];
    let (r, _) = zkctl_async(args, Some("5566\n")).await;
    let r = r.fails(4);
    assert!(!r.stderr.contains("16962"), "{r:?}");
    assert!(r.stderr.contains("CMD_REFRESHDATA"), "{r:?}");
    assert!(r.stderr.contains("the PIN may have been changed"), "{r:?}");
}

#[tokio::test]
async fn pin_written_to_another_user_is_reported_as_such() {
    let (sim, server) = sim_server(5).await;
    let users = sim.users();
    let (target, victim) = (users[1].clone(), users[3].clone());
    let mut victim_new = victim.clone();
    victim_new.set_password("7788").unwrap();
    let record = victim_new.to_bytes();
    // Firmware that writes the record to the wrong uid.
    let addr = proxy(server.tcp_addr().unwrap(), false, move |p| {
        if p.command() == Command::UserWrq {
            Packet::new(Command::UserWrq, p.session_id, p.reply_id, record.clone())
        } else {
            p
        }
    })
    .await;
    let mut c = Client::connect(addr, opts(Transport::Tcp)).await.unwrap();
    let e = c
        .set_pin(&target.user_id(sim.encoding()), "7788")
        .await
        .unwrap_err();
    match &e {
        Error::WrongUserChanged {
            uid, changed_uid, ..
        } => {
            assert_eq!((*uid, *changed_uid), (target.uid(), victim.uid()));
        }
        other => panic!("{other}"),
    }
    assert!(
        e.to_string().contains(&format!("uid {}", victim.uid())),
        "{e}"
    );
}

#[tokio::test]
async fn not_a_terminal_shows_hex_and_text() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let e = Client::connect(addr, opts(Transport::Tcp))
        .await
        .unwrap_err();
    assert!(e.to_string().contains(r#"48 54 54 50 "HTTP""#), "{e}");
}
