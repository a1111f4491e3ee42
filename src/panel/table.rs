//! Data tables (reference §5): the 0x06 structure text, GetDeviceData requests
//! and replies, SetDeviceData and DeleteDeviceData requests, and typed rows.
//!
//! Table and field ids differ between firmware generations (the old `user`
//! table has 7 fields, the newer one 9), so requests are built from the
//! descriptors the panel reports:
//!
//! ```
//! use zkproto::panel::table::{TableStructure, Value};
//! let s = TableStructure::parse(b"user=1,UID=i1,CardNo=i2,Pin=i3,Password=s4\n").unwrap();
//! let user = s.table("user").unwrap();
//! let rows = user.rows(&["Pin", "CardNo", "Password"],
//!                      &[vec![Value::Int(19999), Value::Int(13375401), Value::from("1")]]).unwrap();
//! assert_eq!(&rows.encode().unwrap()[..],
//!            &[0x01, 0x03, 0x03, 0x02, 0x04, 0x02, 0x1f, 0x4e, 0x03, 0xa9, 0x17, 0xcc, 0x01, 0x31]);
//! ```
//!
//! Wire format of a row: for each field, `len u8` + value; integers are
//! little-endian in the fewest bytes (0 → `01 00`), strings are raw bytes.
//! Long (`S`/`B`) fields are read with the same 1-byte length; whether some
//! firmware uses a 2-byte length there is unconfirmed (§5.3).

use super::error::{DecodeError, EncodeError, TableError};
use super::rtlog::{EventCode, InOutState, VerifyMode};
use super::time::{PanelTime, TimeSpan};
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// Type letter of a field in the structure text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum FieldKind {
    /// `i`: integer (also dates and packed times).
    Int,
    /// `s`: string.
    Str,
    /// `S`: long string.
    LongStr,
    /// `b`: binary.
    Binary,
    /// `B`: long binary (fingerprint templates).
    LongBinary,
    /// Another letter, kept as is.
    Other(u8),
}

impl FieldKind {
    /// From the type letter.
    pub const fn from_letter(c: u8) -> Self {
        match c {
            b'i' => FieldKind::Int,
            b's' => FieldKind::Str,
            b'S' => FieldKind::LongStr,
            b'b' => FieldKind::Binary,
            b'B' => FieldKind::LongBinary,
            other => FieldKind::Other(other),
        }
    }

    /// The type letter.
    pub const fn letter(self) -> u8 {
        match self {
            FieldKind::Int => b'i',
            FieldKind::Str => b's',
            FieldKind::LongStr => b'S',
            FieldKind::Binary => b'b',
            FieldKind::LongBinary => b'B',
            FieldKind::Other(c) => c,
        }
    }

    /// True for integer fields.
    pub const fn is_int(self) -> bool {
        matches!(self, FieldKind::Int)
    }
}

/// One field of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldDescriptor {
    /// Field name, e.g. `Pin`.
    pub name: String,
    /// Type.
    pub kind: FieldKind,
    /// Field id used on the wire.
    pub id: u8,
}

/// One table: name, id and fields, as reported by 0x06.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TableDescriptor {
    /// Table name, e.g. `user`.
    pub name: String,
    /// Table id used on the wire.
    pub id: u8,
    /// Fields in the panel's order.
    pub fields: Vec<FieldDescriptor>,
}

/// The whole 0x06 reply: every table the firmware has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TableStructure {
    /// Tables in the panel's order.
    pub tables: Vec<TableDescriptor>,
}

fn parse_u8_id(s: &str) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl TableStructure {
    /// Parses the structure text: one line per table,
    /// `name=<id>,<Field>=<type letter><id>,…`, lines ending in `\n`.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let syntax = |offset, reason| DecodeError::BadSyntax {
            what: "table structure",
            offset,
            reason,
        };
        let text =
            core::str::from_utf8(data).map_err(|e| syntax(e.valid_up_to(), "not UTF-8 text"))?;
        let mut tables = Vec::new();
        let mut offset = 0;
        for line in text.split('\n') {
            let line_offset = offset;
            offset += line.len() + 1;
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let mut items = line.split(',');
            let head = items.next().unwrap_or_default();
            let (name, id) = head
                .split_once('=')
                .ok_or_else(|| syntax(line_offset, "table item without `=`"))?;
            let id = parse_u8_id(id)
                .ok_or_else(|| syntax(line_offset, "table id is not a number 0-255"))?;
            if name.is_empty() {
                return Err(syntax(line_offset, "empty table name"));
            }
            let mut fields = Vec::new();
            for item in items.filter(|i| !i.is_empty()) {
                let (fname, spec) = item
                    .split_once('=')
                    .ok_or_else(|| syntax(line_offset, "field item without `=`"))?;
                let (&letter, digits) = spec
                    .as_bytes()
                    .split_first()
                    .ok_or_else(|| syntax(line_offset, "field without type"))?;
                let fid = core::str::from_utf8(digits)
                    .ok()
                    .and_then(parse_u8_id)
                    .ok_or_else(|| syntax(line_offset, "field id is not a number 0-255"))?;
                if fname.is_empty() {
                    return Err(syntax(line_offset, "empty field name"));
                }
                fields.push(FieldDescriptor {
                    name: fname.to_owned(),
                    kind: FieldKind::from_letter(letter),
                    id: fid,
                });
            }
            tables.push(TableDescriptor {
                name: name.to_owned(),
                id,
                fields,
            });
        }
        Ok(TableStructure { tables })
    }

    /// The structure text (for a simulator), each line ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            out.push_str(&format!("{}={}", t.name, t.id));
            for f in &t.fields {
                out.push_str(&format!(
                    ",{}={}{}",
                    f.name,
                    char::from(f.kind.letter()),
                    f.id
                ));
            }
            out.push('\n');
        }
        out
    }

    /// The table with this name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&TableDescriptor> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    /// The table with this name, or [`TableError::UnknownTable`].
    pub fn require(&self, name: &str) -> Result<&TableDescriptor, TableError> {
        self.table(name).ok_or_else(|| TableError::UnknownTable {
            table: name.to_owned(),
        })
    }

    /// The table with this id.
    pub fn table_by_id(&self, id: u8) -> Option<&TableDescriptor> {
        self.tables.iter().find(|t| t.id == id)
    }
}

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

