//! Users: list, look up, write, delete, PINs, cards, enable/disable.

use super::{Client, Error, check_table};
use crate::terminal::error::EncodeError;
use crate::terminal::record::bulk::{BulkRead, split_table};
use crate::terminal::record::text::Overflow;
use crate::terminal::record::user::{Privilege, User, UserLayout, parse_users};
use crate::terminal::request::Request;
use crate::terminal::restore::{changed_fields, free_uid};
use core::fmt;

/// A user to create with [`Client::add_user`]; the uid is chosen by the
/// client (the lowest free one, by [`free_uid`](crate::terminal::restore::free_uid)).
///
/// ```
/// use zkproto::terminal::client::NewUser;
/// use zkproto::terminal::record::user::Privilege;
/// let u = NewUser::new("1001").name("Ada").password("1234").card(555).privilege(Privilege::USER);
/// assert!(!format!("{u:?}").contains("1234"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// User id (PIN2): digits on 28-byte firmware, text on 72-byte firmware.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Privilege byte.
    pub privilege: Privilege,
    /// Password (digits), if any.
    pub password: Option<String>,
    /// Card number (0 = none).
    pub card: u32,
    /// Group (1 is the firmware default).
    pub group: u8,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("privilege", &self.privilege)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("card", &self.card)
            .field("group", &self.group)
            .finish()
    }
}

impl NewUser {
    /// A normal user with this user id, no name, password or card, group 1.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// let u = NewUser::new("1001");
    /// assert_eq!((u.user_id.as_str(), u.privilege, u.card, u.group), ("1001", Privilege::USER, 0, 1));
    /// assert!(u.name.is_empty() && u.password.is_none());
    /// ```
    pub fn new(user_id: impl Into<String>) -> Self {
        NewUser {
            user_id: user_id.into(),
            name: String::new(),
            privilege: Privilege::USER,
            password: None,
            card: 0,
            group: 1,
        }
    }
    /// Sets the name.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// assert_eq!(NewUser::new("7").name("Ada Lovelace").name, "Ada Lovelace");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Sets the password.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// let u = NewUser::new("7").password("4711");
    /// assert_eq!(u.password.as_deref(), Some("4711"));
    /// assert!(!format!("{u:?}").contains("4711")); // redacted
    /// ```
    pub fn password(mut self, pin: impl Into<String>) -> Self {
        self.password = Some(pin.into());
        self
    }
    /// Sets the card number.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// assert_eq!(NewUser::new("7").card(12_345_678).card, 12_345_678);
    /// ```
    pub fn card(mut self, card: u32) -> Self {
        self.card = card;
        self
    }
    /// Sets the privilege.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// assert_eq!(NewUser::new("1").privilege(Privilege::ADMIN).privilege, Privilege::ADMIN);
    /// ```
    pub fn privilege(mut self, p: Privilege) -> Self {
        self.privilege = p;
        self
    }
    /// Sets the group.
    ///
    /// ```
    /// # use zkproto::terminal::client::NewUser;
    /// # use zkproto::terminal::record::user::Privilege;
    /// assert_eq!(NewUser::new("7").group(3).group, 3);
    /// ```
    pub fn group(mut self, g: u8) -> Self {
        self.group = g;
        self
    }

    fn build(
        &self,
        layout: UserLayout,
        uid: u16,
        enc: crate::terminal::record::TextEncoding,
    ) -> Result<User, Error> {
        let mut u = User::new(layout, uid, &self.user_id, enc)?;
        u.set_name(&self.name, enc, Overflow::Error)?;
        u.set_privilege(self.privilege);
        if let Some(p) = &self.password {
            u.set_password(p)?;
        }
        u.set_card(self.card);
        u.set_group(self.group);
        Ok(u)
    }
}

/// Checks the table read back after writing `written` over `original`:
/// the written record must be there byte for byte; when it is not, and
/// another user's record changed instead, that is reported.
fn compare_after_write(
    before: &[User],
    after: &[User],
    original: &User,
    written: &User,
    what: &str,
) -> Result<User, Error> {
    let uid = written.uid();
    let got = after.iter().find(|u| u.uid() == uid);
    if let Some(got) = got
        && got.as_bytes() == written.as_bytes()
    {
        return Ok(got.clone());
    }
    let unchanged = got.is_none_or(|g| g.as_bytes() == original.as_bytes());
    if unchanged {
        let changed = after.iter().find(|a| {
            a.uid() != uid
                && before
                    .iter()
                    .find(|b| b.uid() == a.uid())
                    .is_none_or(|b| b.as_bytes() != a.as_bytes())
        });
        if let Some(other) = changed {
            return Err(Error::WrongUserChanged {
                what: what.to_string(),
                uid,
                changed_uid: other.uid(),
                changed_user_id: other
                    .user_id(crate::terminal::record::TextEncoding::Utf8)
                    .to_string(),
            });
        }
    }
    Err(Error::WriteNotApplied {
        what: match got {
            None => format!("{what}: uid {uid} is missing after the write"),
            Some(g) => format!(
                "{what}: uid {uid} differs in {}",
                changed_fields(written, g).join(", ")
            ),
        },
    })
}

