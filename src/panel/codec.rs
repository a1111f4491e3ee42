//! tokio-util `Decoder`/`Encoder` for panel frames (feature `codec`).
//!
//! One codec serves TCP streams, `UdpFramed` datagrams and RS485 links:
//!
//! * the announced length is checked against a limit before anything is
//!   buffered;
//! * garbage is skipped by searching for the next `AA`; a candidate that turns
//!   out invalid (bad CRC, bad end byte, length over the limit) is dropped one
//!   byte at a time, so a real frame that follows is still found — also when a
//!   garbage `AA` announces a long length and a complete valid frame is
//!   already buffered behind it;
//! * the number of bytes skipped without a valid frame is bounded
//!   ([`FrameError::NoSync`]);
//! * the address byte is ignored on TCP/UDP; with [`PanelCodec::rs485`] frames
//!   from other addresses are skipped.
//!
//! ```
//! use tokio_util::codec::{Decoder, Encoder};
//! use zkproto::panel::{codec::PanelCodec, Command, Frame};
//! let mut codec = PanelCodec::default();
//! let mut buf = bytes::BytesMut::from(&b"\x00\x13junk"[..]);
//! codec.encode(Frame::new(1, Command::AckOk, &[][..]), &mut buf).unwrap();
//! let f = codec.decode(&mut buf).unwrap().unwrap();
//! assert_eq!(f.command, Command::AckOk);
//! assert!(buf.is_empty());
//! ```

use super::error::{EncodeError, FrameError};
use super::frame::{self, Frame, Peek};
use crate::terminal::frame::TCP_MAGIC;
use bytes::{Buf, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// Default bound on bytes skipped without finding a valid frame.
pub const DEFAULT_MAX_GARBAGE: usize = 64 * 1024;

/// Error of the codec: I/O from the transport, a framing failure, or an
/// unencodable frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// Framing failed beyond recovery.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Codec for panel frames.
#[derive(Clone, Copy, Debug)]
pub struct PanelCodec {
    max_data: usize,
    max_garbage: usize,
    address: Option<u8>,
    skipped: usize,
    frames: u64,
    abandoned: u64,
    consumed: bool,
}

impl Default for PanelCodec {
    fn default() -> Self {
        PanelCodec {
            max_data: frame::MAX_DATA,
            max_garbage: DEFAULT_MAX_GARBAGE,
            address: None,
            skipped: 0,
            frames: 0,
            abandoned: 0,
            consumed: false,
        }
    }
}

impl PanelCodec {
    /// How many incomplete frames were abandoned because a complete, valid
    /// frame followed them in the buffer (resynchronisation over a false
    /// start byte with a lying length).
    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// A codec for TCP/UDP (address byte ignored).
    pub fn new() -> Self {
        Self::default()
    }

    /// A codec for an RS485 link: frames whose address byte differs are skipped.
    pub fn rs485(address: u8) -> Self {
        PanelCodec {
            address: Some(address),
            ..Self::default()
        }
    }

    /// Limits the data length a frame may announce (at most 65 535).
    pub fn with_max_data(mut self, max_data: usize) -> Self {
        self.max_data = max_data.min(frame::MAX_DATA);
        self
    }

    /// Limits the bytes skipped without a valid frame before [`FrameError::NoSync`].
    pub fn with_max_garbage(mut self, max_garbage: usize) -> Self {
        self.max_garbage = max_garbage;
        self
    }

    /// Bytes skipped since the last valid frame.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    fn skip(&mut self, src: &mut BytesMut, n: usize) -> Result<(), FrameError> {
        let n = n.min(src.len());
        tracing::debug!(
            skipped = n,
            "panel codec: skipping bytes that are not a valid frame"
        );
        src.advance(n);
        self.skipped += n;
        self.consumed |= n > 0;
        if self.skipped > self.max_garbage {
            let skipped = self.skipped;
            self.skipped = 0;
            return Err(FrameError::NoSync { skipped });
        }
        Ok(())
    }

    /// True when a complete, valid frame starts at `at`.
    fn valid_frame_at(&self, src: &[u8], at: usize) -> bool {
        let Some(rest) = src.get(at..) else {
            return false;
        };
        match frame::peek(rest, self.max_data) {
            Ok(Peek::Complete { frame_len }) => rest
                .get(..frame_len)
                .is_some_and(|f| Frame::decode(f).is_ok()),
            _ => false,
        }
    }

    /// While waiting for the rest of a candidate frame, looks for a complete
    /// valid frame later in the buffer (the candidate was then garbage).
    fn later_frame(&self, src: &[u8]) -> Option<usize> {
        let window = src.len().min(self.max_garbage.saturating_add(1));
        (1..window)
            .filter(|&i| src.get(i) == Some(&frame::START))
            .find(|&i| self.valid_frame_at(src, i))
    }
}

