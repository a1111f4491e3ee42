//! The client's sans-IO session (`terminal::session`) fed arbitrary device
//! replies: connect, then a bulk read of the attendance table.
//!
//! Input: three configuration bytes (retries, chunk retries, event queue,
//! bulk limit, chunk size), then a script of actions: each either lets the
//! deadline pass or delivers one packet whose code, reply id and data come
//! from the input. When the script runs out, only timeouts remain.
//!
//! Properties: every exchange ends in a reply, a typed error or a timeout
//! within a bounded number of steps; the bulk read runs under the client's
//! [`Budget`]: frames without progress (stale, corrupt, empty, replayed)
//! never extend its deadline, at most the frame allowance of them come in a
//! row before it fails, and it ends within its documented time allowance
//! whatever the device sends; retransmissions repeat the request
//! exactly; the bulk reader never accepts more than the configured limit and
//! never delivers more than the descriptor announced; the streaming record
//! splitter holds less than one record.

use crate::util::Input;
use std::time::{Duration, Instant};
use zkproto::terminal::record::attendance::AttendanceLayout;
use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
use zkproto::terminal::session::{
    Budget, BulkLimits, BulkReader, ConnectState, Incoming, RecordSplitter, Session, SessionError,
    WaitPolicy, Waste,
};
use zkproto::terminal::{Command, Packet, ReplyCode};

const TIMEOUT: Duration = Duration::from_millis(100);
/// Simulated time one received frame takes.
const PACKET_TIME: Duration = Duration::from_millis(1);

/// How one exchange ended.
#[derive(Debug)]
enum End {
    Reply(Packet),
    Error(SessionError),
}

struct Harness<'a> {
    input: Input<'a>,
    session: Session,
    now: Instant,
    wait: WaitPolicy,
    event_limit: usize,
    steps: usize,
    max_steps: usize,
    /// The bulk read's budget, while one runs.
    budget: Option<Budget>,
}

impl Harness<'_> {
    /// A packet the "device" sends, built from the input.
    fn device_packet(&mut self, action: u8) -> Packet {
        let code = match (action >> 2) % 8 {
            0 => ReplyCode::AckOk.value(),
            1 => ReplyCode::Data.value(),
            2 => ReplyCode::PrepareData.value(),
            3 => ReplyCode::AckError.value(),
            4 => ReplyCode::AckUnauth.value(),
            5 => Command::RegEvent.value(),
            _ => self.input.u16(),
        };
        let session_id = if action & 0x20 != 0 {
            self.session.session_id()
        } else {
            self.input.u16()
        };
        let reply_id = match self.session.current_reply_id() {
            Some(id) if action & 0x40 != 0 => id,
            _ => self.input.u16(),
        };
        let len_byte = self.input.u8();
        let data = match len_byte {
            // A buffer descriptor: compressed, size, original size, hash.
            0xF0..=0xFF => {
                let mut d = vec![self.input.u8()];
                let size = self.input.u32() % 0x0002_0000;
                let size = if len_byte & 1 == 0 {
                    size
                } else {
                    self.input.u32()
                };
                d.extend_from_slice(&size.to_le_bytes());
                d.extend_from_slice(&size.to_le_bytes());
                d.extend_from_slice(&self.input.u32().to_le_bytes());
                d
            }
            // PREPARE_DATA form: len, packet size.
            0xE0..=0xEF => {
                let mut d = (self.input.u32() % 0x0001_0000).to_le_bytes().to_vec();
                if len_byte & 1 == 0 {
                    d.extend_from_slice(&self.input.u32().to_le_bytes());
                }
                d
            }
            n => {
                let n = usize::from(n) * 9;
                let body = self.input.take(n).to_vec();
                // Short inputs stretch to the announced length with a pattern.
                let mut d = body;
                let mut i = 0u8;
                while d.len() < n {
                    d.push(i);
                    i = i.wrapping_add(1);
                }
                d
            }
        };
        Packet::new(code, session_id, reply_id, data)
    }

    fn step(&mut self) {
        self.steps += 1;
        assert!(
            self.steps <= self.max_steps,
            "session did not settle after {} steps",
            self.steps
        );
    }

    /// Waits for the reply to `sent`: returns it, or the session's error.
    /// Under a budget, the wait ends at its deadline and frames that are
    /// no reply count against it, as in the client.
    fn exchange(&mut self, sent: &Packet) -> End {
        loop {
            self.step();
            if let Some(b) = &self.budget
                && b.expired(self.now)
            {
                let e = match b.expire(self.now) {
                    Some(e) => e,
                    None => self.session.give_up(self.now),
                };
                self.session.finish();
                return End::Error(e);
            }
            let action = self.input.u8();
            if self.input.is_empty() || action.is_multiple_of(4) {
                self.now += TIMEOUT;
                match self.session.on_timeout(self.now) {
                    Ok(again) => {
                        assert_eq!(&again, sent, "retransmission differs from the request")
                    }
                    Err(e) => {
                        assert!(
                            matches!(e, SessionError::Timeout { .. }),
                            "timeout ended in {e:?}"
                        );
                        assert_eq!(self.session.current_reply_id(), None);
                        return End::Error(e);
                    }
                }
                continue;
            }
            self.now += PACKET_TIME;
            if action % 16 == 2 {
                // A frame dropped for a bad checksum.
                if let Some(b) = &mut self.budget
                    && let Err(e) = b.waste(Waste::Corrupt("bad checksum".into()))
                {
                    self.session.finish();
                    return End::Error(e);
                }
                continue;
            }
            let p = self.device_packet(action);
            match self.session.receive(p.clone()) {
                Incoming::Reply(r) => {
                    assert_eq!(r, p);
                    assert_eq!(Some(r.reply_id), self.session.current_reply_id());
                    return End::Reply(r);
                }
                Incoming::Event => {
                    assert!(p.is_event());
                    assert!(
                        self.session.pending_events() <= self.event_limit,
                        "event queue above its limit"
                    );
                    if action & 0x80 != 0
                        && let Some(ev) = self.session.pop_event()
                    {
                        let ack = self.session.event_ack(&ev);
                        assert_eq!(ack.reply_id, ev.reply_id);
                        assert_eq!(ack.reply_code(), ReplyCode::AckOk);
                    }
                }
                Incoming::Stale => {
                    assert!(!p.is_event());
                    assert_ne!(Some(p.reply_id), self.session.current_reply_id());
                    if let Some(b) = &mut self.budget
                        && let Err(e) = b.waste(Waste::NoData("stale".into()))
                    {
                        self.session.finish();
                        return End::Error(e);
                    }
                }
            }
        }
    }
}

