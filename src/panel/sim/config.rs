//! Simulator configuration: [`SimConfig`] and panel [`Profile`]s.

use crate::panel::time::PanelTime;
use core::fmt;

/// Which table structure (0x06) the firmware reports (reference §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TableLayout {
    /// The old firmware's 8 tables; `user` has 7 fields (no `UID`, no `Name`).
    Old,
    /// Newer firmware's 13 tables; `user` has 9 fields.
    New,
}

/// What the panel does with bytes that are not a panel frame, e.g. a
/// standalone terminal's `50 50 82 7d` CONNECT (reference §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForeignBytes {
    /// Skip them and stay silent; the socket stays open (old firmware, \[FW\] `net.c`).
    Ignore,
    /// Close the TCP connection (seen from a C3-200 by a Node client).
    Close,
    /// Answer with a `C9` −13 frame. No firmware is documented to do this;
    /// it lets a terminal client's "the peer answered `aa … 55`" path be
    /// tested end to end.
    ErrorReply,
}

/// What kind of panel the simulator pretends to be. All fields are public so
/// a test can start from a built-in profile and change what it needs.
///
/// ```
/// use zkproto::panel::sim::{Profile, TableLayout};
/// let p = Profile::new_firmware(2);
/// assert_eq!((p.doors, p.model.as_str(), p.sessions), (2, "C3-200", true));
/// let old = Profile::old_firmware(4);
/// assert_eq!((old.layout, old.sessions, old.rtlog_batch), (TableLayout::Old, false, 1));
/// assert!(Profile::by_doors(3, false).is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Short name, e.g. `"c3-400"` or `"c3-400-old"`.
    pub name: String,
    /// `DeviceName` and discovery `Device=`, e.g. `C3-400`.
    pub model: String,
    /// Doors (lock relays): 1, 2 or 4.
    pub doors: u8,
    /// Wiegand readers (`ReaderCount`).
    pub readers: u8,
    /// Auxiliary inputs.
    pub aux_inputs: u8,
    /// Auxiliary outputs.
    pub aux_outputs: u8,
    /// `FirmVer`.
    pub firmware: String,
    /// `~SerialNumber`.
    pub serial_number: String,
    /// `MAC`.
    pub mac: String,
    /// `IPAddress` (reported by discovery; the simulator does not bind it).
    pub ip: String,
    /// `~ZKFPVersion`: empty on card-only C3 panels, `9`/`10` on inBio.
    pub fp_version: String,
    /// RS485 DIP-switch address written into every reply (byte 1).
    pub address: u8,
    /// Whether the session connect (0x76) exists; without it 0x76 is answered −13.
    pub sessions: bool,
    /// Whether the text real-time log (0x79) exists.
    pub text_rtlog: bool,
    /// Most event records per 0x0B reply (the old firmware sends exactly one).
    pub rtlog_batch: usize,
    /// Byte 8 of the status record (200 on old firmware, 0 on newer).
    pub status_verify_byte: u8,
    /// Whether byte 9 of the status record carries the lock-relay bitmask.
    pub status_relay_byte: bool,
    /// Table structure generation.
    pub layout: TableLayout,
    /// Longest reply data sent inline; larger results use big data (`MaxLen`).
    pub max_reply: usize,
    /// Longest value a SetDeviceData cell may have; a longer one makes the
    /// whole write a silent no-op (old firmware: 10).
    pub max_write_cell: usize,
    /// `user` table capacity (−18 beyond it).
    pub user_capacity: usize,
    /// The old firmware answers a successful 0x19 with `C9` and error byte 0.
    pub data_ok_quirk: bool,
    /// Refuse (−8) commands before a successful connect. The old firmware does
    /// not check; with a communication password set the simulator always does.
    pub require_connect: bool,
    /// Reaction to bytes that are not a panel frame.
    pub foreign_bytes: ForeignBytes,
}

