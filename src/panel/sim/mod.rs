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

use crate::panel::command::Command;
use crate::panel::rtlog::{AlarmFlags, DoorSensor, DoorStatus, EventCode, RtEvent};
use crate::panel::table::{TableRow, TransactionRow, UserAuthorizeRow, UserRow, Value};
use crate::panel::time::PanelTime;
use core::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// State shared by the handle and the server tasks.
pub(crate) struct Shared {
    device: Mutex<Device>,
    wake: watch::Sender<u64>,
    next_conn: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Device> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    fn notify(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn new_tcp_peer(&self) -> PeerKey {
        PeerKey::Tcp(self.next_conn.fetch_add(1, Ordering::Relaxed))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Device, Instant) -> R) -> R {
        let r = f(&mut self.lock(), Instant::now());
        self.notify();
        r
    }

    fn read<R>(&self, f: impl FnOnce(&Device, Instant) -> R) -> R {
        f(&self.lock(), Instant::now())
    }

    pub(crate) fn handle(&self, peer: PeerKey, bytes: &[u8]) -> Vec<Outgoing> {
        self.with(|d, now| d.handle(peer, bytes, now))
    }

    pub(crate) fn foreign(&self, peer: PeerKey, bytes: &[u8]) -> Vec<Outgoing> {
        self.with(|d, _| d.foreign(peer, bytes))
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
    pub fn from_device(device: Device) -> Simulator {
        let (wake, _) = watch::channel(0);
        Simulator {
            shared: Arc::new(Shared {
                device: Mutex::new(device),
                wake,
                next_conn: AtomicU64::new(1),
            }),
        }
    }

    /// Starts servers: TCP and UDP on the protocol port, and a UDP socket
    /// standing in for the discovery port 65535 (the simulator answers the
    /// sender directly instead of broadcasting). Port 0 picks a free port.
    pub async fn serve(
        &self,
        tcp: Option<SocketAddr>,
        udp: Option<SocketAddr>,
        discovery: Option<SocketAddr>,
    ) -> std::io::Result<SimServer> {
        server::serve(self.shared.clone(), tcp, udp, discovery).await
    }

    /// Serves one TCP-like byte stream (e.g. one end of `tokio::io::duplex`)
    /// until it closes.
    pub async fn serve_stream<S>(&self, io: S)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (_keep, stop) = watch::channel(false);
        let peer = self.shared.new_tcp_peer();
        server::run_stream(self.shared.clone(), io, peer, stop).await;
    }

