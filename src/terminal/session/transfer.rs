//! One bulk read as a whole (reference §4), sans-IO: the [`BulkReader`]
//! state machine together with the time and frame [`Budget`] that bounds
//! it, so the async client only moves packets and waits on
//! [`BulkTransfer::deadline`].
//!
//! The caller asks [`poll`](BulkTransfer::poll) what to do (send a `1504`,
//! send `CMD_FREE_DATA`, wait, or stop), feeds what arrived for the current
//! exchange to [`handle`](BulkTransfer::handle) (a reply, a packet lost to a
//! bad checksum, or a burst that stalled), and hands the data it returns to
//! its consumer. Only progress — new, in-order bytes, or the accepted size
//! announcement — extends the deadline; once the size is known the overall
//! allowance is set from it (see [`Budget::bulk_allowance`]). Frames that
//! bring nothing count against the frame allowance and end the read with
//! [`SessionError::NoProgress`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use zkproto::terminal::{Command, Packet, ReplyCode};
//! use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
//! use zkproto::terminal::session::{BulkAction, BulkInput, BulkLimits, BulkTiming, BulkTransfer};
//!
//! let t0 = Instant::now();
//! let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(2) };
//! let limits = BulkLimits { chunk_size: 4, ..BulkLimits::default() };
//! let (mut t, first) = BulkTransfer::new(BulkRead::users(), limits, timing, 0, t0);
//! assert_eq!(first.command, Command::PrepareBuffer);
//! assert_eq!(t.poll().unwrap(), BulkAction::Wait);
//!
//! let buffer = b"\x04\0\0\0abcd";
//! let desc = BufferDescriptor::for_buffer(buffer).encode();
//! let out = t.handle(BulkInput::Reply(&Packet::new(ReplyCode::AckOk, 1, 1, desc)), t0).unwrap();
//! assert!(out.size_announced && out.exchange_done);
//! let mut got = Vec::new();
//! let free = loop {
//!     match t.poll().unwrap() {
//!         BulkAction::Send(req) => {
//!             let off = u32::from_le_bytes(req.data[..4].try_into().unwrap()) as usize;
//!             let len = u32::from_le_bytes(req.data[4..].try_into().unwrap()) as usize;
//!             let reply = Packet::new(ReplyCode::Data, 1, 2, buffer[off..off + len].to_vec());
//!             got.extend_from_slice(&t.handle(BulkInput::Reply(&reply), t0).unwrap().data.unwrap());
//!         }
//!         BulkAction::Free(free) => break free,
//!         other => panic!("{other:?}"),
//!     }
//! };
//! assert_eq!(&got[..], &buffer[..]);
//! assert_eq!(free.command, Command::FreeData);
//! assert_eq!(t.poll().unwrap(), BulkAction::Done);
//! ```

use super::{Budget, BulkLimits, BulkReader, SessionError, Step, Waste};
use crate::terminal::command::Command;
use crate::terminal::packet::Packet;
use crate::terminal::record::bulk::BulkRead;
use crate::terminal::request::Request;
use bytes::Bytes;
use std::time::{Duration, Instant};

/// The time allowances of a bulk read, from the client's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkTiming {
    /// The longest wait for the answer to one request (on UDP: every
    /// attempt of it together).
    pub request: Duration,
    /// The longest wait without progress once data flows
    /// (`Options::chunk_timeout` of the client).
    pub idle: Duration,
}

/// What the caller of a [`BulkTransfer`] does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BulkAction {
    /// Send this `1504` request, then feed its replies to
    /// [`handle`](BulkTransfer::handle).
    Send(Request),
    /// Every byte arrived: send this `CMD_FREE_DATA` (a refusal of it is
    /// harmless); the transfer is then over.
    Free(Request),
    /// Wait for more replies to the request in flight.
    Wait,
    /// The transfer is over (all bytes delivered and the buffer freed, or
    /// ended early).
    Done,
}

/// What arrived for the exchange in flight.
#[derive(Clone, Copy, Debug)]
pub enum BulkInput<'a> {
    /// A reply packet to the request in flight.
    Reply(&'a Packet),
    /// A packet of the burst was dropped (bad checksum): the rest of the
    /// burst is ignored and its bytes asked for again.
    Lost,
    /// A burst stopped part way (a UDP timeout after some packets): the
    /// rest of the chunk is asked for again.
    Stalled,
}

