//! The backup file (format `zkproto-backup`, version 1) and the restore plan.
//!
//! The file holds every user record with its PIN, so it is written with
//! 0600 permissions. Each user carries both readable fields and `raw`, the
//! exact record as hex: restoring to a terminal with the same record layout
//! writes `raw` (with the internal index of the target), so users end up
//! identical byte for byte; restoring to another layout rebuilds the record
//! from the fields.

use crate::fail::Failure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use zkproto::terminal::record::template::{MAX_TEMPLATE_LEN, Template};
use zkproto::terminal::record::text::{Overflow, TextEncoding};
use zkproto::terminal::record::user::{Privilege, User, UserLayout};
use zkproto::terminal::restore;

/// The `format` value.
pub const FORMAT: &str = "zkproto-backup";
/// The only `version` this tool writes and reads.
pub const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Serialize, Deserialize)]
pub struct BackupFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The device clock when the backup was taken.
    #[serde(default)]
    pub created: Option<String>,
    /// Where the data came from.
    pub device: DeviceSource,
    /// `"72"` or `"28"`: the byte size of the user records.
    pub user_layout: String,
    /// Encoding label used for names and text user ids.
    pub encoding: String,
    /// The users.
    pub users: Vec<BackupUser>,
    /// The fingerprint templates.
    #[serde(default)]
    pub templates: Vec<BackupTemplate>,
}

/// Identity of the source device.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DeviceSource {
    /// Serial number.
    #[serde(default)]
    pub serial: Option<String>,
    /// Platform (`ZMM220_TFT`…).
    #[serde(default)]
    pub platform: Option<String>,
    /// Firmware version.
    #[serde(default)]
    pub firmware: Option<String>,
    /// Device name (model).
    #[serde(default)]
    pub device_name: Option<String>,
    /// MAC address.
    #[serde(default)]
    pub mac: Option<String>,
}

/// One user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupUser {
    /// Internal index.
    pub uid: u16,
    /// User id ("PIN2").
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Raw privilege byte (0 user, 2 enroller, 6 manager, 14 admin; bit 0 = disabled).
    pub privilege: u8,
    /// Card number (0 = none).
    pub card: u32,
    /// Group.
    pub group: u8,
    /// Time zones.
    pub timezones: [u16; 4],
    /// The PIN (empty = none).
    pub password: String,
    /// The exact record as lowercase hex (optional when editing by hand).
    #[serde(default)]
    pub raw: Option<String>,
}

/// One fingerprint template.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupTemplate {
    /// Internal index of the owner (as in `users[].uid`).
    pub uid: u16,
    /// Finger 0–9.
    pub finger: u8,
    /// 1 valid, 3 duress, 0 invalid.
    pub flag: u8,
    /// Template bytes as hex.
    pub data_hex: String,
}

/// Layout name as stored in the file.
pub fn layout_name(layout: UserLayout) -> &'static str {
    match layout {
        UserLayout::Compact28 => "28",
        UserLayout::Extended72 => "72",
    }
}

/// Builds the file from device data.
pub fn build(
    device: DeviceSource,
    created: Option<String>,
    layout: UserLayout,
    enc: TextEncoding,
    users: &[User],
    templates: &[Template],
) -> BackupFile {
    BackupFile {
        format: FORMAT.to_string(),
        version: VERSION,
        created,
        device,
        user_layout: layout_name(layout).to_string(),
        encoding: enc.name().to_string(),
        users: users
            .iter()
            .map(|u| BackupUser {
                uid: u.uid(),
                user_id: u.user_id(enc),
                name: u.name(enc),
                privilege: u.privilege().0,
                card: u.card(),
                group: u.group(),
                timezones: u.timezones(),
                password: u.password(enc).expose().to_string(),
                raw: Some(hex::encode(u.as_bytes())),
            })
            .collect(),
        templates: templates
            .iter()
            .map(|t| BackupTemplate {
                uid: t.uid,
                finger: t.finger,
                flag: t.flag,
                data_hex: hex::encode(&t.data),
            })
            .collect(),
    }
}

/// Writes the file with 0600 permissions, replacing an existing file only
/// once the new one is completely on disk: the text goes to a temporary
/// file next to it (`.NAME.tmp-PID`), which is renamed over `path` after
/// `fsync`. A failure leaves `path` as it was and removes the temporary file.
pub fn write(path: &Path, file: &BackupFile) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(file)
        .map_err(|e| Failure::usage(format!("cannot serialise the backup: {e}")))?;
    write_replacing(path, text.as_bytes())
}

