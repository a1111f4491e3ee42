//! Realtime events (reference §7): packets with code `CMD_REG_EVENT` (500)
//! sent by the device, the event flag in the session-id slot, and a payload
//! whose layout depends on the flag, the firmware and the data length
//! (§7.4).
//!
//! Decoding never fails: a flag this crate does not model, or a payload of a
//! length no source documents, becomes [`Event::Other`] with the bytes. Every
//! decoded value remembers its layout, so [`Event::encode_data`] reproduces
//! the received bytes (text user ids are re-encoded NUL-padded, which is the
//! form devices send).
//!
//! ```
//! use zkproto::terminal::record::event::{Event, AttendanceEvent};
//! use zkproto::terminal::record::DeviceTime;
//! let data = [0xf1, 0x94, 0x49, 0x00, 0x00, 0x00, 0x12, 0x0c, 0x07, 0x13, 0x09, 0x06];
//! let ev = Event::parse(0x0001, &data);
//! let Event::Attendance(a) = &ev else { panic!("not an attendance event") };
//! assert_eq!(a.user_id, "4822257");
//! assert_eq!(a.time, DeviceTime::new(2018, 12, 7, 19, 9, 6));
//! assert_eq!(&ev.encode_data().unwrap()[..], &data[..]);
//! ```

use crate::terminal::command::{Command, EventFlag, ReplyCode};
use crate::terminal::error::EncodeError;
use crate::terminal::packet::Packet;
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::time::DeviceTime;
use bytes::{BufMut, Bytes, BytesMut};

#[cfg(feature = "serde")]
mod serde_bytes_field {
    use bytes::Bytes;

    pub fn serialize<S: serde::Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(b.as_ref(), s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let v: Vec<u8> = serde::Deserialize::deserialize(d)?;
        Ok(Bytes::from(v))
    }
}

/// Width of the text user-id field in the 32-byte attendance layout.
const TEXT_ID_LEN: usize = 24;

/// User id of an `EF_VERIFY` event when nobody was identified.
pub const NOT_IDENTIFIED: u32 = 0xFFFF_FFFF;

/// An `EF_ATTLOG` payload (§7.4).
///
/// `layout_len` is the length of the base layout and `extra` the bytes
/// after it; the data length is `layout_len + extra.len()`:
///
/// | `layout_len` | base layout | `extra` | data length | seen on |
/// |---|---|---|---|---|
/// | 10 | `u16 uid, u8 verify, u8 state, time[6]` | 0 or 4 bytes | 10, 14 | ZEM560 (10), ZEM300 (14) |
/// | 12 | `u32 user_id, u8 verify, u8 state, time[6]` | none | 12 | firmware with `~PIN2Width` > 5 |
/// | 32 | `char user_id[24], u8 verify, u8 state, time[6]` | 0, 4, 5 or ≥ 20 bytes | 32, 36, 37, ≥ 52 | TFT firmware |
///
/// The 4 extra bytes of the 36-byte form are probably a work code. For 52
/// bytes and more, pyzk reads 20 extra bytes and then starts over on the
/// rest; this crate keeps everything after byte 32 in `extra`.
///
/// In the 10-byte layout, \[MAN\] says the high nibble of `state` is a valid
/// flag and firmware sets bit 7 for invalid punches; the byte is kept as
/// received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AttendanceEvent {
    /// The user id: the text id (32-byte layout), the numeric id (12-byte
    /// layout) or the uid in decimal (10-byte layout).
    pub user_id: String,
    /// The internal uid (10-byte layout only).
    pub uid: Option<u16>,
    /// Verification method (0 password, 1 fingerprint, 2 card, 15 face, …).
    pub verify: u8,
    /// Attendance state (0 check-in, 1 check-out, …).
    pub state: u8,
    /// Time of the punch.
    pub time: DeviceTime,
    /// Bytes after the base layout.
    #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
    pub extra: Bytes,
    /// Length of the base layout: 10, 12 or 32.
    pub layout_len: usize,
}

impl AttendanceEvent {
    /// A 32-byte event with a text user id (TFT firmware).
    ///
    /// ```
    /// use zkproto::terminal::record::event::{AttendanceEvent, Event};
    /// use zkproto::terminal::record::DeviceTime;
    /// let a = AttendanceEvent::new("999111333", 1, 0, DeviceTime::new(2018, 6, 25, 17, 41, 5));
    /// let data = Event::Attendance(a).encode_data().unwrap();
    /// assert_eq!(data.len(), 32);
    /// assert_eq!(&data[24..], [1, 0, 18, 6, 25, 17, 41, 5]);
    /// ```
    pub fn new(user_id: impl Into<String>, verify: u8, state: u8, time: DeviceTime) -> Self {
        AttendanceEvent {
            user_id: user_id.into(),
            uid: None,
            verify,
            state,
            time,
            extra: Bytes::new(),
            layout_len: 32,
        }
    }

    /// A 10-byte event carrying the internal uid (older firmware).
    pub fn with_uid(uid: u16, verify: u8, state: u8, time: DeviceTime) -> Self {
        AttendanceEvent {
            user_id: uid.to_string(),
            uid: Some(uid),
            verify,
            state,
            time,
            extra: Bytes::new(),
            layout_len: 10,
        }
    }