fn put_cell(dst: &mut BytesMut, cell: &[u8], what: &'static str) -> Result<(), EncodeError> {
    let len = u8::try_from(cell.len()).map_err(|_| EncodeError::TooLong {
        what,
        len: cell.len(),
        max: 255,
    })?;
    dst.put_u8(len);
    dst.put_slice(cell);
    Ok(())
}

fn put_count(dst: &mut BytesMut, n: usize, what: &'static str) -> Result<(), EncodeError> {
    let n = u8::try_from(n).map_err(|_| EncodeError::TooMany {
        what,
        count: n,
        max: 255,
    })?;
    dst.put_u8(n);
    Ok(())
}

/// A small cursor over a `Bytes` that never panics.
struct Reader {
    data: Bytes,
    pos: usize,
}

impl Reader {
    fn new(data: Bytes) -> Self {
        Reader { data, pos: 0 }
    }
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.pos).ok_or(DecodeError::Truncated {
            what,
            need: self.pos + 1,
            got: self.data.len(),
        })?;
        self.pos += 1;
        Ok(b)
    }
    fn take(&mut self, n: usize, what: &'static str) -> Result<Bytes, DecodeError> {
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
    fn ids(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let n = self.u8(what)?;
        Ok(self.take(usize::from(n), what)?.to_vec())
    }
    fn cell(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
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

/// A GetDeviceData (0x08) request (§5.2).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct GetDataRequest {
    /// Table id.
    pub table: u8,
    /// Field ids to return, in the order wanted (at least one).
    pub fields: Vec<u8>,
    /// Table parameter: for `transaction`, any value selects "new records only".
    pub table_param: Option<u8>,
    /// Equality conditions, ANDed: field id and value cell.
    pub conditions: Vec<(u8, Bytes)>,
}

impl fmt::Debug for GetDataRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetDataRequest")
            .field("table", &self.table)
            .field("fields", &self.fields)
            .field("table_param", &self.table_param)
            .field(
                "conditions",
                &self
                    .conditions
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl GetDataRequest {
    /// Encodes the request.
    ///
    /// ```
    /// use zkproto::panel::table::GetDataRequest;
    /// let r = GetDataRequest { table: 5, fields: (1..=7).collect(), table_param: Some(1), conditions: vec![] };
    /// assert_eq!(&r.encode().unwrap()[..], &[5, 7, 1, 2, 3, 4, 5, 6, 7, 1, 1, 0]);
    /// ```
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        if self.fields.is_empty() {
            return Err(EncodeError::TooMany {
                what: "fields (at least one needed)",
                count: 0,
                max: 255,
            });
        }
        let mut out = BytesMut::new();
        out.put_u8(self.table);
        put_count(&mut out, self.fields.len(), "fields")?;
        out.put_slice(&self.fields);
        match self.table_param {
            Some(p) => out.put_slice(&[1, p]),
            None => out.put_u8(0),
        }
        put_count(&mut out, self.conditions.len(), "conditions")?;
        for (id, _) in &self.conditions {
            out.put_u8(*id);
        }
        for (_, v) in &self.conditions {
            put_cell(&mut out, v, "condition value")?;
        }
        Ok(out.freeze())
    }

    /// Decodes a request (for a simulator).
    pub fn parse(data: Bytes) -> Result<GetDataRequest, DecodeError> {
        let mut r = Reader::new(data);
        let table = r.u8("table id")?;
        let fields = r.ids("field list")?;
        if fields.is_empty() {
            return Err(DecodeError::BadLength {
                what: "field list",
                len: 0,
                reason: "at least one field is needed",
            });
        }
        let table_param = match r.u8("table parameter count")? {
            0 => None,
            1 => Some(r.u8("table parameter")?),
            n => {
                return Err(DecodeError::BadLength {
                    what: "table parameter count",
                    len: n.into(),
                    reason: "must be 0 or 1",
                });
            }
        };
        let ids = r.ids("condition fields")?;
        let mut conditions = Vec::with_capacity(ids.len());
        for id in ids {
            conditions.push((id, r.cell("condition value")?));
        }
        if r.remaining() > 0 {
            return Err(DecodeError::BadLength {
                what: "get data request",
                len: r.remaining(),
                reason: "trailing bytes",
            });
        }
        Ok(GetDataRequest {
            table,
            fields,
            table_param,
            conditions,
        })
    }
}

/// A DeleteDeviceData (0x09) request (§5.5). Wiping a table is a separate,
/// explicit variant: on the wire it is a condition count of 0.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteRequest {
    /// Delete every row of the table.
    AllRows {
        /// Table id.
        table: u8,
    },
    /// Delete rows whose condition fields all match one of the given rows.
    Matching(RowSet),
}

