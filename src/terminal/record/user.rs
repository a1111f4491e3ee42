//! User records (reference §6.1, §2.5, §5.2).
//!
//! Two layouts are in use: the 28-byte record of black-and-white firmware
//! ([`UserLayout::Compact28`]) and the 72-byte record of TFT firmware
//! ([`UserLayout::Extended72`]). A [`User`] keeps the record's bytes as they
//! are, so decoding and re-encoding reproduces the input exactly (junk after
//! a NUL, the unused card byte 20 of the 28-byte record…), and a setter
//! rewrites only the bytes of its own field.
//!
//! The 72-byte layout follows the firmware struct (group = u8 at offset 39,
//! time zones = u16×4 at 40). pyzk reads and writes bytes 40–46 as an ASCII
//! "group id" string instead; records written that way decode here with odd
//! time-zone values, and records written here carry the real group.
//!
//! ```
//! use zkproto::terminal::record::user::{User, UserLayout, Privilege};
//! use zkproto::terminal::record::text::{TextEncoding, Overflow};
//! let enc = TextEncoding::Utf8;
//! let mut u = User::new(UserLayout::Extended72, 14, "11224488", enc).unwrap();
//! u.set_privilege(Privilege(6));
//! u.set_password("123456").unwrap();
//! u.set_name("Nuevo", enc, Overflow::Error).unwrap();
//! u.set_card(6543);
//! let bytes = u.to_bytes();
//! assert_eq!(bytes.len(), 72);
//! let back = User::parse(&bytes, UserLayout::Extended72).unwrap();
//! assert_eq!(back, u);
//! assert_eq!(back.name(enc), "Nuevo");
//! assert_eq!(back.password(enc).expose(), "123456");
//! assert_eq!(format!("{:?}", back.password(enc)), "Pin(***)");
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::error::RecordError;
use crate::terminal::record::text::{Overflow, TextEncoding};
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// Size of the largest user record.
const MAX_RECORD: usize = 72;

/// The byte layout of a user record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UserLayout {
    /// 28-byte record (black-and-white firmware, pyzk "zk6"): numeric user id.
    Compact28,
    /// 72-byte record (TFT firmware, pyzk "zk8"): text user id.
    Extended72,
}

/// Byte offsets and sizes of the fields of one layout.
#[derive(Clone, Copy)]
struct Fields {
    password: (usize, usize),
    name: (usize, usize),
    card: usize,
    group: usize,
    tz: usize,
    user_id: (usize, usize),
}

const FIELDS_28: Fields = Fields {
    password: (3, 5),
    name: (8, 8),
    card: 16,
    group: 21,
    tz: 22,
    user_id: (24, 4),
};

const FIELDS_72: Fields = Fields {
    password: (3, 8),
    name: (11, 24),
    card: 35,
    group: 39,
    tz: 40,
    user_id: (48, 24),
};

impl UserLayout {
    /// Record size in bytes (28 or 72).
    ///
    /// ```
    /// use zkproto::terminal::record::user::UserLayout;
    /// assert_eq!(UserLayout::Compact28.record_len(), 28);
    /// assert_eq!(UserLayout::Extended72.record_len(), 72);
    /// ```
    pub const fn record_len(self) -> usize {
        match self {
            UserLayout::Compact28 => 28,
            UserLayout::Extended72 => 72,
        }
    }

    /// Size of the password field (5 or 8 bytes).
    pub const fn password_len(self) -> usize {
        self.fields().password.1
    }

    /// Byte range of the password field in a record (3..8 or 3..11): what
    /// a trace or log must never show.
    ///
    /// ```
    /// use zkproto::terminal::record::user::UserLayout;
    /// assert_eq!(UserLayout::Compact28.password_range(), 3..8);
    /// assert_eq!(UserLayout::Extended72.password_range(), 3..11);
    /// ```
    pub const fn password_range(self) -> core::ops::Range<usize> {
        let (at, len) = self.fields().password;
        at..at + len
    }

    /// Size of the name field (8 or 24 bytes).
    pub const fn name_len(self) -> usize {
        self.fields().name.1
    }

    /// Longest user id in bytes: 10 decimal digits (a u32) for the 28-byte
    /// layout, 24 bytes of text for the 72-byte layout.
    pub const fn user_id_max(self) -> usize {
        match self {
            UserLayout::Compact28 => 10,
            UserLayout::Extended72 => 24,
        }
    }

