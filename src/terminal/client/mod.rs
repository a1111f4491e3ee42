//! Async tokio client for ZKTeco terminals (feature `client`), TCP or UDP.
//!
//! The [`Client`] owns its transport and runs one request at a time
//! (`&mut self` methods, like tokio-modbus). The protocol decisions — reply
//! ids, reply matching, realtime-event demultiplexing, retransmission and
//! the bulk-read state machine — live in the sans-IO
//! [`session`](crate::terminal::session); this module moves bytes and keeps
//! time. Every network wait has a timeout.
//!
//! ```no_run
//! use zkproto::terminal::client::{Client, Options};
//! # async fn run() -> Result<(), zkproto::terminal::client::Error> {
//! let mut dev = Client::connect("192.168.1.201:4370", Options::new()).await?;
//! println!("{}", dev.firmware_version().await?);
//! for u in dev.users().await? {
//!     println!("{:?}", u);
//! }
//! let log = dev.attendance().await?;
//! println!("{} records", log.records.len());
//! dev.disconnect().await?;
//! # Ok(()) }
//! ```

mod attendance;
mod control;
mod door;
mod error;
mod events;
mod info;
mod options;
mod restore;
mod sync;
mod templates;
mod transport;
mod users;

pub use attendance::{AttendanceLog, InvalidRecord, Progress, StreamOptions};
pub use control::DisableGuard;
pub use door::DoorReading;
pub use error::Error;
pub use events::{EventStream, SupervisedEvent, Supervisor, supervised_events};
pub use info::DeviceInfo;
pub use options::{Options, Transport};
pub use restore::{Applied, CountMismatch, RestoreFailure, RestoreReport, Snapshot, StopReason};
pub use sync::{
    AttendanceBatch, AttendanceSync, ClearOutcome, LogChange, OnDiscontinuity, SyncOutcome,
};
pub use users::NewUser;

use crate::terminal::command::Command;
use crate::terminal::commkey::DEFAULT_TICK;
use crate::terminal::packet::Packet;
use crate::terminal::record::bulk::BulkRead;
use crate::terminal::record::text::TextEncoding;
use crate::terminal::record::user::UserLayout;
use crate::terminal::request::Request;
use crate::terminal::session::SessionError;
use crate::terminal::session::{
    Budget, BulkAction, BulkInput, BulkLimits, BulkTiming, BulkTransfer, ConnectState, Session,
    SessionStats, WaitPolicy, Waste, check_reply, describe_reply,
};
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{ToSocketAddrs, UdpSocket};
use transport::Link;
pub(crate) use transport::Received;

/// A connection to one terminal.
///
/// Dropping a client makes a best-effort attempt to send `CMD_EXIT`; call
/// [`disconnect`](Client::disconnect) to close it properly.
#[derive(Debug)]
pub struct Client {
    link: Link,
    session: Session,
    options: Options,
    peer: Option<SocketAddr>,
    user_layout: Option<UserLayout>,
    needs_enable: bool,
    closed: bool,
    /// An operation failed on the network or protocol level: the goodbye
    /// (`CMD_EXIT`) then waits only briefly.
    degraded: bool,
}

/// Longest wait for the `CMD_EXIT` acknowledgement after a failed operation.
const EXIT_WAIT_AFTER_FAILURE: Duration = Duration::from_millis(500);

/// Bytes as hex and as text, e.g. `48 54 54 50 "HTTP"` (bytes that are not
/// printable ASCII shown as `.`: the peer's text is untrusted).
fn hex_and_text(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("{} {text:?}", hex.join(" "))
}

/// Checks that a table's length field, the record bytes received, and the
/// record count reported by `CMD_GET_FREE_SIZES` agree (§4.6: `total`
/// = record bytes that follow = count × record length, when the record
/// length is fixed). `records` is how many records the bytes hold.
pub(crate) fn check_table(
    table: &'static str,
    length_field: u32,
    received: u64,
    device_count: u32,
    records: u64,
) -> Result<(), Error> {
    if u64::from(length_field) != received || records != u64::from(device_count) {
        return Err(Error::TableMismatch {
            table,
            length_field,
            received,
            device_count,
        });
    }
    Ok(())
}

