//! The real-time log (reference §7): binary 16-byte records (0x0B), text
//! `key=value` records (0x79), event codes, verify modes and in/out states.
//!
//! ```
//! use zkproto::panel::rtlog::{EventCode, RtRecord};
//! let rec = [0x17, 0x30, 0x64, 0x12, 0xe2, 0xb1, 0x04, 0x00, 0x04, 0x01, 0x00, 0x00, 0x74, 0x2c, 0xaf, 0x21];
//! let RtRecord::Event(e) = RtRecord::decode(&rec).unwrap() else { panic!() };
//! assert_eq!((e.card_no, e.pin, e.door, e.event), (308555799, 307682, 1, EventCode::NormalPunchOpen));
//! assert_eq!(e.time.to_string(), "2017-07-31 20:05:08");
//! ```

use super::error::DecodeError;
use super::time::PanelTime;
use crate::wire_enum::wire_enum;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// Length of one binary record.
pub const RECORD_LEN: usize = 16;
/// Number of doors a record describes (C3-400 / inBio 460).
pub const DOORS: usize = 4;

wire_enum! {
    /// Event type codes (§7.3); 255 marks a door/alarm status record.
    EventCode: u8, catch_all = Other, unknown = "unknown", sep = " " {
        /// Normal punch open.
        NormalPunchOpen = 0 => "normal punch open",
        /// Punch during normal-open time zone.
        PunchDuringNormalOpen = 1 => "punch during normal-open time zone",
        /// First-card normal open (punch).
        FirstCardNormalOpen = 2 => "first-card normal open (punch)",
        /// Multi-card open (punch).
        MultiCardOpen = 3 => "multi-card open (punch)",
        /// Emergency (super) password open.
        EmergencyPasswordOpen = 4 => "emergency password open",
        /// Open during normal-open time zone (normal-open period started).
        OpenDuringNormalOpen = 5 => "open during normal-open time zone",
        /// Linkage event triggered.
        LinkageTriggered = 6 => "linkage event triggered",
        /// Cancel alarm.
        CancelAlarm = 7 => "cancel alarm",
        /// Remote opening.
        RemoteOpening = 8 => "remote opening",
        /// Remote closing.
        RemoteClosing = 9 => "remote closing",
        /// Disable intraday normal-open time zone.
        DisableNormalOpen = 10 => "disable intraday normal-open time zone",
        /// Enable intraday normal-open time zone.
        EnableNormalOpen = 11 => "enable intraday normal-open time zone",
        /// Open auxiliary output.
        AuxOutputOpened = 12 => "open auxiliary output",
        /// Close auxiliary output.
        AuxOutputClosed = 13 => "close auxiliary output",
        /// Press fingerprint open.
        FingerprintOpen = 14 => "press fingerprint open",
        /// Multi-card open (fingerprint).
        MultiCardFingerprintOpen = 15 => "multi-card open (fingerprint)",
        /// Fingerprint during normal-open time zone.
        FingerprintDuringNormalOpen = 16 => "fingerprint during normal-open time zone",
        /// Card plus fingerprint open.
        CardAndFingerprintOpen = 17 => "card plus fingerprint open",
        /// First-card normal open (fingerprint).
        FirstCardFingerprintOpen = 18 => "first-card normal open (fingerprint)",
        /// First-card normal open (card + fingerprint).
        FirstCardCardFingerprintOpen = 19 => "first-card normal open (card + fingerprint)",
        /// Too short punch interval.
        PunchIntervalTooShort = 20 => "too short punch interval",
        /// Door inactive time zone (punch).
        DoorInactivePunch = 21 => "door inactive time zone (punch)",
        /// Illegal time zone.
        IllegalTimeZone = 22 => "illegal time zone",
        /// Access denied.
        AccessDenied = 23 => "access denied",
        /// Anti-passback.
        AntiPassback = 24 => "anti-passback",
        /// Interlock.
        Interlock = 25 => "interlock",
        /// Multi-card authentication (punch).
        MultiCardAuthentication = 26 => "multi-card authentication (punch)",
        /// Unregistered card.
        UnregisteredCard = 27 => "unregistered card",
        /// Opening timeout (door left open).
        OpeningTimeout = 28 => "opening timeout",
        /// Card expired.
        CardExpired = 29 => "card expired",
        /// Password error.
        PasswordError = 30 => "password error",
        /// Too short fingerprint interval.
        FingerprintIntervalTooShort = 31 => "too short fingerprint interval",
        /// Multi-card authentication (fingerprint).
        MultiCardFingerprintAuthentication = 32 => "multi-card authentication (fingerprint)",
        /// Fingerprint expired.
        FingerprintExpired = 33 => "fingerprint expired",
        /// Unregistered fingerprint.
        UnregisteredFingerprint = 34 => "unregistered fingerprint",
        /// Door inactive time zone (fingerprint).
        DoorInactiveFingerprint = 35 => "door inactive time zone (fingerprint)",
        /// Door inactive time zone (exit button).
        DoorInactiveExitButton = 36 => "door inactive time zone (exit button)",
        /// Failed to close during normal-open time zone.
        FailedToCloseDuringNormalOpen = 37 => "failed to close during normal-open time zone",
        /// Verify type invalid (manual); background verification in the old firmware.
        VerifyTypeInvalid = 41 => "verify type invalid / background verification",
        /// Wiegand format error (manual); background verification failed in the old firmware.
        WiegandFormatError = 42 => "Wiegand format error / background verification failed",
        /// Background verification timeout (old firmware only).
        BackgroundVerifyTimeout = 43 => "background verification timeout",
        /// Background verification (old firmware only).
        BackgroundVerify = 44 => "background verification",
        /// User does not exist (old firmware only).
        UserDoesNotExist = 45 => "user does not exist",
        /// Tamper (anti-strip) alarm (old firmware only).
        TamperAlarm = 100 => "tamper alarm",
        /// Duress password open (alarm).
        DuressPasswordOpen = 101 => "duress password open",
        /// Opened accidentally (alarm).
        OpenedAccidentally = 102 => "opened accidentally",
        /// Duress fingerprint open (alarm).
        DuressFingerprintOpen = 103 => "duress fingerprint open",
        /// Door opened correctly (sensor).
        DoorOpened = 200 => "door opened correctly",
        /// Door closed correctly (sensor).
        DoorClosed = 201 => "door closed correctly",
        /// Exit button open.
        ExitButtonOpen = 202 => "exit button open",
        /// Multi-card open (card + fingerprint).
        MultiCardCardFingerprintOpen = 203 => "multi-card open (card + fingerprint)",
        /// Normal-open time zone over.
        NormalOpenOver = 204 => "normal-open time zone over",
        /// Remote normal opening.
        RemoteNormalOpening = 205 => "remote normal opening",
        /// Device start.
        DeviceStart = 206 => "device start",
        /// Password open (door in password mode; old firmware only).
        PasswordOpen = 207 => "password open",
        /// Door opened by superuser (one client library only).
        SuperuserOpen = 208 => "door opened by superuser",
        /// Auxiliary input disconnected (opened).
        AuxInputDisconnected = 220 => "auxiliary input disconnected",
        /// Auxiliary input shorted.
        AuxInputShorted = 221 => "auxiliary input shorted",
        /// Door/alarm status record, not an event.
        DoorAlarmStatus = 255 => "door/alarm status",
    }
}

