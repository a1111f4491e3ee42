//! Showing device text on a terminal screen.
//!
//! Names, user ids, serial numbers and firmware strings come from the
//! device and are untrusted: a device (or whoever enrolled a user on it)
//! can put escape sequences in a name that move the cursor, set the window
//! title, clear the screen, or end the line and forge the next row of a
//! table. [`escape_display`] (and its [`Escaped`] `Display` wrapper) makes
//! such text inert for human-readable output while leaving ordinary text,
//! including non-Latin scripts, unchanged.
//!
//! Escaped, visibly and unambiguously:
//!
//! * C0 controls, DEL and C1 controls (U+0000–U+001F, U+007F–U+009F):
//!   `\n`, `\r`, `\t`, and `\x1b`-style for the others (`\u{9b}` for C1,
//!   which some terminals treat as `ESC [`);
//! * bidirectional formatting characters (U+061C, U+200E, U+200F,
//!   U+202A–U+202E, U+2066–U+2069), which can make text display in another
//!   order than it is stored ("Trojan Source"), and the line and paragraph
//!   separators U+2028 / U+2029: `\u{202e}`;
//! * the backslash itself (`\\`), so that a name spelled `\x1b` cannot pass
//!   for an escaped one.
//!
//! Machine-readable output (JSON) should carry the exact text instead: its
//! own escaping already keeps it inert.
//!
//! ```
//! use zkproto::text::{escape_display, Escaped};
//! assert_eq!(escape_display("Ana Lúcia 张三"), "Ana Lúcia 张三");
//! assert_eq!(escape_display("x\x1b]0;pwned\x07\r\nFAKE"), r"x\x1b]0;pwned\x07\r\nFAKE");
//! assert_eq!(escape_display("abc\u{202e}fed"), r"abc\u{202e}fed");
//! assert_eq!(format!("[{}]", Escaped("a\tb")), r"[a\tb]");
//! ```

use core::fmt::{self, Write};
use std::borrow::Cow;

/// Whether `c` is shown escaped by [`escape_display`].
///
/// ```
/// use zkproto::text::needs_escape;
/// assert!(needs_escape('\x1b') && needs_escape('\u{9b}') && needs_escape('\u{202e}'));
/// assert!(!needs_escape('é') && !needs_escape(' '));
/// ```
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || c == '\\'
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Writes `c` in its escaped form (see the [module](self) documentation).
fn write_escaped(out: &mut impl Write, c: char) -> fmt::Result {
    match c {
        '\n' => out.write_str(r"\n"),
        '\r' => out.write_str(r"\r"),
        '\t' => out.write_str(r"\t"),
        '\\' => out.write_str(r"\\"),
        c if u32::from(c) < 0x80 => write!(out, "\\x{:02x}", u32::from(c)),
        c => write!(out, "\\u{{{:x}}}", u32::from(c)),
    }
}

/// `s` with every character that could control a terminal, reorder the
/// display, or be mistaken for an escape shown as a visible escape;
/// borrowed when nothing needed escaping.
///
/// ```
/// use zkproto::text::escape_display;
/// assert_eq!(escape_display("\x1b[2JBob"), r"\x1b[2JBob");
/// assert_eq!(escape_display("C:\\x"), r"C:\\x");
/// assert!(matches!(escape_display("plain"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn escape_display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            // Writing to a String cannot fail.
            let _ = write_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Displays the wrapped text escaped as by [`escape_display`], without
/// allocating.
///
/// ```
/// use zkproto::text::Escaped;
/// let name = "Eve\r\nFAKE 9999 admin";
/// assert_eq!(format!("user {}", Escaped(name)), r"user Eve\r\nFAKE 9999 admin");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if needs_escape(c) {
                write_escaped(f, c)?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_escaped() {
        for cp in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(cp).unwrap();
            let shown = escape_display(&c.to_string()).into_owned();
            assert!(shown.starts_with('\\'), "{cp:#x} -> {shown:?}");
            assert!(shown.chars().all(|c| c.is_ascii_graphic()), "{shown:?}");
        }
    }

    #[test]
    fn escapes_are_exact() {
        assert_eq!(
            escape_display("\0\x07\x7f\u{85}\u{9b}"),
            r"\x00\x07\x7f\u{85}\u{9b}"
        );
        assert_eq!(
            escape_display("\u{200e}\u{2066}\u{2069}\u{2028}\u{61c}"),
            r"\u{200e}\u{2066}\u{2069}\u{2028}\u{61c}"
        );
        assert_eq!(
            Escaped("a\\b\x1bc").to_string(),
            escape_display("a\\b\x1bc")
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in [
            "",
            "Ana",
            "张三",
            "Ærøskøbing",
            "José-María O'Neil",
            "ユーザー 1",
            "😀",
        ] {
            assert!(matches!(escape_display(s), Cow::Borrowed(_)), "{s}");
            assert_eq!(Escaped(s).to_string(), s);
        }
    }

    #[test]
    fn output_is_always_inert() {
        // Every char of the BMP alone: the output has no control and no
        // bidi control.
        for cp in 0u32..0x1_0000 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let shown = escape_display(&c.to_string()).into_owned();
            assert!(
                !shown.chars().any(|c| c != '\\' && needs_escape(c)),
                "{cp:#x}"
            );
        }
    }
}
