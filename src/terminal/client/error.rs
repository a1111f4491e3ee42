//! The client's error type.

use crate::terminal::command::{Command, ReplyCode};
use crate::terminal::error::{EncodeError, WireError};
use crate::terminal::record::error::RecordError;
use crate::terminal::session::SessionError;
use crate::terminal::sync::Discontinuity;
use std::time::Duration;

/// Everything a client call can fail with.
///
/// Small and comparable (`Clone + PartialEq + Eq`): I/O errors keep their
/// kind and message, errors of the sans-IO layers are kept as they are (no
/// text payloads built from other errors). Each variant says what a caller
/// should do about it. The variant names are those of the panel client's
/// [`Error`](crate::panel::client::Error) where the failure is the same
/// (`Io`, `Frame`, `Timeout`, `Refused`, `Closed`, `Decode`, `Encode`,
/// `UserNotFound`, `WriteNotApplied`, `TooLarge`, `Reply`).
/// [`is_refusal`](Error::is_refusal) tells "the terminal said no" from
/// [`is_network`](Error::is_network) failures.
///
/// ```
/// use std::time::Duration;
/// use zkproto::terminal::client::Error;
/// let e = Error::Timeout { waiting_for: "reply to CMD_CONNECT".into(), after: Duration::from_secs(3) };
/// assert!(e.is_network());
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
    /// Framing failed beyond recovery (a malformed frame, a checksum the
    /// session could not recover from by retransmitting). Reconnect; a
    /// repeat points at the link or the firmware.
    #[error(transparent)]
    Frame(WireError),
    /// Nothing arrived in time. Retry, or allow a longer
    /// [`Options::timeout`](super::Options::timeout); check the address,
    /// transport and comm key if it happens on connect.
    #[error("{}", timeout_message(waiting_for, after))]
    Timeout {
        /// What the client was waiting for, e.g. `"reply to CMD_CONNECT"`.
        waiting_for: String,
        /// How long it waited in total.
        after: Duration,
    },
    /// The terminal refused a command. The connection stays usable;
    /// retrying the same request will not help (see [`ReplyCode::explain`]).
    #[error("{command} refused by the device: {reply} ({}){}", reply.explain(), result_code(*code))]
    Refused {
        /// The command.
        command: Command,
        /// The reply code.
        reply: ReplyCode,
        /// The reply's session slot (an error code on most firmware); 0
        /// when there is none (the slot held the session id).
        code: u16,
    },
    /// The terminal requires a comm key, or refused the one given. Set or
    /// fix [`Options::comm_key`](super::Options::comm_key) and reconnect.
    #[error("{}", if *key_sent {
        "the device refused the comm key (CMD_ACK_UNAUTH): check Options::comm_key"
    } else {
        "the device requires a comm key (CMD_ACK_UNAUTH): set Options::comm_key"
    })]
    Unauthorized {
        /// Whether a key was sent.
        key_sent: bool,
    },
    /// The peer is not a ZKTeco standalone terminal (for example a C3/inBio
    /// panel): use [`crate::panel::client`] instead.
    #[error("the peer is not a ZKTeco terminal: {what}")]
    NotATerminal {
        /// What it looks like instead.
        what: String,
    },
    /// The connection closed. Reconnect.
    #[error("the connection closed during {during}")]
    Closed {
        /// What was going on.
        during: String,
    },
    /// A reply's payload could not be decoded (a truncated or malformed
    /// record). Retrying will not help; report the firmware.
    #[error(transparent)]
    Decode(RecordError),
    /// A value could not be encoded (an argument too long or out of range).
    /// Fix the argument; nothing was sent.
    #[error(transparent)]
    Encode(EncodeError),
    /// No user has this user id. Nothing was changed.
    #[error("no user with user id {0:?}")]
    UserNotFound(String),
    /// Several users share one user id. Nothing was changed; fix the
    /// device's user table first (delete the extra uids).
    #[error(
        "user id {user_id:?} is used by several users (uids {uids:?}); fix the device's table first"
    )]
    DuplicateUserId {
        /// The user id.
        user_id: String,
        /// The uids carrying it.
        uids: Vec<u16>,
    },
    /// The records read and the counts the device reports
    /// (`CMD_GET_FREE_SIZES`) disagree, so the result would be partial and
    /// none is returned ([`Client::snapshot`](super::Client::snapshot)).
    /// Try again (someone may have been enrolling meanwhile); if it
    /// persists, the firmware's table and counts disagree.
    #[error("the read is incomplete: {}", join_mismatches(mismatches))]
    Incomplete {
        /// Each count that disagrees.
        mismatches: Vec<super::restore::CountMismatch>,
    },
    /// A table has no room for one more record: for users, every uid from
    /// [`FIRST_UID`](crate::terminal::restore::FIRST_UID) to
    /// [`LAST_UID`](crate::terminal::restore::LAST_UID) is taken. Nothing
    /// was written; delete records (e.g. users no longer needed) and try
    /// again.
    #[error("the device's {table} table is full (no free uid left): delete some and try again")]
    TableFull {
        /// `"user"`.
        table: &'static str,
    },
    /// The terminal acknowledged a write, but reading back showed it was
    /// not applied as sent. The firmware probably does not support the
    /// value (a PIN or name too long for it, say); do not retry blindly.
    #[error("read-back after writing did not match: {what}")]
    WriteNotApplied {
        /// What differed (field names, never secret values).
        what: String,
    },
    /// The device announced more data than the configured limit (nothing
    /// was allocated). Raise [`Options::max_bulk`](super::Options::max_bulk)
    /// or ask for less.
    #[error(
        "the device announced {announced} bytes, more than the limit of {limit} (Options::max_bulk)"
    )]
    TooLarge {
        /// Announced size.
        announced: u64,
        /// The limit.
        limit: u64,
    },
    /// A reply did not fit the outstanding request (an unexpected reply
    /// code or payload, a bulk read that stayed incomplete after re-asking,
    /// more bulk data announced than was asked for). Retry; reconnect if it
    /// keeps happening (it points at a firmware fault).
    #[error("protocol error: {0}")]
    Reply(SessionError),
    /// The reply to a request never arrived whole: the session gave up on it
    /// (every retransmission answered by corrupt frames, or a multi-packet
    /// reply cut off by the timeout). Retry; reconnect if it keeps happening.
    #[error("protocol error: {what} lost")]
    Lost {
        /// The reply, e.g. `"reply to CMD_CONNECT"`.
        what: String,
    },
    /// The attendance log changed under a download in a way that breaks the
    /// cursor (it shrank or was rewritten between two reads). Nothing was
    /// returned: sync again (with
    /// [`OnDiscontinuity::Restart`](super::OnDiscontinuity::Restart) the
    /// whole log is read once more).
    #[error("protocol error: {0}")]
    Discontinued(Discontinuity),
    /// The device kept answering without progress (no new, valid,
    /// in-order data) until the operation's frame or time budget ran out
    /// (see [`Options::chunk_timeout`](super::Options::chunk_timeout)).
    /// Reconnect and retry; a repeat points at the link or the firmware.
    #[error("{during}: {detail}")]
    NoProgress {
        /// The operation, e.g. `"bulk data of CMD_USER_WRQ (0 of 216 bytes received)"`.
        during: String,
        /// Frames in a row without progress.
        frames: u32,
        /// How many of them were corrupt.
        corrupt: u32,
        /// What the device did, with evidence (the last frame or checksum error).
        detail: String,
    },
    /// A table's own length field, the bytes received and the record count
    /// the device reported (`CMD_GET_FREE_SIZES`) disagree: the result
    /// would be partial, so none is returned. Retry; a repeat means the
    /// device's table or firmware is faulty.
    #[error(
        "the {table} table does not add up: its length field says {length_field} bytes, \
         {received} record bytes arrived, and the device counts {device_count} record(s)"
    )]
    TableMismatch {
        /// `"user"`, `"attendance"` or `"template"`.
        table: &'static str,
        /// The table's `u32` length field.
        length_field: u32,
        /// Record bytes received after the length field.
        received: u64,
        /// Records counted by `CMD_GET_FREE_SIZES`.
        device_count: u32,
    },
    /// The device acknowledged a write, and then the connection was lost
    /// or the read-back failed: the change may or may not have been made.
    /// Reconnect and read the record to see which.
    #[error(
        "{what}: the device acknowledged the write, then {after}; the change may have been made"
    )]
    WriteUnconfirmed {
        /// The operation, e.g. `"set_pin of user 1001 (uid 3)"`.
        what: String,
        /// What went wrong after the acknowledgement.
        after: Box<Error>,
    },
    /// The device acknowledged a write to one user, but the read-back shows
    /// another user changed (and this one did not). Read both users and
    /// repair them; the device's user table is inconsistent.
    #[error(
        "{what}: the device changed another user (uid {changed_uid}, user id {changed_user_id:?}) \
         instead of uid {uid}"
    )]
    WrongUserChanged {
        /// The operation.
        what: String,
        /// The uid written to.
        uid: u16,
        /// The uid whose record changed.
        changed_uid: u16,
        /// The user id of the changed record.
        changed_user_id: String,
    },
    /// Automatic transport: TCP failed, then UDP failed too. The two errors
    /// say why; check the address and that the terminal is on.
    #[error("TCP: {tcp}; then UDP: {udp}")]
    BothTransports {
        /// The TCP attempt's error.
        tcp: Box<Error>,
        /// The UDP attempt's error.
        udp: Box<Error>,
    },
}

