//! The tokio adapters: a TCP listener (one task per connection, connections
//! served concurrently), a UDP socket loop, and a loop for any byte stream.
//!
//! The server only moves bytes: framing uses [`TcpFraming`] (checking only
//! the `82 7d` tag bytes, as firmware does), every packet goes to
//! [`Device::handle`](super::Device::handle), and the returned
//! [`Outgoing`] packets are written with their delivery flags (delay, split,
//! drop, close), each frame with its own write and flush (over UDP, its own
//! datagram); the device model sets the delays and splits of its
//! [pacing](super::Pacing). Realtime events are written when the device
//! announces them. A TCP stream whose envelope is malformed or announces
//! more than [`MAX_TCP_PACKET`] is closed. Connection count and idle time
//! are bounded by the simulator's [`NetLimits`] ([`crate::net::sim`]).

use crate::net::sim::{self, IdleClock, NetLimits, Tasks};
use crate::terminal::frame::{Peek, TagCheck, TcpFraming};
use crate::terminal::record::template::MAX_TEMPLATE_LEN;
use crate::terminal::sim::Shared;
use crate::terminal::sim::device::{Outgoing, PeerKey, Transport};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// Largest command packet (8-byte header + data, without the TCP envelope)
/// accepted from a client: the largest a client may legally send. Uploads
/// travel in `CMD_DATA` chunks of at most 1024 bytes (§1.6; pyzk and this
/// crate's client), and the largest inline write is `CMD_TMP_WRITE` with
/// its 6-byte header and a template of up to
/// [`MAX_TEMPLATE_LEN`](crate::terminal::record::template::MAX_TEMPLATE_LEN)
/// bytes. A longer announcement closes the connection as soon as its
/// envelope arrives, so a connection never buffers more than one such frame.
pub const MAX_TCP_PACKET: usize = 8 + 6 + MAX_TEMPLATE_LEN;

/// Packet data of at least this many bytes is written from the packet's
/// own buffer instead of being copied into the write buffer (see
/// [`Pending`]).
const BORROW_DATA_FROM: usize = 4096;
/// Buffers passed to one vectored write at most.
const MAX_SLICES: usize = 64;

/// A running server; it stops when dropped or on [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct SimServer {
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    tasks: Tasks,
}

impl SimServer {
    /// The bound TCP address (`None` when TCP is not served).
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// The bound UDP address (`None` when UDP is not served).
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp
    }

    /// Stops accepting, closes every connection and waits for the tasks.
    pub async fn shutdown(self) {
        self.tasks.shutdown().await;
    }
}

pub(crate) async fn serve(
    shared: Arc<Shared>,
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    limits: NetLimits,
) -> std::io::Result<SimServer> {
    let mut tasks = Tasks::new();
    let mut tcp_addr = None;
    let mut udp_addr = None;
    if let Some(addr) = tcp {
        let shared = shared.clone();
        let stop_conn = tasks.stop_signal();
        let serve = move |stream, from| {
            let peer = shared.new_tcp_peer();
            tracing::debug!(?peer, %from, "TCP connection");
            run_stream(shared.clone(), stream, peer, stop_conn.clone(), limits)
        };
        tcp_addr = Some(tasks.serve_tcp(addr, limits, "terminal", serve).await?);
    }
    if let Some(addr) = udp {
        let sock = UdpSocket::bind(addr).await?;
        udp_addr = Some(sock.local_addr()?);
        let stop = tasks.stop_signal();
        tasks.spawn(udp_loop(shared.clone(), sock, stop));
    }
    tracing::info!(tcp = ?tcp_addr, udp = ?udp_addr, "simulator listening");
    Ok(SimServer {
        tcp: tcp_addr,
        udp: udp_addr,
        tasks,
    })
}

/// Serves one TCP-framed byte stream until EOF, a framing error, a
/// close-after reply, the idle deadline of `limits` or shutdown. The device
/// session is ended afterwards.
pub(crate) async fn run_stream<S>(
    shared: Arc<Shared>,
    io: S,
    peer: PeerKey,
    mut stop: watch::Receiver<bool>,
    limits: NetLimits,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut wake = shared.subscribe();
    let framing = TcpFraming {
        max_packet: MAX_TCP_PACKET,
        tag_check: TagCheck::CommandOnly,
    };
    let mut buf = BytesMut::with_capacity(4096);
    let mut idle = IdleClock::new(limits);
    'conn: loop {
        let deadline = idle.deadline(shared.activity(&peer));
        // Never buffer more than one frame of the largest legal size.
        let room = (8 + MAX_TCP_PACKET).saturating_sub(buf.len()).max(1);
        let mut limited = (&mut rd).take(room as u64);
        tokio::select! {
            r = limited.read_buf(&mut buf) => {
                match r {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(_) => {}
                }
                let mut completed = false;
                loop {
                    match framing.peek(&buf) {
                        Ok(Peek::Incomplete { .. }) => break,
                        Ok(Peek::Complete { frame_len }) => {
                            completed = true;
                            let frame = buf.split_to(frame_len);
                            let out = shared.handle(peer, frame.get(8..).unwrap_or_default());
                            if !write_tcp(&mut wr, out).await {
                                break 'conn;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(?peer, error = %e, "closing stream after a framing error");
                            break 'conn;
                        }
                    }
                }
                idle.after_read(completed, !buf.is_empty());
            }
            _ = sim::sleep_until(deadline) => {
                tracing::info!(?peer, partial = buf.len(), "closing an idle connection");
                break 'conn;
            }
            r = wake.changed() => {
                if r.is_err() {
                    break 'conn;
                }
                let out = shared.take_pushes_for(&peer);
                if !out.is_empty() && !write_tcp(&mut wr, out).await {
                    break 'conn;
                }
            }
            _ = stop.changed() => break 'conn,
        }
    }
    let _ = wr.shutdown().await;
    shared.disconnect(&peer);
}

