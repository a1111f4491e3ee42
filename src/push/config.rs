//! Limits and the configurable answers to the open questions of push §7.
//!
//! Every knob has the documented default of [`Config::default`]; change one
//! only for a device that is known to need it.

/// Size limits applied before anything is decoded or allocated.
///
/// ```
/// use zkproto::push::Limits;
/// let l = Limits::default();
/// assert_eq!((l.max_body, l.max_line), (4 << 20, 64 << 10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted, in bytes (default 4 MiB: twice the largest
    /// `MaxPackageSize` seen, push §3.14).
    pub max_body: usize,
    /// Longest line (and query string) accepted, in bytes (default 64 KiB:
    /// room for a base64 face or palm template; no limit is documented).
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 4 << 20,
            max_line: 64 << 10,
        }
    }
}

/// How the count is written in the reply to ATTLOG / OPERLOG (push §7 Q3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CountStyle {
    /// `OK:<n>`, the spec digest's form (default).
    #[default]
    Colon,
    /// `OK: <n>`, the form most servers write.
    ColonSpace,
    /// A bare `OK`.
    Bare,
}

/// Separator between `TransFlag` tokens (push §2.3, §7 Q10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenSeparator {
    /// HT, as in the spec example (default).
    #[default]
    Tab,
    /// SP, as many servers send.
    Space,
}

impl TokenSeparator {
    /// The separator character.
    ///
    /// ```
    /// use zkproto::push::config::TokenSeparator;
    /// assert_eq!((TokenSeparator::Tab.as_char(), TokenSeparator::Space.as_char()), ('\t', ' '));
    /// ```
    pub fn as_char(self) -> char {
        match self {
            TokenSeparator::Tab => '\t',
            TokenSeparator::Space => ' ',
        }
    }
}

/// Line ending of handshake blocks and command lists (push §7 Q11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LineEnding {
    /// LF, as the spec says (default).
    #[default]
    Lf,
    /// CRLF, as most servers send.
    CrLf,
}

impl LineEnding {
    /// The ending as text.
    ///
    /// ```
    /// use zkproto::push::config::LineEnding;
    /// assert_eq!((LineEnding::Lf.as_str(), LineEnding::CrLf.as_str()), ("\n", "\r\n"));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// Character set of names in bodies (push §3.14, §7 Q13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Charset {
    /// UTF-8; a line that is not UTF-8 is decoded as GB18030 (a superset
    /// of GB2312 and GBK) instead (default).
    #[default]
    Utf8OrGb18030,
    /// UTF-8 only; other lines are reported and skipped.
    Utf8,
    /// GB18030 (GB2312/GBK) only, for devices known to send it.
    Gb18030,
}

/// Key names used in 2.x `DATA UPDATE USERINFO` (push §4.2, §7 Q2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UserKeys {
    /// `Pri=` and `Passwd=`, the spec's names (default).
    #[default]
    Spec,
    /// `Privilege=` and `Password=`, accepted by ZAM180 firmware.
    Long,
}

/// The reply to a 3.x init request from a device not yet registered
/// (push §2.5, §7 Q5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessInit {
    /// `OK`, as the spec says (default).
    #[default]
    Ok,
    /// The 2.x `GET OPTION FROM` block, as one working server does.
    OptionBlock,
}

/// Time format inside `DATA QUERY ATTLOG StartTime=…` (push §7 Q14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryTime {
    /// `YYYY-MM-DD HH:MM:SS`, the spec digest's form (default).
    #[default]
    Space,
    /// `YYYY-MM-DDTHH:MM:SS`.
    T,
}

/// Everything configurable in the push core; see each field for its
/// default and the open question it answers.
///
/// ```
/// use zkproto::push::{Config, config::CountStyle};
/// let c = Config { count_style: CountStyle::ColonSpace, ..Config::default() };
/// assert_eq!(c.limits.max_body, 4 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Config {
    /// Body and line limits.
    pub limits: Limits,
    /// `OK:<n>` style (Q3).
    pub count_style: CountStyle,
    /// `TransFlag` token separator (Q10).
    pub token_separator: TokenSeparator,
    /// Line ending of blocks and command lists (Q11).
    pub line_ending: LineEnding,
    /// Body character set (Q13).
    pub charset: Charset,
    /// 2.x user key names (Q2).
    pub user_keys: UserKeys,
    /// 3.x init reply for unregistered devices (Q5).
    pub access_init: AccessInit,
    /// Time format of `DATA QUERY ATTLOG` (Q14).
    pub query_time: QueryTime,
}