    const fn fields(self) -> Fields {
        match self {
            UserLayout::Compact28 => FIELDS_28,
            UserLayout::Extended72 => FIELDS_72,
        }
    }

    /// The layout whose records are `n` bytes long.
    ///
    /// ```
    /// use zkproto::terminal::record::user::UserLayout;
    /// assert_eq!(UserLayout::from_record_len(72), Some(UserLayout::Extended72));
    /// assert_eq!(UserLayout::from_record_len(16), None);
    /// ```
    pub const fn from_record_len(n: usize) -> Option<Self> {
        match n {
            28 => Some(UserLayout::Compact28),
            72 => Some(UserLayout::Extended72),
            _ => None,
        }
    }

    /// Chooses the layout of a user table from the length of its record area
    /// and, when known, the user count (`CMD_GET_FREE_SIZES`), as in §4.6.
    ///
    /// `records_len / count` wins when it is 28 or 72. Otherwise the sizes
    /// that divide `records_len` are tried; when both do (504 = 7×72 = 18×28)
    /// 72 is taken.
    ///
    /// ```
    /// use zkproto::terminal::record::user::UserLayout;
    /// assert_eq!(UserLayout::detect(504, Some(18)), Ok(UserLayout::Compact28));
    /// assert_eq!(UserLayout::detect(504, Some(7)), Ok(UserLayout::Extended72));
    /// assert_eq!(UserLayout::detect(504, None), Ok(UserLayout::Extended72));
    /// assert_eq!(UserLayout::detect(56, None), Ok(UserLayout::Compact28));
    /// assert!(UserLayout::detect(100, None).is_err());
    /// ```
    pub fn detect(records_len: usize, user_count: Option<u32>) -> Result<UserLayout, RecordError> {
        let count = user_count
            .and_then(|c| usize::try_from(c).ok())
            .filter(|&c| c > 0);
        if let Some(c) = count
            && records_len.is_multiple_of(c)
            && let Some(l) = Self::from_record_len(records_len / c)
        {
            return Ok(l);
        }
        let d28 = records_len.is_multiple_of(28);
        let d72 = records_len.is_multiple_of(72);
        match (d28, d72) {
            // Both divide (504 = 7×72 = 18×28) and the count matched neither
            // size above: the TFT layout, by far the more common.
            (true, true) | (false, true) => Ok(UserLayout::Extended72),
            (true, false) => Ok(UserLayout::Compact28),
            (false, false) => Err(RecordError::UnknownRecordSize {
                what: "user",
                len: records_len,
            }),
        }
    }
}

/// The role encoded in bits 1–3 of the privilege byte (§2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
    /// Normal user (role bits 0).
    User,
    /// Enroller (privilege 2).
    Enroller,
    /// Manager / administrator (privilege 6).
    Manager,
    /// Super administrator (privilege 14).
    SuperAdmin,
    /// Any other combination of the role bits; holds `privilege & 0x0E`.
    Other(u8),
}

/// The privilege byte of a user record, kept raw (§2.5).
///
/// ```
/// use zkproto::terminal::record::user::{Privilege, Role};
/// assert_eq!(Privilege::ADMIN.role(), Role::SuperAdmin);
/// let p = Privilege(6).with_disabled(true);
/// assert_eq!(p.0, 7);
/// assert!(p.is_disabled());
/// assert_eq!(p.role(), Role::Manager);
/// assert_eq!(Privilege(8).role(), Role::Other(8));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Privilege(pub u8);

impl Privilege {
    /// Normal user (0).
    pub const USER: Privilege = Privilege(0);
    /// Enroller (2).
    pub const ENROLLER: Privilege = Privilege(2);
    /// Manager (6).
    pub const MANAGER: Privilege = Privilege(6);
    /// Super administrator (14).
    pub const ADMIN: Privilege = Privilege(14);

    /// The role from bits 1–3.
    pub const fn role(self) -> Role {
        match self.0 & 0x0E {
            0 => Role::User,
            2 => Role::Enroller,
            6 => Role::Manager,
            14 => Role::SuperAdmin,
            other => Role::Other(other),
        }
    }

    /// Bit 0: the user is disabled.
    pub const fn is_disabled(self) -> bool {
        self.0 & 1 != 0
    }

