//! Real-time events and door status changes (§7): polled, since the panel
//! has no push, and a supervised stream that reconnects and backfills from
//! the `transaction` table what the panel's real-time queue lost.

use super::{Client, Error, Options, RtLogFormat, now};
use crate::net::{Backoff, Outage, Reconnect};
use crate::panel::command::{Command, ErrorCode};
use crate::panel::rtlog::{DOORS, DoorStatus, RtEvent, RtRecord, TextRecord, TextStatus};
use futures_core::Stream;
use futures_util::stream::BoxStream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// One item of the real-time log as the client reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum PanelEvent {
    /// An access or device event.
    Event(RtEvent),
    /// The door/alarm status changed (door sensor, lock relay or alarm
    /// bits; the first status seen is always reported).
    Status(DoorStatus),
}

fn text_status(s: &TextStatus) -> DoorStatus {
    let mut sensor_bytes = [0u8; DOORS];
    for (i, b) in sensor_bytes.iter_mut().enumerate() {
        *b = s.sensor(i + 1).map_or(0, |d| d.value());
    }
    DoorStatus {
        alarms: s.alarms,
        sensor_bytes,
        verify_byte: 0,
        relay: s.relay,
        in_out_byte: 0,
        time: s.time,
    }
}

/// Same door/relay/alarm state (the time is ignored; sensor bytes masked as §7.1 says).
fn same_state(a: &DoorStatus, b: &DoorStatus) -> bool {
    a.alarms == b.alarms
        && a.relay == b.relay
        && a.sensor_bytes.map(|s| s & 0x0f) == b.sensor_bytes.map(|s| s & 0x0f)
}

impl Client {
    /// One real-time log request (0x0B, or 0x79 on firmware whose binary
    /// replies are not 16-byte records). Events are queued; returns whether
    /// a status record arrived (the panel sends one when no event is queued).
    pub(crate) async fn poll_once(&mut self) -> Result<bool, Error> {
        let mut got_status = false;
        if self.rtlog == RtLogFormat::Binary {
            let data = self.call(Command::GetRtLog, &[]).await?;
            match RtRecord::decode_all(&data) {
                Ok(records) => {
                    for r in records {
                        match r {
                            RtRecord::Event(e) => self.queued.push_back(e),
                            RtRecord::Status(s) => {
                                self.last_status = Some(s);
                                got_status = true;
                            }
                        }
                    }
                    return Ok(got_status);
                }
                Err(e) => {
                    tracing::debug!(error = %e, len = data.len(), "binary RT log unusable, switching to the text log (0x79)");
                    self.rtlog = RtLogFormat::Text;
                }
            }
        }
        let data = match self.call(Command::GetRtLogText, &[]).await {
            Err(Error::Refused {
                code: ErrorCode::CommandNotAvailable,
                ..
            }) => {
                return Err(Error::Unsupported {
                    what: "a real-time log: the binary log (0x0B) is not in 16-byte records \
                           and the text log (0x79) is unknown",
                });
            }
            other => other?,
        };
        for r in TextRecord::parse_all(&data)? {
            match r {
                TextRecord::Event(e) => self.queued.push_back(RtEvent {
                    card_no: e.card_no,
                    pin: e.pin,
                    verify: e.verify,
                    door: e.event_addr,
                    event: e.event,
                    in_out: e.in_out,
                    time: e.time,
                }),
                TextRecord::Status(s) => {
                    self.last_status = Some(text_status(&s));
                    got_status = true;
                }
                _ => {}
            }
        }
        Ok(got_status)
    }

    /// Polls the real-time log once and returns what is new: queued events
    /// (including those read by [`status`](Client::status)) and a status
    /// record when the door/alarm state changed since the last one returned.
    ///
    /// ```no_run
    /// use zkproto::panel::client::PanelEvent;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for item in panel.poll_events().await? {
    ///     match item {
    ///         PanelEvent::Event(e) => println!("{} door {} pin {}", e.event, e.door, e.pin),
    ///         PanelEvent::Status(s) => println!("door 1 sensor {:?}", s.sensor(1)),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn poll_events(&mut self) -> Result<Vec<PanelEvent>, Error> {
        if self.queued.is_empty() {
            self.poll_once().await?;
        }
        let mut out: Vec<PanelEvent> = self.queued.drain(..).map(PanelEvent::Event).collect();
        if let Some(s) = self.last_status {
            let changed = self.reported_status.is_none_or(|r| !same_state(&r, &s));
            if changed {
                self.reported_status = Some(s);
                out.push(PanelEvent::Status(s));
            }
        }
        Ok(out)
    }

    /// A stream of real-time events and status changes, polling every
    /// [`Options::poll_interval`] (at once again while events keep coming).
    /// The stream ends after its first error; see [`Supervisor`] for one
    /// that reconnects.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let mut events = panel.events();
    /// while let Some(item) = events.next().await {
    ///     println!("{:?}", item?);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&mut self) -> EventStream<'_> {
        struct St<'a> {
            client: &'a mut Client,
            buf: VecDeque<PanelEvent>,
            failed: bool,
            first: bool,
        }
        let st = St {
            client: self,
            buf: VecDeque::new(),
            failed: false,
            first: true,
        };
        let inner = futures_util::stream::unfold(st, |mut st| async move {
            loop {
                if st.failed {
                    return None;
                }
                if let Some(item) = st.buf.pop_front() {
                    return Some((Ok(item), st));
                }
                if !st.first {
                    tokio::time::sleep(st.client.options.poll_interval).await;
                }
                st.first = false;
                loop {
                    match st.client.poll_events().await {
                        Ok(items) => {
                            let more = items.iter().any(|i| matches!(i, PanelEvent::Event(_)));
                            st.buf.extend(items);
                            // Drain the queue at once while events keep coming.
                            if !more {
                                break;
                            }
                        }
                        Err(e) => {
                            st.failed = true;
                            return Some((Err(e), st));
                        }
                    }
                }
            }
        });
        EventStream {
            inner: Box::pin(inner),
        }
    }
}

