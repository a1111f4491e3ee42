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
use crate::terminal::record::bulk::{BufferDescriptor, BulkRead, PrepareData};
use crate::terminal::record::error::RecordError;
use crate::terminal::request::Request;
use crate::terminal::sequence::ReplyIdCounter;
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

mod budget;
pub use budget::{Budget, FIRMWARE_PACE_PER_KIB, Waste};

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

/// Limits of a bulk read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkLimits {
    /// Largest buffer size accepted from a descriptor or direct reply.
    pub max_bulk: u32,
    /// Bytes asked for with each `1504` request (TCP 0xFFC0, UDP 16384).
    pub chunk_size: u32,
    /// How many times a chunk with missing packets may be asked for again.
    pub chunk_retries: u32,
}

impl Default for BulkLimits {
    fn default() -> Self {
        BulkLimits {
            max_bulk: crate::terminal::record::bulk::MAX_BULK_SIZE,
            chunk_size: 0xFFC0,
            chunk_retries: 3,
        }
    }
}

/// Result of feeding one reply packet to a [`BulkReader`] or [`Burst`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// In-order bytes to hand to the consumer.
    pub data: Option<Bytes>,
    /// The current request's exchange is over (send the next request).
    pub done: bool,
}

/// Collects one multi-packet reply: a direct `CMD_DATA` / `CMD_ACK_OK`
/// with data, or `CMD_PREPARE_DATA` + `CMD_DATA`… + `CMD_ACK_OK` (§4.3, §4.8).
///
/// Data is delivered in order; after a missing packet (packet index gap)
/// the rest of the burst is ignored and [`missing`](Self::missing) says
/// how much did not arrive.
#[derive(Clone, Debug)]
pub struct Burst {
    command: Command,
    /// Most bytes this exchange may deliver.
    limit: u32,
    announced: Option<u32>,
    packet_size: Option<u32>,
    got: u32,
    next_index: Option<u16>,
    check_index: bool,
    broken: bool,
    done: bool,
}

impl Burst {
    /// A burst answering `command`, delivering at most `limit` bytes.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// assert_eq!((b.received(), b.announced(), b.is_done()), (0, None, false));
    /// ```
    pub fn new(command: Command, limit: u32) -> Self {
        Burst {
            command,
            limit,
            announced: None,
            packet_size: None,
            got: 0,
            next_index: None,
            check_index: true,
            broken: false,
            done: false,
        }
    }

    /// Bytes delivered so far.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// let step = b.on_packet(&Packet::new(ReplyCode::Data, 7, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(step.data, Some(Bytes::from_static(b"abc"))); // a direct answer
    /// assert_eq!(b.received(), 3);
    /// ```
    pub fn received(&self) -> u32 {
        self.got
    }

    /// The size announced by `CMD_PREPARE_DATA`, if any.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// assert_eq!(b.announced(), Some(6));
    /// ```
    pub fn announced(&self) -> Option<u32> {
        self.announced
    }

    /// Whether the exchange is over.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// assert!(!b.is_done());
    /// b.on_packet(&Packet::new(ReplyCode::AckOk, 7, 2, &[][..])).unwrap();
    /// assert!(b.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Marks a packet of this burst as lost (e.g. dropped for a bad
    /// checksum): later data is ignored until the exchange ends.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// b.lost_packet(); // e.g. a frame with a bad checksum was dropped
    /// let step = b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(step.data, None);
    /// assert_eq!(b.missing(), 6);
    /// ```
    pub fn lost_packet(&mut self) {
        self.broken = true;
    }

    /// Bytes announced but not delivered (0 without an announcement).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(b.missing(), 3);
    /// ```
    pub fn missing(&self) -> u32 {
        self.announced.map_or(0, |a| a.saturating_sub(self.got))
    }

    fn deliver(&mut self, data: &Bytes, limit: u32) -> Result<Option<Bytes>, SessionError> {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let room = limit.saturating_sub(self.got);
        if len > room {
            return Err(SessionError::Unexpected {
                during: "bulk read",
                detail: format!(
                    "{} sent {len} bytes where at most {room} were expected",
                    self.command
                ),
            });
        }
        self.got += len;
        Ok(if data.is_empty() {
            None
        } else {
            Some(data.clone())
        })
    }

