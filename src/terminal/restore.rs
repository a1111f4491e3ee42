//! Restoring a backup of users and fingerprint templates to a terminal,
//! sans-IO: which uid a new user gets, how a record of one layout becomes
//! a record of another, which fields of two records differ, and the whole
//! restore plan. Nothing here talks to a device; the client (or `zkctl
//! restore`) reads the device's tables, calls [`plan`], and writes the
//! steps that are not [`Action::Unchanged`].
//!
//! * [`UidAllocator`] / [`free_uid`]: the one uid rule of the crate. Uids
//!   run from [`FIRST_UID`] (1) to [`LAST_UID`] (65534): uid 0 is never
//!   handed out (firmware treats it as "no user"), nor is 65535 (`0xffff`,
//!   which firmware uses as "none" in lookups). The client's
//!   `add_user` uses the same allocator.
//! * [`changed_fields`]: names (never values) of the fields two records
//!   differ in; PINs must not reach logs.
//! * [`convert`]: a record of the backup's layout and encoding rebuilt for
//!   the target, with [`Note`]s for what could not be kept exactly.
//! * [`plan`]: backup users matched to device users by user id, templates
//!   following their owner's uid.
//!
//! ```
//! use zkproto::terminal::record::text::TextEncoding;
//! use zkproto::terminal::record::user::{User, UserLayout};
//! use zkproto::terminal::restore::{plan, Action, Tables};
//! let enc = TextEncoding::Utf8;
//! let l = UserLayout::Extended72;
//! let backup = vec![User::new(l, 1, "10", enc).unwrap(), User::new(l, 2, "20", enc).unwrap()];
//! let device = vec![User::new(l, 1, "99", enc).unwrap()];
//! let p = plan(
//!     Tables { users: &backup, templates: &[], encoding: enc },
//!     Tables { users: &device, templates: &[], encoding: enc },
//!     l,
//! )
//! .unwrap();
//! // Both are new. Uid 1 is taken on the device, so user "10" gets the
//! // lowest free uid, 2; then user "20" finds its uid 2 taken and gets 3.
//! assert_eq!(p.count_users(Action::Add), 2);
//! assert_eq!(p.users[0].user.uid(), 2);
//! assert_eq!(p.users[1].user.uid(), 3);
//! assert_eq!(p.kept, 1); // user "99" stays
//! ```

use crate::terminal::error::EncodeError;
use crate::terminal::record::template::Template;
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::user::{User, UserLayout};
use core::fmt;
use std::collections::{BTreeMap, BTreeSet};

/// The lowest uid ever handed out (uid 0 means "no user" to firmware).
pub const FIRST_UID: u16 = 1;
/// The highest uid ever handed out (65535, `0xffff`, means "none" to
/// firmware).
pub const LAST_UID: u16 = u16::MAX - 1;

/// Hands out free uids (internal user indexes) from [`FIRST_UID`] to
/// [`LAST_UID`]: the preferred one when it is free, else the lowest free one.
///
/// Each call walks the taken uids in order, so it costs O(taken) at worst.
///
/// ```
/// use zkproto::terminal::restore::UidAllocator;
/// let mut uids = UidAllocator::new([1, 2, 4]);
/// assert_eq!(uids.allocate(Some(7)), Some(7)); // free: kept
/// assert_eq!(uids.allocate(Some(4)), Some(3)); // taken: the lowest free one
/// assert_eq!(uids.allocate(None), Some(5));
/// assert!(!uids.is_free(3));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UidAllocator {
    taken: BTreeSet<u16>,
}

impl UidAllocator {
    /// An allocator for a table where `taken` are in use (uids outside
    /// [`FIRST_UID`]`..=`[`LAST_UID`] may be among them; they change nothing).
    ///
    /// ```
    /// use zkproto::terminal::restore::UidAllocator;
    /// assert_eq!(UidAllocator::new([0, 1, 65535]).free(None), Some(2));
    /// ```
    pub fn new(taken: impl IntoIterator<Item = u16>) -> Self {
        UidAllocator {
            taken: taken.into_iter().collect(),
        }
    }

    /// Whether `uid` could be handed out: in range and not taken.
    ///
    /// ```
    /// use zkproto::terminal::restore::UidAllocator;
    /// let uids = UidAllocator::new([5]);
    /// assert!(uids.is_free(1) && !uids.is_free(5));
    /// assert!(!uids.is_free(0) && !uids.is_free(65535) && uids.is_free(65534));
    /// ```
    pub fn is_free(&self, uid: u16) -> bool {
        (FIRST_UID..=LAST_UID).contains(&uid) && !self.taken.contains(&uid)
    }

    /// The uid [`allocate`](Self::allocate) would hand out, without taking
    /// it: `preferred` when it is free, else the lowest free uid; `None`
    /// when every uid from [`FIRST_UID`] to [`LAST_UID`] is taken.
    ///
    /// ```
    /// use zkproto::terminal::restore::UidAllocator;
    /// let uids = UidAllocator::new([1, 3]);
    /// assert_eq!(uids.free(Some(3)), Some(2));
    /// assert_eq!(uids.free(Some(0)), Some(2));
    /// assert_eq!(uids.free(Some(9)), Some(9));
    /// assert_eq!(UidAllocator::new(1..=65534).free(None), None);
    /// ```
    pub fn free(&self, preferred: Option<u16>) -> Option<u16> {
        match preferred {
            Some(p) if self.is_free(p) => Some(p),
            _ => self.lowest_free(),
        }
    }

    /// Takes and returns the uid [`free`](Self::free) names.
    ///
    /// ```
    /// use zkproto::terminal::restore::UidAllocator;
    /// let mut uids = UidAllocator::new([]);
    /// assert_eq!(uids.allocate(Some(2)), Some(2));
    /// assert_eq!(uids.allocate(Some(2)), Some(1));
    /// assert_eq!(uids.allocate(Some(2)), Some(3));
    /// ```
    pub fn allocate(&mut self, preferred: Option<u16>) -> Option<u16> {
        let uid = self.free(preferred)?;
        self.taken.insert(uid);
        Some(uid)
    }

    fn lowest_free(&self) -> Option<u16> {
        let mut next = FIRST_UID;
        for &t in self.taken.range(FIRST_UID..) {
            if t != next {
                break;
            }
            if next == LAST_UID {
                return None;
            }
            next += 1;
        }
        Some(next)
    }
}

