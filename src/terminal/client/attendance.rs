//! Attendance download: as a `Vec`, or as a `Stream` that parses records
//! while chunks arrive (memory independent of the log size).

use super::{BulkPull, Client, Error};
use crate::terminal::record::attendance::{Attendance, AttendanceLayout};
use crate::terminal::record::bulk::BulkRead;
use crate::terminal::record::time::{DeviceTime, InvalidTime};
use crate::terminal::request::Request;
use crate::terminal::session::RecordSplitter;
use futures_core::Stream;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;

/// How far a download has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Buffer bytes received.
    pub bytes_done: u64,
    /// Buffer size announced by the device.
    pub bytes_total: Option<u64>,
    /// Records parsed (before the `since` filter).
    pub records_done: u64,
    /// Records in the buffer.
    pub records_total: Option<u64>,
}

/// Progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Options of [`Client::attendance_stream`].
///
/// ```
/// use zkproto::terminal::client::StreamOptions;
/// use zkproto::terminal::record::DeviceTime;
/// let o = StreamOptions::new()
///     .since(DeviceTime::new(2024, 1, 1, 0, 0, 0))
///     .progress(|p| eprintln!("{}/{:?} bytes", p.bytes_done, p.bytes_total));
/// assert!(format!("{o:?}").contains("since: Some(DeviceTime { year: 2024"));
/// ```
#[derive(Clone, Default)]
pub struct StreamOptions {
    since: Option<DeviceTime>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for StreamOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOptions")
            .field("since", &self.since)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl StreamOptions {
    /// No filter, no callback.
    ///
    /// ```
    /// # use zkproto::terminal::client::StreamOptions;
    /// # use zkproto::terminal::record::DeviceTime;
    /// assert!(format!("{:?}", StreamOptions::new()).contains("since: None"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
    /// Keep only records at or after `t` (compared field by field; the
    /// device clock has no time zone).
    ///
    /// ```
    /// # use zkproto::terminal::client::StreamOptions;
    /// # use zkproto::terminal::record::DeviceTime;
    /// let t = DeviceTime::new(2024, 6, 1, 8, 0, 0);
    /// let o = StreamOptions::new().since(t);
    /// assert!(format!("{o:?}").contains("month: 6, day: 1, hour: 8"));
    /// ```
    pub fn since(mut self, t: DeviceTime) -> Self {
        self.since = Some(t);
        self
    }
    /// Calls `f` after every received piece of data.
    ///
    /// ```
    /// # use zkproto::terminal::client::StreamOptions;
    /// # use zkproto::terminal::record::DeviceTime;
    /// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
    /// let seen = Arc::new(AtomicU64::new(0));
    /// let s = seen.clone();
    /// let o = StreamOptions::new().progress(move |p| s.store(p.bytes_done, Ordering::Relaxed));
    /// assert!(format!("{o:?}").contains("progress: true"));
    /// ```
    pub fn progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// A record whose time is not a real date-time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidRecord {
    /// Index in [`AttendanceLog::records`].
    pub index: usize,
    /// What is wrong with its time.
    pub error: InvalidTime,
}

/// The whole attendance log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttendanceLog {
    /// Every record, in device order (impossible dates included).
    pub records: Vec<Attendance>,
    /// Records with impossible dates (pyzk #175, #211): reported, not fatal.
    pub invalid: Vec<InvalidRecord>,
    /// The record layout, when there were records.
    pub layout: Option<AttendanceLayout>,
}

struct AttState<'a> {
    client: &'a mut Client,
    pull: Option<BulkPull>,
    splitter: RecordSplitter,
    layout: Option<AttendanceLayout>,
    queue: VecDeque<Attendance>,
    opts: StreamOptions,
    progress: Progress,
    count: u32,
    done: bool,
}

