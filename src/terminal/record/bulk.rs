//! Bulk transfer payloads (reference §4 and §5.1):
//!
//! * [`BulkRead`]: the 11-byte `CMD_PREPARE_BUFFER` (1503) request;
//! * [`BufferDescriptor`]: the 13-byte `CMD_ACK_OK` answer announcing a
//!   buffered result, with its [`buffer_hash`];
//! * [`ReadChunk`]: the 8-byte `CMD_READ_BUFFER` (1504) request;
//! * [`PrepareData`]: the `CMD_PREPARE_DATA` (1500) payload — 4 bytes in
//!   uploads, 8 bytes at the start of a device burst;
//! * [`split_table`]: the `u32 total` prefix of every table buffer.
//!
//! ```
//! use zkproto::terminal::record::bulk::{BulkRead, BufferDescriptor};
//! assert_eq!(&BulkRead::users().encode()[..], [1, 9, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
//! let d = BufferDescriptor::parse(&[0, 0xb4, 0x13, 0, 0, 0xb4, 0x13, 0, 0, 0xcd, 0xef, 0x23, 0]).unwrap();
//! assert_eq!((d.size, d.hash), (5044, 0x0023_EFCD));
//! ```

use crate::terminal::command::{Command, TableId};
use crate::terminal::record::error::RecordError;
use bytes::{BufMut, Bytes, BytesMut};
use nom::Parser;
use nom::number::complete::{le_u16, le_u32, u8 as le_u8};

/// Default limit for a bulk transfer size announced by a device (64 MiB).
///
/// A 100 000-record attendance log with 49-byte records is under 5 MiB, so
/// a larger announcement means a confused peer; clients refuse it before
/// allocating (see [`BufferDescriptor::check_size`]).
pub const MAX_BULK_SIZE: u32 = 64 * 1024 * 1024;

type NomErr<'a> = nom::error::Error<&'a [u8]>;

fn exact_len(what: &'static str, data: &[u8], len: usize) -> Result<(), RecordError> {
    if data.len() < len {
        Err(RecordError::Truncated {
            what,
            offset: 0,
            need: len,
            got: data.len(),
        })
    } else if data.len() > len {
        Err(RecordError::TrailingBytes {
            what,
            extra: data.len() - len,
        })
    } else {
        Ok(())
    }
}

fn truncated(what: &'static str, need: usize, got: usize) -> RecordError {
    RecordError::Truncated {
        what,
        offset: 0,
        need,
        got,
    }
}

/// The `CMD_PREPARE_BUFFER` (1503) request: which table to read into the
/// session buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BulkRead {
    /// Inner command: `CMD_DB_RRQ` 7, `CMD_USERTEMP_RRQ` 9, `CMD_ATTLOG_RRQ`
    /// 13, `CMD_OPLOG_RRQ` 34, …
    pub command: u16,
    /// For 7 / 9: the table id (only the low byte is used); for 13: the
    /// start (0 = whole log).
    pub param1: u32,
    /// 0 (a firmware-specific filter for 13 with a non-zero start).
    pub param2: u32,
    /// Compression requested; all clients send 1 (firmware answers
    /// uncompressed anyway).
    pub compress: u8,
}

impl BulkRead {
    /// Encoded length.
    pub const LEN: usize = 11;

    /// A request for `command` with the given parameters and `compress` 1.
    pub const fn new(command: Command, param1: u32, param2: u32) -> Self {
        BulkRead {
            command: command.value(),
            param1,
            param2,
            compress: 1,
        }
    }

    /// All users: `CMD_USERTEMP_RRQ`, `FCT_USER`.
    pub const fn users() -> Self {
        Self::new(Command::UserTempRrq, TableId::User.value() as u32, 0)
    }

    /// All attendance records: `CMD_ATTLOG_RRQ`.
    pub const fn attendance() -> Self {
        Self::new(Command::AttLogRrq, 0, 0)
    }

