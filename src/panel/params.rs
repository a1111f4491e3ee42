//! GetDeviceParam / SetDeviceParam text (reference §4).
//!
//! Requests name parameters separated by `,`; replies and set requests are
//! `name=value` pairs separated by `,`. Values may be empty and may contain
//! spaces; order is kept.
//!
//! ```
//! use zkproto::panel::params::{self, ParamList};
//! let req = params::encode_get_request(&["~SerialNumber", "LockCount"]).unwrap();
//! assert_eq!(&req[..], b"~SerialNumber,LockCount");
//! let reply = ParamList::parse(b"~SerialNumber=DDG8130016092200401,LockCount=4,~ZKFPVersion=").unwrap();
//! assert_eq!(reply.get("LockCount"), Some("4"));
//! assert_eq!(reply.get_u32("LockCount"), Some(4));
//! assert_eq!(reply.get("~ZKFPVersion"), Some(""));
//! ```

use super::error::{DecodeError, EncodeError};
use super::time::PanelTime;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// Most names per GetDeviceParam request (firmware limit).
pub const MAX_NAMES: usize = 30;
/// Most pairs per SetDeviceParam request (firmware parser limit; the manual says 20).
pub const MAX_SET_PAIRS: usize = 30;
/// Longest parameter name.
pub const MAX_NAME_LEN: usize = 40;

fn check_name(name: &str) -> Result<(), EncodeError> {
    let reason = if name.is_empty() {
        "empty name"
    } else if name.len() > MAX_NAME_LEN {
        "longer than 40 bytes"
    } else if name
        .bytes()
        .any(|b| matches!(b, b',' | b'=' | b'\r' | b'\n' | b'\t' | 0))
    {
        "contains a separator (`,`, `=`, control character)"
    } else {
        return Ok(());
    };
    Err(EncodeError::BadText {
        what: "parameter name",
        text: name.chars().take(48).collect(),
        reason,
    })
}

/// Encodes a GetDeviceParam (0x04) request: names joined with `,`.
pub fn encode_get_request<S: AsRef<str>>(names: &[S]) -> Result<Bytes, EncodeError> {
    if names.is_empty() {
        return Err(EncodeError::TooMany {
            what: "parameter names (at least one needed)",
            count: 0,
            max: MAX_NAMES,
        });
    }
    if names.len() > MAX_NAMES {
        return Err(EncodeError::TooMany {
            what: "parameter names",
            count: names.len(),
            max: MAX_NAMES,
        });
    }
    let mut out = BytesMut::new();
    for (i, name) in names.iter().enumerate() {
        check_name(name.as_ref())?;
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(name.as_ref().as_bytes());
    }
    Ok(out.freeze())
}

/// Decodes a GetDeviceParam request (for a simulator): names, empty items skipped.
///
/// ```
/// let names = zkproto::panel::params::parse_get_request(b"DateTime,LockCount,").unwrap();
/// assert_eq!(names, ["DateTime", "LockCount"]);
/// ```
pub fn parse_get_request(data: &[u8]) -> Result<Vec<String>, DecodeError> {
    let text = ascii(data, "parameter request")?;
    let names: Vec<String> = text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.len() > MAX_NAMES {
        return Err(DecodeError::BadLength {
            what: "parameter request",
            len: names.len(),
            reason: "more than 30 names",
        });
    }
    Ok(names)
}

fn ascii<'a>(data: &'a [u8], what: &'static str) -> Result<&'a str, DecodeError> {
    core::str::from_utf8(data).map_err(|e| DecodeError::BadSyntax {
        what,
        offset: e.valid_up_to(),
        reason: "not UTF-8 text",
    })
}

/// True for parameters whose values are secrets (communication password,
/// duress and emergency door passwords); `Debug` redacts them.
///
/// ```
/// use zkproto::panel::params::is_secret;
/// assert!(is_secret("ComPwd") && is_secret("Door1SupperPassWord") && !is_secret("LockCount"));
/// ```
pub fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("pwd") || lower.contains("password")
}

/// An ordered list of `name=value` parameters (a GetDeviceParam reply or a
/// SetDeviceParam request).
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParamList {
    entries: Vec<(String, String)>,
}

