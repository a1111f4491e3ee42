//! The device model: request packet in, reply packets out, no I/O.
//!
//! [`Device::handle`] takes the bytes of one command packet (a UDP datagram,
//! or a TCP frame without its 8-byte envelope), the peer it came from and
//! the current [`Instant`], and returns the packets to send back, each with
//! delivery flags ([`Outgoing`]). Realtime events produced by the control
//! API (a punch, the door…) are queued per peer and collected with
//! [`Device::take_pushes_for`] / [`Device::take_udp_pushes`].
//!
//! Processing order follows the firmware (reference §3.5):
//! undecodable or checksum-invalid packets are dropped; a packet from a peer
//! without a session, or carrying another session id, is dropped unless it is
//! `CMD_CONNECT`; a client `CMD_ACK_OK` (event acknowledgement) is accepted
//! silently; a repeated reply id gets the cached reply again, an older one is
//! dropped (§1.5); with a comm key, everything but `CMD_AUTH` is answered
//! `CMD_ACK_UNAUTH` until authentication succeeds.
//!
//! ```
//! use std::time::Instant;
//! use zkproto::terminal::sim::{Device, PeerKey, SimConfig};
//! use zkproto::terminal::{Command, Packet, ReplyCode};
//! let mut dev = Device::new(&SimConfig { users: 3, ..SimConfig::default() });
//! dev.set_next_session_id(0x8DF3);
//! let peer = PeerKey::Tcp(1);
//! let now = Instant::now();
//! let out = dev.handle(peer, &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(), now);
//! assert_eq!(out[0].packet.reply_code(), ReplyCode::AckOk);
//! assert_eq!(out[0].packet.session_id, 0x8DF3);
//! let req = Packet::new(Command::OptionsRrq, 0x8DF3, 12, &b"~Platform\0"[..]);
//! let out = dev.handle(peer, &req.to_bytes(), now);
//! assert_eq!(&out[0].packet.data[..], b"~Platform=ZEM760_TFT\0");
//! ```

use crate::terminal::command::{Command, EventFlag, ReplyCode, TableId};
use crate::terminal::commkey::{CommKey, check_key};
use crate::terminal::frame::{MAX_UDP_TO_DEVICE, TCP_HEADER_LEN, TCP_MAGIC};
use crate::terminal::packet::{ChecksumMode, Packet};
use crate::terminal::record::attendance::{Attendance, AttendanceLayout};
use crate::terminal::record::door::{DoorState, parse_unlock_request};
use crate::terminal::record::options::{encode_reply, parse_request, parse_write};
use crate::terminal::record::sizes::FreeSizes;
use crate::terminal::record::text::TextEncoding;
use crate::terminal::record::time::DeviceTime;
use crate::terminal::record::user::{Privilege, User};
use crate::terminal::sequence::{DeviceSequence, Verdict};
use crate::terminal::sim::config::{Profile, SimConfig};
use crate::terminal::sim::events;
use crate::terminal::sim::fault::{self, Fault};
use crate::terminal::sim::pacing::Pacing;
use crate::terminal::sim::seed::{Rng, seed_state};
use crate::terminal::sim::state::{Clock, State};
use bytes::{Bytes, BytesMut};
use core::fmt;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod tables;
mod transfer;

/// Length of a TCP frame's envelope and packet header, which precede the data.
pub(crate) const TCP_FRAME_HEAD: usize = TCP_HEADER_LEN + crate::terminal::packet::HEADER_LEN;

/// Largest upload buffer a client may announce with `CMD_PREPARE_DATA`.
pub const MAX_UPLOAD: u32 = 16 * 1024 * 1024;
/// Live sessions kept at most; the oldest UDP session is dropped beyond it.
pub const MAX_SESSIONS: usize = 256;
/// Entries kept in the command log.
const LOG_LIMIT: usize = 100_000;
/// Default time of a new device.
pub const DEFAULT_TIME: DeviceTime = DeviceTime::new(2024, 6, 1, 9, 0, 0);

/// The transport a packet travelled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// TCP (8-byte envelope, one session per connection).
    Tcp,
    /// UDP (no envelope, one session per sender address).
    Udp,
}

/// Who sent a packet: a TCP connection (numbered by the server) or a UDP
/// sender address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerKey {
    /// A TCP connection.
    Tcp(u64),
    /// A UDP sender.
    Udp(SocketAddr),
}

impl PeerKey {
    /// The transport of this peer.
    pub fn transport(&self) -> Transport {
        match self {
            PeerKey::Tcp(_) => Transport::Tcp,
            PeerKey::Udp(_) => Transport::Udp,
        }
    }
}

/// One packet to send, with delivery instructions for the I/O layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The packet.
    pub packet: Packet,
    /// Wait this long before sending it.
    pub delay: Duration,
    /// Corrupt its checksum on the wire.
    pub corrupt_checksum: bool,
    /// TCP: write the frame in pieces of this many bytes, each flushed, a
    /// millisecond apart.
    pub split: Option<usize>,
    /// Do not send it at all (a lost datagram).
    pub drop: bool,
    /// Close the connection after sending it (TCP; over UDP, stop the batch).
    pub close_after: bool,
    /// TCP: send it in the same write as the next packet.
    pub coalesce_with_next: bool,
}

impl Outgoing {
    /// A packet with no special delivery.
    pub fn new(packet: Packet) -> Outgoing {
        Outgoing {
            packet,
            delay: Duration::ZERO,
            corrupt_checksum: false,
            split: None,
            drop: false,
            close_after: false,
            coalesce_with_next: false,
        }
    }

