//! Operation-log records (reference §6.4, op codes §2.6).
//!
//! 16 bytes each: `u16 admin, u8 op, u8 pad (alignment, garbage), u32 time,
//! u16 params[4]` (param 0 is usually the target user, param 1 the result).
//!
//! ```
//! use zkproto::terminal::record::oplog::{parse_oplog, encode_oplog_table};
//! use zkproto::terminal::record::time::DeviceTime;
//! let rec = [0, 0, 6, 0x2a, 0xc2, 0x9b, 0x68, 0x23, 3, 0, 0, 0, 7, 0, 2, 5];
//! let log = parse_oplog(&rec).unwrap();
//! assert_eq!(log[0].op_name(), Some("enroll fingerprint"));
//! assert_eq!(log[0].time, DeviceTime::new(2018, 6, 25, 16, 9, 38));
//! assert_eq!(&encode_oplog_table(&log).unwrap()[4..], &rec);
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use crate::terminal::record::time::{DeviceTime, InvalidTime};
use bytes::{BufMut, Bytes, BytesMut};

/// Size of one operation-log record.
pub const OPLOG_RECORD_LEN: usize = 16;

/// One operation-log record.
///
/// The packed time read from the device is kept, so a record whose time is
/// outside what [`DeviceTime`] can re-encode (years past 2099) still
/// re-encodes to its input while `time` is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OpLogEntry {
    /// Administrator uid (0 = none / the device).
    pub admin: u16,
    /// Operation code (§2.6, see [`op_name`](Self::op_name)).
    pub op: u8,
    /// Alignment byte (garbage on devices; kept for re-encoding).
    pub pad: u8,
    /// Device-local time; may be an impossible date.
    pub time: DeviceTime,
    /// Operation parameters (param 0 = target user, param 1 = result…).
    pub params: [u16; 4],
    #[cfg_attr(feature = "serde", serde(skip))]
    raw_time: Option<u32>,
}

impl OpLogEntry {
    /// Builds an entry (pad byte 0).
    ///
    /// ```
    /// use zkproto::terminal::record::oplog::OpLogEntry;
    /// use zkproto::terminal::record::time::DeviceTime;
    /// let e = OpLogEntry::new(1, 9, DeviceTime::new(2024, 1, 2, 3, 4, 5), [7, 1, 0, 0]);
    /// assert_eq!(e.op_name(), Some("delete user"));
    /// assert_eq!(e.to_bytes().unwrap().len(), 16);
    /// ```
    pub fn new(admin: u16, op: u8, time: DeviceTime, params: [u16; 4]) -> OpLogEntry {
        OpLogEntry {
            admin,
            op,
            pad: 0,
            time,
            params,
            raw_time: None,
        }
    }

    /// Parses one 16-byte record.
    pub fn parse(rec: &[u8]) -> Result<OpLogEntry, RecordError> {
        let Some((b, rest)) = rec.split_first_chunk::<OPLOG_RECORD_LEN>() else {
            return Err(RecordError::Truncated {
                what: "oplog",
                offset: 0,
                need: OPLOG_RECORD_LEN,
                got: rec.len(),
            });
        };
        if !rest.is_empty() {
            return Err(RecordError::TrailingBytes {
                what: "oplog",
                extra: rest.len(),
            });
        }
        Ok(Self::from_array(b))
    }

    fn from_array(b: &[u8; OPLOG_RECORD_LEN]) -> OpLogEntry {
        let [
            a0,
            a1,
            op,
            pad,
            t0,
            t1,
            t2,
            t3,
            p0,
            p1,
            p2,
            p3,
            p4,
            p5,
            p6,
            p7,
        ] = *b;
        let raw_time = u32::from_le_bytes([t0, t1, t2, t3]);
        OpLogEntry {
            admin: u16::from_le_bytes([a0, a1]),
            op,
            pad,
            time: DeviceTime::from_packed(raw_time),
            params: [
                u16::from_le_bytes([p0, p1]),
                u16::from_le_bytes([p2, p3]),
                u16::from_le_bytes([p4, p5]),
                u16::from_le_bytes([p6, p7]),
            ],
            raw_time: Some(raw_time),
        }
    }

