//! Reply pacing of the terminal simulator (reference §4 and the firmware
//! notes): every frame its own write and flush, `link` gaps, `firmware` data
//! gaps, long pauses and MTU pieces, the announced packet size, the late
//! closing `CMD_ACK_OK`, and a client with the field habit of reading one
//! frame per socket read.
//!
//! Wire-level checks run the server loop over a recording stream in tokio's
//! paused time, and client checks run over a duplex pipe in paused time, so
//! the measured gaps are exact and nothing depends on the machine's speed.
//! Only the one-read-per-frame client runs over real loopback TCP, as it
//! would in the field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use zkproto::terminal::client::{Client, Options, Transport as ClientTransport};
use zkproto::terminal::frame::tcp_frame;
use zkproto::terminal::packet::ChecksumMode;
use zkproto::terminal::record::attendance::encode_attendance_table;
use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead, PrepareData, ReadChunk};
use zkproto::terminal::record::user::encode_users;
use zkproto::terminal::sim::pacing::LINK_GAP;
use zkproto::terminal::sim::{
    Device, Fault, FirmwarePacing, Outgoing, Pacing, PeerKey, Profile, SimConfig, Simulator,
};
use zkproto::terminal::{Command, Packet, ReplyCode};

const SESSION: u16 = 0x4AB6;
/// The client's TCP chunk size.
const CHUNK: usize = 0xFFC0;
/// 910 × 72 + 4 = 65,524 bytes: one full chunk and a last one of 52 bytes,
/// answered without `CMD_PREPARE_DATA`.
const USERS: usize = 910;
const ATTENDANCE: usize = 3000;

fn config(profile: Profile, users: usize, attendance: usize, pacing: Option<Pacing>) -> SimConfig {
    SimConfig {
        profile,
        users,
        attendance,
        pacing,
        ..SimConfig::default()
    }
}

fn req(cmd: Command, reply_id: u16, data: Bytes) -> Packet {
    Packet::new(cmd, SESSION, reply_id, data)
}

fn read_chunk(reply_id: u16, offset: u32, len: u32) -> Packet {
    req(
        Command::ReadBuffer,
        reply_id,
        ReadChunk { offset, len }.encode(),
    )
}

// ------------------------------------------------------------- the wire

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Write(Vec<u8>),
    Flush,
}

type Log = Arc<Mutex<Vec<(Instant, Op)>>>;

