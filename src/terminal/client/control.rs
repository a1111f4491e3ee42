//! Device control: enable/disable (with a guard), restart, power off,
//! voice test, refresh, clear data.

use super::{Client, Error};
use crate::terminal::command::TableId;
use crate::terminal::request::Request;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// Keeps the terminal disabled (keypad and sensor locked, "working…") while
/// it lives; re-enables it when dropped, including when a `?` returns early,
/// so a failed bulk job never leaves a terminal locked.
///
/// Dereferences to the [`Client`]. [`enable`](DisableGuard::enable) ends it
/// explicitly and reports the result; a drop re-enables on a best-effort
/// basis (and the client sends `CMD_ENABLEDEVICE` before its next request
/// if that could not be sent). The device also re-enables itself when the
/// session ends.
#[derive(Debug)]
pub struct DisableGuard<'a> {
    client: &'a mut Client,
    armed: bool,
}

impl DisableGuard<'_> {
    /// Re-enables the device now.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let mut g = dev.disable().await?;
    /// let users = g.users().await?;
    /// g.enable().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable(mut self) -> Result<(), Error> {
        self.armed = false;
        self.client.enable().await
    }
}

impl Deref for DisableGuard<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl DerefMut for DisableGuard<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for DisableGuard<'_> {
    fn drop(&mut self) {
        if self.armed
            && !self.client.closed
            && !self.client.send_and_forget(Request::enable_device())
        {
            self.client.needs_enable = true;
        }
    }
}

impl Client {
    /// Disables the terminal until the returned guard is dropped or
    /// [`DisableGuard::enable`] is called.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let mut g = dev.disable().await?;
    /// let log = g.attendance().await?; // an error here still re-enables the device
    /// drop(g);
    /// # Ok(()) }
    /// ```
    pub async fn disable(&mut self) -> Result<DisableGuard<'_>, Error> {
        self.command(Request::disable_device(None)).await?;
        Ok(DisableGuard {
            client: self,
            armed: true,
        })
    }

    /// Disables the terminal with a device-side timeout after which it
    /// re-enables itself even if this client vanishes (§3.3).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let g = dev.disable_for(std::time::Duration::from_secs(120)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn disable_for(&mut self, timeout: Duration) -> Result<DisableGuard<'_>, Error> {
        let secs = u32::try_from(timeout.as_secs().max(1)).unwrap_or(u32::MAX);
        self.command(Request::disable_device(Some(secs))).await?;
        Ok(DisableGuard {
            client: self,
            armed: true,
        })
    }

    /// Re-enables the terminal (`CMD_ENABLEDEVICE`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.enable().await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable(&mut self) -> Result<(), Error> {
        self.needs_enable = false;
        self.command(Request::enable_device()).await?;
        Ok(())
    }

    /// Reboots the terminal; the session ends. Some firmware does not
    /// acknowledge, so a missing reply is not an error.
    ///
    /// ```no_run
    /// # async fn run(dev: zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.restart().await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart(self) -> Result<(), Error> {
        self.final_command(Request::restart()).await
    }

    /// Powers the terminal off; the session ends. A missing reply is not an
    /// error.
    ///
    /// ```no_run
    /// # async fn run(dev: zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.power_off().await?;
    /// # Ok(()) }
    /// ```
    pub async fn power_off(self) -> Result<(), Error> {
        self.final_command(Request::power_off()).await
    }

    async fn final_command(mut self, req: Request) -> Result<(), Error> {
        let r = self.command(req).await;
        self.closed = true;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.is_network() => {
                tracing::debug!(error = %e, "no acknowledgement (tolerated)");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Plays voice prompt `index` (`CMD_TESTVOICE`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.test_voice(0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn test_voice(&mut self, index: u8) -> Result<(), Error> {
        self.command(Request::test_voice(index)).await?;
        Ok(())
    }

    /// Makes the device reload its data after writes (`CMD_REFRESHDATA`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.refresh_data().await?;
    /// # Ok(()) }
    /// ```
    pub async fn refresh_data(&mut self) -> Result<(), Error> {
        self.command(Request::refresh_data()).await?;
        Ok(())
    }

    /// Clears one table, or everything with `None` (`CMD_CLEAR_DATA`).
    ///
    /// ```no_run
    /// use zkproto::terminal::TableId;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.clear_data(Some(TableId::OpLog)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_data(&mut self, table: Option<TableId>) -> Result<(), Error> {
        self.command(Request::clear_data(table)).await?;
        Ok(())
    }
}
