//! Fingerprint templates (reference §6.3, §4.8, §5.3, §5.4).
//!
//! * the template table (`FCT_FINGERTMP` read buffer) is a run of entries
//!   `u16 size (= template length + 6), u16 uid, u8 finger, u8 flag, template`;
//! * the batch upload buffer of command 110 carries users and templates
//!   together ([`batch_upload_buffer`]);
//! * `CMD_TMP_WRITE` (87) takes a 6-byte header ([`TemplateWrite`]).
//!
//! Template bytes are opaque. Templates longer than [`MAX_TEMPLATE_LEN`]
//! are refused both ways (ZKFinger v10 templates are at most 1664 bytes).
//!
//! ```
//! use zkproto::terminal::record::template::{parse_templates, Template};
//! use bytes::{Bytes, BytesMut};
//! let t = Template { uid: 14, finger: 4, flag: 1, data: Bytes::from_static(b"\x4d\xfdSS21") };
//! let mut buf = BytesMut::new();
//! t.encode_entry(&mut buf).unwrap();
//! assert_eq!(&buf[..6], &[0x0c, 0x00, 0x0e, 0x00, 0x04, 0x01]);
//! assert_eq!(parse_templates(&buf).unwrap(), vec![t]);
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use crate::terminal::record::user::{User, UserLayout};
use bytes::{BufMut, Bytes, BytesMut};
use nom::Parser;
use nom::number::complete::{le_u16, le_u32, u8 as le_u8};

/// Longest template accepted, in bytes. ZKFinger v9 templates are at most
/// 602 bytes and v10 templates at most 1664; the limit leaves room for
/// larger firmware variants while bounding allocations.
pub const MAX_TEMPLATE_LEN: usize = 4096;

/// Size of a template table entry header.
pub const ENTRY_HEADER_LEN: usize = 6;

/// The `OpSign` byte written before each user and finger entry of a batch
/// upload (pyzk always writes 2; its meaning is undocumented, §13).
pub const BATCH_OP_SIGN: u8 = 2;

/// Added to the finger index in the batch finger table (pyzk: `0x10 + fid`).
pub const BATCH_FINGER_FLAG: u8 = 0x10;

/// One fingerprint template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Template {
    /// Internal user index.
    pub uid: u16,
    /// Finger index 0–9.
    pub finger: u8,
    /// 1 valid, 3 valid + duress, 0 invalid.
    pub flag: u8,
    /// The template bytes (v10 templates carry "SS21" at bytes 2–5).
    pub data: Bytes,
}

fn too_long(len: usize) -> EncodeError {
    EncodeError::FieldTooLong {
        field: "template",
        len,
        max: MAX_TEMPLATE_LEN,
    }
}

fn nom_truncated(what: &'static str, offset: usize, need: usize, got: usize) -> RecordError {
    RecordError::Truncated {
        what,
        offset,
        need,
        got,
    }
}

impl Template {
    /// Flag of a valid template.
    pub const FLAG_VALID: u8 = 1;
    /// Flag of a valid duress template.
    pub const FLAG_DURESS: u8 = 3;

    /// Whether bit 0 of the flag (valid) is set.
    ///
    /// ```
    /// use zkproto::terminal::record::template::Template;
    /// let mut t = Template { uid: 1, finger: 0, flag: 3, data: Default::default() };
    /// assert!(t.is_valid() && t.is_duress());
    /// t.flag = 0;
    /// assert!(!t.is_valid());
    /// ```
    pub fn is_valid(&self) -> bool {
        self.flag & 1 != 0
    }

    /// Whether bit 1 of the flag (duress) is set.
    pub fn is_duress(&self) -> bool {
        self.flag & 2 != 0
    }

    /// Appends the table entry: 6-byte header and the template bytes.
    /// Fails when the template is longer than [`MAX_TEMPLATE_LEN`].
    pub fn encode_entry(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let len = self.data.len();
        if len > MAX_TEMPLATE_LEN {
            return Err(too_long(len));
        }
        let size = u16::try_from(len + ENTRY_HEADER_LEN).map_err(|_| too_long(len))?;
        dst.reserve(usize::from(size));
        dst.put_u16_le(size);
        dst.put_u16_le(self.uid);
        dst.put_u8(self.finger);
        dst.put_u8(self.flag);
        dst.put_slice(&self.data);
        Ok(())
    }
}

