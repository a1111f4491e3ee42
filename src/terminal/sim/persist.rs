//! The state file: users, attendance, templates and options in a small
//! versioned text format, written atomically.
//!
//! ```text
//! zksim-state 1
//! user-layout 72
//! attendance-layout 40
//! option <hex name> <hex value>
//! user <hex record>
//! attendance <hex record>
//! template <uid> <finger> <flag> <hex data>
//! end
//! ```
//!
//! Records are stored as their raw bytes, so a reload gives back exactly
//! the same records. The file is written to `FILE.tmp`, synced, renamed over
//! `FILE`, then the directory is synced: a crash leaves either the old or
//! the new file, never half of one, and a write reported done survives a
//! power cut. A file without the final `end` line is refused, and so is one
//! a device could not have written: two users with the same uid or user id,
//! two templates for the same finger, a template of a missing user, an
//! option given twice. Errors name the file and the 1-based line
//! ([`FormatError`]).
//!
//! ```
//! use zkproto::terminal::sim::{persist, seed_state, Profile};
//! use zkproto::terminal::record::text::TextEncoding;
//! let p = Profile::zk8();
//! let s = seed_state(&p, TextEncoding::Utf8, 1, 3, 5);
//! let text = persist::to_text(&s, &p);
//! assert_eq!(persist::from_text(&text, &p).unwrap(), s);
//! ```

use crate::terminal::record::attendance::{Attendance, AttendanceLayout};
use crate::terminal::record::template::Template;
use crate::terminal::record::user::User;
use crate::terminal::record::user::UserLayout;
use crate::terminal::sim::config::Profile;
use crate::terminal::sim::device::Store;
use crate::terminal::sim::state::State;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

const MAGIC: &str = "zksim-state 1";

fn hex(out: &mut String, b: &[u8]) {
    for x in b {
        let _ = write!(out, "{x:02x}");
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| Some(digit(*p.first()?)? << 4 | digit(*p.get(1)?)?))
        .collect()
}

/// A state file that cannot be loaded: where, and why.
///
/// ```
/// use zkproto::terminal::sim::{persist, Profile};
/// let e = persist::from_text("zksim-state 1\nbogus\n", &Profile::zk8()).unwrap_err();
/// assert_eq!((e.line, e.to_string().as_str()), (2, "state file, line 2: unknown entry 'bogus'"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state file{}, line {line}: {what}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
pub struct FormatError {
    /// The file (`None` for text parsed with [`from_text`]).
    pub path: Option<PathBuf>,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong with it.
    pub what: String,
}

