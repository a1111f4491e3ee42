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
//! * [`push`]: the HTTP push protocol (ADMS / iclock) as a sans-IO core —
//!   device requests parsed, replies and commands built, no HTTP types.
//! * [`detect`]: telling the families apart by a peer's first bytes.
//! * [`net`]: plumbing shared by the families — reconnection policy,
//!   connecting within a timeout, simulator hosting.
//!
//! Each family module re-exports its client and simulator the same way
//! (`terminal::Client`, `terminal::Options`, `terminal::Simulator`;
//! `panel::Client`, `panel::Options`, `panel::Simulator`), and the crate
//! root names them with the family in front ([`TerminalClient`],
//! [`PanelClient`], [`TerminalSimulator`], [`PanelSimulator`]). See
//! `docs/architecture.md` for the layers of each family.
#![forbid(unsafe_code)]
// Library code never unwraps: wire data must not be able to panic it.
#![warn(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod detect;
pub mod net;
pub mod panel;
pub mod push;
pub mod terminal;
pub mod text;
mod wire_enum;

// Both families are reached the same way: `terminal::{Client, Options,
// Simulator}` and `panel::{Client, Options, Simulator}`, and at the root
// under family-prefixed names.
#[cfg(feature = "client")]
pub use panel::client::{Client as PanelClient, Options as PanelOptions};
#[cfg(feature = "simulator")]
pub use panel::sim::Simulator as PanelSimulator;
#[cfg(feature = "client")]
pub use terminal::client::{Client as TerminalClient, Options as TerminalOptions};
#[cfg(feature = "simulator")]
pub use terminal::sim::Simulator as TerminalSimulator;
