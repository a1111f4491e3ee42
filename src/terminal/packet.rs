//! The command packet: an 8-byte header (command, checksum, session id,
//! reply id) followed by data (reference §1.3). The same packet travels in a
//! UDP datagram, inside the TCP envelope, or inside a serial frame.
//!
//! ```
//! use zkproto::terminal::{Command, Packet, ChecksumMode};
//! let p = Packet::new(Command::Connect, 0, 0, &[][..]);
//! let bytes = p.to_bytes();
//! assert_eq!(&bytes[..], [0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0]);
//! assert_eq!(Packet::decode(&bytes, ChecksumMode::Strict).unwrap(), p);
//! ```

use crate::terminal::checksum::{finish, fold_sum};
use crate::terminal::command::{Command, EventFlag, ReplyCode};
use crate::terminal::error::WireError;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// Length of the command header.
pub const HEADER_LEN: usize = 8;

/// Largest data part a device accepts in one UDP datagram (1032 − 8).
pub const MAX_UDP_DATA: usize = 1024;

/// How to treat a received packet whose checksum is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChecksumMode {
    /// Reject it with [`WireError::ChecksumMismatch`] (what firmware does:
    /// it drops such packets).
    #[default]
    Strict,
    /// Accept it and log a warning (for devices or tools that produce bad
    /// checksums).
    Lenient,
}

/// One command packet: header fields plus data.
///
/// `code` is the raw command id (requests), reply code (replies) or
/// `CMD_REG_EVENT` (events); typed views are [`command`](Self::command),
/// [`reply_code`](Self::reply_code) and [`event_flag`](Self::event_flag).
/// The checksum is not stored: it is computed on encode and verified on decode.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Packet {
    /// Command id / reply code (bytes 0–1).
    pub code: u16,
    /// Session id, or a result value in replies, or the event flag in events (bytes 4–5).
    pub session_id: u16,
    /// Reply id (sequence number, bytes 6–7).
    pub reply_id: u16,
    /// Data after the header.
    pub data: Bytes,
}

impl Packet {
    /// Builds a packet.
    pub fn new(
        code: impl Into<u16>,
        session_id: u16,
        reply_id: u16,
        data: impl Into<Bytes>,
    ) -> Self {
        Packet {
            code: code.into(),
            session_id,
            reply_id,
            data: data.into(),
        }
    }

    /// The code as a [`Command`].
    pub fn command(&self) -> Command {
        Command::from(self.code)
    }

    /// The code as a [`ReplyCode`].
    pub fn reply_code(&self) -> ReplyCode {
        ReplyCode::from(self.code)
    }

    /// Whether this is a realtime event packet (`CMD_REG_EVENT` from the device).
    pub fn is_event(&self) -> bool {
        self.code == Command::RegEvent.value()
    }

    /// For an event packet, the event flag carried in the session slot.
    pub fn event_flag(&self) -> EventFlag {
        EventFlag::from(self.session_id)
    }