    /// The bytes to put on the wire (TCP frame or UDP datagram), with the
    /// checksum corrupted when asked.
    ///
    /// ```
    /// use zkproto::terminal::sim::{Outgoing, Transport};
    /// use zkproto::terminal::{Packet, ReplyCode};
    /// let o = Outgoing::new(Packet::new(ReplyCode::AckOk, 2, 55, &[][..]));
    /// assert_eq!(&o.encode(Transport::Tcp)[..], [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0, 0xd0, 0x07, 0xf6, 0xf7, 2, 0, 0x37, 0]);
    /// assert_eq!(o.encode(Transport::Udp).len(), 8);
    /// ```
    pub fn encode(&self, transport: Transport) -> Bytes {
        match transport {
            Transport::Tcp => {
                let mut b = BytesMut::with_capacity(TCP_FRAME_HEAD + self.packet.data.len());
                b.extend_from_slice(&self.tcp_head());
                b.extend_from_slice(&self.packet.data);
                b.freeze()
            }
            Transport::Udp => self.encode_udp(),
        }
    }

    /// The TCP envelope and the packet header (checksum corrupted when
    /// asked): the first [`TCP_FRAME_HEAD`] bytes of the TCP frame, which
    /// continues with the packet data. Lets the server write the data
    /// without copying it.
    pub(crate) fn tcp_head(&self) -> [u8; TCP_FRAME_HEAD] {
        // Packets longer than u32::MAX cannot be built from a Bytes on any real system.
        let len = u32::try_from(self.packet.encoded_len()).unwrap_or(u32::MAX);
        let [m0, m1, m2, m3] = TCP_MAGIC;
        let [l0, l1, l2, l3] = len.to_le_bytes();
        let [c0, c1, mut s0, s1, i0, i1, r0, r1] = self.packet.header();
        if self.corrupt_checksum {
            s0 ^= 0x5A;
        }
        [
            m0, m1, m2, m3, l0, l1, l2, l3, c0, c1, s0, s1, i0, i1, r0, r1,
        ]
    }

    fn encode_udp(&self) -> Bytes {
        let bytes = self.packet.to_bytes();
        if !self.corrupt_checksum {
            return bytes;
        }
        let mut b = BytesMut::from(&bytes[..]);
        if let Some(x) = b.get_mut(2) {
            *x ^= 0x5A;
        }
        b.freeze()
    }
}

#[derive(Debug)]
struct Upload {
    expected: usize,
    data: BytesMut,
}

#[derive(Debug)]
struct Session {
    id: u16,
    seq: DeviceSequence,
    authed: bool,
    mask: u32,
    read_buf: Option<Bytes>,
    upload: Option<Upload>,
    cached: Vec<Outgoing>,
    opened: u64,
}

/// The simulated device. See the [module documentation](self).
pub struct Device {
    profile: Profile,
    encoding: TextEncoding,
    comm_key: Option<CommKey>,
    /// The data, with the tables encoded from it (see [`tables`]).
    state: tables::Data,
    clock: Clock,
    enabled: bool,
    disabled_until: Option<Instant>,
    door_open: bool,
    lock_until: Option<Instant>,
    last_unlock: Option<u32>,
    sessions: BTreeMap<PeerKey, Session>,
    next_session: u16,
    opened: u64,
    faults: Vec<Fault>,
    pacing: Pacing,
    log: VecDeque<Command>,
    pushes: Vec<(PeerKey, Outgoing)>,
    dirty: bool,
    store: Option<Store>,
    /// The data as last stored (kept only while a store is attached).
    saved: Option<State>,
}

/// Durable storage of a device's data (e.g. [`persist::StateFile`]): called
/// with the whole data after every change; the change is acknowledged only
/// when this returns `Ok` (the data must then be on stable storage).
///
/// [`persist::StateFile`]: super::persist::StateFile
pub type Store = Box<dyn FnMut(&State, &Profile) -> std::io::Result<()> + Send>;

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("profile", &self.profile.name)
            .field("comm_key", &self.comm_key.map(|_| "***"))
            .field("users", &self.state.users.len())
            .field("attendance", &self.state.attendance.len())
            .field("templates", &self.state.templates.len())
            .field("sessions", &self.sessions.len())
            .field("enabled", &self.enabled)
            .finish()
    }
}

