//! The push core's command encoder on arbitrary field values.
//!
//! Input: a selector byte (`% KINDS` picks the command), then text (lossy
//! UTF-8) cut into fields at each `|`.
//!
//! Properties: no panic; an encoded command never holds CR, LF or NUL (it
//! cannot become two commands); `C:<id>:<text>` parses back to exactly one
//! `(id, text)` pair; a 2.x user command parses back to the same user.

use crate::util::Input;
use zkproto::push::Config;
use zkproto::push::command::{
    AccessUser, Command, CommandId, ControlDevice, command_line, parse_command_list,
};
use zkproto::push::operlog::{OperRecord, UserInfo};

/// Number of command kinds the selector byte chooses from.
pub const KINDS: u8 = 7;

/// Runs the command check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let sel = input.u8();
    let num = input.u32();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    let mut f = text.split('|').map(str::to_owned);
    let mut next = || f.next().unwrap_or_default();
    let user = UserInfo {
        pin: next(),
        name: next(),
        privilege: num as u8,
        password: next(),
        card: next(),
        group: next(),
        ..UserInfo::default()
    };
    let cmd = match sel % KINDS {
        0 => Command::UpdateUser(user.clone()),
        1 => Command::UpdateAccessUser(AccessUser {
            pin: user.pin.clone(),
            name: user.name.clone(),
            password: user.password.clone(),
            card: user.card.clone(),
            group: num,
            ..AccessUser::default()
        }),
        2 => Command::SetOptions(vec![
            (user.pin.clone(), user.name.clone()),
            (user.password.clone(), user.card.clone()),
        ]),
        3 => Command::QueryAccess {
            table: user.pin.clone(),
            pin: Some(user.name.clone()),
        },
        4 => Command::Control(ControlDevice {
            bytes: num.to_le_bytes(),
            operator: None,
        }),
        5 => Command::Raw(text.clone()),
        _ => Command::DeleteFingers {
            pin: user.pin.clone(),
            fid: Some(num as u8),
        },
    };
    let config = Config::default();
    let Ok(encoded) = cmd.encode(&config) else {
        return;
    };
    assert!(
        !encoded.contains(['\r', '\n', '\0']),
        "command spans lines: {encoded:?}"
    );
    let line = command_line(&CommandId::from(num), &cmd, &config).expect("encodes twice");
    assert_eq!(
        parse_command_list(&line),
        [(num.to_string(), encoded.clone())],
        "C: line does not split back"
    );
    if let Command::UpdateUser(u) = cmd {
        let rec = encoded
            .strip_prefix("DATA UPDATE USERINFO ")
            .expect("prefix");
        let OperRecord::User(back) = OperRecord::parse(rec, false).expect("user parses back")
        else {
            panic!("not a user: {rec:?}");
        };
        let group = if u.group.is_empty() {
            "1".to_owned()
        } else {
            u.group.clone()
        };
        assert_eq!(back, UserInfo { group, ..u }, "user does not round-trip");
    }
}
