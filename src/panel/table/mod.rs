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

mod codec;
mod request;
mod rows;
mod structure;
#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests;

pub use codec::{RowSet, Value};
pub use request::{DeleteRequest, GetDataRequest, encode_count_request, parse_count_reply};
pub use rows::{
    RowView, TIMEZONE_SPAN_FIELDS, TableRow, TimezoneRow, TransactionRow, UserAuthorizeRow, UserRow,
};
pub use structure::{FieldDescriptor, FieldKind, TableDescriptor, TableStructure};
