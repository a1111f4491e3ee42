//! End-to-end tests of the `zkctl` example: the built binary is run against
//! `--device sim` (in-process simulator) and against a `zksim` child
//! process listening on 127.0.0.1 ports, and its output, exit code and the
//! simulator's state are checked.
//!
//! Examples have no `CARGO_BIN_EXE_*` variable, so the binaries are found
//! next to this test executable (`target/<profile>/examples/`). Before the
//! first test, `cargo build --example zkctl --example zksim --features
//! client,simulator[,…]` (the features of this test build) is run with the
//! same target directory and profile (a no-op when they are up to date), so
//! `cargo test --test zkctl_cli --features simulator` works on a clean tree.
//!
//! Every network address used is on 127.0.0.1.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{Run, bin, closed_port, run_zkctl};

// ---------------------------------------------------------------- harness

fn zkctl(args: &[&str]) -> Run {
    zkctl_stdin(args, None)
}

fn zkctl_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    run_zkctl(args, stdin, &[], Duration::from_secs(60))
}

/// A `zksim` child process on 127.0.0.1 (killed on drop).
struct Sim {
    child: Child,
    tcp: Option<String>,
    udp: Option<String>,
}

impl Sim {
    /// Starts `zksim` with extra arguments and reads its first line,
    /// `listening tcp=ADDR udp=ADDR`.
    fn start(extra: &[&str]) -> Sim {
        Self::spawn(
            bin("zksim"),
            &["--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"],
            extra,
        )
    }

    /// Starts `zkctl sim` (the same simulator behind the tool's own command).
    fn start_zkctl(extra: &[&str]) -> Sim {
        Self::spawn(bin("zkctl"), &["sim", "--bind", "127.0.0.1:0"], extra)
    }

    fn spawn(program: PathBuf, base: &[&str], extra: &[&str]) -> Sim {
        let mut child = Command::new(&program)
            .args(base)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .filter(|a| *a != "none" && *a != "-" && !a.is_empty())
                .map(str::to_string)
        };
        let sim = Sim {
            tcp: field("tcp="),
            udp: field("udp="),
            child,
        };
        assert!(
            line.starts_with("listening") && (sim.tcp.is_some() || sim.udp.is_some()),
            "unexpected first line {line:?}"
        );
        sim
    }

    /// `--device ADDR` arguments for this simulator (TCP when it has it).
    fn device(&self) -> String {
        self.tcp
            .clone()
            .or_else(|| self.udp.clone())
            .expect("an address")
    }

    /// Runs zkctl against this simulator.
    fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let dev = self.device();
        let mut all = vec!["--device", dev.as_str(), "--timeout", "3"];
        if self.tcp.is_none() {
            all.push("--udp");
        }
        all.extend_from_slice(args);
        zkctl_stdin(&all, stdin)
    }

    /// Users as JSON (through zkctl).
    fn users(&self, extra: &[&str]) -> Value {
        let mut args = extra.to_vec();
        args.extend(["--json", "users", "list"]);
        self.run(&args).ok().json()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read file")).expect("JSON file")
}

fn user_by_id<'a>(users: &'a Value, id: &str) -> Option<&'a Value> {
    users.as_array()?.iter().find(|u| u["user_id"] == id)
}

// ---------------------------------------------------------------- --device sim