    /// The same privilege with bit 0 set or cleared; other bits are kept.
    pub const fn with_disabled(self, disabled: bool) -> Privilege {
        if disabled {
            Privilege(self.0 | 1)
        } else {
            Privilege(self.0 & !1)
        }
    }
}

/// A user's password. `Debug` and `Display` never show it; use
/// [`expose`](Self::expose) to read it.
///
/// ```
/// use zkproto::terminal::record::user::Pin;
/// let p = Pin::new("1234");
/// assert_eq!(p.to_string(), "Pin(***)");
/// assert_eq!(p.expose(), "1234");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Pin(String);

impl Pin {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Pin {
        Pin(value.into())
    }

    /// The password text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the password is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

/// One user record, stored as its raw bytes.
///
/// Equality compares the layout and every byte of the record.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct User {
    layout: UserLayout,
    /// The record; bytes past `layout.record_len()` are always zero.
    raw: [u8; MAX_RECORD],
}

/// A plain view of a user without the password, for display and
/// serialisation (feature `serde`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserInfo {
    /// Internal index.
    pub uid: u16,
    /// Raw privilege byte.
    pub privilege: u8,
    /// Decoded name.
    pub name: String,
    /// Decoded user id (PIN2).
    pub user_id: String,
    /// Card number (0 = none).
    pub card: u32,
    /// Group.
    pub group: u8,
    /// Time zones (the 28-byte layout fills slot 0 only).
    pub timezones: [u16; 4],
    /// Whether a password is set.
    pub has_password: bool,
}

fn out_of_range(field: &'static str, reason: &'static str) -> EncodeError {
    EncodeError::OutOfRange { field, reason }
}

impl User {
    /// A new user with no name, password or card, group 1 (the firmware's
    /// default for new users) and time zones 0.
    ///
    /// `user_id` follows [`set_user_id`](Self::set_user_id): decimal digits
    /// fitting a u32 for the 28-byte layout, at most 24 bytes for the 72-byte
    /// one, never empty or `"0"`.
    ///
    /// ```
    /// use zkproto::terminal::record::user::{User, UserLayout};
    /// use zkproto::terminal::record::text::TextEncoding;
    /// let u = User::new(UserLayout::Compact28, 3, "1001", TextEncoding::Utf8).unwrap();
    /// assert_eq!(u.user_id(TextEncoding::Utf8), "1001");
    /// assert_eq!(u.group(), 1);
    /// assert!(User::new(UserLayout::Compact28, 3, "A1", TextEncoding::Utf8).is_err());
    /// ```
    pub fn new(
        layout: UserLayout,
        uid: u16,
        user_id: &str,
        enc: TextEncoding,
    ) -> Result<User, EncodeError> {
        let mut u = User {
            layout,
            raw: [0; MAX_RECORD],
        };
        u.set_uid(uid);
        u.set_group(1);
        u.set_user_id(user_id, enc)?;
        Ok(u)
    }

    /// Parses one record of exactly `layout.record_len()` bytes.
    ///
    /// ```
    /// use zkproto::terminal::record::user::{User, UserLayout};
    /// assert!(User::parse(&[0u8; 28], UserLayout::Compact28).is_ok());
    /// assert!(User::parse(&[0u8; 27], UserLayout::Compact28).is_err());
    /// ```
    pub fn parse(rec: &[u8], layout: UserLayout) -> Result<User, RecordError> {
        let need = layout.record_len();
        if rec.len() < need {
            return Err(RecordError::Truncated {
                what: "user",
                offset: 0,
                need,
                got: rec.len(),
            });
        }
        if rec.len() > need {
            return Err(RecordError::TrailingBytes {
                what: "user",
                extra: rec.len() - need,
            });
        }
        let mut u = User {
            layout,
            raw: [0; MAX_RECORD],
        };
        u.put(0, rec);
        Ok(u)
    }