impl AttState<'_> {
    async fn start(&mut self) -> Result<bool, Error> {
        let sizes = self.client.free_sizes().await?;
        self.count = u32::try_from(sizes.records).unwrap_or(0);
        if self.count == 0 {
            return Ok(false);
        }
        self.pull = Some(self.client.bulk_begin(BulkRead::attendance()).await?);
        Ok(true)
    }

    fn take_piece(&mut self, piece: &[u8]) -> Result<(), Error> {
        let count = self.count;
        let layout = Cell::new(self.layout);
        let failed: Cell<Option<crate::terminal::record::RecordError>> = Cell::new(None);
        let since = self.opts.since;
        let queue = &mut self.queue;
        let mut parsed = 0u64;
        self.splitter.push(
            piece,
            |total| {
                let l = AttendanceLayout::detect(total as usize, Some(count))?;
                layout.set(Some(l));
                Ok(l.record_len())
            },
            |rec| {
                let Some(l) = layout.get() else { return };
                match Attendance::parse(rec, l) {
                    Ok(a) => {
                        parsed += 1;
                        if since.is_none_or(|s| a.time >= s) {
                            queue.push_back(a);
                        }
                    }
                    Err(e) => {
                        let prev = failed.take();
                        failed.set(prev.or(Some(e)));
                    }
                }
            },
        )?;
        if let Some(e) = failed.take() {
            return Err(e.into());
        }
        self.layout = layout.get();
        self.progress.records_done += parsed;
        if let (Some(total), Some(l)) = (self.splitter.total(), self.layout) {
            self.progress.records_total = Some(u64::from(total) / l.record_len() as u64);
        }
        Ok(())
    }

    async fn next(&mut self) -> Option<Result<Attendance, Error>> {
        loop {
            if let Some(a) = self.queue.pop_front() {
                return Some(Ok(a));
            }
            if self.done {
                return None;
            }
            match self.step().await {
                Ok(()) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }

    async fn step(&mut self) -> Result<(), Error> {
        if self.pull.is_none() && !self.start().await? {
            self.done = true;
            return Ok(());
        }
        let Some(pull) = &mut self.pull else {
            return Ok(());
        };
        match self.client.bulk_next(pull).await? {
            None => {
                self.done = true;
                let sp = &self.splitter;
                if let Some(total) = sp.total() {
                    let received = sp.record_bytes() + sp.trailing();
                    let held = self
                        .layout
                        .map_or(0, |l| sp.record_bytes() / l.record_len() as u64);
                    super::check_table("attendance", total, received, self.count, held)?;
                }
                self.splitter.finish()?;
            }
            Some(piece) => {
                let reader = &pull.transfer.reader();
                self.progress.bytes_done = u64::from(reader.delivered());
                self.progress.bytes_total = reader.size().map(u64::from);
                self.take_piece(&piece)?;
                let record_bytes = self.layout.map_or(0, |l| l.record_len());
                let held = piece.len()
                    + self.splitter.buffered()
                    + self.queue.len() * record_bytes
                    + self.client.link.buffered();
                self.client.session.note_buffered(held);
                if let Some(f) = &self.opts.progress {
                    f(&self.progress);
                }
            }
        }
        Ok(())
    }
}

impl Client {
    /// Downloads the whole attendance log. Records with impossible dates
    /// are kept and listed in [`AttendanceLog::invalid`].
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let log = dev.attendance().await?;
    /// for a in &log.records {
    ///     println!("{} {}", a.user_id(), a.time);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn attendance(&mut self) -> Result<AttendanceLog, Error> {
        let mut st = self.att_state(StreamOptions::new());
        let mut log = AttendanceLog::default();
        while let Some(r) = st.next().await {
            let a = r?;
            if let Some(error) = a.time_error() {
                log.invalid.push(InvalidRecord {
                    index: log.records.len(),
                    error,
                });
            }
            log.records.push(a);
        }
        log.layout = st.layout;
        Ok(log)
    }

    fn att_state(&mut self, opts: StreamOptions) -> AttState<'_> {
        AttState {
            client: self,
            pull: None,
            splitter: RecordSplitter::new(),
            layout: None,
            queue: VecDeque::new(),
            opts,
            progress: Progress::default(),
            count: 0,
            done: false,
        }
    }

    /// Streams the attendance log: records are parsed as each packet
    /// arrives, so memory stays bounded for any log size. Progress is
    /// reported through [`StreamOptions::progress`]; [`StreamOptions::since`]
    /// filters on the client. After an error the stream ends.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use zkproto::terminal::client::StreamOptions;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let mut s = std::pin::pin!(dev.attendance_stream(StreamOptions::new()));
    /// while let Some(rec) = s.next().await {
    ///     let rec = rec?;
    ///     println!("{} {}", rec.user_id(), rec.time);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn attendance_stream(
        &mut self,
        opts: StreamOptions,
    ) -> impl Stream<Item = Result<Attendance, Error>> + Send + '_ {
        let st = self.att_state(opts);
        futures_util::stream::unfold(st, |mut st| async move {
            st.next().await.map(|item| (item, st))
        })
    }

    /// Deletes every attendance record (`CMD_CLEAR_ATTLOG`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.clear_attendance().await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_attendance(&mut self) -> Result<(), Error> {
        self.command(Request::clear_attendance()).await?;
        Ok(())
    }
}