    /// A 12-byte event carrying a numeric user id.
    pub fn numeric(user_id: u32, verify: u8, state: u8, time: DeviceTime) -> Self {
        AttendanceEvent {
            user_id: user_id.to_string(),
            uid: None,
            verify,
            state,
            time,
            extra: Bytes::new(),
            layout_len: 12,
        }
    }

    /// Whether `(layout_len, extra.len())` is one of the documented forms.
    fn form_is_known(layout_len: usize, extra: usize) -> bool {
        matches!(
            (layout_len, extra),
            (10, 0 | 4) | (12, 0) | (32, 0 | 4 | 5) | (32, 20..)
        )
    }

    fn parse(data: &[u8], enc: TextEncoding) -> Option<Self> {
        let layout_len = match data.len() {
            10 | 14 => 10,
            12 => 12,
            32 | 36 | 37 => 32,
            n if n >= 52 => 32,
            _ => return None,
        };
        let (base, extra) = data.split_at_checked(layout_len)?;
        let (id, tail) = base.split_at_checked(layout_len - 8)?;
        let [verify, state, y, mo, d, h, mi, s] = *tail.first_chunk::<8>()?;
        let time = DeviceTime::from_event_bytes([y, mo, d, h, mi, s]);
        let (user_id, uid) = match *id {
            [a, b] => {
                let uid = u16::from_le_bytes([a, b]);
                (uid.to_string(), Some(uid))
            }
            [a, b, c, d] => (u32::from_le_bytes([a, b, c, d]).to_string(), None),
            _ => (enc.decode(id), None),
        };
        Some(AttendanceEvent {
            user_id,
            uid,
            verify,
            state,
            time,
            extra: Bytes::copy_from_slice(extra),
            layout_len,
        })
    }

    fn encode(&self, enc: TextEncoding, out: &mut BytesMut) -> Result<(), EncodeError> {
        if !Self::form_is_known(self.layout_len, self.extra.len()) {
            return Err(EncodeError::OutOfRange {
                field: "attendance event layout",
                reason: "layout_len/extra must be 10+0|4, 12+0 or 32+0|4|5|>=20",
            });
        }
        let time = self.time.to_event_bytes()?;
        match self.layout_len {
            10 => {
                let uid = match self.uid {
                    Some(u) => u,
                    None => self
                        .user_id
                        .parse::<u16>()
                        .map_err(|_| EncodeError::OutOfRange {
                            field: "user_id",
                            reason: "the 10-byte layout needs a uid of 0-65535",
                        })?,
                };
                out.put_u16_le(uid);
            }
            12 => {
                let id = self
                    .user_id
                    .parse::<u32>()
                    .map_err(|_| EncodeError::OutOfRange {
                        field: "user_id",
                        reason: "the 12-byte layout needs a numeric user id",
                    })?;
                out.put_u32_le(id);
            }
            _ => {
                let id: [u8; TEXT_ID_LEN] =
                    enc.encode_padded(&self.user_id, "user_id", Overflow::Error)?;
                out.put_slice(&id);
            }
        }
        out.put_u8(self.verify);
        out.put_u8(self.state);
        out.put_slice(&time);
        out.put_slice(&self.extra);
        Ok(())
    }
}

/// An `EF_ALARM` payload (§7.4), by data length.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Alarm {
    /// Tamper / "anti-dismantle": 4 bytes `37 00 00 00`.
    Tamper,
    /// Exit ("release") button: 4 bytes `35 00 00 00`.
    ExitButton,
    /// Misoperation: 4 bytes `3a 00 00 00`.
    Misoperation,
    /// Door closed: 8 bytes, `code` then seven zeros. \[MAN\] gives 54
    /// (`0x36`), \[ZKP\] writes `0x54`; both are accepted and `code` keeps
    /// which one was received.
    DoorClosed {
        /// 54 or 0x54.
        code: u8,
    },
    /// Duress: 12 bytes `ff ff ff ff, u16 0x20, u16 uid, u32 verify`.
    Duress {
        /// Internal uid of the user.
        uid: u16,
        /// Verification method.
        verify: u32,
    },
    /// Anti-passback: 12 bytes `ff ff ff ff, u16 0x22, u16 uid, u32 verify`.
    AntiPassback {
        /// Internal uid of the user.
        uid: u16,
        /// Verification method.
        verify: u32,
    },
    /// Any other 4-, 8- or 12-byte alarm. `code` is the alarm type of a
    /// 12-byte `ff ff ff ff` form, otherwise the first four bytes as u32 LE
    /// (how pyzatt reads it); `raw` is the whole payload and is what
    /// [`Event::encode_data`] writes.
    Other {
        /// The alarm code.
        code: u32,
        /// The whole payload.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        raw: Bytes,
    },
}

impl Alarm {
    /// Door-closed code according to \[MAN\] (decimal 54).
    pub const DOOR_CLOSED: u8 = 54;
    /// Door-closed code according to \[ZKP\] (`0x54`).
    pub const DOOR_CLOSED_ALT: u8 = 0x54;
    const TAMPER: u32 = 0x37;
    const EXIT_BUTTON: u32 = 0x35;
    const MISOPERATION: u32 = 0x3A;
    const DURESS: u16 = 0x20;
    const ANTI_PASSBACK: u16 = 0x22;

