//! Checks shared by the fuzz targets and by `tests/fuzz_regressions.rs`,
//! which replays saved inputs through the same functions under `cargo test`.
//!
//! Every check panics (with a message naming the broken property) when the
//! library misbehaves on its input, and returns normally otherwise.

pub mod codecs;
pub mod panel_frames;
pub mod panel_records;
pub mod panel_sim;
pub mod push_commands;
pub mod push_records;
pub mod push_requests;
pub mod records;
pub mod session;
pub mod sim;
pub mod util;
