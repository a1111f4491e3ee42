//! Doors, outputs and alarms (ControlDevice, §6) and per-door state from the
//! real-time status record (§7.1).

use super::{Client, Error};
use crate::panel::command::Command;
use crate::panel::control::{ControlCommand, OutputTarget};
use crate::panel::rtlog::{AlarmFlags, DOORS, DoorSensor, DoorStatus};
use std::time::Duration;

/// The state of one door as read, from a status record — what
/// [`Client::door_states`] returns. (The status record itself is
/// [`DoorStatus`], the wire type of §7.1.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DoorReading {
    /// Door number, 1–4.
    pub door: u8,
    /// Door sensor: open, closed or unknown (no sensor).
    pub sensor: DoorSensor,
    /// Lock relay energised (door unlocked), where the firmware reports it
    /// (relay bitmask byte; `None` when the record carries none, or on old
    /// firmware that marks byte 8 with 200 and always sends relay 0).
    pub unlocked: Option<bool>,
    /// Alarm flags (alarm, open timeout).
    pub alarm: AlarmFlags,
}

/// Byte 8 of a status record on old firmware, which sends no relay byte
/// (it is always 0 there, so the lock state is unknown).
const OLD_FIRMWARE_VERIFY_BYTE: u8 = 200;

impl DoorReading {
    /// The state of every door (1–4) in a status record. On old firmware
    /// (byte 8 = 200, no relay byte) `unlocked` is `None` for every door.
    ///
    /// ```
    /// use zkproto::panel::client::DoorReading;
    /// use zkproto::panel::rtlog::{AlarmFlags, DoorSensor, DoorStatus};
    /// use zkproto::panel::PanelTime;
    /// let s = DoorStatus { alarms: [AlarmFlags(1), AlarmFlags(0), AlarmFlags(0), AlarmFlags(0)],
    ///     sensor_bytes: [0x11, 2, 0, 0], verify_byte: 0, relay: 0b10, in_out_byte: 0, time: PanelTime::MIN };
    /// let d = DoorReading::from_status(&s);
    /// assert_eq!(d[0].sensor, DoorSensor::Closed);
    /// assert!(d[0].alarm.alarm());
    /// assert_eq!(d[1].sensor, DoorSensor::Open);
    /// assert_eq!(d[1].unlocked, Some(true));
    /// let old = DoorStatus { verify_byte: 200, ..s };
    /// assert_eq!(DoorReading::from_status(&old)[1].unlocked, None);
    /// ```
    pub fn from_status(s: &DoorStatus) -> Vec<DoorReading> {
        (1..=DOORS).map(|n| Self::of_door(s, n)).collect()
    }

    /// The state of door `n` (1–4) in a status record.
    fn of_door(s: &DoorStatus, n: usize) -> DoorReading {
        let relay_known = s.verify_byte != OLD_FIRMWARE_VERIFY_BYTE;
        DoorReading {
            door: u8::try_from(n).unwrap_or(u8::MAX),
            sensor: s.sensor(n).unwrap_or(DoorSensor::Unknown),
            unlocked: s.relay_on(n).filter(|_| relay_known),
            alarm: s.alarm(n).unwrap_or_default(),
        }
    }
}

/// The number of doors a `LockCount` parameter value announces: 1 to 4,
/// `None` when the value is missing or not one of those.
///
/// ```
/// use zkproto::panel::client::lock_count;
/// assert_eq!(lock_count(Some(" 2")), Some(2));
/// assert_eq!(lock_count(Some("0")), None);
/// assert_eq!(lock_count(Some("5")), None);
/// assert_eq!(lock_count(None), None);
/// ```
pub fn lock_count(value: Option<&str>) -> Option<u8> {
    value
        .and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|n| (1..=4).contains(n))
}

