//! Commands for the device, delivered as the body of a `getrequest` reply:
//! `C:<id>:<command>` lines (push §4).
//!
//! Every value is checked by [`super::text`]: HT, CR, LF and NUL are
//! refused (a user name cannot start a second field or a second command),
//! as is `,` inside `SET OPTIONS` / `GET OPTIONS` items. Nothing is escaped
//! or altered.
//!
//! ```
//! use zkproto::push::{Config, command::{Command, CommandId, command_list}};
//! let cmds = [(CommandId::new("1").unwrap(), Command::Info), (CommandId::from(2), Command::Check)];
//! assert_eq!(command_list(&cmds, &Config::default()).unwrap(), "C:1:INFO\nC:2:CHECK\n");
//! assert_eq!(command_list(&[], &Config::default()).unwrap(), "OK");
//! ```

use super::config::{Config, QueryTime, UserKeys};
use super::error::EncodeError;
use super::operlog::UserInfo;
use super::text::{check, check_key, check_value, non_empty};
use crate::panel::PanelTime;
use core::fmt::Write;

/// A command ID: 1–16 ASCII letters or digits (push §4.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommandId(String);

impl CommandId {
    /// Checks `id`.
    ///
    /// ```
    /// use zkproto::push::command::CommandId;
    /// assert_eq!(CommandId::new("info8487").unwrap().as_str(), "info8487");
    /// assert!(CommandId::new("").is_err() && CommandId::new("a:b").is_err() && CommandId::new(&"1".repeat(17)).is_err());
    /// ```
    pub fn new(id: &str) -> Result<Self, EncodeError> {
        let ok = (1..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(CommandId(id.to_owned()))
        } else {
            Err(EncodeError::BadCommandId(id.chars().take(32).collect()))
        }
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<u32> for CommandId {
    fn from(n: u32) -> Self {
        CommandId(n.to_string())
    }
}

/// What `CLEAR …` clears (2.x, push §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clear {
    /// `CLEAR LOG`: attendance records.
    Log,
    /// `CLEAR PHOTO`: attendance photos.
    Photo,
    /// `CLEAR DATA`: everything.
    Data,
    /// `CLEAR BIODATA`: templates.
    BioData,
    /// `CLEAR ALL USERINFO`: users.
    Users,
}

/// A 3.x user (`DATA UPDATE user …`, push §4.4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AccessUser {
    /// User id.
    pub pin: String,
    /// Card number (empty: none).
    pub card: String,
    /// Keypad password, at most 6 characters (push §3.14).
    pub password: String,
    /// Group (spec default 1).
    pub group: u32,
    /// Validity start, 0 = unlimited (encoded seconds or `YYYYMMDD`, push §4.4).
    pub start: u32,
    /// Validity end, 0 = unlimited.
    pub end: u32,
    /// Display name.
    pub name: String,
    /// 0 user … 14 super admin.
    pub privilege: u8,
}

/// `CONTROL DEVICE AABBCCDD[EE]` (3.x, push §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlDevice {
    /// The four bytes `AA BB CC DD`.
    pub bytes: [u8; 4],
    /// The optional operator byte `EE` (push §7 Q8; default: not sent).
    pub operator: Option<u8>,
}

impl ControlDevice {
    /// Opens `door` (0 = all) for `seconds` (0 close, 255 normally open):
    /// `01 door 01 seconds`.
    ///
    /// ```
    /// use zkproto::push::command::ControlDevice;
    /// assert_eq!(ControlDevice::unlock(1, 5).to_string(), "CONTROL DEVICE 01010105");
    /// ```
    pub fn unlock(door: u8, seconds: u8) -> Self {
        ControlDevice {
            bytes: [1, door, 1, seconds],
            operator: None,
        }
    }

    /// Cancels the alarm of `door` (0 = all): `02 door 00 00`.
    ///
    /// ```
    /// use zkproto::push::command::ControlDevice;
    /// assert_eq!(ControlDevice::cancel_alarm(1).to_string(), "CONTROL DEVICE 02010000");
    /// ```
    pub fn cancel_alarm(door: u8) -> Self {
        ControlDevice {
            bytes: [2, door, 0, 0],
            operator: None,
        }
    }

    /// Restarts the device: `03 00 00 00`.
    ///
    /// ```
    /// use zkproto::push::command::ControlDevice;
    /// let c = ControlDevice { operator: Some(0xab), ..ControlDevice::restart() };
    /// assert_eq!(c.to_string(), "CONTROL DEVICE 03000000AB");
    /// ```
    pub fn restart() -> Self {
        ControlDevice {
            bytes: [3, 0, 0, 0],
            operator: None,
        }
    }
}

