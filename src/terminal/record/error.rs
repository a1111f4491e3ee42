//! Errors of the record layer.

use thiserror::Error;

/// Failure to parse a record or a record buffer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Fewer bytes than the record needs.
    #[error("truncated {what} at offset {offset}: need {need} bytes, got {got}")]
    Truncated {
        /// The record kind.
        what: &'static str,
        /// Offset of the record in the buffer.
        offset: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        got: usize,
    },
    /// The buffer length is not a whole number of records of any known size.
    #[error("{what}: {len} bytes do not divide into records of a known size")]
    UnknownRecordSize {
        /// The record kind.
        what: &'static str,
        /// Length of the record area.
        len: usize,
    },
    /// A length or count field is inconsistent with the data or exceeds a limit.
    #[error("{what} at offset {offset}: length field {value} is invalid ({reason})")]
    BadLength {
        /// The structure.
        what: &'static str,
        /// Offset of the length field.
        offset: usize,
        /// The value read.
        value: u64,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A field holds a value the record cannot carry.
    #[error("{what}: invalid {field} at offset {offset}")]
    InvalidField {
        /// The record kind.
        what: &'static str,
        /// The field.
        field: &'static str,
        /// Offset of the field.
        offset: usize,
    },
    /// Bytes left over after a complete structure.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// The structure.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
}
