//! The client's sans-IO session: reply ids, reply matching, event
//! demultiplexing, timeouts and the bulk-read state machine (reference §1.5,
//! §3, §4, §7).
//!
//! Nothing here performs I/O or reads a clock: the caller passes packets in,
//! sends the packets it gets back, and passes `now` to the timeout logic.
//! The async client (`client`, feature `client`) is a thin loop around it.
//!
//! * [`Session`] allocates reply ids with [`ReplyIdCounter`], remembers the
//!   one outstanding request, classifies every received packet as a reply to
//!   it, a realtime event (code 500, queued until taken) or a stale packet
//!   (any other reply id: late replies and cached replies to retransmissions,
//!   discarded), and decides on a timeout whether to retransmit the same
//!   packet (same reply id, §1.5) or give up.
//! * [`BulkReader`] drives one bulk read: `1503` → direct `CMD_DATA`, or
//!   `CMD_ACK_OK` + descriptor → `1504` chunks, each answered by `CMD_DATA`
//!   or `CMD_PREPARE_DATA` + `CMD_DATA`… + `CMD_ACK_OK`. Every announced size
//!   is checked against the limit before anything is allocated, bytes are
//!   counted, data is delivered in order as it arrives, and a chunk that
//!   lost packets is asked for again from the first missing byte.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use zkproto::terminal::{Command, Packet, ReplyCode};
//! use zkproto::terminal::request::Request;
//! use zkproto::terminal::session::{Incoming, Session, WaitPolicy};
//!
//! let now = Instant::now();
//! let wait = WaitPolicy { timeout: Duration::from_secs(1), retries: 2 };
//! let mut s = Session::new();
//! let connect = s.connect(now, wait);
//! assert_eq!((connect.command(), connect.reply_id), (Command::Connect, 0));
//! let reply = Packet::new(ReplyCode::AckOk, 0x45CF, 0, &[][..]);
//! assert!(matches!(s.receive(reply), Incoming::Reply(_)));
//! s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 0x45CF, 0, &[][..])).unwrap();
//! s.finish();
//!
//! let req = s.send(Request::get_time(), now, wait);
//! assert_eq!((req.session_id, req.reply_id), (0x45CF, 1));
//! // A late reply with another id is discarded; an event is queued.
//! assert!(matches!(s.receive(Packet::new(ReplyCode::AckOk, 0x45CF, 0, &[][..])), Incoming::Stale));
//! assert!(matches!(s.receive(Packet::new(Command::RegEvent, 1, 0, &[][..])), Incoming::Event));
//! assert_eq!(s.pending_events(), 1);
//! // Timeout: the same packet is retransmitted.
//! let again = s.on_timeout(now + Duration::from_secs(2)).unwrap();
//! assert_eq!(again, req);
//! ```

use crate::terminal::command::{Command, ReplyCode};
use crate::terminal::packet::Packet;
use crate::terminal::record::error::RecordError;
use crate::terminal::request::Request;
use crate::terminal::sequence::ReplyIdCounter;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod budget;
mod bulk;
mod split;
mod transfer;
pub use budget::{Budget, FIRMWARE_PACE_PER_KIB, Waste};
pub use bulk::{BulkLimits, BulkReader, Burst, Step};
pub use split::RecordSplitter;
pub use transfer::{BulkAction, BulkInput, BulkOutput, BulkTiming, BulkTransfer, describe_reply};

/// Default number of realtime events kept while nobody takes them; older
/// events are dropped (and counted) beyond it.
pub const DEFAULT_EVENT_QUEUE: usize = 1024;

