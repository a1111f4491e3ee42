//! A stateful ZKTeco terminal simulator (feature `simulator`).
//!
//! * [`Device`] is the pure device model: request packet in, reply packets
//!   out, no I/O, time passed in (reference §1.5, §3–§9). It owns the data
//!   ([`State`]: users, attendance log, templates, options), the clock, the
//!   enabled flag, the lock relay and door sensor, the sessions (one per TCP
//!   connection, one per UDP sender) and the injected [`Fault`]s.
//! * [`Simulator`] wraps a `Device` for tests: a cloneable handle with a
//!   synchronous control API (`punch`, `open_door`, `users`, …) and
//!   [`Simulator::serve`], which starts TCP and/or UDP servers on any
//!   address (port 0 allowed; the bound addresses are in the returned
//!   [`SimServer`]).
//! * [`Profile::zk8`] (TFT: 72-byte users, 40-byte attendance, TCP + UDP;
//!   [`Profile::zk8_1008`] with 1,008-byte burst packets) and
//!   [`Profile::zk6`] (black-and-white: 28-byte users, 16-byte
//!   attendance, UDP only) are built in; [`seed_state`] makes deterministic
//!   demo data; [`persist`] keeps the data in a state file.
//! * [`Pacing`] sets how replies go on the wire: `link` (the default)
//!   writes each frame on its own, a few milliseconds apart, so clients that
//!   read one frame per socket read work as they do against real devices;
//!   `firmware` adds the firmware's 20 ms per data packet, optional long
//!   pauses and 1,460-byte TCP segments; `none` is for benchmarks.
//!
//! TCP connections are served concurrently (real terminals accept one at
//! a time; concurrent service makes pyzk's throw-away probe connection and
//! back-to-back tests harmless), within the [`NetLimits`] set with
//! [`Simulator::set_net_limits`]: a connection cap, idle deadlines and a
//! per-connection buffer of at most one [`MAX_TCP_PACKET`] frame (see
//! [`crate::net::sim`]). Sessions end on `CMD_EXIT` or when the TCP
//! connection closes; the device then re-enables itself.
//!
//! With a state file ([`SimConfig::state_file`]), a command that changes
//! the data is acknowledged only once the file is durably written; when it
//! cannot be written the change is undone and the command answered
//! `CMD_ACK_ERROR` ([`Device::set_store`]).
//!
//! Use from a `#[tokio::test]` — the body below runs as is:
//!
//! ```
//! use zkproto::terminal::sim::{Simulator, SimConfig};
//! use zkproto::terminal::{frame::tcp_frame, Command, Packet, ReplyCode};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sim = Simulator::new(SimConfig { users: 3, attendance: 10, ..SimConfig::default() });
//! let server = sim.serve(Some("127.0.0.1:0".parse().unwrap()), None).await?;
//! let mut tcp = tokio::net::TcpStream::connect(server.tcp_addr().unwrap()).await?;
//!
//! tcp.write_all(&tcp_frame(&Packet::new(Command::Connect, 0, 0, &[][..]))).await?;
//! let mut reply = [0u8; 16];
//! tcp.read_exact(&mut reply).await?;
//! assert_eq!(u16::from_le_bytes([reply[8], reply[9]]), ReplyCode::AckOk.value());
//! let session = u16::from_le_bytes([reply[12], reply[13]]);
//!
//! // Register for attendance events, then have someone punch.
//! tcp.write_all(&tcp_frame(&Packet::new(Command::RegEvent, session, 1, &[1u8, 0, 0, 0][..]))).await?;
//! tcp.read_exact(&mut reply).await?;
//! let punched = sim.punch("1001", 1, 0);
//! let mut event = [0u8; 8 + 8 + 32];
//! tcp.read_exact(&mut event).await?;
//! assert_eq!(u16::from_le_bytes([event[8], event[9]]), 500); // CMD_REG_EVENT
//! assert_eq!(&event[16..20], b"1001");
//! assert_eq!(sim.attendance().last(), Some(&punched));
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod device;
mod events;
pub mod fault;
pub mod pacing;
pub mod persist;
pub mod seed;
mod server;
pub mod state;

