//! Incremental, resumable attendance download and the safe clear, on top
//! of the sans-IO [`sync`](crate::terminal::sync) module.
//!
//! An [`AttendanceSync`] holds a [`SyncCursor`] and the records taken so far;
//! the cursor advances with every whole record, so a download broken by a
//! dropped connection continues on a new connection where it stopped, and
//! no record is handed over twice.

use super::attendance::{Progress, ProgressFn};
use super::{Client, Error};
use crate::terminal::record::attendance::Attendance;
use crate::terminal::record::bulk::BulkRead;
use crate::terminal::sync::{
    Discontinuity, SizeCheck, SyncCursor, SyncDecoder, SyncError, SyncPlan, TailPlan,
};
use std::future::Future;

/// What a sync does when the device's log does not continue its cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnDiscontinuity {
    /// Download the whole current log (the outcome says so).
    #[default]
    Restart,
    /// Stop and report it; nothing is downloaded.
    Stop,
}

/// How a sync ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The device's log continued the cursor: the records are exactly the
    /// new ones.
    Continued,
    /// The log did not continue the cursor, and the whole current log was
    /// downloaded: records from index `from` on are that log (records of
    /// the old log may be among them when the device rotated or restored
    /// it; the client cannot tell).
    Restarted {
        /// Why.
        reason: Discontinuity,
        /// Index in the sync's records where the current log starts.
        from: usize,
    },
    /// The log did not continue the cursor and the policy was
    /// [`OnDiscontinuity::Stop`]: nothing more was downloaded.
    Stopped(Discontinuity),
}

/// An attendance download that continues a cursor and survives broken
/// connections: call [`Client::sync_attendance`] with it until it returns
/// `Ok`, reconnecting after network errors; every record is taken once.
///
/// ```
/// use zkproto::terminal::client::{AttendanceSync, Client, Options};
/// use zkproto::terminal::sim::{SimConfig, Simulator};
/// use zkproto::terminal::sync::SyncCursor;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sim = Simulator::new(SimConfig { attendance: 30, ..SimConfig::default() });
/// let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
/// let addr = server.tcp_addr().unwrap();
/// let mut sync = AttendanceSync::new(SyncCursor::new());
/// loop {
///     let mut dev = Client::connect(addr, Options::new()).await?;
///     match dev.sync_attendance(&mut sync).await {
///         Ok(_) => break,
///         Err(e) if e.is_network() => continue, // resumes where it stopped
///         Err(e) => return Err(e.into()),
///     }
/// }
/// assert_eq!(sync.records().len(), 30);
/// assert_eq!(sync.cursor().records(), 30);
/// # server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct AttendanceSync {
    cursor: SyncCursor,
    records: Vec<Attendance>,
    restarted: Option<(Discontinuity, usize)>,
    policy: OnDiscontinuity,
    progress: Option<ProgressFn>,
    read: u64,
}

