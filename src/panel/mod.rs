//! The ZKTeco C3/inBio access-control panel protocol ("PullSDK" wire protocol,
//! TCP/UDP port 4370, UDP broadcast 65535, RS485), as a sans-IO layer.
//!
//! Layers, from the bytes up:
//!
//! * [`error`]: the wire layer's error types (depends on nothing else here);
//! * [`crc`]: CRC-16/ARC (slice-by-16 table) and the CRC-32 of big data;
//! * [`frame`]: `AA | address | command | length | data | CRC | 55`;
//! * [`command`]: command/reply codes and device error codes;
//! * [`session`]: the 4-byte session header and [`PanelSession`], which builds
//!   requests with session id and message numbers, matches replies and keeps
//!   each request's deadline; [`session::BigDataReader`] reassembles a chunked
//!   result (offsets, CRC-32);
//! * [`params`]: GetDeviceParam/SetDeviceParam text; [`time`]: packed times;
//! * [`control`]: ControlDevice operations;
//! * [`table`]: table structure, row codec, GetDeviceData/SetDeviceData/
//!   DeleteDeviceData requests, typed rows; [`bigdata`]: the wire format of
//!   the chunked exchange for large results;
//! * [`rtlog`]: binary and text real-time log records and event codes;
//! * [`discovery`]: UDP discovery and IP change;
//! * telling a panel from a terminal lives at the crate root: [`crate::detect`];
//! * `codec` (feature `codec`): a tokio-util codec with resynchronisation;
//! * `sim` (feature `simulator`): a stateful panel simulator with a tokio server.
//! * `client` (feature `client`): an async tokio client.
//!
//! Nothing here performs I/O or reads a clock.
//!
//! ```
//! use zkproto::panel::{Command, Frame, PanelSession, session::ConnectMode};
//! let mut s = PanelSession::new();
//! let f = s.connect(ConnectMode::SessionLess, b"").unwrap();
//! assert_eq!(f.command, Command::Connect);
//! s.handle_reply(&Frame::new(1, Command::AckOk, &[][..])).unwrap();
//! assert!(s.is_connected());
//! ```

// Wire data must not be able to panic this layer: no unchecked indexing or slicing.
#![warn(clippy::indexing_slicing)]

pub mod bigdata;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "codec")]
pub mod codec;
pub mod command;
pub mod control;
pub mod crc;
pub mod discovery;
pub mod error;
pub mod frame;
pub mod params;
pub mod rtlog;
pub mod session;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod table;
pub mod time;

#[cfg(feature = "client")]
pub use client::{Client, Options};
pub use command::{Command, ErrorCode};
pub use control::ControlCommand;
pub use error::{BigDataError, DecodeError, EncodeError, FrameError, TableError, TimeError};
pub use frame::Frame;
pub use params::ParamList;
pub use rtlog::{EventCode, RtRecord, TextRecord};
pub use session::{PanelSession, Reply, ReplyError, SessionHeader};
#[cfg(feature = "simulator")]
pub use sim::Simulator;
pub use table::{TableDescriptor, TableStructure};
pub use time::PanelTime;
