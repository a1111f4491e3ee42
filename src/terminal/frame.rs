//! The three envelopes around a command packet, as pure functions over byte
//! slices (reference §1.1, §1.2, §12.1):
//!
//! * **TCP**: `50 50 82 7d` + u32 LE length of the packet, then the packet;
//! * **UDP**: no envelope, one packet per datagram;
//! * **RS232/RS485**: device id twice, `81 7e`, u16 LE length, u16 frame
//!   checksum, then the packet.
//!
//! Framing never allocates the announced size before checking it against a
//! limit, and reports "need more bytes" separately from "malformed".
//!
//! ```
//! use zkproto::terminal::frame::{TcpFraming, Peek};
//! let f = TcpFraming::default();
//! let frame = [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0, 0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0];
//! assert_eq!(f.peek(&frame[..5]), Ok(Peek::Incomplete { needed: 3 }));
//! assert_eq!(f.peek(&frame), Ok(Peek::Complete { frame_len: 16 }));
//! ```

use crate::terminal::checksum::{finish, fold_sum};
use crate::terminal::error::WireError;
use crate::terminal::packet::{ChecksumMode, HEADER_LEN, Packet};
use bytes::{BufMut, Bytes, BytesMut};

/// The 4-byte tag that starts every TCP frame.
pub const TCP_MAGIC: [u8; 4] = [0x50, 0x50, 0x82, 0x7d];
/// Length of the TCP envelope.
pub const TCP_HEADER_LEN: usize = 8;
/// Default limit on the packet length announced by a TCP frame: large enough
/// for the biggest burst packet seen from devices (65 536 data bytes + header),
/// small enough that a lying length field cannot exhaust memory.
pub const DEFAULT_MAX_PACKET: usize = 128 * 1024;
/// Largest datagram a device accepts (8-byte header + 1024 data bytes).
pub const MAX_UDP_TO_DEVICE: usize = 1032;
/// Serial frame header length.
pub const SERIAL_HEADER_LEN: usize = 8;
/// Largest inner packet of a serial frame (firmware BUFSZ 2048 − 8).
pub const MAX_SERIAL_PACKET: usize = 2040;
/// `CMD_RS`, the serial frame's command byte.
pub const CMD_RS: u8 = 0x81;
/// `CMD_TCP`, the TCP envelope's command byte.
pub const CMD_TCP: u8 = 0x82;

/// Result of looking at the start of a receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    /// More bytes are needed; at least `needed` more.
    Incomplete {
        /// Bytes still missing before a decision can be made.
        needed: usize,
    },
    /// A whole frame of `frame_len` bytes (envelope included) starts the buffer.
    Complete {
        /// Frame length including the envelope.
        frame_len: usize,
    },
}

/// How strictly the TCP tag is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TagCheck {
    /// All four bytes must be `50 50 82 7d` (clients: anything else means
    /// the stream is not a terminal's).
    #[default]
    Full,
    /// Only `82 7d` are checked, as firmware does (it ignores the `50 50`).
    CommandOnly,
}

/// TCP envelope framing parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFraming {
    /// Largest packet length accepted from the length field.
    pub max_packet: usize,
    /// Tag strictness.
    pub tag_check: TagCheck,
}

impl Default for TcpFraming {
    fn default() -> Self {
        TcpFraming {
            max_packet: DEFAULT_MAX_PACKET,
            tag_check: TagCheck::Full,
        }
    }
}

impl TcpFraming {
    /// Framing with a given packet-length limit.
    pub fn with_max_packet(max_packet: usize) -> Self {
        TcpFraming {
            max_packet,
            ..Self::default()
        }
    }