/// A stream of real-time items borrowed from a [`Client`] (see [`Client::events`]).
pub struct EventStream<'a> {
    inner: BoxStream<'a, Result<PanelEvent, Error>>,
}

impl std::fmt::Debug for EventStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl Stream for EventStream<'_> {
    type Item = Result<PanelEvent, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// An item of a supervised event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisedEvent {
    /// A real-time event.
    Event(RtEvent),
    /// The door/alarm status changed.
    Status(DoorStatus),
    /// An event the panel stored while the connection was down (its
    /// real-time queue is reset on every connect), recovered from the
    /// `transaction` table after reconnecting.
    Backfilled(RtEvent),
    /// The connection was lost (or could not be opened); reconnecting.
    Disconnected {
        /// Why.
        error: Error,
    },
    /// Connected again.
    Reconnected {
        /// Time between the loss and the new connection.
        gap: Duration,
        /// Connection attempts it took.
        attempts: u32,
        /// Events recovered from the transaction table (they follow as
        /// [`SupervisedEvent::Backfilled`]).
        backfilled: usize,
    },
}

/// How many delivered events are remembered to avoid reporting an event
/// twice when backfilling.
const RECENT: usize = 512;

/// Keeps a real-time subscription alive across network drops, panel
/// restarts and other clients taking the panel: reconnects with exponential
/// backoff and backfills missed events from the `transaction` table.
///
/// Before each poll the client notes the transaction count; once a poll
/// shows the real-time queue empty, every stored transaction up to that count
/// was delivered. After a reconnect the rows past that mark are reported as
/// [`SupervisedEvent::Backfilled`] (minus those already delivered).
///
/// ```no_run
/// use futures_util::StreamExt;
/// use zkproto::panel::client::{Options, SupervisedEvent, Supervisor};
/// # async fn run() {
/// let mut s = std::pin::pin!(Supervisor::new("10.0.0.9:4370", Options::new()).into_stream());
/// while let Some(item) = s.next().await {
///     match item {
///         SupervisedEvent::Event(e) | SupervisedEvent::Backfilled(e) => println!("{e:?}"),
///         SupervisedEvent::Disconnected { error } => eprintln!("lost: {error}"),
///         other => println!("{other:?}"),
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Supervisor {
    addr: String,
    options: Options,
    backoff: Backoff,
}

impl Supervisor {
    /// A supervisor for `addr` (`"host:port"`).
    ///
    /// ```
    /// use zkproto::panel::client::{Options, Supervisor};
    /// let s = Supervisor::new("10.0.0.9:4370", Options::new());
    /// # let _ = s;
    /// ```
    pub fn new(addr: impl ToString, options: Options) -> Self {
        Supervisor {
            addr: addr.to_string(),
            options,
            backoff: Backoff::default(),
        }
    }

