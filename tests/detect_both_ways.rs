//! Each client against the other protocol's simulator fails fast with an
//! error naming the other device type (reference §10).

use std::time::{Duration, Instant};

/// Well under the clients' connect timeouts: failing must not mean waiting.
const FAST: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn terminal_client_against_panel_simulator_names_a_c3_panel() {
    use zkproto::panel::sim::{ForeignBytes, Profile, SimConfig, Simulator};
    let mut profile = Profile::new_firmware(4);
    profile.foreign_bytes = ForeignBytes::ErrorReply;
    let sim = Simulator::new(SimConfig {
        profile,
        ..SimConfig::default()
    });
    let server = sim
        .serve(Some("127.0.0.1:0".parse().unwrap()), None, None)
        .await
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let options = zkproto::terminal::client::Options::new()
        .transport(zkproto::terminal::client::Transport::Tcp)
        .connect_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let e = zkproto::terminal::client::Client::connect(addr, options)
        .await
        .unwrap_err();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    match &e {
        zkproto::terminal::client::Error::NotATerminal { what } => {
            assert!(what.contains("C3/inBio"), "{what}");
        }
        other => panic!("expected NotATerminal, got {other}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn panel_client_against_terminal_simulator_names_a_zk_terminal() {
    use zkproto::terminal::sim::{SimConfig, Simulator};
    let sim = Simulator::new(SimConfig::default());
    let server = sim
        .serve(Some("127.0.0.1:0".parse().unwrap()), None)
        .await
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let options = zkproto::panel::client::Options::new().connect_timeout(Duration::from_secs(5));
    let started = Instant::now();
    let e = zkproto::panel::client::Client::connect(addr, options)
        .await
        .unwrap_err();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    match &e {
        zkproto::panel::client::Error::NotAPanel { what } => {
            assert!(what.contains("standalone ZKTeco terminal"), "{what}");
        }
        other => panic!("expected NotAPanel, got {other}"),
    }
    assert!(!e.is_network());
    server.shutdown().await;
}

#[tokio::test]
async fn panel_client_without_detection_reports_busy_or_closed_fast() {
    use zkproto::terminal::sim::{SimConfig, Simulator};
    let sim = Simulator::new(SimConfig::default());
    let server = sim
        .serve(Some("127.0.0.1:0".parse().unwrap()), None)
        .await
        .unwrap();
    let addr = server.tcp_addr().unwrap();
    let options = zkproto::panel::client::Options::new().detect_terminal(false);
    let started = Instant::now();
    let e = zkproto::panel::client::Client::connect(addr, options)
        .await
        .unwrap_err();
    assert!(started.elapsed() < FAST);
    assert!(
        matches!(e, zkproto::panel::client::Error::Busy { .. }),
        "{e}"
    );
    server.shutdown().await;
}

/// Real panels either ignore the terminal's CONNECT (old firmware: silence)
/// or hang up (reference c3-panel §10). The terminal client then probes with
/// a read-only panel request on a fresh connection and names what it found.
#[tokio::test]
async fn terminal_client_probes_a_silent_or_closing_panel() {
    use zkproto::panel::sim::{ForeignBytes, Profile, SimConfig, Simulator};
    for (behaviour, bound) in [
        (ForeignBytes::Ignore, Duration::from_millis(1000 + 1500)),
        (ForeignBytes::Close, FAST),
    ] {
        let mut profile = Profile::old_firmware(2);
        profile.foreign_bytes = behaviour;
        let sim = Simulator::new(SimConfig {
            profile,
            ..SimConfig::default()
        });
        let server = sim
            .serve(Some("127.0.0.1:0".parse().unwrap()), None, None)
            .await
            .unwrap();
        let options = zkproto::terminal::client::Options::new()
            .transport(zkproto::terminal::client::Transport::Tcp)
            .connect_timeout(Duration::from_secs(1))
            .retries(0);
        let started = Instant::now();
        let e =
            zkproto::terminal::client::Client::connect(server.tcp_addr().unwrap(), options.clone())
                .await
                .unwrap_err();
        assert!(
            started.elapsed() < bound,
            "{behaviour:?} took {:?}",
            started.elapsed()
        );
        match &e {
            zkproto::terminal::client::Error::NotATerminal { what } => {
                assert!(what.contains("C3/inBio"), "{what}");
            }
            other => panic!("{behaviour:?}: expected NotATerminal, got {other}"),
        }
        // With the probe turned off the original failure is reported.
        let e = zkproto::terminal::client::Client::connect(
            server.tcp_addr().unwrap(),
            options.detect_panel(false),
        )
        .await
        .unwrap_err();
        assert!(
            !matches!(e, zkproto::terminal::client::Error::NotATerminal { .. }),
            "{behaviour:?}: {e}"
        );
        server.shutdown().await;
    }
}
