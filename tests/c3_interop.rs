//! The real zkaccess-c3 client (PyPI zkaccess-c3 0.0.15, unmodified) against
//! the panel simulator.
//!
//! Runs `scripts/c3_interop.py` with the Python that `python_env` provides:
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
use zkproto::panel::Command;
use zkproto::panel::rtlog::EventCode;
use zkproto::panel::sim::{Credential, Profile, SimConfig, Simulator};
use zkproto::panel::table::TransactionRow;
use zkproto::panel::time::PanelTime;

fn secs(t: &str) -> i64 {
    let t = PanelTime::parse_text(t).unwrap_or_else(|e| panic!("bad time {t:?}: {e}"));
    i64::from(t.to_packed())
}

fn close_to(a: &str, b: PanelTime, slack: i64) -> bool {
    (secs(a) - i64::from(b.to_packed())).abs() <= slack
}

struct Case {
    profile: Profile,
    password: Option<&'static str>,
    script_password: Option<&'static str>,
}

fn events(v: &Value) -> Vec<&Value> {
    v["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["type"] == "event")
        .collect()
}

fn status(v: &Value) -> &Value {
    v["records"]
        .as_array()
        .expect("records")
        .iter()
        .rev()
        .find(|r| r["type"] == "status")
        .unwrap_or_else(|| panic!("a status record in {v}"))
}

fn has_event(v: &Value, door: u8, ev: EventCode) -> bool {
    events(v)
        .iter()
        .any(|e| e["door"] == u64::from(door) && e["event"] == u64::from(ev.value()))
}

fn expected_dss(sim: &Simulator) -> String {
    let s = sim.door_status();
    hex::encode(s.sensor_bytes)
}

async fn run(case: Case) {
    let sim = Simulator::new(SimConfig {
        profile: case.profile.clone(),
        password: case.password.map(str::to_owned),
        users: 6,
        transactions: 12,
        seed: 7,
        ..SimConfig::default()
    });
    let server = sim
        .serve(Some("127.0.0.1:0".parse().expect("addr")), None, None)
        .await
        .expect("simulator binds");
    let port = server.tcp_addr().expect("tcp").port();
    let expect_fail = case.password != case.script_password;

    let py = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/c3_interop.py");
    let mut cmd = tokio::process::Command::new(&py);
    cmd.arg(&script).arg("--port").arg(port.to_string());
    if let Some(p) = case.script_password {
        cmd.arg("--password").arg(p);
    }
    if expect_fail {
        cmd.arg("--expect-fail");
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
    let users = sim.users();
    let stored_tx = sim.transactions();
    let mut swiped: Option<TransactionRow> = None;

    let session = async {
        while let Some(line) = lines.next_line().await.expect("read script output") {
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
            if let Some(tag) = v.get("sync").and_then(Value::as_str) {
                let last = || sim.transactions().last().copied().expect("a transaction");
                match tag {
                    "swipe" => {
                        let t = sim.swipe(Credential::Card(users[0].card_no), 1);
                        assert_eq!(t.event, EventCode::NormalPunchOpen);
                        assert!(sim.relay(1), "granted swipe releases the lock");
                        swiped = Some(t);
                    }
                    "remote_opened" => {
                        assert!(sim.relay(1), "control_device opened door 1");
                        let t = last();
                        assert_eq!((t.event, t.door), (EventCode::RemoteOpening, 1));
                    }
                    "door_opened" => assert!(sim.open_door(1)),
                    "door_closed" => assert!(sim.close_door(1)),
                    "aux_on" => assert!(sim.aux_output(1), "aux output 1 latched on"),
                    "aux_off" => assert!(!sim.aux_output(1), "aux output 1 off"),
                    "alarm_cancelled" => assert_eq!(last().event, EventCode::CancelAlarm),
                    "time_set" => assert!(
                        close_to("2025-01-02 03:04:05", sim.time(), 3),
                        "set_device_datetime: {}",
                        sim.time()
                    ),
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
        .expect("zkaccess-c3 session finished in time");
    let exit = child.wait().await.expect("script exit status");
    assert!(exit.success(), "c3 script failed: {exit}");

    let p = &case.profile;
    let connect = results.get("connect").expect("connect reported");
    if expect_fail {
        assert_eq!(connect["ok"], false, "a wrong password must fail");
        assert!(sim.connected_peers().is_empty());
        let cmds = sim.commands();
        let first = if p.sessions {
            Command::ConnectSession
        } else {
            Command::Connect
        };
        assert!(cmds.contains(&first), "{cmds:?}");
        assert!(!cmds.contains(&Command::GetDeviceParam), "{cmds:?}");
        return;
    }
    assert_eq!(connect["ok"], true);
    assert_eq!(connect["session_less"], !p.sessions, "{connect}");
    assert!(results.contains_key("done"), "script finished: {results:?}");

    let info = &results["info"];
    assert_eq!(info["serial"], p.serial_number.as_str());
    assert_eq!(info["firmware"], p.firmware.as_str());
    assert_eq!(info["device_name"], p.model.as_str());
    assert_eq!(info["locks"], u64::from(p.doors));
    assert_eq!(info["aux_in"], u64::from(p.aux_inputs));
    assert_eq!(info["aux_out"], u64::from(p.aux_outputs));

    let params = &results["params"]["params"];
    assert_eq!(params["LockCount"], p.doors.to_string());
    assert_eq!(params["ReaderCount"], p.readers.to_string());
    assert_eq!(params["Door1Drivertime"], "5");
    assert_eq!(params["Door1SensorType"], "2");
    let dt: u32 = params["DateTime"]
        .as_str()
        .expect("DateTime")
        .parse()
        .expect("number");
    let dt = PanelTime::from_packed(dt).expect("valid time");
    assert!(
        close_to(
            &dt.to_string(),
            zkproto::panel::sim::config::default_time(),
            30
        ),
        "DateTime {dt}"
    );
    assert!(
        params.get("~ZKFPVersion").is_none(),
        "empty values are dropped by the client"
    );

    let rows = results["users"]["rows"].as_array().expect("users");
    assert_eq!(rows.len(), users.len());
    for (got, want) in rows.iter().zip(&users) {
        assert_eq!(got["Pin"], u64::from(want.pin));
        assert_eq!(got["CardNo"], u64::from(want.card_no));
        assert_eq!(got["Password"], want.password.as_str());
        assert_eq!(got["Group"], u64::from(want.group));
        assert_eq!(got["StartTime"], u64::from(want.start_date));
        assert_eq!(got["SuperAuthorize"], u64::from(want.super_authorize));
        match want.uid {
            Some(uid) => {
                assert_eq!(got["UID"], u64::from(uid));
                assert_eq!(got["Name"], want.name.as_str());
            }
            None => assert!(got.get("UID").is_none() && got.get("Name").is_none()),
        }
    }

    let rows = results["transactions"]["rows"]
        .as_array()
        .expect("transactions");
    assert_eq!(rows.len(), stored_tx.len());
    for (got, want) in rows.iter().zip(&stored_tx) {
        assert_eq!(got["Cardno"], u64::from(want.card_no));
        assert_eq!(got["Pin"], u64::from(want.pin));
        assert_eq!(got["Verified"], u64::from(want.verify.value()));
        assert_eq!(got["DoorID"], u64::from(want.door));
        assert_eq!(got["EventType"], u64::from(want.event.value()));
        assert_eq!(got["InOutState"], u64::from(want.in_out.value()));
        assert_eq!(got["Time_second"], u64::from(want.time.to_packed()));
    }

    let initial = &results["rt_initial"];
    assert!(
        events(initial).is_empty(),
        "queue cleared on connect: {initial}"
    );
    let mut closed = vec![0u8; 4];
    for d in closed.iter_mut().take(usize::from(p.doors)) {
        *d = 1;
    }
    assert_eq!(status(initial)["dss"], hex::encode(&closed));
    assert_eq!(status(initial)["alarm"], "00000000");

    let sw = &results["rt_swipe"];
    let t = swiped.expect("swipe happened");
    let e = events(sw).into_iter().next().expect("the swipe event");
    assert_eq!(e["card"], u64::from(t.card_no));
    assert_eq!(e["pin"], u64::from(t.pin));
    assert_eq!(e["door"], 1);
    assert_eq!(e["event"], 0);
    assert_eq!(e["verified"], 4);
    assert_eq!(e["inout"], 0);
    assert_eq!(e["time"], t.time.to_string());

    assert!(has_event(
        &results["rt_remote"],
        1,
        EventCode::RemoteOpening
    ));
    let open = &results["rt_door_open"];
    assert!(has_event(open, 1, EventCode::DoorOpened), "{open}");
    assert_eq!(open["lock_status"], 2, "client sees door 1 open");
    assert_eq!(status(open)["dss"], expected_dss_open(p.doors));
    let closed_v = &results["rt_door_closed"];
    assert!(has_event(closed_v, 1, EventCode::DoorClosed));
    assert_eq!(closed_v["lock_status"], 1);
    assert_eq!(status(closed_v)["dss"], expected_dss(&sim));
    assert!(has_event(
        &results["rt_aux_on"],
        1,
        EventCode::AuxOutputOpened
    ));
    assert_eq!(results["rt_aux_on"]["aux_out"], 2);
    assert!(has_event(
        &results["rt_aux_off"],
        1,
        EventCode::AuxOutputClosed
    ));
    assert_eq!(results["rt_aux_off"]["aux_out"], 1);
    assert!(sim.commands().contains(&Command::Disconnect));
    server.shutdown().await;
}

fn expected_dss_open(doors: u8) -> String {
    let mut b = [0u8; 4];
    for (i, d) in b.iter_mut().enumerate().take(usize::from(doors)) {
        *d = if i == 0 { 2 } else { 1 };
    }
    hex::encode(b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_firmware_four_doors_session() {
    run(Case {
        profile: Profile::new_firmware(4),
        password: None,
        script_password: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_firmware_two_doors_with_password() {
    run(Case {
        profile: Profile::new_firmware(2),
        password: Some("1234"),
        script_password: Some("1234"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_firmware_falls_back_to_session_less_connect() {
    run(Case {
        profile: Profile::old_firmware(1),
        password: None,
        script_password: None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_firmware_with_password() {
    run(Case {
        profile: Profile::old_firmware(4),
        password: Some("c3pass"),
        script_password: Some("c3pass"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_refused() {
    run(Case {
        profile: Profile::new_firmware(4),
        password: Some("1234"),
        script_password: Some("4321"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sent_to_panel_without_one_is_refused() {
    run(Case {
        profile: Profile::old_firmware(2),
        password: None,
        script_password: Some("1234"),
    })
    .await;
}
