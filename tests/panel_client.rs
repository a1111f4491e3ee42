//! The async panel client: protocol paths against a scripted fake panel over
//! `tokio::io::duplex`, and every operation against the panel simulator
//! (state checked on the simulator afterwards).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_util::codec::Framed;
use zkproto::panel::client::{Client, ConnectStrategy, Error, Options};
use zkproto::panel::codec::PanelCodec;
use zkproto::panel::table::{RowSet, TableStructure, UserRow, Value};
use zkproto::panel::{Command, ErrorCode, Frame, SessionHeader};

/// What the fake answers to one request: frames to send (possibly none).
type Script = Box<dyn FnMut(&Frame) -> Vec<Frame> + Send>;

/// Serves `script` on one end of a duplex pipe; returns the other end.
fn fake_panel(mut script: Script) -> tokio::io::DuplexStream {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut framed = Framed::new(server, PanelCodec::new());
        while let Some(Ok(req)) = framed.next().await {
            for reply in script(&req) {
                if framed.send(reply).await.is_err() {
                    return;
                }
            }
        }
    });
    client
}

fn ok(data: impl Into<Bytes>) -> Frame {
    Frame::new(1, Command::AckOk, data)
}

fn err(code: ErrorCode) -> Frame {
    Frame::new(1, Command::AckError, vec![code.to_byte()])
}

/// The request's session header echoed, plus `payload`.
fn echo(req: &Frame, payload: &[u8]) -> Vec<u8> {
    let mut v = req.data.get(..4).unwrap_or_default().to_vec();
    v.extend_from_slice(payload);
    v
}

fn quick() -> Options {
    Options::new()
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
}

#[tokio::test]
async fn falls_back_to_session_less_connect_on_minus_13() {
    let io = fake_panel(Box::new(|req| match req.command {
        Command::ConnectSession => vec![err(ErrorCode::CommandNotAvailable)],
        Command::Connect => vec![ok(Bytes::new())],
        Command::GetDeviceParam => {
            assert_eq!(&req.data[..], b"LockCount", "session-less: no header");
            vec![ok(&b"LockCount=2"[..])]
        }
        _ => vec![],
    }));
    let mut c = Client::attach(io, quick()).await.unwrap();
    assert_eq!(c.session_id(), None);
    assert_eq!(c.param("LockCount").await.unwrap().as_deref(), Some("2"));
}

#[tokio::test]
async fn session_connect_carries_header_and_drops_stale_replies() {
    let io = fake_panel(Box::new(|req| match req.command {
        Command::ConnectSession => vec![ok(vec![0x14, 0x20, 0xfe, 0xfe])],
        Command::GetDeviceParam => {
            let (h, _) = SessionHeader::parse(&req.data).unwrap();
            assert_eq!(h.session_id, 0x2014);
            // A late reply to an earlier message first, then the right one.
            let stale = SessionHeader::new(0x2014, h.message.wrapping_sub(1)).to_bytes();
            let mut late = stale.to_vec();
            late.extend_from_slice(b"LockCount=9");
            vec![ok(late), ok(echo(req, b"LockCount=4"))]
        }
        _ => vec![],
    }));
    let mut c = Client::attach(io, quick()).await.unwrap();
    assert_eq!(c.session_id(), Some(0x2014));
    assert_eq!(c.param("LockCount").await.unwrap().as_deref(), Some("4"));
}

#[tokio::test]
async fn wrong_password_is_reported_not_retried() {
    let io = fake_panel(Box::new(|req| match req.command {
        Command::ConnectSession => vec![Frame::new(
            1,
            Command::AckError,
            vec![0x50, 0xa7, 0xfe, 0xfe, 0xf2],
        )],
        _ => panic!("nothing may follow a refused password"),
    }));
    let e = Client::attach(io, quick().password("9999"))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        Error::WrongPassword {
            password_sent: true
        }
    );
    assert!(e.is_refusal());
    assert!(!e.to_string().contains("9999"));
}

