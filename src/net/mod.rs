//! Plumbing shared by every device family, with no protocol in it.
//!
//! * [`Backoff`] and [`Reconnect`]: the one reconnection policy of the
//!   event supervisors of both families, as a state machine with no I/O
//!   (always compiled);
//! * resolving an address and opening a TCP connection within the connect
//!   timeout, and the byte-stream trait the clients run over (feature
//!   `client`, crate-internal);
//! * [`sim`]: hosting a simulator — the state its handle shares with the
//!   server tasks, the stop-and-join handle, the TCP accept loop and the
//!   [`NetLimits`](sim::NetLimits) of its TCP servers (feature
//!   `simulator`).
//!
//! A new device family plugs its sans-IO session into these instead of
//! writing them again (see `docs/architecture.md`).

#[cfg(feature = "client")]
pub(crate) mod connect;
mod reconnect;
#[cfg(feature = "simulator")]
pub mod sim;

pub use reconnect::{Backoff, Outage, Reconnect};
