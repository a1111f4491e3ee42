//! Records carried in packet data: parse with `nom`, encode by hand.
//!
//! Each record type keeps the raw bytes of fields whose meaning depends on
//! the firmware, so a record read from a device re-encodes to the same bytes.

pub mod attendance;
pub mod bulk;
pub mod door;
pub mod error;
pub mod event;
pub mod oplog;
pub mod options;
pub mod sizes;
pub mod template;
pub mod text;
pub mod time;
pub mod user;

pub use error::RecordError;
pub use text::{Overflow, TextEncoding};
pub use time::DeviceTime;
