//! Fault injection: misbehaviours the panel simulator can be told to show.
//!
//! Faults marked "once" are consumed by the first reply they apply to; the
//! others stay until [`Simulator::clear_faults`](super::Simulator::clear_faults).

use crate::panel::command::{Command, ErrorCode};
use bytes::Bytes;
use std::time::Duration;

/// One fault.
///
/// ```
/// use zkproto::panel::sim::Fault;
/// use zkproto::panel::Command;
/// assert!(Fault::CorruptCrc { command: Some(Command::GetRtLog) }.is_once());
/// assert!(!Fault::LagReplies.is_once());
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every reply is delayed by this long (persistent).
    Delay(Duration),
    /// These bytes are written right before every reply (persistent; TCP:
    /// same write, UDP: same datagram).
    GarbageBefore(Bytes),
    /// TCP: every reply is written in pieces of `chunk` bytes (persistent;
    /// 0 is treated as 1).
    SplitFrames {
        /// Piece size.
        chunk: usize,
    },
    /// The CRC of the next reply to that command (any when `None`) is
    /// corrupted (once).
    CorruptCrc {
        /// Command whose reply is corrupted.
        command: Option<Command>,
    },
    /// Replies lag one request behind: each request is answered with the
    /// reply to the previous one, the first gets nothing (persistent;
    /// reference §2.2).
    LagReplies,
    /// The next reply to that command is not sent (once).
    DropReply {
        /// Command whose reply is dropped (any when `None`).
        command: Option<Command>,
    },
    /// Instead of answering that command, the connection is closed (once).
    Disconnect {
        /// Command that triggers the close (any when `None`).
        command: Option<Command>,
    },
    /// That command is answered with this error, without being executed (persistent).
    ReplyError {
        /// The command.
        command: Command,
        /// The error code sent.
        code: ErrorCode,
    },
    /// Nothing at all is answered (persistent).
    Silent,
}

impl Fault {
    /// Whether the fault is consumed by its first use.
    pub fn is_once(&self) -> bool {
        matches!(
            self,
            Fault::CorruptCrc { .. } | Fault::DropReply { .. } | Fault::Disconnect { .. }
        )
    }
}

/// Whether an optional command filter matches `cmd`.
pub(crate) fn matches(filter: Option<Command>, cmd: Command) -> bool {
    filter.is_none_or(|c| c == cmd)
}
