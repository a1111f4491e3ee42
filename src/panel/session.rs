//! The 4-byte session header and a sans-IO client session (reference §2).
//!
//! After a successful session connect (0x76) every request and every reply
//! starts its data with `session id u16 LE | message number u16 LE`; the panel
//! echoes both, which lets a client drop late replies. Firmware without 0x76
//! answers −13; the client then connects with 0x01 and frames carry no header.
//!
//! [`PanelSession`] builds request frames, matches replies and keeps the
//! deadline of the outstanding request; [`BigDataReader`] reassembles a
//! result sent in chunks (§5.6). Neither performs I/O or reads a clock: an
//! async client or a test drives them, passing `now` in.
//!
//! Deadlines follow one rule: only progress extends the wait. A request's
//! reply is due `timeout` after it was sent ([`PanelSession::handle_sent`]);
//! stale replies and unsolicited frames move nothing; once the deadline
//! passes, [`PanelSession::handle_timeout`] abandons the request.
//!
//! ```
//! use zkproto::panel::session::{ConnectMode, PanelSession};
//! use zkproto::panel::{Command, Frame};
//!
//! let mut s = PanelSession::new();
//! let connect = s.connect(ConnectMode::Session, b"").unwrap();
//! assert_eq!(&connect.to_bytes().unwrap()[..],
//!            &[0xaa, 0x01, 0x76, 0x04, 0x00, 0xfe, 0xfe, 0xfe, 0xfe, 0x46, 0x77, 0x55]);
//! // The panel assigns session 0x2014 and echoes message 0xfefe.
//! let reply = Frame::new(1, Command::AckOk, &[0x14, 0x20, 0xfe, 0xfe][..]);
//! s.handle_reply(&reply).unwrap();
//! assert_eq!(s.session_id(), Some(0x2014));
//!
//! let req = s.request(Command::GetRtLog, &[]).unwrap();
//! assert_eq!(&req.data[..], &[0x14, 0x20, 0xff, 0xfe]);
//! let reply = Frame::new(1, Command::AckOk, &[0x14, 0x20, 0xff, 0xfe, 0x01][..]);
//! assert_eq!(&s.handle_reply(&reply).unwrap().payload[..], &[0x01]);
//! ```

use super::command::{Command, ErrorCode};
use super::error::{DecodeError, EncodeError};
use super::frame::{DEFAULT_ADDRESS, Frame, MAX_DATA};
use bytes::{BufMut, Bytes, BytesMut};
use std::time::{Duration, Instant};
use thiserror::Error;

mod transfer;

pub use transfer::BigDataReader;

/// The session header: session id and message number ("reply id").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionHeader {
    /// Session id assigned by the panel in the connect reply.
    pub session_id: u16,
    /// Message number, incremented by the client for every request.
    pub message: u16,
}

impl SessionHeader {
    /// Encoded length.
    pub const LEN: usize = 4;

    /// A header from its parts.
    pub const fn new(session_id: u16, message: u16) -> Self {
        SessionHeader {
            session_id,
            message,
        }
    }

    /// The 4 wire bytes.
    ///
    /// ```
    /// use zkproto::panel::SessionHeader;
    /// assert_eq!(SessionHeader::new(0x8ad1, 3).to_bytes(), [0xd1, 0x8a, 0x03, 0x00]);
    /// ```
    pub const fn to_bytes(self) -> [u8; 4] {
        let s = self.session_id.to_le_bytes();
        let m = self.message.to_le_bytes();
        [s[0], s[1], m[0], m[1]]
    }

    /// Appends the 4 wire bytes.
    pub fn encode_to(self, dst: &mut impl BufMut) {
        dst.put_slice(&self.to_bytes());
    }

