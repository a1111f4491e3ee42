//! Error types of the push core: [`DecodeError`] for what a device sent,
//! [`EncodeError`] for what the server is about to send.
//!
//! Both are `Clone + PartialEq + Eq`, carry the evidence (limits, offending
//! keys, line numbers) and depend on nothing else in [`crate::push`].

use thiserror::Error;

/// A device request (path, query string or body) could not be understood.
///
/// Errors about the whole request are returned as `Err`. Errors about one
/// record line of a table body are *reported and skipped* instead: they
/// appear in [`Batch::skipped`](super::body::Batch::skipped) so that one bad
/// line does not make the device resend the whole batch forever (push §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body is larger than [`Limits::max_body`](super::Limits::max_body);
    /// nothing was decoded.
    #[error("body of {len} bytes exceeds the limit of {max}")]
    BodyTooLarge {
        /// Body length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A line (or the query string) is longer than
    /// [`Limits::max_line`](super::Limits::max_line).
    #[error("line {line} is {len} bytes long, the limit is {max}")]
    LineTooLong {
        /// 1-based line number (0 = the query string).
        line: usize,
        /// Line length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The last path segment names no push endpoint (push §1.2).
    #[error("unknown endpoint {0:?}")]
    UnknownEndpoint(String),
    /// `table=` names a table this crate does not decode.
    #[error("unknown table {0:?}")]
    UnknownTable(String),
    /// A required query parameter or record field is absent.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field is present but its value is malformed.
    #[error("bad value for {field}: {value:?}")]
    BadValue {
        /// Field name.
        field: &'static str,
        /// The value (at most 64 characters of it).
        value: String,
    },
    /// Bytes that are neither UTF-8 nor GB18030 (or not UTF-8 where only
    /// UTF-8 is allowed).
    #[error("text is not valid {charset}")]
    BadText {
        /// The character set(s) tried.
        charset: &'static str,
    },
    /// A record line has no recognisable shape (no tag, no `key=value`).
    #[error("unrecognised record line starting {0:?}")]
    BadRecord(String),
}

impl DecodeError {
    /// A [`DecodeError::BadValue`] keeping at most 64 characters of `value`.
    ///
    /// ```
    /// use zkproto::push::DecodeError;
    /// let e = DecodeError::bad("Stamp", &"x".repeat(100));
    /// assert_eq!(e, DecodeError::BadValue { field: "Stamp", value: "x".repeat(64) });
    /// ```
    pub fn bad(field: &'static str, value: &str) -> Self {
        DecodeError::BadValue {
            field,
            value: value.chars().take(64).collect(),
        }
    }
}

/// A reply or command could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A value contains a character the protocol cannot carry there: HT,
    /// CR, LF or NUL anywhere, or a separator of the surrounding list
    /// (`,` in `SET OPTIONS`, `=` in a key). The protocol has no escaping
    /// (push §3.1), so such text is refused, never altered.
    #[error("{field} contains forbidden character {found:?}")]
    Forbidden {
        /// The field.
        field: &'static str,
        /// The offending character.
        found: char,
    },
    /// A value is empty where the protocol needs one, or too long.
    #[error("{field} must be 1 to {max} characters, got {len}")]
    Length {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A command or list that needs at least one item has none.
    #[error("{0} needs at least one item")]
    Empty(&'static str),
    /// A command ID is not 1–16 ASCII letters or digits (push §4.1).
    #[error("command id {0:?} is not 1-16 ASCII letters or digits")]
    BadCommandId(String),
}
