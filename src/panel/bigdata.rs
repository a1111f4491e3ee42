//! The big-data exchange for results and uploads larger than one frame
//! (reference §5.6): announcement, chunk requests and chunk replies.
//!
//! Device → client: the panel answers a request with code `0D` and a 17-byte
//! [`Announce`]; the client reads chunks with `0E` + offset (each `C8` reply is
//! offset + bytes) and finishes with `0F`. The reassembled buffer is exactly
//! the data the small reply would have carried.
//!
//! ```
//! use zkproto::panel::bigdata::Announce;
//! let a = Announce { compressed: 0, transfer_len: 9000, original_len: 9000, crc32: 0x1234, max_chunk: 5120 - 12 };
//! assert_eq!(Announce::parse(&a.encode()), Ok(a));
//! assert_eq!(a.chunk_offsets().count(), 2);
//! ```

use super::error::DecodeError;
use bytes::Bytes;

/// The `0D` announcement of a large result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Announce {
    /// 0 = plain (the known firmware never compresses).
    pub compressed: u8,
    /// Bytes to transfer.
    pub transfer_len: u32,
    /// Length after decompression.
    pub original_len: u32,
    /// CRC32 of the buffer (polynomial unconfirmed, probably IEEE).
    pub crc32: u32,
    /// Largest chunk per `0E` reply.
    pub max_chunk: u32,
}

impl Announce {
    /// Encoded length.
    pub const LEN: usize = 17;

    /// Decodes the 17 bytes.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let Some(
            &[
                c,
                a0,
                a1,
                a2,
                a3,
                b0,
                b1,
                b2,
                b3,
                c0,
                c1,
                c2,
                c3,
                d0,
                d1,
                d2,
                d3,
            ],
        ) = data.first_chunk::<17>()
        else {
            return Err(DecodeError::WrongSize {
                what: "big-data announcement",
                expected: Self::LEN,
                got: data.len(),
            });
        };
        if data.len() != Self::LEN {
            return Err(DecodeError::WrongSize {
                what: "big-data announcement",
                expected: Self::LEN,
                got: data.len(),
            });
        }
        Ok(Announce {
            compressed: c,
            transfer_len: u32::from_le_bytes([a0, a1, a2, a3]),
            original_len: u32::from_le_bytes([b0, b1, b2, b3]),
            crc32: u32::from_le_bytes([c0, c1, c2, c3]),
            max_chunk: u32::from_le_bytes([d0, d1, d2, d3]),
        })
    }

    /// Encodes the 17 bytes (for a simulator).
    pub fn encode(&self) -> [u8; 17] {
        let mut out = [0u8; 17];
        let parts = [
            self.transfer_len,
            self.original_len,
            self.crc32,
            self.max_chunk,
        ];
        let tail = parts.iter().flat_map(|v| v.to_le_bytes());
        for (dst, src) in out
            .iter_mut()
            .zip(core::iter::once(self.compressed).chain(tail))
        {
            *dst = src;
        }
        out
    }

    /// The offsets a client requests with `0E`, in order (none when `max_chunk` is 0).
    pub fn chunk_offsets(&self) -> impl Iterator<Item = u32> {
        let total = if self.max_chunk == 0 {
            0
        } else {
            self.transfer_len
        };
        (0..total).step_by(usize::try_from(self.max_chunk.max(1)).unwrap_or(usize::MAX))
    }
}

/// The data of a `0E` chunk request.
pub fn encode_read_chunk(offset: u32) -> [u8; 4] {
    offset.to_le_bytes()
}

/// Splits a `C8` chunk reply into its offset and bytes.
///
/// ```
/// let (off, chunk) = zkproto::panel::bigdata::parse_chunk(bytes::Bytes::from_static(&[0, 2, 0, 0, 9, 9])).unwrap();
/// assert_eq!((off, &chunk[..]), (512, &[9u8, 9][..]));
/// ```
pub fn parse_chunk(data: Bytes) -> Result<(u32, Bytes), DecodeError> {
    let Some(off) = data.first_chunk::<4>() else {
        return Err(DecodeError::Truncated {
            what: "big-data chunk",
            need: 4,
            got: data.len(),
        });
    };
    let offset = u32::from_le_bytes(*off);
    Ok((offset, data.slice(4..)))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_offsets() {
        assert!(Announce::parse(&[0; 16]).is_err());
        assert!(Announce::parse(&[0; 18]).is_err());
        assert!(parse_chunk(Bytes::from_static(&[1, 2])).is_err());
        let a = Announce {
            compressed: 0,
            transfer_len: 10,
            original_len: 10,
            crc32: 0,
            max_chunk: 4,
        };
        assert_eq!(a.chunk_offsets().collect::<Vec<_>>(), [0, 4, 8]);
        let z = Announce { max_chunk: 0, ..a };
        assert_eq!(z.chunk_offsets().count(), 0);
    }
}
