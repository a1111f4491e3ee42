//! Connection options.

use crate::terminal::commkey::CommKey;
use crate::terminal::frame::DEFAULT_MAX_PACKET;
use crate::terminal::record::bulk::MAX_BULK_SIZE;
use crate::terminal::record::door::{DoorPolarity, UnlockUnit};
use crate::terminal::record::text::TextEncoding;
use std::time::Duration;

/// Which transport to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transport {
    /// TCP (TFT terminals).
    Tcp,
    /// UDP (every terminal; the only one on older black-and-white firmware).
    Udp,
    /// TCP, and UDP when TCP cannot be reached.
    #[default]
    Auto,
}

/// Options of a [`Client`](super::Client), built with chained setters.
///
/// ```
/// use std::time::Duration;
/// use zkproto::terminal::client::{Options, Transport};
/// let o = Options::new().transport(Transport::Udp).comm_key(123456).timeout(Duration::from_secs(2)).retries(5);
/// assert!(format!("{o:?}").contains("transport: Udp"));
/// assert_eq!(o.effective_chunk_size(Transport::Udp), 16384);
/// assert!(!format!("{o:?}").contains("123456"));
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) transport: Transport,
    pub(crate) comm_key: Option<CommKey>,
    pub(crate) timeout: Duration,
    pub(crate) chunk_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) encoding: TextEncoding,
    pub(crate) chunk_size: Option<u32>,
    pub(crate) max_packet: usize,
    pub(crate) max_bulk: u32,
    pub(crate) unlock_unit: UnlockUnit,
    pub(crate) door_polarity: DoorPolarity,
    pub(crate) lenient_checksum: bool,
    pub(crate) trace_frames: bool,
    pub(crate) keepalive: Duration,
    pub(crate) detect_panel: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transport: Transport::Auto,
            comm_key: None,
            timeout: Duration::from_secs(5),
            chunk_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            retries: 3,
            encoding: TextEncoding::default(),
            chunk_size: None,
            max_packet: DEFAULT_MAX_PACKET,
            max_bulk: MAX_BULK_SIZE,
            unlock_unit: UnlockUnit::default(),
            door_polarity: DoorPolarity::default(),
            lenient_checksum: false,
            trace_frames: true,
            keepalive: Duration::from_secs(30),
            detect_panel: true,
        }
    }
}

