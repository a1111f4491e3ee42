//! A stateful C3/inBio access-panel simulator (feature `simulator`).
//!
//! * [`Device`] is the pure panel model: frame bytes in, reply frames out,
//!   no I/O, time passed in. It owns the tables ([`State`]: users,
//!   authorisations, time zones, transactions, …), the parameters, the clock,
//!   1/2/4 doors with sensor, lock relay (timed, normally open), alarm bits,
//!   aux inputs and outputs, the 30-entry real-time queue, the connections
//!   (sessions, big-data buffers) and the injected [`Fault`]s.
//! * [`Simulator`] wraps a `Device` for tests: a cloneable handle with a
//!   synchronous control API ([`swipe`](Simulator::swipe),
//!   [`open_door`](Simulator::open_door), [`relay`](Simulator::relay),
//!   [`transactions`](Simulator::transactions), …) and
//!   [`serve`](Simulator::serve), which starts TCP, UDP and discovery
//!   servers on any addresses (port 0 allowed).
//! * [`Profile::new_firmware`] (session connect 0x76, text RT log 0x79,
//!   13 tables, 9-field users) and [`Profile::old_firmware`] (no 0x76 — it
//!   answers −13 so clients fall back to 0x01 —, 8 tables, 7-field users,
//!   one RT record per poll) are built in, for 1, 2 or 4 doors.
//!
//! Behaviour follows the reference (docs in [`device`]): one TCP client at a
//! time (a new client's first valid frame closes the previous connection),
//! the RT queue is cleared on every connect, a wrong communication password
//! is answered −14 and the socket closed, malformed SetDeviceData requests
//! are acknowledged but store nothing (clients must read back), results
//! larger than `MaxLen` go through big data, a standalone terminal's bytes
//! are ignored (or close the socket, per [`ForeignBytes`]).
//!
//! Use from a `#[tokio::test]` — the body below runs as is:
//!
//! ```
//! use zkproto::panel::sim::{Credential, SimConfig, Simulator};
//! use zkproto::panel::{Command, Frame, PanelSession, RtRecord, session::ConnectMode};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sim = Simulator::new(SimConfig { users: 3, ..SimConfig::default() });
//! let server = sim.serve(Some("127.0.0.1:0".parse().unwrap()), None, None).await?;
//! let mut tcp = tokio::net::TcpStream::connect(server.tcp_addr().unwrap()).await?;
//! let mut session = PanelSession::new();
//!
//! async fn exchange(tcp: &mut tokio::net::TcpStream, f: Frame) -> std::io::Result<Frame> {
//!     tcp.write_all(&f.to_bytes().unwrap()).await?;
//!     let mut head = [0u8; 5];
//!     tcp.read_exact(&mut head).await?;
//!     let mut rest = vec![0u8; usize::from(u16::from_le_bytes([head[3], head[4]])) + 3];
//!     tcp.read_exact(&mut rest).await?;
//!     Ok(Frame::decode(&[&head[..], &rest[..]].concat()).unwrap())
//! }
//! let reply = exchange(&mut tcp, session.connect(ConnectMode::Session, b"").unwrap()).await?;
//! session.handle_reply(&reply).unwrap();
//!
//! // A user badges at door 1: the panel grants access and queues the event.
//! let user = sim.users()[0].clone();
//! let t = sim.swipe(Credential::Card(user.card_no), 1);
//! assert!(sim.relay(1));
//! let reply = exchange(&mut tcp, session.request(Command::GetRtLog, &[]).unwrap()).await?;
//! let payload = session.handle_reply(&reply).unwrap().payload;
//! let RtRecord::Event(e) = RtRecord::decode_all(&payload).unwrap()[0] else { panic!() };
//! assert_eq!((e.pin, e.door, e.time), (user.pin, 1, t.time));
//! assert_eq!(sim.transactions().last(), Some(&t));
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod clock;
pub mod config;
pub mod device;
pub mod fault;
mod hardware;
mod server;
pub mod state;

pub use config::{ForeignBytes, Profile, SimConfig, TableLayout};
pub use device::{Device, Outgoing, PeerKey, RT_QUEUE_LEN};
pub use fault::Fault;
pub use hardware::Credential;
pub use server::SimServer;
pub use state::State;