    /// Inspects the start of `buf`. Malformed tags are reported as soon as
    /// the offending byte is present; the length is checked against
    /// [`max_packet`](Self::max_packet) as soon as the envelope is complete,
    /// before any of the packet is buffered.
    pub fn peek(&self, buf: &[u8]) -> Result<Peek, WireError> {
        // Fast path: a whole envelope with the exact tag.
        if let Some(env) = buf.first_chunk::<TCP_HEADER_LEN>()
            && env[..4] == TCP_MAGIC
        {
            return self.check_length(buf.len(), [env[4], env[5], env[6], env[7]]);
        }
        if buf.first() == Some(&0xAA) {
            return Err(WireError::LooksLikeC3Panel);
        }
        let tag_start = match self.tag_check {
            TagCheck::Full => 0,
            TagCheck::CommandOnly => 2,
        };
        for (i, want) in TCP_MAGIC.iter().enumerate().skip(tag_start) {
            match buf.get(i) {
                Some(b) if b == want => {}
                Some(_) => {
                    let mut found = [0u8; 4];
                    for (dst, src) in found.iter_mut().zip(buf.iter()) {
                        *dst = *src;
                    }
                    return Err(WireError::BadMagic { found });
                }
                None => break,
            }
        }
        let Some(env) = buf.first_chunk::<TCP_HEADER_LEN>() else {
            return Ok(Peek::Incomplete {
                needed: TCP_HEADER_LEN - buf.len(),
            });
        };
        self.check_length(buf.len(), [env[4], env[5], env[6], env[7]])
    }

    /// Checks the envelope's length field against the limit (before any of
    /// the packet is buffered) and reports whether the whole frame is in a
    /// buffer of `have` bytes.
    fn check_length(&self, have: usize, len: [u8; 4]) -> Result<Peek, WireError> {
        let len = u32::from_le_bytes(len);
        let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
        if len_usize > self.max_packet {
            return Err(WireError::TooLong {
                len: u64::from(len),
                max: self.max_packet,
            });
        }
        if len_usize < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "TCP frame packet",
                need: HEADER_LEN,
                got: len_usize,
            });
        }
        let frame_len = TCP_HEADER_LEN + len_usize;
        if have < frame_len {
            Ok(Peek::Incomplete {
                needed: frame_len - have,
            })
        } else {
            Ok(Peek::Complete { frame_len })
        }
    }

    /// Decodes the first complete frame of `buf`, returning the packet and
    /// the number of bytes consumed, or `Ok(None)` if more bytes are needed.
    pub fn decode(
        &self,
        buf: &[u8],
        mode: ChecksumMode,
    ) -> Result<Option<(Packet, usize)>, WireError> {
        match self.peek(buf)? {
            Peek::Incomplete { .. } => Ok(None),
            Peek::Complete { frame_len } => {
                let inner = buf.get(TCP_HEADER_LEN..frame_len).unwrap_or_default();
                Ok(Some((Packet::decode(inner, mode)?, frame_len)))
            }
        }
    }
}

/// Appends the TCP envelope and the packet to `dst`.
///
/// ```
/// use zkproto::terminal::{Command, Packet, frame::encode_tcp};
/// let mut out = bytes::BytesMut::new();
/// encode_tcp(&Packet::new(Command::Connect, 0, 0, &[][..]), &mut out);
/// assert_eq!(&out[..], [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0, 0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0]);
/// ```
pub fn encode_tcp(packet: &Packet, dst: &mut BytesMut) {
    let n = packet.encoded_len();
    dst.reserve(TCP_HEADER_LEN + n);
    dst.put_slice(&TCP_MAGIC);
    // Packets longer than u32::MAX cannot be built from a Bytes on any real system.
    dst.put_u32_le(u32::try_from(n).unwrap_or(u32::MAX));
    packet.encode_to(dst);
}

/// Encodes a packet as a TCP frame.
pub fn tcp_frame(packet: &Packet) -> Bytes {
    let mut b = BytesMut::new();
    encode_tcp(packet, &mut b);
    b.freeze()
}

/// Decodes one UDP datagram (no envelope; the whole datagram is the packet).
///
/// ```
/// use zkproto::terminal::{frame::decode_udp, ChecksumMode, Command};
/// let p = decode_udp(&[0xe9, 0x03, 0xe6, 0x00, 0x2f, 0xfb, 0x01, 0x00], ChecksumMode::Strict).unwrap();
/// assert_eq!(p.command(), Command::Exit);
/// ```
pub fn decode_udp(datagram: &[u8], mode: ChecksumMode) -> Result<Packet, WireError> {
    if datagram.first() == Some(&0xAA) && datagram.last() == Some(&0x55) {
        return Err(WireError::LooksLikeC3Panel);
    }
    Packet::decode(datagram, mode)
}

