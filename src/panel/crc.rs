//! CRC-16/ARC, the frame check of the panel protocol (reference §1.2).
//!
//! Width 16, polynomial 0x8005 (reflected 0xA001), init 0, reflected in and
//! out, no final xor; check value 0xBB3D for `123456789`. It covers the
//! address, command, length and data bytes — everything between the `AA`
//! start byte and the CRC itself — and is sent least significant byte first.
//!
//! The table is a slice-by-16 table built at compile time.
//!
//! Big-data transfers (§5.6) are checked with CRC-32 (IEEE, the common
//! polynomial the reference assumes): [`crc32`], [`crc32_digest`].
//!
//! ```
//! use zkproto::panel::crc::crc16;
//! assert_eq!(crc16(b"123456789"), 0xBB3D);
//! // The session-less connect `aa 01 01 00 00 50 3c 55`:
//! assert_eq!(crc16(&[0x01, 0x01, 0x00, 0x00]), 0x3C50);
//! ```

use crc::{CRC_16_ARC, CRC_32_ISO_HDLC, Crc, Digest, Table};

/// The CRC-16/ARC engine (slice-by-16 table).
pub static CRC16_ARC: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_ARC);

/// CRC-16/ARC of `data`.
///
/// ```
/// assert_eq!(zkproto::panel::crc::crc16(b"abcdefg"), 0xE9D9);
/// ```
pub fn crc16(data: &[u8]) -> u16 {
    CRC16_ARC.checksum(data)
}

/// The CRC-32 (IEEE) engine of big-data transfers (§5.6).
pub static CRC32_IEEE: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

/// CRC-32 (IEEE) of a big-data buffer, as announced in the `0D` reply (§5.6).
///
/// ```
/// assert_eq!(zkproto::panel::crc::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(data: &[u8]) -> u32 {
    CRC32_IEEE.checksum(data)
}

/// An incremental CRC-32 (IEEE) computation, for a big-data buffer read in chunks.
///
/// ```
/// let mut d = zkproto::panel::crc::crc32_digest();
/// d.update(b"12345");
/// d.update(b"6789");
/// assert_eq!(d.finalize(), zkproto::panel::crc::crc32(b"123456789"));
/// ```
pub fn crc32_digest() -> Digest<'static, u32, Table<16>> {
    CRC32_IEEE.digest()
}

/// An incremental CRC-16/ARC computation, for data that arrives in pieces.
///
/// ```
/// let mut d = zkproto::panel::crc::digest();
/// d.update(b"0123456789");
/// d.update(b"ABCDEF");
/// assert_eq!(d.finalize(), 0x0F65);
/// ```
pub fn digest() -> Digest<'static, u16, Table<16>> {
    CRC16_ARC.digest()
}

/// CRC of a frame's covered bytes: `address`, `command`, the length (LE) and `data`.
///
/// ```
/// use zkproto::panel::crc::frame_crc;
/// assert_eq!(frame_crc(0x01, 0x76, &[0xfe, 0xfe, 0xfe, 0xfe]), 0x7746);
/// ```
pub fn frame_crc(address: u8, command: u8, data: &[u8]) -> u16 {
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX).to_le_bytes();
    let mut d = digest();
    d.update(&[address, command]);
    d.update(&len);
    d.update(data);
    d.finalize()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference implementation of CRC-16/ARC.
    fn reference(data: &[u8]) -> u16 {
        let mut crc: u16 = 0;
        for &b in data {
            crc ^= u16::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xA001
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_values() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(b"abcdefg"), 0xE9D9);
        assert_eq!(crc16(b"0123456789ABCDEF"), 0x0F65);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn residue_is_zero() {
        let data = [0x01, 0x76, 0x04, 0x00, 0xfe, 0xfe, 0xfe, 0xfe];
        let mut with = data.to_vec();
        with.extend_from_slice(&crc16(&data).to_le_bytes());
        assert_eq!(crc16(&with), 0);
    }

    proptest::proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            proptest::prop_assert_eq!(crc16(&data), reference(&data));
        }

        #[test]
        fn frame_crc_matches_flat(addr: u8, cmd: u8, data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut flat = vec![addr, cmd];
            flat.extend_from_slice(&u16::try_from(data.len()).unwrap_or(0).to_le_bytes());
            flat.extend_from_slice(&data);
            proptest::prop_assert_eq!(frame_crc(addr, cmd, &data), crc16(&flat));
        }
    }
}
