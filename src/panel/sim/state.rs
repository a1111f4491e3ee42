//! The panel's stored data: tables (as the firmware stores them, one value
//! per field) and parameters.
//!
//! Table operations follow the firmware's parsers (reference §5): writes
//! replace rows with the same primary key, malformed writes and deletes are
//! acknowledged without storing anything, integer cells are compared
//! numerically and string cells as C strings.

use super::config::TableLayout;
use crate::panel::command::ErrorCode;
use crate::panel::table::{
    DeleteRequest, FieldKind, GetDataRequest, RowSet, TableDescriptor, TableRow, TableStructure,
    Value,
};
use bytes::{BufMut, Bytes, BytesMut};
use std::collections::BTreeMap;

const OLD_USER: &str =
    "user=1,CardNo=i1,Pin=i2,Password=s3,Group=i4,StartTime=i5,EndTime=i6,SuperAuthorize=i7\n";
const NEW_USER: &str = "user=1,UID=i1,CardNo=i2,Pin=i3,Password=s4,Group=i5,StartTime=i6,EndTime=i7,Name=s8,SuperAuthorize=i9\n";
const COMMON: &str = "userauthorize=2,Pin=i1,AuthorizeTimezoneId=i2,AuthorizeDoorId=i3\n\
holiday=3,Holiday=i1,HolidayType=i2,Loop=i3\n";
const AFTER_TIMEZONE: &str = "transaction=5,Cardno=i1,Pin=i2,Verified=i3,DoorID=i4,EventType=i5,InOutState=i6,Time_second=i7\n\
firstcard=6,Pin=i1,DoorID=i2,TimezoneID=i3\n\
multimcard=7,Index=i1,DoorId=i2,Group1=i3,Group2=i4,Group3=i5,Group4=i6,Group5=i7\n\
inoutfun=8,Index=i1,EventType=i2,InAddr=i3,OutType=i4,OutAddr=i5,OutTime=i6,Reserved=i7\n";
const NEW_TABLES: &str = "template=9,Size=i1,Pin=i2,FingerID=i3,Valid=i4,Template=s5\n\
templatev10=10,Size=i1,UID=i2,Pin=i3,FingerID=i4,Valid=i5,Template=B6,Resverd=i7,EndTag=i8\n\
losscard=11,CardNo=i1,Reserved=i2\n\
usertype=12,Pin=i1,Type=i2\n\
wiegandfmt=13,Pin=i1,Name=s2,WgCount=i3,Format=s4\n";

/// The structure text (0x06 reply) of a firmware generation.
///
/// ```
/// use zkproto::panel::sim::{state::structure_text, TableLayout};
/// let old = structure_text(TableLayout::Old);
/// assert!(old.starts_with("user=1,CardNo=i1,Pin=i2,"));
/// assert_eq!(old.lines().count(), 8);
/// assert_eq!(structure_text(TableLayout::New).lines().count(), 13);
/// ```
pub fn structure_text(layout: TableLayout) -> String {
    let mut tz = String::from("timezone=4,TimezoneId=i1");
    let days = [
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Hol1", "Hol2", "Hol3",
    ];
    let mut id = 2;
    for d in days {
        for k in 1..=3 {
            tz.push_str(&format!(",{d}Time{k}=i{id}"));
            id += 1;
        }
    }
    tz.push('\n');
    let (user, extra) = match layout {
        TableLayout::Old => (OLD_USER, ""),
        TableLayout::New => (NEW_USER, NEW_TABLES),
    };
    format!("{user}{COMMON}{tz}{AFTER_TIMEZONE}{extra}")
}

/// Primary-key fields used for "replace on write" (reference §5.1).
fn primary_key(table: &str) -> &'static [&'static str] {
    match table {
        "user" | "usertype" | "wiegandfmt" => &["Pin"],
        "userauthorize" => &["Pin", "AuthorizeTimezoneId", "AuthorizeDoorId"],
        "holiday" => &["Holiday"],
        "timezone" => &["TimezoneId"],
        "transaction" => &["Cardno"],
        "firstcard" => &["Pin", "DoorID"],
        "multimcard" | "inoutfun" => &["Index"],
        "template" | "templatev10" => &["Pin", "FingerID"],
        "losscard" => &["CardNo"],
        _ => &[],
    }
}

