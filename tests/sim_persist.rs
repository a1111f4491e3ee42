//! The simulator's state file: a write is acknowledged only once it is
//! durably stored (a failed store is refused with `CMD_ACK_ERROR` and
//! undone), and a state file a device could not have written is refused at
//! load time with the file and line named — by the library, and by `zksim`
//! (one line on stderr, non-zero exit).
//!
//! "Unwritable" is made by replacing the state file's directory with a
//! regular file after start: creating `dir/zk.state.tmp` then fails with
//! "not a directory" even for root (a chmod would not stop root).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use zkproto::terminal::ReplyCode;
use zkproto::terminal::client::{Client, Error, NewUser, Options};
use zkproto::terminal::record::TextEncoding;
use zkproto::terminal::sim::{Profile, SimConfig, Simulator, persist, seed_state};

#[allow(dead_code)]
mod common;
use common::{Run, bin, wait_with_deadline};

/// A state file inside its own directory, which [`break_dir`] and
/// [`repair_dir`] swap for a regular file and back.
fn state_in_subdir(root: &Path) -> (PathBuf, PathBuf) {
    let dir = root.join("state");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("zk.state");
    (dir, path)
}

fn break_dir(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::write(dir, b"not a directory").unwrap();
}

fn repair_dir(dir: &Path) {
    std::fs::remove_file(dir).unwrap();
    std::fs::create_dir(dir).unwrap();
}

fn opts() -> Options {
    Options::new().timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn unsaved_writes_are_refused_and_leave_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let (dir, path) = state_in_subdir(root.path());
    let sim = Simulator::open(SimConfig {
        users: 3,
        state_file: Some(path.clone()),
        ..SimConfig::default()
    })
    .unwrap();
    let id = sim.users()[0].user_id(sim.encoding());
    let server = sim.serve("127.0.0.1:0".parse().ok(), None).await.unwrap();
    let mut c = Client::connect(server.tcp_addr().unwrap(), opts())
        .await
        .unwrap();
    let before = sim.users();

    break_dir(&dir);
    // set-pin: the device answers CMD_ACK_ERROR and keeps the old record.
    match c.set_pin(&id, "97531").await {
        Err(Error::Refused { reply, .. }) => assert_eq!(reply, ReplyCode::AckError),
        other => panic!("set_pin must be refused, got {other:?}"),
    }
    assert_eq!(sim.users(), before, "the unsaved PIN must not be shown");
    let read = c.user(&id).await.unwrap().unwrap();
    assert_eq!(
        read.as_bytes(),
        before[0].as_bytes(),
        "a read-back over the wire shows the stored record"
    );
    // A new user is refused the same way.
    assert!(matches!(
        c.add_user(NewUser::new("4242").name("Ada")).await,
        Err(Error::Refused {
            reply: ReplyCode::AckError,
            ..
        })
    ));
    assert_eq!(sim.users(), before);
    assert!(c.user("4242").await.unwrap().is_none());

    // Storage works again: the same write is acknowledged and on disk.
    repair_dir(&dir);
    c.set_pin(&id, "97531").await.unwrap();
    let stored = persist::load(&path, &Profile::zk8()).unwrap().unwrap();
    let u = stored
        .users
        .iter()
        .find(|u| u.user_id(TextEncoding::Utf8) == id)
        .unwrap();
    assert_eq!(u.password(TextEncoding::Utf8).expose(), "97531");
    assert_eq!(stored.users, sim.users());
    c.disconnect().await.unwrap();
    server.shutdown().await;
}

#[test]
fn control_api_changes_that_cannot_be_stored_are_undone() {
    let root = tempfile::tempdir().unwrap();
    let (dir, path) = state_in_subdir(root.path());
    let sim = Simulator::open(SimConfig {
        users: 2,
        state_file: Some(path),
        ..SimConfig::default()
    })
    .unwrap();
    break_dir(&dir);
    sim.set_option("LockOn", "9");
    assert_eq!(sim.option("LockOn").as_deref(), Some("5"));
    let n = sim.attendance().len();
    sim.punch("1001", 1, 0);
    assert_eq!(sim.attendance().len(), n);
}

#[test]
fn an_unwritable_state_file_is_an_error_at_open() {
    let root = tempfile::tempdir().unwrap();
    let blocker = root.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("zk.state");
    let e = Simulator::open(SimConfig {
        state_file: Some(path.clone()),
        ..SimConfig::default()
    })
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
}

/// A valid state file's text, for editing.
fn valid_text() -> String {
    let p = Profile::zk8();
    persist::to_text(&seed_state(&p, TextEncoding::Utf8, 1, 3, 2), &p)
}

/// Inserts `line` before the `end` line.
fn with_line(text: &str, line: &str) -> String {
    text.replace("\nend\n", &format!("\n{line}\nend\n"))
}

fn user_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("user ")).collect()
}

/// Loads `text` from a file and returns the error text and the 1-based line
/// of `bad` in it.
fn load_error(text: &str, bad: &str) -> (String, usize) {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("zk.state");
    std::fs::write(&path, text).unwrap();
    let e = Simulator::open(SimConfig {
        state_file: Some(path.clone()),
        ..SimConfig::default()
    })
    .unwrap_err();
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == bad)
        .map(|(i, _)| i + 1)
        .last()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "no path in {msg:?}"
    );
    assert!(
        msg.contains(&format!("line {line}:")),
        "{msg:?} (line {line})"
    );
    (msg, line)
}