    /// Reads a header from the start of `data`; returns it and the rest.
    ///
    /// ```
    /// use zkproto::panel::SessionHeader;
    /// let (h, rest) = SessionHeader::parse(&[0x50, 0xa7, 0xfe, 0xfe, 0xf2]).unwrap();
    /// assert_eq!(h, SessionHeader::new(0xa750, 0xfefe));
    /// assert_eq!(rest, &[0xf2]);
    /// ```
    pub fn parse(data: &[u8]) -> Result<(SessionHeader, &[u8]), DecodeError> {
        let Some((h, rest)) = data.split_first_chunk::<4>() else {
            return Err(DecodeError::Truncated {
                what: "session header",
                need: 4,
                got: data.len(),
            });
        };
        Ok((
            SessionHeader {
                session_id: u16::from_le_bytes([h[0], h[1]]),
                message: u16::from_le_bytes([h[2], h[3]]),
            },
            rest,
        ))
    }

    /// The header of the next message in the same session.
    pub const fn next(self) -> Self {
        SessionHeader {
            session_id: self.session_id,
            message: self.message.wrapping_add(1),
        }
    }
}

/// Which connect command to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ConnectMode {
    /// 0x76: session header on every frame (newer firmware).
    Session,
    /// 0x01: no session header (older firmware; fallback after −13).
    SessionLess,
}

/// Connection state of a [`PanelSession`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SessionState {
    /// Not connected.
    Disconnected,
    /// A connect request is outstanding.
    Connecting(ConnectMode),
    /// Connected; frames carry a header with this session id.
    Session {
        /// The session id.
        session_id: u16,
    },
    /// Connected without a session header.
    SessionLess,
}

/// What a reply frame carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplyKind {
    /// `C8`: the result follows (possibly empty).
    Ok,
    /// `0D`: the result is too large for one frame; the payload is the
    /// 17-byte big-data announcement (§5.6).
    BigData,
}

/// A reply matched to the outstanding request.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// The request this reply answers.
    pub command: Command,
    /// OK or big data.
    pub kind: ReplyKind,
    /// The echoed session header, in session mode.
    pub header: Option<SessionHeader>,
    /// The result data after the header.
    pub payload: Bytes,
}

impl core::fmt::Debug for Reply {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reply")
            .field("command", &self.command)
            .field("kind", &self.kind)
            .field("header", &self.header)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// The outstanding request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    command: Command,
    header: Option<SessionHeader>,
    /// When the reply is due and how long was allowed, once sent.
    due: Option<(Instant, Duration)>,
}

/// Sans-IO client side of a panel connection: builds request frames with the
/// session header and message numbers, and matches replies to the one
/// outstanding request (the panel does not pipeline, §1.3).
///
/// A new request replaces an outstanding one (for example after a timeout);
/// in session mode a late reply to the abandoned request is then reported as
/// [`ReplyError::Stale`] and should be dropped.
///
/// Time: after writing a request, call [`handle_sent`](Self::handle_sent)
/// with `now` and the caller's timeout; wait for bytes until
/// [`deadline`](Self::deadline), then call
/// [`handle_timeout`](Self::handle_timeout).
///
/// ```
/// use std::time::{Duration, Instant};
/// use zkproto::panel::{Command, Frame, PanelSession, ReplyError, session::ConnectMode};
/// let (t0, sec) = (Instant::now(), Duration::from_secs(1));
/// let mut s = PanelSession::new();
/// s.connect(ConnectMode::SessionLess, b"").unwrap();
/// s.handle_sent(t0, sec);
/// assert_eq!(s.deadline(), Some(t0 + sec));
/// assert_eq!(s.handle_timeout(t0 + sec / 2), Ok(())); // not yet
/// assert_eq!(s.handle_timeout(t0 + sec),
///            Err(ReplyError::TimedOut { command: Command::Connect, after: sec }));
/// assert_eq!((s.pending(), s.deadline()), (None, None));
/// ```
#[derive(Clone, Debug)]
pub struct PanelSession {
    address: u8,
    state: SessionState,
    connect_session_id: u16,
    next_message: u16,
    pending: Option<Pending>,
}

