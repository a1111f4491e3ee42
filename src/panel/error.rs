//! Error types of the panel wire layer, one small enum per concern.
//!
//! All are `Clone + PartialEq + Eq` and carry the evidence needed to diagnose
//! a bad frame or payload (expected and received values, lengths, offsets).
//!
//! This module depends on nothing else in the panel layer, so every other
//! module may use it. Errors of matching a reply to its request
//! ([`ReplyError`](super::session::ReplyError)) live with the session.

use thiserror::Error;

/// A frame could not be split off or checked (reference §1.1–§1.3).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The first byte is not the `AA` start byte.
    #[error("bad start byte {found:#04x} (expected 0xaa)")]
    BadStart {
        /// The byte found.
        found: u8,
    },
    /// The byte after the CRC is not the `55` end byte.
    #[error("bad end byte {found:#04x} at offset {offset} (expected 0x55)")]
    BadEnd {
        /// The byte found.
        found: u8,
        /// Its offset in the frame.
        offset: usize,
    },
    /// The CRC-16/ARC did not match.
    #[error("CRC mismatch: computed {computed:#06x}, received {received:#06x}")]
    CrcMismatch {
        /// CRC computed over address..data.
        computed: u16,
        /// CRC carried by the frame.
        received: u16,
    },
    /// The length field announces more data than the configured limit; nothing was buffered.
    #[error("frame announces {len} data bytes, limit is {max}")]
    TooLong {
        /// The announced data length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Fewer bytes than the frame needs.
    #[error("truncated frame: need {need} bytes, got {got}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        got: usize,
    },
    /// Bytes follow the frame where exactly one frame was expected.
    #[error("{extra} bytes after the end of the frame")]
    TrailingBytes {
        /// Number of extra bytes.
        extra: usize,
    },
    /// On RS485 the reply came from another address.
    #[error("frame from address {found:#04x}, expected {expected:#04x}")]
    AddressMismatch {
        /// The configured address.
        expected: u8,
        /// The address in the frame.
        found: u8,
    },
    /// The bytes start with the terminal protocol's TCP envelope (`50 50 82 7d`).
    #[error(
        "the peer speaks the standalone-terminal protocol (50 50 82 7d), not the C3/inBio panel protocol"
    )]
    LooksLikeTerminal,
    /// No valid frame start was found within the resynchronisation bound.
    #[error("no valid frame found in {skipped} bytes")]
    NoSync {
        /// Bytes skipped without finding a frame.
        skipped: usize,
    },
}

/// A value could not be encoded for the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A frame's data exceeds the 16-bit length field (or another limit).
    #[error("{what} is {len} bytes, limit is {max}")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Too many items (parameter names, fields, rows) for one request.
    #[error("{count} {what} in one request, limit is {max}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A text item contains a byte the format uses as a separator, or is empty.
    #[error("{what} {text:?} is not allowed: {reason}")]
    BadText {
        /// What the text is.
        what: &'static str,
        /// The offending text (never a secret value).
        text: String,
        /// Why.
        reason: &'static str,
    },
    /// A value is outside the range the field can carry.
    #[error("{what} is out of range: {reason}")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// A payload (parameter text, table data, log record, …) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
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
    /// A length is not acceptable for the structure.
    #[error("bad length {len} for {what}: {reason}")]
    BadLength {
        /// What was being read.
        what: &'static str,
        /// The length found.
        len: usize,
        /// Why it is wrong.
        reason: &'static str,
    },
    /// Text that does not follow the expected syntax.
    #[error("bad {what} at byte {offset}: {reason}")]
    BadSyntax {
        /// What was being parsed.
        what: &'static str,
        /// Offset of the problem in the input.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A packed or text time that is not a real calendar time.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// A reply is shorter than the command's result needs (e.g. count reply without data).
    #[error("{what}: expected {expected} bytes, got {got}")]
    WrongSize {
        /// What was being decoded.
        what: &'static str,
        /// Expected size.
        expected: usize,
        /// Size received.
        got: usize,
    },
}

