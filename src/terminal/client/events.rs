//! Realtime events (§7): a stream of typed events with ACKs sent, and a
//! supervised variant that survives network drops and device reboots.

use super::{Client, Error, Options, Received, now};
use crate::net::{Backoff, Outage, Reconnect};
use crate::terminal::command::EventMask;
use crate::terminal::record::event::Event;
use crate::terminal::request::Request;
use futures_core::Stream;
use futures_util::stream::BoxStream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A stream of realtime events borrowed from a [`Client`]
/// (see [`Client::events`]). Each event is acknowledged before it is
/// yielded. While nothing arrives for [`Options::keepalive`], the device is
/// polled with `CMD_GET_TIME` so a dead peer ends the stream with an error.
pub struct EventStream<'a> {
    inner: BoxStream<'a, Result<Event, Error>>,
}

impl std::fmt::Debug for EventStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl Stream for EventStream<'_> {
    type Item = Result<Event, Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Client {
    /// Registers for the events in `mask` (`CMD_REG_EVENT`) and returns a
    /// stream of them. The stream ends after its first error.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use zkproto::terminal::{EventFlag, EventMask};
    /// use zkproto::terminal::record::event::Event;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let mut events = dev.events(EventMask::empty().with(EventFlag::AttLog).with(EventFlag::Alarm)).await?;
    /// while let Some(ev) = events.next().await {
    ///     if let Event::Attendance(a) = ev? {
    ///         println!("{} punched at {}", a.user_id, a.time);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn events(&mut self, mask: EventMask) -> Result<EventStream<'_>, Error> {
        self.register_events(mask).await?;
        let inner = futures_util::stream::unfold((self, false), |(c, failed)| async move {
            if failed {
                return None;
            }
            let r = c.next_event().await;
            let failed = r.is_err();
            Some((r, (c, failed)))
        });
        Ok(EventStream {
            inner: Box::pin(inner),
        })
    }

    /// Sends `CMD_REG_EVENT` with `mask` (0 stops events).
    ///
    /// ```no_run
    /// use zkproto::terminal::EventMask;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.register_events(EventMask::empty()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn register_events(&mut self, mask: EventMask) -> Result<(), Error> {
        self.command(Request::reg_event(mask)).await?;
        Ok(())
    }

    /// Waits for the next event, acknowledges it and decodes it.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let ev = dev.next_event().await?;
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(p) = self.session.pop_event() {
                let ack = self.session.event_ack(&p);
                self.send(&ack).await?;
                if let Some(ev) = Event::from_packet(&p, self.options.encoding) {
                    return Ok(ev);
                }
                continue;
            }
            if self.closed {
                return Err(Error::Closed {
                    during: "waiting for events on a closed client".into(),
                });
            }
            let keepalive = self.options.keepalive;
            match tokio::time::timeout(keepalive, self.link.recv(self.options.trace_frames)).await {
                Err(_) => {
                    // Quiet for a while: make sure the device is still there.
                    self.command(Request::get_time()).await?;
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(None)) => {
                    return Err(Error::Closed {
                        during: "waiting for events".into(),
                    });
                }
                Ok(Ok(Some(Received::Packet(p)))) => {
                    self.session.receive(p);
                }
                Ok(Ok(Some(Received::Corrupt(p, err)))) => {
                    self.session.note_corrupt();
                    tracing::warn!(error = %err, ?p, "dropping an event frame with a bad checksum");
                }
            }
        }
    }
}

/// An item of a supervised event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisedEvent {
    /// A realtime event.
    Event(Event),
    /// The connection was lost (or could not be opened); reconnecting.
    Disconnected {
        /// Why.
        error: Error,
    },
    /// Connected again, events re-registered. Events that happened during
    /// `gap` were not seen (download the attendance log to fill it).
    Reconnected {
        /// Time between the loss and the new registration.
        gap: Duration,
        /// Connection attempts it took.
        attempts: u32,
    },
}

/// Keeps an event subscription alive across network drops and device
/// reboots: reconnects with exponential backoff, re-registers the mask and
/// reports the gap.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use zkproto::terminal::EventMask;
/// use zkproto::terminal::client::{Options, SupervisedEvent, Supervisor};
/// # async fn run() {
/// let mut s = std::pin::pin!(Supervisor::new("10.0.0.5:4370", Options::new(), EventMask::all()).into_stream());
/// while let Some(item) = s.next().await {
///     match item {
///         SupervisedEvent::Event(ev) => println!("{ev:?}"),
///         SupervisedEvent::Disconnected { error } => eprintln!("lost: {error}"),
///         SupervisedEvent::Reconnected { gap, .. } => eprintln!("back after {gap:?}"),
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Supervisor {
    addr: String,
    options: Options,
    mask: EventMask,
    backoff: Backoff,
}

