//! The 0x06 table structure text (§5.1): tables, fields, type letters and ids.

use crate::panel::error::{DecodeError, TableError};

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

    pub(super) fn require_field(&self, name: &str) -> Result<&FieldDescriptor, TableError> {
        self.field(name).ok_or_else(|| TableError::UnknownField {
            table: self.name.clone(),
            field: name.to_owned(),
        })
    }
}
