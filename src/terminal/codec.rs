//! tokio-util `Decoder`/`Encoder` adapters over the [framing functions](crate::terminal::frame)
//! (feature `codec`): [`TcpCodec`] for TCP streams, [`UdpCodec`] for
//! `UdpFramed`, [`SerialCodec`] for serial ports or RS485 tunnels.
//!
//! All three decode [`Packet`]s and encode `Packet`/`&Packet`. The TCP and
//! serial decoders handle split frames (one byte at a time) and several
//! frames in one read, and check the announced length against a limit before
//! buffering.
//!
//! ```
//! use tokio_util::codec::{Decoder, Encoder};
//! use zkproto::terminal::{Command, Packet, codec::TcpCodec};
//! let mut codec = TcpCodec::default();
//! let mut buf = bytes::BytesMut::new();
//! codec.encode(Packet::new(Command::Connect, 0, 0, &[][..]), &mut buf).unwrap();
//! codec.encode(Packet::new(Command::Exit, 7, 1, &[][..]), &mut buf).unwrap();
//! assert_eq!(codec.decode(&mut buf).unwrap().unwrap().command(), Command::Connect);
//! assert_eq!(codec.decode(&mut buf).unwrap().unwrap().command(), Command::Exit);
//! assert!(codec.decode(&mut buf).unwrap().is_none());
//! ```

use crate::terminal::error::{EncodeError, WireError};
use crate::terminal::frame::{self, Peek, SerialFraming, TCP_HEADER_LEN, TcpFraming};
use crate::terminal::packet::{ChecksumMode, Packet};
use bytes::{Buf, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// Error of the codecs: I/O from the transport, or a malformed frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// A frame was malformed (the same name as the panel codec's
    /// [`CodecError::Frame`](crate::panel::codec::CodecError::Frame)).
    #[error(transparent)]
    Frame(#[from] WireError),
    /// A packet could not be encoded for this transport.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// Codec for the TCP envelope.
///
/// On a malformed envelope the decoder returns an error and the stream should
/// be closed: the terminal protocol has no resynchronisation marker, and a
/// bad tag means the peer is not a terminal or the stream lost sync.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpCodec {
    /// Envelope parameters (limit, tag strictness).
    pub framing: TcpFraming,
    /// Packet checksum policy.
    pub checksum: ChecksumMode,
}

impl TcpCodec {
    /// A codec with a packet-length limit.
    pub fn with_max_packet(max_packet: usize) -> Self {
        TcpCodec {
            framing: TcpFraming::with_max_packet(max_packet),
            checksum: ChecksumMode::Strict,
        }
    }
}

impl Decoder for TcpCodec {
    type Item = Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        match self.framing.peek(src)? {
            Peek::Incomplete { needed } => {
                src.reserve(needed);
                Ok(None)
            }
            Peek::Complete { frame_len } => {
                let mut frame = src.split_to(frame_len);
                frame.advance(TCP_HEADER_LEN);
                let packet = Packet::decode_bytes(frame.freeze(), self.checksum)?;
                tracing::trace!(?packet, "decoded TCP frame");
                Ok(Some(packet))
            }
        }
    }
}

impl Encoder<&Packet> for TcpCodec {
    type Error = CodecError;
    fn encode(&mut self, item: &Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        frame::encode_tcp(item, dst);
        Ok(())
    }
}

impl Encoder<Packet> for TcpCodec {
    type Error = CodecError;
    fn encode(&mut self, item: Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        frame::encode_tcp(&item, dst);
        Ok(())
    }
}

/// Codec for UDP datagrams (use with `tokio_util::udp::UdpFramed`): each
/// datagram is exactly one packet.
#[derive(Clone, Copy, Debug)]
pub struct UdpCodec {
    /// Packet checksum policy.
    pub checksum: ChecksumMode,
    /// Largest packet this codec will encode (default: no limit beyond UDP's
    /// own). Set it to [`frame::MAX_UDP_TO_DEVICE`] when talking to a device.
    pub max_encode: usize,
}

impl Default for UdpCodec {
    fn default() -> Self {
        UdpCodec {
            checksum: ChecksumMode::Strict,
            max_encode: 65_507,
        }
    }
}

