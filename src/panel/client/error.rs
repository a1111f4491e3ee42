//! The panel client's error type.

use crate::panel::command::{Command, ErrorCode};
use crate::panel::error::{BigDataError, DecodeError, EncodeError, FrameError, TableError};
use crate::panel::session::ReplyError;
use std::time::Duration;

/// Everything a panel client call can fail with.
///
/// Small and comparable (`Clone + PartialEq + Eq`); I/O errors keep their
/// kind and message, wire-layer errors are kept as they are (no text
/// payloads built from other errors). Each variant says what a caller
/// should do about it. [`is_refusal`](Error::is_refusal) tells "the panel said
/// no" from [`is_network`](Error::is_network) failures. Messages never
/// contain passwords or PINs.
///
/// ```
/// use std::time::Duration;
/// use zkproto::panel::client::Error;
/// let e = Error::Timeout { waiting_for: "reply to get device parameters".into(), after: Duration::from_secs(4) };
/// assert!(e.is_network() && !e.is_refusal());
/// assert!(e.to_string().contains("did not answer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed. The connection is unusable: reconnect.
    #[error("I/O error ({kind:?}): {message}")]
    Io {
        /// The error kind.
        kind: std::io::ErrorKind,
        /// The error text.
        message: String,
    },
    /// Framing failed beyond recovery (the byte stream is corrupt). The
    /// connection is unusable: reconnect.
    #[error(transparent)]
    Frame(FrameError),
    /// Nothing arrived in time. Retry (in session mode the connection stays
    /// usable; without a session header it is closed: reconnect), or allow a
    /// longer [`Options::timeout`](super::Options::timeout).
    #[error("timed out after {after:?} waiting for {waiting_for}: the panel did not answer")]
    Timeout {
        /// What the client was waiting for.
        waiting_for: String,
        /// How long it waited.
        after: Duration,
    },
    /// The panel answered `C9` with an error code. The connection stays
    /// usable; see [`ErrorCode`] for what the code means (a bad argument,
    /// a command the firmware lacks, …); retrying the same request will not help.
    #[error("the panel refused {command}: {code}")]
    Refused {
        /// The request.
        command: Command,
        /// The panel's error code.
        code: ErrorCode,
    },
    /// The panel refused the communication password (−14). The panel closes
    /// the connection after this; reconnect before trying again.
    #[error("the panel refused the communication password (-14): {}", if *password_sent {
        "check Options::password"
    } else {
        "the panel has a password (parameter ComPwd): set Options::password"
    })]
    WrongPassword {
        /// Whether a password was sent.
        password_sent: bool,
    },
    /// Another client holds the panel: the panel serves one client at a time
    /// and dropped this connection (or refused it) in favour of another.
    #[error(
        "panel busy: {detail}; the panel serves one client at a time (close ZKAccess / other clients)"
    )]
    Busy {
        /// What happened.
        detail: String,
    },
    /// The peer is not a C3/inBio panel (for example a standalone terminal):
    /// use [`crate::terminal::client`] instead.
    #[error("the peer is not a C3/inBio access panel: {what}")]
    NotAPanel {
        /// What it looks like instead.
        what: String,
    },
    /// The connection closed. Reconnect.
    #[error("the connection closed during {during}")]
    Closed {
        /// What was going on.
        during: String,
    },
    /// A reply could not be decoded: the panel's firmware sends something
    /// this library does not understand. Retrying will not help; report it.
    #[error(transparent)]
    Decode(DecodeError),
    /// A request could not be encoded (an argument too long or out of
    /// range). Fix the argument; nothing was sent.
    #[error(transparent)]
    Encode(EncodeError),
    /// Table rows did not fit the panel's table structure (a field this
    /// firmware lacks, a value of the wrong kind, a reply for another table).
    /// Fix the rows, or report a reply that does not fit.
    #[error(transparent)]
    Table(TableError),
    /// An argument was rejected before anything was sent. Fix the argument.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No user has this pin. Nothing was changed.
    #[error("no user with pin {0}")]
    UserNotFound(u32),
    /// A user with this pin already exists. Nothing was changed; update the
    /// user instead, or choose another pin.
    #[error("a user with pin {0} already exists")]
    UserExists(u32),
    /// The panel acknowledged a write, but reading back showed it was not
    /// applied as sent (the panel answers OK even to malformed writes). The
    /// firmware probably does not support the field or value; do not retry.
    #[error("write not applied: {what}")]
    WriteNotApplied {
        /// What differed (field names, never secret values).
        what: String,
    },
    /// The panel announced a result larger than the configured limit; the
    /// panel's buffer was released and nothing was allocated. Raise
    /// [`Options::max_result`](super::Options::max_result) or ask for less.
    #[error(
        "the panel announced {announced} bytes, more than the limit of {limit} (Options::max_result)"
    )]
    TooLarge {
        /// Announced size.
        announced: u64,
        /// The limit.
        limit: u64,
    },
    /// A reply did not fit the outstanding request (no room for the session
    /// header, a malformed error reply, an unexpected reply code). The
    /// request was not answered: retry; reconnect if it keeps happening.
    #[error(transparent)]
    Reply(ReplyError),
    /// A big-data result (§5.6) broke its announcement (a chunk out of order,
    /// a CRC-32 mismatch, compressed data). Nothing is returned: retry; a
    /// repeat points at a firmware fault.
    #[error(transparent)]
    BigData(BigDataError),
    /// The firmware lacks something the call needs. Retrying will not help;
    /// use another call or a newer firmware.
    #[error("the panel does not support {what}")]
    Unsupported {
        /// What is missing.
        what: &'static str,
    },
    /// The panel's answers lack something the call needs (a parameter value,
    /// a status record). Retry; a repeat points at a firmware fault.
    #[error("the panel did not send {what}")]
    Missing {
        /// What was expected.
        what: &'static str,
    },
}