#[tokio::test]
async fn silent_panel_times_out() {
    let io = fake_panel(Box::new(|req| match req.command {
        Command::Connect => vec![ok(Bytes::new())],
        _ => vec![],
    }));
    let opts = quick().connect_strategy(ConnectStrategy::SessionLess);
    let mut c = Client::attach(io, opts).await.unwrap();
    let started = std::time::Instant::now();
    let e = c.time().await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Session-less: later replies could be mismatched, so the client closes.
    assert!(c.is_closed());
    assert!(matches!(c.time().await, Err(Error::Closed { .. })));
}

#[tokio::test]
async fn peer_closing_on_connect_fails_fast() {
    let (client, server) = tokio::io::duplex(1024);
    drop(server);
    let started = std::time::Instant::now();
    let e = Client::attach(client, Options::new()).await.unwrap_err();
    assert!(e.is_network() || matches!(e, Error::Closed { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

const OLD_USER: &str =
    "user=1,CardNo=i1,Pin=i2,Password=s3,Group=i4,StartTime=i5,EndTime=i6,SuperAuthorize=i7\n";

/// A panel that acknowledges writes but never applies them (§5.4).
fn ignoring_writes_panel(writes: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Script {
    let structure = TableStructure::parse(OLD_USER.as_bytes()).unwrap();
    let user = structure.table("user").unwrap().clone();
    Box::new(move |req| match req.command {
        Command::Connect => vec![ok(Bytes::new())],
        Command::GetTableStruct => vec![ok(OLD_USER.as_bytes().to_vec())],
        Command::GetData => {
            let row = UserRow {
                pin: 5,
                card_no: 77,
                password: "1".into(),
                ..Default::default()
            };
            let set = user.encode_typed(&[row]).unwrap();
            vec![ok(set.encode().unwrap())]
        }
        Command::SetData => {
            let set = RowSet::parse(req.data.clone()).unwrap();
            assert_eq!(set.rows.len(), 1);
            writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            vec![ok(Bytes::new())]
        }
        Command::DeleteData => panic!("no delete expected"),
        _ => vec![err(ErrorCode::CommandNotAvailable)],
    })
}

#[tokio::test]
async fn acknowledged_but_ignored_set_pin_is_reported() {
    let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let io = fake_panel(ignoring_writes_panel(writes.clone()));
    let opts = quick().connect_strategy(ConnectStrategy::SessionLess);
    let mut c = Client::attach(io, opts).await.unwrap();
    let e = c.set_pin(5, "4321").await.unwrap_err();
    assert_eq!(writes.load(std::sync::atomic::Ordering::SeqCst), 1);
    match &e {
        Error::WriteNotApplied { what } => {
            assert!(what.contains("Password"), "{what}");
            assert!(!what.contains("4321"), "secret in the message: {what}");
        }
        other => panic!("expected WriteNotApplied, got {other}"),
    }
    // Malformed input never reaches the panel.
    let bad = c.set_pin(5, "12ab").await.unwrap_err();
    assert!(matches!(bad, Error::InvalidArgument(_)), "{bad}");
    let long = c.set_pin(5, "123456789").await.unwrap_err();
    assert!(matches!(long, Error::InvalidArgument(_)), "{long}");
    assert!(!long.to_string().contains("123456789"));
    assert_eq!(writes.load(std::sync::atomic::Ordering::SeqCst), 1);
    let u = c.user(5).await.unwrap().unwrap();
    assert_eq!(u.card_no, 77);
    assert!(!format!("{u:?}").contains("\"1\""));
    let _ = Value::Int(0);
}

#[tokio::test]
async fn debug_output_redacts_password() {
    let io = fake_panel(Box::new(|req| match req.command {
        Command::ConnectSession => vec![ok(vec![1, 0, 0xfe, 0xfe])],
        _ => vec![],
    }));
    let c = Client::attach(io, quick().password("S3cret77"))
        .await
        .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("S3cret77"), "{dbg}");
}

// ---------------------------------------------------------------------------
// Against the panel simulator.

mod sim {
    use super::*;
    use futures_util::StreamExt;
    use std::net::SocketAddr;
    use zkproto::panel::client::{PanelEvent, SupervisedEvent, Supervisor};
    use zkproto::panel::rtlog::{DoorSensor, EventCode};
    use zkproto::panel::sim::{Credential, Fault, Profile, SimConfig, SimServer, Simulator};
    use zkproto::panel::table::UserAuthorizeRow;
    use zkproto::panel::{PanelTime, ParamList};

    async fn start(
        profile: Profile,
        users: usize,
        transactions: usize,
    ) -> (Simulator, SimServer, SocketAddr) {
        let sim = Simulator::new(SimConfig {
            profile,
            users,
            transactions,
            ..SimConfig::default()
        });
        let server = sim
            .serve(Some("127.0.0.1:0".parse().unwrap()), None, None)
            .await
            .unwrap();
        let addr = server.tcp_addr().unwrap();
        (sim, server, addr)
    }

    fn opts() -> Options {
        Options::new()
            .timeout(Duration::from_secs(2))
            .poll_interval(Duration::from_millis(50))
    }

    #[tokio::test]
    async fn connect_modes_and_disconnect() {
        let (sim, _srv, addr) = start(Profile::new_firmware(4), 0, 0).await;
        let c = Client::connect(addr, opts()).await.unwrap();
        assert!(c.session_id().is_some());
        assert_eq!(sim.connected_peers().len(), 1);
        c.disconnect().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(sim.connected_peers().is_empty());

        let (sim, _srv, addr) = start(Profile::old_firmware(2), 0, 0).await;
        let c = Client::connect(addr, opts()).await.unwrap();
        assert_eq!(c.session_id(), None, "old firmware: fallback to 0x01");
        let cmds = sim.commands();
        assert_eq!(&cmds[..2], &[Command::ConnectSession, Command::Connect]);
        c.disconnect().await.unwrap();
    }

    #[tokio::test]
    async fn password_accepted_and_refused() {
        let (sim, _srv, addr) = start(Profile::new_firmware(2), 0, 0).await;
        sim.set_password(Some("4455"));
        let e = Client::connect(addr, opts()).await.unwrap_err();
        assert_eq!(
            e,
            Error::WrongPassword {
                password_sent: false
            }
        );
        let e = Client::connect(addr, opts().password("1111"))
            .await
            .unwrap_err();
        assert_eq!(
            e,
            Error::WrongPassword {
                password_sent: true
            }
        );
        let mut c = Client::connect(addr, opts().password("4455"))
            .await
            .unwrap();
        assert_eq!(c.device_info().await.unwrap().lock_count, 2);
    }

    #[tokio::test]
    async fn params_and_time() {
        let (sim, _srv, addr) = start(Profile::new_firmware(4), 0, 0).await;
        let mut c = Client::connect(addr, opts()).await.unwrap();
        let info = c.device_info().await.unwrap();
        let p = sim.profile();
        assert_eq!(info.serial_number, p.serial_number);
        assert_eq!(
            (info.lock_count, info.aux_out_count),
            (p.doors, p.aux_outputs)
        );
        c.set_params(
            &ParamList::new()
                .with("Door1Drivertime", "7")
                .with("Door2Detectortime", "30"),
        )
        .await
        .unwrap();
        assert_eq!(sim.param("Door1Drivertime").as_deref(), Some("7"));
        assert_eq!(sim.param("Door2Detectortime").as_deref(), Some("30"));
        assert_eq!(
            c.param("Door1Drivertime").await.unwrap().as_deref(),
            Some("7")
        );
        let t = PanelTime::new(2031, 2, 3, 4, 5, 0).unwrap();
        c.set_time(t).await.unwrap();
        let got = sim.time();
        assert_eq!(
            (got.year(), got.month(), got.day(), got.hour(), got.minute()),
            (2031, 2, 3, 4, 5)
        );
        let read = c.time().await.unwrap();
        assert!(read >= t && read.minute() <= 6, "{read}");
        assert!(c.set_params(&ParamList::new()).await.is_err());
    }

    #[tokio::test]
    async fn users_every_operation_on_both_layouts() {
        for profile in [Profile::new_firmware(4), Profile::old_firmware(4)] {
            let (sim, _srv, addr) = start(profile.clone(), 3, 0).await;
            let mut c = Client::connect(addr, opts()).await.unwrap();
            let before = sim.users();
            let listed = c.users().await.unwrap();
            assert_eq!(listed.len(), before.len(), "{}", profile.name);
            for u in &before {
                assert_eq!(c.user(u.pin).await.unwrap().unwrap().card_no, u.card_no);
            }
            assert_eq!(c.user(999_999).await.unwrap(), None);

            let new = UserRow {
                pin: 19999,
                card_no: 13375401,
                password: "1".into(),
                ..Default::default()
            };
            let stored = c.add_user(&new).await.unwrap();
            assert_eq!(stored.card_no, 13375401);
            assert_eq!(sim.user(19999).unwrap().password, "1");
            assert_eq!(
                c.add_user(&new).await.unwrap_err(),
                Error::UserExists(19999)
            );

            let mut upd = stored.clone();
            upd.end_date = 20301231;
            c.update_user(&upd).await.unwrap();
            assert_eq!(sim.user(19999).unwrap().end_date, 20301231);
            let ghost = UserRow {
                pin: 4242,
                ..Default::default()
            };
            assert_eq!(
                c.update_user(&ghost).await.unwrap_err(),
                Error::UserNotFound(4242)
            );

            // Set-PIN: only that user's Password changes.
            let others = sim
                .users()
                .into_iter()
                .filter(|u| u.pin != 19999)
                .collect::<Vec<_>>();
            let mut want = sim.user(19999).unwrap();
            c.set_pin(19999, "24680").await.unwrap();
            want.password = "24680".into();
            assert_eq!(sim.user(19999).unwrap(), want);
            assert_eq!(
                sim.users()
                    .into_iter()
                    .filter(|u| u.pin != 19999)
                    .collect::<Vec<_>>(),
                others
            );
            assert_eq!(
                c.set_pin(4242, "1").await.unwrap_err(),
                Error::UserNotFound(4242)
            );
            c.clear_pin(19999).await.unwrap();
            assert_eq!(sim.user(19999).unwrap().password, "");
            c.set_card(19999, 555).await.unwrap();
            assert_eq!(sim.user(19999).unwrap().card_no, 555);

            // Door authorisation.
            let auth = UserAuthorizeRow {
                pin: 19999,
                timezone_id: 1,
                doors: 0b0101,
            };
            c.authorize(auth).await.unwrap();
            assert!(sim.authorizations().contains(&auth));
            assert_eq!(c.authorizations(19999).await.unwrap(), vec![auth]);
            assert!(
                c.authorize(UserAuthorizeRow { doors: 0, ..auth })
                    .await
                    .is_err()
            );
            assert_eq!(
                c.authorize(UserAuthorizeRow { pin: 4242, ..auth })
                    .await
                    .unwrap_err(),
                Error::UserNotFound(4242)
            );
            let auth_before = sim.authorizations().len();
            assert!(auth_before > 1, "seeded users are authorised too");

            // Conditional deletes only.
            c.delete_user(19999).await.unwrap();
            assert_eq!(sim.user(19999), None);
            assert!(!sim.authorizations().iter().any(|a| a.pin == 19999));
            assert_eq!(sim.authorizations().len(), auth_before - 1);
            assert_eq!(sim.users().len(), before.len());
            assert_eq!(
                c.delete_user(19999).await.unwrap_err(),
                Error::UserNotFound(19999)
            );
            let victim = before[0].clone();
            let pins = c.delete_user_by_card(victim.card_no).await.unwrap();
            assert_eq!(pins, vec![victim.pin]);
            assert_eq!(sim.users().len(), before.len() - 1);
            assert!(c.delete_user_by_card(0).await.is_err());
            assert!(!sim.commands().is_empty());
        }
    }

    #[tokio::test]
    async fn silently_dropped_write_is_reported() {
        let mut profile = Profile::new_firmware(2);
        profile.max_write_cell = 3;
        let (sim, _srv, addr) = start(profile, 1, 0).await;
        let mut c = Client::connect(addr, opts()).await.unwrap();
        // A 4-byte card number makes the whole write a silent no-op.
        let u = UserRow {
            pin: 7,
            card_no: 0x0100_0000,
            ..Default::default()
        };
        let e = c.add_user(&u).await.unwrap_err();
        assert!(matches!(e, Error::WriteNotApplied { .. }), "{e}");
        assert_eq!(sim.user(7), None);
        // And a refused write is reported as such.
        sim.set_fault(Fault::ReplyError {
            command: Command::SetData,
            code: ErrorCode::NoSpace,
        });
        let e = c
            .add_user(&UserRow {
                pin: 8,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            e,
            Error::Refused {
                command: Command::SetData,
                code: ErrorCode::NoSpace
            }
        );
        assert_eq!(sim.user(8), None);
        // Set-PIN on an existing user, write dropped: reported, password unchanged.
        sim.clear_faults();
        let existing = sim.users()[0].clone();
        sim.set_fault(Fault::ReplyError {
            command: Command::SetData,
            code: ErrorCode::NotExecuted,
        });
        assert!(c.set_pin(existing.pin, "9753").await.is_err());
        assert_eq!(sim.user(existing.pin).unwrap(), existing);
    }

    #[tokio::test]
    async fn door_states_follow_lock_count_and_old_firmware_relay() {
        let (_sim, _srv, addr) = start(Profile::new_firmware(2), 0, 0).await;
        let mut c = Client::connect(addr, opts()).await.unwrap();
        assert_eq!(c.door_count().await.unwrap(), 2);
        c.unlock(2, Duration::from_secs(5)).await.unwrap();
        let states = c.door_states().await.unwrap();
        assert_eq!(states.iter().map(|d| d.door).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(states[1].unlocked, Some(true));
        assert_eq!(states[0].unlocked, Some(false));
        assert!(matches!(
            c.door_state(3).await,
            Err(zkproto::panel::client::Error::InvalidArgument(_))
        ));

        let (sim, _srv, addr) = start(Profile::old_firmware(4), 0, 0).await;
        let mut c = Client::connect(addr, opts()).await.unwrap();
        c.unlock(1, Duration::from_secs(5)).await.unwrap();
        assert!(sim.relay(1), "the relay is energised");
        let states = c.door_states().await.unwrap();
        assert_eq!(states.len(), 4);
        assert!(
            states.iter().all(|d| d.unlocked.is_none()),
            "old firmware reports no relay byte: unknown, never \"locked\""
        );
    }

    #[tokio::test]
    async fn doors_outputs_alarms_and_status() {
        let (sim, _srv, addr) = start(Profile::new_firmware(4), 0, 0).await;
        let mut c = Client::connect(addr, opts()).await.unwrap();
        c.unlock(1, Duration::from_secs(5)).await.unwrap();
        assert!(sim.relay(1));
        assert_eq!(c.door_state(1).await.unwrap().unlocked, Some(true));
        c.close_door(1).await.unwrap();
        assert!(!sim.relay(1));
        c.normally_open(2).await.unwrap();
        assert!(sim.relay(2));
        c.cancel_normally_open(2).await.unwrap();
        assert!(!sim.relay(2));
        c.enable_normal_open_time_zone(2).await.unwrap();
        c.aux_output_on(3, 10).await.unwrap();
        assert!(sim.aux_output(3));
        c.aux_output_off(3).await.unwrap();
        assert!(!sim.aux_output(3));
        assert!(c.unlock(5, Duration::from_secs(5)).await.is_err());
        assert!(c.unlock(1, Duration::ZERO).await.is_err());

        sim.open_door(3);
        let d3 = c.door_state(3).await.unwrap();
        assert_eq!(d3.sensor, sim.door_sensor(3));
        assert_eq!(d3.sensor, DoorSensor::Open);
        sim.close_door(3);
        assert_eq!(c.door_state(3).await.unwrap().sensor, DoorSensor::Closed);

        sim.raise_alarm(1, EventCode::TamperAlarm);
        assert!(c.door_state(1).await.unwrap().alarm.alarm());
        c.cancel_alarm().await.unwrap();
        assert!(!sim.alarm(1).alarm());
        assert!(!c.door_state(1).await.unwrap().alarm.alarm());
        // Events read while fetching status are not lost.
        let evs = c.poll_events().await.unwrap();
        assert!(
            evs.iter()
                .any(|e| matches!(e, PanelEvent::Event(e) if e.event == EventCode::RemoteOpening)),
            "{evs:?}"
        );
    }

    #[tokio::test]
    async fn transactions_all_and_new() {
        for profile in [Profile::new_firmware(2), Profile::old_firmware(2)] {
            let (sim, _srv, addr) = start(profile, 2, 400).await;
            let mut c = Client::connect(addr, opts()).await.unwrap();
            let all = c.transactions().await.unwrap();
            assert_eq!(all, sim.transactions(), "big-data path included (400 rows)");
            assert!(
                sim.commands().contains(&Command::ReadData),
                "result went through big data"
            );
            assert_eq!(c.transaction_count().await.unwrap() as usize, all.len());
            let first = c.new_transactions().await.unwrap();
            assert_eq!(first.len(), all.len());
            let card = sim.users()[0].card_no;
            let t = sim.swipe(Credential::Card(card), 1);
            assert_eq!(c.new_transactions().await.unwrap(), vec![t]);
            assert!(c.new_transactions().await.unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn event_stream_reports_events_and_status_changes() {
        for profile in [Profile::new_firmware(2), Profile::old_firmware(2)] {
            let (sim, _srv, addr) = start(profile, 2, 0).await;
            let mut c = Client::connect(addr, opts()).await.unwrap();
            let user = sim.users()[0].clone();
            let mut events = c.events();
            // First item: the initial status.
            let first = tokio::time::timeout(Duration::from_secs(2), events.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert!(matches!(first, PanelEvent::Status(_)), "{first:?}");
            let t = sim.swipe(Credential::Card(user.card_no), 1);
            sim.open_door(2);
            let mut saw_event = false;
            let mut saw_open = false;
            while !(saw_event && saw_open) {
                let item = tokio::time::timeout(Duration::from_secs(2), events.next())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap();
                match item {
                    PanelEvent::Event(e) if e.pin == user.pin => {
                        assert_eq!((e.door, e.time), (1, t.time));
                        saw_event = true;
                    }
                    PanelEvent::Status(s) if s.sensor(2) == Some(DoorSensor::Open) => {
                        saw_open = true
                    }
                    _ => {}
                }
            }
        }
    }

    #[tokio::test]
    async fn second_client_makes_the_first_busy() {
        let (_sim, _srv, addr) = start(Profile::new_firmware(4), 0, 0).await;
        let mut a = Client::connect(addr, opts()).await.unwrap();
        let mut b = Client::connect(addr, opts()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = a.time().await.unwrap_err();
        assert!(matches!(e, Error::Busy { .. }), "{e}");
        assert!(e.to_string().contains("one client at a time"), "{e}");
        b.time().await.unwrap();
    }

    #[tokio::test]
    async fn supervisor_reconnects_and_backfills() {
        let (sim, _srv, addr) = start(Profile::new_firmware(2), 2, 3).await;
        let user = sim.users()[0].clone();
        let sup = Supervisor::new(addr, opts())
            .backoff(Duration::from_millis(300), Duration::from_millis(300));
        let mut s = std::pin::pin!(sup.into_stream());
        macro_rules! next {
            ($s:expr) => {
                tokio::time::timeout(Duration::from_secs(5), $s.next())
                    .await
                    .unwrap()
                    .unwrap()
            };
        }
        // Connected: a first status arrives.
        loop {
            if let SupervisedEvent::Status(_) = next!(s) {
                break;
            }
        }
        let live = sim.swipe(Credential::Card(user.card_no), 1);
        loop {
            match next!(s) {
                SupervisedEvent::Event(e) if e.time == live.time && e.pin == user.pin => break,
                _ => {}
            }
        }
        // Another client takes the panel; meanwhile a user badges.
        let thief = Client::connect(addr, opts()).await.unwrap();
        let missed = sim.swipe(Credential::Pin(user.pin), 2);
        drop(thief);
        let mut disconnected = false;
        let mut backfilled = Vec::new();
        let mut live_again = 0;
        loop {
            match next!(s) {
                SupervisedEvent::Disconnected { .. } => disconnected = true,
                SupervisedEvent::Reconnected { backfilled: n, .. } => assert!(n >= 1),
                SupervisedEvent::Backfilled(e) => backfilled.push(e),
                SupervisedEvent::Event(e) if e.pin == user.pin => live_again += 1,
                SupervisedEvent::Status(_) if !backfilled.is_empty() => break,
                _ => {}
            }
        }
        assert!(disconnected);
        assert_eq!(live_again, 0, "no duplicates");
        assert_eq!(
            backfilled
                .iter()
                .filter(|e| e.time == missed.time && e.door == 2)
                .count(),
            1,
            "{backfilled:?}"
        );
    }
}
