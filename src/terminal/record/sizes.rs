//! The `CMD_GET_FREE_SIZES` (50) reply: counters and capacities of the
//! device's tables (reference §6.5).
//!
//! The reply is an array of little-endian `i32` (the firmware struct
//! `TFSizes` uses `int`): 20 words (80 bytes) on most devices, 23 words
//! (92 bytes) on face devices. [`FreeSizes::parse`] accepts any whole number
//! of words from 20 up to [`FreeSizes::MAX_WORDS`]; words this crate does not
//! name are kept so that [`FreeSizes::encode`] reproduces the input exactly.
//!
//! Word 12 is the number of administrators (`AdminCnt`); pyzk calls it
//! `cards`, which is a mislabel.
//!
//! ```
//! use zkproto::terminal::record::sizes::FreeSizes;
//! let mut s = FreeSizes::new(7, 6, 605, 10_000, 3_000, 100_000);
//! s.oplog = 3087;
//! s.admins = 1;
//! let bytes = s.encode();
//! assert_eq!(bytes.len(), 80);
//! let back = FreeSizes::parse(&bytes).unwrap();
//! assert_eq!(back, s);
//! assert_eq!(back.users_av, 9_993);
//! assert_eq!(back.field(16), Some(100_000));
//! ```

use crate::terminal::record::error::RecordError;
use bytes::{BufMut, Bytes, BytesMut};

/// Word index of every named field (reference §6.5 table).
mod idx {
    pub const USERS: usize = 4;
    pub const FINGERS: usize = 6;
    pub const RECORDS: usize = 8;
    pub const OPLOG: usize = 10;
    pub const ADMINS: usize = 12;
    pub const PASSWORDS: usize = 13;
    pub const FINGERS_CAP: usize = 14;
    pub const USERS_CAP: usize = 15;
    pub const RECORDS_CAP: usize = 16;
    pub const FINGERS_AV: usize = 17;
    pub const USERS_AV: usize = 18;
    pub const RECORDS_AV: usize = 19;
    pub const FACES: usize = 20;
    pub const FACES_CAP: usize = 22;
}

/// The decoded `CMD_GET_FREE_SIZES` reply.
///
/// Values are `i32` because the firmware declares them `int`; a negative
/// value read from a device is kept as it is.
///
/// The named fields are authoritative: [`encode`](Self::encode) writes them
/// over the stored words. Words without a name (indices 0–3, 5, 7, 9, 11, 21
/// and anything after 22) are kept as read; see [`field`](Self::field) and
/// [`set_field`](Self::set_field).
///
/// Two values are equal when they encode to the same bytes (so `faces:
/// None` equals `Some(0)` in a layout that has word 20).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FreeSizes {
    /// Number of users (word 4, `UserCnt`).
    pub users: i32,
    /// Number of fingerprint templates (word 6, `TmpCnt`).
    pub fingers: i32,
    /// Number of attendance records (word 8, `AttLogCnt`).
    pub records: i32,
    /// Number of operation-log records (word 10, `OpLogCnt`).
    pub oplog: i32,
    /// Number of users with an administrator privilege (word 12,
    /// `AdminCnt`; pyzk's `cards`).
    pub admins: i32,
    /// Number of users with a password (word 13, `PwdCnt`).
    pub passwords: i32,
    /// Template capacity (word 14, `StdTmp` = `~MaxFingerCount` × 100).
    pub fingers_cap: i32,
    /// User capacity (word 15, `StdUser` = `~MaxUserCount` × 100).
    pub users_cap: i32,
    /// Attendance capacity (word 16, `StdLog` = `~MaxAttLogCount` × 10000).
    pub records_cap: i32,
    /// Remaining template slots (word 17, `ResTmp`).
    pub fingers_av: i32,
    /// Remaining user slots (word 18, `ResUser`).
    pub users_av: i32,
    /// Remaining attendance slots (word 19, `ResLog`).
    pub records_av: i32,
    /// Number of face templates (word 20, `FaceTmpCnt`); `None` when the
    /// reply has no word 20.
    pub faces: Option<i32>,
    /// Face capacity (word 22, `StdFaceTmp`); `None` when the reply has no
    /// word 22.
    pub faces_cap: Option<i32>,
    /// All words as read, with the named slots zeroed (the named fields
    /// hold those values).
    words: Vec<i32>,
}

impl PartialEq for FreeSizes {
    fn eq(&self, other: &Self) -> bool {
        let n = self.word_count();
        n == other.word_count() && (0..n).all(|i| self.field(i) == other.field(i))
    }
}

impl Eq for FreeSizes {}