/// Failure decided by the session logic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No reply arrived in time, after all retransmissions.
    #[error("no reply to {command} after {attempts} attempt(s) ({waited:?} in total)")]
    Timeout {
        /// The request that went unanswered.
        command: Command,
        /// Time since the request was first sent.
        waited: Duration,
        /// How many times it was sent.
        attempts: u32,
    },
    /// A size announced by the device exceeds the configured limit; nothing
    /// was allocated.
    #[error("{what}: the device announced {announced} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Which announcement.
        what: &'static str,
        /// The announced size.
        announced: u64,
        /// The limit.
        limit: u64,
    },
    /// The device refused a request.
    #[error("{command} refused: {reply} ({}), result code {code}", reply.explain())]
    Refused {
        /// The request.
        command: Command,
        /// The reply code.
        reply: ReplyCode,
        /// The value in the reply's session slot (an error code on most firmware).
        code: u16,
    },
    /// The device requires a comm key, or refused the one sent.
    #[error("the device refused the session: comm key missing or wrong")]
    Unauthorized,
    /// The reply does not fit the exchange.
    #[error("unexpected reply during {during}: {detail}")]
    Unexpected {
        /// The exchange.
        during: &'static str,
        /// What was received.
        detail: String,
    },
    /// A bulk transfer could not be completed after re-asking for missing data.
    #[error("bulk read incomplete: {received} of {expected} bytes after {retries} retries")]
    Incomplete {
        /// Announced size.
        expected: u64,
        /// Bytes received in order.
        received: u64,
        /// Chunk re-requests made.
        retries: u32,
    },
    /// The device kept answering the outstanding request without
    /// progress (no new, valid, in-order data) until the frame budget or
    /// the deadline ran out (see [`Budget`]).
    #[error("{}", no_progress_message(*frames, *corrupt, *waited, last, *last_corrupt))]
    NoProgress {
        /// Frames in a row without progress.
        frames: u32,
        /// How many of them were corrupt (bad checksum, bad framing).
        corrupt: u32,
        /// Time since the last progress, when the deadline ended it.
        waited: Option<Duration>,
        /// What the last such frame was (for corrupt ones: the error).
        last: String,
        /// Whether the last one was corrupt.
        last_corrupt: bool,
    },
    /// A payload could not be decoded.
    #[error(transparent)]
    Record(#[from] RecordError),
}

fn no_progress_message(
    frames: u32,
    corrupt: u32,
    waited: Option<Duration>,
    last: &str,
    last_corrupt: bool,
) -> String {
    let mut s = if corrupt == frames {
        format!("the device sent {frames} corrupt frame(s) and nothing usable")
    } else if corrupt > 0 {
        format!("the device sent {frames} frame(s) without new data ({corrupt} of them corrupt)")
    } else {
        format!("the device sent {frames} frame(s) without new data")
    };
    if let Some(w) = waited {
        s.push_str(&format!(" in {:.1} s", w.as_secs_f64()));
    }
    if !last.is_empty() {
        s.push_str(if last_corrupt {
            "; last: corrupt: "
        } else {
            "; last: "
        });
        s.push_str(last);
    }
    s
}

/// How long to wait for a reply, and how many times to resend the request
/// (with the same reply id) when none arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Time allowed for each attempt.
    pub timeout: Duration,
    /// Retransmissions after the first attempt (use 0 on TCP).
    pub retries: u32,
}

/// What a received packet turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A reply to the outstanding request (same reply id).
    Reply(Packet),
    /// A realtime event; it was queued (see [`Session::pop_event`]).
    Event,
    /// A packet with another reply id, or with no request outstanding:
    /// discarded.
    Stale,
}

/// Outcome of the connect reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectState {
    /// The session is open.
    Ready,
    /// The device wants `CMD_AUTH` first (comm key set, §3.2).
    NeedsAuth,
}

/// Counters of one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Requests sent (first attempts).
    pub requests: u64,
    /// Retransmissions (same reply id).
    pub retransmissions: u64,
    /// Packets discarded because their reply id was not the outstanding one.
    pub stale_discarded: u64,
    /// Realtime events received.
    pub events: u64,
    /// Realtime events dropped because the queue was full.
    pub events_dropped: u64,
    /// Frames dropped because of a bad checksum.
    pub corrupt_dropped: u64,
    /// Largest number of bulk-data bytes the client held at once (reported
    /// by the caller through [`Session::note_buffered`]).
    pub max_buffered: usize,
}

