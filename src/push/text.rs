//! Checks on text the server puts on the wire.
//!
//! The push protocol has no escaping (push §3.1): HT separates fields, LF
//! separates records and commands, CR may end a line. A value holding one
//! of them would start a second field or a second command, so it is
//! **refused** with [`EncodeError::Forbidden`], never silently altered.
//!
//! ```
//! use zkproto::push::{EncodeError, text::check_value};
//! assert_eq!(check_value("Name", "Ana Lúcia"), Ok("Ana Lúcia"));
//! assert_eq!(check_value("Name", "Eve\tPri=14"), Err(EncodeError::Forbidden { field: "Name", found: '\t' }));
//! ```

use super::error::EncodeError;

/// `value` if it holds no HT, CR, LF or NUL.
///
/// ```
/// use zkproto::push::text::check_value;
/// assert!(check_value("x", "a\rb").is_err() && check_value("x", "a\nb").is_err() && check_value("x", "a\0").is_err());
/// ```
pub fn check_value<'a>(field: &'static str, value: &'a str) -> Result<&'a str, EncodeError> {
    check(field, value, &['\t', '\r', '\n', '\0'])
}

/// `value` if it holds none of `forbidden`.
///
/// ```
/// use zkproto::push::text::check;
/// assert!(check("SET OPTIONS", "a,b", &[',']).is_err());
/// assert_eq!(check("SET OPTIONS", "ab", &[',']), Ok("ab"));
/// ```
pub fn check<'a>(
    field: &'static str,
    value: &'a str,
    forbidden: &[char],
) -> Result<&'a str, EncodeError> {
    match value.chars().find(|c| forbidden.contains(c)) {
        Some(found) => Err(EncodeError::Forbidden { field, found }),
        None => Ok(value),
    }
}

/// A key or name: non-empty and free of HT, CR, LF, NUL, SP, `=`, `,` and `&`.
///
/// ```
/// use zkproto::push::{EncodeError, text::check_key};
/// assert_eq!(check_key("key", "TimeZone"), Ok("TimeZone"));
/// assert!(check_key("key", "a=b").is_err() && check_key("key", "a b").is_err());
/// assert!(check_key("key", "a,b").is_err() && check_key("key", "a&b").is_err());
/// assert_eq!(check_key("key", ""), Err(EncodeError::Length { field: "key", len: 0, max: 64 }));
/// ```
pub fn check_key<'a>(field: &'static str, value: &'a str) -> Result<&'a str, EncodeError> {
    non_empty(field, value, 64)?;
    check(field, value, &['\t', '\r', '\n', '\0', ' ', '=', ',', '&'])
}

/// `value` if it has 1 to `max` characters.
///
/// ```
/// use zkproto::push::{EncodeError, text::non_empty};
/// assert_eq!(non_empty("PIN", "12", 2), Ok("12"));
/// assert_eq!(non_empty("PIN", "123", 2), Err(EncodeError::Length { field: "PIN", len: 3, max: 2 }));
/// ```
pub fn non_empty<'a>(
    field: &'static str,
    value: &'a str,
    max: usize,
) -> Result<&'a str, EncodeError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(EncodeError::Length { field, len, max });
    }
    Ok(value)
}
