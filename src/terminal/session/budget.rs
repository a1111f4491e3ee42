//! Time and frame budget of one multi-packet operation (a bulk read, a
//! burst reply): sans-IO, driven by the caller's `now`.
//!
//! Two rules bound every operation, whatever the device sends:
//!
//! * **Only progress extends the wait.** The operation may wait at most
//!   `idle` after its last *progress* — new, valid, in-order data bytes
//!   (or the accepted `1503` descriptor). Frames that carry nothing new
//!   (empty `CMD_DATA`, a replayed `CMD_PREPARE_DATA`, a packet with the
//!   wrong index, a bad checksum, a stale reply id) move nothing.
//! * **An overall deadline** set from the size once it is known (see
//!   [`Budget::bulk_allowance`]), which nothing extends; and at most
//!   [`Budget::frame_allowance`] frames in a row without progress.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use zkproto::terminal::session::{Budget, Waste};
//! let t0 = Instant::now();
//! let sec = Duration::from_secs(1);
//! let mut b = Budget::new(t0, sec, sec, 4);
//! assert_eq!(b.deadline(), t0 + sec);
//! b.set_allowance(Budget::bulk_allowance(sec, 100_000, 0xFFC0, 3)); // 26.6 s in all
//! // An empty frame at 0.5 s does not move the deadline…
//! assert!(b.waste(Waste::NoData("empty CMD_DATA".into())).is_ok());
//! assert_eq!(b.deadline(), t0 + sec);
//! // …new bytes do.
//! b.progress(t0 + sec / 2);
//! assert_eq!(b.deadline(), t0 + sec / 2 + sec);
//! ```

use super::SessionError;
use std::time::{Duration, Instant};

/// Time allowed per KiB of a bulk read on top of the exchange timeouts:
/// firmware sends about 1 KiB per data packet, waits about 20 ms after each
/// and pauses up to about 1.2 s every few packets on some models (§4.3);
/// 200 ms a KiB covers a pause every seventh packet.
pub const FIRMWARE_PACE_PER_KIB: Duration = Duration::from_millis(200);

/// A frame that answered the outstanding request without progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Waste {
    /// A valid frame without new data (its description).
    NoData(String),
    /// A frame dropped for a bad checksum or another framing error (the error text).
    Corrupt(String),
}

/// Time and frame budget of one multi-packet operation (a bulk read, a
/// burst reply), driven by the caller's `now`.
///
/// * Only progress — new, valid, in-order data bytes, or the accepted
///   `1503` descriptor — extends the wait, by `idle`; frames that carry
///   nothing new ([`Waste`]) move nothing.
/// * An overall deadline, set from the size once it is known
///   ([`bulk_allowance`](Self::bulk_allowance)), which nothing extends.
/// * At most `max_idle_frames` frames in a row without progress
///   ([`frame_allowance`](Self::frame_allowance)).
///
/// ```
/// use std::time::{Duration, Instant};
/// use zkproto::terminal::session::{Budget, Waste};
/// let t0 = Instant::now();
/// let s = Duration::from_secs(1);
/// let mut b = Budget::new(t0, s, s, 64);
/// b.set_allowance(s * 5);
/// b.waste(Waste::NoData("empty CMD_DATA".into())).unwrap();
/// assert_eq!(b.deadline(), t0 + s); // the frame moved nothing
/// ```
#[derive(Clone, Debug)]
pub struct Budget {
    started: Instant,
    idle: Duration,
    last_progress: Instant,
    cap: Instant,
    max_idle_frames: u32,
    idle_frames: u32,
    corrupt: u32,
    last: Option<Waste>,
}

impl Budget {
    /// A budget starting at `now`: at most `first` until the first
    /// progress (the reply to the request), then `idle` after each
    /// progress, and at most `max_idle_frames` frames in a row without
    /// progress. The overall deadline is `now + first` until
    /// [`set_allowance`](Self::set_allowance) widens it.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::Budget;
    /// let t0 = Instant::now();
    /// let b = Budget::new(t0, Duration::from_secs(2), Duration::from_secs(5), 64);
    /// assert_eq!(b.deadline(), t0 + Duration::from_secs(2));
    /// ```
    pub fn new(now: Instant, first: Duration, idle: Duration, max_idle_frames: u32) -> Budget {
        Budget {
            started: now,
            idle,
            last_progress: now,
            cap: later(now, first),
            max_idle_frames,
            idle_frames: 0,
            corrupt: 0,
            last: None,
        }
    }

