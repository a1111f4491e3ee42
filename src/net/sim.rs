//! Simulator hosting shared by every device family (feature `simulator`):
//! the state a simulator handle shares with its server tasks, the running
//! server's stop-and-join handle, the TCP accept loop and the resource
//! limits of the TCP servers of the terminal's
//! ([`terminal::sim`](crate::terminal::sim)) and the panel's
//! ([`panel::sim`](crate::panel::sim)) simulators. What a family adds is
//! its device model and how it frames bytes.
//!
//! A real device serves one TCP client at a time (terminal: `listen()`
//! backlog 1, reference §1.1; panel: one "current" client, c3-panel §2.4)
//! and sets an 8 s receive timeout on the accepted socket. The simulators
//! serve a few connections concurrently (so pyzk's throw-away probe
//! connection, a client reconnecting before the old socket is noticed dead,
//! or an event listener next to a command client work), but bounded by
//! [`NetLimits`]:
//!
//! * at most [`max_connections`](NetLimits::max_connections) open TCP
//!   connections; one more is accepted and closed at once (a clean, prompt
//!   refusal: the client sees the device close the connection before any
//!   reply; a real terminal would leave it in its backlog and the client
//!   would time out) and the refusal is logged, at most once a second;
//! * a connection that has not opened a session, or holds a partial frame,
//!   is closed after [`idle_timeout`](NetLimits::idle_timeout) without a
//!   complete frame (the firmware's 8 s receive timeout);
//! * a session that is not listening for events is closed after
//!   [`session_idle_timeout`](NetLimits::session_idle_timeout) without a
//!   frame; a terminal session that registered for realtime events is never
//!   closed for being idle (pyzk's `live_capture` sits silent for hours on
//!   real devices; this crate's event stream probes only every
//!   `Options::keepalive`);
//! * `accept` errors (e.g. out of file descriptors) are logged at most once a
//!   second with the number of suppressed repeats, and accepting backs off
//!   (10 ms doubling up to 1 s) until an accept succeeds again.
//!
//! Each connection buffers at most one frame of the largest legal size
//! (enforced by the servers' framing).
//!
//! ```
//! use std::time::Duration;
//! use zkproto::net::sim::NetLimits;
//! let l = NetLimits::default();
//! assert_eq!(l.max_connections, 8);
//! assert_eq!(l.idle_timeout, Duration::from_secs(8));
//! let strict = NetLimits { max_connections: 1, ..NetLimits::default() };
//! assert_eq!(strict.idle_timeout, l.idle_timeout);
//! ```

mod clock;
pub(crate) use clock::{Clock, Seconds};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// A simulated device model as the hosting sees it.
pub(crate) trait Model {
    /// Called after every change made through [`Shared::with`], before the
    /// servers are woken (the terminal stores its state here).
    fn after_change(&mut self) {}
}

/// State shared by a simulator's handle and its server tasks: the device
/// model, a counter that wakes the servers after a change, connection ids
/// and the TCP limits for servers started later.
pub(crate) struct Shared<D> {
    device: Mutex<D>,
    wake: watch::Sender<u64>,
    next_conn: AtomicU64,
    limits: Mutex<NetLimits>,
}

impl<D: Model> Shared<D> {
    pub(crate) fn new(device: D) -> Shared<D> {
        let (wake, _) = watch::channel(0);
        Shared {
            device: Mutex::new(device),
            wake,
            next_conn: AtomicU64::new(1),
            limits: Mutex::new(NetLimits::default()),
        }
    }

    /// The model; a panic elsewhere while it was held does not poison it
    /// (every change is complete or not made).
    pub(crate) fn lock(&self) -> MutexGuard<'_, D> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    fn notify(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A fresh id for a TCP connection.
    pub(crate) fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `f` on the model, lets the model store the change, then wakes
    /// the servers.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut D, std::time::Instant) -> R) -> R {
        let r = {
            let mut dev = self.lock();
            let r = f(&mut dev, std::time::Instant::now());
            dev.after_change();
            r
        };
        self.notify();
        r
    }

    /// Runs `f` on the model without changing it.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&D, std::time::Instant) -> R) -> R {
        f(&self.lock(), std::time::Instant::now())
    }

    /// The limits for servers started from now on.
    pub(crate) fn limits(&self) -> NetLimits {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn set_limits(&self, limits: NetLimits) {
        *self.limits.lock().unwrap_or_else(|e| e.into_inner()) = limits;
    }
}

