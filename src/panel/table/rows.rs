//! Typed rows of the named tables (`user`, `userauthorize`, `transaction`,
//! `timezone`) and their mapping onto the descriptors a firmware reports.

use super::codec::{RowSet, Value};
use super::request::GetDataRequest;
use super::structure::TableDescriptor;
use crate::panel::error::{DecodeError, TableError};
use crate::panel::rtlog::{EventCode, InOutState, RtEvent, VerifyMode};
use crate::panel::time::{PanelTime, TimeSpan};
use core::fmt;

impl TableDescriptor {
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

/// A row of the `transaction` table (the stored access log, §5.7): the
/// same record as a real-time log event ([`RtEvent`]), stored.
pub type TransactionRow = RtEvent;

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
