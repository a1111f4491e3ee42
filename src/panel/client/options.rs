//! Connection options of the panel client.

use crate::panel::frame::{DEFAULT_ADDRESS, MAX_DATA};
use std::time::Duration;

/// Which connect command to use (reference §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConnectStrategy {
    /// Session connect (0x76), falling back to the session-less 0x01 when the
    /// firmware answers −13 "command not available".
    #[default]
    Auto,
    /// Session connect only.
    Session,
    /// Session-less connect (0x01) only.
    SessionLess,
}

/// Options of a panel [`Client`](super::Client), built with chained setters.
///
/// `Debug` never shows the communication password.
///
/// ```
/// use std::time::Duration;
/// use zkproto::panel::client::{ConnectStrategy, Options};
/// let o = Options::new()
///     .password("8877")
///     .timeout(Duration::from_secs(2))
///     .poll_interval(Duration::from_millis(250))
///     .connect_strategy(ConnectStrategy::SessionLess);
/// let shown = format!("{o:?}");
/// assert!(shown.contains("timeout: 2s") && shown.contains("poll_interval: 250ms"));
/// assert!(o.has_password());
/// assert!(!format!("{o:?}").contains("8877"));
/// ```
#[derive(Clone)]
pub struct Options {
    pub(crate) password: Option<String>,
    pub(crate) strategy: ConnectStrategy,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) address: u8,
    pub(crate) max_frame_data: usize,
    pub(crate) max_result: u32,
    pub(crate) detect_terminal: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field(
                "password",
                &if self.password.is_some() {
                    "<redacted>"
                } else {
                    "<none>"
                },
            )
            .field("strategy", &self.strategy)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("poll_interval", &self.poll_interval)
            .field("address", &self.address)
            .field("max_frame_data", &self.max_frame_data)
            .field("max_result", &self.max_result)
            .field("detect_terminal", &self.detect_terminal)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            password: None,
            strategy: ConnectStrategy::Auto,
            timeout: Duration::from_secs(4),
            connect_timeout: Duration::from_secs(3),
            poll_interval: Duration::from_secs(1),
            address: DEFAULT_ADDRESS,
            max_frame_data: MAX_DATA,
            max_result: 16 * 1024 * 1024,
            detect_terminal: true,
        }
    }
}

impl Options {
    /// The defaults: no password, session connect with fallback, 4 s per
    /// request (PullSDK's default), 3 s to connect, RT log polled once a
    /// second, address byte `01`, results up to 16 MiB.
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new();
    /// assert!(!o.has_password());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the communication password (parameter `ComPwd`, at most 15
    /// characters; an empty string means none). It travels in clear text.
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new().password("");
    /// assert!(!o.has_password());
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        let p = password.into();
        self.password = (!p.is_empty()).then_some(p);
        self
    }

    /// Chooses the connect command.
    ///
    /// ```
    /// use zkproto::panel::client::{ConnectStrategy, Options};
    /// let o = Options::new().connect_strategy(ConnectStrategy::Session);
    /// assert!(format!("{o:?}").contains("strategy: Session,"));
    /// ```
    pub fn connect_strategy(mut self, s: ConnectStrategy) -> Self {
        self.strategy = s;
        self
    }

    /// Time allowed for each reply.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let o = zkproto::panel::client::Options::new().timeout(Duration::from_secs(1));
    /// assert!(format!("{o:?}").contains(" timeout: 1s"));
    /// ```
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Time allowed to open the TCP connection and for the connect reply.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let o = zkproto::panel::client::Options::new().connect_timeout(Duration::from_secs(1));
    /// # let _ = o;
    /// ```
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Interval between two real-time log polls of an event stream (the
    /// panel has no push; a poll also serves as keepalive).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let o = zkproto::panel::client::Options::new().poll_interval(Duration::from_millis(500));
    /// assert!(format!("{o:?}").contains("poll_interval: 500ms"));
    /// ```
    pub fn poll_interval(mut self, t: Duration) -> Self {
        self.poll_interval = t;
        self
    }

    /// Address byte of requests (the RS485 DIP-switch address; any value works on TCP).
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new().address(2);
    /// # let _ = o;
    /// ```
    pub fn address(mut self, a: u8) -> Self {
        self.address = a;
        self
    }

    /// Largest frame data length accepted from the panel (checked before buffering).
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new().max_frame_data(8192);
    /// # let _ = o;
    /// ```
    pub fn max_frame_data(mut self, n: usize) -> Self {
        self.max_frame_data = n.min(MAX_DATA);
        self
    }

    /// Largest big-data result accepted (checked before allocating).
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new().max_result(1 << 20);
    /// # let _ = o;
    /// ```
    pub fn max_result(mut self, n: u32) -> Self {
        self.max_result = n;
        self
    }

    /// When the peer closes the connection on the panel connect, probe it
    /// with the standalone-terminal connect to give a precise error (default on).
    ///
    /// ```
    /// let o = zkproto::panel::client::Options::new().detect_terminal(false);
    /// # let _ = o;
    /// ```
    pub fn detect_terminal(mut self, on: bool) -> Self {
        self.detect_terminal = on;
        self
    }

    /// Whether a password is set.
    ///
    /// ```
    /// assert!(zkproto::panel::client::Options::new().password("1").has_password());
    /// ```
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
}