    /// The door-closed alarm in the \[MAN\] form (code 54).
    pub const fn door_closed() -> Self {
        Alarm::DoorClosed {
            code: Self::DOOR_CLOSED,
        }
    }

    fn parse(data: &[u8]) -> Option<Alarm> {
        let word = |i: usize| -> Option<u32> {
            let b = data.get(i..i + 4)?.first_chunk::<4>()?;
            Some(u32::from_le_bytes(*b))
        };
        let other = |code: u32| Alarm::Other {
            code,
            raw: Bytes::copy_from_slice(data),
        };
        let first = word(0)?;
        Some(match data.len() {
            4 => match first {
                Self::TAMPER => Alarm::Tamper,
                Self::EXIT_BUTTON => Alarm::ExitButton,
                Self::MISOPERATION => Alarm::Misoperation,
                c => other(c),
            },
            8 => match (first, word(4)?) {
                (c, 0)
                    if c == u32::from(Self::DOOR_CLOSED)
                        || c == u32::from(Self::DOOR_CLOSED_ALT) =>
                {
                    Alarm::DoorClosed {
                        code: u8::try_from(c).unwrap_or(Self::DOOR_CLOSED),
                    }
                }
                (c, _) => other(c),
            },
            12 if first == 0xFFFF_FFFF => {
                let w = word(4)?;
                let kind = (w & 0xFFFF) as u16;
                let uid = (w >> 16) as u16;
                let verify = word(8)?;
                match kind {
                    Self::DURESS => Alarm::Duress { uid, verify },
                    Self::ANTI_PASSBACK => Alarm::AntiPassback { uid, verify },
                    k => other(u32::from(k)),
                }
            }
            12 => other(first),
            _ => return None,
        })
    }

    fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Alarm::Tamper => out.put_u32_le(Self::TAMPER),
            Alarm::ExitButton => out.put_u32_le(Self::EXIT_BUTTON),
            Alarm::Misoperation => out.put_u32_le(Self::MISOPERATION),
            Alarm::DoorClosed { code } => {
                if *code != Self::DOOR_CLOSED && *code != Self::DOOR_CLOSED_ALT {
                    return Err(EncodeError::OutOfRange {
                        field: "door-closed code",
                        reason: "must be 54 or 0x54",
                    });
                }
                out.put_u32_le(u32::from(*code));
                out.put_u32_le(0);
            }
            Alarm::Duress { uid, verify } | Alarm::AntiPassback { uid, verify } => {
                let kind = if matches!(self, Alarm::Duress { .. }) {
                    Self::DURESS
                } else {
                    Self::ANTI_PASSBACK
                };
                out.put_u32_le(0xFFFF_FFFF);
                out.put_u16_le(kind);
                out.put_u16_le(*uid);
                out.put_u32_le(*verify);
            }
            Alarm::Other { raw, .. } => out.put_slice(raw),
        }
        Ok(())
    }
}

/// A decoded realtime event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Event {
    /// `EF_ATTLOG`: an attendance record was created.
    Attendance(AttendanceEvent),
    /// `EF_FINGER`: a finger was placed on the sensor (no data).
    Finger,
    /// `EF_FPFTR`: quality of the fingerprint sample (1 byte; 100 good, 0 bad).
    FpFtr {
        /// The score.
        score: u8,
    },
    /// `EF_VERIFY`: `u32 user` ([`NOT_IDENTIFIED`] when nobody matched) and
    /// whatever follows (`01` in \[ZKP\]).
    Verify {
        /// Internal uid or numeric user id of the verified user.
        user: u32,
        /// Bytes after the u32.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        extra: Bytes,
    },
    /// `EF_ENROLLFINGER`: result of an enrolment (§7.4, §7.5).
    ///
    /// `raw` is the whole payload and is what [`Event::encode_data`] writes;
    /// the other fields are decoded from it:
    ///
    /// * 2 bytes, or a non-zero result: `u16 result` only;
    /// * 8 bytes with result 0 (enrolment from the device menu):
    ///   `u16 0, u16 template_size, u16 uid, u8 finger, u8 valid` —
    ///   `user_id` is `None` (the uid is `raw[4..6]`);
    /// * otherwise, result 0 and at least 6 bytes (online enrolment):
    ///   `u16 0, u16 template_size, char user_id[PIN2Width], u8 finger`.
    EnrollFinger {
        /// 0 = success, else an `ERR_*` code (4 fail, 5 duplicate, 6 cancel).
        result: u16,
        /// Size of the new template.
        template_size: Option<u16>,
        /// User id (online enrolment).
        user_id: Option<String>,
        /// Finger index 0–9.
        finger: Option<u8>,
        /// The whole payload.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        raw: Bytes,
    },
    /// `EF_ENROLLUSER`: a user was enrolled; 2-byte uid (\[MAN\]) or the
    /// 72-byte user record (TFT firmware). Both start with the u16 uid.
    EnrollUser {
        /// The whole payload.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        raw: Bytes,
    },
    /// `EF_BUTTON`: key code (4 bytes).
    Button {
        /// The key code.
        key: u32,
    },
    /// `EF_UNLOCK`: the door was unlocked (payload undocumented).
    Unlock {
        /// The whole payload.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        raw: Bytes,
    },
    /// `EF_HIDNUM`: an RF card was read (5-byte card number, byte order
    /// undocumented; [`Event::hid_card_le`] reads it little-endian).
    HidNum {
        /// The card number bytes as received.
        card: [u8; 5],
    },
    /// `EF_ALARM`.
    Alarm(Alarm),
    /// Any other flag, or a payload length no source documents for the flag.
    Other {
        /// The event flag.
        flag: u16,
        /// The payload.
        #[cfg_attr(feature = "serde", serde(with = "serde_bytes_field"))]
        data: Bytes,
    },
}

