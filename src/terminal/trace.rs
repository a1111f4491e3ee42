//! One-line dumps of frames for debugging, with secrets redacted (sans-IO).
//!
//! A [`FrameTracer`] follows one client connection, frame by frame in both
//! directions, and renders each frame as the decoded command or reply name,
//! session id, reply id, data length and the data in hex — except bytes
//! that may hold a secret, which are shown as `**`:
//!
//! * `CMD_AUTH`: the whole comm-key proof;
//! * `CMD_USER_WRQ`: the password field of the 28- or 72-byte user record
//!   (the whole data when its length is neither);
//! * `CMD_DATA` sent by the client (batch uploads of users or templates),
//!   `CMD_USERTEMP_WRQ`, `CMD_TMP_WRITE`, and replies to single-record reads
//!   (`CMD_USERTEMP_RRQ`): the whole data;
//! * bulk reads (`CMD_PREPARE_BUFFER`, `CMD_READ_BUFFER`, then `CMD_DATA`):
//!   of the user table, the password field of every record (the record
//!   size is taken from the buffer size and the user count of the last
//!   `CMD_GET_FREE_SIZES` reply; when it cannot be told, the whole data);
//!   of the attendance and operation logs, nothing; of any other table
//!   (fingerprint templates, unknown ones), the whole data. Data that
//!   arrives out of step with the tracer's view of the exchange (a stale
//!   reply id, a packet before any request, an unknown offset or one past
//!   the announced buffer size) is redacted whole;
//! * `CMD_OPTIONS_WRQ` / replies to `CMD_OPTIONS_RRQ` for an option whose
//!   name mentions a key or password (`COMKey`, `…Pwd…`): the value.
//!
//! Only the first [`MAX_SHOWN`] data bytes of a frame are rendered.
//!
//! ```
//! use zkproto::terminal::trace::{Direction, FrameTracer};
//! use zkproto::terminal::record::user::{User, UserLayout};
//! use zkproto::terminal::record::text::TextEncoding;
//! use zkproto::terminal::{Command, Packet};
//! let mut u = User::new(UserLayout::Extended72, 7, "42", TextEncoding::Utf8).unwrap();
//! u.set_password("97531").unwrap();
//! let p = Packet::new(Command::UserWrq, 0x1234, 9, u.to_bytes());
//! let line = FrameTracer::new().dump(Direction::Sent, &p);
//! assert!(line.starts_with("send CMD_USER_WRQ(8) session=0x1234 reply=9 len=72"));
//! assert!(line.contains("07 00 00 ** ** ** ** ** ** ** ** 00"));
//! assert!(!line.contains("39 37 35 33 31"));
//! ```

use crate::terminal::command::{Command, TableId};
use crate::terminal::packet::Packet;
use crate::terminal::record::bulk::{BufferDescriptor, BulkRead, ReadChunk};
use crate::terminal::record::sizes::FreeSizes;
use crate::terminal::record::user::UserLayout;
use core::fmt::Write;
use core::ops::Range;

/// Data bytes rendered per frame; the rest is counted, not shown.
pub const MAX_SHOWN: usize = 512;

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the client to the device.
    Sent,
    /// From the device to the client.
    Received,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Direction::Sent => "send",
            Direction::Received => "recv",
        }
    }
}

/// What the bulk data now flowing belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    /// The user table: passwords redacted record by record.
    Users,
    /// A log without secrets (attendance, operations).
    Public,
    /// Templates, unknown tables: everything redacted.
    Secret,
}