    /// The overall allowance of a bulk read of `size` bytes fetched in
    /// `chunk_size` chunks with at most `chunk_retries` chunk re-requests,
    /// each exchange allowed `timeout`, plus what firmware pacing costs:
    ///
    /// `timeout × (2 + ⌈size / chunk_size⌉ + chunk_retries) + ⌈size / 1024⌉ × 200 ms`
    ///
    /// (one exchange for the `1503` reply, one per chunk, one per
    /// re-request, one spare; and [`FIRMWARE_PACE_PER_KIB`] for each KiB,
    /// because real firmware waits about 20 ms after each data packet and
    /// some models pause up to about 1.2 s every few packets, §4.3). It is
    /// counted from the start of the read. A device that keeps making
    /// progress at real firmware speed always fits in it; one that trickles
    /// data slower than about 5 KiB/s does not.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zkproto::terminal::session::Budget;
    /// let t = Duration::from_secs(1);
    /// // 7 exchanges, and 98 KiB at 200 ms each.
    /// assert_eq!(Budget::bulk_allowance(t, 100_000, 0xFFC0, 3), t * 7 + Duration::from_millis(19_600));
    /// assert_eq!(Budget::bulk_allowance(t, 0, 0xFFC0, 0), t * 2);
    /// ```
    pub fn bulk_allowance(
        timeout: Duration,
        size: u32,
        chunk_size: u32,
        chunk_retries: u32,
    ) -> Duration {
        let chunks = size.div_ceil(chunk_size.max(1));
        let exchanges = 2u32.saturating_add(chunks).saturating_add(chunk_retries);
        timeout
            .saturating_mul(exchanges)
            .saturating_add(FIRMWARE_PACE_PER_KIB.saturating_mul(size.div_ceil(1024)))
    }

    /// How many frames in a row may carry no progress during a bulk read
    /// with `chunk_size` chunks and `chunk_retries` re-requests: every
    /// packet of every burst could be one (a burst broken by a lost packet
    /// is ignored to its end), counted at 1024 bytes a packet, twice, plus 16:
    ///
    /// `16 + 2 × ⌈chunk_size / 1024⌉ × (1 + chunk_retries)`
    ///
    /// ```
    /// # use zkproto::terminal::session::Budget;
    /// assert_eq!(Budget::frame_allowance(16384, 3), 16 + 2 * 16 * 4);
    /// ```
    pub fn frame_allowance(chunk_size: u32, chunk_retries: u32) -> u32 {
        let packets = chunk_size.div_ceil(1024).max(1);
        16u32.saturating_add(
            2u32.saturating_mul(packets)
                .saturating_mul(chunk_retries.saturating_add(1)),
        )
    }

    /// Sets the overall deadline to `allowance` after the start (once the
    /// size is known); progress extends the wait only up to it.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::Budget;
    /// let t0 = Instant::now();
    /// let s = Duration::from_secs(1);
    /// let mut b = Budget::new(t0, s, s, 64);
    /// b.set_allowance(s * 10);
    /// b.progress(t0 + s * 9 + s / 2);
    /// assert_eq!(b.deadline(), t0 + s * 10); // capped by the allowance
    /// ```
    pub fn set_allowance(&mut self, allowance: Duration) {
        self.cap = later(self.started, allowance);
    }

    /// Records progress at `now` (new, valid, in-order data): the wait
    /// restarts and the count of frames without progress is reset.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::{Budget, Waste};
    /// let t0 = Instant::now();
    /// let s = Duration::from_secs(1);
    /// let mut b = Budget::new(t0, s * 5, s, 1);
    /// b.waste(Waste::NoData("x".into())).unwrap();
    /// b.progress(t0 + s);
    /// assert_eq!((b.idle_frames(), b.deadline()), (0, t0 + s * 2));
    /// ```
    pub fn progress(&mut self, now: Instant) {
        self.last_progress = now;
        self.idle_frames = 0;
        self.corrupt = 0;
        self.last = None;
    }

    /// Records a frame without progress; fails with
    /// [`SessionError::NoProgress`] once more than `max_idle_frames` came
    /// in a row.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::{Budget, SessionError, Waste};
    /// let t0 = Instant::now();
    /// let mut b = Budget::new(t0, Duration::from_secs(1), Duration::from_secs(1), 2);
    /// b.waste(Waste::NoData("empty CMD_DATA".into())).unwrap();
    /// b.waste(Waste::Corrupt("bad checksum".into())).unwrap();
    /// let e = b.waste(Waste::NoData("empty CMD_DATA".into())).unwrap_err();
    /// assert!(matches!(e, SessionError::NoProgress { frames: 3, corrupt: 1, .. }));
    /// ```
    pub fn waste(&mut self, what: Waste) -> Result<(), SessionError> {
        self.idle_frames = self.idle_frames.saturating_add(1);
        if matches!(what, Waste::Corrupt(_)) {
            self.corrupt = self.corrupt.saturating_add(1);
        }
        self.last = Some(what);
        if self.idle_frames > self.max_idle_frames {
            return Err(self.stalled(None));
        }
        Ok(())
    }

    /// Frames without progress since the last progress.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::{Budget, Waste};
    /// let mut b = Budget::new(Instant::now(), Duration::from_secs(1), Duration::from_secs(1), 9);
    /// b.waste(Waste::NoData("x".into())).unwrap();
    /// assert_eq!(b.idle_frames(), 1);
    /// ```
    pub fn idle_frames(&self) -> u32 {
        self.idle_frames
    }

