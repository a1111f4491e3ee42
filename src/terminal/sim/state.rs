//! The simulated device's data: users, attendance log, templates, options,
//! and the clock (device time advancing with the `now` passed in).

use crate::terminal::record::attendance::Attendance;
use crate::terminal::record::template::Template;
use crate::terminal::record::text::TextEncoding;
use crate::terminal::record::time::DeviceTime;
use crate::terminal::record::user::User;
use crate::terminal::sim::config::Profile;
use std::collections::BTreeMap;

/// The persistent data of a simulated device.
///
/// Users are kept in storage order (the order of a bulk read); a user is
/// identified by its uid, and user ids are unique.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// User records, all in the profile's layout.
    pub users: Vec<User>,
    /// Attendance records, all in the profile's layout.
    pub attendance: Vec<Attendance>,
    /// Fingerprint templates.
    pub templates: Vec<Template>,
    /// Options by name (`~SerialNumber`, `WorkCode`, …).
    pub options: BTreeMap<String, String>,
}

impl State {
    /// An empty state with the options a device of `profile` reports.
    ///
    /// ```
    /// use zkproto::terminal::sim::{Profile, State};
    /// let s = State::new(&Profile::zk8());
    /// assert_eq!(s.options.get("~Platform").map(String::as_str), Some("ZEM760_TFT"));
    /// assert_eq!(s.options.get("WorkCode").map(String::as_str), Some("0"));
    /// ```
    pub fn new(profile: &Profile) -> State {
        State {
            options: default_options(profile),
            ..State::default()
        }
    }

    /// Index of the user with this uid.
    pub fn user_index_by_uid(&self, uid: u16) -> Option<usize> {
        self.users.iter().position(|u| u.uid() == uid)
    }

    /// Index of the user with this user id (decoded with `enc`).
    pub fn user_index_by_user_id(&self, user_id: &str, enc: TextEncoding) -> Option<usize> {
        self.users.iter().position(|u| u.user_id(enc) == user_id)
    }

    /// Inserts or replaces (same uid) a user, without any device rule.
    pub fn put_user(&mut self, user: User) {
        match self.user_index_by_uid(user.uid()) {
            Some(i) => {
                if let Some(slot) = self.users.get_mut(i) {
                    *slot = user;
                }
            }
            None => self.users.push(user),
        }
    }

    /// Removes a user and its templates; returns whether it existed.
    pub fn delete_user(&mut self, uid: u16) -> bool {
        let before = self.users.len();
        self.users.retain(|u| u.uid() != uid);
        let removed = self.users.len() != before;
        if removed {
            self.templates.retain(|t| t.uid != uid);
        }
        removed
    }

    /// Inserts or replaces the template of (uid, finger).
    pub fn put_template(&mut self, t: Template) {
        match self
            .templates
            .iter_mut()
            .find(|x| x.uid == t.uid && x.finger == t.finger)
        {
            Some(slot) => *slot = t,
            None => self.templates.push(t),
        }
    }

    /// Removes templates of `uid` (one finger, or all when `finger` is
    /// `None`); returns how many were removed.
    pub fn delete_templates(&mut self, uid: u16, finger: Option<u8>) -> usize {
        let before = self.templates.len();
        self.templates
            .retain(|t| !(t.uid == uid && finger.is_none_or(|f| f == t.finger)));
        before - self.templates.len()
    }
}

fn default_options(p: &Profile) -> BTreeMap<String, String> {
    let tft = p.user_layout == crate::terminal::record::user::UserLayout::Extended72;
    let b = |v: bool| if v { "1" } else { "0" }.to_string();
    let mut o = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        o.insert(k.to_string(), v);
    };
    set("~SerialNumber", p.serial_number.clone());
    set("~Platform", p.platform.clone());
    set("~DeviceName", p.device_name.clone());
    set("~ZKFPVersion", p.fp_version.to_string());
    set("ZKFaceVersion", "0".into());
    set("~PIN2Width", p.pin_width.to_string());
    set("MAC", p.mac.clone());
    set("~OEMVendor", "ZKTeco Inc.".into());
    set("~ProductTime", "2015-04-28 10:00:00".into());
    set("~OS", "1".into());
    set("~ExtendFmt", "1".into());
    set("~UserExtFmt", b(tft));
    set("FaceFunOn", "0".into());
    set("CompatOldFirmware", "0".into());
    set("IPAddress", "192.168.1.201".into());
    set("NetMask", "255.255.255.0".into());
    set("GATEIPAddress", "0.0.0.0".into());
    set("WorkCode", "0".into());
    set("~IsABCPinEnable", b(tft));
    set("~T9FunOn", b(tft));
    set("~IsOnlyRFMachine", "0".into());
    set("~RFCardOn", "1".into());
    set("~SSR", b(tft));
    set("Language", "69".into());
    set("BiometricType", "1".into());
    set("FingerFunOn", "1".into());
    set("ExtendOPLog", "1".into());
    set("LockOn", "5".into());
    set("AntiPassbackOn", "0".into());
    set("DeviceID", "1".into());
    set("TCPPort", "4370".into());
    set("UDPPort", "4370".into());
    set("~MaxUserCount", (p.user_capacity / 100).to_string());
    set(
        "~MaxAttLogCount",
        (p.attendance_capacity / 10_000).to_string(),
    );
    set("~MaxFingerCount", (p.template_capacity / 100).to_string());
    o
}

