//! Reading PINs and confirmations from the person at the keyboard, and the
//! local clock for `time set now`.

use crate::cli::PinArgs;
use crate::fail::Failure;
use std::io::{BufRead, IsTerminal};
use zkproto::terminal::record::time::DeviceTime;

/// Where a PIN is optional (`users add`), `None` when no flag was given.
/// Where it is required (`users set-pin`), prompts without echo when stdin
/// is a terminal and reads a line from stdin otherwise. The PIN is checked
/// to be digits only; its length is checked later against the device.
pub fn read_pin(args: &PinArgs, required: bool, user_id: &str) -> Result<Option<String>, Failure> {
    let pin = if let Some(p) = &args.pin {
        p.clone()
    } else if args.pin_stdin || (required && !std::io::stdin().is_terminal()) {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("cannot read the PIN from stdin: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if required {
        let first = rpassword::prompt_password(format!("New PIN for user {user_id}: "))
            .map_err(|e| Failure::usage(format!("cannot read the PIN: {e}")))?;
        let again = rpassword::prompt_password("Repeat the PIN: ")
            .map_err(|e| Failure::usage(format!("cannot read the PIN: {e}")))?;
        if first != again {
            return Err(Failure::usage("the two PINs differ; nothing was changed"));
        }
        first
    } else {
        return Ok(None);
    };
    check_pin_syntax(&pin)?;
    Ok(Some(pin))
}

/// Digits only, not empty. The PIN never appears in the message.
pub fn check_pin_syntax(pin: &str) -> Result<(), Failure> {
    if pin.is_empty() {
        return Err(
            Failure::usage("the PIN is empty").hint("use `users clear-pin` to remove a PIN")
        );
    }
    if !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::usage(format!(
            "the PIN must be digits only (the given one has {} character(s), not all digits)",
            pin.chars().count()
        ))
        .hint("terminals only accept numeric PINs"));
    }
    Ok(())
}

/// Whether the operation may go ahead: `--yes`, or a "y" typed at the
/// terminal. Without `--yes` and without a terminal, a usage error.
pub fn confirm_possible(yes: bool, what: &str) -> Result<(), Failure> {
    if yes || std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{what} needs confirmation: add --yes"
        )))
    }
}

/// Asks the question on stderr (when `yes` is false) and reads y/N.
pub fn confirm(yes: bool, question: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?;
    if matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::usage("cancelled; nothing was changed"))
    }
}

/// This computer's local time: `date` on Unix, otherwise UTC.
pub fn local_now() -> DeviceTime {
    #[cfg(unix)]
    {
        let out = std::process::Command::new("date")
            .arg("+%Y-%m-%dT%H:%M:%S")
            .output();
        if let Ok(out) = out
            && let Ok(s) = std::str::from_utf8(&out.stdout)
            && let Ok(t) = DeviceTime::parse(s)
        {
            return t;
        }
    }
    utc_now()
}

/// The current UTC time.
pub fn utc_now() -> DeviceTime {
    DeviceTime::now_utc().unwrap_or(DeviceTime::new(2000, 1, 1, 0, 0, 0))
}

/// The time of `time set WHEN`: `now` (this computer's local time) or
/// `YYYY-MM-DDTHH:MM:SS`.
pub fn parse_when(when: &str) -> Result<DeviceTime, Failure> {
    if when.eq_ignore_ascii_case("now") {
        return Ok(local_now());
    }
    DeviceTime::parse(when).map_err(|e| {
        Failure::usage(format!("time {when:?}: {e}")).hint("use `now` or YYYY-MM-DDTHH:MM:SS")
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pin_syntax() {
        assert!(check_pin_syntax("0123").is_ok());
        let e = check_pin_syntax("12a4").unwrap_err();
        assert!(!e.line().contains("12a4"), "the PIN must not be echoed");
        assert!(check_pin_syntax("").is_err());
    }

    #[test]
    fn utc_now_is_valid() {
        let t = utc_now();
        assert!(t.validate().is_ok(), "{t}");
        assert!(t.year >= 2024);
    }
}