impl EventCode {
    /// True for alarm events (100–199), which set a door's alarm bit.
    pub fn is_alarm(self) -> bool {
        (100..200).contains(&self.value())
    }
}

wire_enum! {
    /// Verify modes (§7.5).
    VerifyMode: u8, catch_all = Other, unknown = "unknown", sep = " " {
        /// Fingerprint, password or card.
        Any = 0 => "fingerprint, password or card",
        /// Fingerprint only.
        Fingerprint = 1 => "fingerprint",
        /// User id only.
        Pin = 2 => "user id",
        /// Password only.
        Password = 3 => "password",
        /// Card only.
        Card = 4 => "card",
        /// Fingerprint or password.
        FingerprintOrPassword = 5 => "fingerprint or password",
        /// Card or fingerprint.
        CardOrFingerprint = 6 => "card or fingerprint",
        /// Password or card.
        PasswordOrCard = 7 => "password or card",
        /// User id and fingerprint.
        PinAndFingerprint = 8 => "user id and fingerprint",
        /// Fingerprint and password.
        FingerprintAndPassword = 9 => "fingerprint and password",
        /// Card and fingerprint.
        CardAndFingerprint = 10 => "card and fingerprint",
        /// Card and password.
        CardAndPassword = 11 => "card and password",
        /// Fingerprint, password and card.
        FingerprintPasswordAndCard = 12 => "fingerprint, password and card",
        /// User id, fingerprint and password.
        PinFingerprintAndPassword = 13 => "user id, fingerprint and password",
        /// Fingerprint and card, or user id.
        FingerprintAndCardOrPin = 14 => "fingerprint and card, or user id",
        /// Other: remote, button, system, status.
        System = 200 => "other (remote, button, system, status)",
    }
}

