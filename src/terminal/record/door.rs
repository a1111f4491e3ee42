//! Door lock: the `CMD_UNLOCK` (31) request and the `CMD_DOORSTATE_RRQ` (75)
//! reply (reference §8.1, §8.2).
//!
//! Both are firmware-dependent:
//!
//! * the unlock duration is a u32 whose unit is seconds on some firmware and
//!   tenths of a second on others (pyzk sends tenths); ZEM200 firmware reads
//!   only the first byte, so values above 255 may be truncated by the device.
//!   [`UnlockUnit`] makes the unit a choice, defaulting to pyzk's tenths.
//! * the door-state byte is `1` = open on TFT devices ([`DoorPolarity::OneIsOpen`])
//!   but a GPIO bit field whose bit 0 is `0` when open on ZEM200 GPIO
//!   hardware ([`DoorPolarity::ZeroIsOpen`]); `0xFF` means the MCU firmware
//!   is too old to report.
//!
//! ```
//! use std::time::Duration;
//! use zkproto::terminal::record::door::{DoorPolarity, DoorState, DoorStatus, UnlockUnit, unlock_request};
//! let raw = UnlockUnit::default().raw_value(Duration::from_secs(3)).unwrap();
//! assert_eq!(&unlock_request(raw)[..], [0x1e, 0, 0, 0]);
//! let state = DoorState::parse(&[1]).unwrap();
//! assert_eq!(state.status(DoorPolarity::OneIsOpen), DoorStatus::Open);
//! assert_eq!(state.status(DoorPolarity::ZeroIsOpen), DoorStatus::Closed);
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use bytes::Bytes;
use std::time::Duration;

/// The raw `CMD_DOORSTATE_RRQ` reply byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DoorState {
    /// The byte as received.
    pub raw: u8,
}

/// How bit 0 of the door-state byte maps to "open".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DoorPolarity {
    /// 1 = open, 0 = closed (TFT devices, \[ZKP\] captures of an F19).
    #[default]
    OneIsOpen,
    /// 0 = open, 1 = closed (ZEM200 GPIO variant: `sensor − DOOR_SENSOR_OPEN`).
    ZeroIsOpen,
}

/// Interpreted door state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum DoorStatus {
    /// The door sensor reports open.
    Open,
    /// The door sensor reports closed.
    Closed,
    /// The device cannot tell (`0xFF`: MCU firmware older than v11).
    Unknown,
}

/// The bit-field view of the state byte on ZEM200 GPIO hardware (§8.2).
///
/// Firmware-dependent: devices that answer a plain 0/1 leave bits 1–4 zero,
/// and other hardware may use the bits differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GpioBits {
    /// Bit 0: the door-sensor bit (meaning depends on [`DoorPolarity`]).
    pub door_sensor: bool,
    /// Bit 1: exit button pressed.
    pub exit_button: bool,
    /// Bit 2: alarm output on.
    pub alarm: bool,
    /// Bit 3: tamper ("alarm strip").
    pub tamper: bool,
    /// Bit 4: lock relay on.
    pub lock_relay: bool,
}

impl DoorState {
    /// The value ZEM200 MCU firmware older than v11 answers.
    pub const UNKNOWN: u8 = 0xFF;

    /// Parses the reply data: exactly one byte.
    ///
    /// ```
    /// use zkproto::terminal::record::door::DoorState;
    /// assert_eq!(DoorState::parse(&[0]).unwrap().raw, 0);
    /// assert!(DoorState::parse(&[]).is_err());
    /// assert!(DoorState::parse(&[0, 0]).is_err());
    /// ```
    pub fn parse(data: &[u8]) -> Result<DoorState, RecordError> {
        match data {
            [raw] => Ok(DoorState { raw: *raw }),
            [] => Err(RecordError::Truncated {
                what: "door state",
                offset: 0,
                need: 1,
                got: 0,
            }),
            [_, rest @ ..] => Err(RecordError::TrailingBytes {
                what: "door state",
                extra: rest.len(),
            }),
        }
    }

    /// Encodes the reply data (one byte).
    pub fn encode(&self) -> Bytes {
        Bytes::copy_from_slice(&[self.raw])
    }

