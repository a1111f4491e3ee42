//! Incremental attendance download ("sync"), sans-IO.
//!
//! After `CMD_PREPARE_BUFFER` the device holds the whole attendance table
//! in the session buffer (`u32 total` then fixed-size records, §4.6) and
//! `CMD_READ_BUFFER` reads any `(offset, length)` of it (§4.3). A client that
//! remembers how many records it has seen — a [`SyncCursor`] — can read only
//! the records it has not seen, after checking that the device's log still
//! continues what it saw: the cursor keeps the bytes of its last
//! [`FINGERPRINT_RECORDS`] records, and the tail read starts with them, so
//! they are compared byte for byte before any new record is accepted.
//!
//! The same cursor makes a broken download resumable: it advances with
//! every whole record handed over, so after a dropped connection the next
//! read starts at the first record not yet delivered.
//!
//! This module decides what to read ([`SyncCursor::plan`]) and checks and
//! splits what arrives ([`SyncDecoder`]); the client moves the bytes.
//!
//! ```
//! use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
//! use zkproto::terminal::record::DeviceTime;
//! use zkproto::terminal::sync::{SyncCursor, SyncDecoder, SyncPlan};
//! let rec = |user: &str, min| {
//!     Attendance::new(AttendanceLayout::Tft40, 1, user, 1, 0, DeviceTime::new(2024, 5, 1, 8, min, 0), 0)
//!         .unwrap().to_bytes().unwrap()
//! };
//! // The first download reads the whole table.
//! let mut table = vec![80, 0, 0, 0];
//! table.extend_from_slice(&rec("1", 0));
//! table.extend_from_slice(&rec("2", 1));
//! let mut first = SyncDecoder::full(2);
//! let mut got = Vec::new();
//! first.push(&table, |a| got.push(a)).unwrap();
//! first.finish().unwrap();
//! let cursor = first.cursor().clone();
//! assert_eq!((got.len(), cursor.records()), (2, 2));
//! // Later the device holds one more record: read only the tail.
//! let SyncPlan::Tail(plan) = cursor.plan(3).unwrap() else { panic!() };
//! assert_eq!(plan.offset, 4); // the 2 known records, then the new one
//! table.extend_from_slice(&rec("3", 2));
//! let mut next = SyncDecoder::tail(&cursor, &plan);
//! let mut new = Vec::new();
//! next.push(&table[plan.offset as usize..], |a| new.push(a)).unwrap();
//! next.finish().unwrap();
//! assert_eq!(new.len(), 1);
//! assert_eq!(new[0].user_id(), "3");
//! assert_eq!(next.cursor().records(), 3);
//! ```

use crate::terminal::record::RecordError;
use crate::terminal::record::attendance::{Attendance, AttendanceLayout};
use crate::terminal::session::RecordSplitter;

/// How many of the last records a cursor keeps, to prove that the device's
/// log still continues it.
pub const FINGERPRINT_RECORDS: u32 = 2;

/// Size of the table prefix (`u32 total`, §4.6).
const HEADER: u64 = 4;

/// What a client has seen of a device's attendance log: the record count,
/// the record layout, and the bytes of the last records (at most
/// [`FINGERPRINT_RECORDS`]).
///
/// A small value meant to be stored between downloads; with the `serde`
/// feature it serialises as `{"records": N, "record_len": L, "tail": "hex"}`
/// and is checked when read back.
///
/// ```
/// use zkproto::terminal::sync::SyncCursor;
/// let c = SyncCursor::new();
/// assert_eq!((c.records(), c.layout()), (0, None));
/// assert!(c.tail().is_empty());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "CursorRepr", into = "CursorRepr")
)]
pub struct SyncCursor {
    records: u32,
    layout: Option<AttendanceLayout>,
    tail: Vec<u8>,
}

impl std::fmt::Debug for SyncCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncCursor")
            .field("records", &self.records)
            .field("record_len", &self.layout.map(|l| l.record_len()))
            .field("tail_bytes", &self.tail.len())
            .finish()
    }
}