#[derive(Clone, Debug)]
struct Outstanding {
    packet: Packet,
    wait: WaitPolicy,
    first_sent: Instant,
    deadline: Instant,
    attempts: u32,
}

/// The client side of one terminal session.
#[derive(Debug)]
pub struct Session {
    session_id: u16,
    ids: ReplyIdCounter,
    current: Option<Outstanding>,
    events: VecDeque<Packet>,
    max_events: usize,
    stats: SessionStats,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session before `CMD_CONNECT`.
    ///
    /// ```
    /// use zkproto::terminal::session::Session;
    /// let s = Session::new();
    /// assert_eq!((s.session_id(), s.current_reply_id(), s.pending_events()), (0, None, 0));
    /// ```
    pub fn new() -> Self {
        Session {
            session_id: 0,
            ids: ReplyIdCounter::new(),
            current: None,
            events: VecDeque::new(),
            max_events: DEFAULT_EVENT_QUEUE,
            stats: SessionStats::default(),
        }
    }

    /// Sets how many unread events are kept (at least 1).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.set_event_queue_limit(1);
    /// for _ in 0..3 {
    ///     s.receive(Packet::new(Command::RegEvent, 1, 0, &[][..]));
    /// }
    /// assert_eq!(s.pending_events(), 1);
    /// assert_eq!(s.stats().events_dropped, 2);
    /// ```
    pub fn set_event_queue_limit(&mut self, limit: usize) {
        self.max_events = limit.max(1);
    }

    /// The session id from the connect reply (0 before).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// assert_eq!(Session::new().session_id(), 0);
    /// assert_eq!(s.session_id(), 7); // from the connect reply
    /// ```
    pub fn session_id(&self) -> u16 {
        self.session_id
    }

    /// The counters.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait);
    /// s.retransmit(now, "corrupt reply").unwrap();
    /// s.receive(Packet::new(ReplyCode::AckOk, 7, p.reply_id + 1, &[][..]));
    /// let st = s.stats();
    /// assert_eq!((st.requests, st.retransmissions, st.stale_discarded), (2, 1, 1));
    /// ```
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Starts a session: `CMD_CONNECT` with session 0 and reply id 0.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.connect(now, wait);
    /// assert_eq!((p.command(), p.session_id, p.reply_id), (Command::Connect, 0, 0));
    /// assert_eq!(s.deadline(), Some(now + wait.timeout));
    /// ```
    pub fn connect(&mut self, now: Instant, wait: WaitPolicy) -> Packet {
        self.session_id = 0;
        self.ids.reset();
        let packet = Request::connect().into_packet(0, 0);
        self.track(packet.clone(), now, wait);
        packet
    }

    /// Takes the session id from the connect reply and tells whether
    /// authentication is needed. Call [`finish`](Self::finish) afterwards.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.connect(now, wait);
    /// let unauth = Packet::new(ReplyCode::AckUnauth, 9, 0, &[][..]);
    /// assert_eq!(s.on_connect_reply(&unauth), Ok(ConnectState::NeedsAuth));
    /// assert_eq!(s.session_id(), 9);
    /// let refused = Packet::new(ReplyCode::AckError, 0, 0, &[][..]);
    /// assert!(matches!(s.on_connect_reply(&refused), Err(SessionError::Refused { .. })));
    /// ```
    pub fn on_connect_reply(&mut self, reply: &Packet) -> Result<ConnectState, SessionError> {
        match reply.reply_code() {
            ReplyCode::AckOk => {
                self.session_id = reply.session_id;
                Ok(ConnectState::Ready)
            }
            ReplyCode::AckUnauth => {
                self.session_id = reply.session_id;
                Ok(ConnectState::NeedsAuth)
            }
            other => Err(SessionError::Refused {
                command: Command::Connect,
                reply: other,
                code: reply.session_id,
            }),
        }
    }

