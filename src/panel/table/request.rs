//! Requests on tables: GetDeviceData (0x08), SetDeviceData rows,
//! DeleteDeviceData (0x09) and GetDeviceDataCount (0x0A) (§5.2–§5.5).

use super::codec::{Reader, RowSet, Value, put_cell, put_count};
use super::structure::TableDescriptor;
use crate::panel::error::{DecodeError, EncodeError, TableError};
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

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
}