    /// Runs `f` on the panel model (for anything the handle does not offer).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device, Instant) -> R) -> R {
        self.shared.with(f)
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.shared.read(|d, _| d.profile().clone())
    }

    /// Users (`user` table).
    pub fn users(&self) -> Vec<UserRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// The user with this user id (`Pin`).
    pub fn user(&self, pin: u32) -> Option<UserRow> {
        self.users().into_iter().find(|u| u.pin == pin)
    }

    /// Inserts or replaces (same `Pin`) a user; fields the firmware's table
    /// lacks (`Name`, `UID` on the old layout) must be left at their default.
    pub fn put_user(&self, user: UserRow) -> bool {
        self.shared.with(|d, _| d.state_mut().put_typed(&[user]))
    }

    /// Authorisations (`userauthorize` table).
    pub fn authorizations(&self) -> Vec<UserAuthorizeRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Inserts an authorisation (all three fields are the key).
    pub fn put_authorization(&self, row: UserAuthorizeRow) -> bool {
        self.shared.with(|d, _| d.state_mut().put_typed(&[row]))
    }

    /// The stored access log (`transaction` table), oldest first.
    pub fn transactions(&self) -> Vec<TransactionRow> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Typed rows of any table `R` describes.
    pub fn typed<R: TableRow>(&self) -> Vec<R> {
        self.shared.read(|d, _| d.state().typed())
    }

    /// Raw rows of a table by name (one value per field, in the table's order).
    pub fn rows(&self, table: &str) -> Option<Vec<Vec<Value>>> {
        self.shared
            .read(|d, _| d.state().rows(table).map(<[_]>::to_vec))
    }

    /// Someone presents a credential at door `door`'s reader; returns the
    /// transaction recorded (also queued as a real-time event).
    pub fn swipe(&self, credential: Credential, door: u8) -> TransactionRow {
        self.shared.with(|d, now| d.swipe(credential, door, now))
    }

    /// The door is pushed open (sensor event 200, or 102 when locked).
    pub fn open_door(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.open_door(door, now))
    }

    /// The door closes (sensor event 201).
    pub fn close_door(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.close_door(door, now))
    }

    /// Whether the door is physically open.
    pub fn door_open(&self, door: u8) -> bool {
        self.shared.read(|d, _| d.is_door_open(door))
    }

    /// What the status record reports for the door's sensor now.
    pub fn door_sensor(&self, door: u8) -> DoorSensor {
        self.door_status()
            .sensor(usize::from(door))
            .unwrap_or(DoorSensor::Unknown)
    }

    /// Whether the lock relay of the door is energised (timers applied).
    pub fn relay(&self, door: u8) -> bool {
        self.shared.with(|d, now| {
            d.tick(now);
            d.relay(usize::from(door), now)
        })
    }

    /// Whether aux output `n` is on.
    pub fn aux_output(&self, n: u8) -> bool {
        self.shared.with(|d, now| {
            d.tick(now);
            d.aux_output(usize::from(n), now)
        })
    }

    /// Whether aux input `n` is shorted.
    pub fn aux_input(&self, n: u8) -> bool {
        self.shared.read(|d, _| d.aux_input(n))
    }

    /// Aux input `n` shorts (event 221) or opens (event 220).
    pub fn set_aux_input(&self, n: u8, shorted: bool) -> bool {
        self.shared.with(|d, now| d.set_aux_input(n, shorted, now))
    }

    /// The exit button of the door is pressed (event 202, lock opens).
    pub fn press_exit_button(&self, door: u8) -> bool {
        self.shared.with(|d, now| d.press_exit_button(door, now))
    }

    /// An alarm event (100–199) on the door: sets its alarm bit.
    pub fn raise_alarm(&self, door: u8, event: EventCode) -> bool {
        self.shared.with(|d, now| d.alarm(door, event, now))
    }

    /// Alarm flags of the door.
    pub fn alarm(&self, door: u8) -> AlarmFlags {
        self.shared.with(|d, now| {
            d.tick(now);
            AlarmFlags(d.alarm_bits(door))
        })
    }

    /// The status record the panel would send now.
    pub fn door_status(&self) -> DoorStatus {
        self.shared.with(|d, now| {
            d.tick(now);
            d.door_status(now)
        })
    }

    /// Events waiting in the real-time queue (at most 30).
    pub fn queued_events(&self) -> Vec<RtEvent> {
        self.shared.with(|d, now| {
            d.tick(now);
            d.queued_events()
        })
    }

    /// The clock now.
    pub fn time(&self) -> PanelTime {
        self.shared.read(|d, now| d.time(now))
    }

    /// Sets the clock.
    pub fn set_time(&self, t: PanelTime) {
        self.shared.with(|d, now| d.set_time(t, now));
    }

    /// A parameter as the panel stores it (`DateTime` and `ComPwd` are not kept here).
    pub fn param(&self, name: &str) -> Option<String> {
        self.shared
            .read(|d, _| d.state().param(name).map(str::to_owned))
    }

    /// Sets a parameter directly (no validation).
    pub fn set_param(&self, name: &str, value: &str) {
        self.shared.with(|d, _| {
            d.state_mut().params.insert(name.into(), value.into());
        });
    }

    /// Sets or clears the communication password.
    pub fn set_password(&self, password: Option<&str>) {
        self.shared
            .with(|d, _| d.set_password(password.map(str::to_owned)));
    }

    /// The session id the next session connect gets.
    pub fn set_next_session_id(&self, id: u16) {
        self.shared.with(|d, _| d.set_next_session_id(id));
    }

    /// Adds a fault.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.with(|d, _| d.set_fault(fault));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.with(|d, _| d.clear_faults());
    }

    /// Commands received so far (oldest first).
    pub fn commands(&self) -> Vec<Command> {
        self.shared.read(|d, _| d.commands())
    }

    /// Peers that are connected (0x01/0x76 done, no disconnect yet).
    pub fn connected_peers(&self) -> Vec<PeerKey> {
        self.shared.read(|d, _| d.connected_peers())
    }

    /// Restarts the panel (event 206; every connection closes).
    pub fn restart(&self) {
        self.shared.with(|d, now| d.restart(now));
    }
}