pub use config::{AttLogEventFormat, Profile, SimConfig};
pub use device::{Device, Outgoing, PeerKey, Store, Transport};
pub use events::{
    ALARM_DOOR_CLOSED, ALARM_DOOR_FORCED, ALARM_DOOR_OPEN, ALARM_EXIT_BUTTON, ALARM_TAMPER,
};
pub use fault::Fault;
pub use pacing::{FirmwarePacing, Pacing};
pub use seed::seed_state;
pub use server::{MAX_TCP_PACKET, SimServer};
pub use state::State;

use crate::net::sim::{Activity, NetLimits};
use crate::terminal::command::Command;
use crate::terminal::record::attendance::Attendance;
use crate::terminal::record::sizes::FreeSizes;
use crate::terminal::record::template::Template;
use crate::terminal::record::text::TextEncoding;
use crate::terminal::record::time::DeviceTime;
use crate::terminal::record::user::User;
use core::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// State shared by the handle and the server tasks.
pub(crate) type Shared = crate::net::sim::Shared<Device>;

impl crate::net::sim::Model for Device {
    /// Stores any change (undoing it when it cannot be stored).
    fn after_change(&mut self) {
        if let Err(e) = self.commit() {
            tracing::error!(error = %e, "could not store the change; it is undone");
        }
    }
}

impl Shared {
    pub(crate) fn new_tcp_peer(&self) -> PeerKey {
        PeerKey::Tcp(self.next_conn_id())
    }

    /// What the connection of `peer` is doing (for its idle deadline).
    pub(crate) fn activity(&self, peer: &PeerKey) -> Activity {
        match self.lock().event_mask(peer) {
            None => Activity::Opening,
            Some(0) => Activity::Session,
            Some(_) => Activity::Listening,
        }
    }

    pub(crate) fn handle(&self, peer: PeerKey, input: &[u8]) -> Vec<Outgoing> {
        self.with(|d, now| d.handle(peer, input, now))
    }

    pub(crate) fn take_pushes_for(&self, peer: &PeerKey) -> Vec<Outgoing> {
        self.lock().take_pushes_for(peer)
    }

    pub(crate) fn take_udp_pushes(&self) -> Vec<(SocketAddr, Outgoing)> {
        self.lock().take_udp_pushes()
    }

    pub(crate) fn disconnect(&self, peer: &PeerKey) {
        self.with(|d, _| d.disconnect(peer));
    }
}