fn join_mismatches(m: &[super::restore::CountMismatch]) -> String {
    m.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn result_code(code: u16) -> String {
    if code == 0 {
        String::new()
    } else {
        format!(", result code {code}")
    }
}

fn timeout_message(waiting_for: &str, after: &Duration) -> String {
    let mut s =
        format!("timed out after {after:?} waiting for {waiting_for}: the peer did not answer");
    if waiting_for.contains("CMD_CONNECT") {
        s.push_str(
            "; check the address and port (4370), the transport (TCP or UDP; older terminals are UDP only), \
             the comm key, and that nobody is using the terminal's menu",
        );
    }
    s
}

impl Error {
    /// Whether the terminal answered and said no (refusal, unknown command,
    /// missing comm key, wrong user).
    ///
    /// ```
    /// # use zkproto::terminal::client::Error;
    /// assert!(Error::UserNotFound("1001".into()).is_refusal());
    /// assert!(Error::Unauthorized { key_sent: true }.is_refusal());
    /// assert!(!Error::Closed { during: "CMD_GET_TIME".into() }.is_refusal());
    /// ```
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Refused { .. }
                | Error::Unauthorized { .. }
                | Error::UserNotFound(_)
                | Error::DuplicateUserId { .. }
        )
    }

    /// Whether the failure is the network's or the peer's silence (worth a
    /// reconnect and retry).
    ///
    /// ```
    /// # use zkproto::terminal::client::Error;
    /// use std::time::Duration;
    /// let t = Error::Timeout { waiting_for: "CMD_GET_TIME".into(), after: Duration::from_secs(5) };
    /// assert!(t.is_network());
    /// assert!(!Error::UserNotFound("1001".into()).is_network());
    /// ```
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            Error::Io { .. }
                | Error::Timeout { .. }
                | Error::Closed { .. }
                | Error::BothTransports { .. }
        )
    }

    pub(crate) fn io(e: &std::io::Error) -> Error {
        Error::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    pub(crate) fn from_session(e: SessionError, key_sent: bool) -> Error {
        match e {
            SessionError::Timeout {
                command,
                waited,
                attempts,
            } => Error::Timeout {
                waiting_for: if attempts > 1 {
                    format!("reply to {} ({attempts} attempts)", command.name())
                } else {
                    format!("reply to {}", command.name())
                },
                after: waited,
            },
            e @ SessionError::TooLarge {
                what: "CMD_PREPARE_DATA",
                ..
            } => Error::Reply(e),
            SessionError::TooLarge {
                announced, limit, ..
            } => Error::TooLarge { announced, limit },
            SessionError::Refused {
                command,
                reply,
                code,
            } => Error::Refused {
                command,
                reply,
                code,
            },
            SessionError::Unauthorized => Error::Unauthorized { key_sent },
            e @ (SessionError::Unexpected { .. } | SessionError::Incomplete { .. }) => {
                Error::Reply(e)
            }
            e @ SessionError::NoProgress {
                frames, corrupt, ..
            } => Error::NoProgress {
                during: "the reply".into(),
                frames,
                corrupt,
                detail: e.to_string(),
            },
            SessionError::Record(r) => Error::Decode(r),
        }
    }
}

impl From<RecordError> for Error {
    fn from(e: RecordError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        match e {
            WireError::LooksLikeC3Panel => Error::NotATerminal {
                what: "it answered with 0xaa … 0x55 frames: a C3/inBio access-control panel (PullSDK protocol), \
                       not a standalone terminal"
                    .into(),
            },
            other => Error::Frame(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io(&e)
    }
}

impl From<crate::net::connect::ConnectError> for Error {
    fn from(e: crate::net::connect::ConnectError) -> Self {
        match e {
            crate::net::connect::ConnectError::Io(e) => Error::io(&e),
            crate::net::connect::ConnectError::TimedOut { peer, after } => Error::Timeout {
                waiting_for: format!("TCP connection to {peer} (before CMD_CONNECT)"),
                after,
            },
        }
    }
}
