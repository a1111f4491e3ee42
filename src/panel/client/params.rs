//! Parameters (GetDeviceParam/SetDeviceParam, §4) and the panel clock.

use super::{Client, Error};
use crate::panel::command::Command;
use crate::panel::params::{self, MAX_NAMES, ParamList};
use crate::panel::time::PanelTime;

/// Pairs per SetDeviceParam request (the manual's limit; the firmware takes 30).
const SET_BATCH: usize = 20;

/// What a panel says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DeviceInfo {
    /// `~SerialNumber`.
    pub serial_number: String,
    /// `FirmVer`, e.g. `AC Ver 4.3.4 Apr 28 2017`.
    pub firmware: String,
    /// `~DeviceName` / `DeviceName`, e.g. `C3-400`.
    pub device_name: String,
    /// `LockCount`: number of doors.
    pub lock_count: u8,
    /// `ReaderCount`.
    pub reader_count: u8,
    /// `AuxInCount`.
    pub aux_in_count: u8,
    /// `AuxOutCount`.
    pub aux_out_count: u8,
    /// `~ZKFPVersion`: fingerprint algorithm, empty on card-only C3 panels.
    pub fingerprint_version: String,
}

impl Client {
    /// Reads parameters by name (batched, 30 names per request). Unknown
    /// names come back with an empty value or the firmware's default.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let p = panel.params(&["~SerialNumber", "LockCount"]).await?;
    /// println!("{:?} doors", p.get_u32("LockCount"));
    /// # Ok(()) }
    /// ```
    pub async fn params(&mut self, names: &[&str]) -> Result<ParamList, Error> {
        let mut out = ParamList::new();
        for batch in names.chunks(MAX_NAMES) {
            let req = params::encode_get_request(batch)?;
            let reply = self.call(Command::GetDeviceParam, &req).await?;
            for (k, v) in ParamList::parse(&reply)?.iter() {
                out.push(k, v);
            }
        }
        Ok(out)
    }

    /// Reads one parameter; `None` when the panel left it out of its reply.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let t = panel.param("Door1Drivertime").await?;
    /// # Ok(()) }
    /// ```
    pub async fn param(&mut self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.params(&[name]).await?.get(name).map(str::to_owned))
    }

    /// Writes parameters (batched, 20 pairs per request). The panel answers
    /// −12 when it cannot save them. Network parameters take effect after the
    /// reply; `Reboot=1` restarts the panel.
    ///
    /// ```no_run
    /// use zkproto::panel::ParamList;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.set_params(&ParamList::new().with("Door1Drivertime", "5")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_params(&mut self, params: &ParamList) -> Result<(), Error> {
        if params.is_empty() {
            return Err(Error::InvalidArgument("no parameters to set".into()));
        }
        let pairs: Vec<(&str, &str)> = params.iter().collect();
        for batch in pairs.chunks(SET_BATCH) {
            let mut list = ParamList::new();
            for (k, v) in batch {
                list.push(*k, *v);
            }
            let req = list.encode_set_request()?;
            self.call(Command::SetDeviceParam, &req).await?;
        }
        Ok(())
    }

    /// Writes one parameter.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.set_param("Door2Detectortime", "30").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_param(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.set_params(&ParamList::new().with(name, value)).await
    }

    /// The panel clock (`DateTime`).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// println!("{}", panel.time().await?);
    /// # Ok(()) }
    /// ```
    pub async fn time(&mut self) -> Result<PanelTime, Error> {
        let p = self.params(&["DateTime"]).await?;
        match p.date_time() {
            Some(t) => Ok(t.map_err(crate::panel::error::DecodeError::from)?),
            None => Err(Error::Missing {
                what: "the DateTime parameter",
            }),
        }
    }

    /// Sets the panel clock (`DateTime`, no time zone).
    ///
    /// ```no_run
    /// use zkproto::panel::PanelTime;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// panel.set_time(PanelTime::new(2025, 4, 13, 15, 54, 12)?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_time(&mut self, time: PanelTime) -> Result<(), Error> {
        let mut p = ParamList::new();
        p.push_date_time(time);
        self.set_params(&p).await
    }

    /// Serial number, firmware, model and I/O counts in one request.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let info = panel.device_info().await?;
    /// println!("{} {} ({} doors)", info.device_name, info.firmware, info.lock_count);
    /// # Ok(()) }
    /// ```
    pub async fn device_info(&mut self) -> Result<DeviceInfo, Error> {
        let p = self
            .params(&[
                "~SerialNumber",
                "FirmVer",
                "~DeviceName",
                "LockCount",
                "ReaderCount",
                "AuxInCount",
                "AuxOutCount",
                "~ZKFPVersion",
            ])
            .await?;
        let text = |k: &str| p.get(k).unwrap_or_default().to_owned();
        let count = |k: &str| p.get_u32(k).and_then(|v| u8::try_from(v).ok()).unwrap_or(0);
        Ok(DeviceInfo {
            serial_number: text("~SerialNumber"),
            firmware: text("FirmVer"),
            device_name: text("~DeviceName"),
            lock_count: count("LockCount"),
            reader_count: count("ReaderCount"),
            aux_in_count: count("AuxInCount"),
            aux_out_count: count("AuxOutCount"),
            fingerprint_version: text("~ZKFPVersion"),
        })
    }
}