#[test]
fn sim_users_list_is_a_table_without_pins() {
    let r = zkctl(&["--device", "sim", "users", "list"]).ok();
    let mut lines = r.stdout.lines();
    let header = lines.next().expect("header");
    for col in ["UID", "USER ID", "NAME", "PIN"] {
        assert!(header.contains(col), "{header}");
    }
    let json = zkctl(&["--device", "sim", "--json", "users", "list"])
        .ok()
        .json();
    let users = json.as_array().expect("array");
    assert!(!users.is_empty(), "the demo simulator has users");
    assert!(
        r.stdout.contains(&format!("{} user(s)", users.len())),
        "{}",
        r.stdout
    );
    for u in users {
        let keys: Vec<&String> = u.as_object().expect("object").keys().collect();
        for k in [
            "uid",
            "user_id",
            "name",
            "privilege",
            "role",
            "enabled",
            "card",
            "group",
            "timezones",
            "has_pin",
        ] {
            assert!(u.get(k).is_some(), "missing {k} in {u}");
        }
        assert!(
            !keys.iter().any(|k| k.contains("pass") || *k == "pin"),
            "{u}"
        );
        assert!(
            r.stdout.contains(u["name"].as_str().unwrap_or("?")),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn sim_zk6_uses_28_byte_records_over_udp() {
    let info = zkctl(&["--device", "sim:zk6", "--json", "info"])
        .ok()
        .json();
    assert_eq!(info["user_layout"], "28");
    let users = zkctl(&["--device", "sim:zk6", "--json", "users", "list"])
        .ok()
        .json();
    for u in users.as_array().expect("array") {
        let id = u["user_id"].as_str().expect("id");
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
    }
    zkctl(&["--device", "sim:zk6", "--tcp", "users", "list"]).fails(2);
}

#[test]
fn sim_info_reports_identity_and_counts() {
    let j = zkctl(&["--device", "sim", "--json", "info"]).ok().json();
    for k in ["serial", "platform", "firmware", "time"] {
        assert!(j[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {j}");
    }
    assert_eq!(j["user_layout"], "72");
    let users = zkctl(&["--device", "sim", "--json", "users", "list"])
        .ok()
        .json();
    assert_eq!(
        j["users"]["used"].as_u64(),
        Some(users.as_array().map_or(0, |a| a.len() as u64))
    );
    assert!(j["users"]["capacity"].as_u64() > j["users"]["used"].as_u64());
    let text = zkctl(&["--device", "sim", "info"]).ok().stdout;
    assert!(
        text.contains(j["serial"].as_str().expect("serial")),
        "{text}"
    );
}

#[test]
fn sim_attendance_formats_and_since() {
    let all = zkctl(&["--device", "sim", "--json", "attendance"])
        .ok()
        .json();
    let all = all.as_array().expect("array").clone();
    assert!(all.len() >= 10, "demo attendance: {}", all.len());
    let csv = zkctl(&["--device", "sim", "attendance", "--csv"])
        .ok()
        .stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("time,user_id,uid,verify,state,work_code")
    );
    assert_eq!(lines.count(), all.len());
    // --since keeps exactly the records at or after the median time.
    let mut times: Vec<&str> = all
        .iter()
        .map(|a| a["time"].as_str().expect("time"))
        .collect();
    times.sort_unstable();
    let mid = times[times.len() / 2];
    let expected = times.iter().filter(|t| **t >= mid).count();
    let since = zkctl(&["--device", "sim", "--json", "attendance", "--since", mid])
        .ok()
        .json();
    assert_eq!(since.as_array().map(Vec::len), Some(expected));
    // --out writes the file, stdout stays empty.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("att.csv");
    let r = zkctl(&[
        "--device",
        "sim",
        "attendance",
        "--csv",
        "--out",
        out.to_str().expect("path"),
    ])
    .ok();
    assert!(r.stdout.is_empty(), "{r:?}");
    assert_eq!(std::fs::read_to_string(&out).expect("csv file"), csv);
    zkctl(&["--device", "sim", "attendance", "--since", "yesterday"]).fails(2);
    let r = zkctl(&["--device", "sim", "--json", "attendance", "--csv"]);
    assert_eq!(r.code, 2, "{r:?}");
    let err: Value = serde_json::from_str(r.stderr.trim()).expect("JSON error on stderr");
    assert_eq!(err["error"]["kind"], "usage");
}

#[test]
fn sim_door_and_time() {
    let r = zkctl(&[
        "--device",
        "sim",
        "--json",
        "door",
        "unlock",
        "--seconds",
        "2",
    ])
    .ok()
    .json();
    assert_eq!(r["unlocked"], true);
    let s = zkctl(&["--device", "sim", "--json", "door", "status"])
        .ok()
        .json();
    assert!(
        ["open", "closed", "unknown"].contains(&s["door"].as_str().unwrap_or("?")),
        "{s}"
    );
    let t = zkctl(&[
        "--device",
        "sim",
        "--json",
        "time",
        "set",
        "2031-02-03T04:05:06",
    ])
    .ok()
    .json();
    assert!(
        t["time"]
            .as_str()
            .is_some_and(|x| x.starts_with("2031-02-03T04:05")),
        "{t}"
    );
    let g = zkctl(&["--device", "sim", "time", "get"]).ok().stdout;
    assert_eq!(g.trim().len(), "2031-02-03T04:05:06".len(), "{g}");
    zkctl(&["--device", "sim", "time", "set", "2031-02-30T00:00:00"]).fails(2);
    zkctl(&["--device", "sim", "door", "unlock", "--seconds", "0"]).fails(2);
}

#[test]
fn sim_events_prints_live_punches() {
    let r = zkctl(&["--device", "sim", "--json", "events", "--count", "2"]).ok();
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{r:?}");
    assert!(lines.iter().all(|e| e["type"].is_string()), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|e| e["type"] == "attendance" || e["type"] == "verify"),
        "{lines:?}"
    );
    let text = zkctl(&["--device", "sim", "events", "--count", "1"])
        .ok()
        .stdout;
    assert_eq!(text.lines().count(), 1, "{text}");
}

// ---------------------------------------------------------------- usage and network errors

#[test]
fn usage_errors_exit_2() {
    zkctl(&["users", "list"]).fails(2);
    zkctl(&["--device", "sim", "--encoding", "klingon", "users", "list"]).fails(2);
    zkctl(&["--device", "sim:nope", "users", "list"]).fails(2);
    let r = zkctl(&["--device", "sim", "frobnicate"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn unreachable_host_exits_3_with_advice() {
    let port = closed_port().to_string();
    let dev = format!("127.0.0.1:{port}");
    let start = Instant::now();
    let r = zkctl(&["--device", &dev, "--timeout", "1", "users", "list"]).fails(3);
    assert!(r.stderr.contains(&dev), "{r:?}");
    assert!(r.stderr.contains("users list"), "{r:?}");
    assert!(start.elapsed() < Duration::from_secs(30));
    let r = zkctl(&[
        "--device",
        &dev,
        "--tcp",
        "--timeout",
        "1",
        "--json",
        "info",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    let err: Value = serde_json::from_str(r.stderr.trim()).expect("JSON error on stderr");
    assert_eq!(err["error"]["kind"], "network");
    assert_eq!(err["error"]["exit_code"], 3);
}

// ---------------------------------------------------------------- against zksim

#[test]
fn zksim_user_lifecycle() {
    let sim = Sim::start(&["--users", "3"]);
    let before = sim.users(&[]);
    assert_eq!(before.as_array().map(Vec::len), Some(3));

    // add
    let added = sim
        .run(&[
            "--json",
            "users",
            "add",
            "4242",
            "--name",
            "Zoë Test",
            "--pin",
            "2468",
            "--card",
            "777",
        ])
        .ok()
        .json();
    assert_eq!(added["user_id"], "4242");
    assert_eq!(added["name"], "Zoë Test");
    assert_eq!(added["card"], 777);
    assert_eq!(added["has_pin"], true);
    sim.run(&["users", "add", "4242", "--name", "Again"])
        .fails(1);

    // show
    let shown = sim.run(&["--json", "users", "show", "4242"]).ok().json();
    assert_eq!(shown, added);
    let text = sim.run(&["users", "show", "4242"]).ok().stdout;
    assert!(
        text.contains("Zoë Test") && !text.contains("2468"),
        "{text}"
    );

    // set-pin from stdin, then check the PIN itself through a backup
    let r = sim
        .run_stdin(
            &["users", "set-pin", "4242", "--pin-stdin"],
            Some("97531\n"),
        )
        .ok();
    assert!(
        !r.stdout.contains("97531") && !r.stderr.contains("97531"),
        "PIN echoed: {r:?}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.json");
    sim.run(&["backup", file.to_str().expect("path")]).ok();
    let b = read_json(&file);
    assert_eq!(
        user_by_id(&b["users"], "4242").expect("in backup")["password"],
        "97531"
    );
    // stdin without --pin-stdin (not a terminal) is read too
    sim.run_stdin(&["users", "set-pin", "4242"], Some("1357\n"))
        .ok();
    sim.run(&["backup", file.to_str().expect("path")]).ok();
    assert_eq!(
        user_by_id(&read_json(&file)["users"], "4242").expect("user")["password"],
        "1357"
    );

    // clear-pin
    let c = sim
        .run(&["--json", "users", "clear-pin", "4242"])
        .ok()
        .json();
    assert_eq!(c["has_pin"], false);
    assert_eq!(
        sim.run(&["--json", "users", "show", "4242"]).ok().json()["has_pin"],
        false
    );

    // admin flag
    let adm = sim
        .run(&["--json", "users", "add", "77", "--name", "Boss", "--admin"])
        .ok()
        .json();
    assert_eq!(adm["role"], "admin");

    // delete needs --yes without a terminal
    sim.run(&["users", "delete", "4242"]).fails(2);
    assert!(user_by_id(&sim.users(&[]), "4242").is_some());
    let d = sim
        .run(&["--json", "users", "delete", "4242", "--yes"])
        .ok()
        .json();
    assert_eq!(d["deleted"], true);
    assert!(user_by_id(&sim.users(&[]), "4242").is_none());
    sim.run(&["users", "show", "4242"]).fails(1);
}

#[test]
fn zksim_bad_input_changes_nothing() {
    let sim = Sim::start(&["--users", "4"]);
    let before = sim.users(&[]);
    let some_id = before[0]["user_id"].as_str().expect("id").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = dir.path().join("before.json");
    sim.run(&["backup", snapshot.to_str().expect("path")]).ok();

    // unknown user id
    for args in [
        vec!["users", "show", "999999"],
        vec!["users", "set-pin", "999999", "--pin", "1234"],
        vec!["users", "clear-pin", "999999"],
        vec!["users", "delete", "999999", "--yes"],
    ] {
        let r = sim.run(&args).fails(1);
        assert!(
            r.stderr.contains("999999") && r.stderr.contains("no user"),
            "{r:?}"
        );
    }
    // PIN with letters: refused locally, never echoed
    let r = sim
        .run(&["users", "set-pin", &some_id, "--pin", "12ab"])
        .fails(2);
    assert!(!r.stderr.contains("12ab"), "{r:?}");
    sim.run_stdin(&["users", "set-pin", &some_id, "--pin-stdin"], Some("x9\n"))
        .fails(2);
    // PIN too long for the 72-byte layout (8 digits)
    let r = sim
        .run(&["users", "set-pin", &some_id, "--pin", "123456789"])
        .fails(2);
    assert!(r.stderr.contains('8'), "{r:?}");
    sim.run(&["users", "add", "5001", "--name", "A", "--pin", "123456789"])
        .fails(2);
    // name too long (24 bytes)
    let r = sim
        .run(&["users", "add", "5002", "--name", &"N".repeat(25)])
        .fails(2);
    assert!(r.stderr.contains("24"), "{r:?}");
    // user id too long
    sim.run(&["users", "add", &"9".repeat(25), "--name", "A"])
        .fails(2);
    // wrong clock value
    sim.run(&["time", "set", "13:00"]).fails(2);

    let after = dir.path().join("after.json");
    sim.run(&["backup", after.to_str().expect("path")]).ok();
    assert_eq!(read_json(&snapshot)["users"], read_json(&after)["users"]);
}

#[test]
fn zksim_wrong_comm_key_exits_1_and_names_the_key() {
    let sim = Sim::start(&["--comm-key", "1234", "--users", "2"]);
    let users = sim.users(&["--comm-key", "1234"]);
    assert_eq!(users.as_array().map(Vec::len), Some(2));
    for key in [&["--comm-key", "99"][..], &[][..]] {
        let mut args = key.to_vec();
        args.extend(["users", "list"]);
        let r = sim.run(&args).fails(1);
        assert!(
            r.stderr.contains("comm key") || r.stderr.contains("communication key"),
            "{r:?}"
        );
    }
    sim.run(&["--comm-key", "99", "users", "add", "8", "--name", "X"])
        .fails(1);
    assert_eq!(sim.users(&["--comm-key", "1234"]), users);
}

#[test]
fn zksim_backup_restore_is_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("office.json");
    let src = Sim::start(&["--users", "6", "--seed", "7"]);
    let r = src
        .run(&["--json", "backup", file.to_str().expect("path")])
        .ok()
        .json();
    assert_eq!(r["users"], 6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "backup must be private");
    }
    let b = read_json(&file);
    assert_eq!(b["format"], "zkproto-backup");
    assert_eq!(b["version"], 1);
    assert_eq!(b["user_layout"], "72");

    // A replacement terminal with other users.
    let dst = Sim::start(&["--users", "2", "--seed", "99"]);
    let dst_before = dst.users(&[]);
    let plan = dst
        .run(&[
            "--json",
            "restore",
            "--dry-run",
            file.to_str().expect("path"),
        ])
        .ok()
        .json();
    assert_eq!(plan["dry_run"], true);
    let n = plan["users"].as_array().map_or(0, Vec::len);
    assert_eq!(n, 6);
    assert_eq!(dst.users(&[]), dst_before, "dry run changed the device");
    let text = dst
        .run(&["restore", "--dry-run", file.to_str().expect("path")])
        .ok()
        .stdout;
    assert!(text.contains("dry run: nothing was changed"), "{text}");

    dst.run(&["restore", file.to_str().expect("path")]).ok();
    let file2 = dir.path().join("after.json");
    dst.run(&["backup", file2.to_str().expect("path")]).ok();
    let b2 = read_json(&file2);
    for u in b["users"].as_array().expect("users") {
        let id = u["user_id"].as_str().expect("id");
        let v = user_by_id(&b2["users"], id).unwrap_or_else(|| panic!("user {id} restored"));
        // Byte for byte, except the internal index when it had to move.
        if u["uid"] == v["uid"] {
            assert_eq!(u["raw"], v["raw"], "user {id}");
        }
        for k in [
            "name",
            "privilege",
            "card",
            "group",
            "timezones",
            "password",
        ] {
            assert_eq!(u[k], v[k], "{k} of user {id}");
        }
    }
    // Restoring again changes nothing.
    let again = dst
        .run(&["--json", "restore", file.to_str().expect("path")])
        .ok()
        .json();
    assert_eq!(again["summary"]["users"]["unchanged"], 6, "{again}");
    assert_eq!(again["summary"]["users"]["add"], 0);

    // A fresh, empty terminal ends up identical byte for byte.
    let empty = Sim::start(&["--users", "0"]);
    empty.run(&["restore", file.to_str().expect("path")]).ok();
    let file3 = dir.path().join("empty.json");
    empty.run(&["backup", file3.to_str().expect("path")]).ok();
    let b3 = read_json(&file3);
    assert_eq!(b3["users"], b["users"]);
    assert_eq!(b3["templates"], b["templates"]);
}

#[test]
fn zksim_malformed_backup_exits_2_and_changes_nothing() {
    let sim = Sim::start(&["--users", "3"]);
    let before = sim.users(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.json");
    sim.run(&["backup", good.to_str().expect("path")]).ok();
    let doc = read_json(&good);
    let mut cases: Vec<(String, String)> = vec![
        ("not json".into(), "this is not a backup".into()),
        ("empty".into(), String::new()),
    ];
    let mut edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        f(&mut d);
        cases.push((name.into(), d.to_string()));
    };
    edit("format", &|d| d["format"] = "something-else".into());
    edit("version", &|d| d["version"] = 99.into());
    edit("layout", &|d| d["user_layout"] = "50".into());
    edit("raw hex", &|d| d["users"][0]["raw"] = "zz".into());
    edit("raw length", &|d| d["users"][0]["raw"] = "0102".into());
    edit("field vs raw", &|d| d["users"][0]["card"] = 123_456.into());
    edit("duplicate", &|d| {
        let u = d["users"][0].clone();
        d["users"].as_array_mut().expect("array").push(u);
    });
    edit("pin letters", &|d| {
        d["users"][0]["raw"] = Value::Null;
        d["users"][0]["password"] = "12ab".into();
    });
    for (name, text) in &cases {
        let path = dir.path().join(format!("{}.json", name.replace(' ', "_")));
        std::fs::write(&path, text).expect("write case");
        let r = sim.run(&["restore", path.to_str().expect("path")]).fails(2);
        assert!(
            r.stderr.contains("backup") || r.stderr.contains("restore"),
            "{name}: {r:?}"
        );
    }
    sim.run(&[
        "restore",
        dir.path().join("missing.json").to_str().expect("path"),
    ])
    .fails(2);
    assert_eq!(sim.users(&[]), before);
}

#[test]
fn zksim_attendance_download_and_clear() {
    let sim = Sim::start(&["--users", "3", "--attendance", "120"]);
    let all = sim.run(&["--json", "attendance"]).ok().json();
    assert_eq!(all.as_array().map(Vec::len), Some(120));
    sim.run(&["attendance", "clear"]).fails(2);
    assert_eq!(
        sim.run(&["--json", "attendance"])
            .ok()
            .json()
            .as_array()
            .map(Vec::len),
        Some(120)
    );
    let c = sim
        .run(&["--json", "attendance", "clear", "--yes"])
        .ok()
        .json();
    assert_eq!(c["cleared"], 120);
    assert_eq!(c["remaining"], 0);
    assert_eq!(
        sim.run(&["--json", "attendance"]).ok().json(),
        Value::Array(vec![])
    );
}

#[test]
fn zksim_time_door_info() {
    let sim = Sim::start(&["--users", "1"]);
    sim.run(&["time", "set", "2029-12-31T23:59:00"]).ok();
    let t = sim.run(&["--json", "time", "get"]).ok().json();
    assert!(t["time"].as_str().is_some_and(|s| s.starts_with("2029-12-31T23:59") || s.starts_with("2030-01-01T00:00")), "{t}");
    sim.run(&["time", "set"]).ok();
    sim.run(&["door", "unlock"]).ok();
    sim.run(&["door", "status"]).ok();
    let i = sim.run(&["--json", "info"]).ok().json();
    assert_eq!(i["users"]["used"], 1);
}

#[test]
fn zkctl_sim_command_serves_until_killed() {
    let sim = Sim::start_zkctl(&["--users", "5", "--punch-every", "0.2"]);
    let users = sim.users(&[]);
    assert_eq!(users.as_array().map(Vec::len), Some(5));
    let ev = sim.run(&["--json", "events", "--count", "1"]).ok();
    assert_eq!(ev.stdout.lines().count(), 1, "{ev:?}");
    let zk6 = Sim::start_zkctl(&["--profile", "zk6", "--users", "2"]);
    assert!(zk6.tcp.is_none() && zk6.udp.is_some());
    assert_eq!(zk6.users(&[]).as_array().map(Vec::len), Some(2));
}

#[test]
fn zksim_restore_to_a_zk6_replacement_converts_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tft.json");
    zkctl(&["--device", "sim", "backup", file.to_str().expect("path")]).ok();
    let src = read_json(&file);
    let zk6 = Sim::start(&["--profile", "zk6", "--users", "0"]);
    assert!(zk6.tcp.is_none(), "zk6 is UDP only");
    let r = zk6
        .run(&["--json", "restore", file.to_str().expect("path")])
        .ok()
        .json();
    assert_eq!(r["user_layout"], "28", "{r}");
    assert_eq!(r["layout_known"], false);
    let users = zk6.users(&[]);
    let info = zk6.run(&["--json", "info"]).ok().json();
    assert_eq!(info["user_layout"], "28");
    for u in src["users"].as_array().expect("users") {
        let id = u["user_id"].as_str().expect("id");
        let v = user_by_id(&users, id).unwrap_or_else(|| panic!("user {id} restored"));
        for k in ["privilege", "card", "group"] {
            assert_eq!(u[k], v[k], "{k} of user {id}");
        }
        let name = u["name"].as_str().expect("name");
        let short = v["name"].as_str().expect("name");
        assert!(
            name.starts_with(short.trim_end()) && short.len() <= 8,
            "{name:?} -> {short:?}"
        );
        assert_eq!(
            u["password"] != "",
            v["has_pin"] == true,
            "PIN of user {id}"
        );
    }
    // Restoring again finds nothing to do.
    let again = zk6
        .run(&["--json", "restore", file.to_str().expect("path")])
        .ok()
        .json();
    assert_eq!(again["summary"]["users"]["add"], 0, "{again}");
    assert_eq!(again["summary"]["users"]["update"], 0, "{again}");
}

// ---------------------------------------------------------------- in-process simulator

use zkproto::terminal::record::text::Overflow;
use zkproto::terminal::record::user::User;
use zkproto::terminal::sim::{Profile, SimConfig, SimServer, Simulator};

/// A simulator in this test process, served on 127.0.0.1 (TCP when the
/// profile has it), so that the test can give it hostile data or a small
/// capacity through its control API while zkctl runs as a child.
struct Local {
    rt: tokio::runtime::Runtime,
    sim: Simulator,
    server: Option<SimServer>,
    addr: String,
    udp: bool,
}

impl Local {
    fn start(config: SimConfig) -> Local {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = Simulator::new(config);
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let server = rt.block_on(sim.serve(Some(any), Some(any))).expect("serve");
        let (addr, udp) = match (server.tcp_addr(), server.udp_addr()) {
            (Some(a), _) => (a.to_string(), false),
            (None, Some(a)) => (a.to_string(), true),
            _ => panic!("the simulator serves nothing"),
        };
        Local {
            rt,
            sim,
            server: Some(server),
            addr,
            udp,
        }
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--device", self.addr.as_str(), "--timeout", "3"];
        if self.udp {
            all.push("--udp");
        }
        all.extend_from_slice(args);
        all
    }

    fn run(&self, args: &[&str]) -> Run {
        zkctl(&self.args(args))
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        zkctl_stdin(&self.args(args), Some(stdin))
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// A user record of the simulator's layout with exactly these texts.
fn raw_user(sim: &Simulator, uid: u16, user_id: &str, name: &str) -> User {
    let enc = sim.encoding();
    let mut u = User::new(sim.profile().user_layout, uid, user_id, enc).expect("user id fits");
    u.set_name(name, enc, Overflow::Error).expect("name fits");
    u
}

/// Device text that would drive a terminal if printed raw: OSC title +
/// BEL, clear screen, cursor up, a CR/LF that forges a table row, a C1 CSI,
/// a bidi override.
const EVIL_ID: &str = "77\x1b[1A";
const EVIL_NAMES: [&str; 3] = [
    "\x1b]0;pwned\x07\x1b[2JEve",
    "Bo\r\nFAKE 9999 admin",
    "\u{9b}1A\u{202e}Cy",
];

/// Neither stream holds a control character (other than the newlines
/// between lines), a bidi control, or a forged row.
#[track_caller]
fn inert(r: &Run, what: &str) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && zkproto::text::needs_escape(c) && c != '\\')
            .collect();
        assert!(bad.is_empty(), "{what}: raw {bad:?} on {stream}: {r:#?}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("FAKE")),
            "{what}: forged row on {stream}: {r:#?}"
        );
    }
}

fn evil_sim() -> Local {
    let profile = Profile {
        serial_number: "SN\x1b[2J\x1b]0;x\x07".into(),
        device_name: "Model\u{202e}evil".into(),
        platform: "P\r\nFAKE platform".into(),
        ..Profile::zk8()
    };
    let local = Local::start(SimConfig {
        profile,
        users: 0,
        attendance: 0,
        ..SimConfig::default()
    });
    let ids = [EVIL_ID, "2", "3"];
    for (i, (id, name)) in ids.iter().zip(EVIL_NAMES).enumerate() {
        let uid = u16::try_from(i + 1).expect("uid");
        local.sim.put_user(raw_user(&local.sim, uid, id, name));
    }
    local.sim.punch(EVIL_ID, 1, 0);
    local
}

#[test]
fn hostile_device_text_is_escaped_in_every_human_output() {
    let local = evil_sim();

    let list = local.run(&["users", "list"]).ok();
    inert(&list, "users list");
    assert!(
        list.stdout.contains(r"\x1b]0;pwned\x07\x1b[2JEve"),
        "{list:#?}"
    );
    assert!(list.stdout.contains(r"Bo\r\nFAKE 9999 admin"), "{list:#?}");
    assert!(list.stdout.contains(r"\u{9b}1A\u{202e}Cy"), "{list:#?}");
    assert!(list.stdout.contains(r"77\x1b[1A"), "{list:#?}");
    assert_eq!(
        list.stdout.lines().count(),
        1 + 3 + 1,
        "one line per user: {list:#?}"
    );

    // JSON keeps the exact text.
    let json = local.run(&["--json", "users", "list"]).ok().json();
    assert_eq!(json[0]["user_id"], EVIL_ID);
    assert_eq!(json[0]["name"], EVIL_NAMES[0]);
    assert_eq!(json[1]["name"], EVIL_NAMES[1]);

    for id in [EVIL_ID, "2", "3"] {
        inert(&local.run(&["users", "show", id]).ok(), "users show");
    }
    let info = local.run(&["info"]).ok();
    inert(&info, "info");
    assert!(info.stdout.contains(r"SN\x1b[2J\x1b]0;x\x07"), "{info:#?}");
    assert!(info.stdout.contains(r"Model\u{202e}evil"), "{info:#?}");
    let att = local.run(&["attendance"]).ok();
    inert(&att, "attendance");
    assert!(att.stdout.contains(r"77\x1b[1A"), "{att:#?}");
    let csv = local.run(&["attendance", "--csv"]).ok();
    inert(&csv, "attendance --csv");
    assert!(csv.stdout.contains(r"77\x1b[1A"), "{csv:#?}");

    // Live events: a punch by the hostile user id while `events` listens.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let puncher = {
        let sim = local.sim.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                if done.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
                sim.punch(EVIL_ID, 1, 0);
            }
        })
    };
    let ev = local.run(&["events", "--count", "2"]);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    puncher.join().expect("puncher");
    let ev = ev.ok();
    inert(&ev, "events");
    assert!(ev.stdout.contains(r"user=77\x1b[1A"), "{ev:#?}");

    // Commands that name the user they changed.
    inert(
        &local.run(&["users", "clear-pin", "2"]).ok(),
        "users clear-pin",
    );
    inert(
        &local
            .run_stdin(&["users", "set-pin", "2", "--pin-stdin"], "4321\n")
            .ok(),
        "users set-pin",
    );
    inert(
        &local.run(&["users", "delete", "3", "--yes"]).ok(),
        "users delete",
    );

    // Backup and restore print names too.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("evil.json");
    let path = file.to_str().expect("path");
    inert(&local.run(&["backup", path]).ok(), "backup");
    local
        .sim
        .put_user(raw_user(&local.sim, 1, EVIL_ID, "changed"));
    let restored = local.run(&["restore", path]).ok();
    inert(&restored, "restore");
    assert!(restored.stdout.contains(r"\x1b]0;pwned"), "{restored:#?}");
}

