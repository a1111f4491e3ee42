//! `zksim --pacing firmware|link|none`: each mode serves complete
//! downloads, and an unknown mode is a usage error.
//!
//! The example binaries are built on first use (see `tests/common`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[allow(dead_code)]
mod common;
use common::{Run, bin, wait_with_deadline};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use zkproto::terminal::client::{Client, Options, Transport};

/// A zksim child process, killed on drop.
struct Zksim(Child);

impl Drop for Zksim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts zksim on a free TCP port; returns it and its address.
fn start(pacing: &str) -> (Zksim, SocketAddr) {
    let mut child = Command::new(bin("zksim"))
        .args(["--tcp", "127.0.0.1:0", "--profile", "zk8-1008"])
        .args(["--users", "20", "--attendance", "300", "--pacing", pacing])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn zksim");
    let stdout = child.stdout.take().expect("stdout");
    let sim = Zksim(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("tcp="))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (sim, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zksim_serves_complete_downloads_with_each_pacing() {
    for pacing in ["firmware", "link", "none"] {
        let (_sim, addr) = start(pacing);
        let opts = Options::new().transport(Transport::Tcp);
        let mut c = Client::connect(addr, opts).await.unwrap();
        // 300 × 40 + 4 bytes in 1,008-byte packets: a 12-packet burst.
        assert_eq!(c.attendance().await.unwrap().records.len(), 300, "{pacing}");
        assert_eq!(c.users().await.unwrap().len(), 20, "{pacing}");
        c.disconnect().await.unwrap();
    }
}

#[test]
fn zksim_refuses_an_unknown_pacing() {
    let child = Command::new(bin("zksim"))
        .args(["--tcp", "127.0.0.1:0", "--pacing", "turbo"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zksim");
    let run = Run::from(wait_with_deadline(child, Duration::from_secs(30)));
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("firmware"), "{run:#?}");
    assert!(run.stdout.is_empty(), "{run:#?}");
}
