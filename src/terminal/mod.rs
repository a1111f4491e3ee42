//! The ZKTeco standalone-terminal protocol ("ZK protocol", port 4370).
//!
//! Layers, from the bytes up:
//!
//! * [`checksum`]: the 16-bit ones'-complement `in_chksum` (§1.4);
//! * [`frame`]: the three envelopes — TCP (`50 50 82 7d` + length), UDP (none)
//!   and RS232/RS485 (device id + own checksum) — as pure functions;
//! * [`packet`]: the 8-byte command header and its data (§1.3);
//! * [`command`]: command ids, reply codes, event flags, table ids (§2);
//! * [`sequence`]: reply-id rules for clients and devices (§1.5);
//! * [`commkey`]: the `CMD_AUTH` key scrambling (§3.2);
//! * [`request`]: typed request builders;
//! * [`record`]: users, attendance, templates, sizes, options, events, door
//!   state, bulk-read descriptors, device time;
//! * `codec` (feature `codec`): tokio-util adapters over the framing;
//! * [`session`]: the client's sans-IO session (reply matching, bulk reads);
//! * `client` (feature `client`): the async tokio client, TCP and UDP;
//! * `sim` (feature `simulator`): a stateful device simulator and its server;
//! * [`trace`]: one-line frame dumps for debugging, secrets redacted;
//! * [`restore`]: restoring a backup — the uid rule, record conversion
//!   between layouts, field diffs and the restore plan.
//!
//! Everything up to `codec` and `session`, and [`restore`], performs no I/O and reads no clock;
//! the wire layer is checked with `clippy::indexing_slicing` so no wire data
//! can index out of bounds.

#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod checksum;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "codec")]
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod codec;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod command;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod commkey;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod error;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod frame;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod packet;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod record;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod request;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod restore;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod sequence;
pub mod session;
#[cfg(feature = "simulator")]
pub mod sim;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod sync;
#[cfg_attr(not(test), warn(clippy::indexing_slicing))]
pub mod trace;

#[cfg(feature = "client")]
pub use client::{Client, Options, Transport};
pub use command::{Command, EventFlag, EventMask, ReplyCode, TableId};
pub use error::{EncodeError, WireError};
pub use packet::{ChecksumMode, Packet};
#[cfg(feature = "simulator")]
pub use sim::Simulator;
