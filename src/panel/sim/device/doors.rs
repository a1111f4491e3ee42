//! Doors, relays, the real-time log and ControlDevice of the panel model
//! (§4, §6, §7): timers evaluated lazily against the instants passed in.

use super::{Device, PeerKey, RT_QUEUE_LEN, Relay, Step};
use crate::panel::command::ErrorCode;
use crate::panel::control::{ControlCommand, OutputTarget};
use crate::panel::rtlog::{
    AlarmFlags, DOORS, DoorStatus, EventCode, InOutState, RtEvent, RtRecord, TextEvent, TextRecord,
    TextStatus, VerifyMode,
};
use crate::panel::sim::clock::weekday;
use crate::panel::table::{TransactionRow, UserRow};
use bytes::Bytes;
use std::time::{Duration, Instant};

impl Device {
    pub(super) fn rtlog_binary(&mut self, now: Instant) -> Bytes {
        let n = self.profile.rtlog_batch.max(1).min(self.queue.len());
        if n == 0 {
            return RtRecord::encode_all(&[RtRecord::Status(self.door_status(now))]);
        }
        let recs: Vec<RtRecord> = self.queue.drain(..n).map(RtRecord::Event).collect();
        RtRecord::encode_all(&recs)
    }

    pub(super) fn rtlog_text(&mut self, now: Instant) -> Bytes {
        let n = self.profile.rtlog_batch.max(1).min(self.queue.len());
        if n == 0 {
            let s = self.door_status(now);
            let mut sensor = 0u8;
            for (i, b) in s.sensor_bytes.iter().enumerate() {
                sensor |= (b & 0x03) << (2 * i);
            }
            let relay = self.relay_mask(now);
            return TextRecord::encode_all(&[TextRecord::Status(TextStatus {
                time: s.time,
                sensor,
                relay,
                alarms: s.alarms,
                extra: Vec::new(),
            })]);
        }
        let base = self
            .event_index
            .wrapping_sub(u32::try_from(self.queue.len()).unwrap_or(0));
        let recs: Vec<TextRecord> = self
            .queue
            .drain(..n)
            .enumerate()
            .map(|(i, e)| {
                TextRecord::Event(TextEvent {
                    time: e.time,
                    pin: e.pin,
                    card_no: e.card_no,
                    event_addr: e.door,
                    event: e.event,
                    in_out: e.in_out,
                    verify: e.verify,
                    index: Some(
                        base.wrapping_add(u32::try_from(i).unwrap_or(0))
                            .wrapping_add(1),
                    ),
                    extra: Vec::new(),
                })
            })
            .collect();
        TextRecord::encode_all(&recs)
    }