impl DeleteRequest {
    /// Encodes the request; `Matching` needs at least one field and one row.
    ///
    /// ```
    /// use zkproto::panel::table::DeleteRequest;
    /// assert_eq!(&DeleteRequest::AllRows { table: 2 }.encode().unwrap()[..], &[2, 0]);
    /// ```
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        match self {
            DeleteRequest::AllRows { table } => Ok(Bytes::copy_from_slice(&[*table, 0])),
            DeleteRequest::Matching(rs) => {
                if rs.fields.is_empty() || rs.rows.is_empty() {
                    return Err(EncodeError::OutOfRange {
                        what: "delete conditions",
                        reason: "a conditional delete needs fields and rows (use AllRows to wipe the table)",
                    });
                }
                rs.encode()
            }
        }
    }

    /// Decodes a request (for a simulator).
    pub fn parse(data: Bytes) -> Result<DeleteRequest, DecodeError> {
        let rs = RowSet::parse(data)?;
        if rs.fields.is_empty() {
            return Ok(DeleteRequest::AllRows { table: rs.table });
        }
        if rs.rows.is_empty() {
            // Condition fields without a single row of values: no delete
            // can be meant by it (and `encode` refuses to build one).
            return Err(DecodeError::BadSyntax {
                what: "delete conditions",
                offset: 0,
                reason: "condition fields without any row of values",
            });
        }
        Ok(DeleteRequest::Matching(rs))
    }
}

/// Encodes a GetDeviceDataCount (0x0A) request.
pub fn encode_count_request(table: u8) -> [u8; 1] {
    [table]
}

/// Decodes a count reply: exactly a u32 LE (old firmware sends nothing for an unknown table).
///
/// ```
/// assert_eq!(zkproto::panel::table::parse_count_reply(&[2, 0, 0, 0]), Ok(2));
/// assert!(zkproto::panel::table::parse_count_reply(&[]).is_err());
/// ```
pub fn parse_count_reply(data: &[u8]) -> Result<u32, DecodeError> {
    match data.first_chunk::<4>() {
        Some(b) if data.len() == 4 => Ok(u32::from_le_bytes(*b)),
        _ => Err(DecodeError::WrongSize {
            what: "count reply",
            expected: 4,
            got: data.len(),
        }),
    }
}

impl TableDescriptor {
    /// The field with this name (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&FieldDescriptor> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The field with this id.
    pub fn field_by_id(&self, id: u8) -> Option<&FieldDescriptor> {
        self.fields.iter().find(|f| f.id == id)
    }

    fn require_field(&self, name: &str) -> Result<&FieldDescriptor, TableError> {
        self.field(name).ok_or_else(|| TableError::UnknownField {
            table: self.name.clone(),
            field: name.to_owned(),
        })
    }