    /// When the operation must end unless progress comes first: the
    /// earlier of the last progress plus the idle wait and the overall
    /// deadline.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::Budget;
    /// let t0 = Instant::now();
    /// let b = Budget::new(t0, Duration::from_secs(3), Duration::from_secs(1), 9);
    /// assert_eq!(b.deadline(), t0 + Duration::from_secs(1));
    /// ```
    pub fn deadline(&self) -> Instant {
        later(self.last_progress, self.idle).min(self.cap)
    }

    /// Whether the deadline has passed at `now`.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::Budget;
    /// let t0 = Instant::now();
    /// let b = Budget::new(t0, Duration::from_secs(1), Duration::from_secs(1), 9);
    /// assert!(!b.expired(t0) && b.expired(t0 + Duration::from_secs(1)));
    /// ```
    pub fn expired(&self, now: Instant) -> bool {
        now >= self.deadline()
    }

    /// The error at the deadline: [`SessionError::NoProgress`] when frames
    /// without progress came since the last progress (the device talked
    /// but said nothing useful), `None` when nothing came (a plain
    /// timeout, for the caller to report as such).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use zkproto::terminal::session::{Budget, SessionError, Waste};
    /// let t0 = Instant::now();
    /// let mut b = Budget::new(t0, Duration::from_secs(1), Duration::from_secs(1), 9);
    /// assert_eq!(b.expire(t0 + Duration::from_secs(1)), None);
    /// b.waste(Waste::Corrupt("bad checksum 0x1234".into())).unwrap();
    /// let e = b.expire(t0 + Duration::from_secs(1)).unwrap();
    /// assert!(e.to_string().contains("bad checksum 0x1234"));
    /// ```
    pub fn expire(&self, now: Instant) -> Option<SessionError> {
        (self.idle_frames > 0).then(|| self.stalled(Some(now)))
    }

    fn stalled(&self, now: Option<Instant>) -> SessionError {
        let (last, corrupt_last) = match &self.last {
            Some(Waste::NoData(s)) => (s.clone(), false),
            Some(Waste::Corrupt(s)) => (s.clone(), true),
            None => (String::new(), false),
        };
        SessionError::NoProgress {
            frames: self.idle_frames,
            corrupt: self.corrupt,
            waited: now.map(|n| n.saturating_duration_since(self.last_progress)),
            last,
            last_corrupt: corrupt_last,
        }
    }
}

/// `t + d`, saturating far in the future instead of overflowing.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(1 << 32)))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn frames_without_progress_never_extend() {
        let t0 = Instant::now();
        let mut b = Budget::new(t0, S, S, 1_000_000);
        for i in 0..10_000u32 {
            let now = t0 + Duration::from_micros(u64::from(i) * 90);
            assert!(!b.expired(now));
            b.waste(Waste::NoData("empty CMD_DATA".into())).unwrap();
        }
        assert_eq!(b.deadline(), t0 + S);
        assert!(b.expired(t0 + S));
        let e = b.expire(t0 + S).unwrap();
        assert!(matches!(
            e,
            SessionError::NoProgress {
                frames: 10_000,
                corrupt: 0,
                ..
            }
        ));
    }

    #[test]
    fn progress_extends_within_the_allowance_only() {
        let t0 = Instant::now();
        let mut b = Budget::new(t0, S, S, 8);
        // 5 exchanges of 1 s and 3 KiB at 200 ms: 5.6 s.
        let allowance = Budget::bulk_allowance(S, 3 * 1024, 1024, 0);
        assert_eq!(allowance, S * 5 + FIRMWARE_PACE_PER_KIB * 3);
        b.set_allowance(allowance);
        let mut now = t0;
        for _ in 0..20 {
            now += S / 2;
            if b.expired(now) {
                break;
            }
            b.progress(now); // a device dripping data every 0.5 s
        }
        assert_eq!(b.deadline(), t0 + allowance);
        assert!(b.expired(t0 + allowance));
        assert!(!b.expired(t0 + allowance - Duration::from_millis(1)));
    }

    #[test]
    fn frame_budget_ends_a_flood() {
        let t0 = Instant::now();
        let mut b = Budget::new(t0, S, S, Budget::frame_allowance(0xFFC0, 3));
        let mut n = 0u32;
        let err = loop {
            n += 1;
            if let Err(e) = b.waste(Waste::Corrupt("bad checksum".into())) {
                break e;
            }
            assert!(n < 100_000, "never ends");
        };
        assert_eq!(n, Budget::frame_allowance(0xFFC0, 3) + 1);
        assert!(err.to_string().contains("corrupt"), "{err}");
    }

    #[test]
    fn silence_is_a_plain_timeout() {
        let t0 = Instant::now();
        let b = Budget::new(t0, S, S, 8);
        assert_eq!(b.expire(t0 + S), None);
    }
}
