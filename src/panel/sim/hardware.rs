//! The physical side of the panel: readers, door sensors, exit buttons and
//! aux inputs (reference §7.2). Each action records its event in the
//! `transaction` table and the real-time queue.

use super::device::{Device, Relay, RtEventParts};
use crate::panel::rtlog::{EventCode, InOutState, VerifyMode};
use crate::panel::table::{TimezoneRow, TransactionRow, UserAuthorizeRow, UserRow};
use std::time::{Duration, Instant};

/// What a person presents at a reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// A card number (verify mode 4, card).
    Card(u32),
    /// A user id identified another way, e.g. fingerprint or keypad
    /// (verify mode 2, user id).
    Pin(u32),
}

impl Device {
    fn door_index(&self, door: u8) -> Option<usize> {
        let i = usize::from(door).checked_sub(1)?;
        (i < self.doors.len()).then_some(i)
    }

    fn drive_time(&self, door: u8) -> u32 {
        self.state.param_u32(&format!("Door{door}Drivertime"), 5)
    }

    /// Unlocks door `door` for its `Door{N}Drivertime` (0 = stays locked,
    /// 255 = normally open).
    fn unlock(&mut self, door: u8, now: Instant) {
        let secs = self.drive_time(door);
        let Some(d) = self.door_index(door).and_then(|i| self.doors.get_mut(i)) else {
            return;
        };
        d.relay = match secs {
            0 => d.relay,
            255 => Relay::Latched,
            s => Relay::Until(now + Duration::from_secs(s.into())),
        };
    }

    fn timezone_active(&self, id: u32, now: Instant) -> bool {
        let t = self.clock.at(now);
        let hhmm = u16::from(t.hour()) * 100 + u16::from(t.minute());
        let day = self.weekday_now(now);
        self.state
            .typed::<TimezoneRow>()
            .iter()
            .filter(|z| z.id == id)
            .any(|z| {
                z.spans.get(day).is_some_and(|spans| {
                    spans.iter().any(|s| {
                        (s.start_hhmm, s.end_hhmm) != (0, 0)
                            && s.start_hhmm <= hhmm
                            && hhmm <= s.end_hhmm
                    })
                })
            })
    }

    /// Someone presents a credential at the entry reader of `door`. The
    /// panel looks the user up, checks validity dates, `userauthorize` (door
    /// bit and time zone) and opens the lock for `Door{N}Drivertime` when
    /// granted. Events: 0 granted, 27 unknown card, 23 denied (unknown user
    /// id or no authorisation for the door), 22 outside the time zone,
    /// 29 expired. A door the panel lacks is treated as not authorised.
    pub fn swipe(&mut self, credential: Credential, door: u8, now: Instant) -> TransactionRow {
        self.tick(now);
        let users: Vec<UserRow> = self.state.typed();
        let (user, verify) = match credential {
            Credential::Card(c) => (
                users.iter().find(|u| c != 0 && u.card_no == c),
                VerifyMode::Card,
            ),
            Credential::Pin(p) => (users.iter().find(|u| u.pin == p), VerifyMode::Pin),
        };
        let card_no = match credential {
            Credential::Card(c) => c,
            Credential::Pin(_) => user.map_or(0, |u| u.card_no),
        };
        let event = match (user, credential) {
            (None, Credential::Card(_)) => EventCode::UnregisteredCard,
            (None, _) => EventCode::AccessDenied,
            (Some(u), _) => {
                let t = self.clock.at(now);
                let today =
                    u32::from(t.year()) * 10_000 + u32::from(t.month()) * 100 + u32::from(t.day());
                let bit = u32::from(door)
                    .checked_sub(1)
                    .and_then(|b| 1u32.checked_shl(b))
                    .unwrap_or(0);
                let grants: Vec<UserAuthorizeRow> = self
                    .state
                    .typed::<UserAuthorizeRow>()
                    .into_iter()
                    .filter(|a| a.pin == u.pin && a.doors & bit != 0)
                    .collect();
                if (u.start_date != 0 && today < u.start_date)
                    || (u.end_date != 0 && today > u.end_date)
                {
                    EventCode::CardExpired
                } else if grants.is_empty() || self.door_index(door).is_none() {
                    EventCode::AccessDenied
                } else if !grants
                    .iter()
                    .any(|a| self.timezone_active(a.timezone_id, now))
                {
                    EventCode::IllegalTimeZone
                } else {
                    EventCode::NormalPunchOpen
                }
            }
        };
        if event == EventCode::NormalPunchOpen {
            self.unlock(door, now);
        }
        self.event(
            now,
            RtEventParts {
                card_no,
                pin: user.map_or(0, |u| u.pin),
                verify,
                door,
                event,
                in_out: InOutState::Entry,
            },
        )
    }