    fn track(&mut self, packet: Packet, now: Instant, wait: WaitPolicy) {
        self.stats.requests += 1;
        self.current = Some(Outstanding {
            packet,
            wait,
            first_sent: now,
            deadline: now + wait.timeout,
            attempts: 1,
        });
    }

    /// Allocates the next reply id for `request` and makes it the
    /// outstanding request. Returns the packet to send.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait);
    /// assert_eq!((p.command(), p.session_id, p.reply_id), (Command::GetTime, 7, 1));
    /// let q = s.send(Request::get_version(), now, wait);
    /// assert_eq!(q.reply_id, 2);
    /// ```
    pub fn send(&mut self, request: Request, now: Instant, wait: WaitPolicy) -> Packet {
        let id = self.ids.next_id();
        let packet = request.into_packet(self.session_id, id);
        self.track(packet.clone(), now, wait);
        packet
    }

    /// Builds a packet with the next reply id without waiting for a reply
    /// (best-effort sends such as `CMD_EXIT` on drop).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.fire_and_forget(Request::exit());
    /// assert_eq!((p.command(), p.reply_id), (Command::Exit, 1));
    /// assert_eq!(s.current_reply_id(), None); // nothing waits for a reply
    /// ```
    pub fn fire_and_forget(&mut self, request: Request) -> Packet {
        let id = self.ids.next_id();
        self.current = None;
        request.into_packet(self.session_id, id)
    }

    /// The reply id of the outstanding request.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// assert_eq!(s.current_reply_id(), None);
    /// s.send(Request::get_time(), now, wait);
    /// assert_eq!(s.current_reply_id(), Some(1));
    /// ```
    pub fn current_reply_id(&self) -> Option<u16> {
        self.current.as_ref().map(|c| c.packet.reply_id)
    }

    /// The outstanding request's command.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.send(Request::get_time(), now, wait);
    /// assert_eq!(s.current_command(), Some(Command::GetTime));
    /// s.finish();
    /// assert_eq!(s.current_command(), None);
    /// ```
    pub fn current_command(&self) -> Option<Command> {
        self.current.as_ref().map(|c| c.packet.command())
    }

    /// Classifies a received packet.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait);
    /// let reply = Packet::new(ReplyCode::AckOk, 7, p.reply_id, &[1, 2, 3, 4][..]);
    /// assert_eq!(s.receive(reply.clone()), Incoming::Reply(reply));
    /// let late = Packet::new(ReplyCode::AckOk, 7, p.reply_id.wrapping_sub(1), &[][..]);
    /// assert_eq!(s.receive(late), Incoming::Stale);
    /// assert_eq!(s.receive(Packet::new(Command::RegEvent, 1, 0, &[][..])), Incoming::Event);
    /// ```
    pub fn receive(&mut self, packet: Packet) -> Incoming {
        if packet.is_event() {
            self.stats.events += 1;
            if self.events.len() >= self.max_events {
                self.events.pop_front();
                self.stats.events_dropped += 1;
                tracing::warn!(
                    limit = self.max_events,
                    "event queue full, dropping the oldest event"
                );
            }
            self.events.push_back(packet);
            return Incoming::Event;
        }
        match &self.current {
            Some(c) if c.packet.reply_id == packet.reply_id => Incoming::Reply(packet),
            _ => {
                self.stats.stale_discarded += 1;
                tracing::debug!(?packet, expected = ?self.current_reply_id(), "discarding stale packet");
                Incoming::Stale
            }
        }
    }

