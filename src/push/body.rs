//! Splitting a body into lines and fields, and decoding its text
//! (push §3.1, §3.14).
//!
//! Policy for bad input:
//!
//! * about the whole body — larger than [`Limits::max_body`], a line longer
//!   than [`Limits::max_line`] — the request fails with a typed
//!   [`DecodeError`] before any line is decoded;
//! * about one record line — bytes that are not text in the configured
//!   [`Charset`], a missing or malformed field — the line is *reported and
//!   skipped*: it lands in [`Batch::skipped`] with its line number and the
//!   reason, and the other lines are kept. The count acknowledged to the
//!   device is the number of records kept.
//!
//! ```
//! use zkproto::push::body::{decode_text, lines};
//! use zkproto::push::{Limits, config::Charset};
//! let l: Vec<_> = lines(b"a\r\n\r\nb\n", &Limits::default()).unwrap().collect();
//! assert_eq!(l, [(1, &b"a"[..]), (3, &b"b"[..])]);
//! // "张三" in GB2312
//! assert_eq!(decode_text(b"\xd5\xc5\xc8\xfd", Charset::Utf8OrGb18030).unwrap(), "张三");
//! ```

use super::config::{Charset, Limits};
use super::error::DecodeError;
use std::borrow::Cow;

/// Records decoded from a body, and the lines that were skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch<T> {
    /// The records kept, in body order.
    pub records: Vec<T>,
    /// Lines skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            records: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// A record line that was reported and skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number in the body.
    pub line: usize,
    /// Why it was skipped.
    pub error: DecodeError,
}

impl<T> Batch<T> {
    /// Decodes each line of `body` with `parse`, keeping what parses and
    /// reporting the rest.
    ///
    /// ```
    /// use zkproto::push::body::Batch;
    /// use zkproto::push::{Config, DecodeError};
    /// let b = Batch::decode(b"1\nx\n", &Config::default(), |s| {
    ///     s.parse::<u8>().map_err(|_| DecodeError::bad("n", s))
    /// }).unwrap();
    /// assert_eq!(b.records, [1]);
    /// assert_eq!((b.skipped.len(), b.skipped[0].line), (1, 2));
    /// ```
    pub fn decode(
        body: &[u8],
        config: &super::Config,
        mut parse: impl FnMut(&str) -> Result<T, DecodeError>,
    ) -> Result<Self, DecodeError> {
        let mut batch = Batch::default();
        for (line, bytes) in lines(body, &config.limits)? {
            match decode_text(bytes, config.charset).and_then(|s| parse(&s)) {
                Ok(r) => batch.records.push(r),
                Err(error) => batch.skipped.push(Skipped { line, error }),
            }
        }
        Ok(batch)
    }
}

/// Checks `body` against the limits and returns its non-blank lines with
/// their 1-based numbers; LF ends a line, a CR before it is dropped.
///
/// ```
/// use zkproto::push::body::lines;
/// use zkproto::push::{DecodeError, Limits};
/// let l = Limits { max_body: 8, max_line: 3 };
/// assert_eq!(lines(b"abc\nabc", &l).unwrap().count(), 2);
/// assert!(matches!(lines(b"abcd", &l), Err(DecodeError::LineTooLong { line: 1, len: 4, max: 3 })));
/// assert!(matches!(lines(b"a\na\na\na\na", &l), Err(DecodeError::BodyTooLarge { len: 9, max: 8 })));
/// ```
pub fn lines<'a>(
    body: &'a [u8],
    limits: &Limits,
) -> Result<impl Iterator<Item = (usize, &'a [u8])>, DecodeError> {
    if body.len() > limits.max_body {
        return Err(DecodeError::BodyTooLarge {
            len: body.len(),
            max: limits.max_body,
        });
    }
    let split = || {
        body.split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .enumerate()
            .map(|(i, l)| (i + 1, l))
    };
    if let Some((line, l)) = split().find(|(_, l)| l.len() > limits.max_line) {
        return Err(DecodeError::LineTooLong {
            line,
            len: l.len(),
            max: limits.max_line,
        });
    }
    Ok(split().filter(|(_, l)| !l.trim_ascii().is_empty()))
}

/// Decodes one line (or a whole small body) in `charset`.
///
/// ```
/// use zkproto::push::body::decode_text;
/// use zkproto::push::{DecodeError, config::Charset};
/// assert_eq!(decode_text("Zoë".as_bytes(), Charset::Utf8).unwrap(), "Zoë");
/// assert_eq!(decode_text(b"\xd5\xc5", Charset::Utf8), Err(DecodeError::BadText { charset: "UTF-8" }));
/// assert_eq!(decode_text(b"\xd5\xc5", Charset::Gb18030).unwrap(), "张");
/// assert!(decode_text(b"\xff", Charset::Utf8OrGb18030).is_err());
/// ```
pub fn decode_text(bytes: &[u8], charset: Charset) -> Result<Cow<'_, str>, DecodeError> {
    let utf8 = || std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    let gb = || encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes);
    match charset {
        Charset::Utf8 => utf8().ok_or(DecodeError::BadText { charset: "UTF-8" }),
        Charset::Gb18030 => gb().ok_or(DecodeError::BadText { charset: "GB18030" }),
        Charset::Utf8OrGb18030 => utf8().or_else(gb).ok_or(DecodeError::BadText {
            charset: "UTF-8 or GB18030",
        }),
    }
}

