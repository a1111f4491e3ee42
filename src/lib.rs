#![doc = include_str!("../README.md")]
//!
//! # Crate layout
//!
//! * [`terminal`]: the terminal protocol — framing, checksum, commands,
//!   comm key, records — with no I/O, testable on byte slices; tokio-util
//!   codecs (feature `codec`), the async client (feature `client`) and the
//!   simulator (feature `simulator`).
//! * [`panel`]: the C3/inBio access-panel protocol (PullSDK wire format) —
//!   frames, CRC-16/ARC, sessions, parameters, tables, real-time log.
//! * [`detect`]: telling the families apart by a peer's first bytes.
//! * [`net`]: plumbing shared by the families — reconnection policy,
//!   connecting within a timeout, simulator hosting.
#![forbid(unsafe_code)]
// Library code never unwraps: wire data must not be able to panic it.
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod detect;
pub mod net;
pub mod panel;
pub mod terminal;
pub mod text;
mod wire_enum;

#[cfg(feature = "client")]
pub use terminal::client::{Client, Options, Transport};
#[cfg(feature = "simulator")]
pub use terminal::sim::Simulator;
