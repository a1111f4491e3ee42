//! Error types of the sans-IO wire layer, one small enum per layer.
//!
//! All of them are `Clone + PartialEq + Eq` so tests and fuzz targets can
//! assert exact errors, and each carries the evidence a person needs to
//! diagnose a bad frame (expected and received values, lengths, offsets).

use thiserror::Error;

/// Failure to frame or decode a packet (TCP envelope, serial frame, UDP
/// datagram, 8-byte command header).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// The TCP envelope did not start with `50 50 82 7d`.
    #[error(
        "bad TCP envelope magic {found:02x?} (expected [50, 50, 82, 7d]); the stream is not a ZK terminal stream or lost sync"
    )]
    BadMagic {
        /// The first four bytes received.
        found: [u8; 4],
    },
    /// The bytes look like a C3/inBio access-panel frame (`aa … 55`), not a terminal packet.
    #[error(
        "the peer speaks the C3/inBio access-panel protocol (frame starts with 0xaa), not the terminal protocol"
    )]
    LooksLikeC3Panel,
    /// A length field announced more than the configured maximum; nothing was buffered.
    #[error("frame length {len} exceeds the limit of {max} bytes")]
    TooLong {
        /// The announced length.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// Fewer bytes than the structure needs.
    #[error("truncated {what}: need {need} bytes, got {got}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        got: usize,
    },
    /// The 16-bit checksum did not match.
    #[error("{what} checksum mismatch: computed {expected:#06x}, received {received:#06x}")]
    ChecksumMismatch {
        /// Which checksum (`"packet"` or `"serial frame"`).
        what: &'static str,
        /// The checksum computed over the received bytes.
        expected: u16,
        /// The checksum carried by the frame.
        received: u16,
    },
    /// A serial frame header was malformed.
    #[error("bad serial frame header at offset {offset}: {reason}")]
    BadSerialHeader {
        /// Offset of the offending byte.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Failure to encode a value for the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A text value does not fit its fixed-size field.
    #[error("{field} is {len} bytes once encoded, but the field holds at most {max}")]
    FieldTooLong {
        /// The field name.
        field: &'static str,
        /// Encoded length.
        len: usize,
        /// Field capacity.
        max: usize,
    },
    /// A character cannot be represented in the configured text encoding.
    #[error("{field} contains characters that cannot be written in {encoding}")]
    Unrepresentable {
        /// The field name.
        field: &'static str,
        /// The encoding's name.
        encoding: &'static str,
    },
    /// A value is outside the range the field can carry.
    #[error("{field} is out of range: {reason}")]
    OutOfRange {
        /// The field name.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A payload is larger than the transport or packet allows.
    #[error("payload of {len} bytes exceeds the limit of {max}")]
    PayloadTooLarge {
        /// Payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
}