/// Parses a template table record area (without the 4-byte total) by
/// walking the entries' size fields. A size below 6, beyond the remaining
/// bytes or announcing more than [`MAX_TEMPLATE_LEN`] template bytes is
/// refused with [`RecordError::BadLength`] at its offset.
///
/// ```
/// use zkproto::terminal::record::template::parse_templates;
/// use zkproto::terminal::record::RecordError;
/// assert!(parse_templates(&[]).unwrap().is_empty());
/// assert!(matches!(parse_templates(&[0, 0, 1, 0, 0, 1]), Err(RecordError::BadLength { offset: 0, .. })));
/// ```
pub fn parse_templates(records: &[u8]) -> Result<Vec<Template>, RecordError> {
    let mut out = Vec::with_capacity(records.len() / ENTRY_HEADER_LEN);
    let mut rest = records;
    let mut offset = 0usize;
    while !rest.is_empty() {
        let (entry, size) = parse_entry(rest, offset)?;
        out.push(entry);
        rest = rest.get(size..).unwrap_or_default();
        offset += size;
    }
    Ok(out)
}

/// Parses one entry at the start of `input` (found at `offset`); returns it
/// and the entry size.
fn parse_entry(input: &[u8], offset: usize) -> Result<(Template, usize), RecordError> {
    let (_, (size, uid, finger, flag)) = (le_u16, le_u16, le_u8, le_u8).parse(input).map_err(
        |_: nom::Err<nom::error::Error<&[u8]>>| {
            nom_truncated("template entry", offset, ENTRY_HEADER_LEN, input.len())
        },
    )?;
    let size = usize::from(size);
    let bad = |reason| RecordError::BadLength {
        what: "template entry",
        offset,
        value: size as u64,
        reason,
    };
    if size < ENTRY_HEADER_LEN {
        return Err(bad("smaller than the 6-byte entry header"));
    }
    if size - ENTRY_HEADER_LEN > MAX_TEMPLATE_LEN {
        return Err(bad("template longer than MAX_TEMPLATE_LEN"));
    }
    let data = input
        .get(ENTRY_HEADER_LEN..size)
        .ok_or_else(|| bad("entry extends past the end of the buffer"))?;
    Ok((
        Template {
            uid,
            finger,
            flag,
            data: Bytes::copy_from_slice(data),
        },
        size,
    ))
}

/// Builds a template table buffer (§4.6): u32 total length, then the entries.
///
/// ```
/// use zkproto::terminal::record::template::{encode_template_table, Template};
/// let t = Template { uid: 1, finger: 0, flag: 1, data: vec![1, 2, 3].into() };
/// let buf = encode_template_table(&[t]).unwrap();
/// assert_eq!(&buf[..], &[9, 0, 0, 0, 9, 0, 1, 0, 0, 1, 1, 2, 3]);
/// ```
pub fn encode_template_table(templates: &[Template]) -> Result<Bytes, EncodeError> {
    let hint = templates.iter().map(|t| t.data.len() + 6).sum();
    crate::terminal::record::bulk::encode_table(hint, |dst| {
        templates.iter().try_for_each(|t| t.encode_entry(dst))
    })
}

