//! Users (`user` table) and door authorisation (`userauthorize`), §5.
//!
//! The panel acknowledges every SetDeviceData, even one it silently drops
//! (§5.4), so every write here is read back and compared; a difference is
//! [`Error::WriteNotApplied`]. Deletes are always conditional on a pin or a
//! card number: this client never sends the condition-less delete that
//! wipes a table.

use super::{Client, Error};
use crate::panel::command::Command;
use crate::panel::table::{RowSet, TableDescriptor, TableRow, UserAuthorizeRow, UserRow, Value};

/// Longest password the `user` table holds (field width 8).
pub(crate) const MAX_PASSWORD: usize = 8;

fn check_password(p: &str) -> Result<(), Error> {
    if p.len() > MAX_PASSWORD || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidArgument(format!(
            "a panel password (PIN code) is 0 to {MAX_PASSWORD} ASCII digits ({} characters given)",
            p.chars().count()
        )));
    }
    Ok(())
}

fn check_user(u: &UserRow) -> Result<(), Error> {
    if u.pin == 0 {
        return Err(Error::InvalidArgument(
            "user pin 0 is not a valid user id".into(),
        ));
    }
    check_password(&u.password)
}

/// Names of the fields whose values differ between what was written and
/// what was read back (only fields the panel's table has).
fn user_diff(t: &TableDescriptor, want: &UserRow, got: &UserRow) -> Vec<&'static str> {
    let has = |n: &str| t.field(n).is_some();
    let mut d = Vec::new();
    if has("CardNo") && want.card_no != got.card_no {
        d.push("CardNo");
    }
    if has("Password") && want.password != got.password {
        d.push("Password");
    }
    if has("Group") && want.group != got.group {
        d.push("Group");
    }
    if has("StartTime") && want.start_date != got.start_date {
        d.push("StartTime");
    }
    if has("EndTime") && want.end_date != got.end_date {
        d.push("EndTime");
    }
    if has("Name") && want.name != got.name {
        d.push("Name");
    }
    if has("SuperAuthorize") && want.super_authorize != got.super_authorize {
        d.push("SuperAuthorize");
    }
    if has("UID") && want.uid.is_some() && want.uid != got.uid {
        d.push("UID");
    }
    d
}

impl Client {
    /// The descriptor of a table, from the cached structure.
    pub(crate) async fn table(&mut self, name: &str) -> Result<TableDescriptor, Error> {
        Ok(self.table_structure().await?.require(name)?.clone())
    }

    /// GetDeviceData for the typed row's fields with equality conditions.
    pub(crate) async fn select<R: TableRow>(
        &mut self,
        t: &TableDescriptor,
        conditions: &[(&str, Value)],
        new_only: bool,
    ) -> Result<Vec<R>, Error> {
        let mut req = t.get_typed_request::<R>(new_only)?;
        if !conditions.is_empty() {
            req.conditions = t.get_request(&[], conditions, new_only)?.conditions;
        }
        let data = self.call(Command::GetData, &req.encode()?).await?;
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let set = RowSet::parse(data)?;
        // A reply for another table is TableError::WrongTable.
        Ok(t.decode_typed(&set)?)
    }

    async fn write_rows<R: TableRow>(
        &mut self,
        t: &TableDescriptor,
        rows: &[R],
    ) -> Result<(), Error> {
        let set = t.encode_typed(rows)?;
        self.call(Command::SetData, &set.encode()?).await?;
        Ok(())
    }

    async fn delete_where(
        &mut self,
        t: &TableDescriptor,
        field: &str,
        value: u32,
    ) -> Result<(), Error> {
        // Always a condition: `delete_matching` refuses an empty one.
        let req = t.delete_matching(&[field], &[vec![Value::Int(value)]])?;
        self.call(Command::DeleteData, &req.encode()?).await?;
        Ok(())
    }

