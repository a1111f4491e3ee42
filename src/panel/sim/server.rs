//! The tokio adapters: a TCP listener (one task per connection), a UDP socket
//! loop for the protocol port and one for discovery.
//!
//! The server only moves bytes. On TCP it hunts for `AA` like the firmware:
//! skipped bytes go to [`Device::foreign`](super::Device::foreign), complete
//! frames to [`Device::handle`](super::Device::handle); a partial frame that
//! gets no more bytes for 2 s is given up (its `AA` is skipped). A connection
//! is closed when the device says so (wrong password, disconnect, restart,
//! another client taking over). Connection count and idle time are bounded
//! by the simulator's [`NetLimits`] ([`crate::net::sim`]); a connection
//! buffers at most one frame of the largest size the 16-bit length allows.

use super::Shared;
use super::device::{Outgoing, PeerKey};
use crate::net::sim::{self, IdleClock, NetLimits, Tasks};
use crate::panel::frame::{self, Peek, START};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// How long a partial frame may wait for the rest (the firmware waits ~2 s).
pub const PARTIAL_FRAME_TIMEOUT: Duration = Duration::from_secs(2);

/// A running server; it stops when dropped or on [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct SimServer {
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
    discovery: Option<SocketAddr>,
    tasks: Tasks,
}

impl SimServer {
    /// The bound TCP address.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// The bound UDP address (protocol port).
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp
    }

    /// The bound discovery address (a stand-in for UDP port 65535).
    pub fn discovery_addr(&self) -> Option<SocketAddr> {
        self.discovery
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
    discovery: Option<SocketAddr>,
    limits: NetLimits,
) -> std::io::Result<SimServer> {
    let mut tasks = Tasks::new();
    let mut addrs = (None, None, None);
    if let Some(addr) = tcp {
        let shared = shared.clone();
        let stop_conn = tasks.stop_signal();
        let serve = move |stream, from| {
            let peer = shared.new_tcp_peer();
            tracing::debug!(?peer, %from, "TCP connection");
            run_stream(shared.clone(), stream, peer, stop_conn.clone(), limits)
        };
        addrs.0 = Some(tasks.serve_tcp(addr, limits, "panel", serve).await?);
    }
    for (addr, slot) in [(udp, &mut addrs.1), (discovery, &mut addrs.2)] {
        if let Some(addr) = addr {
            let sock = UdpSocket::bind(addr).await?;
            *slot = Some(sock.local_addr()?);
            let stop = tasks.stop_signal();
            tasks.spawn(udp_loop(shared.clone(), sock, stop));
        }
    }
    tracing::info!(tcp = ?addrs.0, udp = ?addrs.1, discovery = ?addrs.2, "panel simulator listening");
    Ok(SimServer {
        tcp: addrs.0,
        udp: addrs.1,
        discovery: addrs.2,
        tasks,
    })
}

/// Largest frame a client can send: the 16-bit length's maximum of data
/// plus the frame overhead (c3-panel §1.1).
pub const MAX_FRAME: usize = frame::MAX_DATA + frame::OVERHEAD;

/// Splits the buffered bytes into foreign bytes and frames and hands them to
/// the device; returns what to send and whether a frame was handled.
fn process(shared: &Shared, peer: PeerKey, buf: &mut BytesMut) -> (Vec<Outgoing>, bool) {
    let mut out = Vec::new();
    let mut handled = false;
    loop {
        if buf.is_empty() {
            break;
        }
        if buf.first() != Some(&START) {
            let n = buf.iter().position(|&b| b == START).unwrap_or(buf.len());
            let skipped = buf.split_to(n);
            out.extend(shared.foreign(peer, &skipped));
            continue;
        }
        match frame::peek(buf, frame::MAX_DATA) {
            Ok(Peek::Incomplete { .. }) => break,
            Ok(Peek::Complete { frame_len }) => {
                // Like the firmware: the announced length bounds the frame;
                // a bad CRC or end byte gets no reply.
                let f = buf.split_to(frame_len);
                out.extend(shared.handle(peer, &f));
                handled = true;
            }
            Err(_) => buf.advance(1),
        }
    }
    (out, handled)
}

