//! The panel model: request frame in, reply frames out, no I/O.
//!
//! [`Device::handle`] takes the bytes of one frame (as the server carved it
//! out of a TCP stream, or a whole UDP datagram), the peer it came from and
//! the current [`Instant`], and returns the frames to send back with their
//! delivery flags ([`Outgoing`]). Timers (lock relays, aux outputs, the
//! door-open timeout) are evaluated lazily against the instants passed in.
//!
//! Processing follows the firmware (reference §1–§7):
//! * bytes that are not a frame follow [`ForeignBytes`]; a frame with a bad
//!   CRC or end byte gets no reply; the address byte is not checked (TCP/UDP)
//!   and replies carry the panel's own address;
//! * one TCP client at a time: a valid frame from a new connection makes the
//!   previous one close ([`Device::take_kicked`]) (§2.4);
//! * 0x01/0x76 check the password (−14 closes the socket), reset the
//!   30-entry real-time queue and, for 0x76, assign a session id; after 0x76
//!   every frame carries the session header, which replies echo (§2);
//! * firmware without sessions answers 0x76 with −13 (no header).
//!
//! ```
//! use std::time::Instant;
//! use zkproto::panel::sim::{Device, PeerKey, SimConfig};
//! use zkproto::panel::{Command, Frame};
//! let mut dev = Device::new(&SimConfig::default());
//! let now = Instant::now();
//! let connect = Frame::new(1, Command::ConnectSession, &[0xfe, 0xfe, 0xfe, 0xfe][..]);
//! let out = dev.handle(PeerKey::Tcp(1), &connect.to_bytes().unwrap(), now);
//! assert_eq!(out[0].frame.command, Command::AckOk);
//! assert_eq!(&out[0].frame.data[2..], &[0xfe, 0xfe]); // message number echoed
//! ```

use super::clock::Clock;
use super::config::{ForeignBytes, Profile, SimConfig};
use super::fault::{self, Fault};
use super::state::State;
use crate::panel::command::{Command, ErrorCode};
use crate::panel::discovery::{self, DiscoveryReply, ModifyIp};
use crate::panel::frame::{Frame, START};
use crate::panel::params::ParamList;
use crate::panel::rtlog::{EventCode, InOutState, RtEvent, VerifyMode};
use crate::panel::session::SessionHeader;
use crate::panel::table::{GetDataRequest, TimezoneRow, TransactionRow, UserAuthorizeRow, UserRow};
use crate::panel::time::{PanelTime, TimeSpan};
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod doors;
mod parameters;
mod transfer;

pub(crate) use doors::RtEventParts;

/// Capacity of the real-time event queue (reference §7.1).
pub const RT_QUEUE_LEN: usize = 30;
/// Largest big-data upload a client may announce (the DLL's 4 MB limit).
pub const MAX_UPLOAD: usize = 4 * 1024 * 1024;
/// Entries kept in the command log.
const LOG_LIMIT: usize = 100_000;
/// Parameters a client cannot write.
const READ_ONLY: &[&str] = &[
    "~SerialNumber",
    "LockCount",
    "ReaderCount",
    "AuxInCount",
    "AuxOutCount",
    "FirmVer",
    "~DeviceName",
    "DeviceName",
    "MAC",
    "~ZKFPVersion",
    "~MaxUserCount",
    "MachineType",
];

/// Who sent a frame: a TCP connection (numbered by the server) or a UDP sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerKey {
    /// A TCP connection.
    Tcp(u64),
    /// A UDP sender.
    Udp(SocketAddr),
}

/// One frame to send, with delivery instructions for the I/O layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The frame (not sent when `drop` is set, e.g. a bare close).
    pub frame: Frame,
    /// Wait this long before sending it.
    pub delay: Duration,
    /// Bytes written right before the frame.
    pub garbage: Bytes,
    /// Corrupt its CRC on the wire.
    pub corrupt_crc: bool,
    /// TCP: write it in pieces of this many bytes.
    pub split: Option<usize>,
    /// Do not send it at all.
    pub drop: bool,
    /// Close the connection after it (TCP only).
    pub close_after: bool,
}

impl Outgoing {
    /// A frame with no special delivery.
    pub fn new(frame: Frame) -> Outgoing {
        Outgoing {
            frame,
            delay: Duration::ZERO,
            garbage: Bytes::new(),
            corrupt_crc: false,
            split: None,
            drop: false,
            close_after: false,
        }
    }

