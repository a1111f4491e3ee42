//! Fingerprint templates: list, get one, upload (single and batch), delete.

use super::{Client, Error, check_table};
use crate::terminal::command::ReplyCode;
use crate::terminal::record::bulk::{BulkRead, buffer_hash, split_table};
use crate::terminal::record::template::{
    MAX_TEMPLATE_LEN, Template, TemplateWrite, batch_upload_buffer, parse_templates,
};
use crate::terminal::record::user::User;
use crate::terminal::request::Request;
use bytes::Bytes;

impl Client {
    /// All fingerprint templates.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// for t in dev.templates().await? {
    ///     println!("uid {} finger {} ({} bytes)", t.uid, t.finger, t.data.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn templates(&mut self) -> Result<Vec<Template>, Error> {
        let sizes = self.free_sizes().await?;
        if sizes.fingers <= 0 {
            return Ok(Vec::new());
        }
        let count = u32::try_from(sizes.fingers).unwrap_or(0);
        let buf = self.read_table(BulkRead::templates()).await?;
        let (total, _) = split_table(&buf)?;
        let records = buf.get(4..).unwrap_or_default();
        let received = records.len() as u64;
        check_table("template", total, received, count, u64::from(count))?;
        let templates = parse_templates(records)?;
        check_table("template", total, received, count, templates.len() as u64)?;
        Ok(templates)
    }

    /// One template by uid and finger index, `None` if there is none
    /// (`_CMD_GET_USERTEMP`, §4.8: the template followed by its flag byte).
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let t = dev.template(1, 6).await?;
    /// # Ok(()) }
    /// ```
    pub async fn template(&mut self, uid: u16, finger: u8) -> Result<Option<Template>, Error> {
        let limit = u32::try_from(MAX_TEMPLATE_LEN + 1).unwrap_or(u32::MAX);
        let Some(data) = self
            .collect(Request::get_template(uid, finger), limit)
            .await?
        else {
            return Ok(None);
        };
        let Some((&flag, body)) = data.split_last() else {
            return Ok(None);
        };
        let body = data.slice(..body.len());
        Ok(Some(Template {
            uid,
            finger,
            flag,
            data: body,
        }))
    }

    /// Uploads one template (§5.4: buffer upload, checksum, `CMD_TMP_WRITE`)
    /// and refreshes the device. The user must exist.
    ///
    /// ```no_run
    /// use zkproto::terminal::record::template::Template;
    /// # async fn run(dev: &mut zkproto::terminal::client::Client, t: Template) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.upload_template(&t).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_template(&mut self, t: &Template) -> Result<(), Error> {
        let header = TemplateWrite::for_template(t)?;
        self.command(Request::free_data()).await?;
        self.upload_buffer(&t.data).await?;
        self.check_buffer_hash(&t.data).await?;
        let r = self
            .command(Request::template_write(
                header.uid,
                header.finger,
                header.flag,
                header.size,
            ))
            .await;
        let _ = self.command(Request::free_data()).await;
        r?;
        self.refresh_data().await
    }

    async fn check_buffer_hash(&mut self, data: &Bytes) -> Result<(), Error> {
        let reply = self.roundtrip(Request::checksum_buffer()).await?;
        if reply.reply_code() != ReplyCode::AckOk {
            tracing::debug!(reply = %reply.reply_code(), "device cannot hash its buffer; skipping the check");
            return Ok(());
        }
        if let Some(b) = reply.data.first_chunk::<4>() {
            let got = u32::from_le_bytes(*b);
            let want = buffer_hash(data);
            if got != want {
                return Err(Error::WriteNotApplied {
                    what: format!("uploaded buffer hash: device {got:#x}, expected {want:#x}"),
                });
            }
        }
        Ok(())
    }

    /// Uploads users and templates in one batch (§5.3, command 110) and
    /// refreshes the device. All users must have the device's layout.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let users = dev.users().await?;
    /// let templates = dev.templates().await?;
    /// dev.upload_batch(&users, &templates).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_batch(
        &mut self,
        users: &[User],
        templates: &[Template],
    ) -> Result<(), Error> {
        let buf = batch_upload_buffer(users, templates)?;
        self.command(Request::free_data()).await?;
        self.upload_buffer(&buf).await?;
        let r = self.command(Request::save_user_templates()).await;
        let _ = self.command(Request::free_data()).await;
        r?;
        self.refresh_data().await
    }

    /// Deletes one template (`CMD_DELETE_USERTEMP`) and refreshes the device.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// dev.delete_template(1, 6).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_template(&mut self, uid: u16, finger: u8) -> Result<(), Error> {
        self.command(Request::delete_template(uid, finger)).await?;
        self.refresh_data().await
    }
}