/// The uid for a new user in a table where `taken` are in use:
/// `preferred` when it is free, else the lowest free one (see
/// [`UidAllocator`] for the range); `None` when the table is full.
///
/// ```
/// use zkproto::terminal::restore::free_uid;
/// assert_eq!(free_uid([1, 2, 3], None), Some(4));
/// assert_eq!(free_uid([1, 2, 3], Some(2)), Some(4));
/// assert_eq!(free_uid([], Some(0)), Some(1));
/// assert_eq!(free_uid(0..=65535, None), None);
/// ```
pub fn free_uid(taken: impl IntoIterator<Item = u16>, preferred: Option<u16>) -> Option<u16> {
    UidAllocator::new(taken).free(preferred)
}

/// The bytes of a text field up to its first NUL: what a reader sees.
fn until_nul(field: &[u8]) -> &[u8] {
    field.split(|&b| b == 0).next().unwrap_or(field)
}

/// The user id as the device reads it: the whole u32 of the 28-byte
/// layout, the text up to the first NUL of the 72-byte one.
fn user_id_value(u: &User) -> &[u8] {
    match u.layout() {
        UserLayout::Compact28 => u.user_id_raw(),
        UserLayout::Extended72 => until_nul(u.user_id_raw()),
    }
}

/// The PIN's bytes up to the first NUL (never shown, only compared).
fn pin_value(u: &User) -> &[u8] {
    until_nul(
        u.as_bytes()
            .get(u.layout().password_range())
            .unwrap_or_default(),
    )
}

/// Names of the fields where two user records differ — never their values
/// (PINs must not reach logs).
///
/// Records of different layouts give `["layout"]` alone. Otherwise the
/// names come in this order: `"uid"`, `"user id"`, `"name"`,
/// `"privilege"`, `"card"`, `"group"`, `"timezones"`, `"pin"`. Text
/// fields (user id of the 72-byte layout, name, PIN) are compared up to
/// their first NUL, as a reader sees them; when no named field differs but
/// the bytes do (padding after a NUL, unnamed bytes), the result is
/// `["other bytes"]`. Identical records give an empty list.
///
/// ```
/// use zkproto::terminal::record::text::{Overflow, TextEncoding};
/// use zkproto::terminal::record::user::{User, UserLayout};
/// use zkproto::terminal::restore::changed_fields;
/// let enc = TextEncoding::Utf8;
/// let a = User::new(UserLayout::Extended72, 1, "10", enc).unwrap();
/// let mut b = a.clone();
/// assert!(changed_fields(&a, &b).is_empty());
/// b.set_name("Ana", enc, Overflow::Error).unwrap();
/// b.set_password("1234").unwrap();
/// b.set_uid(2);
/// assert_eq!(changed_fields(&a, &b), ["uid", "name", "pin"]);
/// let c = User::new(UserLayout::Compact28, 1, "10", enc).unwrap();
/// assert_eq!(changed_fields(&a, &c), ["layout"]);
/// ```
pub fn changed_fields(a: &User, b: &User) -> Vec<&'static str> {
    if a.layout() != b.layout() {
        return vec!["layout"];
    }
    let same = [
        ("uid", a.uid() == b.uid()),
        ("user id", user_id_value(a) == user_id_value(b)),
        ("name", until_nul(a.name_raw()) == until_nul(b.name_raw())),
        ("privilege", a.privilege() == b.privilege()),
        ("card", a.card() == b.card()),
        ("group", a.group() == b.group()),
        ("timezones", a.timezones() == b.timezones()),
        ("pin", pin_value(a) == pin_value(b)),
    ];
    let mut out: Vec<&'static str> = same
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(field, _)| field)
        .collect();
    if out.is_empty() && a.as_bytes() != b.as_bytes() {
        out.push("other bytes");
    }
    out
}

/// Something [`convert`] could not keep exactly (the user is restored
/// anyway). Its text names no PIN.
///
/// ```
/// use zkproto::terminal::restore::Note;
/// assert_eq!(Note::TimeZonesDropped.to_string(), "time zones 2-4 dropped (the device stores one)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// The name did not fit the target's name field and was cut at a
    /// character boundary.
    NameShortened {
        /// The name in the backup.
        from: String,
        /// The name as stored.
        to: String,
        /// Size of the target's name field in bytes.
        field_len: usize,
    },
    /// The target layout (28 bytes) stores one time zone; slots 2-4 of the
    /// backup were not all 0.
    TimeZonesDropped,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NameShortened {
                from,
                to,
                field_len,
            } => write!(
                f,
                "name {from:?} shortened to {to:?} (the device holds {field_len} bytes)"
            ),
            Note::TimeZonesDropped => f.write_str("time zones 2-4 dropped (the device stores one)"),
        }
    }
}

/// Why one backup user cannot be restored. No variant carries a PIN.
///
/// ```
/// use zkproto::terminal::restore::RestoreError;
/// let e = RestoreError::PinTooLong { max: 5 };
/// assert_eq!(e.to_string(), "its PIN has more than 5 digits, the most this device stores");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The user id does not fit the target layout (e.g. letters for the
    /// 28-byte layout, which stores a u32).
    #[error("user id {user_id:?} cannot be stored on this device: {source}")]
    UserId {
        /// The user id.
        user_id: String,
        /// What the record refused.
        source: EncodeError,
    },
    /// The name cannot be encoded for the target, not even shortened.
    #[error("name {name:?}: {source}")]
    Name {
        /// The name.
        name: String,
        /// What the record refused.
        source: EncodeError,
    },
    /// The PIN has more digits than the target's password field holds.
    #[error("its PIN has more than {max} digits, the most this device stores")]
    PinTooLong {
        /// Digits the target stores.
        max: usize,
    },
    /// The PIN cannot be stored for another reason (a record holding
    /// something other than digits); the source names no PIN.
    #[error("its PIN cannot be stored on this device: {0}")]
    Pin(EncodeError),
    /// A new user needs a uid and [`FIRST_UID`]..=[`LAST_UID`] are all taken.
    #[error("no free internal index")]
    NoFreeUid,
    /// Another backup user has the same uid (templates could not tell them apart).
    #[error("uid {uid} appears twice in the backup")]
    DuplicateUid {
        /// The uid.
        uid: u16,
    },
    /// Another backup user has the same user id.
    #[error("the user id appears twice in the backup")]
    DuplicateUserId,
}