    /// When the outstanding request times out.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// assert_eq!(s.deadline(), None);
    /// s.send(Request::get_time(), now, wait);
    /// assert_eq!(s.deadline(), Some(now + Duration::from_secs(1)));
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.current.as_ref().map(|c| c.deadline)
    }

    /// Restarts the outstanding request's clock with `timeout` (after each
    /// packet of a multi-packet reply: a per-chunk timeout).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.send(Request::read_buffer(0, 1024), now, wait);
    /// let later = now + Duration::from_millis(800);
    /// s.extend_deadline(later, Duration::from_secs(10));
    /// assert_eq!(s.deadline(), Some(later + Duration::from_secs(10)));
    /// ```
    pub fn extend_deadline(&mut self, now: Instant, timeout: Duration) {
        if let Some(c) = &mut self.current {
            c.deadline = now + timeout;
        }
    }

    /// Handles a timeout: returns the packet to retransmit (same reply id)
    /// while retries remain, else gives up with [`SessionError::Timeout`]
    /// and forgets the request.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait); // 1 retry allowed
    /// assert_eq!(s.on_timeout(now + Duration::from_secs(1)), Ok(p));
    /// let e = s.on_timeout(now + Duration::from_secs(2)).unwrap_err();
    /// assert!(matches!(e, SessionError::Timeout { attempts: 2, .. }));
    /// assert_eq!(s.current_reply_id(), None);
    /// ```
    pub fn on_timeout(&mut self, now: Instant) -> Result<Packet, SessionError> {
        self.retransmit(now, "timeout")
    }

    /// Gives up on the outstanding request without retransmitting (TCP
    /// timeouts: a stream loses nothing, so resending would not help).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.send(Request::get_time(), now, wait);
    /// let e = s.give_up(now + Duration::from_secs(1));
    /// let waited = Duration::from_secs(1);
    /// assert_eq!(e, SessionError::Timeout { command: Command::GetTime, waited, attempts: 1 });
    /// assert_eq!(s.current_reply_id(), None);
    /// ```
    pub fn give_up(&mut self, now: Instant) -> SessionError {
        match self.current.take() {
            Some(c) => SessionError::Timeout {
                command: c.packet.command(),
                waited: now.saturating_duration_since(c.first_sent),
                attempts: c.attempts,
            },
            None => SessionError::Unexpected {
                during: "timeout",
                detail: "no request outstanding".into(),
            },
        }
    }

    /// Asks for a retransmission outside a timeout (a corrupted reply
    /// arrived); counts against the same retry budget.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait);
    /// assert_eq!(s.retransmit(now, "bad checksum"), Ok(p)); // same reply id
    /// assert_eq!(s.stats().retransmissions, 1);
    /// assert!(s.retransmit(now, "bad checksum").is_err()); // budget spent
    /// ```
    pub fn retransmit(&mut self, now: Instant, why: &'static str) -> Result<Packet, SessionError> {
        let Some(c) = &mut self.current else {
            return Err(SessionError::Unexpected {
                during: "timeout",
                detail: "no request outstanding".into(),
            });
        };
        if c.attempts > c.wait.retries {
            let err = SessionError::Timeout {
                command: c.packet.command(),
                waited: now.saturating_duration_since(c.first_sent),
                attempts: c.attempts,
            };
            self.current = None;
            return Err(err);
        }
        c.attempts += 1;
        c.deadline = now + c.wait.timeout;
        self.stats.retransmissions += 1;
        tracing::debug!(command = %c.packet.command(), reply_id = c.packet.reply_id, attempt = c.attempts, why, "retransmitting");
        Ok(c.packet.clone())
    }

    /// Ends the outstanding exchange; later packets with its id are stale.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let p = s.send(Request::get_time(), now, wait);
    /// s.finish();
    /// let reply = Packet::new(ReplyCode::AckOk, 7, p.reply_id, &[][..]);
    /// assert_eq!(s.receive(reply), Incoming::Stale);
    /// ```
    pub fn finish(&mut self) {
        self.current = None;
    }

    /// Takes the oldest queued event.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let ev = Packet::new(Command::RegEvent, 1, 0, &[0x31, 0x30][..]);
    /// s.receive(ev.clone());
    /// assert_eq!(s.pop_event(), Some(ev));
    /// assert_eq!(s.pop_event(), None);
    /// ```
    pub fn pop_event(&mut self) -> Option<Packet> {
        self.events.pop_front()
    }

    /// Number of queued events.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// assert_eq!(s.pending_events(), 0);
    /// s.receive(Packet::new(Command::RegEvent, 1, 0, &[][..]));
    /// s.receive(Packet::new(Command::RegEvent, 8, 0, &[][..]));
    /// assert_eq!(s.pending_events(), 2);
    /// ```
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// The acknowledgement for an event (`CMD_ACK_OK` echoing its reply id,
    /// §7.3). It does not consume a reply id.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// let ev = Packet::new(Command::RegEvent, 1, 0x1234, &[][..]);
    /// let ack = s.event_ack(&ev);
    /// assert_eq!((ack.reply_code(), ack.session_id, ack.reply_id), (ReplyCode::AckOk, 7, 0x1234));
    /// assert_eq!(s.send(Request::get_time(), now, wait).reply_id, 1); // no id consumed
    /// ```
    pub fn event_ack(&self, event: &Packet) -> Packet {
        Packet::new(
            ReplyCode::AckOk,
            self.session_id,
            event.reply_id,
            Bytes::new(),
        )
    }

    /// Records that the caller holds `bytes` of bulk data right now.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.note_buffered(65_472);
    /// s.note_buffered(1_024);
    /// assert_eq!(s.stats().max_buffered, 65_472);
    /// ```
    pub fn note_buffered(&mut self, bytes: usize) {
        self.stats.max_buffered = self.stats.max_buffered.max(bytes);
    }

    /// Counts a frame dropped for a bad checksum.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::request::Request;
    /// # use zkproto::terminal::session::*;
    /// # let (now, wait) = (Instant::now(), WaitPolicy { timeout: Duration::from_secs(1), retries: 1 });
    /// # let mut s = Session::new();
    /// # s.connect(now, wait);
    /// # s.on_connect_reply(&Packet::new(ReplyCode::AckOk, 7, 0, &[][..])).unwrap();
    /// # s.finish();
    /// s.note_corrupt();
    /// assert_eq!(s.stats().corrupt_dropped, 1);
    /// ```
    pub fn note_corrupt(&mut self) {
        self.stats.corrupt_dropped += 1;
    }
}