use crate::net::sim::{Activity, NetLimits};
use crate::panel::command::Command;
use crate::panel::rtlog::{AlarmFlags, DoorSensor, DoorStatus, EventCode, RtEvent};
use crate::panel::table::{TableRow, TransactionRow, UserAuthorizeRow, UserRow, Value};
use crate::panel::time::PanelTime;
use core::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// State shared by the handle and the server tasks.
pub(crate) type Shared = crate::net::sim::Shared<Device>;

/// The panel keeps no state file: nothing to do after a change.
impl crate::net::sim::Model for Device {}

impl Shared {
    pub(crate) fn new_tcp_peer(&self) -> PeerKey {
        PeerKey::Tcp(self.next_conn_id())
    }

    pub(crate) fn handle(&self, peer: PeerKey, bytes: &[u8]) -> Vec<Outgoing> {
        self.with(|d, now| d.handle(peer, bytes, now))
    }

    pub(crate) fn foreign(&self, peer: PeerKey, bytes: &[u8]) -> Vec<Outgoing> {
        self.with(|d, _| d.foreign(peer, bytes))
    }

    /// What the connection of `peer` is doing (for its idle deadline). A
    /// panel client polls (c3-panel §2.4), so no connection waits idle for
    /// events.
    pub(crate) fn activity(&self, peer: &PeerKey) -> Activity {
        if self.lock().connected_peers().contains(peer) {
            Activity::Session
        } else {
            Activity::Opening
        }
    }

    pub(crate) fn take_kicked(&self, id: u64) -> bool {
        self.lock().take_kicked(id)
    }

    pub(crate) fn disconnect(&self, peer: &PeerKey) {
        self.with(|d, _| d.disconnect(peer));
    }
}

/// A cloneable handle on a simulated panel. See the [module documentation](self).
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("device", &*self.shared.lock())
            .finish()
    }
}

impl Simulator {
    /// A panel with demo data as configured.
    ///
    /// ```
    /// use zkproto::panel::sim::{Profile, SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig { profile: Profile::old_firmware(2), users: 4, ..SimConfig::default() });
    /// assert_eq!(sim.users().len(), 4);
    /// assert_eq!(sim.param("LockCount").as_deref(), Some("2"));
    /// ```
    pub fn new(config: SimConfig) -> Simulator {
        Simulator::from_device(Device::new(&config))
    }

    /// Wraps an existing panel model.
    ///
    /// ```
    /// use zkproto::panel::sim::{Device, SimConfig, Simulator};
    /// let sim = Simulator::from_device(Device::new(&SimConfig { users: 1, ..SimConfig::default() }));
    /// assert_eq!(sim.users().len(), 1);
    /// ```
    pub fn from_device(device: Device) -> Simulator {
        Simulator {
            shared: Arc::new(Shared::new(device)),
        }
    }

