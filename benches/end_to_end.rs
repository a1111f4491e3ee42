//! End to end: the async client downloading attendance records and users
//! from the in-process simulator over loopback TCP and UDP, with each reply
//! pacing of the simulator.
//!
//! `cargo bench --bench end_to_end -- --warm-up-time 1 --measurement-time 3`
//!
//! * `none`: frames back to back (one write per reply): the client's and
//!   the codec's own speed.
//! * `link` (the simulator's default): each frame its own write, 5 ms
//!   between the frames of a reply.
//! * `firmware`: 20 ms after each data packet and 1,460-byte TCP segments
//!   about 1 ms apart, as a real terminal sends them. It is slow (seconds
//!   per 100,000 records), so it is measured on tables a tenth of the size;
//!   the throughput (records per second) is what compares.
//!
//! On a machine shared with other work the means move with that load; the
//! `download_timing` example times the same `none` download and reports the
//! best and the median of N runs.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::runtime::Runtime;
use zkproto::terminal::client::{Client, Options, Transport};
use zkproto::terminal::sim::{Pacing, SimConfig, SimServer, Simulator};

const ATTENDANCE: usize = 100_000;
const USERS: usize = 10_000;
/// Table sizes of the `firmware` measurements.
const FIRMWARE_ATTENDANCE: usize = ATTENDANCE / 10;
const FIRMWARE_USERS: usize = USERS / 10;

fn start(rt: &Runtime, pacing: Pacing, users: usize, attendance: usize) -> (Simulator, SimServer) {
    let sim = Simulator::new(SimConfig {
        users,
        attendance,
        pacing: Some(pacing),
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = rt.block_on(sim.serve(Some(any), Some(any))).unwrap();
    (sim, server)
}

fn options(t: Transport) -> Options {
    Options::new().transport(t).timeout(Duration::from_secs(5))
}

/// Benchmarks the attendance and user downloads from one simulator.
fn downloads(
    c: &mut Criterion,
    rt: &Runtime,
    pacing: Pacing,
    (users, attendance): (usize, usize),
    transports: &[Transport],
) {
    let (_sim, server) = start(rt, pacing, users, attendance);
    let targets: Vec<(String, Transport, SocketAddr)> = transports
        .iter()
        .map(|&t| {
            let (name, addr) = match t {
                Transport::Udp => ("udp", server.udp_addr().unwrap()),
                _ => ("tcp", server.tcp_addr().unwrap()),
            };
            (format!("{name}_{pacing}"), t, addr)
        })
        .collect();

    let mut g = c.benchmark_group(format!("end_to_end_attendance_{}k", attendance / 1000));
    g.sample_size(10);
    g.throughput(Throughput::Elements(attendance as u64));
    for (name, t, addr) in &targets {
        let (t, addr) = (*t, *addr);
        g.bench_function(name, |b| {
            b.to_async(rt).iter(|| async move {
                let mut client = Client::connect(addr, options(t)).await.unwrap();
                let log = client.attendance().await.unwrap();
                assert_eq!(log.records.len(), attendance);
                client.disconnect().await.unwrap();
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group(format!("end_to_end_users_{}k", users / 1000));
    g.sample_size(10);
    g.throughput(Throughput::Elements(users as u64));
    for (name, t, addr) in &targets {
        let (t, addr) = (*t, *addr);
        g.bench_function(name, |b| {
            b.to_async(rt).iter(|| async move {
                let mut client = Client::connect(addr, options(t)).await.unwrap();
                let u = client.users().await.unwrap();
                assert_eq!(u.len(), users);
                client.disconnect().await.unwrap();
            })
        });
    }
    g.finish();
    drop(server);
}

fn bench_download(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let full = (USERS, ATTENDANCE);
    downloads(
        c,
        &rt,
        Pacing::None,
        full,
        &[Transport::Tcp, Transport::Udp],
    );
    downloads(c, &rt, Pacing::link(), full, &[Transport::Tcp]);
    downloads(
        c,
        &rt,
        Pacing::firmware(),
        (FIRMWARE_USERS, FIRMWARE_ATTENDANCE),
        &[Transport::Tcp],
    );
}

criterion_group!(benches, bench_download);
criterion_main!(benches);
