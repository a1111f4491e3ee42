//! The 16-bit ones'-complement checksum of the command header (reference §1.4).
//!
//! The same `in_chksum` algorithm protects the 8-byte command header of every
//! packet and, on serial links, the whole serial frame (§12.1).

/// Sums `data` as little-endian 16-bit words into a folded ones'-complement
/// accumulator (an odd trailing byte counts as a word with a zero high byte).
///
/// The result is the folded 16-bit sum, *before* the final complement; it is
/// exposed so callers can checksum a packet in pieces without copying.
///
/// ```
/// use zkproto::terminal::checksum::{fold_sum, finish};
/// // CMD_CONNECT with session 0 and reply id 0 (reference §1.4, example 3).
/// let sum = fold_sum(0, &[0xe8, 0x03, 0, 0, 0, 0, 0, 0]);
/// assert_eq!(finish(sum), 0xfc17);
/// ```
#[inline]
pub fn fold_sum(initial: u32, data: &[u8]) -> u32 {
    // Ones'-complement arithmetic works modulo 0xFFFF, and 2^16 ≡ 1 (mod
    // 0xFFFF), so 32-bit little-endian words can be summed instead of 16-bit
    // ones and folded at the end. Each addend is < 2^32, so a u64 accumulator
    // cannot overflow before 2^32 additions (16 GiB of input); the loop over
    // 8-byte chunks with two independent lanes lets the compiler vectorise it.
    let mut lo: u64 = u64::from(initial);
    let mut hi: u64 = 0;
    let (words, rest) = data.as_chunks::<8>();
    for c in words {
        let w = u64::from_le_bytes(*c);
        lo += w & 0xFFFF_FFFF;
        hi += w >> 32;
    }
    let mut sum = lo + hi;
    let (pairs, last) = rest.as_chunks::<2>();
    for p in pairs {
        sum += u64::from(u16::from_le_bytes(*p));
    }
    if let [last] = last {
        sum += u64::from(*last);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    // `sum` now fits 16 bits.
    sum as u32
}

/// Completes a folded sum into the checksum value stored on the wire.
#[inline]
pub fn finish(folded: u32) -> u16 {
    let mut s = folded;
    while s >> 16 != 0 {
        s = (s & 0xFFFF) + (s >> 16);
    }
    !(s as u16)
}

/// Computes the checksum of a whole buffer in which the checksum field is
/// already zero (or absent).
///
/// ```
/// use zkproto::terminal::checksum::checksum;
/// // Reference §11.B vector 2 (odd length): CMD_ACK_OK, session 0x8DF3, reply 10, data 09.
/// assert_eq!(checksum(&[0xd0, 0x07, 0, 0, 0xf3, 0x8d, 0x0a, 0x00, 0x09]), 0x6a29);
/// ```
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    finish(fold_sum(0, data))
}

/// Computes the checksum of a packet whose checksum field sits at
/// `data[field..field + 2]`, treating that field as zero, without copying.
///
/// Returns `None` when the field lies outside `data`.
///
/// ```
/// use zkproto::terminal::checksum::checksum_skipping;
/// let pkt = [0xe8, 0x03, 0x17, 0xfc, 0, 0, 0, 0];
/// assert_eq!(checksum_skipping(&pkt, 2), Some(0xfc17));
/// ```
#[inline]
pub fn checksum_skipping(data: &[u8], field: usize) -> Option<u16> {
    let end = field.checked_add(2)?;
    let head = data.get(..field)?;
    let tail = data.get(end..)?;
    if !field.is_multiple_of(2) {
        // Word alignment would shift; fall back to an explicit copy.
        let mut v = data.to_vec();
        v.get_mut(field..end)?.fill(0);
        return Some(checksum(&v));
    }
    Some(finish(fold_sum(fold_sum(0, head), tail)))
}

/// A straightforward reference implementation (one word at a time, exactly
/// the five steps of reference §1.4). Used as the baseline in benchmarks and
/// as the oracle in property tests.
#[doc(hidden)]
pub fn checksum_reference(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let (pairs, last) = data.as_chunks::<2>();
    for &[lo, hi] in pairs {
        sum = sum.wrapping_add(u32::from(lo) | (u32::from(hi) << 8));
        if sum & 0x8000_0000 != 0 {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
    }
    if let [b] = last {
        sum = sum.wrapping_add(u32::from(*b));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples() {
        let platform = [
            0x0b, 0x00, 0x00, 0x00, 0xf3, 0x8d, 0x0c, 0x00, 0x7e, 0x50, 0x6c, 0x61, 0x74, 0x66,
            0x6f, 0x72, 0x6d, 0x00,
        ];
        assert_eq!(checksum(&platform), 0xE6B9);
        assert_eq!(checksum_reference(&platform), 0xE6B9);
        assert_eq!(checksum(&[0xe8, 0x03, 0, 0, 0, 0, 0, 0]), 0xFC17);
    }

    #[test]
    fn fast_matches_reference_on_all_lengths() {
        let data: Vec<u8> = (0..300u32)
            .map(|i| (i.wrapping_mul(151) ^ 0xA5) as u8)
            .collect();
        for n in 0..data.len() {
            assert_eq!(
                checksum(&data[..n]),
                checksum_reference(&data[..n]),
                "len {n}"
            );
        }
        let ff = vec![0xFFu8; 70_000];
        assert_eq!(checksum(&ff), checksum_reference(&ff));
    }

    #[test]
    fn skipping_matches_zeroed_copy() {
        let mut pkt = vec![
            0x0b, 0x00, 0xb9, 0xe6, 0xf3, 0x8d, 0x0c, 0x00, 0x7e, 0x50, 0x6c,
        ];
        let got = checksum_skipping(&pkt, 2);
        pkt[2] = 0;
        pkt[3] = 0;
        assert_eq!(got, Some(checksum(&pkt)));
        assert_eq!(
            checksum_skipping(&pkt, 1),
            Some(checksum(&{
                let mut v = pkt.clone();
                v[1] = 0;
                v[2] = 0;
                v
            }))
        );
        assert_eq!(checksum_skipping(&[1, 2], 2), None);
    }
}
