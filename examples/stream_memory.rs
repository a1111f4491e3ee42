//! Streams attendance records and prints how much memory the client needed.
//!
//! Two modes:
//!
//! * in-process: `cargo run --release --example stream_memory -- 100000 1000000`
//!   starts a simulator with N records for each count and prints the most
//!   bulk-data bytes the client held at once (`Client::stats`);
//! * against a separate device or `zksim` process:
//!   `cargo run --release --example stream_memory -- --addr 127.0.0.1:4370`
//!   streams everything the device holds and also prints this process's peak
//!   resident memory (`VmHWM` from `/proc/self/status`, Linux), which then
//!   measures the client alone.
//!
//! Neither figure may grow with the record count.

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::Instant;
use zkproto::terminal::client::{Client, Options, StreamOptions, Transport};
use zkproto::terminal::sim::{SimConfig, Simulator};

/// Peak resident set size of this process in KiB, where the OS reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn stream(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let mut c = Client::connect(addr, Options::new().transport(Transport::Tcp)).await?;
    let t0 = Instant::now();
    let mut records = 0u64;
    {
        let mut s = std::pin::pin!(c.attendance_stream(StreamOptions::new()));
        while let Some(r) = s.next().await {
            r?;
            records += 1;
        }
    }
    let stats = c.stats();
    println!(
        "streamed {records} records in {:.2?}; client max buffered {} bytes; process peak RSS {} KiB",
        t0.elapsed(),
        stats.max_buffered,
        peak_rss_kib().map_or_else(|| "n/a".to_string(), |k| k.to_string()),
    );
    c.disconnect().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--addr") {
        let addr: SocketAddr = args.get(i + 1).ok_or("--addr needs HOST:PORT")?.parse()?;
        return stream(addr).await;
    }
    let counts: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let counts = if counts.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        counts
    };
    for n in counts {
        let sim = Simulator::new(SimConfig {
            users: 50,
            attendance: n,
            ..SimConfig::default()
        });
        let any: SocketAddr = "127.0.0.1:0".parse()?;
        let server = sim.serve(Some(any), None).await?;
        let addr = server.tcp_addr().ok_or("no TCP address")?;
        print!("N={n} (in-process simulator): ");
        stream(addr).await?;
        server.shutdown().await;
    }
    Ok(())
}