/// Runs the session check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let cfg = input.u8();
    let limit_byte = input.u8();
    let chunk_byte = input.u8();
    let wait = WaitPolicy {
        timeout: TIMEOUT,
        retries: u32::from(cfg % 4),
    };
    let limits = BulkLimits {
        max_bulk: (u32::from(limit_byte) + 1) * 512,
        chunk_size: (u32::from(chunk_byte) + 1) * 64,
        chunk_retries: u32::from((cfg >> 2) % 4),
    };
    let event_limit = usize::from((cfg >> 4) % 8) + 1;
    let mut session = Session::new();
    session.set_event_queue_limit(event_limit);
    let max_steps =
        64 + 8 * data.len() + 8 * (wait.retries as usize + 2) * (limits.chunk_retries as usize + 2);
    let mut h = Harness {
        input,
        session,
        now: Instant::now(),
        wait,
        event_limit,
        steps: 0,
        max_steps,
        budget: None,
    };

    // Connect.
    let sent = h.session.connect(h.now, h.wait);
    assert_eq!(
        (sent.command(), sent.reply_id, sent.session_id),
        (Command::Connect, 0, 0)
    );
    let reply = match h.exchange(&sent) {
        End::Reply(r) => r,
        End::Error(e) => return typed(&e),
    };
    match h.session.on_connect_reply(&reply) {
        Ok(ConnectState::Ready | ConnectState::NeedsAuth) => {
            assert_eq!(h.session.session_id(), reply.session_id)
        }
        Err(e) => {
            assert!(
                matches!(e, SessionError::Refused { .. }),
                "connect failed with {e:?}"
            );
            return;
        }
    }
    h.session.finish();
    bulk_read(&mut h, limits);
    let stats = h.session.stats();
    assert!(stats.events_dropped <= stats.events);
}

