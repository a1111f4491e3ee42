//! Simulator configuration: [`SimConfig`] and device [`Profile`]s.

use crate::terminal::commkey::CommKey;
use crate::terminal::record::attendance::AttendanceLayout;
use crate::terminal::record::door::{DoorPolarity, UnlockUnit};
use crate::terminal::record::text::TextEncoding;
use crate::terminal::record::user::UserLayout;
use crate::terminal::sim::pacing::Pacing;
use std::path::PathBuf;

/// How the simulated firmware formats the data of an `EF_ATTLOG` event
/// (reference §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttLogEventFormat {
    /// 10 bytes: `u16 uid, u8 verify, u8 state, time[6]` (`PIN2Width ≤ 5`).
    Uid10,
    /// 12 bytes: `u32 user id, u8 verify, u8 state, time[6]` (`PIN2Width > 5`).
    UserId12,
    /// 32 bytes: `char user_id[24], u8 verify, u8 state, time[6]` (TFT firmware).
    Text32,
    /// 36 bytes: the 32-byte form plus a u32 work code.
    Text36,
}

impl AttLogEventFormat {
    /// Data length of one event in this format.
    ///
    /// ```
    /// use zkproto::terminal::sim::AttLogEventFormat;
    /// assert_eq!(AttLogEventFormat::Text32.len(), 32);
    /// assert_eq!(AttLogEventFormat::UserId12.len(), 12);
    /// ```
    pub const fn len(self) -> usize {
        match self {
            AttLogEventFormat::Uid10 => 10,
            AttLogEventFormat::UserId12 => 12,
            AttLogEventFormat::Text32 => 32,
            AttLogEventFormat::Text36 => 36,
        }
    }

    /// Always false (every format carries data); present for clippy's
    /// `len_without_is_empty`.
    pub const fn is_empty(self) -> bool {
        false
    }
}

/// What kind of device the simulator pretends to be.
///
/// Three profiles are built in: [`Profile::zk8`] (TFT firmware),
/// [`Profile::zk8_1008`] (the same with 1,008-byte burst packets) and
/// [`Profile::zk6`] (black-and-white firmware). All fields are public so a
/// test can start from one and change what it needs.
///
/// ```
/// use zkproto::terminal::sim::Profile;
/// use zkproto::terminal::record::user::UserLayout;
/// let p = Profile::by_name("zk6").unwrap();
/// assert_eq!(p.user_layout, UserLayout::Compact28);
/// assert!(p.udp && !p.tcp);
/// assert!(Profile::by_name("zk9").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Short name (`"zk8"`, `"zk6"`).
    pub name: String,
    /// User record layout (28 or 72 bytes).
    pub user_layout: UserLayout,
    /// Attendance record layout.
    pub attendance_layout: AttendanceLayout,
    /// Whether the device listens on TCP.
    pub tcp: bool,
    /// Whether the device listens on UDP.
    pub udp: bool,
    /// Packet size announced in `CMD_PREPARE_DATA` and used for the
    /// `CMD_DATA` packets of a burst over TCP (UDP always uses 1024).
    /// Firmware differs: 65,528 (`0xFFF8`, the firmware code and a capture),
    /// 1,008 and 65,536 are seen in the field.
    pub tcp_burst_packet_size: u32,
    /// How reply frames are paced on the wire (see [`Pacing`]);
    /// [`SimConfig::pacing`] overrides it.
    pub pacing: Pacing,
    /// `CMD_GET_VERSION` answer, e.g. `"Ver 6.60 Apr 28 2015"`.
    pub firmware: String,
    /// `~Platform` option.
    pub platform: String,
    /// `~SerialNumber` option.
    pub serial_number: String,
    /// `~DeviceName` option.
    pub device_name: String,
    /// `MAC` option.
    pub mac: String,
    /// `~PIN2Width` and the `CMD_GET_PINWIDTH` answer.
    pub pin_width: u8,
    /// `~ZKFPVersion` option (9 or 10).
    pub fp_version: u8,
    /// User capacity (`StdUser` of the free sizes).
    pub user_capacity: u32,
    /// Template capacity (`StdTmp`).
    pub template_capacity: u32,
    /// Attendance capacity (`StdLog`; the simulator keeps storing beyond it).
    pub attendance_capacity: u32,
    /// Format of `EF_ATTLOG` events.
    pub attlog_event: AttLogEventFormat,
    /// Unit of the `CMD_UNLOCK` duration.
    pub unlock_unit: UnlockUnit,
    /// Polarity of the `CMD_DOORSTATE_RRQ` byte.
    pub door_polarity: DoorPolarity,
    /// Machine state reported by `CMD_STATE_RRQ` while idle (2 = identifying).
    pub idle_state: u16,
}

impl Profile {
    /// TFT firmware ("zk8"): TCP and UDP, 72-byte users, 40-byte attendance,
    /// 32-byte `EF_ATTLOG` events, 65,528-byte TCP burst packets,
    /// [`Pacing::link`], platform `ZEM760_TFT`.
    pub fn zk8() -> Profile {
        Profile {
            name: "zk8".into(),
            user_layout: UserLayout::Extended72,
            attendance_layout: AttendanceLayout::Tft40,
            tcp: true,
            udp: true,
            tcp_burst_packet_size: 65_528,
            pacing: Pacing::link(),
            firmware: "Ver 6.60 Apr 28 2015".into(),
            platform: "ZEM760_TFT".into(),
            serial_number: "OIN7030067012300001".into(),
            device_name: "iClock260".into(),
            mac: "00:17:61:c8:aa:01".into(),
            pin_width: 9,
            fp_version: 10,
            user_capacity: 10_000,
            template_capacity: 3_000,
            attendance_capacity: 100_000,
            attlog_event: AttLogEventFormat::Text32,
            unlock_unit: UnlockUnit::Tenths,
            door_polarity: DoorPolarity::OneIsOpen,
            idle_state: 2,
        }
    }