    /// Feeds one reply packet (already matched by reply id).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// assert!(!b.on_packet(&prepare).unwrap().done);
    /// let first = b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(first.data, Some(Bytes::from_static(b"abc")));
    /// let last = b.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &b"def"[..])).unwrap();
    /// assert!(last.done); // all 6 announced bytes arrived
    /// ```
    pub fn on_packet(&mut self, p: &Packet) -> Result<Step, SessionError> {
        if self.done {
            return Ok(Step {
                data: None,
                done: true,
            });
        }
        match p.reply_code() {
            ReplyCode::PrepareData if self.announced.is_none() && self.got == 0 => {
                let prep = PrepareData::parse(&p.data)?;
                if prep.len > self.limit {
                    return Err(SessionError::TooLarge {
                        what: "CMD_PREPARE_DATA",
                        announced: u64::from(prep.len),
                        limit: u64::from(self.limit),
                    });
                }
                self.announced = Some(prep.len);
                self.packet_size = prep.packet_size;
                if prep.len == 0 {
                    self.done = true;
                }
                Ok(Step {
                    data: None,
                    done: self.done,
                })
            }
            ReplyCode::PrepareData => {
                // The burst starts over: the device replayed its cached
                // reply to a retransmission. Ignore the replay; the missing
                // bytes are asked for with a new request.
                tracing::debug!("burst restarted by the device; ignoring the replay");
                self.broken = true;
                Ok(Step::default())
            }
            ReplyCode::Data if self.announced.is_none() => {
                // Direct answer: the whole result in one packet.
                let data = self.deliver(&p.data, self.limit)?;
                self.done = true;
                Ok(Step { data, done: true })
            }
            ReplyCode::Data => {
                let announced = self.announced.unwrap_or(0);
                if self.broken {
                    return Ok(Step::default());
                }
                let index = p.session_id;
                match self.next_index {
                    None => {
                        self.check_index = index == 0;
                        self.next_index = Some(1);
                    }
                    Some(expected) if self.check_index && index != expected => {
                        tracing::debug!(expected, index, "burst packet missing; will ask again");
                        self.broken = true;
                        return Ok(Step::default());
                    }
                    Some(expected) => self.next_index = Some(expected.wrapping_add(1)),
                }
                if let Some(ps) = self
                    .packet_size
                    .filter(|&ps| ps > 0 && p.data.len() > ps as usize)
                {
                    tracing::debug!(
                        len = p.data.len(),
                        psize = ps,
                        "burst packet larger than announced packet size"
                    );
                }
                let data = self.deliver(&p.data, announced)?;
                if self.got == announced {
                    // The closing CMD_ACK_OK, if any, becomes a stale packet.
                    self.done = true;
                }
                Ok(Step {
                    data,
                    done: self.done,
                })
            }
            ReplyCode::AckOk => {
                self.done = true;
                if self.announced.is_none() && !p.data.is_empty() {
                    let data = self.deliver(&p.data, self.limit)?;
                    return Ok(Step { data, done: true });
                }
                Ok(Step {
                    data: None,
                    done: true,
                })
            }
            ReplyCode::AckUnauth => Err(SessionError::Unauthorized),
            other if !other.is_ok() => Err(SessionError::Refused {
                command: self.command,
                reply: other,
                code: p.session_id,
            }),
            _ => Err(SessionError::Unexpected {
                during: "bulk read",
                detail: format!("{:?} after {} of {:?} bytes", p, self.got, self.announced),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Prepare,
    Chunks,
    Done,
}

/// The bulk-read state machine (§4): `1503`, then `1504` chunks, then
/// `CMD_FREE_DATA`.
///
/// Usage: send [`prepare_request`](Self::prepare_request); feed every reply
/// to [`on_packet`](Self::on_packet) until a [`Step`] says `done`; then ask
/// [`next_request`](Self::next_request) for the next `1504` (or `None` when
/// all bytes arrived) and repeat; finally send [`free_request`](Self::free_request).
///
/// ```
/// use zkproto::terminal::{Command, Packet, ReplyCode};
/// use zkproto::terminal::record::bulk::{BulkRead, BufferDescriptor};
/// use zkproto::terminal::session::{BulkLimits, BulkReader};
/// let mut r = BulkReader::new(BulkRead::users(), BulkLimits { chunk_size: 4, ..BulkLimits::default() });
/// let buffer = b"\x04\0\0\0abcd";
/// let desc = BufferDescriptor::for_buffer(buffer).encode();
/// assert!(r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc)).unwrap().done);
/// let mut out = Vec::new();
/// while let Some(req) = r.next_request().unwrap() {
///     assert_eq!(req.command, Command::ReadBuffer);
///     let off = u32::from_le_bytes(req.data[..4].try_into().unwrap()) as usize;
///     let len = u32::from_le_bytes(req.data[4..].try_into().unwrap()) as usize;
///     let step = r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, buffer[off..off + len].to_vec())).unwrap();
///     out.extend_from_slice(&step.data.unwrap());
/// }
/// assert_eq!(&out[..], &buffer[..]);
/// assert!(r.is_complete());
/// ```
#[derive(Clone, Debug)]
pub struct BulkReader {
    read: BulkRead,
    limits: BulkLimits,
    phase: Phase,
    size: Option<u32>,
    hash: Option<u32>,
    delivered: u32,
    chunk: Option<Burst>,
    retries: u32,
    /// Buffer offset of the first byte wanted.
    start: u32,
}

impl BulkReader {
    /// A reader for `read` with `limits`.
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// assert_eq!((r.size(), r.delivered(), r.is_complete()), (None, 0, false));
    /// ```
    pub fn new(read: BulkRead, limits: BulkLimits) -> Self {
        BulkReader {
            read,
            limits,
            phase: Phase::Prepare,
            size: None,
            hash: None,
            delivered: 0,
            chunk: None,
            retries: 0,
            start: 0,
        }
    }

    /// Reads the buffer from `offset` on (§4.3: any `offset, length` within
    /// the buffer may be read): the bytes before it are neither asked for
    /// nor handed over, and count as [`delivered`](Self::delivered). An
    /// offset past the end of the buffer delivers nothing. A small buffer
    /// that the device sends whole in its `1503` reply is cut the same way.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// let buffer = b"\x04\0\0\0abcd";
    /// let mut r = BulkReader::new(BulkRead::attendance(), BulkLimits::default()).starting_at(6);
    /// let desc = BufferDescriptor::for_buffer(buffer).encode();
    /// r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc)).unwrap();
    /// assert_eq!(r.delivered(), 6);
    /// let req = r.next_request().unwrap().unwrap();
    /// assert_eq!(&req.data[..], &[6, 0, 0, 0, 2, 0, 0, 0][..]); // offset 6, 2 bytes
    /// // Sent whole instead:
    /// let mut d = BulkReader::new(BulkRead::attendance(), BulkLimits::default()).starting_at(6);
    /// let step = d.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &buffer[..])).unwrap();
    /// assert_eq!(step.data.as_deref(), Some(&b"cd"[..]));
    /// ```
    pub fn starting_at(mut self, offset: u32) -> Self {
        self.start = offset;
        self
    }

    /// The `1503` request.
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// let req = r.prepare_request();
    /// assert_eq!(req.command, zkproto::terminal::Command::PrepareBuffer);
    /// assert_eq!(BulkRead::parse(&req.data).unwrap(), BulkRead::users());
    /// ```
    pub fn prepare_request(&self) -> Request {
        Request::raw(Command::PrepareBuffer, self.read.encode())
    }

    /// `CMD_FREE_DATA`, to send once the data is in (or after a failure).
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// assert_eq!(r.free_request().command, zkproto::terminal::Command::FreeData);
    /// ```
    pub fn free_request(&self) -> Request {
        Request::free_data()
    }

    /// The buffer size, once known.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert_eq!(r.size(), Some(8));
    /// ```
    pub fn size(&self) -> Option<u32> {
        self.size
    }

    /// The buffer hash from the descriptor (not sent with direct replies).
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert_eq!(r.hash(), Some(desc.hash));
    /// // A direct CMD_DATA answer carries no hash.
    /// let mut direct = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// direct.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &buffer[..])).unwrap();
    /// assert_eq!((direct.size(), direct.hash()), (Some(8), None));
    /// ```
    pub fn hash(&self) -> Option<u32> {
        self.hash
    }

    /// Bytes delivered so far, in order.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..5])).unwrap();
    /// assert_eq!(r.delivered(), 5);
    /// ```
    pub fn delivered(&self) -> u32 {
        self.delivered
    }

    /// Marks a packet of the current exchange as lost; the rest of the
    /// chunk will be asked for again.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// r.lost_packet();
    /// let step = r.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &buffer[..])).unwrap();
    /// assert_eq!((step.data, r.delivered()), (None, 0));
    /// ```
    pub fn lost_packet(&mut self) {
        if let Some(c) = &mut self.chunk {
            c.lost_packet();
        }
    }

    /// Whether the current chunk's reply has started (an announcement or
    /// data arrived). A timeout then means the rest of the burst was lost:
    /// it is better asked for again than waited for.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// assert!(!r.chunk_started());
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// assert!(r.chunk_started());
    /// ```
    pub fn chunk_started(&self) -> bool {
        self.chunk
            .as_ref()
            .is_some_and(|c| c.announced.is_some() || c.got > 0 || c.broken)
    }

    /// Ends the current chunk's exchange early (its missing bytes will be
    /// asked for by [`next_request`](Self::next_request)).
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &buffer[..3])).unwrap();
    /// r.abandon_chunk(); // the rest of the burst timed out
    /// let again = r.next_request().unwrap().unwrap();
    /// assert_eq!(&again.data[..], &[3, 0, 0, 0, 5, 0, 0, 0][..]); // offset 3, 5 bytes
    /// ```
    pub fn abandon_chunk(&mut self) {
        if let Some(c) = &mut self.chunk {
            c.done = true;
        }
    }

    /// Chunk re-requests made so far.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..3])).unwrap();
    /// r.abandon_chunk();
    /// assert_eq!(r.retries(), 0);
    /// r.next_request().unwrap(); // asks for the 5 missing bytes
    /// assert_eq!(r.retries(), 1);
    /// ```
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether every byte has been delivered.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert!(!r.is_complete());
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..])).unwrap();
    /// assert!(r.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Feeds one reply to the current request (matched by reply id).
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// // A small buffer may come back directly as CMD_DATA.
    /// let step = r.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &b"\x00\0\0\0"[..])).unwrap();
    /// assert!(step.done && r.is_complete());
    /// assert_eq!(step.data.as_deref(), Some(&b"\x00\0\0\0"[..]));
    /// ```
    pub fn on_packet(&mut self, p: &Packet) -> Result<Step, SessionError> {
        match self.phase {
            Phase::Prepare => self.on_prepare_reply(p),
            Phase::Chunks => {
                let Some(chunk) = &mut self.chunk else {
                    return Err(SessionError::Unexpected {
                        during: "bulk read",
                        detail: format!("{p:?} while no chunk was requested"),
                    });
                };
                let step = chunk.on_packet(p)?;
                if let Some(d) = &step.data {
                    self.delivered = self
                        .delivered
                        .saturating_add(u32::try_from(d.len()).unwrap_or(u32::MAX));
                }
                if self.size == Some(self.delivered) {
                    self.phase = Phase::Done;
                }
                Ok(step)
            }
            Phase::Done => Ok(Step {
                data: None,
                done: true,
            }),
        }
    }

    fn on_prepare_reply(&mut self, p: &Packet) -> Result<Step, SessionError> {
        let too_large = |what, n: u64, limit: u32| SessionError::TooLarge {
            what,
            announced: n,
            limit: u64::from(limit),
        };
        match p.reply_code() {
            ReplyCode::Data => {
                let n = u32::try_from(p.data.len()).map_err(|_| {
                    too_large("direct reply", p.data.len() as u64, self.limits.max_bulk)
                })?;
                if n > self.limits.max_bulk {
                    return Err(too_large(
                        "direct reply",
                        u64::from(n),
                        self.limits.max_bulk,
                    ));
                }
                self.size = Some(n);
                self.delivered = n;
                self.phase = Phase::Done;
                let from = usize::try_from(self.start.min(n)).unwrap_or(0);
                Ok(Step {
                    data: Some(p.data.slice(from..)),
                    done: true,
                })
            }
            ReplyCode::AckOk | ReplyCode::PrepareData if p.data.len() == BufferDescriptor::LEN => {
                let d = BufferDescriptor::parse(&p.data)?;
                for n in [d.size, d.original_size] {
                    if n > self.limits.max_bulk {
                        return Err(too_large(
                            "buffer descriptor",
                            u64::from(n),
                            self.limits.max_bulk,
                        ));
                    }
                }
                self.size = Some(d.size);
                self.hash = Some(d.hash);
                self.delivered = self.start.min(d.size);
                self.phase = if d.size == self.delivered {
                    Phase::Done
                } else {
                    Phase::Chunks
                };
                Ok(Step {
                    data: None,
                    done: true,
                })
            }
            ReplyCode::AckUnauth => Err(SessionError::Unauthorized),
            other if !other.is_ok() => Err(SessionError::Refused {
                command: Command::PrepareBuffer,
                reply: other,
                code: p.session_id,
            }),
            _ => Err(SessionError::Unexpected {
                during: "1503 prepare buffer",
                detail: format!("{p:?} (expected CMD_DATA or a 13-byte descriptor)"),
            }),
        }
    }

    /// The next `1504` request, or `None` when every byte has arrived.
    /// A chunk that ended short is asked for again from its first missing
    /// byte, at most `chunk_retries` times in total.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// let req = r.next_request().unwrap().unwrap();
    /// assert_eq!(req.command, Command::ReadBuffer);
    /// assert_eq!(&req.data[..], &[0, 0, 0, 0, 8, 0, 0, 0][..]); // offset 0, 8 bytes
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..])).unwrap();
    /// assert_eq!(r.next_request(), Ok(None));
    /// ```
    pub fn next_request(&mut self) -> Result<Option<Request>, SessionError> {
        let Some(size) = self.size else {
            return Err(SessionError::Unexpected {
                during: "bulk read",
                detail: "no descriptor yet".into(),
            });
        };
        if self.delivered >= size {
            self.phase = Phase::Done;
            self.chunk = None;
            return Ok(None);
        }
        if let Some(prev) = &self.chunk {
            let asked = prev.limit;
            if prev.received() < asked {
                self.retries += 1;
                if self.retries > self.limits.chunk_retries {
                    return Err(SessionError::Incomplete {
                        expected: u64::from(size),
                        received: u64::from(self.delivered),
                        retries: self.retries - 1,
                    });
                }
            }
        }
        let len = self.limits.chunk_size.max(1).min(size - self.delivered);
        self.chunk = Some(Burst::new(Command::ReadBuffer, len));
        Ok(Some(Request::read_buffer(self.delivered, len)))
    }
}