/// Why a cursor cannot be built from parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCursor(&'static str);

impl std::fmt::Display for BadCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid sync cursor: {}", self.0)
    }
}

impl std::error::Error for BadCursor {}

impl SyncCursor {
    /// The cursor of a client that has seen nothing: the next sync reads
    /// the whole log.
    ///
    /// ```
    /// # use zkproto::terminal::sync::{SyncCursor, SyncPlan};
    /// assert_eq!(SyncCursor::new().plan(10), Ok(SyncPlan::Full));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a cursor from stored parts, checking that they fit together:
    /// `tail` holds the last `min(records, FINGERPRINT_RECORDS)` records of
    /// `record_len` bytes, and `record_len` is a known attendance layout.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let c = SyncCursor::from_parts(1, 8, vec![7; 8]).unwrap();
    /// assert_eq!(c.records(), 1);
    /// assert!(SyncCursor::from_parts(5, 8, vec![7; 8]).is_err()); // needs 2 records
    /// assert!(SyncCursor::from_parts(1, 28, vec![7; 28]).is_err()); // no such layout
    /// ```
    pub fn from_parts(records: u32, record_len: usize, tail: Vec<u8>) -> Result<Self, BadCursor> {
        if records == 0 {
            if !tail.is_empty() {
                return Err(BadCursor("a cursor at the start holds no records"));
            }
            return Ok(Self::new());
        }
        let layout = AttendanceLayout::from_record_len(record_len)
            .ok_or(BadCursor("unknown attendance record length"))?;
        let kept = records.min(FINGERPRINT_RECORDS) as usize;
        if tail.len() != kept * record_len {
            return Err(BadCursor(
                "the tail must hold the last min(records, 2) records",
            ));
        }
        Ok(SyncCursor {
            records,
            layout: Some(layout),
            tail,
        })
    }

    /// Records seen (the index of the next record to read).
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert_eq!(SyncCursor::new().records(), 0);
    /// ```
    pub fn records(&self) -> u32 {
        self.records
    }

    /// The record layout, once records were seen.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncCursor;
    /// use zkproto::terminal::record::attendance::AttendanceLayout;
    /// let c = SyncCursor::from_parts(1, 16, vec![0; 16]).unwrap();
    /// assert_eq!(c.layout(), Some(AttendanceLayout::Extended16));
    /// ```
    pub fn layout(&self) -> Option<AttendanceLayout> {
        self.layout
    }

    /// The bytes of the last records seen (at most [`FINGERPRINT_RECORDS`]).
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncCursor;
    /// let c = SyncCursor::from_parts(3, 8, vec![1; 16]).unwrap();
    /// assert_eq!(c.tail().len(), 16);
    /// ```
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Whether nothing has been seen yet.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncCursor;
    /// assert!(SyncCursor::new().is_start());
    /// ```
    pub fn is_start(&self) -> bool {
        self.records == 0
    }

    /// Counts one more record (`raw`: its bytes, of the cursor's layout).
    fn push(&mut self, layout: AttendanceLayout, raw: &[u8]) {
        let len = layout.record_len();
        self.layout = Some(layout);
        self.records = self.records.saturating_add(1);
        let keep = (FINGERPRINT_RECORDS as usize - 1) * len;
        if self.tail.len() > keep {
            self.tail.drain(..self.tail.len() - keep);
        }
        self.tail.extend_from_slice(raw);
    }