/// What one [`BulkInput`] produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkOutput {
    /// In-order bytes for the consumer.
    pub data: Option<Bytes>,
    /// The exchange in flight is over: the caller's session may forget the
    /// request ([`Session::finish`](super::Session::finish)) and
    /// [`poll`](BulkTransfer::poll) for the next one.
    pub exchange_done: bool,
    /// This input made the buffer size known (the `1503` reply).
    pub size_announced: bool,
}

/// One bulk read with its budget: [`poll`](Self::poll) for what to send,
/// [`handle`](Self::handle) what arrived, wait until
/// [`deadline`](Self::deadline).
#[derive(Clone, Debug)]
pub struct BulkTransfer {
    reader: BulkReader,
    budget: Budget,
    timing: BulkTiming,
    limits: BulkLimits,
    command: Command,
    in_exchange: bool,
    finished: bool,
}

/// A reply packet in a few words, for the evidence of
/// [`SessionError::NoProgress`]: its code, data length and session slot.
///
/// ```
/// use zkproto::terminal::{Packet, ReplyCode};
/// use zkproto::terminal::session::describe_reply;
/// let p = Packet::new(ReplyCode::Data, 7, 2, &b"abc"[..]);
/// assert_eq!(describe_reply(&p), "CMD_DATA(1501) with 3 data byte(s), slot 7");
/// ```
pub fn describe_reply(p: &Packet) -> String {
    format!(
        "{} with {} data byte(s), slot {}",
        p.reply_code(),
        p.data.len(),
        p.session_id
    )
}

impl BulkTransfer {
    /// A transfer of `read` from byte `offset` on (see
    /// [`BulkReader::starting_at`]), starting at `now`, and the `1503`
    /// request to send first. Until the size is known the read may take
    /// `timing.request`.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkTiming, BulkTransfer};
    /// let t0 = Instant::now();
    /// let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(10) };
    /// let (t, _first) = BulkTransfer::new(BulkRead::users(), BulkLimits::default(), timing, 0, t0);
    /// assert_eq!(t.deadline(), t0 + Duration::from_secs(1));
    /// ```
    pub fn new(
        read: BulkRead,
        limits: BulkLimits,
        timing: BulkTiming,
        offset: u32,
        now: Instant,
    ) -> (BulkTransfer, Request) {
        let reader = BulkReader::new(read, limits).starting_at(offset);
        let first = reader.prepare_request();
        let budget = Budget::new(
            now,
            timing.request,
            timing.idle,
            Budget::frame_allowance(limits.chunk_size, limits.chunk_retries),
        );
        let t = BulkTransfer {
            reader,
            budget,
            timing,
            limits,
            command: read.inner_command(),
            in_exchange: true,
            finished: false,
        };
        (t, first)
    }

    /// What to do next; see [`BulkAction`]. A refusal of the next request
    /// (more chunk retries than allowed) is an error.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkAction, BulkLimits, BulkTiming, BulkTransfer};
    /// # let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(10) };
    /// let (mut t, _first) = BulkTransfer::new(BulkRead::users(), BulkLimits::default(), timing, 0, Instant::now());
    /// assert_eq!(t.poll().unwrap(), BulkAction::Wait); // the 1503 is in flight
    /// ```
    pub fn poll(&mut self) -> Result<BulkAction, SessionError> {
        if self.finished {
            return Ok(BulkAction::Done);
        }
        if self.in_exchange {
            return Ok(BulkAction::Wait);
        }
        match self.reader.next_request()? {
            Some(req) => {
                self.in_exchange = true;
                Ok(BulkAction::Send(req))
            }
            None => {
                self.finished = true;
                Ok(BulkAction::Free(self.reader.free_request()))
            }
        }
    }

