//! Resource limits shared by the TCP servers of both simulators (feature
//! `simulator`): the terminal's ([`terminal::sim`](crate::terminal::sim))
//! and the panel's ([`panel::sim`](crate::panel::sim)).
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
//! use zkproto::sim_net::NetLimits;
//! let l = NetLimits::default();
//! assert_eq!(l.max_connections, 8);
//! assert_eq!(l.idle_timeout, Duration::from_secs(8));
//! let strict = NetLimits { max_connections: 1, ..NetLimits::default() };
//! assert_eq!(strict.idle_timeout, l.idle_timeout);
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

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