impl Decoder for UdpCodec {
    type Item = Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        if src.is_empty() {
            return Ok(None);
        }
        let datagram = src.split().freeze();
        if datagram.first() == Some(&0xAA) && datagram.last() == Some(&0x55) {
            return Err(WireError::LooksLikeC3Panel.into());
        }
        Ok(Some(Packet::decode_bytes(datagram, self.checksum)?))
    }
}

impl Encoder<&Packet> for UdpCodec {
    type Error = CodecError;
    fn encode(&mut self, item: &Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        if item.encoded_len() > self.max_encode {
            return Err(EncodeError::PayloadTooLarge {
                len: item.encoded_len(),
                max: self.max_encode,
            }
            .into());
        }
        item.encode_to(dst);
        Ok(())
    }
}

impl Encoder<Packet> for UdpCodec {
    type Error = CodecError;
    fn encode(&mut self, item: Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&item, dst)
    }
}

/// Codec for RS232/RS485 serial frames (§12.1).
///
/// Unlike TCP, a serial line can carry noise: on a malformed header the
/// decoder drops one byte and searches again (logging what it dropped), and
/// frames addressed to other device ids are skipped.
#[derive(Clone, Copy, Debug, Default)]
pub struct SerialCodec {
    /// Serial framing (device-id filter, limit, frame checksum policy).
    pub framing: SerialFraming,
    /// Inner packet checksum policy.
    pub checksum: ChecksumMode,
    /// Device id written into encoded frames.
    pub device_id: u8,
}

impl SerialCodec {
    /// A codec for a line where this end writes frames with `device_id` and
    /// accepts only frames carrying it.
    pub fn for_device(device_id: u8) -> Self {
        SerialCodec {
            framing: SerialFraming {
                device_id: Some(device_id),
                ..SerialFraming::default()
            },
            checksum: ChecksumMode::Strict,
            device_id,
        }
    }
}

impl Decoder for SerialCodec {
    type Item = Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        loop {
            match self.framing.decode(src, self.checksum) {
                Ok(None) => {
                    if let Ok(Peek::Incomplete { needed }) = self.framing.peek(src) {
                        src.reserve(needed);
                    }
                    return Ok(None);
                }
                Ok(Some((frame, used))) => {
                    src.advance(used);
                    match frame {
                        Some(f) => return Ok(Some(f.packet)),
                        None => {
                            tracing::debug!(used, "skipped a serial frame for another device id");
                            continue;
                        }
                    }
                }
                Err(
                    WireError::BadSerialHeader { .. }
                    | WireError::TooLong { .. }
                    | WireError::Truncated { .. },
                )
                | Err(WireError::ChecksumMismatch {
                    what: "serial frame",
                    ..
                }) => {
                    // Line noise: drop one byte and look for the next header.
                    if let Some(&b) = src.first() {
                        tracing::debug!(byte = b, "serial resync: dropping one byte");
                        src.advance(1);
                    } else {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Encoder<&Packet> for SerialCodec {
    type Error = CodecError;
    fn encode(&mut self, item: &Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        frame::encode_serial(self.device_id, item, dst)?;
        Ok(())
    }
}

impl Encoder<Packet> for SerialCodec {
    type Error = CodecError;
    fn encode(&mut self, item: Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&item, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::Command;

    #[test]
    fn serial_resyncs_after_noise() {
        let mut codec = SerialCodec::for_device(3);
        let mut buf = BytesMut::from(&[0x00, 0x13, 0x37][..]);
        codec
            .encode(Packet::new(Command::Connect, 0, 0, &[][..]), &mut buf)
            .unwrap();
        let p = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(p.command(), Command::Connect);
        assert!(buf.is_empty());
    }

    #[test]
    fn tcp_lying_length_is_refused_without_buffering() {
        let mut codec = TcpCodec::with_max_packet(1024);
        let mut buf = BytesMut::from(&[0x50, 0x50, 0x82, 0x7d, 0x00, 0x00, 0x00, 0x40][..]);
        let cap_before = buf.capacity();
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            CodecError::Frame(WireError::TooLong {
                len: 0x4000_0000,
                max: 1024
            })
        ));
        assert!(buf.capacity() <= cap_before.max(64));
    }
}
