//! Attendance records (reference §6.2).
//!
//! Four sizes are known: 8 bytes (old black-and-white firmware), 16 bytes
//! (the "extended log" of `~ExtendFmt` firmware), 40 bytes (TFT firmware) and
//! 49 bytes (2022 MB560-VL firmware, whose last 9 bytes are undocumented).
//! Larger unknown sizes are read as the 40-byte layout followed by opaque bytes
//! ([`AttendanceLayout::Wide`]).
//!
//! Each [`Attendance`] keeps the whole record, so a parsed record re-encodes
//! to the same bytes; records of at most 40 bytes are stored inline, so
//! parsing allocates nothing per record. The user id is decoded on demand by
//! [`Attendance::user_id`].
//!
//! An impossible timestamp never makes parsing fail: the record is returned
//! and [`Attendance::time_error`] says what is wrong (pyzk #211 shows devices
//! emitting garbage records).
//!
//! ```
//! use zkproto::terminal::record::attendance::{parse_attendance, AttendanceLayout};
//! use zkproto::terminal::record::time::DeviceTime;
//! let rec = [0x15, 0, 0, 0, 0xec, 0x15, 0x4f, 0x23, 0, 0, 0, 0, 0, 0, 0, 0];
//! let layout = AttendanceLayout::detect(rec.len(), Some(1)).unwrap();
//! let log = parse_attendance(&rec, layout).unwrap();
//! assert_eq!(log[0].user_id(), "21");
//! assert_eq!(log[0].time, DeviceTime::new(2018, 6, 6, 7, 31, 56));
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::time::{DeviceTime, InvalidTime};
use bytes::{BufMut, Bytes, BytesMut};
use core::slice::ChunksExact;

/// Size of the common prefix of TFT records (and the inline storage).
const TFT_LEN: usize = 40;

/// The byte layout of an attendance record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AttendanceLayout {
    /// 8 bytes: `u16 uid, u8 A, u8 B, u32 time`.
    Short8,
    /// 16 bytes: `u32 user id, u32 time, u8 state, u8 verify, 2 reserved, u32 work code`.
    Extended16,
    /// 40 bytes: `u16 uid, char user_id[24], u8 verify, u32 time, u8 state, u32 work code, 4 reserved`.
    Tft40,
    /// 49 bytes: the 40-byte layout plus 9 undocumented bytes.
    Tft49,
    /// Another size above 40: the 40-byte layout plus opaque bytes.
    /// Sizes of 40 or less are refused when parsing or building.
    Wide(u16),
}

impl AttendanceLayout {
    /// Record size in bytes.
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::AttendanceLayout;
    /// assert_eq!(AttendanceLayout::Tft49.record_len(), 49);
    /// assert_eq!(AttendanceLayout::Wide(52).record_len(), 52);
    /// ```
    pub const fn record_len(self) -> usize {
        match self {
            AttendanceLayout::Short8 => 8,
            AttendanceLayout::Extended16 => 16,
            AttendanceLayout::Tft40 => 40,
            AttendanceLayout::Tft49 => 49,
            AttendanceLayout::Wide(n) => n as usize,
        }
    }

    /// The layout of `n`-byte records: 8, 16, 40, 49, or `Wide(n)` for
    /// other sizes from 41 to 65 535.
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::AttendanceLayout;
    /// assert_eq!(AttendanceLayout::from_record_len(40), Some(AttendanceLayout::Tft40));
    /// assert_eq!(AttendanceLayout::from_record_len(52), Some(AttendanceLayout::Wide(52)));
    /// assert_eq!(AttendanceLayout::from_record_len(28), None);
    /// ```
    pub fn from_record_len(n: usize) -> Option<Self> {
        match n {
            8 => Some(AttendanceLayout::Short8),
            16 => Some(AttendanceLayout::Extended16),
            40 => Some(AttendanceLayout::Tft40),
            49 => Some(AttendanceLayout::Tft49),
            n if n > TFT_LEN => u16::try_from(n).ok().map(AttendanceLayout::Wide),
            _ => None,
        }
    }

