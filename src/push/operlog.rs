//! Tagged record lines of `table=OPERLOG`, `USERINFO` and `BIODATA`
//! (2.x, push §3.3–§3.5).
//!
//! Lines are dispatched on their tag, not on the `table=` parameter, because
//! firmware answers a user query on either table (push §3.4, §7 Q1): `OPLOG`
//! → [`OpLog`], `USER` or an untagged `PIN=…` line → [`UserInfo`], `FP` →
//! [`FingerTemplate`], `BIODATA` (or an untagged line of `table=BIODATA`) →
//! [`BioData`]; any other tag (`FACE`, `FVEIN`, `USERPIC`, `BIOPHOTO`, …) is
//! kept as [`OperRecord::Other`].
//!
//! ```
//! use zkproto::push::operlog::OperRecord;
//! let r = OperRecord::parse("OPLOG 5\t0\t2024-06-13 12:51:22\t26\t0\t0\t0", false).unwrap();
//! let OperRecord::OpLog(op) = r else { panic!() };
//! assert_eq!((op.code, op.objects[0].as_str()), (5, "26"));
//! ```

use super::body::{Fields, split_tag};
use super::error::DecodeError;
use crate::panel::PanelTime;

/// One line of an OPERLOG / USERINFO / BIODATA body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperRecord {
    /// `OPLOG …`: an operation log entry.
    OpLog(OpLog),
    /// `USER PIN=…` (or untagged): a user record.
    User(UserInfo),
    /// `FP PIN=…`: a fingerprint template (algorithm ≤ 10).
    Fp(FingerTemplate),
    /// `BIODATA Pin=…`: a unified biometric template.
    Bio(BioData),
    /// Another tag, fields kept as sent.
    Other {
        /// The tag (`FACE`, `USERPIC`, …).
        tag: String,
        /// Its fields.
        fields: Fields,
    },
}

impl OperRecord {
    /// Parses one line; `bio_table` says the body came with
    /// `table=BIODATA`, where untagged lines are templates.
    ///
    /// ```
    /// use zkproto::push::operlog::OperRecord;
    /// assert!(matches!(OperRecord::parse("PIN=2\tName=J", false), Ok(OperRecord::User(_))));
    /// assert!(matches!(OperRecord::parse("Pin=2\tNo=0\tType=1", true), Ok(OperRecord::Bio(_))));
    /// assert!(matches!(OperRecord::parse("FACE PIN=2\tFID=0", true), Ok(OperRecord::Other { .. })));
    /// assert!(OperRecord::parse("FACE", false).is_err());
    /// ```
    pub fn parse(line: &str, bio_table: bool) -> Result<Self, DecodeError> {
        let (tag, rest) = split_tag(line);
        let tag = tag.map(str::to_ascii_uppercase);
        match tag.as_deref() {
            Some("OPLOG") => OpLog::parse(rest).map(OperRecord::OpLog),
            Some("FP") => FingerTemplate::from_fields(&Fields::parse(rest)?).map(OperRecord::Fp),
            Some("BIODATA") => BioData::from_fields(&Fields::parse(rest)?).map(OperRecord::Bio),
            None if bio_table => BioData::from_fields(&Fields::parse(rest)?).map(OperRecord::Bio),
            Some("USER") | None => {
                UserInfo::from_fields(&Fields::parse(rest)?).map(OperRecord::User)
            }
            Some(t) => match Fields::parse(rest)? {
                f if f.0.is_empty() => Err(DecodeError::BadRecord(line.chars().take(32).collect())),
                fields => Ok(OperRecord::Other {
                    tag: t.to_owned(),
                    fields,
                }),
            },
        }
    }
}

/// `OPLOG <code>\t<operator>\t<time>\t<obj1>\t<obj2>\t<obj3>\t<obj4>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpLog {
    /// Operation code (push §3.3: 0 power on, 6 enroll FP, 30 new user…).
    pub code: u16,
    /// Operator (admin PIN, `0` for none).
    pub operator: String,
    /// Device-local time.
    pub time: PanelTime,
    /// The four operands as sent (missing ones empty).
    pub objects: [String; 4],
}

