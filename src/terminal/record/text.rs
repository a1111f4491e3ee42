//! Text fields of records: fixed-size, NUL-padded byte arrays whose code page
//! depends on the device's UI language (reference §6.1 "Text encoding").
//!
//! The crate never guesses: decoding and encoding go through a
//! [`TextEncoding`] chosen by the user (UTF-8 by default, GBK for Chinese
//! firmware, Windows-125x for European firmware).
//!
//! ```
//! use zkproto::terminal::record::text::{TextEncoding, Overflow};
//! let gbk = TextEncoding::Gbk;
//! let bytes = gbk.encode("张三", "name", 24, Overflow::Error).unwrap();
//! assert_eq!(bytes, [0xd5, 0xc5, 0xc8, 0xfd]);
//! assert_eq!(gbk.decode(&[0xd5, 0xc5, 0xc8, 0xfd, 0, 0]), "张三");
//! // Truncation never cuts a character in half:
//! let cut = TextEncoding::Utf8.encode("añb", "name", 2, Overflow::Truncate).unwrap();
//! assert_eq!(cut, b"a");
//! ```

use crate::terminal::error::EncodeError;
use encoding_rs::Encoding;

/// The code page used for names, passwords and user ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 (the default of pyzk and of current TFT firmware).
    #[default]
    Utf8,
    /// GBK (Simplified Chinese firmware).
    Gbk,
    /// Big5 (Traditional Chinese firmware).
    Big5,
    /// Shift_JIS (Japanese firmware).
    ShiftJis,
    /// EUC-KR (Korean firmware).
    EucKr,
    /// Windows-1250 (Central European).
    Windows1250,
    /// Windows-1251 (Cyrillic).
    Windows1251,
    /// Windows-1252 (Western European).
    Windows1252,
    /// Windows-1253 (Greek).
    Windows1253,
    /// Windows-1254 (Turkish).
    Windows1254,
    /// Windows-1255 (Hebrew).
    Windows1255,
    /// Windows-1256 (Arabic).
    Windows1256,
    /// Windows-1257 (Baltic).
    Windows1257,
    /// Windows-1258 (Vietnamese).
    Windows1258,
    /// Windows-874 (Thai).
    Windows874,
}

/// What to do when an encoded value is longer than its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Return [`EncodeError::FieldTooLong`].
    #[default]
    Error,
    /// Cut at the last whole character that fits.
    Truncate,
}

