//! Probes over a fresh TCP connection: does the peer answer the other
//! family's first request? Each sends a read-only request and closes.

use super::{PeerKind, classify};
use crate::net::connect;
use crate::terminal::frame::{TCP_MAGIC, tcp_frame};
use crate::terminal::request::Request;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The read-only C3 probe of c3-panel §10: GetDeviceParam `~SerialNumber`
/// without a session.
const C3_PROBE: [u8; 21] = [
    0xaa, 0x01, 0x04, 0x0d, 0x00, 0x7e, 0x53, 0x65, 0x72, 0x69, 0x61, 0x6c, 0x4e, 0x75, 0x6d, 0x62,
    0x65, 0x72, 0x82, 0x92, 0x55,
];

/// Whether `peer` answers the C3 probe with a valid panel frame (`aa … 55`,
/// good CRC-16/ARC) within `wait`. Any failure is "no".
pub(crate) async fn is_panel(peer: SocketAddr, wait: Duration) -> bool {
    let attempt = async {
        let mut s = connect::tcp(peer, wait).await.ok()?;
        s.write_all(&C3_PROBE).await.ok()?;
        let mut buf = Vec::with_capacity(256);
        let mut chunk = [0u8; 256];
        while buf.len() < 4096 {
            let n = s.read(&mut chunk).await.ok()?;
            let got = chunk.get(..n)?;
            if got.is_empty() {
                return None;
            }
            buf.extend_from_slice(got);
            match classify(&buf) {
                PeerKind::Panel => return Some(true),
                PeerKind::Undecided => continue,
                PeerKind::Terminal | PeerKind::Unknown => return Some(false),
            }
        }
        Some(false)
    };
    let found = tokio::time::timeout(wait, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false);
    tracing::debug!(%peer, found, "C3 panel probe");
    found
}

/// Whether `peer` answers the standalone-terminal `CMD_CONNECT` with the
/// terminal TCP envelope `50 50 82 7d` within `wait` (the session it opens
/// is closed with `CMD_EXIT`). Any failure is "no".
pub(crate) async fn is_terminal(peer: SocketAddr, wait: Duration) -> bool {
    let attempt = async {
        let mut s = connect::tcp(peer, wait).await.ok()?;
        s.write_all(&tcp_frame(&Request::connect().into_packet(0, 0)))
            .await
            .ok()?;
        let mut head = [0u8; 4];
        s.read_exact(&mut head).await.ok()?;
        let exit = Request::exit().into_packet(0, 1);
        let _ = s.write_all(&tcp_frame(&exit)).await;
        Some(head == TCP_MAGIC)
    };
    let found = tokio::time::timeout(wait, attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false);
    tracing::debug!(%peer, found, "terminal probe");
    found
}