    /// Feeds what arrived for the exchange in flight, at `now`. Progress
    /// extends the deadline; a reply that brings nothing counts against the
    /// frame allowance (an error once it is used up).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkInput, BulkLimits, BulkTiming, BulkTransfer};
    /// # let t0 = Instant::now();
    /// # let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(10) };
    /// let (mut t, _first) = BulkTransfer::new(BulkRead::users(), BulkLimits::default(), timing, 0, t0);
    /// // A direct reply carries the whole (small) table.
    /// let reply = Packet::new(ReplyCode::Data, 1, 1, &b"\x04\0\0\0abcd"[..]);
    /// let out = t.handle(BulkInput::Reply(&reply), t0).unwrap();
    /// assert_eq!(out.data.as_deref(), Some(&b"\x04\0\0\0abcd"[..]));
    /// assert!(out.size_announced && out.exchange_done);
    /// ```
    pub fn handle(
        &mut self,
        input: BulkInput<'_>,
        now: Instant,
    ) -> Result<BulkOutput, SessionError> {
        let before = (self.reader.delivered(), self.reader.size());
        let (step, waste) = match input {
            BulkInput::Reply(p) => (
                self.reader.on_packet(p)?,
                Some(Waste::NoData(describe_reply(p))),
            ),
            // Counted as waste where it arrived (a corrupt frame).
            BulkInput::Lost => {
                self.reader.lost_packet();
                (Step::default(), None)
            }
            BulkInput::Stalled => {
                self.reader.abandon_chunk();
                let step = Step {
                    data: None,
                    done: true,
                };
                (step, None)
            }
        };
        let size_announced = before.1.is_none() && self.reader.size().is_some();
        if size_announced {
            // Only the bytes still to read (a read may start at an offset).
            let size = self
                .reader
                .size()
                .unwrap_or(0)
                .saturating_sub(self.reader.delivered());
            self.budget.progress(now);
            self.budget.set_allowance(
                self.timing.request
                    + Budget::bulk_allowance(
                        self.timing.idle,
                        size,
                        self.limits.chunk_size,
                        self.limits.chunk_retries,
                    ),
            );
        } else if self.reader.delivered() > before.0 {
            self.budget.progress(now);
        } else if let Some(w) = waste {
            self.budget.waste(w)?;
        }
        if step.done {
            self.in_exchange = false;
        }
        Ok(BulkOutput {
            data: step.data,
            exchange_done: step.done,
            size_announced,
        })
    }

    /// When the read must have made progress (or be over) by; see
    /// [`Budget::deadline`].
    pub fn deadline(&self) -> Instant {
        self.budget.deadline()
    }

    /// The budget, for a wait that also counts frames which answer no
    /// request (stale, corrupt) against it.
    pub fn budget_mut(&mut self) -> &mut Budget {
        &mut self.budget
    }

    /// The reader: bytes delivered, the size once known.
    pub fn reader(&self) -> &BulkReader {
        &self.reader
    }

    /// Whether part of the current chunk has arrived (a timeout then means
    /// a stalled burst, [`BulkInput::Stalled`], rather than a lost request).
    pub fn chunk_started(&self) -> bool {
        self.reader.chunk_started()
    }

    /// What is being read, with the bytes so far, for messages:
    /// `"bulk data of CMD_USERTEMP_RRQ (5 of 8 bytes received)"`.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkTiming, BulkTransfer};
    /// # let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(10) };
    /// let (t, _) = BulkTransfer::new(BulkRead::users(), BulkLimits::default(), timing, 0, Instant::now());
    /// assert_eq!(t.describe(), "bulk data of CMD_USERTEMP_RRQ (0 of ? bytes received)");
    /// ```
    pub fn describe(&self) -> String {
        format!(
            "bulk data of {} ({} of {} bytes received)",
            self.command.name(),
            self.reader.delivered(),
            self.reader
                .size()
                .map_or_else(|| "?".to_string(), |s| s.to_string())
        )
    }