    /// Chooses the layout from the length of the record area and, when
    /// known, the record count (`CMD_GET_FREE_SIZES`): `records_len / count`
    /// when integral and a known size, else the first of 40, 16, 8 and 49
    /// that divides `records_len`.
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::AttendanceLayout;
    /// assert_eq!(AttendanceLayout::detect(98, Some(2)), Ok(AttendanceLayout::Tft49));
    /// assert_eq!(AttendanceLayout::detect(98, None), Ok(AttendanceLayout::Tft49));
    /// assert_eq!(AttendanceLayout::detect(48, None), Ok(AttendanceLayout::Extended16));
    /// assert!(AttendanceLayout::detect(50, None).is_err());
    /// ```
    pub fn detect(records_len: usize, count: Option<u32>) -> Result<Self, RecordError> {
        if let Some(c) = count
            .and_then(|c| usize::try_from(c).ok())
            .filter(|&c| c > 0)
            && records_len.is_multiple_of(c)
            && let Some(l) = Self::from_record_len(records_len / c)
        {
            return Ok(l);
        }
        [
            AttendanceLayout::Tft40,
            AttendanceLayout::Extended16,
            AttendanceLayout::Short8,
            AttendanceLayout::Tft49,
        ]
        .into_iter()
        .find(|l| records_len.is_multiple_of(l.record_len()))
        .ok_or(RecordError::UnknownRecordSize {
            what: "attendance",
            len: records_len,
        })
    }

    fn check(self) -> Result<(), RecordError> {
        match self {
            AttendanceLayout::Wide(n) if usize::from(n) <= TFT_LEN => Err(RecordError::BadLength {
                what: "attendance layout",
                offset: 0,
                value: u64::from(n),
                reason: "wide records must be longer than 40 bytes",
            }),
            _ => Ok(()),
        }
    }
}

/// The stored record bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Raw {
    /// Records of at most 40 bytes; bytes past `len` are zero.
    Inline { buf: [u8; TFT_LEN], len: u8 },
    /// Longer records.
    Heap(Bytes),
}

impl Raw {
    fn as_slice(&self) -> &[u8] {
        match self {
            Raw::Inline { buf, len } => buf.get(..usize::from(*len)).unwrap_or_default(),
            Raw::Heap(b) => b,
        }
    }
}

fn read<const N: usize>(rec: &[u8], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = rec.get(off..off.saturating_add(N)) {
        out.copy_from_slice(src);
    }
    out
}

fn write(rec: &mut [u8], off: usize, src: &[u8]) {
    if let Some(dst) = rec.get_mut(off..off.saturating_add(src.len())) {
        dst.copy_from_slice(src);
    }
}

/// Offsets of the fields in one layout (`None` = not present).
struct Offsets {
    uid: Option<usize>,
    time: usize,
    verify: usize,
    state: usize,
    work_code: Option<usize>,
}

const OFFSETS_16: Offsets = Offsets {
    uid: None,
    time: 4,
    verify: 9,
    state: 8,
    work_code: Some(12),
};
const OFFSETS_40: Offsets = Offsets {
    uid: Some(0),
    time: 27,
    verify: 26,
    state: 31,
    work_code: Some(32),
};

/// One attendance record.
///
/// The public fields are decoded when parsing and written over the stored
/// record bytes when encoding, so a parsed record re-encodes to its input
/// and a changed field changes only its own bytes. Fields a layout cannot
/// carry are noted on each field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attendance {
    /// Internal user index (8-, 40- and 49-byte layouts; `None` for 16 bytes).
    /// `None` on encoding keeps the stored bytes.
    pub uid: Option<u16>,
    /// Verify type: 0 password, 1 fingerprint, 2 card, 15 face… (§2.6).
    /// In the 8-byte layout, the high nibble of byte 2 (pyzk #99; the bit
    /// layout of that byte is not confirmed, §13).
    pub verify: u8,
    /// Punch state: 0 check-in, 1 check-out, 2 break-out, 3 break-in,
    /// 4 OT-in, 5 OT-out. In the 8-byte layout, the low nibble of byte 2.
    pub state: u8,
    /// Device-local time; may be an impossible date (see
    /// [`time_error`](Attendance::time_error)).
    pub time: DeviceTime,
    /// Work code (always 0 in the 8-byte layout, which has none).
    pub work_code: u32,
    layout: AttendanceLayout,
    raw: Raw,
}

