//! Device options: `CMD_OPTIONS_RRQ` (11) and `CMD_OPTIONS_WRQ` (12)
//! payloads (reference §6.6).
//!
//! * read request: `"Name\0"`; reply (`CMD_ACK_OK`): `"Name=Value\0"`;
//! * write request: `"Name=Value\0"` (the firmware also accepts it without
//!   the NUL).
//!
//! Option text is ASCII in practice; it is decoded as UTF-8 with malformed
//! bytes replaced by U+FFFD.
//!
//! ```
//! use zkproto::terminal::record::options::{self, keys};
//! assert_eq!(&options::read_request(keys::PLATFORM)[..], b"~Platform\0");
//! let (name, value) = options::parse_reply(b"~Platform=ZEM760_TFT\0").unwrap();
//! assert_eq!((name.as_str(), value.as_str()), ("~Platform", "ZEM760_TFT"));
//! assert_eq!(&options::write_request("LockOn", "5").unwrap()[..], b"LockOn=5\0");
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use bytes::{BufMut, Bytes, BytesMut};

/// Names of commonly used options (§6.6). Names starting with `~` are
/// read-only device properties.
pub mod keys {
    /// Serial number.
    pub const SERIAL_NUMBER: &str = "~SerialNumber";
    /// Platform, e.g. `ZEM760_TFT`, `ZEM600_TFT`, `JZ4725_TFT`.
    pub const PLATFORM: &str = "~Platform";
    /// Device model name, e.g. `iClock260`, `K40/ID`.
    pub const DEVICE_NAME: &str = "~DeviceName";
    /// Fingerprint algorithm version (`9` or `10`).
    pub const FP_VERSION: &str = "~ZKFPVersion";
    /// Face algorithm version.
    pub const FACE_VERSION: &str = "ZKFaceVersion";
    /// Width of the user-id (PIN2) field.
    pub const PIN2_WIDTH: &str = "~PIN2Width";
    /// MAC address.
    pub const MAC: &str = "MAC";
    /// OEM vendor.
    pub const OEM_VENDOR: &str = "~OEMVendor";
    /// Production time (`yyyy-mm-dd HH:MM:SS`).
    pub const PRODUCT_TIME: &str = "~ProductTime";
    /// Operating system.
    pub const OS: &str = "~OS";
    /// Extended attendance format flag.
    pub const EXTEND_FMT: &str = "~ExtendFmt";
    /// Extended user format flag.
    pub const USER_EXT_FMT: &str = "~UserExtFmt";
    /// Face function enabled.
    pub const FACE_FUN_ON: &str = "FaceFunOn";
    /// Compatibility with old firmware.
    pub const COMPAT_OLD_FIRMWARE: &str = "CompatOldFirmware";
    /// IP address (applied immediately after the write is acknowledged).
    pub const IP_ADDRESS: &str = "IPAddress";
    /// Network mask.
    pub const NET_MASK: &str = "NetMask";
    /// Gateway address.
    pub const GATEWAY: &str = "GATEIPAddress";
    /// Work code mode.
    pub const WORK_CODE: &str = "WorkCode";
    /// Alphanumeric user ids enabled.
    pub const IS_ABC_PIN_ENABLE: &str = "~IsABCPinEnable";
    /// T9 input enabled.
    pub const T9_FUN_ON: &str = "~T9FunOn";
    /// RF-card-only machine.
    pub const IS_ONLY_RF_MACHINE: &str = "~IsOnlyRFMachine";
    /// RF card reader present.
    pub const RF_CARD_ON: &str = "~RFCardOn";
    /// SSR (self-service recorder) mode.
    pub const SSR: &str = "~SSR";
    /// UI language.
    pub const LANGUAGE: &str = "Language";
    /// Biometric type.
    pub const BIOMETRIC_TYPE: &str = "BiometricType";
    /// Fingerprint function enabled.
    pub const FINGER_FUN_ON: &str = "FingerFunOn";
    /// Extended operation log.
    pub const EXTEND_OPLOG: &str = "ExtendOPLog";
    /// SDK build.
    pub const SDK_BUILD: &str = "SDKBuild";
    /// Firmware build string (answered specially by the firmware).
    pub const BUILD_VERSION: &str = "BuildVersion";
    /// Lock (relay) time in seconds used for normal verifications.
    pub const LOCK_ON: &str = "LockOn";
    /// Anti-passback mode.
    pub const ANTI_PASSBACK_ON: &str = "AntiPassbackOn";
    /// Device id (RS485 address).
    pub const DEVICE_ID: &str = "DeviceID";
    /// TCP port.
    pub const TCP_PORT: &str = "TCPPort";
    /// UDP port.
    pub const UDP_PORT: &str = "UDPPort";
    /// Fast network mode (the firmware reports value 2 as 8).
    pub const HI_SPEED_NET: &str = "HiSpeedNet";
    /// User capacity in hundreds.
    pub const MAX_USER_COUNT: &str = "~MaxUserCount";
    /// Attendance capacity in ten-thousands.
    pub const MAX_ATTLOG_COUNT: &str = "~MaxAttLogCount";
    /// Template capacity in hundreds.
    pub const MAX_FINGER_COUNT: &str = "~MaxFingerCount";
}

