//! Doors, outputs and alarms (ControlDevice, §6) and per-door state from the
//! real-time status record (§7.1).

use super::{Client, Error};
use crate::panel::command::Command;
use crate::panel::control::{ControlCommand, OutputTarget};
use crate::panel::rtlog::{AlarmFlags, DOORS, DoorSensor, DoorStatus};

/// The state of one door, from a status record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct DoorState {
    /// Door number, 1–4.
    pub door: u8,
    /// Door sensor: open, closed or unknown (no sensor).
    pub sensor: DoorSensor,
    /// Lock relay energised (door unlocked), where the firmware reports it
    /// (relay bitmask byte; `None` when the record carries none).
    pub unlocked: Option<bool>,
    /// Alarm flags (alarm, open timeout).
    pub alarm: AlarmFlags,
}

impl DoorState {
    /// The state of every door (1–4) in a status record.
    ///
    /// ```
    /// use zkproto::panel::client::DoorState;
    /// use zkproto::panel::rtlog::{AlarmFlags, DoorSensor, DoorStatus};
    /// use zkproto::panel::PanelTime;
    /// let s = DoorStatus { alarms: [AlarmFlags(1), AlarmFlags(0), AlarmFlags(0), AlarmFlags(0)],
    ///     sensor_bytes: [0x11, 2, 0, 0], verify_byte: 0, relay: 0b10, in_out_byte: 0, time: PanelTime::MIN };
    /// let d = DoorState::from_status(&s);
    /// assert_eq!(d[0].sensor, DoorSensor::Closed);
    /// assert!(d[0].alarm.alarm());
    /// assert_eq!(d[1].sensor, DoorSensor::Open);
    /// assert_eq!(d[1].unlocked, Some(true));
    /// ```
    pub fn from_status(s: &DoorStatus) -> Vec<DoorState> {
        (1..=DOORS).map(|n| Self::of_door(s, n)).collect()
    }

    /// The state of door `n` (1–4) in a status record.
    fn of_door(s: &DoorStatus, n: usize) -> DoorState {
        DoorState {
            door: u8::try_from(n).unwrap_or(u8::MAX),
            sensor: s.sensor(n).unwrap_or(DoorSensor::Unknown),
            unlocked: s.relay_on(n),
            alarm: s.alarm(n).unwrap_or_default(),
        }
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

    /// Unlocks a door for `seconds` (1–254); the lock closes by itself.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.open_door(1, 5).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_door(&mut self, door: u8, seconds: u8) -> Result<(), Error> {
        check_door(door)?;
        if !(1..=254).contains(&seconds) {
            return Err(Error::InvalidArgument(format!(
                "{seconds} s: a door opens for 1 to 254 s (use close_door / normally_open)"
            )));
        }
        self.control(ControlCommand::open_door(door, seconds)).await
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

    /// Lock and door state of every door, from a fresh status record.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for d in panel.door_states().await? {
    ///     println!("door {}: {:?}, unlocked {:?}, alarm {}", d.door, d.sensor, d.unlocked, d.alarm.any());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn door_states(&mut self) -> Result<Vec<DoorState>, Error> {
        Ok(DoorState::from_status(&self.status().await?))
    }

    /// The state of one door (1–4).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let d = panel.door_state(1).await?;
    /// # Ok(()) }
    /// ```
    pub async fn door_state(&mut self, door: u8) -> Result<DoorState, Error> {
        check_door(door)?;
        Ok(DoorState::of_door(&self.status().await?, usize::from(door)))
    }
}
