//! The query string of a device request: percent-decoding and look-up by
//! parameter name (push §1.2).
//!
//! Names are matched exactly first, then ASCII case-insensitively (the spec's
//! names are case-sensitive, `SN`, `table`, `Stamp`, but servers accept
//! `sn`/`Table` defensively, push §1.2). Values are percent-decoded
//! (`%20` → SP) and must then be UTF-8; `+` is kept as it is.
//!
//! ```
//! use zkproto::push::{Limits, query::Query};
//! let q = Query::parse("SN=ABC&INFO=Ver%202.0,0&table=ATTLOG", &Limits::default()).unwrap();
//! assert_eq!(q.get("sn"), Some("ABC"));
//! assert_eq!(q.get("INFO"), Some("Ver 2.0,0"));
//! assert_eq!(q.len(), 3);
//! ```

use super::config::Limits;
use super::error::DecodeError;

/// Decoded `name=value` pairs, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `query` (without the `?`); a pair without `=` has an empty
    /// value; empty pairs (`a=1&&b=2`) are ignored.
    ///
    /// ```
    /// use zkproto::push::{DecodeError, Limits, query::Query};
    /// let l = Limits { max_line: 8, ..Limits::default() };
    /// assert!(matches!(Query::parse("SN=123456789", &l), Err(DecodeError::LineTooLong { .. })));
    /// assert!(Query::parse("a=%zz", &Limits::default()).is_err());
    /// assert_eq!(Query::parse("x&&y=", &Limits::default()).unwrap().get("x"), Some(""));
    /// ```
    pub fn parse(query: &str, limits: &Limits) -> Result<Self, DecodeError> {
        if query.len() > limits.max_line {
            return Err(DecodeError::LineTooLong {
                line: 0,
                len: query.len(),
                max: limits.max_line,
            });
        }
        let mut pairs = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((percent_decode(k)?, percent_decode(v)?));
        }
        Ok(Query { pairs })
    }

    /// The value of `name` (exact match first, then case-insensitive).
    ///
    /// ```
    /// use zkproto::push::{Limits, query::Query};
    /// let q = Query::parse("sn=a&SN=b", &Limits::default()).unwrap();
    /// assert_eq!((q.get("SN"), q.get("Sn"), q.get("x")), (Some("b"), Some("a"), None));
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        let exact = self.pairs.iter().find(|(k, _)| k == name);
        exact
            .or_else(|| {
                self.pairs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, or [`DecodeError::Missing`].
    ///
    /// ```
    /// use zkproto::push::{DecodeError, Limits, query::Query};
    /// let q = Query::parse("SN=1", &Limits::default()).unwrap();
    /// assert_eq!(q.require("SN"), Ok("1"));
    /// assert_eq!(q.require("table"), Err(DecodeError::Missing("table")));
    /// ```
    pub fn require(&self, name: &'static str) -> Result<&str, DecodeError> {
        self.get(name).ok_or(DecodeError::Missing(name))
    }

    /// Number of pairs.
    ///
    /// ```
    /// use zkproto::push::{Limits, query::Query};
    /// assert!(Query::parse("", &Limits::default()).unwrap().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are no pairs.
    ///
    /// ```
    /// use zkproto::push::{Limits, query::Query};
    /// assert!(!Query::parse("a", &Limits::default()).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// `%XX` → byte, then UTF-8.
///
/// ```
/// use zkproto::push::query::percent_decode;
/// assert_eq!(percent_decode("a%20b%2c+").unwrap(), "a b,+");
/// assert!(percent_decode("%4").is_err() && percent_decode("%ff").is_err());
/// assert!(percent_decode("%+1").is_err());
/// ```
pub fn percent_decode(s: &str) -> Result<String, DecodeError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            let text = hex.and_then(|h| std::str::from_utf8(h).ok());
            let byte = text.and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(byte.ok_or_else(|| DecodeError::bad("query", s))?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| DecodeError::BadText { charset: "UTF-8" })
}
