//! `--device` parsing, connecting, and the in-process simulator behind
//! `--device sim`.

use crate::fail::Failure;
use std::time::Duration;
use zkproto::terminal::client::{Client, Options, Transport};
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::record::text::TextEncoding;
use zkproto::terminal::sim::{Pacing, Profile, SimConfig, SimServer, Simulator};

/// Demo users of `--device sim`.
pub const SIM_USERS: usize = 8;
/// Demo attendance records of `--device sim`.
pub const SIM_ATTENDANCE: usize = 50;

/// Where to connect.
#[derive(Debug, Clone)]
pub enum Target {
    /// A real device (or a simulator in another process).
    Net {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// An in-process simulator.
    Sim {
        /// Device profile (boxed: it is large).
        profile: Box<Profile>,
        /// Encoding override from `sim:gbk`.
        encoding: Option<TextEncoding>,
    },
}

impl Target {
    /// Parses `HOST[:PORT]`, `[V6]:PORT`, `sim`, `sim:zk6`, `sim:gbk`, `sim:zk6:gbk`.
    pub fn parse(s: &str) -> Result<Target, Failure> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Failure::usage("--device is empty").hint("use HOST[:PORT] or sim"));
        }
        if s.eq_ignore_ascii_case("sim") || s.to_ascii_lowercase().starts_with("sim:") {
            let mut profile = Profile::zk8();
            let mut encoding = None;
            for tok in s.split([':', ',']).skip(1).filter(|t| !t.is_empty()) {
                if let Some(p) = Profile::by_name(tok) {
                    profile = p;
                } else if let Some(e) = TextEncoding::from_label(tok) {
                    encoding = Some(e);
                } else {
                    return Err(Failure::usage(format!(
                        "unknown simulator option {tok:?} in --device {s}"
                    ))
                    .hint("use sim, sim:zk8, sim:zk6, sim:gbk or sim:zk6:gbk"));
                }
            }
            return Ok(Target::Sim {
                profile: Box::new(profile),
                encoding,
            });
        }
        let bad_port = |p: &str| {
            Failure::usage(format!("bad port {p:?} in --device {s}"))
                .hint("ports are 1-65535; the default is 4370")
        };
        let port_of = |p: &str| {
            p.parse::<u16>()
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| bad_port(p))
        };
        if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| Failure::usage(format!("missing ']' in --device {s}")))?;
            let port = match after.strip_prefix(':') {
                Some(p) => port_of(p)?,
                None if after.is_empty() => 4370,
                None => {
                    return Err(Failure::usage(format!(
                        "unexpected {after:?} in --device {s}"
                    )));
                }
            };
            return Ok(Target::Net {
                host: host.to_string(),
                port,
            });
        }
        match s.rsplit_once(':') {
            Some((host, p)) if !host.contains(':') => Ok(Target::Net {
                host: host.to_string(),
                port: port_of(p)?,
            }),
            _ => Ok(Target::Net {
                host: s.to_string(),
                port: 4370,
            }),
        }
    }

    /// How the device is named in messages.
    pub fn label(&self) -> String {
        match self {
            Target::Net { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Net { host, port } => format!("{host}:{port}"),
            Target::Sim { profile, .. } => format!("sim:{}", profile.name),
        }
    }
}

/// Connection settings from the global flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TCP, UDP or both.
    pub transport: Transport,
    /// Comm key (0 = none).
    pub comm_key: u32,
    /// Per-answer timeout.
    pub timeout: Duration,
    /// Text encoding.
    pub encoding: TextEncoding,
}

/// A connected client and, for `--device sim`, the simulator it talks to.
pub struct Session {
    /// The client.
    pub client: Client,
    /// Encoding in use.
    pub encoding: TextEncoding,
    /// The simulator (kept alive for the session).
    pub sim: Option<(Simulator, SimServer)>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sim", &self.sim.is_some())
            .finish()
    }
}

/// UDP attempts per request: the first and one retransmission.
const UDP_ATTEMPTS: u32 = 2;

