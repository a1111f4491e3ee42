//! The sans-IO core of the HTTP push protocol ("ADMS", "iclock"): the
//! device is the HTTP client, uploads records and polls for commands
//! (reference `push-adms.md`, cited as "push §N").
//!
//! Nothing here performs I/O, reads a clock or depends on an HTTP crate:
//! the HTTP layer hands over the path, the query string and the body, and
//! sends back the text built here.
//!
//! * [`request`]: [`Request::parse`] turns path + query + body into a typed
//!   [`Message`] and tells the [`Dialect`] (push §2.6);
//! * [`body`]: limits, line splitting, character sets, `key=value` fields,
//!   and the report-and-skip policy for bad record lines;
//! * [`attlog`], [`operlog`]: 2.x records; [`access`]: 3.x records;
//!   [`options`]: comma lists and `INFO`; [`devicecmd`]: command results;
//! * [`reply`]: acknowledgements, handshake blocks, the `Date` header;
//! * [`command`]: `C:<id>:…` commands; [`text`]: the checks that keep a
//!   value from injecting a field or a command;
//! * [`config`]: limits and the documented defaults for the open questions
//!   of push §7; [`endpoint`]: endpoints, dialects, versions;
//!   [`error`]: [`DecodeError`], [`EncodeError`].
//!
//! ```
//! use zkproto::push::{Config, Message, Request, TableBody, reply};
//! let c = Config::default();
//! let body = b"1\t2024-07-28 01:25:24\t0\t1\t\t0\t0\t\r\n4\t2024-07-28 10:41:31\t0\t1\t\t0\t0\t\r\n";
//! let r = Request::parse("/iclock/cdata", "SN=BOCK200961014&table=ATTLOG&Stamp=9999", body, &c).unwrap();
//! let Message::Upload(u) = &r.message else { panic!() };
//! let TableBody::AttLog(b) = &u.body else { panic!() };
//! assert_eq!(b.records[1].pin, "4");
//! assert_eq!(reply::ack(&r.message, &c).unwrap().as_deref(), Some("OK:2"));
//! ```

//! Not covered yet (a request for them is a typed error, never a panic):
//! the tables `ATTPHOTO`, `IDCARD`, `ERRORLOG`, `testdata`, `irstate`
//! (`DecodeError::UnknownTable`); the endpoints `exchange`, `rtdata`,
//! `file`, `fdata` (`DecodeError::UnknownEndpoint`); `AuthType=device` and
//! `type=EnrollInfoData` posts to `cdata` (they need `table=`); binary
//! `GetFile` results; the `CmdFormat=1` command prefix; the 3.x `Cookie:
//! token` check (it is an HTTP header).
//!
//! Open questions of push §7 and where they are decided: Q1 dispatch on the
//! line tag ([`operlog`]); Q2 [`config::UserKeys`]; Q3 [`config::CountStyle`];
//! Q4, Q6 return and verify codes kept raw; Q5 [`config::AccessInit`]; Q7 the
//! caller passes the time ([`Command::SetTime`], [`reply::HttpDate`]); Q8
//! `AC_UNLOCK` for 2.x, optional operator byte ([`command::ControlDevice`]);
//! Q9 rtstate kept as hex text; Q10 [`config::TokenSeparator`]; Q11
//! [`config::LineEnding`]; Q12 no command limit (the caller chooses how many
//! to send); Q13 [`config::Charset`]; Q14 [`config::QueryTime`]; Q15 results
//! are read from `devicecmd` only; Q16 stamps kept as text.

// Wire data must not be able to panic this layer: no unchecked indexing or slicing.
#![warn(clippy::indexing_slicing)]

pub mod access;
pub mod attlog;
pub mod body;
pub mod command;
pub mod config;
pub mod devicecmd;
pub mod endpoint;
pub mod error;
pub mod operlog;
pub mod options;
pub mod query;
pub mod reply;
pub mod request;
pub mod text;

pub use attlog::AttLog;
pub use command::{Command, CommandId};
pub use config::{Config, Limits};
pub use endpoint::{Dialect, Endpoint, PushVersion};
pub use error::{DecodeError, EncodeError};
pub use request::{Message, Request, TableBody, Upload};