impl std::fmt::Debug for AttendanceSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttendanceSync")
            .field("cursor", &self.cursor)
            .field("records", &self.records.len())
            .field("restarted", &self.restarted)
            .field("policy", &self.policy)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl AttendanceSync {
    /// A sync continuing `cursor` ([`SyncCursor::new`] for a first, full
    /// download).
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let s = AttendanceSync::new(SyncCursor::new());
    /// assert!(s.records().is_empty());
    /// ```
    pub fn new(cursor: SyncCursor) -> Self {
        AttendanceSync {
            cursor,
            ..Self::default()
        }
    }

    /// What to do when the log does not continue the cursor (default:
    /// [`OnDiscontinuity::Restart`]).
    ///
    /// ```
    /// # use zkproto::terminal::client::{AttendanceSync, OnDiscontinuity};
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let s = AttendanceSync::new(SyncCursor::new()).on_discontinuity(OnDiscontinuity::Stop);
    /// assert_eq!(s.policy(), OnDiscontinuity::Stop);
    /// ```
    pub fn on_discontinuity(mut self, policy: OnDiscontinuity) -> Self {
        self.policy = policy;
        self
    }

    /// The policy in force.
    ///
    /// ```
    /// # use zkproto::terminal::client::{AttendanceSync, OnDiscontinuity};
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert_eq!(AttendanceSync::new(SyncCursor::new()).policy(), OnDiscontinuity::Restart);
    /// ```
    pub fn policy(&self) -> OnDiscontinuity {
        self.policy
    }

    /// Calls `f` after every received piece of data (bytes count from the
    /// start of the device's buffer; a tail read starts near its end).
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let s = AttendanceSync::new(SyncCursor::new()).progress(|p| eprintln!("{}", p.bytes_done));
    /// assert!(format!("{s:?}").contains("progress: true"));
    /// ```
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(std::sync::Arc::new(f));
        self
    }

    /// The cursor after the records taken so far: store it with them.
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert!(AttendanceSync::new(SyncCursor::new()).cursor().is_start());
    /// ```
    pub fn cursor(&self) -> &SyncCursor {
        &self.cursor
    }

    /// The records taken so far, in device order.
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert_eq!(AttendanceSync::new(SyncCursor::new()).records().len(), 0);
    /// ```
    pub fn records(&self) -> &[Attendance] {
        &self.records
    }

    /// Hands over the records taken so far (they will not be handed over
    /// again; the cursor still counts them).
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let mut s = AttendanceSync::new(SyncCursor::new());
    /// assert!(s.take_records().is_empty());
    /// ```
    pub fn take_records(&mut self) -> Vec<Attendance> {
        if let Some((_, from)) = &mut self.restarted {
            *from = 0;
        }
        std::mem::take(&mut self.records)
    }

    /// Buffer bytes received with `CMD_READ_BUFFER` (or in a direct
    /// `1503` reply) by this sync, over all its attempts.
    ///
    /// ```
    /// # use zkproto::terminal::client::AttendanceSync;
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert_eq!(AttendanceSync::new(SyncCursor::new()).bytes_read(), 0);
    /// ```
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The outcome so far.
    fn outcome(&self) -> SyncOutcome {
        match &self.restarted {
            Some((reason, from)) => SyncOutcome::Restarted {
                reason: reason.clone(),
                from: *from,
            },
            None => SyncOutcome::Continued,
        }
    }

    /// Handles a discontinuity: `Some` when the sync stops.
    fn discontinued(&mut self, d: Discontinuity) -> Option<SyncOutcome> {
        tracing::info!(reason = %d, "attendance log does not continue the cursor");
        match self.policy {
            OnDiscontinuity::Stop => Some(SyncOutcome::Stopped(d)),
            OnDiscontinuity::Restart => {
                self.restarted = Some((d, self.records.len()));
                self.cursor = SyncCursor::new();
                None
            }
        }
    }

    /// The records and cursor, as a batch.
    fn into_batch(self, outcome: SyncOutcome) -> AttendanceBatch {
        AttendanceBatch {
            records: self.records,
            cursor: self.cursor,
            outcome,
        }
    }
}

/// The result of [`Client::attendance_since`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceBatch {
    /// The new records, in device order.
    pub records: Vec<Attendance>,
    /// The cursor to continue from next time.
    pub cursor: SyncCursor,
    /// Whether the log continued the old cursor.
    pub outcome: SyncOutcome,
}

/// The result of a safe clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClearOutcome {
    /// The log held exactly the archived records and was cleared.
    Cleared {
        /// Records deleted.
        records: u32,
    },
    /// The log changed after the records were archived: nothing was
    /// deleted.
    Changed(LogChange),
}

/// How the log differs from what was archived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogChange {
    /// New records arrived.
    NewRecords {
        /// Records archived.
        archived: u32,
        /// Records on the device now.
        now: u32,
    },
    /// The log does not continue the archived records.
    Discontinued(Discontinuity),
}

