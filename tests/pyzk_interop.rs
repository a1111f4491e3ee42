//! The real pyzk client (PyPI pyzk 0.9, unmodified) against the simulator.
//!
//! Runs `scripts/pyzk_interop.py` with the Python that `python_env` provides:
//! `$ZKPROTO_PYTHON` when set, otherwise a venv with the pinned pyzk and
//! zkaccess-c3 that the tests create once under the target directory. Every
//! result is checked against the simulator's state. A missing Python or
//! package is a test failure with a one-line explanation, never a skip.

mod python_env;

use python_env::python;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use zkproto::terminal::Command;
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::record::attendance::{Attendance, AttendanceLayout};
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::sim::{Profile, SimConfig, Simulator};

fn secs(t: &str) -> i64 {
    let t = DeviceTime::parse(t).unwrap_or_else(|e| panic!("bad time {t:?}: {e}"));
    let days = i64::from(t.year) * 372 + i64::from(t.month) * 31 + i64::from(t.day);
    days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second)
}

fn close_to(a: &str, b: DeviceTime, slack: i64) -> bool {
    (secs(a) - secs(&b.to_string())).abs() <= slack
}

/// (status, punch) as pyzk names the two bytes of a stored record.
fn pyzk_status_punch(a: &Attendance) -> (u8, u8) {
    match a.layout() {
        AttendanceLayout::Extended16 => (a.state, a.verify),
        _ => (a.verify, a.state),
    }
}

struct Case {
    profile: Profile,
    udp: bool,
    key: Option<u32>,
    script_key: Option<u32>,
    encoding: TextEncoding,
    pyzk_encoding: &'static str,
}