/// Writes `bytes` (and a newline) to `path` as [`write`] does: 0600, via a
/// synced temporary file renamed over `path`, then syncs the directory.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |p: &Path, e: std::io::Error| {
        Failure::usage(format!("cannot write {}: {e}", p.display()))
            .hint("check the directory exists and is writable")
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail(path, std::io::ErrorKind::InvalidInput.into()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = write_private(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(path, e)
    })?;
    sync_dir_of(path).map_err(|e| fail(path, e))
}

/// Syncs the directory holding `path`, so a file just created or renamed
/// there survives a crash (on Unix; elsewhere a directory cannot be opened
/// for syncing and this does nothing).
pub fn sync_dir_of(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates `path` (0600 on Unix, failing if it exists), writes `bytes`
/// and a newline, and syncs.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// A backup read and checked: records parsed, templates decoded.
#[derive(Debug)]
pub struct Loaded {
    /// Layout of the records.
    pub layout: UserLayout,
    /// Encoding of the text fields.
    pub encoding: TextEncoding,
    /// Users as records of `layout`.
    pub users: Vec<User>,
    /// Templates.
    pub templates: Vec<Template>,
    /// Source device serial, if recorded.
    pub serial: Option<String>,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Failure {
    Failure::usage(format!("{} is not a valid backup: {what}", path.display()))
        .hint("use a file written by `zkctl backup`; nothing was changed on the device")
}

/// Reads and validates a backup file. Nothing about the device is needed,
/// so a malformed file is refused before connecting.
pub fn load(path: &Path) -> Result<Loaded, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let file: BackupFile = serde_json::from_str(&text).map_err(|e| bad(path, e))?;
    if file.format != FORMAT {
        return Err(bad(
            path,
            format!("format is {:?}, expected {FORMAT:?}", file.format),
        ));
    }
    if file.version != VERSION {
        return Err(bad(
            path,
            format!(
                "version {} is not supported (this zkctl reads version {VERSION})",
                file.version
            ),
        ));
    }
    let layout = match file.user_layout.as_str() {
        "72" => UserLayout::Extended72,
        "28" => UserLayout::Compact28,
        other => {
            return Err(bad(
                path,
                format!("user_layout {other:?} (expected \"72\" or \"28\")"),
            ));
        }
    };
    let encoding = TextEncoding::from_label(&file.encoding)
        .ok_or_else(|| bad(path, format!("unknown encoding {:?}", file.encoding)))?;
    let mut users = Vec::with_capacity(file.users.len());
    let mut uids = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (i, b) in file.users.iter().enumerate() {
        let user = user_from_backup(b, layout, encoding)
            .map_err(|e| bad(path, format!("users[{i}] (user id {:?}): {e}", b.user_id)))?;
        if !uids.insert(user.uid()) {
            return Err(bad(
                path,
                format!("users[{i}]: uid {} appears twice", user.uid()),
            ));
        }
        if !ids.insert(b.user_id.clone()) {
            return Err(bad(
                path,
                format!("users[{i}]: user id {:?} appears twice", b.user_id),
            ));
        }
        users.push(user);
    }
    let mut templates = Vec::with_capacity(file.templates.len());
    let mut seen = BTreeSet::new();
    for (i, t) in file.templates.iter().enumerate() {
        let data = hex::decode(&t.data_hex)
            .map_err(|e| bad(path, format!("templates[{i}]: data_hex: {e}")))?;
        if data.is_empty() || data.len() > MAX_TEMPLATE_LEN {
            return Err(bad(
                path,
                format!(
                    "templates[{i}]: {} bytes (1 to {MAX_TEMPLATE_LEN} allowed)",
                    data.len()
                ),
            ));
        }
        if t.finger > 9 {
            return Err(bad(
                path,
                format!("templates[{i}]: finger {} (0 to 9)", t.finger),
            ));
        }
        if !uids.contains(&t.uid) {
            return Err(bad(
                path,
                format!("templates[{i}]: uid {} has no user in the file", t.uid),
            ));
        }
        if !seen.insert((t.uid, t.finger)) {
            return Err(bad(
                path,
                format!(
                    "templates[{i}]: uid {} finger {} appears twice",
                    t.uid, t.finger
                ),
            ));
        }
        templates.push(Template {
            uid: t.uid,
            finger: t.finger,
            flag: t.flag,
            data: data.into(),
        });
    }
    Ok(Loaded {
        layout,
        encoding,
        users,
        templates,
        serial: file.device.serial,
    })
}

/// The record of one backup entry: `raw` when present (checked against the
/// fields), otherwise built from the fields.
fn user_from_backup(b: &BackupUser, layout: UserLayout, enc: TextEncoding) -> Result<User, String> {
    let from_fields = || -> Result<User, String> {
        let mut u = User::new(layout, b.uid, &b.user_id, enc).map_err(|e| e.to_string())?;
        u.set_name(&b.name, enc, Overflow::Error)
            .map_err(|e| e.to_string())?;
        u.set_password(&b.password).map_err(|e| e.to_string())?;
        u.set_privilege(Privilege(b.privilege));
        u.set_card(b.card);
        u.set_group(b.group);
        u.set_timezones(b.timezones);
        Ok(u)
    };
    let Some(raw) = &b.raw else {
        return from_fields();
    };
    let bytes = hex::decode(raw).map_err(|e| format!("raw: {e}"))?;
    if bytes.len() != layout.record_len() {
        return Err(format!(
            "raw is {} bytes, but user_layout {} records are {}",
            bytes.len(),
            layout_name(layout),
            layout.record_len()
        ));
    }
    let u = User::parse(&bytes, layout).map_err(|e| e.to_string())?;
    let mismatch = [
        ("uid", u.uid() == b.uid),
        ("user_id", u.user_id(enc) == b.user_id),
        ("name", u.name(enc) == b.name),
        ("privilege", u.privilege().0 == b.privilege),
        ("card", u.card() == b.card),
        ("group", u.group() == b.group),
        ("timezones", u.timezones() == b.timezones),
        ("password", u.password(enc).expose() == b.password),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(f, _)| f)
    .collect::<Vec<_>>();
    if !mismatch.is_empty() {
        return Err(format!(
            "fields {} disagree with the raw record (edit both, or remove \"raw\")",
            mismatch.join(", ")
        ));
    }
    Ok(u)
}

/// A backup that cannot be restored ([`restore::plan`] refused it): a usage
/// failure listing every problem; nothing was written.
pub fn not_restorable(e: &restore::PlanError) -> Failure {
    Failure::usage(e.to_string()).hint("nothing was changed on the device")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn user(layout: UserLayout, uid: u16, id: &str, name: &str, pin: &str) -> User {
        let enc = TextEncoding::Utf8;
        let mut u = User::new(layout, uid, id, enc).unwrap();
        u.set_name(name, enc, Overflow::Error).unwrap();
        u.set_password(pin).unwrap();
        u
    }

    #[test]
    fn raw_must_agree_with_fields() {
        let u = user(UserLayout::Extended72, 1, "5", "Ana", "1");
        let mut b = build(
            DeviceSource::default(),
            None,
            u.layout(),
            TextEncoding::Utf8,
            &[u],
            &[],
        )
        .users[0]
            .clone();
        assert!(user_from_backup(&b, UserLayout::Extended72, TextEncoding::Utf8).is_ok());
        b.card = 9;
        let e = user_from_backup(&b, UserLayout::Extended72, TextEncoding::Utf8).unwrap_err();
        assert!(e.contains("card"), "{e}");
        b.raw = None;
        assert_eq!(
            user_from_backup(&b, UserLayout::Extended72, TextEncoding::Utf8)
                .unwrap()
                .card(),
            9
        );
    }

    #[test]
    fn a_backup_that_cannot_be_restored_is_a_usage_failure() {
        let b = Loaded {
            layout: UserLayout::Extended72,
            encoding: TextEncoding::Utf8,
            users: vec![user(UserLayout::Extended72, 1, "5", "Ana", "12345678")],
            templates: Vec::new(),
            serial: None,
        };
        let backup = restore::Tables {
            users: &b.users,
            templates: &[],
            encoding: TextEncoding::Utf8,
        };
        let device = restore::Tables {
            users: &[],
            ..backup
        };
        let e = restore::plan(backup, device, UserLayout::Compact28).unwrap_err();
        let e = not_restorable(&e);
        assert_eq!(
            e.message,
            "the backup cannot be restored to this device: user \"5\": its PIN has more than 5 \
             digits, the most this device stores"
        );
        assert!(!e.message.contains("12345678"));
        assert_eq!(e.hint.as_deref(), Some("nothing was changed on the device"));
    }
}