impl std::fmt::Display for LogChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogChange::NewRecords { archived, now } => write!(
                f,
                "{} new attendance record(s) arrived after the {archived} archived ones",
                now.saturating_sub(*archived)
            ),
            LogChange::Discontinued(d) => d.fmt(f),
        }
    }
}

/// What one read of a sync ended with.
enum ReadEnd {
    Done,
    Discontinued(Discontinuity),
}

impl Client {
    /// Downloads the attendance records a cursor has not seen: the records
    /// after it when the device's log continues it (only those bytes, and
    /// the cursor's last records to prove continuity, are read), else the
    /// whole log ([`SyncOutcome::Restarted`]). For a download that must
    /// survive a dropped connection, use [`sync_attendance`](Self::sync_attendance).
    ///
    /// ```
    /// use zkproto::terminal::client::{Client, Options, SyncOutcome};
    /// use zkproto::terminal::sim::{SimConfig, Simulator};
    /// use zkproto::terminal::sync::SyncCursor;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sim = Simulator::new(SimConfig { users: 3, attendance: 50, ..SimConfig::default() });
    /// let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// let mut dev = Client::connect(server.tcp_addr().unwrap(), Options::new()).await?;
    /// let first = dev.attendance_since(&SyncCursor::new()).await?;
    /// assert_eq!(first.records.len(), 50);
    /// let user = sim.users()[0].user_id(sim.encoding());
    /// sim.punch(&user, 1, 0);
    /// let next = dev.attendance_since(&first.cursor).await?;
    /// assert_eq!((next.records.len(), next.outcome), (1, SyncOutcome::Continued));
    /// assert_eq!(next.cursor.records(), 51);
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn attendance_since(
        &mut self,
        cursor: &SyncCursor,
    ) -> Result<AttendanceBatch, Error> {
        let mut sync = AttendanceSync::new(cursor.clone());
        let outcome = self.sync_attendance(&mut sync).await?;
        Ok(sync.into_batch(outcome))
    }

    /// Continues `sync`: reads the records after its cursor (see
    /// [`attendance_since`](Self::attendance_since)), adding them to it as
    /// they arrive and advancing its cursor record by record. After an
    /// error, `sync` holds every whole record received; calling again (on
    /// a new connection after a network error) continues from there when
    /// the device's log is unchanged, and follows the sync's
    /// [`OnDiscontinuity`] policy when it is not.
    ///
    /// ```no_run
    /// # use zkproto::terminal::client::{AttendanceSync, Client};
    /// # use zkproto::terminal::sync::SyncCursor;
    /// # async fn run(dev: &mut Client, stored: SyncCursor) -> Result<(), zkproto::terminal::client::Error> {
    /// let mut sync = AttendanceSync::new(stored);
    /// let outcome = dev.sync_attendance(&mut sync).await?;
    /// println!("{} new record(s), {outcome:?}", sync.records().len());
    /// # Ok(()) }
    /// ```
    pub async fn sync_attendance(
        &mut self,
        sync: &mut AttendanceSync,
    ) -> Result<SyncOutcome, Error> {
        loop {
            let count = u32::try_from(self.free_sizes().await?.records).unwrap_or(0);
            let plan = match sync.cursor.plan(count) {
                Ok(p) => p,
                Err(d) => match sync.discontinued(d) {
                    Some(stop) => return Ok(stop),
                    None => continue,
                },
            };
            let end = match plan {
                SyncPlan::Empty => ReadEnd::Done,
                SyncPlan::Full => {
                    self.sync_read(sync, SyncDecoder::full(count), None, count)
                        .await?
                }
                SyncPlan::Tail(p) => {
                    let d = SyncDecoder::tail(&sync.cursor, &p);
                    self.sync_read(sync, d, Some(p), count).await?
                }
            };
            match end {
                ReadEnd::Done => return Ok(sync.outcome()),
                ReadEnd::Discontinued(d) => {
                    if let Some(stop) = sync.discontinued(d) {
                        return Ok(stop);
                    }
                }
            }
        }
    }