impl Default for PanelSession {
    fn default() -> Self {
        Self::new()
    }
}

impl PanelSession {
    /// Message number and session id sent with the session connect by default
    /// (the values of the captured frame A1).
    pub const DEFAULT_CONNECT_HEADER: SessionHeader = SessionHeader::new(0xfefe, 0xfefe);

    /// A disconnected session for TCP/UDP (address byte `01`).
    pub fn new() -> Self {
        PanelSession {
            address: DEFAULT_ADDRESS,
            state: SessionState::Disconnected,
            connect_session_id: Self::DEFAULT_CONNECT_HEADER.session_id,
            next_message: Self::DEFAULT_CONNECT_HEADER.message,
            pending: None,
        }
    }

    /// Uses another address byte (the RS485 DIP-switch address).
    pub fn with_address(mut self, address: u8) -> Self {
        self.address = address;
        self
    }

    /// Sets the header sent with the session connect; the message number also
    /// starts the count for later requests.
    pub fn with_connect_header(mut self, header: SessionHeader) -> Self {
        self.connect_session_id = header.session_id;
        self.next_message = header.message;
        self
    }

    /// The address byte written into requests.
    pub fn address(&self) -> u8 {
        self.address
    }

    /// The connection state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The session id, when connected in session mode.
    pub fn session_id(&self) -> Option<u16> {
        match self.state {
            SessionState::Session { session_id } => Some(session_id),
            _ => None,
        }
    }

    /// True once a connect succeeded (either mode).
    pub fn is_connected(&self) -> bool {
        matches!(
            self.state,
            SessionState::Session { .. } | SessionState::SessionLess
        )
    }

    /// The message number the next request will carry.
    pub fn next_message(&self) -> u16 {
        self.next_message
    }

    /// The command of the outstanding request, if any.
    pub fn pending(&self) -> Option<Command> {
        self.pending.map(|p| p.command)
    }

    /// Forgets the connection (after EOF, a reset or a closed socket).
    pub fn reset(&mut self) {
        self.state = SessionState::Disconnected;
        self.pending = None;
    }

    /// Builds a connect request. The password travels in clear text (§2.1);
    /// send an empty one when the panel has none.
    pub fn connect(&mut self, mode: ConnectMode, password: &[u8]) -> Result<Frame, EncodeError> {
        let (command, header) = match mode {
            ConnectMode::Session => (
                Command::ConnectSession,
                Some(SessionHeader::new(
                    self.connect_session_id,
                    self.next_message,
                )),
            ),
            ConnectMode::SessionLess => (Command::Connect, None),
        };
        let frame = self.build(command, header, password)?;
        if header.is_some() {
            self.next_message = self.next_message.wrapping_add(1);
        }
        self.state = SessionState::Connecting(mode);
        self.pending = Some(Pending {
            command,
            header,
            due: None,
        });
        Ok(frame)
    }

    /// Builds a request in the current mode: with the session header and the
    /// next message number in session mode, bare otherwise.
    pub fn request(&mut self, command: Command, payload: &[u8]) -> Result<Frame, EncodeError> {
        let header = self
            .session_id()
            .map(|sid| SessionHeader::new(sid, self.next_message));
        let frame = self.build(command, header, payload)?;
        if header.is_some() {
            self.next_message = self.next_message.wrapping_add(1);
        }
        self.pending = Some(Pending {
            command,
            header,
            due: None,
        });
        Ok(frame)
    }

    /// The outstanding request went out at `now`: its reply is due within
    /// `timeout`. Nothing but the reply itself ends the wait; a stale reply
    /// does not extend it. Without an outstanding request this does nothing.
    pub fn handle_sent(&mut self, now: Instant, timeout: Duration) {
        if let Some(p) = &mut self.pending {
            // A timeout beyond the clock's range waits "for ever" (decades).
            let at = now
                .checked_add(timeout)
                .or_else(|| now.checked_add(Duration::from_secs(1 << 30)))
                .unwrap_or(now);
            p.due = Some((at, timeout));
        }
    }