impl Supervisor {
    /// A supervisor for `addr` (`"host:port"`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::EventMask;
    /// # use zkproto::terminal::client::{Options, Supervisor};
    /// // Nothing connects until the stream is polled.
    /// let s = Supervisor::new("10.0.0.5:4370", Options::new(), EventMask::all());
    /// assert!(format!("{s:?}").contains("10.0.0.5:4370"));
    /// ```
    pub fn new(addr: impl ToString, options: Options, mask: EventMask) -> Self {
        Supervisor {
            addr: addr.to_string(),
            options,
            mask,
            backoff: Backoff::default(),
        }
    }

    /// Sets the first and the largest delay between reconnection attempts
    /// (default [`Backoff::default`]: 500 ms doubling up to 30 s, the same
    /// for both device families).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::EventMask;
    /// # use zkproto::terminal::client::{Options, Supervisor};
    /// let s = Supervisor::new("10.0.0.5:4370", Options::new(), EventMask::all())
    ///     .backoff(Duration::from_secs(2), Duration::from_secs(1));
    /// // The largest delay is raised to the first.
    /// assert_eq!(s.reconnect_policy().min(), Duration::from_secs(2));
    /// assert_eq!(s.reconnect_policy().max(), Duration::from_secs(2));
    /// ```
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Backoff::new(min, max);
        self
    }

    /// The reconnection policy in use.
    ///
    /// ```
    /// # use zkproto::terminal::EventMask;
    /// # use zkproto::terminal::client::{Options, Supervisor};
    /// use zkproto::net::Backoff;
    /// let s = Supervisor::new("10.0.0.5:4370", Options::new(), EventMask::all());
    /// assert_eq!(s.reconnect_policy(), Backoff::default());
    /// ```
    pub fn reconnect_policy(&self) -> Backoff {
        self.backoff
    }

    async fn open(&self) -> Result<Client, Error> {
        let mut c = Client::connect(self.addr.as_str(), self.options.clone()).await?;
        c.register_events(self.mask).await?;
        Ok(c)
    }

    /// The supervised stream; it never ends on its own.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use zkproto::terminal::EventMask;
    /// # use zkproto::terminal::client::{Options, Supervisor};
    /// use futures_util::StreamExt;
    /// use zkproto::terminal::client::SupervisedEvent;
    /// # async fn run() {
    /// let sup = Supervisor::new("10.0.0.5:4370", Options::new(), EventMask::all());
    /// let mut events = std::pin::pin!(sup.into_stream());
    /// while let Some(item) = events.next().await {
    ///     if let SupervisedEvent::Event(ev) = item {
    ///         println!("{ev:?}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = SupervisedEvent> + Send + 'static {
        struct St {
            sup: Supervisor,
            client: Option<Client>,
            link: Reconnect,
        }
        let st = St {
            link: Reconnect::new(self.backoff),
            sup: self,
            client: None,
        };
        futures_util::stream::unfold(st, |mut st| async move {
            loop {
                if let Some(c) = &mut st.client {
                    match c.next_event().await {
                        Ok(ev) => return Some((SupervisedEvent::Event(ev), st)),
                        Err(error) => {
                            tracing::debug!(%error, "event connection lost");
                            st.client = None;
                            st.link.lost(now());
                            return Some((SupervisedEvent::Disconnected { error }, st));
                        }
                    }
                }
                tokio::time::sleep(st.link.before_attempt()).await;
                match st.sup.open().await {
                    Ok(c) => {
                        st.client = Some(c);
                        if let Some(Outage { gap, attempts }) = st.link.connected(now()) {
                            return Some((SupervisedEvent::Reconnected { gap, attempts }, st));
                        }
                    }
                    Err(error) => {
                        if st.link.failed(now()) {
                            return Some((SupervisedEvent::Disconnected { error }, st));
                        }
                        tracing::debug!(%error, "reconnect failed");
                    }
                }
            }
        })
    }
}

/// Shorthand for `Supervisor::new(addr, options, mask).into_stream()`.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use zkproto::terminal::EventMask;
/// use zkproto::terminal::client::{supervised_events, Options};
/// # async fn run() {
/// let mut s = std::pin::pin!(supervised_events("10.0.0.5:4370", Options::new(), EventMask::all()));
/// let first = s.next().await;
/// # }
/// ```
pub fn supervised_events(
    addr: impl ToString,
    options: Options,
    mask: EventMask,
) -> impl Stream<Item = SupervisedEvent> + Send + 'static {
    Supervisor::new(addr, options, mask).into_stream()
}