    /// What to read when the device reports `device_records` records
    /// (`CMD_GET_FREE_SIZES`), or why its log cannot continue this cursor.
    ///
    /// ```
    /// # use zkproto::terminal::sync::{Discontinuity, SyncCursor, SyncPlan};
    /// let c = SyncCursor::from_parts(100, 40, vec![0; 80]).unwrap();
    /// let SyncPlan::Tail(p) = c.plan(103).unwrap() else { panic!() };
    /// assert_eq!(p.offset, 4 + 98 * 40); // the 2 known records first
    /// assert_eq!(p.expected_size, 4 + 103 * 40);
    /// assert_eq!((p.known, p.new), (2, 3));
    /// assert_eq!(c.plan(7), Err(Discontinuity::Shrunk { had: 100, now: 7 }));
    /// assert_eq!(SyncCursor::new().plan(0), Ok(SyncPlan::Empty));
    /// ```
    pub fn plan(&self, device_records: u32) -> Result<SyncPlan, Discontinuity> {
        let Some(layout) = self.layout.filter(|_| self.records > 0) else {
            return Ok(if device_records == 0 {
                SyncPlan::Empty
            } else {
                SyncPlan::Full
            });
        };
        if device_records < self.records {
            return Err(Discontinuity::Shrunk {
                had: self.records,
                now: device_records,
            });
        }
        let len = layout.record_len() as u64;
        let known = self.records.min(FINGERPRINT_RECORDS);
        let offset = HEADER + u64::from(self.records - known) * len;
        let expected = HEADER + u64::from(device_records) * len;
        let (Ok(offset), Ok(expected_size)) = (u32::try_from(offset), u32::try_from(expected))
        else {
            return Err(Discontinuity::LayoutChanged {
                had: layout.record_len(),
                now: None,
            });
        };
        Ok(SyncPlan::Tail(TailPlan {
            offset,
            expected_size,
            known,
            new: device_records - self.records,
            layout,
        }))
    }

    /// Checks the buffer size the device announced (`CMD_PREPARE_BUFFER`)
    /// against a tail plan: `Ok` when it is `4 + count × record length`;
    /// a [`Discontinuity::LayoutChanged`] when it fits another layout; a
    /// [`SizeMismatch`] (the device's count and table disagree) otherwise.
    ///
    /// ```
    /// # use zkproto::terminal::sync::{Discontinuity, SyncCursor, SyncPlan};
    /// let c = SyncCursor::from_parts(2, 40, vec![0; 80]).unwrap();
    /// let SyncPlan::Tail(p) = c.plan(3).unwrap() else { panic!() };
    /// assert!(c.check_size(&p, 4 + 120).is_ok());
    /// let changed = c.check_size(&p, 4 + 3 * 49).unwrap_err();
    /// assert_eq!(changed.discontinuity(), Some(&Discontinuity::LayoutChanged { had: 40, now: Some(49) }));
    /// assert!(c.check_size(&p, 4 + 130).unwrap_err().discontinuity().is_none());
    /// ```
    pub fn check_size(&self, plan: &TailPlan, announced: u32) -> Result<(), SizeCheck> {
        if announced == plan.expected_size {
            return Ok(());
        }
        let count = self.records + plan.new;
        let records_len = u64::from(announced).saturating_sub(HEADER);
        if announced >= HEADER as u32
            && count > 0
            && records_len.is_multiple_of(u64::from(count))
            && let Some(l) = usize::try_from(records_len / u64::from(count))
                .ok()
                .and_then(AttendanceLayout::from_record_len)
            && l != plan.layout
        {
            return Err(SizeCheck::Discontinued(Discontinuity::LayoutChanged {
                had: plan.layout.record_len(),
                now: Some(l.record_len()),
            }));
        }
        Err(SizeCheck::Mismatch(SizeMismatch {
            announced,
            device_count: count,
        }))
    }
}

/// The result of [`SyncCursor::check_size`] when the size is not the
/// expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeCheck {
    /// The log now has records of another size.
    Discontinued(Discontinuity),
    /// The announced size fits no layout for the device's record count.
    Mismatch(SizeMismatch),
}

impl SizeCheck {
    /// The discontinuity, if that is what it is.
    ///
    /// ```
    /// # use zkproto::terminal::sync::{SizeCheck, SizeMismatch};
    /// let m = SizeCheck::Mismatch(SizeMismatch { announced: 5, device_count: 1 });
    /// assert!(m.discontinuity().is_none());
    /// ```
    pub fn discontinuity(&self) -> Option<&Discontinuity> {
        match self {
            SizeCheck::Discontinued(d) => Some(d),
            SizeCheck::Mismatch(_) => None,
        }
    }
}