impl Client {
    /// All users. The record layout (28 or 72 bytes) is detected from the
    /// table length and the user count, and remembered for writes.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let enc = dev.encoding();
    /// for u in dev.users().await? {
    ///     println!("{} {}", u.user_id(enc), u.name(enc));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn users(&mut self) -> Result<Vec<User>, Error> {
        let sizes = self.free_sizes().await?;
        let count = u32::try_from(sizes.users).unwrap_or(0);
        if count == 0 {
            return Ok(Vec::new());
        }
        let buf = self.read_table(BulkRead::users()).await?;
        let (total, _) = split_table(&buf)?;
        let records = buf.get(4..).unwrap_or_default();
        let received = records.len() as u64;
        check_table("user", total, received, count, u64::from(count))?;
        let layout = UserLayout::detect(records.len(), Some(count))?;
        let held = received / layout.record_len() as u64;
        check_table("user", total, received, count, held)?;
        self.user_layout = Some(layout);
        Ok(parse_users(records, layout)?)
    }

    /// The user with this user id, `None` if there is none; several users
    /// with the same id are [`Error::DuplicateUserId`].
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// if let Some(u) = dev.user("1001").await? {
    ///     println!("uid {}", u.uid());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn user(&mut self, user_id: &str) -> Result<Option<User>, Error> {
        let users = self.users().await?;
        self.unique(&users, user_id)
    }

    fn unique(&self, users: &[User], user_id: &str) -> Result<Option<User>, Error> {
        let enc = self.options.encoding;
        let found: Vec<&User> = users.iter().filter(|u| u.user_id(enc) == user_id).collect();
        match found.as_slice() {
            [] => Ok(None),
            [u] => Ok(Some((*u).clone())),
            many => Err(Error::DuplicateUserId {
                user_id: user_id.to_string(),
                uids: many.iter().map(|u| u.uid()).collect(),
            }),
        }
    }

    async fn write_user_record(&mut self, user: &User) -> Result<(), Error> {
        self.command(Request::write_user(user.to_bytes())).await?;
        Ok(())
    }

    async fn read_back(&mut self, expected: &User, what: &str) -> Result<User, Error> {
        let users = self.users().await?;
        let Some(got) = users.into_iter().find(|u| u.uid() == expected.uid()) else {
            return Err(Error::WriteNotApplied {
                what: format!("{what}: uid {} is missing after the write", expected.uid()),
            });
        };
        if got.as_bytes() != expected.as_bytes() {
            return Err(Error::WriteNotApplied {
                what: format!(
                    "{what}: uid {} differs in {}",
                    expected.uid(),
                    changed_fields(expected, &got).join(", ")
                ),
            });
        }
        Ok(got)
    }

    /// Writes a user record as it is (upsert by uid, §5.2), refreshes the
    /// device and returns the record read back. The device refuses a user
    /// id that another uid already carries, and records of the wrong size.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let enc = dev.encoding();
    /// let mut u = dev.user("1001").await?.expect("exists");
    /// u.set_name("Ada Lovelace", enc, zkproto::terminal::record::Overflow::Truncate)?;
    /// dev.put_user(&u).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put_user(&mut self, user: &User) -> Result<User, Error> {
        self.write_user_record(user).await?;
        self.refresh_data().await?;
        self.read_back(user, "put_user").await
    }

    /// Creates a user with the lowest free uid (1 to 65534, see
    /// [`free_uid`]); a table with none
    /// left is [`Error::TableFull`]. A user id already present
    /// is refused with [`Error::DuplicateUserId`]. The record layout is the
    /// one of the device's user table; with an empty table, 72 bytes is
    /// tried first, then 28 (§6.1).
    ///
    /// ```no_run
    /// use zkproto::terminal::client::NewUser;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let u = dev.add_user(NewUser::new("1001").name("Ada").password("1234")).await?;
    /// println!("uid {}", u.uid());
    /// # Ok(()) }
    /// ```
    pub async fn add_user(&mut self, new: NewUser) -> Result<User, Error> {
        let users = self.users().await?;
        let enc = self.options.encoding;
        let same: Vec<u16> = users
            .iter()
            .filter(|u| u.user_id(enc) == new.user_id)
            .map(User::uid)
            .collect();
        if !same.is_empty() {
            return Err(Error::DuplicateUserId {
                user_id: new.user_id.clone(),
                uids: same,
            });
        }
        let uid = free_uid(users.iter().map(User::uid), None)
            .ok_or(Error::TableFull { table: "user" })?;
        let layouts: Vec<UserLayout> = match (users.first(), self.user_layout) {
            (Some(u), _) => vec![u.layout()],
            (None, Some(l)) => vec![l],
            (None, None) => vec![UserLayout::Extended72, UserLayout::Compact28],
        };
        let mut last_err = None;
        for layout in layouts {
            let user = match new.build(layout, uid, enc) {
                Ok(u) => u,
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            match self.write_user_record(&user).await {
                Ok(()) => {
                    self.user_layout = Some(layout);
                    self.refresh_data().await?;
                    return self.read_back(&user, "add_user").await;
                }
                Err(e @ Error::Refused { .. }) => {
                    tracing::debug!(?layout, error = %e, "user record refused, trying the other layout");
                    last_err = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or(Error::Encode(EncodeError::OutOfRange {
            field: "user record",
            reason: "no record layout to write it in",
        })))
    }

    /// Deletes the user with this user id (and refreshes the device).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.delete_user("1001").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&mut self, user_id: &str) -> Result<(), Error> {
        let users = self.users().await?;
        let user = self
            .unique(&users, user_id)?
            .ok_or_else(|| Error::UserNotFound(user_id.to_string()))?;
        self.command(Request::delete_user(user.uid())).await?;
        self.refresh_data().await?;
        Ok(())
    }

    /// Reads the user, changes it with `f`, writes it, refreshes the device,
    /// reads it back and checks every byte: two reads of the user table.
    /// Once the device acknowledged the write, a failure is
    /// [`Error::WriteUnconfirmed`] (the change may have been made), and a
    /// read-back showing another user changed instead is
    /// [`Error::WrongUserChanged`].
    async fn modify_user(
        &mut self,
        user_id: &str,
        what: &str,
        f: impl FnOnce(&mut User) -> Result<(), Error>,
    ) -> Result<User, Error> {
        let before = self.users().await?;
        let original = self
            .unique(&before, user_id)?
            .ok_or_else(|| Error::UserNotFound(user_id.to_string()))?;
        let mut user = original.clone();
        f(&mut user)?;
        self.write_user_record(&user).await?;
        // The device acknowledged the write: from here on, a failure leaves
        // the outcome unknown.
        let checked = async {
            self.refresh_data().await?;
            let after = self.users().await?;
            compare_after_write(&before, &after, &original, &user, what)
        }
        .await;
        checked.map_err(|e| match e {
            e @ (Error::WriteNotApplied { .. } | Error::WrongUserChanged { .. }) => e,
            other => Error::WriteUnconfirmed {
                what: format!("{what} of user {user_id:?} (uid {})", user.uid()),
                after: Box::new(other),
            },
        })
    }

    /// Sets a user's password (PIN): reads the record, changes the password
    /// field only, writes it, refreshes the device, reads it back and
    /// compares byte for byte. The PIN is never logged.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.set_pin("1001", "4321").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_pin(&mut self, user_id: &str, pin: &str) -> Result<User, Error> {
        self.modify_user(user_id, "set_pin", |u| Ok(u.set_password(pin)?))
            .await
    }

    /// Clears a user's password.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.clear_pin("1001").await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_pin(&mut self, user_id: &str) -> Result<User, Error> {
        self.modify_user(user_id, "clear_pin", |u| {
            u.clear_password();
            Ok(())
        })
        .await
    }

    /// Sets a user's card number (0 removes it).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.set_card("1001", 12345678).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_card(&mut self, user_id: &str, card: u32) -> Result<User, Error> {
        self.modify_user(user_id, "set_card", |u| {
            u.set_card(card);
            Ok(())
        })
        .await
    }

    /// Enables or disables a user (privilege bit 0). Firmware that ignores
    /// the bit makes the read-back fail with [`Error::WriteNotApplied`].
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.set_user_enabled("1001", false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_user_enabled(&mut self, user_id: &str, enabled: bool) -> Result<User, Error> {
        self.modify_user(
            user_id,
            "set_user_enabled (the firmware may not support disabling users)",
            |u| {
                u.set_enabled(enabled);
                Ok(())
            },
        )
        .await
    }
}
