//! Command-line syntax (clap derive).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Manage a ZKTeco attendance terminal (port 4370) from the command line.
///
/// `--device sim` (or `sim:zk6`, `sim:gbk`) runs the command against an
/// in-process simulator seeded with demo users and attendance, so every
/// command can be tried without hardware. `--device c3://HOST[:PORT]` talks
/// to a C3/inBio access panel instead (`sim-c3`, `sim-c3:2`, `sim-c3:old`
/// for a simulated one): info, users, door, events, time and attendance.
///
/// Exit codes: 0 success, 1 the device refused (or the user does not
/// exist), 2 usage or input-file error, 3 network, timeout or protocol error,
/// 4 a write the device acknowledged could not be confirmed.
#[derive(Debug, Parser)]
#[command(name = "zkctl", version, about, long_about)]
pub struct Cli {
    /// The device: HOST[:PORT] (port 4370 by default), or `sim`, `sim:zk6`,
    /// `sim:gbk`, `sim:zk6:gbk` for an in-process simulator; a C3/inBio
    /// panel as `c3://HOST[:PORT]`, or `sim-c3[:1|2|4][:old]` simulated.
    #[arg(
        short,
        long,
        global = true,
        env = "ZKCTL_DEVICE",
        value_name = "HOST[:PORT]"
    )]
    pub device: Option<String>,

    /// Talk UDP only.
    #[arg(long, global = true, conflicts_with = "tcp")]
    pub udp: bool,

    /// Talk TCP only (default: TCP, then UDP).
    #[arg(long, global = true)]
    pub tcp: bool,

    /// Communication key (the device's "Comm Key", 0 = none).
    #[arg(long, global = true, env = "ZKCTL_COMM_KEY", value_name = "N")]
    pub comm_key: Option<u32>,

    /// C3/inBio panels: the communication password (parameter ComPwd).
    /// Prefer the environment variable to the command line.
    #[arg(
        long,
        global = true,
        env = "ZKCTL_PASSWORD",
        hide_env_values = true,
        value_name = "PW"
    )]
    pub password: Option<String>,

    /// Seconds to wait for each answer.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 5.0)]
    pub timeout: f64,

    /// Text encoding of names on the device (utf-8, gbk, big5, cp1251, …).
    #[arg(long, global = true, value_name = "LABEL", default_value = "utf-8")]
    pub encoding: String,

    /// Print every frame sent and received on stderr, for debugging a
    /// device: decoded command or reply, session id, reply id, length and
    /// data in hex. PINs, comm-key proofs, uploads and fingerprint
    /// templates are shown as `**`. For C3 panels: command and length only.
    #[arg(long, short = 'v', global = true)]
    pub trace: bool,

    /// Print stable JSON (see docs/zkctl-json.md) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Serial, model, firmware, time, and how full the device is.
    Info,
    /// List, show, add, change and delete users.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Download attendance records (or `attendance clear`).
    Attendance(AttendanceArgs),
    /// Open the door or read its sensor.
    #[command(subcommand)]
    Door(DoorCmd),
    /// Print live punches and door events, one line each, until Ctrl-C.
    Events {
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Read or set the device clock.
    #[command(subcommand)]
    Time(TimeCmd),
    /// Save users, cards, PINs and fingerprint templates to a JSON file
    /// (written with 0600 permissions: it holds PINs).
    Backup {
        /// The file to write.
        file: PathBuf,
    },
    /// Load a backup into this (or a replacement) terminal; reports what
    /// changed. Users on the device that are not in the backup are kept.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Print the plan (add / update / unchanged) and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Run a simulated terminal in the foreground until Ctrl-C.
    Sim(SimArgs),
}