fn u16_at(data: &[u8], i: usize) -> Option<u16> {
    let b = data.get(i..)?.first_chunk::<2>()?;
    Some(u16::from_le_bytes(*b))
}

impl Event {
    /// Decodes a payload with UTF-8 user ids. Never fails.
    pub fn parse(flag: u16, data: &[u8]) -> Event {
        Self::parse_with(flag, data, TextEncoding::Utf8)
    }

    /// Decodes a payload, reading text user ids with `enc`. Never fails.
    ///
    /// ```
    /// use zkproto::terminal::record::event::{Alarm, Event};
    /// assert_eq!(Event::parse(0x0100, &[100]), Event::FpFtr { score: 100 });
    /// assert_eq!(Event::parse(0x0200, &[0x37, 0, 0, 0]), Event::Alarm(Alarm::Tamper));
    /// // An undocumented length falls back to `Other`.
    /// assert!(matches!(Event::parse(0x0001, &[0; 11]), Event::Other { flag: 1, .. }));
    /// ```
    pub fn parse_with(flag: u16, data: &[u8], enc: TextEncoding) -> Event {
        Self::try_parse(flag, data, enc).unwrap_or_else(|| Event::Other {
            flag,
            data: Bytes::copy_from_slice(data),
        })
    }

    fn try_parse(flag: u16, data: &[u8], enc: TextEncoding) -> Option<Event> {
        Some(match EventFlag::from(flag) {
            EventFlag::AttLog => Event::Attendance(AttendanceEvent::parse(data, enc)?),
            EventFlag::Finger if data.is_empty() => Event::Finger,
            EventFlag::FpFtr => match data {
                [score] => Event::FpFtr { score: *score },
                _ => return None,
            },
            EventFlag::Verify => {
                let (user, extra) = data.split_first_chunk::<4>()?;
                Event::Verify {
                    user: u32::from_le_bytes(*user),
                    extra: Bytes::copy_from_slice(extra),
                }
            }
            EventFlag::EnrollFinger => {
                let result = u16_at(data, 0)?;
                let raw = Bytes::copy_from_slice(data);
                let (mut template_size, mut user_id, mut finger) = (None, None, None);
                if result == 0 && data.len() == 8 {
                    template_size = u16_at(data, 2);
                    finger = data.get(6).copied();
                } else if result == 0 && data.len() >= 6 {
                    template_size = u16_at(data, 2);
                    let (last, body) = data.split_last()?;
                    user_id = Some(enc.decode(body.get(4..)?));
                    finger = Some(*last);
                }
                Event::EnrollFinger {
                    result,
                    template_size,
                    user_id,
                    finger,
                    raw,
                }
            }
            EventFlag::EnrollUser => Event::EnrollUser {
                raw: Bytes::copy_from_slice(data),
            },
            EventFlag::Button => Event::Button {
                key: u32::from_le_bytes(*data.first_chunk::<4>().filter(|_| data.len() == 4)?),
            },
            EventFlag::Unlock => Event::Unlock {
                raw: Bytes::copy_from_slice(data),
            },
            EventFlag::HidNum => Event::HidNum {
                card: *data.first_chunk::<5>().filter(|_| data.len() == 5)?,
            },
            EventFlag::Alarm => Event::Alarm(Alarm::parse(data)?),
            _ => return None,
        })
    }

    /// Decodes an event packet; `None` when the packet is not an event.
    ///
    /// ```
    /// use zkproto::terminal::record::event::{Event, event_packet};
    /// use zkproto::terminal::record::TextEncoding;
    /// let p = event_packet(0x0100u16, 0, &[100][..]);
    /// assert_eq!(Event::from_packet(&p, TextEncoding::Utf8), Some(Event::FpFtr { score: 100 }));
    /// ```
    pub fn from_packet(packet: &Packet, enc: TextEncoding) -> Option<Event> {
        packet
            .is_event()
            .then(|| Self::parse_with(packet.session_id, &packet.data, enc))
    }

    /// The event flag this event travels with.
    pub fn flag(&self) -> EventFlag {
        match self {
            Event::Attendance(_) => EventFlag::AttLog,
            Event::Finger => EventFlag::Finger,
            Event::FpFtr { .. } => EventFlag::FpFtr,
            Event::Verify { .. } => EventFlag::Verify,
            Event::EnrollFinger { .. } => EventFlag::EnrollFinger,
            Event::EnrollUser { .. } => EventFlag::EnrollUser,
            Event::Button { .. } => EventFlag::Button,
            Event::Unlock { .. } => EventFlag::Unlock,
            Event::HidNum { .. } => EventFlag::HidNum,
            Event::Alarm(_) => EventFlag::Alarm,
            Event::Other { flag, .. } => EventFlag::from(*flag),
        }
    }