/// A record converted by [`convert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The record in the target layout and encoding, with the source's uid.
    pub user: User,
    /// What could not be kept exactly.
    pub notes: Vec<Note>,
}

/// Rebuilds a backup record (text in `from`) for a target with `layout`
/// and text in `to`. A record already in that layout and encoding is
/// returned as it is, byte for byte. Otherwise every field is copied; a
/// name too long for the target is shortened and time zones 2-4 dropped
/// for the 28-byte layout (both with a [`Note`]); a user id or PIN the
/// target cannot store is refused.
///
/// ```
/// use zkproto::terminal::record::text::{Overflow, TextEncoding};
/// use zkproto::terminal::record::user::{User, UserLayout};
/// use zkproto::terminal::restore::{convert, RestoreError};
/// let enc = TextEncoding::Utf8;
/// let mut u = User::new(UserLayout::Extended72, 4, "5", enc).unwrap();
/// u.set_name("Alexandrina", enc, Overflow::Error).unwrap();
/// let c = convert(&u, enc, UserLayout::Compact28, enc).unwrap();
/// assert_eq!((c.user.uid(), c.user.name(enc).as_str()), (4, "Alexandr"));
/// assert_eq!(c.notes.len(), 1);
/// u.set_password("123456").unwrap();
/// assert_eq!(convert(&u, enc, UserLayout::Compact28, enc), Err(RestoreError::PinTooLong { max: 5 }));
/// ```
pub fn convert(
    src: &User,
    from: TextEncoding,
    layout: UserLayout,
    to: TextEncoding,
) -> Result<Converted, RestoreError> {
    if src.layout() == layout && from == to {
        return Ok(Converted {
            user: src.clone(),
            notes: Vec::new(),
        });
    }
    let mut notes = Vec::new();
    let user_id = src.user_id(from);
    let mut u =
        User::new(layout, src.uid(), &user_id, to).map_err(|source| RestoreError::UserId {
            user_id: user_id.clone(),
            source,
        })?;
    let name = src.name(from);
    if u.set_name(&name, to, Overflow::Error).is_err() {
        u.set_name(&name, to, Overflow::Truncate)
            .map_err(|source| RestoreError::Name {
                name: name.clone(),
                source,
            })?;
        notes.push(Note::NameShortened {
            to: u.name(to),
            from: name,
            field_len: layout.name_len(),
        });
    }
    u.set_password(src.password(from).expose())
        .map_err(|e| match e {
            EncodeError::FieldTooLong { .. } => RestoreError::PinTooLong {
                max: layout.password_len(),
            },
            other => RestoreError::Pin(other),
        })?;
    u.set_privilege(src.privilege());
    u.set_card(src.card());
    u.set_group(src.group());
    let tz = src.timezones();
    if layout == UserLayout::Compact28 && tz.iter().skip(1).any(|&t| t != 0) {
        notes.push(Note::TimeZonesDropped);
    }
    u.set_timezones(tz);
    Ok(Converted { user: u, notes })
}

/// What a restore does with one user or template.
///
/// ```
/// use zkproto::terminal::restore::Action;
/// assert_eq!(Action::Add.name(), "add");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Not on the device yet: write it.
    Add,
    /// On the device, different: write it.
    Update,
    /// On the device, identical: nothing to write.
    Unchanged,
}

impl Action {
    /// The lowercase name (`"add"`, `"update"`, `"unchanged"`).
    ///
    /// ```
    /// use zkproto::terminal::restore::Action;
    /// assert_eq!([Action::Add, Action::Update, Action::Unchanged].map(Action::name), ["add", "update", "unchanged"]);
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Action::Add => "add",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One user of a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserStep {
    /// What to do.
    pub action: Action,
    /// The record to write, already carrying the target uid.
    pub user: User,
    /// The user id (decoded with the backup's encoding).
    pub user_id: String,
    /// For [`Action::Update`], the [`changed_fields`] of the device's
    /// record and this one; empty otherwise.
    pub changes: Vec<&'static str>,
    /// What [`convert`] could not keep exactly.
    pub notes: Vec<Note>,
}

/// One template of a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateStep {
    /// What to do.
    pub action: Action,
    /// The template, carrying its owner's target uid.
    pub template: Template,
    /// The owner's user id.
    pub user_id: String,
}

/// What a restore would write; see [`plan`].
///
/// ```
/// use zkproto::terminal::restore::{Action, Plan};
/// let p = Plan::default();
/// assert!(!p.has_changes());
/// assert_eq!((p.count_users(Action::Add), p.count_templates(Action::Add), p.kept), (0, 0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The users, in backup order.
    pub users: Vec<UserStep>,
    /// The templates, in backup order.
    pub templates: Vec<TemplateStep>,
    /// Users on the device that the backup does not mention (left as they are).
    pub kept: usize,
}

impl Plan {
    /// Number of user steps with this action.
    ///
    /// ```
    /// # use zkproto::terminal::record::text::TextEncoding;
    /// # use zkproto::terminal::record::user::{User, UserLayout};
    /// use zkproto::terminal::restore::{plan, Action, Tables};
    /// let enc = TextEncoding::Utf8;
    /// let u = [User::new(UserLayout::Compact28, 1, "7", enc).unwrap()];
    /// let t = |users| Tables { users, templates: &[], encoding: enc };
    /// let p = plan(t(&u), t(&u), UserLayout::Compact28).unwrap();
    /// assert_eq!((p.count_users(Action::Unchanged), p.count_users(Action::Add)), (1, 0));
    /// ```
    pub fn count_users(&self, a: Action) -> usize {
        self.users.iter().filter(|s| s.action == a).count()
    }

