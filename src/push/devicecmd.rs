//! Command results posted to `/iclock/devicecmd` (push §3.13).
//!
//! Both `&` and LF separate `key=value` tokens, and every `ID=` starts a
//! new result, so the batched form (`ID=1&Return=0&CMD=DATA\nID=2&…`) and
//! the one-key-per-line form of `Shell` results read alike. Keys are
//! case-insensitive (`Return` / `return`). Keys other than `ID`, `Return`
//! and `CMD` (`Content`, `SN`, `FILENAME`, the `key=value` lines of an
//! `INFO` result) are kept in [`CommandResult::extra`]. Binary `GetFile`
//! content is not supported: the body must be text.
//!
//! A token before the first `ID=`, a result without `Return`, or a
//! non-numeric `Return` fails the whole body: the IDs cannot be trusted.
//!
//! ```
//! use zkproto::push::devicecmd::parse_results;
//! let r = parse_results("ID=1&Return=0&CMD=DATA\nID=info8&return=-1002&CMD=DATA").unwrap();
//! assert_eq!((r[1].id.as_str(), r[1].code, r[1].ok()), ("info8", -1002, false));
//! ```

use super::body::Fields;
use super::error::DecodeError;

/// One command's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandResult {
    /// The command ID, as sent in `C:<id>:`.
    pub id: String,
    /// Return code: ≥ 0 success (3.x queries: row count), < 0 error
    /// (push §4.7; meanings differ by dialect and firmware, §7 Q4).
    pub code: i32,
    /// The coarse echo of the command (`DATA`, `CHECK`, `DATA UPDATE`…);
    /// empty if absent. Correlate by [`id`](Self::id) only.
    pub cmd: String,
    /// Every other key, in order.
    pub extra: Fields,
}

impl CommandResult {
    /// Whether the device reports success (`Return` ≥ 0).
    ///
    /// ```
    /// use zkproto::push::devicecmd::parse_results;
    /// assert!(parse_results("ID=1&Return=0").unwrap()[0].ok());
    /// ```
    pub fn ok(&self) -> bool {
        self.code >= 0
    }
}

/// Parses a devicecmd body (already decoded to text).
///
/// ```
/// use zkproto::push::{DecodeError, devicecmd::parse_results};
/// let r = parse_results("ID=32\nReturn=0\nCMD=Shell\nContent=Tue Mar 24").unwrap();
/// assert_eq!((r[0].cmd.as_str(), r[0].extra.get("content")), ("Shell", Some("Tue Mar 24")));
/// assert_eq!(parse_results("Return=0"), Err(DecodeError::Missing("ID")));
/// assert_eq!(parse_results("ID=1&CMD=X"), Err(DecodeError::Missing("Return")));
/// assert!(parse_results("ID=1&Return=x").is_err());
/// assert!(parse_results("\r\n").unwrap().is_empty());
/// ```
pub fn parse_results(text: &str) -> Result<Vec<CommandResult>, DecodeError> {
    let mut out = Vec::new();
    let mut current: Option<(String, Fields)> = None;
    let tokens = text.split(['&', '\n']).map(|t| t.trim_end_matches('\r'));
    for token in tokens.filter(|t| !t.is_empty()) {
        let (k, v) = token.split_once('=').unwrap_or((token, ""));
        if k.eq_ignore_ascii_case("ID") {
            out.extend(current.take().map(finish).transpose()?);
            current = Some((v.to_owned(), Fields::default()));
        } else {
            let (_, fields) = current.as_mut().ok_or(DecodeError::Missing("ID"))?;
            fields.0.push((k.to_owned(), v.to_owned()));
        }
    }
    out.extend(current.map(finish).transpose()?);
    Ok(out)
}

fn finish((id, fields): (String, Fields)) -> Result<CommandResult, DecodeError> {
    let code = fields
        .num("Return", &["Return"])?
        .ok_or(DecodeError::Missing("Return"))?;
    Ok(CommandResult {
        id,
        code,
        cmd: fields.text(&["CMD"]).to_owned(),
        extra: fields.others(&["Return", "CMD"]),
    })
}