impl core::hash::Hash for FreeSizes {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.encode().hash(state);
    }
}

impl Default for FreeSizes {
    /// All zero, 80-byte layout.
    fn default() -> Self {
        FreeSizes {
            users: 0,
            fingers: 0,
            records: 0,
            oplog: 0,
            admins: 0,
            passwords: 0,
            fingers_cap: 0,
            users_cap: 0,
            records_cap: 0,
            fingers_av: 0,
            users_av: 0,
            records_av: 0,
            faces: None,
            faces_cap: None,
            words: vec![0; FreeSizes::WORDS],
        }
    }
}

impl FreeSizes {
    /// Words in the common layout (80 bytes).
    pub const WORDS: usize = 20;
    /// Words in the face-device layout (92 bytes).
    pub const FACE_WORDS: usize = 23;
    /// Largest number of words [`parse`](Self::parse) accepts (256 bytes).
    pub const MAX_WORDS: usize = 64;

    /// Builds the reply a device with these counts and capacities would
    /// send (80-byte layout; remaining slots = capacity − count, never
    /// negative). Other counters are zero; set them through the fields.
    ///
    /// ```
    /// use zkproto::terminal::record::sizes::FreeSizes;
    /// let s = FreeSizes::new(2, 0, 0, 500, 500, 50_000);
    /// assert_eq!((s.users_av, s.fingers_av, s.records_av), (498, 500, 50_000));
    /// ```
    pub fn new(
        users: i32,
        fingers: i32,
        records: i32,
        users_cap: i32,
        fingers_cap: i32,
        records_cap: i32,
    ) -> Self {
        let rest = |cap: i32, n: i32| cap.saturating_sub(n).max(0);
        FreeSizes {
            users,
            fingers,
            records,
            users_cap,
            fingers_cap,
            records_cap,
            users_av: rest(users_cap, users),
            fingers_av: rest(fingers_cap, fingers),
            records_av: rest(records_cap, records),
            ..FreeSizes::default()
        }
    }

    /// Adds the face counters (switches to the 92-byte layout).
    ///
    /// ```
    /// use zkproto::terminal::record::sizes::FreeSizes;
    /// let s = FreeSizes::new(7, 6, 605, 10_000, 3_000, 100_000).with_faces(0, 0);
    /// assert_eq!(s.encode().len(), 92);
    /// ```
    pub fn with_faces(mut self, faces: i32, faces_cap: i32) -> Self {
        self.faces = Some(faces);
        self.faces_cap = Some(faces_cap);
        self
    }

    /// Parses the reply data.
    ///
    /// Accepts a whole number of 4-byte words, at least [`WORDS`](Self::WORDS)
    /// and at most [`MAX_WORDS`](Self::MAX_WORDS): 80 and 92 bytes are the
    /// layouts seen on devices; longer replies keep their extra words so they
    /// re-encode unchanged. `faces` / `faces_cap` are `Some` when words 20 /
    /// 22 are present.
    ///
    /// ```
    /// use zkproto::terminal::record::sizes::FreeSizes;
    /// assert!(FreeSizes::parse(&[0u8; 76]).is_err());
    /// assert!(FreeSizes::parse(&[0u8; 81]).is_err());
    /// assert_eq!(FreeSizes::parse(&[0u8; 92]).unwrap().faces, Some(0));
    /// ```
    pub fn parse(data: &[u8]) -> Result<FreeSizes, RecordError> {
        const WHAT: &str = "free sizes";
        if data.len() < Self::WORDS * 4 {
            return Err(RecordError::Truncated {
                what: WHAT,
                offset: 0,
                need: Self::WORDS * 4,
                got: data.len(),
            });
        }
        if !data.len().is_multiple_of(4) || data.len() > Self::MAX_WORDS * 4 {
            return Err(RecordError::UnknownRecordSize {
                what: WHAT,
                len: data.len(),
            });
        }
        let mut words: Vec<i32> = data
            .chunks_exact(4)
            .map(|c| c.first_chunk::<4>().map_or(0, |w| i32::from_le_bytes(*w)))
            .collect();
        let get = |i: usize| words.get(i).copied().unwrap_or(0);
        let mut s = FreeSizes {
            users: get(idx::USERS),
            fingers: get(idx::FINGERS),
            records: get(idx::RECORDS),
            oplog: get(idx::OPLOG),
            admins: get(idx::ADMINS),
            passwords: get(idx::PASSWORDS),
            fingers_cap: get(idx::FINGERS_CAP),
            users_cap: get(idx::USERS_CAP),
            records_cap: get(idx::RECORDS_CAP),
            fingers_av: get(idx::FINGERS_AV),
            users_av: get(idx::USERS_AV),
            records_av: get(idx::RECORDS_AV),
            faces: words.get(idx::FACES).copied(),
            faces_cap: words.get(idx::FACES_CAP).copied(),
            words: Vec::new(),
        };
        for i in Self::named_indices() {
            if let Some(w) = words.get_mut(i) {
                *w = 0;
            }
        }
        s.words = words;
        Ok(s)
    }

