//! ControlDevice (0x05): five bytes `[operation, p1, p2, p3, p4]` (reference §6).
//!
//! ```
//! use zkproto::panel::control::{ControlCommand, OutputTarget};
//! let open = ControlCommand::Output { target: OutputTarget::Door(1), seconds: 5 };
//! assert_eq!(open.encode(), [1, 1, 1, 5, 0]);
//! assert_eq!(ControlCommand::decode(&[2, 0, 0, 0, 0]), ControlCommand::CancelAlarm);
//! ```

/// Length of the ControlDevice data.
pub const LEN: usize = 5;

/// What an output command drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum OutputTarget {
    /// The lock relay of door n (p2 = 1).
    Door(u8),
    /// Auxiliary output n (p2 = 2).
    AuxOutput(u8),
    /// Another address type, kept raw: (p2, p1).
    Other(u8, u8),
}

/// A ControlDevice operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ControlCommand {
    /// Operation 1. Door: 0 = close, 1–254 = open for n seconds, 255 = normally
    /// open until cancelled. Aux output: 0 = off, n = on for n seconds.
    Output {
        /// Door or aux output.
        target: OutputTarget,
        /// Seconds (p3).
        seconds: u8,
    },
    /// Operation 2: clear the alarm bit of all doors (event 7).
    CancelAlarm,
    /// Operation 3: reboot (the panel replies first).
    Restart,
    /// Operation 4: `enable = false` cancels today's normal-open time zone of
    /// the door, `true` re-enables it (events 10 / 11).
    NormalOpen {
        /// Door number.
        door: u8,
        /// Re-enable (true) or cancel (false).
        enable: bool,
    },
    /// Any other operation or parameter combination, kept raw. Operations 5
    /// and 6 exist in the firmware as debug/backup hooks: never send them.
    Raw([u8; LEN]),
}

impl ControlCommand {
    /// Open door `n` for `seconds` (255 = normally open).
    pub const fn open_door(door: u8, seconds: u8) -> Self {
        ControlCommand::Output {
            target: OutputTarget::Door(door),
            seconds,
        }
    }

    /// Close door `n`.
    pub const fn close_door(door: u8) -> Self {
        ControlCommand::Output {
            target: OutputTarget::Door(door),
            seconds: 0,
        }
    }

    /// The five data bytes.
    pub const fn encode(self) -> [u8; LEN] {
        match self {
            ControlCommand::Output { target, seconds } => {
                let (p1, p2) = match target {
                    OutputTarget::Door(n) => (n, 1),
                    OutputTarget::AuxOutput(n) => (n, 2),
                    OutputTarget::Other(kind, n) => (n, kind),
                };
                [1, p1, p2, seconds, 0]
            }
            ControlCommand::CancelAlarm => [2, 0, 0, 0, 0],
            ControlCommand::Restart => [3, 0, 0, 0, 0],
            ControlCommand::NormalOpen { door, enable } => [4, door, enable as u8, 0, 0],
            ControlCommand::Raw(b) => b,
        }
    }

    /// Decodes the five data bytes (for a simulator); unusual combinations
    /// (non-zero reserved bytes, unknown operations) come back as [`ControlCommand::Raw`].
    pub const fn decode(b: &[u8; LEN]) -> Self {
        match *b {
            [1, p1, 1, p3, 0] => ControlCommand::Output {
                target: OutputTarget::Door(p1),
                seconds: p3,
            },
            [1, p1, 2, p3, 0] => ControlCommand::Output {
                target: OutputTarget::AuxOutput(p1),
                seconds: p3,
            },
            [1, p1, p2, p3, 0] => ControlCommand::Output {
                target: OutputTarget::Other(p2, p1),
                seconds: p3,
            },
            [2, 0, 0, 0, 0] => ControlCommand::CancelAlarm,
            [3, 0, 0, 0, 0] => ControlCommand::Restart,
            [4, door, 0, 0, 0] => ControlCommand::NormalOpen {
                door,
                enable: false,
            },
            [4, door, 1, 0, 0] => ControlCommand::NormalOpen { door, enable: true },
            raw => ControlCommand::Raw(raw),
        }
    }

    /// Decodes from a slice of exactly five bytes.
    pub fn parse(data: &[u8]) -> Result<Self, super::error::DecodeError> {
        match data.first_chunk::<LEN>() {
            Some(b) if data.len() == LEN => Ok(Self::decode(b)),
            _ => Err(super::error::DecodeError::WrongSize {
                what: "control command",
                expected: LEN,
                got: data.len(),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn reference_examples() {
        assert_eq!(
            ControlCommand::open_door(1, 200).encode(),
            [1, 1, 1, 200, 0]
        );
        let aux = ControlCommand::Output {
            target: OutputTarget::AuxOutput(2),
            seconds: 100,
        };
        assert_eq!(aux.encode(), [1, 2, 2, 100, 0]);
        assert_eq!(ControlCommand::Restart.encode(), [3, 0, 0, 0, 0]);
        assert_eq!(
            ControlCommand::NormalOpen {
                door: 2,
                enable: true
            }
            .encode(),
            [4, 2, 1, 0, 0]
        );
        assert_eq!(ControlCommand::close_door(1).encode(), [1, 1, 1, 0, 0]);
        assert!(ControlCommand::parse(&[1, 1, 1]).is_err());
    }

    #[test]
    fn every_byte_pattern_round_trips() {
        for op in 0..=6u8 {
            for p1 in [0u8, 1, 4, 255] {
                for p2 in 0..=3u8 {
                    for p3 in [0u8, 5, 255] {
                        for p4 in [0u8, 1] {
                            let b = [op, p1, p2, p3, p4];
                            assert_eq!(ControlCommand::decode(&b).encode(), b);
                        }
                    }
                }
            }
        }
    }
}