impl Error {
    /// Whether the panel answered and said no (refusal, wrong password,
    /// busy, unknown user, write not applied).
    ///
    /// ```
    /// use zkproto::panel::client::Error;
    /// assert!(Error::UserNotFound(7).is_refusal());
    /// ```
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Refused { .. }
                | Error::WrongPassword { .. }
                | Error::Busy { .. }
                | Error::UserNotFound(_)
                | Error::UserExists(_)
                | Error::WriteNotApplied { .. }
        )
    }

    /// Whether the failure is the network's or the peer's silence (worth a
    /// reconnect and retry).
    ///
    /// ```
    /// use zkproto::panel::client::Error;
    /// assert!(Error::Closed { during: "x".into() }.is_network());
    /// ```
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Timeout { .. } | Error::Closed { .. } | Error::Frame(_)
        )
    }

    /// The panel's error code, when it answered `C9`.
    ///
    /// ```
    /// use zkproto::panel::{client::Error, Command, ErrorCode};
    /// let e = Error::Refused { command: Command::ControlDevice, code: ErrorCode::BadParameter };
    /// assert_eq!(e.device_code(), Some(ErrorCode::BadParameter));
    /// ```
    pub fn device_code(&self) -> Option<ErrorCode> {
        match self {
            Error::Refused { code, .. } => Some(*code),
            Error::WrongPassword { .. } => Some(ErrorCode::WrongPassword),
            _ => None,
        }
    }

    pub(crate) fn io(e: &std::io::Error) -> Error {
        Error::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(&e)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

impl From<ReplyError> for Error {
    /// `C9` becomes [`Error::Refused`], a timeout [`Error::Timeout`]; the
    /// rest is kept as [`Error::Reply`].
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::Device { command, code } => Error::Refused { command, code },
            ReplyError::TimedOut { command, after } => Error::Timeout {
                waiting_for: format!("reply to {}", command.name()),
                after,
            },
            other => Error::Reply(other),
        }
    }
}

impl From<BigDataError> for Error {
    /// An announcement above the limit becomes [`Error::TooLarge`]; the rest
    /// is kept as [`Error::BigData`].
    fn from(e: BigDataError) -> Self {
        match e {
            BigDataError::TooLarge { announced, limit } => Error::TooLarge {
                announced: announced.into(),
                limit: limit.into(),
            },
            other => Error::BigData(other),
        }
    }
}

impl From<TableError> for Error {
    fn from(e: TableError) -> Self {
        Error::Table(e)
    }
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::LooksLikeTerminal => Error::NotAPanel {
                what: "it answered with the 50 50 82 7d envelope: a standalone ZKTeco terminal \
                       (attendance protocol); use zkproto::terminal::client"
                    .into(),
            },
            other => Error::Frame(other),
        }
    }
}

impl From<crate::panel::codec::CodecError> for Error {
    fn from(e: crate::panel::codec::CodecError) -> Self {
        use crate::panel::codec::CodecError;
        match e {
            CodecError::Io(e) => Error::io(&e),
            CodecError::Frame(f) => f.into(),
            CodecError::Encode(e) => Error::Encode(e),
        }
    }
}

impl From<crate::net::connect::ConnectError> for Error {
    fn from(e: crate::net::connect::ConnectError) -> Self {
        match e {
            crate::net::connect::ConnectError::Io(e) => Error::io(&e),
            crate::net::connect::ConnectError::TimedOut { peer, after } => Error::Timeout {
                waiting_for: format!("TCP connection to {peer}"),
                after,
            },
        }
    }
}
