//! Streams N attendance records from an in-process simulator and prints
//! the most bulk-data bytes the client held at once (`Client::stats`).
//! The figure must not grow with N.
//!
//! ```text
//! cargo run --release --example stream_memory --features client,simulator -- 100000 1000000
//! ```

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::Instant;
use zkproto::terminal::client::{Client, Options, StreamOptions, Transport};
use zkproto::terminal::sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
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
            "N={n}: streamed {records} records ({} MB of records) in {:.2?}; client max buffered {} bytes",
            n * 40 / 1_000_000,
            t0.elapsed(),
            stats.max_buffered
        );
        c.disconnect().await?;
        server.shutdown().await;
    }
    Ok(())
}