impl From<FormatError> for io::Error {
    fn from(e: FormatError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

fn bad(line: usize, what: &str) -> FormatError {
    FormatError {
        path: None,
        line,
        what: what.to_string(),
    }
}

/// The key a device keeps unique for a user id: the text up to the first
/// NUL (72-byte layout) or the u32 (28-byte layout).
fn user_id_key(u: &User) -> Vec<u8> {
    let raw = u.user_id_raw();
    match u.layout() {
        UserLayout::Compact28 => raw.to_vec(),
        UserLayout::Extended72 => raw.split(|&b| b == 0).next().unwrap_or_default().to_vec(),
    }
}

/// Serialises `state` (whose records use `profile`'s layouts).
pub fn to_text(state: &State, profile: &Profile) -> String {
    let att = profile.effective_attendance_layout();
    let mut s = String::with_capacity(
        64 + state.attendance.len() * (att.record_len() * 2 + 12) + state.users.len() * 160,
    );
    let _ = writeln!(s, "{MAGIC}");
    let _ = writeln!(s, "user-layout {}", profile.user_layout.record_len());
    let _ = writeln!(s, "attendance-layout {}", att.record_len());
    for (k, v) in &state.options {
        s.push_str("option ");
        hex(&mut s, k.as_bytes());
        s.push(' ');
        hex(&mut s, v.as_bytes());
        s.push('\n');
    }
    for u in &state.users {
        s.push_str("user ");
        hex(&mut s, u.as_bytes());
        s.push('\n');
    }
    let mut rec = bytes::BytesMut::new();
    for a in &state.attendance {
        rec.clear();
        if a.encode_into(&mut rec).is_err() {
            rec.clear();
            rec.extend_from_slice(a.raw());
        }
        s.push_str("attendance ");
        hex(&mut s, &rec);
        s.push('\n');
    }
    for t in &state.templates {
        let _ = write!(s, "template {} {} {} ", t.uid, t.finger, t.flag);
        hex(&mut s, &t.data);
        s.push('\n');
    }
    s.push_str("end\n");
    s
}

/// Parses a state file written for `profile`. Layout mismatches, malformed
/// lines, duplicate or inconsistent records and a missing `end` line are
/// errors.
pub fn from_text(text: &str, profile: &Profile) -> Result<State, FormatError> {
    let mut state = State::default();
    // First line of each uid, user id, (uid, finger) and option seen.
    let mut uids = BTreeMap::new();
    let mut user_ids = BTreeMap::new();
    let mut fingers = BTreeMap::new();
    let mut option_lines = BTreeMap::new();
    let mut last_line = 1;
    let ulayout = profile.user_layout;
    let alayout: AttendanceLayout = profile.effective_attendance_layout();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, l)) if l == MAGIC => {}
        _ => return Err(bad(1, "not a zksim state file (version 1)")),
    }
    let mut ended = false;
    for (n, line) in lines {
        last_line = n;
        if ended {
            return Err(bad(n, "data after 'end'"));
        }
        let mut parts = line.split(' ');
        let kind = parts.next().unwrap_or_default();
        fn field(p: Option<&str>, n: usize) -> Result<&str, FormatError> {
            p.ok_or_else(|| bad(n, "missing field"))
        }
        let bytes_of =
            |p: Option<&str>| field(p, n).and_then(|s| unhex(s).ok_or_else(|| bad(n, "bad hex")));
        match kind {
            "user-layout" => {
                if field(parts.next(), n)? != ulayout.record_len().to_string() {
                    return Err(bad(n, "user layout differs from the profile's"));
                }
            }
            "attendance-layout" => {
                if field(parts.next(), n)? != alayout.record_len().to_string() {
                    return Err(bad(n, "attendance layout differs from the profile's"));
                }
            }
            "option" => {
                let k = bytes_of(parts.next())?;
                let v = bytes_of(parts.next())?;
                let k = String::from_utf8(k).map_err(|_| bad(n, "option name is not UTF-8"))?;
                let v = String::from_utf8(v).map_err(|_| bad(n, "option value is not UTF-8"))?;
                if let Some(first) = option_lines.insert(k.clone(), n) {
                    return Err(bad(
                        n,
                        &format!("option {k:?} given twice (first on line {first})"),
                    ));
                }
                state.options.insert(k, v);
            }
            "user" => {
                let b = bytes_of(parts.next())?;
                let u = User::parse(&b, ulayout).map_err(|e| bad(n, &e.to_string()))?;
                if let Some(first) = uids.insert(u.uid(), n) {
                    return Err(bad(
                        n,
                        &format!("duplicate user uid {} (first on line {first})", u.uid()),
                    ));
                }
                if let Some(first) = user_ids.insert(user_id_key(&u), n) {
                    return Err(bad(
                        n,
                        &format!("duplicate user id (first on line {first})"),
                    ));
                }
                state.users.push(u);
            }
            "attendance" => {
                let b = bytes_of(parts.next())?;
                state
                    .attendance
                    .push(Attendance::parse(&b, alayout).map_err(|e| bad(n, &e.to_string()))?);
            }
            "template" => {
                let num = |p: Option<&str>| -> Result<u16, FormatError> {
                    field(p, n)?.parse().map_err(|_| bad(n, "bad number"))
                };
                let uid = num(parts.next())?;
                let finger = u8::try_from(num(parts.next())?).map_err(|_| bad(n, "bad finger"))?;
                let flag = u8::try_from(num(parts.next())?).map_err(|_| bad(n, "bad flag"))?;
                let data = Bytes::from(bytes_of(parts.next())?);
                if let Some(first) = fingers.insert((uid, finger), n) {
                    return Err(bad(
                        n,
                        &format!(
                            "duplicate template of uid {uid} finger {finger} (first on line {first})"
                        ),
                    ));
                }
                state.templates.push(Template {
                    uid,
                    finger,
                    flag,
                    data,
                });
            }
            "end" => ended = true,
            "" => {}
            other => return Err(bad(n, &format!("unknown entry '{other}'"))),
        }
    }
    if !ended {
        return Err(bad(last_line, "truncated (no 'end' line)"));
    }
    if let Some((&(uid, _), &n)) = fingers.iter().find(|((uid, _), _)| !uids.contains_key(uid)) {
        return Err(bad(n, &format!("template of uid {uid}, which has no user")));
    }
    Ok(state)
}