    /// All fingerprint templates: `CMD_DB_RRQ`, `FCT_FINGERTMP`.
    pub const fn templates() -> Self {
        Self::new(Command::DbRrq, TableId::FingerTmp.value() as u32, 0)
    }

    /// The operation log: `CMD_OPLOG_RRQ`.
    pub const fn oplog() -> Self {
        Self::new(Command::OpLogRrq, 0, 0)
    }

    /// The inner command as a [`Command`].
    pub fn inner_command(&self) -> Command {
        Command::from(self.command)
    }

    /// Encodes the 11 bytes `compress, u16 command, u32 param1, u32 param2`.
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::BulkRead;
    /// assert_eq!(&BulkRead::templates().encode()[..], [1, 7, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
    /// assert_eq!(&BulkRead::oplog().encode()[..], [1, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    /// ```
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(Self::LEN);
        b.put_u8(self.compress);
        b.put_u16_le(self.command);
        b.put_u32_le(self.param1);
        b.put_u32_le(self.param2);
        b.freeze()
    }

    /// Parses the request; anything but exactly 11 bytes is an error (the
    /// firmware ignores other sizes).
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::BulkRead;
    /// let r = BulkRead::parse(&[1, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    /// assert_eq!(r, BulkRead::attendance());
    /// assert!(BulkRead::parse(&[1, 0x0d, 0]).is_err());
    /// ```
    pub fn parse(data: &[u8]) -> Result<BulkRead, RecordError> {
        exact_len("bulk read request", data, Self::LEN)?;
        let (_, (compress, command, param1, param2)) =
            (le_u8::<&[u8], NomErr<'_>>, le_u16, le_u32, le_u32)
                .parse(data)
                .map_err(|_| truncated("bulk read request", Self::LEN, data.len()))?;
        Ok(BulkRead {
            command,
            param1,
            param2,
            compress,
        })
    }
}

/// The 13-byte `CMD_ACK_OK` data answering a 1503 request whose result is
/// held in the session buffer (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BufferDescriptor {
    /// Compression flag (0 = not compressed).
    pub compressed: u8,
    /// Bytes to fetch with 1504.
    pub size: u32,
    /// Uncompressed size (equals `size` in every capture).
    pub original_size: u32,
    /// [`buffer_hash`] of the buffer.
    pub hash: u32,
}

impl BufferDescriptor {
    /// Encoded length.
    pub const LEN: usize = 13;

    /// The descriptor a device sends for an uncompressed buffer.
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::{BufferDescriptor, buffer_hash};
    /// let d = BufferDescriptor::for_buffer(b"ZKTeco");
    /// assert_eq!((d.size, d.original_size, d.hash), (6, 6, buffer_hash(b"ZKTeco")));
    /// ```
    pub fn for_buffer(buf: &[u8]) -> Self {
        let size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        BufferDescriptor {
            compressed: 0,
            size,
            original_size: size,
            hash: buffer_hash(buf),
        }
    }

    /// Parses the descriptor: exactly 13 bytes.
    pub fn parse(data: &[u8]) -> Result<BufferDescriptor, RecordError> {
        exact_len("buffer descriptor", data, Self::LEN)?;
        let (_, (compressed, size, original_size, hash)) =
            (le_u8::<&[u8], NomErr<'_>>, le_u32, le_u32, le_u32)
                .parse(data)
                .map_err(|_| truncated("buffer descriptor", Self::LEN, data.len()))?;
        Ok(BufferDescriptor {
            compressed,
            size,
            original_size,
            hash,
        })
    }

    /// Encodes the 13 bytes.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(Self::LEN);
        b.put_u8(self.compressed);
        b.put_u32_le(self.size);
        b.put_u32_le(self.original_size);
        b.put_u32_le(self.hash);
        b.freeze()
    }