    /// The byte a device with this polarity reports for `open`.
    ///
    /// ```
    /// use zkproto::terminal::record::door::{DoorPolarity, DoorState, DoorStatus};
    /// let s = DoorState::from_status(true, DoorPolarity::ZeroIsOpen);
    /// assert_eq!(s.raw, 0);
    /// assert_eq!(s.status(DoorPolarity::ZeroIsOpen), DoorStatus::Open);
    /// ```
    pub fn from_status(open: bool, polarity: DoorPolarity) -> DoorState {
        let one = match polarity {
            DoorPolarity::OneIsOpen => open,
            DoorPolarity::ZeroIsOpen => !open,
        };
        DoorState { raw: u8::from(one) }
    }

    /// Interprets bit 0 with the given polarity; `0xFF` is
    /// [`DoorStatus::Unknown`].
    ///
    /// ```
    /// use zkproto::terminal::record::door::{DoorPolarity, DoorState, DoorStatus};
    /// assert_eq!(DoorState { raw: 0xFF }.status(DoorPolarity::OneIsOpen), DoorStatus::Unknown);
    /// assert_eq!(DoorState { raw: 0 }.status(DoorPolarity::OneIsOpen), DoorStatus::Closed);
    /// ```
    pub fn status(&self, polarity: DoorPolarity) -> DoorStatus {
        if self.raw == Self::UNKNOWN {
            return DoorStatus::Unknown;
        }
        let bit = self.raw & 1 == 1;
        match (polarity, bit) {
            (DoorPolarity::OneIsOpen, true) | (DoorPolarity::ZeroIsOpen, false) => DoorStatus::Open,
            _ => DoorStatus::Closed,
        }
    }

    /// The GPIO bit-field view (firmware-dependent, see [`GpioBits`]).
    ///
    /// ```
    /// use zkproto::terminal::record::door::DoorState;
    /// let b = DoorState { raw: 0b1_0110 }.bits();
    /// assert!(!b.door_sensor && b.exit_button && b.alarm && !b.tamper && b.lock_relay);
    /// ```
    pub fn bits(&self) -> GpioBits {
        let bit = |n: u8| self.raw & (1 << n) != 0;
        GpioBits {
            door_sensor: bit(0),
            exit_button: bit(1),
            alarm: bit(2),
            tamper: bit(3),
            lock_relay: bit(4),
        }
    }
}

/// Unit of the `CMD_UNLOCK` duration (firmware-dependent, §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UnlockUnit {
    /// Whole seconds (\[ZKP\], ZEM200 MCU firmware).
    Seconds,
    /// Tenths of a second (pyzk: `seconds × 10`).
    #[default]
    Tenths,
}

impl UnlockUnit {
    fn millis(self) -> u128 {
        match self {
            UnlockUnit::Seconds => 1000,
            UnlockUnit::Tenths => 100,
        }
    }

    /// Converts a duration to the raw request value, rounding to the
    /// nearest unit. Fails when the value does not fit in a u32.
    ///
    /// Values above 255 are legal on the wire but firmware that reads only
    /// the first byte truncates them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zkproto::terminal::record::door::UnlockUnit;
    /// assert_eq!(UnlockUnit::Seconds.raw_value(Duration::from_millis(2600)).unwrap(), 3);
    /// assert_eq!(UnlockUnit::Tenths.raw_value(Duration::from_millis(2540)).unwrap(), 25);
    /// assert!(UnlockUnit::Tenths.raw_value(Duration::from_secs(u64::MAX)).is_err());
    /// ```
    pub fn raw_value(self, duration: Duration) -> Result<u32, EncodeError> {
        let unit = self.millis();
        let units = (duration.as_millis() + unit / 2) / unit;
        u32::try_from(units).map_err(|_| EncodeError::OutOfRange {
            field: "unlock duration",
            reason: "does not fit in a u32",
        })
    }

    /// The duration a raw request value stands for in this unit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zkproto::terminal::record::door::UnlockUnit;
    /// assert_eq!(UnlockUnit::Tenths.duration(30), Duration::from_secs(3));
    /// assert_eq!(UnlockUnit::Seconds.duration(5), Duration::from_secs(5));
    /// ```
    pub fn duration(self, raw: u32) -> Duration {
        match self {
            UnlockUnit::Seconds => Duration::from_secs(u64::from(raw)),
            UnlockUnit::Tenths => Duration::from_millis(u64::from(raw) * 100),
        }
    }
}