wire_enum! {
    /// Entry/exit state (§7.6).
    InOutState: u8, catch_all = Other, unknown = "unknown", sep = " " {
        /// Entry.
        Entry = 0 => "entry",
        /// Exit.
        Exit = 1 => "exit",
        /// None (non-reader events).
        None = 2 => "none",
    }
}

/// One event record: from the real-time log, or stored in the `transaction`
/// table ([`TransactionRow`](crate::panel::table::TransactionRow) is this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RtEvent {
    /// Card number (0 when none).
    pub card_no: u32,
    /// User id (0 when none; linkage id for event 6).
    pub pin: u32,
    /// Verify mode.
    pub verify: VerifyMode,
    /// Door (1–4), aux input/output number for 220/221/12/13, or 0 = device.
    pub door: u8,
    /// Event type.
    pub event: EventCode,
    /// Entry / exit.
    pub in_out: InOutState,
    /// Time of the event.
    pub time: PanelTime,
}

/// Door sensor state of one door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum DoorSensor {
    /// No sensor or unknown.
    Unknown,
    /// Closed.
    Closed,
    /// Open.
    Open,
    /// Another value (low nibble kept).
    Other(u8),
}

impl DoorSensor {
    /// From a sensor value (binary byte low nibble, or the 2-bit text field).
    pub const fn from_value(v: u8) -> Self {
        match v {
            0 => DoorSensor::Unknown,
            1 => DoorSensor::Closed,
            2 => DoorSensor::Open,
            other => DoorSensor::Other(other),
        }
    }

    /// The sensor value.
    pub const fn value(self) -> u8 {
        match self {
            DoorSensor::Unknown => 0,
            DoorSensor::Closed => 1,
            DoorSensor::Open => 2,
            DoorSensor::Other(v) => v,
        }
    }
}

/// Alarm flags of one door (binary status byte or text `alarm` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AlarmFlags(pub u8);

impl AlarmFlags {
    /// Bit 0: alarm (tamper, duress, opened accidentally); cleared by "cancel alarm".
    pub const fn alarm(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// Bit 1: door-open timeout (event 28); cleared when the door closes.
    pub const fn open_timeout(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// True when any bit is set.
    pub const fn any(self) -> bool {
        self.0 != 0
    }
}

/// The door/alarm status record (event byte 255). Raw bytes are kept so the
/// record re-encodes exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DoorStatus {
    /// Alarm flags, door 1 first.
    pub alarms: [AlarmFlags; DOORS],
    /// Raw door sensor bytes, door 1 first (some firmware sets the high nibble).
    pub sensor_bytes: [u8; DOORS],
    /// Byte 8: 200 on old firmware, 0 or 1 on others.
    pub verify_byte: u8,
    /// Byte 9: 0 on old firmware; probably the lock-relay bitmask on newer (unconfirmed).
    pub relay: u8,
    /// Byte 11 (0).
    pub in_out_byte: u8,
    /// Current time.
    pub time: PanelTime,
}

impl DoorStatus {
    /// Sensor state of door `n` (1–4).
    ///
    /// ```
    /// use zkproto::panel::rtlog::{DoorSensor, RtRecord};
    /// let rec = [3, 0, 0, 0, 0x11, 0, 0, 0, 0, 1, 0xff, 0, 0xf2, 0x31, 0xb3, 0x21];
    /// let RtRecord::Status(s) = RtRecord::decode(&rec).unwrap() else { panic!() };
    /// assert_eq!(s.sensor(1), Some(DoorSensor::Closed));
    /// assert!(s.alarm(1).unwrap().alarm() && s.alarm(1).unwrap().open_timeout());
    /// assert_eq!(s.sensor(5), None);
    /// ```
    pub fn sensor(&self, door: usize) -> Option<DoorSensor> {
        let b = self.sensor_bytes.get(door.checked_sub(1)?)?;
        Some(DoorSensor::from_value(b & 0x0f))
    }

