//! Device parameters of the panel model: defaults from the profile, and
//! GetDeviceParam / SetDeviceParam (reference §3).

use super::{Device, READ_ONLY, Step};
use crate::panel::command::ErrorCode;
use crate::panel::params::{self, ParamList};
use crate::panel::time::PanelTime;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Instant;

impl Device {
    pub(super) fn default_params(&mut self) {
        let p = &self.profile;
        let mut m: BTreeMap<String, String> = [
            ("~SerialNumber", p.serial_number.clone()),
            ("LockCount", p.doors.to_string()),
            ("ReaderCount", p.readers.to_string()),
            ("AuxInCount", p.aux_inputs.to_string()),
            ("AuxOutCount", p.aux_outputs.to_string()),
            ("FirmVer", p.firmware.clone()),
            ("DeviceName", p.model.clone()),
            ("~DeviceName", p.model.clone()),
            ("MAC", p.mac.clone()),
            ("~ZKFPVersion", p.fp_version.clone()),
            ("~MaxUserCount", p.user_capacity.to_string()),
            ("IPAddress", p.ip.clone()),
            ("NetMask", "255.255.255.0".into()),
            ("GATEIPAddress", p.ip.clone()),
            ("RS232BaudRate", "38400".into()),
            ("DeviceID", p.address.to_string()),
            ("AntiPassback", "0".into()),
            ("InterLock", "0".into()),
            ("WatchDog", "1".into()),
            ("Door4ToDoor2", "0".into()),
            ("InBIOTowWay", "0".into()),
            ("BackupTime", "1".into()),
            ("DaylightSavingTimeOn", "0".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for n in 1..=p.doors {
            for (k, v) in [
                ("SensorType", "2"),
                ("Drivertime", "5"),
                ("Detectortime", "15"),
                ("CloseAndLock", "0"),
                ("VerifyType", "6"),
                ("MultiCardOpenDoor", "0"),
                ("FirstCardOpenDoor", "0"),
                ("ValidTZ", "1"),
                ("KeepOpenTimeZone", "0"),
                ("Intertime", "0"),
                ("CancelKeepOpenDay", "0"),
                ("ForcePassWord", ""),
                ("SupperPassWord", ""),
            ] {
                m.insert(format!("Door{n}{k}"), v.to_string());
            }
        }
        self.state.params = m;
    }

    pub(super) fn param_value(&self, name: &str, now: Instant) -> String {
        match name {
            "DateTime" => self.clock.at(now).to_packed().to_string(),
            "ComPwd" => self.password.clone().unwrap_or_default(),
            _ => self.state.param(name).unwrap_or_default().to_string(),
        }
    }

    pub(super) fn get_params(&self, payload: &[u8], now: Instant) -> Step {
        let names = match params::parse_get_request(payload) {
            Ok(n) if !n.is_empty() => n,
            _ => return Step::err(ErrorCode::BadParameter),
        };
        let list: ParamList = names
            .iter()
            .map(|n| (n.clone(), self.param_value(n, now)))
            .collect();
        match list.encode() {
            Ok(b) => Step::ok(b),
            Err(_) => Step::err(ErrorCode::NotExecuted),
        }
    }

    pub(super) fn door_param(&self, door: usize, what: &str, default: u32) -> u32 {
        self.state.param_u32(&format!("Door{door}{what}"), default)
    }

    pub(super) fn set_params(&mut self, payload: &[u8], now: Instant) -> Step {
        let list = match ParamList::parse(payload) {
            Ok(l) if !l.is_empty() && l.len() <= params::MAX_SET_PAIRS => l,
            _ => return Step::err(ErrorCode::BadParameter),
        };
        let mut time = None;
        let mut reboot = false;
        for (k, v) in list.iter() {
            let byte = || v.parse::<u8>().is_ok();
            let ok = match k {
                _ if READ_ONLY.contains(&k) => false,
                "DateTime" => match v.parse::<u32>().ok().map(PanelTime::from_packed) {
                    Some(Ok(t)) => {
                        time = Some(t);
                        true
                    }
                    _ => false,
                },
                "ComPwd" => v.len() <= 15 && v.bytes().all(|b| b.is_ascii_alphanumeric()),
                "IPAddress" | "GATEIPAddress" => !v.starts_with('0'),
                "Reboot" => {
                    reboot = v == "1";
                    true
                }
                _ if k.starts_with("Door")
                    && [
                        "SensorType",
                        "Drivertime",
                        "Detectortime",
                        "CloseAndLock",
                        "VerifyType",
                    ]
                    .iter()
                    .any(|s| k.ends_with(s)) =>
                {
                    byte()
                }
                _ => true,
            };
            if !ok {
                tracing::debug!(param = k, "set device param refused");
                return Step::err(ErrorCode::NotExecuted);
            }
        }
        for (k, v) in list.iter() {
            match k {
                "DateTime" | "Reboot" => {}
                "ComPwd" => self.password = Some(v.to_string()).filter(|p| !p.is_empty()),
                _ => {
                    self.state.params.insert(k.to_string(), v.to_string());
                }
            }
        }
        if let Some(t) = time {
            self.clock.set(t, now);
        }
        if reboot {
            self.restart(now);
            return Step::ok(Bytes::new()).closing();
        }
        Step::ok(Bytes::new())
    }
}
