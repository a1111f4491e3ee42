//! The frame: `AA | address | command | length u16 LE | data | CRC-16/ARC LE | 55`
//! (reference §1.1).
//!
//! ```
//! use zkproto::panel::{Command, Frame};
//! let f = Frame::new(0x01, Command::Connect, &[][..]);
//! let bytes = f.to_bytes().unwrap();
//! assert_eq!(&bytes[..], &[0xaa, 0x01, 0x01, 0x00, 0x00, 0x50, 0x3c, 0x55]);
//! assert_eq!(Frame::decode(&bytes).unwrap(), f);
//! ```

use super::command::Command;
use super::crc::{digest, frame_crc};
use super::error::{EncodeError, FrameError};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;

/// The start byte.
pub const START: u8 = 0xaa;
/// The end byte.
pub const END: u8 = 0x55;
/// Bytes before the data: start, address, command, length.
pub const HEADER_LEN: usize = 5;
/// Bytes after the data: CRC (2) and end.
pub const TRAILER_LEN: usize = 3;
/// Frame overhead: a frame is `data.len() + OVERHEAD` bytes long.
pub const OVERHEAD: usize = HEADER_LEN + TRAILER_LEN;
/// The largest data length the 16-bit length field can announce.
pub const MAX_DATA: usize = u16::MAX as usize;
/// The address clients send on TCP/UDP (PullSDK's default `deviceid=1`).
pub const DEFAULT_ADDRESS: u8 = 0x01;

/// One frame. The address is kept as received; on TCP/UDP it carries no
/// meaning for a client (the panel writes its RS485 DIP-switch address).
///
/// `Debug` shows the data length only: frame data can carry passwords.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Byte 1: the RS485 address.
    pub address: u8,
    /// Byte 2: request or reply code.
    pub command: Command,
    /// The data bytes (session header, if any, plus payload).
    pub data: Bytes,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("address", &self.address)
            .field("command", &self.command)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Result of looking at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    /// More bytes are needed; at least `needed` more.
    Incomplete {
        /// Minimum number of further bytes.
        needed: usize,
    },
    /// A whole frame of `frame_len` bytes is buffered (not yet checked).
    Complete {
        /// Total frame length.
        frame_len: usize,
    },
}

/// Looks at the header at the start of `src`: checks the start byte and the
/// announced length against `max_data` before anything is buffered.
///
/// ```
/// use zkproto::panel::frame::{peek, Peek, MAX_DATA};
/// assert_eq!(peek(&[0xaa, 0x01], MAX_DATA), Ok(Peek::Incomplete { needed: 3 }));
/// assert_eq!(peek(&[0xaa, 0x01, 0xc8, 0x04, 0x00], MAX_DATA), Ok(Peek::Incomplete { needed: 7 }));
/// assert!(peek(&[0xaa, 0x01, 0xc8, 0xff, 0xff], 1024).is_err());
/// ```
pub fn peek(src: &[u8], max_data: usize) -> Result<Peek, FrameError> {
    match src.first() {
        None => return Ok(Peek::Incomplete { needed: HEADER_LEN }),
        Some(&START) => {}
        Some(&found) => return Err(FrameError::BadStart { found }),
    }
    let Some(header) = src.first_chunk::<HEADER_LEN>() else {
        return Ok(Peek::Incomplete {
            needed: HEADER_LEN - src.len(),
        });
    };
    let len = usize::from(u16::from_le_bytes([header[3], header[4]]));
    if len > max_data {
        return Err(FrameError::TooLong { len, max: max_data });
    }
    let frame_len = len + OVERHEAD;
    if src.len() < frame_len {
        Ok(Peek::Incomplete {
            needed: frame_len - src.len(),
        })
    } else {
        Ok(Peek::Complete { frame_len })
    }
}