/// Storage width of a string field (longer values are truncated).
fn string_width(field: &str) -> usize {
    match field {
        "Password" => 8,
        "Name" => 24,
        _ => 255,
    }
}

/// One stored row: a value per field of the table, in the table's order.
pub type Row = Vec<Value>;

/// Stored tables and parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct State {
    structure: TableStructure,
    rows: BTreeMap<u8, Vec<Row>>,
    /// Parameters by name (values as the panel reports them).
    pub(crate) params: BTreeMap<String, String>,
    /// Transactions before this index were committed by 0x19.
    tx_read: usize,
    /// Transaction count at the last "new records only" read.
    tx_pending: Option<usize>,
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let counts: Vec<(u8, usize)> = self.rows.iter().map(|(t, r)| (*t, r.len())).collect();
        f.debug_struct("State")
            .field("tables", &self.structure.tables.len())
            .field("rows", &counts)
            .field("params", &self.params.len())
            .finish()
    }
}

fn default_value(kind: FieldKind) -> Value {
    if kind.is_int() {
        Value::Int(0)
    } else {
        Value::Bytes(Bytes::new())
    }
}

/// C string view: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => b.get(..n).unwrap_or(b),
        None => b,
    }
}

/// Integer value of a cell as the firmware reads it: up to 4 bytes LE,
/// zero-extended; longer cells keep their first 4 bytes.
fn cell_int(cell: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    for (d, s) in b.iter_mut().zip(cell) {
        *d = *s;
    }
    u32::from_le_bytes(b)
}

fn value_matches(kind: FieldKind, stored: &Value, cell: &[u8]) -> bool {
    match stored {
        Value::Int(v) => kind.is_int() && cell.len() <= 4 && cell_int(cell) == *v,
        Value::Bytes(b) => c_str(b) == c_str(cell),
        _ => cell.is_empty(),
    }
}

fn put_cell(out: &mut BytesMut, cell: &[u8]) {
    let n = cell.len().min(255);
    out.put_u8(u8::try_from(n).unwrap_or(255));
    out.put_slice(cell.get(..n).unwrap_or_default());
}

impl State {
    /// Empty tables of a firmware generation, no parameters.
    pub fn new(layout: TableLayout) -> State {
        let structure =
            TableStructure::parse(structure_text(layout).as_bytes()).unwrap_or_default();
        let rows = structure
            .tables
            .iter()
            .map(|t| (t.id, Vec::new()))
            .collect();
        State {
            structure,
            rows,
            params: BTreeMap::new(),
            tx_read: 0,
            tx_pending: None,
        }
    }

    /// The table structure.
    pub fn structure(&self) -> &TableStructure {
        &self.structure
    }

    /// The stored rows of a table (by name), one value per field in the
    /// table's field order.
    pub fn rows(&self, table: &str) -> Option<&[Row]> {
        let t = self.structure.table(table)?;
        self.rows.get(&t.id).map(Vec::as_slice)
    }