    /// TFT firmware announcing 1,008-byte burst packets ("zk8-1008"): like
    /// [`zk8`](Self::zk8), so a 64 KB chunk is a burst of 65 `CMD_DATA`
    /// packets.
    ///
    /// ```
    /// use zkproto::terminal::sim::Profile;
    /// let p = Profile::by_name("ZK8-1008").unwrap();
    /// assert_eq!((p.name.as_str(), p.tcp_burst_packet_size), ("zk8-1008", 1008));
    /// assert_eq!(Profile::zk8().tcp_burst_packet_size, 0xFFF8);
    /// ```
    pub fn zk8_1008() -> Profile {
        Profile {
            name: "zk8-1008".into(),
            tcp_burst_packet_size: 1008,
            ..Profile::zk8()
        }
    }

    /// Black-and-white firmware ("zk6"): UDP only, 28-byte users, 16-byte
    /// attendance, 12-byte `EF_ATTLOG` events, platform `ZEM500`.
    pub fn zk6() -> Profile {
        Profile {
            name: "zk6".into(),
            user_layout: UserLayout::Compact28,
            attendance_layout: AttendanceLayout::Extended16,
            tcp: false,
            udp: true,
            tcp_burst_packet_size: 1024,
            pacing: Pacing::link(),
            firmware: "Ver 6.39 Jan 19 2011".into(),
            platform: "ZEM500".into(),
            serial_number: "3392110300021".into(),
            device_name: "K14".into(),
            mac: "00:17:61:10:bb:02".into(),
            pin_width: 9,
            fp_version: 9,
            user_capacity: 500,
            template_capacity: 500,
            attendance_capacity: 50_000,
            attlog_event: AttLogEventFormat::UserId12,
            unlock_unit: UnlockUnit::Tenths,
            door_polarity: DoorPolarity::OneIsOpen,
            idle_state: 2,
        }
    }

    /// A built-in profile by name (`"zk8"`, `"zk8-1008"` or `"zk6"`,
    /// case-insensitive).
    pub fn by_name(name: &str) -> Option<Profile> {
        match name.to_ascii_lowercase().as_str() {
            "zk8" => Some(Profile::zk8()),
            "zk8-1008" => Some(Profile::zk8_1008()),
            "zk6" => Some(Profile::zk6()),
            _ => None,
        }
    }

    /// The attendance layout the simulator actually uses: a `Wide` layout
    /// of 40 bytes or less (which records refuse) is replaced by `Tft40`.
    pub(crate) fn effective_attendance_layout(&self) -> AttendanceLayout {
        match self.attendance_layout {
            AttendanceLayout::Wide(n) if n <= 40 => AttendanceLayout::Tft40,
            l => l,
        }
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::zk8()
    }
}

/// Everything needed to build a [`Simulator`](super::Simulator).
///
/// The default is the zk8 profile, no comm key, UTF-8, seed 1, no users and
/// no attendance records, no state file, and the profile's pacing
/// ([`Pacing::link`] for the built-in profiles: frames a few milliseconds
/// apart, so clients that read one frame per `read()` work, as they do
/// against real firmware; use [`Pacing::None`] for benchmarks).
///
/// ```
/// use zkproto::terminal::sim::{Pacing, SimConfig, Profile};
/// let c = SimConfig { users: 5, attendance: 20, ..SimConfig::default() };
/// assert_eq!(c.profile, Profile::zk8());
/// assert!(c.comm_key.is_none());
/// assert_eq!(c.effective_pacing(), Pacing::link());
/// let fast = SimConfig { pacing: Some(Pacing::None), ..c };
/// assert_eq!(fast.effective_pacing(), Pacing::None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Device profile.
    pub profile: Profile,
    /// Comm key; `None` or a zero key means no authentication.
    pub comm_key: Option<CommKey>,
    /// Text encoding of names (and 72-byte user ids) in the seed data.
    pub encoding: TextEncoding,
    /// Seed of the demo-data generator.
    pub seed: u64,
    /// Number of demo users.
    pub users: usize,
    /// Number of demo attendance records.
    pub attendance: usize,
    /// State file: loaded at start when it exists (instead of seeding),
    /// rewritten atomically and durably after every change, before the
    /// change is acknowledged (see [`persist`](super::persist)).
    pub state_file: Option<PathBuf>,
    /// Pacing of the reply frames; `None` uses the profile's.
    pub pacing: Option<Pacing>,
}

impl SimConfig {
    /// The pacing the simulator uses: [`pacing`](Self::pacing), or the
    /// profile's.
    pub fn effective_pacing(&self) -> Pacing {
        self.pacing.unwrap_or(self.profile.pacing)
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            profile: Profile::zk8(),
            comm_key: None,
            encoding: TextEncoding::Utf8,
            seed: 1,
            users: 0,
            attendance: 0,
            state_file: None,
            pacing: None,
        }
    }
}