    /// Alarm flags of door `n` (1–4).
    pub fn alarm(&self, door: usize) -> Option<AlarmFlags> {
        self.alarms.get(door.checked_sub(1)?).copied()
    }

    /// True when the lock relay of door `n` is reported energised (byte 9 read
    /// as a bitmask, an inference).
    pub fn relay_on(&self, door: usize) -> Option<bool> {
        let bit = u32::try_from(door.checked_sub(1)?)
            .ok()
            .filter(|b| *b < 8)?;
        Some(self.relay & (1 << bit) != 0)
    }
}

/// One binary real-time record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RtRecord {
    /// An event.
    Event(RtEvent),
    /// The door/alarm status (event 255).
    Status(DoorStatus),
}

impl RtRecord {
    /// Decodes one 16-byte record.
    pub fn decode(rec: &[u8; RECORD_LEN]) -> Result<RtRecord, DecodeError> {
        let [
            a0,
            a1,
            a2,
            a3,
            p0,
            p1,
            p2,
            p3,
            b8,
            b9,
            b10,
            b11,
            t0,
            t1,
            t2,
            t3,
        ] = *rec;
        let time = PanelTime::from_packed(u32::from_le_bytes([t0, t1, t2, t3]))?;
        if b10 == 255 {
            return Ok(RtRecord::Status(DoorStatus {
                alarms: [a0, a1, a2, a3].map(AlarmFlags),
                sensor_bytes: [p0, p1, p2, p3],
                verify_byte: b8,
                relay: b9,
                in_out_byte: b11,
                time,
            }));
        }
        Ok(RtRecord::Event(RtEvent {
            card_no: u32::from_le_bytes([a0, a1, a2, a3]),
            pin: u32::from_le_bytes([p0, p1, p2, p3]),
            verify: VerifyMode::from(b8),
            door: b9,
            event: EventCode::from(b10),
            in_out: InOutState::from(b11),
            time,
        }))
    }

    /// Encodes the record. An event whose code is 255 would read back as a
    /// status record; use [`RtRecord::Status`] for those.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let (first, second, b8, b9, b10, b11, time) = match self {
            RtRecord::Event(e) => (
                e.card_no.to_le_bytes(),
                e.pin.to_le_bytes(),
                e.verify.value(),
                e.door,
                e.event.value(),
                e.in_out.value(),
                e.time,
            ),
            RtRecord::Status(s) => (
                s.alarms.map(|a| a.0),
                s.sensor_bytes,
                s.verify_byte,
                s.relay,
                255,
                s.in_out_byte,
                s.time,
            ),
        };
        let t = time.to_packed().to_le_bytes();
        for (dst, src) in out.iter_mut().zip(
            first
                .iter()
                .chain(&second)
                .chain(&[b8, b9, b10, b11])
                .chain(&t),
        ) {
            *dst = *src;
        }
        out
    }

    /// Decodes a whole 0x0B reply payload (after the session header): k × 16 bytes.
    /// A length that is not a multiple of 16 means the firmware wants the text
    /// log (0x79) — see [`DecodeError::BadLength`].
    pub fn decode_all(data: &[u8]) -> Result<Vec<RtRecord>, DecodeError> {
        if !data.len().is_multiple_of(RECORD_LEN) {
            return Err(DecodeError::BadLength {
                what: "real-time log",
                len: data.len(),
                reason: "not a multiple of 16 (this firmware may need the text log, 0x79)",
            });
        }
        data.chunks_exact(RECORD_LEN)
            .map(|c| match c.first_chunk::<RECORD_LEN>() {
                Some(rec) => RtRecord::decode(rec),
                None => Err(DecodeError::Truncated {
                    what: "real-time record",
                    need: RECORD_LEN,
                    got: c.len(),
                }),
            })
            .collect()
    }

    /// Encodes several records back to back (for a simulator).
    pub fn encode_all(records: &[RtRecord]) -> Bytes {
        let mut out = BytesMut::with_capacity(records.len() * RECORD_LEN);
        for r in records {
            out.put_slice(&r.encode());
        }
        out.freeze()
    }
}

