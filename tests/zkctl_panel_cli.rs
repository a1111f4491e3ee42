//! End-to-end tests of `zkctl` with C3/inBio access panels: the built
//! binary is run against `--device sim-c3` (in-process simulated panel) and
//! against a `zksim --kind c3` child process (`--device c3://ADDR`), and its
//! output, exit code and the panel's state (read back through zkctl) are
//! checked.
//!
//! As in `zkctl_cli.rs`, the example binaries are built once (same target
//! directory, profile and features) and found next to this test executable.
//! Every network address used is on 127.0.0.1.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{Run, bin, closed_port};

// ---------------------------------------------------------------- harness

impl Run {
    /// A `--json` failure: one JSON error object on stderr, with this exit
    /// code; returns the `error` object.
    #[track_caller]
    fn fails_json(self, code: i32) -> Value {
        assert_eq!(self.code, code, "wrong exit code: {self:#?}");
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}): {self:#?}"));
        let e = v["error"].clone();
        assert_eq!(e["exit_code"], code, "{v}");
        assert!(e["device"].is_string() && e["operation"].is_string(), "{v}");
        e
    }

    /// Neither stream contains `secret`.
    #[track_caller]
    fn never_shows(self, secret: &str) -> Run {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "{secret:?} was printed: {self:#?}"
        );
        self
    }
}

/// Runs zkctl with these arguments, optional stdin and extra environment.
fn zkctl_full(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    common::run_zkctl(args, stdin, env, Duration::from_secs(60))
}

fn zkctl(args: &[&str]) -> Run {
    zkctl_full(args, None, &[])
}

/// zkctl against the in-process simulated panel `spec` (`sim-c3`, …).
fn sim(spec: &str, args: &[&str]) -> Run {
    let mut all = vec!["--device", spec];
    all.extend_from_slice(args);
    zkctl(&all)
}

/// A `zksim` child process (killed on drop).
struct Zksim {
    child: Child,
    tcp: String,
    password: Option<String>,
}

impl Zksim {
    /// `zksim --tcp 127.0.0.1:0` plus `extra`; reads `listening tcp=ADDR udp=ADDR`.
    fn start(extra: &[&str]) -> Zksim {
        let mut child = Command::new(bin("zksim"))
            .args(["--tcp", "127.0.0.1:0"])
            .args(extra)
            .env_remove("ZKSIM_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn zksim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let tcp = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("tcp="))
            .filter(|a| *a != "-")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        let password = extra
            .windows(2)
            .find(|w| w[0] == "--password")
            .map(|w| w[1].to_string());
        Zksim {
            child,
            tcp,
            password,
        }
    }

    /// A C3 panel simulator.
    fn c3(extra: &[&str]) -> Zksim {
        let mut args = vec!["--kind", "c3"];
        args.extend_from_slice(extra);
        Zksim::start(&args)
    }

    fn device(&self) -> String {
        format!("c3://{}", self.tcp)
    }

    /// zkctl against this panel, the password (if any) in ZKCTL_PASSWORD.
    fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let dev = self.device();
        let mut all = vec!["--device", dev.as_str(), "--timeout", "3"];
        all.extend_from_slice(args);
        let env: Vec<(&str, &str)> = self
            .password
            .as_deref()
            .map(|p| ("ZKCTL_PASSWORD", p))
            .into_iter()
            .collect();
        zkctl_full(&all, stdin, &env)
    }

    fn user(&self, id: &str) -> Run {
        self.run(&["--json", "users", "show", id])
    }
}

impl Drop for Zksim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn door(status: &Value, n: u64) -> &Value {
    status["doors"]
        .as_array()
        .expect("doors array")
        .iter()
        .find(|d| d["door"] == n)
        .unwrap_or_else(|| panic!("no door {n} in {status}"))
}

const USER_KEYS: &[&str] = &[
    "user_id",
    "name",
    "card",
    "group",
    "start_date",
    "end_date",
    "super_user",
    "uid",
    "has_pin",
];

#[track_caller]
fn assert_user_object(u: &Value) {
    let obj = u
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {u}"));
    for k in USER_KEYS {
        assert!(obj.contains_key(*k), "missing {k} in {u}");
    }
    assert!(!obj.keys().any(|k| k.contains("pass") || k == "pin"), "{u}");
}

// ---------------------------------------------------------------- --device sim-c3