/// A buffer size that disagrees with the device's record count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeMismatch {
    /// Buffer size announced by `CMD_PREPARE_BUFFER` (header included).
    pub announced: u32,
    /// Records reported by `CMD_GET_FREE_SIZES`.
    pub device_count: u32,
}

/// What a sync reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncPlan {
    /// Nothing: the device has no records and the cursor is at the start.
    Empty,
    /// The whole table, from offset 0.
    Full,
    /// The known last records then the new ones.
    Tail(TailPlan),
}

/// A read of the end of the attendance table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TailPlan {
    /// Buffer offset of the first byte to read: the first of the cursor's
    /// known records.
    pub offset: u32,
    /// The buffer size the device must announce (`4 + count × length`).
    pub expected_size: u32,
    /// Known records read again to prove continuity.
    pub known: u32,
    /// New records expected.
    pub new: u32,
    /// The record layout.
    pub layout: AttendanceLayout,
}

/// Why a device's log does not continue a cursor. The client then either
/// stops or downloads the whole log again; it never guesses.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Discontinuity {
    /// The device holds fewer records than the cursor saw (cleared, or the
    /// oldest records were deleted).
    Shrunk {
        /// Records the cursor saw.
        had: u32,
        /// Records the device holds now.
        now: u32,
    },
    /// The records have another size (firmware change, another device).
    LayoutChanged {
        /// The cursor's record length.
        had: usize,
        /// The device's record length, when one fits.
        now: Option<usize>,
    },
    /// The record at this index is not the one the cursor saw (the log was
    /// cleared and refilled, rotated, restored, or it is another device).
    Mismatch {
        /// Index of the first record that differs.
        index: u32,
    },
}

impl std::fmt::Display for Discontinuity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discontinuity::Shrunk { had, now } => write!(
                f,
                "the device holds {now} attendance record(s), fewer than the {had} already seen (cleared or rotated)"
            ),
            Discontinuity::LayoutChanged {
                had,
                now: Some(now),
            } => write!(
                f,
                "attendance records are now {now} bytes long, not {had} (another firmware or device)"
            ),
            Discontinuity::LayoutChanged { had, now: None } => write!(
                f,
                "the attendance table no longer fits records of {had} bytes"
            ),
            Discontinuity::Mismatch { index } => write!(
                f,
                "attendance record {index} is not the one seen before (the log was cleared, rotated or restored, or it is another device)"
            ),
        }
    }
}

/// An error while decoding a sync read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncError {
    /// The log does not continue the cursor.
    Discontinued(Discontinuity),
    /// A record or the table is malformed.
    Record(RecordError),
    /// The table's length field, the bytes that followed and the device's
    /// record count disagree (full reads, §4.6).
    TableMismatch {
        /// The `u32 total` field.
        length_field: u32,
        /// Record bytes received.
        received: u64,
        /// Records reported by `CMD_GET_FREE_SIZES`.
        device_count: u32,
    },
}

impl From<RecordError> for SyncError {
    fn from(e: RecordError) -> Self {
        SyncError::Record(e)
    }
}

#[derive(Clone, Debug)]
enum Mode {
    Full {
        splitter: RecordSplitter,
        count: u32,
        /// Chosen when the `total` prefix arrives.
        layout: Option<AttendanceLayout>,
    },
    Tail {
        /// Bytes of the known records still to compare.
        check: Vec<u8>,
        /// Index of the first known record.
        first_known: u32,
        /// Bytes compared so far.
        compared: usize,
        layout: AttendanceLayout,
        carry: Vec<u8>,
        /// Record bytes still expected.
        left: u64,
    },
}

