//! Text and JSON renderings. The JSON shapes are the stable interface
//! documented in `docs/zkctl-json.md`; change them only with a new
//! `schema` number there.

use serde::Serialize;
use serde_json::{Value, json};
use zkproto::terminal::record::attendance::Attendance;
use zkproto::terminal::record::event::{Alarm, Event};
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::user::{Role, User};
use zkproto::text::escape_display;

/// Device text made safe to print on a terminal (see [`zkproto::text`]).
pub fn shown(s: &str) -> String {
    escape_display(s).into_owned()
}

/// A user as printed (never the PIN itself).
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Internal index.
    pub uid: u16,
    /// User id.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Raw privilege byte.
    pub privilege: u8,
    /// `user`, `enroller`, `manager`, `admin` or `other`.
    pub role: &'static str,
    /// Privilege bit 0 clear.
    pub enabled: bool,
    /// Card number (0 = none).
    pub card: u32,
    /// Group.
    pub group: u8,
    /// Time zones.
    pub timezones: [u16; 4],
    /// Whether a PIN is set.
    pub has_pin: bool,
}

/// Role name of a privilege.
pub fn role_name(u: &User) -> &'static str {
    match u.privilege().role() {
        Role::User => "user",
        Role::Enroller => "enroller",
        Role::Manager => "manager",
        Role::SuperAdmin => "admin",
        _ => "other",
    }
}

impl UserView {
    /// The view of a record.
    pub fn of(u: &User, enc: TextEncoding) -> UserView {
        UserView {
            uid: u.uid(),
            user_id: u.user_id(enc),
            name: u.name(enc),
            privilege: u.privilege().0,
            role: role_name(u),
            enabled: u.is_enabled(),
            card: u.card(),
            group: u.group(),
            timezones: u.timezones(),
            has_pin: u.has_password(),
        }
    }
}

/// Terminal columns of a character: 2 for East Asian wide ranges.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// Terminal columns of a string.
fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// Pads `s` to `w` columns.
fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// A left-aligned text table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(c));
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut s = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| if i == last { c.clone() } else { pad(c, w) })
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

/// The users table.
pub fn users_table(users: &[UserView]) -> String {
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.uid.to_string(),
                shown(&u.user_id),
                shown(&u.name),
                u.role.to_string(),
                if u.card == 0 {
                    "-".into()
                } else {
                    u.card.to_string()
                },
                u.group.to_string(),
                if u.has_pin { "yes".into() } else { "no".into() },
                if u.enabled { "yes".into() } else { "no".into() },
            ]
        })
        .collect();
    let mut s = table(
        &[
            "UID", "USER ID", "NAME", "ROLE", "CARD", "GROUP", "PIN", "ENABLED",
        ],
        &rows,
    );
    s.push_str(&format!("{} user(s)\n", users.len()));
    s
}

/// One user, `key: value` lines.
pub fn user_text(u: &UserView) -> String {
    format!(
        "user id:   {}\nname:      {}\nuid:       {}\nrole:      {} (privilege {})\nenabled:   {}\n\
         card:      {}\ngroup:     {}\ntimezones: {:?}\npin:       {}\n",
        shown(&u.user_id),
        shown(&u.name),
        u.uid,
        u.role,
        u.privilege,
        if u.enabled { "yes" } else { "no" },
        if u.card == 0 {
            "-".to_string()
        } else {
            u.card.to_string()
        },
        u.group,
        u.timezones,
        if u.has_pin { "set" } else { "not set" },
    )
}

/// An attendance record as JSON.
pub fn attendance_json(a: &Attendance) -> Value {
    json!({
        "user_id": a.user_id(),
        "uid": a.uid,
        "time": a.time.to_string(),
        "time_valid": a.time_error().is_none(),
        "verify": a.verify,
        "verify_name": verify_name(a.verify),
        "state": a.state,
        "state_name": state_name(a.state),
        "work_code": a.work_code,
    })
}