/// Whole seconds of an unlock, rounded to the nearest second: 1 to 254
/// (255 means "normally open" on the wire).
fn unlock_seconds(duration: Duration) -> Result<u8, Error> {
    let secs = (duration.as_millis() + 500) / 1000;
    match u8::try_from(secs) {
        Ok(s @ 1..=254) => Ok(s),
        _ => Err(Error::InvalidArgument(format!(
            "{duration:?}: a door unlocks for 1 to 254 s (use close_door / normally_open)"
        ))),
    }
}

fn check_door(door: u8) -> Result<(), Error> {
    if (1..=4).contains(&door) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "door {door}: panels have doors 1 to 4"
        )))
    }
}

fn check_aux(n: u8) -> Result<(), Error> {
    if (1..=4).contains(&n) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "aux output {n}: panels have outputs 1 to 4"
        )))
    }
}

impl Client {
    /// Sends a ControlDevice operation. The firmware's undocumented
    /// operations 5 (shell hook) and 6 are refused before sending.
    ///
    /// ```no_run
    /// use zkproto::panel::ControlCommand;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.control(ControlCommand::open_door(2, 3)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn control(&mut self, cmd: ControlCommand) -> Result<(), Error> {
        let bytes = cmd.encode();
        if matches!(bytes.first(), Some(5 | 6)) {
            return Err(Error::InvalidArgument(
                "ControlDevice operations 5 and 6 are firmware debug hooks and are never sent"
                    .into(),
            ));
        }
        self.call(Command::ControlDevice, &bytes).await?;
        Ok(())
    }

    /// Unlocks door `door` (1–4) for `duration`, rounded to whole seconds
    /// (1 to 254 s); the lock closes by itself. The terminal client's
    /// [`unlock`](crate::terminal::client::Client::unlock) takes the same
    /// duration; a panel also needs the door.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.unlock(1, std::time::Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&mut self, door: u8, duration: Duration) -> Result<(), Error> {
        check_door(door)?;
        let seconds = unlock_seconds(duration)?;
        self.control(ControlCommand::open_door(door, seconds)).await
    }

    /// The number of doors of this panel, from its `LockCount` parameter
    /// (1 to 4). A panel whose parameter is missing or out of range is
    /// taken to have 4 doors, the most any model has.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// println!("{} doors", panel.door_count().await?);
    /// # Ok(()) }
    /// ```
    pub async fn door_count(&mut self) -> Result<u8, Error> {
        let value = self.param("LockCount").await?;
        Ok(lock_count(value.as_deref()).unwrap_or(4))
    }

    /// Locks a door now.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.close_door(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn close_door(&mut self, door: u8) -> Result<(), Error> {
        check_door(door)?;
        self.control(ControlCommand::close_door(door)).await
    }

    /// Keeps a door unlocked until [`cancel_normally_open`](Client::cancel_normally_open).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.normally_open(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn normally_open(&mut self, door: u8) -> Result<(), Error> {
        check_door(door)?;
        self.control(ControlCommand::open_door(door, 255)).await
    }

    /// Ends the normally-open state of a door: cancels today's normal-open
    /// time zone (op 4, p2 = 0), then locks the door (§6).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.cancel_normally_open(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_normally_open(&mut self, door: u8) -> Result<(), Error> {
        check_door(door)?;
        self.control(ControlCommand::NormalOpen {
            door,
            enable: false,
        })
        .await?;
        self.control(ControlCommand::close_door(door)).await
    }

    /// Re-enables today's normal-open time zone of a door (op 4, p2 = 1).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.enable_normal_open_time_zone(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable_normal_open_time_zone(&mut self, door: u8) -> Result<(), Error> {
        check_door(door)?;
        self.control(ControlCommand::NormalOpen { door, enable: true })
            .await
    }

    /// Switches an auxiliary output on for `seconds` (1–255).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.aux_output_on(2, 10).await?;
    /// # Ok(()) }
    /// ```
    pub async fn aux_output_on(&mut self, output: u8, seconds: u8) -> Result<(), Error> {
        check_aux(output)?;
        if seconds == 0 {
            return Err(Error::InvalidArgument(
                "0 s switches the output off: use aux_output_off".into(),
            ));
        }
        self.control(ControlCommand::Output {
            target: OutputTarget::AuxOutput(output),
            seconds,
        })
        .await
    }

    /// Switches an auxiliary output off.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.aux_output_off(2).await?;
    /// # Ok(()) }
    /// ```
    pub async fn aux_output_off(&mut self, output: u8) -> Result<(), Error> {
        check_aux(output)?;
        self.control(ControlCommand::Output {
            target: OutputTarget::AuxOutput(output),
            seconds: 0,
        })
        .await
    }

    /// Clears the alarm of every door (event 7).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.cancel_alarm().await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_alarm(&mut self) -> Result<(), Error> {
        self.control(ControlCommand::CancelAlarm).await
    }

    /// Restarts the panel; the connection is closed afterwards.
    ///
    /// ```no_run
    /// # async fn run(mut panel: zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.restart().await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart(mut self) -> Result<(), Error> {
        let r = self.control(ControlCommand::Restart).await;
        self.closed = true;
        r
    }

    /// The latest door/alarm status record. Events read on the way are kept
    /// for the next [`poll_events`](Client::poll_events) / event stream.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let s = panel.status().await?;
    /// println!("door 1 sensor {:?}", s.sensor(1));
    /// # Ok(()) }
    /// ```
    pub async fn status(&mut self) -> Result<DoorStatus, Error> {
        // The queue holds at most 30 events (§7.1); a status record follows
        // once it is drained.
        for _ in 0..64 {
            if self.poll_once().await?
                && let Some(s) = self.last_status
            {
                return Ok(s);
            }
        }
        Err(Error::Missing {
            what: "a door status record (none after 64 real-time log polls)",
        })
    }

    /// Lock and door state of each door the panel has
    /// ([`door_count`](Client::door_count)), from a fresh status record.
    /// Old firmware's lock relay is unknown (see [`DoorReading::unlocked`]).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for d in panel.door_states().await? {
    ///     println!("door {}: {:?}, unlocked {:?}, alarm {}", d.door, d.sensor, d.unlocked, d.alarm.any());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn door_states(&mut self) -> Result<Vec<DoorReading>, Error> {
        let doors = usize::from(self.door_count().await?);
        let mut all = DoorReading::from_status(&self.status().await?);
        all.truncate(doors);
        Ok(all)
    }

    /// The state of one door (1 to [`door_count`](Client::door_count)).
    /// A door the panel does not have is [`Error::InvalidArgument`].
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let d = panel.door_state(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn door_state(&mut self, door: u8) -> Result<DoorReading, Error> {
        check_door(door)?;
        let doors = self.door_count().await?;
        if door > doors {
            return Err(Error::InvalidArgument(format!(
                "door {door}: this panel has {doors} door(s) (LockCount)"
            )));
        }
        Ok(DoorReading::of_door(
            &self.status().await?,
            usize::from(door),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlock_seconds_round_and_stay_in_range() {
        assert_eq!(unlock_seconds(Duration::from_millis(500)).ok(), Some(1));
        assert_eq!(unlock_seconds(Duration::from_millis(2499)).ok(), Some(2));
        assert_eq!(unlock_seconds(Duration::from_secs(254)).ok(), Some(254));
        assert!(unlock_seconds(Duration::from_millis(499)).is_err());
        assert!(unlock_seconds(Duration::from_millis(254_500)).is_err());
        assert!(unlock_seconds(Duration::from_secs(u64::MAX)).is_err());
    }

    #[test]
    fn lock_count_accepts_one_to_four() {
        for n in 1..=4u8 {
            assert_eq!(lock_count(Some(&n.to_string())), Some(n));
        }
        assert_eq!(lock_count(Some("")), None);
        assert_eq!(lock_count(Some("x")), None);
        assert_eq!(lock_count(Some("256")), None);
    }
}