fn cut_at_nul(data: &[u8]) -> &[u8] {
    match data.iter().position(|&b| b == 0) {
        Some(end) => data.get(..end).unwrap_or(data),
        None => data,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Splits `"name=value"` at the first `=`.
fn split_pair<'a>(what: &'static str, s: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), RecordError> {
    let eq = s
        .iter()
        .position(|&b| b == b'=')
        .ok_or(RecordError::InvalidField {
            what,
            field: "'=' separator",
            offset: s.len(),
        })?;
    let (name, rest) = s.split_at(eq);
    let value = rest.get(1..).unwrap_or_default();
    if name.is_empty() {
        return Err(RecordError::InvalidField {
            what,
            field: "name",
            offset: 0,
        });
    }
    Ok((name, value))
}

/// `CMD_OPTIONS_RRQ` data: the name followed by a NUL.
///
/// ```
/// use zkproto::terminal::record::options::read_request;
/// assert_eq!(&read_request("~OS")[..], b"~OS\0");
/// ```
pub fn read_request(name: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(name.len() + 1);
    b.put_slice(name.as_bytes());
    b.put_u8(0);
    b.freeze()
}

/// `CMD_OPTIONS_WRQ` data: `name=value\0`.
///
/// Refuses an empty name, a name containing `=` or NUL, and a value
/// containing NUL ([`EncodeError::Unrepresentable`]).
///
/// ```
/// use zkproto::terminal::record::options::write_request;
/// assert_eq!(&write_request("AntiPassbackOn", "0").unwrap()[..], b"AntiPassbackOn=0\0");
/// assert!(write_request("a=b", "1").is_err());
/// assert!(write_request("a", "1\0").is_err());
/// ```
pub fn write_request(name: &str, value: &str) -> Result<Bytes, EncodeError> {
    if name.is_empty() {
        return Err(EncodeError::OutOfRange {
            field: "option name",
            reason: "must not be empty",
        });
    }
    if name.contains(['=', '\0']) {
        return Err(EncodeError::Unrepresentable {
            field: "option name",
            encoding: "option text",
        });
    }
    if value.contains('\0') {
        return Err(EncodeError::Unrepresentable {
            field: "option value",
            encoding: "option text",
        });
    }
    Ok(encode_reply(name, value))
}

/// Parses the `CMD_ACK_OK` data of an option read: returns `(name, value)`.
///
/// The data is cut at the first NUL; the name is the text before the first
/// `=`, the value everything after it (which may contain further `=`).
/// A reply without `=` or with an empty name is an error.
///
/// ```
/// use zkproto::terminal::record::options::parse_reply;
/// assert_eq!(parse_reply(b"WorkCode=0\0").unwrap(), ("WorkCode".into(), "0".into()));
/// assert_eq!(parse_reply(b"A=b=c\0junk").unwrap(), ("A".into(), "b=c".into()));
/// assert!(parse_reply(b"WorkCode\0").is_err());
/// ```
pub fn parse_reply(data: &[u8]) -> Result<(String, String), RecordError> {
    let (name, value) = split_pair("option reply", cut_at_nul(data))?;
    Ok((text(name), text(value)))
}

/// Device side: parses `CMD_OPTIONS_RRQ` data into the requested name (the
/// NUL is optional). An empty name is an error.
///
/// ```
/// use zkproto::terminal::record::options::parse_request;
/// assert_eq!(parse_request(b"~Platform\0").unwrap(), "~Platform");
/// assert_eq!(parse_request(b"MAC").unwrap(), "MAC");
/// assert!(parse_request(b"\0").is_err());
/// ```
pub fn parse_request(data: &[u8]) -> Result<String, RecordError> {
    let name = cut_at_nul(data);
    if name.is_empty() {
        return Err(RecordError::InvalidField {
            what: "option request",
            field: "name",
            offset: 0,
        });
    }
    Ok(text(name))
}

/// Device side: parses `CMD_OPTIONS_WRQ` data `name=value[\0]`.
///
/// ```
/// use zkproto::terminal::record::options::parse_write;
/// assert_eq!(parse_write(b"LockOn=5").unwrap(), ("LockOn".into(), "5".into()));
/// assert!(parse_write(b"LockOn\0").is_err());
/// ```
pub fn parse_write(data: &[u8]) -> Result<(String, String), RecordError> {
    let (name, value) = split_pair("option write", cut_at_nul(data))?;
    Ok((text(name), text(value)))
}

/// Device side: the `CMD_ACK_OK` data answering an option read,
/// `name=value\0` (the bytes are written as given).
///
/// ```
/// use zkproto::terminal::record::options::encode_reply;
/// assert_eq!(&encode_reply("WorkCode", "0")[..], b"WorkCode=0\0");
/// ```
pub fn encode_reply(name: &str, value: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(name.len() + value.len() + 2);
    b.put_slice(name.as_bytes());
    b.put_u8(b'=');
    b.put_slice(value.as_bytes());
    b.put_u8(0);
    b.freeze()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reply_errors_carry_position() {
        assert_eq!(
            parse_reply(b"abc\0=x"),
            Err(RecordError::InvalidField {
                what: "option reply",
                field: "'=' separator",
                offset: 3
            })
        );
        assert_eq!(
            parse_reply(b"=x\0"),
            Err(RecordError::InvalidField {
                what: "option reply",
                field: "name",
                offset: 0
            })
        );
        assert!(parse_reply(b"").is_err());
    }

    #[test]
    fn empty_value_is_allowed() {
        assert_eq!(
            parse_reply(b"~OEMVendor=\0").unwrap(),
            ("~OEMVendor".into(), String::new())
        );
    }

    #[test]
    fn lossy_text() {
        assert_eq!(parse_reply(b"N=\xff\0").unwrap().1, "\u{fffd}");
    }

    #[test]
    fn write_rejects_bad_names() {
        assert!(matches!(
            write_request("", "1"),
            Err(EncodeError::OutOfRange { .. })
        ));
        assert!(write_request("a\0b", "1").is_err());
    }

    proptest! {
        #[test]
        fn write_round_trip(name in "[~A-Za-z0-9_]{1,24}", value in "[^\0]{0,40}") {
            let w = write_request(&name, &value).unwrap();
            prop_assert_eq!(parse_write(&w).unwrap(), (name.clone(), value.clone()));
            prop_assert_eq!(parse_reply(&w).unwrap(), (name.clone(), value.clone()));
            prop_assert_eq!(&encode_reply(&name, &value)[..], &w[..]);
            let r = read_request(&name);
            prop_assert_eq!(parse_request(&r).unwrap(), name);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_reply(&data);
            let _ = parse_write(&data);
            let _ = parse_request(&data);
        }
    }
}