/// A plain view of an attendance record, for display and serialisation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AttendanceInfo {
    /// Internal user index, when the layout has one.
    pub uid: Option<u16>,
    /// User id (PIN2).
    pub user_id: String,
    /// Verify type.
    pub verify: u8,
    /// Punch state.
    pub state: u8,
    /// Device-local time.
    pub time: DeviceTime,
    /// Work code.
    pub work_code: u32,
}

impl Attendance {
    /// Parses one record of exactly `layout.record_len()` bytes.
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
    /// let a = Attendance::parse(&[7, 0, 0x28, 0, 0xa8, 0xeb, 0xa7, 0x1e], AttendanceLayout::Short8).unwrap();
    /// assert_eq!(a.uid, Some(7));
    /// assert_eq!((a.verify, a.state), (2, 8));
    /// assert_eq!(a.time.to_string(), "2016-01-01T19:02:00");
    /// ```
    pub fn parse(rec: &[u8], layout: AttendanceLayout) -> Result<Attendance, RecordError> {
        layout.check()?;
        let need = layout.record_len();
        if rec.len() < need {
            return Err(RecordError::Truncated {
                what: "attendance",
                offset: 0,
                need,
                got: rec.len(),
            });
        }
        if rec.len() > need {
            return Err(RecordError::TrailingBytes {
                what: "attendance",
                extra: rec.len() - need,
            });
        }
        Ok(Self::parse_unchecked(rec, layout))
    }