/// Writes `text` to `path` durably and atomically: `path.tmp`, fsync,
/// rename over `path`, fsync of the directory (on Unix; elsewhere a
/// directory cannot be opened for syncing). `Ok` means the new content
/// survives a crash; on an error the temporary file is removed and `path`
/// keeps its old content (unless only the directory sync failed).
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A state file as a device [`Store`]: every change is saved with
/// [`save`] before the device acknowledges it.
///
/// ```
/// use zkproto::terminal::sim::{persist::StateFile, Device, SimConfig};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("zk.state");
/// let mut dev = Device::new(&SimConfig { users: 2, ..SimConfig::default() });
/// dev.set_store(StateFile::new(&path).into_store()).unwrap();
/// assert!(path.exists());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        StateFile { path: path.into() }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves `state`; the error names the file.
    pub fn save(&self, state: &State, profile: &Profile) -> io::Result<()> {
        save(&self.path, state, profile).map_err(|e| with_path(&self.path, e))
    }

    /// This file as a [`Store`] for [`Device::set_store`](super::Device::set_store).
    pub fn into_store(self) -> Store {
        Box::new(move |state, profile| self.save(state, profile))
    }
}

/// `e` with the file named in its message.
fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("state file {}: {e}", path.display()))
}

/// Saves `state` to `path` atomically.
pub fn save(path: &Path, state: &State, profile: &Profile) -> io::Result<()> {
    write_atomic(path, &to_text(state, profile))
}

/// Loads `path`; `Ok(None)` when it does not exist. Every error names the
/// file; a content error is a [`FormatError`] (with the line) inside the
/// `io::Error`.
pub fn load(path: &Path, profile: &Profile) -> io::Result<Option<State>> {
    match std::fs::read_to_string(path) {
        Ok(text) => from_text(&text, profile).map(Some).map_err(|e| {
            FormatError {
                path: Some(path.to_path_buf()),
                ..e
            }
            .into()
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(with_path(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::text::TextEncoding;
    use crate::terminal::sim::seed::seed_state;

    #[test]
    fn round_trip_and_refusals() {
        let p = Profile::zk6();
        let s = seed_state(&p, TextEncoding::Gbk, 5, 9, 30);
        let text = to_text(&s, &p);
        assert_eq!(from_text(&text, &p).unwrap(), s);
        let cut = text.trim_end().trim_end_matches("end");
        assert!(from_text(cut, &p).is_err());
        assert!(from_text(&text, &Profile::zk8()).is_err());
        assert!(from_text("garbage", &p).is_err());
        assert!(from_text(&text.replace("user ", "user zz"), &p).is_err());
    }

    #[test]
    fn atomic_write() {
        let dir = std::env::temp_dir().join(format!("zksim-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.txt");
        let p = Profile::zk8();
        let s = seed_state(&p, TextEncoding::Utf8, 1, 2, 2);
        save(&path, &s, &p).unwrap();
        assert_eq!(load(&path, &p).unwrap(), Some(s));
        assert!(!dir.join("state.txt.tmp").exists());
        assert_eq!(load(&dir.join("missing"), &p).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