impl core::fmt::Display for ControlDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CONTROL DEVICE ")?;
        for b in self.bytes.iter().chain(&self.operator) {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// A command of push §4.2–§4.6 and §4.9.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// 2.x `DATA UPDATE USERINFO …` (upsert by PIN). `PIN`, `Name` and the
    /// privilege are always sent; password, card, group, `TZ`, `Verify` only
    /// when not empty; then the non-empty pairs of [`UserInfo::extra`], in
    /// order. An empty value is left out rather than sent empty (whether an
    /// omitted key is kept or cleared is push §7 Q2).
    UpdateUser(UserInfo),
    /// 2.x `DATA DELETE USERINFO PIN=<pin>`.
    DeleteUser(String),
    /// 2.x `DATA QUERY USERINFO [PIN=<pin>]` (all users without a PIN).
    QueryUsers(Option<String>),
    /// 2.x `DATA DELETE FINGERTMP PIN=<pin>[\tFID=<fid>]`.
    DeleteFingers {
        /// User id.
        pin: String,
        /// One finger, or all.
        fid: Option<u8>,
    },
    /// 2.x `DATA QUERY ATTLOG StartTime=…\tEndTime=…` (time form per
    /// [`Config::query_time`]).
    QueryAttLog {
        /// From.
        start: PanelTime,
        /// To.
        end: PanelTime,
    },
    /// 2.x `CLEAR …`.
    Clear(Clear),
    /// 2.x `CHECK`: re-read options, re-upload per stamps.
    Check,
    /// 2.x `LOG`: upload new data now.
    Log,
    /// 2.x `INFO`.
    Info,
    /// 2.x `SET OPTION <key>=<value>`.
    SetOption(String, String),
    /// 2.x `RELOAD OPTIONS`.
    ReloadOptions,
    /// 2.x `REBOOT`.
    Reboot,
    /// 2.x `AC_UNLOCK` (no door or duration arguments exist).
    Unlock,
    /// 2.x `AC_UNALARM`.
    CancelAlarm,
    /// 3.x `DATA UPDATE user …`.
    UpdateAccessUser(AccessUser),
    /// 3.x `DATA UPDATE userauthorize Pin=\tAuthorizeTimezoneId=\tAuthorizeDoorId=`.
    Authorize {
        /// User id.
        pin: String,
        /// Time zone id (1 usually exists).
        timezone: u32,
        /// Door bitmask: 1 lock 1, 2 lock 2, 4 lock 3, 8 lock 4.
        doors: u32,
    },
    /// 3.x `DATA DELETE <table> Pin=<pin>`; delete `userauthorize` and
    /// `templatev10` before `user` (push §4.4).
    DeleteAccess {
        /// Table (`user`, `userauthorize`, `templatev10`…).
        table: String,
        /// User id.
        pin: String,
    },
    /// 3.x `DATA QUERY tablename=<t>,fielddesc=*,filter=*|Pin=<pin>`.
    QueryAccess {
        /// Table.
        table: String,
        /// One user, or all.
        pin: Option<String>,
    },
    /// 3.x `DATA COUNT <table>`.
    CountAccess(String),
    /// 3.x `CONTROL DEVICE …`.
    Control(ControlDevice),
    /// 3.x `SET OPTIONS k=v,k=v`.
    SetOptions(Vec<(String, String)>),
    /// 3.x `SET OPTIONS DateTime=<packed>` (local time, push §4.6, §7 Q7).
    SetTime(PanelTime),
    /// 3.x `GET OPTIONS k1,k2`.
    GetOptions(Vec<String>),
    /// Any other command text (HT allowed; CR, LF, NUL refused).
    Raw(String),
}