/// Builds the batch upload buffer of command 110 sub-command 12 (§5.3):
/// a 12-byte header (`u32 user section length, u32 finger table length,
/// u32 template data length`), the user section (`OpSign 2` + record per
/// user), the finger table (`OpSign 2, u16 uid, u8 0x10 + finger, u32 offset`
/// per template) and the template data (`u16 length + bytes` per template).
///
/// All users must share one layout; the template flag is not carried (the
/// device stores such templates as valid); finger indexes must be ≤ 0xEF.
///
/// ```
/// use zkproto::terminal::record::template::{batch_upload_buffer, parse_batch_upload, Template};
/// use zkproto::terminal::record::user::{User, UserLayout};
/// use zkproto::terminal::record::text::TextEncoding;
/// let u = User::new(UserLayout::Extended72, 1, "1", TextEncoding::Utf8).unwrap();
/// let t = Template { uid: 1, finger: 6, flag: 1, data: vec![9; 10].into() };
/// let buf = batch_upload_buffer(&[u.clone()], &[t.clone()]).unwrap();
/// assert_eq!(&buf[..12], &[73, 0, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0]);
/// let (users, templates) = parse_batch_upload(&buf, UserLayout::Extended72).unwrap();
/// assert_eq!((users, templates), (vec![u], vec![t]));
/// ```
pub fn batch_upload_buffer(users: &[User], templates: &[Template]) -> Result<Bytes, EncodeError> {
    let layout = users.first().map(User::layout);
    if users.iter().any(|u| Some(u.layout()) != layout) {
        return Err(EncodeError::OutOfRange {
            field: "users",
            reason: "all users must use one record layout",
        });
    }
    let mut user_section = BytesMut::new();
    for u in users {
        user_section.put_u8(BATCH_OP_SIGN);
        u.encode_into(&mut user_section);
    }
    let mut table = BytesMut::with_capacity(templates.len().saturating_mul(8));
    let mut data = BytesMut::new();
    for t in templates {
        let len = t.data.len();
        if len > MAX_TEMPLATE_LEN {
            return Err(too_long(len));
        }
        let finger = t
            .finger
            .checked_add(BATCH_FINGER_FLAG)
            .ok_or(EncodeError::OutOfRange {
                field: "finger",
                reason: "must be at most 0xEF in a batch upload",
            })?;
        let offset = u32::try_from(data.len()).map_err(|_| EncodeError::PayloadTooLarge {
            len: data.len(),
            max: u32::MAX as usize,
        })?;
        table.put_u8(BATCH_OP_SIGN);
        table.put_u16_le(t.uid);
        table.put_u8(finger);
        table.put_u32_le(offset);
        data.put_u16_le(u16::try_from(len).map_err(|_| too_long(len))?);
        data.put_slice(&t.data);
    }
    let total = 12 + user_section.len() + table.len() + data.len();
    let len32 = |n: usize| {
        u32::try_from(n).map_err(|_| EncodeError::PayloadTooLarge {
            len: total,
            max: u32::MAX as usize,
        })
    };
    let mut out = BytesMut::with_capacity(total);
    out.put_u32_le(len32(user_section.len())?);
    out.put_u32_le(len32(table.len())?);
    out.put_u32_le(len32(data.len())?);
    out.put_slice(&user_section);
    out.put_slice(&table);
    out.put_slice(&data);
    Ok(out.freeze())
}

/// Parses a batch upload buffer (§5.3) whose user records have `layout`.
/// The header lengths must add up to the buffer length exactly. Templates
/// come back in finger-table order with flag 1 (the buffer has no flag).
///
/// ```
/// use zkproto::terminal::record::template::parse_batch_upload;
/// use zkproto::terminal::record::user::UserLayout;
/// let empty = [0u8; 12];
/// let (u, t) = parse_batch_upload(&empty, UserLayout::Compact28).unwrap();
/// assert!(u.is_empty() && t.is_empty());
/// assert!(parse_batch_upload(&[1, 0, 0, 0], UserLayout::Compact28).is_err());
/// ```
pub fn parse_batch_upload(
    buf: &[u8],
    layout: UserLayout,
) -> Result<(Vec<User>, Vec<Template>), RecordError> {
    const WHAT: &str = "batch upload";
    let (body, (ulen, flen, dlen)) = (le_u32, le_u32, le_u32)
        .parse(buf)
        .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| nom_truncated(WHAT, 0, 12, buf.len()))?;
    let to_usize = |v: u32, offset: usize| {
        usize::try_from(v).map_err(|_| RecordError::BadLength {
            what: WHAT,
            offset,
            value: u64::from(v),
            reason: "does not fit in memory",
        })
    };
    let (ulen, flen, dlen) = (to_usize(ulen, 0)?, to_usize(flen, 4)?, to_usize(dlen, 8)?);
    let need = ulen
        .checked_add(flen)
        .and_then(|n| n.checked_add(dlen))
        .ok_or(RecordError::BadLength {
            what: WHAT,
            offset: 0,
            value: u64::MAX,
            reason: "section lengths overflow",
        })?;
    if body.len() < need {
        return Err(nom_truncated(WHAT, 12, need, body.len()));
    }
    if body.len() > need {
        return Err(RecordError::TrailingBytes {
            what: WHAT,
            extra: body.len() - need,
        });
    }
    let (users_part, rest) = body.split_at_checked(ulen).unwrap_or_default();
    let (table, data) = rest.split_at_checked(flen).unwrap_or_default();

    let step = layout.record_len() + 1;
    if ulen % step != 0 {
        return Err(RecordError::BadLength {
            what: WHAT,
            offset: 0,
            value: ulen as u64,
            reason: "user section is not a whole number of OpSign + record entries",
        });
    }
    let mut users = Vec::with_capacity(ulen / step);
    for entry in users_part.chunks_exact(step) {
        let rec = entry.get(1..).unwrap_or_default();
        users.push(User::parse(rec, layout)?);
    }

    if flen % 8 != 0 {
        return Err(RecordError::BadLength {
            what: WHAT,
            offset: 4,
            value: flen as u64,
            reason: "finger table is not a whole number of 8-byte entries",
        });
    }
    let data_offset = 12 + ulen + flen;
    let mut templates = Vec::with_capacity(flen / 8);
    for (i, entry) in table.chunks_exact(8).enumerate() {
        let entry_offset = 12 + ulen + i * 8;
        let (_, (_op, uid, fid, off)) = (le_u8, le_u16, le_u8, le_u32).parse(entry).map_err(
            |_: nom::Err<nom::error::Error<&[u8]>>| {
                nom_truncated(WHAT, entry_offset, 8, entry.len())
            },
        )?;
        let finger = fid
            .checked_sub(BATCH_FINGER_FLAG)
            .ok_or(RecordError::InvalidField {
                what: WHAT,
                field: "finger (expected 0x10 + index)",
                offset: entry_offset + 3,
            })?;
        let bad_off = RecordError::BadLength {
            what: WHAT,
            offset: entry_offset + 4,
            value: u64::from(off),
            reason: "template offset outside the template data",
        };
        let start = usize::try_from(off).map_err(|_| bad_off.clone())?;
        let at = data.get(start..).ok_or(bad_off)?;
        let (body, len) = le_u16
            .parse(at)
            .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| {
                nom_truncated(WHAT, data_offset + start, 2, at.len())
            })?;
        let len = usize::from(len);
        if len > MAX_TEMPLATE_LEN {
            return Err(RecordError::BadLength {
                what: WHAT,
                offset: data_offset + start,
                value: len as u64,
                reason: "template longer than MAX_TEMPLATE_LEN",
            });
        }
        let bytes = body.get(..len).ok_or(RecordError::BadLength {
            what: WHAT,
            offset: data_offset + start,
            value: len as u64,
            reason: "template extends past the template data",
        })?;
        templates.push(Template {
            uid,
            finger,
            flag: Template::FLAG_VALID,
            data: Bytes::copy_from_slice(bytes),
        });
    }
    Ok((users, templates))
}