    fn check_kind(&self, f: &FieldDescriptor, v: &Value) -> Result<Bytes, TableError> {
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

    /// A GetDeviceData request for the named fields (all fields when empty),
    /// with equality conditions; `new_records_only` sets the table parameter.
    pub fn get_request(
        &self,
        fields: &[&str],
        conditions: &[(&str, Value)],
        new_records_only: bool,
    ) -> Result<GetDataRequest, TableError> {
        let ids = if fields.is_empty() {
            self.fields.iter().map(|f| f.id).collect()
        } else {
            fields
                .iter()
                .map(|n| self.require_field(n).map(|f| f.id))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut conds = Vec::with_capacity(conditions.len());
        for (name, value) in conditions {
            let f = self.require_field(name)?;
            conds.push((f.id, self.check_kind(f, value)?));
        }
        Ok(GetDataRequest {
            table: self.id,
            fields: ids,
            table_param: new_records_only.then_some(1),
            conditions: conds,
        })
    }

    /// Rows for a SetDeviceData request (or a conditional delete): values are
    /// checked against the field types.
    pub fn rows(&self, fields: &[&str], rows: &[Vec<Value>]) -> Result<RowSet, TableError> {
        let descs = fields
            .iter()
            .map(|n| self.require_field(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            if row.len() != descs.len() {
                return Err(TableError::RowWidth {
                    row: i,
                    expected: descs.len(),
                    got: row.len(),
                });
            }
            out.push(
                descs
                    .iter()
                    .zip(row)
                    .map(|(f, v)| self.check_kind(f, v))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(RowSet {
            table: self.id,
            fields: descs.iter().map(|f| f.id).collect(),
            rows: out,
        })
    }

    /// A DeleteDeviceData request for rows matching the given condition values.
    /// At least one field and one row are needed; see [`TableDescriptor::delete_all`].
    pub fn delete_matching(
        &self,
        fields: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<DeleteRequest, TableError> {
        if fields.is_empty() || rows.is_empty() {
            return Err(TableError::Encode(EncodeError::OutOfRange {
                what: "delete conditions",
                reason: "a conditional delete needs fields and rows (use delete_all to wipe the table)",
            }));
        }
        Ok(DeleteRequest::Matching(self.rows(fields, rows)?))
    }

    /// A DeleteDeviceData request that wipes the whole table.
    pub fn delete_all(&self) -> DeleteRequest {
        DeleteRequest::AllRows { table: self.id }
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

    /// A GetDeviceData request for every field of `R` this table has.
    pub fn get_typed_request<R: TableRow>(
        &self,
        new_records_only: bool,
    ) -> Result<GetDataRequest, TableError> {
        self.check_table::<R>()?;
        let ids = R::FIELDS
            .iter()
            .filter_map(|n| self.field(n))
            .map(|f| f.id)
            .collect();
        Ok(GetDataRequest {
            table: self.id,
            fields: ids,
            table_param: new_records_only.then_some(1),
            conditions: vec![],
        })
    }

    fn check_table<R: TableRow>(&self) -> Result<(), TableError> {
        if self.name.eq_ignore_ascii_case(R::TABLE) {
            Ok(())
        } else {
            Err(TableError::UnknownTable {
                table: R::TABLE.to_owned(),
            })
        }
    }

    /// Rows for a SetDeviceData request from typed rows. Fields this firmware's
    /// table lacks are left out when their value is the default (0 / empty);
    /// a non-default value for a missing field is an error.
    pub fn encode_typed<R: TableRow>(&self, rows: &[R]) -> Result<RowSet, TableError> {
        self.check_table::<R>()?;
        let mut field_ids: Option<Vec<u8>> = None;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let mut ids = Vec::new();
            let mut cells = Vec::new();
            for (name, value) in row.to_values() {
                match self.field(name) {
                    Some(f) => {
                        ids.push(f.id);
                        cells.push(self.check_kind(f, &value)?);
                    }
                    None if value.is_default() => {}
                    None => {
                        return Err(TableError::FieldNotInTable {
                            table: self.name.clone(),
                            field: name,
                        });
                    }
                }
            }
            match &field_ids {
                None => field_ids = Some(ids),
                Some(first) if *first == ids => {}
                Some(first) => {
                    return Err(TableError::RowWidth {
                        row: i,
                        expected: first.len(),
                        got: ids.len(),
                    });
                }
            }
            out.push(cells);
        }
        Ok(RowSet {
            table: self.id,
            fields: field_ids.unwrap_or_default(),
            rows: out,
        })
    }

    /// Typed rows from a GetDeviceData reply of this table.
    pub fn decode_typed<R: TableRow>(&self, set: &RowSet) -> Result<Vec<R>, TableError> {
        self.check_table::<R>()?;
        let values = self.decode(set)?;
        let names: Vec<&str> = set
            .fields
            .iter()
            .map(|id| self.field_by_id(*id).map_or("", |f| f.name.as_str()))
            .collect();
        values
            .iter()
            .map(|row| {
                R::from_values(&RowView {
                    names: &names,
                    values: row,
                })
            })
            .collect()
    }
}

/// One decoded row with its field names, handed to [`TableRow::from_values`].
#[derive(Debug)]
pub struct RowView<'a> {
    names: &'a [&'a str],
    values: &'a [Value],
}

impl RowView<'_> {
    /// The value of a field (case-insensitive), if the row has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.names
            .iter()
            .zip(self.values)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// An integer field; `None` when absent or empty.
    pub fn int(&self, name: &'static str) -> Result<Option<u32>, TableError> {
        match self.get(name) {
            None | Some(Value::Empty) => Ok(None),
            Some(Value::Int(v)) => Ok(Some(*v)),
            Some(Value::Bytes(_)) => Err(TableError::KindMismatch {
                table: String::new(),
                field: name.to_owned(),
                expected: "an integer",
            }),
        }
    }

    /// An integer field that must be present.
    pub fn require_int(&self, name: &'static str) -> Result<u32, TableError> {
        self.int(name)?
            .ok_or(TableError::MissingField { field: name })
    }

    /// A one-byte integer field that must be present.
    pub fn require_u8(&self, name: &'static str) -> Result<u8, TableError> {
        let v = self.require_int(name)?;
        u8::try_from(v).map_err(|_| {
            TableError::Decode(DecodeError::BadLength {
                what: name,
                len: v as usize,
                reason: "value above 255",
            })
        })
    }

    /// A text field (lossy UTF-8); empty when absent.
    pub fn text(&self, name: &str) -> String {
        match self.get(name) {
            Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        }
    }
}

/// A typed row of a named table.
pub trait TableRow: Sized {
    /// The table name (as in the structure text).
    const TABLE: &'static str;
    /// Every field name the type knows, in wire order.
    const FIELDS: &'static [&'static str];
    /// Field values in wire order (names from [`TableRow::FIELDS`]).
    fn to_values(&self) -> Vec<(&'static str, Value)>;
    /// Builds a row from decoded values.
    fn from_values(row: &RowView<'_>) -> Result<Self, TableError>;
}

/// A row of the `user` table (old 7-field and new 9-field layouts).
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserRow {
    /// User id (`Pin`), the primary key.
    pub pin: u32,
    /// Card number, 0 = none.
    pub card_no: u32,
    /// Password: ASCII digits, at most 8 (redacted in `Debug`).
    pub password: String,
    /// Multi-card group.
    pub group: u32,
    /// Validity start `YYYYMMDD`, 0 = unlimited.
    pub start_date: u32,
    /// Validity end `YYYYMMDD`, 0 = unlimited.
    pub end_date: u32,
    /// Name (new firmware only).
    pub name: String,
    /// Super user.
    pub super_authorize: bool,
    /// Storage index `UID` (new firmware only); `None` leaves it out of writes.
    pub uid: Option<u32>,
}

impl fmt::Debug for UserRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("pin", &self.pin)
            .field("card_no", &self.card_no)
            .field(
                "password",
                &if self.password.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("group", &self.group)
            .field("start_date", &self.start_date)
            .field("end_date", &self.end_date)
            .field("name", &self.name)
            .field("super_authorize", &self.super_authorize)
            .field("uid", &self.uid)
            .finish()
    }
}

impl TableRow for UserRow {
    const TABLE: &'static str = "user";
    const FIELDS: &'static [&'static str] = &[
        "Pin",
        "CardNo",
        "Password",
        "Group",
        "StartTime",
        "EndTime",
        "Name",
        "SuperAuthorize",
        "UID",
    ];

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        let mut v = vec![
            ("Pin", Value::Int(self.pin)),
            ("CardNo", Value::Int(self.card_no)),
            ("Password", Value::from(self.password.as_str())),
            ("Group", Value::Int(self.group)),
            ("StartTime", Value::Int(self.start_date)),
            ("EndTime", Value::Int(self.end_date)),
            ("Name", Value::from(self.name.as_str())),
            (
                "SuperAuthorize",
                Value::Int(u32::from(self.super_authorize)),
            ),
        ];
        if let Some(uid) = self.uid {
            v.push(("UID", Value::Int(uid)));
        }
        v
    }

    fn from_values(row: &RowView<'_>) -> Result<Self, TableError> {
        Ok(UserRow {
            pin: row.require_int("Pin")?,
            card_no: row.int("CardNo")?.unwrap_or(0),
            password: row.text("Password"),
            group: row.int("Group")?.unwrap_or(0),
            start_date: row.int("StartTime")?.unwrap_or(0),
            end_date: row.int("EndTime")?.unwrap_or(0),
            name: row.text("Name"),
            super_authorize: row.int("SuperAuthorize")?.unwrap_or(0) != 0,
            uid: row.int("UID")?,
        })
    }
}

/// A row of the `userauthorize` table: which doors a user may open in which time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserAuthorizeRow {
    /// User id.
    pub pin: u32,
    /// Time-zone id (must exist in `timezone`).
    pub timezone_id: u32,
    /// Door bitmask: bit 0 = door 1 … bit 3 = door 4 (15 = all).
    pub doors: u32,
}

