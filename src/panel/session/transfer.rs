//! The client side of a big-data transfer (reference §5.6), sans-IO: which
//! offset to ask for next, whether a chunk reply is the next piece, and the
//! CRC-32 of the whole.
//!
//! The panel answers a request whose result does not fit one frame with `0D`
//! and a 17-byte [`Announce`]. [`BigDataReader`] checks the announcement
//! against the caller's limit before anything is allocated, names the offset
//! of every `0E` chunk request, accepts only the chunk that continues the
//! buffer (its offset echoed, 1 to the missing number of bytes), and on
//! [`finish`](BigDataReader::finish) checks the length and the announced CRC-32.
//! A chunk is *progress* when it is accepted: new, in-order bytes.
//!
//! ```
//! use bytes::Bytes;
//! use zkproto::panel::bigdata::Announce;
//! use zkproto::panel::crc::crc32;
//! use zkproto::panel::session::BigDataReader;
//!
//! let data = b"0123456789";
//! let a = Announce { compressed: 0, transfer_len: 10, original_len: 10, crc32: crc32(data), max_chunk: 6 };
//! let mut r = BigDataReader::new(&a.encode(), 1 << 20).unwrap();
//! assert_eq!(r.next_offset(), Some(0));
//! assert_eq!(r.handle_chunk(Bytes::from_static(b"\x00\x00\x00\x00012345")), Ok(6));
//! assert_eq!(r.next_request(), Some([6, 0, 0, 0]));
//! r.handle_chunk(Bytes::from_static(b"\x06\x00\x00\x006789")).unwrap();
//! assert_eq!(r.next_offset(), None);
//! assert_eq!(&r.finish().unwrap()[..], data);
//! ```

use crate::panel::bigdata::{self, Announce};
use crate::panel::crc::crc32;
use crate::panel::error::BigDataError;
use bytes::{Bytes, BytesMut};

/// Reassembles one big-data result from its `0E` chunk replies.
///
/// Debug output shows sizes only (a result can hold user records).
pub struct BigDataReader {
    announce: Announce,
    total: usize,
    buf: BytesMut,
}

impl core::fmt::Debug for BigDataReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BigDataReader")
            .field("announce", &self.announce)
            .field("received", &self.buf.len())
            .finish()
    }
}

impl BigDataReader {
    /// Starts a transfer from the payload of a `0D` reply. The announced
    /// length is checked against `limit` (bytes) before the buffer is
    /// allocated; compressed data and a chunk size of 0 are refused.
    ///
    /// ```
    /// use zkproto::panel::{bigdata::Announce, BigDataError, session::BigDataReader};
    /// let a = Announce { compressed: 0, transfer_len: 5000, original_len: 5000, crc32: 0, max_chunk: 1024 };
    /// assert_eq!(BigDataReader::new(&a.encode(), 4096).unwrap_err(),
    ///            BigDataError::TooLarge { announced: 5000, limit: 4096 });
    /// ```
    pub fn new(announcement: &[u8], limit: u32) -> Result<Self, BigDataError> {
        let announce = Announce::parse(announcement).map_err(BigDataError::Decode)?;
        if announce.transfer_len > limit {
            return Err(BigDataError::TooLarge {
                announced: announce.transfer_len,
                limit,
            });
        }
        if announce.compressed != 0 {
            return Err(BigDataError::Compressed {
                flag: announce.compressed,
            });
        }
        if announce.max_chunk == 0 && announce.transfer_len > 0 {
            return Err(BigDataError::ZeroChunk {
                len: announce.transfer_len,
            });
        }
        let total = usize::try_from(announce.transfer_len).map_err(|_| BigDataError::TooLarge {
            announced: announce.transfer_len,
            limit,
        })?;
        Ok(BigDataReader {
            announce,
            total,
            buf: BytesMut::with_capacity(total),
        })
    }

    /// The announcement.
    pub fn announce(&self) -> &Announce {
        &self.announce
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.buf.len()
    }

    /// The offset the next `0E` request asks for; `None` once every byte arrived.
    pub fn next_offset(&self) -> Option<u32> {
        if self.buf.len() >= self.total {
            return None;
        }
        u32::try_from(self.buf.len()).ok()
    }

    /// The data of the next `0E` chunk request; `None` once every byte arrived.
    pub fn next_request(&self) -> Option<[u8; 4]> {
        self.next_offset().map(bigdata::encode_read_chunk)
    }

    /// Takes the payload of the `C8` reply to the last chunk request (after
    /// the session header). It must echo the requested offset and carry 1 to
    /// the missing number of bytes; returns the number of new bytes (progress).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use zkproto::panel::{bigdata::Announce, BigDataError, session::BigDataReader};
    /// let a = Announce { compressed: 0, transfer_len: 4, original_len: 4, crc32: 0, max_chunk: 4 };
    /// let mut r = BigDataReader::new(&a.encode(), 64).unwrap();
    /// // A chunk for another offset is refused and the reader does not move.
    /// assert!(matches!(r.handle_chunk(Bytes::from_static(&[2, 0, 0, 0, 9, 9])),
    ///                  Err(BigDataError::BadChunk { offset: 2, expected: 0, .. })));
    /// assert_eq!(r.received(), 0);
    /// ```
    pub fn handle_chunk(&mut self, payload: Bytes) -> Result<usize, BigDataError> {
        let (offset, chunk) = bigdata::parse_chunk(payload).map_err(BigDataError::Decode)?;
        let remaining = self.total.saturating_sub(self.buf.len());
        let expected = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        if offset != expected || chunk.is_empty() || chunk.len() > remaining {
            return Err(BigDataError::BadChunk {
                offset,
                len: chunk.len(),
                expected,
                remaining,
            });
        }
        self.buf.extend_from_slice(&chunk);
        Ok(chunk.len())
    }