/// A date/time that the panel's encoding cannot represent, or that is not a real date.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Day, month or year are not a calendar date (e.g. February 30).
    #[error("invalid date {year:04}-{month:02}-{day:02}")]
    InvalidDate {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
    },
    /// Hour, minute or second out of range.
    #[error("invalid time of day {hour:02}:{minute:02}:{second:02}")]
    InvalidTime {
        /// Hour.
        hour: u8,
        /// Minute.
        minute: u8,
        /// Second.
        second: u8,
    },
    /// The date is before 2000 or too late for the 32-bit packed value.
    #[error("{year:04}-{month:02}-{day:02} is outside the packed range (2000-01-01 to 2133-08-18)")]
    OutOfRange {
        /// Year.
        year: u16,
        /// Month.
        month: u8,
        /// Day.
        day: u8,
    },
    /// A text time that is not `YYYY-MM-DD hh:mm:ss`.
    #[error("bad time text {text:?} (expected YYYY-MM-DD hh:mm:ss)")]
    BadText {
        /// The text (truncated to 32 characters).
        text: String,
    },
}

/// Table rows could not be built from, or matched against, a table descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TableError {
    /// The table structure has no table with this name.
    #[error("the panel has no table {table:?}")]
    UnknownTable {
        /// The table name.
        table: String,
    },
    /// The table has no field with this name (or id).
    #[error("table {table:?} has no field {field:?}")]
    UnknownField {
        /// The table name.
        table: String,
        /// The field name (or `#id`).
        field: String,
    },
    /// A value of the wrong kind for the field (integer vs. string).
    #[error("field {field:?} of table {table:?} expects {expected}")]
    KindMismatch {
        /// The table name.
        table: String,
        /// The field name.
        field: String,
        /// The expected kind.
        expected: &'static str,
    },
    /// A row has a different number of values than the field list.
    #[error("row {row} has {got} values, the field list has {expected}")]
    RowWidth {
        /// Row index.
        row: usize,
        /// Number of fields.
        expected: usize,
        /// Number of values.
        got: usize,
    },
    /// Rows of another table were given.
    #[error("rows belong to table id {found}, expected {expected}")]
    WrongTable {
        /// The descriptor's table id.
        expected: u8,
        /// The rows' table id.
        found: u8,
    },
    /// A field the row type needs is not in the reply.
    #[error("field {field:?} is missing from the rows")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// A non-default value for a field this firmware's table does not have.
    #[error("table {table:?} has no field {field:?} to hold a non-default value")]
    FieldNotInTable {
        /// The table name.
        table: String,
        /// The field name.
        field: &'static str,
    },
    /// A value could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A value could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// A big-data transfer (§5.6) broke its announcement: the result cannot be
/// trusted. The panel's buffer should be released (0x0F) and the request
/// retried; a repeat points at a firmware fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BigDataError {
    /// The `0D` announcement or a chunk reply could not be decoded.
    #[error("big-data {0}")]
    Decode(DecodeError),
    /// The announced size is above the caller's limit; nothing was allocated.
    #[error("the panel announced {announced} bytes of big data, the limit is {limit}")]
    TooLarge {
        /// Announced transfer length.
        announced: u32,
        /// The limit.
        limit: u32,
    },
    /// The announcement says the data is compressed (no known firmware does this).
    #[error("compressed big-data results (flag {flag}) are not supported")]
    Compressed {
        /// The compression flag.
        flag: u8,
    },
    /// Data is announced with a chunk size of 0: it could never be read.
    #[error("big-data announcement of {len} bytes with chunk size 0")]
    ZeroChunk {
        /// Announced transfer length.
        len: u32,
    },
    /// A chunk reply is not the next piece of the buffer.
    #[error(
        "big-data chunk at offset {offset} with {len} bytes, expected offset {expected} and 1..={remaining} bytes"
    )]
    BadChunk {
        /// Offset in the reply.
        offset: u32,
        /// Bytes in the reply.
        len: usize,
        /// The offset requested.
        expected: u32,
        /// Bytes still missing.
        remaining: usize,
    },
    /// The transfer was finished before every byte arrived.
    #[error("big-data transfer incomplete: {received} of {total} bytes")]
    Incomplete {
        /// Bytes received.
        received: usize,
        /// Bytes announced.
        total: usize,
    },
    /// The CRC-32 of the reassembled buffer differs from the announcement.
    #[error("big-data CRC-32 mismatch: announced {announced:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC-32 in the announcement.
        announced: u32,
        /// CRC-32 of the received bytes.
        computed: u32,
    },
}