/// Checks and splits the bytes of a sync read (full or tail) into records,
/// advancing its cursor with every whole record.
///
/// Memory is bounded by one record and the cursor's tail, whatever the
/// size of the pieces.
///
/// ```
/// use zkproto::terminal::sync::{Discontinuity, SyncCursor, SyncDecoder, SyncError, SyncPlan};
/// let cursor = SyncCursor::from_parts(1, 8, vec![1, 0, 0, 0, 0, 0, 0, 0]).unwrap();
/// let SyncPlan::Tail(plan) = cursor.plan(2).unwrap() else { panic!() };
/// let mut d = SyncDecoder::tail(&cursor, &plan);
/// // The device's first record differs from the one seen: nothing is taken.
/// let e = d.push(&[2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0], |_| unreachable!());
/// assert_eq!(e, Err(SyncError::Discontinued(Discontinuity::Mismatch { index: 0 })));
/// ```
#[derive(Clone, Debug)]
pub struct SyncDecoder {
    mode: Mode,
    cursor: SyncCursor,
}

impl SyncDecoder {
    /// A decoder for the whole table (read from offset 0) of a device that
    /// reports `device_records` records; the cursor starts empty.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncDecoder;
    /// let mut d = SyncDecoder::full(0);
    /// d.push(&[0, 0, 0, 0], |_| unreachable!()).unwrap();
    /// assert!(d.finish().is_ok());
    /// ```
    pub fn full(device_records: u32) -> Self {
        SyncDecoder {
            mode: Mode::Full {
                splitter: RecordSplitter::new(),
                count: device_records,
                layout: None,
            },
            cursor: SyncCursor::new(),
        }
    }

    /// A decoder for the bytes from `plan.offset` to the end of the table,
    /// continuing `cursor`.
    ///
    /// ```
    /// # use zkproto::terminal::sync::{SyncCursor, SyncDecoder, SyncPlan};
    /// let c = SyncCursor::from_parts(1, 8, vec![9; 8]).unwrap();
    /// let SyncPlan::Tail(plan) = c.plan(1).unwrap() else { panic!() };
    /// let mut d = SyncDecoder::tail(&c, &plan);
    /// d.push(&[9; 8], |_| unreachable!()).unwrap(); // no new record
    /// d.finish().unwrap();
    /// assert_eq!(d.cursor(), &c);
    /// ```
    pub fn tail(cursor: &SyncCursor, plan: &TailPlan) -> Self {
        SyncDecoder {
            mode: Mode::Tail {
                check: cursor.tail.clone(),
                first_known: cursor.records - plan.known,
                compared: 0,
                layout: plan.layout,
                carry: Vec::new(),
                left: u64::from(plan.new) * plan.layout.record_len() as u64,
            },
            cursor: cursor.clone(),
        }
    }

    /// The cursor after the records handed over so far.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncDecoder;
    /// assert!(SyncDecoder::full(3).cursor().is_start());
    /// ```
    pub fn cursor(&self) -> &SyncCursor {
        &self.cursor
    }

    /// Bytes held between pieces (a partial record).
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncDecoder;
    /// let mut d = SyncDecoder::full(1);
    /// d.push(&[8, 0, 0, 0, 1, 2], |_| {}).unwrap();
    /// assert_eq!(d.buffered(), 2);
    /// ```
    pub fn buffered(&self) -> usize {
        match &self.mode {
            Mode::Full { splitter, .. } => splitter.buffered(),
            Mode::Tail { carry, .. } => carry.len(),
        }
    }

