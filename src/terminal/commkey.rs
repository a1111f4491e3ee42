//! Comm-key authentication: the `CMD_AUTH` data scrambling of reference §3.2.
//!
//! A device with a non-zero `ComKey` answers `CMD_CONNECT` with
//! `CMD_ACK_UNAUTH` and refuses everything but `CMD_AUTH` until the client
//! proves it knows the key. The proof is 4 bytes derived from the key, the
//! session id and a "tick" byte.
//!
//! ```
//! use zkproto::terminal::commkey::{make_key, check_key, CommKey};
//! // Reference §3.2 worked example: key 45, session 0x45CF, tick 0x32.
//! let auth = make_key(CommKey::new(45), 0x45CF, 0x32);
//! assert_eq!(auth, [0x61, 0xc9, 0x32, 0x3c]);
//! assert!(check_key(&auth, CommKey::new(45), 0x45CF));
//! assert!(!check_key(&auth, CommKey::new(12), 0x45CF));
//! ```

use core::fmt;

/// A device communication password (`ComKey`). Its `Debug` output never
/// shows the value.
///
/// ```
/// use zkproto::terminal::commkey::CommKey;
/// assert_eq!(format!("{:?}", CommKey::new(123456)), "CommKey(***)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommKey(u32);

impl CommKey {
    /// Wraps a key value.
    pub const fn new(key: u32) -> Self {
        CommKey(key)
    }

    /// The key value (handle with care: this is a secret).
    pub const fn expose(self) -> u32 {
        self.0
    }

    /// Whether the key is zero (devices with key 0 need no authentication).
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for CommKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommKey(***)")
    }
}

/// The tick byte every known client uses (`0x32` = 50).
pub const DEFAULT_TICK: u8 = 0x32;

/// Steps 1–4 of §3.2: bit-reverse the key, add the session id, XOR with
/// `"ZKSO"`, swap the 16-bit halves.
fn scrambled(key: CommKey, session_id: u16) -> [u8; 4] {
    let k = key.0.reverse_bits().wrapping_add(u32::from(session_id));
    let [b0, b1, b2, b3] = k.to_le_bytes();
    let x = [b0 ^ b'Z', b1 ^ b'K', b2 ^ b'S', b3 ^ b'O'];
    [x[2], x[3], x[0], x[1]]
}

/// Builds the 4 data bytes of `CMD_AUTH` for `key`, the session id from the
/// connect reply, and a tick byte (use [`DEFAULT_TICK`] unless you need
/// firmware-style randomness).
pub fn make_key(key: CommKey, session_id: u16, tick: u8) -> [u8; 4] {
    let [c0, c1, _, c3] = scrambled(key, session_id);
    [c0 ^ tick, c1 ^ tick, tick, c3 ^ tick]
}

/// The device-side check (`CheckCommKey`): accepts `auth` iff bytes 0, 1 and
/// 3 match the scrambled key under the tick found in byte 2. Any other
/// length is refused.
pub fn check_key(auth: &[u8], key: CommKey, session_id: u16) -> bool {
    let Some(&[a0, a1, tick, a3]) = auth.first_chunk::<4>() else {
        return false;
    };
    if auth.len() != 4 {
        return false;
    }
    let [k0, k1, _, k3] = scrambled(key, session_id);
    a0 ^ tick == k0 && a1 ^ tick == k1 && a3 ^ tick == k3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        let s = 0x45CF;
        assert_eq!(
            make_key(CommKey::new(12), s, 0x32),
            [0x61, 0x4d, 0x32, 0x3c]
        );
        assert_eq!(
            make_key(CommKey::new(45), s, 0x32),
            [0x61, 0xc9, 0x32, 0x3c]
        );
        assert_eq!(make_key(CommKey::new(0), s, 0x32), [0x61, 0x7d, 0x32, 0x3c]);
        assert_eq!(make_key(CommKey::new(1), s, 0x32), [0x61, 0xfd, 0x32, 0x3c]);
        assert_eq!(
            make_key(CommKey::new(123_456), s, 0x32),
            [0x26, 0x7f, 0x32, 0xbc]
        );
    }

    #[test]
    fn any_tick_is_accepted_by_the_device_check() {
        for tick in [1u8, 0x32, 0xff] {
            let a = make_key(CommKey::new(999_999), 0x1234, tick);
            assert!(check_key(&a, CommKey::new(999_999), 0x1234));
            assert!(!check_key(&a, CommKey::new(999_998), 0x1234));
        }
        assert!(!check_key(&[1, 2, 3], CommKey::new(1), 1));
        assert!(!check_key(
            &[0x61, 0xfd, 0x32, 0x3c, 0],
            CommKey::new(1),
            0x45CF
        ));
    }
}