async fn run(case: Case) {
    let sim = Simulator::new(SimConfig {
        profile: case.profile.clone(),
        comm_key: case.key.map(CommKey::new),
        encoding: case.encoding,
        seed: 42,
        users: 15,
        attendance: 60,
        state_file: None,
        pacing: None, // the default: link
    });
    let local = "127.0.0.1:0".parse().ok();
    let server = if case.udp {
        sim.serve(None, local).await
    } else {
        sim.serve(local, None).await
    }
    .expect("simulator binds");
    let port = if case.udp {
        server.udp_addr()
    } else {
        server.tcp_addr()
    }
    .expect("bound address")
    .port();

    let py = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pyzk_interop.py");
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script)
        .arg("--port")
        .arg(port.to_string())
        .arg("--encoding")
        .arg(case.pyzk_encoding);
    if case.udp {
        cmd.arg("--udp");
    }
    let expect_unauth = case.script_key != case.key;
    if let Some(k) = case.script_key {
        cmd.arg("--key").arg(k.to_string());
    }
    if expect_unauth {
        cmd.arg("--expect-unauth");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} ({e})", py.display()));
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut results: HashMap<String, Value> = HashMap::new();
    let before = sim.users();
    let mut punched = None;

    let session = async {
        while let Some(line) = lines.next_line().await.expect("read script output") {
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
            if let Some(tag) = v.get("sync").and_then(Value::as_str) {
                match tag {
                    "disabled" => assert!(!sim.is_enabled(), "disable_device must disable"),
                    "enabled" => assert!(sim.is_enabled(), "enable_device must enable"),
                    "user_set" => {
                        let u = sim.user("9001").expect("set_user created user 9001");
                        assert_eq!(u.uid(), 900);
                        assert_eq!(u.name(case.encoding), "Interop");
                        assert_eq!(u.password(case.encoding).expose(), "1234");
                        assert_eq!(sim.users().len(), before.len() + 1);
                    }
                    "user_deleted" => {
                        assert!(sim.user("9001").is_none(), "delete_user removed user 9001");
                        assert_eq!(sim.users(), before);
                    }
                    "time_set" => assert!(
                        close_to("2025-01-02T03:04:05", sim.time(), 3),
                        "set_time: {}",
                        sim.time()
                    ),
                    "unlocked" => {
                        assert!(sim.lock_released(), "unlock(30) releases the relay");
                        assert_eq!(
                            sim.last_unlock(),
                            Some(300),
                            "pyzk sends tenths of a second"
                        );
                    }
                    "waiting" => punched = Some(sim.punch("1003", 1, 0)),
                    other => panic!("unknown sync {other}"),
                }
                stdin.write_all(b"ok\n").await.expect("answer sync");
                stdin.flush().await.expect("flush");
            } else if let Some(kind) = v.get("kind").and_then(Value::as_str) {
                results.insert(kind.to_string(), v.clone());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), session)
        .await
        .expect("pyzk session finished in time");
    let status = child.wait().await.expect("script exit status");
    assert!(status.success(), "pyzk script failed: {status}");

    if expect_unauth {
        let r = results.get("unauth").expect("pyzk reports Unauthenticated");
        assert_eq!(r["error"], "Unauthenticated");
        assert!(!results.contains_key("connected"));
        assert!(!sim.commands().contains(&Command::GetFreeSizes));
        return;
    }
    let p = &case.profile;
    let enc = case.encoding;
    assert!(results.contains_key("done"), "script finished: {results:?}");

    let info = &results["info"];
    assert_eq!(info["serial"], p.serial_number.as_str());
    assert_eq!(info["firmware"], p.firmware.as_str());
    assert_eq!(info["platform"], p.platform.as_str());
    assert_eq!(info["device_name"], p.device_name.as_str());
    assert_eq!(info["pin_width"], u64::from(p.pin_width));

    let sizes = &results["sizes"];
    assert_eq!(sizes["users"], before.len() as u64);
    assert_eq!(sizes["fingers"], sim.templates().len() as u64);
    assert_eq!(sizes["records"], 60);
    assert_eq!(sizes["users_cap"], u64::from(p.user_capacity));

    assert!(results["time"]["time"].as_str().is_some_and(|t| close_to(
        t,
        zkproto::terminal::sim::device::DEFAULT_TIME,
        5
    )));

    let users = results["users"]["users"].as_array().expect("users list");
    assert_eq!(users.len(), before.len());
    for (got, want) in users.iter().zip(&before) {
        assert_eq!(got["uid"], u64::from(want.uid()));
        assert_eq!(got["user_id"], want.user_id(enc).as_str());
        assert_eq!(got["name"], want.name(enc).as_str());
        assert_eq!(got["privilege"], u64::from(want.privilege().0));
        assert_eq!(got["password"], want.password(enc).expose());
        assert_eq!(got["card"], u64::from(want.card()));
    }
    assert!(
        before.iter().any(|u| !u.name(enc).is_ascii()),
        "seed data has non-ASCII names"
    );

    let records = results["attendance"]["records"]
        .as_array()
        .expect("attendance list");
    let log = sim.attendance();
    let log = &log[..60];
    assert_eq!(records.len(), log.len());
    for (got, want) in records.iter().zip(log) {
        let (status, punch) = pyzk_status_punch(want);
        assert_eq!(got["user_id"], want.user_id().as_str());
        assert_eq!(got["timestamp"], want.time.to_string().as_str());
        assert_eq!(got["status"], u64::from(status));
        assert_eq!(got["punch"], u64::from(punch));
    }

    let back = results["user_read_back"]["users"]
        .as_array()
        .expect("read back");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["password"], "1234");
    assert_eq!(back[0]["name"], "Interop");
    assert_eq!(back[0]["uid"], 900);

    assert!(close_to(
        results["time_set"]["time"].as_str().expect("time"),
        DeviceTime::new(2025, 1, 2, 3, 4, 5),
        2
    ));

    let punched = punched.expect("the script waited for a punch");
    let live = &results["live"]["record"];
    assert_eq!(live["user_id"], "1003");
    assert_eq!(live["timestamp"], punched.time.to_string().as_str());
    assert_eq!(live["status"], 1, "pyzk names the verify byte 'status'");
    assert_eq!(live["punch"], 0);
    assert_eq!(live["uid"], 3);
    assert_eq!(sim.attendance().last(), Some(&punched));

    let cmds = sim.commands();
    for c in [
        Command::DisableDevice,
        Command::EnableDevice,
        Command::Unlock,
        Command::RegEvent,
        Command::Exit,
    ] {
        assert!(cmds.contains(&c), "{c} was executed");
    }
    assert_eq!(cmds.contains(&Command::Auth), case.key.is_some());
    assert!(sim.is_enabled());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_tcp_zk8() {
    run(Case {
        profile: Profile::zk8(),
        udp: false,
        key: None,
        script_key: None,
        encoding: TextEncoding::Utf8,
        pyzk_encoding: "UTF-8",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_tcp_zk8_comm_key_gbk() {
    run(Case {
        profile: Profile::zk8(),
        udp: false,
        key: Some(123_456),
        script_key: Some(123_456),
        encoding: TextEncoding::Gbk,
        pyzk_encoding: "gbk",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_udp_zk6() {
    run(Case {
        profile: Profile::zk6(),
        udp: true,
        key: None,
        script_key: None,
        encoding: TextEncoding::Utf8,
        pyzk_encoding: "UTF-8",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_udp_zk6_comm_key() {
    run(Case {
        profile: Profile::zk6(),
        udp: true,
        key: Some(45),
        script_key: Some(45),
        encoding: TextEncoding::Gbk,
        pyzk_encoding: "gbk",
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyzk_wrong_comm_key_is_refused() {
    for udp in [false, true] {
        run(Case {
            profile: if udp { Profile::zk6() } else { Profile::zk8() },
            udp,
            key: Some(5),
            script_key: Some(6),
            encoding: TextEncoding::Utf8,
            pyzk_encoding: "UTF-8",
        })
        .await;
    }
}
