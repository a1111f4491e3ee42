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
//! are bounded by the simulator's [`NetLimits`] ([`crate::sim_net`]).

use crate::sim_net::{self, IdleClock, NetLimits};
use crate::terminal::frame::{Peek, TagCheck, TcpFraming};
use crate::terminal::record::template::MAX_TEMPLATE_LEN;
use crate::terminal::sim::Shared;
use crate::terminal::sim::device::{Outgoing, PeerKey, Transport};
use bytes::{Buf, Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest command packet (8-byte header + data, without the TCP envelope)
/// accepted from a client: the largest a client may legally send. Uploads
/// travel in `CMD_DATA` chunks of at most 1024 bytes (§1.6; pyzk and this
/// crate's client), and the largest inline write is `CMD_TMP_WRITE` with
/// its 6-byte header and a template of up to
/// [`MAX_TEMPLATE_LEN`](crate::terminal::record::template::MAX_TEMPLATE_LEN)
/// bytes. A longer announcement closes the connection as soon as its
/// envelope arrives, so a connection never buffers more than one such frame.
pub const MAX_TCP_PACKET: usize = 8 + 6 + MAX_TEMPLATE_LEN;

/// Data of at least this many bytes is written from the packet's own
/// buffer (a vectored write after the frame head, when the stream supports
/// vectored writes, as TCP sockets do) instead of being copied into the
/// write buffer first: the data packets of a bulk read.
const BORROW_DATA_FROM: usize = 4096;

/// A running server; it stops when dropped or on [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct SimServer {
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
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
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in core::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub(crate) async fn serve(
    shared: Arc<Shared>,
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    limits: NetLimits,
) -> std::io::Result<SimServer> {
    let (stop, _) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut tcp_addr = None;
    let mut udp_addr = None;
    if let Some(addr) = tcp {
        let listener = TcpListener::bind(addr).await?;
        tcp_addr = Some(listener.local_addr()?);
        let shared = shared.clone();
        let stop_conn = stop.subscribe();
        tasks.push(tokio::spawn(sim_net::accept_loop(
            listener,
            limits,
            stop.subscribe(),
            "terminal",
            move |stream, from| {
                let peer = shared.new_tcp_peer();
                tracing::debug!(?peer, %from, "TCP connection");
                run_stream(shared.clone(), stream, peer, stop_conn.clone(), limits)
            },
        )));
    }
    if let Some(addr) = udp {
        let sock = UdpSocket::bind(addr).await?;
        udp_addr = Some(sock.local_addr()?);
        tasks.push(tokio::spawn(udp_loop(
            shared.clone(),
            sock,
            stop.subscribe(),
        )));
    }
    tracing::info!(tcp = ?tcp_addr, udp = ?udp_addr, "simulator listening");
    Ok(SimServer {
        tcp: tcp_addr,
        udp: udp_addr,
        stop,
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
            _ = sim_net::sleep_until(deadline) => {
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
    let mut pending = BytesMut::new();
    for o in out {
        if !o.delay.is_zero() {
            if flush(wr, &mut pending).await.is_err() {
                return false;
            }
            tokio::time::sleep(o.delay).await;
        }
        if !o.drop {
            pending.extend_from_slice(&o.tcp_head());
            let data = &o.packet.data;
            let sent = match o.split {
                None if !o.coalesce_with_next
                    && data.len() >= BORROW_DATA_FROM
                    && wr.is_write_vectored() =>
                {
                    flush_with(wr, &mut pending, data.clone()).await
                }
                _ if o.coalesce_with_next => {
                    pending.extend_from_slice(data);
                    Ok(())
                }
                Some(n) => {
                    pending.extend_from_slice(data);
                    write_pieces(wr, pending.split().freeze(), n).await
                }
                None => {
                    pending.extend_from_slice(data);
                    flush(wr, &mut pending).await
                }
            };
            if sent.is_err() {
                return false;
            }
        }
        if o.close_after {
            let _ = flush(wr, &mut pending).await;
            return false;
        }
    }
    flush(wr, &mut pending).await.is_ok()
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

/// Writes `pending` followed by `data` as one (vectored) write and flushes,
/// without copying `data` into `pending`.
async fn flush_with<W: AsyncWrite + Unpin>(
    wr: &mut W,
    pending: &mut BytesMut,
    data: Bytes,
) -> std::io::Result<()> {
    let mut frame = pending.split().freeze().chain(data);
    wr.write_all_buf(&mut frame).await?;
    wr.flush().await
}

async fn flush<W: AsyncWrite + Unpin>(wr: &mut W, pending: &mut BytesMut) -> std::io::Result<()> {
    if !pending.is_empty() {
        wr.write_all(pending).await?;
        pending.clear();
    }
    wr.flush().await
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