/// Writes a batch, each frame with its own write and flush (pieces of a
/// split frame likewise, a millisecond apart), after the frame's delay; a
/// frame marked `coalesce_with_next` goes in the same write as the next.
/// Returns `false` when the connection must be closed.
async fn write_tcp<W: AsyncWrite + Unpin>(wr: &mut W, out: Vec<Outgoing>) -> bool {
    let mut pending = Pending::new(wr.is_write_vectored());
    for o in out {
        if !o.delay.is_zero() {
            if pending.flush(wr).await.is_err() {
                return false;
            }
            tokio::time::sleep(o.delay).await;
        }
        if !o.drop {
            pending.push_frame(&o);
            let sent = match o.split {
                _ if o.coalesce_with_next => Ok(()),
                Some(n) => write_pieces(wr, pending.take_all(), n).await,
                None => pending.flush(wr).await,
            };
            if sent.is_err() {
                return false;
            }
        }
        if o.close_after {
            let _ = pending.flush(wr).await;
            return false;
        }
    }
    pending.flush(wr).await.is_ok()
}

/// The bytes of the frames waiting for the next write. Frame heads and
/// small packets are copied together; the data of a large packet (a bulk
/// read's `CMD_DATA`) stays in its own buffer and goes out in the same
/// vectored write, when the stream supports vectored writes (TCP sockets
/// do); otherwise it is copied too, so that a flush is always one write.
#[derive(Debug)]
struct Pending {
    parts: VecDeque<Bytes>,
    tail: BytesMut,
    vectored: bool,
}

impl Pending {
    fn new(vectored: bool) -> Pending {
        Pending {
            parts: VecDeque::new(),
            tail: BytesMut::new(),
            vectored,
        }
    }

    fn push_frame(&mut self, o: &Outgoing) {
        self.tail.extend_from_slice(&o.tcp_head());
        let data = &o.packet.data;
        if self.vectored && data.len() >= BORROW_DATA_FROM {
            self.parts.push_back(self.tail.split().freeze());
            self.parts.push_back(data.clone());
        } else {
            self.tail.extend_from_slice(data);
        }
    }

    fn close_tail(&mut self) {
        if !self.tail.is_empty() {
            self.parts.push_back(self.tail.split().freeze());
        }
    }

    /// Everything pending as one buffer (copied together when in parts).
    fn take_all(&mut self) -> Bytes {
        self.close_tail();
        if self.parts.len() <= 1 {
            return self.parts.pop_front().unwrap_or_default();
        }
        let mut all = BytesMut::with_capacity(self.parts.iter().map(Bytes::len).sum());
        for p in self.parts.drain(..) {
            all.extend_from_slice(&p);
        }
        all.freeze()
    }

    /// Writes everything pending and flushes the stream.
    async fn flush<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) -> std::io::Result<()> {
        self.close_tail();
        while let Some(first) = self.parts.front() {
            let n = if self.parts.len() == 1 {
                wr.write(first).await?
            } else {
                let slices: Vec<IoSlice<'_>> = self
                    .parts
                    .iter()
                    .take(MAX_SLICES)
                    .map(|b| IoSlice::new(b))
                    .collect();
                wr.write_vectored(&slices).await?
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            self.consume(n);
        }
        wr.flush().await
    }

    /// Drops the first `n` bytes written.
    fn consume(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.parts.front_mut() else {
                return;
            };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.parts.pop_front();
        }
    }
}