    /// When the reply to the outstanding request is due (`None` when no
    /// request is outstanding or it was not marked sent).
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.and_then(|p| p.due).map(|(at, _)| at)
    }

    /// Checks the deadline at `now`: once it has passed, the request is
    /// abandoned and [`ReplyError::TimedOut`] returned. In session mode a late
    /// reply is then recognised as stale; without a session header it could
    /// be taken for the answer to the next request, so a client should close
    /// the connection.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ReplyError> {
        match self.pending {
            Some(Pending {
                command,
                due: Some((at, after)),
                ..
            }) if now >= at => {
                self.pending = None;
                Err(ReplyError::TimedOut { command, after })
            }
            _ => Ok(()),
        }
    }

    /// Builds a disconnect request (0x02).
    pub fn disconnect(&mut self) -> Result<Frame, EncodeError> {
        self.request(Command::Disconnect, &[])
    }

    fn build(
        &self,
        command: Command,
        header: Option<SessionHeader>,
        payload: &[u8],
    ) -> Result<Frame, EncodeError> {
        let len = payload.len() + header.map_or(0, |_| SessionHeader::LEN);
        if len > MAX_DATA {
            return Err(EncodeError::TooLong {
                what: "request data",
                len,
                max: MAX_DATA,
            });
        }
        let mut data = BytesMut::with_capacity(len);
        if let Some(h) = header {
            h.encode_to(&mut data);
        }
        data.put_slice(payload);
        Ok(Frame::new(self.address, command, data.freeze()))
    }

    /// Matches a reply frame to the outstanding request.
    ///
    /// * `C8` → [`Reply`] with the payload after the session header;
    /// * `C9` → [`ReplyError::Device`] (the session connect's −13 means "use
    ///   0x01", see [`ReplyError::is_session_unsupported`]);
    /// * `0D` → [`ReplyKind::BigData`];
    /// * a header that does not echo the request → [`ReplyError::Stale`]; the
    ///   request stays outstanding, keep reading.
    ///
    /// The address byte is not checked (see the codec for RS485).
    pub fn handle_reply(&mut self, frame: &Frame) -> Result<Reply, ReplyError> {
        let Some(pending) = self.pending else {
            return Err(ReplyError::Unsolicited {
                code: frame.command,
            });
        };
        let command = pending.command;
        let kind = match frame.command {
            Command::AckOk => Some(ReplyKind::Ok),
            Command::PrepareData => Some(ReplyKind::BigData),
            Command::AckError => None,
            other => {
                return Err(ReplyError::UnexpectedCode {
                    command,
                    code: other,
                });
            }
        };
        let connecting_session = command == Command::ConnectSession;
        let data: &[u8] = &frame.data;
        // A C9 of exactly one byte carries no header, even in session mode (A3).
        let (header, rest) = match pending.header {
            Some(_) if kind.is_none() && data.len() == 1 => (None, data),
            Some(_) => match SessionHeader::parse(data) {
                Ok((h, rest)) => (Some(h), rest),
                Err(_) => {
                    return Err(ReplyError::MissingHeader {
                        command,
                        len: data.len(),
                    });
                }
            },
            None => (None, data),
        };
        if let (Some(expected), Some(received)) = (pending.header, header) {
            // The connect reply carries the newly assigned session id.
            let sid_ok = connecting_session || received.session_id == expected.session_id;
            if !sid_ok || received.message != expected.message {
                return Err(ReplyError::Stale { expected, received });
            }
        }
        self.pending = None;
        let Some(kind) = kind else {
            let &[code] = rest else {
                return Err(ReplyError::MalformedError {
                    command,
                    len: data.len(),
                });
            };
            // Old firmware answers a successful 0x19 with C9 and code 0 (§5.2).
            if command == Command::GetDataOk && code == 0 {
                return Ok(Reply {
                    command,
                    kind: ReplyKind::Ok,
                    header,
                    payload: Bytes::new(),
                });
            }
            if matches!(
                command,
                Command::Connect | Command::ConnectSession | Command::Disconnect
            ) {
                self.state = SessionState::Disconnected;
            }
            return Err(ReplyError::Device {
                command,
                code: ErrorCode::from_byte(code),
            });
        };
        match command {
            Command::ConnectSession => {
                if let Some(h) = header {
                    self.state = SessionState::Session {
                        session_id: h.session_id,
                    };
                }
            }
            Command::Connect => self.state = SessionState::SessionLess,
            Command::Disconnect => self.state = SessionState::Disconnected,
            _ => {}
        }
        let offset = data.len() - rest.len();
        let payload = frame.data.slice(offset..);
        Ok(Reply {
            command,
            kind,
            header,
            payload,
        })
    }
}