/// A cloneable handle on a simulated device. See the [module documentation](self).
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
    /// Builds a simulator: loads `config.state_file` when it exists,
    /// otherwise seeds demo data. An unreadable state file is logged and
    /// replaced by seed data (use [`open`](Self::open) to get the error).
    ///
    /// ```
    /// use zkproto::terminal::sim::{Simulator, SimConfig};
    /// let sim = Simulator::new(SimConfig { users: 4, ..SimConfig::default() });
    /// assert_eq!(sim.users().len(), 4);
    /// ```
    pub fn new(config: SimConfig) -> Simulator {
        match Simulator::open(config.clone()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "state file unusable; starting from seed data");
                Simulator::from_device(Device::new(&config), config.state_file)
            }
        }
    }

    /// Like [`new`](Self::new), but an unreadable or malformed state file, or
    /// one that cannot be written, is an error (naming the file).
    pub fn open(config: SimConfig) -> std::io::Result<Simulator> {
        let mut device = match &config.state_file {
            Some(path) => match persist::load(path, &config.profile)? {
                Some(state) => Device::with_state(&config, state),
                None => Device::new(&config),
            },
            None => Device::new(&config),
        };
        if let Some(path) = &config.state_file {
            device.set_store(persist::StateFile::new(path).into_store())?;
        }
        Ok(Simulator::from_device(device, None))
    }

    /// Wraps an existing device model; with `state_file`, its data is stored
    /// there (see [`Device::set_store`]; a first save that fails is logged
    /// and the device then runs without a state file — use
    /// [`open`](Self::open) to get that error).
    pub fn from_device(mut device: Device, state_file: Option<PathBuf>) -> Simulator {
        if let Some(path) = state_file
            && let Err(e) = device.set_store(persist::StateFile::new(path).into_store())
        {
            tracing::error!(error = %e, "could not write the state file; running without it");
        }
        Simulator {
            shared: Arc::new(Shared::new(device)),
        }
    }

    /// Starts servers on the given addresses (port 0 picks a free port).
    /// TCP is not served by a profile without TCP (zk6), nor UDP by one
    /// without UDP; the corresponding address of the [`SimServer`] is `None`.
    pub async fn serve(
        &self,
        tcp: Option<SocketAddr>,
        udp: Option<SocketAddr>,
    ) -> std::io::Result<SimServer> {
        let profile = self.profile();
        let tcp = tcp.filter(|_| {
            if !profile.tcp {
                tracing::warn!(profile = %profile.name, "profile has no TCP; not listening on TCP");
            }
            profile.tcp
        });
        let udp = udp.filter(|_| profile.udp);
        server::serve(self.shared.clone(), tcp, udp, self.shared.limits()).await
    }

    /// Sets the TCP connection limits used by servers started afterwards
    /// (and by [`serve_stream`](Self::serve_stream)); see [`NetLimits`].
    ///
    /// ```
    /// use zkproto::net::sim::NetLimits;
    /// use zkproto::terminal::sim::{SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default());
    /// sim.set_net_limits(NetLimits { max_connections: 1, ..NetLimits::default() });
    /// assert_eq!(sim.net_limits().max_connections, 1);
    /// ```
    pub fn set_net_limits(&self, limits: NetLimits) {
        self.shared.set_limits(limits);
    }

    /// The TCP connection limits (default [`NetLimits::default`]).
    pub fn net_limits(&self) -> NetLimits {
        self.shared.limits()
    }

    /// Serves one TCP-framed byte stream (e.g. one end of
    /// `tokio::io::duplex`) until it closes.
    pub async fn serve_stream<S>(&self, io: S)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (_keep, stop) = watch::channel(false);
        let peer = self.shared.new_tcp_peer();
        let limits = self.shared.limits();
        server::run_stream(self.shared.clone(), io, peer, stop, limits).await;
    }

    /// Runs `f` on the device model (for anything the handle does not offer);
    /// changes are persisted and announced to the servers afterwards.
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device) -> R) -> R {
        self.shared.with(|d, _| f(d))
    }

    /// All users, in storage order.
    pub fn users(&self) -> Vec<User> {
        self.shared.read(|d, _| d.state().users.clone())
    }

    /// The user with this user id.
    pub fn user(&self, user_id: &str) -> Option<User> {
        self.shared.read(|d, _| {
            let s = d.state();
            s.user_index_by_user_id(user_id, d.encoding())
                .and_then(|i| s.users.get(i).cloned())
        })
    }

    /// Inserts or replaces (same uid) a user, without the device's rules.
    pub fn put_user(&self, user: User) {
        self.shared.with(|d, _| d.state_mut().put_user(user));
    }

    /// The attendance log.
    pub fn attendance(&self) -> Vec<Attendance> {
        self.shared.read(|d, _| d.state().attendance.clone())
    }

    /// The fingerprint templates.
    pub fn templates(&self) -> Vec<Template> {
        self.shared.read(|d, _| d.state().templates.clone())
    }

    /// The free-sizes counters the device reports now.
    pub fn free_sizes(&self) -> FreeSizes {
        self.shared.read(|d, _| d.free_sizes_now())
    }

    /// Someone punches: appends a record at the device time and sends
    /// `EF_VERIFY` / `EF_ATTLOG` to the sessions that registered them.
    ///
    /// # Panics
    ///
    /// Only if the record cannot be built even with the fallbacks of
    /// [`Device::punch`] (device time outside 2000–2099).
    pub fn punch(&self, user_id: &str, verify: u8, state: u8) -> Attendance {
        match self
            .shared
            .with(|d, now| d.punch(user_id, verify, state, now))
        {
            Ok(a) => a,
            Err(e) => panic!("cannot record a punch for {user_id:?}: {e}"),
        }
    }

    /// The door sensor reports open (`EF_ALARM`).
    pub fn open_door(&self) {
        self.shared.with(|d, now| d.open_door(now));
    }

    /// The door sensor reports closed (`EF_ALARM`).
    pub fn close_door(&self) {
        self.shared.with(|d, _| d.close_door());
    }

    /// The exit button is pressed (`EF_ALARM`, relay released, `EF_UNLOCK`).
    pub fn press_exit_button(&self) {
        self.shared.with(|d, now| d.press_exit_button(now));
    }

    /// The tamper switch trips (`EF_ALARM`).
    pub fn tamper(&self) {
        self.shared.with(|d, _| d.tamper());
    }

    /// Whether the door sensor reports open.
    pub fn door_open(&self) -> bool {
        self.shared.read(|d, _| d.door_open())
    }

    /// Whether the lock relay is released now.
    pub fn lock_released(&self) -> bool {
        self.shared.read(|d, now| d.lock_released(now))
    }

    /// The raw duration of the last `CMD_UNLOCK`.
    pub fn last_unlock(&self) -> Option<u32> {
        self.shared.read(|d, _| d.last_unlock())
    }

    /// Whether the device is enabled.
    pub fn is_enabled(&self) -> bool {
        self.shared.read(|d, now| d.is_enabled(now))
    }

    /// The device time now.
    pub fn time(&self) -> DeviceTime {
        self.shared.read(|d, now| d.time(now))
    }

    /// Sets the device time.
    pub fn set_time(&self, t: DeviceTime) {
        self.shared.with(|d, now| d.set_time(t, now));
    }

    /// An option value.
    pub fn option(&self, name: &str) -> Option<String> {
        self.shared
            .read(|d, _| d.state().options.get(name).cloned())
    }

    /// Sets an option.
    pub fn set_option(&self, name: &str, value: &str) {
        self.shared.with(|d, _| {
            d.state_mut()
                .options
                .insert(name.to_string(), value.to_string());
        });
    }

    /// The session id the next new session gets (to reproduce captures).
    pub fn set_next_session_id(&self, id: u16) {
        self.shared.with(|d, _| d.set_next_session_id(id));
    }

    /// The pacing of the reply frames (see [`Pacing`]).
    ///
    /// ```
    /// use zkproto::terminal::sim::{Pacing, SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default());
    /// assert_eq!(sim.pacing(), Pacing::link());
    /// sim.set_pacing(Pacing::None);
    /// assert_eq!(sim.pacing(), Pacing::None);
    /// ```
    pub fn pacing(&self) -> Pacing {
        self.shared.read(|d, _| d.pacing())
    }

    /// Changes the pacing of the reply frames (replies produced from now on).
    pub fn set_pacing(&self, pacing: Pacing) {
        self.shared.with(|d, _| d.set_pacing(pacing));
    }

    /// Adds a fault.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.with(|d, _| d.set_fault(fault));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.with(|d, _| d.clear_faults());
    }

    /// Commands executed so far (oldest first).
    pub fn commands(&self) -> Vec<Command> {
        self.shared.read(|d, _| d.commands())
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.shared.read(|d, _| d.session_count())
    }

    /// The text encoding of names.
    pub fn encoding(&self) -> TextEncoding {
        self.shared.read(|d, _| d.encoding())
    }

    /// The device profile.
    pub fn profile(&self) -> Profile {
        self.shared.read(|d, _| d.profile().clone())
    }
}