/// `users …`
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// All users as a table (PINs are never shown, only whether one is set).
    List,
    /// One user.
    Show {
        /// The user id (the number people type, "PIN2").
        user_id: String,
    },
    /// Add a user (the next free internal index is used).
    Add {
        /// The new user id.
        user_id: String,
        /// The name shown on the device (required for terminals).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        pin: PinArgs,
        /// Card number.
        #[arg(long, value_name = "N")]
        card: Option<u32>,
        /// Make the user a device administrator (super admin).
        #[arg(long)]
        admin: bool,
    },
    /// Set a new PIN (e.g. a forgotten one); read back to confirm.
    SetPin {
        /// The user id.
        user_id: String,
        #[command(flatten)]
        pin: PinArgs,
    },
    /// Remove a user's PIN.
    ClearPin {
        /// The user id.
        user_id: String,
    },
    /// Delete a user and their fingerprints.
    Delete {
        /// The user id.
        user_id: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

/// Where a PIN comes from. Without either flag, `set-pin` prompts without
/// echo when stdin is a terminal and reads one line from stdin otherwise.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// The PIN (digits). Visible to other local users in the process
    /// list; prefer --pin-stdin or the prompt.
    #[arg(long, value_name = "PIN", conflicts_with = "pin_stdin")]
    pub pin: Option<String>,
    /// Read the PIN from the first line of stdin.
    #[arg(long)]
    pub pin_stdin: bool,
}

/// `attendance [clear]`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AttendanceArgs {
    /// `clear` deletes every attendance record.
    #[command(subcommand)]
    pub action: Option<AttendanceCmd>,
    /// Only records at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Comma-separated values with a header line.
    #[arg(long)]
    pub csv: bool,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Incremental download: only the records after the cursor stored in
    /// FILE (a missing file starts at the beginning); the new cursor is
    /// stored there once the records are written out.
    #[arg(long, value_name = "FILE")]
    pub cursor: Option<PathBuf>,
    /// With --cursor: when the device's log no longer continues the cursor
    /// (cleared, rotated, restored, another device), download the whole log
    /// instead of failing.
    #[arg(long)]
    pub restart: bool,
}

/// `attendance clear`
#[derive(Debug, Subcommand)]
pub enum AttendanceCmd {
    /// Delete every attendance record on the device.
    Clear {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Safe clear: first write the records to FILE (created, never
        /// overwritten; CSV when it ends in .csv, else JSON) and sync it,
        /// then clear only if no punch arrived since (keypad disabled
        /// meanwhile).
        #[arg(long, value_name = "FILE")]
        archive: Option<PathBuf>,
        /// With --archive: archive only the records after this cursor (those
        /// before were already downloaded with `attendance --cursor FILE`),
        /// and reset the cursor once the log is cleared.
        #[arg(long, value_name = "FILE")]
        cursor: Option<PathBuf>,
    },
}

/// `door …`
#[derive(Debug, Subcommand)]
pub enum DoorCmd {
    /// Release the lock for a while.
    Unlock {
        /// How long, in seconds (terminals 1-25, panels 1-254).
        #[arg(long, value_name = "N", default_value_t = 3)]
        seconds: u32,
        /// Which door (panels: 1 to the panel's door count; terminals have
        /// only door 1).
        #[arg(long, value_name = "N")]
        door: Option<u8>,
    },
    /// Read the door sensor (panels: sensor, lock relay and alarms of every door).
    Status,
}

/// `time …`
#[derive(Debug, Subcommand)]
pub enum TimeCmd {
    /// Print the device's clock.
    Get,
    /// Set the device's clock to this computer's local time (`now`, the
    /// default) or to YYYY-MM-DDTHH:MM:SS.
    Set {
        /// `now` or YYYY-MM-DDTHH:MM:SS.
        #[arg(default_value = "now")]
        when: String,
    },
}

/// `sim`
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (TCP and UDP; port 0 picks free ports).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4370")]
    pub bind: String,
    /// Device profile: zk8 (TFT, 72-byte users, TCP+UDP) or zk6 (28-byte
    /// users, UDP only).
    #[arg(long, default_value = "zk8")]
    pub profile: String,
    /// Demo users to create.
    #[arg(long, default_value_t = 8)]
    pub users: usize,
    /// Demo attendance records to create.
    #[arg(long, default_value_t = 50)]
    pub attendance: usize,
    /// Seed of the demo data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the device state in this file (loaded at start, saved on change).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Make a demo user punch every SECS seconds (live events to watch).
    #[arg(long, value_name = "SECS")]
    pub punch_every: Option<f64>,
}