/// Splits a stream of table-buffer bytes (§4.6: `u32 total` + records) into
/// whole records, carrying partial records across pieces. Holds at most one
/// partial record between calls.
///
/// ```
/// use zkproto::terminal::session::RecordSplitter;
/// let mut s = RecordSplitter::new();
/// let mut recs = Vec::new();
/// s.push(&[8, 0, 0, 0, 1, 2, 3], |_total| Ok(4), |r| recs.push(r.to_vec())).unwrap();
/// s.push(&[4, 5, 6, 7, 8], |_| Ok(4), |r| recs.push(r.to_vec())).unwrap();
/// assert_eq!(recs, vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]]);
/// assert!(s.finish().is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct RecordSplitter {
    head: Vec<u8>,
    total: Option<u32>,
    record_len: usize,
    carry: Vec<u8>,
    seen: u64,
    trailing: u64,
}

impl RecordSplitter {
    /// A splitter at the start of a table buffer.
    ///
    /// ```
    /// use zkproto::terminal::session::RecordSplitter;
    /// let s = RecordSplitter::new();
    /// assert_eq!((s.total(), s.record_bytes(), s.buffered()), (None, 0, 0));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The `total` prefix, once read.
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[2, 0], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.total(), None); // the prefix is incomplete
    /// s.push(&[0, 0], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.total(), Some(2));
    /// ```
    pub fn total(&self) -> Option<u32> {
        self.total
    }

    /// Record bytes consumed so far (whole records and the carried part).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3, 4, 5], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.record_bytes(), 5);
    /// ```
    pub fn record_bytes(&self) -> u64 {
        self.seen
    }

    /// Bytes received past `total` (ignored, but a sign the table's length
    /// field disagrees with the data: callers should refuse the result).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[4, 0, 0, 0, 1, 2, 3, 4, 5, 6], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.trailing(), 2);
    /// ```
    pub fn trailing(&self) -> u64 {
        self.trailing
    }

    /// Bytes held between calls (prefix or partial record).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3, 4, 5], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.buffered(), 1); // one byte of the second record
    /// ```
    pub fn buffered(&self) -> usize {
        self.head.len() + self.carry.len()
    }

    /// Feeds a piece. `layout` is called once with the total to choose the
    /// record length; `each` is called for every whole record. Bytes past
    /// `total` are not split (counted in [`trailing`](Self::trailing)).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// let mut records = 0;
    /// s.push(&[4, 0, 0, 0, 9, 9], |total| Ok(if total == 4 { 2 } else { 4 }), |_| records += 1).unwrap();
    /// s.push(&[9, 9, 7, 7], |_| unreachable!(), |_| records += 1).unwrap(); // 7 7: past total
    /// assert_eq!(records, 2);
    /// ```
    pub fn push(
        &mut self,
        mut piece: &[u8],
        layout: impl FnOnce(u32) -> Result<usize, RecordError>,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), RecordError> {
        if self.total.is_none() {
            let need = 4 - self.head.len();
            let (a, b) = piece.split_at(need.min(piece.len()));
            self.head.extend_from_slice(a);
            piece = b;
            let Some(h) = self.head.first_chunk::<4>() else {
                return Ok(());
            };
            let total = u32::from_le_bytes(*h);
            // Choose the layout before committing to the total: if it is
            // refused, the splitter stays in its header state (keeping the
            // 4 bytes) and every later piece reports the refusal again
            // instead of splitting records of an unknown length.
            let record_len = layout(total)?.max(1);
            self.head.clear();
            self.total = Some(total);
            self.record_len = record_len;
        }
        let total = u64::from(self.total.unwrap_or(0));
        let room = usize::try_from(total.saturating_sub(self.seen)).unwrap_or(usize::MAX);
        let (piece, ignored) = piece.split_at(room.min(piece.len()));
        self.trailing += ignored.len() as u64;
        self.seen += piece.len() as u64;
        let mut rest = piece;
        if !self.carry.is_empty() {
            let need = self.record_len - self.carry.len();
            let (a, b) = rest.split_at(need.min(rest.len()));
            self.carry.extend_from_slice(a);
            rest = b;
            if self.carry.len() == self.record_len {
                each(&self.carry);
                self.carry.clear();
            }
        }
        let mut chunks = rest.chunks_exact(self.record_len);
        for rec in &mut chunks {
            each(rec);
        }
        self.carry.extend_from_slice(chunks.remainder());
        Ok(())
    }

    /// Checks that the buffer ended on a record boundary after `total` bytes.
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3], |_| Ok(4), |_| {}).unwrap();
    /// assert!(s.finish().is_err()); // 3 of 8 bytes
    /// s.push(&[4, 5, 6, 7, 8], |_| Ok(4), |_| {}).unwrap();
    /// assert!(s.finish().is_ok());
    /// ```
    pub fn finish(&self) -> Result<(), RecordError> {
        let Some(total) = self.total else {
            return Err(RecordError::Truncated {
                what: "table buffer",
                offset: 0,
                need: 4,
                got: self.head.len(),
            });
        };
        if self.seen < u64::from(total) {
            return Err(RecordError::BadLength {
                what: "table buffer",
                offset: 0,
                value: u64::from(total),
                reason: "total exceeds the bytes that follow",
            });
        }
        if !self.carry.is_empty() {
            return Err(RecordError::Truncated {
                what: "record",
                offset: usize::try_from(self.seen).unwrap_or(usize::MAX) - self.carry.len(),
                need: self.record_len,
                got: self.carry.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::bulk::buffer_hash;

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

    #[test]
    fn burst_with_gap_is_asked_again() {
        let buffer: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let mut r = BulkReader::new(
            BulkRead::attendance(),
            BulkLimits {
                chunk_size: 3000,
                chunk_retries: 2,
                max_bulk: 10_000,
            },
        );
        let desc = BufferDescriptor::for_buffer(&buffer).encode();
        assert!(
            r.on_packet(&Packet::new(ReplyCode::AckOk, 0, 1, desc))
                .unwrap()
                .done
        );
        assert_eq!(r.hash(), Some(buffer_hash(&buffer)));
        let req = r.next_request().unwrap().unwrap();
        assert_eq!(&req.data[..], [0, 0, 0, 0, 0xb8, 0x0b, 0, 0]);
        let mut out = Vec::new();
        let prep = PrepareData {
            len: 3000,
            packet_size: Some(1024),
        }
        .encode();
        r.on_packet(&Packet::new(ReplyCode::PrepareData, 0, 2, prep))
            .unwrap();
        // Packet 0 arrives, packet 1 is lost, packet 2 arrives.
        let s0 = r
            .on_packet(&Packet::new(ReplyCode::Data, 0, 2, buffer[..1024].to_vec()))
            .unwrap();
        out.extend_from_slice(&s0.data.unwrap());
        let s2 = r
            .on_packet(&Packet::new(ReplyCode::Data, 2, 2, buffer[2048..].to_vec()))
            .unwrap();
        assert_eq!(s2, Step::default());
        assert!(
            r.on_packet(&Packet::new(ReplyCode::AckOk, 0, 2, &[][..]))
                .unwrap()
                .done
        );
        let again = r.next_request().unwrap().unwrap();
        assert_eq!(&again.data[..], [0, 4, 0, 0, 0xb8, 0x07, 0, 0]);
        let s = r
            .on_packet(&Packet::new(ReplyCode::Data, 0, 3, buffer[1024..].to_vec()))
            .unwrap();
        out.extend_from_slice(&s.data.unwrap());
        assert!(r.next_request().unwrap().is_none());
        assert_eq!(out, buffer);
        assert_eq!(r.retries(), 1);
    }

    #[test]
    fn absurd_sizes_are_refused() {
        let mut r = BulkReader::new(
            BulkRead::users(),
            BulkLimits {
                max_bulk: 1000,
                ..BulkLimits::default()
            },
        );
        let d = BufferDescriptor {
            compressed: 0,
            size: 0xFFFF_FFF0,
            original_size: 0xFFFF_FFF0,
            hash: 0,
        };
        let e = r
            .on_packet(&Packet::new(ReplyCode::AckOk, 0, 1, d.encode()))
            .unwrap_err();
        assert_eq!(
            e,
            SessionError::TooLarge {
                what: "buffer descriptor",
                announced: 0xFFFF_FFF0,
                limit: 1000
            }
        );
        let mut b = Burst::new(Command::ReadBuffer, 100);
        let prep = PrepareData {
            len: 101,
            packet_size: Some(1024),
        }
        .encode();
        assert!(matches!(
            b.on_packet(&Packet::new(ReplyCode::PrepareData, 0, 1, prep)),
            Err(SessionError::TooLarge {
                announced: 101,
                limit: 100,
                ..
            })
        ));
    }

    #[test]
    fn splitter_carries_across_every_split() {
        let mut buf = vec![12, 0, 0, 0];
        buf.extend(1..=12u8);
        for cut in 0..=buf.len() {
            let mut s = RecordSplitter::new();
            let mut recs = Vec::new();
            let (a, b) = buf.split_at(cut);
            s.push(a, |_| Ok(3), |r| recs.push(r.to_vec())).unwrap();
            s.push(b, |_| Ok(3), |r| recs.push(r.to_vec())).unwrap();
            s.finish().unwrap();
            assert_eq!(
                recs,
                vec![
                    vec![1, 2, 3],
                    vec![4, 5, 6],
                    vec![7, 8, 9],
                    vec![10, 11, 12]
                ]
            );
        }
    }
}