/// Bytes of a frame's data to hide.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Redact {
    Nothing,
    All(&'static str),
    Ranges(Vec<Range<usize>>, &'static str),
}

/// Follows one connection's frames and renders them with secrets redacted
/// (see the [module](self) documentation). Feed it every frame, in order,
/// with [`dump`](Self::dump) or, when not rendering, [`observe`](Self::observe),
/// so that it knows what later frames carry.
#[derive(Clone, Debug, Default)]
pub struct FrameTracer {
    /// Reply id and command of the last request sent.
    request: Option<(u16, Command)>,
    /// Whether the last request asked for an option that holds a secret.
    secret_option: bool,
    /// The bulk read in progress.
    table: Option<Table>,
    /// Size of the bulk buffer, when announced.
    buffer_size: Option<u32>,
    /// Buffer offset of the next bulk data byte (`None` when unknown).
    offset: Option<u64>,
    /// User count of the last free-sizes reply.
    user_count: Option<u32>,
}

/// Whether an option name or `name=value` text names a secret.
fn secret_option(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    [&b"key"[..], b"pwd", b"pass"]
        .iter()
        .any(|w| lower.windows(w.len()).any(|x| x == *w))
}

/// The value part (after `=`) of `name=value` data.
fn option_value(data: &[u8]) -> Redact {
    match data.iter().position(|&b| b == b'=') {
        Some(eq) => Redact::Ranges(
            core::iter::once(eq + 1..data.len()).collect(),
            "option value",
        ),
        None => Redact::All("option"),
    }
}

/// The password ranges of user records found in `data`, which starts at
/// byte `offset` of a table buffer (a `u32` length, then records).
fn user_passwords(layout: UserLayout, offset: u64, len: usize) -> Vec<Range<usize>> {
    let rec = layout.record_len() as u64;
    let pw = layout.password_range();
    let (start, end) = (offset, offset.saturating_add(len as u64));
    let mut out = Vec::new();
    if end <= 4 {
        return out;
    }
    let first = start.saturating_sub(4) / rec;
    let mut r = first;
    loop {
        let base = 4 + r * rec;
        let a = (base + pw.start as u64).max(start);
        let b = (base + pw.end as u64).min(end);
        if base >= end {
            break;
        }
        if a < b {
            // Both lie within [start, end), so they fit in usize.
            out.push((a - start) as usize..(b - start) as usize);
        }
        r += 1;
    }
    out
}

impl FrameTracer {
    /// A tracer for a new connection.
    pub fn new() -> FrameTracer {
        FrameTracer::default()
    }

    /// The record layout of a user table buffer of `size` bytes, if it
    /// can be told for sure.
    fn user_layout(&self) -> Option<UserLayout> {
        let records = usize::try_from(self.buffer_size?.checked_sub(4)?).ok()?;
        if let Some(n) = self.user_count.and_then(|n| usize::try_from(n).ok())
            && n > 0
            && records.is_multiple_of(n)
        {
            return UserLayout::from_record_len(records / n);
        }
        match (records.is_multiple_of(28), records.is_multiple_of(72)) {
            (true, false) => Some(UserLayout::Compact28),
            (false, true) => Some(UserLayout::Extended72),
            _ => None,
        }
    }

    /// Bulk data at the current offset: redaction for the table in
    /// progress, and the offset moved past it.
    fn bulk_data(&mut self, p: &Packet) -> Redact {
        let in_step = self.request.is_some_and(|(id, _)| id == p.reply_id);
        let table = self.table.filter(|_| in_step);
        let offset = self.offset;
        self.offset = offset.and_then(|o| o.checked_add(p.data.len() as u64));
        match table {
            Some(Table::Public) => Redact::Nothing,
            Some(Table::Users) => match self.user_layout() {
                Some(l) => {
                    // Data must lie within the announced buffer, else its
                    // record boundaries are not known.
                    let end = offset.and_then(|o| o.checked_add(p.data.len() as u64));
                    match (offset, end, self.buffer_size) {
                        (Some(o), Some(e), Some(size)) if e <= u64::from(size) => {
                            Redact::Ranges(user_passwords(l, o, p.data.len()), "PIN")
                        }
                        _ => Redact::All("user table data at an unknown offset"),
                    }
                }
                None => Redact::All("user table of unknown record size"),
            },
            Some(Table::Secret) => Redact::All("table data"),
            None => Redact::All("data"),
        }
    }

    fn sent(&mut self, p: &Packet) -> Redact {
        let cmd = p.command();
        self.request = Some((p.reply_id, cmd));
        self.secret_option = false;
        match cmd {
            Command::Auth => Redact::All("comm key"),
            Command::UserWrq => match UserLayout::from_record_len(p.data.len()) {
                Some(l) => Redact::Ranges(core::iter::once(l.password_range()).collect(), "PIN"),
                None => Redact::All("user record"),
            },
            Command::Data | Command::UserTempWrq | Command::TmpWrite => Redact::All("upload"),
            Command::OptionsWrq if secret_option(&p.data) => option_value(&p.data),
            Command::OptionsRrq => {
                self.secret_option = secret_option(&p.data);
                Redact::Nothing
            }
            Command::PrepareBuffer => {
                self.table = Some(match BulkRead::parse(&p.data) {
                    Ok(r)
                        if r.command == Command::AttLogRrq.value()
                            || r.command == Command::OpLogRrq.value() =>
                    {
                        Table::Public
                    }
                    Ok(r)
                        if r.command == Command::UserTempRrq.value()
                            && (r.param1 & 0xFF) == u32::from(TableId::User.value()) =>
                    {
                        Table::Users
                    }
                    _ => Table::Secret,
                });
                self.buffer_size = None;
                self.offset = Some(0);
                Redact::Nothing
            }
            Command::ReadBuffer => {
                self.offset = ReadChunk::parse(&p.data).ok().map(|c| u64::from(c.offset));
                Redact::Nothing
            }
            Command::FreeData => {
                self.table = None;
                Redact::Nothing
            }
            _ => Redact::Nothing,
        }
    }

    fn received(&mut self, p: &Packet) -> Redact {
        if p.is_event() {
            return Redact::Nothing;
        }
        let asked = self
            .request
            .filter(|(id, _)| *id == p.reply_id)
            .map(|(_, c)| c);
        if p.command() == Command::Data {
            // A whole buffer answering CMD_PREPARE_BUFFER starts at 0.
            if asked == Some(Command::PrepareBuffer) {
                self.offset = Some(0);
                self.buffer_size = u32::try_from(p.data.len()).ok();
            }
            return self.bulk_data(p);
        }
        if p.command() == Command::PrepareData {
            return Redact::Nothing;
        }
        match asked {
            Some(Command::GetFreeSizes) => {
                if let Ok(f) = FreeSizes::parse(&p.data) {
                    self.user_count = u32::try_from(f.users).ok();
                }
                Redact::Nothing
            }
            Some(Command::PrepareBuffer) => {
                if let Ok(d) = BufferDescriptor::parse(&p.data) {
                    self.buffer_size = Some(d.size);
                }
                Redact::Nothing
            }
            Some(Command::OptionsRrq) if self.secret_option => option_value(&p.data),
            Some(Command::UserTempRrq | Command::Auth) if !p.data.is_empty() => {
                Redact::All("record")
            }
            Some(_) => Redact::Nothing,
            None if p.data.is_empty() => Redact::Nothing,
            None => Redact::All("unexpected reply"),
        }
    }

    fn redaction(&mut self, dir: Direction, p: &Packet) -> Redact {
        match dir {
            Direction::Sent => self.sent(p),
            Direction::Received => self.received(p),
        }
    }

    /// Notes a frame without rendering it.
    pub fn observe(&mut self, dir: Direction, p: &Packet) {
        let _ = self.redaction(dir, p);
    }

    /// Notes a frame and renders it on one line:
    /// `send CMD_NAME(code) session=0x… reply=N len=N data: hex…`.
    ///
    /// ```
    /// use zkproto::terminal::trace::{Direction, FrameTracer};
    /// use zkproto::terminal::{Command, Packet};
    /// let mut t = FrameTracer::new();
    /// let auth = Packet::new(Command::Auth, 0x55aa, 3, &[0x12, 0x34, 0x56, 0x78][..]);
    /// assert_eq!(
    ///     t.dump(Direction::Sent, &auth),
    ///     "send CMD_AUTH(1102) session=0x55aa reply=3 len=4 data: ** ** ** ** (4 bytes redacted: comm key)"
    /// );
    /// let ok = Packet::new(2000u16, 0x55aa, 3, &[][..]);
    /// assert_eq!(t.dump(Direction::Received, &ok), "recv CMD_ACK_OK(2000) session=0x55aa reply=3 len=0");
    /// ```
    pub fn dump(&mut self, dir: Direction, p: &Packet) -> String {
        let redact = self.redaction(dir, p);
        render(dir, p, &redact)
    }
}

/// The frame's name: event flag, command, or reply code.
fn name(dir: Direction, p: &Packet) -> String {
    if p.is_event() && dir == Direction::Received {
        return format!("EVENT {}", p.event_flag());
    }
    let c = p.command();
    if matches!(c, Command::Unknown(_)) {
        p.reply_code().to_string()
    } else {
        c.to_string()
    }
}

fn render(dir: Direction, p: &Packet, redact: &Redact) -> String {
    let mut s = format!(
        "{} {} session={:#06x} reply={} len={}",
        dir.label(),
        name(dir, p),
        p.session_id,
        p.reply_id,
        p.data.len()
    );
    if p.data.is_empty() {
        return s;
    }
    let hidden = |i: usize| match redact {
        Redact::Nothing => false,
        Redact::All(_) => true,
        Redact::Ranges(r, _) => r.iter().any(|r| r.contains(&i)),
    };
    s.push_str(" data:");
    let mut count = 0usize;
    for (i, b) in p.data.iter().enumerate() {
        let h = hidden(i);
        count += usize::from(h);
        if i < MAX_SHOWN {
            if h {
                s.push_str(" **");
            } else {
                let _ = write!(s, " {b:02x}");
            }
        }
    }
    if p.data.len() > MAX_SHOWN {
        let _ = write!(s, " … ({} more)", p.data.len() - MAX_SHOWN);
    }
    let why = match redact {
        Redact::Nothing => None,
        Redact::All(w) | Redact::Ranges(_, w) => Some(*w),
    };
    if let Some(w) = why
        && count > 0
    {
        let _ = write!(s, " ({count} bytes redacted: {w})");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::bulk::{BulkRead, PrepareData, table_buffer};
    use crate::terminal::record::text::TextEncoding;
    use crate::terminal::record::user::User;
    use bytes::Bytes;

    const PIN: &str = "97531";

    fn user(layout: UserLayout, uid: u16) -> User {
        let mut u = User::new(layout, uid, &format!("{}", 100 + uid), TextEncoding::Utf8).unwrap();
        u.set_password(PIN).unwrap();
        u.set_name(
            "Ann",
            TextEncoding::Utf8,
            crate::terminal::record::text::Overflow::Error,
        )
        .unwrap();
        u
    }

    /// The PIN appears neither as text nor as hex.
    fn clean(line: &str) {
        let hex: String = PIN.bytes().map(|b| format!("{b:02x} ")).collect();
        assert!(!line.contains(PIN), "{line}");
        assert!(!line.contains(hex.trim_end()), "{line}");
        // Not even one digit of it in a password position (0x39 = '9').
        assert!(!line.contains(" 39 37"), "{line}");
    }

    fn table(layout: UserLayout, n: u16) -> Bytes {
        let mut records = Vec::new();
        for uid in 1..=n {
            records.extend_from_slice(&user(layout, uid).to_bytes());
        }
        table_buffer(&records).unwrap()
    }

    fn sizes(users: i32) -> Bytes {
        FreeSizes::new(users, 0, 0, 100, 100, 100).encode()
    }

    #[test]
    fn user_write_hides_only_the_password() {
        for layout in [UserLayout::Compact28, UserLayout::Extended72] {
            let u = user(layout, 5);
            let line = FrameTracer::new().dump(
                Direction::Sent,
                &Packet::new(Command::UserWrq, 1, 2, u.to_bytes()),
            );
            clean(&line);
            let pw = layout.password_len();
            assert!(
                line.contains(&format!("({pw} bytes redacted: PIN)")),
                "{line}"
            );
            // The name is still visible ("Ann").
            assert!(line.contains("41 6e 6e"), "{line}");
        }
        // A record of another size: all of it.
        let line = FrameTracer::new().dump(
            Direction::Sent,
            &Packet::new(Command::UserWrq, 1, 2, &b"9753100000"[..]),
        );
        assert!(line.contains("(10 bytes redacted: user record)"), "{line}");
    }

    #[test]
    fn auth_and_uploads_are_hidden_whole() {
        let mut t = FrameTracer::new();
        for cmd in [
            Command::Auth,
            Command::Data,
            Command::UserTempWrq,
            Command::TmpWrite,
        ] {
            let line = t.dump(Direction::Sent, &Packet::new(cmd, 1, 2, &b"97531"[..]));
            clean(&line);
            assert!(line.contains("** ** ** ** **"), "{line}");
        }
    }

    /// Feeds a bulk read of the user table: free sizes, 1503, then the
    /// buffer either whole or in 1504 chunks of `chunk` bytes split into
    /// `CMD_DATA` packets of `packet` bytes.
    fn read_users(
        t: &mut FrameTracer,
        buf: &Bytes,
        count: i32,
        chunk: usize,
        packet: usize,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut id = 10u16;
        out.push(t.dump(
            Direction::Sent,
            &Packet::new(Command::GetFreeSizes, 1, id, &[][..]),
        ));
        out.push(t.dump(
            Direction::Received,
            &Packet::new(2000u16, 1, id, sizes(count)),
        ));
        id += 1;
        out.push(t.dump(
            Direction::Sent,
            &Packet::new(Command::PrepareBuffer, 1, id, BulkRead::users().encode()),
        ));
        if chunk >= buf.len() {
            out.push(t.dump(
                Direction::Received,
                &Packet::new(Command::Data, 1, id, buf.clone()),
            ));
            return out;
        }
        let d = BufferDescriptor {
            compressed: 0,
            size: buf.len() as u32,
            original_size: buf.len() as u32,
            hash: 0,
        };
        out.push(t.dump(
            Direction::Received,
            &Packet::new(2000u16, 1, id, d.encode()),
        ));
        let mut start = 0;
        while start < buf.len() {
            id += 1;
            let len = chunk.min(buf.len() - start);
            let c = ReadChunk {
                offset: start as u32,
                len: len as u32,
            };
            out.push(t.dump(
                Direction::Sent,
                &Packet::new(Command::ReadBuffer, 1, id, c.encode()),
            ));
            let p = PrepareData {
                len: len as u32,
                packet_size: None,
            };
            out.push(t.dump(
                Direction::Received,
                &Packet::new(Command::PrepareData, 1, id, p.encode()),
            ));
            for piece in buf[start..start + len].chunks(packet) {
                out.push(t.dump(
                    Direction::Received,
                    &Packet::new(Command::Data, 1, id, Bytes::copy_from_slice(piece)),
                ));
            }
            start += len;
        }
        out.push(t.dump(
            Direction::Sent,
            &Packet::new(Command::FreeData, 1, id + 1, &[][..]),
        ));
        out
    }

    #[test]
    fn user_table_reads_hide_every_password_however_split() {
        for layout in [UserLayout::Compact28, UserLayout::Extended72] {
            for (n, chunk, packet) in [
                (3u16, 10_000, 10_000),
                (18, 100, 33),
                (7, 64, 64),
                (7, 1000, 1),
            ] {
                let buf = table(layout, n);
                let mut t = FrameTracer::new();
                let lines = read_users(&mut t, &buf, i32::from(n), chunk, packet);
                let redacted: usize = lines
                    .iter()
                    .filter_map(|l| {
                        l.split(" (")
                            .last()?
                            .strip_suffix(" bytes redacted: PIN)")?
                            .parse::<usize>()
                            .ok()
                    })
                    .sum();
                for l in &lines {
                    assert!(!l.contains("97531"), "{l}");
                }
                // Reassemble the shown bytes: the PIN bytes never appear,
                // names do.
                assert_eq!(
                    redacted,
                    usize::from(n) * layout.password_len(),
                    "{layout:?} {n} {chunk} {packet}: {lines:#?}"
                );
                assert!(
                    lines.iter().any(|l| l.contains("41 6e 6e")),
                    "names stay visible"
                );
            }
        }
    }

    #[test]
    fn ambiguous_or_unknown_user_tables_are_hidden_whole() {
        // 7 × 72 = 18 × 28 = 504 record bytes: without a count the size
        // cannot be told.
        let buf = table(UserLayout::Extended72, 7);
        let mut t = FrameTracer::new();
        let lines = read_users(&mut t, &buf, 0, 10_000, 10_000);
        let data = lines.last().unwrap();
        assert!(
            data.contains("(508 bytes redacted: user table of unknown record size)"),
            "{data}"
        );
        // Data with a reply id that matches no request.
        let line = t.dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 999, &b"97531"[..]),
        );
        assert!(line.contains("(5 bytes redacted: data)"), "{line}");
    }

    #[test]
    fn user_data_at_an_unknown_offset_is_hidden_whole() {
        let buf = table(UserLayout::Extended72, 3);
        let mut t = FrameTracer::new();
        let d = BufferDescriptor {
            compressed: 0,
            size: buf.len() as u32,
            original_size: buf.len() as u32,
            hash: 0,
        };
        t.dump(
            Direction::Sent,
            &Packet::new(Command::PrepareBuffer, 1, 2, BulkRead::users().encode()),
        );
        t.dump(Direction::Received, &Packet::new(2000u16, 1, 2, d.encode()));
        // A malformed CMD_READ_BUFFER: where the data lands is unknown.
        t.dump(
            Direction::Sent,
            &Packet::new(Command::ReadBuffer, 1, 3, &b"\x01\x02"[..]),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 3, buf.clone()),
        );
        assert!(
            line.contains("redacted: user table data at an unknown offset"),
            "{line}"
        );
        // Data beyond the announced buffer: hidden whole (and no overflow).
        let c = ReadChunk {
            offset: u32::MAX,
            len: 16,
        };
        t.dump(
            Direction::Sent,
            &Packet::new(Command::ReadBuffer, 1, 4, c.encode()),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 4, vec![0x39u8; 64]),
        );
        assert!(!line.contains("39 39 39 39 39"), "{line}");
    }

    #[test]
    fn logs_are_shown_and_templates_hidden() {
        let mut t = FrameTracer::new();
        t.dump(
            Direction::Sent,
            &Packet::new(
                Command::PrepareBuffer,
                1,
                5,
                BulkRead::attendance().encode(),
            ),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 5, &b"\x04\0\0\0abcd"[..]),
        );
        assert!(line.ends_with("data: 04 00 00 00 61 62 63 64"), "{line}");
        t.dump(
            Direction::Sent,
            &Packet::new(Command::PrepareBuffer, 1, 6, BulkRead::templates().encode()),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 6, &b"\x04\0\0\0abcd"[..]),
        );
        assert!(line.contains("(8 bytes redacted: table data)"), "{line}");
    }

    #[test]
    fn secret_options_hide_their_value() {
        let mut t = FrameTracer::new();
        let line = t.dump(
            Direction::Sent,
            &Packet::new(Command::OptionsWrq, 1, 2, &b"COMKey=97531\0"[..]),
        );
        clean(&line);
        t.dump(
            Direction::Sent,
            &Packet::new(Command::OptionsRrq, 1, 3, &b"COMKey\0"[..]),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(2000u16, 1, 3, &b"COMKey=97531\0"[..]),
        );
        clean(&line);
        t.dump(
            Direction::Sent,
            &Packet::new(Command::OptionsRrq, 1, 4, &b"~Platform\0"[..]),
        );
        let line = t.dump(
            Direction::Received,
            &Packet::new(2000u16, 1, 4, &b"~Platform=X\0"[..]),
        );
        assert!(!line.contains("redacted"), "{line}");
    }

    #[test]
    fn long_data_is_cut() {
        let line = FrameTracer::new().dump(
            Direction::Received,
            &Packet::new(Command::Data, 1, 1, vec![0u8; 2000]),
        );
        assert!(line.contains("… (1488 more)"), "{line}");
        assert!(line.contains("(2000 bytes redacted: data)"), "{line}");
    }
}