/// The client options for `--timeout T`: every wait is bounded by `T`.
/// A request gets `T` for its answer (on UDP shared by its two attempts,
/// `T / 2` each; TCP does not retransmit); a bulk read gets `T` for the
/// answer to `1503` and at most `T` without progress after that, within
/// the overall allowance `T × (2 + chunks + retries) + 200 ms per KiB` (see
/// `zkproto::terminal::session::Budget::bulk_allowance`). Automatic
/// transport tries TCP (`T`, plus at most `min(T, 2 s)` for the C3 probe),
/// then UDP (`T`).
fn options(settings: &Settings, transport: Transport, encoding: TextEncoding) -> Options {
    let t = settings.timeout;
    let per_attempt = match transport {
        Transport::Tcp => t,
        Transport::Udp | Transport::Auto => t / UDP_ATTEMPTS,
    };
    Options::default()
        .transport(transport)
        .comm_key(settings.comm_key)
        .timeout(per_attempt)
        .chunk_timeout(t)
        .connect_timeout(per_attempt)
        .retries(UDP_ATTEMPTS - 1)
        .encoding(encoding)
}

/// Connects to the target (starting the simulator first for `sim`).
pub async fn connect(target: &Target, settings: &Settings) -> Result<Session, Failure> {
    let label = target.label();
    match target {
        Target::Net { host, port } => {
            let opts = options(settings, settings.transport, settings.encoding);
            let client = Client::connect((host.as_str(), *port), opts)
                .await
                .map_err(|e| Failure::from_client(&e, &label).on_transport(settings.transport))?;
            Ok(Session {
                client,
                encoding: settings.encoding,
                sim: None,
            })
        }
        Target::Sim { profile, encoding } => {
            let encoding = encoding.unwrap_or(settings.encoding);
            let sim = Simulator::new(SimConfig {
                profile: Profile::clone(profile),
                comm_key: (settings.comm_key != 0).then(|| CommKey::new(settings.comm_key)),
                encoding,
                seed: 1,
                users: SIM_USERS,
                attendance: SIM_ATTENDANCE,
                state_file: None,
                // Frames on their own, a few ms apart, as from a device.
                pacing: Some(Pacing::link()),
            });
            let server = serve(
                &sim,
                "127.0.0.1:0"
                    .parse()
                    .map_err(|_| Failure::usage("bad address"))?,
            )
            .await?;
            let (addr, transport) = match (server.tcp_addr(), server.udp_addr(), settings.transport)
            {
                (Some(a), _, Transport::Tcp | Transport::Auto) => (a, Transport::Tcp),
                (_, Some(a), Transport::Udp | Transport::Auto) => (a, Transport::Udp),
                _ => {
                    return Err(Failure::usage(format!(
                        "the {} simulator does not offer the transport asked for",
                        profile.name
                    ))
                    .hint("zk6 is UDP only: drop --tcp"));
                }
            };
            let client = Client::connect(addr, options(settings, transport, encoding))
                .await
                .map_err(|e| Failure::from_client(&e, &label).on_transport(transport))?;
            Ok(Session {
                client,
                encoding,
                sim: Some((sim, server)),
            })
        }
    }
}

/// Serves a simulator on `addr` (TCP and/or UDP as its profile offers).
pub async fn serve(sim: &Simulator, addr: std::net::SocketAddr) -> Result<SimServer, Failure> {
    let profile = sim.profile();
    let tcp = profile.tcp.then_some(addr);
    let udp = profile.udp.then_some(addr);
    sim.serve(tcp, udp).await.map_err(|e| {
        Failure::usage(format!("cannot listen on {addr}: {e}")).hint("is the port in use?")
    })
}

/// Makes the simulator's demo users punch in turn, one every `every`,
/// so that `events` has something to show.
pub fn spawn_punches(sim: Simulator, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        let mut n = 0usize;
        loop {
            tick.tick().await;
            let users = sim.users();
            if let Some(u) = users.get(n % users.len().max(1)) {
                let id = u.user_id(sim.encoding());
                sim.punch(&id, 1, u8::try_from(n % 2).unwrap_or(0));
            }
            n = n.wrapping_add(1);
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn device_specs() {
        let t = Target::parse("10.0.0.5").unwrap();
        assert_eq!(t.label(), "10.0.0.5:4370");
        assert_eq!(Target::parse("host:4371").unwrap().label(), "host:4371");
        assert_eq!(Target::parse("[::1]:5000").unwrap().label(), "[::1]:5000");
        assert_eq!(Target::parse("::1").unwrap().label(), "[::1]:4370");
        assert!(Target::parse("host:0").is_err());
        assert!(Target::parse("host:x").is_err());
        match Target::parse("sim:zk6:gbk").unwrap() {
            Target::Sim { profile, encoding } => {
                assert_eq!(profile.name, "zk6");
                assert_eq!(encoding, Some(TextEncoding::Gbk));
            }
            other => panic!("{other:?}"),
        }
        assert!(Target::parse("sim:nope").is_err());
    }
}