    /// Feeds the next piece of the read; `each` gets every new whole record,
    /// in order. After an error nothing more may be fed.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncDecoder;
    /// let mut d = SyncDecoder::full(1);
    /// let mut n = 0;
    /// d.push(&[8, 0, 0, 0, 1, 0, 0x28], |_| n += 1).unwrap();
    /// d.push(&[0, 0xa8, 0xeb, 0xa7, 0x1e], |_| n += 1).unwrap();
    /// assert_eq!((n, d.cursor().records()), (1, 1));
    /// ```
    pub fn push(
        &mut self,
        piece: &[u8],
        mut each: impl FnMut(Attendance),
    ) -> Result<(), SyncError> {
        let cursor = &mut self.cursor;
        match &mut self.mode {
            Mode::Full {
                splitter,
                count,
                layout: chosen,
            } => {
                let count = *count;
                let layout = std::cell::Cell::new(*chosen);
                let mut failed = None;
                let r = splitter.push(
                    piece,
                    |total| {
                        let l = AttendanceLayout::detect(total as usize, Some(count))?;
                        layout.set(Some(l));
                        Ok(l.record_len())
                    },
                    |rec| {
                        let Some(l) = layout.get() else { return };
                        if failed.is_some() {
                            return;
                        }
                        match Attendance::parse(rec, l) {
                            Ok(a) => {
                                cursor.push(l, rec);
                                each(a);
                            }
                            Err(e) => failed = Some(e),
                        }
                    },
                );
                *chosen = layout.get();
                r?;
                match failed {
                    Some(e) => Err(e.into()),
                    None => Ok(()),
                }
            }
            Mode::Tail {
                check,
                first_known,
                compared,
                layout,
                carry,
                left,
            } => {
                let len = layout.record_len();
                let mut rest = piece;
                if *compared < check.len() {
                    let n = (check.len() - *compared).min(rest.len());
                    let (a, b) = rest.split_at(n);
                    let want = check.get(*compared..*compared + n).unwrap_or_default();
                    if let Some(i) = a.iter().zip(want).position(|(x, y)| x != y) {
                        let index =
                            *first_known + u32::try_from((*compared + i) / len).unwrap_or(0);
                        return Err(SyncError::Discontinued(Discontinuity::Mismatch { index }));
                    }
                    *compared += n;
                    rest = b;
                }
                let room = usize::try_from(*left).unwrap_or(usize::MAX);
                if rest.len() > room {
                    return Err(SyncError::Record(RecordError::BadLength {
                        what: "attendance tail",
                        offset: 0,
                        value: rest.len() as u64,
                        reason: "more bytes than the table holds",
                    }));
                }
                *left -= rest.len() as u64;
                let mut take = |rec: &[u8]| -> Result<(), RecordError> {
                    let a = Attendance::parse(rec, *layout)?;
                    cursor.push(*layout, rec);
                    each(a);
                    Ok(())
                };
                if !carry.is_empty() {
                    let (a, b) = rest.split_at((len - carry.len()).min(rest.len()));
                    carry.extend_from_slice(a);
                    rest = b;
                    if carry.len() == len {
                        take(carry)?;
                        carry.clear();
                    }
                }
                let mut chunks = rest.chunks_exact(len);
                for rec in &mut chunks {
                    take(rec)?;
                }
                carry.extend_from_slice(chunks.remainder());
                Ok(())
            }
        }
    }

    /// Checks that the read ended where the table ends, on a record
    /// boundary, with as many records as the device reported.
    ///
    /// ```
    /// # use zkproto::terminal::sync::SyncDecoder;
    /// let mut d = SyncDecoder::full(1);
    /// d.push(&[8, 0, 0, 0, 1, 0, 0x28], |_| {}).unwrap();
    /// assert!(d.finish().is_err()); // 3 of 8 record bytes
    /// ```
    pub fn finish(&self) -> Result<(), SyncError> {
        match &self.mode {
            Mode::Full {
                splitter, count, ..
            } => {
                if let Some(total) = splitter.total() {
                    let received = splitter.record_bytes() + splitter.trailing();
                    let held = u64::from(self.cursor.records);
                    if u64::from(total) != received || held != u64::from(*count) {
                        return Err(SyncError::TableMismatch {
                            length_field: total,
                            received,
                            device_count: *count,
                        });
                    }
                }
                splitter.finish()?;
                Ok(())
            }
            Mode::Tail {
                check,
                compared,
                carry,
                left,
                ..
            } => {
                if *compared < check.len() || *left > 0 || !carry.is_empty() {
                    return Err(SyncError::Record(RecordError::Truncated {
                        what: "attendance tail",
                        offset: *compared,
                        need: check.len() + usize::try_from(*left).unwrap_or(usize::MAX),
                        got: carry.len(),
                    }));
                }
                Ok(())
            }
        }
    }
}