impl TextEncoding {
    /// Every supported encoding.
    pub const ALL: &'static [TextEncoding] = &[
        TextEncoding::Utf8,
        TextEncoding::Gbk,
        TextEncoding::Big5,
        TextEncoding::ShiftJis,
        TextEncoding::EucKr,
        TextEncoding::Windows1250,
        TextEncoding::Windows1251,
        TextEncoding::Windows1252,
        TextEncoding::Windows1253,
        TextEncoding::Windows1254,
        TextEncoding::Windows1255,
        TextEncoding::Windows1256,
        TextEncoding::Windows1257,
        TextEncoding::Windows1258,
        TextEncoding::Windows874,
    ];

    fn encoding(self) -> &'static Encoding {
        match self {
            TextEncoding::Utf8 => encoding_rs::UTF_8,
            TextEncoding::Gbk => encoding_rs::GBK,
            TextEncoding::Big5 => encoding_rs::BIG5,
            TextEncoding::ShiftJis => encoding_rs::SHIFT_JIS,
            TextEncoding::EucKr => encoding_rs::EUC_KR,
            TextEncoding::Windows1250 => encoding_rs::WINDOWS_1250,
            TextEncoding::Windows1251 => encoding_rs::WINDOWS_1251,
            TextEncoding::Windows1252 => encoding_rs::WINDOWS_1252,
            TextEncoding::Windows1253 => encoding_rs::WINDOWS_1253,
            TextEncoding::Windows1254 => encoding_rs::WINDOWS_1254,
            TextEncoding::Windows1255 => encoding_rs::WINDOWS_1255,
            TextEncoding::Windows1256 => encoding_rs::WINDOWS_1256,
            TextEncoding::Windows1257 => encoding_rs::WINDOWS_1257,
            TextEncoding::Windows1258 => encoding_rs::WINDOWS_1258,
            TextEncoding::Windows874 => encoding_rs::WINDOWS_874,
        }
    }

    /// The canonical label (`"UTF-8"`, `"GBK"`, `"windows-1252"`…).
    pub fn name(self) -> &'static str {
        self.encoding().name()
    }

    /// Looks an encoding up by any WHATWG label (`"utf8"`, `"gbk"`, `"gb2312"`,
    /// `"cp1251"`, `"latin1"`…), case-insensitively.
    ///
    /// ```
    /// use zkproto::terminal::record::text::TextEncoding;
    /// assert_eq!(TextEncoding::from_label("gb2312"), Some(TextEncoding::Gbk));
    /// assert_eq!(TextEncoding::from_label("UTF-8"), Some(TextEncoding::Utf8));
    /// assert_eq!(TextEncoding::from_label("klingon"), None);
    /// ```
    pub fn from_label(label: &str) -> Option<Self> {
        let enc = Encoding::for_label(label.trim().as_bytes())?;
        // GB18030 labels map to GBK for writing compatibility with devices.
        let enc = if enc == encoding_rs::GB18030 {
            encoding_rs::GBK
        } else {
            enc
        };
        Self::ALL.iter().copied().find(|e| e.encoding() == enc)
    }

    /// Decodes a NUL-padded field: the bytes before the first NUL, with
    /// malformed sequences replaced by U+FFFD (never an error: device data is
    /// shown as it is).
    pub fn decode(self, field: &[u8]) -> String {
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        let bytes = field.get(..end).unwrap_or(field);
        let (text, _) = self.encoding().decode_without_bom_handling(bytes);
        text.into_owned()
    }

    /// Decodes like [`decode`](Self::decode) but reports malformed bytes:
    /// `None` when the field is not valid in this encoding.
    pub fn decode_strict(self, field: &[u8]) -> Option<String> {
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        let bytes = field.get(..end).unwrap_or(field);
        self.encoding()
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|c| c.into_owned())
    }

    /// Encodes `value` for a field of `max` bytes (without padding).
    ///
    /// A value containing NUL or characters the encoding cannot represent is
    /// refused with [`EncodeError::Unrepresentable`]; a value longer than
    /// `max` is refused or cut at a character boundary according to `overflow`.
    pub fn encode(
        self,
        value: &str,
        field: &'static str,
        max: usize,
        overflow: Overflow,
    ) -> Result<Vec<u8>, EncodeError> {
        if value.contains('\0') {
            return Err(EncodeError::Unrepresentable {
                field,
                encoding: self.name(),
            });
        }
        let mut out = Vec::with_capacity(value.len().min(max));
        let mut buf = [0u8; 4];
        for ch in value.chars() {
            let piece: &[u8] = if self == TextEncoding::Utf8 {
                ch.encode_utf8(&mut buf).as_bytes()
            } else {
                let s = ch.encode_utf8(&mut buf);
                let (bytes, _, had_errors) = self.encoding().encode(s);
                if had_errors {
                    return Err(EncodeError::Unrepresentable {
                        field,
                        encoding: self.name(),
                    });
                }
                // Copy out because `bytes` borrows `buf` or owns a Vec.
                let owned = bytes.into_owned();
                if out.len() + owned.len() > max {
                    return match overflow {
                        Overflow::Truncate => Ok(out),
                        Overflow::Error => Err(EncodeError::FieldTooLong {
                            field,
                            len: self.encoded_len(value).unwrap_or(usize::MAX),
                            max,
                        }),
                    };
                }
                out.extend_from_slice(&owned);
                continue;
            };
            if out.len() + piece.len() > max {
                return match overflow {
                    Overflow::Truncate => Ok(out),
                    Overflow::Error => Err(EncodeError::FieldTooLong {
                        field,
                        len: value.len(),
                        max,
                    }),
                };
            }
            out.extend_from_slice(piece);
        }
        Ok(out)
    }

    /// Encoded length of `value`, or `None` if it cannot be represented.
    pub fn encoded_len(self, value: &str) -> Option<usize> {
        let (bytes, _, had_errors) = self.encoding().encode(value);
        (!had_errors).then_some(bytes.len())
    }

    /// Encodes `value` into a zero-filled fixed-size field.
    pub fn encode_padded<const N: usize>(
        self,
        value: &str,
        field: &'static str,
        overflow: Overflow,
    ) -> Result<[u8; N], EncodeError> {
        let bytes = self.encode(value, field, N, overflow)?;
        let mut out = [0u8; N];
        if let Some(dst) = out.get_mut(..bytes.len()) {
            dst.copy_from_slice(&bytes);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_character_boundaries() {
        let v = TextEncoding::Gbk
            .encode("张三丰", "name", 5, Overflow::Truncate)
            .unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(TextEncoding::Gbk.decode(&v), "张三");
        let e = TextEncoding::Gbk
            .encode("张三丰", "name", 5, Overflow::Error)
            .unwrap_err();
        assert_eq!(
            e,
            EncodeError::FieldTooLong {
                field: "name",
                len: 6,
                max: 5
            }
        );
    }

    #[test]
    fn unrepresentable_is_an_error() {
        let e = TextEncoding::Windows1252
            .encode("张", "name", 24, Overflow::Error)
            .unwrap_err();
        assert!(matches!(e, EncodeError::Unrepresentable { .. }));
        assert!(
            TextEncoding::Utf8
                .encode("a\0b", "name", 24, Overflow::Error)
                .is_err()
        );
    }

    #[test]
    fn decode_stops_at_nul_and_is_lossy() {
        assert_eq!(TextEncoding::Utf8.decode(b"444\0\xc6\x9a"), "444");
        assert_eq!(TextEncoding::Utf8.decode(b"\xff\xfe"), "\u{fffd}\u{fffd}");
        assert_eq!(TextEncoding::Utf8.decode_strict(b"\xff"), None);
    }

    #[test]
    fn padded() {
        let a: [u8; 8] = TextEncoding::Utf8
            .encode_padded("123", "password", Overflow::Error)
            .unwrap();
        assert_eq!(&a, b"123\0\0\0\0\0");
    }
}
