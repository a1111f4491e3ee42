//! Device information, time and options.

use super::{Client, Error};
use crate::terminal::command::{Command, ReplyCode};
use crate::terminal::record::options::{self, keys};
use crate::terminal::record::sizes::FreeSizes;
use crate::terminal::record::time::DeviceTime;
use crate::terminal::request::Request;
use crate::terminal::session::check_reply;

/// What a terminal says about itself. Fields the firmware does not know
/// are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceInfo {
    /// `~SerialNumber`.
    pub serial_number: Option<String>,
    /// `~Platform`, e.g. "ZEM560_TFT".
    pub platform: Option<String>,
    /// `CMD_GET_VERSION`, e.g. "Ver 6.60 Apr 28 2015".
    pub firmware_version: String,
    /// `~DeviceName`.
    pub device_name: Option<String>,
    /// `MAC`.
    pub mac: Option<String>,
    /// Longest user id (`CMD_GET_PINWIDTH`).
    pub pin_width: Option<u8>,
    /// `~ZKFPVersion` (9 or 10).
    pub fingerprint_version: Option<String>,
    /// `ZKFaceVersion`.
    pub face_version: Option<String>,
    /// Counters and capacities.
    pub sizes: FreeSizes,
    /// Device clock.
    pub time: DeviceTime,
}

fn text(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(data.get(..end).unwrap_or_default())
        .trim()
        .to_string()
}

impl Client {
    /// Everything [`DeviceInfo`] holds, in one call.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let info = dev.device_info().await?;
    /// println!("{} {:?} users: {}", info.firmware_version, info.serial_number, info.sizes.users);
    /// # Ok(()) }
    /// ```
    pub async fn device_info(&mut self) -> Result<DeviceInfo, Error> {
        Ok(DeviceInfo {
            serial_number: self.serial_number().await?,
            platform: self.platform().await?,
            firmware_version: self.firmware_version().await?,
            device_name: self.device_name().await?,
            mac: self.mac().await?,
            pin_width: self.pin_width().await?,
            fingerprint_version: self.fingerprint_version().await?,
            face_version: self.face_version().await?,
            sizes: self.free_sizes().await?,
            time: self.time().await?,
        })
    }

    /// The serial number (`~SerialNumber`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let sn = dev.serial_number().await?;
    /// # Ok(()) }
    /// ```
    pub async fn serial_number(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::SERIAL_NUMBER).await
    }

    /// The platform (`~Platform`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let p = dev.platform().await?;
    /// # Ok(()) }
    /// ```
    pub async fn platform(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::PLATFORM).await
    }

    /// The firmware version string (`CMD_GET_VERSION`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let v = dev.firmware_version().await?;
    /// # Ok(()) }
    /// ```
    pub async fn firmware_version(&mut self) -> Result<String, Error> {
        let reply = self.command(Request::get_version()).await?;
        Ok(text(&reply.data))
    }

    /// The device name (`~DeviceName`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let n = dev.device_name().await?;
    /// # Ok(()) }
    /// ```
    pub async fn device_name(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::DEVICE_NAME).await
    }

    /// The MAC address (`MAC`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let mac = dev.mac().await?;
    /// # Ok(()) }
    /// ```
    pub async fn mac(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::MAC).await
    }

    /// The longest user id the device accepts (`CMD_GET_PINWIDTH`), `None`
    /// when the firmware does not know the command.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let w = dev.pin_width().await?;
    /// # Ok(()) }
    /// ```
    pub async fn pin_width(&mut self) -> Result<Option<u8>, Error> {
        let reply = self.roundtrip(Request::get_pin_width()).await?;
        match reply.reply_code() {
            ReplyCode::AckUnknown | ReplyCode::AckError => Ok(None),
            _ => {
                check_reply(Command::GetPinWidth, &reply).map_err(|e| self.map(e))?;
                Ok(reply.data.first().copied())
            }
        }
    }

    /// The fingerprint algorithm version (`~ZKFPVersion`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let v = dev.fingerprint_version().await?;
    /// # Ok(()) }
    /// ```
    pub async fn fingerprint_version(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::FP_VERSION).await
    }

    /// The face algorithm version (`ZKFaceVersion`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let v = dev.face_version().await?;
    /// # Ok(()) }
    /// ```
    pub async fn face_version(&mut self) -> Result<Option<String>, Error> {
        self.read_option(keys::FACE_VERSION).await
    }

    /// Counters and capacities (`CMD_GET_FREE_SIZES`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let s = dev.free_sizes().await?;
    /// println!("{} of {} users", s.users, s.users_cap);
    /// # Ok(()) }
    /// ```
    pub async fn free_sizes(&mut self) -> Result<FreeSizes, Error> {
        let reply = self.command(Request::get_free_sizes()).await?;
        Ok(FreeSizes::parse(&reply.data)?)
    }

    /// The device clock (local wall-clock time, §9).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let t = dev.time().await?;
    /// println!("{t}");
    /// # Ok(()) }
    /// ```
    pub async fn time(&mut self) -> Result<DeviceTime, Error> {
        let reply = self.command(Request::get_time()).await?;
        let b = reply.data.first_chunk::<4>().ok_or(
            crate::terminal::record::RecordError::Truncated {
                what: "time reply",
                offset: 0,
                need: 4,
                got: reply.data.len(),
            },
        )?;
        Ok(DeviceTime::from_packed(u32::from_le_bytes(*b)))
    }

    /// Sets the device clock.
    ///
    /// ```no_run
    /// use zkproto::terminal::record::DeviceTime;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.set_time(DeviceTime::new(2024, 2, 29, 23, 59, 59)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_time(&mut self, t: DeviceTime) -> Result<(), Error> {
        t.validate()
            .map_err(|_| crate::terminal::error::EncodeError::OutOfRange {
                field: "time",
                reason: "not a real date-time",
            })?;
        self.command(Request::set_time(&t)?).await?;
        Ok(())
    }

    /// Reads an option; `None` when the device does not know it.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let lock = dev.read_option("LockOn").await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_option(&mut self, name: &str) -> Result<Option<String>, Error> {
        let reply = self.roundtrip(Request::read_option(name)?).await?;
        match reply.reply_code() {
            ReplyCode::AckError | ReplyCode::AckUnknown => Ok(None),
            _ => {
                check_reply(Command::OptionsRrq, &reply).map_err(|e| self.map(e))?;
                let (got, value) = options::parse_reply(&reply.data)?;
                if got != name {
                    tracing::debug!(asked = name, got = %got, "option reply names another option");
                }
                Ok(Some(value))
            }
        }
    }

    /// Writes an option, then applies it (`CMD_REFRESHOPTION`).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.write_option("LockOn", "5").await?;
    /// # Ok(()) }
    /// ```
    pub async fn write_option(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.command(Request::write_option(name, value)?).await?;
        self.command(Request::refresh_option()).await?;
        Ok(())
    }
}