    /// Typed rows of `R`'s table.
    pub fn typed<R: TableRow>(&self) -> Vec<R> {
        let Some(desc) = self.structure.table(R::TABLE) else {
            return Vec::new();
        };
        let set = RowSet {
            table: desc.id,
            fields: desc.fields.iter().map(|f| f.id).collect(),
            rows: self
                .rows
                .get(&desc.id)
                .map(|rows| {
                    rows.iter()
                        .map(|r| r.iter().map(Value::to_cell).collect())
                        .collect()
                })
                .unwrap_or_default(),
        };
        match desc.decode_typed::<R>(&set) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(table = R::TABLE, error = %e, "stored rows do not decode");
                Vec::new()
            }
        }
    }

    fn typed_rows<R: TableRow>(&self, rows: &[R]) -> Option<(TableDescriptor, Vec<Row>)> {
        let desc = self.structure.table(R::TABLE)?.clone();
        let set = desc.encode_typed(rows).ok()?;
        let out = set
            .rows
            .iter()
            .map(|cells| build_row(&desc, &set.fields, cells))
            .collect();
        Some((desc, out))
    }

    /// Inserts or replaces (same primary key) typed rows; fields this
    /// firmware's table lacks are left out. Returns false when the table is
    /// missing or a value does not fit the table.
    pub fn put_typed<R: TableRow>(&mut self, rows: &[R]) -> bool {
        let Some((desc, new_rows)) = self.typed_rows(rows) else {
            return false;
        };
        for r in new_rows {
            self.upsert(&desc, r);
        }
        true
    }

    /// Appends a typed row without the primary-key rule (the panel's own log).
    pub fn append_typed<R: TableRow>(&mut self, row: &R) -> bool {
        let Some((desc, new_rows)) = self.typed_rows(core::slice::from_ref(row)) else {
            return false;
        };
        self.rows.entry(desc.id).or_default().extend(new_rows);
        true
    }

    fn upsert(&mut self, desc: &TableDescriptor, row: Row) {
        let key: Vec<usize> = primary_key(&desc.name)
            .iter()
            .filter_map(|k| desc.fields.iter().position(|f| f.name == *k))
            .collect();
        let rows = self.rows.entry(desc.id).or_default();
        let same = |r: &Row| !key.is_empty() && key.iter().all(|&i| r.get(i) == row.get(i));
        match rows.iter_mut().find(|r| same(r)) {
            Some(existing) => *existing = row,
            None => rows.push(row),
        }
    }

    fn is_new_key(&self, desc: &TableDescriptor, row: &Row) -> bool {
        let key: Vec<usize> = primary_key(&desc.name)
            .iter()
            .filter_map(|k| desc.fields.iter().position(|f| f.name == *k))
            .collect();
        !self.rows.get(&desc.id).is_some_and(|rows| {
            rows.iter()
                .any(|r| !key.is_empty() && key.iter().all(|&i| r.get(i) == row.get(i)))
        })
    }

    /// SetDeviceData (0x07) as the firmware parses it. A malformed request
    /// (unknown table, field list longer than the data, a row cut short, a
    /// cell longer than `max_cell`) is acknowledged and stores nothing.
    /// Only a full `user` table is reported (−18, after storing what fits).
    pub fn set_data(
        &mut self,
        data: &[u8],
        max_cell: usize,
        user_capacity: usize,
    ) -> Result<(), ErrorCode> {
        let Some((&table, rest)) = data.split_first() else {
            return Ok(());
        };
        let Some((&n, rest)) = rest.split_first() else {
            return Ok(());
        };
        let Some((ids, mut rest)) = rest.split_at_checked(usize::from(n)) else {
            tracing::debug!("set data: field list longer than the data; ignored");
            return Ok(());
        };
        let Some(desc) = self.structure.table_by_id(table).cloned() else {
            tracing::debug!(table, "set data: unknown table; ignored");
            return Ok(());
        };
        let mut parsed = Vec::new();
        while !rest.is_empty() && !ids.is_empty() {
            let mut cells = Vec::with_capacity(ids.len());
            for _ in ids {
                let Some((&len, tail)) = rest.split_first() else {
                    return Ok(());
                };
                let len = usize::from(len);
                if len > max_cell {
                    tracing::debug!(len, "set data: cell too long; ignored");
                    return Ok(());
                }
                let Some((cell, tail)) = tail.split_at_checked(len) else {
                    return Ok(());
                };
                cells.push(Bytes::copy_from_slice(cell));
                rest = tail;
            }
            parsed.push(build_row(&desc, ids, &cells));
        }
        let is_user = desc.name == "user";
        let uid_at = desc.fields.iter().position(|f| f.name == "UID");
        for mut row in parsed {
            if is_user && self.is_new_key(&desc, &row) {
                if self.rows.get(&desc.id).map_or(0, Vec::len) >= user_capacity {
                    return Err(ErrorCode::NoSpace);
                }
                if let Some(i) = uid_at
                    && row.get(i) == Some(&Value::Int(0))
                {
                    let next = self.next_uid(&desc, i);
                    if let Some(slot) = row.get_mut(i) {
                        *slot = Value::Int(next);
                    }
                }
            }
            self.upsert(&desc, row);
        }
        Ok(())
    }

    fn next_uid(&self, desc: &TableDescriptor, at: usize) -> u32 {
        self.rows
            .get(&desc.id)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get(at).and_then(Value::as_int))
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// GetDeviceData (0x08): the reply data (echo of the request head, then
    /// the matching rows). `None` for an unknown table.
    pub fn get_data(&mut self, req: &GetDataRequest) -> Option<Bytes> {
        let desc = self.structure.table_by_id(req.table)?;
        let positions: Vec<Option<usize>> = req
            .fields
            .iter()
            .map(|id| desc.fields.iter().position(|f| f.id == *id))
            .collect();
        let conds: Vec<(Option<usize>, &Bytes)> = req
            .conditions
            .iter()
            .map(|(id, v)| (desc.fields.iter().position(|f| f.id == *id), v))
            .collect();
        let rows = self
            .rows
            .get(&desc.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let is_tx = desc.name == "transaction";
        let from = if is_tx && req.table_param.is_some() {
            self.tx_read.min(rows.len())
        } else {
            0
        };
        let mut out = BytesMut::new();
        out.put_u8(req.table);
        out.put_u8(u8::try_from(req.fields.len()).unwrap_or(u8::MAX));
        out.put_slice(&req.fields);
        for row in rows.iter().skip(from) {
            let ok = conds.iter().all(|(pos, cell)| match pos {
                Some(i) => match (row.get(*i), desc.fields.get(*i)) {
                    (Some(v), Some(f)) => value_matches(f.kind, v, cell),
                    _ => false,
                },
                None => false,
            });
            if !ok {
                continue;
            }
            for pos in &positions {
                match pos.and_then(|i| row.get(i)) {
                    Some(v) => put_cell(&mut out, &v.to_cell()),
                    None => out.put_u8(0),
                }
            }
        }
        if is_tx && req.table_param.is_some() {
            self.tx_pending = Some(rows.len());
        }
        Some(out.freeze())
    }

    /// 0x19: commits the read pointer of "new records only" reads.
    pub fn commit_new_records(&mut self, table: u8) -> bool {
        let is_tx = self
            .structure
            .table_by_id(table)
            .is_some_and(|t| t.name == "transaction");
        if let (true, Some(n)) = (is_tx, self.tx_pending.take()) {
            self.tx_read = n;
        }
        is_tx
    }

    /// DeleteDeviceData (0x09). A malformed request deletes nothing.
    pub fn delete(&mut self, data: Bytes) {
        let req = match DeleteRequest::parse(data) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "delete data: malformed request ignored");
                return;
            }
        };
        match req {
            DeleteRequest::AllRows { table } => {
                if let Some(rows) = self.rows.get_mut(&table) {
                    rows.clear();
                    if self
                        .structure
                        .table_by_id(table)
                        .is_some_and(|t| t.name == "transaction")
                    {
                        self.tx_read = 0;
                        self.tx_pending = None;
                    }
                }
            }
            DeleteRequest::Matching(rs) => {
                let Some(desc) = self.structure.table_by_id(rs.table).cloned() else {
                    return;
                };
                let pos: Vec<Option<usize>> = rs
                    .fields
                    .iter()
                    .map(|id| desc.fields.iter().position(|f| f.id == *id))
                    .collect();
                let Some(rows) = self.rows.get_mut(&desc.id) else {
                    return;
                };
                for cond in &rs.rows {
                    rows.retain(|row| {
                        !pos.iter().zip(cond).all(|(p, cell)| match p {
                            Some(i) => match (row.get(*i), desc.fields.get(*i)) {
                                (Some(v), Some(f)) => value_matches(f.kind, v, cell),
                                _ => false,
                            },
                            None => false,
                        })
                    });
                }
                if desc.name == "transaction" {
                    self.tx_read = self.tx_read.min(rows.len());
                }
            }
        }
    }

    /// Row count of a table (0x0A); `None` for an unknown table.
    pub fn count(&self, table: u8) -> Option<u32> {
        self.structure.table_by_id(table)?;
        Some(u32::try_from(self.rows.get(&table).map_or(0, Vec::len)).unwrap_or(u32::MAX))
    }

    /// A parameter value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A numeric parameter, or `default`.
    pub fn param_u32(&self, name: &str, default: u32) -> u32 {
        self.param(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }
}