    /// Refuses a descriptor announcing more than `max` bytes (use
    /// [`MAX_BULK_SIZE`] unless configured otherwise).
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::{BufferDescriptor, MAX_BULK_SIZE};
    /// let d = BufferDescriptor { compressed: 0, size: u32::MAX, original_size: 0, hash: 0 };
    /// assert!(d.check_size(MAX_BULK_SIZE).is_err());
    /// ```
    pub fn check_size(&self, max: u32) -> Result<(), RecordError> {
        for (offset, value) in [(1, self.size), (5, self.original_size)] {
            if value > max {
                return Err(RecordError::BadLength {
                    what: "buffer descriptor",
                    offset,
                    value: u64::from(value),
                    reason: "exceeds the bulk size limit",
                });
            }
        }
        Ok(())
    }
}

/// The buffer hash of §4.2.1 (`hashpjw` modulo 16 711 679), as returned in
/// [`BufferDescriptor::hash`] and by `CMD_HASH_DATA` (119).
///
/// The firmware's temporary is a signed `int`, so the `>> 24` is an
/// arithmetic shift; a logical shift gives different values once the top
/// bit is set (e.g. eight bytes `08 00 … 00` hash to 0x10081, not 0x80).
///
/// ```
/// use zkproto::terminal::record::bulk::buffer_hash;
/// assert_eq!(buffer_hash(b""), 0);
/// assert_eq!(buffer_hash(b"ZKTeco"), 0x00F5_ABA4);
/// assert_eq!(buffer_hash(&[8, 0, 0, 0, 0, 0, 0, 0]), 0x0001_0081);
/// ```
pub fn buffer_hash(data: &[u8]) -> u32 {
    let mut val: u32 = 0;
    for &b in data {
        val = (val << 4).wrapping_add(u32::from(b));
        let tmp = val & 0xF000_0000;
        if tmp != 0 {
            // Reinterpret as the firmware's signed int, then sign-extend.
            let signed = i32::from_ne_bytes(tmp.to_ne_bytes());
            val ^= u32::from_ne_bytes((signed >> 24).to_ne_bytes());
            val ^= tmp;
        }
    }
    val % 16_711_679
}

/// The 8-byte `CMD_READ_BUFFER` (1504) request: a slice of the session
/// buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReadChunk {
    /// Start offset in the buffer.
    pub offset: u32,
    /// Number of bytes.
    pub len: u32,
}

impl ReadChunk {
    /// Encoded length.
    pub const LEN: usize = 8;

    /// Parses the request: exactly 8 bytes.
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::ReadChunk;
    /// let c = ReadChunk { offset: 0xFFC0, len: 0x1000 };
    /// assert_eq!(ReadChunk::parse(&c.encode()).unwrap(), c);
    /// assert!(ReadChunk::parse(&[0; 7]).is_err());
    /// ```
    pub fn parse(data: &[u8]) -> Result<ReadChunk, RecordError> {
        exact_len("read chunk request", data, Self::LEN)?;
        let (_, (offset, len)) = (le_u32::<&[u8], NomErr<'_>>, le_u32)
            .parse(data)
            .map_err(|_| truncated("read chunk request", Self::LEN, data.len()))?;
        Ok(ReadChunk { offset, len })
    }

    /// Encodes `u32 offset, u32 len`.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(Self::LEN);
        b.put_u32_le(self.offset);
        b.put_u32_le(self.len);
        b.freeze()
    }

    /// Whether the chunk lies inside a buffer of `buffer_size` bytes (the
    /// device answers `CMD_ACK_ERROR` otherwise).
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::ReadChunk;
    /// assert!(ReadChunk { offset: 4000, len: 1044 }.fits(5044));
    /// assert!(!ReadChunk { offset: 4000, len: 1045 }.fits(5044));
    /// assert!(!ReadChunk { offset: u32::MAX, len: 2 }.fits(u32::MAX));
    /// ```
    pub fn fits(&self, buffer_size: u32) -> bool {
        self.offset
            .checked_add(self.len)
            .is_some_and(|end| end <= buffer_size)
    }
}