/// A byte stream that delivers `input` then EOF, and records every write
/// and flush of the server with the (paused) time.
struct Recorder {
    input: Vec<u8>,
    log: Log,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.input.len().min(buf.remaining());
        let rest = self.input.split_off(n);
        buf.put_slice(&self.input);
        self.input = rest;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.log
            .lock()
            .unwrap()
            .push((Instant::now(), Op::Write(buf.to_vec())));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.log.lock().unwrap().push((Instant::now(), Op::Flush));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// One write of the server: when (since the start), and the bytes.
#[derive(Debug)]
struct Written {
    at: Duration,
    bytes: Vec<u8>,
}

/// Connects, then sends `requests` (session [`SESSION`]) in one go over a
/// recording stream; returns the server's writes. Checks that every write
/// is followed by its own flush.
async fn record(sim: &Simulator, requests: &[Packet]) -> Vec<Written> {
    sim.set_next_session_id(SESSION);
    let mut input = tcp_frame(&Packet::new(Command::Connect, 0, 0, &[][..])).to_vec();
    for r in requests {
        input.extend_from_slice(&tcp_frame(r));
    }
    let log = Log::default();
    let start = Instant::now();
    sim.serve_stream(Recorder {
        input,
        log: log.clone(),
    })
    .await;
    let log = log.lock().unwrap().clone();
    let mut writes = Vec::new();
    let mut ops = log.into_iter().peekable();
    while let Some((at, op)) = ops.next() {
        match op {
            Op::Write(bytes) => {
                assert!(
                    matches!(ops.next(), Some((_, Op::Flush))),
                    "every write is flushed on its own"
                );
                writes.push(Written {
                    at: at - start,
                    bytes,
                });
            }
            Op::Flush => {} // the final flush of an empty batch
        }
    }
    writes
}

/// A frame as it went on the wire: the time of the first and last write
/// holding its bytes, and how many writes did.
#[derive(Debug)]
struct Frame {
    packet: Packet,
    wire: Vec<u8>,
    first: Duration,
    last: Duration,
    writes: usize,
}

/// Splits the written bytes into frames.
fn frames(writes: &[Written]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut first = Duration::ZERO;
    let mut count = 0;
    for w in writes {
        if pending.is_empty() {
            first = w.at;
            count = 0;
        }
        pending.extend_from_slice(&w.bytes);
        count += 1;
        loop {
            if pending.len() < 8 {
                break;
            }
            let want = 8 + u32::from_le_bytes(pending[4..8].try_into().unwrap()) as usize;
            if pending.len() < want {
                break;
            }
            let rest = pending.split_off(want);
            let wire = std::mem::replace(&mut pending, rest);
            out.push(Frame {
                packet: Packet::decode(&wire[8..], ChecksumMode::Strict).unwrap(),
                wire,
                first,
                last: w.at,
                writes: count,
            });
            first = w.at;
            count = 1;
        }
    }
    assert!(pending.is_empty(), "no partial frame at the end");
    out
}

fn codes(frames: &[Frame]) -> Vec<ReplyCode> {
    frames.iter().map(|f| f.packet.reply_code()).collect()
}

/// The writes of: connect, 1503 for the users table, one 1504 of `len`
/// bytes.
async fn chunk_writes(sim: &Simulator, len: u32) -> Vec<Written> {
    record(
        sim,
        &[
            req(Command::PrepareBuffer, 1, BulkRead::users().encode()),
            read_chunk(2, 0, len),
        ],
    )
    .await
}

/// The frames of: connect, 1503 for the users table, one 1504 of `len`
/// bytes.
async fn one_chunk(sim: &Simulator, len: u32) -> Vec<Frame> {
    let f = frames(&chunk_writes(sim, len).await);
    assert_eq!(
        &codes(&f)[..2],
        [ReplyCode::AckOk, ReplyCode::AckOk],
        "connect, descriptor"
    );
    f
}

#[tokio::test(start_paused = true)]
async fn golden_prepare_data_of_a_1364_byte_read_on_zk8() {
    // A real capture (zk8 firmware, posted to a JS client's tracker):
    // PREPARE_DATA for a 0x554-byte read, packet size 0xFFF8.
    let golden = hex("5050827d10000000dc051baab64a050054050000f8ff0000");
    let sim = Simulator::new(config(Profile::zk8(), 19, 0, None));
    let writes = record(
        &sim,
        &[
            req(Command::PrepareBuffer, 4, BulkRead::users().encode()),
            read_chunk(5, 0, 1364),
        ],
    )
    .await;
    let f = frames(&writes);
    assert_eq!(
        codes(&f),
        [
            ReplyCode::AckOk,
            ReplyCode::AckOk,
            ReplyCode::PrepareData,
            ReplyCode::Data,
            ReplyCode::AckOk
        ]
    );
    assert_eq!(f[2].wire, golden);
    assert_eq!(f[3].packet.data.len(), 1364);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_frame_is_written_and_flushed_on_its_own_in_every_mode() {
    for pacing in [Pacing::None, Pacing::link(), Pacing::firmware()] {
        let sim = Simulator::new(config(Profile::zk8_1008(), 100, 0, Some(pacing)));
        let writes = chunk_writes(&sim, 7204).await;
        let f = frames(&writes);
        // 1,024 data bytes + 16 fit in one 1,460-byte segment: with pacing,
        // exactly one write per frame.
        if pacing != Pacing::None {
            assert_eq!(writes.len(), f.len(), "{pacing}: one write per frame");
        }
        // 7,204 bytes in 1,008-byte packets: 8 CMD_DATA.
        assert_eq!(f.len(), 2 + 1 + 8 + 1, "{pacing}");
        assert_eq!(f[2].packet.reply_code(), ReplyCode::PrepareData);
        assert_eq!(
            PrepareData::parse(&f[2].packet.data).unwrap(),
            PrepareData {
                len: 7204,
                packet_size: Some(1008)
            }
        );
        assert!(f[3..10].iter().all(|d| d.packet.data.len() == 1008));
        assert_eq!(f[10].packet.data.len(), 7204 - 7 * 1008);
        assert_eq!(f[11].packet.reply_code(), ReplyCode::AckOk);
        let gaps: Vec<Duration> = f.windows(2).map(|w| w[1].first - w[0].last).collect();
        match pacing {
            Pacing::None => {
                // One write per reply: connect, descriptor, the whole burst.
                assert_eq!(writes.len(), 3);
                assert!(gaps.iter().all(|g| g.is_zero()), "{gaps:?}");
            }
            Pacing::Link { .. } => {
                // Single replies go at once; the frames of the burst 5 ms apart.
                assert!(gaps[..2].iter().all(|g| g.is_zero()), "{gaps:?}");
                assert!(gaps[2..].iter().all(|g| *g >= LINK_GAP));
                assert!(gaps[2..].iter().all(|g| *g < Duration::from_millis(10)));
            }
            _ => {
                // PREPARE_DATA → first DATA: the frame gap; then 20 ms after
                // each data packet, the last one included.
                assert!(gaps[2] >= Duration::from_millis(2) && gaps[2] < Duration::from_millis(10));
                for g in &gaps[3..] {
                    assert!(*g >= Duration::from_millis(20) && *g < Duration::from_millis(30));
                }
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn firmware_pauses_every_n_data_packets() {
    let pacing = Pacing::Firmware(FirmwarePacing {
        pause_every: 3,
        pause: Duration::from_millis(1200),
        ..FirmwarePacing::default()
    });
    let sim = Simulator::new(config(Profile::zk8_1008(), 100, 0, Some(pacing)));
    let f = one_chunk(&sim, 7204).await;
    let after_data: Vec<u128> = f[3..]
        .windows(2)
        .map(|w| (w[1].first - w[0].last).as_millis())
        .collect();
    // After data packets 1..=8: 20, 20, pause, 20, 20, pause, 20, 20.
    assert_eq!(after_data.len(), 8);
    for (i, ms) in after_data.iter().enumerate() {
        if (i + 1) % 3 == 0 {
            assert!((1200..1210).contains(ms), "packet {}: {ms} ms", i + 1);
        } else {
            assert!((20..30).contains(ms), "packet {}: {ms} ms", i + 1);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn firmware_writes_large_frames_in_ethernet_segments() {
    let sim = Simulator::new(config(Profile::zk8(), USERS, 0, Some(Pacing::firmware())));
    let f = one_chunk(&sim, CHUNK as u32).await;
    assert_eq!(
        codes(&f)[2..],
        [ReplyCode::PrepareData, ReplyCode::Data, ReplyCode::AckOk]
    );
    let data = &f[3];
    let wire_len = 16 + CHUNK;
    assert_eq!(data.wire.len(), wire_len);
    assert_eq!(data.writes, wire_len.div_ceil(1460), "1,460-byte pieces");
    // The pieces are spread out: at least 1 ms apart.
    assert!(data.last - data.first >= Duration::from_millis(data.writes as u64 - 1));
    // The same frame with link pacing is one write.
    sim.set_pacing(Pacing::link());
    let f = one_chunk(&sim, CHUNK as u32).await;
    assert_eq!(f[3].writes, 1);
}

#[tokio::test(start_paused = true)]
async fn reads_of_1024_bytes_or_less_come_without_prepare_data() {
    let sim = Simulator::new(config(Profile::zk8_1008(), 100, 0, None));
    let f = one_chunk(&sim, 1024).await;
    assert_eq!(codes(&f)[2..], [ReplyCode::Data]);
    assert_eq!(f[2].packet.data.len(), 1024);
    let f = one_chunk(&sim, 1025).await;
    assert_eq!(
        codes(&f)[2..],
        [
            ReplyCode::PrepareData,
            ReplyCode::Data,
            ReplyCode::Data,
            ReplyCode::AckOk
        ]
    );
}

#[test]
fn udp_replies_are_paced_too() {
    let peer = PeerKey::Udp("127.0.0.1:4000".parse().unwrap());
    let now = std::time::Instant::now();
    for (pacing, first_data, between_data) in [
        (Pacing::None, 0, 0),
        (Pacing::link(), 0, 0), // datagrams are separate frames already
        (Pacing::firmware(), 2, 20),
    ] {
        let mut dev = Device::new(&config(Profile::zk8(), 100, 0, Some(pacing)));
        dev.set_next_session_id(SESSION);
        let send = |dev: &mut Device, p: &Packet| -> Vec<Outgoing> {
            dev.handle(peer, &p.to_bytes(), now)
        };
        send(&mut dev, &Packet::new(Command::Connect, 0, 0, &[][..]));
        send(
            &mut dev,
            &req(Command::PrepareBuffer, 1, BulkRead::users().encode()),
        );
        let out = send(&mut dev, &read_chunk(2, 0, 4000));
        // PREPARE_DATA, 4 × 1,024-byte datagrams, ACK_OK.
        assert_eq!(out.len(), 6, "{pacing}");
        let ms: Vec<u128> = out.iter().map(|o| o.delay.as_millis()).collect();
        assert_eq!(
            ms,
            [
                0,
                first_data,
                between_data,
                between_data,
                between_data,
                between_data
            ],
            "{pacing}"
        );
        assert!(out.iter().all(|o| o.split.is_none()), "no pieces over UDP");
    }
}

// ---------------------------------------------------------- the client

/// The client over a duplex pipe to the simulator, in paused time.
async fn attach(sim: &Simulator, options: Options) -> Client {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let s = sim.clone();
    tokio::spawn(async move { s.serve_stream(b).await });
    Client::attach(a, options).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_client_drops_a_late_closing_ack_by_reply_id() {
    let sim = Simulator::new(config(Profile::zk8(), USERS, ATTENDANCE, None));
    sim.set_fault(Fault::LateBurstAck(Duration::from_millis(300)));
    let mut c = attach(&sim, Options::new()).await;
    let before = c.stats().stale_discarded;
    let t = Instant::now();
    assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
    assert_eq!(c.users().await.unwrap(), sim.users());
    // Attendance: two bursts; users: one burst and one small chunk. Each
    // closing ACK comes 300 ms late, after the client (which had all the
    // data) sent its next request, and is discarded as stale.
    assert!(c.stats().stale_discarded - before >= 3, "{:?}", c.stats());
    assert!(t.elapsed() >= Duration::from_millis(900));
    c.disconnect().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn firmware_long_pauses_do_not_trip_the_default_timeouts() {
    let pacing = Pacing::Firmware(FirmwarePacing {
        pause_every: 8,
        pause: Duration::from_millis(1200),
        ..FirmwarePacing::default()
    });
    // 500 records: 20,004 bytes, one chunk of 20 data packets of 1,008
    // bytes, two long pauses.
    let sim = Simulator::new(config(Profile::zk8_1008(), 0, 500, Some(pacing)));
    let mut c = attach(&sim, Options::new()).await;
    let t = Instant::now();
    assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
    assert!(
        t.elapsed() >= Duration::from_millis(2400),
        "{:?}",
        t.elapsed()
    );
    c.disconnect().await.unwrap();

    // The pauses are real: a client allowing less than the pause between
    // two packets gives up.
    let short = Options::new()
        .timeout(Duration::from_secs(1))
        .chunk_timeout(Duration::from_secs(1));
    let mut c = attach(&sim, short).await;
    assert!(c.attendance().await.is_err());
}

/// A download that keeps making progress at firmware speed is never cut by
/// the overall bulk budget, even with a short timeout: 5,000 records are
/// four 64 KiB chunks of 65 packets each, about 11 s a chunk with a 1.2 s
/// pause every 8 packets, while the timeout is 2 s. The budget allows each
/// KiB the pacing of firmware (`FIRMWARE_PACE_PER_KIB`), on top of one
/// timeout per exchange.
#[tokio::test(start_paused = true)]
async fn a_slow_but_steady_firmware_download_fits_the_bulk_budget() {
    let pacing = Pacing::Firmware(FirmwarePacing {
        pause_every: 8,
        pause: Duration::from_millis(1200),
        ..FirmwarePacing::default()
    });
    let sim = Simulator::new(config(Profile::zk8_1008(), 0, 5_000, Some(pacing)));
    let opts = Options::new()
        .timeout(Duration::from_secs(2))
        .chunk_timeout(Duration::from_secs(2));
    let mut c = attach(&sim, opts).await;
    let t = Instant::now();
    assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
    // Slower than one timeout per chunk: the exchange term alone
    // (2 s × (2 + 4 + 3) = 18 s) would have cut it.
    assert!(t.elapsed() > Duration::from_secs(18), "{:?}", t.elapsed());
    c.disconnect().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_client_reassembles_mtu_pieces_and_many_packet_bursts() {
    for profile in [Profile::zk8(), Profile::zk8_1008()] {
        let sim = Simulator::new(config(profile, USERS, ATTENDANCE, Some(Pacing::firmware())));
        let mut c = attach(&sim, Options::new()).await;
        assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
        assert_eq!(c.users().await.unwrap(), sim.users());
        c.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_downloads_over_udp_with_firmware_pacing() {
    let sim = Simulator::new(config(Profile::zk8(), 20, 300, Some(Pacing::firmware())));
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(None, Some(any)).await.unwrap();
    let opts = Options::new().transport(ClientTransport::Udp);
    let mut c = Client::connect(server.udp_addr().unwrap(), opts)
        .await
        .unwrap();
    assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
    assert_eq!(c.users().await.unwrap(), sim.users());
    c.disconnect().await.unwrap();
    server.shutdown().await;
}

// ------------------------------------------ a client with the field habit

/// A client written the way many are in the field: one `read()` per
/// expected frame into a fixed buffer; if the first frame in it is not
/// complete it keeps reading until it is; whatever came after the first
/// frame is thrown away.
struct NaiveClient {
    tcp: TcpStream,
    buf: Vec<u8>,
    session: u16,
    reply_id: u16,
}

impl NaiveClient {
    fn connect(addr: SocketAddr) -> std::io::Result<NaiveClient> {
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut c = NaiveClient {
            tcp,
            buf: vec![0; 65_536 + 8 + 8],
            session: 0,
            reply_id: 0,
        };
        let p = c.call(Command::Connect, Bytes::new())?;
        c.session = p.session_id;
        Ok(c)
    }

    fn send(&mut self, cmd: Command, data: Bytes) -> std::io::Result<()> {
        let p = Packet::new(cmd, self.session, self.reply_id, data);
        self.reply_id += 1;
        self.tcp.write_all(&tcp_frame(&p))
    }

    /// One frame: one read, more only while the first frame is incomplete;
    /// the rest of what was read is discarded.
    fn frame(&mut self) -> std::io::Result<Packet> {
        let mut have = self.tcp.read(&mut self.buf)?;
        loop {
            if have >= 8 {
                let len = u32::from_le_bytes(self.buf[4..8].try_into().unwrap()) as usize;
                let end = 8 + len;
                if end > self.buf.len() {
                    return Err(ErrorKind::InvalidData.into());
                }
                if have >= end {
                    return Packet::decode(&self.buf[8..end], ChecksumMode::Strict)
                        .map_err(|_| ErrorKind::InvalidData.into());
                }
            }
            let n = self.tcp.read(&mut self.buf[have..])?;
            if n == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
            have += n;
        }
    }

    fn call(&mut self, cmd: Command, data: Bytes) -> std::io::Result<Packet> {
        self.send(cmd, data)?;
        self.frame()
    }

    /// 1503, then 1504 in 0xFFC0 chunks (PREPARE_DATA, DATA, ACK_OK for a
    /// large chunk; one DATA for a small one), then 1502.
    fn table(&mut self, what: BulkRead) -> std::io::Result<Vec<u8>> {
        let p = self.call(Command::PrepareBuffer, what.encode())?;
        let size = match p.reply_code() {
            ReplyCode::Data => return Ok(p.data.to_vec()),
            ReplyCode::AckOk => {
                BufferDescriptor::parse(&p.data)
                    .map_err(|_| std::io::Error::from(ErrorKind::InvalidData))?
                    .size as usize
            }
            _ => return Err(ErrorKind::InvalidData.into()),
        };
        let mut table = Vec::with_capacity(size);
        while table.len() < size {
            let len = (size - table.len()).min(CHUNK);
            let chunk = ReadChunk {
                offset: table.len() as u32,
                len: len as u32,
            };
            let p = self.call(Command::ReadBuffer, chunk.encode())?;
            match p.reply_code() {
                ReplyCode::Data => table.extend_from_slice(&p.data),
                ReplyCode::PrepareData => {
                    let data = self.frame()?;
                    if data.reply_code() != ReplyCode::Data || data.data.len() != len {
                        return Err(ErrorKind::InvalidData.into());
                    }
                    table.extend_from_slice(&data.data);
                    if self.frame()?.reply_code() != ReplyCode::AckOk {
                        return Err(ErrorKind::InvalidData.into());
                    }
                }
                _ => return Err(ErrorKind::InvalidData.into()),
            }
        }
        self.call(Command::FreeData, Bytes::new())?;
        Ok(table)
    }
}

/// Downloads the attendance and user tables with the naive client on a
/// thread of its own.
async fn naive_download(addr: SocketAddr) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    // One naive download at a time, so the tests of this file do not take
    // the CPU from each other's reading thread.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    tokio::task::spawn_blocking(move || {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut c = NaiveClient::connect(addr)?;
        let att = c.table(BulkRead::attendance())?;
        let users = c.table(BulkRead::users())?;
        let _ = c.call(Command::Exit, Bytes::new());
        Ok((att, users))
    })
    .await
    .unwrap()
}

async fn serve_tcp(pacing: Option<Pacing>) -> (Simulator, zkproto::terminal::sim::SimServer) {
    let sim = Simulator::new(config(Profile::zk8(), USERS, ATTENDANCE, pacing));
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), None).await.unwrap();
    (sim, server)
}

#[test]
fn the_tables_of_the_field_test_have_the_intended_shape() {
    // Users: one full chunk, and a last chunk small enough to come as a
    // single CMD_DATA; attendance: two full bursts.
    let users = USERS * 72 + 4;
    assert_eq!(users, 65_524);
    assert!(users > CHUNK && users - CHUNK <= 1024);
    let att = ATTENDANCE * 40 + 4;
    assert!(att > CHUNK && att - CHUNK > 1024 && att <= 2 * CHUNK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_read_per_frame_client_gets_everything_from_the_default_simulator() {
    let (sim, server) = serve_tcp(None).await;
    assert_eq!(sim.pacing(), Pacing::link());
    let (att, users) = naive_download(server.tcp_addr().unwrap()).await.unwrap();
    assert_eq!(att, encode_attendance_table(&sim.attendance()).unwrap());
    assert_eq!(users, encode_users(&sim.users()));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_read_per_frame_client_loses_data_without_pacing() {
    let (sim, server) = serve_tcp(Some(Pacing::None)).await;
    let want_att = encode_attendance_table(&sim.attendance()).unwrap();
    let want_users = encode_users(&sim.users());
    match naive_download(server.tcp_addr().unwrap()).await {
        Ok((att, users)) => assert!(
            att != want_att || users != want_users,
            "frames written back to back reached the naive client intact"
        ),
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::InvalidData
            ),
            "{e}"
        ),
    }
    server.shutdown().await;
}