/// CSV header of attendance.
pub const ATTENDANCE_CSV_HEADER: &str = "time,user_id,uid,verify,state,work_code";

/// Attendance records as a CSV document: the header, then a line a record.
pub fn attendance_csv_document(records: &[Attendance]) -> String {
    let mut out = String::from(ATTENDANCE_CSV_HEADER);
    out.push('\n');
    for a in records {
        out.push_str(&attendance_csv(a));
        out.push('\n');
    }
    out
}

/// Writes a command's output to `--out FILE` (saying so on stderr unless
/// `json`), or to stdout.
pub fn emit(
    out: &str,
    path: Option<&std::path::Path>,
    records: usize,
    json: bool,
) -> Result<(), crate::fail::Failure> {
    match path {
        Some(path) => {
            std::fs::write(path, out).map_err(|e| {
                crate::fail::Failure::usage(format!("cannot write {}: {e}", path.display()))
            })?;
            if !json {
                eprintln!("wrote {records} record(s) to {}", path.display());
            }
        }
        None => print!("{out}"),
    }
    Ok(())
}

/// One attendance CSV line (no newline).
pub fn attendance_csv(a: &Attendance) -> String {
    format!(
        "{},{},{},{},{},{}",
        a.time,
        csv_field(&a.user_id()),
        a.uid.map(|u| u.to_string()).unwrap_or_default(),
        a.verify,
        a.state,
        a.work_code
    )
}