    /// Number of template steps with this action.
    ///
    /// ```
    /// # use zkproto::terminal::record::text::TextEncoding;
    /// # use zkproto::terminal::record::template::Template;
    /// # use zkproto::terminal::record::user::{User, UserLayout};
    /// use zkproto::terminal::restore::{plan, Action, Tables};
    /// let enc = TextEncoding::Utf8;
    /// let u = [User::new(UserLayout::Compact28, 1, "7", enc).unwrap()];
    /// let fp = [Template { uid: 1, finger: 0, flag: 1, data: vec![1, 2, 3].into() }];
    /// let p = plan(
    ///     Tables { users: &u, templates: &fp, encoding: enc },
    ///     Tables { users: &[], templates: &[], encoding: enc },
    ///     UserLayout::Compact28,
    /// )
    /// .unwrap();
    /// assert_eq!(p.count_templates(Action::Add), 1);
    /// ```
    pub fn count_templates(&self, a: Action) -> usize {
        self.templates.iter().filter(|s| s.action == a).count()
    }

    /// Whether anything would be written (a step that is not
    /// [`Action::Unchanged`]).
    ///
    /// ```
    /// use zkproto::terminal::restore::Plan;
    /// assert!(!Plan::default().has_changes());
    /// ```
    pub fn has_changes(&self) -> bool {
        self.users.iter().any(|s| s.action != Action::Unchanged)
            || self.templates.iter().any(|s| s.action != Action::Unchanged)
    }
}

/// One side of a restore: the user records, the templates, and the
/// encoding of the records' text.
///
/// ```
/// use zkproto::terminal::record::text::TextEncoding;
/// use zkproto::terminal::restore::Tables;
/// let empty = Tables { users: &[], templates: &[], encoding: TextEncoding::Utf8 };
/// assert!(empty.users.is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Tables<'a> {
    /// User records.
    pub users: &'a [User],
    /// Fingerprint templates (by owner uid and finger).
    pub templates: &'a [Template],
    /// Encoding of names and text user ids.
    pub encoding: TextEncoding,
}

/// One reason a backup cannot be restored.
///
/// ```
/// use zkproto::terminal::restore::{Problem, RestoreError};
/// let p = Problem::User { user_id: "5".into(), error: RestoreError::NoFreeUid };
/// assert_eq!(p.to_string(), "user \"5\": no free internal index");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A user cannot be restored.
    #[error("user {user_id:?}: {error}")]
    User {
        /// Its user id (decoded with the backup's encoding).
        user_id: String,
        /// Why.
        error: RestoreError,
    },
    /// A template's owner uid is not the uid of any backup user.
    #[error("template of uid {uid} finger {finger}: no user in the backup has this uid")]
    OrphanTemplate {
        /// The template's uid.
        uid: u16,
        /// The finger.
        finger: u8,
    },
}