impl fmt::Debug for ParamList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.entries {
            if is_secret(k) {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl ParamList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a pair (builder style).
    ///
    /// ```
    /// use zkproto::panel::ParamList;
    /// let p = ParamList::new().with("Door1Drivertime", "5");
    /// assert_eq!(&p.encode_set_request().unwrap()[..], b"Door1Drivertime=5");
    /// ```
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Appends a pair.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// Appends `DateTime=<packed>`.
    pub fn push_date_time(&mut self, t: PanelTime) {
        self.push("DateTime", t.to_packed().to_string());
    }

    /// The value of the first pair with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value parsed as an unsigned integer.
    pub fn get_u32(&self, name: &str) -> Option<u32> {
        self.get(name)?.trim().parse().ok()
    }

    /// `DateTime` decoded (§4.3).
    pub fn date_time(&self) -> Option<Result<PanelTime, super::error::TimeError>> {
        self.get_u32("DateTime").map(PanelTime::from_packed)
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses `k=v,k=v`: split on `,`, then on the first `=`; empty values are
    /// kept, empty items (a trailing comma) skipped. Invalid UTF-8 is replaced.
    pub fn parse(data: &[u8]) -> Result<Self, DecodeError> {
        let text = String::from_utf8_lossy(data);
        let mut entries = Vec::new();
        let mut offset = 0;
        for item in text.split(',') {
            if !item.is_empty() {
                let Some((k, v)) = item.split_once('=') else {
                    return Err(DecodeError::BadSyntax {
                        what: "parameter list",
                        offset,
                        reason: "item without `=`",
                    });
                };
                if k.is_empty() {
                    return Err(DecodeError::BadSyntax {
                        what: "parameter list",
                        offset,
                        reason: "empty name",
                    });
                }
                entries.push((k.to_owned(), v.to_owned()));
            }
            offset += item.len() + 1;
        }
        Ok(ParamList { entries })
    }

    /// Encodes `k=v,k=v` (a GetDeviceParam reply, for a simulator). Names are
    /// checked; values must not contain `,`.
    pub fn encode(&self) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        for (i, (k, v)) in self.entries.iter().enumerate() {
            check_name(k)?;
            if v.bytes().any(|b| matches!(b, b',' | 0)) {
                let text = if is_secret(k) {
                    "<redacted>".to_owned()
                } else {
                    v.chars().take(48).collect()
                };
                return Err(EncodeError::BadText {
                    what: "parameter value",
                    text,
                    reason: "contains `,` or NUL",
                });
            }
            if i > 0 {
                out.put_u8(b',');
            }
            out.put_slice(k.as_bytes());
            out.put_u8(b'=');
            out.put_slice(v.as_bytes());
        }
        Ok(out.freeze())
    }

    /// Encodes a SetDeviceParam (0x03) request: 1 to 30 pairs.
    pub fn encode_set_request(&self) -> Result<Bytes, EncodeError> {
        if self.entries.is_empty() || self.entries.len() > MAX_SET_PAIRS {
            return Err(EncodeError::TooMany {
                what: "parameter pairs",
                count: self.entries.len(),
                max: MAX_SET_PAIRS,
            });
        }
        self.encode()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ParamList {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        ParamList {
            entries: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_with_spaces_and_empty() {
        let p = ParamList::parse(b"FirmVer=AC Ver 4.3.4 Apr 28 2017,~ZKFPVersion=,A=b=c").unwrap();
        assert_eq!(p.get("FirmVer"), Some("AC Ver 4.3.4 Apr 28 2017"));
        assert_eq!(p.get("~ZKFPVersion"), Some(""));
        assert_eq!(p.get("A"), Some("b=c"));
    }

    #[test]
    fn malformed() {
        assert_eq!(
            ParamList::parse(b"A=1,B"),
            Err(DecodeError::BadSyntax {
                what: "parameter list",
                offset: 4,
                reason: "item without `=`"
            })
        );
        assert!(ParamList::parse(b"=1").is_err());
        assert!(encode_get_request(&["A,B"]).is_err());
        assert!(encode_get_request::<&str>(&[]).is_err());
        let names: Vec<String> = (0..31).map(|i| format!("N{i}")).collect();
        assert!(matches!(
            encode_get_request(&names),
            Err(EncodeError::TooMany { count: 31, .. })
        ));
        assert!(ParamList::new().with("A", "x,y").encode().is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let p = ParamList::new()
            .with("ComPwd", "s3cret")
            .with("LockCount", "4");
        let s = format!("{p:?}");
        assert!(!s.contains("s3cret") && s.contains("LockCount"), "{s}");
        let e = ParamList::new().with("ComPwd", "a,b").encode().unwrap_err();
        assert!(!e.to_string().contains("a,b"));
    }

    fn name() -> impl Strategy<Value = String> {
        "~?[A-Za-z][A-Za-z0-9_]{0,30}"
    }

    proptest! {
        #[test]
        fn round_trip(pairs in proptest::collection::vec((name(), "[ -+\\--~]{0,20}"), 1..30)) {
            let p: ParamList = pairs.iter().cloned().collect();
            let bytes = p.encode_set_request().unwrap();
            let q = ParamList::parse(&bytes).unwrap();
            prop_assert_eq!(&q, &p);
            prop_assert_eq!(q.encode().unwrap(), bytes);
        }

        #[test]
        fn get_request_round_trip(names in proptest::collection::vec(name(), 1..30)) {
            let bytes = encode_get_request(&names).unwrap();
            prop_assert_eq!(parse_get_request(&bytes).unwrap(), names);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ParamList::parse(&data);
            let _ = parse_get_request(&data);
        }
    }
}