/// Serial (RS232/RS485) framing parameters (§12.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialFraming {
    /// Accept only frames addressed to this device id (RS485 multi-drop);
    /// `None` accepts any id whose two header bytes agree.
    pub device_id: Option<u8>,
    /// Largest inner packet accepted (at most [`MAX_SERIAL_PACKET`] on devices).
    pub max_packet: usize,
    /// How to treat a frame checksum mismatch.
    pub checksum: ChecksumMode,
}

impl Default for SerialFraming {
    fn default() -> Self {
        SerialFraming {
            device_id: None,
            max_packet: MAX_SERIAL_PACKET,
            checksum: ChecksumMode::Strict,
        }
    }
}

/// A decoded serial frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialFrame {
    /// The device id in the header.
    pub device_id: u8,
    /// The inner packet.
    pub packet: Packet,
}

impl SerialFraming {
    /// Inspects the start of `buf` (see [`TcpFraming::peek`]).
    pub fn peek(&self, buf: &[u8]) -> Result<Peek, WireError> {
        if let (Some(a), Some(b)) = (buf.first(), buf.get(1))
            && a != b
        {
            return Err(WireError::BadSerialHeader {
                offset: 1,
                reason: "the two device-id bytes differ",
            });
        }
        if let Some(&c) = buf.get(2)
            && c != CMD_RS
        {
            return Err(WireError::BadSerialHeader {
                offset: 2,
                reason: "command byte is not CMD_RS (0x81)",
            });
        }
        if let Some(&c) = buf.get(3)
            && c != 0xFF - CMD_RS
        {
            return Err(WireError::BadSerialHeader {
                offset: 3,
                reason: "check byte is not 0x7e",
            });
        }
        let Some(h) = buf.first_chunk::<SERIAL_HEADER_LEN>() else {
            return Ok(Peek::Incomplete {
                needed: SERIAL_HEADER_LEN - buf.len(),
            });
        };
        let len = usize::from(u16::from_le_bytes([h[4], h[5]]));
        if len > self.max_packet {
            return Err(WireError::TooLong {
                len: len as u64,
                max: self.max_packet,
            });
        }
        if len < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "serial frame packet",
                need: HEADER_LEN,
                got: len,
            });
        }
        let frame_len = SERIAL_HEADER_LEN + len;
        if buf.len() < frame_len {
            Ok(Peek::Incomplete {
                needed: frame_len - buf.len(),
            })
        } else {
            Ok(Peek::Complete { frame_len })
        }
    }

    /// Decodes the first complete frame of `buf`: returns the frame and the
    /// bytes consumed, or `Ok(None)` if more bytes are needed. A frame for
    /// another device id is consumed and returned as `Ok(Some((None, n)))`.
    #[allow(clippy::type_complexity)]
    pub fn decode(
        &self,
        buf: &[u8],
        inner: ChecksumMode,
    ) -> Result<Option<(Option<SerialFrame>, usize)>, WireError> {
        let frame_len = match self.peek(buf)? {
            Peek::Incomplete { .. } => return Ok(None),
            Peek::Complete { frame_len } => frame_len,
        };
        let frame = buf.get(..frame_len).unwrap_or_default();
        let (head, rest) = frame
            .split_at_checked(SERIAL_HEADER_LEN)
            .unwrap_or((frame, &[]));
        let received = u16::from_le_bytes([
            head.get(6).copied().unwrap_or(0),
            head.get(7).copied().unwrap_or(0),
        ]);
        let zeroed = [
            head.first().copied().unwrap_or(0),
            head.get(1).copied().unwrap_or(0),
            head.get(2).copied().unwrap_or(0),
            head.get(3).copied().unwrap_or(0),
            head.get(4).copied().unwrap_or(0),
            head.get(5).copied().unwrap_or(0),
            0,
            0,
        ];
        let expected = finish(fold_sum(fold_sum(0, &zeroed), rest));
        if expected != received {
            match self.checksum {
                ChecksumMode::Strict => {
                    return Err(WireError::ChecksumMismatch {
                        what: "serial frame",
                        expected,
                        received,
                    });
                }
                ChecksumMode::Lenient => {
                    tracing::warn!(
                        expected,
                        received,
                        "accepting serial frame with bad checksum (lenient mode)"
                    );
                }
            }
        }
        let device_id = zeroed[0];
        if self.device_id.is_some_and(|id| id != device_id) {
            return Ok(Some((None, frame_len)));
        }
        let packet = Packet::decode(rest, inner)?;
        Ok(Some((Some(SerialFrame { device_id, packet }), frame_len)))
    }
}