    /// For an `EF_VERIFY` event, the identified user (`None` when the
    /// device reported [`NOT_IDENTIFIED`] or for other events).
    ///
    /// ```
    /// use zkproto::terminal::record::event::Event;
    /// assert_eq!(Event::parse(0x80, &[13, 0, 0, 0, 1]).identified(), Some(13));
    /// assert_eq!(Event::parse(0x80, &[0xff, 0xff, 0xff, 0xff, 1]).identified(), None);
    /// ```
    pub fn identified(&self) -> Option<u32> {
        match self {
            Event::Verify { user, .. } if *user != NOT_IDENTIFIED => Some(*user),
            _ => None,
        }
    }

    /// For an `EF_HIDNUM` event, the card number read little-endian.
    ///
    /// ```
    /// use zkproto::terminal::record::event::Event;
    /// assert_eq!(Event::parse(0x400, &[1, 2, 0, 0, 0]).hid_card_le(), Some(0x0201));
    /// ```
    pub fn hid_card_le(&self) -> Option<u64> {
        match self {
            Event::HidNum {
                card: [a, b, c, d, e],
            } => Some(u64::from_le_bytes([*a, *b, *c, *d, *e, 0, 0, 0])),
            _ => None,
        }
    }

    /// A successful online enrolment result: `u16 0, u16 template_size,
    /// user_id` NUL-padded to `pin_width` bytes, `u8 finger`.
    ///
    /// ```
    /// use zkproto::terminal::record::event::Event;
    /// use zkproto::terminal::record::TextEncoding;
    /// let ev = Event::enroll_finger_ok(1220, "555", 4, 9, TextEncoding::Utf8).unwrap();
    /// let data = ev.encode_data().unwrap();
    /// assert_eq!(data.len(), 14);
    /// assert_eq!(Event::parse(0x08, &data), ev);
    /// ```
    pub fn enroll_finger_ok(
        template_size: u16,
        user_id: &str,
        finger: u8,
        pin_width: usize,
        enc: TextEncoding,
    ) -> Result<Event, EncodeError> {
        // 3 would give the 8-byte length of the menu form.
        if pin_width == 0 || pin_width == 3 || pin_width > TEXT_ID_LEN {
            return Err(EncodeError::OutOfRange {
                field: "pin_width",
                reason: "must be 1-24 and not 3",
            });
        }
        let id = enc.encode(user_id, "user_id", pin_width, Overflow::Error)?;
        let mut raw = BytesMut::with_capacity(pin_width + 5);
        raw.put_u16_le(0);
        raw.put_u16_le(template_size);
        raw.put_slice(&id);
        raw.put_bytes(0, pin_width - id.len());
        raw.put_u8(finger);
        let raw = raw.freeze();
        Ok(Self::parse_with(EventFlag::EnrollFinger.value(), &raw, enc))
    }

    /// A failed enrolment result (2 bytes, `result` ≠ 0, e.g. 6 = cancelled).
    pub fn enroll_finger_failed(result: u16) -> Event {
        Event::EnrollFinger {
            result,
            template_size: None,
            user_id: None,
            finger: None,
            raw: Bytes::copy_from_slice(&result.to_le_bytes()),
        }
    }

    /// Encodes the payload with UTF-8 user ids.
    pub fn encode_data(&self) -> Result<Bytes, EncodeError> {
        self.encode_data_with(TextEncoding::Utf8)
    }

    /// Encodes the payload, writing text user ids with `enc`.
    ///
    /// Fails when a value cannot be written in its layout (a text user id
    /// longer than 24 bytes, a non-numeric id in the 12-byte layout, an
    /// attendance layout/extra combination that would decode differently).
    pub fn encode_data_with(&self, enc: TextEncoding) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        match self {
            Event::Attendance(a) => a.encode(enc, &mut out)?,
            Event::Finger => {}
            Event::FpFtr { score } => out.put_u8(*score),
            Event::Verify { user, extra } => {
                out.put_u32_le(*user);
                out.put_slice(extra);
            }
            Event::EnrollFinger { raw, .. }
            | Event::EnrollUser { raw }
            | Event::Unlock { raw }
            | Event::Other { data: raw, .. } => out.put_slice(raw),
            Event::Button { key } => out.put_u32_le(*key),
            Event::HidNum { card } => out.put_slice(card),
            Event::Alarm(a) => a.encode(&mut out)?,
        }
        Ok(out.freeze())
    }

    /// The event packet a device sends (code 500, flag in the session slot).
    pub fn to_packet(&self, reply_id: u16) -> Result<Packet, EncodeError> {
        Ok(event_packet(self.flag(), reply_id, self.encode_data()?))
    }
}