/// Checks one complete frame (`src` is exactly the frame) and returns address,
/// command and data length.
fn check(src: &[u8]) -> Result<(u8, u8, usize), FrameError> {
    let Some((header, rest)) = src.split_first_chunk::<HEADER_LEN>() else {
        return Err(FrameError::Truncated {
            need: HEADER_LEN,
            got: src.len(),
        });
    };
    if header[0] != START {
        return Err(FrameError::BadStart { found: header[0] });
    }
    let len = usize::from(u16::from_le_bytes([header[3], header[4]]));
    let Some((data, trailer)) = rest.split_at_checked(len) else {
        return Err(FrameError::Truncated {
            need: len + OVERHEAD,
            got: src.len(),
        });
    };
    let Some(&[crc_lo, crc_hi, end]) = trailer.first_chunk::<TRAILER_LEN>() else {
        return Err(FrameError::Truncated {
            need: len + OVERHEAD,
            got: src.len(),
        });
    };
    if trailer.len() > TRAILER_LEN {
        return Err(FrameError::TrailingBytes {
            extra: trailer.len() - TRAILER_LEN,
        });
    }
    if end != END {
        return Err(FrameError::BadEnd {
            found: end,
            offset: HEADER_LEN + len + 2,
        });
    }
    let mut d = digest();
    d.update(&[header[1], header[2], header[3], header[4]]);
    d.update(data);
    let computed = d.finalize();
    let received = u16::from_le_bytes([crc_lo, crc_hi]);
    if computed != received {
        return Err(FrameError::CrcMismatch { computed, received });
    }
    Ok((header[1], header[2], len))
}

impl Frame {
    /// A frame from its parts.
    pub fn new(address: u8, command: Command, data: impl Into<Bytes>) -> Self {
        Frame {
            address,
            command,
            data: data.into(),
        }
    }

    /// Encoded length: data length plus 8.
    pub fn encoded_len(&self) -> usize {
        self.data.len() + OVERHEAD
    }

