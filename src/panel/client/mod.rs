//! Async tokio client for C3/inBio access panels (feature `client`), over TCP
//! or any byte stream.
//!
//! The [`Client`] owns its connection and runs one request at a time
//! (`&mut self` methods): the panel does not pipeline (§1.3). Frame building,
//! session headers, reply matching and each request's deadline live in the
//! sans-IO [`PanelSession`], big-data reassembly (offsets, CRC-32) in
//! [`BigDataReader`]; this module moves bytes and waits until the session's
//! deadline. Every network wait has a timeout ([`Options::timeout`],
//! [`Options::connect_timeout`]), and only the awaited reply ends it.
//!
//! ```no_run
//! use zkproto::panel::client::{Client, Options};
//! # async fn run() -> Result<(), zkproto::panel::client::Error> {
//! let mut panel = Client::connect("192.168.1.201:4370", Options::new()).await?;
//! let info = panel.device_info().await?;
//! println!("{} with {} doors", info.serial_number, info.lock_count);
//! for user in panel.users().await? {
//!     println!("{user:?}");
//! }
//! panel.unlock(1, std::time::Duration::from_secs(5)).await?;
//! panel.disconnect().await?;
//! # Ok(()) }
//! ```
//!
//! Operations, by module: connection (here), [`params`](Client::params) and
//! time, users and door authorisation, doors and outputs, transactions,
//! real-time events ([`Client::events`], [`Supervisor`]).

mod doors;
mod error;
mod events;
mod options;
mod params;
mod transactions;
mod users;

#[cfg(test)]
mod tests;

pub use doors::{DoorReading, lock_count};
pub use error::Error;
pub use events::{EventStream, PanelEvent, SupervisedEvent, Supervisor};
pub use options::{ConnectStrategy, Options};
pub use params::DeviceInfo;

use crate::net::connect::Io;
use crate::panel::codec::PanelCodec;
use crate::panel::command::{Command, ErrorCode};
use crate::panel::error::BigDataError;
use crate::panel::frame::Frame;
use crate::panel::rtlog::{DoorStatus, RtEvent};
use crate::panel::session::{BigDataReader, ConnectMode, PanelSession, ReplyError, ReplyKind};
use crate::panel::table::TableStructure;
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::ToSocketAddrs;
use tokio_util::codec::Framed;

/// Which real-time log command the firmware answers (§9.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RtLogFormat {
    Binary,
    Text,
}

/// A connection to one C3/inBio panel.
///
/// Dropping a client makes a best-effort attempt to send a disconnect; call
/// [`disconnect`](Client::disconnect) to close it properly.
pub struct Client {
    framed: Framed<Box<dyn Io>, PanelCodec>,
    session: PanelSession,
    options: Options,
    peer: Option<SocketAddr>,
    structure: Option<TableStructure>,
    rtlog: RtLogFormat,
    /// Events read while looking for a status record, not yet handed out.
    queued: VecDeque<RtEvent>,
    last_status: Option<DoorStatus>,
    /// The last status handed out by `poll_events` (change detection).
    reported_status: Option<DoorStatus>,
    closed: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.peer)
            .field("state", &self.session.state())
            .field("options", &self.options)
            .field("closed", &self.closed)
            .finish()
    }
}

/// How the connect exchange ended before the panel said anything.
enum Silent {
    Closed,
    Other(Error),
}