    /// Parses a record whose length the caller has checked.
    fn parse_unchecked(rec: &[u8], layout: AttendanceLayout) -> Attendance {
        let mut buf = [0u8; TFT_LEN];
        let n = rec.len().min(TFT_LEN);
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rec.get(..n)) {
            d.copy_from_slice(s);
        }
        let raw = if rec.len() <= TFT_LEN {
            Raw::Inline { buf, len: n as u8 }
        } else {
            Raw::Heap(Bytes::copy_from_slice(rec))
        };
        let time_at = |off| DeviceTime::from_packed(u32::from_le_bytes(read(&buf, off)));
        let byte = |off| read::<1>(&buf, off)[0];
        match layout {
            AttendanceLayout::Short8 => {
                let a = byte(2);
                Attendance {
                    uid: Some(u16::from_le_bytes(read(&buf, 0))),
                    verify: a >> 4,
                    state: a & 0x0F,
                    time: time_at(4),
                    work_code: 0,
                    layout,
                    raw,
                }
            }
            _ => {
                let o = Self::offsets(layout);
                Attendance {
                    uid: o.uid.map(|off| u16::from_le_bytes(read(&buf, off))),
                    verify: byte(o.verify),
                    state: byte(o.state),
                    time: time_at(o.time),
                    work_code: o
                        .work_code
                        .map_or(0, |off| u32::from_le_bytes(read(&buf, off))),
                    layout,
                    raw,
                }
            }
        }
    }

    fn offsets(layout: AttendanceLayout) -> Offsets {
        match layout {
            AttendanceLayout::Extended16 => OFFSETS_16,
            _ => OFFSETS_40,
        }
    }

    /// Builds a record.
    ///
    /// * `uid` is stored by the 8-, 40- and 49-byte layouts (ignored by 16);
    /// * `user_id` must be decimal digits fitting a u32 for the 16-byte
    ///   layout, at most 24 bytes of UTF-8 for 40 bytes and above, and is
    ///   ignored by the 8-byte layout (whose user id is the uid);
    /// * `verify` and `state` must be ≤ 15 for the 8-byte layout, which also
    ///   has no work code (must be 0);
    /// * `time` must be storable in the packed format (2000–2099).
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
    /// use zkproto::terminal::record::time::DeviceTime;
    /// let t = DeviceTime::new(2018, 6, 25, 17, 50, 35);
    /// let a = Attendance::new(AttendanceLayout::Tft40, 13, "999111333", 1, 0, t, 0).unwrap();
    /// assert_eq!(a.raw().len(), 40);
    /// assert_eq!(a.user_id(), "999111333");
    /// assert!(Attendance::new(AttendanceLayout::Extended16, 1, "abc", 1, 0, t, 0).is_err());
    /// ```
    pub fn new(
        layout: AttendanceLayout,
        uid: u16,
        user_id: &str,
        verify: u8,
        state: u8,
        time: DeviceTime,
        work_code: u32,
    ) -> Result<Attendance, EncodeError> {
        layout.check().map_err(|_| EncodeError::OutOfRange {
            field: "layout",
            reason: "wide records must be longer than 40 bytes",
        })?;
        time.to_packed()?;
        let len = layout.record_len();
        let raw = if len <= TFT_LEN {
            Raw::Inline {
                buf: [0; TFT_LEN],
                len: len as u8,
            }
        } else {
            Raw::Heap(Bytes::from(vec![0u8; len]))
        };
        let mut a = Attendance {
            uid: (layout != AttendanceLayout::Extended16).then_some(uid),
            verify,
            state,
            time,
            work_code,
            layout,
            raw,
        };
        if layout != AttendanceLayout::Short8 {
            a.set_user_id(user_id)?;
        }
        let mut rec = a.raw().to_vec();
        a.overlay(&mut rec)?;
        a.replace_raw(&rec);
        Ok(a)
    }

    fn replace_raw(&mut self, rec: &[u8]) {
        match &mut self.raw {
            Raw::Inline { buf, .. } => write(buf, 0, rec),
            Raw::Heap(b) => *b = Bytes::copy_from_slice(rec),
        }
    }

    /// The layout of this record.
    pub fn layout(&self) -> AttendanceLayout {
        self.layout
    }

    /// The stored record bytes (as parsed, or as built by [`new`](Self::new)).
    /// Changes to the public fields show up in [`encode_into`](Self::encode_into),
    /// not here.
    pub fn raw(&self) -> &[u8] {
        self.raw.as_slice()
    }

    /// The raw user-id bytes: the u32 of the 16-byte layout, the 24-byte
    /// text field of 40 bytes and above, the uid of the 8-byte layout.
    pub fn user_id_raw(&self) -> &[u8] {
        let r = self.raw();
        let range = match self.layout {
            AttendanceLayout::Short8 => 0..2,
            AttendanceLayout::Extended16 => 0..4,
            _ => 2..26,
        };
        r.get(range).unwrap_or_default()
    }

    /// The user id (PIN2) as text: decimal of the u32 (16 bytes), the text up
    /// to the first NUL decoded as UTF-8, lossily (40 bytes and above), or the
    /// uid (8 bytes). Allocates on each call; parsing does not.
    pub fn user_id(&self) -> String {
        self.user_id_with(TextEncoding::Utf8)
    }

    /// Like [`user_id`](Self::user_id), decoding the text field with `enc`.
    pub fn user_id_with(&self, enc: TextEncoding) -> String {
        let r = self.raw();
        match self.layout {
            AttendanceLayout::Short8 => match self.uid {
                Some(uid) => uid.to_string(),
                None => u16::from_le_bytes(read(r, 0)).to_string(),
            },
            AttendanceLayout::Extended16 => u32::from_le_bytes(read(r, 0)).to_string(),
            _ => enc.decode(self.user_id_raw()),
        }
    }

    /// Rewrites the stored user id (see [`new`](Self::new) for the rules;
    /// the 8-byte layout has no user id besides the uid and refuses).
    pub fn set_user_id(&mut self, user_id: &str) -> Result<(), EncodeError> {
        let field = match self.layout {
            AttendanceLayout::Short8 => {
                return Err(EncodeError::OutOfRange {
                    field: "user_id",
                    reason: "8-byte records carry only the uid",
                });
            }
            AttendanceLayout::Extended16 => {
                if user_id.is_empty() || !user_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(EncodeError::OutOfRange {
                        field: "user_id",
                        reason: "16-byte records need decimal digits",
                    });
                }
                let v: u32 = user_id.parse().map_err(|_| EncodeError::OutOfRange {
                    field: "user_id",
                    reason: "must fit in a u32",
                })?;
                (0, v.to_le_bytes().to_vec())
            }
            _ => {
                let mut v = TextEncoding::Utf8.encode(user_id, "user_id", 24, Overflow::Error)?;
                v.resize(24, 0);
                (2, v)
            }
        };
        let mut rec = self.raw().to_vec();
        write(&mut rec, field.0, &field.1);
        self.replace_raw(&rec);
        Ok(())
    }

    /// Why [`time`](Self::time) is not a real date-time, or `None` if it is.
    pub fn time_error(&self) -> Option<InvalidTime> {
        self.time.validate().err()
    }

    /// Whether the stored time is 0 (2000-01-01 00:00:00), which garbage
    /// records carry (pyzk #211).
    pub fn time_is_zero(&self) -> bool {
        let off = match self.layout {
            AttendanceLayout::Short8 | AttendanceLayout::Extended16 => 4,
            _ => 27,
        };
        u32::from_le_bytes(read(self.raw(), off)) == 0
    }

    /// A plain view of the record.
    pub fn info(&self) -> AttendanceInfo {
        AttendanceInfo {
            uid: self.uid,
            user_id: self.user_id(),
            verify: self.verify,
            state: self.state,
            time: self.time,
            work_code: self.work_code,
        }
    }

    /// Writes the public fields over `rec` (a copy of the stored bytes).
    fn overlay(&self, rec: &mut [u8]) -> Result<(), EncodeError> {
        let (time_off, uid_off) = match self.layout {
            AttendanceLayout::Short8 => {
                if self.verify > 15 || self.state > 15 {
                    return Err(EncodeError::OutOfRange {
                        field: "verify/state",
                        reason: "8-byte records hold 4 bits each",
                    });
                }
                if self.work_code != 0 {
                    return Err(EncodeError::OutOfRange {
                        field: "work_code",
                        reason: "8-byte records have no work code",
                    });
                }
                write(rec, 2, &[(self.verify << 4) | self.state]);
                (4, Some(0))
            }
            layout => {
                let o = Self::offsets(layout);
                write(rec, o.verify, &[self.verify]);
                write(rec, o.state, &[self.state]);
                if let Some(off) = o.work_code {
                    write(rec, off, &self.work_code.to_le_bytes());
                }
                (o.time, o.uid)
            }
        };
        if let (Some(off), Some(uid)) = (uid_off, self.uid) {
            write(rec, off, &uid.to_le_bytes());
        }
        let stored = u32::from_le_bytes(read(rec, time_off));
        if DeviceTime::from_packed(stored) != self.time {
            write(rec, time_off, &self.time.to_packed()?.to_le_bytes());
        }
        Ok(())
    }

    /// Appends the record to `dst`: the stored bytes with the public fields
    /// written over them. Fails (leaving `dst` unchanged) when a field does
    /// not fit the layout or a changed time is outside 2000–2099.
    ///
    /// ```
    /// use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
    /// use bytes::BytesMut;
    /// let rec = [0x15, 0, 0, 0, 0xec, 0x15, 0x4f, 0x23, 0, 0, 0, 0, 0, 0, 0, 0];
    /// let mut a = Attendance::parse(&rec, AttendanceLayout::Extended16).unwrap();
    /// let mut out = BytesMut::new();
    /// a.encode_into(&mut out).unwrap();
    /// assert_eq!(&out[..], &rec);
    /// a.state = 1;
    /// out.clear();
    /// a.encode_into(&mut out).unwrap();
    /// assert_eq!(out[8], 1);
    /// ```
    pub fn encode_into(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let raw = self.raw();
        if raw.len() <= TFT_LEN {
            let mut buf = [0u8; TFT_LEN];
            write(&mut buf, 0, raw);
            self.overlay(&mut buf)?;
            dst.put_slice(buf.get(..raw.len()).unwrap_or_default());
        } else {
            let start = dst.len();
            dst.put_slice(raw);
            let res = match dst.get_mut(start..) {
                Some(rec) => self.overlay(rec),
                None => Ok(()),
            };
            if res.is_err() {
                dst.truncate(start);
            }
            res?;
        }
        Ok(())
    }

    /// The encoded record as a new buffer.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut dst = BytesMut::with_capacity(self.layout.record_len());
        self.encode_into(&mut dst)?;
        Ok(dst.freeze())
    }
}

