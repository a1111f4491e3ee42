//! The row codec (§5.3): cell values, the `table id, n, field ids, rows`
//! layout, and interpreting rows by the descriptor's field types.

use super::structure::{FieldDescriptor, FieldKind, TableDescriptor};
use crate::panel::error::{DecodeError, EncodeError, TableError};
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// A cell value: integer or bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Value {
    /// An integer field.
    Int(u32),
    /// A string or binary field (raw bytes, no terminator).
    Bytes(Bytes),
    /// A zero-length cell in an integer field (a field id the table lacks).
    Empty,
}

impl fmt::Debug for Value {
    /// Byte values are shown by length only: they can hold passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "Int({v})"),
            Value::Bytes(b) => write!(f, "Bytes(<{} bytes>)", b.len()),
            Value::Empty => f.write_str("Empty"),
        }
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&[u8]> for Value {
    fn from(s: &[u8]) -> Self {
        Value::Bytes(Bytes::copy_from_slice(s))
    }
}

/// The integer `v` in the fewest little-endian bytes (at least one).
fn int_cell(v: u32) -> Bytes {
    let b = v.to_le_bytes();
    let n = 4 - (v.leading_zeros() as usize / 8).min(3);
    Bytes::copy_from_slice(b.get(..n).unwrap_or(&b))
}

impl Value {
    /// The wire cell (without the length byte).
    ///
    /// ```
    /// use zkproto::panel::table::Value;
    /// assert_eq!(&Value::Int(0).to_cell()[..], &[0]);
    /// assert_eq!(&Value::Int(1234567).to_cell()[..], &[0x87, 0xd6, 0x12]);
    /// ```
    pub fn to_cell(&self) -> Bytes {
        match self {
            Value::Int(v) => int_cell(*v),
            Value::Bytes(b) => b.clone(),
            Value::Empty => Bytes::new(),
        }
    }

    /// Interprets a cell for a field of `kind`: integers are 0–4 bytes LE.
    pub fn from_cell(kind: FieldKind, cell: &Bytes) -> Result<Value, DecodeError> {
        if !kind.is_int() {
            return Ok(Value::Bytes(cell.clone()));
        }
        if cell.is_empty() {
            return Ok(Value::Empty);
        }
        let mut b = [0u8; 4];
        match b.get_mut(..cell.len()) {
            Some(dst) => dst.copy_from_slice(cell),
            None => {
                return Err(DecodeError::BadLength {
                    what: "integer cell",
                    len: cell.len(),
                    reason: "more than 4 bytes",
                });
            }
        }
        Ok(Value::Int(u32::from_le_bytes(b)))
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<u32> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The bytes, if this is a byte value.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// True for 0, empty bytes and [`Value::Empty`].
    pub fn is_default(&self) -> bool {
        match self {
            Value::Int(v) => *v == 0,
            Value::Bytes(b) => b.is_empty(),
            Value::Empty => true,
        }
    }
}

pub(super) fn put_cell(
    dst: &mut BytesMut,
    cell: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    let len = u8::try_from(cell.len()).map_err(|_| EncodeError::TooLong {
        what,
        len: cell.len(),
        max: 255,
    })?;
    dst.put_u8(len);
    dst.put_slice(cell);
    Ok(())
}

pub(super) fn put_count(
    dst: &mut BytesMut,
    n: usize,
    what: &'static str,
) -> Result<(), EncodeError> {
    let n = u8::try_from(n).map_err(|_| EncodeError::TooMany {
        what,
        count: n,
        max: 255,
    })?;
    dst.put_u8(n);
    Ok(())
}

/// A small cursor over a `Bytes` that never panics.
pub(super) struct Reader {
    data: Bytes,
    pos: usize,
}

impl Reader {
    pub(super) fn new(data: Bytes) -> Self {
        Reader { data, pos: 0 }
    }
    pub(super) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.pos).ok_or(DecodeError::Truncated {
            what,
            need: self.pos + 1,
            got: self.data.len(),
        })?;
        self.pos += 1;
        Ok(b)
    }
    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated {
                what,
                need: self.pos + n,
                got: self.data.len(),
            });
        }
        let b = self.data.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }
    pub(super) fn ids(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let n = self.u8(what)?;
        Ok(self.take(usize::from(n), what)?.to_vec())
    }
    pub(super) fn cell(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        let len = self.u8(what)?;
        self.take(usize::from(len), what)
    }
}

