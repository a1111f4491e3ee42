//! The stored access log (`transaction` table, §5.2, §5.7).

use super::{Client, Error};
use crate::panel::command::Command;
use crate::panel::table::{TransactionRow, encode_count_request, parse_count_reply};

impl Client {
    /// Every stored transaction (big results are fetched in chunks).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// for t in panel.transactions().await? {
    ///     println!("{} pin {} door {} {}", t.time, t.pin, t.door, t.event);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn transactions(&mut self) -> Result<Vec<TransactionRow>, Error> {
        let t = self.table("transaction").await?;
        self.select(&t, &[], false).await
    }

    /// Transactions not yet read with this call ("new records only"), then
    /// commits the panel's read pointer (0x19) so the next call starts after
    /// them. The pointer is shared by every client of the panel.
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// let fresh = panel.new_transactions().await?;
    /// println!("{} new", fresh.len());
    /// # Ok(()) }
    /// ```
    pub async fn new_transactions(&mut self) -> Result<Vec<TransactionRow>, Error> {
        let t = self.table("transaction").await?;
        let rows = self.select(&t, &[], true).await?;
        self.call(Command::GetDataOk, &[t.id]).await?;
        Ok(rows)
    }

    /// Number of stored transactions (0x0A).
    ///
    /// ```no_run
    /// # async fn run(panel: &mut zkproto::panel::client::Client) -> Result<(), zkproto::panel::client::Error> {
    /// println!("{} records", panel.transaction_count().await?);
    /// # Ok(()) }
    /// ```
    pub async fn transaction_count(&mut self) -> Result<u32, Error> {
        let t = self.table("transaction").await?;
        self.table_count(t.id).await
    }

    /// Number of rows of a table by id (0x0A).
    pub(crate) async fn table_count(&mut self, table: u8) -> Result<u32, Error> {
        let reply = self
            .call(Command::GetDataCount, &encode_count_request(table))
            .await?;
        Ok(parse_count_reply(&reply)?)
    }
}