impl Decoder for PanelCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        loop {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            if first != frame::START {
                // Only the very first bytes of a stream can be a terminal's
                // reply; later they are line noise (and the decision must
                // not depend on how the bytes were split into reads).
                if !self.consumed && src.starts_with(&TCP_MAGIC) {
                    return Err(FrameError::LooksLikeTerminal.into());
                }
                if !self.consumed && src.len() < TCP_MAGIC.len() && TCP_MAGIC.starts_with(src) {
                    // Possibly the start of a terminal's reply: wait for
                    // the whole tag before calling it garbage.
                    return Ok(None);
                }
                let n = src
                    .iter()
                    .position(|&b| b == frame::START)
                    .unwrap_or(src.len());
                self.skip(src, n)?;
                continue;
            }
            match frame::peek(src, self.max_data) {
                Ok(Peek::Incomplete { needed }) => {
                    if let Some(at) = self.later_frame(src) {
                        // A complete, valid frame follows an incomplete
                        // one: take the incomplete head for line noise with
                        // a lying length. (Which frame wins can depend on
                        // how the bytes arrived; `abandoned` counts it.)
                        self.abandoned += 1;
                        self.skip(src, at)?;
                        continue;
                    }
                    src.reserve(needed);
                    return Ok(None);
                }
                Ok(Peek::Complete { frame_len }) => {
                    let valid = src
                        .get(..frame_len)
                        .is_some_and(|f| Frame::decode(f).is_ok());
                    if !valid {
                        self.skip(src, 1)?;
                        continue;
                    }
                    self.consumed = true;
                    let frame = Frame::decode_bytes(src.split_to(frame_len).freeze())?;
                    if let Some(expected) = self.address.filter(|a| *a != frame.address) {
                        tracing::debug!(
                            expected,
                            found = frame.address,
                            "panel codec: frame for another address"
                        );
                        continue;
                    }
                    self.skipped = 0;
                    self.frames += 1;
                    tracing::trace!(?frame, "decoded panel frame");
                    return Ok(Some(frame));
                }
                Err(_) => self.skip(src, 1)?,
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() {
            return Ok(None);
        }
        let got = src.len();
        let need = match frame::peek(src, self.max_data) {
            Ok(Peek::Incomplete { needed }) => got + needed,
            _ => got,
        };
        src.clear();
        Err(FrameError::Truncated { need, got }.into())
    }
}

impl Encoder<Frame> for PanelCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode_to(dst).map_err(CodecError::from)
    }
}

impl Encoder<&Frame> for PanelCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        item.encode_to(dst).map_err(CodecError::from)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::panel::Command;
    use proptest::prelude::*;

    fn frame(cmd: Command, data: &[u8]) -> Vec<u8> {
        Frame::new(1, cmd, bytes::Bytes::copy_from_slice(data))
            .to_bytes()
            .unwrap()
            .to_vec()
    }

    fn decode_all(codec: &mut PanelCodec, bytes: &[u8]) -> Vec<Frame> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn split_and_coalesced() {
        let a = frame(Command::AckOk, b"hello");
        let b = frame(Command::AckError, &[0xf3]);
        let mut codec = PanelCodec::new();
        let mut buf = BytesMut::new();
        let all = [a.clone(), b.clone()].concat();
        let mut got = Vec::new();
        for byte in &all {
            buf.extend_from_slice(&[*byte]);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(decode_all(&mut PanelCodec::new(), &all).len(), 2);
    }

    #[test]
    fn resyncs_after_bad_crc_bad_end_and_lying_length() {
        let good = frame(Command::AckOk, &[1, 2, 3]);
        let mut bad_crc = good.clone();
        bad_crc[8] ^= 1;
        let mut bad_end = good.clone();
        *bad_end.last_mut().unwrap() = 0x56;
        let lying = [0xaa, 0x01, 0xc8, 0x00, 0x10]; // announces 4096 bytes
        for prefix in [
            &bad_crc[..],
            &bad_end[..],
            &lying[..],
            b"\xaa\xaa\xaa",
            b"garbage",
        ] {
            let mut codec = PanelCodec::new();
            let got = decode_all(&mut codec, &[prefix, &good[..]].concat());
            assert_eq!(got.len(), 1, "prefix {prefix:02x?}");
            assert_eq!(&got[0].data[..], &[1, 2, 3]);
            assert_eq!(codec.skipped(), 0);
        }
    }

    #[test]
    fn length_over_limit_is_not_buffered() {
        let mut codec = PanelCodec::new().with_max_data(16);
        let mut buf = BytesMut::from(&[0xaa, 0x01, 0xc8, 0x00, 0x01][..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(buf.is_empty(), "the candidate start byte must be dropped");
    }

    #[test]
    fn garbage_bound_and_terminal_magic() {
        let mut codec = PanelCodec::new().with_max_garbage(10);
        let mut buf = BytesMut::from(&[0u8; 11][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::Frame(FrameError::NoSync { skipped: 11 }))
        ));
        let mut buf = BytesMut::from(&[0x50, 0x50, 0x82, 0x7d, 0x08, 0, 0, 0][..]);
        assert!(matches!(
            PanelCodec::new().decode(&mut buf),
            Err(CodecError::Frame(FrameError::LooksLikeTerminal))
        ));
    }

    #[test]
    fn rs485_address_filter_and_eof() {
        let mut codec = PanelCodec::rs485(2);
        let mine = Frame::new(2, Command::AckOk, &[][..]).to_bytes().unwrap();
        let other = frame(Command::AckOk, &[]);
        let got = decode_all(&mut codec, &[&other[..], &mine[..]].concat());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].address, 2);
        let mut partial = BytesMut::from(&other[..5]);
        assert!(matches!(
            PanelCodec::new().decode_eof(&mut partial),
            Err(CodecError::Frame(FrameError::Truncated { need: 8, got: 5 }))
        ));
    }

    proptest! {
        #[test]
        fn finds_frames_after_random_garbage(garbage in proptest::collection::vec(any::<u8>(), 0..64),
                                             data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let good = frame(Command::AckOk, &data);
            let mut codec = PanelCodec::new();
            let mut buf = BytesMut::from(&[&garbage[..], &good[..]].concat()[..]);
            let mut got = Vec::new();
            // garbage may itself contain a valid frame by chance; the last one must be ours
            while let Ok(Some(f)) = codec.decode(&mut buf) {
                got.push(f);
            }
            if garbage.get(..4) != Some(&TCP_MAGIC[..]) {
                prop_assert_eq!(got.last().map(|f| f.data.to_vec()), Some(data));
            }
        }
    }
}