fn model_for(doors: u8) -> Option<(&'static str, u8)> {
    match doors {
        1 => Some(("C3-100", 2)),
        2 => Some(("C3-200", 4)),
        4 => Some(("C3-400", 4)),
        _ => None,
    }
}

impl Profile {
    /// Newer firmware (session connect, text RT log, 13 tables, several
    /// records per 0x0B) with 1, 2 or 4 doors; any other count gives 4 doors.
    pub fn new_firmware(doors: u8) -> Profile {
        let (model, readers) = model_for(doors).unwrap_or(("C3-400", 4));
        let doors = if model_for(doors).is_some() { doors } else { 4 };
        Profile {
            name: model.to_ascii_lowercase(),
            model: model.into(),
            doors,
            readers,
            aux_inputs: doors,
            aux_outputs: doors,
            firmware: "AC Ver 5.0.9 4609-06 Sep 15 2017".into(),
            serial_number: "6404162101689".into(),
            mac: "00:17:61:c8:ec:17".into(),
            ip: "192.168.1.201".into(),
            fp_version: String::new(),
            address: 1,
            sessions: true,
            text_rtlog: true,
            rtlog_batch: 10,
            status_verify_byte: 0,
            status_relay_byte: true,
            layout: TableLayout::New,
            max_reply: 5 * 1024,
            max_write_cell: 255,
            user_capacity: 30_000,
            data_ok_quirk: false,
            require_connect: false,
            foreign_bytes: ForeignBytes::Ignore,
        }
    }

    /// The old firmware of the reference's device-side sources: no 0x76
    /// (answered −13, clients fall back to 0x01), no 0x79, 8 tables, one
    /// record per 0x0B, status byte 8 = 200, cells of at most 10 bytes.
    pub fn old_firmware(doors: u8) -> Profile {
        Profile {
            name: format!("{}-old", Profile::new_firmware(doors).name),
            firmware: "AC Ver 4.3.4 Apr 27 2017".into(),
            serial_number: "DDG8130016092200401".into(),
            sessions: false,
            text_rtlog: false,
            rtlog_batch: 1,
            status_verify_byte: 200,
            status_relay_byte: false,
            layout: TableLayout::Old,
            max_write_cell: 10,
            user_capacity: 30_000,
            data_ok_quirk: true,
            ..Profile::new_firmware(doors)
        }
    }

    /// A built-in profile by door count (1, 2 or 4) and firmware generation.
    pub fn by_doors(doors: u8, old_firmware: bool) -> Option<Profile> {
        model_for(doors)?;
        Some(if old_firmware {
            Profile::old_firmware(doors)
        } else {
            Profile::new_firmware(doors)
        })
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::new_firmware(4)
    }
}

/// Default clock of a new panel.
pub fn default_time() -> PanelTime {
    PanelTime::new(2024, 6, 1, 9, 0, 0).unwrap_or(PanelTime::MIN)
}

/// Everything needed to build a [`Simulator`](super::Simulator).
///
/// `Debug` redacts the communication password.
///
/// ```
/// use zkproto::panel::sim::SimConfig;
/// let c = SimConfig { users: 3, password: Some("1234".into()), ..SimConfig::default() };
/// assert!(!format!("{c:?}").contains("1234"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// The panel profile.
    pub profile: Profile,
    /// Communication password (`ComPwd`), `None` = none.
    pub password: Option<String>,
    /// Demo users to create (each authorised on every door, time zone 1).
    pub users: usize,
    /// Demo transactions to create (before the start time).
    pub transactions: usize,
    /// Seed of the demo data.
    pub seed: u64,
    /// Clock at start.
    pub start_time: PanelTime,
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("profile", &self.profile.name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("users", &self.users)
            .field("transactions", &self.transactions)
            .field("seed", &self.seed)
            .field("start_time", &self.start_time)
            .finish()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            profile: Profile::default(),
            password: None,
            users: 0,
            transactions: 0,
            seed: 1,
            start_time: default_time(),
        }
    }
}