/// A backup that cannot be restored, with every problem found (in backup
/// order: users, then templates). Nothing should be written; fix the
/// backup (or free uids on the device) and plan again.
///
/// ```
/// use zkproto::terminal::restore::{PlanError, Problem, RestoreError};
/// let e = PlanError { problems: vec![
///     Problem::User { user_id: "5".into(), error: RestoreError::NoFreeUid },
///     Problem::OrphanTemplate { uid: 9, finger: 0 },
/// ]};
/// assert_eq!(
///     e.to_string(),
///     "the backup cannot be restored to this device: user \"5\": no free internal index; \
///      template of uid 9 finger 0: no user in the backup has this uid"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the backup cannot be restored to this device: {}", join(problems))]
pub struct PlanError {
    /// The problems, at least one.
    pub problems: Vec<Problem>,
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Compares a backup with what a device holds and says what restoring it
/// writes; nothing is written.
///
/// Backup users are [`convert`]ed to `layout` (the device's record layout)
/// and the device's encoding, then matched to device users by user id. A
/// matched user takes the device user's uid and is [`Action::Unchanged`]
/// when the records are identical, else [`Action::Update`] with its
/// [`changed_fields`]. A new user ([`Action::Add`]) keeps its backup uid
/// when that is free on the device (and on no earlier new user), else gets
/// the lowest free uid ([`UidAllocator`]). Templates follow their owner's
/// uid and are compared by flag and data with the device's template for the
/// same uid and finger. Device users the backup does not mention are
/// counted in [`Plan::kept`].
///
/// Every user that cannot be restored, and every template whose uid has no
/// backup user, is listed in the [`PlanError`]; templates of a user that
/// failed are not listed again.
///
/// ```
/// use zkproto::terminal::record::text::TextEncoding;
/// use zkproto::terminal::record::user::{User, UserLayout};
/// use zkproto::terminal::restore::{plan, Action, Problem, RestoreError, Tables};
/// let enc = TextEncoding::Utf8;
/// let mut ana = User::new(UserLayout::Extended72, 1, "10", enc).unwrap();
/// ana.set_password("12345678").unwrap();
/// let backup = [ana];
/// let t = |users| Tables { users, templates: &[], encoding: enc };
/// // The same layout: added as it is.
/// let p = plan(t(&backup), t(&[]), UserLayout::Extended72).unwrap();
/// assert_eq!(p.users[0].action, Action::Add);
/// // A 28-byte device stores 5 PIN digits: refused.
/// let e = plan(t(&backup), t(&[]), UserLayout::Compact28).unwrap_err();
/// assert_eq!(e.problems, [Problem::User { user_id: "10".into(), error: RestoreError::PinTooLong { max: 5 } }]);
/// ```
pub fn plan(backup: Tables<'_>, device: Tables<'_>, layout: UserLayout) -> Result<Plan, PlanError> {
    let enc = device.encoding;
    let by_id: BTreeMap<String, &User> = device.users.iter().map(|u| (u.user_id(enc), u)).collect();
    let mut uids = UidAllocator::new(device.users.iter().map(User::uid));
    // Backup uid → (target uid, user id), for the templates.
    let mut uid_map: BTreeMap<u16, (u16, String)> = BTreeMap::new();
    let mut backup_uids = BTreeSet::new();
    let mut backup_ids = BTreeSet::new();
    let mut matched = BTreeSet::new();
    let mut out = Plan::default();
    let mut problems = Vec::new();
    for src in backup.users {
        let user_id = src.user_id(backup.encoding);
        let mut fail = |error| {
            problems.push(Problem::User {
                user_id: user_id.clone(),
                error,
            });
        };
        if !backup_uids.insert(src.uid()) {
            fail(RestoreError::DuplicateUid { uid: src.uid() });
            continue;
        }
        if !backup_ids.insert(user_id.clone()) {
            fail(RestoreError::DuplicateUserId);
            continue;
        }
        let Converted { mut user, notes } = match convert(src, backup.encoding, layout, enc) {
            Ok(c) => c,
            Err(e) => {
                fail(e);
                continue;
            }
        };
        let (action, changes) = match by_id.get(&user_id) {
            Some(cur) => {
                matched.insert(cur.uid());
                user.set_uid(cur.uid());
                let changes = changed_fields(cur, &user);
                if changes.is_empty() {
                    (Action::Unchanged, changes)
                } else {
                    (Action::Update, changes)
                }
            }
            None => {
                let Some(uid) = uids.allocate(Some(src.uid())) else {
                    fail(RestoreError::NoFreeUid);
                    continue;
                };
                user.set_uid(uid);
                (Action::Add, Vec::new())
            }
        };
        uid_map.insert(src.uid(), (user.uid(), user_id.clone()));
        out.users.push(UserStep {
            action,
            user,
            user_id,
            changes,
            notes,
        });
    }
    for t in backup.templates {
        let Some((uid, user_id)) = uid_map.get(&t.uid) else {
            if !backup_uids.contains(&t.uid) {
                problems.push(Problem::OrphanTemplate {
                    uid: t.uid,
                    finger: t.finger,
                });
            }
            continue;
        };
        let template = Template {
            uid: *uid,
            ..t.clone()
        };
        let action = match device
            .templates
            .iter()
            .find(|c| c.uid == *uid && c.finger == t.finger)
        {
            None => Action::Add,
            Some(c) if c.flag == template.flag && c.data == template.data => Action::Unchanged,
            Some(_) => Action::Update,
        };
        out.templates.push(TemplateStep {
            action,
            template,
            user_id: user_id.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(PlanError { problems });
    }
    out.kept = device
        .users
        .iter()
        .filter(|u| !matched.contains(&u.uid()))
        .count();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENC: TextEncoding = TextEncoding::Utf8;
    const L72: UserLayout = UserLayout::Extended72;
    const L28: UserLayout = UserLayout::Compact28;

    fn user(layout: UserLayout, uid: u16, id: &str, name: &str, pin: &str) -> User {
        let mut u = User::new(layout, uid, id, ENC).unwrap();
        u.set_name(name, ENC, Overflow::Error).unwrap();
        u.set_password(pin).unwrap();
        u
    }

    fn tables<'a>(users: &'a [User], templates: &'a [Template]) -> Tables<'a> {
        Tables {
            users,
            templates,
            encoding: ENC,
        }
    }

    fn fp(uid: u16, finger: u8, flag: u8, data: &[u8]) -> Template {
        Template {
            uid,
            finger,
            flag,
            data: data.to_vec().into(),
        }
    }

    // ------------------------------------------------------------ uids

    #[test]
    fn preferred_uid_is_kept_when_free() {
        assert_eq!(free_uid([1, 2], Some(9)), Some(9));
        assert_eq!(free_uid([], Some(LAST_UID)), Some(LAST_UID));
        assert_eq!(free_uid([], Some(FIRST_UID)), Some(1));
    }

    #[test]
    fn taken_preferred_uid_gives_the_lowest_free() {
        assert_eq!(free_uid([1, 2, 4], Some(4)), Some(3));
        assert_eq!(free_uid([2, 3], Some(3)), Some(1));
        assert_eq!(free_uid([1, 2, 3], Some(1)), Some(4));
    }

    #[test]
    fn uid_0_and_65535_are_never_handed_out() {
        assert_eq!(free_uid([], Some(0)), Some(1));
        assert_eq!(free_uid([1], Some(0)), Some(2));
        assert_eq!(free_uid([], Some(u16::MAX)), Some(1));
        // Taken uids outside the range do not shift the lowest free one.
        assert_eq!(free_uid([0, u16::MAX], None), Some(1));
        assert_eq!(free_uid(1..=LAST_UID - 1, None), Some(LAST_UID));
        assert_eq!(
            free_uid((1..=LAST_UID - 1).chain([u16::MAX]), None),
            Some(LAST_UID)
        );
    }

    #[test]
    fn full_table_has_no_free_uid() {
        assert_eq!(free_uid(FIRST_UID..=LAST_UID, None), None);
        assert_eq!(free_uid(FIRST_UID..=LAST_UID, Some(7)), None);
        assert_eq!(free_uid(0..=u16::MAX, Some(0)), None);
        let mut a = UidAllocator::new(2..=LAST_UID);
        assert_eq!(a.allocate(Some(9)), Some(1));
        assert_eq!(a.allocate(None), None);
    }

    #[test]
    fn allocate_takes_what_free_names() {
        let mut a = UidAllocator::new([1]);
        assert_eq!(a.free(None), Some(2));
        assert_eq!(a.free(None), Some(2), "free() takes nothing");
        assert_eq!(a.allocate(None), Some(2));
        assert!(!a.is_free(2));
        assert_eq!(a.allocate(Some(2)), Some(3));
        assert_eq!(a, UidAllocator::new([1, 2, 3]));
    }

    #[test]
    fn is_free_bounds() {
        let a = UidAllocator::new([5]);
        assert!(!a.is_free(0));
        assert!(a.is_free(1));
        assert!(a.is_free(4));
        assert!(!a.is_free(5));
        assert!(a.is_free(LAST_UID));
        assert!(!a.is_free(u16::MAX));
    }

    // ------------------------------------------------------------ diffs

    #[test]
    fn diff_of_each_field() {
        let a = user(L72, 1, "10", "Ana", "1234");
        let one = |f: &dyn Fn(&mut User)| {
            let mut b = a.clone();
            f(&mut b);
            changed_fields(&a, &b)
        };
        assert_eq!(one(&|_| {}), Vec::<&str>::new());
        assert_eq!(one(&|u| u.set_uid(2)), ["uid"]);
        assert_eq!(one(&|u| u.set_user_id("11", ENC).unwrap()), ["user id"]);
        assert_eq!(
            one(&|u| u.set_name("Bo", ENC, Overflow::Error).unwrap()),
            ["name"]
        );
        assert_eq!(
            one(&|u| u.set_privilege(crate::terminal::record::user::Privilege::ADMIN)),
            ["privilege"]
        );
        assert_eq!(one(&|u| u.set_card(77)), ["card"]);
        assert_eq!(one(&|u| u.set_group(3)), ["group"]);
        assert_eq!(one(&|u| u.set_timezones([1, 2, 0, 0])), ["timezones"]);
        assert_eq!(one(&|u| u.set_timezones([0, 0, 0, 2])), ["timezones"]);
        assert_eq!(one(&|u| u.set_password("4321").unwrap()), ["pin"]);
        assert_eq!(one(&|u| u.clear_password()), ["pin"]);
        let mut all = a.clone();
        all.set_uid(2);
        all.set_user_id("11", ENC).unwrap();
        all.set_name("Bo", ENC, Overflow::Error).unwrap();
        all.set_privilege(crate::terminal::record::user::Privilege::ADMIN);
        all.set_card(77);
        all.set_group(3);
        all.set_timezones([1, 0, 0, 0]);
        all.set_password("9").unwrap();
        assert_eq!(
            changed_fields(&a, &all),
            [
                "uid",
                "user id",
                "name",
                "privilege",
                "card",
                "group",
                "timezones",
                "pin"
            ]
        );
    }

    #[test]
    fn diff_of_28_byte_records() {
        let a = user(L28, 1, "10", "Ana", "12");
        let mut b = a.clone();
        b.set_user_id("11", ENC).unwrap();
        assert_eq!(changed_fields(&a, &b), ["user id"]);
        // A u32 user id holds NUL bytes: 1001 and 66537 agree up to the
        // first NUL (e9 03) and still differ.
        let (x, y) = (user(L28, 1, "1001", "", ""), user(L28, 1, "66537", "", ""));
        assert_eq!(changed_fields(&x, &y), ["user id"]);
        let mut c = a.clone();
        c.set_password("13").unwrap();
        assert_eq!(changed_fields(&a, &c), ["pin"]);
    }

    #[test]
    fn diff_of_layouts_is_layout_alone() {
        let a = user(L72, 1, "10", "Ana", "1");
        let b = user(L28, 2, "11", "Bo", "2");
        assert_eq!(changed_fields(&a, &b), ["layout"]);
        assert_eq!(changed_fields(&b, &a), ["layout"]);
    }

    /// A record of `layout` with byte `at` set to `value`.
    fn with_byte(u: &User, at: usize, value: u8) -> User {
        let mut raw = u.as_bytes().to_vec();
        raw[at] = value;
        User::parse(&raw, u.layout()).unwrap()
    }

    #[test]
    fn diff_of_unnamed_bytes_is_other_bytes() {
        let a = user(L72, 1, "10", "Ana", "12");
        // After the NUL ending the PIN (3..11), the name (11..35) and the user id (48..72).
        for at in [6, 20, 60] {
            assert_eq!(
                changed_fields(&a, &with_byte(&a, at, b'x')),
                ["other bytes"],
                "byte {at}"
            );
        }
        // Byte 20 of the 28-byte layout belongs to no field.
        let c = user(L28, 1, "10", "Ana", "1");
        assert_eq!(changed_fields(&c, &with_byte(&c, 20, 1)), ["other bytes"]);
        // A named field and padding: only the field is named.
        let mut d = with_byte(&a, 60, b'x');
        d.set_card(5);
        assert_eq!(changed_fields(&a, &d), ["card"]);
    }

    #[test]
    fn diff_never_shows_values() {
        let a = user(L72, 1, "10", "Ana", "13579");
        let b = user(L72, 1, "10", "Ana", "24680");
        let d = changed_fields(&a, &b).join(",");
        assert_eq!(d, "pin");
    }

    // ------------------------------------------------------------ convert

    #[test]
    fn same_layout_and_encoding_is_kept_byte_for_byte() {
        let a = with_byte(&user(L72, 3, "10", "Ana", "1"), 60, 7);
        let c = convert(&a, ENC, L72, ENC).unwrap();
        assert_eq!(c.user.as_bytes(), a.as_bytes());
        assert!(c.notes.is_empty());
    }

    #[test]
    fn other_encoding_rebuilds_the_record() {
        let a = with_byte(&user(L72, 3, "10", "Ana", "1"), 60, 7);
        let c = convert(&a, ENC, L72, TextEncoding::Windows1252).unwrap();
        assert_ne!(c.user.as_bytes(), a.as_bytes(), "padding is not copied");
        assert_eq!(changed_fields(&a, &c.user), ["other bytes"]);
        assert!(c.notes.is_empty());
    }

    #[test]
    fn conversion_copies_every_field() {
        let mut a = user(L72, 9, "42", "Ana", "12345");
        a.set_privilege(crate::terminal::record::user::Privilege::ADMIN);
        a.set_card(123_456);
        a.set_group(4);
        a.set_timezones([2, 0, 0, 0]);
        let c = convert(&a, ENC, L28, ENC).unwrap();
        let u = &c.user;
        assert_eq!(u.layout(), L28);
        assert_eq!(u.uid(), 9);
        assert_eq!(u.user_id(ENC), "42");
        assert_eq!(u.name(ENC), "Ana");
        assert_eq!(u.password(ENC).expose(), "12345");
        assert_eq!(u.privilege(), a.privilege());
        assert_eq!(u.card(), 123_456);
        assert_eq!(u.group(), 4);
        assert_eq!(u.timezones(), [2, 0, 0, 0]);
        assert!(c.notes.is_empty());
        // And back: nothing lost.
        let back = convert(u, ENC, L72, ENC).unwrap();
        assert_eq!(changed_fields(&a, &back.user), Vec::<&str>::new());
    }

    #[test]
    fn conversion_refuses_a_long_pin() {
        let a = user(L72, 1, "5", "Ana", "123456");
        let e = convert(&a, ENC, L28, ENC).unwrap_err();
        assert_eq!(e, RestoreError::PinTooLong { max: 5 });
        assert!(e.to_string().contains("PIN has more than 5 digits"));
        assert!(!e.to_string().contains("123456"));
        // Five digits fit.
        let ok = user(L72, 1, "5", "Ana", "12345");
        assert!(convert(&ok, ENC, L28, ENC).is_ok());
    }

    #[test]
    fn conversion_refuses_a_pin_of_other_characters() {
        let mut raw = user(L72, 1, "5", "Ana", "").as_bytes().to_vec();
        raw[3] = b'a';
        let a = User::parse(&raw, L72).unwrap();
        let e = convert(&a, ENC, L28, ENC).unwrap_err();
        assert!(matches!(e, RestoreError::Pin(_)), "{e:?}");
        assert!(e.to_string().starts_with("its PIN cannot be stored"), "{e}");
    }

    #[test]
    fn conversion_refuses_a_text_user_id_for_28_bytes() {
        let a = user(L72, 1, "A-17", "Ana", "");
        let e = convert(&a, ENC, L28, ENC).unwrap_err();
        assert!(
            matches!(&e, RestoreError::UserId { user_id, .. } if user_id == "A-17"),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .starts_with("user id \"A-17\" cannot be stored")
        );
    }

    #[test]
    fn conversion_refuses_a_name_the_target_cannot_encode() {
        let a = user(L72, 1, "5", "日本", "");
        let e = convert(&a, ENC, L72, TextEncoding::Windows1252).unwrap_err();
        assert!(
            matches!(&e, RestoreError::Name { name, .. } if name == "日本"),
            "{e:?}"
        );
    }

    #[test]
    fn conversion_shortens_names_with_a_note() {
        let a = user(L72, 1, "5", "Alexandrina", "1");
        let c = convert(&a, ENC, L28, ENC).unwrap();
        assert_eq!(c.user.name(ENC), "Alexandr");
        assert_eq!(
            c.notes,
            [Note::NameShortened {
                from: "Alexandrina".into(),
                to: "Alexandr".into(),
                field_len: 8
            }]
        );
        assert_eq!(
            c.notes[0].to_string(),
            "name \"Alexandrina\" shortened to \"Alexandr\" (the device holds 8 bytes)"
        );
        // Eight bytes fit without a note.
        let fits = user(L72, 1, "5", "Alexandr", "1");
        assert!(convert(&fits, ENC, L28, ENC).unwrap().notes.is_empty());
    }

    #[test]
    fn conversion_notes_dropped_time_zones() {
        for (tz, noted) in [
            ([1, 0, 0, 0], false),
            ([1, 2, 0, 0], true),
            ([0, 0, 3, 0], true),
            ([0, 0, 0, 4], true),
        ] {
            let mut a = user(L72, 1, "5", "Ana", "1");
            a.set_timezones(tz);
            let c = convert(&a, ENC, L28, ENC).unwrap();
            assert_eq!(c.notes == [Note::TimeZonesDropped], noted, "{tz:?}");
            assert_eq!(c.user.timezones(), [tz[0], 0, 0, 0]);
            // The 72-byte layout keeps all four.
            let w = convert(&a, ENC, L72, TextEncoding::Windows1252).unwrap();
            assert!(w.notes.is_empty());
            assert_eq!(w.user.timezones(), tz);
        }
        assert_eq!(
            Note::TimeZonesDropped.to_string(),
            "time zones 2-4 dropped (the device stores one)"
        );
    }

    // ------------------------------------------------------------ plan

    #[test]
    fn plan_matches_by_user_id_and_keeps_target_uid() {
        let backup = [
            user(L72, 1, "10", "Ana", "1234"),
            user(L72, 2, "20", "Bo", ""),
            user(L72, 3, "30", "Cy", ""),
        ];
        let device = [
            user(L72, 7, "10", "Ana", "1234"),
            user(L72, 2, "20", "Bob", ""),
            user(L72, 3, "99", "X", ""),
        ];
        let p = plan(tables(&backup, &[]), tables(&device, &[]), L72).unwrap();
        assert_eq!(p.users[0].action, Action::Unchanged);
        assert_eq!(p.users[0].user.uid(), 7);
        assert!(p.users[0].changes.is_empty());
        assert_eq!(p.users[1].action, Action::Update);
        assert_eq!(p.users[1].user.uid(), 2);
        assert_eq!(p.users[1].changes, ["name"]);
        assert_eq!(p.users[2].action, Action::Add);
        assert_eq!(
            p.users[2].user.uid(),
            1,
            "uid 3 is taken: the lowest free one"
        );
        assert_eq!(p.users[2].user_id, "30");
        assert_eq!(p.kept, 1);
        assert_eq!(
            (
                p.count_users(Action::Add),
                p.count_users(Action::Update),
                p.count_users(Action::Unchanged)
            ),
            (1, 1, 1)
        );
        assert!(p.has_changes());
    }

    #[test]
    fn new_users_keep_free_backup_uids_else_lowest_free() {
        let backup = [
            user(L72, 5, "a", "", ""),
            user(L72, 1, "b", "", ""),
            user(L72, 0, "c", "", ""),
            user(L72, u16::MAX, "d", "", ""),
        ];
        let device = [user(L72, 1, "x", "", "")];
        let p = plan(tables(&backup, &[]), tables(&device, &[]), L72).unwrap();
        let uids: Vec<u16> = p.users.iter().map(|s| s.user.uid()).collect();
        assert_eq!(uids, [5, 2, 3, 4]);
        assert!(p.users.iter().all(|s| s.action == Action::Add));
        assert_eq!(p.count_users(Action::Add), 4);
        assert_eq!(p.count_users(Action::Update), 0);
        assert_eq!(p.kept, 1);
    }

    #[test]
    fn kept_counts_device_users_not_in_the_backup() {
        let device = [
            user(L72, 1, "1", "", ""),
            user(L72, 2, "2", "", ""),
            user(L72, 3, "3", "", ""),
        ];
        let backup = [user(L72, 9, "2", "", "")];
        let p = plan(tables(&backup, &[]), tables(&device, &[]), L72).unwrap();
        assert_eq!(p.kept, 2);
        assert_eq!(p.users[0].user.uid(), 2);
        assert!(!p.has_changes());
        let none = plan(tables(&[], &[]), tables(&device, &[]), L72).unwrap();
        assert_eq!(none.kept, 3);
        let all = plan(tables(&device, &[]), tables(&device, &[]), L72).unwrap();
        assert_eq!(all.kept, 0);
    }

    #[test]
    fn no_free_uid_is_a_problem_of_that_user() {
        let device: Vec<User> = (FIRST_UID..=LAST_UID)
            .map(|uid| User::new(L28, uid, &(u32::from(uid) + 1000).to_string(), ENC).unwrap())
            .collect();
        let backup = [user(L28, 4, "1004", "", ""), user(L28, 5, "7", "", "")];
        let e = plan(tables(&backup, &[]), tables(&device, &[]), L28).unwrap_err();
        assert_eq!(
            e.problems,
            [Problem::User {
                user_id: "7".into(),
                error: RestoreError::NoFreeUid
            }]
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let backup = [
            user(L72, 1, "A-1", "", ""),
            user(L72, 2, "5", "", "123456"),
            user(L72, 3, "6", "", ""),
            user(L72, 3, "7", "", ""),
            user(L72, 4, "6", "", ""),
        ];
        let e = plan(tables(&backup, &[]), tables(&[], &[]), L28).unwrap_err();
        let errors: Vec<(&str, &RestoreError)> = e
            .problems
            .iter()
            .map(|p| match p {
                Problem::User { user_id, error } => (user_id.as_str(), error),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(errors.len(), 4, "{e}");
        assert!(matches!(errors[0], ("A-1", RestoreError::UserId { .. })));
        assert_eq!(errors[1], ("5", &RestoreError::PinTooLong { max: 5 }));
        assert_eq!(errors[2], ("7", &RestoreError::DuplicateUid { uid: 3 }));
        assert_eq!(errors[3], ("6", &RestoreError::DuplicateUserId));
        assert!(
            e.to_string()
                .starts_with("the backup cannot be restored to this device: user \"A-1\": ")
        );
        assert!(e.to_string().contains("; user \"5\": its PIN"), "{e}");
    }

    #[test]
    fn templates_follow_their_owner() {
        let backup = [user(L72, 1, "10", "", ""), user(L72, 2, "20", "", "")];
        let device = [user(L72, 8, "10", "", ""), user(L72, 2, "99", "", "")];
        let fps = [
            fp(1, 0, 1, b"same"),
            fp(1, 1, 1, b"new data"),
            fp(1, 2, 3, b"flag"),
            fp(2, 0, 1, b"added"),
        ];
        let on_device = [
            fp(8, 0, 1, b"same"),
            fp(8, 1, 1, b"old data"),
            fp(8, 2, 1, b"flag"),
            // User "99" holds uid 2, the backup uid of "20", who gets uid 1.
            fp(2, 0, 1, b"added"),
        ];
        let p = plan(tables(&backup, &fps), tables(&device, &on_device), L72).unwrap();
        let got: Vec<(u16, u8, Action, &str)> = p
            .templates
            .iter()
            .map(|s| {
                (
                    s.template.uid,
                    s.template.finger,
                    s.action,
                    s.user_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (8, 0, Action::Unchanged, "10"),
                (8, 1, Action::Update, "10"),
                (8, 2, Action::Update, "10"),
                (1, 0, Action::Add, "20"),
            ]
        );
        assert_eq!(p.templates[1].template.data.as_ref(), b"new data");
        assert_eq!(p.templates[2].template.flag, 3);
        assert_eq!(
            (
                p.count_templates(Action::Add),
                p.count_templates(Action::Update),
                p.count_templates(Action::Unchanged)
            ),
            (1, 2, 1)
        );
    }

    #[test]
    fn template_changes_alone_are_changes() {
        let backup = [user(L72, 1, "10", "", "")];
        let p = plan(
            tables(&backup, &[fp(1, 0, 1, b"x")]),
            tables(&backup, &[]),
            L72,
        )
        .unwrap();
        assert_eq!(p.count_users(Action::Unchanged), 1);
        assert!(p.has_changes());
        let q = plan(
            tables(&backup, &[fp(1, 0, 1, b"x")]),
            tables(&backup, &[fp(1, 0, 1, b"x")]),
            L72,
        )
        .unwrap();
        assert!(!q.has_changes());
        assert_eq!(q.count_templates(Action::Unchanged), 1);
        assert_eq!(q.count_templates(Action::Add), 0);
    }

    #[test]
    fn template_of_a_user_that_failed_is_not_reported_again() {
        let backup = [user(L72, 1, "10", "", "123456"), user(L72, 2, "20", "", "")];
        let fps = [fp(1, 0, 1, b"x"), fp(2, 0, 1, b"y"), fp(9, 3, 1, b"z")];
        let e = plan(tables(&backup, &fps), tables(&[], &[]), L28).unwrap_err();
        assert_eq!(
            e.problems,
            [
                Problem::User {
                    user_id: "10".into(),
                    error: RestoreError::PinTooLong { max: 5 }
                },
                Problem::OrphanTemplate { uid: 9, finger: 3 },
            ]
        );
        assert!(
            e.to_string()
                .ends_with("; template of uid 9 finger 3: no user in the backup has this uid")
        );
    }

    #[test]
    fn conversion_notes_reach_the_plan() {
        let backup = [user(L72, 1, "5", "Alexandrina", "1")];
        let p = plan(tables(&backup, &[]), tables(&[], &[]), L28).unwrap();
        assert_eq!(p.users[0].user.name(ENC), "Alexandr");
        assert_eq!(p.users[0].notes.len(), 1);
        assert_eq!(p.users[0].user.layout(), L28);
    }

    #[test]
    fn device_encoding_decodes_device_user_ids() {
        // "é1" in Windows-1252 on the device is the same user as "é1" in UTF-8 in the backup.
        let backup = [user(L72, 1, "é1", "", "")];
        let mut dev = User::new(L72, 4, "é1", TextEncoding::Windows1252).unwrap();
        dev.set_group(2);
        let device = [dev];
        let p = plan(
            tables(&backup, &[]),
            Tables {
                users: &device,
                templates: &[],
                encoding: TextEncoding::Windows1252,
            },
            L72,
        )
        .unwrap();
        assert_eq!(p.users[0].action, Action::Update);
        assert_eq!(p.users[0].user.uid(), 4);
        assert_eq!(p.users[0].changes, ["group"]);
        assert_eq!(p.kept, 0);
    }

    #[test]
    fn action_names() {
        assert_eq!(Action::Add.name(), "add");
        assert_eq!(Action::Update.name(), "update");
        assert_eq!(Action::Unchanged.name(), "unchanged");
    }
}