#[test]
fn duplicate_and_inconsistent_records_are_load_errors_with_file_and_line() {
    let text = valid_text();
    let users = user_lines(&text);
    // The same record twice: same uid.
    let (msg, _) = load_error(&with_line(&text, users[1]), users[1]);
    assert!(msg.contains("duplicate user uid"), "{msg}");

    // Another uid but the same user id.
    let p = Profile::zk8();
    let mut s = seed_state(&p, TextEncoding::Utf8, 1, 3, 0);
    let mut twin = s.users[0].clone();
    twin.set_uid(900);
    s.users.push(twin);
    let dup_id = persist::to_text(&s, &p);
    let last = *user_lines(&dup_id).last().unwrap();
    let (msg, _) = load_error(&dup_id, last);
    assert!(msg.contains("duplicate user id"), "{msg}");

    // The same finger twice, and a template of nobody.
    let uid = s.users[0].uid();
    let t = format!("template {uid} 3 1 aabbcc");
    let (msg, _) = load_error(&with_line(&with_line(&text, &t), &t), &t);
    assert!(msg.contains("duplicate template"), "{msg}");
    let orphan = "template 4000 1 1 aabb";
    let (msg, _) = load_error(&with_line(&text, orphan), orphan);
    assert!(msg.contains("no user"), "{msg}");

    // An option given twice.
    let opt = text.lines().find(|l| l.starts_with("option ")).unwrap();
    let (msg, _) = load_error(&with_line(&text, opt), opt);
    assert!(msg.contains("given twice"), "{msg}");

    // A truncated file names its last line, not "line 0".
    let cut = text.trim_end().trim_end_matches("end").to_string();
    let last = cut.lines().last().unwrap().to_string();
    let (msg, line) = load_error(&cut, &last);
    assert!(line > 1 && msg.contains("truncated"), "{msg}");
}

#[test]
fn a_directory_as_state_file_is_an_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let e = Simulator::open(SimConfig {
        state_file: Some(root.path().to_path_buf()),
        ..SimConfig::default()
    })
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&root.path().display().to_string()), "{msg}");
    assert!(!msg.contains("Os {"), "{msg}");
}

// ------------------------------------------------------- zksim and zkctl

fn zksim_fails(args: &[&str]) -> Run {
    let child = Command::new(bin("zksim"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = Run::from(wait_with_deadline(child, Duration::from_secs(30)));
    assert_ne!(r.code, 0, "{r:?}");
    r
}

#[test]
fn zksim_refuses_a_bad_state_file_with_one_line_naming_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("zk.state");
    let text = valid_text();
    let users = user_lines(&text);
    let bad = with_line(&text, users[0]);
    std::fs::write(&path, &bad).unwrap();
    // The duplicate is the second occurrence.
    let line = bad
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == users[0])
        .map(|(i, _)| i + 1)
        .last()
        .unwrap();
    let r = zksim_fails(&["--tcp", "127.0.0.1:0", "--state", path.to_str().unwrap()]);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{r:?}");
    assert!(lines[0].starts_with("zksim: "), "{r:?}");
    assert!(lines[0].contains(path.to_str().unwrap()), "{r:?}");
    assert!(lines[0].contains(&format!("line {line}:")), "{r:?}");
    assert!(!lines[0].contains("Custom {"), "{r:?}");

    // A directory given as the state file.
    let r = zksim_fails(&[
        "--tcp",
        "127.0.0.1:0",
        "--state",
        root.path().to_str().unwrap(),
    ]);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{r:?}");
    assert!(lines[0].contains(root.path().to_str().unwrap()), "{r:?}");
    assert!(!lines[0].contains("Os {"), "{r:?}");
}

#[test]
fn zkctl_reports_a_set_pin_the_device_could_not_store() {
    let root = tempfile::tempdir().unwrap();
    let (dir, path) = state_in_subdir(root.path());
    let mut child = Command::new(bin("zksim"))
        .args(["--tcp", "127.0.0.1:0", "--users", "3", "--state"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("tcp="))
        .unwrap()
        .parse()
        .unwrap();
    let zkctl = |args: &[&str]| {
        let c = Command::new(bin("zkctl"))
            .arg("--device")
            .arg(addr.to_string())
            .args(args)
            .env_remove("ZKCTL_DEVICE")
            .env_remove("ZKCTL_COMM_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Run::from(wait_with_deadline(c, Duration::from_secs(60)))
    };
    let before = std::fs::read_to_string(&path).unwrap();
    let users = zkctl(&["--json", "users", "list"]).ok().json();
    let id = users[0]["user_id"].as_str().unwrap().to_string();

    break_dir(&dir);
    let r = zkctl(&["users", "set-pin", &id, "--pin", "2468"]).fails(1);
    assert!(
        r.stderr.contains("refused") && !r.stdout.contains("confirmed"),
        "{r:?}"
    );
    let shown = zkctl(&["--json", "users", "show", &id]).ok().json();
    assert_eq!(shown, users[0], "the refused PIN is not stored");

    repair_dir(&dir);
    zkctl(&["users", "set-pin", &id, "--pin", "2468"]).ok();
    let after = std::fs::read_to_string(&path).unwrap();
    assert_ne!(before, after, "the accepted PIN is in the state file");
    let _ = child.kill();
    let _ = child.wait();
}