/// An event of the text real-time log (0x79).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TextEvent {
    /// Time.
    pub time: PanelTime,
    /// User id.
    pub pin: u32,
    /// Card number.
    pub card_no: u32,
    /// Door or port (`eventaddr`).
    pub event_addr: u8,
    /// Event type.
    pub event: EventCode,
    /// Entry / exit (`inoutstatus`).
    pub in_out: InOutState,
    /// Verify mode (`verifytype`).
    pub verify: VerifyMode,
    /// Running event number (`index`), when present.
    pub index: Option<u32>,
    /// Keys this crate does not interpret, in order.
    pub extra: Vec<(String, String)>,
}

/// A door/alarm status of the text real-time log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TextStatus {
    /// Time.
    pub time: PanelTime,
    /// `sensor`: 2 bits per door, door 1 in bits 0–1 (0 none, 1 closed, 2 open).
    pub sensor: u8,
    /// `relay`: bit n−1 = lock relay of door n (an inference from one capture).
    pub relay: u8,
    /// `alarm`: one byte per door, door 1 first (same bits as the binary record).
    pub alarms: [AlarmFlags; DOORS],
    /// Keys this crate does not interpret, in order.
    pub extra: Vec<(String, String)>,
}

impl TextStatus {
    /// Sensor state of door `n` (1–4).
    ///
    /// ```
    /// use zkproto::panel::rtlog::{DoorSensor, TextRecord};
    /// let recs = TextRecord::parse_all(b"time=2023-12-09 15:09:33\tsensor=24\trelay=04\talarm=00000000").unwrap();
    /// let TextRecord::Status(s) = &recs[0] else { panic!() };
    /// assert_eq!([s.sensor(1), s.sensor(2), s.sensor(3)],
    ///            [Some(DoorSensor::Unknown), Some(DoorSensor::Closed), Some(DoorSensor::Open)]);
    /// assert_eq!(s.relay_on(3), Some(true));
    /// ```
    pub fn sensor(&self, door: usize) -> Option<DoorSensor> {
        let shift = u32::try_from(door.checked_sub(1)?)
            .ok()
            .filter(|d| *d < 4)?
            * 2;
        Some(DoorSensor::from_value((self.sensor >> shift) & 0x03))
    }

    /// Lock relay of door `n` (1–8).
    pub fn relay_on(&self, door: usize) -> Option<bool> {
        let bit = u32::try_from(door.checked_sub(1)?)
            .ok()
            .filter(|b| *b < 8)?;
        Some(self.relay & (1 << bit) != 0)
    }

    /// Alarm flags of door `n` (1–4).
    pub fn alarm(&self, door: usize) -> Option<AlarmFlags> {
        self.alarms.get(door.checked_sub(1)?).copied()
    }
}

/// One record of the text real-time log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TextRecord {
    /// An event (`event` key present).
    Event(TextEvent),
    /// A door/alarm status (`sensor` key present or `type=rtstate`).
    Status(TextStatus),
    /// Neither: the raw pairs.
    Other(Vec<(String, String)>),
}