    /// The record bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.raw.get(..self.layout.record_len()).unwrap_or_default()
    }

    /// Appends the record to `dst`.
    pub fn encode_into(&self, dst: &mut BytesMut) {
        dst.put_slice(self.as_bytes());
    }

    /// The record as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }

    /// The layout of this record.
    pub fn layout(&self) -> UserLayout {
        self.layout
    }

    fn slice(&self, off: usize, len: usize) -> &[u8] {
        self.raw
            .get(off..off.saturating_add(len))
            .unwrap_or_default()
    }

    fn array<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.raw.get(off..off.saturating_add(N)) {
            out.copy_from_slice(src);
        }
        out
    }

    fn put(&mut self, off: usize, src: &[u8]) {
        if let Some(dst) = self.raw.get_mut(off..off.saturating_add(src.len())) {
            dst.copy_from_slice(src);
        }
    }

    /// Writes `value` NUL-padded over the whole field `(off, len)`.
    fn put_padded(&mut self, (off, len): (usize, usize), value: &[u8]) {
        if let Some(dst) = self.raw.get_mut(off..off.saturating_add(len)) {
            dst.fill(0);
            if let Some(d) = dst.get_mut(..value.len()) {
                d.copy_from_slice(value);
            }
        }
    }

    /// Internal index (PIN), offset 0.
    pub fn uid(&self) -> u16 {
        u16::from_le_bytes(self.array(0))
    }

    /// Sets the internal index.
    pub fn set_uid(&mut self, uid: u16) {
        self.put(0, &uid.to_le_bytes());
    }

    /// The privilege byte, offset 2.
    pub fn privilege(&self) -> Privilege {
        Privilege(self.array::<1>(2)[0])
    }

    /// Sets the privilege byte.
    pub fn set_privilege(&mut self, p: Privilege) {
        self.put(2, &[p.0]);
    }

    /// Whether the user is enabled (privilege bit 0 clear).
    pub fn is_enabled(&self) -> bool {
        !self.privilege().is_disabled()
    }

    /// Sets or clears the disabled bit of the privilege byte.
    pub fn set_enabled(&mut self, enabled: bool) {
        let p = self.privilege().with_disabled(!enabled);
        self.set_privilege(p);
    }

    /// Card number (u32 at 35, or at 16 in the 28-byte layout).
    pub fn card(&self) -> u32 {
        u32::from_le_bytes(self.array(self.layout.fields().card))
    }

    /// Sets the card number (0 = none).
    pub fn set_card(&mut self, card: u32) {
        self.put(self.layout.fields().card, &card.to_le_bytes());
    }

    /// Group (byte 39, or 21 in the 28-byte layout).
    pub fn group(&self) -> u8 {
        self.array::<1>(self.layout.fields().group)[0]
    }

    /// Sets the group.
    pub fn set_group(&mut self, group: u8) {
        self.put(self.layout.fields().group, &[group]);
    }

    /// Time zones: four u16 at 40 (slot 0 = 1 means "use the user's own"),
    /// or the single u16 at 22 of the 28-byte layout in slot 0 (others 0).
    pub fn timezones(&self) -> [u16; 4] {
        let off = self.layout.fields().tz;
        match self.layout {
            UserLayout::Compact28 => [u16::from_le_bytes(self.array(off)), 0, 0, 0],
            UserLayout::Extended72 => {
                let w = |i: usize| u16::from_le_bytes(self.array(off + 2 * i));
                [w(0), w(1), w(2), w(3)]
            }
        }
    }

    /// Sets the time zones. The 28-byte layout stores only slot 0; the
    /// other slots are ignored there.
    pub fn set_timezones(&mut self, tz: [u16; 4]) {
        let off = self.layout.fields().tz;
        let n = match self.layout {
            UserLayout::Compact28 => 1,
            UserLayout::Extended72 => 4,
        };
        for (i, v) in tz.iter().take(n).enumerate() {
            self.put(off + 2 * i, &v.to_le_bytes());
        }
    }

    /// The name field's bytes (8 or 24, NUL padding included).
    pub fn name_raw(&self) -> &[u8] {
        let (off, len) = self.layout.fields().name;
        self.slice(off, len)
    }

    /// The name decoded with `enc` up to the first NUL (lossy, never fails).
    pub fn name(&self, enc: TextEncoding) -> String {
        enc.decode(self.name_raw())
    }

    /// Sets the name: encoded with `enc`, NUL-padded to the field size.
    /// A name longer than the field is refused ([`EncodeError::FieldTooLong`])
    /// or cut at a character boundary, according to `overflow`.
    pub fn set_name(
        &mut self,
        name: &str,
        enc: TextEncoding,
        overflow: Overflow,
    ) -> Result<(), EncodeError> {
        let f = self.layout.fields().name;
        let bytes = enc.encode(name, "name", f.1, overflow)?;
        self.put_padded(f, &bytes);
        Ok(())
    }

    /// The user id field's bytes (4 for the 28-byte layout's u32, else 24).
    pub fn user_id_raw(&self) -> &[u8] {
        let (off, len) = self.layout.fields().user_id;
        self.slice(off, len)
    }

    /// The user id (PIN2): the decimal form of the u32 in the 28-byte layout,
    /// the text up to the first NUL (decoded with `enc`, lossy) in the 72-byte one.
    pub fn user_id(&self, enc: TextEncoding) -> String {
        match self.layout {
            UserLayout::Compact28 => {
                u32::from_le_bytes(self.array(self.layout.fields().user_id.0)).to_string()
            }
            UserLayout::Extended72 => enc.decode(self.user_id_raw()),
        }
    }

    /// Sets the user id, applying the device's rules (§5.2): never empty or
    /// `"0"`; decimal digits fitting a u32 for the 28-byte layout; at most
    /// 24 bytes once encoded for the 72-byte layout.
    ///
    /// ```
    /// use zkproto::terminal::record::user::{User, UserLayout};
    /// use zkproto::terminal::record::text::TextEncoding;
    /// let enc = TextEncoding::Utf8;
    /// let mut u = User::new(UserLayout::Extended72, 1, "A-17", enc).unwrap();
    /// assert!(u.set_user_id("0", enc).is_err());
    /// assert!(u.set_user_id("", enc).is_err());
    /// assert!(u.set_user_id(&"9".repeat(25), enc).is_err());
    /// ```
    pub fn set_user_id(&mut self, user_id: &str, enc: TextEncoding) -> Result<(), EncodeError> {
        if user_id.is_empty() {
            return Err(out_of_range("user_id", "must not be empty"));
        }
        if user_id == "0" {
            return Err(out_of_range("user_id", "\"0\" is refused by the device"));
        }
        let f = self.layout.fields().user_id;
        match self.layout {
            UserLayout::Compact28 => {
                if !user_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(out_of_range(
                        "user_id",
                        "28-byte records need decimal digits",
                    ));
                }
                let v: u32 = user_id
                    .parse()
                    .map_err(|_| out_of_range("user_id", "must fit in a u32"))?;
                if v == 0 {
                    return Err(out_of_range("user_id", "\"0\" is refused by the device"));
                }
                self.put(f.0, &v.to_le_bytes());
            }
            UserLayout::Extended72 => {
                let bytes = enc.encode(user_id, "user_id", f.1, Overflow::Error)?;
                self.put_padded(f, &bytes);
            }
        }
        Ok(())
    }

    /// The password field's bytes (may hold junk after a NUL).
    fn password_raw(&self) -> &[u8] {
        let (off, len) = self.layout.fields().password;
        self.slice(off, len)
    }

    /// Whether a password is set (first password byte is not NUL).
    pub fn has_password(&self) -> bool {
        self.password_raw().first().is_some_and(|&b| b != 0)
    }

    /// The password decoded with `enc` up to the first NUL.
    pub fn password(&self, enc: TextEncoding) -> Pin {
        Pin(enc.decode(self.password_raw()))
    }

    /// Sets the password: decimal digits only, at most
    /// [`password_len`](UserLayout::password_len) of them; an empty string
    /// clears it. The whole field is rewritten (NUL-padded).
    ///
    /// ```
    /// use zkproto::terminal::record::user::{User, UserLayout};
    /// use zkproto::terminal::record::text::TextEncoding;
    /// let mut u = User::new(UserLayout::Compact28, 1, "1", TextEncoding::Utf8).unwrap();
    /// assert!(u.set_password("12345").is_ok());
    /// assert!(u.set_password("123456").is_err());
    /// assert!(u.set_password("12a").is_err());
    /// ```
    pub fn set_password(&mut self, password: &str) -> Result<(), EncodeError> {
        let f = self.layout.fields().password;
        if !password.bytes().all(|b| b.is_ascii_digit()) {
            return Err(out_of_range("password", "only decimal digits are allowed"));
        }
        if password.len() > f.1 {
            return Err(EncodeError::FieldTooLong {
                field: "password",
                len: password.len(),
                max: f.1,
            });
        }
        self.put_padded(f, password.as_bytes());
        Ok(())
    }

    /// Clears the password (zeroes the whole field).
    pub fn clear_password(&mut self) {
        let f = self.layout.fields().password;
        self.put_padded(f, &[]);
    }

    /// A plain view of the user without the password.
    pub fn info(&self, enc: TextEncoding) -> UserInfo {
        UserInfo {
            uid: self.uid(),
            privilege: self.privilege().0,
            name: self.name(enc),
            user_id: self.user_id(enc),
            card: self.card(),
            group: self.group(),
            timezones: self.timezones(),
            has_password: self.has_password(),
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |b: &[u8]| {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            String::from_utf8_lossy(b.get(..end).unwrap_or_default()).into_owned()
        };
        let user_id = match self.layout {
            UserLayout::Compact28 => self.user_id(TextEncoding::Utf8),
            UserLayout::Extended72 => text(self.user_id_raw()),
        };
        f.debug_struct("User")
            .field("layout", &self.layout)
            .field("uid", &self.uid())
            .field("privilege", &self.privilege().0)
            .field("password", &if self.has_password() { "***" } else { "" })
            .field("name", &text(self.name_raw()))
            .field("card", &self.card())
            .field("group", &self.group())
            .field("timezones", &self.timezones())
            .field("user_id", &user_id)
            .finish()
    }
}