/// `CMD_UNLOCK` data: the raw duration as u32 LE.
///
/// ```
/// use zkproto::terminal::record::door::unlock_request;
/// assert_eq!(&unlock_request(0x0102)[..], [2, 1, 0, 0]);
/// ```
pub fn unlock_request(raw: u32) -> Bytes {
    Bytes::copy_from_slice(&raw.to_le_bytes())
}

/// Device side: reads `CMD_UNLOCK` data. Clients send 4 bytes; ZEM200
/// firmware only looks at the first ones, so 1 to 4 bytes are accepted and
/// zero-extended (little-endian).
///
/// ```
/// use zkproto::terminal::record::door::parse_unlock_request;
/// assert_eq!(parse_unlock_request(&[0x1e, 0, 0, 0]).unwrap(), 30);
/// assert_eq!(parse_unlock_request(&[5]).unwrap(), 5);
/// assert!(parse_unlock_request(&[]).is_err());
/// assert!(parse_unlock_request(&[0; 5]).is_err());
/// ```
pub fn parse_unlock_request(data: &[u8]) -> Result<u32, RecordError> {
    if data.is_empty() {
        return Err(RecordError::Truncated {
            what: "unlock request",
            offset: 0,
            need: 4,
            got: 0,
        });
    }
    if data.len() > 4 {
        return Err(RecordError::TrailingBytes {
            what: "unlock request",
            extra: data.len() - 4,
        });
    }
    let mut w = [0u8; 4];
    for (dst, src) in w.iter_mut().zip(data) {
        *dst = *src;
    }
    Ok(u32::from_le_bytes(w))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pyzk_unlock_three_seconds() {
        // pyzk `unlock(time=3)` sends `1e 00 00 00` (§8.1).
        let raw = UnlockUnit::Tenths
            .raw_value(Duration::from_secs(3))
            .unwrap();
        assert_eq!(&unlock_request(raw)[..], [0x1e, 0, 0, 0]);
        assert_eq!(
            UnlockUnit::Seconds
                .raw_value(Duration::from_secs(3))
                .unwrap(),
            3
        );
    }

    #[test]
    fn polarity_is_opposite() {
        for raw in 0..=0xFEu8 {
            let s = DoorState { raw };
            assert_ne!(
                s.status(DoorPolarity::OneIsOpen),
                s.status(DoorPolarity::ZeroIsOpen)
            );
            assert_ne!(s.status(DoorPolarity::OneIsOpen), DoorStatus::Unknown);
        }
        assert_eq!(
            DoorState { raw: 0xFF }.status(DoorPolarity::ZeroIsOpen),
            DoorStatus::Unknown
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            DoorState::parse(&[1, 2, 3]),
            Err(RecordError::TrailingBytes {
                what: "door state",
                extra: 2
            })
        );
    }

    proptest! {
        #[test]
        fn state_round_trip(raw in any::<u8>()) {
            let s = DoorState::parse(&[raw]).unwrap();
            prop_assert_eq!(&s.encode()[..], &[raw][..]);
            prop_assert_eq!(DoorState::parse(&s.encode()).unwrap(), s);
        }

        #[test]
        fn from_status_round_trip(open in any::<bool>(), zero in any::<bool>()) {
            let p = if zero { DoorPolarity::ZeroIsOpen } else { DoorPolarity::OneIsOpen };
            let want = if open { DoorStatus::Open } else { DoorStatus::Closed };
            prop_assert_eq!(DoorState::from_status(open, p).status(p), want);
        }

        #[test]
        fn unlock_round_trip(raw in any::<u32>(), secs in any::<bool>()) {
            let unit = if secs { UnlockUnit::Seconds } else { UnlockUnit::Tenths };
            prop_assert_eq!(unit.raw_value(unit.duration(raw)).unwrap(), raw);
            prop_assert_eq!(parse_unlock_request(&unlock_request(raw)).unwrap(), raw);
        }
    }
}
