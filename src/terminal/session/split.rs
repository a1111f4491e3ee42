//! Splitting a table buffer (reference §4.6: `u32 total` + records) into
//! whole records as its bytes arrive.

use crate::terminal::record::error::RecordError;

/// Splits a stream of table-buffer bytes (§4.6: `u32 total` + records) into
/// whole records, carrying partial records across pieces. Holds at most one
/// partial record between calls.
///
/// ```
/// use zkproto::terminal::session::RecordSplitter;
/// let mut s = RecordSplitter::new();
/// let mut recs = Vec::new();
/// s.push(&[8, 0, 0, 0, 1, 2, 3], |_total| Ok(4), |r| recs.push(r.to_vec())).unwrap();
/// s.push(&[4, 5, 6, 7, 8], |_| Ok(4), |r| recs.push(r.to_vec())).unwrap();
/// assert_eq!(recs, vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8]]);
/// assert!(s.finish().is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct RecordSplitter {
    head: Vec<u8>,
    total: Option<u32>,
    record_len: usize,
    carry: Vec<u8>,
    seen: u64,
    trailing: u64,
}

impl RecordSplitter {
    /// A splitter at the start of a table buffer.
    ///
    /// ```
    /// use zkproto::terminal::session::RecordSplitter;
    /// let s = RecordSplitter::new();
    /// assert_eq!((s.total(), s.record_bytes(), s.buffered()), (None, 0, 0));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The `total` prefix, once read.
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[2, 0], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.total(), None); // the prefix is incomplete
    /// s.push(&[0, 0], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.total(), Some(2));
    /// ```
    pub fn total(&self) -> Option<u32> {
        self.total
    }

    /// Record bytes consumed so far (whole records and the carried part).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3, 4, 5], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.record_bytes(), 5);
    /// ```
    pub fn record_bytes(&self) -> u64 {
        self.seen
    }

    /// Bytes received past `total` (ignored, but a sign the table's length
    /// field disagrees with the data: callers should refuse the result).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[4, 0, 0, 0, 1, 2, 3, 4, 5, 6], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.trailing(), 2);
    /// ```
    pub fn trailing(&self) -> u64 {
        self.trailing
    }

    /// Bytes held between calls (prefix or partial record).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3, 4, 5], |_| Ok(4), |_| {}).unwrap();
    /// assert_eq!(s.buffered(), 1); // one byte of the second record
    /// ```
    pub fn buffered(&self) -> usize {
        self.head.len() + self.carry.len()
    }

    /// Feeds a piece. `layout` is called once with the total to choose the
    /// record length; `each` is called for every whole record. Bytes past
    /// `total` are not split (counted in [`trailing`](Self::trailing)).
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// let mut records = 0;
    /// s.push(&[4, 0, 0, 0, 9, 9], |total| Ok(if total == 4 { 2 } else { 4 }), |_| records += 1).unwrap();
    /// s.push(&[9, 9, 7, 7], |_| unreachable!(), |_| records += 1).unwrap(); // 7 7: past total
    /// assert_eq!(records, 2);
    /// ```
    pub fn push(
        &mut self,
        mut piece: &[u8],
        layout: impl FnOnce(u32) -> Result<usize, RecordError>,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), RecordError> {
        if self.total.is_none() {
            let need = 4 - self.head.len();
            let (a, b) = piece.split_at(need.min(piece.len()));
            self.head.extend_from_slice(a);
            piece = b;
            let Some(h) = self.head.first_chunk::<4>() else {
                return Ok(());
            };
            let total = u32::from_le_bytes(*h);
            // Choose the layout before committing to the total: if it is
            // refused, the splitter stays in its header state (keeping the
            // 4 bytes) and every later piece reports the refusal again
            // instead of splitting records of an unknown length.
            let record_len = layout(total)?.max(1);
            self.head.clear();
            self.total = Some(total);
            self.record_len = record_len;
        }
        let total = u64::from(self.total.unwrap_or(0));
        let room = usize::try_from(total.saturating_sub(self.seen)).unwrap_or(usize::MAX);
        let (piece, ignored) = piece.split_at(room.min(piece.len()));
        self.trailing += ignored.len() as u64;
        self.seen += piece.len() as u64;
        let mut rest = piece;
        if !self.carry.is_empty() {
            let need = self.record_len - self.carry.len();
            let (a, b) = rest.split_at(need.min(rest.len()));
            self.carry.extend_from_slice(a);
            rest = b;
            if self.carry.len() == self.record_len {
                each(&self.carry);
                self.carry.clear();
            }
        }
        let mut chunks = rest.chunks_exact(self.record_len);
        for rec in &mut chunks {
            each(rec);
        }
        self.carry.extend_from_slice(chunks.remainder());
        Ok(())
    }

    /// Checks that the buffer ended on a record boundary after `total` bytes.
    ///
    /// ```
    /// # use zkproto::terminal::session::RecordSplitter;
    /// # let mut s = RecordSplitter::new();
    /// s.push(&[8, 0, 0, 0, 1, 2, 3], |_| Ok(4), |_| {}).unwrap();
    /// assert!(s.finish().is_err()); // 3 of 8 bytes
    /// s.push(&[4, 5, 6, 7, 8], |_| Ok(4), |_| {}).unwrap();
    /// assert!(s.finish().is_ok());
    /// ```
    pub fn finish(&self) -> Result<(), RecordError> {
        let Some(total) = self.total else {
            return Err(RecordError::Truncated {
                what: "table buffer",
                offset: 0,
                need: 4,
                got: self.head.len(),
            });
        };
        if self.seen < u64::from(total) {
            return Err(RecordError::BadLength {
                what: "table buffer",
                offset: 0,
                value: u64::from(total),
                reason: "total exceeds the bytes that follow",
            });
        }
        if !self.carry.is_empty() {
            return Err(RecordError::Truncated {
                what: "record",
                offset: usize::try_from(self.seen).unwrap_or(usize::MAX) - self.carry.len(),
                need: self.record_len,
                got: self.carry.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_carries_across_every_split() {
        let mut buf = vec![12, 0, 0, 0];
        buf.extend(1..=12u8);
        for cut in 0..=buf.len() {
            let mut s = RecordSplitter::new();
            let mut recs = Vec::new();
            let (a, b) = buf.split_at(cut);
            s.push(a, |_| Ok(3), |r| recs.push(r.to_vec())).unwrap();
            s.push(b, |_| Ok(3), |r| recs.push(r.to_vec())).unwrap();
            s.finish().unwrap();
            assert_eq!(
                recs,
                vec![
                    vec![1, 2, 3],
                    vec![4, 5, 6],
                    vec![7, 8, 9],
                    vec![10, 11, 12]
                ]
            );
        }
    }
}