/// The tasks of a running simulator server and the signal that stops them:
/// [`shutdown`](Self::shutdown) stops and waits, dropping stops and aborts.
#[derive(Debug)]
pub(crate) struct Tasks {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Tasks {
    pub(crate) fn new() -> Tasks {
        let (stop, _) = watch::channel(false);
        Tasks {
            stop,
            tasks: Vec::new(),
        }
    }

    /// A receiver that sees the stop signal.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Runs `task` until the server stops.
    pub(crate) fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// Binds `addr` and accepts connections on it (see [`accept_loop`]);
    /// returns the bound address.
    pub(crate) async fn serve_tcp<F, Fut>(
        &mut self,
        addr: SocketAddr,
        limits: NetLimits,
        device: &'static str,
        serve: F,
    ) -> std::io::Result<SocketAddr>
    where
        F: FnMut(TcpStream, SocketAddr) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        self.spawn(accept_loop(
            listener,
            limits,
            self.stop_signal(),
            device,
            serve,
        ));
        Ok(bound)
    }

    /// Stops accepting, closes every connection and waits (at most 2 s a
    /// task) for the tasks to end.
    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in core::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Limits of a simulator's TCP server. See the [module documentation](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetLimits {
    /// Most TCP connections open at once; further ones are accepted and
    /// closed immediately. Default 8.
    pub max_connections: usize,
    /// How long a connection without a session, or with a partial frame,
    /// may go without completing a frame. Default 8 s (the firmware's
    /// `SO_RCVTIMEO`).
    pub idle_timeout: Duration,
    /// How long a session that does not listen for events may go without a
    /// frame (`None`: forever). Default 10 minutes.
    pub session_idle_timeout: Option<Duration>,
}

impl NetLimits {
    /// Default [`max_connections`](Self::max_connections).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 8;
    /// Default [`idle_timeout`](Self::idle_timeout).
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(8);
    /// Default [`session_idle_timeout`](Self::session_idle_timeout).
    pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            session_idle_timeout: Some(Self::DEFAULT_SESSION_IDLE_TIMEOUT),
        }
    }
}

/// What a connection is doing, which decides how long it may stay idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    /// No session (yet).
    Opening,
    /// A session that does not wait for events.
    Session,
    /// A session registered for realtime events.
    Listening,
}

/// The idle deadline of one connection. Only complete frames (progress)
/// push it back; a partial frame must complete within the idle timeout of
/// its first byte.
#[derive(Debug)]
pub(crate) struct IdleClock {
    limits: NetLimits,
    last_frame: Instant,
    partial_since: Option<Instant>,
}

impl IdleClock {
    pub(crate) fn new(limits: NetLimits) -> IdleClock {
        IdleClock {
            limits,
            last_frame: Instant::now(),
            partial_since: None,
        }
    }

    /// Records a read: whether it completed at least one frame, and whether
    /// bytes of an incomplete frame are left buffered.
    pub(crate) fn after_read(&mut self, completed_frame: bool, partial: bool) {
        let now = Instant::now();
        if completed_frame {
            self.last_frame = now;
        }
        self.partial_since = if !partial {
            None
        } else if completed_frame {
            Some(now)
        } else {
            Some(self.partial_since.unwrap_or(now))
        };
    }