/// Iterator over the records of a record area, parsing one record per step
/// without allocating (for records of at most 40 bytes).
///
/// ```
/// use zkproto::terminal::record::attendance::{AttendanceIter, AttendanceLayout};
/// // A chunk that ends in the middle of a record: the partial record is left over.
/// let chunk = [7, 0, 0x28, 0, 0xa8, 0xeb, 0xa7, 0x1e, 0x7b, 0];
/// let mut it = AttendanceIter::new(&chunk, AttendanceLayout::Short8).unwrap();
/// assert_eq!(it.next().unwrap().uid, Some(7));
/// assert!(it.next().is_none());
/// assert_eq!(it.remainder(), &[0x7b, 0]);
/// ```
#[derive(Debug, Clone)]
pub struct AttendanceIter<'a> {
    chunks: ChunksExact<'a, u8>,
    layout: AttendanceLayout,
}

impl<'a> AttendanceIter<'a> {
    /// Iterates the whole records of `records`; a trailing partial record is
    /// available from [`remainder`](Self::remainder). Fails only for a
    /// [`AttendanceLayout::Wide`] size of 40 or less.
    pub fn new(records: &'a [u8], layout: AttendanceLayout) -> Result<Self, RecordError> {
        layout.check()?;
        Ok(AttendanceIter {
            chunks: records.chunks_exact(layout.record_len()),
            layout,
        })
    }