impl OpLog {
    /// Parses the part after the `OPLOG ` tag.
    ///
    /// ```
    /// use zkproto::push::{DecodeError, operlog::OpLog};
    /// let op = OpLog::parse("6\t0\t2024-06-13 12:55:41\t1\t0\t0\t906").unwrap();
    /// assert_eq!((op.code, op.objects[3].as_str()), (6, "906"));
    /// assert_eq!(OpLog::parse("6\t0"), Err(DecodeError::Missing("OpTime")));
    /// assert!(OpLog::parse("x\t0\t2024-06-13 12:55:41").is_err());
    /// ```
    pub fn parse(rest: &str) -> Result<Self, DecodeError> {
        let mut f = rest.split('\t');
        let mut next = |name| {
            f.next()
                .filter(|s| !s.is_empty())
                .ok_or(DecodeError::Missing(name))
        };
        let code_text = next("OpType")?;
        let code = code_text
            .parse()
            .map_err(|_| DecodeError::bad("OpType", code_text))?;
        let operator = next("Operator")?.to_owned();
        let t = next("OpTime")?;
        let time = PanelTime::parse_text(t).map_err(|_| DecodeError::bad("OpTime", t))?;
        let objects = core::array::from_fn(|_| f.next().unwrap_or("").to_owned());
        Ok(OpLog {
            code,
            operator,
            time,
            objects,
        })
    }
}

/// A 2.x user record (`USER PIN=…\tName=…\tPri=…`, push §3.3 / §3.4).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// User id.
    pub pin: String,
    /// Display name.
    pub name: String,
    /// `Pri` / `Privilege`: 0 user, 2 enroller, 6 admin, 10 user-defined,
    /// 14 super admin.
    pub privilege: u8,
    /// `Passwd` / `Password`: keypad code.
    pub password: String,
    /// `Card`: decimal text or `[hex]`, as sent.
    pub card: String,
    /// `Grp`: group, as sent.
    pub group: String,
    /// `TZ`: 16 digits, as sent.
    pub time_zones: String,
    /// `Verify`: as sent (empty or `-1` = group default).
    pub verify: String,
    /// Every other key (`ViceCard`, `StartDatetime`, …), in order.
    pub extra: Fields,
}

const USER_KEYS: [&str; 10] = [
    "PIN",
    "Name",
    "Pri",
    "Privilege",
    "Passwd",
    "Password",
    "Card",
    "Grp",
    "TZ",
    "Verify",
];

impl UserInfo {
    /// Reads a user from its fields (`PIN` required; both key spellings).
    ///
    /// ```
    /// use zkproto::push::{DecodeError, body::Fields, operlog::UserInfo};
    /// let u = UserInfo::from_fields(&Fields::parse("PIN=7\tPrivilege=14\tPassword=12\tX=1").unwrap()).unwrap();
    /// assert_eq!((u.privilege, u.password.as_str(), u.extra.get("X")), (14, "12", Some("1")));
    /// assert_eq!(UserInfo::from_fields(&Fields::parse("Name=x").unwrap()), Err(DecodeError::Missing("PIN")));
    /// ```
    pub fn from_fields(f: &Fields) -> Result<Self, DecodeError> {
        let pin = f.text(&["PIN"]);
        if pin.is_empty() {
            return Err(DecodeError::Missing("PIN"));
        }
        Ok(UserInfo {
            pin: pin.to_owned(),
            name: f.text(&["Name"]).to_owned(),
            privilege: f.num("Pri", &["Pri", "Privilege"])?.unwrap_or(0),
            password: f.text(&["Passwd", "Password"]).to_owned(),
            card: f.text(&["Card"]).to_owned(),
            group: f.text(&["Grp"]).to_owned(),
            time_zones: f.text(&["TZ"]).to_owned(),
            verify: f.text(&["Verify"]).to_owned(),
            extra: f.others(&USER_KEYS),
        })
    }
}

/// `FP PIN=\tFID=\tSize=\tValid=\tTMP=` (push §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerTemplate {
    /// User id.
    pub pin: String,
    /// Finger 0–9.
    pub fid: u8,
    /// 0 invalid, 1 normal, 3 duress.
    pub valid: u8,
    /// Base64 template, as sent (`Size` is its declared length).
    pub template: String,
}