    /// Encoded length (header + data).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.data.len()
    }

    /// The checksum this packet carries on the wire.
    pub fn checksum(&self) -> u16 {
        let mut head = [0u8; HEADER_LEN];
        self.write_header(&mut head, 0);
        finish(fold_sum(fold_sum(0, &head), &self.data))
    }

    fn write_header(&self, out: &mut [u8; HEADER_LEN], checksum: u16) {
        let [a, b] = self.code.to_le_bytes();
        let [c, d] = checksum.to_le_bytes();
        let [e, f] = self.session_id.to_le_bytes();
        let [g, h] = self.reply_id.to_le_bytes();
        *out = [a, b, c, d, e, f, g, h];
    }

    /// The 8-byte header with its checksum: what precedes the data on the
    /// wire.
    pub(crate) fn header(&self) -> [u8; HEADER_LEN] {
        let mut head = [0u8; HEADER_LEN];
        self.write_header(&mut head, self.checksum());
        head
    }

    /// Appends the encoded packet to `dst` (reserving as needed; never clears).
    pub fn encode_to(&self, dst: &mut BytesMut) {
        let head = self.header();
        dst.reserve(self.encoded_len());
        dst.put_slice(&head);
        dst.put_slice(&self.data);
    }

    /// The encoded packet.
    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.encoded_len());
        self.encode_to(&mut b);
        b.freeze()
    }

    /// Reads the header fields and verifies the checksum of `buf` (one whole
    /// packet). Returns `(code, received checksum, session, reply)`.
    fn parse_header(buf: &[u8], mode: ChecksumMode) -> Result<(u16, u16, u16), WireError> {
        let [a, b, c, d, e, f, g, h] = match buf.first_chunk::<HEADER_LEN>() {
            Some(x) => *x,
            None => {
                return Err(WireError::Truncated {
                    what: "packet header",
                    need: HEADER_LEN,
                    got: buf.len(),
                });
            }
        };
        let received = u16::from_le_bytes([c, d]);
        // The header's three non-checksum words, summed directly (the hot
        // path for header-only replies), then the data.
        let head_sum = u32::from(u16::from_le_bytes([a, b]))
            + u32::from(u16::from_le_bytes([e, f]))
            + u32::from(u16::from_le_bytes([g, h]));
        let data = buf.get(HEADER_LEN..).unwrap_or_default();
        let expected = if data.is_empty() {
            finish(head_sum)
        } else {
            finish(fold_sum(head_sum, data))
        };
        if expected != received {
            match mode {
                ChecksumMode::Strict => {
                    return Err(WireError::ChecksumMismatch {
                        what: "packet",
                        expected,
                        received,
                    });
                }
                ChecksumMode::Lenient => {
                    tracing::warn!(
                        expected,
                        received,
                        "accepting packet with bad checksum (lenient mode)"
                    );
                }
            }
        }
        Ok((
            u16::from_le_bytes([a, b]),
            u16::from_le_bytes([e, f]),
            u16::from_le_bytes([g, h]),
        ))
    }

    /// Decodes one whole packet from a slice (the data is copied).
    pub fn decode(buf: &[u8], mode: ChecksumMode) -> Result<Packet, WireError> {
        let (code, session_id, reply_id) = Self::parse_header(buf, mode)?;
        let data = Bytes::copy_from_slice(buf.get(HEADER_LEN..).unwrap_or_default());
        Ok(Packet {
            code,
            session_id,
            reply_id,
            data,
        })
    }

    /// Decodes one whole packet from `Bytes` without copying the data.
    pub fn decode_bytes(buf: Bytes, mode: ChecksumMode) -> Result<Packet, WireError> {
        let (code, session_id, reply_id) = Self::parse_header(&buf, mode)?;
        let data = buf.slice(HEADER_LEN..);
        Ok(Packet {
            code,
            session_id,
            reply_id,
            data,
        })
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Data is shown by length only: it may hold PINs or comm-key material.
        let name = if self.is_event() {
            format!("EVENT {}", self.event_flag())
        } else {
            let c = self.command();
            if matches!(c, Command::Unknown(_)) {
                self.reply_code().to_string()
            } else {
                c.to_string()
            }
        };
        f.debug_struct("Packet")
            .field("code", &name)
            .field("session_id", &format_args!("{:#06x}", self.session_id))
            .field("reply_id", &self.reply_id)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Formats bytes as lowercase hex without separators (for trace logs).
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_checks_checksum() {
        let good = [0xd0, 0x07, 0x29, 0x6a, 0xf3, 0x8d, 0x0a, 0x00, 0x09];
        let p = Packet::decode(&good, ChecksumMode::Strict).unwrap();
        assert_eq!(p.reply_code(), ReplyCode::AckOk);
        assert_eq!(p.session_id, 0x8df3);
        assert_eq!(p.reply_id, 10);
        assert_eq!(&p.data[..], [0x09]);
        let mut bad = good;
        bad[8] = 0x0a;
        assert_eq!(
            Packet::decode(&bad, ChecksumMode::Strict),
            Err(WireError::ChecksumMismatch {
                what: "packet",
                expected: 0x6a28,
                received: 0x6a29
            })
        );
        assert!(Packet::decode(&bad, ChecksumMode::Lenient).is_ok());
        assert_eq!(
            Packet::decode(&good[..5], ChecksumMode::Strict),
            Err(WireError::Truncated {
                what: "packet header",
                need: 8,
                got: 5
            })
        );
    }

    #[test]
    fn debug_hides_data() {
        let p = Packet::new(Command::Auth, 1, 2, &b"\x61\xc9\x32\x3c"[..]);
        let s = format!("{p:?}");
        assert!(s.contains("CMD_AUTH"));
        assert!(!s.contains("61"));
    }
}
