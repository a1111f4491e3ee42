//! Fault injection: misbehaviours the simulator can be told to show.
//!
//! Faults marked "once" are consumed by the first reply they apply to;
//! the others stay until [`Simulator::clear_faults`](super::Simulator::clear_faults).

use crate::terminal::command::{Command, ReplyCode};
use std::time::Duration;

/// One fault.
///
/// ```
/// use zkproto::terminal::sim::Fault;
/// use zkproto::terminal::Command;
/// let f = Fault::DropNextReply { command: Some(Command::GetTime) };
/// assert!(f.is_once());
/// assert!(!Fault::Silent.is_once());
/// assert!(!Fault::LateBurstAck(std::time::Duration::from_millis(300)).is_once());
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every reply is delayed by this long (persistent).
    Delay(Duration),
    /// The next reply to that command (any command when `None`) is not sent,
    /// but is cached: a client retransmitting the same reply id gets it
    /// (once).
    DropNextReply {
        /// Command whose reply is dropped.
        command: Option<Command>,
    },
    /// TCP: every frame is written in pieces of `chunk` bytes, flushed one
    /// by one (persistent; 0 is treated as 1).
    SplitFrames {
        /// Piece size.
        chunk: usize,
    },
    /// TCP: a realtime event (`EF_FPFTR`, score 100) is put in the same
    /// write before each reply (persistent).
    CoalesceWithEvent,
    /// The checksum of the next reply to that command (any when `None`) is
    /// corrupted (once).
    CorruptChecksum {
        /// Command whose reply is corrupted.
        command: Option<Command>,
    },
    /// The connection is closed after this many `CMD_DATA` packets of the
    /// next `1504` burst (once). Over UDP the rest of the burst is not sent.
    CloseMidBulk {
        /// Data packets sent before closing.
        after_data_packets: usize,
    },
    /// The closing `CMD_ACK_OK` of every `CMD_PREPARE_DATA` burst is sent
    /// this long after the last `CMD_DATA` (persistent), like firmware whose
    /// closing acknowledgement arrives after the client, having all the
    /// data, has sent its next request. A correct client drops it by reply
    /// id.
    LateBurstAck(Duration),
    /// The next `1503` descriptor announces this size instead of the real
    /// one (once); the buffer itself is unchanged.
    AnnounceSize(u32),
    /// That command is answered with that reply code and no data, without
    /// being executed (persistent).
    ReplyWith {
        /// The command.
        command: Command,
        /// The reply code sent instead.
        reply: ReplyCode,
    },
    /// Nothing at all is answered (persistent).
    Silent,
}

impl Fault {
    /// Whether the fault is consumed by its first use.
    pub fn is_once(&self) -> bool {
        matches!(
            self,
            Fault::DropNextReply { .. }
                | Fault::CorruptChecksum { .. }
                | Fault::CloseMidBulk { .. }
                | Fault::AnnounceSize(_)
        )
    }
}

/// Whether an optional command filter matches `cmd`.
pub(crate) fn matches(filter: Option<Command>, cmd: Command) -> bool {
    filter.is_none_or(|c| c == cmd)
}
