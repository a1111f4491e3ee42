//! Every client operation against the simulator, over TCP and UDP, with the
//! zk8 and zk6 profiles, with and without a comm key; each check looks at
//! the simulator's state afterwards, not only at the call's result.

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zkproto::terminal::client::{Client, Error, NewUser, Options, StreamOptions, Transport};
use zkproto::terminal::command::{EventFlag, EventMask};
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::record::DeviceTime;
use zkproto::terminal::record::door::DoorStatus;
use zkproto::terminal::record::event::{Alarm, Event};
use zkproto::terminal::record::template::Template;
use zkproto::terminal::record::user::{Privilege, UserLayout};
use zkproto::terminal::sim::{Profile, SimConfig, SimServer, Simulator};

const KEY: u32 = 123_456;

struct Rig {
    sim: Simulator,
    _server: SimServer,
    addr: SocketAddr,
    options: Options,
}

async fn rig(
    profile: Profile,
    transport: Transport,
    key: Option<u32>,
    users: usize,
    attendance: usize,
) -> Rig {
    let sim = Simulator::new(SimConfig {
        profile,
        comm_key: key.map(CommKey::new),
        users,
        attendance,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), Some(any)).await.unwrap();
    let addr = match transport {
        Transport::Udp => server.udp_addr().unwrap(),
        _ => server.tcp_addr().unwrap(),
    };
    let mut options = Options::new()
        .transport(transport)
        .timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2));
    if let Some(k) = key {
        options = options.comm_key(k);
    }
    Rig {
        sim,
        _server: server,
        addr,
        options,
    }
}

fn packed(t: DeviceTime) -> i64 {
    i64::from(t.to_packed().unwrap())
}