/// What to do with a corrupt frame answering the outstanding request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnCorrupt {
    /// Ask again with the same reply id (the device resends its cached reply).
    Retransmit,
    /// Hand it to the caller (bulk bursts treat it as a lost packet).
    Report,
}

enum Got {
    Reply(Packet),
    Lost,
    /// A timeout after part of a multi-packet reply arrived.
    TimedOut,
}

/// The client's clock: tokio's, so the sans-IO deadlines and the timers
/// that wait for them agree (also under `tokio::time::pause`, where a
/// test's virtual time advances and `std::time::Instant` does not).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl Client {
    /// Connects to a terminal and opens a session (`CMD_CONNECT`, then
    /// `CMD_AUTH` when a comm key is configured and the device asks for it).
    ///
    /// ```no_run
    /// use zkproto::terminal::client::{Client, Options, Transport};
    /// # async fn run() -> Result<(), zkproto::terminal::client::Error> {
    /// let dev = Client::connect("10.0.0.5:4370", Options::new().transport(Transport::Udp).comm_key(1234)).await?;
    /// dev.disconnect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs, options: Options) -> Result<Client, Error> {
        let peer = crate::net::connect::resolve(addr).await?;
        match options.transport {
            Transport::Tcp => Self::connect_tcp(peer, options).await,
            Transport::Udp => Self::connect_udp(peer, options).await,
            Transport::Auto => match Self::connect_tcp(peer, options.clone()).await {
                Ok(c) => Ok(c),
                Err(tcp) if tcp.is_network() => {
                    tracing::debug!(error = %tcp, %peer, "TCP failed, trying UDP");
                    Self::connect_udp(peer, options).await.map_err(|udp| {
                        if udp.is_network() {
                            Error::BothTransports {
                                tcp: Box::new(tcp),
                                udp: Box::new(udp),
                            }
                        } else {
                            udp
                        }
                    })
                }
                Err(e) => Err(e),
            },
        }
    }

    async fn connect_tcp(peer: SocketAddr, options: Options) -> Result<Client, Error> {
        let stream = crate::net::connect::tcp(peer, options.connect_timeout).await?;
        let link = Link::stream(stream, options.max_packet, options.lenient_checksum);
        let detect = options.detect_panel;
        let probe_wait = options.connect_timeout.min(Duration::from_secs(2));
        match Self::open(link, Some(peer), options).await {
            Err(e @ (Error::Timeout { .. } | Error::Closed { .. })) if detect => {
                if crate::detect::probe::is_panel(peer, probe_wait).await {
                    Err(Error::NotATerminal {
                        what: format!(
                            "{peer} is a C3/inBio access-control panel (PullSDK protocol); use zkproto::panel::client"
                        ),
                    })
                } else {
                    Err(e)
                }
            }
            other => other,
        }
    }

    async fn connect_udp(peer: SocketAddr, options: Options) -> Result<Client, Error> {
        let local: SocketAddr = if peer.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(peer).await?;
        let link = Link::udp(socket, options.lenient_checksum);
        Self::open(link, Some(peer), options).await
    }

    /// Opens a session over any byte stream speaking the TCP envelope (a
    /// `TcpStream`, a tunnel, `tokio::io::duplex` in tests).
    ///
    /// ```no_run
    /// use zkproto::terminal::client::{Client, Options};
    /// # async fn run() -> Result<(), zkproto::terminal::client::Error> {
    /// let stream = tokio::net::TcpStream::connect("10.0.0.5:4370").await?;
    /// let mut dev = Client::attach(stream, Options::new()).await?;
    /// let _t = dev.time().await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
        io: T,
        options: Options,
    ) -> Result<Client, Error> {
        let link = Link::stream(io, options.max_packet, options.lenient_checksum);
        Self::open(link, None, options).await
    }

    /// Opens a session over a UDP socket already connected to the terminal.
    ///
    /// ```no_run
    /// use zkproto::terminal::client::{Client, Options};
    /// # async fn run() -> Result<(), zkproto::terminal::client::Error> {
    /// let socket = tokio::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.connect("10.0.0.5:4370").await?;
    /// let dev = Client::attach_udp(socket, Options::new()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach_udp(socket: UdpSocket, options: Options) -> Result<Client, Error> {
        let peer = socket.peer_addr().ok();
        let link = Link::udp(socket, options.lenient_checksum);
        Self::open(link, peer, options).await
    }

    async fn open(link: Link, peer: Option<SocketAddr>, options: Options) -> Result<Client, Error> {
        let mut c = Client {
            link,
            session: Session::new(),
            options,
            peer,
            user_layout: None,
            needs_enable: false,
            closed: false,
            degraded: false,
        };
        match c.handshake().await {
            Ok(()) => Ok(c),
            Err(e) => {
                c.closed = true;
                Err(e)
            }
        }
    }

    async fn handshake(&mut self) -> Result<(), Error> {
        let wait = WaitPolicy {
            timeout: self.options.connect_timeout,
            retries: self.retries(),
        };
        let packet = self.session.connect(now(), wait);
        self.send(&packet).await?;
        let reply = match self
            .await_reply(OnCorrupt::Retransmit, "reply to CMD_CONNECT")
            .await
        {
            Ok(Got::Reply(p)) => p,
            Ok(Got::Lost | Got::TimedOut) => {
                return Err(Error::Lost {
                    what: "reply to CMD_CONNECT".into(),
                });
            }
            Err(Error::Frame(crate::terminal::error::WireError::BadMagic { found })) => {
                return Err(Error::NotATerminal {
                    what: format!(
                        "it answered bytes starting {}, not the ZK TCP envelope 50 50 82 7d (wrong port or another protocol)",
                        hex_and_text(&found)
                    ),
                });
            }
            Err(e) => return Err(e),
        };
        self.session.finish();
        let state = self
            .session
            .on_connect_reply(&reply)
            .map_err(|e| self.map(e))?;
        tracing::debug!(session_id = self.session.session_id(), transport = ?self.link.kind(), "connected");
        match (state, self.options.comm_key) {
            (ConnectState::Ready, _) => Ok(()),
            (ConnectState::NeedsAuth, None) => Err(Error::Unauthorized { key_sent: false }),
            (ConnectState::NeedsAuth, Some(key)) => {
                let req = Request::auth(key, self.session.session_id(), DEFAULT_TICK);
                self.command(req).await.map(|_| ())
            }
        }
    }

    /// Closes the session with `CMD_EXIT` and waits for its acknowledgement.
    ///
    /// ```no_run
    /// # async fn run(dev: zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.disconnect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn disconnect(mut self) -> Result<(), Error> {
        let r = if self.degraded {
            // After a failure the device may be gone or babbling: say
            // goodbye, but wait only briefly and do not resend.
            let wait = self.options.timeout.min(EXIT_WAIT_AFTER_FAILURE);
            let retries = std::mem::replace(&mut self.options.retries, 0);
            let r = async {
                self.prepare().await?;
                let cmd = Command::Exit;
                let reply = self.raw_roundtrip(Request::exit(), wait).await?;
                check_reply(cmd, &reply).map_err(|e| self.map(e))
            }
            .await;
            self.options.retries = retries;
            r
        } else {
            self.command(Request::exit()).await.map(|_| ())
        };
        self.closed = true;
        r
    }

    /// The transport in use.
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let dev = Client::connect(addr, Options::new().transport(Transport::Tcp)).await?;
    /// assert_eq!(dev.transport(), Transport::Tcp);
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn transport(&self) -> Transport {
        self.link.kind()
    }

    /// The peer address (when connected by address).
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(None, Some("127.0.0.1:0".parse()?)).await?;
    /// let addr = server.udp_addr().unwrap();
    /// let dev = Client::connect(addr, Options::new().transport(Transport::Udp)).await?;
    /// assert_eq!(dev.peer(), Some(addr));
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The session id the device assigned.
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let dev = Client::connect(addr, Options::new().transport(Transport::Tcp)).await?;
    /// assert_ne!(dev.session_id(), 0); // assigned in the connect reply
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn session_id(&self) -> u16 {
        self.session.session_id()
    }

    /// The options in use.
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let dev = Client::connect(addr, Options::new().transport(Transport::Tcp).chunk_size(4096)).await?;
    /// assert_eq!(dev.options().effective_chunk_size(dev.transport()), 4096);
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The text encoding of names and user ids on this connection
    /// ([`Options::encoding`]).
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options};
    /// # use zkproto::terminal::record::TextEncoding;
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let dev = Client::connect(addr, Options::new().encoding(TextEncoding::Gbk)).await?;
    /// assert_eq!(dev.encoding(), TextEncoding::Gbk);
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn encoding(&self) -> TextEncoding {
        self.options.encoding
    }

    /// Session counters: retransmissions, stale packets discarded, events,
    /// and the most bulk-data bytes held at once (`max_buffered`).
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let mut dev = Client::connect(addr, Options::new().transport(Transport::Tcp)).await?;
    /// dev.firmware_version().await?;
    /// let st = dev.stats();
    /// assert_eq!((st.requests, st.retransmissions), (2, 0)); // connect + version
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> SessionStats {
        self.session.stats()
    }

    /// The user-record layout detected from the device's user table, once
    /// a user list was read.
    ///
    /// ```
    /// # use zkproto::terminal::client::{Client, Options, Transport};
    /// # use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// # let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// # let addr = server.tcp_addr().unwrap();
    /// let mut dev = Client::connect(addr, Options::new().transport(Transport::Tcp)).await?;
    /// assert_eq!(dev.user_layout(), None);
    /// assert_eq!(dev.users().await?.len(), 2);
    /// assert!(dev.user_layout().is_some());
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn user_layout(&self) -> Option<UserLayout> {
        self.user_layout
    }

    fn retries(&self) -> u32 {
        self.options.retries
    }

    fn wait(&self, timeout: Duration) -> WaitPolicy {
        WaitPolicy {
            timeout,
            retries: self.retries(),
        }
    }

    /// The wait of each attempt when `total` bounds all of them (a bulk
    /// exchange under a [`Budget`]): on UDP the attempts share it, so that
    /// retransmissions happen within the budget.
    fn shared_wait(&self, total: Duration) -> WaitPolicy {
        let retries = self.retries();
        let timeout = if self.link.kind() == Transport::Udp {
            total / retries.saturating_add(1).max(1)
        } else {
            total
        };
        WaitPolicy { timeout, retries }
    }

    /// The longest wait for the answer to one request with `timeout` per
    /// attempt: on UDP every retransmission adds one.
    fn request_budget(&self, timeout: Duration) -> Duration {
        if self.link.kind() == Transport::Udp {
            timeout.saturating_mul(self.retries().saturating_add(1))
        } else {
            timeout
        }
    }

    fn map(&self, e: crate::terminal::session::SessionError) -> Error {
        match Error::from_session(e, self.options.comm_key.is_some()) {
            // Much firmware leaves the session id in the result slot of a
            // refusal: that is no result code, and must not be shown as one.
            Error::Refused {
                command,
                reply,
                code,
            } if code == self.session.session_id() && code != 0 => Error::Refused {
                command,
                reply,
                code: 0,
            },
            other => other,
        }
    }

    async fn send(&mut self, p: &Packet) -> Result<(), Error> {
        self.link.send(p, self.options.trace_frames).await
    }

    /// Housekeeping before a new request: take frames that are already
    /// buffered (late replies are discarded, events queued) and send a
    /// pending re-enable.
    async fn prepare(&mut self) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed {
                during: "a request on a closed client".into(),
            });
        }
        self.session.finish();
        while let Some(r) = self.link.recv_ready(self.options.trace_frames) {
            match r? {
                Some(Received::Packet(p)) => {
                    self.session.receive(p);
                }
                Some(Received::Corrupt(..)) => self.session.note_corrupt(),
                None => {
                    return Err(Error::Closed {
                        during: "idle (the device closed the connection)".into(),
                    });
                }
            }
        }
        if self.needs_enable {
            self.needs_enable = false;
            self.raw_command(Request::enable_device()).await?;
        }
        Ok(())
    }

    /// Sends a request and returns its reply (any reply code).
    pub(crate) async fn roundtrip(&mut self, req: Request) -> Result<Packet, Error> {
        self.prepare().await?;
        self.raw_roundtrip(req, self.options.timeout).await
    }

    async fn raw_roundtrip(&mut self, req: Request, timeout: Duration) -> Result<Packet, Error> {
        let what = format!("reply to {}", req.command.name());
        let packet = self.session.send(req, now(), self.wait(timeout));
        self.send(&packet).await?;
        let got = self.await_reply(OnCorrupt::Retransmit, &what).await;
        self.session.finish();
        if got.is_err() {
            self.degraded = true;
        }
        match got? {
            Got::Reply(p) => Ok(p),
            Got::Lost | Got::TimedOut => Err(Error::Lost { what }),
        }
    }

    async fn raw_command(&mut self, req: Request) -> Result<Packet, Error> {
        let cmd = req.command;
        let reply = self.raw_roundtrip(req, self.options.timeout).await?;
        check_reply(cmd, &reply).map_err(|e| self.map(e))?;
        Ok(reply)
    }

    /// Sends a request and checks that the device accepted it.
    pub(crate) async fn command(&mut self, req: Request) -> Result<Packet, Error> {
        let cmd = req.command;
        let reply = self.roundtrip(req).await?;
        check_reply(cmd, &reply).map_err(|e| self.map(e))?;
        Ok(reply)
    }

    /// Waits for a packet answering the outstanding request, handling
    /// timeouts (retransmission on UDP), events and stale packets.
    async fn await_reply(&mut self, on_corrupt: OnCorrupt, what: &str) -> Result<Got, Error> {
        self.await_reply_partial(on_corrupt, what, false, None)
            .await
    }

    /// The error for a session-level failure while waiting for `what`
    /// ([`SessionError::NoProgress`] names the operation).
    fn map_during(&self, e: crate::terminal::session::SessionError, what: &str) -> Error {
        match self.map(e) {
            Error::NoProgress {
                frames,
                corrupt,
                detail,
                ..
            } => Error::NoProgress {
                during: format!("waiting for {what}"),
                frames,
                corrupt,
                detail,
            },
            other => other,
        }
    }

    /// [`await_reply`](Self::await_reply); with `partial`, a UDP timeout
    /// returns [`Got::TimedOut`] instead of retransmitting. With a
    /// `budget`, the wait also ends at the budget's deadline, and every
    /// frame that is no reply (stale, corrupt) counts against it.
    async fn await_reply_partial(
        &mut self,
        on_corrupt: OnCorrupt,
        what: &str,
        partial: bool,
        mut budget: Option<&mut Budget>,
    ) -> Result<Got, Error> {
        // Corrupt answers to a simple request, to report them as such (not
        // as "no answer") if the wait ends without a good one.
        let mut corrupt = Budget::new(now(), Duration::MAX, Duration::MAX, u32::MAX);
        loop {
            let Some(mut deadline) = self.session.deadline() else {
                return Err(Error::Reply(SessionError::Unexpected {
                    during: "a reply",
                    detail: format!("{what}: no request outstanding"),
                }));
            };
            if let Some(b) = budget.as_deref() {
                deadline = deadline.min(b.deadline());
            }
            let recv =
                tokio::time::timeout_at(deadline.into(), self.link.recv(self.options.trace_frames))
                    .await;
            match recv {
                Err(_elapsed) => {
                    let t = now();
                    if let Some(b) = budget.as_deref()
                        && b.expired(t)
                    {
                        let e = match b.expire(t) {
                            Some(e) => self.map_during(e, what),
                            None => {
                                let e = self.session.give_up(t);
                                self.map(e)
                            }
                        };
                        self.session.finish();
                        return Err(e);
                    }
                    if let Some(b) = budget.as_deref()
                        && self.link.kind() != Transport::Udp
                    {
                        // TCP does not retransmit: under a budget, the
                        // budget alone decides how long to wait.
                        self.session
                            .extend_deadline(t, b.deadline().saturating_duration_since(t));
                        continue;
                    }
                    if self.link.kind() == Transport::Udp && partial {
                        self.session.finish();
                        return Ok(Got::TimedOut);
                    }
                    let failed = if self.link.kind() == Transport::Udp {
                        match self.session.on_timeout(t) {
                            Ok(p) => {
                                self.send(&p).await?;
                                continue;
                            }
                            Err(e) => e,
                        }
                    } else {
                        self.session.give_up(t)
                    };
                    return Err(match corrupt.expire(t) {
                        Some(e) => self.map_during(e, what),
                        None => self.map(failed),
                    });
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(None)) => {
                    return Err(Error::Closed {
                        during: format!("waiting for {what}"),
                    });
                }
                Ok(Ok(Some(Received::Packet(p)))) => {
                    let desc = describe_reply(&p);
                    match self.session.receive(p) {
                        crate::terminal::session::Incoming::Reply(p) => return Ok(Got::Reply(p)),
                        crate::terminal::session::Incoming::Stale => {
                            if let Some(b) = budget.as_deref_mut() {
                                b.waste(Waste::NoData(format!("stale {desc}")))
                                    .map_err(|e| self.map_during(e, what))?;
                            }
                        }
                        crate::terminal::session::Incoming::Event => {}
                    }
                }
                Ok(Ok(Some(Received::Corrupt(p, err)))) => {
                    self.session.note_corrupt();
                    tracing::warn!(error = %err, ?p, "dropping a frame with a bad checksum");
                    let evidence = Waste::Corrupt(format!("{} ({err})", describe_reply(&p)));
                    if let Some(b) = budget.as_deref_mut() {
                        b.waste(evidence.clone())
                            .map_err(|e| self.map_during(e, what))?;
                    }
                    if p.is_event() || Some(p.reply_id) != self.session.current_reply_id() {
                        continue;
                    }
                    let _ = corrupt.waste(evidence);
                    match on_corrupt {
                        OnCorrupt::Report => return Ok(Got::Lost),
                        OnCorrupt::Retransmit => {
                            match self.session.retransmit(now(), "corrupt reply") {
                                Ok(again) => self.send(&again).await?,
                                Err(_) => {
                                    self.session.finish();
                                    return Err(Error::Frame(err));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn bulk_limits(&self) -> BulkLimits {
        BulkLimits {
            max_bulk: self.options.max_bulk,
            chunk_size: self.options.effective_chunk_size(self.link.kind()),
            chunk_retries: self.retries(),
        }
    }

    /// Starts a bulk read (sends the `1503` request). The read's time and
    /// frame budget starts now (see [`Options::chunk_timeout`]).
    pub(crate) async fn bulk_begin(&mut self, read: BulkRead) -> Result<BulkPull, Error> {
        self.bulk_begin_from(read, 0, false).await
    }

    /// Starts a bulk read of the buffer from byte `offset` on (see
    /// [`BulkReader::starting_at`](crate::terminal::session::BulkReader::starting_at)); the budget covers only those bytes.
    /// The first [`bulk_next`](Self::bulk_next) returns once the size is
    /// known (an empty piece unless the data came whole), before any
    /// `CMD_READ_BUFFER`, so the caller can check the size first.
    pub(crate) async fn bulk_begin_at(
        &mut self,
        read: BulkRead,
        offset: u32,
    ) -> Result<BulkPull, Error> {
        self.bulk_begin_from(read, offset, true).await
    }

    async fn bulk_begin_from(
        &mut self,
        read: BulkRead,
        offset: u32,
        pause_on_size: bool,
    ) -> Result<BulkPull, Error> {
        self.prepare().await?;
        let timing = BulkTiming {
            request: self.request_budget(self.options.timeout),
            idle: self.options.chunk_timeout,
        };
        let t = now();
        let (transfer, first) = BulkTransfer::new(read, self.bulk_limits(), timing, offset, t);
        let packet = self.session.send(first, t, self.wait(self.options.timeout));
        self.send(&packet).await?;
        Ok(BulkPull {
            transfer,
            pause_on_size,
        })
    }

    /// The next in-order piece of a bulk read, `None` once every byte has
    /// arrived (`CMD_FREE_DATA` has then been sent).
    pub(crate) async fn bulk_next(&mut self, pull: &mut BulkPull) -> Result<Option<Bytes>, Error> {
        let r = self.bulk_step(pull).await;
        if r.is_err() {
            self.session.finish();
            self.degraded = true;
        }
        r
    }

    async fn bulk_step(&mut self, pull: &mut BulkPull) -> Result<Option<Bytes>, Error> {
        loop {
            match pull.transfer.poll().map_err(|e| self.map(e))? {
                BulkAction::Done => return Ok(None),
                BulkAction::Free(free) => {
                    let reply = self.raw_roundtrip(free, self.options.timeout).await?;
                    if let Err(e) = check_reply(Command::FreeData, &reply) {
                        tracing::debug!(error = %e, "CMD_FREE_DATA refused (ignored)");
                    }
                    return Ok(None);
                }
                BulkAction::Send(req) => {
                    let wait = self.shared_wait(self.options.chunk_timeout);
                    let packet = self.session.send(req, now(), wait);
                    self.send(&packet).await?;
                }
                BulkAction::Wait => {}
            }
            let what = pull.transfer.describe();
            let partial = pull.transfer.chunk_started();
            let got = self
                .await_reply_partial(
                    OnCorrupt::Report,
                    &what,
                    partial,
                    Some(pull.transfer.budget_mut()),
                )
                .await?;
            let input = match &got {
                Got::Reply(p) => BulkInput::Reply(p),
                // Counted as waste where it arrived (await_reply_partial).
                Got::Lost => BulkInput::Lost,
                Got::TimedOut => {
                    tracing::debug!(
                        delivered = pull.transfer.reader().delivered(),
                        "burst stalled; asking for the rest again"
                    );
                    BulkInput::Stalled
                }
            };
            let out = pull
                .transfer
                .handle(input, now())
                .map_err(|e| self.map_during(e, &what))?;
            if out.exchange_done {
                self.session.finish();
            }
            if let Some(d) = out.data {
                return Ok(Some(d));
            }
            if out.size_announced && pull.pause_on_size {
                return Ok(Some(Bytes::new()));
            }
        }
    }

    /// Reads a whole table buffer into memory (size checked before allocating).
    pub(crate) async fn read_table(&mut self, read: BulkRead) -> Result<Bytes, Error> {
        let mut pull = self.bulk_begin(read).await?;
        let mut buf: Option<BytesMut> = None;
        while let Some(piece) = self.bulk_next(&mut pull).await? {
            let b = match &mut buf {
                Some(b) => b,
                None => {
                    let cap = pull
                        .transfer
                        .reader()
                        .size()
                        .map_or(piece.len(), |s| s as usize);
                    buf.insert(BytesMut::with_capacity(cap))
                }
            };
            b.extend_from_slice(&piece);
            let held = b.len() + self.link.buffered();
            self.session.note_buffered(held);
        }
        Ok(buf.map(BytesMut::freeze).unwrap_or_default())
    }

    /// One exchange whose reply may be a direct packet with data or a
    /// `CMD_PREPARE_DATA` burst; `None` when the device answers
    /// `CMD_ACK_ERROR` (nothing there).
    pub(crate) async fn collect(
        &mut self,
        req: Request,
        limit: u32,
    ) -> Result<Option<Bytes>, Error> {
        use crate::terminal::session::Burst;
        self.prepare().await?;
        let cmd = req.command;
        let mut burst = Burst::new(cmd, limit);
        let t = now();
        let packet = self.session.send(req, t, self.wait(self.options.timeout));
        self.send(&packet).await?;
        // One exchange: the reply within `first`, then at most
        // `chunk_timeout` between pieces of data, all within the bulk
        // allowance of `limit` bytes sent as one chunk.
        let first = self.request_budget(self.options.timeout);
        let mut budget = Budget::new(
            t,
            first,
            self.options.chunk_timeout,
            Budget::frame_allowance(limit, self.retries()),
        );
        budget.set_allowance(
            first + Budget::bulk_allowance(self.options.chunk_timeout, limit, limit.max(1), 0),
        );
        let mut out = BytesMut::new();
        let what = format!("reply to {}", cmd.name());
        let result = loop {
            let got = self
                .await_reply_partial(OnCorrupt::Retransmit, &what, false, Some(&mut budget))
                .await;
            match got {
                Err(e) => break Err(e),
                Ok(Got::Lost | Got::TimedOut) => {
                    break Err(Error::Lost { what: what.clone() });
                }
                Ok(Got::Reply(p)) => {
                    if p.reply_code() == crate::terminal::command::ReplyCode::AckError
                        && burst.received() == 0
                    {
                        break Ok(None);
                    }
                    let before = (burst.received(), burst.announced());
                    match burst.on_packet(&p) {
                        Err(e) => break Err(self.map(e)),
                        Ok(step) => {
                            if let Some(d) = &step.data {
                                out.extend_from_slice(d);
                            }
                            let t = now();
                            if burst.received() > before.0
                                || (before.1.is_none() && burst.announced().is_some())
                            {
                                budget.progress(t);
                            } else if !step.done
                                && let Err(e) = budget.waste(Waste::NoData(describe_reply(&p)))
                            {
                                break Err(self.map_during(e, &what));
                            }
                            if step.done {
                                if burst.missing() > 0 {
                                    break Err(Error::Reply(SessionError::Incomplete {
                                        expected: u64::from(burst.announced().unwrap_or_default()),
                                        received: u64::from(burst.received()),
                                        retries: 0,
                                    }));
                                }
                                break Ok(Some(out.freeze()));
                            }
                        }
                    }
                }
            }
        };
        self.session.finish();
        if matches!(&result, Err(e) if !e.is_refusal()) {
            self.degraded = true;
        }
        result
    }

    /// Uploads `data` into the device's session buffer (§5.1):
    /// `CMD_PREPARE_DATA` then `CMD_DATA` chunks of at most 1024 bytes.
    pub(crate) async fn upload_buffer(&mut self, data: &Bytes) -> Result<(), Error> {
        let len = u32::try_from(data.len()).map_err(|_| Error::TooLarge {
            announced: data.len() as u64,
            limit: u64::from(u32::MAX),
        })?;
        self.command(Request::prepare_data(len)).await?;
        let mut off = 0;
        while off < data.len() {
            let end = (off + crate::terminal::packet::MAX_UDP_DATA).min(data.len());
            self.command(Request::data(data.slice(off..end))?).await?;
            off = end;
        }
        Ok(())
    }

    /// Best-effort send of a request whose reply is not awaited.
    fn send_and_forget(&mut self, req: Request) -> bool {
        let packet = self.session.fire_and_forget(req);
        self.link.send_now(&packet, self.options.trace_frames)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.closed {
            self.closed = true;
            let _ = self.send_and_forget(Request::exit());
        }
    }
}

/// State of one bulk read in progress: the sans-IO transfer, and whether
/// to return to the caller once the buffer size is known.
#[derive(Debug)]
pub(crate) struct BulkPull {
    pub(crate) transfer: BulkTransfer,
    pause_on_size: bool,
}

impl BulkPull {
    /// Marks the read as ended before all its bytes arrived; `true` when
    /// it was still running (its buffer is then still held by the device).
    pub(crate) fn finish_early(&mut self) -> bool {
        self.transfer.finish_early()
    }
}
