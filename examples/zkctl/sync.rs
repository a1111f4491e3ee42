//! Files of the incremental attendance commands: the cursor file of
//! `attendance --cursor FILE` and the archive of `attendance clear --archive FILE`.

use crate::fail::Failure;
use crate::view;
use serde_json::{Value, json};
use std::path::Path;
use zkproto::terminal::record::attendance::Attendance;
use zkproto::terminal::sync::SyncCursor;

/// The cursor as JSON: `{"records":N,"record_len":L,"tail":"hex"}` (the
/// form the library's `serde` feature uses too).
pub fn cursor_json(c: &SyncCursor) -> Value {
    let tail: String = c.tail().iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "records": c.records(),
        "record_len": c.layout().map_or(0, |l| l.record_len()),
        "tail": tail,
    })
}

/// Reads a cursor file; a missing file is the start of the log.
pub fn load_cursor(path: &Path) -> Result<SyncCursor, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SyncCursor::new()),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let bad = |what: &str| {
        Failure::usage(format!(
            "{} is not a valid cursor file: {what}",
            path.display()
        ))
        .hint("use a file written by `zkctl attendance --cursor FILE`, or delete it to download everything")
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let records = v["records"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| bad("records is not a count"))?;
    let record_len = v["record_len"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad("record_len is not a size"))?;
    let hex = v["tail"].as_str().ok_or_else(|| bad("tail is not text"))?;
    if !hex.len().is_multiple_of(2) || hex.len() > 4 * usize::from(u16::MAX) {
        return Err(bad("tail is not hex of at most two records"));
    }
    let tail = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| bad("tail is not hex"))?;
    SyncCursor::from_parts(records, record_len, tail).map_err(|e| bad(&e.to_string()))
}

/// Replaces the cursor file once the new one is on disk.
pub fn save_cursor(path: &Path, c: &SyncCursor) -> Result<(), Failure> {
    crate::backup::write_replacing(path, cursor_json(c).to_string().as_bytes())
}

/// Writes the archive: CSV when FILE ends in `.csv`, else the JSON array
/// of `attendance --json`. The file must not exist (an archive is never
/// overwritten); it is flushed and synced, and so is its directory, before
/// this returns.
pub fn write_archive(path: &Path, records: &[Attendance]) -> std::io::Result<()> {
    use std::io::Write;
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut out = String::new();
    if csv {
        out.push_str(&view::attendance_csv_document(records));
    } else {
        let arr: Vec<Value> = records.iter().map(view::attendance_json).collect();
        out.push_str(&Value::Array(arr).to_string());
        out.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(out.as_bytes())?;
    f.flush()?;
    f.sync_all()?;
    crate::backup::sync_dir_of(path)
}