/// The client's acknowledgement of an event (§7.3): `CMD_ACK_OK` with the
/// session id and the event's reply id, no data.
///
/// ```
/// use zkproto::terminal::record::event::ack;
/// let p = ack(0x8df3, 0);
/// assert_eq!((p.code, p.session_id, p.reply_id, p.data.len()), (2000, 0x8df3, 0, 0));
/// ```
pub fn ack(session_id: u16, event_reply_id: u16) -> Packet {
    Packet::new(ReplyCode::AckOk, session_id, event_reply_id, Bytes::new())
}

/// An event packet as a device sends it: code `CMD_REG_EVENT` (500), the
/// flag in the session slot.
///
/// ```
/// use zkproto::terminal::record::event::event_packet;
/// let p = event_packet(0x0100u16, 0, &[0x64][..]);
/// assert_eq!(&p.to_bytes()[..], [0xf4, 0x01, 0xa7, 0xfc, 0x00, 0x01, 0x00, 0x00, 0x64]);
/// ```
pub fn event_packet(flag: impl Into<u16>, reply_id: u16, data: impl Into<Bytes>) -> Packet {
    Packet::new(Command::RegEvent, flag.into(), reply_id, data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t() -> DeviceTime {
        DeviceTime::new(2018, 6, 25, 17, 41, 5)
    }

    fn round_trip(flag: u16, data: &[u8]) -> Event {
        let ev = Event::parse(flag, data);
        assert_eq!(&ev.encode_data().unwrap()[..], data, "{ev:?}");
        assert_eq!(ev.flag().value(), flag);
        ev
    }

    #[test]
    fn attendance_10_and_14() {
        let mut d = vec![13, 0, 1, 0x80, 18, 6, 25, 17, 41, 5];
        let Event::Attendance(a) = round_trip(1, &d) else {
            panic!("10")
        };
        assert_eq!(
            (a.uid, a.user_id.as_str(), a.verify, a.state),
            (Some(13), "13", 1, 0x80)
        );
        assert_eq!((a.time, a.layout_len, a.extra.len()), (t(), 10, 0));
        d.extend_from_slice(&[1, 2, 3, 4]);
        let Event::Attendance(a) = round_trip(1, &d) else {
            panic!("14")
        };
        assert_eq!((a.layout_len, &a.extra[..]), (10, &[1u8, 2, 3, 4][..]));
    }

    #[test]
    fn attendance_text_forms() {
        let mut d = vec![0u8; 24];
        d[..3].copy_from_slice(b"555");
        d.extend_from_slice(&[15, 1, 24, 2, 29, 23, 59, 59]);
        for extra in [0usize, 4, 5, 20, 21, 40] {
            let mut x = d.clone();
            x.extend((0..extra).map(|i| i as u8));
            let Event::Attendance(a) = round_trip(1, &x) else {
                panic!("{extra}")
            };
            assert_eq!(
                (a.user_id.as_str(), a.verify, a.state, a.layout_len),
                ("555", 15, 1, 32)
            );
            assert_eq!(a.extra.len(), extra);
            assert_eq!(a.time, DeviceTime::new(2024, 2, 29, 23, 59, 59));
        }
    }

    #[test]
    fn attendance_odd_lengths_are_other() {
        for n in [0usize, 9, 11, 13, 15, 31, 33, 35, 38, 51] {
            let d = vec![0x31u8; n];
            let ev = round_trip(1, &d);
            assert!(matches!(ev, Event::Other { flag: 1, .. }), "{n}");
        }
    }

    #[test]
    fn attendance_encode_rejects() {
        let mut a = AttendanceEvent::new("x".repeat(25), 0, 0, t());
        assert!(matches!(
            Event::Attendance(a.clone()).encode_data(),
            Err(EncodeError::FieldTooLong { .. })
        ));
        a.user_id = "abc".into();
        a.layout_len = 12;
        assert!(Event::Attendance(a.clone()).encode_data().is_err());
        a.layout_len = 32;
        a.extra = Bytes::from_static(&[0; 7]);
        assert!(Event::Attendance(a.clone()).encode_data().is_err());
        let mut b = AttendanceEvent::with_uid(1, 0, 0, t());
        b.uid = None;
        b.user_id = "70000".into();
        assert!(Event::Attendance(b).encode_data().is_err());
    }

    #[test]
    fn gbk_user_id() {
        let a = AttendanceEvent::new("张三", 1, 0, t());
        let d = Event::Attendance(a.clone())
            .encode_data_with(TextEncoding::Gbk)
            .unwrap();
        assert_eq!(&d[..4], [0xd5, 0xc5, 0xc8, 0xfd]);
        assert_eq!(
            Event::parse_with(1, &d, TextEncoding::Gbk),
            Event::Attendance(a)
        );
    }

    #[test]
    fn simple_flags() {
        assert_eq!(round_trip(2, &[]), Event::Finger);
        assert!(matches!(round_trip(2, &[1]), Event::Other { .. }));
        assert!(matches!(round_trip(0x100, &[]), Event::Other { .. }));
        assert!(matches!(round_trip(0x100, &[1, 2]), Event::Other { .. }));
        assert_eq!(round_trip(0x10, &[5, 0, 0, 0]), Event::Button { key: 5 });
        assert!(matches!(round_trip(0x10, &[5, 0, 0]), Event::Other { .. }));
        assert_eq!(
            round_trip(0x400, &[1, 2, 3, 4, 5]),
            Event::HidNum {
                card: [1, 2, 3, 4, 5]
            }
        );
        assert!(matches!(
            round_trip(0x400, &[1, 2, 3, 4, 5, 6]),
            Event::Other { .. }
        ));
        assert!(matches!(round_trip(0x20, &[9, 9]), Event::Unlock { .. }));
        assert!(matches!(
            round_trip(0x04, &[13, 0]),
            Event::EnrollUser { .. }
        ));
        assert!(matches!(round_trip(0x80, &[1, 2, 3]), Event::Other { .. }));
        assert!(matches!(
            round_trip(0x40, &[1]),
            Event::Other { flag: 0x40, .. }
        ));
        assert!(matches!(
            round_trip(0x8000, &[]),
            Event::Other { flag: 0x8000, .. }
        ));
    }

    #[test]
    fn verify() {
        let ev = round_trip(0x80, &[0xff, 0xff, 0xff, 0xff, 1]);
        assert_eq!(
            ev,
            Event::Verify {
                user: NOT_IDENTIFIED,
                extra: Bytes::from_static(&[1])
            }
        );
        assert_eq!(ev.identified(), None);
        assert_eq!(round_trip(0x80, &[7, 0, 0, 0]).identified(), Some(7));
        assert_eq!(Event::Finger.identified(), None);
    }

    #[test]
    fn enroll_finger_forms() {
        // Online, PIN2Width 9 ([ZKP]: 14 bytes).
        let mut d = vec![0, 0, 0xc4, 0x04];
        d.extend_from_slice(b"555\0\0\0\0\0\0");
        d.push(4);
        let ev = round_trip(8, &d);
        assert_eq!(
            ev,
            Event::EnrollFinger {
                result: 0,
                template_size: Some(0x04c4),
                user_id: Some("555".into()),
                finger: Some(4),
                raw: Bytes::from(d.clone()),
            }
        );
        // Menu form, 8 bytes.
        let Event::EnrollFinger {
            template_size,
            user_id,
            finger,
            ..
        } = round_trip(8, &[0, 0, 0xc4, 0x04, 14, 0, 3, 1])
        else {
            panic!("menu form")
        };
        assert_eq!(
            (template_size, user_id, finger),
            (Some(0x04c4), None, Some(3))
        );
        // Failure.
        let ev = round_trip(8, &[6, 0]);
        assert_eq!(ev, Event::enroll_finger_failed(6));
        assert!(matches!(
            round_trip(8, &[5, 0, 1, 2, 3, 4, 5, 6]),
            Event::EnrollFinger {
                result: 5,
                template_size: None,
                ..
            }
        ));
        assert!(matches!(round_trip(8, &[0]), Event::Other { .. }));
        assert!(Event::enroll_finger_ok(1, "1", 1, 3, TextEncoding::Utf8).is_err());
        assert!(Event::enroll_finger_ok(1, "1234", 1, 2, TextEncoding::Utf8).is_err());
        assert!(Event::enroll_finger_ok(1, "1", 1, usize::MAX, TextEncoding::Utf8).is_err());
    }

    #[test]
    fn alarms() {
        assert_eq!(
            round_trip(0x200, &[0x37, 0, 0, 0]),
            Event::Alarm(Alarm::Tamper)
        );
        assert_eq!(
            round_trip(0x200, &[0x35, 0, 0, 0]),
            Event::Alarm(Alarm::ExitButton)
        );
        assert_eq!(
            round_trip(0x200, &[0x3a, 0, 0, 0]),
            Event::Alarm(Alarm::Misoperation)
        );
        assert_eq!(
            round_trip(0x200, &[0x36, 0, 0, 0, 0, 0, 0, 0]),
            Event::Alarm(Alarm::DoorClosed { code: 54 })
        );
        assert_eq!(
            round_trip(0x200, &[0x54, 0, 0, 0, 0, 0, 0, 0]),
            Event::Alarm(Alarm::DoorClosed { code: 0x54 })
        );
        assert_eq!(
            round_trip(0x200, &[0xff, 0xff, 0xff, 0xff, 0x20, 0, 13, 0, 1, 0, 0, 0]),
            Event::Alarm(Alarm::Duress { uid: 13, verify: 1 })
        );
        assert_eq!(
            round_trip(
                0x200,
                &[0xff, 0xff, 0xff, 0xff, 0x22, 0, 0x34, 0x12, 2, 0, 0, 0]
            ),
            Event::Alarm(Alarm::AntiPassback {
                uid: 0x1234,
                verify: 2
            })
        );
        let Event::Alarm(Alarm::Other { code, .. }) = round_trip(0x200, &[0x37, 1, 0, 0]) else {
            panic!("other 4")
        };
        assert_eq!(code, 0x0137);
        let Event::Alarm(Alarm::Other { code, .. }) =
            round_trip(0x200, &[0xff, 0xff, 0xff, 0xff, 0x21, 0, 0, 0, 0, 0, 0, 0])
        else {
            panic!("other 12")
        };
        assert_eq!(code, 0x21);
        assert!(matches!(
            round_trip(0x200, &[0x36, 0, 0, 0, 1, 0, 0, 0]),
            Event::Alarm(Alarm::Other { code: 0x36, .. })
        ));
        assert!(matches!(
            round_trip(0x200, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
            Event::Alarm(Alarm::Other { .. })
        ));
        assert!(matches!(
            round_trip(0x200, &[0x37, 0, 0]),
            Event::Other { flag: 0x200, .. }
        ));
        assert!(
            Event::Alarm(Alarm::DoorClosed { code: 1 })
                .encode_data()
                .is_err()
        );
        assert_eq!(Alarm::door_closed(), Alarm::DoorClosed { code: 54 });
    }

    #[test]
    fn packets() {
        let p = Event::FpFtr { score: 100 }.to_packet(0).unwrap();
        assert!(p.is_event());
        assert_eq!(p.event_flag(), EventFlag::FpFtr);
        assert_eq!(Event::from_packet(&ack(1, 0), TextEncoding::Utf8), None);
    }

    fn arb_time() -> impl Strategy<Value = DeviceTime> {
        (
            2000u16..=2255,
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
        )
            .prop_map(|(y, mo, d, h, mi, s)| DeviceTime::new(y, mo, d, h, mi, s))
    }

    fn arb_attendance() -> impl Strategy<Value = AttendanceEvent> {
        let extra = prop_oneof![Just(0usize), Just(4), Just(5), 20usize..60,];
        prop_oneof![
            (
                any::<u16>(),
                any::<u8>(),
                any::<u8>(),
                arb_time(),
                any::<bool>()
            )
                .prop_map(|(uid, v, s, t, long)| {
                    let mut a = AttendanceEvent::with_uid(uid, v, s, t);
                    if long {
                        a.extra = Bytes::from_static(&[9, 8, 7, 6]);
                    }
                    a
                }),
            (any::<u32>(), any::<u8>(), any::<u8>(), arb_time())
                .prop_map(|(id, v, s, t)| AttendanceEvent::numeric(id, v, s, t)),
            (
                "[A-Za-z0-9]{0,24}",
                any::<u8>(),
                any::<u8>(),
                arb_time(),
                extra
            )
                .prop_map(|(id, v, s, t, n)| {
                    let mut a = AttendanceEvent::new(id, v, s, t);
                    a.extra = Bytes::from(vec![0xA5; n]);
                    a
                }),
        ]
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        let bytes = |n| proptest::collection::vec(any::<u8>(), 0..n).prop_map(Bytes::from);
        prop_oneof![
            arb_attendance().prop_map(Event::Attendance),
            Just(Event::Finger),
            any::<u8>().prop_map(|score| Event::FpFtr { score }),
            (any::<u32>(), bytes(8)).prop_map(|(user, extra)| Event::Verify { user, extra }),
            (any::<u16>(), "[0-9]{1,9}", 0u8..10).prop_map(|(size, id, f)| {
                Event::enroll_finger_ok(size, &id, f, 9, TextEncoding::Utf8)
                    .unwrap_or(Event::Finger)
            }),
            (1u16..=u16::MAX).prop_map(Event::enroll_finger_failed),
            bytes(80).prop_map(|raw| Event::EnrollUser { raw }),
            any::<u32>().prop_map(|key| Event::Button { key }),
            bytes(8).prop_map(|raw| Event::Unlock { raw }),
            any::<[u8; 5]>().prop_map(|card| Event::HidNum { card }),
            prop_oneof![
                Just(Alarm::Tamper),
                Just(Alarm::ExitButton),
                Just(Alarm::Misoperation),
                Just(Alarm::door_closed()),
                Just(Alarm::DoorClosed { code: 0x54 }),
                (any::<u16>(), any::<u32>())
                    .prop_map(|(uid, verify)| Alarm::Duress { uid, verify }),
                (any::<u16>(), any::<u32>())
                    .prop_map(|(uid, verify)| Alarm::AntiPassback { uid, verify }),
            ]
            .prop_map(Event::Alarm),
            (0x8000u16..=u16::MAX, bytes(16)).prop_map(|(flag, data)| Event::Other { flag, data }),
        ]
    }

    proptest! {
        #[test]
        fn value_round_trip(ev in arb_event()) {
            let data = ev.encode_data().unwrap();
            prop_assert_eq!(Event::parse(ev.flag().value(), &data), ev);
        }

        #[test]
        fn bytes_round_trip(flag in prop_oneof![Just(1u16), Just(2), Just(4), Just(8), Just(0x10), Just(0x20), Just(0x80), Just(0x100), Just(0x200), Just(0x400), any::<u16>()],
                            data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let ev = Event::parse(flag, &data);
            prop_assert_eq!(ev.flag().value(), flag);
            // Text user ids are normalised (cut at NUL, lossy), so compare
            // after one normalisation pass.
            if let Ok(enc) = ev.encode_data() {
                let again = Event::parse(flag, &enc);
                prop_assert_eq!(&again.encode_data().unwrap()[..], &enc[..]);
                prop_assert_eq!(enc.len(), data.len());
                if !matches!(ev, Event::Attendance(AttendanceEvent { layout_len: 32, .. })) {
                    prop_assert_eq!(&enc[..], &data[..]);
                }
            }
        }
    }
}