fn syntax(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::BadSyntax {
        what: "text real-time log",
        offset,
        reason,
    }
}

fn hex_u8(s: &str, offset: usize) -> Result<u8, DecodeError> {
    if s.len() != 2 {
        return Err(syntax(offset, "expected 2 hex digits"));
    }
    u8::from_str_radix(s, 16).map_err(|_| syntax(offset, "expected 2 hex digits"))
}

impl TextRecord {
    /// Parses a 0x79 reply payload: records separated by `\r\n` (or `\n`),
    /// fields `key=value` separated by `\t`. Unknown keys are kept; a leading
    /// `type=rtlog` / `type=rtstate` is accepted.
    pub fn parse_all(data: &[u8]) -> Result<Vec<TextRecord>, DecodeError> {
        let text =
            core::str::from_utf8(data).map_err(|e| syntax(e.valid_up_to(), "not UTF-8 text"))?;
        let mut out = Vec::new();
        let mut offset = 0;
        for line in text.split('\n') {
            let start = offset;
            offset += line.len() + 1;
            let line = line.trim_end_matches('\r');
            if !line.is_empty() {
                out.push(Self::parse_line(line, start)?);
            }
        }
        Ok(out)
    }

    fn parse_line(line: &str, start: usize) -> Result<TextRecord, DecodeError> {
        let mut pairs = Vec::new();
        let mut pos = start;
        for item in line.split('\t') {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| syntax(pos, "field without `=`"))?;
            // A stray CR ends no value: the panel's line ending is CR LF, and
            // a value ending in CR would not survive re-encoding.
            pairs.push((
                k.to_owned(),
                v.trim_end_matches('\r').to_owned(),
                pos + k.len() + 1,
            ));
            pos += item.len() + 1;
        }
        let kind = pairs
            .iter()
            .find(|(k, _, _)| k == "type")
            .map(|(_, v, _)| v.as_str());
        let has = |key: &str| pairs.iter().any(|(k, _, _)| k == key);
        let is_status = kind == Some("rtstate") || (kind.is_none() && has("sensor"));
        let is_event = kind == Some("rtlog") || (kind.is_none() && has("event"));
        if !is_status && !is_event {
            return Ok(TextRecord::Other(
                pairs.into_iter().map(|(k, v, _)| (k, v)).collect(),
            ));
        }
        let mut time = None;
        let mut extra = Vec::new();
        let mut ev = (
            0u32,
            0u32,
            0u8,
            None,
            InOutState::None,
            VerifyMode::System,
            None,
        );
        let (mut sensor, mut relay, mut alarms) = (None, 0u8, [AlarmFlags(0); DOORS]);
        let num = |v: &str, at: usize| {
            v.parse::<u32>()
                .map_err(|_| syntax(at, "expected a decimal number"))
        };
        let small = |v: &str, at: usize| {
            v.parse::<u8>()
                .map_err(|_| syntax(at, "expected a number 0-255"))
        };
        for (k, v, at) in pairs {
            match k.as_str() {
                "time" => time = Some(PanelTime::parse_text(&v)?),
                "type" => {}
                "pin" if is_event => ev.0 = num(&v, at)?,
                "cardno" if is_event => ev.1 = num(&v, at)?,
                "eventaddr" if is_event => ev.2 = small(&v, at)?,
                "event" if is_event => ev.3 = Some(EventCode::from(small(&v, at)?)),
                "inoutstatus" if is_event => ev.4 = InOutState::from(small(&v, at)?),
                "verifytype" if is_event => ev.5 = VerifyMode::from(small(&v, at)?),
                "index" if is_event => ev.6 = Some(num(&v, at)?),
                "sensor" if is_status => sensor = Some(hex_u8(&v, at)?),
                "relay" if is_status => relay = hex_u8(&v, at)?,
                "alarm" if is_status => {
                    if v.len() != 8 {
                        return Err(syntax(at, "alarm must be 8 hex digits"));
                    }
                    for (i, a) in alarms.iter_mut().enumerate() {
                        *a = AlarmFlags(hex_u8(v.get(i * 2..i * 2 + 2).unwrap_or_default(), at)?);
                    }
                }
                _ => extra.push((k, v)),
            }
        }
        let time = time.ok_or_else(|| syntax(start, "record without `time`"))?;
        if is_status {
            let sensor = sensor.ok_or_else(|| syntax(start, "status record without `sensor`"))?;
            return Ok(TextRecord::Status(TextStatus {
                time,
                sensor,
                relay,
                alarms,
                extra,
            }));
        }
        let event =
            ev.3.ok_or_else(|| syntax(start, "event record without `event`"))?;
        Ok(TextRecord::Event(TextEvent {
            time,
            pin: ev.0,
            card_no: ev.1,
            event_addr: ev.2,
            event,
            in_out: ev.4,
            verify: ev.5,
            index: ev.6,
            extra,
        }))
    }

    /// The record as one line in the panel's key order (no line ending).
    pub fn to_line(&self) -> String {
        match self {
            TextRecord::Event(e) => {
                let mut s = format!(
                    "time={}\tpin={}\tcardno={}\teventaddr={}\tevent={}\tinoutstatus={}\tverifytype={}",
                    e.time,
                    e.pin,
                    e.card_no,
                    e.event_addr,
                    e.event.value(),
                    e.in_out.value(),
                    e.verify.value()
                );
                if let Some(i) = e.index {
                    s.push_str(&format!("\tindex={i}"));
                }
                for (k, v) in &e.extra {
                    s.push_str(&format!("\t{k}={v}"));
                }
                s
            }
            TextRecord::Status(st) => {
                let a = st.alarms.map(|a| a.0);
                let mut s = format!(
                    "time={}\tsensor={:02X}\trelay={:02X}\talarm={:02X}{:02X}{:02X}{:02X}",
                    st.time, st.sensor, st.relay, a[0], a[1], a[2], a[3]
                );
                for (k, v) in &st.extra {
                    s.push_str(&format!("\t{k}={v}"));
                }
                s
            }
            TextRecord::Other(pairs) => pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\t"),
        }
    }

    /// Encodes records joined by `\r\n` (for a simulator).
    pub fn encode_all(records: &[TextRecord]) -> Bytes {
        let lines: Vec<String> = records.iter().map(TextRecord::to_line).collect();
        Bytes::from(lines.join("\r\n"))
    }
}