    pub(crate) fn relay_mask(&self, now: Instant) -> u8 {
        self.doors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.relay.on(now))
            .fold(0u8, |m, (i, _)| m | (1 << i))
    }

    /// The door/alarm status record the panel would send now.
    pub fn door_status(&self, now: Instant) -> DoorStatus {
        let mut alarms = [AlarmFlags(0); DOORS];
        let mut sensor_bytes = [0u8; DOORS];
        for (i, d) in self.doors.iter().enumerate() {
            if let Some(a) = alarms.get_mut(i) {
                *a = AlarmFlags(d.alarm);
            }
            if let Some(s) = sensor_bytes.get_mut(i) {
                *s = self.sensor_value(i + 1);
            }
        }
        DoorStatus {
            alarms,
            sensor_bytes,
            verify_byte: self.profile.status_verify_byte,
            relay: if self.profile.status_relay_byte {
                self.relay_mask(now)
            } else {
                0
            },
            in_out_byte: 0,
            time: self.clock.at(now),
        }
    }

    /// What the status record reports for door `n`: 0 no sensor, 1 closed, 2 open.
    pub(crate) fn sensor_value(&self, door: usize) -> u8 {
        match self.doors.get(door.wrapping_sub(1)) {
            Some(d) if self.door_param(door, "SensorType", 0) != 0 => {
                if d.open {
                    2
                } else {
                    1
                }
            }
            _ => 0,
        }
    }

    /// Records an event: appended to the `transaction` table and queued for
    /// the real-time log (the oldest queued event is lost when 30 wait).
    pub(crate) fn event(&mut self, at: Instant, e: RtEventParts) -> TransactionRow {
        let time = self.clock.at(at);
        let ev = RtEvent {
            card_no: e.card_no,
            pin: e.pin,
            verify: e.verify,
            door: e.door,
            event: e.event,
            in_out: e.in_out,
            time,
        };
        if self.queue.len() >= RT_QUEUE_LEN {
            self.queue.pop_front();
        }
        self.queue.push_back(ev);
        self.event_index = self.event_index.wrapping_add(1);
        // The stored row is the same record (TransactionRow = RtEvent).
        let row: TransactionRow = ev;
        self.state.append_typed(&row);
        row
    }

    /// A device event (no card, no user): a sensor, a button, an alarm.
    pub(crate) fn system_event(
        &mut self,
        at: Instant,
        door: u8,
        event: EventCode,
    ) -> TransactionRow {
        self.event(
            at,
            RtEventParts {
                card_no: 0,
                pin: 0,
                verify: VerifyMode::System,
                door,
                event,
                in_out: InOutState::None,
            },
        )
    }

    /// Runs the timers up to `now`: expired relays drop (no event), an open
    /// door past `Door{N}Detectortime` raises event 28 and its timeout bit.
    pub fn tick(&mut self, now: Instant) {
        self.clock.start(now);
        for i in 0..self.doors.len() {
            let door = i + 1;
            let detector = self.door_param(door, "Detectortime", 0);
            let sensor = self.door_param(door, "SensorType", 0);
            let Some(d) = self.doors.get_mut(i) else {
                continue;
            };
            if let Relay::Until(t) = d.relay
                && now >= t
            {
                d.relay = Relay::Off;
            }
            if let (true, Some(at), false) = (d.open, d.opened_at, d.timeout_fired) {
                let due = at + Duration::from_secs(detector.into());
                if sensor != 0 && detector > 0 && now >= due {
                    d.timeout_fired = true;
                    d.alarm |= 0x02;
                    self.system_event(
                        due,
                        u8::try_from(door).unwrap_or(0),
                        EventCode::OpeningTimeout,
                    );
                }
            }
        }
        for r in &mut self.aux_out {
            if let Relay::Until(t) = *r
                && now >= t
            {
                *r = Relay::Off;
            }
        }
    }

    pub(super) fn control(&mut self, payload: &[u8], now: Instant) -> Step {
        let Ok(c) = ControlCommand::parse(payload) else {
            return Step::err(ErrorCode::BadParameter);
        };
        match c {
            ControlCommand::Output {
                target: OutputTarget::Door(n),
                seconds,
            } => {
                if !self.remote_door(n, seconds, now) {
                    return Step::err(ErrorCode::BadParameter);
                }
            }
            ControlCommand::Output {
                target: OutputTarget::AuxOutput(n),
                seconds,
            } => {
                let Some(r) = self.aux_out.get_mut(usize::from(n).wrapping_sub(1)) else {
                    return Step::err(ErrorCode::BadParameter);
                };
                let (relay, ev) = match seconds {
                    0 => (Relay::Off, EventCode::AuxOutputClosed),
                    255 => (Relay::Latched, EventCode::AuxOutputOpened),
                    s => (
                        Relay::Until(now + Duration::from_secs(s.into())),
                        EventCode::AuxOutputOpened,
                    ),
                };
                *r = relay;
                self.system_event(now, n, ev);
            }
            ControlCommand::CancelAlarm => {
                for d in &mut self.doors {
                    d.alarm &= !0x01;
                }
                self.system_event(now, 0, EventCode::CancelAlarm);
            }
            ControlCommand::Restart => {
                self.restart(now);
                return Step::ok(Bytes::new()).closing();
            }
            ControlCommand::NormalOpen { door, enable } => {
                let n = usize::from(door);
                if n == 0 || n > self.doors.len() {
                    return Step::err(ErrorCode::BadParameter);
                }
                if enable {
                    self.system_event(now, door, EventCode::EnableNormalOpen);
                } else {
                    let t = self.clock.at(now);
                    let day = u32::from(t.year()) * 10_000
                        + u32::from(t.month()) * 100
                        + u32::from(t.day());
                    self.state
                        .params
                        .insert(format!("Door{n}CancelKeepOpenDay"), day.to_string());
                    if let Some(d) = self.doors.get_mut(n - 1)
                        && d.relay == Relay::Latched
                    {
                        d.relay = Relay::Until(now);
                    }
                    self.system_event(now, door, EventCode::DisableNormalOpen);
                }
            }
            // Operations 5 and 6 are firmware debug/backup hooks: refused.
            _ => return Step::err(ErrorCode::BadParameter),
        }
        Step::ok(Bytes::new())
    }

    /// ControlDevice output on a door lock: 0 closes, 1–254 opens for that
    /// many seconds, 255 holds it open. False for a door the panel lacks.
    pub(crate) fn remote_door(&mut self, n: u8, seconds: u8, now: Instant) -> bool {
        let Some(d) = self.doors.get_mut(usize::from(n).wrapping_sub(1)) else {
            return false;
        };
        let event = match seconds {
            0 if d.relay == Relay::Latched => EventCode::FailedToCloseDuringNormalOpen,
            0 => {
                d.relay = Relay::Off;
                EventCode::RemoteClosing
            }
            255 => {
                d.relay = Relay::Latched;
                EventCode::RemoteNormalOpening
            }
            s => {
                d.relay = Relay::Until(now + Duration::from_secs(s.into()));
                EventCode::RemoteOpening
            }
        };
        self.system_event(now, n, event);
        true
    }

    /// Reboot: relays drop, alarms clear, connections close, event 206.
    pub fn restart(&mut self, now: Instant) {
        for d in &mut self.doors {
            d.relay = Relay::Off;
            d.alarm = 0;
        }
        for r in &mut self.aux_out {
            *r = Relay::Off;
        }
        for peer in core::mem::take(&mut self.conns).into_keys() {
            if let PeerKey::Tcp(id) = peer {
                self.kicked.insert(id);
            }
        }
        self.current_tcp = None;
        self.queue.clear();
        self.system_event(now, 0, EventCode::DeviceStart);
    }

    /// The lock relay of door `n` (1-based) is energised now.
    pub fn relay(&self, door: usize, now: Instant) -> bool {
        self.doors
            .get(door.wrapping_sub(1))
            .is_some_and(|d| d.relay.on(now))
    }

    /// Aux output `n` (1-based) is on now.
    pub fn aux_output(&self, n: usize, now: Instant) -> bool {
        self.aux_out
            .get(n.wrapping_sub(1))
            .is_some_and(|r| r.on(now))
    }

    /// Users (typed view of the `user` table).
    pub fn users(&self) -> Vec<UserRow> {
        self.state.typed()
    }

    pub(crate) fn weekday_now(&self, now: Instant) -> usize {
        weekday(self.clock.at(now))
    }
}

/// The parts of an event record the caller chooses (time comes from the clock).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RtEventParts {
    pub(crate) card_no: u32,
    pub(crate) pin: u32,
    pub(crate) verify: VerifyMode,
    pub(crate) door: u8,
    pub(crate) event: EventCode,
    pub(crate) in_out: InOutState,
}