    /// Nothing sent; the connection is closed.
    pub fn close() -> Outgoing {
        Outgoing {
            drop: true,
            close_after: true,
            ..Outgoing::new(Frame::new(0, Command::AckOk, Bytes::new()))
        }
    }

    /// The bytes to put on the wire: garbage, then the frame (CRC corrupted
    /// when asked). Empty when dropped.
    ///
    /// ```
    /// use zkproto::panel::sim::Outgoing;
    /// use zkproto::panel::{Command, Frame};
    /// let mut o = Outgoing::new(Frame::new(1, Command::AckOk, &[][..]));
    /// assert_eq!(&o.encode()[..], &[0xaa, 0x01, 0xc8, 0x00, 0x00, 0x80, 0x02, 0x55]);
    /// o.corrupt_crc = true;
    /// assert_ne!(&o.encode()[..], &[0xaa, 0x01, 0xc8, 0x00, 0x00, 0x80, 0x02, 0x55]);
    /// ```
    pub fn encode(&self) -> Bytes {
        if self.drop {
            return Bytes::new();
        }
        let mut out = BytesMut::from(&self.garbage[..]);
        let at = out.len() + self.frame.data.len() + 5;
        if let Err(e) = self.frame.encode_to(&mut out) {
            tracing::error!(error = %e, "reply does not fit in a frame");
            return Bytes::new();
        }
        if self.corrupt_crc
            && let Some(b) = out.get_mut(at)
        {
            *b ^= 0x5a;
        }
        out.freeze()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Idle,
    SessionLess,
    Session(u16),
}

#[derive(Debug)]
struct Upload {
    data: Vec<u8>,
    command: Option<u8>,
}

#[derive(Debug)]
struct Conn {
    mode: Mode,
    download: Option<Bytes>,
    upload: Option<Upload>,
    max_len: usize,
    lagged: Option<Vec<Outgoing>>,
}

/// A lock relay or aux output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relay {
    Off,
    Until(Instant),
    Latched,
}