impl TableRow for UserAuthorizeRow {
    const TABLE: &'static str = "userauthorize";
    const FIELDS: &'static [&'static str] = &["Pin", "AuthorizeTimezoneId", "AuthorizeDoorId"];

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("Pin", Value::Int(self.pin)),
            ("AuthorizeTimezoneId", Value::Int(self.timezone_id)),
            ("AuthorizeDoorId", Value::Int(self.doors)),
        ]
    }

    fn from_values(row: &RowView<'_>) -> Result<Self, TableError> {
        Ok(UserAuthorizeRow {
            pin: row.require_int("Pin")?,
            timezone_id: row.require_int("AuthorizeTimezoneId")?,
            doors: row.require_int("AuthorizeDoorId")?,
        })
    }
}

/// A row of the `transaction` table (the stored access log, §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TransactionRow {
    /// Card number.
    pub card_no: u32,
    /// User id.
    pub pin: u32,
    /// Verify mode.
    pub verify: VerifyMode,
    /// Door (or port) number.
    pub door: u8,
    /// Event type.
    pub event: EventCode,
    /// Entry / exit.
    pub in_out: InOutState,
    /// Time of the event.
    pub time: PanelTime,
}

impl TableRow for TransactionRow {
    const TABLE: &'static str = "transaction";
    const FIELDS: &'static [&'static str] = &[
        "Cardno",
        "Pin",
        "Verified",
        "DoorID",
        "EventType",
        "InOutState",
        "Time_second",
    ];

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("Cardno", Value::Int(self.card_no)),
            ("Pin", Value::Int(self.pin)),
            ("Verified", Value::Int(self.verify.value().into())),
            ("DoorID", Value::Int(self.door.into())),
            ("EventType", Value::Int(self.event.value().into())),
            ("InOutState", Value::Int(self.in_out.value().into())),
            ("Time_second", Value::Int(self.time.to_packed())),
        ]
    }

    fn from_values(row: &RowView<'_>) -> Result<Self, TableError> {
        let time =
            PanelTime::from_packed(row.require_int("Time_second")?).map_err(DecodeError::from)?;
        Ok(TransactionRow {
            card_no: row.int("Cardno")?.unwrap_or(0),
            pin: row.int("Pin")?.unwrap_or(0),
            verify: VerifyMode::from(row.require_u8("Verified")?),
            door: row.require_u8("DoorID")?,
            event: EventCode::from(row.require_u8("EventType")?),
            in_out: InOutState::from(row.require_u8("InOutState")?),
            time,
        })
    }
}