/// The 6-byte data header of `CMD_TMP_WRITE` (87): `u16 uid, u8 finger,
/// u8 flag, u16 size` (§5.4). With ZKFinger v10 the template itself is the
/// uploaded buffer; older algorithms put it inline after the header.
///
/// ```
/// use zkproto::terminal::record::template::TemplateWrite;
/// let w = TemplateWrite { uid: 14, finger: 4, flag: 1, size: 1214 };
/// let b = w.encode();
/// assert_eq!(b, [14, 0, 4, 1, 0xbe, 0x04]);
/// assert_eq!(TemplateWrite::parse(&b).unwrap(), (w, &[][..]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TemplateWrite {
    /// Internal user index.
    pub uid: u16,
    /// Finger index 0–9.
    pub finger: u8,
    /// 1 valid, 3 duress (the firmware stores 0 as 1).
    pub flag: u8,
    /// Template length in bytes.
    pub size: u16,
}

impl TemplateWrite {
    /// Encoded length.
    pub const LEN: usize = 6;

    /// The header for uploading `t`; fails when the template is longer than
    /// [`MAX_TEMPLATE_LEN`].
    pub fn for_template(t: &Template) -> Result<TemplateWrite, EncodeError> {
        let len = t.data.len();
        if len > MAX_TEMPLATE_LEN {
            return Err(too_long(len));
        }
        let size = u16::try_from(len).map_err(|_| too_long(len))?;
        Ok(TemplateWrite {
            uid: t.uid,
            finger: t.finger,
            flag: t.flag,
            size,
        })
    }

    /// The 6 header bytes.
    pub fn encode(&self) -> [u8; 6] {
        let [u0, u1] = self.uid.to_le_bytes();
        let [s0, s1] = self.size.to_le_bytes();
        [u0, u1, self.finger, self.flag, s0, s1]
    }

    /// Appends the 6 header bytes.
    pub fn encode_into(&self, dst: &mut BytesMut) {
        dst.put_slice(&self.encode());
    }