    /// The door is pushed open: event 200 when its lock is released, else
    /// 102 "opened accidentally" and the alarm bit. Doors without a sensor
    /// (`Door{N}SensorType=0`) report nothing. False for a door the panel lacks.
    pub fn open_door(&mut self, door: u8, now: Instant) -> bool {
        self.tick(now);
        let Some(i) = self.door_index(door) else {
            return false;
        };
        let sensor = self.state.param_u32(&format!("Door{door}SensorType"), 0);
        let relay_on = self.relay(usize::from(door), now);
        let Some(d) = self.doors.get_mut(i) else {
            return false;
        };
        if d.open {
            return true;
        }
        d.open = true;
        d.opened_at = Some(now);
        d.timeout_fired = false;
        if sensor != 0 {
            let ev = if relay_on {
                EventCode::DoorOpened
            } else {
                d.alarm |= 0x01;
                EventCode::OpenedAccidentally
            };
            self.sensor_event(now, door, ev);
        }
        true
    }

    /// The door closes: event 201, the open-timeout bit clears and, with
    /// `Door{N}CloseAndLock=1`, the lock relocks.
    pub fn close_door(&mut self, door: u8, now: Instant) -> bool {
        self.tick(now);
        let Some(i) = self.door_index(door) else {
            return false;
        };
        let sensor = self.state.param_u32(&format!("Door{door}SensorType"), 0);
        let relock = self.state.param_u32(&format!("Door{door}CloseAndLock"), 0) == 1;
        let Some(d) = self.doors.get_mut(i) else {
            return false;
        };
        if !d.open {
            return true;
        }
        d.open = false;
        d.opened_at = None;
        d.alarm &= !0x02;
        if relock && d.relay != Relay::Latched {
            d.relay = Relay::Off;
        }
        if sensor != 0 {
            self.sensor_event(now, door, EventCode::DoorClosed);
        }
        true
    }

    fn sensor_event(&mut self, now: Instant, door: u8, event: EventCode) {
        self.system_event(now, door, event);
    }

    /// The exit button of `door` is pressed: event 202 and the lock opens
    /// for `Door{N}Drivertime`.
    pub fn press_exit_button(&mut self, door: u8, now: Instant) -> bool {
        self.tick(now);
        if self.door_index(door).is_none() {
            return false;
        }
        self.unlock(door, now);
        self.sensor_event(now, door, EventCode::ExitButtonOpen);
        true
    }

    /// Aux input `n` changes: 221 shorted, 220 disconnected.
    pub fn set_aux_input(&mut self, n: u8, shorted: bool, now: Instant) -> bool {
        self.tick(now);
        let Some(slot) = usize::from(n)
            .checked_sub(1)
            .and_then(|i| self.aux_in.get_mut(i))
        else {
            return false;
        };
        if *slot == shorted {
            return true;
        }
        *slot = shorted;
        let ev = if shorted {
            EventCode::AuxInputShorted
        } else {
            EventCode::AuxInputDisconnected
        };
        self.sensor_event(now, n, ev);
        true
    }

    /// An alarm on `door` (100 tamper, 101 duress, …): event and alarm bit.
    pub fn alarm(&mut self, door: u8, event: EventCode, now: Instant) -> bool {
        self.tick(now);
        let Some(d) = self.door_index(door).and_then(|i| self.doors.get_mut(i)) else {
            return false;
        };
        d.alarm |= 0x01;
        self.sensor_event(now, door, event);
        true
    }

    /// Alarm bits of door `n`: bit 0 alarm, bit 1 open timeout.
    pub fn alarm_bits(&self, door: u8) -> u8 {
        self.door_index(door)
            .and_then(|i| self.doors.get(i))
            .map_or(0, |d| d.alarm)
    }

    /// Whether door `n` is physically open.
    pub fn is_door_open(&self, door: u8) -> bool {
        self.door_index(door)
            .and_then(|i| self.doors.get(i))
            .is_some_and(|d| d.open)
    }

    /// Whether aux input `n` is shorted.
    pub fn aux_input(&self, n: u8) -> bool {
        usize::from(n)
            .checked_sub(1)
            .and_then(|i| self.aux_in.get(i))
            .copied()
            .unwrap_or(false)
    }
}