/// Writes `bytes` in pieces of `n` bytes, each flushed, a millisecond apart.
async fn write_pieces<W: AsyncWrite + Unpin>(
    wr: &mut W,
    mut bytes: bytes::Bytes,
    n: usize,
) -> std::io::Result<()> {
    while bytes.has_remaining() {
        let piece = bytes.split_to(n.max(1).min(bytes.len()));
        wr.write_all(&piece).await?;
        wr.flush().await?;
        if bytes.has_remaining() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    Ok(())
}

async fn udp_loop(shared: Arc<Shared>, sock: UdpSocket, mut stop: watch::Receiver<bool>) {
    let sock = Arc::new(sock);
    let mut wake = shared.subscribe();
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    let out = shared.handle(PeerKey::Udp(from), buf.get(..n).unwrap_or_default());
                    send_udp(&sock, from, out).await;
                }
                Err(e) => tracing::debug!(error = %e, "UDP receive error"),
            },
            r = wake.changed() => {
                if r.is_err() {
                    break;
                }
                for (to, o) in shared.take_udp_pushes() {
                    send_udp(&sock, to, vec![o]).await;
                }
            }
            _ = stop.changed() => break,
        }
    }
}

async fn send_udp(sock: &Arc<UdpSocket>, to: SocketAddr, out: Vec<Outgoing>) {
    if out.iter().any(|o| !o.delay.is_zero()) {
        // Do not hold up other clients while this reply waits.
        let sock = sock.clone();
        tokio::spawn(async move { send_udp_now(&sock, to, out).await });
    } else {
        send_udp_now(sock, to, out).await;
    }
}

async fn send_udp_now(sock: &UdpSocket, to: SocketAddr, out: Vec<Outgoing>) {
    for (i, o) in out.into_iter().enumerate() {
        if !o.delay.is_zero() {
            tokio::time::sleep(o.delay).await;
        }
        let sent = if o.drop {
            Ok(0)
        } else {
            sock.send_to(&o.encode(Transport::Udp), to).await
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, %to, "UDP send error");
        }
        if o.close_after {
            break;
        }
        // Pace long bursts a little so a client's receive buffer keeps up.
        if i % 64 == 63 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::terminal::command::ReplyCode;
    use crate::terminal::packet::Packet;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Records writes (`None` for a flush); accepts at most `max` bytes per
    /// write, and vectored writes when `vectored`.
    struct Sink {
        ops: Vec<Option<Vec<u8>>>,
        max: usize,
        vectored: bool,
    }

    impl AsyncWrite for Sink {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.max);
            self.ops.push(Some(buf[..n].to_vec()));
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            assert!(self.vectored, "vectored write on a plain stream");
            let mut taken = Vec::new();
            for b in bufs {
                let room = self.max - taken.len();
                taken.extend_from_slice(&b[..b.len().min(room)]);
            }
            let n = taken.len();
            self.ops.push(Some(taken));
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            self.vectored
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            self.ops.push(None);
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// PREPARE_DATA, a large DATA packet (checksum corrupted) and ACK_OK,
    /// all in one write.
    fn burst() -> Vec<Outgoing> {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        let mut out = vec![
            Outgoing::new(Packet::new(
                ReplyCode::PrepareData,
                1,
                9,
                &[1u8, 2, 3, 4][..],
            )),
            Outgoing::new(Packet::new(ReplyCode::Data, 0, 9, data)),
            Outgoing::new(Packet::new(ReplyCode::AckOk, 1, 9, &[][..])),
        ];
        out[1].corrupt_checksum = true;
        out[0].coalesce_with_next = true;
        out[1].coalesce_with_next = true;
        out
    }

    fn expected(out: &[Outgoing]) -> Vec<u8> {
        out.iter()
            .flat_map(|o| o.encode(Transport::Tcp).to_vec())
            .collect()
    }

    async fn written(vectored: bool, max: usize) -> Vec<Option<Vec<u8>>> {
        let mut sink = Sink {
            ops: Vec::new(),
            max,
            vectored,
        };
        assert!(write_tcp(&mut sink, burst()).await);
        sink.ops
    }

    #[tokio::test]
    async fn a_vectored_write_sends_the_same_bytes_in_one_flush() {
        for max in [usize::MAX, 7, 70_010] {
            let ops = written(true, max).await;
            assert_eq!(ops.last(), Some(&None));
            let flushes = ops.iter().filter(|o| o.is_none()).count();
            assert_eq!(flushes, 2, "one flush for the batch, one at the end");
            if max == usize::MAX {
                assert_eq!(ops.len(), 3, "the batch is one (vectored) write");
            }
            let bytes: Vec<u8> = ops.into_iter().flatten().flatten().collect();
            assert_eq!(bytes, expected(&burst()), "max {max}");
        }
    }

    #[tokio::test]
    async fn a_plain_stream_gets_one_write_per_flush() {
        let ops = written(false, usize::MAX).await;
        assert_eq!(
            ops.len(),
            3,
            "{:?}",
            ops.iter().map(Option::is_some).collect::<Vec<_>>()
        );
        assert_eq!(ops[0].as_deref(), Some(&expected(&burst())[..]));
        assert_eq!((&ops[1], &ops[2]), (&None, &None));
    }

    #[test]
    fn take_all_joins_the_parts() {
        let mut p = Pending::new(true);
        for o in burst() {
            p.push_frame(&o);
        }
        assert_eq!(p.take_all(), expected(&burst()));
        assert!(p.parts.is_empty() && p.tail.is_empty());
    }
}