    /// When the connection must be closed (`None`: never).
    pub(crate) fn deadline(&self, activity: Activity) -> Option<Instant> {
        let idle = match activity {
            Activity::Opening => Some(self.limits.idle_timeout),
            Activity::Session => self.limits.session_idle_timeout,
            Activity::Listening => None,
        };
        let by_idle = idle.map(|d| self.last_frame + d);
        let by_partial = self.partial_since.map(|t| t + self.limits.idle_timeout);
        match (by_idle, by_partial) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Sleeps until `deadline`, or forever when there is none.
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// At most one report a second: [`hit`](Self::hit) says whether to log now
/// and how many reports were swallowed since the last one.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    const EVERY: Duration = Duration::from_secs(1);

    pub(crate) fn hit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.saturating_duration_since(t) < Self::EVERY => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(core::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// Pause after a failed `accept`: 10 ms, doubling up to 1 s; reset by a
/// successful accept.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    next: Option<Duration>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    pub(crate) fn next_pause(&mut self) -> Duration {
        let pause = self.next.unwrap_or(Self::FIRST);
        self.next = Some((pause * 2).min(Self::MAX));
        pause
    }

    pub(crate) fn reset(&mut self) {
        self.next = None;
    }
}

/// Accepts TCP connections until `stop`, serving each with `serve` in its
/// own task, within `limits.max_connections` (see the
/// [module documentation](self)). `device` names the simulator in logs.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    limits: NetLimits,
    mut stop: watch::Receiver<bool>,
    device: &'static str,
    mut serve: F,
) where
    F: FnMut(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut conns = JoinSet::new();
    let mut closing = JoinSet::new();
    let mut refusals = Throttle::default();
    let mut errors = Throttle::default();
    let mut backoff = Backoff::default();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, from)) => {
                    backoff.reset();
                    // Count only connections still being served.
                    while conns.try_join_next().is_some() {}
                    if conns.len() >= limits.max_connections {
                        if let Some(suppressed) = refusals.hit(Instant::now()) {
                            tracing::warn!(
                                device, %from, open = conns.len(), limit = limits.max_connections,
                                suppressed, "refusing a TCP connection: too many open (closed at once)"
                            );
                        }
                        while closing.try_join_next().is_some() {}
                        if closing.len() < MAX_CLOSING {
                            closing.spawn(refuse(stream));
                        }
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve(stream, from));
                }
                Err(e) => {
                    if let Some(suppressed) = errors.hit(Instant::now()) {
                        tracing::warn!(device, error = %e, suppressed, "accept failed");
                    }
                    let pause = backoff.next_pause();
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => break,
                    }
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    closing.shutdown().await;
    conns.shutdown().await;
}

/// Refused connections being closed gracefully at once; beyond this many a
/// refused connection is simply dropped (the kernel may then reset it).
const MAX_CLOSING: usize = 64;

/// How long a refused connection's incoming bytes are drained (discarded)
/// so that closing it sends a FIN rather than a reset.
const REFUSE_LINGER: Duration = Duration::from_millis(500);

/// Closes a refused connection: FIN at once (the client sees the device
/// close the connection before any reply), then the client's bytes are
/// discarded until it closes too or [`REFUSE_LINGER`] passes.
async fn refuse(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = tokio::io::sink();
    let _ = tokio::time::timeout(REFUSE_LINGER, tokio::io::copy(&mut stream, &mut sink)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_reports_once_a_second_with_the_count() {
        let t0 = Instant::now();
        let mut t = Throttle::default();
        assert_eq!(t.hit(t0), Some(0));
        for i in 1..=19 {
            assert_eq!(t.hit(t0 + Duration::from_millis(50 * i)), None);
        }
        assert_eq!(t.hit(t0 + Duration::from_millis(1000)), Some(19));
        assert_eq!(t.hit(t0 + Duration::from_millis(1001)), None);
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut b = Backoff::default();
        let pauses: Vec<_> = (0..9).map(|_| b.next_pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next_pause(), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_deadlines_follow_activity_and_partial_frames() {
        let limits = NetLimits {
            max_connections: 1,
            idle_timeout: Duration::from_secs(8),
            session_idle_timeout: Some(Duration::from_secs(60)),
        };
        let t0 = Instant::now();
        let mut c = IdleClock::new(limits);
        assert_eq!(
            c.deadline(Activity::Opening),
            Some(t0 + Duration::from_secs(8))
        );
        assert_eq!(
            c.deadline(Activity::Session),
            Some(t0 + Duration::from_secs(60))
        );
        assert_eq!(c.deadline(Activity::Listening), None);
        tokio::time::advance(Duration::from_secs(5)).await;
        // Bytes of a frame arrive but the frame does not complete: the
        // deadline is 8 s after its first byte, even for a listener.
        c.after_read(false, true);
        let first = t0 + Duration::from_secs(5);
        assert_eq!(
            c.deadline(Activity::Listening),
            Some(first + Duration::from_secs(8))
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        c.after_read(false, true);
        assert_eq!(
            c.deadline(Activity::Listening),
            Some(first + Duration::from_secs(8))
        );
        // The frame completes: progress.
        c.after_read(true, false);
        let now = t0 + Duration::from_secs(10);
        assert_eq!(c.deadline(Activity::Listening), None);
        assert_eq!(
            c.deadline(Activity::Session),
            Some(now + Duration::from_secs(60))
        );
        let forever = IdleClock::new(NetLimits {
            session_idle_timeout: None,
            ..limits
        });
        assert_eq!(forever.deadline(Activity::Session), None);
    }
}
