//! Telling the device families apart: a C3/inBio panel from a standalone
//! terminal by the first bytes a peer sent (c3-panel §10), used by both
//! clients to say "this is the other kind of device" instead of timing out.
//! The sans-IO [`classify`] is always compiled; the probes that open a
//! fresh connection and send each family's harmless first request are
//! crate-internal (feature `client`).
//!
//! ```
//! use zkproto::detect::{classify, PeerKind};
//! assert_eq!(classify(&[0xaa, 0x01, 0xc9, 0x01, 0x00, 0xf3, 0x13, 0xd9, 0x55]), PeerKind::Panel);
//! assert_eq!(classify(&[0x50, 0x50, 0x82, 0x7d, 0x08, 0x00, 0x00, 0x00]), PeerKind::Terminal);
//! assert_eq!(classify(b"HTTP/1.1 400"), PeerKind::Unknown);
//! assert_eq!(classify(&[0xaa, 0x01]), PeerKind::Undecided);
//! ```

#[cfg(feature = "client")]
pub(crate) mod probe;

use crate::panel::frame::{self, Frame, Peek};
use crate::terminal::frame::TCP_MAGIC;
use crate::terminal::packet::{ChecksumMode, HEADER_LEN as TERMINAL_HEADER_LEN, Packet};

/// What kind of peer sent the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum PeerKind {
    /// A C3/inBio access panel: a complete `AA … 55` frame with a good CRC-16/ARC.
    Panel,
    /// A standalone ZKTeco terminal: the TCP envelope `50 50 82 7d`, or an
    /// 8-byte terminal header (UDP) with a valid checksum.
    Terminal,
    /// Too few bytes to decide (a prefix of a possible frame or envelope).
    Undecided,
    /// Neither protocol.
    Unknown,
}

/// The evidence behind a classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Evidence {
    /// A complete panel frame with a valid CRC.
    PanelFrame,
    /// Starts like a panel frame, but not all of it has arrived.
    PanelPrefix,
    /// Starts with `aa` but the frame is invalid (bad CRC or end byte).
    BadPanelFrame,
    /// The terminal TCP envelope magic.
    TerminalEnvelope,
    /// A prefix of the terminal TCP envelope magic.
    TerminalEnvelopePrefix,
    /// A terminal packet (UDP, no envelope) whose checksum verifies.
    TerminalPacket,
    /// Nothing recognisable.
    None,
}

/// Classifies the first bytes received from a peer, with the evidence.
///
/// ```
/// use zkproto::detect::{classify_with_evidence, Evidence, PeerKind};
/// let udp_connect = [0xe8, 0x03, 0x17, 0xfc, 0x00, 0x00, 0x00, 0x00];
/// assert_eq!(classify_with_evidence(&udp_connect), (PeerKind::Terminal, Evidence::TerminalPacket));
/// ```
pub fn classify_with_evidence(bytes: &[u8]) -> (PeerKind, Evidence) {
    match bytes.first() {
        None => return (PeerKind::Undecided, Evidence::None),
        Some(&frame::START) => {
            return match frame::peek(bytes, frame::MAX_DATA) {
                Ok(Peek::Incomplete { .. }) => (PeerKind::Undecided, Evidence::PanelPrefix),
                Ok(Peek::Complete { .. }) => match Frame::parse(bytes) {
                    Ok(_) => (PeerKind::Panel, Evidence::PanelFrame),
                    Err(_) => (PeerKind::Unknown, Evidence::BadPanelFrame),
                },
                Err(_) => (PeerKind::Unknown, Evidence::BadPanelFrame),
            };
        }
        Some(_) => {}
    }
    let n = bytes.len().min(TCP_MAGIC.len());
    if bytes.get(..n) == TCP_MAGIC.get(..n) {
        return if n == TCP_MAGIC.len() {
            (PeerKind::Terminal, Evidence::TerminalEnvelope)
        } else {
            (PeerKind::Undecided, Evidence::TerminalEnvelopePrefix)
        };
    }
    if bytes.len() >= TERMINAL_HEADER_LEN && Packet::decode(bytes, ChecksumMode::Strict).is_ok() {
        return (PeerKind::Terminal, Evidence::TerminalPacket);
    }
    (PeerKind::Unknown, Evidence::None)
}

/// Classifies the first bytes received from a peer.
pub fn classify(bytes: &[u8]) -> PeerKind {
    classify_with_evidence(bytes).0
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(classify(&[]), PeerKind::Undecided);
        assert_eq!(classify(&[0x50, 0x50]), PeerKind::Undecided);
        assert_eq!(classify(&[0x50, 0x51]), PeerKind::Unknown);
        assert_eq!(
            classify_with_evidence(&[0xaa, 0x01, 0x01, 0x00, 0x00, 0x50, 0x3d, 0x55]),
            (PeerKind::Unknown, Evidence::BadPanelFrame)
        );
        // a panel frame followed by more bytes still classifies by its first frame
        assert_eq!(
            classify(&[0xaa, 0x01, 0xc8, 0x00, 0x00, 0x80, 0x02, 0x55, 0xaa]),
            PeerKind::Panel
        );
        // terminal UDP packet with a wrong checksum
        assert_eq!(
            classify(&[0xe8, 0x03, 0x17, 0xfd, 0x00, 0x00, 0x00, 0x00]),
            PeerKind::Unknown
        );
    }
}