fn i32_of(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn le_u16_at(data: &[u8], off: usize) -> Option<u16> {
    data.get(off..off + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn le_u32_at(data: &[u8], off: usize) -> Option<u32> {
    data.get(off..off + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Text up to the first NUL of a fixed field.
fn cstr(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..end).unwrap_or_default()
}

impl Device {
    /// A device with demo data seeded from `config`.
    pub fn new(config: &SimConfig) -> Device {
        let state = seed_state(
            &config.profile,
            config.encoding,
            config.seed,
            config.users,
            config.attendance,
        );
        Device::with_state(config, state)
    }

    /// A device with the given data (the counts and seed of `config` are not used).
    pub fn with_state(config: &SimConfig, state: State) -> Device {
        let first = (Rng::new(config.seed).next_u64() & 0xFFFF) as u16;
        Device {
            profile: config.profile.clone(),
            encoding: config.encoding,
            comm_key: config.comm_key.filter(|k| !k.is_zero()),
            state: tables::Data::new(state),
            clock: Clock::new(DEFAULT_TIME),
            enabled: true,
            disabled_until: None,
            door_open: false,
            lock_until: None,
            last_unlock: None,
            sessions: BTreeMap::new(),
            next_session: first.max(1),
            opened: 0,
            faults: Vec::new(),
            pacing: config.effective_pacing(),
            log: VecDeque::new(),
            pushes: Vec::new(),
            dirty: false,
            store: None,
            saved: None,
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The text encoding of names.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// The data.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The data, for changes made by a test (marks the state changed).
    pub fn state_mut(&mut self) -> &mut State {
        self.dirty = true;
        &mut self.state
    }

    /// Returns whether the persistent data changed since the last call
    /// (clearing the flag: with a store attached, a cleared change is not
    /// stored by the next [`commit`](Self::commit)).
    pub fn take_dirty(&mut self) -> bool {
        core::mem::take(&mut self.dirty)
    }

    /// Attaches durable storage and stores the current data with it.
    ///
    /// From then on a command that changes the data is acknowledged only
    /// after `store` succeeded; when it fails the change is undone and the
    /// command is answered `CMD_ACK_ERROR`, as firmware answers a write its
    /// flash refused. Fails (and attaches nothing) when the first store fails.
    ///
    /// ```
    /// use std::time::Instant;
    /// use zkproto::terminal::sim::{Device, PeerKey, SimConfig};
    /// use zkproto::terminal::{Command, Packet, ReplyCode};
    /// let mut dev = Device::new(&SimConfig::default());
    /// let full = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    /// let flag = full.clone();
    /// dev.set_store(Box::new(move |_, _| {
    ///     if flag.load(std::sync::atomic::Ordering::SeqCst) {
    ///         Err(std::io::Error::other("flash full"))
    ///     } else {
    ///         Ok(())
    ///     }
    /// }))
    /// .unwrap();
    /// let (peer, now) = (PeerKey::Tcp(1), Instant::now());
    /// dev.set_next_session_id(7);
    /// dev.handle(peer, &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(), now);
    /// full.store(true, std::sync::atomic::Ordering::SeqCst);
    /// let w = Packet::new(Command::OptionsWrq, 7, 1, &b"LockOn=9\0"[..]);
    /// let out = dev.handle(peer, &w.to_bytes(), now);
    /// assert_eq!(out[0].packet.reply_code(), ReplyCode::AckError);
    /// assert_eq!(dev.state().options.get("LockOn").map(String::as_str), Some("5"));
    /// ```
    pub fn set_store(&mut self, store: Store) -> std::io::Result<()> {
        self.store = Some(store);
        self.saved = Some(State::clone(&self.state));
        self.dirty = true;
        match self.commit() {
            Ok(()) => Ok(()),
            Err(e) => {
                self.store = None;
                self.saved = None;
                Err(e)
            }
        }
    }

    /// Stores changed data with the attached store (nothing to do without a
    /// store or without a change). When storing fails the data goes back to
    /// what was last stored — the device never shows what it could not keep.
    pub fn commit(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        self.dirty = false;
        match store(&self.state, &self.profile) {
            Ok(()) => {
                self.saved = Some(State::clone(&self.state));
                Ok(())
            }
            Err(e) => {
                if let Some(saved) = &self.saved {
                    *self.state = saved.clone();
                }
                Err(e)
            }
        }
    }

    /// Acknowledges a command's change only once it is stored: `out` when
    /// there is nothing to store or storing worked, else `CMD_ACK_ERROR`.
    fn stored_or_refused(
        &mut self,
        peer: PeerKey,
        p: &Packet,
        out: Vec<Outgoing>,
    ) -> Vec<Outgoing> {
        match self.commit() {
            Ok(()) => out,
            Err(e) => {
                tracing::error!(?peer, command = %p.command(), error = %e, "could not store the change; refusing the command");
                self.err(p)
            }
        }
    }

    /// The session id the next new session gets (0 is skipped).
    pub fn set_next_session_id(&mut self, id: u16) {
        self.next_session = id.max(1);
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The event mask registered by the session of `peer`.
    pub fn event_mask(&self, peer: &PeerKey) -> Option<u32> {
        self.sessions.get(peer).map(|s| s.mask)
    }

    /// Commands executed so far (oldest first; the last 100 000 are kept).
    pub fn commands(&self) -> Vec<Command> {
        self.log.iter().copied().collect()
    }

    /// The pacing of the reply frames (see [`Pacing`]).
    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// Changes the pacing of the reply frames; applies to replies produced
    /// from now on.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use zkproto::terminal::sim::{Device, Pacing, PeerKey, SimConfig};
    /// use zkproto::terminal::record::bulk::{BulkRead, ReadChunk};
    /// use zkproto::terminal::{Command, Packet, ReplyCode};
    /// let mut dev = Device::new(&SimConfig { users: 100, ..SimConfig::default() });
    /// assert_eq!(dev.pacing(), Pacing::link());
    /// dev.set_pacing(Pacing::firmware());
    /// dev.set_next_session_id(7);
    /// let (peer, now) = (PeerKey::Tcp(1), Instant::now());
    /// dev.handle(peer, &Packet::new(Command::Connect, 0, 0, &[][..]).to_bytes(), now);
    /// let prep = Packet::new(Command::PrepareBuffer, 7, 1, BulkRead::users().encode());
    /// dev.handle(peer, &prep.to_bytes(), now);
    /// let read = Packet::new(Command::ReadBuffer, 7, 2, ReadChunk { offset: 0, len: 7204 }.encode());
    /// let out = dev.handle(peer, &read.to_bytes(), now);
    /// // PREPARE_DATA, one CMD_DATA (in 1,460-byte pieces), then ACK_OK 20 ms later.
    /// assert_eq!(out.len(), 3);
    /// assert_eq!(out[1].split, Some(1460));
    /// assert_eq!(out[2].packet.reply_code(), ReplyCode::AckOk);
    /// assert_eq!(out[2].delay, Duration::from_millis(20));
    /// ```
    pub fn set_pacing(&mut self, pacing: Pacing) {
        self.pacing = pacing;
    }

    /// Adds a fault.
    pub fn set_fault(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Device time at `now`.
    pub fn time(&self, now: Instant) -> DeviceTime {
        self.clock.at(now)
    }

    /// Sets the device time at `now`.
    pub fn set_time(&mut self, t: DeviceTime, now: Instant) {
        self.clock.set(t, now);
    }

    /// Whether the device is enabled at `now` (a disable timeout may have run out).
    pub fn is_enabled(&self, now: Instant) -> bool {
        self.enabled || self.disabled_until.is_some_and(|t| now >= t)
    }

    /// Whether the lock relay is released (door unlocked) at `now`.
    pub fn lock_released(&self, now: Instant) -> bool {
        self.lock_until.is_some_and(|t| now < t)
    }

    /// The raw value of the last `CMD_UNLOCK`.
    pub fn last_unlock(&self) -> Option<u32> {
        self.last_unlock
    }

    /// Whether the door sensor reports open.
    pub fn door_open(&self) -> bool {
        self.door_open
    }

    /// Applies timers that ran out by `now` (relay relock, disable timeout).
    pub fn tick(&mut self, now: Instant) {
        self.clock.start(now);
        if self.disabled_until.is_some_and(|t| now >= t) {
            self.enabled = true;
            self.disabled_until = None;
        }
        if self.lock_until.is_some_and(|t| now >= t) {
            self.lock_until = None;
        }
    }

    /// Ends the session of `peer` (TCP connection closed): the device
    /// re-enables itself and pending events of that peer are dropped.
    pub fn disconnect(&mut self, peer: &PeerKey) {
        if self.sessions.remove(peer).is_some() {
            self.enabled = true;
            self.disabled_until = None;
        }
        self.pushes.retain(|(p, _)| p != peer);
    }

    /// Takes the queued realtime events of one peer, paced: over TCP each
    /// event, the first one included, gets the gap of the pacing before it
    /// (a reply written just before may still be unread).
    pub fn take_pushes_for(&mut self, peer: &PeerKey) -> Vec<Outgoing> {
        let (mine, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.pushes)
            .into_iter()
            .partition(|(p, _)| p == peer);
        self.pushes = rest;
        let mut out: Vec<Outgoing> = mine.into_iter().map(|(_, o)| o).collect();
        if !out.is_empty() {
            self.pacing.apply(peer.transport(), &mut out, true);
        }
        out
    }

    /// Takes the queued realtime events of every UDP peer (not paced: each
    /// is a datagram of its own).
    pub fn take_udp_pushes(&mut self) -> Vec<(SocketAddr, Outgoing)> {
        let (udp, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.pushes)
            .into_iter()
            .partition(|(p, _)| matches!(p, PeerKey::Udp(_)));
        self.pushes = rest;
        udp.into_iter()
            .filter_map(|(p, o)| match p {
                PeerKey::Udp(a) => Some((a, o)),
                PeerKey::Tcp(_) => None,
            })
            .collect()
    }

    // ---------------------------------------------------------------- events

    fn push_event(&mut self, flag: EventFlag, data: Bytes) {
        let bits = u32::from(flag.value());
        for (peer, s) in &self.sessions {
            if s.authed && s.mask & bits == bits {
                self.pushes
                    .push((*peer, Outgoing::new(events::packet(flag, data.clone()))));
            }
        }
    }

    /// Records a punch by `user_id` at the current device time and sends
    /// `EF_VERIFY` and `EF_ATTLOG` events to the sessions that registered
    /// them. An unknown user id is recorded with uid = the id when numeric,
    /// else 0. Values a layout cannot carry are narrowed (8-byte records keep
    /// 4 bits of verify and state; 16-byte records need a numeric id and fall
    /// back to the uid).
    pub fn punch(
        &mut self,
        user_id: &str,
        verify: u8,
        state: u8,
        now: Instant,
    ) -> Result<Attendance, crate::terminal::EncodeError> {
        self.clock.start(now);
        let time = self.clock.at(now);
        let enc = self.encoding;
        let uid = match self
            .state
            .user_index_by_user_id(user_id, enc)
            .and_then(|i| self.state.users.get(i))
        {
            Some(u) => u.uid(),
            None => user_id.parse::<u16>().unwrap_or(0),
        };
        let layout = self.profile.effective_attendance_layout();
        let (v, s) = if layout == AttendanceLayout::Short8 {
            (verify & 15, state & 15)
        } else {
            (verify, state)
        };
        let rec = Attendance::new(layout, uid, user_id, v, s, time, 0)
            .or_else(|_| Attendance::new(layout, uid, &uid.to_string(), v, s, time, 0))?;
        self.state.attendance.push(rec.clone());
        self.dirty = true;
        self.push_event(EventFlag::Verify, events::verify(uid));
        let data = events::attlog(
            self.profile.attlog_event,
            uid,
            user_id,
            verify,
            state,
            time,
            enc,
        );
        self.push_event(EventFlag::AttLog, data);
        Ok(rec)
    }

    /// The door sensor reports open; `EF_ALARM` (8-byte form, code 4, or 1
    /// "forced" when the lock is not released) is sent.
    pub fn open_door(&mut self, now: Instant) {
        if !self.door_open {
            self.door_open = true;
            let code = if self.lock_released(now) {
                events::ALARM_DOOR_OPEN
            } else {
                events::ALARM_DOOR_FORCED
            };
            self.push_event(EventFlag::Alarm, events::alarm8(code));
        }
    }

    /// The door sensor reports closed; `EF_ALARM` (8-byte form, code 54) is sent.
    pub fn close_door(&mut self) {
        if self.door_open {
            self.door_open = false;
            self.push_event(EventFlag::Alarm, events::alarm8(events::ALARM_DOOR_CLOSED));
        }
    }

    /// The exit button: `EF_ALARM` (0x35), the relay is released for
    /// `LockOn` seconds (default 5) and `EF_UNLOCK` is sent.
    pub fn press_exit_button(&mut self, now: Instant) {
        self.push_event(EventFlag::Alarm, events::alarm4(events::ALARM_EXIT_BUTTON));
        let secs = self
            .state
            .options
            .get("LockOn")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(5);
        self.lock_until = Some(now + Duration::from_secs(secs));
        self.push_event(EventFlag::Unlock, Bytes::new());
    }

    /// Tamper switch: `EF_ALARM` (0x37).
    pub fn tamper(&mut self) {
        self.push_event(EventFlag::Alarm, events::alarm4(events::ALARM_TAMPER));
    }

    // --------------------------------------------------------------- packets

    /// Handles one received packet (see the [module documentation](self)).
    /// The replies carry the delivery flags of the faults and of the
    /// [pacing](Self::pacing).
    pub fn handle(&mut self, peer: PeerKey, input: &[u8], now: Instant) -> Vec<Outgoing> {
        let mut out = self.handle_unpaced(peer, input, now);
        self.pacing.apply(peer.transport(), &mut out, false);
        out
    }

    fn handle_unpaced(&mut self, peer: PeerKey, input: &[u8], now: Instant) -> Vec<Outgoing> {
        self.tick(now);
        let input = match peer.transport() {
            // The firmware's UDP receive buffer holds 1032 bytes; longer
            // datagrams are truncated (and then fail the checksum).
            Transport::Udp => input.get(..MAX_UDP_TO_DEVICE).unwrap_or(input),
            Transport::Tcp => input,
        };
        let p = match Packet::decode(input, ChecksumMode::Strict) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(?peer, error = %e, "dropping undecodable packet");
                return Vec::new();
            }
        };
        let cmd = p.command();
        if cmd == Command::Connect {
            self.push_log(cmd);
            tracing::info!(?peer, command = %cmd, reply_id = p.reply_id, "command");
            let out = self.connect(peer, &p);
            let out = self.apply_faults(cmd, peer.transport(), out, now);
            return out;
        }
        let Some(sess) = self.sessions.get(&peer) else {
            tracing::debug!(?peer, command = %cmd, "dropping packet without a session");
            return Vec::new();
        };
        if sess.id != p.session_id {
            tracing::debug!(?peer, command = %cmd, got = p.session_id, want = sess.id, "dropping packet of another session");
            return Vec::new();
        }
        if p.code == ReplyCode::AckOk.value() {
            tracing::trace!(?peer, "event acknowledged");
            return Vec::new();
        }
        match sess.seq.check(p.reply_id) {
            Verdict::Retransmit => {
                tracing::debug!(?peer, reply_id = p.reply_id, "resending cached reply");
                let cached = sess.cached.clone();
                return self.apply_persistent(peer.transport(), cached, now);
            }
            Verdict::Ignore => {
                tracing::debug!(
                    ?peer,
                    reply_id = p.reply_id,
                    last = sess.seq.last(),
                    "ignoring old reply id"
                );
                return Vec::new();
            }
            Verdict::Execute => {}
        }
        let authed = sess.authed;
        tracing::info!(?peer, command = %cmd, reply_id = p.reply_id, data_len = p.data.len(), "command");
        let silent = self.faults.iter().any(|f| matches!(f, Fault::Silent));
        let forced = self.faults.iter().find_map(|f| match f {
            Fault::ReplyWith { command, reply } if *command == cmd => Some(*reply),
            _ => None,
        });
        let executed = authed || cmd == Command::Auth;
        let out = if !executed {
            vec![self.reply(&p, ReplyCode::AckUnauth, Bytes::new())]
        } else if silent {
            Vec::new()
        } else if let Some(code) = forced {
            vec![self.reply(&p, code, Bytes::new())]
        } else {
            let out = self.execute(peer, &p, now);
            self.stored_or_refused(peer, &p, out)
        };
        let executed = executed && !silent && forced.is_none();
        if executed {
            self.push_log(cmd);
        }
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.cached = out.clone();
            s.seq.executed(p.reply_id, !out.is_empty());
        }
        let ends = executed && matches!(cmd, Command::Exit | Command::Restart | Command::PowerOff);
        if ends {
            self.disconnect(&peer);
        }
        let mut out = self.apply_faults(cmd, peer.transport(), out, now);
        if let Some(last) = out.last_mut().filter(|_| ends && cmd != Command::Exit) {
            last.close_after = true;
        }
        out
    }

    fn push_log(&mut self, cmd: Command) {
        if self.log.len() >= LOG_LIMIT {
            self.log.pop_front();
        }
        self.log.push_back(cmd);
    }

    fn reply(&self, p: &Packet, code: ReplyCode, data: Bytes) -> Outgoing {
        Outgoing::new(Packet::new(code, p.session_id, p.reply_id, data))
    }

    fn reply_slot(&self, p: &Packet, code: ReplyCode, slot: u16, data: Bytes) -> Outgoing {
        Outgoing::new(Packet::new(code, slot, p.reply_id, data))
    }

    fn ok(&self, p: &Packet) -> Vec<Outgoing> {
        vec![self.reply(p, ReplyCode::AckOk, Bytes::new())]
    }

    fn ok_data(&self, p: &Packet, data: Bytes) -> Vec<Outgoing> {
        vec![self.reply(p, ReplyCode::AckOk, data)]
    }

    fn err(&self, p: &Packet) -> Vec<Outgoing> {
        vec![self.reply(p, ReplyCode::AckError, Bytes::new())]
    }

    fn err_code(&self, p: &Packet, code: u16) -> Vec<Outgoing> {
        vec![self.reply_slot(p, ReplyCode::AckError, code, Bytes::new())]
    }

    fn connect(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let id = match self.sessions.get(&peer) {
            Some(s) => s.id,
            None => self.allocate_session_id(),
        };
        if !self.sessions.contains_key(&peer) && self.sessions.len() >= MAX_SESSIONS {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.opened)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.disconnect(&k);
            }
        }
        self.opened += 1;
        let mut seq = DeviceSequence::new();
        let authed = self.comm_key.is_none();
        let code = if authed {
            ReplyCode::AckOk
        } else {
            ReplyCode::AckUnauth
        };
        let out = vec![Outgoing::new(Packet::new(
            code,
            id,
            p.reply_id,
            Bytes::new(),
        ))];
        seq.executed(p.reply_id, true);
        self.sessions.insert(
            peer,
            Session {
                id,
                seq,
                authed,
                mask: 0,
                read_buf: None,
                upload: None,
                cached: out.clone(),
                opened: self.opened,
            },
        );
        out
    }

    fn allocate_session_id(&mut self) -> u16 {
        loop {
            let id = self.next_session;
            self.next_session = self.next_session.wrapping_add(1).max(1);
            if id != 0 && !self.sessions.values().any(|s| s.id == id) {
                return id;
            }
        }
    }

    fn take_once<T>(&mut self, pick: impl Fn(&Fault) -> Option<T>) -> Option<T> {
        let i = self.faults.iter().position(|f| pick(f).is_some())?;
        let f = self.faults.remove(i);
        pick(&f)
    }

    fn apply_persistent(
        &self,
        transport: Transport,
        mut out: Vec<Outgoing>,
        _now: Instant,
    ) -> Vec<Outgoing> {
        if out.is_empty() {
            return out;
        }
        for f in &self.faults {
            match f {
                Fault::Delay(d) => {
                    if let Some(first) = out.first_mut() {
                        first.delay = first.delay.max(*d);
                    }
                }
                Fault::LateBurstAck(d) => {
                    let burst = out.len() > 2
                        && out.first().map(|o| o.packet.reply_code())
                            == Some(ReplyCode::PrepareData);
                    if let Some(ack) = out
                        .last_mut()
                        .filter(|o| burst && o.packet.reply_code() == ReplyCode::AckOk)
                    {
                        ack.delay = ack.delay.saturating_add(*d);
                    }
                }
                Fault::SplitFrames { chunk } if transport == Transport::Tcp => {
                    for o in &mut out {
                        o.split = Some((*chunk).max(1));
                    }
                }
                Fault::CoalesceWithEvent if transport == Transport::Tcp => {
                    let mut ev =
                        Outgoing::new(events::packet(EventFlag::FpFtr, Bytes::from_static(&[100])));
                    ev.coalesce_with_next = true;
                    if let Some(first) = out.first_mut() {
                        ev.delay = core::mem::take(&mut first.delay);
                    }
                    out.insert(0, ev);
                }
                _ => {}
            }
        }
        out
    }

    fn apply_faults(
        &mut self,
        cmd: Command,
        transport: Transport,
        out: Vec<Outgoing>,
        now: Instant,
    ) -> Vec<Outgoing> {
        if out.is_empty() {
            return out;
        }
        let mut out = self.apply_persistent(transport, out, now);
        if self
            .take_once(|f| match f {
                Fault::DropNextReply { command } if fault::matches(*command, cmd) => Some(()),
                _ => None,
            })
            .is_some()
        {
            for o in &mut out {
                o.drop = true;
            }
        }
        let corrupt = self
            .take_once(|f| match f {
                Fault::CorruptChecksum { command } if fault::matches(*command, cmd) => Some(()),
                _ => None,
            })
            .is_some();
        if let Some(o) = out.iter_mut().find(|o| corrupt && !o.coalesce_with_next) {
            o.corrupt_checksum = true;
        }
        out
    }

    // -------------------------------------------------------------- commands

    fn execute(&mut self, peer: PeerKey, p: &Packet, now: Instant) -> Vec<Outgoing> {
        let d = &p.data;
        match p.command() {
            Command::Auth => {
                let ok = match (self.comm_key, self.sessions.get(&peer)) {
                    (None, _) => true,
                    (Some(k), Some(s)) => check_key(d, k, s.id),
                    (Some(_), None) => false,
                };
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.authed = s.authed || ok;
                }
                if ok {
                    self.ok(p)
                } else {
                    vec![self.reply(p, ReplyCode::AckUnauth, Bytes::new())]
                }
            }
            Command::Exit
            | Command::RefreshData
            | Command::RefreshOption
            | Command::CancelCapture
            | Command::TestVoice
            | Command::Restart
            | Command::PowerOff
            | Command::Sleep
            | Command::Resume
            | Command::EnableClock
            | Command::ClearOpLog => self.ok(p),
            Command::StartVerify => {
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.mask |= u32::from(EventFlag::Verify.value() | EventFlag::Finger.value());
                }
                self.ok(p)
            }
            Command::EnableDevice => {
                self.enabled = true;
                self.disabled_until = None;
                self.ok(p)
            }
            Command::DisableDevice => {
                self.enabled = false;
                self.disabled_until = match le_u32_at(d, 0) {
                    Some(secs) if d.len() == 4 && secs > 0 => {
                        Some(now + Duration::from_secs(u64::from(secs)))
                    }
                    _ => None,
                };
                self.ok(p)
            }
            Command::OptionsRrq => self.read_option(p),
            Command::OptionsWrq => match parse_write(d) {
                Ok((name, value)) => {
                    self.state.options.insert(name, value);
                    self.dirty = true;
                    self.ok(p)
                }
                Err(_) => self.err_code(p, 1),
            },
            Command::GetFreeSizes => self.free_sizes(p),
            Command::GetTime => match self.clock.at(now).to_packed() {
                Ok(t) => self.ok_data(p, Bytes::copy_from_slice(&t.to_le_bytes())),
                Err(_) => self.err(p),
            },
            Command::SetTime => match le_u32_at(d, 0) {
                Some(t) if d.len() == 4 => {
                    self.clock.set(DeviceTime::from_packed(t), now);
                    self.ok(p)
                }
                _ => self.err(p),
            },
            Command::GetVersion => {
                let text = if d.first() == Some(&0) {
                    &self.profile.platform
                } else {
                    &self.profile.firmware
                };
                let mut b = BytesMut::from(text.as_bytes());
                b.extend_from_slice(&[0]);
                self.ok_data(p, b.freeze())
            }
            Command::GetPinWidth => {
                self.ok_data(p, Bytes::copy_from_slice(&[self.profile.pin_width]))
            }
            Command::StateRrq => {
                let state = if self.is_enabled(now) {
                    self.profile.idle_state
                } else {
                    4
                };
                vec![self.reply_slot(p, ReplyCode::AckOk, state, Bytes::new())]
            }
            Command::RegEvent => {
                let mut m = [0u8; 4];
                for (dst, src) in m.iter_mut().zip(d.iter()) {
                    *dst = *src;
                }
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.mask = u32::from_le_bytes(m);
                }
                self.ok(p)
            }
            Command::PrepareBuffer => self.prepare_buffer(peer, p),
            Command::ReadBuffer => self.read_buffer(peer, p),
            Command::FreeData => {
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.read_buf = None;
                    s.upload = None;
                }
                self.ok(p)
            }
            Command::PrepareData => self.prepare_upload(peer, p),
            Command::Data => self.upload_chunk(peer, p),
            Command::ChecksumBuffer => self.checksum_buffer(peer, p),
            Command::SaveUserTemps => self.save_batch(peer, p),
            Command::TmpWrite => self.template_write(peer, p, 6, true),
            Command::UserTempWrq => self.template_write(peer, p, 5, false),
            Command::GetUserTemp => self.get_template(peer, p, true),
            Command::UserTempRrq if d.len() == 3 => self.get_template(peer, p, false),
            Command::UserTempRrq | Command::DbRrq | Command::AttLogRrq | Command::OpLogRrq => {
                self.direct_table(peer, p)
            }
            Command::DeleteUserTemp => {
                let (Some(uid), Some(&finger)) = (le_u16_at(d, 0), d.get(2)) else {
                    return self.err(p);
                };
                if self.state.delete_templates(uid, Some(finger)) == 0 {
                    return self.err_code(p, 2);
                }
                self.dirty = true;
                self.ok(p)
            }
            Command::DelUserTemp => {
                let (Some(id), Some(&finger)) = (d.get(..24), d.get(24)) else {
                    return self.err(p);
                };
                let uid = self.uid_of_user_id_field(id);
                let n = match uid {
                    Some(uid) => self
                        .state
                        .delete_templates(uid, if finger == 13 { None } else { Some(finger) }),
                    None => 0,
                };
                if n == 0 {
                    return vec![self.reply_slot(p, ReplyCode::AckOk, 2, Bytes::new())];
                }
                self.dirty = true;
                self.ok(p)
            }
            Command::DeleteUser => match le_u16_at(d, 0) {
                Some(uid) if self.state.delete_user(uid) => {
                    self.dirty = true;
                    self.ok(p)
                }
                _ => self.err(p),
            },
            Command::SsrDeleteUser => {
                let id = d.get(..24.min(d.len())).unwrap_or_default();
                match self.uid_of_user_id_field(id) {
                    Some(uid) if self.state.delete_user(uid) => {
                        self.dirty = true;
                        self.ok(p)
                    }
                    _ => self.err(p),
                }
            }
            Command::UserWrq => self.write_user(p),
            Command::ClearData => {
                match d.first().map(|&b| TableId::from(b)) {
                    None => {
                        self.state.users.clear();
                        self.state.attendance.clear();
                        self.state.templates.clear();
                    }
                    Some(TableId::AttLog) => self.state.attendance.clear(),
                    Some(TableId::FingerTmp) => self.state.templates.clear(),
                    Some(TableId::User) => {
                        self.state.users.clear();
                        self.state.templates.clear();
                    }
                    Some(_) => {}
                }
                self.dirty = true;
                self.ok(p)
            }
            Command::ClearAttLog => {
                self.state.attendance.clear();
                self.dirty = true;
                self.ok(p)
            }
            Command::ClearAdmin => {
                for u in &mut self.state.users {
                    let keep = u.privilege().0 & 1;
                    u.set_privilege(Privilege(keep));
                }
                self.dirty = true;
                self.ok(p)
            }
            Command::Unlock => match parse_unlock_request(d) {
                Ok(raw) => {
                    let dur = self.profile.unlock_unit.duration(raw);
                    self.lock_until = Some(now + dur);
                    self.last_unlock = Some(raw);
                    self.push_event(EventFlag::Unlock, Bytes::new());
                    self.ok(p)
                }
                Err(_) => self.err(p),
            },
            Command::DoorStateRrq => {
                let s = DoorState::from_status(self.door_open, self.profile.door_polarity);
                self.ok_data(p, s.encode())
            }
            _ => vec![self.reply(p, ReplyCode::AckUnknown, Bytes::new())],
        }
    }

    fn uid_of_user_id_field(&self, field: &[u8]) -> Option<u16> {
        let text = String::from_utf8_lossy(cstr(field)).into_owned();
        let enc_text = self.encoding.decode(cstr(field));
        self.state
            .users
            .iter()
            .find(|u| {
                let id = u.user_id(self.encoding);
                id == text || id == enc_text
            })
            .map(User::uid)
    }

    fn read_option(&self, p: &Packet) -> Vec<Outgoing> {
        let Ok(name) = parse_request(&p.data) else {
            return self.err(p);
        };
        let value = match name.as_str() {
            "BuildVersion" => Some(self.profile.firmware.clone()),
            _ => self.state.options.get(&name).cloned(),
        };
        match value {
            Some(v) => self.ok_data(p, encode_reply(&name, &v)),
            None => self.err(p),
        }
    }

    /// The free-sizes reply for the current data.
    pub fn free_sizes_now(&self) -> FreeSizes {
        let s = &self.state;
        let cap = |c: u32, n: usize| i32::try_from(c).unwrap_or(i32::MAX).max(i32_of(n));
        let mut f = FreeSizes::new(
            i32_of(s.users.len()),
            i32_of(s.templates.len()),
            i32_of(s.attendance.len()),
            cap(self.profile.user_capacity, s.users.len()),
            cap(self.profile.template_capacity, s.templates.len()),
            cap(self.profile.attendance_capacity, s.attendance.len()),
        );
        f.admins = i32_of(
            s.users
                .iter()
                .filter(|u| u.privilege().0 & 0x0E != 0)
                .count(),
        );
        f.passwords = i32_of(s.users.iter().filter(|u| u.has_password()).count());
        f
    }

    fn free_sizes(&self, p: &Packet) -> Vec<Outgoing> {
        let f = self.free_sizes_now();
        match p.data.len() {
            1 => match p.data.first().and_then(|&k| f.field(usize::from(k))) {
                Some(v) => self.ok_data(p, Bytes::copy_from_slice(&v.to_le_bytes())),
                None => self.err(p),
            },
            _ => self.ok_data(p, f.encode()),
        }
    }

    /// `CMD_USER_WRQ` with the firmware's rules (reference §5.2).
    fn write_user(&mut self, p: &Packet) -> Vec<Outgoing> {
        let layout = self.profile.user_layout;
        if p.data.len() != layout.record_len() {
            return self.err(p);
        }
        let Ok(user) = User::parse(&p.data, layout) else {
            return self.err(p);
        };
        let enc = self.encoding;
        let id = user.user_id(enc);
        if id.is_empty() || id == "0" {
            return self.err_code(p, 1);
        }
        let uid = user.uid();
        if uid == 0 || uid == u16::MAX {
            return self.err_code(p, 2);
        }
        match self.state.user_index_by_user_id(&id, enc) {
            Some(i) => {
                let Some(slot) = self.state.users.get_mut(i) else {
                    return self.err(p);
                };
                if slot.uid() != uid {
                    return self.err_code(p, 1);
                }
                *slot = user;
            }
            None => {
                let cap = usize::try_from(self.profile.user_capacity).unwrap_or(usize::MAX);
                if self.state.user_index_by_uid(uid).is_some() || self.state.users.len() >= cap {
                    return self.err_code(p, 2);
                }
                self.state.users.push(user);
            }
        }
        self.dirty = true;
        self.ok(p)
    }
}