    /// The bytes after the last whole record.
    pub fn remainder(&self) -> &'a [u8] {
        self.chunks.remainder()
    }
}

impl Iterator for AttendanceIter<'_> {
    type Item = Attendance;

    fn next(&mut self) -> Option<Attendance> {
        let layout = self.layout;
        self.chunks
            .next()
            .map(|rec| Attendance::parse_unchecked(rec, layout))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for AttendanceIter<'_> {}

fn check_whole(records: &[u8], layout: AttendanceLayout) -> Result<(), RecordError> {
    layout.check()?;
    let len = layout.record_len();
    let extra = records.len() % len;
    if extra != 0 {
        return Err(RecordError::Truncated {
            what: "attendance",
            offset: records.len() - extra,
            need: len,
            got: extra,
        });
    }
    Ok(())
}

/// Iterates a record area that must be a whole number of records.
///
/// ```
/// use zkproto::terminal::record::attendance::{iter_attendance, AttendanceLayout};
/// assert_eq!(iter_attendance(&[0u8; 80], AttendanceLayout::Tft40).unwrap().count(), 2);
/// assert!(iter_attendance(&[0u8; 81], AttendanceLayout::Tft40).is_err());
/// ```
pub fn iter_attendance(
    records: &[u8],
    layout: AttendanceLayout,
) -> Result<AttendanceIter<'_>, RecordError> {
    check_whole(records, layout)?;
    AttendanceIter::new(records, layout)
}

/// Parses a record area (without the 4-byte total). Fails only when its
/// length is not a whole number of records; bad dates are reported per record.
///
/// ```
/// use zkproto::terminal::record::attendance::{parse_attendance, AttendanceLayout};
/// let log = parse_attendance(&[0xffu8; 16], AttendanceLayout::Extended16).unwrap();
/// assert!(log[0].time_error().is_some());
/// ```
pub fn parse_attendance(
    records: &[u8],
    layout: AttendanceLayout,
) -> Result<Vec<Attendance>, RecordError> {
    Ok(iter_attendance(records, layout)?.collect())
}