/// A backup of `n` users of the zk8 layout, written by zkctl from a
/// simulator with demo users.
fn backup_of(n: usize, dir: &Path) -> PathBuf {
    let src = Local::start(SimConfig {
        users: n,
        attendance: 0,
        ..SimConfig::default()
    });
    let file = dir.join("full.json");
    src.run(&["backup", file.to_str().expect("path")]).ok();
    file
}

#[test]
fn restore_that_stops_half_way_reports_what_it_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = backup_of(5, dir.path());
    let path = file.to_str().expect("path");
    // A device with room for two users: its firmware refuses the third
    // new record (CMD_ACK_ERROR), as a full terminal does.
    let small = || {
        Local::start(SimConfig {
            profile: Profile {
                user_capacity: 2,
                ..Profile::zk8()
            },
            users: 0,
            attendance: 0,
            ..SimConfig::default()
        })
    };

    let dst = small();
    let r = dst.run(&["restore", path]).fails(1);
    assert_eq!(dst.sim.users().len(), 2, "two users were written");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("added ")).count(),
        2,
        "{r:#?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("not added    user "))
            .count(),
        3,
        "{r:#?}"
    );
    assert!(r.stdout.contains("users: 2 added (3 not added)"), "{r:#?}");
    assert!(r.stdout.contains("restore stopped part way"), "{r:#?}");
    // Five users and the two fingerprints of the demo data.
    assert!(
        r.stderr.contains("restore stopped after 2 of 7 change(s)"),
        "{r:#?}"
    );
    // The users reported added are exactly those on the device.
    let on_device: Vec<String> = dst
        .sim
        .users()
        .iter()
        .map(|u| u.user_id(dst.sim.encoding()))
        .collect();
    for l in lines.iter().filter(|l| l.starts_with("added ")) {
        let id = l.split_whitespace().nth(2).expect("user id");
        assert!(
            on_device.iter().any(|d| d == id),
            "{id} reported added: {r:#?}"
        );
    }

    // The same in JSON: the report on stdout, the error on stderr.
    let dst = small();
    let r = dst.run(&["--json", "restore", path]);
    assert_eq!(r.code, 1, "{r:#?}");
    let v = r.json();
    assert_eq!(v["complete"], false, "{v}");
    assert_eq!(v["summary"]["applied"]["users"], 2, "{v}");
    assert_eq!(v["error"]["kind"], "refused", "{v}");
    let applied: Vec<&str> = v["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["applied"] == true)
        .map(|u| u["user_id"].as_str().expect("id"))
        .collect();
    let mut on_device: Vec<String> = dst
        .sim
        .users()
        .iter()
        .map(|u| u.user_id(dst.sim.encoding()))
        .collect();
    on_device.sort();
    let mut applied: Vec<String> = applied.iter().map(|s| s.to_string()).collect();
    applied.sort();
    assert_eq!(applied, on_device, "{v}");
    let err: Value = serde_json::from_str(r.stderr.trim()).expect("JSON error");
    assert_eq!(err["error"]["exit_code"], 1);

    // A restore that completes says so.
    let roomy = Local::start(SimConfig {
        users: 0,
        attendance: 0,
        ..SimConfig::default()
    });
    let v = roomy.run(&["--json", "restore", path]).ok().json();
    assert_eq!(v["complete"], true, "{v}");
    assert_eq!(v["error"], Value::Null, "{v}");
    assert_eq!(v["summary"]["applied"]["users"], 5, "{v}");
}