async fn exercise(profile: Profile, transport: Transport, key: Option<u32>) {
    let r = rig(profile.clone(), transport, key, 12, 150).await;
    let sim = &r.sim;
    let enc = sim.encoding();
    let mut c = Client::connect(r.addr, r.options.clone()).await.unwrap();
    assert_eq!(c.transport(), transport);
    assert_eq!(sim.session_count(), 1);

    // ---- device info
    let info = c.device_info().await.unwrap();
    assert_eq!(info.firmware_version, profile.firmware);
    assert_eq!(
        info.serial_number.as_deref(),
        Some(profile.serial_number.as_str())
    );
    assert_eq!(info.platform.as_deref(), Some(profile.platform.as_str()));
    assert_eq!(
        info.device_name.as_deref(),
        Some(profile.device_name.as_str())
    );
    assert_eq!(info.mac.as_deref(), Some(profile.mac.as_str()));
    assert_eq!(info.pin_width, Some(profile.pin_width));
    assert_eq!(
        info.fingerprint_version,
        Some(profile.fp_version.to_string())
    );
    assert_eq!(info.sizes, sim.free_sizes());
    assert!((packed(info.time) - packed(sim.time())).abs() <= 2);

    // ---- time
    let t = DeviceTime::new(2024, 2, 29, 23, 59, 50);
    c.set_time(t).await.unwrap();
    assert!(
        (packed(sim.time()) - packed(t)).abs() <= 2,
        "device time {}",
        sim.time()
    );
    assert!((packed(c.time().await.unwrap()) - packed(t)).abs() <= 2);

    // ---- options
    c.write_option("LockOn", "7").await.unwrap();
    assert_eq!(sim.option("LockOn").as_deref(), Some("7"));
    assert_eq!(c.read_option("LockOn").await.unwrap().as_deref(), Some("7"));
    assert_eq!(c.read_option("NoSuchOptionHere").await.unwrap(), None);

    // ---- users
    let users = c.users().await.unwrap();
    assert_eq!(users, sim.users());
    assert_eq!(c.user_layout(), Some(profile.user_layout));
    let one = c.user("1003").await.unwrap().unwrap();
    assert_eq!(Some(one), sim.user("1003"));
    assert_eq!(c.user("999999").await.unwrap(), None);

    let added = c
        .add_user(
            NewUser::new("777001")
                .name("Grace")
                .password("2468")
                .card(4242),
        )
        .await
        .unwrap();
    let on_device = sim.user("777001").expect("created on the device");
    assert_eq!(added, on_device);
    assert_eq!(on_device.name(enc), "Grace");
    assert_eq!(on_device.password(enc).expose(), "2468");
    assert_eq!(on_device.card(), 4242);
    assert_eq!(on_device.layout(), profile.user_layout);
    assert!(
        !sim.users()
            .iter()
            .any(|u| u.uid() == added.uid() && u.user_id(enc) != "777001")
    );
    let dup = c.add_user(NewUser::new("777001")).await.unwrap_err();
    assert!(
        matches!(dup, Error::DuplicateUserId { ref uids, .. } if uids == &vec![added.uid()]),
        "{dup}"
    );

    c.set_pin("777001", "1357").await.unwrap();
    assert_eq!(sim.user("777001").unwrap().password(enc).expose(), "1357");
    c.clear_pin("777001").await.unwrap();
    assert!(!sim.user("777001").unwrap().has_password());
    c.set_card("777001", 99).await.unwrap();
    assert_eq!(sim.user("777001").unwrap().card(), 99);
    c.set_user_enabled("777001", false).await.unwrap();
    assert!(!sim.user("777001").unwrap().is_enabled());
    c.set_user_enabled("777001", true).await.unwrap();
    assert!(sim.user("777001").unwrap().is_enabled());

    let mut edited = sim.user("1002").unwrap();
    edited.set_privilege(Privilege::MANAGER);
    c.put_user(&edited).await.unwrap();
    assert_eq!(sim.user("1002").unwrap(), edited);

    c.delete_user("777001").await.unwrap();
    assert!(sim.user("777001").is_none());
    assert!(matches!(
        c.delete_user("777001").await.unwrap_err(),
        Error::UserNotFound(_)
    ));
    assert!(matches!(
        c.set_pin("424242", "1").await.unwrap_err(),
        Error::UserNotFound(_)
    ));

    // ---- attendance
    let log = c.attendance().await.unwrap();
    assert_eq!(log.records, sim.attendance());
    assert_eq!(log.layout, Some(profile.attendance_layout));
    assert!(log.invalid.is_empty());

    let all = sim.attendance();
    let since = all[all.len() / 2].time;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let opts = StreamOptions::new()
        .since(since)
        .progress(move |p| seen2.lock().unwrap().push(*p));
    let streamed: Vec<_> = c
        .attendance_stream(opts)
        .map(Result::unwrap)
        .collect()
        .await;
    let expected: Vec<_> = all.iter().filter(|a| a.time >= since).cloned().collect();
    assert_eq!(streamed, expected);
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!(last.bytes_total, Some(last.bytes_done));
    assert_eq!(last.records_total, Some(all.len() as u64));
    assert_eq!(last.records_done, all.len() as u64);

    let p = sim.punch("1001", 1, 0);
    assert_eq!(c.attendance().await.unwrap().records.last(), Some(&p));

    // ---- templates
    let templates = c.templates().await.unwrap();
    assert_eq!(templates, sim.templates());
    assert!(!templates.is_empty());
    let t0 = &templates[0];
    assert_eq!(
        c.template(t0.uid, t0.finger).await.unwrap().as_ref(),
        Some(t0)
    );
    assert_eq!(
        c.template(t0.uid, (t0.finger + 1) % 10).await.unwrap(),
        None
    );

    let uid2 = sim.user("1002").unwrap().uid();
    let new_t = Template {
        uid: uid2,
        finger: 9,
        flag: 1,
        data: (0..1500u32)
            .map(|i| (i * 7) as u8)
            .collect::<Vec<_>>()
            .into(),
    };
    c.upload_template(&new_t).await.unwrap();
    assert!(sim.templates().contains(&new_t));
    assert_eq!(c.template(uid2, 9).await.unwrap(), Some(new_t.clone()));
    c.delete_template(uid2, 9).await.unwrap();
    assert!(
        !sim.templates()
            .iter()
            .any(|t| t.uid == uid2 && t.finger == 9)
    );

    let mut batch_user = sim.user("1004").unwrap();
    batch_user.set_card(31337);
    let batch_t = Template {
        uid: batch_user.uid(),
        finger: 8,
        flag: 1,
        data: vec![0x5a; 700].into(),
    };
    c.upload_batch(
        std::slice::from_ref(&batch_user),
        std::slice::from_ref(&batch_t),
    )
    .await
    .unwrap();
    assert_eq!(sim.user("1004").unwrap().card(), 31337);
    assert!(sim.templates().contains(&batch_t));

    // ---- door
    c.unlock(Duration::from_secs(3)).await.unwrap();
    assert_eq!(sim.last_unlock(), Some(30));
    assert!(sim.lock_released());
    c.unlock_raw(12).await.unwrap();
    assert_eq!(sim.last_unlock(), Some(12));
    sim.open_door();
    let d = c.door_state().await.unwrap();
    assert_eq!(d.status, DoorStatus::Open);
    sim.close_door();
    assert_eq!(c.door_state().await.unwrap().status, DoorStatus::Closed);
    let all = c.door_states().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].door, all[0].status), (1, DoorStatus::Closed));

    // ---- control
    {
        let mut g = c.disable().await.unwrap();
        assert!(!sim.is_enabled());
        let _ = g.free_sizes().await.unwrap();
        g.enable().await.unwrap();
        assert!(sim.is_enabled());
    }
    {
        let _g = c.disable().await.unwrap();
        assert!(!sim.is_enabled());
    }
    let _ = c.free_sizes().await.unwrap();
    assert!(sim.is_enabled(), "guard drop re-enables");
    c.test_voice(0).await.unwrap();
    c.refresh_data().await.unwrap();

    // ---- events
    {
        let mask = EventMask::empty()
            .with(EventFlag::AttLog)
            .with(EventFlag::Alarm);
        let mut ev = c.events(mask).await.unwrap();
        let punched = sim.punch("1005", 1, 1);
        let got = tokio::time::timeout(Duration::from_secs(5), ev.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Event::Attendance(a) = got else {
            panic!("{got:?}")
        };
        assert_eq!(a.user_id, "1005");
        assert_eq!((a.verify, a.state), (1, 1));
        assert_eq!(a.time, punched.time);
        sim.tamper();
        let got = tokio::time::timeout(Duration::from_secs(5), ev.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got, Event::Alarm(Alarm::Tamper));
    }

    // ---- clearing
    c.clear_attendance().await.unwrap();
    assert!(sim.attendance().is_empty());
    assert!(c.attendance().await.unwrap().records.is_empty());

    c.disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sim.session_count(), 0);
}