impl FingerTemplate {
    /// Reads a template from its fields (`PIN`, `FID` required).
    ///
    /// ```
    /// use zkproto::push::{DecodeError, body::Fields, operlog::FingerTemplate};
    /// let t = FingerTemplate::from_fields(&Fields::parse("PIN=1\tFID=3\tValid=1\tTMP=YQ==").unwrap()).unwrap();
    /// assert_eq!((t.fid, t.valid, t.template.as_str()), (3, 1, "YQ=="));
    /// assert_eq!(FingerTemplate::from_fields(&Fields::parse("PIN=1").unwrap()), Err(DecodeError::Missing("FID")));
    /// assert_eq!(FingerTemplate::from_fields(&Fields::parse("FID=1").unwrap()), Err(DecodeError::Missing("PIN")));
    /// ```
    pub fn from_fields(f: &Fields) -> Result<Self, DecodeError> {
        Ok(FingerTemplate {
            pin: required(f, "PIN")?,
            fid: f.num("FID", &["FID"])?.ok_or(DecodeError::Missing("FID"))?,
            valid: f.num("Valid", &["Valid"])?.unwrap_or(1),
            template: f.text(&["TMP"]).to_owned(),
        })
    }
}

/// `BIODATA Pin=\tNo=\tIndex=\tValid=\tDuress=\tType=\tMajorVer=\tMinorVer=\tFormat=\tTmp=`
/// (push §3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BioData {
    /// User id.
    pub pin: String,
    /// Finger 0–9, face 0, iris/palm 0 left 1 right.
    pub no: u8,
    /// Template index.
    pub index: u8,
    /// Valid flag.
    pub valid: u8,
    /// Duress flag.
    pub duress: u8,
    /// 1 FP, 2 NIR face, 7 finger vein, 8 palm vein, 9 VL face, …
    pub kind: u8,
    /// `MajorVer.MinorVer` as sent (e.g. `12`, `0`).
    pub version: (String, String),
    /// 0 ZK, 1 ISO, 2 ANSI.
    pub format: u8,
    /// Base64 template.
    pub template: String,
}

impl BioData {
    /// Reads a template from its fields (`Pin`, `Type` required).
    ///
    /// ```
    /// use zkproto::push::{DecodeError, body::Fields, operlog::BioData};
    /// let b = BioData::from_fields(&Fields::parse("Pin=1\tNo=2\tIndex=1\tValid=1\tDuress=1\tType=9\tMajorVer=58\tMinorVer=0\tFormat=2\tTmp=QQ").unwrap()).unwrap();
    /// assert_eq!((b.no, b.index, b.valid, b.duress, b.kind, b.format), (2, 1, 1, 1, 9, 2));
    /// assert_eq!((b.version.0.as_str(), b.template.as_str()), ("58", "QQ"));
    /// assert_eq!(BioData::from_fields(&Fields::parse("Pin=1").unwrap()), Err(DecodeError::Missing("Type")));
    /// ```
    pub fn from_fields(f: &Fields) -> Result<Self, DecodeError> {
        let n = |field, key| f.num::<u8>(field, &[key]).map(Option::unwrap_or_default);
        Ok(BioData {
            pin: required(f, "Pin")?,
            no: n("No", "No")?,
            index: n("Index", "Index")?,
            valid: n("Valid", "Valid")?,
            duress: n("Duress", "Duress")?,
            kind: f
                .num("Type", &["Type"])?
                .ok_or(DecodeError::Missing("Type"))?,
            version: (
                f.text(&["MajorVer"]).to_owned(),
                f.text(&["MinorVer"]).to_owned(),
            ),
            format: n("Format", "Format")?,
            template: f.text(&["Tmp"]).to_owned(),
        })
    }
}

fn required(f: &Fields, key: &'static str) -> Result<String, DecodeError> {
    match f.text(&[key]) {
        "" => Err(DecodeError::Missing(key)),
        v => Ok(v.to_owned()),
    }
}