    /// One read of the attendance buffer, from the plan's offset (0 for a
    /// full read).
    async fn sync_read(
        &mut self,
        sync: &mut AttendanceSync,
        mut decoder: SyncDecoder,
        plan: Option<TailPlan>,
        count: u32,
    ) -> Result<ReadEnd, Error> {
        let offset = plan.map_or(0, |p| p.offset);
        let mut pull = self.bulk_begin_at(BulkRead::attendance(), offset).await?;
        let mut size_checked = plan.is_none();
        let mut progress = Progress::default();
        loop {
            let piece = self.bulk_next(&mut pull).await?;
            if let (false, Some(p), Some(size)) =
                (size_checked, plan, pull.transfer.reader().size())
            {
                size_checked = true;
                match sync.cursor.check_size(&p, size) {
                    Ok(()) => {}
                    Err(SizeCheck::Discontinued(d)) => {
                        self.bulk_abort(&mut pull).await;
                        return Ok(ReadEnd::Discontinued(d));
                    }
                    Err(SizeCheck::Mismatch(m)) => {
                        self.bulk_abort(&mut pull).await;
                        let records = size.saturating_sub(4);
                        return Err(Error::TableMismatch {
                            table: "attendance",
                            length_field: records,
                            received: u64::from(records),
                            device_count: m.device_count,
                        });
                    }
                }
            }
            let Some(piece) = piece else { break };
            sync.read += piece.len() as u64;
            let records = &mut sync.records;
            match decoder.push(&piece, |a| records.push(a)) {
                Ok(()) => {}
                Err(SyncError::Discontinued(d)) => {
                    self.bulk_abort(&mut pull).await;
                    return Ok(ReadEnd::Discontinued(d));
                }
                Err(e) => {
                    sync.cursor = decoder.cursor().clone();
                    self.bulk_abort(&mut pull).await;
                    return Err(sync_error(e));
                }
            }
            sync.cursor = decoder.cursor().clone();
            let held = piece.len() + decoder.buffered() + self.link.buffered();
            self.session.note_buffered(held);
            if let Some(f) = &sync.progress {
                progress.bytes_done = u64::from(pull.transfer.reader().delivered());
                progress.bytes_total = pull.transfer.reader().size().map(u64::from);
                progress.records_done = u64::from(sync.cursor.records());
                progress.records_total = Some(u64::from(count));
                f(&progress);
            }
        }
        decoder.finish().map_err(sync_error)?;
        Ok(ReadEnd::Done)
    }

    /// Ends a bulk read early: the rest of a burst in flight is discarded
    /// as stale, and the device's buffer is released (best effort).
    async fn bulk_abort(&mut self, pull: &mut super::BulkPull) {
        self.session.finish();
        if pull.finish_early() {
            let free = pull.transfer.reader().free_request();
            if let Err(e) = self.raw_roundtrip(free, self.options.timeout).await {
                tracing::debug!(error = %e, "CMD_FREE_DATA after an abandoned read failed");
            }
        }
    }