/// Rows of one table on the wire: `table id, n, n field ids`, then rows of
/// `n × (len u8 + value)` until the data ends. This is the layout of a
/// GetDeviceData reply, a SetDeviceData request and a conditional
/// DeleteDeviceData request.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RowSet {
    /// Table id.
    pub table: u8,
    /// Field ids, in the order of the cells.
    pub fields: Vec<u8>,
    /// Raw cells, one `Vec` per row, aligned with `fields`.
    pub rows: Vec<Vec<Bytes>>,
}

impl fmt::Debug for RowSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowSet")
            .field("table", &self.table)
            .field("fields", &self.fields)
            .field("rows", &self.rows.len())
            .finish()
    }
}

impl RowSet {
    /// Parses rows; the data must end on a row boundary.
    ///
    /// ```
    /// use zkproto::panel::table::RowSet;
    /// let rs = RowSet::parse(bytes::Bytes::from_static(&[1, 2, 3, 2, 2, 0x1f, 0x4e, 1, 0x31])).unwrap();
    /// assert_eq!((rs.table, rs.fields.as_slice(), rs.rows.len()), (1, &[3u8, 2][..], 1));
    /// ```
    pub fn parse(data: Bytes) -> Result<RowSet, DecodeError> {
        let mut r = Reader::new(data);
        let table = r.u8("table id")?;
        let fields = r.ids("field list")?;
        let mut rows = Vec::new();
        if fields.is_empty() && r.remaining() > 0 {
            return Err(DecodeError::BadLength {
                what: "rows",
                len: r.remaining(),
                reason: "data after an empty field list",
            });
        }
        while r.remaining() > 0 {
            let mut row = Vec::with_capacity(fields.len());
            for _ in &fields {
                row.push(r.cell("row cell")?);
            }
            rows.push(row);
        }
        Ok(RowSet {
            table,
            fields,
            rows,
        })
    }

    /// Encodes the rows.
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        out.put_u8(self.table);
        put_count(&mut out, self.fields.len(), "fields")?;
        out.put_slice(&self.fields);
        for row in &self.rows {
            if row.len() != self.fields.len() {
                return Err(EncodeError::OutOfRange {
                    what: "row",
                    reason: "number of cells differs from the field list",
                });
            }
            for cell in row {
                put_cell(&mut out, cell, "cell")?;
            }
        }
        Ok(out.freeze())
    }
}

impl TableDescriptor {
    pub(super) fn check_kind(&self, f: &FieldDescriptor, v: &Value) -> Result<Bytes, TableError> {
        let ok = match v {
            Value::Int(_) => f.kind.is_int(),
            Value::Bytes(_) => !f.kind.is_int(),
            Value::Empty => true,
        };
        if !ok {
            let expected = if f.kind.is_int() {
                "an integer"
            } else {
                "bytes"
            };
            return Err(TableError::KindMismatch {
                table: self.name.clone(),
                field: f.name.clone(),
                expected,
            });
        }
        let cell = v.to_cell();
        if cell.len() > 255 {
            // Cells carry a one-byte length on the wire.
            return Err(EncodeError::TooLong {
                what: "cell",
                len: cell.len(),
                max: 255,
            }
            .into());
        }
        Ok(cell)
    }

    /// Interprets rows of this table by field type. Cells of field ids the
    /// table does not list are returned as bytes.
    pub fn decode(&self, set: &RowSet) -> Result<Vec<Vec<Value>>, TableError> {
        if set.table != self.id {
            return Err(TableError::WrongTable {
                expected: self.id,
                found: set.table,
            });
        }
        let kinds: Vec<FieldKind> = set
            .fields
            .iter()
            .map(|id| self.field_by_id(*id).map_or(FieldKind::Str, |f| f.kind))
            .collect();
        set.rows
            .iter()
            .map(|row| {
                kinds
                    .iter()
                    .zip(row)
                    .map(|(k, c)| Value::from_cell(*k, c).map_err(TableError::from))
                    .collect()
            })
            .collect()
    }
}
