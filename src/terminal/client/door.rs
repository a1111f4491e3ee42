//! Door lock: unlock and door state (§8).

use super::{Client, Error};
use crate::terminal::record::door::{DoorState, DoorStatus};
use crate::terminal::request::Request;
use std::time::Duration;

/// The state of the door as read, interpreted with the configured
/// polarity — what [`Client::door_states`] returns, as the panel client's
/// [`DoorReading`](crate::panel::client::DoorReading) is for each panel door.
/// (The raw reply byte is [`DoorState`], the wire type of §8.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DoorReading {
    /// Door number: always 1 (a terminal drives one lock).
    pub door: u8,
    /// Open, closed or unknown (`0xFF`).
    pub status: DoorStatus,
    /// The raw reply byte (see [`DoorState::bits`] for the GPIO view).
    pub raw: DoorState,
}

impl Client {
    /// Releases the lock for `duration`, converted with
    /// [`Options::unlock_unit`](super::Options::unlock_unit) (default tenths
    /// of a second, as pyzk sends; some firmware reads seconds, §8.1).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.unlock(std::time::Duration::from_secs(3)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&mut self, duration: Duration) -> Result<(), Error> {
        let raw = self.options.unlock_unit.raw_value(duration)?;
        self.unlock_raw(raw).await
    }

    /// Sends `CMD_UNLOCK` with a raw value (unit depends on the firmware).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.unlock_raw(30).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock_raw(&mut self, raw: u32) -> Result<(), Error> {
        self.command(Request::unlock(raw)).await?;
        Ok(())
    }

    /// Reads the state of the terminal's door (`CMD_DOORSTATE_RRQ`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let d = dev.door_state().await?;
    /// println!("{:?} (raw {:#04x})", d.status, d.raw.raw);
    /// # Ok(()) }
    /// ```
    pub async fn door_state(&mut self) -> Result<DoorReading, Error> {
        let reply = self.command(Request::door_state()).await?;
        let raw = DoorState::parse(&reply.data)?;
        Ok(DoorReading {
            door: 1,
            status: raw.status(self.options.door_polarity),
            raw,
        })
    }

    /// The state of every door: a terminal has one, so this is
    /// [`door_state`](Client::door_state) as a list — the same call as the
    /// panel client's `door_states`, for code that serves both families.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// for d in dev.door_states().await? {
    ///     println!("door {}: {:?}", d.door, d.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn door_states(&mut self) -> Result<Vec<DoorReading>, Error> {
        Ok(vec![self.door_state().await?])
    }
}