#[test]
fn sim_c3_info_text_and_json() {
    let r = sim("sim-c3", &["info"]).ok();
    for want in [
        "C3/inBio",
        "C3-400",
        "doors:       4",
        "users:       8",
        "records:     50",
    ] {
        assert!(r.stdout.contains(want), "{want:?} missing: {}", r.stdout);
    }
    let v = sim("sim-c3", &["--json", "info"]).ok().json();
    assert_eq!(v["kind"], "c3");
    assert_eq!(v["device"], "sim-c3:4");
    assert_eq!(v["doors"], 4);
    assert_eq!(v["users"], 8);
    assert_eq!(v["transactions"], 50);
    assert_eq!(v["session_connect"], true);
    assert!(v["serial"].is_string() && v["firmware"].is_string(), "{v}");
    let old = sim("sim-c3:2:old", &["--json", "info"]).ok().json();
    assert_eq!(old["doors"], 2);
    assert_eq!(old["session_connect"], false);
    assert_eq!(old["device"], "sim-c3:2:old");
}

#[test]
fn sim_c3_users_list_and_show_never_print_pins() {
    let r = sim("sim-c3", &["users", "list"]).ok();
    let header = r.stdout.lines().next().expect("header");
    for col in ["USER ID", "NAME", "CARD", "PIN"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(r.stdout.contains("8 user(s)"), "{}", r.stdout);
    let list = sim("sim-c3", &["--json", "users", "list"]).ok().json();
    let users = list.as_array().expect("array");
    assert_eq!(users.len(), 8);
    for u in users {
        assert_user_object(u);
    }
    // The demo panel gives every other user a PIN code.
    let with_pin = users.iter().filter(|u| u["has_pin"] == true).count();
    assert!(with_pin > 0 && with_pin < users.len(), "{list}");
    let first = users[0]["user_id"].as_str().expect("user id");
    let one = sim("sim-c3", &["--json", "users", "show", first])
        .ok()
        .json();
    assert_eq!(one, users[0]);
    let text = sim("sim-c3", &["users", "show", first]).ok();
    assert!(
        text.stdout.contains(&format!("user id:   {first}")),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("pin:       set"), "{}", text.stdout);
    // The demo PIN codes are 1000, 1002, …: never printed.
    for r in [text, sim("sim-c3", &["users", "list"]).ok()] {
        assert!(
            !r.stdout.contains("1000 ") && !r.stdout.contains(" 1000"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn sim_c3_users_add_set_pin_delete() {
    let add = sim(
        "sim-c3",
        &[
            "--json", "users", "add", "4242", "--name", "Ana", "--pin", "2468", "--card", "777",
            "--admin",
        ],
    )
    .ok()
    .never_shows("2468");
    let u = add.json();
    assert_user_object(&u);
    assert_eq!(u["user_id"], "4242");
    assert_eq!(u["name"], "Ana");
    assert_eq!(u["card"], 777);
    assert_eq!(u["super_user"], true);
    assert_eq!(u["has_pin"], true);
    // No stdin given: an empty line is an empty PIN (usage).
    let e = sim(
        "sim-c3",
        &["--json", "users", "set-pin", "1002", "--pin-stdin"],
    )
    .fails_json(2);
    assert_eq!(e["kind"], "usage");
    let set = zkctl_full(
        &[
            "--device",
            "sim-c3",
            "--json",
            "users",
            "set-pin",
            "1002",
            "--pin-stdin",
        ],
        Some("13579\n"),
        &[],
    )
    .ok()
    .never_shows("13579");
    let v = set.json();
    assert_eq!(v["user_id"], "1002");
    assert_eq!(v["has_pin"], true);
    assert_eq!(v["verified"], true);
    let text = zkctl_full(
        &["--device", "sim-c3", "users", "set-pin", "1002"],
        Some("97531\n"),
        &[],
    )
    .ok()
    .never_shows("97531");
    assert!(text.stdout.contains("confirmed"), "{}", text.stdout);
    let del = sim("sim-c3", &["--json", "users", "delete", "1001", "--yes"])
        .ok()
        .json();
    assert_eq!(del["deleted"], true);
    assert_eq!(del["user_id"], "1001");
    let clear = sim("sim-c3", &["--json", "users", "clear-pin", "1001"])
        .ok()
        .json();
    assert_eq!(clear["has_pin"], false);
}

#[test]
fn sim_c3_bad_input() {
    // Unknown user: the panel has no such user (exit 1).
    let r = sim("sim-c3", &["users", "show", "999"]).fails(1);
    assert!(
        r.stderr.contains("sim-c3:4: users show 999:"),
        "{}",
        r.stderr
    );
    sim("sim-c3", &["users", "set-pin", "999", "--pin", "12"]).fails(1);
    sim("sim-c3", &["users", "delete", "999", "--yes"]).fails(1);
    // Adding an existing user id is refused (exit 1).
    sim("sim-c3", &["users", "add", "1001", "--pin", "12"]).fails(1);
    // PIN with letters, too long, user id not a number: usage (exit 2).
    let r = sim("sim-c3", &["users", "set-pin", "1001", "--pin", "12ab"])
        .fails(2)
        .never_shows("12ab");
    assert!(r.stderr.contains("digits"), "{}", r.stderr);
    sim(
        "sim-c3",
        &["users", "set-pin", "1001", "--pin", "123456789"],
    )
    .fails(2);
    sim("sim-c3", &["users", "show", "abc"]).fails(2);
    sim("sim-c3", &["users", "show", "0"]).fails(2);
    sim("sim-c3", &["users", "delete", "1001"]).fails(2);
    // Doors and durations out of range.
    sim("sim-c3", &["door", "unlock", "--door", "5"]).fails(2);
    sim("sim-c3:2", &["door", "unlock", "--door", "3"]).fails(2);
    sim("sim-c3", &["door", "unlock", "--seconds", "0"]).fails(2);
    sim("sim-c3", &["door", "unlock", "--seconds", "255"]).fails(2);
    sim("sim-c3", &["time", "set", "2024-13-01T00:00:00"]).fails(2);
    sim("sim-c3:3", &["info"]).fails(2);
    // The JSON error names kind, device and operation.
    let e = sim("sim-c3", &["--json", "users", "show", "999"]).fails_json(1);
    assert_eq!(e["kind"], "refused");
    assert_eq!(e["device"], "sim-c3:4");
    assert_eq!(e["operation"], "users show 999");
}

#[test]
fn sim_c3_terminal_only_commands_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.json");
    let f = file.to_str().expect("path");
    for args in [
        vec!["backup", f],
        vec!["restore", f],
        vec!["attendance", "clear", "--yes"],
        vec!["--udp", "info"],
    ] {
        let r = sim("sim-c3", &args).fails(2);
        if args[0] != "--udp" {
            assert!(r.stderr.contains("C3/inBio"), "{}", r.stderr);
        }
    }
    assert!(!file.exists(), "nothing may be written");
}

#[test]
fn sim_c3_door_status_and_unlock() {
    let r = sim("sim-c3", &["door", "status"]).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    for (i, l) in lines.iter().enumerate() {
        assert!(
            l.starts_with(&format!("door {}: sensor closed, lock locked", i + 1)),
            "{l}"
        );
    }
    let v = sim("sim-c3:2", &["--json", "door", "status"]).ok().json();
    let doors = v["doors"].as_array().expect("doors");
    assert_eq!(doors.len(), 2);
    for d in doors {
        assert_eq!(d["sensor"], "closed");
        assert_eq!(d["relay"], "locked");
        assert_eq!(d["alarm"], false);
        assert_eq!(d["open_timeout"], false);
        assert_eq!(d["alarm_flags"], 0);
    }
    // Old firmware reports no relay byte.
    let old = sim("sim-c3:old", &["--json", "door", "status"]).ok().json();
    assert_eq!(door(&old, 1)["relay"], "unknown");
    let u = sim(
        "sim-c3",
        &["--json", "door", "unlock", "--door", "3", "--seconds", "9"],
    )
    .ok()
    .json();
    assert_eq!(u["door"], 3);
    assert_eq!(u["unlocked"], true);
    assert_eq!(u["seconds"], 9);
    assert_eq!(u["relay"], "released");
    let t = sim("sim-c3", &["door", "unlock"]).ok();
    assert!(
        t.stdout.contains("door 1 unlocked for 3 s (lock released)"),
        "{}",
        t.stdout
    );
}

#[test]
fn sim_c3_events_include_status_changes() {
    let r = sim("sim-c3", &["--json", "events", "--count", "6"]).ok();
    let items: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(items.len(), 6, "{}", r.stdout);
    // The first status is always reported.
    assert_eq!(items[0]["type"], "status");
    assert_eq!(items[0]["doors"].as_array().expect("doors").len(), 4);
    let events: Vec<&Value> = items.iter().filter(|i| i["type"] == "event").collect();
    assert!(!events.is_empty(), "{}", r.stdout);
    for e in &events {
        for k in [
            "time",
            "door",
            "event",
            "event_name",
            "user_id",
            "card",
            "verify",
            "verify_name",
            "in_out",
        ] {
            assert!(e.get(k).is_some(), "missing {k} in {e}");
        }
    }
    // The simulated badge grants access: a punch, then the relay released.
    assert_eq!(events[0]["event"], 0, "{}", r.stdout);
    assert_eq!(events[0]["door"], 1);
    assert!(
        items
            .iter()
            .any(|i| i["type"] == "status" && door(i, 1)["relay"] == "released"),
        "{}",
        r.stdout
    );
    let text = sim("sim-c3:1", &["events", "--count", "3"]).ok();
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", text.stdout);
    assert!(
        lines[0].contains("status  door 1: sensor closed"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("normal punch open"), "{}", text.stdout);
}

#[test]
fn sim_c3_time_and_attendance() {
    let t = sim("sim-c3", &["--json", "time", "get"]).ok().json();
    let now = t["time"].as_str().expect("time");
    assert_eq!(now.len(), 19, "{now}");
    assert_eq!(&now[10..11], "T");
    let set = sim("sim-c3", &["--json", "time", "set", "2030-02-03T04:05:06"])
        .ok()
        .json();
    assert_eq!(set["requested"], "2030-02-03T04:05:06");
    assert!(
        set["time"]
            .as_str()
            .expect("time")
            .starts_with("2030-02-03T04:05:0"),
        "{set}"
    );
    assert_eq!(set["previous"].as_str().map(str::len), Some(19));

    let all = sim("sim-c3", &["--json", "attendance"]).ok().json();
    let all = all.as_array().expect("array");
    assert_eq!(all.len(), 50);
    for rec in all {
        for k in [
            "time",
            "door",
            "event",
            "event_name",
            "user_id",
            "card",
            "verify",
            "in_out",
        ] {
            assert!(rec.get(k).is_some(), "missing {k} in {rec}");
        }
    }
    // Demo records are 10 minutes apart ending before 2024-06-01 09:00.
    let since = sim(
        "sim-c3",
        &["--json", "attendance", "--since", "2024-06-01T08:00:00"],
    )
    .ok()
    .json();
    let since = since.as_array().expect("array");
    assert!(
        !since.is_empty() && since.len() < all.len(),
        "{}",
        since.len()
    );
    assert!(
        since
            .iter()
            .all(|r| r["time"].as_str().unwrap() >= "2024-06-01T08:00:00")
    );
    let csv = sim("sim-c3", &["attendance", "--csv"]).ok();
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("time,user_id,card,door,event,verify,in_out")
    );
    assert_eq!(lines.count(), 50);
    let text = sim("sim-c3", &["attendance"]).ok();
    assert!(text.stdout.ends_with("50 record(s)\n"), "{}", text.stdout);
    sim("sim-c3", &["--json", "attendance", "--csv"]).fails_json(2);
}

// ---------------------------------------------------------------- zksim --kind c3

#[test]
fn zksim_c3_users_round_trip_through_the_panel() {
    let panel = Zksim::c3(&["--doors", "2", "--password", "8877", "--users", "3"]);
    let list = panel.run(&["--json", "users", "list"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    panel
        .run(&["users", "add", "42", "--name", "Ana", "--card", "5150"])
        .ok();
    let u = panel.user("42").ok().json();
    assert_user_object(&u);
    assert_eq!(
        (u["name"].as_str(), u["card"].as_u64()),
        (Some("Ana"), Some(5150))
    );
    assert_eq!(u["has_pin"], false);

    let set = panel
        .run_stdin(
            &["--json", "users", "set-pin", "42", "--pin-stdin"],
            Some("24680\n"),
        )
        .ok()
        .never_shows("24680")
        .json();
    assert_eq!(set["verified"], true);
    let u = panel.user("42").ok().never_shows("24680").json();
    assert_eq!(u["has_pin"], true);
    assert_eq!(u["name"], "Ana", "set-pin changes nothing else");
    assert_eq!(u["card"], 5150);

    let cleared = panel
        .run(&["--json", "users", "clear-pin", "42"])
        .ok()
        .json();
    assert_eq!(cleared["has_pin"], false);
    assert_eq!(panel.user("42").ok().json()["has_pin"], false);

    panel.run(&["users", "add", "42", "--pin", "1"]).fails(1);
    panel.run(&["users", "delete", "42", "--yes"]).ok();
    assert_eq!(panel.user("42").fails_json(1)["kind"], "refused");
    panel
        .run(&["users", "set-pin", "42", "--pin", "11"])
        .fails(1);
    panel
        .run(&["users", "set-pin", "1001", "--pin", "1x"])
        .fails(2);
    let list = panel.run(&["--json", "users", "list"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(3));
}

#[test]
fn zksim_c3_door_unlock_then_status_shows_the_relay_released() {
    let panel = Zksim::c3(&["--doors", "2"]);
    let before = panel.run(&["--json", "door", "status"]).ok().json();
    assert_eq!(before["doors"].as_array().map(Vec::len), Some(2));
    assert_eq!(door(&before, 2)["relay"], "locked");
    panel
        .run(&["door", "unlock", "--door", "2", "--seconds", "30"])
        .ok();
    let after = panel.run(&["--json", "door", "status"]).ok().json();
    assert_eq!(door(&after, 2)["relay"], "released", "{after}");
    assert_eq!(door(&after, 1)["relay"], "locked", "{after}");
    let text = panel.run(&["door", "status"]).ok();
    assert!(
        text.stdout.contains("door 2: sensor closed, lock released"),
        "{}",
        text.stdout
    );
    panel.run(&["door", "unlock", "--door", "3"]).fails(2);
}

#[test]
fn zksim_c3_info_time_attendance_events() {
    let panel = Zksim::c3(&["--users", "4", "--attendance", "12"]);
    let info = panel.run(&["--json", "info"]).ok().json();
    assert_eq!(info["device"], panel.device());
    assert_eq!(info["users"], 4);
    assert_eq!(info["transactions"], 12);
    panel.run(&["time", "set", "2031-07-08T09:10:11"]).ok();
    let t = panel.run(&["--json", "time", "get"]).ok().json();
    assert!(
        t["time"]
            .as_str()
            .expect("time")
            .starts_with("2031-07-08T09:1"),
        "{t}"
    );
    let recs = panel.run(&["--json", "attendance"]).ok().json();
    assert_eq!(recs.as_array().map(Vec::len), Some(12));
    let ev = panel.run(&["--json", "events", "--count", "1"]).ok();
    let first: Value =
        serde_json::from_str(ev.stdout.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["type"], "status");
    assert_eq!(first["doors"].as_array().map(Vec::len), Some(4));
}

#[test]
fn zksim_c3_old_firmware() {
    let panel = Zksim::c3(&["--doors", "1", "--old-firmware", "--users", "2"]);
    let info = panel.run(&["--json", "info"]).ok().json();
    assert_eq!(info["session_connect"], false);
    assert_eq!(info["doors"], 1);
    // Old firmware has no Name field.
    panel.run(&["users", "add", "7", "--name", "Bob"]).fails(2);
    panel
        .run(&["users", "add", "7", "--pin", "123"])
        .ok()
        .never_shows("123");
    assert_eq!(panel.user("7").ok().json()["has_pin"], true);
    let st = panel.run(&["--json", "door", "status"]).ok().json();
    assert_eq!(st["doors"].as_array().map(Vec::len), Some(1));
    assert_eq!(door(&st, 1)["relay"], "unknown");
}

#[test]
fn zksim_c3_password_errors() {
    let panel = Zksim::c3(&["--password", "8877"]);
    let dev = panel.device();
    // Wrong password, by flag or environment: the panel says no (exit 1).
    let r = zkctl(&["--device", &dev, "--password", "1111", "info"])
        .fails(1)
        .never_shows("1111")
        .never_shows("8877");
    assert!(r.stderr.contains("wrong password?"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("{dev}: info:")), "{}", r.stderr);
    zkctl_full(
        &["--device", &dev, "users", "list"],
        None,
        &[("ZKCTL_PASSWORD", "1")],
    )
    .fails(1);
    let r = zkctl(&["--device", &dev, "info"]).fails(1);
    assert!(r.stderr.contains("--password"), "{}", r.stderr);
    // The right one by flag works and is not echoed.
    zkctl(&["--device", &dev, "--password", "8877", "info"])
        .ok()
        .never_shows("8877");
}

#[test]
fn network_errors_and_wrong_device_kind() {
    let port = closed_port().to_string();
    let dev = format!("c3://127.0.0.1:{port}");
    let r = zkctl(&["--device", &dev, "--timeout", "2", "info"]).fails(3);
    assert!(r.stderr.contains(&format!("{dev}: info:")), "{}", r.stderr);
    let e = zkctl(&["--device", &dev, "--json", "door", "status"]).fails_json(3);
    assert_eq!(e["kind"], "network");

    // A terminal addressed as a panel: drop c3://.
    let terminal = Zksim::start(&[]);
    let r = zkctl(&[
        "--device",
        &format!("c3://{}", terminal.tcp),
        "--timeout",
        "3",
        "info",
    ])
    .fails(3);
    assert!(r.stderr.contains("drop c3://"), "{}", r.stderr);
    // A panel addressed as a terminal: use c3://.
    let panel = Zksim::c3(&[]);
    let r = zkctl(&["--device", &panel.tcp, "--timeout", "3", "info"]).fails(3);
    assert!(r.stderr.contains("c3://"), "{}", r.stderr);
    zkctl(&["--device", "c3://", "info"]).fails(2);
}

// ---------------------------------------------------------------- hostile panel text

/// Neither stream holds a control character (other than the newlines
/// between lines), a bidi control, or a forged row.
#[track_caller]
fn inert(r: &Run, what: &str) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && c != '\\' && zkproto::text::needs_escape(c))
            .collect();
        assert!(bad.is_empty(), "{what}: raw {bad:?} on {stream}: {r:#?}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("FAKE")),
            "{what}: forged row on {stream}: {r:#?}"
        );
    }
}

#[test]
fn hostile_panel_text_is_escaped_in_human_output() {
    use zkproto::panel::sim::{SimConfig, Simulator};
    use zkproto::panel::table::UserRow;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = Simulator::new(SimConfig {
        users: 0,
        transactions: 0,
        ..SimConfig::default()
    });
    let names = [
        "\x1b]0;pwned\x07\x1b[2JEve",
        "Bo\r\nFAKE 9999 admin",
        "\u{9b}1A\u{202e}Cy",
    ];
    for (i, name) in names.iter().enumerate() {
        let pin = u32::try_from(i + 1).expect("pin");
        assert!(sim.put_user(UserRow {
            pin,
            name: (*name).to_string(),
            ..UserRow::default()
        }));
    }
    sim.set_param("~SerialNumber", "SN\x1b[2J");
    sim.set_param("~DeviceName", "C3\u{202e}-400\r\nFAKE model");
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = rt
        .block_on(sim.serve(Some(any), None, None))
        .expect("serve");
    let dev = format!("c3://{}", server.tcp_addr().expect("tcp"));
    let run = |args: &[&str]| {
        let mut all = vec!["--device", dev.as_str(), "--timeout", "3"];
        all.extend_from_slice(args);
        zkctl(&all)
    };

    let list = run(&["users", "list"]).ok();
    inert(&list, "users list");
    assert!(
        list.stdout.contains(r"\x1b]0;pwned\x07\x1b[2JEve"),
        "{list:#?}"
    );
    assert!(list.stdout.contains(r"Bo\r\nFAKE 9999 admin"), "{list:#?}");
    assert!(list.stdout.contains(r"\u{9b}1A\u{202e}Cy"), "{list:#?}");
    assert_eq!(list.stdout.lines().count(), 1 + 3 + 1, "{list:#?}");
    let json = run(&["--json", "users", "list"]).ok().json();
    assert_eq!(json[1]["name"], names[1], "JSON keeps the exact text");
    for pin in ["1", "2", "3"] {
        inert(&run(&["users", "show", pin]).ok(), "users show");
    }
    let info = run(&["info"]).ok();
    inert(&info, "info");
    assert!(info.stdout.contains(r"SN\x1b[2J"), "{info:#?}");
    assert!(
        info.stdout.contains(r"C3\u{202e}-400\r\nFAKE model"),
        "{info:#?}"
    );
    inert(
        &run(&["users", "delete", "2", "--yes"]).ok(),
        "users delete",
    );
    rt.block_on(server.shutdown());
}
