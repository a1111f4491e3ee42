//! Which endpoint a request is for, which dialect it speaks and which
//! protocol version it announces (push §1.1, §1.2, §2.6).
//!
//! ```
//! use zkproto::push::{Dialect, Endpoint, PushVersion};
//! assert_eq!(Endpoint::from_path("/iclock/iclock/CDATA.aspx"), Ok(Endpoint::Cdata));
//! let v: PushVersion = "2.4.1".parse().unwrap();
//! assert_eq!((v.dialect(), v.to_string()), (Some(Dialect::Attendance), "2.4.1".to_owned()));
//! ```

use super::error::DecodeError;
use core::fmt;
use core::str::FromStr;

/// A push endpoint, routed on the last path segment (push §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `/iclock/cdata`: handshake (GET) and uploads (POST).
    Cdata,
    /// `/iclock/getrequest`: command poll.
    GetRequest,
    /// `/iclock/devicecmd`: command results.
    DeviceCmd,
    /// `/iclock/ping`: heartbeat.
    Ping,
    /// `/iclock/registry` (3.x).
    Registry,
    /// `/iclock/push` (3.x).
    Push,
    /// `/iclock/querydata` (3.x).
    QueryData,
}

impl Endpoint {
    /// Routes `path` on its last non-empty segment, case-insensitively,
    /// with an optional `.aspx` suffix.
    ///
    /// ```
    /// use zkproto::push::{DecodeError, Endpoint};
    /// assert_eq!(Endpoint::from_path("/iclock/getrequest/"), Ok(Endpoint::GetRequest));
    /// assert_eq!(Endpoint::from_path("devicecmd.aspx"), Ok(Endpoint::DeviceCmd));
    /// assert_eq!(Endpoint::from_path("/x/fdata"), Err(DecodeError::UnknownEndpoint("fdata".into())));
    /// ```
    pub fn from_path(path: &str) -> Result<Self, DecodeError> {
        let seg = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
        let lower = seg.to_ascii_lowercase();
        let name = lower.strip_suffix(".aspx").unwrap_or(&lower);
        Ok(match name {
            "cdata" => Endpoint::Cdata,
            "getrequest" => Endpoint::GetRequest,
            "devicecmd" => Endpoint::DeviceCmd,
            "ping" => Endpoint::Ping,
            "registry" => Endpoint::Registry,
            "push" => Endpoint::Push,
            "querydata" => Endpoint::QueryData,
            _ => return Err(DecodeError::UnknownEndpoint(seg.chars().take(64).collect())),
        })
    }
}

/// The two push dialects (push §0.2); decided per request, never per device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// "T&A PUSH", protocol 2.x: attendance terminals.
    Attendance,
    /// "A&C PUSH", protocol 3.x: access panels and terminals in access mode.
    Access,
}

/// A protocol version `major.minor.patch` as in `pushver=` (push §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PushVersion {
    /// Major (2 = T&A, 3 = A&C).
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

impl PushVersion {
    /// The version assumed when a T&A device sends no `pushver` (push §2.1).
    pub const ATTENDANCE_DEFAULT: PushVersion = PushVersion {
        major: 2,
        minor: 2,
        patch: 14,
    };
    /// The version assumed when an A&C device sends no `pushver` (push §2.1).
    pub const ACCESS_DEFAULT: PushVersion = PushVersion {
        major: 3,
        minor: 0,
        patch: 1,
    };

    /// The dialect of the major version: 2 → T&A, 3 → A&C, else `None`.
    ///
    /// ```
    /// use zkproto::push::{Dialect, PushVersion};
    /// assert_eq!(PushVersion::ACCESS_DEFAULT.dialect(), Some(Dialect::Access));
    /// let v = PushVersion { major: 4, minor: 0, patch: 0 };
    /// assert_eq!(v.dialect(), None);
    /// ```
    pub fn dialect(self) -> Option<Dialect> {
        match self.major {
            2 => Some(Dialect::Attendance),
            3 => Some(Dialect::Access),
            _ => None,
        }
    }
}

impl FromStr for PushVersion {
    type Err = DecodeError;

    /// `2`, `2.4` or `2.4.1` (missing parts are 0).
    ///
    /// ```
    /// use zkproto::push::PushVersion;
    /// let v: PushVersion = "3.1".parse().unwrap();
    /// assert_eq!((v.major, v.minor, v.patch), (3, 1, 0));
    /// assert!("2.x".parse::<PushVersion>().is_err() && "1.2.3.4".parse::<PushVersion>().is_err());
    /// assert!("".parse::<PushVersion>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, DecodeError> {
        let bad = || DecodeError::bad("pushver", s);
        let mut parts = [0u16; 3];
        for (n, p) in s.split('.').enumerate() {
            let slot = parts.get_mut(n).ok_or_else(bad)?;
            *slot = p.parse().map_err(|_| bad())?;
        }
        let [major, minor, patch] = parts;
        Ok(PushVersion {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for PushVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}