/// Field names of the `timezone` table after `TimezoneId`: three intervals
/// for each weekday (Sunday first), then for holiday types 1–3.
pub const TIMEZONE_SPAN_FIELDS: [&str; 30] = [
    "SunTime1",
    "SunTime2",
    "SunTime3",
    "MonTime1",
    "MonTime2",
    "MonTime3",
    "TueTime1",
    "TueTime2",
    "TueTime3",
    "WedTime1",
    "WedTime2",
    "WedTime3",
    "ThuTime1",
    "ThuTime2",
    "ThuTime3",
    "FriTime1",
    "FriTime2",
    "FriTime3",
    "SatTime1",
    "SatTime2",
    "SatTime3",
    "Hol1Time1",
    "Hol1Time2",
    "Hol1Time3",
    "Hol2Time1",
    "Hol2Time2",
    "Hol2Time3",
    "Hol3Time1",
    "Hol3Time2",
    "Hol3Time3",
];

const TIMEZONE_FIELDS: [&str; 31] = [
    "TimezoneId",
    "SunTime1",
    "SunTime2",
    "SunTime3",
    "MonTime1",
    "MonTime2",
    "MonTime3",
    "TueTime1",
    "TueTime2",
    "TueTime3",
    "WedTime1",
    "WedTime2",
    "WedTime3",
    "ThuTime1",
    "ThuTime2",
    "ThuTime3",
    "FriTime1",
    "FriTime2",
    "FriTime3",
    "SatTime1",
    "SatTime2",
    "SatTime3",
    "Hol1Time1",
    "Hol1Time2",
    "Hol1Time3",
    "Hol2Time1",
    "Hol2Time2",
    "Hol2Time3",
    "Hol3Time1",
    "Hol3Time2",
    "Hol3Time3",
];

/// A row of the `timezone` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimezoneRow {
    /// Time-zone id.
    pub id: u32,
    /// Three intervals per day: index 0–6 = Sunday–Saturday, 7–9 = holiday types 1–3.
    pub spans: [[TimeSpan; 3]; 10],
}