    /// True once every announced byte arrived.
    pub fn is_complete(&self) -> bool {
        self.buf.len() >= self.total
    }

    /// The reassembled result, after checking that it is complete and that
    /// its CRC-32 matches the announcement (an announced CRC of 0 is not
    /// checked: firmware that does not compute it sends 0).
    pub fn finish(self) -> Result<Bytes, BigDataError> {
        if self.buf.len() != self.total {
            return Err(BigDataError::Incomplete {
                received: self.buf.len(),
                total: self.total,
            });
        }
        let computed = crc32(&self.buf);
        if self.announce.crc32 != 0 && computed != self.announce.crc32 {
            return Err(BigDataError::CrcMismatch {
                announced: self.announce.crc32,
                computed,
            });
        }
        Ok(self.buf.freeze())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn announce(data: &[u8], max_chunk: u32) -> [u8; Announce::LEN] {
        let len = u32::try_from(data.len()).unwrap();
        Announce {
            compressed: 0,
            transfer_len: len,
            original_len: len,
            crc32: crc32(data),
            max_chunk,
        }
        .encode()
    }

    fn chunk(offset: u32, bytes: &[u8]) -> Bytes {
        let mut v = offset.to_le_bytes().to_vec();
        v.extend_from_slice(bytes);
        Bytes::from(v)
    }

    #[test]
    fn announcement_checks_come_before_allocation() {
        let big = Announce {
            compressed: 0,
            transfer_len: u32::MAX,
            original_len: u32::MAX,
            crc32: 0,
            max_chunk: 1024,
        };
        assert_eq!(
            BigDataReader::new(&big.encode(), 1 << 20).unwrap_err(),
            BigDataError::TooLarge {
                announced: u32::MAX,
                limit: 1 << 20
            }
        );
        let z = Announce {
            transfer_len: 10,
            max_chunk: 0,
            ..big
        };
        assert_eq!(
            BigDataReader::new(&z.encode(), 100).unwrap_err(),
            BigDataError::ZeroChunk { len: 10 }
        );
        let c = Announce {
            compressed: 1,
            transfer_len: 10,
            ..big
        };
        assert_eq!(
            BigDataReader::new(&c.encode(), 100).unwrap_err(),
            BigDataError::Compressed { flag: 1 }
        );
        assert!(matches!(
            BigDataReader::new(&[0; 16], 100),
            Err(BigDataError::Decode(_))
        ));
        // An empty result needs no chunk, whatever the chunk size.
        let empty = BigDataReader::new(&announce(b"", 0), 100).unwrap();
        assert_eq!(empty.next_offset(), None);
        assert!(empty.finish().unwrap().is_empty());
    }

    #[test]
    fn only_the_next_piece_is_progress() {
        let data = b"abcdefghij";
        let mut r = BigDataReader::new(&announce(data, 4), 100).unwrap();
        r.handle_chunk(chunk(0, b"abcd")).unwrap();
        // A replayed chunk, a chunk past the end, an empty chunk, a truncated
        // reply: refused, nothing moves.
        for bad in [
            chunk(0, b"abcd"),
            chunk(4, b"efghijk"),
            chunk(4, b""),
            Bytes::from_static(&[4, 0]),
        ] {
            assert!(r.handle_chunk(bad).is_err());
            assert_eq!((r.received(), r.next_offset()), (4, Some(4)));
        }
        assert_eq!(r.handle_chunk(chunk(4, b"efghij")), Ok(6));
        assert!(r.is_complete());
        assert_eq!(&r.finish().unwrap()[..], data);
    }

    #[test]
    fn crc_and_completeness_are_checked() {
        let data = b"abcdefghij";
        let mut r = BigDataReader::new(&announce(data, 16), 100).unwrap();
        r.handle_chunk(chunk(0, b"abcdefghiX")).unwrap();
        assert_eq!(
            r.finish().unwrap_err(),
            BigDataError::CrcMismatch {
                announced: crc32(data),
                computed: crc32(b"abcdefghiX")
            }
        );
        let mut r = BigDataReader::new(&announce(data, 16), 100).unwrap();
        r.handle_chunk(chunk(0, b"abc")).unwrap();
        assert_eq!(
            r.finish().unwrap_err(),
            BigDataError::Incomplete {
                received: 3,
                total: 10
            }
        );
    }

    proptest! {
        #[test]
        fn any_chunking_reassembles(data in proptest::collection::vec(any::<u8>(), 0..300), max in 1u32..64) {
            let mut r = BigDataReader::new(&announce(&data, max), 1000).unwrap();
            let mut steps = 0;
            while let Some(off) = r.next_offset() {
                let start = off as usize;
                let end = (start + max as usize).min(data.len());
                prop_assert_eq!(r.handle_chunk(chunk(off, &data[start..end])).unwrap(), end - start);
                steps += 1;
            }
            prop_assert_eq!(steps, data.len().div_ceil(max as usize));
            prop_assert_eq!(&r.finish().unwrap()[..], &data[..]);
        }

        #[test]
        fn hostile_chunks_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..8)) {
            let mut r = BigDataReader::new(&announce(&[7; 20], 8), 1000).unwrap();
            for c in chunks {
                let before = r.received();
                match r.handle_chunk(Bytes::from(c)) {
                    Ok(n) => prop_assert_eq!(r.received(), before + n),
                    Err(_) => prop_assert_eq!(r.received(), before),
                }
                prop_assert!(r.received() <= 20);
            }
        }
    }
}
