//! UDP discovery and IP change by broadcast (reference §8).
//!
//! The probe is a `14` frame carrying `CallSecurityDevice`, broadcast to UDP
//! port 65535; panels answer by broadcast with a `C8` frame carrying
//! `MAC=…,IP=…,SN=…,Device=…,Ver=…` (some firmware adds `NetMask` and
//! `GATEIPAddress`). No session header is used.
//!
//! ```
//! use zkproto::panel::discovery::{self, DiscoveryReply};
//! assert_eq!(discovery::probe_frame().data.as_ref(), b"CallSecurityDevice");
//! let r = DiscoveryReply::parse(b"MAC=00:17:61:C8:EC:17,IP=192.168.1.201,SN=DGD9190019050335134,Device=C3-400,Ver=AC Ver 4.3.4 Apr 28 2017").unwrap();
//! assert_eq!(r.ip(), Some("192.168.1.201"));
//! assert_eq!(r.device(), Some("C3-400"));
//! ```

use super::command::Command;
use super::error::{DecodeError, EncodeError};
use super::frame::{DEFAULT_ADDRESS, Frame};
use super::params::ParamList;
use bytes::Bytes;

/// UDP port the probe is broadcast to.
pub const BROADCAST_PORT: u16 = 65535;
/// The probe text; panels answer only if the data equals it exactly.
pub const PROBE: &[u8] = b"CallSecurityDevice";

/// The discovery probe frame.
pub fn probe_frame() -> Frame {
    Frame::new(
        DEFAULT_ADDRESS,
        Command::Broadcast,
        Bytes::from_static(PROBE),
    )
}

/// True when a frame is a discovery probe (for a simulator).
pub fn is_probe(frame: &Frame) -> bool {
    frame.command == Command::Broadcast && frame.data.as_ref() == PROBE
}

/// A discovery reply: ordered `key=value` pairs with typed accessors.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscoveryReply {
    /// All pairs as received.
    pub fields: ParamList,
}

impl DiscoveryReply {
    /// Parses the reply data.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(DiscoveryReply {
            fields: ParamList::parse(data)?,
        })
    }

    /// Encodes the reply data (for a simulator).
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        self.fields.encode()
    }

    /// `MAC`.
    pub fn mac(&self) -> Option<&str> {
        self.fields.get("MAC")
    }
    /// `IP`.
    pub fn ip(&self) -> Option<&str> {
        self.fields.get("IP")
    }
    /// `NetMask`, when the firmware sends it.
    pub fn netmask(&self) -> Option<&str> {
        self.fields.get("NetMask")
    }
    /// `GATEIPAddress`, when the firmware sends it.
    pub fn gateway(&self) -> Option<&str> {
        self.fields.get("GATEIPAddress")
    }
    /// `SN`: serial number.
    pub fn serial_number(&self) -> Option<&str> {
        self.fields.get("SN")
    }
    /// `Device`: model name, e.g. `C3-400`.
    pub fn device(&self) -> Option<&str> {
        self.fields.get("Device")
    }
    /// `Ver`: firmware version.
    pub fn version(&self) -> Option<&str> {
        self.fields.get("Ver")
    }
}

/// A modify-IP request (`15`), broadcast to port 65535. The MAC must match
/// the panel's string exactly; refused (−14) when a communication password is set.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModifyIp {
    /// The panel's MAC, as reported by discovery.
    pub mac: String,
    /// New IP address.
    pub ip: String,
    /// New net mask, if it changes.
    pub netmask: Option<String>,
    /// New gateway, if it changes.
    pub gateway: Option<String>,
}

impl ModifyIp {
    /// The request data: `MAC=…,IPAddress=…[,NetMask=…][,GATEIPAddress=…]`.
    ///
    /// ```
    /// use zkproto::panel::discovery::ModifyIp;
    /// let m = ModifyIp { mac: "00:17:61:01:88:27".into(), ip: "192.168.12.156".into(), netmask: None, gateway: None };
    /// assert_eq!(&m.encode().unwrap()[..], b"MAC=00:17:61:01:88:27,IPAddress=192.168.12.156");
    /// ```
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let mut p = ParamList::new()
            .with("MAC", self.mac.clone())
            .with("IPAddress", self.ip.clone());
        if let Some(m) = &self.netmask {
            p.push("NetMask", m.clone());
        }
        if let Some(g) = &self.gateway {
            p.push("GATEIPAddress", g.clone());
        }
        p.encode()
    }

    /// The request frame.
    pub fn frame(&self) -> Result<Frame, EncodeError> {
        Ok(Frame::new(
            DEFAULT_ADDRESS,
            Command::BroadcastModifyIp,
            self.encode()?,
        ))
    }

    /// Decodes the request data (for a simulator); `MAC` and `IPAddress` are required.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let p = ParamList::parse(data)?;
        let need = |k: &'static str| {
            p.get(k).map(str::to_owned).ok_or(DecodeError::BadSyntax {
                what: "modify IP request",
                offset: 0,
                reason: k,
            })
        };
        Ok(ModifyIp {
            mac: need("MAC")?,
            ip: need("IPAddress")?,
            netmask: p.get("NetMask").map(str::to_owned),
            gateway: p.get("GATEIPAddress").map(str::to_owned),
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn probe_bytes() {
        let bytes = probe_frame().to_bytes().unwrap();
        assert_eq!(bytes.get(..5), Some(&[0xaa, 0x01, 0x14, 0x12, 0x00][..]));
        assert_eq!(bytes.get(bytes.len() - 3..), Some(&[0xee, 0xa9, 0x55][..]));
        assert!(is_probe(&Frame::decode(&bytes).unwrap()));
        assert!(!is_probe(&Frame::new(
            1,
            Command::Broadcast,
            &b"CallSecurityDevice\0"[..]
        )));
    }

    #[test]
    fn extended_reply_and_modify_round_trip() {
        let text =
            b"MAC=00:17:61:C8:EC:17,IP=10.0.0.2,NetMask=255.255.255.0,GATEIPAddress=10.0.0.1,SN=X";
        let r = DiscoveryReply::parse(text).unwrap();
        assert_eq!(
            (r.netmask(), r.gateway(), r.version()),
            (Some("255.255.255.0"), Some("10.0.0.1"), None)
        );
        assert_eq!(&r.encode().unwrap()[..], text);
        let m = ModifyIp {
            mac: "a".into(),
            ip: "b".into(),
            netmask: Some("c".into()),
            gateway: Some("d".into()),
        };
        assert_eq!(ModifyIp::parse(&m.encode().unwrap()), Ok(m));
        assert!(ModifyIp::parse(b"MAC=a").is_err());
    }
}