    /// Parses the header; returns it and the bytes after it (an inline
    /// template for older algorithms, else empty).
    pub fn parse(data: &[u8]) -> Result<(TemplateWrite, &[u8]), RecordError> {
        let (rest, (uid, finger, flag, size)) = (le_u16, le_u8, le_u8, le_u16)
            .parse(data)
            .map_err(|_: nom::Err<nom::error::Error<&[u8]>>| {
                nom_truncated("CMD_TMP_WRITE data", 0, Self::LEN, data.len())
            })?;
        Ok((
            TemplateWrite {
                uid,
                finger,
                flag,
                size,
            },
            rest,
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::terminal::record::text::TextEncoding;

    #[test]
    fn zkp_entry_prefix() {
        let prefix = [
            0xc4, 0x04, 0x0e, 0x00, 0x04, 0x01, 0x4d, 0xfd, 0x53, 0x53, 0x32, 0x31,
        ];
        let mut entry = prefix.to_vec();
        entry.resize(0x04c4, 0);
        let t = parse_templates(&entry).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].uid, t[0].finger, t[0].flag), (14, 4, 1));
        assert_eq!(t[0].data.len(), 0x04c4 - 6);
        assert_eq!(&t[0].data[2..6], b"SS21");
        let mut back = BytesMut::new();
        t[0].encode_entry(&mut back).unwrap();
        assert_eq!(&back[..], &entry[..]);
        // The entry claims more bytes than present.
        assert!(matches!(
            parse_templates(&prefix),
            Err(RecordError::BadLength {
                offset: 0,
                value: 0x4c4,
                ..
            })
        ));
    }

    #[test]
    fn bad_sizes() {
        let mut two = vec![6, 0, 1, 0, 0, 1];
        two.extend_from_slice(&[0, 0, 2, 0, 0, 1]);
        assert!(matches!(
            parse_templates(&two),
            Err(RecordError::BadLength {
                offset: 6,
                value: 0,
                ..
            })
        ));
        assert!(matches!(
            parse_templates(&[6, 0, 1]),
            Err(RecordError::Truncated { offset: 0, .. })
        ));
        let mut huge = vec![0xff, 0xff, 0, 0, 0, 1];
        huge.resize(0xffff, 0);
        assert!(matches!(
            parse_templates(&huge),
            Err(RecordError::BadLength { value: 0xffff, .. })
        ));
        let big = Template {
            uid: 1,
            finger: 0,
            flag: 1,
            data: vec![0; MAX_TEMPLATE_LEN + 1].into(),
        };
        assert!(big.encode_entry(&mut BytesMut::new()).is_err());
        assert!(batch_upload_buffer(&[], &[big]).is_err());
    }

    #[test]
    fn batch_layout() {
        let enc = TextEncoding::Utf8;
        let u = User::new(UserLayout::Compact28, 5, "5", enc).unwrap();
        let t1 = Template {
            uid: 5,
            finger: 0,
            flag: 1,
            data: vec![1, 2].into(),
        };
        let t2 = Template {
            uid: 5,
            finger: 9,
            flag: 1,
            data: vec![3].into(),
        };
        let buf = batch_upload_buffer(std::slice::from_ref(&u), &[t1.clone(), t2.clone()]).unwrap();
        let mut expect = vec![29, 0, 0, 0, 16, 0, 0, 0, 7, 0, 0, 0, 2];
        expect.extend_from_slice(u.as_bytes());
        expect.extend_from_slice(&[2, 5, 0, 0x10, 0, 0, 0, 0]);
        expect.extend_from_slice(&[2, 5, 0, 0x19, 4, 0, 0, 0]);
        expect.extend_from_slice(&[2, 0, 1, 2, 1, 0, 3]);
        assert_eq!(&buf[..], &expect[..]);
        assert_eq!(
            parse_batch_upload(&buf, UserLayout::Compact28).unwrap(),
            (vec![u.clone()], vec![t1, t2])
        );
        // Wrong layout, trailing byte, bad offset.
        assert!(parse_batch_upload(&buf, UserLayout::Extended72).is_err());
        let mut longer = expect.clone();
        longer.push(0);
        assert!(matches!(
            parse_batch_upload(&longer, UserLayout::Compact28),
            Err(RecordError::TrailingBytes { .. })
        ));
        let mut bad = expect.clone();
        bad[13 + 28 + 8 + 4] = 200;
        assert!(matches!(
            parse_batch_upload(&bad, UserLayout::Compact28),
            Err(RecordError::BadLength { .. })
        ));
        let v72 = User::new(UserLayout::Extended72, 6, "6", enc).unwrap();
        assert!(batch_upload_buffer(&[u, v72], &[]).is_err());
    }
}