    fn named_indices() -> [usize; 14] {
        [
            idx::USERS,
            idx::FINGERS,
            idx::RECORDS,
            idx::OPLOG,
            idx::ADMINS,
            idx::PASSWORDS,
            idx::FINGERS_CAP,
            idx::USERS_CAP,
            idx::RECORDS_CAP,
            idx::FINGERS_AV,
            idx::USERS_AV,
            idx::RECORDS_AV,
            idx::FACES,
            idx::FACES_CAP,
        ]
    }

    fn named(&self, index: usize) -> Option<i32> {
        Some(match index {
            idx::USERS => self.users,
            idx::FINGERS => self.fingers,
            idx::RECORDS => self.records,
            idx::OPLOG => self.oplog,
            idx::ADMINS => self.admins,
            idx::PASSWORDS => self.passwords,
            idx::FINGERS_CAP => self.fingers_cap,
            idx::USERS_CAP => self.users_cap,
            idx::RECORDS_CAP => self.records_cap,
            idx::FINGERS_AV => self.fingers_av,
            idx::USERS_AV => self.users_av,
            idx::RECORDS_AV => self.records_av,
            // An absent face field in a layout that has the slot encodes as 0.
            idx::FACES => self.faces.unwrap_or(0),
            idx::FACES_CAP => self.faces_cap.unwrap_or(0),
            _ => return None,
        })
    }

    /// Number of words [`encode`](Self::encode) writes: the stored length,
    /// extended to 23 when a face field is set.
    pub fn word_count(&self) -> usize {
        let mut n = self.words.len().max(Self::WORDS);
        if self.faces_cap.is_some() {
            n = n.max(Self::FACE_WORDS);
        } else if self.faces.is_some() {
            n = n.max(idx::FACES + 1);
        }
        n
    }

    /// Word `index` as it would be encoded, or `None` past the end.
    ///
    /// ```
    /// use zkproto::terminal::record::sizes::FreeSizes;
    /// let s = FreeSizes::new(70, 70, 3225, 500, 500, 50_000);
    /// assert_eq!(s.field(4), Some(70));
    /// assert_eq!(s.field(0), Some(0));
    /// assert_eq!(s.field(20), None);
    /// ```
    pub fn field(&self, index: usize) -> Option<i32> {
        if index >= self.word_count() {
            return None;
        }
        self.named(index)
            .or_else(|| Some(self.words.get(index).copied().unwrap_or(0)))
    }

    /// Sets word `index` (a named field when the index has a name). Indices
    /// up to [`MAX_WORDS`](Self::MAX_WORDS) − 1 extend the layout with zero
    /// words; returns `false` for larger indices.
    ///
    /// ```
    /// use zkproto::terminal::record::sizes::FreeSizes;
    /// let mut s = FreeSizes::default();
    /// assert!(s.set_field(12, 3));
    /// assert_eq!(s.admins, 3);
    /// assert!(s.set_field(0, 9));
    /// assert_eq!(s.field(0), Some(9));
    /// assert!(!s.set_field(64, 1));
    /// ```
    pub fn set_field(&mut self, index: usize, value: i32) -> bool {
        if index >= Self::MAX_WORDS {
            return false;
        }
        if self.words.len() <= index {
            self.words.resize(index + 1, 0);
        }
        match index {
            idx::USERS => self.users = value,
            idx::FINGERS => self.fingers = value,
            idx::RECORDS => self.records = value,
            idx::OPLOG => self.oplog = value,
            idx::ADMINS => self.admins = value,
            idx::PASSWORDS => self.passwords = value,
            idx::FINGERS_CAP => self.fingers_cap = value,
            idx::USERS_CAP => self.users_cap = value,
            idx::RECORDS_CAP => self.records_cap = value,
            idx::FINGERS_AV => self.fingers_av = value,
            idx::USERS_AV => self.users_av = value,
            idx::RECORDS_AV => self.records_av = value,
            idx::FACES => self.faces = Some(value),
            idx::FACES_CAP => self.faces_cap = Some(value),
            _ => {
                if let Some(w) = self.words.get_mut(index) {
                    *w = value;
                }
            }
        }
        true
    }