impl Client {
    /// Connects to a panel over TCP and opens a session: 0x76 with the
    /// password, falling back to 0x01 when the firmware answers −13.
    ///
    /// A peer that closes the connection on the panel connect is probed with
    /// the standalone-terminal connect on a fresh connection: a ZKTeco
    /// terminal gives [`Error::NotAPanel`] at once instead of a timeout.
    ///
    /// ```no_run
    /// use zkproto::panel::client::{Client, Options};
    /// # async fn run() -> Result<(), zkproto::panel::client::Error> {
    /// let panel = Client::connect("10.0.0.9:4370", Options::new().password("8877")).await?;
    /// panel.disconnect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs, options: Options) -> Result<Client, Error> {
        let peer = crate::net::connect::resolve(addr).await?;
        let stream = crate::net::connect::tcp(peer, options.connect_timeout).await?;
        match Self::open(Box::new(stream), Some(peer), options.clone()).await {
            Ok(c) => Ok(c),
            Err(Silent::Other(e)) => Err(e),
            Err(Silent::Closed) => Err(closed_on_connect(peer, &options).await),
        }
    }

    /// Opens a session over any byte stream (a `TcpStream`, a serial link,
    /// `tokio::io::duplex` in tests).
    ///
    /// ```no_run
    /// use zkproto::panel::client::{Client, Options};
    /// # async fn run() -> Result<(), zkproto::panel::client::Error> {
    /// let stream = tokio::net::TcpStream::connect("10.0.0.9:4370").await?;
    /// let mut panel = Client::attach(stream, Options::new()).await?;
    /// let _t = panel.time().await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
        io: T,
        options: Options,
    ) -> Result<Client, Error> {
        Self::open(Box::new(io), None, options)
            .await
            .map_err(|s| match s {
                Silent::Other(e) => e,
                Silent::Closed => Error::Closed {
                    during: "the connect exchange (the peer closed without answering: \
                             a standalone terminal, or a panel busy with another client)"
                        .into(),
                },
            })
    }

    async fn open(
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        options: Options,
    ) -> Result<Client, Silent> {
        let codec = PanelCodec::new().with_max_data(options.max_frame_data);
        let mut c = Client {
            framed: Framed::new(io, codec),
            session: PanelSession::new().with_address(options.address),
            options,
            peer,
            structure: None,
            rtlog: RtLogFormat::Binary,
            queued: VecDeque::new(),
            last_status: None,
            reported_status: None,
            closed: false,
        };
        match c.handshake().await {
            Ok(()) => Ok(c),
            Err(e) => {
                c.closed = true;
                Err(e)
            }
        }
    }

    async fn handshake(&mut self) -> Result<(), Silent> {
        match self.options.strategy {
            ConnectStrategy::SessionLess => self.connect_with(ConnectMode::SessionLess).await,
            strategy => match self.connect_with(ConnectMode::Session).await {
                Err(Silent::Other(Error::Refused {
                    code: ErrorCode::CommandNotAvailable,
                    ..
                })) if strategy == ConnectStrategy::Auto => {
                    tracing::debug!(
                        "session connect unknown (-13), using the session-less connect"
                    );
                    self.connect_with(ConnectMode::SessionLess).await
                }
                other => other,
            },
        }
    }

    async fn connect_with(&mut self, mode: ConnectMode) -> Result<(), Silent> {
        let password = self.options.password.clone().unwrap_or_default();
        let frame = self
            .session
            .connect(mode, password.as_bytes())
            .map_err(|e| Silent::Other(e.into()))?;
        let timeout = self.options.connect_timeout;
        match self.exchange(frame, timeout).await {
            Ok(_) => {
                tracing::debug!(session = ?self.session.session_id(), ?mode, "panel connected");
                Ok(())
            }
            Err(Error::Refused {
                code: ErrorCode::WrongPassword,
                ..
            }) => Err(Silent::Other(Error::WrongPassword {
                password_sent: !password.is_empty(),
            })),
            Err(Error::Refused {
                code: ErrorCode::NotAuthorized,
                command,
            }) => Err(Silent::Other(Error::Busy {
                detail: format!("the panel refused {command} with -8 (connection not authorized)"),
            })),
            Err(Error::Closed { .. }) => Err(Silent::Closed),
            Err(e) => Err(Silent::Other(e)),
        }
    }

    /// Sends a disconnect (0x02), waits for its acknowledgement and closes
    /// the connection.
    ///
    /// ```no_run
    /// # async fn run(panel: zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.disconnect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn disconnect(mut self) -> Result<(), Error> {
        let r = self.call(Command::Disconnect, &[]).await;
        self.closed = true;
        let _ = self.framed.get_mut().shutdown().await;
        r.map(|_| ())
    }

    /// The peer address (when connected by address).
    ///
    /// ```no_run
    /// # fn f(panel: &zkproto::panel::client::Client) {
    /// println!("{:?}", panel.peer());
    /// # }
    /// ```
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The session id, when connected with the session connect (0x76);
    /// `None` on session-less firmware.
    ///
    /// ```no_run
    /// # fn f(panel: &zkproto::panel::client::Client) {
    /// if panel.session_id().is_none() { println!("old firmware: no session header"); }
    /// # }
    /// ```
    pub fn session_id(&self) -> Option<u16> {
        self.session.session_id()
    }

    /// The options in use.
    ///
    /// ```no_run
    /// # fn f(panel: &zkproto::panel::client::Client) {
    /// println!("{:?}", panel.options());
    /// # }
    /// ```
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether the connection is unusable (closed by either side, or a
    /// session-less connection whose replies can no longer be matched).
    ///
    /// ```no_run
    /// # fn f(panel: &zkproto::panel::client::Client) {
    /// assert!(!panel.is_closed());
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Sends any request and returns the reply data after the session
    /// header (big-data results are collected); `C9` becomes
    /// [`Error::Refused`].
    ///
    /// ```no_run
    /// use zkproto::panel::Command;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let text = panel.call(Command::GetDeviceParam, b"LockCount").await?;
    /// assert!(text.starts_with(b"LockCount="));
    /// # Ok(()) }
    /// ```
    pub async fn call(&mut self, command: Command, payload: &[u8]) -> Result<Bytes, Error> {
        self.prepare()?;
        let frame = self.session.request(command, payload)?;
        let reply = self.exchange(frame, self.options.timeout).await?;
        match reply.kind {
            ReplyKind::BigData => self.read_big(&reply.payload).await,
            _ => Ok(reply.payload),
        }
    }

    /// The table structure (0x06), fetched once per connection.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for t in &panel.table_structure().await?.tables {
    ///     println!("{} = {}", t.name, t.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn table_structure(&mut self) -> Result<&TableStructure, Error> {
        let structure = match self.structure.take() {
            Some(s) => s,
            None => {
                let text = self.call(Command::GetTableStruct, &[]).await?;
                TableStructure::parse(&text)?
            }
        };
        Ok(self.structure.insert(structure))
    }

    /// Housekeeping before a request: frames already buffered are late
    /// replies (dropped); a peer that closed is reported.
    fn prepare(&mut self) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed {
                during: "a request on a closed client (reconnect)".into(),
            });
        }
        while let Some(item) = self.framed.next().now_or_never() {
            match item {
                Some(Ok(f)) => {
                    tracing::debug!(command = %f.command, len = f.data.len(), "dropping a late frame")
                }
                Some(Err(e)) => {
                    self.closed = true;
                    return Err(e.into());
                }
                None => {
                    self.closed = true;
                    return Err(Error::Busy {
                        detail: "the panel closed the connection while it was idle \
                                 (another client connected, or the panel restarted)"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Sends a request frame and waits for the reply that matches it, until
    /// the session's deadline: the session decides what a frame means and
    /// when the wait is over; this loop moves bytes and sleeps.
    async fn exchange(
        &mut self,
        frame: Frame,
        timeout: Duration,
    ) -> Result<crate::panel::session::Reply, Error> {
        let command = frame.command;
        tracing::trace!(%command, len = frame.data.len(), "panel request");
        if let Err(e) = self.framed.send(frame).await {
            self.closed = true;
            return Err(e.into());
        }
        self.session.handle_sent(now(), timeout);
        loop {
            if let Err(e) = self.session.handle_timeout(now()) {
                if self.session.session_id().is_none() {
                    // Without a session header a late reply could be taken
                    // for the answer to the next request.
                    self.closed = true;
                }
                return Err(e.into());
            }
            let Some(deadline) = self.session.deadline() else {
                return Err(Error::Closed {
                    during: format!(
                        "waiting for the reply to {} (no request outstanding)",
                        command.name()
                    ),
                });
            };
            let next = tokio::time::timeout_at(deadline.into(), self.framed.next()).await;
            let frame = match next {
                Err(_) => continue, // the deadline passed: handle_timeout reports it
                Ok(None) => {
                    self.closed = true;
                    if matches!(command, Command::Connect | Command::ConnectSession) {
                        return Err(Error::Closed {
                            during: format!("waiting for the reply to {}", command.name()),
                        });
                    }
                    return Err(Error::Busy {
                        detail: format!(
                            "the panel closed the connection instead of answering {} \
                             (another client connected, or the panel restarted)",
                            command.name()
                        ),
                    });
                }
                Ok(Some(Err(e))) => {
                    self.closed = true;
                    return Err(e.into());
                }
                Ok(Some(Ok(f))) => f,
            };
            tracing::trace!(reply = %frame.command, len = frame.data.len(), "panel reply");
            match self.session.handle_reply(&frame) {
                Ok(r) => return Ok(r),
                Err(e) if e.is_stale() => {
                    tracing::debug!(error = %e, "dropping a stale reply");
                }
                Err(ReplyError::Unsolicited { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Releases the panel's big-data buffer (0x0F).
    async fn free_big(&mut self) -> Result<(), Error> {
        let frame = self.session.request(Command::FreeData, &[])?;
        self.exchange(frame, self.options.timeout).await.map(|_| ())
    }

    /// Collects a big-data result (§5.6): 0x0E chunk reads driven by the
    /// sans-IO [`BigDataReader`], then 0x0F.
    async fn read_big(&mut self, announce: &[u8]) -> Result<Bytes, Error> {
        let mut reader = match BigDataReader::new(announce, self.options.max_result) {
            Ok(r) => r,
            Err(e) => {
                if matches!(
                    e,
                    BigDataError::TooLarge { .. } | BigDataError::Compressed { .. }
                ) {
                    let _ = self.free_big().await;
                }
                return Err(e.into());
            }
        };
        while let Some(request) = reader.next_request() {
            let frame = self.session.request(Command::ReadData, &request)?;
            let reply = self.exchange(frame, self.options.timeout).await?;
            reader.handle_chunk(reply.payload)?;
        }
        if let Err(e) = self.free_big().await {
            tracing::debug!(error = %e, "free big data refused (ignored)");
        }
        Ok(reader.finish()?)
    }
}

/// The client's clock: tokio's, so that deadlines and timers agree under
/// paused time in tests.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if let Ok(frame) = self.session.disconnect()
            && frame.encode_to(self.framed.write_buffer_mut()).is_ok()
        {
            let _ = SinkExt::<Frame>::flush(&mut self.framed).now_or_never();
        }
    }
}

/// The peer closed the connection on the panel connect without a byte:
/// a standalone terminal does that (§10). Confirm with its own connect on a
/// fresh connection.
async fn closed_on_connect(peer: SocketAddr, options: &Options) -> Error {
    let busy = Error::Busy {
        detail: format!("{peer} closed the connection on connect without answering"),
    };
    if !options.detect_terminal {
        return busy;
    }
    match crate::detect::probe::is_terminal(peer, options.connect_timeout).await {
        true => Error::NotAPanel {
            what: format!(
                "{peer} is a standalone ZKTeco terminal (it closed on the C3 connect and answered \
                 the terminal CMD_CONNECT with 50 50 82 7d); use zkproto::terminal::client"
            ),
        },
        false => busy,
    }
}