#[tokio::test]
async fn zk8_tcp() {
    exercise(Profile::zk8(), Transport::Tcp, None).await;
}

#[tokio::test]
async fn zk8_tcp_comm_key() {
    exercise(Profile::zk8(), Transport::Tcp, Some(KEY)).await;
}

#[tokio::test]
async fn zk8_udp() {
    exercise(Profile::zk8(), Transport::Udp, None).await;
}

#[tokio::test]
async fn zk8_udp_comm_key() {
    exercise(Profile::zk8(), Transport::Udp, Some(KEY)).await;
}

#[tokio::test]
async fn zk6_udp() {
    exercise(Profile::zk6(), Transport::Udp, None).await;
}

#[tokio::test]
async fn zk6_udp_comm_key() {
    exercise(Profile::zk6(), Transport::Udp, Some(KEY)).await;
}

#[tokio::test]
async fn auto_falls_back_to_udp_on_zk6() {
    let r = rig(Profile::zk6(), Transport::Udp, None, 3, 0).await;
    // Same port number on TCP: nothing listens there (zk6 has no TCP).
    let c = Client::connect(r.addr, r.options.clone().transport(Transport::Auto))
        .await
        .unwrap();
    assert_eq!(c.transport(), Transport::Udp);
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn auto_prefers_tcp() {
    let r = rig(Profile::zk8(), Transport::Tcp, None, 3, 0).await;
    let c = Client::connect(r.addr, r.options.clone().transport(Transport::Auto))
        .await
        .unwrap();
    assert_eq!(c.transport(), Transport::Tcp);
}

#[tokio::test]
async fn comm_key_missing_or_wrong() {
    for transport in [Transport::Tcp, Transport::Udp] {
        let r = rig(Profile::zk8(), transport, Some(KEY), 0, 0).await;
        let no_key = r.options.clone().comm_key(0);
        let e = Client::connect(r.addr, no_key).await.unwrap_err();
        assert_eq!(e, Error::Unauthorized { key_sent: false });
        let wrong = r.options.clone().comm_key(KEY + 1);
        let e = Client::connect(r.addr, wrong).await.unwrap_err();
        assert_eq!(e, Error::Unauthorized { key_sent: true });
        assert!(e.is_refusal());
    }
}

#[tokio::test]
async fn empty_tables_and_first_user_layout() {
    for (profile, transport) in [
        (Profile::zk8(), Transport::Tcp),
        (Profile::zk6(), Transport::Udp),
    ] {
        let r = rig(profile.clone(), transport, None, 0, 0).await;
        let mut c = Client::connect(r.addr, r.options.clone()).await.unwrap();
        assert!(c.users().await.unwrap().is_empty());
        assert!(c.attendance().await.unwrap().records.is_empty());
        assert!(c.templates().await.unwrap().is_empty());
        // Empty table: 72 bytes tried first, then 28 (§6.1).
        let u = c.add_user(NewUser::new("5")).await.unwrap();
        assert_eq!(u.layout(), profile.user_layout);
        assert_eq!(r.sim.users(), vec![u.clone()]);
        assert_eq!(u.uid(), 1);
        if profile.user_layout == UserLayout::Compact28 {
            assert!(
                r.sim
                    .commands()
                    .iter()
                    .filter(|c| c.name() == "CMD_USER_WRQ")
                    .count()
                    >= 2
            );
        }
    }
}

#[tokio::test]
async fn drop_sends_exit() {
    let r = rig(Profile::zk8(), Transport::Udp, None, 0, 0).await;
    let c = Client::connect(r.addr, r.options.clone()).await.unwrap();
    assert_eq!(r.sim.session_count(), 1);
    drop(c);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.sim.session_count(), 0);
}

