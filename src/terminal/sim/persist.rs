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
//! the same records. The file is written to `FILE.tmp`, synced, then renamed
//! over `FILE`: a crash leaves either the old or the new file, never half of
//! one. A file without the final `end` line is refused.
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
use crate::terminal::sim::config::Profile;
use crate::terminal::sim::state::State;
use bytes::Bytes;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::Path;

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

fn bad(line: usize, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("state file line {line}: {what}"),
    )
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
/// lines and a missing `end` line are errors.
pub fn from_text(text: &str, profile: &Profile) -> io::Result<State> {
    let mut state = State::default();
    let ulayout = profile.user_layout;
    let alayout: AttendanceLayout = profile.effective_attendance_layout();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, l)) if l == MAGIC => {}
        _ => return Err(bad(1, "not a zksim state file (version 1)")),
    }
    let mut ended = false;
    for (n, line) in lines {
        if ended {
            return Err(bad(n, "data after 'end'"));
        }
        let mut parts = line.split(' ');
        let kind = parts.next().unwrap_or_default();
        fn field(p: Option<&str>, n: usize) -> io::Result<&str> {
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
                state.options.insert(k, v);
            }
            "user" => {
                let b = bytes_of(parts.next())?;
                state
                    .users
                    .push(User::parse(&b, ulayout).map_err(|e| bad(n, &e.to_string()))?);
            }
            "attendance" => {
                let b = bytes_of(parts.next())?;
                state
                    .attendance
                    .push(Attendance::parse(&b, alayout).map_err(|e| bad(n, &e.to_string()))?);
            }
            "template" => {
                let num = |p: Option<&str>| -> io::Result<u16> {
                    field(p, n)?.parse().map_err(|_| bad(n, "bad number"))
                };
                let uid = num(parts.next())?;
                let finger = u8::try_from(num(parts.next())?).map_err(|_| bad(n, "bad finger"))?;
                let flag = u8::try_from(num(parts.next())?).map_err(|_| bad(n, "bad flag"))?;
                let data = Bytes::from(bytes_of(parts.next())?);
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
        return Err(bad(0, "truncated (no 'end' line)"));
    }
    Ok(state)
}

/// Writes `text` to `path` atomically: `path.tmp`, fsync, rename, then a
/// best-effort fsync of the directory.
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(d) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .and_then(|dir| std::fs::File::open(dir).ok())
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Saves `state` to `path` atomically.
pub fn save(path: &Path, state: &State, profile: &Profile) -> io::Result<()> {
    write_atomic(path, &to_text(state, profile))
}

/// Loads `path`; `Ok(None)` when it does not exist.
pub fn load(path: &Path, profile: &Profile) -> io::Result<Option<State>> {
    match std::fs::read_to_string(path) {
        Ok(text) => from_text(&text, profile).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
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
