//! Errors of the command line tool, their exit codes and their one-line
//! messages naming the device, the operation and what to try.

use std::fmt;
use zkproto::panel::ErrorCode;
use zkproto::panel::client::Error as PanelError;
use zkproto::terminal::client::Error as ClientError;

/// Failure exit status of `zkctl` (success is 0; documented in
/// `docs/zkctl-json.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The device answered but refused (reply code explained in words),
    /// or the thing asked for does not exist on it.
    Refused = 1,
    /// The command line or an input file is wrong; nothing was sent.
    Usage = 2,
    /// The device could not be reached, did not answer in time, or answered
    /// with something that is not this protocol.
    Network = 3,
    /// The device acknowledged a write and then the outcome could not be
    /// confirmed (connection lost, read-back failed): the change may have
    /// been made.
    Unconfirmed = 4,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The `kind` string of a JSON error.
    pub fn kind(self) -> &'static str {
        match self {
            Exit::Refused => "refused",
            Exit::Usage => "usage",
            Exit::Network => "network",
            Exit::Unconfirmed => "unconfirmed",
        }
    }
}

/// A short account of one transport's failure (for the automatic mode).
fn brief(err: &ClientError) -> String {
    match err {
        ClientError::Timeout { after, .. } => {
            format!("no answer within {:.1} s", after.as_secs_f64())
        }
        ClientError::Io {
            kind: std::io::ErrorKind::ConnectionRefused,
            ..
        } => "connection refused".into(),
        other => one_line(&other.to_string()),
    }
}

/// What to do after an unconfirmed write, naming the check to run.
fn unconfirmed_hint(err: &ClientError) -> String {
    let what = match err {
        ClientError::WriteUnconfirmed { what, .. } => what.as_str(),
        _ => "",
    };
    let id = what
        .split('"')
        .nth(1)
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("ID");
    if what.contains("pin") {
        format!("the PIN may have been changed; run `zkctl users show {id}` to check")
    } else {
        format!("the change may have been made; run `zkctl users show {id}` to check")
    }
}