impl TableRow for TimezoneRow {
    const TABLE: &'static str = "timezone";
    const FIELDS: &'static [&'static str] = &TIMEZONE_FIELDS;

    fn to_values(&self) -> Vec<(&'static str, Value)> {
        let mut v = vec![("TimezoneId", Value::Int(self.id))];
        let spans = self.spans.iter().flatten();
        v.extend(
            TIMEZONE_SPAN_FIELDS
                .iter()
                .zip(spans)
                .map(|(n, s)| (*n, Value::Int(s.to_raw()))),
        );
        v
    }

    fn from_values(row: &RowView<'_>) -> Result<Self, TableError> {
        let mut spans = [[TimeSpan::default(); 3]; 10];
        for (slot, name) in spans.iter_mut().flatten().zip(TIMEZONE_SPAN_FIELDS) {
            *slot = TimeSpan::from_raw(row.int(name)?.unwrap_or(0));
        }
        Ok(TimezoneRow {
            id: row.require_int("TimezoneId")?,
            spans,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    macro_rules! old_user {
        () => {
            "user=1,CardNo=i1,Pin=i2,Password=s3,Group=i4,StartTime=i5,EndTime=i6,SuperAuthorize=i7\n"
        };
    }
    macro_rules! others {
        () => {
            "userauthorize=2,Pin=i1,AuthorizeTimezoneId=i2,AuthorizeDoorId=i3\n\
             transaction=5,Cardno=i1,Pin=i2,Verified=i3,DoorID=i4,EventType=i5,InOutState=i6,Time_second=i7\n"
        };
    }
    const OLD: &[u8] = concat!(old_user!(), others!()).as_bytes();
    const OTHERS: &[u8] = others!().as_bytes();
    const NEW_USER: &[u8] =
        b"user=1,UID=i1,CardNo=i2,Pin=i3,Password=s4,Group=i5,StartTime=i6,EndTime=i7,Name=s8,SuperAuthorize=i9\n";

    #[test]
    fn structure_round_trip_and_errors() {
        let s = TableStructure::parse(OLD).unwrap();
        assert_eq!(s.tables.len(), 3);
        assert_eq!(s.to_text().as_bytes(), OLD);
        assert_eq!(s.table("USER").unwrap().field("cardno").unwrap().id, 1);
        for bad in [
            &b"user=x,Pin=i1\n"[..],
            b"user=1,Pin\n",
            b"user=1,Pin=i\n",
            b"user=1,Pin=i300\n",
            b"=1\n",
        ] {
            assert!(
                matches!(
                    TableStructure::parse(bad),
                    Err(DecodeError::BadSyntax { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn user_row_old_and_new_layout() {
        let old = TableStructure::parse(OLD).unwrap();
        let new = TableStructure::parse(NEW_USER).unwrap();
        let user = UserRow {
            pin: 19999,
            card_no: 13375401,
            password: "1".into(),
            ..UserRow::default()
        };
        let o = old
            .table("user")
            .unwrap()
            .encode_typed(std::slice::from_ref(&user))
            .unwrap();
        assert_eq!(o.fields, [2, 1, 3, 4, 5, 6, 7]);
        let n = new
            .table("user")
            .unwrap()
            .encode_typed(std::slice::from_ref(&user))
            .unwrap();
        assert_eq!(n.fields, [3, 2, 4, 5, 6, 7, 8, 9]);
        for (s, rs) in [(&old, o), (&new, n)] {
            let back: Vec<UserRow> = s
                .table("user")
                .unwrap()
                .decode_typed(&RowSet::parse(rs.encode().unwrap()).unwrap())
                .unwrap();
            assert_eq!(back, std::slice::from_ref(&user));
        }
        let named = UserRow {
            name: "Ann".into(),
            ..user
        };
        assert_eq!(
            old.table("user").unwrap().encode_typed(&[named]),
            Err(TableError::FieldNotInTable {
                table: "user".into(),
                field: "Name"
            })
        );
    }

    #[test]
    fn kind_and_width_checks() {
        let s = TableStructure::parse(NEW_USER).unwrap();
        let u = s.table("user").unwrap();
        assert!(matches!(
            u.rows(&["Pin"], &[vec![Value::from("x")]]),
            Err(TableError::KindMismatch { .. })
        ));
        assert!(matches!(
            u.rows(&["Pin"], &[vec![]]),
            Err(TableError::RowWidth {
                row: 0,
                expected: 1,
                got: 0
            })
        ));
        assert!(matches!(
            u.rows(&["Nope"], &[]),
            Err(TableError::UnknownField { .. })
        ));
        assert!(u.delete_matching(&[], &[]).is_err());
        assert_eq!(
            u.delete_all().encode().unwrap(),
            Bytes::from_static(&[1, 0])
        );
        let ua = UserAuthorizeRow {
            pin: 1,
            timezone_id: 1,
            doors: 15,
        };
        assert!(matches!(
            u.encode_typed(&[ua]),
            Err(TableError::UnknownTable { .. })
        ));
    }

    #[test]
    fn truncated_and_malformed_rows() {
        // one row, second cell announces 3 bytes but only 2 follow
        let data = Bytes::from_static(&[1, 2, 3, 2, 2, 0x1f, 0x4e, 3, 0xa9, 0x17]);
        assert_eq!(
            RowSet::parse(data),
            Err(DecodeError::Truncated {
                what: "row cell",
                need: 11,
                got: 10
            })
        );
        assert!(RowSet::parse(Bytes::from_static(&[1, 3, 1])).is_err());
        assert!(RowSet::parse(Bytes::from_static(&[1, 0, 1])).is_err());
        assert!(RowSet::parse(Bytes::new()).is_err());
        assert!(Value::from_cell(FieldKind::Int, &Bytes::from_static(&[1, 2, 3, 4, 5])).is_err());
        assert!(GetDataRequest::parse(Bytes::from_static(&[1, 1, 1, 2, 0])).is_err());
        assert!(GetDataRequest::parse(Bytes::from_static(&[1, 0, 0, 0])).is_err());
        assert!(GetDataRequest::parse(Bytes::from_static(&[1, 1, 1, 0, 0, 9])).is_err());
    }

    #[test]
    fn debug_redacts() {
        let u = UserRow {
            password: "4321".into(),
            ..UserRow::default()
        };
        assert!(!format!("{u:?}").contains("4321"));
        assert!(!format!("{:?}", Value::from("4321")).contains("4321"));
    }

    fn cell() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Bytes::from)
    }

    fn any_time() -> impl Strategy<Value = PanelTime> {
        (
            2000u16..=2133,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
        )
            .prop_filter_map("range", |(y, mo, d, h, mi, s)| {
                PanelTime::new(y, mo, d, h, mi, s).ok()
            })
    }

    proptest! {
        #[test]
        fn row_set_round_trip(table: u8, n in 1usize..6, rows in proptest::collection::vec(proptest::collection::vec(cell(), 6), 0..5)) {
            let rs = RowSet {
                table,
                fields: (1..=u8::try_from(n).unwrap()).collect(),
                rows: rows.into_iter().map(|mut r| { r.truncate(n); r }).collect(),
            };
            let bytes = rs.encode().unwrap();
            let back = RowSet::parse(bytes.clone()).unwrap();
            prop_assert_eq!(&back, &rs);
            prop_assert_eq!(back.encode().unwrap(), bytes);
        }

        #[test]
        fn int_cells_are_minimal(v: u32) {
            let c = Value::Int(v).to_cell();
            prop_assert!(!c.is_empty() && c.len() <= 4);
            prop_assert!(c.len() == 1 || c.last() != Some(&0));
            prop_assert_eq!(Value::from_cell(FieldKind::Int, &c), Ok(Value::Int(v)));
        }

        #[test]
        fn get_request_round_trip(table: u8, fields in proptest::collection::vec(any::<u8>(), 1..10),
                                  param: Option<u8>, conds in proptest::collection::vec((any::<u8>(), cell()), 0..4)) {
            let r = GetDataRequest { table, fields, table_param: param, conditions: conds };
            let bytes = r.encode().unwrap();
            let back = GetDataRequest::parse(bytes.clone()).unwrap();
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.encode().unwrap(), bytes);
        }

        #[test]
        fn typed_rows_round_trip(pin: u32, card: u32, pw in "[0-9]{0,8}", name in "[A-Za-z ]{0,10}", su: bool,
                                 uid: Option<u32>, tz: u32, doors in 0u32..16, t in any_time(),
                                 ev: u8, vm: u8, door: u8, io: u8, spans in proptest::array::uniform30(any::<u32>())) {
            let s = TableStructure::parse(&[NEW_USER, OTHERS, b"timezone=4,TimezoneId=i1,",
                TIMEZONE_SPAN_FIELDS.iter().enumerate().map(|(i, n)| format!("{n}=i{}", i + 2)).collect::<Vec<_>>().join(",").as_bytes(), b"\n"].concat()).unwrap();
            let user = UserRow { pin, card_no: card, password: pw, group: 0, start_date: 20220202, end_date: 0, name, super_authorize: su, uid };
            let ua = UserAuthorizeRow { pin, timezone_id: tz, doors };
            let tr = TransactionRow { card_no: card, pin, verify: VerifyMode::from(vm), door, event: EventCode::from(ev), in_out: InOutState::from(io), time: t };
            let mut tzr = TimezoneRow { id: tz, ..TimezoneRow::default() };
            for (slot, raw) in tzr.spans.iter_mut().flatten().zip(spans) { *slot = TimeSpan::from_raw(raw); }

            fn rt<R: TableRow + PartialEq + fmt::Debug + Clone>(s: &TableStructure, r: &R) -> Result<(), TestCaseError> {
                let t = s.table(R::TABLE).unwrap();
                let rs = t.encode_typed(std::slice::from_ref(r)).unwrap();
                let bytes = rs.encode().unwrap();
                let back: Vec<R> = t.decode_typed(&RowSet::parse(bytes.clone()).unwrap()).unwrap();
                prop_assert_eq!(&back, &vec![r.clone()]);
                prop_assert_eq!(t.encode_typed(&back).unwrap().encode().unwrap(), bytes);
                Ok(())
            }
            rt(&s, &user)?;
            rt(&s, &ua)?;
            rt(&s, &tr)?;
            rt(&s, &tzr)?;
        }

        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = RowSet::parse(Bytes::from(data.clone()));
            let _ = GetDataRequest::parse(Bytes::from(data.clone()));
            let _ = DeleteRequest::parse(Bytes::from(data.clone()));
            let _ = TableStructure::parse(&data);
            let _ = parse_count_reply(&data);
        }
    }
}