impl Command {
    /// The command text (without `C:<id>:`).
    ///
    /// ```
    /// use zkproto::push::{Config, EncodeError, command::Command, operlog::UserInfo};
    /// let c = Config::default();
    /// let u = UserInfo { pin: "7".into(), name: "Eve".into(), password: "1234".into(), ..UserInfo::default() };
    /// assert_eq!(Command::UpdateUser(u.clone()).encode(&c).unwrap(), "DATA UPDATE USERINFO PIN=7\tName=Eve\tPri=0\tPasswd=1234\tGrp=1");
    /// let evil = UserInfo { name: "Eve\tPri=14".into(), ..u };
    /// assert_eq!(Command::UpdateUser(evil).encode(&c), Err(EncodeError::Forbidden { field: "Name", found: '\t' }));
    /// ```
    pub fn encode(&self, config: &Config) -> Result<String, EncodeError> {
        let mut s = String::new();
        match self {
            Command::UpdateUser(u) => user_info(&mut s, u, config.user_keys)?,
            Command::DeleteUser(pin) => s = format!("DATA DELETE USERINFO PIN={}", pin_value(pin)?),
            Command::QueryUsers(None) => s.push_str("DATA QUERY USERINFO"),
            Command::QueryUsers(Some(pin)) => {
                s = format!("DATA QUERY USERINFO PIN={}", pin_value(pin)?)
            }
            Command::DeleteFingers { pin, fid } => {
                s = format!("DATA DELETE FINGERTMP PIN={}", pin_value(pin)?);
                if let Some(fid) = fid {
                    let _ = write!(s, "\tFID={fid}");
                }
            }
            Command::QueryAttLog { start, end } => {
                let t = |t: &PanelTime| match config.query_time {
                    QueryTime::Space => t.to_string(),
                    QueryTime::T => t.to_string().replacen(' ', "T", 1),
                };
                s = format!(
                    "DATA QUERY ATTLOG StartTime={}\tEndTime={}",
                    t(start),
                    t(end)
                );
            }
            Command::Clear(c) => s.push_str(match c {
                Clear::Log => "CLEAR LOG",
                Clear::Photo => "CLEAR PHOTO",
                Clear::Data => "CLEAR DATA",
                Clear::BioData => "CLEAR BIODATA",
                Clear::Users => "CLEAR ALL USERINFO",
            }),
            Command::Check => s.push_str("CHECK"),
            Command::Log => s.push_str("LOG"),
            Command::Info => s.push_str("INFO"),
            Command::SetOption(k, v) => {
                s = format!(
                    "SET OPTION {}={}",
                    check_key("key", k)?,
                    check_value("value", v)?
                );
            }
            Command::ReloadOptions => s.push_str("RELOAD OPTIONS"),
            Command::Reboot => s.push_str("REBOOT"),
            Command::Unlock => s.push_str("AC_UNLOCK"),
            Command::CancelAlarm => s.push_str("AC_UNALARM"),
            Command::UpdateAccessUser(u) => access_user(&mut s, u)?,
            Command::Authorize {
                pin,
                timezone,
                doors,
            } => {
                s = format!(
                    "DATA UPDATE userauthorize Pin={}\tAuthorizeTimezoneId={timezone}\tAuthorizeDoorId={doors}",
                    pin_value(pin)?
                );
            }
            Command::DeleteAccess { table, pin } => {
                s = format!(
                    "DATA DELETE {} Pin={}",
                    check_key("table", table)?,
                    pin_value(pin)?
                );
            }
            Command::QueryAccess { table, pin } => {
                let filter = match pin {
                    Some(p) => format!("Pin={}", pin_value(p)?),
                    None => "*".to_owned(),
                };
                s = format!(
                    "DATA QUERY tablename={},fielddesc=*,filter={filter}",
                    check_key("table", table)?
                );
            }
            Command::CountAccess(table) => s = format!("DATA COUNT {}", check_key("table", table)?),
            Command::Control(c) => s = c.to_string(),
            Command::SetOptions(items) => {
                s.push_str("SET OPTIONS ");
                for (i, (k, v)) in items.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let v = check("value", v, &['\t', '\r', '\n', '\0', ','])?;
                    let _ = write!(s, "{sep}{}={v}", check_key("key", k)?);
                }
                if items.is_empty() {
                    return Err(EncodeError::Empty("SET OPTIONS"));
                }
            }
            Command::SetTime(t) => s = format!("SET OPTIONS DateTime={}", t.to_packed()),
            Command::GetOptions(keys) => {
                let keys: Result<Vec<&str>, _> = keys.iter().map(|k| check_key("key", k)).collect();
                let keys = keys?;
                if keys.is_empty() {
                    return Err(EncodeError::Empty("GET OPTIONS"));
                }
                s = format!("GET OPTIONS {}", keys.join(","));
            }
            Command::Raw(text) => {
                if text.is_empty() {
                    return Err(EncodeError::Empty("command"));
                }
                s.push_str(check("command", text, &['\r', '\n', '\0'])?);
            }
        }
        Ok(s)
    }
}