#[tokio::test]
async fn restart_and_power_off_end_the_session() {
    let r = rig(Profile::zk8(), Transport::Tcp, None, 0, 0).await;
    let c = Client::connect(r.addr, r.options.clone()).await.unwrap();
    c.restart().await.unwrap();
    let c = Client::connect(r.addr, r.options.clone()).await.unwrap();
    c.power_off().await.unwrap();
    let cmds = r.sim.commands();
    assert!(cmds.iter().any(|c| c.name() == "CMD_RESTART"));
    assert!(cmds.iter().any(|c| c.name() == "CMD_POWEROFF"));
}

#[tokio::test]
async fn attach_over_duplex() {
    let sim = Simulator::new(SimConfig {
        users: 5,
        attendance: 40,
        ..SimConfig::default()
    });
    let (a, b) = tokio::io::duplex(4096);
    let s2 = sim.clone();
    tokio::spawn(async move { s2.serve_stream(b).await });
    let mut c = Client::attach(a, Options::new()).await.unwrap();
    assert_eq!(c.users().await.unwrap(), sim.users());
    assert_eq!(c.attendance().await.unwrap().records, sim.attendance());
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn gbk_names() {
    use zkproto::terminal::record::TextEncoding;
    let sim = Simulator::new(SimConfig {
        encoding: TextEncoding::Gbk,
        users: 3,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), None).await.unwrap();
    let opts = Options::new()
        .transport(Transport::Tcp)
        .encoding(TextEncoding::Gbk);
    let mut c = Client::connect(server.tcp_addr().unwrap(), opts)
        .await
        .unwrap();
    let u = c.add_user(NewUser::new("8801").name("张伟")).await.unwrap();
    assert_eq!(u.name(TextEncoding::Gbk), "张伟");
    assert_eq!(
        sim.user("8801").unwrap().name_raw()[..4],
        [0xd5, 0xc5, 0xce, 0xb0]
    );
}

#[tokio::test]
async fn restore_to_an_empty_replacement_of_the_other_layout() {
    // A 72-byte terminal's users (and templates) restored onto an empty
    // 28-byte one: the device refuses the backup's layout on the first
    // write, the library plans again in the other one and writes it all.
    let src = rig(Profile::zk8(), Transport::Tcp, None, 6, 0).await;
    let dst = rig(Profile::zk6(), Transport::Udp, None, 0, 0).await;
    let mut a = Client::connect(src.addr, src.options.clone())
        .await
        .unwrap();
    let users = a.users().await.unwrap();
    let layout = a.user_layout().unwrap();
    assert_eq!(layout, UserLayout::Extended72);
    let templates = a.templates().await.unwrap();
    a.disconnect().await.unwrap();

    let mut b = Client::connect(dst.addr, dst.options.clone())
        .await
        .unwrap();
    let backup = zkproto::terminal::restore::Tables {
        users: &users,
        templates: &templates,
        encoding: b.encoding(),
    };
    let planned = b.plan_restore(backup, layout).await.unwrap();
    assert!(!planned.layout_known);
    assert_eq!(planned.applied.count(), 0, "planning writes nothing");
    assert!(dst.sim.users().is_empty());

    let report = b.restore(backup, layout).await.unwrap();
    assert_eq!(
        report.layout,
        UserLayout::Compact28,
        "the device's own layout"
    );
    assert_eq!(report.applied.count(), report.changes());
    assert_eq!(report.applied.users_written(), users.len());
    assert_eq!(report.applied.templates_written(), templates.len());
    let on_device = b.users().await.unwrap();
    let enc = b.encoding();
    let mut ids: Vec<String> = on_device.iter().map(|u| u.user_id(enc)).collect();
    let mut want: Vec<String> = users.iter().map(|u| u.user_id(enc)).collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want);

    // Again: nothing left to change.
    let again = b.restore(backup, layout).await.unwrap();
    assert_eq!((again.changes(), again.applied.count()), (0, 0));
    assert!(again.layout_known);
    b.disconnect().await.unwrap();
}