/// The `CMD_PREPARE_DATA` (1500) payload.
///
/// A client announcing an upload sends 4 bytes (`u32 len`); a device
/// starting a burst sends 8 (`u32 len, u32 packet_size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PrepareData {
    /// Total bytes that follow.
    pub len: u32,
    /// Largest data part of the following `CMD_DATA` packets (burst form only).
    pub packet_size: Option<u32>,
}

impl PrepareData {
    /// Parses 4 or 8 bytes.
    ///
    /// ```
    /// use zkproto::terminal::record::bulk::PrepareData;
    /// let p = PrepareData::parse(&[0xb4, 0x13, 0, 0, 0xf0, 0x03, 0, 0]).unwrap();
    /// assert_eq!((p.len, p.packet_size), (5044, Some(1008)));
    /// assert_eq!(PrepareData::parse(&[72, 0, 0, 0]).unwrap().packet_size, None);
    /// assert!(PrepareData::parse(&[0; 6]).is_err());
    /// ```
    pub fn parse(data: &[u8]) -> Result<PrepareData, RecordError> {
        const WHAT: &str = "prepare data";
        match data.len() {
            4 => {
                let (_, len) = le_u32::<&[u8], NomErr<'_>>
                    .parse(data)
                    .map_err(|_| truncated(WHAT, 4, data.len()))?;
                Ok(PrepareData {
                    len,
                    packet_size: None,
                })
            }
            8 => {
                let (_, (len, psize)) = (le_u32::<&[u8], NomErr<'_>>, le_u32)
                    .parse(data)
                    .map_err(|_| truncated(WHAT, 8, data.len()))?;
                Ok(PrepareData {
                    len,
                    packet_size: Some(psize),
                })
            }
            n if n < 4 => Err(truncated(WHAT, 4, n)),
            n if n < 8 => Err(truncated(WHAT, 8, n)),
            n => Err(RecordError::TrailingBytes {
                what: WHAT,
                extra: n - 8,
            }),
        }
    }

    /// Encodes 4 bytes, or 8 with a packet size.
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(8);
        b.put_u32_le(self.len);
        if let Some(p) = self.packet_size {
            b.put_u32_le(p);
        }
        b.freeze()
    }
}

/// Splits a table buffer (§4.6) into its `u32 total` prefix and the record
/// bytes.
///
/// Returns exactly `total` bytes of records. Captures always have `total`
/// equal to the bytes that follow; trailing bytes beyond `total` are
/// tolerated and ignored, but a `total` larger than what follows is
/// [`RecordError::BadLength`].
///
/// ```
/// use zkproto::terminal::record::bulk::split_table;
/// let (total, records) = split_table(&[3, 0, 0, 0, 1, 2, 3]).unwrap();
/// assert_eq!((total, records), (3, &[1u8, 2, 3][..]));
/// assert!(split_table(&[9, 0, 0, 0, 1]).is_err());
/// ```
pub fn split_table(buf: &[u8]) -> Result<(u32, &[u8]), RecordError> {
    let (head, rest) =
        buf.split_first_chunk::<4>()
            .ok_or(truncated("table buffer", 4, buf.len()))?;
    let total = u32::from_le_bytes(*head);
    let bad = || RecordError::BadLength {
        what: "table buffer",
        offset: 0,
        value: u64::from(total),
        reason: "total exceeds the bytes that follow",
    };
    let n = usize::try_from(total).map_err(|_| bad())?;
    let records = rest.get(..n).ok_or_else(bad)?;
    Ok((total, records))
}

/// Builds a table buffer from record bytes (the simulator's side of
/// [`split_table`]). Fails when the records exceed `u32::MAX` bytes.
///
/// ```
/// use zkproto::terminal::record::bulk::{table_buffer, split_table};
/// let b = table_buffer(&[7; 72]).unwrap();
/// assert_eq!(split_table(&b).unwrap(), (72, &[7u8; 72][..]));
/// ```
pub fn table_buffer(records: &[u8]) -> Result<Bytes, crate::terminal::error::EncodeError> {
    encode_table(records.len(), |b| {
        b.put_slice(records);
        Ok(())
    })
}

