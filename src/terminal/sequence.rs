//! Reply-id (sequence number) rules of reference §1.5, for both ends.
//!
//! * Clients send `CMD_CONNECT` with reply id 0, then strictly increasing ids;
//!   on a UDP timeout they retransmit with the **same** id. The counter wraps
//!   65535 → 0, which the firmware accepts (it refuses pyzk's 65534 → 0 wrap).
//! * Devices execute a packet whose id is newer than the last one, resend the
//!   cached reply for a repeated id, and silently ignore an older id (except
//!   after 65535, where any id is accepted).
//!
//! ```
//! use zkproto::terminal::sequence::{ReplyIdCounter, DeviceSequence, Verdict};
//! let mut c = ReplyIdCounter::new();
//! assert_eq!(c.next_id(), 1);
//! assert_eq!(c.next_id(), 2);
//!
//! let mut d = DeviceSequence::new();
//! assert_eq!(d.check(5), Verdict::Execute);
//! d.executed(5, true);
//! assert_eq!(d.check(5), Verdict::Retransmit);
//! assert_eq!(d.check(4), Verdict::Ignore);
//! assert_eq!(d.check(6), Verdict::Execute);
//! ```

/// Client-side reply-id counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyIdCounter {
    last: u16,
}

impl ReplyIdCounter {
    /// A counter for a new session: `CMD_CONNECT` uses id 0, the next command 1.
    pub const fn new() -> Self {
        ReplyIdCounter { last: 0 }
    }

    /// Resets to the state after sending `CMD_CONNECT`.
    pub fn reset(&mut self) {
        self.last = 0;
    }

    /// The id of the last command sent.
    pub const fn last(&self) -> u16 {
        self.last
    }

    /// Allocates the id of the next new command (65535 wraps to 0, which
    /// firmware accepts after 65535).
    pub fn next_id(&mut self) -> u16 {
        self.last = self.last.wrapping_add(1);
        self.last
    }
}

/// What a device does with a received reply id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A new command: execute it.
    Execute,
    /// The same id as the last executed command: resend the cached reply
    /// without executing again.
    Retransmit,
    /// An older id: drop silently.
    Ignore,
}

/// Device-side reply-id state of one session (`LastReplyID`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceSequence {
    last: u16,
    has_cached_reply: bool,
}

impl DeviceSequence {
    /// A fresh session (`LastReplyID = 0`, nothing cached).
    pub const fn new() -> Self {
        DeviceSequence {
            last: 0,
            has_cached_reply: false,
        }
    }

    /// The last executed reply id.
    pub const fn last(&self) -> u16 {
        self.last
    }

    /// Classifies an incoming reply id (firmware `RunCommand`).
    pub fn check(&self, reply_id: u16) -> Verdict {
        if reply_id == self.last && self.has_cached_reply {
            Verdict::Retransmit
        } else if reply_id < self.last && self.last != u16::MAX {
            Verdict::Ignore
        } else {
            Verdict::Execute
        }
    }

    /// Records that `reply_id` was executed and whether a reply was cached.
    pub fn executed(&mut self, reply_id: u16, cached_reply: bool) {
        self.last = reply_id;
        self.has_cached_reply = cached_reply;
    }

    /// Whether a `CMD_DATA` upload with this id is in sequence (it must be
    /// exactly `last + 1`).
    pub fn is_next_upload(&self, reply_id: u16) -> bool {
        reply_id == self.last.wrapping_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_wraps_past_65535() {
        let mut c = ReplyIdCounter { last: 65534 };
        assert_eq!(c.next_id(), 65535);
        assert_eq!(c.next_id(), 0);
        assert_eq!(c.next_id(), 1);
    }

    #[test]
    fn device_accepts_the_client_wrap_but_not_pyzk_wrap() {
        let mut d = DeviceSequence::new();
        d.executed(65535, true);
        assert_eq!(d.check(0), Verdict::Execute);
        d.executed(65534, true);
        assert_eq!(d.check(0), Verdict::Ignore);
    }

    #[test]
    fn fresh_session_executes_id_zero() {
        let d = DeviceSequence::new();
        assert_eq!(d.check(0), Verdict::Execute);
        assert!(d.is_next_upload(1));
    }
}