    /// Re-checks, with the keypad disabled, that the device's log is exactly
    /// what `cursor` saw (same count, same last records), then clears it and
    /// re-enables the device. Refuses ([`ClearOutcome::Changed`]) when
    /// anything changed. Pair it with a download that ends in `cursor`.
    ///
    /// ```
    /// use zkproto::terminal::client::{Client, ClearOutcome, Options};
    /// use zkproto::terminal::sim::{SimConfig, Simulator};
    /// use zkproto::terminal::sync::SyncCursor;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sim = Simulator::new(SimConfig { users: 2, attendance: 10, ..SimConfig::default() });
    /// let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// let mut dev = Client::connect(server.tcp_addr().unwrap(), Options::new()).await?;
    /// let batch = dev.attendance_since(&SyncCursor::new()).await?;
    /// // ... store batch.records safely ...
    /// sim.punch(&sim.users()[0].user_id(sim.encoding()), 1, 0); // a late punch
    /// assert!(matches!(dev.clear_attendance_if_unchanged(&batch.cursor).await?, ClearOutcome::Changed(_)));
    /// assert_eq!(sim.attendance().len(), 11); // nothing lost
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn clear_attendance_if_unchanged(
        &mut self,
        cursor: &SyncCursor,
    ) -> Result<ClearOutcome, Error> {
        let mut g = self.disable().await?;
        // The count first: a changed log is refused without reading it.
        let now = u32::try_from(g.free_sizes().await?.records).unwrap_or(0);
        let change = if now > cursor.records() {
            Some(LogChange::NewRecords {
                archived: cursor.records(),
                now,
            })
        } else {
            // Same count (or fewer: the plan reports it): the last records
            // must be the archived ones.
            let mut check =
                AttendanceSync::new(cursor.clone()).on_discontinuity(OnDiscontinuity::Stop);
            match g.sync_attendance(&mut check).await? {
                SyncOutcome::Stopped(d) => Some(LogChange::Discontinued(d)),
                _ if check.cursor.records() != cursor.records() => Some(LogChange::NewRecords {
                    archived: cursor.records(),
                    now: check.cursor.records(),
                }),
                _ => None,
            }
        };
        if let Some(change) = change {
            tracing::info!(%change, "attendance log changed: not cleared");
            g.enable().await?;
            return Ok(ClearOutcome::Changed(change));
        }
        g.clear_attendance().await?;
        g.enable().await?;
        Ok(ClearOutcome::Cleared {
            records: cursor.records(),
        })
    }

    /// Clears the attendance log without losing a punch: downloads it,
    /// hands the records to `archive` (which must store them durably —
    /// write, flush, fsync — before returning `Ok`), then clears with
    /// [`clear_attendance_if_unchanged`](Self::clear_attendance_if_unchanged).
    /// Nothing is cleared when `archive` fails (its error is returned as
    /// [`Error::Io`]) or when the log changed meanwhile.
    ///
    /// ```
    /// use zkproto::terminal::client::{Client, ClearOutcome, Options};
    /// use zkproto::terminal::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sim = Simulator::new(SimConfig { attendance: 10, ..SimConfig::default() });
    /// let server = sim.serve(Some("127.0.0.1:0".parse()?), None).await?;
    /// let mut dev = Client::connect(server.tcp_addr().unwrap(), Options::new()).await?;
    /// let stored = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// let s = stored.clone();
    /// let outcome = dev
    ///     .clear_attendance_after(|batch| async move {
    ///         s.lock().unwrap().extend(batch.records); // a real archive fsyncs a file
    ///         Ok(())
    ///     })
    ///     .await?;
    /// assert_eq!(outcome, ClearOutcome::Cleared { records: 10 });
    /// assert_eq!(stored.lock().unwrap().len(), 10);
    /// assert!(sim.attendance().is_empty());
    /// # dev.disconnect().await?;
    /// # server.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn clear_attendance_after<F, Fut>(
        &mut self,
        archive: F,
    ) -> Result<ClearOutcome, Error>
    where
        F: FnOnce(AttendanceBatch) -> Fut,
        Fut: Future<Output = std::io::Result<()>>,
    {
        let batch = self.attendance_since(&SyncCursor::new()).await?;
        let cursor = batch.cursor.clone();
        archive(batch).await?;
        self.clear_attendance_if_unchanged(&cursor).await
    }
}

/// A sync decoding error as a client error.
fn sync_error(e: SyncError) -> Error {
    match e {
        SyncError::Record(r) => r.into(),
        SyncError::TableMismatch {
            length_field,
            received,
            device_count,
        } => Error::TableMismatch {
            table: "attendance",
            length_field,
            received,
            device_count,
        },
        SyncError::Discontinued(d) => Error::Discontinued(d),
    }
}