/// Number of `CMD_DATA` packets in the burst for `len` bytes.
#[cfg(test)]
fn burst_packets(len: usize, psize: usize) -> usize {
    len.div_ceil(psize.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::bulk::{BufferDescriptor, BulkRead, ReadChunk};

    #[test]
    fn tcp_head_is_the_start_of_the_frame() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut o = Outgoing::new(Packet::new(ReplyCode::Data, 3, 0x1234, data.clone()));
        let frame = crate::terminal::frame::tcp_frame(&o.packet);
        assert_eq!(&o.tcp_head()[..], &frame[..TCP_FRAME_HEAD]);
        assert_eq!(&o.encode(Transport::Tcp)[..], &frame[..]);
        o.corrupt_checksum = true;
        let bad = o.encode(Transport::Tcp);
        assert_eq!(&o.tcp_head()[..], &bad[..TCP_FRAME_HEAD]);
        assert_eq!(&bad[TCP_FRAME_HEAD..], &data[..]);
        let diff: Vec<usize> = (0..frame.len()).filter(|&i| frame[i] != bad[i]).collect();
        assert_eq!(diff, [10]);
        let udp = o.encode(Transport::Udp);
        assert_eq!(&udp[..2], &frame[8..10]);
        assert_eq!(udp[2], frame[10] ^ 0x5A);
        assert_eq!(&udp[3..], &frame[11..]);
    }

    fn connect(dev: &mut Device, peer: PeerKey, now: Instant) -> u16 {
        let out = dev.handle(
            peer,
            &Packet::new(Command::Connect, 0, 0, Bytes::new()).to_bytes(),
            now,
        );
        out[0].packet.session_id
    }

    #[test]
    fn burst_indices_and_reply_ids() {
        let mut dev = Device::new(&SimConfig {
            users: 70,
            ..SimConfig::default()
        });
        let peer = PeerKey::Udp("127.0.0.1:5000".parse().unwrap());
        let now = Instant::now();
        let s = connect(&mut dev, peer, now);
        let req = Packet::new(Command::PrepareBuffer, s, 1, BulkRead::users().encode());
        let out = dev.handle(peer, &req.to_bytes(), now);
        let desc = BufferDescriptor::parse(&out[0].packet.data).unwrap();
        assert_eq!(desc.size, 4 + 70 * 72);
        let req = Packet::new(
            Command::ReadBuffer,
            s,
            2,
            ReadChunk {
                offset: 0,
                len: desc.size,
            }
            .encode(),
        );
        let out = dev.handle(peer, &req.to_bytes(), now);
        let n = burst_packets(desc.size as usize, 1024);
        assert_eq!(out.len(), n + 2);
        assert!(out.iter().all(|o| o.packet.reply_id == 2));
        for (i, o) in out[1..=n].iter().enumerate() {
            assert_eq!(o.packet.session_id as usize, i);
            assert_eq!(o.packet.code, ReplyCode::Data.value());
        }
        assert_eq!(out[n + 1].packet.code, ReplyCode::AckOk.value());
    }

    #[test]
    fn event_ack_is_silent_and_wrong_session_dropped() {
        let mut dev = Device::new(&SimConfig::default());
        let peer = PeerKey::Tcp(9);
        let now = Instant::now();
        let s = connect(&mut dev, peer, now);
        assert!(
            dev.handle(
                peer,
                &Packet::new(ReplyCode::AckOk, s, 0, Bytes::new()).to_bytes(),
                now
            )
            .is_empty()
        );
        assert!(
            dev.handle(
                peer,
                &Packet::new(Command::GetTime, s ^ 1, 1, Bytes::new()).to_bytes(),
                now
            )
            .is_empty()
        );
        assert_eq!(
            dev.handle(
                peer,
                &Packet::new(Command::GetTime, s, 1, Bytes::new()).to_bytes(),
                now
            )
            .len(),
            1
        );
    }
}
