//! The device's data together with its encoded tables: a bulk read of a
//! table that has not changed since the previous read is served from the
//! bytes (and buffer hash, §4.2.1) encoded for that read, instead of
//! encoding every record and hashing every byte again.
//!
//! What a client receives is the same either way; only the simulator's own
//! time per `1503` changes (100,000 attendance records: about 4 MB to
//! encode and hash). Every mutable access to the data — any command that
//! changes it, [`Device::state_mut`](super::Device::state_mut), a rollback
//! after a failed store — drops the cached tables, so a cached table is
//! never older than the data.

use crate::terminal::EncodeError;
use crate::terminal::command::TableId;
use crate::terminal::record::bulk::buffer_hash;
use crate::terminal::sim::state::State;
use bytes::Bytes;
use core::ops::{Deref, DerefMut};

/// [`State`] plus the tables encoded from it. Reads go through [`Deref`];
/// [`DerefMut`] forgets the encoded tables.
#[derive(Debug, Default)]
pub(super) struct Data {
    state: State,
    tables: Vec<Encoded>,
}

/// One encoded table buffer and, once asked for, its buffer hash.
#[derive(Debug)]
struct Encoded {
    table: TableId,
    bytes: Bytes,
    hash: Option<u32>,
}

impl Data {
    pub(super) fn new(state: State) -> Data {
        Data {
            state,
            tables: Vec::new(),
        }
    }

    /// The buffer of `table`: the cached one, or `encode(state)` (cached
    /// when it succeeds).
    pub(super) fn table(
        &mut self,
        table: TableId,
        encode: impl FnOnce(&State) -> Result<Bytes, EncodeError>,
    ) -> Result<Bytes, EncodeError> {
        if let Some(e) = self.tables.iter().find(|e| e.table == table) {
            return Ok(e.bytes.clone());
        }
        let bytes = encode(&self.state)?;
        self.tables.push(Encoded {
            table,
            bytes: bytes.clone(),
            hash: None,
        });
        Ok(bytes)
    }

    /// [`buffer_hash`] of `buf`, remembered with the cached table when
    /// `buf` is that table's buffer.
    pub(super) fn hash(&mut self, buf: &Bytes) -> u32 {
        let cached = self
            .tables
            .iter_mut()
            .find(|e| e.bytes.as_ptr() == buf.as_ptr() && e.bytes.len() == buf.len());
        match cached {
            Some(Encoded { hash: Some(h), .. }) => *h,
            Some(e) => *e.hash.insert(buffer_hash(buf)),
            None => buffer_hash(buf),
        }
    }

    /// How many tables are cached (for tests).
    #[cfg(test)]
    pub(super) fn cached(&self) -> usize {
        self.tables.len()
    }
}

impl Deref for Data {
    type Target = State;
    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for Data {
    fn deref_mut(&mut self) -> &mut State {
        self.tables.clear();
        &mut self.state
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::terminal::record::attendance::encode_attendance_table;
    use crate::terminal::record::text::TextEncoding;
    use crate::terminal::sim::Profile;
    use crate::terminal::sim::seed::seed_state;

    fn data() -> Data {
        Data::new(seed_state(&Profile::zk8(), TextEncoding::Utf8, 1, 5, 50))
    }

    #[test]
    fn unchanged_table_is_encoded_once() {
        let mut d = data();
        let mut encoded = 0;
        let mut read = |d: &mut Data| {
            d.table(TableId::AttLog, |s| {
                encoded += 1;
                encode_attendance_table(&s.attendance)
            })
            .unwrap()
        };
        let a = read(&mut d);
        let b = read(&mut d);
        assert_eq!(a.as_ptr(), b.as_ptr());
        assert_eq!(encoded, 1);
        assert_eq!(d.hash(&a), buffer_hash(&a));
        assert_eq!(d.hash(&b), buffer_hash(&a));
        // Another buffer of the same length is hashed, not looked up.
        let other = Bytes::from(vec![7u8; a.len()]);
        assert_eq!(d.hash(&other), buffer_hash(&other));
    }

    #[test]
    fn any_change_drops_the_cache() {
        let mut d = data();
        let before = d
            .table(TableId::AttLog, |s| encode_attendance_table(&s.attendance))
            .unwrap();
        assert_eq!(d.cached(), 1);
        // A read leaves the cache alone; a mutable access drops it.
        assert_eq!(d.attendance.len(), 50);
        assert_eq!(d.cached(), 1);
        let first = d.attendance.first().cloned().unwrap();
        d.attendance.push(first);
        assert_eq!(d.cached(), 0);
        let after = d
            .table(TableId::AttLog, |s| encode_attendance_table(&s.attendance))
            .unwrap();
        assert_eq!(after.len(), before.len() + (before.len() - 4) / 50);
        assert_eq!(after, encode_attendance_table(&d.attendance).unwrap());
    }

    #[test]
    fn failed_encoding_is_not_cached() {
        let mut d = data();
        let r = d.table(TableId::User, |_| {
            Err(EncodeError::OutOfRange {
                field: "test",
                reason: "refused",
            })
        });
        assert!(r.is_err());
        assert_eq!(d.cached(), 0);
    }
}