/// A PIN: 1–24 characters, no separators.
fn pin_value(pin: &str) -> Result<&str, EncodeError> {
    non_empty("PIN", pin, 24)?;
    check_key("PIN", pin)
}

fn user_info(s: &mut String, u: &UserInfo, keys: UserKeys) -> Result<(), EncodeError> {
    let (pri, passwd) = match keys {
        UserKeys::Spec => ("Pri", "Passwd"),
        UserKeys::Long => ("Privilege", "Password"),
    };
    let _ = write!(
        s,
        "DATA UPDATE USERINFO PIN={}\tName={}\t{pri}={}",
        pin_value(&u.pin)?,
        check_value("Name", &u.name)?,
        u.privilege
    );
    let group = if u.group.is_empty() { "1" } else { &u.group };
    let optional = [
        (passwd, &u.password[..]),
        ("Card", &u.card),
        ("Grp", group),
        ("TZ", &u.time_zones),
        ("Verify", &u.verify),
    ];
    let extra = u.extra.0.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in optional.into_iter().chain(extra) {
        if !v.is_empty() {
            let _ = write!(s, "\t{}={}", check_key("key", k)?, check_value("value", v)?);
        }
    }
    Ok(())
}

fn access_user(s: &mut String, u: &AccessUser) -> Result<(), EncodeError> {
    if u.password.chars().count() > 6 {
        return Err(EncodeError::Length {
            field: "Password",
            len: u.password.chars().count(),
            max: 6,
        });
    }
    let _ = write!(
        s,
        "DATA UPDATE user CardNo={}\tPin={}\tPassword={}\tGroup={}\tStartTime={}\tEndTime={}\tName={}\tPrivilege={}",
        check_value("CardNo", &u.card)?,
        pin_value(&u.pin)?,
        check_value("Password", &u.password)?,
        u.group,
        u.start,
        u.end,
        check_value("Name", &u.name)?,
        u.privilege
    );
    Ok(())
}

/// One `C:<id>:<command>` line (no line ending).
///
/// ```
/// use zkproto::push::{Config, command::{Command, CommandId, command_line}};
/// let l = command_line(&CommandId::from(221), &Command::Control(zkproto::push::command::ControlDevice::unlock(1, 5)), &Config::default());
/// assert_eq!(l.unwrap(), "C:221:CONTROL DEVICE 01010105");
/// ```
pub fn command_line(
    id: &CommandId,
    command: &Command,
    config: &Config,
) -> Result<String, EncodeError> {
    Ok(format!("C:{}:{}", id.as_str(), command.encode(config)?))
}

/// The body of a `getrequest` reply: every command on its own line, each
/// ended by [`Config::line_ending`]; `OK` when there is none (push §4.1).
pub fn command_list(
    commands: &[(CommandId, Command)],
    config: &Config,
) -> Result<String, EncodeError> {
    if commands.is_empty() {
        return Ok(super::reply::OK.to_owned());
    }
    let mut out = String::new();
    for (id, c) in commands {
        out.push_str(&command_line(id, c, config)?);
        out.push_str(config.line_ending.as_str());
    }
    Ok(out)
}

/// Splits a `getrequest` reply back into `(id, command text)` pairs (for
/// simulators and tests); a line not starting with `C:<id>:` (a valid
/// [`CommandId`]) continues the previous command (multi-record commands,
/// push §4.1); lines before the first command are ignored.
///
/// ```
/// use zkproto::push::command::parse_command_list;
/// let c = parse_command_list("C:1:INFO\r\nC:2:DATA UPDATE x a=1\nb=2\n");
/// assert_eq!(c, [("1".to_owned(), "INFO".to_owned()), ("2".to_owned(), "DATA UPDATE x a=1\nb=2".to_owned())]);
/// assert!(parse_command_list("OK").is_empty());
/// assert_eq!(parse_command_list("C:1:A\nC:=2:B"), [("1".to_owned(), "A\nC:=2:B".to_owned())]);
/// ```
pub fn parse_command_list(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let cmd = line.strip_prefix("C:").and_then(|r| r.split_once(':'));
        let cmd = cmd.filter(|(id, _)| CommandId::new(id).is_ok());
        match (cmd, out.last_mut()) {
            (Some((id, c)), _) => out.push((id.to_owned(), c.to_owned())),
            (None, Some((_, c))) => {
                c.push('\n');
                c.push_str(line);
            }
            (None, None) => {}
        }
    }
    out
}