/// Parses a record area (without the 4-byte total) of `layout` records.
///
/// ```
/// use zkproto::terminal::record::user::{parse_users, UserLayout};
/// let users = parse_users(&[0u8; 56], UserLayout::Compact28).unwrap();
/// assert_eq!(users.len(), 2);
/// assert!(parse_users(&[0u8; 57], UserLayout::Compact28).is_err());
/// ```
pub fn parse_users(records: &[u8], layout: UserLayout) -> Result<Vec<User>, RecordError> {
    let len = layout.record_len();
    let count = records.len() / len;
    let whole = count.checked_mul(len).unwrap_or(0);
    if whole != records.len() {
        return Err(RecordError::Truncated {
            what: "user",
            offset: whole,
            need: len,
            got: records.len() - whole.min(records.len()),
        });
    }
    let mut out = Vec::with_capacity(count.min(records.len()));
    for rec in records.chunks_exact(len) {
        out.push(User::parse(rec, layout)?);
    }
    Ok(out)
}

/// Builds a table buffer (§4.6): u32 total length of the records, then the
/// records. A total beyond `u32::MAX` is saturated (not reachable with the
/// 65 535 uids a device can hold).
///
/// ```
/// use zkproto::terminal::record::user::{encode_users, User, UserLayout};
/// use zkproto::terminal::record::text::TextEncoding;
/// let u = User::new(UserLayout::Extended72, 1, "1", TextEncoding::Utf8).unwrap();
/// let buf = encode_users(&[u.clone(), u]);
/// assert_eq!(buf.len(), 4 + 144);
/// assert_eq!(&buf[..4], &144u32.to_le_bytes());
/// ```
pub fn encode_users(users: &[User]) -> Bytes {
    let total: usize = users.iter().map(|u| u.layout.record_len()).sum();
    let mut dst = BytesMut::with_capacity(total.saturating_add(4));
    dst.put_u32_le(u32::try_from(total).unwrap_or(u32::MAX));
    for u in users {
        u.encode_into(&mut dst);
    }
    dst.freeze()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const NED: &str = "0d000034343400c69a807c4e6564000000000000000000000000000000000000\
                       000000de00000002010001000200000035353500000000000000000000000000\
                       0000000000000000";

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ned_decodes() {
        let raw = unhex(NED);
        let u = User::parse(&raw, UserLayout::Extended72).unwrap();
        let enc = TextEncoding::Utf8;
        assert_eq!(u.uid(), 13);
        assert_eq!(u.privilege(), Privilege::USER);
        assert_eq!(u.password(enc).expose(), "444");
        assert_eq!(u.name(enc), "Ned");
        assert_eq!(u.card(), 222);
        assert_eq!(u.group(), 2);
        assert_eq!(u.timezones(), [1, 1, 2, 0]);
        assert_eq!(u.user_id(enc), "555");
        assert_eq!(u.as_bytes(), &raw[..]);
        let dbg = format!("{u:?}");
        assert!(!dbg.contains("444"), "{dbg}");
    }

    #[test]
    fn compact_fields() {
        let mut raw = [0u8; 28];
        raw[0] = 5;
        raw[2] = 14;
        raw[3..8].copy_from_slice(b"12345");
        raw[8..16].copy_from_slice(b"ABCDEFGH");
        raw[16..20].copy_from_slice(&0xDEADBEEFu32.to_le_bytes());
        raw[20] = 0x77;
        raw[21] = 3;
        raw[22..24].copy_from_slice(&9u16.to_le_bytes());
        raw[24..28].copy_from_slice(&4_000_000_000u32.to_le_bytes());
        let u = User::parse(&raw, UserLayout::Compact28).unwrap();
        let enc = TextEncoding::Utf8;
        assert_eq!(u.uid(), 5);
        assert_eq!(u.privilege().role(), Role::SuperAdmin);
        assert_eq!(u.password(enc).expose(), "12345");
        assert_eq!(u.name(enc), "ABCDEFGH");
        assert_eq!(u.card(), 0xDEADBEEF);
        assert_eq!(u.group(), 3);
        assert_eq!(u.timezones(), [9, 0, 0, 0]);
        assert_eq!(u.user_id(enc), "4000000000");
        assert_eq!(u.as_bytes(), &raw);
    }

    #[test]
    fn detect_rules() {
        assert_eq!(UserLayout::detect(144, Some(2)), Ok(UserLayout::Extended72));
        assert_eq!(
            UserLayout::detect(5040, Some(70)),
            Ok(UserLayout::Extended72)
        );
        assert_eq!(
            UserLayout::detect(28 * 5, Some(5)),
            Ok(UserLayout::Compact28)
        );
        // Count disagrees: fall back to divisibility.
        assert_eq!(
            UserLayout::detect(28 * 5, Some(3)),
            Ok(UserLayout::Compact28)
        );
        assert_eq!(UserLayout::detect(0, None), Ok(UserLayout::Extended72));
        assert_eq!(UserLayout::detect(504, Some(0)), Ok(UserLayout::Extended72));
        assert_eq!(
            UserLayout::detect(30, Some(1)),
            Err(RecordError::UnknownRecordSize {
                what: "user",
                len: 30
            })
        );
    }

    #[test]
    fn setters_touch_only_their_field() {
        let raw = unhex(NED);
        let mut u = User::parse(&raw, UserLayout::Extended72).unwrap();
        u.set_card(1);
        let diff: Vec<usize> = (0..72).filter(|&i| u.as_bytes()[i] != raw[i]).collect();
        assert_eq!(diff, vec![35]);
        u.set_card(222);
        u.set_enabled(false);
        assert_eq!(u.privilege(), Privilege(1));
        assert!(!u.is_enabled());
        u.set_enabled(true);
        assert_eq!(u.as_bytes(), &raw[..]);
    }

    #[test]
    fn password_rules() {
        let mut u = User::new(UserLayout::Extended72, 1, "1", TextEncoding::Utf8).unwrap();
        assert!(!u.has_password());
        u.set_password("12345678").unwrap();
        assert!(u.has_password());
        assert_eq!(
            u.set_password("123456789"),
            Err(EncodeError::FieldTooLong {
                field: "password",
                len: 9,
                max: 8
            })
        );
        assert!(matches!(
            u.set_password("12a"),
            Err(EncodeError::OutOfRange {
                field: "password",
                ..
            })
        ));
        u.set_password("").unwrap();
        assert!(!u.has_password());
        u.set_password("9").unwrap();
        u.clear_password();
        assert!(!u.has_password());
    }

    #[test]
    fn compact_user_id_rules() {
        let enc = TextEncoding::Utf8;
        let mut u = User::new(UserLayout::Compact28, 1, "4294967295", enc).unwrap();
        assert_eq!(u.user_id(enc), "4294967295");
        assert!(u.set_user_id("4294967296", enc).is_err());
        assert!(u.set_user_id("00", enc).is_err());
        assert!(u.set_user_id("-1", enc).is_err());
        u.set_user_id("007", enc).unwrap();
        assert_eq!(u.user_id(enc), "7");
    }
}