/// Interprets a reply to a simple command: `Ok` for success codes, the
/// matching error otherwise.
///
/// ```
/// use zkproto::terminal::{Command, Packet, ReplyCode};
/// use zkproto::terminal::session::{check_reply, SessionError};
/// assert!(check_reply(Command::GetTime, &Packet::new(ReplyCode::AckOk, 1, 1, &[][..])).is_ok());
/// let e = check_reply(Command::Unlock, &Packet::new(ReplyCode::AckError, 2, 1, &[][..])).unwrap_err();
/// assert_eq!(e, SessionError::Refused { command: Command::Unlock, reply: ReplyCode::AckError, code: 2 });
/// ```
pub fn check_reply(command: Command, reply: &Packet) -> Result<(), SessionError> {
    match reply.reply_code() {
        ReplyCode::AckOk | ReplyCode::Data | ReplyCode::PrepareData | ReplyCode::AckData => Ok(()),
        ReplyCode::AckUnauth => Err(SessionError::Unauthorized),
        other => Err(SessionError::Refused {
            command,
            reply: other,
            code: reply.session_id,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait() -> WaitPolicy {
        WaitPolicy {
            timeout: Duration::from_millis(100),
            retries: 1,
        }
    }

    #[test]
    fn retransmits_then_gives_up() {
        let t0 = Instant::now();
        let mut s = Session::new();
        s.connect(t0, wait());
        s.finish();
        let p = s.send(Request::get_time(), t0, wait());
        assert_eq!(s.on_timeout(t0 + Duration::from_millis(100)).unwrap(), p);
        let e = s.on_timeout(t0 + Duration::from_millis(200)).unwrap_err();
        assert!(matches!(
            e,
            SessionError::Timeout {
                command: Command::GetTime,
                attempts: 2,
                ..
            }
        ));
        assert_eq!(s.current_reply_id(), None);
        assert_eq!(s.stats().retransmissions, 1);
    }
}
