//! Realtime event payloads as the simulated firmware sends them
//! (reference §7.2, §7.4, §8.3).
//!
//! Door-sensor codes other than "door closed" are not documented by any
//! source; the simulator uses the firmware's internal door codes
//! (`DOOR_SENSOR_BREAK` 1 = forced open, `DOOR_SENSOR_OPEN` 4) in the
//! 8-byte alarm form, next to the documented 54 for "door closed".

use crate::terminal::command::{Command, EventFlag};
use crate::terminal::packet::Packet;
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::time::DeviceTime;
use crate::terminal::sim::config::AttLogEventFormat;
use bytes::{BufMut, Bytes, BytesMut};

/// `EF_ALARM` cause byte: tamper ("anti-dismantle").
pub const ALARM_TAMPER: u8 = 0x37;
/// `EF_ALARM` cause byte: exit button ("release button").
pub const ALARM_EXIT_BUTTON: u8 = 0x35;
/// `EF_ALARM` 8-byte form: door closed (54).
pub const ALARM_DOOR_CLOSED: u8 = 54;
/// `EF_ALARM` 8-byte form: door opened normally (firmware `DOOR_SENSOR_OPEN`).
pub const ALARM_DOOR_OPEN: u8 = 4;
/// `EF_ALARM` 8-byte form: door forced open (firmware `DOOR_SENSOR_BREAK`).
pub const ALARM_DOOR_FORCED: u8 = 1;

/// An event packet: code 500, flag in the session slot, reply id 0.
pub(crate) fn packet(flag: EventFlag, data: Bytes) -> Packet {
    Packet::new(Command::RegEvent, flag.value(), 0, data)
}

/// `EF_ATTLOG` data in `format`.
pub(crate) fn attlog(
    format: AttLogEventFormat,
    uid: u16,
    user_id: &str,
    verify: u8,
    state: u8,
    time: DeviceTime,
    enc: TextEncoding,
) -> Bytes {
    let t = time.to_event_bytes().unwrap_or([0; 6]);
    let mut b = BytesMut::with_capacity(format.len());
    match format {
        AttLogEventFormat::Uid10 => b.put_u16_le(uid),
        AttLogEventFormat::UserId12 => b.put_u32_le(user_id.parse().unwrap_or(u32::from(uid))),
        AttLogEventFormat::Text32 | AttLogEventFormat::Text36 => {
            let mut id = enc
                .encode(user_id, "user_id", 24, Overflow::Truncate)
                .unwrap_or_default();
            id.resize(24, 0);
            b.put_slice(&id);
        }
    }
    b.put_u8(verify);
    b.put_u8(state);
    b.put_slice(&t);
    if format == AttLogEventFormat::Text36 {
        b.put_u32_le(0);
    }
    b.freeze()
}

/// `EF_VERIFY` data: `u32 uid` + `01`.
pub(crate) fn verify(uid: u16) -> Bytes {
    let mut b = BytesMut::with_capacity(5);
    b.put_u32_le(u32::from(uid));
    b.put_u8(1);
    b.freeze()
}

/// Short (4-byte) `EF_ALARM` data.
pub(crate) fn alarm4(cause: u8) -> Bytes {
    Bytes::copy_from_slice(&[cause, 0, 0, 0])
}

/// 8-byte `EF_ALARM` data (door sensor).
pub(crate) fn alarm8(code: u8) -> Bytes {
    Bytes::copy_from_slice(&[code, 0, 0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attlog_matches_reference_capture() {
        // §11.A realtime.md line 125: user "999111333", verify 1, state 0, 2018-06-25 17:41:05.
        let d = attlog(
            AttLogEventFormat::Text32,
            13,
            "999111333",
            1,
            0,
            DeviceTime::new(2018, 6, 25, 17, 41, 5),
            TextEncoding::Utf8,
        );
        let frame = crate::terminal::frame::tcp_frame(&packet(EventFlag::AttLog, d));
        let hex = crate::terminal::packet::hex(&frame);
        assert_eq!(
            hex,
            "5050827d28000000f401ac12010000003939393131313333330000000000000000000000000000000100120619112905"
        );
    }

    #[test]
    fn attlog_12_bytes() {
        let d = attlog(
            AttLogEventFormat::UserId12,
            1,
            "4822257",
            0,
            0,
            DeviceTime::new(2018, 12, 7, 19, 9, 6),
            TextEncoding::Utf8,
        );
        assert_eq!(
            &d[..],
            [
                0xf1, 0x94, 0x49, 0, 0, 0, 0x12, 0x0c, 0x07, 0x13, 0x09, 0x06
            ]
        );
    }
}
