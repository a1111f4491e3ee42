//! Times the benchmark download — 100,000 attendance records, then 10,000
//! users, each with connect and disconnect — from an in-process simulator
//! over loopback TCP (without pacing unless `PACING` says otherwise), and
//! prints the best and the median of the runs.
//!
//! `cargo run --release --example download_timing -- [RUNS] [CHUNK] [PACING]`
//!
//! The setup is that of `benches/end_to_end.rs` (two runtime workers for
//! the simulator, the client on the calling thread). On a shared machine
//! the best run is the figure that does not depend on the other load; the
//! median shows what the load costs. `CHUNK` sets the client's
//! `Options::chunk_size` (default 65,472 bytes per `1504` request; `-` keeps
//! it); `PACING` is `none` (default), `link` or `firmware`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use zkproto::terminal::client::{Client, Options, Transport};
use zkproto::terminal::sim::{Pacing, SimConfig, Simulator};

const ATTENDANCE: usize = 100_000;
const USERS: usize = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map_or(Ok(20), |s| s.parse())?.max(1);
    let chunk: Option<u32> = match args.next() {
        Some(s) if s != "-" => Some(s.parse()?),
        _ => None,
    };
    let pacing: Pacing = args.next().map_or(Ok(Pacing::None), |s| s.parse())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let sim = Simulator::new(SimConfig {
        users: USERS,
        attendance: ATTENDANCE,
        pacing: Some(pacing),
        ..SimConfig::default()
    });
    let any: SocketAddr = "127.0.0.1:0".parse()?;
    let server = rt.block_on(sim.serve(Some(any), None))?;
    let addr = server.tcp_addr().ok_or("no TCP address")?;
    let options = || {
        let o = Options::new()
            .transport(Transport::Tcp)
            .timeout(Duration::from_secs(5));
        chunk.map_or(o.clone(), |c| o.chunk_size(c))
    };
    let mut attendance = Vec::with_capacity(runs);
    let mut users = Vec::with_capacity(runs);
    for _ in 0..runs {
        rt.block_on(async {
            let t = Instant::now();
            let mut c = Client::connect(addr, options()).await?;
            let log = c.attendance().await?;
            c.disconnect().await?;
            attendance.push(t.elapsed());
            if log.records.len() != ATTENDANCE {
                return Err(format!("{} attendance records", log.records.len()).into());
            }
            let t = Instant::now();
            let mut c = Client::connect(addr, options()).await?;
            let u = c.users().await?;
            c.disconnect().await?;
            users.push(t.elapsed());
            if u.len() != USERS {
                return Err(format!("{} users", u.len()).into());
            }
            Ok::<(), Box<dyn std::error::Error>>(())
        })?;
    }
    let mut both: Vec<Duration> = attendance
        .iter()
        .zip(&users)
        .map(|(a, u)| *a + *u)
        .collect();
    for v in [&mut attendance, &mut users, &mut both] {
        v.sort();
    }
    let show = |name: &str, v: &[Duration]| {
        let best = v.first().copied().unwrap_or_default();
        let median = v.get(v.len() / 2).copied().unwrap_or_default();
        println!("{name:<28} best {best:>10.2?}   median {median:>10.2?}");
    };
    println!("{runs} runs, chunk {} bytes", chunk.unwrap_or(0xFFC0));
    show("100,000 attendance records", &attendance);
    show("10,000 users", &users);
    show("both (one run)", &both);
    Ok(())
}