/// Builds a table buffer from whatever `write` appends after the 4-byte
/// total, then fills the total in. `capacity` is a hint for the record bytes.
///
/// ```
/// use bytes::BufMut;
/// use zkproto::terminal::record::bulk::{encode_table, split_table};
/// use zkproto::terminal::EncodeError;
/// let b = encode_table(3, |dst| { dst.put_slice(b"abc"); Ok::<_, EncodeError>(()) }).unwrap();
/// assert_eq!(split_table(&b).unwrap(), (3, &b"abc"[..]));
/// ```
pub fn encode_table<E>(
    capacity: usize,
    write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Result<Bytes, E>
where
    E: From<crate::terminal::error::EncodeError>,
{
    let mut dst = BytesMut::with_capacity(capacity.saturating_add(4));
    dst.put_u32_le(0);
    write(&mut dst)?;
    let total = dst.len() - 4;
    let total32 =
        u32::try_from(total).map_err(|_| crate::terminal::error::EncodeError::PayloadTooLarge {
            len: total,
            max: u32::MAX as usize,
        })?;
    if let Some(head) = dst.get_mut(..4) {
        head.copy_from_slice(&total32.to_le_bytes());
    }
    Ok(dst.freeze())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The same algorithm with a logical shift (the common mistake).
    fn logical_hash(data: &[u8]) -> u32 {
        let mut val: u32 = 0;
        for &b in data {
            val = (val << 4).wrapping_add(u32::from(b));
            let tmp = val & 0xF000_0000;
            if tmp != 0 {
                val ^= tmp >> 24;
                val ^= tmp;
            }
        }
        val % 16_711_679
    }

    #[test]
    fn bulk_read_constants_match_the_reference_table() {
        // §4.1 "Known payloads".
        let cases: [(BulkRead, [u8; 11]); 4] = [
            (
                BulkRead::users(),
                [0x01, 0x09, 0, 0x05, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                BulkRead::templates(),
                [0x01, 0x07, 0, 0x02, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                BulkRead::attendance(),
                [0x01, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (BulkRead::oplog(), [0x01, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ];
        for (req, bytes) in cases {
            assert_eq!(&req.encode()[..], &bytes[..]);
            assert_eq!(BulkRead::parse(&bytes).unwrap(), req);
        }
        assert_eq!(BulkRead::users().inner_command(), Command::UserTempRrq);
    }

    #[test]
    fn bulk_read_wrong_sizes() {
        assert_eq!(
            BulkRead::parse(&[1; 12]),
            Err(RecordError::TrailingBytes {
                what: "bulk read request",
                extra: 1
            })
        );
        assert!(matches!(
            BulkRead::parse(&[]),
            Err(RecordError::Truncated {
                need: 11,
                got: 0,
                ..
            })
        ));
    }

    #[test]
    fn hash_small_vectors() {
        // "ZKTeco": the top nibble never fills, so the value is the plain
        // sum 0x05F0AB9F mod 16 711 679 = 0xF5ABA4 (worked by hand).
        assert_eq!(buffer_hash(b"ZKTeco"), 0xF5ABA4);
        assert_eq!(logical_hash(b"ZKTeco"), 0xF5ABA4);
        // 08 then seven zeros: val reaches 0x8000_0000; the arithmetic shift
        // gives 0xFFFF_FF80 ^ 0x8000_0000 ^ 0x8000_0000 = 0xFFFF_FF80, whose
        // remainder is 0x10081; a logical shift gives 0x80.
        let v = [8u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(buffer_hash(&v), 0x10081);
        assert_eq!(logical_hash(&v), 0x80);
    }

    #[test]
    fn hash_differs_from_logical_only_with_bit_31() {
        // Seven bytes never fill the top nibble: both shifts agree.
        let short = [7u8, 6, 5, 4, 3, 2, 1];
        assert_eq!(buffer_hash(&short), logical_hash(&short));
        // A long buffer of high bytes sets bit 31 repeatedly.
        let all: Vec<u8> = (0..=255).collect();
        assert_ne!(buffer_hash(&all), logical_hash(&all));
    }

    #[test]
    fn descriptor_truncated_and_limits() {
        assert!(matches!(
            BufferDescriptor::parse(&[0, 0xb4, 0x13, 0, 0, 0xb4, 0x13, 0, 0, 0xcd, 0xef, 0x23]),
            Err(RecordError::Truncated {
                need: 13,
                got: 12,
                ..
            })
        ));
        let d = BufferDescriptor {
            compressed: 0,
            size: 10,
            original_size: MAX_BULK_SIZE + 1,
            hash: 0,
        };
        assert!(matches!(
            d.check_size(MAX_BULK_SIZE),
            Err(RecordError::BadLength { offset: 5, .. })
        ));
        assert!(
            BufferDescriptor::for_buffer(&[1, 2])
                .check_size(MAX_BULK_SIZE)
                .is_ok()
        );
    }

    #[test]
    fn split_table_lying_total() {
        assert_eq!(
            split_table(&[0xff, 0xff, 0xff, 0xff, 0]),
            Err(RecordError::BadLength {
                what: "table buffer",
                offset: 0,
                value: 0xffff_ffff,
                reason: "total exceeds the bytes that follow",
            })
        );
        assert!(matches!(
            split_table(&[1, 0]),
            Err(RecordError::Truncated {
                need: 4,
                got: 2,
                ..
            })
        ));
        // Trailing bytes after `total` are ignored.
        assert_eq!(split_table(&[1, 0, 0, 0, 9, 8]).unwrap(), (1, &[9u8][..]));
        assert_eq!(split_table(&[0, 0, 0, 0]).unwrap(), (0, &[][..]));
    }

    proptest! {
        #[test]
        fn bulk_read_round_trip(command in any::<u16>(), p1 in any::<u32>(), p2 in any::<u32>(), c in any::<u8>()) {
            let r = BulkRead { command, param1: p1, param2: p2, compress: c };
            let e = r.encode();
            prop_assert_eq!(e.len(), BulkRead::LEN);
            prop_assert_eq!(BulkRead::parse(&e).unwrap(), r);
        }

        #[test]
        fn descriptor_round_trip(bytes in proptest::array::uniform13(any::<u8>())) {
            let d = BufferDescriptor::parse(&bytes).unwrap();
            prop_assert_eq!(&d.encode()[..], &bytes[..]);
        }

        #[test]
        fn chunk_and_prepare_round_trip(o in any::<u32>(), l in any::<u32>(), p in any::<Option<u32>>()) {
            let c = ReadChunk { offset: o, len: l };
            prop_assert_eq!(ReadChunk::parse(&c.encode()).unwrap(), c);
            let pd = PrepareData { len: l, packet_size: p };
            prop_assert_eq!(PrepareData::parse(&pd.encode()).unwrap(), pd);
        }

        #[test]
        fn table_round_trip(records in proptest::collection::vec(any::<u8>(), 0..200), junk in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut b = table_buffer(&records).unwrap().to_vec();
            b.extend_from_slice(&junk);
            let (total, r) = split_table(&b).unwrap();
            prop_assert_eq!(total as usize, records.len());
            prop_assert_eq!(r, &records[..]);
        }

        #[test]
        fn hash_is_below_modulus(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert!(buffer_hash(&data) < 16_711_679);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = BulkRead::parse(&data);
            let _ = BufferDescriptor::parse(&data);
            let _ = ReadChunk::parse(&data);
            let _ = PrepareData::parse(&data);
            let _ = split_table(&data);
        }
    }
}