/// A reply did not answer the outstanding request, or reported a device error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The panel answered `C9` with an error code. The request is over;
    /// the connection stays usable (except after a refused connect).
    #[error("panel refused {command}: {code}")]
    Device {
        /// The request command.
        command: Command,
        /// The error code.
        code: ErrorCode,
    },
    /// The reply's session header does not echo the outstanding request: a late
    /// reply to an earlier request. Drop it and keep reading.
    #[error("stale reply: expected session {:#06x} message {:#06x}, got session {:#06x} message {:#06x}",
        expected.session_id, expected.message, received.session_id, received.message)]
    Stale {
        /// The header of the outstanding request.
        expected: SessionHeader,
        /// The header in the reply.
        received: SessionHeader,
    },
    /// A reply arrived while no request was outstanding (typically the late
    /// answer to an abandoned request). Drop it.
    #[error("unsolicited reply with code {code}")]
    Unsolicited {
        /// The reply's command byte.
        code: Command,
    },
    /// In session mode the reply has no room for the 4-byte session header.
    /// The request stays outstanding: keep reading until the deadline.
    #[error("reply to {command} has {len} data bytes, too short for the session header")]
    MissingHeader {
        /// The request command.
        command: Command,
        /// Data length of the reply.
        len: usize,
    },
    /// A `C9` reply without exactly one error byte (after the header, if any).
    /// The request is over without a result: retry.
    #[error("malformed error reply to {command}: {len} data bytes")]
    MalformedError {
        /// The request command.
        command: Command,
        /// Data length of the reply.
        len: usize,
    },
    /// No reply arrived before the deadline ([`PanelSession::handle_timeout`]);
    /// the request was abandoned. Retry, or reconnect if it keeps happening.
    #[error("no reply to {command} within {after:?}")]
    TimedOut {
        /// The request command.
        command: Command,
        /// The time allowed.
        after: Duration,
    },
    /// The reply code is neither `C8`, `C9` nor `0D`. The request stays
    /// outstanding: keep reading until the deadline.
    #[error("unexpected reply code {code} to {command}")]
    UnexpectedCode {
        /// The request command.
        command: Command,
        /// The reply's command byte.
        code: Command,
    },
}

impl ReplyError {
    /// True when the reply is a late answer to an earlier request (drop it, read on).
    pub fn is_stale(&self) -> bool {
        matches!(self, ReplyError::Stale { .. })
    }

    /// True when a session connect (0x76) was refused as unknown (−13):
    /// the firmware only knows the session-less connect (0x01).
    pub fn is_session_unsupported(&self) -> bool {
        matches!(
            self,
            ReplyError::Device {
                command: Command::ConnectSession,
                code: ErrorCode::CommandNotAvailable
            }
        )
    }