impl Options {
    /// When a TCP peer stays silent or hangs up on `CMD_CONNECT`, probe it on
    /// a fresh connection with a read-only C3/inBio panel request
    /// (GetDeviceParam `~SerialNumber`, reference c3-panel §10) so the error
    /// can say "this is an access panel" instead of "timeout". On by default.
    /// The probe makes the probing socket the panel's current client, which
    /// is why it runs only after the terminal protocol has failed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().detect_panel(false);
    /// assert!(format!("{o:?}").contains("detect_panel: false"));
    /// ```
    pub fn detect_panel(mut self, on: bool) -> Self {
        self.detect_panel = on;
        self
    }
    /// The defaults: `Transport::Auto`, no comm key, 5 s per request, 10 s
    /// without progress in a bulk read, 3 s to connect, 3 UDP retransmissions, UTF-8 text,
    /// 64 MiB bulk limit, unlock in tenths of a second, door byte 1 = open.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new();
    /// assert!(format!("{o:?}").contains("transport: Auto"));
    /// assert_eq!(o.effective_chunk_size(Transport::Tcp), 0xFFC0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the transport.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().transport(Transport::Udp);
    /// assert!(format!("{o:?}").contains("transport: Udp"));
    /// ```
    pub fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }
    /// Sets the comm key (device option `ComKey`); 0 means none.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().comm_key(20_240_101);
    /// assert!(!format!("{o:?}").contains("20240101")); // the key is never shown
    /// ```
    pub fn comm_key(mut self, key: u32) -> Self {
        self.comm_key = if key == 0 {
            None
        } else {
            Some(CommKey::new(key))
        };
        self
    }
    /// Time allowed for each reply (per attempt on UDP: a request with
    /// `retries` retransmissions waits at most `timeout × (1 + retries)`);
    /// default 5 s.
    ///
    /// The request after a bulk transfer (`CMD_FREE_DATA`, the next
    /// command) is answered only once the firmware has finished sending the
    /// burst, which some models end with a pause of up to about 1.2 s before
    /// the closing `CMD_ACK_OK`; keep this above that (the default is). The
    /// chunk requests of a transfer use [`chunk_timeout`](Self::chunk_timeout).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().timeout(Duration::from_millis(1500));
    /// assert!(format!("{o:?}").contains("timeout: 1.5s"));
    /// ```
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    /// Time a bulk transfer may go without *progress*: new, valid,
    /// in-order data bytes. Frames that bring nothing new (empty
    /// `CMD_DATA`, a repeated `CMD_PREPARE_DATA`, a packet with the wrong
    /// index, a bad checksum, a stale reply id) do not restart it, and at
    /// most `16 + 2 × ⌈chunk_size / 1024⌉ × (1 + retries)` of them in a row
    /// are accepted. On UDP the attempts of one chunk share this time.
    ///
    /// The whole bulk read of `size` bytes (users, attendance, templates)
    /// must also end within its overall budget, counted from the `1503`
    /// request, which nothing extends:
    ///
    /// `first + chunk_timeout × (2 + ⌈size / chunk_size⌉ + retries) + ⌈size / 1024⌉ × 200 ms`
    ///
    /// where `first`, the time allowed for the answer to `1503`, is
    /// [`timeout`](Self::timeout) on TCP and `timeout × (1 + retries)` on
    /// UDP, and the last term is the pacing of real firmware (see
    /// [`Budget::bulk_allowance`](crate::terminal::session::Budget::bulk_allowance)).
    /// A single burst reply
    /// (one template) gets `first` for its first packet and
    /// `first + chunk_timeout × 3` plus the pacing term overall. Past either
    /// bound the read fails with
    /// [`Error::NoProgress`](super::Error::NoProgress) naming what the
    /// device sent, or [`Error::Timeout`](super::Error::Timeout) when it
    /// sent nothing.
    ///
    /// Default 10 s. This is also the per-read timeout while data flows:
    /// firmware waits about 20 ms after each data packet and some models
    /// pause up to about 1.2 s every few packets, so a value below the
    /// longest pause makes transfers from those models fail.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().chunk_timeout(Duration::from_secs(30));
    /// assert!(format!("{o:?}").contains("chunk_timeout: 30s"));
    /// ```
    pub fn chunk_timeout(mut self, t: Duration) -> Self {
        self.chunk_timeout = t;
        self
    }
    /// Time allowed to open the TCP connection and for the connect reply.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().connect_timeout(Duration::from_secs(1));
    /// assert!(format!("{o:?}").contains("connect_timeout: 1s"));
    /// ```
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// UDP retransmissions of an unanswered request (same reply id), and
    /// re-requests of a bulk chunk that lost packets.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().transport(Transport::Udp).retries(0);
    /// assert!(format!("{o:?}").contains("retries: 0"));
    /// ```
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }
    /// Text encoding of names and user ids (GBK on Chinese firmware).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// use zkproto::terminal::record::TextEncoding;
    /// let o = Options::new().encoding(TextEncoding::Gbk);
    /// assert!(format!("{o:?}").contains("encoding: Gbk"));
    /// ```
    pub fn encoding(mut self, e: TextEncoding) -> Self {
        self.encoding = e;
        self
    }
    /// Bytes per `1504` bulk chunk (default TCP 0xFFC0, UDP 16384).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().chunk_size(8192);
    /// assert_eq!(o.effective_chunk_size(Transport::Tcp), 8192);
    /// assert_eq!(Options::new().chunk_size(0).effective_chunk_size(Transport::Udp), 1);
    /// ```
    pub fn chunk_size(mut self, n: u32) -> Self {
        self.chunk_size = Some(n.max(1));
        self
    }
    /// Largest TCP frame accepted.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().max_packet(1 << 20);
    /// assert!(format!("{o:?}").contains("max_packet: 1048576"));
    /// ```
    pub fn max_packet(mut self, n: usize) -> Self {
        self.max_packet = n;
        self
    }
    /// Largest bulk buffer accepted from a device (checked before allocating).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().max_bulk(4 << 20);
    /// assert!(format!("{o:?}").contains("max_bulk: 4194304"));
    /// ```
    pub fn max_bulk(mut self, n: u32) -> Self {
        self.max_bulk = n;
        self
    }
    /// Unit of the `CMD_UNLOCK` duration (§8.1).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// use zkproto::terminal::record::door::UnlockUnit;
    /// let o = Options::new().unlock_unit(UnlockUnit::Seconds);
    /// assert!(format!("{o:?}").contains("unlock_unit: Seconds"));
    /// ```
    pub fn unlock_unit(mut self, u: UnlockUnit) -> Self {
        self.unlock_unit = u;
        self
    }
    /// Polarity of the door-state byte (§8.2).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// use zkproto::terminal::record::door::DoorPolarity;
    /// let o = Options::new().door_polarity(DoorPolarity::ZeroIsOpen);
    /// assert!(format!("{o:?}").contains("door_polarity: ZeroIsOpen"));
    /// ```
    pub fn door_polarity(mut self, p: DoorPolarity) -> Self {
        self.door_polarity = p;
        self
    }
    /// Accept packets with a bad checksum (logged) instead of dropping them.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().lenient_checksum(true);
    /// assert!(format!("{o:?}").contains("lenient_checksum: true"));
    /// ```
    pub fn lenient_checksum(mut self, on: bool) -> Self {
        self.lenient_checksum = on;
        self
    }
    /// Log every frame at `trace` level under the target `zkproto::frames`
    /// (default on): one line per frame with its decoded name, session id,
    /// reply id, length and data in hex, PINs, comm-key proofs, uploads and
    /// template data redacted ([`FrameTracer`](crate::terminal::trace::FrameTracer)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().trace_frames(false);
    /// assert!(format!("{o:?}").contains("trace_frames: false"));
    /// ```
    pub fn trace_frames(mut self, on: bool) -> Self {
        self.trace_frames = on;
        self
    }
    /// Idle time after which an event stream checks the device is still there.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new().keepalive(Duration::from_secs(10));
    /// assert!(format!("{o:?}").contains("keepalive: 10s"));
    /// ```
    pub fn keepalive(mut self, t: Duration) -> Self {
        self.keepalive = t;
        self
    }

    /// The chunk size used on `transport`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::client::{Options, Transport};
    /// let o = Options::new();
    /// assert_eq!(o.effective_chunk_size(Transport::Tcp), 0xFFC0);
    /// assert_eq!(o.effective_chunk_size(Transport::Udp), 16 * 1024);
    /// ```
    pub fn effective_chunk_size(&self, transport: Transport) -> u32 {
        self.chunk_size.unwrap_or(match transport {
            Transport::Udp => 16 * 1024,
            _ => 0xFFC0,
        })
    }
}