/// A full row from written cells: fields not written get their default,
/// unknown field ids are ignored, strings are truncated to the field width,
/// integers keep their first 4 bytes.
fn build_row(desc: &TableDescriptor, ids: &[u8], cells: &[Bytes]) -> Row {
    let mut row: Row = desc.fields.iter().map(|f| default_value(f.kind)).collect();
    for (id, cell) in ids.iter().zip(cells) {
        let Some(i) = desc.fields.iter().position(|f| f.id == *id) else {
            continue;
        };
        let Some(f) = desc.fields.get(i) else {
            continue;
        };
        let v = if f.kind.is_int() {
            Value::Int(cell_int(cell))
        } else {
            let w = string_width(&f.name).min(cell.len());
            Value::Bytes(cell.slice(..w))
        };
        if let Some(slot) = row.get_mut(i) {
            *slot = v;
        }
    }
    row
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::panel::table::{UserAuthorizeRow, UserRow};

    #[test]
    fn set_get_delete_and_quirks() {
        let mut s = State::new(TableLayout::New);
        // Reference §1.4 D: user Pin 19999, card 13375401, password "1".
        let w = [1, 3, 3, 2, 4, 2, 0x1f, 0x4e, 3, 0xa9, 0x17, 0xcc, 1, 0x31];
        assert_eq!(s.set_data(&w, 255, 10), Ok(()));
        let users: Vec<UserRow> = s.typed();
        assert_eq!(users.len(), 1);
        assert_eq!((users[0].pin, users[0].card_no), (19999, 13_375_401));
        assert_eq!(users[0].password, "1");
        assert_eq!(users[0].uid, Some(1));
        // Same key replaces.
        s.set_data(&[1, 2, 3, 2, 2, 0x1f, 0x4e, 1, 7], 255, 10)
            .unwrap();
        let users: Vec<UserRow> = s.typed();
        assert_eq!(
            (users.len(), users[0].card_no, users[0].password.as_str()),
            (1, 7, "")
        );
        // Malformed: acknowledged, nothing stored.
        for bad in [
            &[1u8, 5, 3][..],
            &[99, 1, 3, 1, 5],
            &[1, 1, 3, 2, 0x20],
            &[
                1, 1, 4, 12, b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', b'0', b'1', b'2',
            ],
        ] {
            assert_eq!(s.set_data(bad, 10, 10), Ok(()));
            assert_eq!(s.typed::<UserRow>().len(), 1, "{bad:?}");
        }
        // Authorisation and conditional read.
        s.set_data(&[2, 3, 1, 2, 3, 2, 0x1f, 0x4e, 1, 1, 1, 0x0f], 255, 10)
            .unwrap();
        assert_eq!(
            s.typed::<UserAuthorizeRow>(),
            [UserAuthorizeRow {
                pin: 19999,
                timezone_id: 1,
                doors: 15
            }]
        );
        let req = GetDataRequest {
            table: 1,
            fields: vec![2, 3, 42],
            table_param: None,
            conditions: vec![(3, Bytes::from_static(&[0x1f, 0x4e]))],
        };
        assert_eq!(
            &s.get_data(&req).unwrap()[..],
            &[1, 3, 2, 3, 42, 1, 7, 2, 0x1f, 0x4e, 0]
        );
        assert_eq!(s.count(1), Some(1));
        assert_eq!(s.count(77), None);
        s.delete(Bytes::from_static(&[1, 1, 3, 2, 0x1f, 0x4e]));
        assert_eq!(s.count(1), Some(0));
        // Capacity.
        s.set_data(&[1, 1, 3, 1, 1, 1, 2, 1, 3], 255, 2)
            .unwrap_err();
        assert_eq!(s.count(1), Some(2));
    }
}