    /// Encodes the reply data (4 × [`word_count`](Self::word_count) bytes).
    pub fn encode(&self) -> Bytes {
        let n = self.word_count();
        let mut out = BytesMut::with_capacity(n * 4);
        for i in 0..n {
            out.put_i32_le(self.field(i).unwrap_or(0));
        }
        out.freeze()
    }

    /// The 1-byte request asking for word `index` only (firmware extension,
    /// §6.5); the device answers with that single `i32`.
    pub fn single_field_request(index: u8) -> Bytes {
        Bytes::copy_from_slice(&[index])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(ws: &[i32]) -> Vec<u8> {
        ws.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn decodes_the_k20_layout() {
        // Decoded values of the K20 reply quoted in §6.5, laid out by the table.
        let mut w = [0i32; 20];
        w[4] = 2;
        w[10] = 7;
        w[14] = 500;
        w[15] = 500;
        w[16] = 50_000;
        w[17] = 500;
        w[18] = 498;
        w[19] = 50_000;
        let data = words(&w);
        let s = FreeSizes::parse(&data).unwrap();
        assert_eq!((s.users, s.fingers, s.records, s.oplog), (2, 0, 0, 7));
        assert_eq!(
            (s.fingers_cap, s.users_cap, s.records_cap),
            (500, 500, 50_000)
        );
        assert_eq!((s.fingers_av, s.users_av, s.records_av), (500, 498, 50_000));
        assert_eq!((s.faces, s.faces_cap), (None, None));
        assert_eq!(&s.encode()[..], &data[..]);
    }

    #[test]
    fn admins_and_passwords_are_words_12_and_13() {
        let mut w = [0i32; 23];
        w[12] = 6;
        w[13] = 5;
        w[20] = 11;
        w[22] = 400;
        let s = FreeSizes::parse(&words(&w)).unwrap();
        assert_eq!((s.admins, s.passwords), (6, 5));
        assert_eq!((s.faces, s.faces_cap), (Some(11), Some(400)));
    }

    #[test]
    fn unnamed_and_extra_words_survive() {
        let mut w = [0i32; 25];
        w[0] = -1;
        w[21] = 77;
        w[24] = 0x1234_5678;
        let data = words(&w);
        let s = FreeSizes::parse(&data).unwrap();
        assert_eq!(s.field(0), Some(-1));
        assert_eq!(s.field(21), Some(77));
        assert_eq!(s.field(24), Some(0x1234_5678));
        assert_eq!(s.field(25), None);
        assert_eq!(&s.encode()[..], &data[..]);
    }

    #[test]
    fn bad_lengths() {
        assert!(matches!(
            FreeSizes::parse(&[]),
            Err(RecordError::Truncated {
                need: 80,
                got: 0,
                ..
            })
        ));
        assert_eq!(
            FreeSizes::parse(&[0u8; 90]),
            Err(RecordError::UnknownRecordSize {
                what: "free sizes",
                len: 90
            })
        );
        assert!(FreeSizes::parse(&[0u8; 260]).is_err());
        assert!(FreeSizes::parse(&[0u8; 256]).is_ok());
    }

    #[test]
    fn named_field_edits_win_over_stored_words() {
        let mut w = [0i32; 20];
        w[4] = 10;
        let mut s = FreeSizes::parse(&words(&w)).unwrap();
        s.users = 11;
        assert_eq!(s.field(4), Some(11));
        assert_eq!(FreeSizes::parse(&s.encode()).unwrap().users, 11);
    }

    proptest! {
        #[test]
        fn bytes_round_trip(ws in proptest::collection::vec(any::<i32>(), 20..=40)) {
            let data = words(&ws);
            let s = FreeSizes::parse(&data).unwrap();
            prop_assert_eq!(&s.encode()[..], &data[..]);
            for (i, w) in ws.iter().enumerate() {
                prop_assert_eq!(s.field(i), Some(*w));
            }
        }

        #[test]
        fn value_round_trip(v in proptest::array::uniform12(any::<i32>()), faces in any::<Option<(i32, i32)>>()) {
            let mut s = FreeSizes::default();
            for (k, i) in FreeSizes::named_indices().iter().take(12).enumerate() {
                prop_assert!(s.set_field(*i, v[k]));
            }
            if let Some((f, c)) = faces {
                s = s.with_faces(f, c);
            }
            prop_assert_eq!(FreeSizes::parse(&s.encode()).unwrap(), s);
        }

        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = FreeSizes::parse(&data);
        }
    }
}