/// Appends a serial frame addressed to `device_id` carrying `packet`.
///
/// Fails when the packet exceeds [`MAX_SERIAL_PACKET`].
///
/// ```
/// use zkproto::terminal::{Command, Packet, ChecksumMode, frame::{encode_serial, SerialFraming}};
/// let mut out = bytes::BytesMut::new();
/// encode_serial(1, &Packet::new(Command::Connect, 0, 0, &[][..]), &mut out).unwrap();
/// assert_eq!(&out[..4], [1, 1, 0x81, 0x7e]);
/// let (frame, used) = SerialFraming::default().decode(&out, ChecksumMode::Strict).unwrap().unwrap();
/// assert_eq!(used, out.len());
/// assert_eq!(frame.unwrap().packet.command(), Command::Connect);
/// ```
pub fn encode_serial(
    device_id: u8,
    packet: &Packet,
    dst: &mut BytesMut,
) -> Result<(), crate::terminal::EncodeError> {
    let n = packet.encoded_len();
    if n > MAX_SERIAL_PACKET {
        return Err(crate::terminal::EncodeError::PayloadTooLarge {
            len: n,
            max: MAX_SERIAL_PACKET,
        });
    }
    let inner = packet.to_bytes();
    let len = (n as u16).to_le_bytes();
    let head = [
        device_id,
        device_id,
        CMD_RS,
        0xFF - CMD_RS,
        len[0],
        len[1],
        0,
        0,
    ];
    let sum = finish(fold_sum(fold_sum(0, &head), &inner));
    dst.reserve(SERIAL_HEADER_LEN + n);
    dst.put_slice(&head[..6]);
    dst.put_u16_le(sum);
    dst.put_slice(&inner);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_rejects_early() {
        let f = TcpFraming::default();
        assert_eq!(
            f.peek(&[0x50, 0x51]),
            Err(WireError::BadMagic {
                found: [0x50, 0x51, 0, 0]
            })
        );
        assert_eq!(
            f.peek(&[0xaa, 0x01, 0x76]),
            Err(WireError::LooksLikeC3Panel)
        );
        let huge = [0x50, 0x50, 0x82, 0x7d, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            f.peek(&huge),
            Err(WireError::TooLong {
                len: 0xffff_ffff,
                max: DEFAULT_MAX_PACKET
            })
        );
        let short = [0x50, 0x50, 0x82, 0x7d, 4, 0, 0, 0];
        assert!(matches!(f.peek(&short), Err(WireError::Truncated { .. })));
        let lax = TcpFraming {
            tag_check: TagCheck::CommandOnly,
            ..f
        };
        assert_eq!(
            lax.peek(&[0, 0, 0x82, 0x7d, 8, 0, 0, 0]),
            Ok(Peek::Incomplete { needed: 8 })
        );
    }

    #[test]
    fn serial_roundtrip_and_addressing() {
        let p = Packet::new(2000u16, 7, 3, &b"abc"[..]);
        let mut out = BytesMut::new();
        encode_serial(5, &p, &mut out).unwrap();
        let f = SerialFraming {
            device_id: Some(5),
            ..SerialFraming::default()
        };
        let (got, n) = f.decode(&out, ChecksumMode::Strict).unwrap().unwrap();
        assert_eq!(n, out.len());
        assert_eq!(
            got,
            Some(SerialFrame {
                device_id: 5,
                packet: p
            })
        );
        let other = SerialFraming {
            device_id: Some(6),
            ..SerialFraming::default()
        };
        assert_eq!(
            other.decode(&out, ChecksumMode::Strict).unwrap(),
            Some((None, out.len()))
        );
        let mut bad = out.clone();
        bad[8] ^= 1;
        assert!(matches!(
            f.decode(&bad, ChecksumMode::Strict),
            Err(WireError::ChecksumMismatch {
                what: "serial frame",
                ..
            })
        ));
    }
}