    /// Appends the encoded frame to `dst`.
    ///
    /// ```
    /// use zkproto::panel::{Command, Frame};
    /// let mut buf = bytes::BytesMut::new();
    /// Frame::new(1, Command::GetRtLogText, &[][..]).encode_to(&mut buf).unwrap();
    /// assert_eq!(&buf[..], &[0xaa, 0x01, 0x79, 0x00, 0x00, 0xd0, 0x25, 0x55]);
    /// ```
    pub fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let len = u16::try_from(self.data.len()).map_err(|_| EncodeError::TooLong {
            what: "frame data",
            len: self.data.len(),
            max: MAX_DATA,
        })?;
        dst.reserve(self.encoded_len());
        dst.put_u8(START);
        dst.put_u8(self.address);
        dst.put_u8(self.command.value());
        dst.put_u16_le(len);
        dst.put_slice(&self.data);
        dst.put_u16_le(frame_crc(self.address, self.command.value(), &self.data));
        dst.put_u8(END);
        Ok(())
    }

    /// The encoded frame.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode_to(&mut buf)?;
        Ok(buf.freeze())
    }

    /// Decodes exactly one frame; `src` must hold the frame and nothing else.
    /// The address byte is returned as received, never validated.
    pub fn decode(src: &[u8]) -> Result<Frame, FrameError> {
        let (address, command, len) = check(src)?;
        let data = src.get(HEADER_LEN..HEADER_LEN + len).unwrap_or_default();
        Ok(Frame {
            address,
            command: Command::from(command),
            data: Bytes::copy_from_slice(data),
        })
    }

    /// Like [`Frame::decode`] but without copying the data.
    pub fn decode_bytes(mut src: Bytes) -> Result<Frame, FrameError> {
        let (address, command, len) = check(&src)?;
        src.advance(HEADER_LEN);
        src.truncate(len);
        Ok(Frame {
            address,
            command: Command::from(command),
            data: src,
        })
    }

    /// Decodes the frame at the start of `src` and returns it with the number of
    /// bytes it occupies; bytes after it are left alone.
    ///
    /// ```
    /// use zkproto::panel::{Command, Frame};
    /// let two = [0xaa, 0x01, 0xc8, 0x00, 0x00, 0x80, 0x02, 0x55, 0xaa];
    /// let (f, used) = Frame::parse(&two).unwrap();
    /// assert_eq!((f.command, used), (Command::AckOk, 8));
    /// ```
    pub fn parse(src: &[u8]) -> Result<(Frame, usize), FrameError> {
        match peek(src, MAX_DATA)? {
            Peek::Incomplete { needed } => Err(FrameError::Truncated {
                need: src.len() + needed,
                got: src.len(),
            }),
            Peek::Complete { frame_len } => {
                let frame = Frame::decode(src.get(..frame_len).unwrap_or_default())?;
                Ok((frame, frame_len))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minimal_frames() {
        let f = Frame::decode(&[0xaa, 0x01, 0xc8, 0x00, 0x00, 0x80, 0x02, 0x55]);
        assert_eq!(f, Ok(Frame::new(1, Command::AckOk, Bytes::new())));
    }

    #[test]
    fn errors_carry_evidence() {
        let good = [0xaa, 0x01, 0x01, 0x00, 0x00, 0x50, 0x3c, 0x55];
        let mut bad_crc = good;
        bad_crc[5] = 0x51;
        assert_eq!(
            Frame::decode(&bad_crc),
            Err(FrameError::CrcMismatch {
                computed: 0x3c50,
                received: 0x3c51
            })
        );
        let mut bad_end = good;
        bad_end[7] = 0x56;
        assert_eq!(
            Frame::decode(&bad_end),
            Err(FrameError::BadEnd {
                found: 0x56,
                offset: 7
            })
        );
        let mut bad_start = good;
        bad_start[0] = 0xab;
        assert_eq!(
            Frame::decode(&bad_start),
            Err(FrameError::BadStart { found: 0xab })
        );
        assert_eq!(
            Frame::decode(&good[..7]),
            Err(FrameError::Truncated { need: 8, got: 7 })
        );
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(
            Frame::decode(&long),
            Err(FrameError::TrailingBytes { extra: 1 })
        );
    }

    #[test]
    fn oversize_data_is_refused() {
        let f = Frame::new(1, Command::SetData, vec![0u8; MAX_DATA + 1]);
        assert!(
            matches!(f.to_bytes(), Err(EncodeError::TooLong { len, .. }) if len == MAX_DATA + 1)
        );
        assert!(
            Frame::new(1, Command::SetData, vec![0u8; MAX_DATA])
                .to_bytes()
                .is_ok()
        );
    }

    #[test]
    fn debug_hides_data() {
        let f = Frame::new(1, Command::Connect, &b"1234"[..]);
        let s = format!("{f:?}");
        assert!(!s.contains("1234") && !s.contains("49, 50"), "{s}");
    }

    proptest! {
        #[test]
        fn round_trip(address: u8, command: u8, data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let f = Frame::new(address, Command::from(command), data);
            let bytes = f.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), f.encoded_len());
            prop_assert_eq!(Frame::decode(&bytes).unwrap(), f.clone());
            prop_assert_eq!(Frame::decode_bytes(bytes.clone()).unwrap(), f.clone());
            let (g, used) = Frame::parse(&bytes).unwrap();
            prop_assert_eq!((g, used), (f, bytes.len()));
            // decode → encode gives the same bytes
            prop_assert_eq!(Frame::decode(&bytes).unwrap().to_bytes().unwrap(), bytes);
        }

        #[test]
        fn any_single_bit_flip_is_detected(data in proptest::collection::vec(any::<u8>(), 0..64), bit in 0usize..1000) {
            let bytes = Frame::new(1, Command::AckOk, data).to_bytes().unwrap();
            let bit = bit % (bytes.len() * 8);
            let mut flipped = bytes.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(Frame::decode(&flipped).is_err());
        }

        #[test]
        fn decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Frame::decode(&data);
            let _ = Frame::parse(&data);
            let _ = peek(&data, 16);
        }
    }
}
