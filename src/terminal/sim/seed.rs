//! Deterministic demo data: users, attendance records and templates derived
//! from a seed.
//!
//! The same `(profile, encoding, seed, counts)` always gives the same
//! records. Names mix ASCII and non-ASCII text (Chinese, Cyrillic, accented
//! Latin); names the encoding cannot represent fall back to `User <n>`, and
//! long names are cut at a character boundary to fit the field.
//!
//! ```
//! use zkproto::terminal::sim::{seed_state, Profile};
//! use zkproto::terminal::record::text::TextEncoding;
//! let a = seed_state(&Profile::zk8(), TextEncoding::Gbk, 7, 10, 100);
//! let b = seed_state(&Profile::zk8(), TextEncoding::Gbk, 7, 10, 100);
//! assert_eq!(a, b);
//! assert_eq!((a.users.len(), a.attendance.len()), (10, 100));
//! assert!(a.users.iter().any(|u| u.name(TextEncoding::Gbk) == "张伟"));
//! ```

use crate::terminal::record::attendance::{Attendance, AttendanceLayout};
use crate::terminal::record::template::Template;
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::time::DeviceTime;
use crate::terminal::record::user::{Privilege, User};
use crate::terminal::sim::config::Profile;
use crate::terminal::sim::state::{State, from_seconds, to_seconds};
use bytes::Bytes;

const NAMES: &[&str] = &[
    "张伟",
    "Ana Lopez",
    "王芳",
    "John Smith",
    "李娜",
    "Olga Petrova",
    "刘洋",
    "Jürgen Weiß",
    "陈静",
    "Иван",
    "Mohammed Ali",
    "黄磊",
    "Chloé",
    "Priya Nair",
    "赵敏",
    "Kenji Sato",
];

/// First timestamp of the seeded attendance log.
pub const SEED_START: DeviceTime = DeviceTime::new(2024, 1, 2, 7, 30, 0);

/// SplitMix64: small, fast, and stable across platforms and versions.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn pick<T: Copy>(&mut self, items: &[T], default: T) -> T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or(default)
    }
}

/// One demo user: uid `i + 1`, user id `1000 + i + 1`.
fn user(profile: &Profile, enc: TextEncoding, rng: &mut Rng, i: usize) -> Option<User> {
    let uid = u16::try_from(i + 1).ok()?;
    let user_id = (1000 + i + 1).to_string();
    let mut u = User::new(profile.user_layout, uid, &user_id, enc).ok()?;
    let name = NAMES.get(i % NAMES.len()).copied().unwrap_or("User");
    if u.set_name(name, enc, Overflow::Truncate).is_err() {
        let fallback = format!("User {}", i + 1);
        u.set_name(&fallback, enc, Overflow::Truncate).ok()?;
    }
    // A cut may end on a space; clients strip names, so store them stripped.
    let stored = u.name(enc);
    if stored.trim() != stored {
        u.set_name(stored.trim(), enc, Overflow::Truncate).ok()?;
    }
    if i == 0 {
        u.set_privilege(Privilege::ADMIN);
    } else if i % 7 == 3 {
        u.set_privilege(Privilege::MANAGER);
    }
    if rng.below(3) == 0 {
        let max = profile.user_layout.password_len().min(6);
        let len = 4.min(max);
        let pw: String = (0..len)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        u.set_password(&pw).ok()?;
    }
    if rng.below(2) == 0 {
        u.set_card(u32::try_from(100_000 + rng.below(9_000_000)).unwrap_or(0));
    }
    Some(u)
}

fn template(rng: &mut Rng, uid: u16, finger: u8) -> Template {
    let len = 400 + usize::try_from(rng.below(800)).unwrap_or(0);
    let mut data = Vec::with_capacity(len);
    data.extend_from_slice(&[0x4d, 0xfd, b'S', b'S', b'2', b'1']);
    while data.len() < len {
        data.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    data.truncate(len);
    Template {
        uid,
        finger,
        flag: Template::FLAG_VALID,
        data: Bytes::from(data),
    }
}

/// Builds a state for `profile` with `users` users (every fourth with one
/// fingerprint template) and `attendance` records in the profile's layouts.
pub fn seed_state(
    profile: &Profile,
    enc: TextEncoding,
    seed: u64,
    users: usize,
    attendance: usize,
) -> State {
    let mut rng = Rng::new(seed);
    let mut state = State::new(profile);
    let users = users.min(usize::from(u16::MAX - 1));
    for i in 0..users {
        if let Some(u) = user(profile, enc, &mut rng, i) {
            if i % 4 == 0 {
                let finger = u8::try_from(rng.below(10)).unwrap_or(0);
                state.templates.push(template(&mut rng, u.uid(), finger));
            }
            state.users.push(u);
        }
    }
    let layout = profile.effective_attendance_layout();
    state.attendance.reserve(attendance);
    let mut t = to_seconds(SEED_START);
    let ids: Vec<(u16, String)> = state
        .users
        .iter()
        .map(|u| (u.uid(), u.user_id(enc)))
        .collect();
    for n in 0..attendance {
        t += 30 + i64::try_from(rng.below(870)).unwrap_or(0);
        let (uid, user_id) =
            match ids.get(usize::try_from(rng.below(ids.len() as u64)).unwrap_or(0)) {
                Some((uid, id)) => (*uid, id.clone()),
                None => {
                    let k = u16::try_from(n % 50 + 1).unwrap_or(1);
                    (k, k.to_string())
                }
            };
        let verify = rng.pick(&[1u8, 1, 1, 0, 2, 15], 1);
        let state_byte = rng.pick(&[0u8, 1, 0, 1, 2, 3, 4, 5], 0);
        let verify = if layout == AttendanceLayout::Short8 {
            verify.min(15)
        } else {
            verify
        };
        if let Ok(a) = Attendance::new(
            layout,
            uid,
            &user_id,
            verify,
            state_byte,
            from_seconds(t),
            0,
        ) {
            state.attendance.push(a);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_seeds_differ_and_zk6_works() {
        let a = seed_state(&Profile::zk6(), TextEncoding::Utf8, 1, 20, 50);
        let b = seed_state(&Profile::zk6(), TextEncoding::Utf8, 2, 20, 50);
        assert_ne!(a, b);
        assert_eq!(a.users.len(), 20);
        assert_eq!(a.attendance.len(), 50);
        assert!(a.attendance.iter().all(|r| r.time.is_valid()));
        assert!(a.attendance.windows(2).all(|w| w[0].time < w[1].time));
        assert_eq!(a.templates.len(), 5);
    }

    #[test]
    fn attendance_without_users() {
        let s = seed_state(&Profile::zk8(), TextEncoding::Utf8, 3, 0, 10);
        assert_eq!(s.attendance.len(), 10);
    }
}