/// A failure ready to be shown: one line, with an exit code.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Which exit code it maps to.
    pub exit: Exit,
    /// The device ("127.0.0.1:4370", "sim"), when one is involved.
    pub device: Option<String>,
    /// The operation ("users set-pin 42").
    pub operation: Option<String>,
    /// What went wrong.
    pub message: String,
    /// What to try, if anything useful can be said.
    pub hint: Option<String>,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            device: None,
            operation: None,
            message: message.into(),
            hint: None,
        }
    }

    /// A refusal (exit 1).
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Refused,
            ..Failure::usage(message)
        }
    }

    /// A network or protocol failure (exit 3).
    pub fn network(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Network,
            ..Failure::usage(message)
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the device and operation unless already set.
    pub fn context(mut self, device: &str, operation: &str) -> Failure {
        if self.device.is_none() {
            self.device = Some(device.to_string());
        }
        if self.operation.is_none() {
            self.operation = Some(operation.to_string());
        }
        self
    }

    /// Sets the operation only (no device is involved yet).
    pub fn op(mut self, operation: &str) -> Failure {
        if self.operation.is_none() {
            self.operation = Some(operation.to_string());
        }
        self
    }

    /// Maps a client error, naming the device for the hints.
    pub fn from_client(err: &ClientError, device: &str) -> Failure {
        let text = one_line(&err.to_string());
        match err {
            ClientError::Refused { command, reply, code } => Failure::refused(format!(
                "the device refused {} ({}: {}{})",
                command.name(),
                reply.name(),
                reply.explain(),
                if *code == 0 {
                    String::new()
                } else {
                    format!(", result code {code}")
                }
            ))
            .hint(
                "the device may be busy (enrolling, in its menu) or may not support this; \
                 try again, or check the device's screen",
            ),
            ClientError::Unauthorized { key_sent: true } => Failure::refused(
                "the device refused the communication key (CMD_ACK_UNAUTH)",
            )
            .hint(format!(
                "wrong comm key? use the value set on {device} (menu Comm. > Comm Key) with --comm-key N"
            )),
            ClientError::Unauthorized { key_sent: false } => Failure::refused(
                "the device requires a communication key (CMD_ACK_UNAUTH)",
            )
            .hint(format!(
                "pass --comm-key N with the value set on {device} (menu Comm. > Comm Key)"
            )),
            ClientError::UserNotFound(id) => {
                Failure::refused(format!("there is no user with id {id:?} on the device"))
                    .hint("list the users with `zkctl users list`")
            }
            ClientError::DuplicateUserId { user_id, uids } => Failure::refused(format!(
                "user id {user_id:?} is already used on the device (uid {uids:?})"
            ))
            .hint("choose another user id, or change the existing user"),
            ClientError::TableFull { table } => Failure::refused(format!(
                "the device's {table} table is full: every uid from 1 to 65534 is taken"
            ))
            .hint("delete users that are no longer needed (`zkctl users delete ID`), then try again"),
            ClientError::WriteNotApplied { what } => Failure::refused(format!(
                "the device accepted the change but reading it back shows otherwise ({what})"
            ))
            .hint("the firmware may not support this field; check on the device's screen"),
            ClientError::WriteUnconfirmed { after, .. } => Failure {
                exit: Exit::Unconfirmed,
                ..Failure::usage(format!(
                    "the device acknowledged the write, then: {}",
                    one_line(&after.to_string())
                ))
            }
            .hint(unconfirmed_hint(err)),
            ClientError::WrongUserChanged {
                uid,
                changed_uid,
                changed_user_id,
                ..
            } => Failure::refused(format!(
                "the device wrote the change to another user: uid {changed_uid} (user id \
                 {changed_user_id:?}) changed, uid {uid} did not"
            ))
            .hint(format!(
                "check both users with `zkctl users show`; the record of uid {changed_uid} may need repair"
            )),
            ClientError::TableMismatch { .. } => Failure::network(text).hint(
                "the device's table is inconsistent or the transfer was cut; try again, and if it \
                 persists, do not trust this device's table over the network",
            ),
            ClientError::NoProgress { .. } => Failure::network(text).hint(format!(
                "{device} answered without sending usable data; it may be busy, faulty or \
                 another kind of device; try again, or try --udp or --tcp"
            )),
            ClientError::BothTransports { tcp, udp } => Failure::network(format!(
                "no terminal answered over TCP ({}) nor over UDP ({})",
                brief(tcp),
                brief(udp)
            ))
            .hint(format!(
                "neither TCP nor UDP worked: is {device} on and reachable? is another client \
                 holding its only session? is it a C3 panel (then use --device c3://HOST)?"
            )),
            ClientError::Encode(_) => Failure::usage(text),
            ClientError::Timeout { waiting_for, after } => Failure::network(format!(
                "no answer within {:.1} s (waiting for {waiting_for})",
                after.as_secs_f64()
            ))
            .hint(format!(
                "is {device} on and reachable? is another client (ZKTime, BioTime) holding its \
                 only session? is it a C3 panel (then use --device c3://HOST)? try --udp (older \
                 firmware) or a longer --timeout"
            )),
            ClientError::Io {
                kind: std::io::ErrorKind::ConnectionRefused,
                ..
            } => Failure::network("connection refused: nothing answers at this address").hint(
                format!(
                    "check the address and port of {device} (4370 by default) and that the device is on"
                ),
            ),
            ClientError::Io { kind, message } => {
                Failure::network(format!("network error ({kind:?}): {}", one_line(message))).hint(
                    format!(
                        "check the address and port of {device} (4370 by default) and that it is on; \
                         try --udp or --tcp"
                    ),
                )
            }
            ClientError::Closed { .. } => Failure::network(text).hint(
                "the device takes one client at a time: is another program (ZKTime, BioTime) \
                 connected? try again, or try --udp",
            ),
            ClientError::NotATerminal { .. } => Failure::network(text).hint(
                "this may be a C3/inBio access panel, which speaks another protocol \
                 (use --device c3://HOST), or not a ZKTeco device at all",
            ),
            ClientError::Frame(_)
            | ClientError::Reply(_)
            | ClientError::Lost { .. }
            | ClientError::Discontinued(_)
            | ClientError::Decode(_) => {
                Failure::network(text).hint(
                    "the device answered with something unexpected; \
                     is it a ZKTeco terminal (not a C3 panel)? try --udp or --tcp",
                )
            }
            _ => Failure::network(text),
        }
    }

    /// Drops suggestions to switch to the transport already in use.
    pub fn on_transport(mut self, transport: zkproto::terminal::client::Transport) -> Failure {
        use zkproto::terminal::client::Transport;
        let (this, other) = match transport {
            Transport::Udp => ("--udp", "--tcp"),
            Transport::Tcp => ("--tcp", "--udp"),
            Transport::Auto => return self,
        };
        if let Some(h) = self.hint.take() {
            let h = h
                .replace(&format!("try {this} or {other}"), &format!("try {other}"))
                .replace(&format!("try {other} or {this}"), &format!("try {other}"))
                .replace(&format!(", or try {this}"), "")
                .replace(
                    &format!("try {this} (older firmware) or a longer"),
                    "try a longer",
                );
            self.hint = Some(h);
        }
        self
    }

    /// Maps a C3/inBio panel client error, naming the device for the hints.
    pub fn from_panel(err: &PanelError, device: &str) -> Failure {
        let text = one_line(&err.to_string());
        let host = device.strip_prefix("c3://").unwrap_or(device);
        match err {
            PanelError::WrongPassword {
                password_sent: true,
            } => Failure::refused("the panel refused the communication password (-14)").hint(
                "wrong password? use the panel's ComPwd with --password PW or ZKCTL_PASSWORD \
                 (ZKAccess: device > communication password)",
            ),
            PanelError::WrongPassword {
                password_sent: false,
            } => Failure::refused("the panel has a communication password (-14)")
                .hint("pass it with --password PW or ZKCTL_PASSWORD"),
            PanelError::Busy { detail } => Failure::refused(format!("panel busy: {}", one_line(detail)))
                .hint(
                    "the panel serves one client at a time: is ZKAccess or another client \
                     connected to it? close it and try again",
                ),
            PanelError::Refused { command, code } => {
                let hint = match code {
                    ErrorCode::NotAuthorized => {
                        "panel busy with another client (ZKAccess)? close it and try again"
                    }
                    ErrorCode::CommandNotAvailable => {
                        "this firmware does not know the command; check the panel's firmware version"
                    }
                    _ => "the panel may not support this, or the value is out of range",
                };
                Failure::refused(format!(
                    "the panel refused {} (error {}: {})",
                    command.name(),
                    code.value(),
                    code.name()
                ))
                .hint(hint)
            }
            PanelError::UserNotFound(pin) => {
                Failure::refused(format!("there is no user with id {pin} on the panel"))
                    .hint("list the users with `zkctl users list`")
            }
            PanelError::UserExists(pin) => Failure::refused(format!(
                "user id {pin} is already used on the panel"
            ))
            .hint("choose another user id, or change the existing user"),
            PanelError::WriteNotApplied { what } => Failure::refused(format!(
                "the panel acknowledged the change but reading it back shows otherwise ({})",
                one_line(what)
            ))
            .hint("the firmware may not support this field or value"),
            PanelError::InvalidArgument(_) | PanelError::Encode(_) => Failure::usage(text),
            PanelError::NotAPanel { .. } => Failure::network(
                "this is a standalone ZKTeco terminal, not a C3/inBio panel",
            )
            .hint(format!("drop c3:// and use --device {host}")),
            PanelError::Timeout { waiting_for, after } => Failure::network(format!(
                "no answer within {:.1} s (waiting for {})",
                after.as_secs_f64(),
                one_line(waiting_for)
            ))
            .hint(format!(
                "is {host} on and reachable? panel busy with another client (ZKAccess)? \
                 is it a terminal (then drop c3://)? try a longer --timeout"
            )),
            PanelError::Io {
                kind: std::io::ErrorKind::ConnectionRefused,
                ..
            } => Failure::network("connection refused: nothing answers at this address").hint(
                format!("check the address and port of {host} (4370 by default) and that the panel is on"),
            ),
            PanelError::Io { kind, message } => {
                Failure::network(format!("network error ({kind:?}): {}", one_line(message)))
                    .hint(format!("check the address and port of {host} and that the panel is on"))
            }
            PanelError::Closed { .. } => Failure::network(text).hint(
                "panel busy with another client (ZKAccess)? wrong password on old firmware? \
                 or not a C3 panel; try again",
            ),
            _ => Failure::network(text).hint(
                "the panel answered with something unexpected; is it a C3/inBio panel?",
            ),
        }
    }

    /// The one-line message.
    pub fn line(&self) -> String {
        let mut s = String::from("zkctl: ");
        if let Some(d) = &self.device {
            s.push_str(d);
            s.push_str(": ");
        }
        if let Some(o) = &self.operation {
            s.push_str(o);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        if let Some(h) = &self.hint {
            s.push_str("; ");
            s.push_str(h);
        }
        // Messages quote device text (names, firmware strings): shown
        // escaped so that it cannot drive the terminal.
        zkproto::text::escape_display(&one_line(&s)).into_owned()
    }

    /// The error as a JSON object (for `--json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "kind": self.exit.kind(),
                "exit_code": self.exit.code(),
                "device": self.device,
                "operation": self.operation,
                "message": self.message,
                "hint": self.hint,
            }
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// Collapses whitespace runs (including newlines) into single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_escape_device_text() {
        let f = Failure::refused("panel busy: \x1b]0;pwned\x07 \u{9b}2J \u{202e}x")
            .context("10.0.0.9:4370", "info");
        let line = f.line();
        assert_eq!(
            line,
            r"zkctl: 10.0.0.9:4370: info: panel busy: \x1b]0;pwned\x07 \u{9b}2J \u{202e}x"
        );
        // JSON keeps the exact message.
        assert_eq!(
            f.json()["error"]["message"],
            "panel busy: \x1b]0;pwned\x07 \u{9b}2J \u{202e}x"
        );
    }
}