/// Serves one TCP byte stream until EOF, a close instruction, the idle
/// deadline of `limits` or shutdown.
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
    let mut buf = BytesMut::with_capacity(4096);
    let id = match peer {
        PeerKey::Tcp(id) => id,
        PeerKey::Udp(_) => 0,
    };
    let mut idle = IdleClock::new(limits);
    'conn: loop {
        let partial = !buf.is_empty();
        // The panel gives up a partial frame itself (below); the idle clock
        // only watches for frames.
        let deadline = idle.deadline(shared.activity(&peer));
        // Never buffer more than one frame of the largest size.
        let room = MAX_FRAME.saturating_sub(buf.len()).max(1);
        let mut limited = (&mut rd).take(room as u64);
        tokio::select! {
            r = limited.read_buf(&mut buf) => {
                match r {
                    Ok(0) | Err(_) => break 'conn,
                    Ok(_) => {}
                }
                let (out, handled) = process(&shared, peer, &mut buf);
                idle.after_read(handled, false);
                if !write_tcp(&mut wr, out).await {
                    break 'conn;
                }
            }
            _ = tokio::time::sleep(PARTIAL_FRAME_TIMEOUT), if partial => {
                tracing::debug!(?peer, len = buf.len(), "giving up a partial frame");
                buf.advance(1);
                let (out, handled) = process(&shared, peer, &mut buf);
                idle.after_read(handled, false);
                if !write_tcp(&mut wr, out).await {
                    break 'conn;
                }
            }
            _ = sim::sleep_until(deadline) => {
                tracing::info!(?peer, "closing an idle connection");
                break 'conn;
            }
            r = wake.changed() => {
                if r.is_err() || shared.take_kicked(id) {
                    break 'conn;
                }
            }
            _ = stop.changed() => break 'conn,
        }
        if shared.take_kicked(id) {
            break 'conn;
        }
    }
    let _ = wr.shutdown().await;
    shared.disconnect(&peer);
}

/// Writes a batch; returns `false` when the connection must be closed.
async fn write_tcp<W: AsyncWrite + Unpin>(wr: &mut W, out: Vec<Outgoing>) -> bool {
    for o in out {
        if !o.delay.is_zero() {
            tokio::time::sleep(o.delay).await;
        }
        let bytes = o.encode();
        match o.split {
            Some(n) if !bytes.is_empty() => {
                for piece in bytes.chunks(n.max(1)) {
                    if wr.write_all(piece).await.is_err() || wr.flush().await.is_err() {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            _ => {
                if !bytes.is_empty()
                    && (wr.write_all(&bytes).await.is_err() || wr.flush().await.is_err())
                {
                    return false;
                }
            }
        }
        if o.close_after {
            return false;
        }
    }
    true
}

async fn udp_loop(shared: Arc<Shared>, sock: UdpSocket, mut stop: watch::Receiver<bool>) {
    let sock = Arc::new(sock);
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    let out = shared.handle(PeerKey::Udp(from), buf.get(..n).unwrap_or_default());
                    let sock = sock.clone();
                    // Replies (possibly delayed) do not hold up other senders.
                    tokio::spawn(async move {
                        for o in out {
                            if !o.delay.is_zero() {
                                tokio::time::sleep(o.delay).await;
                            }
                            let bytes = o.encode();
                            if !bytes.is_empty()
                                && let Err(e) = sock.send_to(&bytes, from).await
                            {
                                tracing::debug!(error = %e, %from, "UDP send error");
                            }
                        }
                    });
                }
                Err(e) => tracing::debug!(error = %e, "UDP receive error"),
            },
            _ = stop.changed() => break,
        }
    }
}
