//! `zksim`: a simulated ZKTeco terminal, or a C3/inBio access panel, on TCP
//! and/or UDP.
//!
//! ```text
//! cargo run --example zksim --features simulator -- \
//!     --tcp 127.0.0.1:4370 --udp 127.0.0.1:4370 [--profile zk8|zk8-1008|zk6] \
//!     [--users N] [--attendance M] [--comm-key K] [--encoding gbk] [--state FILE] \
//!     [--pacing firmware|link|none]
//! cargo run --example zksim --features simulator -- --kind c3 \
//!     --tcp 127.0.0.1:4370 [--udp ADDR] [--discovery ADDR] [--doors 1|2|4] \
//!     [--password PW] [--old-firmware] [--users N] [--attendance M]
//! ```
//!
//! Both kinds take the TCP limits of `zkproto::net::sim::NetLimits`:
//! `--max-connections N` (default 8; more are accepted and closed at once),
//! `--idle-timeout SECS` (default 8: a connection without a session, or
//! with a partial frame, that completes no frame for that long is closed)
//! and `--session-idle-timeout SECS` (default 600, 0 = never: an idle
//! session that does not listen for events is closed).
//!
//! With `--state`, a change is acknowledged only once the file is durably
//! written; when it cannot be written the command is refused. A state file
//! that cannot be loaded stops `zksim` with one line naming the file and
//! line, and exit status 1.
//!
//! With `--kind c3`, `--attendance` is the number of stored transactions and
//! `--discovery` binds the UDP socket that stands in for the broadcast port
//! 65535; `--profile`, `--comm-key`, `--encoding`, `--state` and `--pacing`
//! apply to the terminal only.
//!
//! `--pacing` sets how reply frames are put on the wire: `link` (the
//! default) writes each frame on its own a few milliseconds apart, so
//! clients that read one frame per socket read work; `firmware` adds the
//! firmware's 20 ms after each data packet and 1,460-byte TCP segments;
//! `none` writes frames back to back (benchmarks).
//!
//! The first line printed is `listening tcp=ADDR udp=ADDR` (`-` for a
//! transport that is not served). Commands are logged with `tracing`
//! (`RUST_LOG=debug` for more). Ctrl-C stops the server cleanly.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zkproto::net::sim::NetLimits;
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::sim::{Pacing, Profile, SimConfig, Simulator};

/// Which device to simulate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A standalone attendance terminal (port 4370 terminal protocol).
    Terminal,
    /// A C3/inBio access-control panel (PullSDK protocol).
    C3,
}

#[derive(Parser, Debug)]
#[command(
    name = "zksim",
    about = "Simulated ZKTeco attendance terminal or C3 access panel"
)]
struct Args {
    /// Device kind.
    #[arg(long, value_enum, default_value = "terminal")]
    kind: Kind,
    /// C3: number of doors (1, 2 or 4).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=4))]
    doors: u8,
    /// C3: communication password (`ComPwd`).
    #[arg(long, env = "ZKSIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// C3: old firmware (no 0x76 session connect, 8 tables, one RT record per poll).
    #[arg(long)]
    old_firmware: bool,
    /// C3: UDP address answering discovery (stands in for port 65535).
    #[arg(long)]
    discovery: Option<SocketAddr>,
    /// TCP address to listen on (port 0 picks a free port).
    #[arg(long)]
    tcp: Option<SocketAddr>,
    /// UDP address to listen on (port 0 picks a free port).
    #[arg(long)]
    udp: Option<SocketAddr>,
    /// Device profile: zk8 (TFT, TCP+UDP), zk8-1008 (zk8 with 1,008-byte
    /// burst packets) or zk6 (black & white, UDP only).
    #[arg(long, default_value = "zk8")]
    profile: String,
    /// Reply pacing: firmware (20 ms per data packet, 1,460-byte segments),
    /// link (frames a few ms apart) or none (back to back).
    #[arg(long, default_value = "link", value_parser = ["firmware", "link", "none"])]
    pacing: String,
    /// Number of demo users.
    #[arg(long, default_value_t = 10)]
    users: usize,
    /// Number of demo attendance records.
    #[arg(long, default_value_t = 50)]
    attendance: usize,
    /// Seed of the demo data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Communication key (0 = none).
    #[arg(long, env = "ZKSIM_COMM_KEY", hide_env_values = true)]
    comm_key: Option<u32>,
    /// Text encoding of names (utf-8, gbk, big5, windows-1251, …).
    #[arg(long, default_value = "utf-8")]
    encoding: String,
    /// State file: loaded at start, rewritten atomically on every change.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Start the device clock at the host's UTC time instead of the fixed default.
    #[arg(long)]
    host_time: bool,
    /// Most TCP connections open at once (more are accepted and closed at once).
    #[arg(long, default_value_t = NetLimits::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a connection without a session, or with a partial frame, may
    /// go without completing a frame.
    #[arg(long, default_value_t = NetLimits::DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    /// Seconds an idle session not listening for events is kept (0 = forever).
    #[arg(long, default_value_t = NetLimits::DEFAULT_SESSION_IDLE_TIMEOUT.as_secs_f64())]
    session_idle_timeout: f64,
}

