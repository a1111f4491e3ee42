//! Comma lists: `table=options` bodies, the 3.x registry body, `GET OPTIONS`
//! results (`key=value,key=value`, push §2.5, §3.7), and the positional
//! `INFO=` of a 2.x poll (push §3.8).
//!
//! ```
//! use zkproto::push::options::parse_options;
//! let o = parse_options("~DeviceName=F20/M,~OEMVendor=ZKTECO CO., LTD.,LockCount=1").unwrap();
//! assert_eq!(o.get("~OEMVendor"), Some("ZKTECO CO., LTD."));
//! assert_eq!(o.get("lockcount"), Some("1"));
//! ```

use super::body::Fields;
use super::error::DecodeError;

/// Parses `k=v,k=v` (several lines allowed); a token without `=` belongs
/// to the previous value, which contained a comma (push §2.5).
///
/// ```
/// use zkproto::push::{DecodeError, options::parse_options};
/// assert_eq!(parse_options("a=1\r\nb=2,\n").unwrap().0.len(), 2);
/// assert_eq!(parse_options("x,a=1"), Err(DecodeError::BadRecord("x".into())));
/// ```
pub fn parse_options(text: &str) -> Result<Fields, DecodeError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let tokens = text.split([',', '\n']).map(|t| t.trim_end_matches('\r'));
    for token in tokens {
        match (token.split_once('='), out.last_mut()) {
            (Some((k, v)), _) => out.push((k.to_owned(), v.to_owned())),
            (None, _) if token.is_empty() => {}
            (None, Some((_, v))) => {
                v.push(',');
                v.push_str(token);
            }
            (None, None) => return Err(DecodeError::BadRecord(token.chars().take(32).collect())),
        }
    }
    Ok(Fields(out))
}

/// The positional `INFO=` of a 2.x `getrequest` (push §3.8); trailing
/// fields vary by firmware, so every field is kept as text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DeviceInfo(pub Vec<String>);

impl DeviceInfo {
    /// Splits the (already percent-decoded) value on commas.
    ///
    /// ```
    /// use zkproto::push::options::DeviceInfo;
    /// let i = DeviceInfo::parse("Ver 2.0.12-20150625,3,2,10,192.168.16.27,10,7,15,0,111");
    /// assert_eq!((i.firmware(), i.users(), i.fingerprints(), i.records()), (Some("Ver 2.0.12-20150625"), Some(3), Some(2), Some(10)));
    /// assert_eq!((i.ip(), i.field(9)), (Some("192.168.16.27"), Some("111")));
    /// assert_eq!(DeviceInfo::parse("v,x").users(), None);
    /// ```
    pub fn parse(value: &str) -> Self {
        DeviceInfo(value.split(',').map(str::to_owned).collect())
    }

    /// Field `i` (0-based: 0 firmware, 1 users, 2 fingerprints, 3
    /// attendance records, 4 IP, 5 FP algorithm, 6 face algorithm, …).
    pub fn field(&self, i: usize) -> Option<&str> {
        self.0.get(i).map(String::as_str)
    }

    /// Firmware version (field 0).
    pub fn firmware(&self) -> Option<&str> {
        self.field(0)
    }

    /// Number of users (field 1).
    pub fn users(&self) -> Option<u32> {
        self.field(1)?.parse().ok()
    }

    /// Number of fingerprints (field 2).
    pub fn fingerprints(&self) -> Option<u32> {
        self.field(2)?.parse().ok()
    }

    /// Number of attendance records (field 3).
    pub fn records(&self) -> Option<u32> {
        self.field(3)?.parse().ok()
    }

    /// Device IP address (field 4), as sent.
    pub fn ip(&self) -> Option<&str> {
        self.field(4)
    }
}