    /// Sets the first and the largest delay between reconnection attempts
    /// (default [`Backoff::default`]: 500 ms doubling up to 30 s, the same
    /// for both device families).
    ///
    /// ```
    /// # use std::time::Duration;
    /// use zkproto::panel::client::{Options, Supervisor};
    /// let s = Supervisor::new("10.0.0.9:4370", Options::new())
    ///     .backoff(Duration::from_millis(100), Duration::from_secs(5));
    /// assert_eq!(s.reconnect_policy().max(), Duration::from_secs(5));
    /// ```
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Backoff::new(min, max);
        self
    }

    /// The reconnection policy in use.
    ///
    /// ```
    /// use zkproto::net::Backoff;
    /// use zkproto::panel::client::{Options, Supervisor};
    /// let s = Supervisor::new("10.0.0.9:4370", Options::new());
    /// assert_eq!(s.reconnect_policy(), Backoff::default());
    /// ```
    pub fn reconnect_policy(&self) -> Backoff {
        self.backoff
    }

    /// The supervised stream; it never ends on its own.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use zkproto::panel::client::{Options, Supervisor};
    /// # async fn run() {
    /// let mut s = std::pin::pin!(Supervisor::new("10.0.0.9:4370", Options::new()).into_stream());
    /// let first = s.next().await;
    /// # }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = SupervisedEvent> + Send + 'static {
        struct St {
            sup: Supervisor,
            client: Option<Client>,
            out: VecDeque<SupervisedEvent>,
            recent: VecDeque<RtEvent>,
            /// Transaction count up to which everything was delivered.
            mark: Option<u32>,
            last_time: Option<crate::panel::PanelTime>,
            link: Reconnect,
            next_poll: Option<tokio::time::Instant>,
        }
        impl St {
            fn deliver(&mut self, e: RtEvent, backfilled: bool) {
                if self.recent.len() >= RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(e);
                self.last_time = Some(self.last_time.map_or(e.time, |t| t.max(e.time)));
                self.out.push_back(if backfilled {
                    SupervisedEvent::Backfilled(e)
                } else {
                    SupervisedEvent::Event(e)
                });
            }

            fn lost(&mut self, error: Error) {
                tracing::debug!(%error, "panel event connection lost");
                self.client = None;
                self.link.lost(now());
                self.out.push_back(SupervisedEvent::Disconnected { error });
            }

            /// One poll: count, real-time log, mark.
            async fn poll(&mut self) -> Result<(), Error> {
                let Some(c) = self.client.as_mut() else {
                    return Ok(());
                };
                let count = c.transaction_count().await?;
                let items = c.poll_events().await?;
                let drained = !items.iter().any(|i| matches!(i, PanelEvent::Event(_)));
                for item in items {
                    match item {
                        PanelEvent::Event(e) => self.deliver(e, false),
                        PanelEvent::Status(s) => self.out.push_back(SupervisedEvent::Status(s)),
                    }
                }
                if drained {
                    self.mark = Some(count);
                }
                Ok(())
            }

            /// After connecting: report the stored events past the mark.
            async fn backfill(&mut self) -> Result<usize, Error> {
                let Some(c) = self.client.as_mut() else {
                    return Ok(0);
                };
                let count = c.transaction_count().await?;
                let Some(mark) = self.mark else {
                    self.mark = Some(count);
                    return Ok(0);
                };
                if count == mark {
                    return Ok(0);
                }
                let rows = c.transactions().await?;
                let candidates: Vec<RtEvent> = if count > mark {
                    rows.iter().skip(mark as usize).copied().collect()
                } else {
                    // The table shrank (cleared or rotated): fall back to time.
                    let since = self.last_time;
                    rows.iter()
                        .copied()
                        .filter(|e| since.is_none_or(|t| e.time >= t))
                        .collect()
                };
                let mut n = 0;
                let mut fresh = Vec::new();
                for e in candidates {
                    if !self.recent.contains(&e) {
                        fresh.push(e);
                    }
                }
                for e in fresh {
                    self.deliver(e, true);
                    n += 1;
                }
                self.mark = Some(count);
                Ok(n)
            }
        }
        let st = St {
            link: Reconnect::new(self.backoff),
            sup: self,
            client: None,
            out: VecDeque::new(),
            recent: VecDeque::new(),
            mark: None,
            last_time: None,
            next_poll: None,
        };
        futures_util::stream::unfold(st, |mut st| async move {
            loop {
                if let Some(item) = st.out.pop_front() {
                    return Some((item, st));
                }
                if st.client.is_some() {
                    if let Some(at) = st.next_poll {
                        tokio::time::sleep_until(at).await;
                    }
                    st.next_poll = Some(tokio::time::Instant::now() + st.sup.options.poll_interval);
                    if let Err(error) = st.poll().await {
                        st.lost(error);
                    } else if st
                        .out
                        .iter()
                        .any(|i| matches!(i, SupervisedEvent::Event(_)))
                    {
                        // Events keep coming: poll again without waiting.
                        st.next_poll = None;
                    }
                    continue;
                }
                tokio::time::sleep(st.link.before_attempt()).await;
                match Client::connect(st.sup.addr.as_str(), st.sup.options.clone()).await {
                    Ok(c) => {
                        st.client = Some(c);
                        st.next_poll = None;
                        let outage = st.link.connected(now());
                        let backfilled = match st.backfill().await {
                            Ok(n) => n,
                            Err(error) => {
                                st.lost(error);
                                continue;
                            }
                        };
                        if let Some(Outage { gap, attempts }) = outage {
                            st.out.push_front(SupervisedEvent::Reconnected {
                                gap,
                                attempts,
                                backfilled,
                            });
                        }
                    }
                    Err(error) => {
                        if st.link.failed(now()) {
                            return Some((SupervisedEvent::Disconnected { error }, st));
                        }
                        tracing::debug!(%error, "panel reconnect failed");
                    }
                }
            }
        })
    }
}