#[test]
fn restore_refused_from_the_first_write_says_nothing_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = backup_of(4, dir.path());
    let dst = Local::start(SimConfig {
        users: 0,
        attendance: 0,
        ..SimConfig::default()
    });
    // The device refuses every user record (in either layout).
    dst.sim.set_fault(zkproto::terminal::sim::Fault::ReplyWith {
        command: zkproto::terminal::Command::UserWrq,
        reply: zkproto::terminal::ReplyCode::AckError,
    });
    let r = dst.run(&["restore", file.to_str().expect("path")]).fails(1);
    assert!(r.stderr.contains("restore stopped after 0 of"), "{r:#?}");
    assert!(r.stdout.contains("users: 0 added (4 not added)"), "{r:#?}");
    assert!(!r.stdout.lines().any(|l| l.starts_with("added ")), "{r:#?}");
    assert!(dst.sim.users().is_empty());
}

/// What a [`proxy`] does with a frame from the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Forward it.
    On,
    /// Drop the connection instead (both ways), as a device that loses
    /// power or its network does.
    Cut,
}

/// A TCP proxy in front of the simulator of `local`, on its runtime:
/// `request` sees each frame from the client (and may cut the connection
/// there); `reply` may rewrite each frame from the device, given the
/// command it answers (by reply id).
fn proxy(
    local: &Local,
    request: impl FnMut(&zkproto::terminal::Packet) -> Pass + Send + 'static,
    reply: impl FnMut(
        zkproto::terminal::Command,
        zkproto::terminal::Packet,
    ) -> zkproto::terminal::Packet
    + Send
    + 'static,
) -> String {
    use futures_util::{SinkExt, StreamExt};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio_util::codec::Framed;
    use zkproto::terminal::codec::TcpCodec;
    use zkproto::terminal::{Command, Packet};

    let target: std::net::SocketAddr = local.addr.parse().expect("addr");
    let listener = local
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let request = Arc::new(Mutex::new(request));
    let reply = Arc::new(Mutex::new(reply));
    local.rt.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(device) = tokio::net::TcpStream::connect(target).await else {
                return;
            };
            let (mut to_client, mut from_client) =
                Framed::new(client, TcpCodec::default()).split::<Packet>();
            let (mut to_device, mut from_device) =
                Framed::new(device, TcpCodec::default()).split::<Packet>();
            let asked: Arc<Mutex<HashMap<u16, Command>>> = Arc::default();
            let seen = asked.clone();
            let request = request.clone();
            let reply = reply.clone();
            let cut = Arc::new(tokio::sync::Notify::new());
            let cut_up = cut.clone();
            tokio::spawn(async move {
                while let Some(Ok(p)) = from_client.next().await {
                    seen.lock().unwrap().insert(p.reply_id, p.command());
                    if (request.lock().unwrap())(&p) == Pass::Cut {
                        cut_up.notify_one();
                        break;
                    }
                    if to_device.send(p).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                loop {
                    let p = tokio::select! {
                        p = from_device.next() => p,
                        () = cut.notified() => break,
                    };
                    let Some(Ok(p)) = p else { break };
                    let cmd = asked.lock().unwrap().get(&p.reply_id).copied();
                    let p = match cmd {
                        Some(c) => (reply.lock().unwrap())(c, p),
                        None => p,
                    };
                    if to_client.send(p).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A proxy that adds `extra` to the user count of every
/// `CMD_GET_FREE_SIZES` reply sent after the device's user table was read:
/// a device whose table and count disagree (someone enrolling meanwhile, or
/// firmware that loses records).
fn count_faking_proxy(local: &Local, extra: i32) -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use zkproto::terminal::record::bulk::BulkRead;
    use zkproto::terminal::record::sizes::FreeSizes;
    use zkproto::terminal::{Command, Packet};
    let users_read = Arc::new(AtomicBool::new(false));
    let seen = users_read.clone();
    proxy(
        local,
        move |p| {
            if p.command() == Command::PrepareBuffer
                && BulkRead::parse(&p.data).is_ok_and(|r| r == BulkRead::users())
            {
                seen.store(true, Ordering::SeqCst);
            }
            Pass::On
        },
        move |cmd, p| {
            if cmd == Command::GetFreeSizes
                && users_read.load(Ordering::SeqCst)
                && let Ok(mut f) = FreeSizes::parse(&p.data)
            {
                f.users += extra;
                return Packet::new(p.code, p.session_id, p.reply_id, f.encode());
            }
            p
        },
    )
}

#[test]
fn backup_whose_user_count_disagrees_with_the_device_fails_and_keeps_the_old_file() {
    let local = Local::start(SimConfig {
        users: 4,
        attendance: 0,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("office.json");
    let path = file.to_str().expect("path");
    std::fs::write(&file, "previous backup\n").expect("write");
    let proxy = count_faking_proxy(&local, 1);
    let r = zkctl(&["--device", &proxy, "--timeout", "3", "backup", path]).fails(3);
    assert!(
        r.stderr.contains("4 user(s) read but the device counts 5"),
        "{r:#?}"
    );
    assert!(r.stdout.is_empty(), "{r:#?}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "previous backup\n",
        "the old file is untouched"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");

    // Through the same proxy with nothing faked, the backup is written.
    let honest = count_faking_proxy(&local, 0);
    zkctl(&["--device", &honest, "--timeout", "3", "backup", path]).ok();
    assert_eq!(read_json(&file)["users"].as_array().map(Vec::len), Some(4));
}

#[test]
fn backup_file_errors_name_the_path_without_debug_text() {
    // `zkctl sim --state DIR`: the state file cannot be a directory.
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir_arg = tmp.path().to_str().expect("path");
    let r = zkctl(&["sim", "--bind", "127.0.0.1:0", "--state", dir_arg]).fails(2);
    assert!(
        r.stderr.contains(&format!("state file {dir_arg}")),
        "{r:#?}"
    );
    assert!(!r.stderr.contains("Os {"), "{r:#?}");

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_str().expect("path");
    // Restoring from a directory, a missing file; backing up into a
    // directory and into a missing directory.
    for args in [
        vec!["--device", "sim", "restore", d],
        vec!["--device", "sim", "restore", &format!("{d}/missing.json")],
        vec!["--device", "sim", "backup", d],
        vec![
            "--device",
            "sim",
            "backup",
            &format!("{d}/no/such/dir.json"),
        ],
    ] {
        let r = zkctl(&args).fails(2);
        assert!(r.stderr.contains(d), "names the path: {r:#?}");
        assert!(
            r.stderr.contains("(os error"),
            "the system's message: {r:#?}"
        );
        for debug in ["Os {", "code:", "kind:", "Custom {"] {
            assert!(!r.stderr.contains(debug), "Debug text {debug:?}: {r:#?}");
        }
    }
}

// ---------------------------------------------------------------- --trace

/// `secret` appears on neither stream, as text or as spaced hex (the
/// trace's format), nor does any 4-character run of it in hex.
#[track_caller]
fn never_leaks(r: &Run, secret: &str, what: &str) {
    let hex: Vec<String> = secret.bytes().map(|b| format!("{b:02x}")).collect();
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !text.contains(secret),
            "{what}: {secret:?} as text on {stream}: {r:#?}"
        );
        for w in hex.windows(4) {
            let run = w.join(" ");
            assert!(!text.contains(&run), "{what}: {run:?} on {stream}: {r:#?}");
        }
    }
}

/// The trace is there: frames both ways, with the redaction marked.
#[track_caller]
fn traced(r: &Run, must: &[&str]) {
    assert!(r.stderr.contains("send CMD_CONNECT(1000)"), "{r:#?}");
    assert!(r.stderr.contains("recv CMD_ACK_OK(2000)"), "{r:#?}");
    for m in must {
        assert!(r.stderr.contains(m), "{m:?} missing: {r:#?}");
    }
}

#[test]
fn trace_never_shows_pins_or_the_comm_key() {
    use zkproto::terminal::commkey::CommKey;
    const PIN: &str = "86420";
    const NEW_PIN: &str = "97531";
    let local = Local::start(SimConfig {
        comm_key: Some(CommKey::new(271_828)),
        users: 3,
        attendance: 0,
        ..SimConfig::default()
    });
    // A user whose PIN is read back in every user-table read.
    let mut u = raw_user(&local.sim, 9, "900", "Pat");
    u.set_password(PIN).expect("pin");
    local.sim.put_user(u);
    let key = ["--comm-key", "271828", "-v"];
    fn with<'a>(key: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
        [key, args].concat()
    }

    let r = local.run(&with(&key, &["users", "list"])).ok();
    traced(
        &r,
        &[
            "send CMD_AUTH(1102)",
            "** ** ** ** (4 bytes redacted: comm key)",
            "bytes redacted: PIN",
        ],
    );
    never_leaks(&r, PIN, "users list");
    // The comm key's proof bytes are not shown either: the AUTH line
    // holds only `**`.
    let auth = r
        .stderr
        .lines()
        .find(|l| l.starts_with("send CMD_AUTH"))
        .expect("auth line");
    assert!(
        auth.ends_with("data: ** ** ** ** (4 bytes redacted: comm key)"),
        "{auth}"
    );

    let r = local
        .run_stdin(
            &with(&key, &["users", "set-pin", "900", "--pin-stdin"]),
            &format!("{NEW_PIN}\n"),
        )
        .ok();
    traced(&r, &["send CMD_USER_WRQ(8)", "bytes redacted: PIN"]);
    never_leaks(&r, NEW_PIN, "users set-pin");
    never_leaks(&r, PIN, "users set-pin");

    let r = local
        .run(&with(
            &key,
            &["users", "add", "901", "--name", "Lee", "--pin", PIN],
        ))
        .ok();
    traced(&r, &["send CMD_USER_WRQ(8)"]);
    never_leaks(&r, PIN, "users add");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.json");
    let r = local
        .run(&with(&key, &["backup", file.to_str().expect("path")]))
        .ok();
    traced(
        &r,
        &["send CMD_PREPARE_BUFFER(1503)", "bytes redacted: PIN"],
    );
    never_leaks(&r, PIN, "backup");
    never_leaks(&r, NEW_PIN, "backup");
    // The file does hold them (the trace would have had them to show).
    let text = std::fs::read_to_string(&file).expect("backup");
    assert!(text.contains(PIN) && text.contains(NEW_PIN));

    // Restoring uploads the records again.
    let r = local
        .run(&with(&key, &["restore", file.to_str().expect("path")]))
        .ok();
    never_leaks(&r, PIN, "restore");
    never_leaks(&r, NEW_PIN, "restore");

    // Without --trace, no frame is printed.
    let quiet = local.run(&["--comm-key", "271828", "users", "list"]).ok();
    assert!(!quiet.stderr.contains("CMD_"), "{quiet:#?}");
}

#[test]
fn trace_on_the_in_process_simulator_and_panels() {
    let r = zkctl(&[
        "--device", "sim", "--trace", "users", "add", "55", "--name", "Kim", "--pin", "97531",
    ])
    .ok();
    traced(&r, &["send CMD_USER_WRQ(8)", "bytes redacted: PIN"]);
    never_leaks(&r, "97531", "sim users add");
    // Panels: requests and replies by command and length, no data.
    let r = zkctl(&[
        "--device",
        "sim-c3",
        "--trace",
        "--password",
        "s3cr3t!",
        "users",
        "list",
    ]);
    assert!(r.stderr.contains("panel request"), "{r:#?}");
    assert!(!r.stderr.contains("s3cr3t!"), "{r:#?}");
}

#[test]
fn restore_cut_off_by_a_dropped_connection_reports_what_it_changed() {
    use zkproto::terminal::Command;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = backup_of(5, dir.path());
    let dst = Local::start(SimConfig {
        users: 0,
        attendance: 0,
        ..SimConfig::default()
    });
    // The connection drops as the third user record is sent.
    let mut writes = 0;
    let addr = proxy(
        &dst,
        move |p| {
            if p.command() == Command::UserWrq {
                writes += 1;
                if writes == 3 {
                    return Pass::Cut;
                }
            }
            Pass::On
        },
        |_, p| p,
    );
    let r = zkctl(&[
        "--device",
        &addr,
        "--tcp",
        "--timeout",
        "2",
        "restore",
        file.to_str().expect("path"),
    ])
    .fails(3);
    assert_eq!(dst.sim.users().len(), 2, "{r:#?}");
    assert!(
        r.stderr.contains("restore stopped after 2 of 7 change(s)"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("users: 2 added (3 not added)"), "{r:#?}");
    let added: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("added "))
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    let on_device: Vec<String> = dst
        .sim
        .users()
        .iter()
        .map(|u| u.user_id(dst.sim.encoding()))
        .collect();
    assert_eq!(added, on_device, "{r:#?}");
}

// ---------------------------------------------------------------- incremental attendance

fn punch(local: &Local, n: usize) {
    let users = local.sim.users();
    let enc = local.sim.encoding();
    for i in 0..n {
        local.sim.punch(&users[i % users.len()].user_id(enc), 1, 0);
    }
}

#[test]
fn attendance_cursor_downloads_only_new_records() {
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor.json");
    let cur = cursor.to_str().unwrap();
    let local = Local::start(SimConfig {
        users: 3,
        attendance: 50,
        ..SimConfig::default()
    });
    let first = local
        .run(&["--json", "attendance", "--cursor", cur])
        .ok()
        .json();
    assert_eq!(first.as_array().map(Vec::len), Some(50));
    let stored = read_json(&cursor);
    assert_eq!(stored["records"], 50);
    assert_eq!(stored["record_len"], 40);
    assert_eq!(stored["tail"].as_str().map(str::len), Some(160));
    // Nothing new.
    let none = local
        .run(&["--json", "attendance", "--cursor", cur])
        .ok()
        .json();
    assert_eq!(none, Value::Array(vec![]));
    // Three punches: exactly those.
    punch(&local, 3);
    let new = local.run(&["attendance", "--csv", "--cursor", cur]).ok();
    assert_eq!(new.stdout.lines().count(), 1 + 3, "{}", new.stdout);
    assert_eq!(read_json(&cursor)["records"], 53);
    // Cleared behind the cursor's back: refused (exit 1), the cursor kept.
    local.run(&["attendance", "clear", "--yes"]).ok();
    punch(&local, 2);
    let r = local.run(&["attendance", "--cursor", cur]).fails(1);
    assert!(r.stderr.contains("--restart"), "{}", r.stderr);
    assert_eq!(read_json(&cursor)["records"], 53);
    // --restart downloads the new log.
    let again = local
        .run(&["--json", "attendance", "--cursor", cur, "--restart"])
        .ok();
    assert_eq!(again.json().as_array().map(Vec::len), Some(2));
    assert!(again.stderr.contains("fewer than"), "{}", again.stderr);
    assert_eq!(read_json(&cursor)["records"], 2);
    // Usage errors: a broken cursor file, --since with --cursor.
    std::fs::write(&cursor, "{\"records\":5,\"record_len\":40,\"tail\":\"00\"}").unwrap();
    local.run(&["attendance", "--cursor", cur]).fails(2);
    local
        .run(&["attendance", "--cursor", cur, "--since", "2024-01-01"])
        .fails(2);
    local.run(&["attendance", "--restart"]).fails(2);
    local
        .run(&["attendance", "clear", "--yes", "--cursor", cur])
        .fails(2);
}

#[test]
fn attendance_safe_clear_archives_then_clears() {
    let dir = tempfile::tempdir().unwrap();
    let local = Local::start(SimConfig {
        users: 3,
        attendance: 40,
        ..SimConfig::default()
    });
    let all = local.run(&["--json", "attendance"]).ok().json();
    let archive = dir.path().join("archive.json");
    let arc = archive.to_str().unwrap();
    let r = local
        .run(&["--json", "attendance", "clear", "--yes", "--archive", arc])
        .ok()
        .json();
    assert_eq!(
        (r["cleared"].clone(), r["remaining"].clone()),
        (40.into(), 0.into())
    );
    assert_eq!(read_json(&archive), all);
    assert!(local.sim.attendance().is_empty());
    // An existing archive is never overwritten: exit 2, nothing deleted.
    punch(&local, 2);
    local
        .run(&["attendance", "clear", "--yes", "--archive", arc])
        .fails(2);
    assert_eq!(local.sim.attendance().len(), 2);
    // With a cursor: only the records after it, then the cursor is reset.
    let cursor = dir.path().join("c.json");
    let cur = cursor.to_str().unwrap();
    local.run(&["attendance", "--cursor", cur]).ok();
    punch(&local, 3);
    let csv = dir.path().join("tail.csv");
    local
        .run(&[
            "attendance",
            "clear",
            "--yes",
            "--archive",
            csv.to_str().unwrap(),
            "--cursor",
            cur,
        ])
        .ok();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 3, "{text}");
    assert_eq!(read_json(&cursor)["records"], 0);
    assert!(local.sim.attendance().is_empty());
}

#[test]
fn attendance_cursor_resumes_a_broken_download_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor.json");
    let cur = cursor.to_str().unwrap();
    let local = Local::start(SimConfig {
        profile: Profile::zk8_1008(),
        users: 3,
        attendance: 300,
        ..SimConfig::default()
    });
    // The connection drops after 5 of the 12 burst packets.
    local
        .sim
        .set_fault(zkproto::terminal::sim::Fault::CloseMidBulk {
            after_data_packets: 5,
        });
    let first = local.run(&["--json", "attendance", "--cursor", cur]);
    assert_eq!(first.code, 3, "{first:#?}");
    let err: Value = serde_json::from_str(&first.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "network");
    let hint = err["error"]["hint"].as_str().unwrap();
    assert!(hint.contains("run the same command again"), "{hint}");
    let part = first.json();
    let got = part.as_array().map_or(0, Vec::len);
    assert!(got > 0 && got < 300, "{got}");
    assert_eq!(read_json(&cursor)["records"], got);
    let rest = local
        .run(&["--json", "attendance", "--cursor", cur])
        .ok()
        .json();
    let mut joined = part.as_array().unwrap().clone();
    joined.extend(rest.as_array().unwrap().iter().cloned());
    assert_eq!(
        Value::Array(joined),
        local.run(&["--json", "attendance"]).ok().json()
    );
    assert_eq!(read_json(&cursor)["records"], 300);
}