    /// Every user.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for u in panel.users().await? {
    ///     println!("{} card {}", u.pin, u.card_no);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn users(&mut self) -> Result<Vec<UserRow>, Error> {
        let t = self.table("user").await?;
        self.select(&t, &[], false).await
    }

    /// The user with this user id (the `Pin` column of the `user` table),
    /// if any.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// if let Some(u) = panel.user(19999).await? {
    ///     println!("card {}", u.card_no);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn user(&mut self, user: u32) -> Result<Option<UserRow>, Error> {
        let t = self.table("user").await?;
        let rows: Vec<UserRow> = self.select(&t, &[("Pin", Value::Int(user))], false).await?;
        Ok(rows.into_iter().find(|u| u.pin == user))
    }

    async fn require_user(&mut self, user: u32) -> Result<UserRow, Error> {
        self.user(user).await?.ok_or(Error::UserNotFound(user))
    }

    /// Writes a user (insert or replace by pin) and reads it back; returns
    /// the row as stored. A write the panel acknowledged but did not apply
    /// is [`Error::WriteNotApplied`].
    ///
    /// ```no_run
    /// use zkproto::panel::table::UserRow;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let u = UserRow { pin: 19999, card_no: 13375401, password: "1".into(), ..Default::default() };
    /// let stored = panel.put_user(&u).await?;
    /// assert_eq!(stored.card_no, 13375401);
    /// # Ok(()) }
    /// ```
    pub async fn put_user(&mut self, user: &UserRow) -> Result<UserRow, Error> {
        check_user(user)?;
        let t = self.table("user").await?;
        self.write_rows(&t, std::slice::from_ref(user)).await?;
        self.verify_user(&t, user).await
    }

    async fn verify_user(&mut self, t: &TableDescriptor, want: &UserRow) -> Result<UserRow, Error> {
        let got = self
            .user(want.pin)
            .await?
            .ok_or_else(|| Error::WriteNotApplied {
                what: format!("user {} is not on the panel after writing it", want.pin),
            })?;
        let diff = user_diff(t, want, &got);
        if diff.is_empty() {
            Ok(got)
        } else {
            Err(Error::WriteNotApplied {
                what: format!(
                    "user {}: read back differs in {}",
                    want.pin,
                    diff.join(", ")
                ),
            })
        }
    }

    /// Adds a new user; [`Error::UserExists`] when the pin is taken.
    ///
    /// ```no_run
    /// use zkproto::panel::table::UserRow;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.add_user(&UserRow { pin: 42, card_no: 1234567, ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_user(&mut self, user: &UserRow) -> Result<UserRow, Error> {
        check_user(user)?;
        if self.user(user.pin).await?.is_some() {
            return Err(Error::UserExists(user.pin));
        }
        self.put_user(user).await
    }

    /// Replaces an existing user; [`Error::UserNotFound`] when there is none.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let mut u = panel.user(42).await?.unwrap();
    /// u.end_date = 20301231;
    /// panel.update_user(&u).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_user(&mut self, user: &UserRow) -> Result<UserRow, Error> {
        check_user(user)?;
        self.require_user(user.pin).await?;
        self.put_user(user).await
    }

    /// Sets the keypad PIN of user `user` (1 to 8 digits; the `Password`
    /// column — the panel's own `Pin` column is the user id): reads the
    /// user, changes only `Password`, writes, and reads back to confirm that
    /// the PIN changed and nothing else did. Same name and argument order as
    /// [`terminal::client::Client::set_pin`](crate::terminal::client::Client::set_pin).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.set_pin(42, "2468").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_pin(&mut self, user: u32, pin: &str) -> Result<UserRow, Error> {
        if pin.is_empty() {
            return Err(Error::InvalidArgument(
                "empty password: use clear_pin to remove it".into(),
            ));
        }
        check_password(pin)?;
        self.change_user(user, |u| u.password = pin.to_owned())
            .await
    }

    /// Removes the keypad PIN of user `user` (card or fingerprint only
    /// afterwards).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.clear_pin(42).await?;
    /// # Ok(()) }
    /// ```
    pub async fn clear_pin(&mut self, user: u32) -> Result<UserRow, Error> {
        self.change_user(user, |u| u.password.clear()).await
    }

    /// Sets a user's card number (0 = no card), confirmed by reading back.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.set_card(42, 13375401).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_card(&mut self, user: u32, card_no: u32) -> Result<UserRow, Error> {
        self.change_user(user, |u| u.card_no = card_no).await
    }

    async fn change_user(
        &mut self,
        user: u32,
        change: impl FnOnce(&mut UserRow),
    ) -> Result<UserRow, Error> {
        let mut u = self.require_user(user).await?;
        change(&mut u);
        self.put_user(&u).await
    }

    /// Deletes one user by user id, with the user's door authorisations; reads
    /// back to confirm. [`Error::UserNotFound`] when there is no such user.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.delete_user(42).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&mut self, user: u32) -> Result<(), Error> {
        self.require_user(user).await?;
        self.revoke_authorizations_of(user).await?;
        let t = self.table("user").await?;
        self.delete_where(&t, "Pin", user).await?;
        if self.user(user).await?.is_some() {
            return Err(Error::WriteNotApplied {
                what: format!("user {user} is still on the panel after deleting it"),
            });
        }
        Ok(())
    }

    /// Deletes the users carrying this card number (never 0), with their
    /// door authorisations; returns their user ids.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let pins = panel.delete_user_by_card(13375401).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user_by_card(&mut self, card_no: u32) -> Result<Vec<u32>, Error> {
        if card_no == 0 {
            return Err(Error::InvalidArgument(
                "card number 0 means \"no card\": it would match every card-less user".into(),
            ));
        }
        let t = self.table("user").await?;
        let found: Vec<UserRow> = self
            .select(&t, &[("CardNo", Value::Int(card_no))], false)
            .await?;
        let pins: Vec<u32> = found
            .iter()
            .filter(|u| u.card_no == card_no)
            .map(|u| u.pin)
            .collect();
        for pin in &pins {
            self.delete_user(*pin).await?;
        }
        Ok(pins)
    }

    /// Door authorisations of one user (`userauthorize` rows).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for a in panel.authorizations(42).await? {
    ///     println!("time zone {} doors {:04b}", a.timezone_id, a.doors);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn authorizations(&mut self, user: u32) -> Result<Vec<UserAuthorizeRow>, Error> {
        let t = self.table("userauthorize").await?;
        let rows: Vec<UserAuthorizeRow> =
            self.select(&t, &[("Pin", Value::Int(user))], false).await?;
        Ok(rows.into_iter().filter(|r| r.pin == user).collect())
    }

    /// Every `userauthorize` row.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let all = panel.all_authorizations().await?;
    /// # Ok(()) }
    /// ```
    pub async fn all_authorizations(&mut self) -> Result<Vec<UserAuthorizeRow>, Error> {
        let t = self.table("userauthorize").await?;
        self.select(&t, &[], false).await
    }

    /// Grants a user access to doors (bitmask: bit 0 = door 1 … bit 3 =
    /// door 4) during a time zone (1 = the panel's default "always" zone),
    /// and reads it back. The user must exist.
    ///
    /// ```no_run
    /// use zkproto::panel::table::UserAuthorizeRow;
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.authorize(UserAuthorizeRow { pin: 42, timezone_id: 1, doors: 0b0011 }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn authorize(&mut self, row: UserAuthorizeRow) -> Result<(), Error> {
        if row.doors == 0 || row.doors > 0x0f {
            return Err(Error::InvalidArgument(format!(
                "door mask {:#x}: bits 0-3 select doors 1-4, at least one",
                row.doors
            )));
        }
        if row.timezone_id == 0 {
            return Err(Error::InvalidArgument("time zone 0 does not exist".into()));
        }
        self.require_user(row.pin).await?;
        let t = self.table("userauthorize").await?;
        self.write_rows(&t, &[row]).await?;
        if !self.authorizations(row.pin).await?.contains(&row) {
            return Err(Error::WriteNotApplied {
                what: format!(
                    "authorisation of user {} (time zone {}, doors {:#x}) not found after writing it",
                    row.pin, row.timezone_id, row.doors
                ),
            });
        }
        Ok(())
    }

    /// Removes every door authorisation of one user, confirmed by reading back.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// panel.revoke_authorizations(42).await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke_authorizations(&mut self, user: u32) -> Result<(), Error> {
        self.revoke_authorizations_of(user).await
    }

    async fn revoke_authorizations_of(&mut self, pin: u32) -> Result<(), Error> {
        let has_table = self
            .table_structure()
            .await?
            .table("userauthorize")
            .is_some();
        if !has_table || self.authorizations(pin).await?.is_empty() {
            return Ok(());
        }
        let t = self.table("userauthorize").await?;
        self.delete_where(&t, "Pin", pin).await?;
        if !self.authorizations(pin).await?.is_empty() {
            return Err(Error::WriteNotApplied {
                what: format!("authorisations of user {pin} still present after deleting them"),
            });
        }
        Ok(())
    }
}