impl Relay {
    fn on(self, now: Instant) -> bool {
        match self {
            Relay::Off => false,
            Relay::Until(t) => now < t,
            Relay::Latched => true,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Door {
    pub(crate) open: bool,
    pub(crate) opened_at: Option<Instant>,
    pub(crate) timeout_fired: bool,
    pub(crate) relay: Relay,
    pub(crate) alarm: u8,
}

impl Door {
    fn new() -> Door {
        Door {
            open: false,
            opened_at: None,
            timeout_fired: false,
            relay: Relay::Off,
            alarm: 0,
        }
    }
}

/// One step of the dispatcher: the reply code and payload (header added later).
struct Step {
    code: Command,
    payload: Bytes,
    close: bool,
}

impl Step {
    fn ok(payload: impl Into<Bytes>) -> Step {
        Step {
            code: Command::AckOk,
            payload: payload.into(),
            close: false,
        }
    }
    fn err(code: ErrorCode) -> Step {
        Step::err_byte(code.to_byte())
    }
    fn err_byte(b: u8) -> Step {
        Step {
            code: Command::AckError,
            payload: Bytes::copy_from_slice(&[b]),
            close: false,
        }
    }
    fn closing(mut self) -> Step {
        self.close = true;
        self
    }
}

/// The simulated panel. See the [module documentation](self).
pub struct Device {
    pub(crate) profile: Profile,
    password: Option<String>,
    pub(crate) state: State,
    pub(crate) clock: Clock,
    pub(crate) doors: Vec<Door>,
    pub(crate) aux_out: Vec<Relay>,
    pub(crate) aux_in: Vec<bool>,
    pub(crate) queue: VecDeque<RtEvent>,
    event_index: u32,
    conns: BTreeMap<PeerKey, Conn>,
    current_tcp: Option<u64>,
    kicked: BTreeSet<u64>,
    next_session: u16,
    faults: Vec<Fault>,
    log: VecDeque<Command>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("profile", &self.profile.name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("state", &self.state)
            .field("queued_events", &self.queue.len())
            .field("connections", &self.conns.len())
            .field("faults", &self.faults)
            .finish()
    }
}

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *x >> 33
}

impl Device {
    /// A new panel with demo data as configured.
    pub fn new(config: &SimConfig) -> Device {
        let p = config.profile.clone();
        let doors = usize::from(p.doors.clamp(1, 4));
        let mut dev = Device {
            state: State::new(p.layout),
            clock: Clock::new(config.start_time),
            doors: vec![Door::new(); doors],
            aux_out: vec![Relay::Off; usize::from(p.aux_outputs)],
            aux_in: vec![false; usize::from(p.aux_inputs)],
            queue: VecDeque::with_capacity(RT_QUEUE_LEN),
            event_index: 0,
            conns: BTreeMap::new(),
            current_tcp: None,
            kicked: BTreeSet::new(),
            next_session: 0x2014,
            faults: Vec::new(),
            log: VecDeque::new(),
            password: config.password.clone().filter(|p| !p.is_empty()),
            profile: p,
        };
        dev.default_params();
        dev.seed(config);
        dev
    }

    fn seed(&mut self, config: &SimConfig) {
        let mut rng = config.seed ^ 0x5eed_c3c3;
        let all_doors = (1u32 << self.doors.len()) - 1;
        let tz = TimezoneRow {
            id: 1,
            spans: [[
                TimeSpan::WHOLE_DAY,
                TimeSpan::default(),
                TimeSpan::default(),
            ]; 10],
        };
        self.state.put_typed(&[tz]);
        let mut users = Vec::new();
        let mut auth = Vec::new();
        for i in 0..config.users {
            let n = u32::try_from(i).unwrap_or(u32::MAX);
            let pin = 1001u32.saturating_add(n);
            users.push(UserRow {
                pin,
                card_no: 10_000_000 + u32::try_from(lcg(&mut rng) % 9_000_000).unwrap_or(0),
                password: if i % 2 == 0 {
                    format!("{}", 1000 + i % 9000)
                } else {
                    String::new()
                },
                name: format!("User {pin}"),
                uid: Some(n + 1),
                ..UserRow::default()
            });
            auth.push(UserAuthorizeRow {
                pin,
                timezone_id: 1,
                doors: all_doors,
            });
        }
        if !users.is_empty() && !self.state.put_typed(&users) {
            // Old layout: no UID / Name.
            for u in &mut users {
                u.uid = None;
                u.name.clear();
            }
            self.state.put_typed(&users);
        }
        self.state.put_typed(&auth);
        let start = super::clock::to_seconds(config.start_time);
        let n = config.transactions;
        for i in 0..n {
            let back = i64::try_from((n - i) * 600).unwrap_or(0);
            let time = super::clock::from_seconds(start - back);
            let door = u8::try_from(lcg(&mut rng) % self.doors.len() as u64 + 1).unwrap_or(1);
            let row = match (users.get(i % users.len().max(1)), i % 5) {
                (Some(u), 0..=3) => TransactionRow {
                    card_no: u.card_no,
                    pin: u.pin,
                    verify: VerifyMode::Card,
                    door,
                    event: EventCode::NormalPunchOpen,
                    in_out: InOutState::Entry,
                    time,
                },
                _ => TransactionRow {
                    card_no: 90_000_000 + u32::try_from(lcg(&mut rng) % 1000).unwrap_or(0),
                    pin: 0,
                    verify: VerifyMode::Card,
                    door,
                    event: EventCode::UnregisteredCard,
                    in_out: InOutState::Entry,
                    time,
                },
            };
            self.state.append_typed(&row);
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The stored data.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The stored data, for changes outside the protocol.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// Sets or clears the communication password.
    pub fn set_password(&mut self, password: Option<String>) {
        self.password = password.filter(|p| !p.is_empty());
    }

    /// Adds a fault.
    pub fn set_fault(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Commands received so far (oldest first).
    pub fn commands(&self) -> Vec<Command> {
        self.log.iter().copied().collect()
    }

    /// Connections (TCP and UDP peers) that connected and did not disconnect.
    pub fn connected_peers(&self) -> Vec<PeerKey> {
        self.conns
            .iter()
            .filter(|(_, c)| c.mode != Mode::Idle)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The TCP connection the panel currently serves.
    pub fn current_tcp(&self) -> Option<u64> {
        self.current_tcp
    }

    /// True (once) when TCP connection `id` must be closed because another
    /// client took over or the panel restarted.
    pub fn take_kicked(&mut self, id: u64) -> bool {
        self.kicked.remove(&id)
    }

    /// Forgets a TCP connection that closed.
    pub fn disconnect(&mut self, peer: &PeerKey) {
        self.conns.remove(peer);
        if let PeerKey::Tcp(id) = peer {
            if self.current_tcp == Some(*id) {
                self.current_tcp = None;
            }
            self.kicked.remove(id);
        }
    }

    /// Events waiting in the real-time queue.
    pub fn queued_events(&self) -> Vec<RtEvent> {
        self.queue.iter().copied().collect()
    }

    /// The clock now.
    pub fn time(&self, now: Instant) -> PanelTime {
        self.clock.at(now)
    }

    /// Sets the clock.
    pub fn set_time(&mut self, t: PanelTime, now: Instant) {
        self.clock.set(t, now);
    }

    fn log_command(&mut self, c: Command) {
        if self.log.len() >= LOG_LIMIT {
            self.log.pop_front();
        }
        self.log.push_back(c);
    }

    /// Handles one received frame (or datagram); see the [module documentation](self).
    pub fn handle(&mut self, peer: PeerKey, bytes: &[u8], now: Instant) -> Vec<Outgoing> {
        self.tick(now);
        if bytes.first() != Some(&START) {
            return self.foreign(peer, bytes);
        }
        match Frame::decode(bytes) {
            Ok(f) => self.handle_frame(peer, f, now),
            Err(e) => {
                tracing::debug!(?peer, error = %e, "frame error; no reply");
                Vec::new()
            }
        }
    }

    /// Bytes that are not a panel frame (skipped while hunting for `AA`).
    pub fn foreign(&mut self, peer: PeerKey, bytes: &[u8]) -> Vec<Outgoing> {
        if bytes.is_empty() {
            return Vec::new();
        }
        tracing::debug!(?peer, len = bytes.len(), "bytes that are not a panel frame");
        match (self.profile.foreign_bytes, peer) {
            (ForeignBytes::Ignore, _) | (ForeignBytes::Close, PeerKey::Udp(_)) => Vec::new(),
            (ForeignBytes::Close, PeerKey::Tcp(_)) => vec![Outgoing::close()],
            (ForeignBytes::ErrorReply, _) => vec![Outgoing::new(Frame::new(
                self.profile.address,
                Command::AckError,
                Bytes::copy_from_slice(&[ErrorCode::CommandNotAvailable.to_byte()]),
            ))],
        }
    }

    /// Handles one decoded frame.
    pub fn handle_frame(&mut self, peer: PeerKey, frame: Frame, now: Instant) -> Vec<Outgoing> {
        self.tick(now);
        let cmd = frame.command;
        self.log_command(cmd);
        if self.faults.contains(&Fault::Silent) {
            return Vec::new();
        }
        // One TCP client at a time (§2.4): the previous one is closed.
        if let PeerKey::Tcp(id) = peer
            && self.current_tcp != Some(id)
            && let Some(old) = self.current_tcp.replace(id)
        {
            tracing::debug!(
                old,
                new = id,
                "a new client takes over; closing the old one"
            );
            self.kicked.insert(old);
            self.conns.remove(&PeerKey::Tcp(old));
        }
        let Some((header, step)) = self.execute(peer, frame, now) else {
            return Vec::new();
        };
        let mut data = BytesMut::new();
        if let Some(h) = header {
            h.encode_to(&mut data);
        }
        data.put_slice(&step.payload);
        let mut out = Outgoing::new(Frame::new(self.profile.address, step.code, data.freeze()));
        out.close_after = step.close && matches!(peer, PeerKey::Tcp(_));
        self.apply_faults(peer, cmd, out)
    }

    fn apply_faults(&mut self, peer: PeerKey, cmd: Command, mut out: Outgoing) -> Vec<Outgoing> {
        let mut used = None;
        for (i, f) in self.faults.iter().enumerate() {
            match f {
                Fault::Delay(d) => out.delay += *d,
                Fault::GarbageBefore(g) => out.garbage = g.clone(),
                Fault::SplitFrames { chunk } => out.split = Some((*chunk).max(1)),
                Fault::CorruptCrc { command }
                    if used.is_none() && fault::matches(*command, cmd) =>
                {
                    out.corrupt_crc = true;
                    used = Some(i);
                }
                Fault::DropReply { command } if used.is_none() && fault::matches(*command, cmd) => {
                    out.drop = true;
                    used = Some(i);
                }
                Fault::Disconnect { command }
                    if used.is_none() && fault::matches(*command, cmd) =>
                {
                    out.drop = true;
                    out.close_after = true;
                    used = Some(i);
                }
                _ => {}
            }
        }
        if let Some(i) = used {
            self.faults.remove(i);
        }
        if self.faults.contains(&Fault::LagReplies) && !out.close_after {
            let Some(conn) = self.conns.get_mut(&peer) else {
                return vec![out];
            };
            let previous = conn.lagged.replace(vec![out]);
            return previous.unwrap_or_default();
        }
        vec![out]
    }

    fn reply_header(
        &self,
        peer: PeerKey,
        data: &Bytes,
    ) -> Result<(Option<SessionHeader>, Bytes), Step> {
        match self.conns.get(&peer).map(|c| c.mode) {
            Some(Mode::Session(sid)) => match SessionHeader::parse(data) {
                Ok((h, _)) if h.session_id != sid => Err(Step::err(ErrorCode::NotAuthorized)),
                Ok((_, _)) => Ok((
                    SessionHeader::parse(data).ok().map(|(h, _)| h),
                    data.slice(4..),
                )),
                Err(_) => Err(Step::err(ErrorCode::BadParameter)),
            },
            _ => Ok((None, data.clone())),
        }
    }

    fn execute(
        &mut self,
        peer: PeerKey,
        frame: Frame,
        now: Instant,
    ) -> Option<(Option<SessionHeader>, Step)> {
        let cmd = frame.command;
        match cmd {
            Command::Connect => return Some((None, self.connect(peer, &frame.data))),
            Command::ConnectSession => return Some(self.connect_session(peer, &frame.data)),
            Command::Broadcast => {
                return discovery::is_probe(&frame).then(|| (None, self.discovery_reply()));
            }
            Command::BroadcastModifyIp => return Some((None, self.modify_ip(&frame.data))),
            _ => {}
        }
        let (header, payload) = match self.reply_header(peer, &frame.data) {
            Ok(x) => x,
            Err(step) => {
                let h = SessionHeader::parse(&frame.data).ok().map(|(h, _)| h);
                return Some((h, step));
            }
        };
        if let Some(code) = self.faults.iter().find_map(|f| match f {
            Fault::ReplyError { command, code } if *command == cmd => Some(*code),
            _ => None,
        }) {
            return Some((header, Step::err(code)));
        }
        let idle = self.conns.get(&peer).is_none_or(|c| c.mode == Mode::Idle);
        if idle
            && (self.profile.require_connect || self.password.is_some())
            && cmd != Command::Disconnect
        {
            return Some((header, Step::err(ErrorCode::NotAuthorized)));
        }
        let step = match cmd {
            Command::Disconnect => {
                if let Some(c) = self.conns.get_mut(&peer) {
                    c.mode = Mode::Idle;
                    c.download = None;
                    c.upload = None;
                }
                Step::ok(Bytes::new()).closing()
            }
            Command::GetDeviceParam => self.get_params(&payload, now),
            Command::SetDeviceParam => self.set_params(&payload, now),
            Command::ControlDevice => self.control(&payload, now),
            Command::GetTableStruct => {
                let text = self.state.structure().to_text();
                self.maybe_big(peer, Bytes::from(text))
            }
            Command::SetData => match self.state.set_data(
                &payload,
                self.profile.max_write_cell,
                self.profile.user_capacity,
            ) {
                Ok(()) => Step::ok(Bytes::new()),
                Err(e) => Step::err(e),
            },
            Command::GetData => match GetDataRequest::parse(payload) {
                Ok(req) => match self.state.get_data(&req) {
                    Some(b) => self.maybe_big(peer, b),
                    None => Step::err(ErrorCode::BadParameter),
                },
                Err(_) => Step::err(ErrorCode::BadParameter),
            },
            Command::DeleteData => {
                self.state.delete(payload);
                Step::ok(Bytes::new())
            }
            Command::GetDataCount => match payload.first().and_then(|t| self.state.count(*t)) {
                Some(n) => Step::ok(Bytes::copy_from_slice(&n.to_le_bytes())),
                None => Step::ok(Bytes::new()),
            },
            Command::GetDataOk => {
                let known = payload
                    .first()
                    .is_some_and(|t| self.state.commit_new_records(*t));
                match (known, self.profile.data_ok_quirk) {
                    (_, true) => Step::err_byte(0),
                    (true, false) => Step::ok(Bytes::new()),
                    (false, false) => Step::err(ErrorCode::BadParameter),
                }
            }
            Command::GetRtLog => Step::ok(self.rtlog_binary(now)),
            Command::GetRtLogText if self.profile.text_rtlog => Step::ok(self.rtlog_text(now)),
            Command::PrepareData => self.upload_begin(peer, &payload),
            Command::Data => self.upload_chunk(peer, &payload),
            Command::HashData => self.upload_hash(peer, &payload),
            Command::ReadData => self.download_chunk(peer, &payload),
            Command::FreeData => self.free_data(peer, now),
            Command::SetBinaryData => {
                let name = payload
                    .split_first()
                    .and_then(|(n, rest)| rest.get(..usize::from(*n)));
                if name == Some(&b"emfw.cfg"[..]) {
                    Step::err(ErrorCode::WrongPlatform)
                } else {
                    Step::err(ErrorCode::BadFileName)
                }
            }
            Command::GetBinaryData => Step::err(ErrorCode::FileNotFound),
            _ => Step::err(ErrorCode::CommandNotAvailable),
        };
        Some((header, step))
    }

    fn password_ok(&self, sent: &[u8]) -> bool {
        let sent = match sent.iter().position(|&b| b == 0) {
            Some(n) => sent.get(..n).unwrap_or(sent),
            None => sent,
        };
        match &self.password {
            None => sent.is_empty(),
            Some(p) => !sent.is_empty() && sent == p.as_bytes(),
        }
    }

    fn open_conn(&mut self, peer: PeerKey, mode: Mode) {
        self.conns.insert(
            peer,
            Conn {
                mode,
                download: None,
                upload: None,
                max_len: self.profile.max_reply,
                lagged: None,
            },
        );
        // The firmware resets the real-time queue on every connect (§2.4).
        self.queue.clear();
    }

    fn connect(&mut self, peer: PeerKey, data: &[u8]) -> Step {
        if !self.password_ok(data) {
            self.conns.remove(&peer);
            return Step::err(ErrorCode::WrongPassword).closing();
        }
        self.open_conn(peer, Mode::SessionLess);
        Step::ok(Bytes::new())
    }

    fn connect_session(&mut self, peer: PeerKey, data: &Bytes) -> (Option<SessionHeader>, Step) {
        if !self.profile.sessions {
            return (None, Step::err(ErrorCode::CommandNotAvailable));
        }
        let Ok((h, password)) = SessionHeader::parse(data) else {
            return (None, Step::err(ErrorCode::BadParameter));
        };
        let sid = self.next_session;
        self.next_session = match self.next_session.wrapping_add(0x1f3) {
            0 => 1,
            n => n,
        };
        let header = SessionHeader::new(sid, h.message);
        if !self.password_ok(password) {
            self.conns.remove(&peer);
            return (Some(header), Step::err(ErrorCode::WrongPassword).closing());
        }
        self.open_conn(peer, Mode::Session(sid));
        (Some(header), Step::ok(Bytes::new()))
    }

    /// Sets the session id the next session connect gets (0 is skipped).
    pub fn set_next_session_id(&mut self, id: u16) {
        self.next_session = id.max(1);
    }

    fn discovery_reply(&self) -> Step {
        let p = |k: &str| self.state.param(k).unwrap_or_default().to_string();
        let reply = DiscoveryReply {
            fields: ParamList::new()
                .with("MAC", p("MAC"))
                .with("IP", p("IPAddress"))
                .with("SN", p("~SerialNumber"))
                .with("Device", p("DeviceName"))
                .with("Ver", p("FirmVer")),
        };
        match reply.encode() {
            Ok(b) => Step::ok(b),
            Err(_) => Step::err(ErrorCode::NotExecuted),
        }
    }

    fn modify_ip(&mut self, data: &[u8]) -> Step {
        if self.password.is_some() {
            return Step::err(ErrorCode::WrongPassword);
        }
        let Ok(m) = ModifyIp::parse(data) else {
            return Step::err(ErrorCode::NotExecuted);
        };
        if Some(m.mac.as_str()) != self.state.param("MAC") || m.ip.starts_with('0') {
            return Step::err(ErrorCode::NotExecuted);
        }
        self.state.params.insert("IPAddress".into(), m.ip);
        if let Some(n) = m.netmask {
            self.state.params.insert("NetMask".into(), n);
        }
        if let Some(g) = m.gateway {
            self.state.params.insert("GATEIPAddress".into(), g);
        }
        Step::ok(Bytes::new())
    }
}

/// CRC-32 (IEEE) of a big-data buffer (re-exported from [`crate::panel::crc`]).
pub use crate::panel::crc::crc32;