/// 2000-01-01T00:00:00 in Unix seconds.
const UNIX_2000: i64 = 946_684_800;

/// Seconds since 2000-01-01 00:00:00 on the real calendar (days past the
/// end of a month roll over, as the packed format allows them).
pub(crate) fn to_seconds(t: DeviceTime) -> i64 {
    t.to_unix_seconds() - UNIX_2000
}

/// Inverse of [`to_seconds`] (always a real calendar date; 2000-01-01 if
/// the value is out of every representable range).
pub(crate) fn from_seconds(s: i64) -> DeviceTime {
    DeviceTime::from_unix_seconds(s.saturating_add(UNIX_2000))
        .unwrap_or(DeviceTime::new(2000, 1, 1, 0, 0, 0))
}

impl crate::net::sim::Seconds for DeviceTime {
    fn to_seconds(self) -> i64 {
        to_seconds(self)
    }
    fn from_seconds(s: i64) -> DeviceTime {
        from_seconds(s)
    }
}

/// The device clock: a set time plus the time elapsed since it was set.
pub(crate) type Clock = crate::net::sim::Clock<DeviceTime>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn calendar_round_trip() {
        for t in [
            DeviceTime::new(2000, 1, 1, 0, 0, 0),
            DeviceTime::new(2018, 6, 25, 17, 41, 5),
            DeviceTime::new(2024, 2, 29, 23, 59, 59),
            DeviceTime::new(2099, 12, 31, 23, 59, 59),
        ] {
            assert_eq!(from_seconds(to_seconds(t)), t);
        }
        assert_eq!(to_seconds(DeviceTime::new(2000, 1, 1, 0, 0, 0)), 0);
        assert_eq!(to_seconds(DeviceTime::new(2000, 1, 2, 0, 0, 1)), 86_401);
        assert_eq!(
            from_seconds(to_seconds(DeviceTime::new(2024, 2, 28, 23, 59, 59)) + 1),
            DeviceTime::new(2024, 2, 29, 0, 0, 0)
        );
    }

    #[test]
    fn clock_advances_with_now() {
        let t0 = Instant::now();
        let mut c = Clock::new(DeviceTime::new(2024, 12, 31, 23, 59, 58));
        c.start(t0);
        assert_eq!(
            c.at(t0 + Duration::from_secs(3)),
            DeviceTime::new(2025, 1, 1, 0, 0, 1)
        );
        c.set(DeviceTime::new(2020, 1, 1, 0, 0, 0), t0);
        assert_eq!(
            c.at(t0 + Duration::from_millis(1500)),
            DeviceTime::new(2020, 1, 1, 0, 0, 1)
        );
    }

    #[test]
    fn templates_and_users() {
        let mut s = State::new(&Profile::zk6());
        let enc = TextEncoding::Utf8;
        let u = User::new(Profile::zk6().user_layout, 3, "33", enc).unwrap();
        s.put_user(u.clone());
        s.put_user(u);
        assert_eq!(s.users.len(), 1);
        s.put_template(Template {
            uid: 3,
            finger: 1,
            flag: 1,
            data: bytes::Bytes::from_static(b"x"),
        });
        s.put_template(Template {
            uid: 3,
            finger: 2,
            flag: 1,
            data: bytes::Bytes::from_static(b"y"),
        });
        assert_eq!(s.delete_templates(3, Some(1)), 1);
        assert!(s.delete_user(3));
        assert!(s.templates.is_empty());
        assert!(!s.delete_user(3));
    }
}