    /// Ends the read before all its bytes arrived; `true` when it was still
    /// running (the device then still holds its buffer).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkAction, BulkLimits, BulkTiming, BulkTransfer};
    /// # let timing = BulkTiming { request: Duration::from_secs(1), idle: Duration::from_secs(10) };
    /// let (mut t, _) = BulkTransfer::new(BulkRead::users(), BulkLimits::default(), timing, 0, Instant::now());
    /// assert!(t.finish_early());
    /// assert!(!t.finish_early());
    /// assert_eq!(t.poll().unwrap(), BulkAction::Done);
    /// ```
    pub fn finish_early(&mut self) -> bool {
        self.in_exchange = false;
        !std::mem::replace(&mut self.finished, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::command::ReplyCode;
    use crate::terminal::record::bulk::{BufferDescriptor, PrepareData};

    const SEC: Duration = Duration::from_secs(1);

    fn timing() -> BulkTiming {
        BulkTiming {
            request: SEC,
            idle: 2 * SEC,
        }
    }

    fn limits() -> BulkLimits {
        BulkLimits {
            chunk_size: 4,
            chunk_retries: 1,
            ..BulkLimits::default()
        }
    }

    /// A transfer of `buffer` whose descriptor has been accepted at `t0`.
    fn announced(buffer: &[u8], t0: Instant) -> BulkTransfer {
        let (mut t, _) = BulkTransfer::new(BulkRead::users(), limits(), timing(), 0, t0);
        let desc = BufferDescriptor::for_buffer(buffer).encode();
        let out = t
            .handle(
                BulkInput::Reply(&Packet::new(ReplyCode::AckOk, 1, 1, desc)),
                t0,
            )
            .unwrap();
        assert_eq!(out.data, None);
        assert!(out.size_announced && out.exchange_done);
        t
    }

    /// Feeds the first chunk at `at` (progress), so the deadline is the
    /// overall cap when `at` is close to it.
    fn first_chunk_at(t: &mut BulkTransfer, buffer: &[u8], at: Instant) {
        let BulkAction::Send(req) = t.poll().unwrap() else {
            panic!("a chunk request")
        };
        let off = usize::try_from(u32::from_le_bytes(req.data[..4].try_into().unwrap())).unwrap();
        let reply = Packet::new(ReplyCode::Data, 1, 2, buffer[off..off + 4].to_vec());
        assert!(
            t.handle(BulkInput::Reply(&reply), at)
                .unwrap()
                .data
                .is_some()
        );
    }

    #[test]
    fn the_announced_size_sets_the_allowance() {
        let t0 = Instant::now();
        let buffer = b"\x08\0\0\0abcdefgh";
        let mut t = announced(buffer, t0);
        assert_eq!(t.reader().size(), Some(12));
        // Before the size: the request timeout alone; after: idle from the last progress.
        assert_eq!(t.deadline(), t0 + 2 * SEC);
        let allowance = SEC + Budget::bulk_allowance(2 * SEC, 12, 4, 1);
        first_chunk_at(&mut t, buffer, t0 + allowance - SEC);
        assert_eq!(t.deadline(), t0 + allowance, "capped by the allowance");
    }

    #[test]
    fn before_the_size_only_the_request_timeout_counts() {
        let t0 = Instant::now();
        let (t, _) = BulkTransfer::new(BulkRead::users(), limits(), timing(), 0, t0);
        assert_eq!(t.deadline(), t0 + SEC);
    }

    #[test]
    fn progress_extends_and_waste_does_not() {
        let t0 = Instant::now();
        let buffer = b"\x08\0\0\0abcdefgh";
        let mut t = announced(buffer, t0);
        let BulkAction::Send(req) = t.poll().unwrap() else {
            panic!("a chunk request")
        };
        assert_eq!(&req.data[..], [0, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(t.poll().unwrap(), BulkAction::Wait);
        let before = t.deadline();
        // A PREPARE_DATA announces the burst: no bytes, so no progress.
        let prep = PrepareData {
            len: 4,
            packet_size: None,
        }
        .encode();
        let later = t0 + SEC / 2;
        let out = t
            .handle(
                BulkInput::Reply(&Packet::new(ReplyCode::PrepareData, 1, 2, prep)),
                later,
            )
            .unwrap();
        assert_eq!(out, BulkOutput::default());
        assert_eq!(t.deadline(), before);
        let out = t
            .handle(
                BulkInput::Reply(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..4])),
                later,
            )
            .unwrap();
        assert_eq!(out.data.as_deref(), Some(&buffer[..4]));
        assert!(!out.size_announced);
        assert_eq!(t.reader().delivered(), 4);
        assert_eq!(
            t.describe(),
            "bulk data of CMD_USERTEMP_RRQ (4 of 12 bytes received)"
        );
    }

    #[test]
    fn empty_replies_use_up_the_frame_allowance() {
        let t0 = Instant::now();
        let mut t = announced(b"\x08\0\0\0abcdefgh", t0);
        let BulkAction::Send(_) = t.poll().unwrap() else {
            panic!("a chunk request")
        };
        let allowed = Budget::frame_allowance(4, 1);
        let empty = Packet::new(ReplyCode::Data, 7, 2, &[][..]);
        let mut result = Ok(BulkOutput::default());
        for _ in 0..=allowed {
            result = t.handle(BulkInput::Reply(&empty), t0);
            if result.is_err() {
                break;
            }
        }
        let e = result.unwrap_err();
        let SessionError::NoProgress { frames, last, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(frames, allowed + 1);
        assert_eq!(last, "CMD_DATA(1501) with 0 data byte(s), slot 7");
    }

    #[test]
    fn lost_and_stalled_bursts_are_asked_again() {
        let t0 = Instant::now();
        let buffer = b"\x08\0\0\0abcdefgh";
        let mut t = announced(buffer, t0);
        let BulkAction::Send(_) = t.poll().unwrap() else {
            panic!("a chunk request")
        };
        let prep = PrepareData {
            len: 4,
            packet_size: None,
        }
        .encode();
        t.handle(
            BulkInput::Reply(&Packet::new(ReplyCode::PrepareData, 1, 2, prep)),
            t0,
        )
        .unwrap();
        let out = t.handle(BulkInput::Lost, t0).unwrap();
        assert_eq!(out, BulkOutput::default());
        assert_eq!(t.poll().unwrap(), BulkAction::Wait);
        let out = t.handle(BulkInput::Stalled, t0).unwrap();
        assert!(out.exchange_done && out.data.is_none());
        let BulkAction::Send(again) = t.poll().unwrap() else {
            panic!("the chunk again")
        };
        assert_eq!(&again.data[..], [0, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(t.reader().retries(), 1);
    }

    #[test]
    fn a_read_at_an_offset_budgets_only_the_rest() {
        let t0 = Instant::now();
        let buffer: Vec<u8> = (0..4 + 4096u32).map(|i| i as u8).collect();
        let (mut t, _) = BulkTransfer::new(BulkRead::users(), limits(), timing(), 4000, t0);
        let desc = BufferDescriptor::for_buffer(&buffer).encode();
        t.handle(
            BulkInput::Reply(&Packet::new(ReplyCode::AckOk, 1, 1, desc)),
            t0,
        )
        .unwrap();
        let total = u32::try_from(buffer.len()).unwrap();
        let allowance = SEC + Budget::bulk_allowance(2 * SEC, total - 4000, 4, 1);
        assert!(allowance < SEC + Budget::bulk_allowance(2 * SEC, total, 4, 1));
        first_chunk_at(&mut t, &buffer, t0 + allowance - SEC);
        assert_eq!(t.deadline(), t0 + allowance);
    }

    #[test]
    fn ending_early_is_reported_once_and_ends_the_transfer() {
        let t0 = Instant::now();
        let mut t = announced(b"\x08\0\0\0abcdefgh", t0);
        assert!(matches!(t.poll().unwrap(), BulkAction::Send(_)));
        assert!(t.finish_early(), "it was running");
        assert!(!t.finish_early(), "already over");
        assert_eq!(t.poll().unwrap(), BulkAction::Done);
    }

    #[test]
    fn a_chunk_has_started_once_part_of_it_arrived() {
        let t0 = Instant::now();
        let buffer = b"\x08\0\0\0abcdefgh";
        let mut t = announced(buffer, t0);
        assert!(matches!(t.poll().unwrap(), BulkAction::Send(_)));
        assert!(!t.chunk_started(), "nothing of the chunk yet");
        let prep = PrepareData {
            len: 4,
            packet_size: None,
        }
        .encode();
        t.handle(
            BulkInput::Reply(&Packet::new(ReplyCode::PrepareData, 1, 2, prep)),
            t0,
        )
        .unwrap();
        t.handle(
            BulkInput::Reply(&Packet::new(ReplyCode::Data, 0, 2, &buffer[..2])),
            t0,
        )
        .unwrap();
        assert!(t.chunk_started(), "two of its four bytes arrived");
    }
}