fn bulk_read(h: &mut Harness<'_>, limits: BulkLimits) {
    let mut reader = BulkReader::new(BulkRead::attendance(), limits);
    let mut splitter = RecordSplitter::new();
    let record_len = std::cell::Cell::new(0usize);
    let mut delivered = 0u64;
    // Like the client, stop splitting records once the table is known bad.
    let mut split_failed = false;
    let mut feed = |data: &[u8], delivered: &mut u64| {
        *delivered += data.len() as u64;
        assert!(
            *delivered <= u64::from(limits.max_bulk),
            "bulk read delivered {delivered} bytes, above the limit"
        );
        if split_failed {
            return;
        }
        let res = splitter.push(
            data,
            |total| {
                let len = AttendanceLayout::detect(total as usize, None).map(|l| l.record_len())?;
                record_len.set(len);
                Ok(len)
            },
            |rec| assert_eq!(rec.len(), record_len.get()),
        );
        match res {
            Ok(()) => assert!(
                splitter.buffered() < record_len.get().max(4),
                "splitter holds a whole record"
            ),
            Err(_) => split_failed = true,
        }
    };

    // The client's budget: TIMEOUT for the 1503 answer, TIMEOUT without
    // progress after it, the bulk allowance in all.
    let start = h.now;
    let frame_allowance = Budget::frame_allowance(limits.chunk_size, limits.chunk_retries);
    h.budget = Some(Budget::new(start, TIMEOUT, TIMEOUT, frame_allowance));
    let mut allowance = TIMEOUT;
    let steps_at_start = h.steps;

    // 1503: direct data or a descriptor.
    let sent = h.session.send(reader.prepare_request(), h.now, h.wait);
    let reply = match h.exchange(&sent) {
        End::Reply(r) => r,
        End::Error(e) => return typed(&e),
    };
    match reader.on_packet(&reply) {
        Ok(step) => {
            if let Some(d) = &step.data {
                feed(d, &mut delivered);
            }
        }
        Err(e) => return typed(&e),
    }
    if let Some(size) = reader.size() {
        allowance = TIMEOUT
            + Budget::bulk_allowance(TIMEOUT, size, limits.chunk_size, limits.chunk_retries);
        if let Some(b) = &mut h.budget {
            b.progress(h.now);
            b.set_allowance(allowance);
        }
        assert!(
            size <= limits.max_bulk,
            "accepted a descriptor above the limit"
        );
        if reply.data.len() == BufferDescriptor::LEN && reply.reply_code() != ReplyCode::Data {
            assert!(reader.hash().is_some());
        }
    }
    h.session.finish();

    // 1504 chunks until complete or failed.
    while !reader.is_complete() {
        h.step();
        let req = match reader.next_request() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return typed(&e),
        };
        let sent = h.session.send(req, h.now, h.wait);
        loop {
            let reply = match h.exchange(&sent) {
                End::Reply(r) => r,
                End::Error(e) => {
                    check_bounds(h, start, allowance, steps_at_start);
                    return typed(&e);
                }
            };
            let before = reader.delivered();
            match reader.on_packet(&reply) {
                Ok(step) => {
                    if let Some(d) = &step.data {
                        feed(d, &mut delivered);
                    }
                    if let Some(b) = &mut h.budget {
                        if reader.delivered() > before {
                            b.progress(h.now);
                        } else if let Err(e) = b.waste(Waste::NoData("no new data".into())) {
                            check_bounds(h, start, allowance, steps_at_start);
                            return typed(&e);
                        }
                        assert!(b.idle_frames() <= frame_allowance);
                    }
                    assert_eq!(
                        delivered,
                        u64::from(reader.delivered()),
                        "delivered bytes miscounted"
                    );
                    if let Some(size) = reader.size() {
                        assert!(
                            reader.delivered() <= size,
                            "delivered more than the descriptor announced"
                        );
                    }
                    if step.done || reader.is_complete() {
                        break;
                    }
                }
                Err(e) => return typed(&e),
            }
        }
        h.session.finish();
        check_bounds(h, start, allowance, steps_at_start);
    }
    check_bounds(h, start, allowance, steps_at_start);
    if reader.is_complete() {
        assert_eq!(Some(reader.delivered()), reader.size());
    }
}

/// The bulk read stayed within its time allowance (plus the one wait that
/// found it over) and within the steps that time allows.
fn check_bounds(h: &Harness<'_>, start: Instant, allowance: Duration, steps_at_start: usize) {
    let took = h.now.saturating_duration_since(start);
    assert!(
        took <= allowance + TIMEOUT,
        "bulk read ran {took:?}, beyond its allowance of {allowance:?}"
    );
    let steps = (h.steps - steps_at_start) as u128;
    // Every wait costs at least PACKET_TIME; each chunk request costs one
    // step of its own (at most one per TIMEOUT of the allowance).
    let most = (allowance + TIMEOUT).as_nanos() / PACKET_TIME.as_nanos()
        + (allowance + TIMEOUT).as_nanos() / TIMEOUT.as_nanos()
        + 2;
    assert!(
        steps <= most,
        "bulk read took {steps} steps (at most {most})"
    );
}

fn typed(e: &SessionError) {
    // Every session error renders and carries its evidence.
    assert!(!e.to_string().is_empty());
    if let SessionError::TooLarge {
        announced, limit, ..
    } = e
    {
        assert!(announced > limit);
    }
}