/// A duration in seconds from the command line (0 < secs ≤ 1 day).
fn seconds(secs: f64, flag: &str) -> Result<Duration, String> {
    if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("--{flag} must be between 0 and 86400 seconds"))
    }
}

impl Args {
    fn limits(&self) -> Result<NetLimits, String> {
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        Ok(NetLimits {
            max_connections: self.max_connections,
            idle_timeout: seconds(self.idle_timeout, "idle-timeout")?,
            session_idle_timeout: if self.session_idle_timeout == 0.0 {
                None
            } else {
                Some(seconds(self.session_idle_timeout, "session-idle-timeout")?)
            },
        })
    }
}

fn utc_now() -> Option<DeviceTime> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let days = i64::try_from(secs / 86_400).ok()?;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(DeviceTime::new(
        u16::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        u8::try_from(rem / 3600).ok()?,
        u8::try_from(rem / 60 % 60).ok()?,
        u8::try_from(rem % 60).ok()?,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, for people and scripts: the error's Display text
            // (which names the file for state-file errors), not its Debug.
            eprintln!("zksim: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let limits = args.limits()?;
    if args.kind == Kind::C3 {
        return run_c3(args, limits).await;
    }
    let profile = Profile::by_name(&args.profile)
        .ok_or_else(|| format!("unknown profile {:?} (zk8, zk8-1008 or zk6)", args.profile))?;
    let pacing: Pacing = args.pacing.parse()?;
    let encoding = TextEncoding::from_label(&args.encoding)
        .ok_or_else(|| format!("unknown encoding {:?}", args.encoding))?;
    if args.tcp.is_none() && args.udp.is_none() {
        return Err("give --tcp ADDR and/or --udp ADDR".into());
    }
    let config = SimConfig {
        profile,
        comm_key: args.comm_key.map(CommKey::new),
        encoding,
        seed: args.seed,
        users: args.users,
        attendance: args.attendance,
        state_file: args.state.clone(),
        pacing: Some(pacing),
    };
    let sim = Simulator::open(config)?;
    sim.set_net_limits(limits);
    if let Some(t) = utc_now().filter(|_| args.host_time) {
        sim.set_time(t);
    }
    let server = sim.serve(args.tcp, args.udp).await?;
    print_listening(server.tcp_addr(), server.udp_addr());
    tracing::info!(
        profile = %sim.profile().name,
        users = sim.users().len(),
        attendance = sim.attendance().len(),
        "simulator ready"
    );
    until_ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}

/// The first line on stdout, which scripts wait for (port 0 resolved).
fn print_listening(tcp: Option<SocketAddr>, udp: Option<SocketAddr>) {
    println!("listening tcp={} udp={}", show(tcp), show(udp));
}

/// Waits for Ctrl-C, then says so.
async fn until_ctrl_c() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    Ok(())
}

fn show(a: Option<SocketAddr>) -> String {
    a.map_or_else(|| "-".to_string(), |a| a.to_string())
}

async fn run_c3(args: Args, limits: NetLimits) -> Result<(), Box<dyn std::error::Error>> {
    use zkproto::panel::sim as c3;
    if args.tcp.is_none() && args.udp.is_none() {
        return Err("give --tcp ADDR and/or --udp ADDR".into());
    }
    if args.state.is_some() || args.comm_key.is_some() {
        tracing::warn!("--state and --comm-key apply to the terminal only; ignored");
    }
    let profile = c3::Profile::by_doors(args.doors, args.old_firmware)
        .ok_or_else(|| format!("unsupported door count {} (1, 2 or 4)", args.doors))?;
    let config = c3::SimConfig {
        profile,
        password: args.password.clone().filter(|p| !p.is_empty()),
        users: args.users,
        transactions: args.attendance,
        seed: args.seed,
        ..c3::SimConfig::default()
    };
    let sim = c3::Simulator::new(config);
    sim.set_net_limits(limits);
    if let Some(t) = utc_now().filter(|_| args.host_time)
        && let Ok(t) =
            zkproto::panel::PanelTime::new(t.year, t.month, t.day, t.hour, t.minute, t.second)
    {
        sim.set_time(t);
    }
    let server = sim.serve(args.tcp, args.udp, args.discovery).await?;
    print_listening(server.tcp_addr(), server.udp_addr());
    tracing::info!(
        profile = %sim.profile().name,
        discovery = %show(server.discovery_addr()),
        users = sim.users().len(),
        transactions = sim.transactions().len(),
        "panel simulator ready"
    );
    until_ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