/// Builds a table buffer (§4.6): u32 total length, then the encoded records.
///
/// ```
/// use zkproto::terminal::record::attendance::{encode_attendance_table, parse_attendance, AttendanceLayout};
/// let log = parse_attendance(&[0u8; 32], AttendanceLayout::Extended16).unwrap();
/// let buf = encode_attendance_table(&log).unwrap();
/// assert_eq!(&buf[..4], &32u32.to_le_bytes());
/// assert_eq!(buf.len(), 36);
/// ```
pub fn encode_attendance_table(records: &[Attendance]) -> Result<Bytes, EncodeError> {
    let hint = records.iter().map(|a| a.raw().len()).sum();
    crate::terminal::record::bulk::encode_table(hint, |dst| {
        records.iter().try_for_each(|a| a.encode_into(dst))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn zkp_40_byte_record() {
        let mut rec = vec![0x0d, 0x00];
        rec.extend_from_slice(b"999111333");
        rec.extend_from_slice(&[0; 15]);
        rec.extend_from_slice(&[
            0x01, 0x6b, 0xb3, 0x68, 0x23, 0x00, 0, 0, 0, 0, 0xff, 0, 0, 0,
        ]);
        let a = Attendance::parse(&rec, AttendanceLayout::Tft40).unwrap();
        assert_eq!(a.uid, Some(13));
        assert_eq!(a.user_id(), "999111333");
        assert_eq!(a.verify, 1);
        assert_eq!(a.state, 0);
        assert_eq!(a.time, DeviceTime::new(2018, 6, 25, 17, 50, 35));
        assert_eq!(a.work_code, 0);
        assert_eq!(a.time_error(), None);
        assert_eq!(&a.to_bytes().unwrap()[..], &rec[..]);
        let built =
            Attendance::new(AttendanceLayout::Tft40, 13, "999111333", 1, 0, a.time, 0).unwrap();
        // Differs only in the reserved bytes.
        assert_eq!(built.raw().get(..36), rec.get(..36));
    }

    #[test]
    fn detect_prefers_count() {
        assert_eq!(
            AttendanceLayout::detect(80, Some(10)),
            Ok(AttendanceLayout::Short8)
        );
        assert_eq!(
            AttendanceLayout::detect(80, Some(5)),
            Ok(AttendanceLayout::Extended16)
        );
        assert_eq!(
            AttendanceLayout::detect(80, None),
            Ok(AttendanceLayout::Tft40)
        );
        assert_eq!(
            AttendanceLayout::detect(104, Some(2)),
            Ok(AttendanceLayout::Wide(52))
        );
        assert_eq!(
            AttendanceLayout::detect(0, None),
            Ok(AttendanceLayout::Tft40)
        );
        assert_eq!(
            AttendanceLayout::detect(7, Some(0)),
            Err(RecordError::UnknownRecordSize {
                what: "attendance",
                len: 7
            })
        );
    }

    #[test]
    fn wide_records_keep_tail() {
        let mut rec = vec![0xAB; 52];
        rec[27..31].copy_from_slice(&0x2368B36Bu32.to_le_bytes());
        let a = Attendance::parse(&rec, AttendanceLayout::Wide(52)).unwrap();
        assert_eq!(a.time, DeviceTime::new(2018, 6, 25, 17, 50, 35));
        assert_eq!(&a.to_bytes().unwrap()[..], &rec[..]);
        assert!(Attendance::parse(&[0; 30], AttendanceLayout::Wide(30)).is_err());
        assert!(iter_attendance(&[0; 30], AttendanceLayout::Wide(0)).is_err());
    }

    #[test]
    fn changed_fields_only_change_their_bytes() {
        let rec: Vec<u8> = (0..40u8).collect();
        let mut a = Attendance::parse(&rec, AttendanceLayout::Tft40).unwrap();
        a.work_code = 0x0403_0201;
        let out = a.to_bytes().unwrap();
        let diff: Vec<usize> = (0..40).filter(|&i| out[i] != rec[i]).collect();
        assert_eq!(diff, vec![32, 33, 34, 35]);
        a.time = DeviceTime::new(2100, 1, 1, 0, 0, 0);
        let mut dst = BytesMut::from(&b"xy"[..]);
        assert!(a.encode_into(&mut dst).is_err());
        assert_eq!(&dst[..], b"xy");
    }

    #[test]
    fn short_layout_limits() {
        let t = DeviceTime::new(2016, 1, 1, 19, 2, 0);
        let a = Attendance::new(AttendanceLayout::Short8, 7, "", 2, 8, t, 0).unwrap();
        assert_eq!(a.raw(), &[7, 0, 0x28, 0, 0xa8, 0xeb, 0xa7, 0x1e]);
        assert_eq!(a.user_id(), "7");
        assert!(Attendance::new(AttendanceLayout::Short8, 7, "", 16, 0, t, 0).is_err());
        assert!(Attendance::new(AttendanceLayout::Short8, 7, "", 1, 0, t, 5).is_err());
    }
}