    /// Starts servers: TCP and UDP on the protocol port, and a UDP socket
    /// standing in for the discovery port 65535 (the simulator answers the
    /// sender directly instead of broadcasting). Port 0 picks a free port.
    ///
    /// ```
    /// # use zkproto::panel::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// let server = sim.serve(Some("127.0.0.1:0".parse().unwrap()), None, None).await?;
    /// assert!(server.tcp_addr().is_some());
    /// server.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(
        &self,
        tcp: Option<SocketAddr>,
        udp: Option<SocketAddr>,
        discovery: Option<SocketAddr>,
    ) -> std::io::Result<SimServer> {
        server::serve(
            self.shared.clone(),
            tcp,
            udp,
            discovery,
            self.shared.limits(),
        )
        .await
    }

    /// Sets the TCP connection limits used by servers started afterwards
    /// (and by [`serve_stream`](Self::serve_stream)); see [`NetLimits`].
    ///
    /// ```
    /// use zkproto::panel::sim::{SimConfig, Simulator};
    /// use zkproto::net::sim::NetLimits;
    /// let sim = Simulator::new(SimConfig::default());
    /// sim.set_net_limits(NetLimits { max_connections: 2, ..NetLimits::default() });
    /// assert_eq!(sim.net_limits().max_connections, 2);
    /// ```
    pub fn set_net_limits(&self, limits: NetLimits) {
        self.shared.set_limits(limits);
    }

    /// The TCP connection limits (default [`NetLimits::default`]).
    pub fn net_limits(&self) -> NetLimits {
        self.shared.limits()
    }

    /// Serves one TCP-like byte stream (e.g. one end of `tokio::io::duplex`)
    /// until it closes.
    ///
    /// ```
    /// # use zkproto::panel::sim::{SimConfig, Simulator};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # let sim = Simulator::new(SimConfig::default());
    /// let (client, served) = tokio::io::duplex(4096);
    /// let handle = sim.clone();
    /// let task = tokio::spawn(async move { handle.serve_stream(served).await });
    /// drop(client); // the stream closes: serving ends
    /// task.await.unwrap();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_stream<S>(&self, io: S)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (_keep, stop) = watch::channel(false);
        let peer = self.shared.new_tcp_peer();
        let limits = self.shared.limits();
        server::run_stream(self.shared.clone(), io, peer, stop, limits).await;
    }

    /// Runs `f` on the panel model (for anything the handle does not offer).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::table::UserRow;
    /// let n = sim.with_device(|d, _now| d.state().typed::<UserRow>().len());
    /// assert_eq!(n, 2);
    /// ```
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device, Instant) -> R) -> R {
        self.shared.with(f)
    }

    /// The profile.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert_eq!(sim.profile(), SimConfig::default().profile);
    /// ```
    pub fn profile(&self) -> Profile {
        self.shared.read(|d, _| d.profile().clone())
    }

    /// Users (`user` table).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert_eq!(sim.users().len(), 2);
    /// ```
    pub fn users(&self) -> Vec<UserRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// The user with this user id (`Pin`).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// let first = sim.users()[0].clone();
    /// assert_eq!(sim.user(first.pin), Some(first));
    /// ```
    pub fn user(&self, pin: u32) -> Option<UserRow> {
        self.users().into_iter().find(|u| u.pin == pin)
    }

    /// Inserts or replaces (same `Pin`) a user; fields the firmware's table
    /// lacks (`Name`, `UID` on the old layout) must be left at their default.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::table::UserRow;
    /// assert!(sim.put_user(UserRow { pin: 4242, card_no: 777, ..UserRow::default() }));
    /// assert_eq!(sim.user(4242).map(|u| u.card_no), Some(777));
    /// ```
    pub fn put_user(&self, user: UserRow) -> bool {
        self.shared.with(|d, _| d.state_mut().put_typed(&[user]))
    }

    /// Authorisations (`userauthorize` table).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::table::UserAuthorizeRow;
    /// let row = UserAuthorizeRow { pin: 4242, timezone_id: 1, doors: 0b0011 };
    /// sim.put_authorization(row);
    /// assert!(sim.authorizations().contains(&row));
    /// ```
    pub fn authorizations(&self) -> Vec<UserAuthorizeRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Inserts an authorisation (all three fields are the key).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::table::UserAuthorizeRow;
    /// let row = UserAuthorizeRow { pin: 4242, timezone_id: 1, doors: 0b0001 };
    /// assert!(sim.put_authorization(row));
    /// assert!(sim.authorizations().contains(&row));
    /// ```
    pub fn put_authorization(&self, row: UserAuthorizeRow) -> bool {
        self.shared.with(|d, _| d.state_mut().put_typed(&[row]))
    }

    /// The stored access log (`transaction` table), oldest first.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// let t = sim.swipe(Credential::Pin(sim.users()[0].pin), 1);
    /// assert_eq!(sim.transactions().last(), Some(&t));
    /// ```
    pub fn transactions(&self) -> Vec<TransactionRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Typed rows of any table `R` describes.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::table::UserRow;
    /// assert_eq!(sim.typed::<UserRow>(), sim.users());
    /// ```
    pub fn typed<R: TableRow>(&self) -> Vec<R> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Raw rows of a table by name (one value per field, in the table's order).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert_eq!(sim.rows("user").map(|r| r.len()), Some(2));
    /// assert!(sim.rows("no-such-table").is_none());
    /// ```
    pub fn rows(&self, table: &str) -> Option<Vec<Vec<Value>>> {
        self.shared
            .read(|d, _| d.state().rows(table).map(<[_]>::to_vec))
    }

    /// Someone presents a credential at door `door`'s reader; returns the
    /// transaction recorded (also queued as a real-time event).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// let user = sim.users()[1].clone();
    /// let t = sim.swipe(Credential::Card(user.card_no), 2);
    /// assert_eq!((t.pin, t.door), (user.pin, 2));
    /// ```
    pub fn swipe(&self, credential: Credential, door: u8) -> TransactionRow {
        self.shared.with(|d, now| d.swipe(credential, door, now))
    }

    /// The door is pushed open (sensor event 200, or 102 when locked).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(sim.open_door(1));
    /// assert!(sim.door_open(1));
    /// ```
    pub fn open_door(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.open_door(door, now))
    }

    /// The door closes (sensor event 201).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.open_door(1);
    /// assert!(sim.close_door(1));
    /// assert!(!sim.door_open(1));
    /// ```
    pub fn close_door(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.close_door(door, now))
    }

    /// Whether the door is physically open.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(!sim.door_open(1));
    /// sim.open_door(1);
    /// assert!(sim.door_open(1));
    /// ```
    pub fn door_open(&self, door: u8) -> bool {
        self.shared.read(|d, _| d.is_door_open(door))
    }

    /// What the status record reports for the door's sensor now.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::rtlog::DoorSensor;
    /// sim.open_door(1);
    /// assert_eq!(sim.door_sensor(1), DoorSensor::Open);
    /// ```
    pub fn door_sensor(&self, door: u8) -> DoorSensor {
        self.door_status()
            .sensor(usize::from(door))
            .unwrap_or(DoorSensor::Unknown)
    }

    /// Whether the lock relay of the door is energised (timers applied).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(!sim.relay(1));
    /// sim.swipe(Credential::Pin(sim.users()[0].pin), 1); // access granted
    /// assert!(sim.relay(1));
    /// ```
    pub fn relay(&self, door: u8) -> bool {
        self.shared.with(|d, now| {
            d.tick(now);
            d.relay(usize::from(door), now)
        })
    }

    /// Whether aux output `n` is on.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(!sim.aux_output(1));
    /// ```
    pub fn aux_output(&self, n: u8) -> bool {
        self.shared.with(|d, now| {
            d.tick(now);
            d.aux_output(usize::from(n), now)
        })
    }

    /// Whether aux input `n` is shorted.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(!sim.aux_input(1));
    /// sim.set_aux_input(1, true);
    /// assert!(sim.aux_input(1));
    /// ```
    pub fn aux_input(&self, n: u8) -> bool {
        self.shared.read(|d, _| d.aux_input(n))
    }

    /// Aux input `n` shorts (event 221) or opens (event 220).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(sim.set_aux_input(1, true));
    /// assert!(sim.aux_input(1));
    /// ```
    pub fn set_aux_input(&self, n: u8, shorted: bool) -> bool {
        self.shared.with(|d, now| d.set_aux_input(n, shorted, now))
    }

    /// The exit button of the door is pressed (event 202, lock opens).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(sim.press_exit_button(1));
    /// assert!(sim.relay(1));
    /// ```
    pub fn press_exit_button(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.press_exit_button(door, now))
    }

    /// An alarm event (100–199) on the door: sets its alarm bit.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::rtlog::EventCode;
    /// assert!(sim.raise_alarm(1, EventCode::DuressPasswordOpen));
    /// assert_ne!(sim.alarm(1).0, 0);
    /// ```
    pub fn raise_alarm(&self, door: u8, event: EventCode) -> bool {
        self.shared.with(|d, now| d.alarm(door, event, now))
    }

    /// Alarm flags of the door.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert_eq!(sim.alarm(1).0, 0);
    /// ```
    pub fn alarm(&self, door: u8) -> AlarmFlags {
        self.shared.with(|d, now| {
            d.tick(now);
            AlarmFlags(d.alarm_bits(door))
        })
    }

    /// The status record the panel would send now.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.press_exit_button(1);
    /// assert_eq!(sim.door_status().relay_on(1), Some(true));
    /// ```
    pub fn door_status(&self) -> DoorStatus {
        self.shared.with(|d, now| {
            d.tick(now);
            d.door_status(now)
        })
    }

    /// Events waiting in the real-time queue (at most 30).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// let user = sim.users()[0].clone();
    /// sim.swipe(Credential::Card(user.card_no), 1);
    /// assert_eq!(sim.queued_events().last().map(|e| (e.pin, e.door)), Some((user.pin, 1)));
    /// ```
    pub fn queued_events(&self) -> Vec<RtEvent> {
        self.shared.with(|d, now| {
            d.tick(now);
            d.queued_events()
        })
    }

    /// The clock now.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::time::PanelTime;
    /// assert!(sim.time() >= PanelTime::MIN);
    /// ```
    pub fn time(&self) -> PanelTime {
        self.shared.read(|d, now| d.time(now))
    }

    /// Sets the clock.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::time::PanelTime;
    /// let t = PanelTime::new(2025, 3, 1, 12, 0, 0).unwrap();
    /// sim.set_time(t);
    /// assert!(sim.time() >= t);
    /// ```
    pub fn set_time(&self, t: PanelTime) {
        self.shared.with(|d, now| d.set_time(t, now));
    }

    /// A parameter as the panel stores it (`DateTime` and `ComPwd` are not kept here).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert_eq!(sim.param("NoSuchParameter"), None);
    /// ```
    pub fn param(&self, name: &str) -> Option<String> {
        self.shared
            .read(|d, _| d.state().param(name).map(str::to_owned))
    }

    /// Sets a parameter directly (no validation).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.set_param("Door1Drivertime", "9");
    /// assert_eq!(sim.param("Door1Drivertime").as_deref(), Some("9"));
    /// ```
    pub fn set_param(&self, name: &str, value: &str) {
        self.shared.with(|d, _| {
            d.state_mut().params.insert(name.into(), value.into());
        });
    }

    /// Sets or clears the communication password.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.set_password(Some("1234")); // session connects must now present it
    /// sim.set_password(None);
    /// assert_eq!(sim.param("ComPwd"), None); // not stored as a parameter
    /// ```
    pub fn set_password(&self, password: Option<&str>) {
        self.shared
            .with(|d, _| d.set_password(password.map(str::to_owned)));
    }

    /// The session id the next session connect gets.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.set_next_session_id(0x1234); // the next session connect gets 0x1234
    /// assert!(sim.connected_peers().is_empty());
    /// ```
    pub fn set_next_session_id(&self, id: u16) {
        self.shared.with(|d, _| d.set_next_session_id(id));
    }

    /// Adds a fault.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use std::time::Duration;
    /// use zkproto::panel::sim::Fault;
    /// sim.set_fault(Fault::Delay(Duration::from_millis(50)));
    /// sim.clear_faults();
    /// ```
    pub fn set_fault(&self, fault: Fault) {
        self.shared.with(|d, _| d.set_fault(fault));
    }

    /// Removes every fault.
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// use zkproto::panel::sim::Fault;
    /// sim.set_fault(Fault::LagReplies);
    /// sim.clear_faults(); // replies are prompt again
    /// ```
    pub fn clear_faults(&self) {
        self.shared.with(|d, _| d.clear_faults());
    }

    /// Commands received so far (oldest first).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(sim.commands().is_empty()); // nobody has talked to it yet
    /// ```
    pub fn commands(&self) -> Vec<Command> {
        self.shared.read(|d, _| d.commands())
    }

    /// Peers that are connected (0x01/0x76 done, no disconnect yet).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// assert!(sim.connected_peers().is_empty());
    /// ```
    pub fn connected_peers(&self) -> Vec<PeerKey> {
        self.shared.read(|d, _| d.connected_peers())
    }

    /// Restarts the panel (event 206; every connection closes).
    ///
    /// ```
    /// # use zkproto::panel::sim::{Credential, SimConfig, Simulator};
    /// # let sim = Simulator::new(SimConfig { users: 2, ..SimConfig::default() });
    /// sim.press_exit_button(1);
    /// sim.restart();
    /// assert!(sim.connected_peers().is_empty());
    /// ```
    pub fn restart(&self) {
        self.shared.with(|d, now| d.restart(now));
    }
}