/// The stored form of a cursor.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct CursorRepr {
    records: u32,
    record_len: usize,
    tail: String,
}

#[cfg(feature = "serde")]
impl From<SyncCursor> for CursorRepr {
    fn from(c: SyncCursor) -> Self {
        CursorRepr {
            records: c.records,
            record_len: c.layout.map_or(0, |l| l.record_len()),
            tail: c.tail.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<CursorRepr> for SyncCursor {
    type Error = BadCursor;
    fn try_from(r: CursorRepr) -> Result<Self, BadCursor> {
        if !r.tail.len().is_multiple_of(2) || r.tail.len() > 4 * usize::from(u16::MAX) {
            return Err(BadCursor("tail is not hex of at most two records"));
        }
        let tail = (0..r.tail.len())
            .step_by(2)
            .map(|i| {
                r.tail
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(BadCursor("tail is not hex"))?;
        SyncCursor::from_parts(r.records, r.record_len, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::time::DeviceTime;

    fn rec(layout: AttendanceLayout, i: u32) -> Vec<u8> {
        let t = DeviceTime::new(
            2024,
            1,
            1 + (i / 1440) as u8 % 28,
            (i / 60 % 24) as u8,
            (i % 60) as u8,
            0,
        );
        Attendance::new(
            layout,
            (i % 60000) as u16 + 1,
            &format!("{}", i + 1),
            1,
            0,
            t,
            0,
        )
        .unwrap()
        .to_bytes()
        .unwrap()
        .to_vec()
    }

    fn table(layout: AttendanceLayout, n: u32) -> Vec<u8> {
        let mut b = ((n as usize * layout.record_len()) as u32)
            .to_le_bytes()
            .to_vec();
        for i in 0..n {
            b.extend_from_slice(&rec(layout, i));
        }
        b
    }

    /// Feeds `bytes` in pieces of `step`, returns user ids.
    fn feed(d: &mut SyncDecoder, bytes: &[u8], step: usize) -> Result<Vec<String>, SyncError> {
        let mut out = Vec::new();
        for p in bytes.chunks(step.max(1)) {
            d.push(p, |a| out.push(a.user_id()))?;
        }
        Ok(out)
    }

    #[test]
    fn full_then_tail_at_every_split() {
        for layout in [
            AttendanceLayout::Short8,
            AttendanceLayout::Extended16,
            AttendanceLayout::Tft40,
            AttendanceLayout::Tft49,
        ] {
            let t = table(layout, 7);
            for step in [1, 3, layout.record_len(), 50, 1000] {
                let mut d = SyncDecoder::full(5);
                let five = {
                    let mut x = table(layout, 5);
                    x.truncate(4 + 5 * layout.record_len());
                    x
                };
                let got = feed(&mut d, &five, step).unwrap();
                assert_eq!(got.len(), 5);
                d.finish().unwrap();
                let c = d.cursor().clone();
                assert_eq!(c.records(), 5);
                assert_eq!(c.tail().len(), 2 * layout.record_len());
                let SyncPlan::Tail(p) = c.plan(7).unwrap() else {
                    panic!()
                };
                let mut d = SyncDecoder::tail(&c, &p);
                let got = feed(&mut d, &t[p.offset as usize..], step).unwrap();
                d.finish().unwrap();
                assert_eq!(got.len(), 2, "{layout:?} {step}");
                assert_eq!(d.cursor().records(), 7);
                // The cursor equals one built by a full read of 7.
                let mut full = SyncDecoder::full(7);
                feed(&mut full, &t, 9).unwrap();
                assert_eq!(full.cursor(), d.cursor());
            }
        }
    }

    #[test]
    fn changed_known_records_are_refused_at_every_byte() {
        let l = AttendanceLayout::Tft40;
        let t = table(l, 4);
        let mut d = SyncDecoder::full(3);
        feed(
            &mut d,
            &{
                let mut x = table(l, 3);
                x.truncate(4 + 120);
                x
            },
            64,
        )
        .unwrap();
        let c = d.cursor().clone();
        let SyncPlan::Tail(p) = c.plan(4).unwrap() else {
            panic!()
        };
        for at in 0..80 {
            let mut bytes = t[p.offset as usize..].to_vec();
            bytes[at] ^= 0x55;
            let mut d = SyncDecoder::tail(&c, &p);
            let e = feed(&mut d, &bytes, 7).unwrap_err();
            let index = 1 + (at / 40) as u32;
            assert_eq!(
                e,
                SyncError::Discontinued(Discontinuity::Mismatch { index })
            );
            assert_eq!(d.cursor(), &c, "nothing is taken");
        }
    }

    #[test]
    fn short_and_long_tails_are_errors() {
        let l = AttendanceLayout::Short8;
        let c = SyncCursor::from_parts(1, 8, rec(l, 0)).unwrap();
        let SyncPlan::Tail(p) = c.plan(2).unwrap() else {
            panic!()
        };
        let t = table(l, 2);
        let mut d = SyncDecoder::tail(&c, &p);
        d.push(&t[4..20 - 1], |_| {}).unwrap();
        assert!(d.finish().is_err());
        let mut d = SyncDecoder::tail(&c, &p);
        let mut long = t[4..].to_vec();
        long.push(0);
        assert!(d.push(&long, |_| {}).is_err());
    }

    #[test]
    fn plans_and_sizes() {
        let c = SyncCursor::from_parts(1, 8, vec![0; 8]).unwrap();
        let SyncPlan::Tail(p) = c.plan(1).unwrap() else {
            panic!()
        };
        assert_eq!((p.offset, p.known, p.new), (4, 1, 0));
        assert_eq!(c.plan(0), Err(Discontinuity::Shrunk { had: 1, now: 0 }));
        // A size that fits the count with another layout.
        assert_eq!(
            c.check_size(&p, 4 + 16).unwrap_err().discontinuity(),
            Some(&Discontinuity::LayoutChanged {
                had: 8,
                now: Some(16)
            })
        );
        assert!(matches!(
            c.check_size(&p, 3),
            Err(SizeCheck::Mismatch(SizeMismatch {
                announced: 3,
                device_count: 1
            }))
        ));
        // Huge counts do not overflow.
        let big = SyncCursor::from_parts(u32::MAX - 1, 49, vec![0; 98]).unwrap();
        assert!(big.plan(u32::MAX).is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn cursor_round_trips_and_bad_ones_are_refused() {
        let c = SyncCursor::from_parts(3, 8, (0..16).collect()).unwrap();
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(
            s,
            r#"{"records":3,"record_len":8,"tail":"000102030405060708090a0b0c0d0e0f"}"#
        );
        assert_eq!(serde_json::from_str::<SyncCursor>(&s).unwrap(), c);
        for bad in [
            r#"{"records":3,"record_len":8,"tail":"00"}"#,
            r#"{"records":3,"record_len":8,"tail":"zz0102030405060708090a0b0c0d0e0f"}"#,
            r#"{"records":3,"record_len":28,"tail":""}"#,
            r#"{"records":0,"record_len":8,"tail":"00"}"#,
        ] {
            assert!(serde_json::from_str::<SyncCursor>(bad).is_err(), "{bad}");
        }
        let start = serde_json::to_string(&SyncCursor::new()).unwrap();
        assert_eq!(
            serde_json::from_str::<SyncCursor>(&start).unwrap(),
            SyncCursor::new()
        );
    }
}