/// A CSV field: control characters escaped as in text output (so the
/// file is safe to `cat`), quoted when it holds `,` or `"`, and prefixed
/// with `'` when it starts like a spreadsheet formula (`=`, `+`, `-`, `@`).
pub fn csv_field(s: &str) -> String {
    let s = escape_display(s);
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Text header of attendance.
pub fn attendance_text_header() -> String {
    format!(
        "{:<19}  {:<12}  {:<11}  {:<9}  WORK CODE\n",
        "TIME", "USER ID", "VERIFY", "STATE"
    )
}

/// One attendance text line (no newline).
pub fn attendance_text(a: &Attendance) -> String {
    let time = if a.time_error().is_some() {
        format!("{} (invalid)", a.time)
    } else {
        a.time.to_string()
    };
    format!(
        "{:<19}  {:<12}  {:<11}  {:<9}  {}",
        time,
        shown(&a.user_id()),
        verify_name(a.verify),
        state_name(a.state),
        a.work_code
    )
}

/// Name of a verify method (§2.6).
pub fn verify_name(v: u8) -> String {
    match v {
        0 => "password".into(),
        1 => "fingerprint".into(),
        2 => "card".into(),
        15 => "face".into(),
        n => format!("method {n}"),
    }
}

/// Name of a punch state.
pub fn state_name(s: u8) -> String {
    match s {
        0 => "check-in".into(),
        1 => "check-out".into(),
        2 => "break-out".into(),
        3 => "break-in".into(),
        4 => "ot-in".into(),
        5 => "ot-out".into(),
        n => format!("state {n}"),
    }
}

/// An event as a JSON object: `type` plus type-specific fields.
pub fn event_json(e: &Event) -> Value {
    match e {
        Event::Attendance(a) => json!({
            "type": "attendance", "user_id": a.user_id, "uid": a.uid, "time": a.time.to_string(),
            "verify": a.verify, "state": a.state,
        }),
        Event::Finger => json!({"type": "finger"}),
        Event::FpFtr { score } => json!({"type": "fingerprint_quality", "score": score}),
        Event::Verify { user, .. } => {
            json!({"type": "verify", "user": e.identified(), "raw_user": user})
        }
        Event::EnrollFinger {
            result,
            user_id,
            finger,
            ..
        } => json!({
            "type": "enroll_finger", "result": result, "user_id": user_id, "finger": finger,
        }),
        Event::EnrollUser { raw } => json!({"type": "enroll_user", "data_hex": hex::encode(raw)}),
        Event::Button { key } => json!({"type": "button", "key": key}),
        Event::Unlock { raw } => json!({"type": "unlock", "data_hex": hex::encode(raw)}),
        Event::HidNum { card } => {
            json!({"type": "card", "card": e.hid_card_le(), "card_hex": hex::encode(card)})
        }
        Event::Alarm(a) => {
            let (kind, uid) = alarm_kind(a);
            json!({"type": "alarm", "alarm": kind, "uid": uid})
        }
        Event::Other { flag, data } => {
            json!({"type": "other", "flag": flag, "data_hex": hex::encode(data)})
        }
        other => json!({"type": "other", "flag": other.flag().value()}),
    }
}

fn alarm_kind(a: &Alarm) -> (String, Option<u16>) {
    match a {
        Alarm::Tamper => ("tamper".into(), None),
        Alarm::ExitButton => ("exit_button".into(), None),
        Alarm::Misoperation => ("misoperation".into(), None),
        Alarm::DoorClosed { .. } => ("door_closed".into(), None),
        Alarm::Duress { uid, .. } => ("duress".into(), Some(*uid)),
        Alarm::AntiPassback { uid, .. } => ("anti_passback".into(), Some(*uid)),
        Alarm::Other { code, .. } => (format!("code_{code}"), None),
        _ => ("other".into(), None),
    }
}

/// An event as one text line.
pub fn event_text(e: &Event) -> String {
    match e {
        Event::Attendance(a) => format!(
            "{} punch user={} {} {}",
            a.time,
            shown(&a.user_id),
            verify_name(a.verify),
            state_name(a.state)
        ),
        Event::Finger => "finger on sensor".into(),
        Event::FpFtr { score } => format!("fingerprint quality {score}"),
        Event::Verify { user, .. } => match e.identified() {
            Some(u) => format!("verified user {u}"),
            None => format!("not identified ({user:#x})"),
        },
        Event::EnrollFinger {
            result,
            user_id,
            finger,
            ..
        } => format!(
            "enroll finger result={result} user={} finger={}",
            shown(user_id.as_deref().unwrap_or("?")),
            finger.map(|f| f.to_string()).unwrap_or_else(|| "?".into())
        ),
        Event::EnrollUser { .. } => "user enrolled".into(),
        Event::Button { key } => format!("button {key}"),
        Event::Unlock { .. } => "door unlocked".into(),
        Event::HidNum { card } => format!(
            "card {}",
            e.hid_card_le()
                .map(|c| c.to_string())
                .unwrap_or_else(|| hex::encode(card))
        ),
        Event::Alarm(a) => {
            let (kind, uid) = alarm_kind(a);
            match uid {
                Some(u) => format!("alarm {kind} uid={u}"),
                None => format!("alarm {kind}"),
            }
        }
        Event::Other { flag, data } => format!("event {flag:#06x} data={}", hex::encode(data)),
        other => format!("event {}", other.flag().name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_escaped_and_not_formulas() {
        assert_eq!(csv_field("1001"), "1001");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("x\r\ny"), r"x\r\ny");
        assert_eq!(csv_field("\x1b[2J"), r"\x1b[2J");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for f in ["+1", "-1", "@SUM(A1)"] {
            assert!(csv_field(f).starts_with('\''), "{f}");
        }
    }

    #[test]
    fn table_rows_stay_one_line_each() {
        let u = UserView {
            uid: 1,
            user_id: "7\r\nFAKE".into(),
            name: "\x1b]0;t\x07Eve\u{202e}".into(),
            privilege: 0,
            role: "user",
            enabled: true,
            card: 0,
            group: 1,
            timezones: [0; 4],
            has_pin: false,
        };
        let t = users_table(std::slice::from_ref(&u));
        assert_eq!(t.lines().count(), 3, "{t}");
        assert!(
            t.contains(r"7\r\nFAKE") && t.contains(r"\x1b]0;t\x07Eve\u{202e}"),
            "{t}"
        );
        let text = user_text(&u);
        assert!(!text.contains('\x1b') && !text.contains('\r'), "{text}");
    }
}