    /// The name of the operation code (§2.6), or `None` for codes the
    /// reference does not name.
    pub fn op_name(&self) -> Option<&'static str> {
        op_name(self.op)
    }

    /// Why [`time`](Self::time) is not a real date-time, or `None` if it is.
    pub fn time_error(&self) -> Option<InvalidTime> {
        self.time.validate().err()
    }

    /// Appends the 16-byte record. Fails when a changed time is outside
    /// what the packed format stores (2000–2099).
    pub fn encode_into(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let time = match self.raw_time {
            Some(t) if DeviceTime::from_packed(t) == self.time => t,
            _ => self.time.to_packed()?,
        };
        dst.reserve(OPLOG_RECORD_LEN);
        dst.put_u16_le(self.admin);
        dst.put_u8(self.op);
        dst.put_u8(self.pad);
        dst.put_u32_le(time);
        for p in self.params {
            dst.put_u16_le(p);
        }
        Ok(())
    }

    /// The encoded record.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut dst = BytesMut::with_capacity(OPLOG_RECORD_LEN);
        self.encode_into(&mut dst)?;
        Ok(dst.freeze())
    }
}

/// Name of an operation-log op code (§2.6).
///
/// ```
/// use zkproto::terminal::record::oplog::op_name;
/// assert_eq!(op_name(0), Some("power on"));
/// assert_eq!(op_name(33), None);
/// ```
pub fn op_name(op: u8) -> Option<&'static str> {
    Some(match op {
        0 => "power on",
        1 => "power off",
        2 => "verify failure alarm",
        3 => "alarm",
        4 => "menu",
        5 => "change option",
        6 => "enroll fingerprint",
        7 => "enroll password",
        8 => "enroll RF card",
        9 => "delete user",
        10 => "delete fingerprint",
        11 => "delete password",
        12 => "delete RF card",
        13 => "clear data",
        14..=20 => "Mifare card operation",
        21 => "set time",
        22 => "factory reset",
        23 => "clear attendance log",
        24 => "clear administrators",
        25 => "change access group",
        26 => "change user access",
        27 => "change time zone",
        28 => "change unlock combination",
        29 => "unlock",
        30 => "enroll user",
        31 => "change fingerprint flags",
        32 => "duress alarm",
        34 => "anti-passback",
        35 => "delete attendance photo",
        36 => "modify user",
        68 => "enroll user photo",
        69 => "change user photo",
        70 => "change name",
        71 => "change privilege",
        72 => "sensor reboot",
        _ => return None,
    })
}

/// Parses an operation-log record area (without the 4-byte total).
pub fn parse_oplog(records: &[u8]) -> Result<Vec<OpLogEntry>, RecordError> {
    let extra = records.len() % OPLOG_RECORD_LEN;
    if extra != 0 {
        return Err(RecordError::Truncated {
            what: "oplog",
            offset: records.len() - extra,
            need: OPLOG_RECORD_LEN,
            got: extra,
        });
    }
    Ok(records
        .chunks_exact(OPLOG_RECORD_LEN)
        .filter_map(|c| c.first_chunk::<OPLOG_RECORD_LEN>())
        .map(OpLogEntry::from_array)
        .collect())
}

/// Builds an operation-log table buffer (§4.6): u32 total, then the records.
pub fn encode_oplog_table(entries: &[OpLogEntry]) -> Result<Bytes, EncodeError> {
    crate::terminal::record::bulk::encode_table(
        entries.len().saturating_mul(OPLOG_RECORD_LEN),
        |dst| entries.iter().try_for_each(|e| e.encode_into(dst)),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn zkp_record() {
        let rec = [
            0, 0, 6, 0x2a, 0xc2, 0x9b, 0x68, 0x23, 3, 0, 0, 0, 7, 0, 2, 5,
        ];
        let e = OpLogEntry::parse(&rec).unwrap();
        assert_eq!((e.admin, e.op, e.pad), (0, 6, 0x2a));
        assert_eq!(e.params, [3, 0, 7, 0x0502]);
        assert_eq!(&e.to_bytes().unwrap()[..], &rec);
        assert!(OpLogEntry::parse(&rec[..15]).is_err());
        assert!(parse_oplog(&rec[..15]).is_err());
    }

    #[test]
    fn out_of_range_time_round_trips_until_changed() {
        let mut rec = [0u8; 16];
        rec[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut e = OpLogEntry::parse(&rec).unwrap();
        assert!(e.time_error().is_some());
        assert_eq!(&e.to_bytes().unwrap()[..], &rec);
        e.time.second = 1;
        assert!(e.to_bytes().is_err());
        assert!(OpLogEntry::new(0, 0, e.time, [0; 4]).to_bytes().is_err());
    }
}