impl fmt::Display for TextRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_line())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_records_a21() {
        let a = [
            3, 0, 0, 0, 0x02, 0, 0, 0, 1, 1, 0xff, 0, 0xfc, 0x31, 0xb3, 0x21,
        ];
        let RtRecord::Status(s) = RtRecord::decode(&a).unwrap() else {
            panic!("not a status record")
        };
        assert_eq!(s.sensor(1), Some(DoorSensor::Open));
        assert_eq!(s.sensor(2), Some(DoorSensor::Unknown));
        assert_eq!(s.relay_on(1), Some(true));
        assert_eq!(RtRecord::decode(&a).unwrap().encode(), a);
    }

    #[test]
    fn bad_lengths_and_times() {
        assert!(matches!(
            RtRecord::decode_all(&[0; 36]),
            Err(DecodeError::BadLength { len: 36, .. })
        ));
        assert_eq!(RtRecord::decode_all(&[]), Ok(vec![]));
        let mut rec = [0u8; 16];
        rec[12..].copy_from_slice(&((24 * 372 + 31 + 29) * 86_400u32).to_le_bytes());
        assert!(matches!(RtRecord::decode(&rec), Err(DecodeError::Time(_))));
    }

    #[test]
    fn text_errors() {
        for bad in [
            &b"time=2023-12-09 15:09:33\tsensor=2\trelay=04"[..],
            b"time=2023-12-09 15:09:33\tevent=x",
            b"pin=1\tevent=3",
            b"time=2023-12-09 15:09:33\tevent",
            b"time=2023-12-09 15:09:33\tsensor=24\talarm=000",
            b"time=2023-13-09 15:09:33\tsensor=24",
            b"\xff",
        ] {
            assert!(
                TextRecord::parse_all(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let typed = TextRecord::parse_all(
            b"type=rtstate\ttime=2023-12-09 15:09:33\tsensor=24\trelay=04\talarm=01000000",
        )
        .unwrap();
        assert!(matches!(&typed[0], TextRecord::Status(s) if s.alarm(1) == Some(AlarmFlags(1))));
        let other = TextRecord::parse_all(b"foo=bar").unwrap();
        assert_eq!(
            other,
            [TextRecord::Other(vec![("foo".into(), "bar".into())])]
        );
    }

    #[test]
    fn event_codes() {
        assert_eq!(EventCode::ALL.len(), 59);
        assert!(EventCode::OpenedAccidentally.is_alarm() && !EventCode::DoorOpened.is_alarm());
        assert_eq!(EventCode::from(255u8), EventCode::DoorAlarmStatus);
        assert_eq!(EventCode::from(99u8), EventCode::Other(99));
    }

    fn any_time() -> impl Strategy<Value = PanelTime> {
        (
            2000u16..=2133,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
        )
            .prop_filter_map("range", |(y, mo, d, h, mi, s)| {
                PanelTime::new(y, mo, d, h, mi, s).ok()
            })
    }

    fn any_record() -> impl Strategy<Value = RtRecord> {
        prop_oneof![
            (
                any::<u32>(),
                any::<u32>(),
                any::<u8>(),
                any::<u8>(),
                0u8..255,
                any::<u8>(),
                any_time()
            )
                .prop_map(|(c, p, v, d, e, io, t)| RtRecord::Event(RtEvent {
                    card_no: c,
                    pin: p,
                    verify: VerifyMode::from(v),
                    door: d,
                    event: EventCode::from(e),
                    in_out: InOutState::from(io),
                    time: t
                })),
            (
                any::<[u8; 4]>(),
                any::<[u8; 4]>(),
                any::<u8>(),
                any::<u8>(),
                any::<u8>(),
                any_time()
            )
                .prop_map(|(a, s, b8, b9, b11, t)| RtRecord::Status(DoorStatus {
                    alarms: a.map(AlarmFlags),
                    sensor_bytes: s,
                    verify_byte: b8,
                    relay: b9,
                    in_out_byte: b11,
                    time: t
                })),
        ]
    }

    proptest! {
        #[test]
        fn binary_round_trip(recs in proptest::collection::vec(any_record(), 0..12)) {
            let bytes = RtRecord::encode_all(&recs);
            let back = RtRecord::decode_all(&bytes).unwrap();
            prop_assert_eq!(&back, &recs);
            prop_assert_eq!(RtRecord::encode_all(&back), bytes);
        }

        #[test]
        fn binary_decode_then_encode(rec: [u8; 16]) {
            if let Ok(r) = RtRecord::decode(&rec) {
                prop_assert_eq!(r.encode(), rec);
            }
        }

        #[test]
        fn text_round_trip(t in any_time(), pin: u32, card: u32, addr: u8, ev: u8, io: u8, vt: u8, index: Option<u32>,
                           sensor: u8, relay: u8, alarms: [u8; 4]) {
            let recs = vec![
                TextRecord::Event(TextEvent { time: t, pin, card_no: card, event_addr: addr, event: EventCode::from(ev),
                    in_out: InOutState::from(io), verify: VerifyMode::from(vt), index, extra: vec![] }),
                TextRecord::Status(TextStatus { time: t, sensor, relay, alarms: alarms.map(AlarmFlags), extra: vec![("x".into(), "1".into())] }),
            ];
            let bytes = TextRecord::encode_all(&recs);
            let back = TextRecord::parse_all(&bytes).unwrap();
            prop_assert_eq!(&back, &recs);
            prop_assert_eq!(TextRecord::encode_all(&back), bytes);
        }

        #[test]
        fn text_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = TextRecord::parse_all(&data);
        }
    }
}
