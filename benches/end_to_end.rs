//! End to end: the async client downloading attendance records and users
//! from the in-process simulator over loopback TCP and UDP.
//!
//! `cargo bench --bench end_to_end -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::runtime::Runtime;
use zkproto::terminal::client::{Client, Options, Transport};
use zkproto::terminal::sim::{SimConfig, SimServer, Simulator};

const ATTENDANCE: usize = 100_000;
const USERS: usize = 10_000;

fn start(rt: &Runtime) -> (Simulator, SimServer) {
    let sim = Simulator::new(SimConfig {
        users: USERS,
        attendance: ATTENDANCE,
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = rt.block_on(sim.serve(Some(any), Some(any))).unwrap();
    (sim, server)
}

fn options(t: Transport) -> Options {
    Options::new().transport(t).timeout(Duration::from_secs(5))
}

fn bench_download(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_sim, server) = start(&rt);
    let targets = [
        ("tcp", Transport::Tcp, server.tcp_addr().unwrap()),
        ("udp", Transport::Udp, server.udp_addr().unwrap()),
    ];

    let mut g = c.benchmark_group("end_to_end_attendance_100k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ATTENDANCE as u64));
    for (name, t, addr) in targets {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async move {
                let mut client = Client::connect(addr, options(t)).await.unwrap();
                let log = client.attendance().await.unwrap();
                assert_eq!(log.records.len(), ATTENDANCE);
                client.disconnect().await.unwrap();
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("end_to_end_users_10k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(USERS as u64));
    for (name, t, addr) in targets {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async move {
                let mut client = Client::connect(addr, options(t)).await.unwrap();
                let users = client.users().await.unwrap();
                assert_eq!(users.len(), USERS);
                client.disconnect().await.unwrap();
            })
        });
    }
    g.finish();
    drop(server);
}

criterion_group!(benches, bench_download);
criterion_main!(benches);