/// `key=value` fields of one record, in the order sent; the value is
/// everything after the **first** `=` (base64 values contain `=`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Splits `text` on HT; a line without HT is split at each SP that is
    /// followed by `key=` (the space-separated form of some 3.x examples,
    /// push §3.1). Empty items (a trailing HT) are ignored.
    ///
    /// ```
    /// use zkproto::push::body::Fields;
    /// let f = Fields::parse("PIN=1\tName=A B\tTMP=YQ==\t").unwrap();
    /// assert_eq!((f.get("pin"), f.get("Name"), f.get("TMP")), (Some("1"), Some("A B"), Some("YQ==")));
    /// let g = Fields::parse("time=2017-01-10 11:49:32 pin=0 name=Ana Paula").unwrap();
    /// assert_eq!((g.get("time"), g.get("pin"), g.get("name")), (Some("2017-01-10 11:49:32"), Some("0"), Some("Ana Paula")));
    /// assert!(Fields::parse("novalue\tx=1").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        let items: Vec<String> = if text.contains('\t') {
            text.split('\t').map(str::to_owned).collect()
        } else {
            let mut items: Vec<String> = Vec::new();
            for word in text.split(' ') {
                match items.last_mut() {
                    Some(last) if !looks_like_key(word) => {
                        last.push(' ');
                        last.push_str(word);
                    }
                    _ => items.push(word.to_owned()),
                }
            }
            items
        };
        let mut out = Vec::new();
        for item in items.iter().filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| DecodeError::BadRecord(item.chars().take(32).collect()))?;
            out.push((k.to_owned(), v.to_owned()));
        }
        Ok(Fields(out))
    }

    /// The value of `key`, compared ASCII case-insensitively (`PIN`, `Pin`
    /// and `pin` all occur).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first of `keys` present (aliases like `Pri` /
    /// `Privilege`), or `""`.
    ///
    /// ```
    /// use zkproto::push::body::Fields;
    /// let f = Fields::parse("Privilege=14").unwrap();
    /// assert_eq!((f.text(&["Pri", "Privilege"]), f.text(&["Card"])), ("14", ""));
    /// ```
    pub fn text(&self, keys: &[&str]) -> &str {
        keys.iter().find_map(|k| self.get(k)).unwrap_or("")
    }

    /// The first of `keys` parsed as a number; absent or empty is `Ok(None)`.
    ///
    /// ```
    /// use zkproto::push::body::Fields;
    /// let f = Fields::parse("a=7\tb=\tc=x").unwrap();
    /// assert_eq!(f.num::<u8>("a", &["a"]), Ok(Some(7)));
    /// assert_eq!(f.num::<u8>("b", &["b", "z"]), Ok(None));
    /// assert!(f.num::<u8>("c", &["c"]).is_err());
    /// ```
    pub fn num<N: core::str::FromStr>(
        &self,
        field: &'static str,
        keys: &[&str],
    ) -> Result<Option<N>, DecodeError> {
        match self.text(keys) {
            "" => Ok(None),
            s => s.parse().map(Some).map_err(|_| DecodeError::bad(field, s)),
        }
    }

    /// The pairs whose key is none of `known` (kept so nothing is lost).
    ///
    /// ```
    /// use zkproto::push::body::Fields;
    /// let f = Fields::parse("PIN=1\tX=2").unwrap();
    /// assert_eq!(f.others(&["pin"]).0, [("X".to_owned(), "2".to_owned())]);
    /// ```
    pub fn others(&self, known: &[&str]) -> Fields {
        let keep = |k: &str| !known.iter().any(|n| n.eq_ignore_ascii_case(k));
        Fields(self.0.iter().filter(|(k, _)| keep(k)).cloned().collect())
    }
}

/// `word` starts with a key: one or more of `[A-Za-z0-9_~]` then `=`.
fn looks_like_key(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'~')
    })
}

/// Splits a leading tag (`OPLOG`, `USER`, `user`, `transaction`…) off a
/// record: the first word, ended by SP or HT, if it holds no `=`.
///
/// ```
/// use zkproto::push::body::split_tag;
/// assert_eq!(split_tag("USER\tPIN=1"), (Some("USER"), "PIN=1"));
/// assert_eq!(split_tag("OPLOG 4\t0"), (Some("OPLOG"), "4\t0"));
/// assert_eq!(split_tag("PIN=1\tName=A"), (None, "PIN=1\tName=A"));
/// assert_eq!(split_tag("CHECK"), (Some("CHECK"), ""));
/// ```
pub fn split_tag(line: &str) -> (Option<&str>, &str) {
    let (head, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    if head.contains('=') {
        (None, line)
    } else {
        (Some(head), rest)
    }
}