    /// The device error code, if the panel answered `C9`.
    pub fn device_code(&self) -> Option<ErrorCode> {
        match self {
            ReplyError::Device { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(data: &[u8]) -> Frame {
        Frame::new(1, Command::AckOk, Bytes::copy_from_slice(data))
    }

    #[test]
    fn fallback_to_session_less() {
        let mut s = PanelSession::new();
        s.connect(ConnectMode::Session, b"").unwrap();
        let err = s
            .handle_reply(&Frame::new(1, Command::AckError, &[0xf3][..]))
            .unwrap_err();
        assert!(err.is_session_unsupported(), "{err}");
        assert_eq!(s.state(), SessionState::Disconnected);
        let f = s.connect(ConnectMode::SessionLess, b"").unwrap();
        assert_eq!(
            &f.to_bytes().unwrap()[..],
            &[0xaa, 0x01, 0x01, 0x00, 0x00, 0x50, 0x3c, 0x55]
        );
        s.handle_reply(&ok(&[])).unwrap();
        assert_eq!(s.state(), SessionState::SessionLess);
        let req = s.request(Command::GetRtLog, &[]).unwrap();
        assert!(req.data.is_empty());
    }

    #[test]
    fn wrong_password_in_session_mode() {
        let mut s = PanelSession::new();
        s.connect(ConnectMode::Session, b"1234").unwrap();
        let err = s.handle_reply(&Frame::new(
            1,
            Command::AckError,
            &[0x50, 0xa7, 0xfe, 0xfe, 0xf2][..],
        ));
        assert_eq!(
            err,
            Err(ReplyError::Device {
                command: Command::ConnectSession,
                code: ErrorCode::WrongPassword
            })
        );
        assert!(!s.is_connected());
    }

    #[test]
    fn stale_reply_is_reported_and_request_stays_pending() {
        let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 10));
        s.connect(ConnectMode::Session, b"").unwrap();
        s.handle_reply(&ok(&[0x01, 0x02, 10, 0])).unwrap();
        s.request(Command::GetRtLog, &[]).unwrap(); // message 11, abandoned
        s.request(Command::GetRtLog, &[]).unwrap(); // message 12
        let late = s.handle_reply(&ok(&[0x01, 0x02, 11, 0])).unwrap_err();
        assert!(late.is_stale());
        assert_eq!(s.pending(), Some(Command::GetRtLog));
        let wrong_sid = s.handle_reply(&ok(&[0x09, 0x02, 12, 0])).unwrap_err();
        assert!(wrong_sid.is_stale());
        assert!(s.handle_reply(&ok(&[0x01, 0x02, 12, 0])).is_ok());
        assert_eq!(s.pending(), None);
        assert!(matches!(
            s.handle_reply(&ok(&[0x01, 0x02, 12, 0])),
            Err(ReplyError::Unsolicited { .. })
        ));
    }

    #[test]
    fn missing_header_and_odd_codes() {
        let mut s = PanelSession::new();
        s.connect(ConnectMode::Session, b"").unwrap();
        s.handle_reply(&ok(&[0x01, 0x02, 0xfe, 0xfe])).unwrap();
        s.request(Command::GetRtLog, &[]).unwrap();
        assert_eq!(
            s.handle_reply(&ok(&[0x01])),
            Err(ReplyError::MissingHeader {
                command: Command::GetRtLog,
                len: 1
            })
        );
        assert!(matches!(
            s.handle_reply(&Frame::new(1, Command::Connect, Bytes::new())),
            Err(ReplyError::UnexpectedCode { .. })
        ));
        assert!(matches!(
            s.handle_reply(&Frame::new(
                1,
                Command::AckError,
                &[0x01, 0x02, 0xff, 0xfe, 1, 2][..]
            )),
            Err(ReplyError::MalformedError { len: 6, .. })
        ));
    }

    #[test]
    fn deadline_is_kept_by_stale_replies_and_ends_with_the_reply() {
        let (t0, sec) = (Instant::now(), Duration::from_secs(2));
        let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 10));
        s.connect(ConnectMode::Session, b"").unwrap();
        assert_eq!(s.deadline(), None, "not sent yet");
        s.handle_sent(t0, sec);
        s.handle_reply(&ok(&[0x01, 0x02, 10, 0])).unwrap();
        assert_eq!(s.deadline(), None, "answered");
        s.request(Command::GetRtLog, &[]).unwrap(); // message 11
        s.handle_sent(t0 + sec, sec);
        // A late reply to another message moves nothing.
        assert!(
            s.handle_reply(&ok(&[0x01, 0x02, 9, 0]))
                .unwrap_err()
                .is_stale()
        );
        assert_eq!(s.deadline(), Some(t0 + 2 * sec));
        assert_eq!(
            s.handle_timeout(t0 + 2 * sec - Duration::from_millis(1)),
            Ok(())
        );
        assert_eq!(
            s.handle_timeout(t0 + 2 * sec),
            Err(ReplyError::TimedOut {
                command: Command::GetRtLog,
                after: sec
            })
        );
        // The abandoned request's reply is now unsolicited; a new request
        // recognises it as stale.
        assert!(matches!(
            s.handle_reply(&ok(&[0x01, 0x02, 11, 0])),
            Err(ReplyError::Unsolicited { .. })
        ));
        s.request(Command::GetRtLog, &[]).unwrap();
        assert!(
            s.handle_reply(&ok(&[0x01, 0x02, 11, 0]))
                .unwrap_err()
                .is_stale()
        );
        // A device error also ends the wait.
        s.handle_sent(t0, sec);
        assert!(
            s.handle_reply(&Frame::new(
                1,
                Command::AckError,
                &[0x01, 0x02, 12, 0, 0xfe][..]
            ))
            .is_err()
        );
        assert_eq!((s.pending(), s.deadline()), (None, None));
        assert_eq!(s.handle_timeout(t0 + 10 * sec), Ok(()));
        // An unbounded timeout neither overflows nor expires at once.
        s.request(Command::GetRtLog, &[]).unwrap();
        s.handle_sent(t0, Duration::MAX);
        assert!(s.deadline().is_some_and(|d| d > t0 + 365 * 86_400 * sec));
        assert_eq!(s.handle_timeout(t0 + 86_400 * sec), Ok(()));
    }

    /// A whole big-data exchange on wire bytes, no socket: the session
    /// builds the `0E`/`0F` requests with their headers, the reader checks
    /// every chunk and the CRC-32, and the deadline follows each request.
    #[test]
    fn big_data_exchange_on_bytes() {
        use crate::panel::bigdata::Announce;
        use crate::panel::crc::crc32;
        let data = b"user=1,Pin=i1\ntransaction=5,Pin=i1\n";
        let (t0, sec) = (Instant::now(), Duration::from_secs(1));
        let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0xfefe, 1));
        let wire = |f: Frame| f.to_bytes().unwrap();
        let reply = |h: SessionHeader, code: Command, payload: &[u8]| {
            let mut d = h.to_bytes().to_vec();
            d.extend_from_slice(payload);
            Frame::new(1, code, d).to_bytes().unwrap()
        };
        s.connect(ConnectMode::Session, b"").unwrap();
        s.handle_reply(
            &Frame::decode(&reply(SessionHeader::new(7, 1), Command::AckOk, &[])).unwrap(),
        )
        .unwrap();
        let req = wire(s.request(Command::GetTableStruct, &[]).unwrap());
        // CRC-16/ARC 0x5ca6 computed independently of the crate.
        assert_eq!(
            &req[..],
            &[0xaa, 0x01, 0x06, 0x04, 0x00, 7, 0, 2, 0, 0xa6, 0x5c, 0x55]
        );
        s.handle_sent(t0, sec);
        let len = u32::try_from(data.len()).unwrap();
        let announce = Announce {
            compressed: 0,
            transfer_len: len,
            original_len: len,
            crc32: crc32(data),
            max_chunk: 16,
        };
        let r = s
            .handle_reply(
                &Frame::decode(&reply(
                    SessionHeader::new(7, 2),
                    Command::PrepareData,
                    &announce.encode(),
                ))
                .unwrap(),
            )
            .unwrap();
        assert_eq!(r.kind, ReplyKind::BigData);
        let mut reader = BigDataReader::new(&r.payload, 1024).unwrap();
        let mut message = 3;
        let mut at = t0;
        while let Some(offset) = reader.next_request() {
            let req = Frame::decode(&wire(s.request(Command::ReadData, &offset).unwrap())).unwrap();
            assert_eq!(
                &req.data[..],
                &[&[7, 0, message, 0][..], &offset[..]].concat()[..]
            );
            at += sec / 2;
            s.handle_sent(at, sec);
            assert_eq!(s.deadline(), Some(at + sec));
            let start = u32::from_le_bytes(offset) as usize;
            let end = (start + 16).min(data.len());
            let mut payload = offset.to_vec();
            payload.extend_from_slice(&data[start..end]);
            let bytes = reply(
                SessionHeader::new(7, u16::from(message)),
                Command::AckOk,
                &payload,
            );
            let r = s.handle_reply(&Frame::decode(&bytes).unwrap()).unwrap();
            assert_eq!(reader.handle_chunk(r.payload), Ok(end - start));
            message += 1;
        }
        assert_eq!(message, 6, "three chunks of at most 16 bytes");
        let free = Frame::decode(&wire(s.request(Command::FreeData, &[]).unwrap())).unwrap();
        assert_eq!(free.command, Command::FreeData);
        assert_eq!(&reader.finish().unwrap()[..], &data[..]);
    }

    #[test]
    fn get_data_ok_quirk() {
        let mut s = PanelSession::new();
        s.connect(ConnectMode::SessionLess, b"").unwrap();
        s.handle_reply(&ok(&[])).unwrap();
        s.request(Command::GetDataOk, &[5]).unwrap();
        let r = s
            .handle_reply(&Frame::new(1, Command::AckError, &[0][..]))
            .unwrap();
        assert_eq!(r.kind, ReplyKind::Ok);
    }

    #[test]
    fn message_number_wraps() {
        let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0, 0xffff));
        s.connect(ConnectMode::Session, b"").unwrap();
        s.handle_reply(&ok(&[7, 0, 0xff, 0xff])).unwrap();
        let f = s.request(Command::GetRtLog, &[]).unwrap();
        assert_eq!(&f.data[..], &[7, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn header_round_trip(sid: u16, msg: u16, rest in proptest::collection::vec(any::<u8>(), 0..8)) {
            let h = SessionHeader::new(sid, msg);
            let mut b = h.to_bytes().to_vec();
            b.extend_from_slice(&rest);
            let (g, r) = SessionHeader::parse(&b).unwrap();
            prop_assert_eq!(g, h);
            prop_assert_eq!(r, &rest[..]);
            prop_assert_eq!(g.to_bytes(), h.to_bytes());
        }

        #[test]
        fn echo_matches(start: u16, sid: u16, n in 1usize..20, payload in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut s = PanelSession::new().with_connect_header(SessionHeader::new(0xfefe, start));
            let c = s.connect(ConnectMode::Session, b"").unwrap();
            let (h, _) = SessionHeader::parse(&c.data).unwrap();
            let mut reply = SessionHeader::new(sid, h.message).to_bytes().to_vec();
            s.handle_reply(&ok(&reply)).unwrap();
            for _ in 0..n {
                let req = s.request(Command::GetDeviceParam, b"LockCount").unwrap();
                let (h, _) = SessionHeader::parse(&req.data).unwrap();
                prop_assert_eq!(h.session_id, sid);
                reply = h.to_bytes().to_vec();
                reply.extend_from_slice(&payload);
                let r = s.handle_reply(&ok(&reply)).unwrap();
                prop_assert_eq!(&r.payload[..], &payload[..]);
                prop_assert_eq!(r.header, Some(h));
            }
            prop_assert_eq!(s.next_message(), start.wrapping_add(1).wrapping_add(u16::try_from(n).unwrap()));
        }
    }
}
