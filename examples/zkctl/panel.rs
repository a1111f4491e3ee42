//! The commands that apply to C3/inBio access panels: `--device
//! c3://HOST[:PORT]`, or `--device sim-c3[:1|2|4][:old]` for an in-process
//! simulated panel. Panels speak another protocol than terminals (see
//! `zkproto::panel`); the command line, exit codes and error lines are the
//! same. Their JSON shapes are documented in the "C3/inBio panels" section
//! of `docs/zkctl-json.md`.

use crate::cli::{AttendanceArgs, AttendanceCmd, Cli, Cmd, DoorCmd, TimeCmd, UsersCmd};
use crate::device::{Settings, Target};
use crate::fail::Failure;
use crate::family::{self, Family};
use crate::input;
use crate::view::{self, shown};
use serde_json::{Value, json};
use std::time::Duration;
use zkproto::panel::PanelTime;
use zkproto::panel::client::{Client, DoorReading, Error as PanelError, Options, PanelEvent};
use zkproto::panel::rtlog::{DoorSensor, RtEvent};
use zkproto::panel::sim::{Credential, Profile, SimConfig, SimServer, Simulator};
use zkproto::panel::table::UserRow;
use zkproto::terminal::client::Transport;
use zkproto::terminal::record::time::DeviceTime;

/// Demo users of `--device sim-c3`.
pub const SIM_USERS: usize = 8;
/// Demo transactions of `--device sim-c3`.
pub const SIM_TRANSACTIONS: usize = 50;
/// Longest panel PIN code (the `Password` field holds 8 digits).
const MAX_PIN: usize = 8;

/// A panel to talk to.
#[derive(Debug, Clone)]
pub enum PanelTarget {
    /// A real panel (or a `zksim --kind c3` process).
    Net {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// An in-process simulated panel.
    Sim {
        /// Door count (1, 2 or 4).
        doors: u8,
        /// Old firmware (no session connect, 7-field users).
        old: bool,
    },
}

impl PanelTarget {
    /// `Some` when the device names a panel (`c3://…`, `sim-c3…`), with the
    /// parse result; `None` for a terminal.
    pub fn detect(s: &str) -> Option<Result<PanelTarget, Failure>> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("c3://")
            .map(|_| t.get(5..).unwrap_or(""))
        {
            return Some(Self::parse_net(t, rest));
        }
        if lower == "sim-c3" || lower.starts_with("sim-c3:") {
            return Some(Self::parse_sim(t, &lower));
        }
        None
    }

    fn parse_net(all: &str, rest: &str) -> Result<PanelTarget, Failure> {
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(Failure::usage(format!("no host in --device {all}"))
                .hint("use c3://HOST or c3://HOST:PORT"));
        }
        match Target::parse(rest)? {
            Target::Net { host, port } => Ok(PanelTarget::Net { host, port }),
            Target::Sim { .. } => Err(Failure::usage(format!(
                "--device {all}: c3:// takes a host, not a simulator"
            ))
            .hint("use --device sim-c3 for a simulated panel")),
        }
    }

    fn parse_sim(all: &str, lower: &str) -> Result<PanelTarget, Failure> {
        let mut doors = 4;
        let mut old = false;
        for tok in lower.split([':', ',']).skip(1).filter(|t| !t.is_empty()) {
            match tok {
                "1" => doors = 1,
                "2" => doors = 2,
                "4" => doors = 4,
                "old" => old = true,
                "new" => old = false,
                _ => {
                    return Err(Failure::usage(format!(
                        "unknown simulator option {tok:?} in --device {all}"
                    ))
                    .hint("use sim-c3, sim-c3:1, sim-c3:2, sim-c3:4, sim-c3:old or sim-c3:2:old"));
                }
            }
        }
        Ok(PanelTarget::Sim { doors, old })
    }

    /// How the panel is named in messages.
    pub fn label(&self) -> String {
        match self {
            PanelTarget::Net { host, port } if host.contains(':') => {
                format!("c3://[{host}]:{port}")
            }
            PanelTarget::Net { host, port } => format!("c3://{host}:{port}"),
            PanelTarget::Sim { doors, old } => {
                format!("sim-c3:{doors}{}", if *old { ":old" } else { "" })
            }
        }
    }
}

/// Everything a command needs besides the client.
struct Ctx {
    label: String,
    json: bool,
}

impl Ctx {
    fn err(&self, e: PanelError) -> Failure {
        Failure::from_panel(&e, &self.label)
    }
}

/// Checked input, ready before connecting.
enum Prepared {
    None,
    User(u32),
    Add { user: UserRow },
    Pin(u32, String),
    Since(Option<PanelTime>),
    Unlock { door: u8, seconds: u8 },
    Time(PanelTime),
}

/// Runs one command against a panel.
pub async fn run(
    cli: &Cli,
    target: &PanelTarget,
    settings: &Settings,
    password: Option<&str>,
    op: &str,
) -> Result<(), Failure> {
    let panel = Panel {
        target,
        settings,
        password,
    };
    family::run(&panel, cli, op).await
}

/// The panel family: a C3/inBio panel, or the panel simulator.
struct Panel<'a> {
    target: &'a PanelTarget,
    settings: &'a Settings,
    password: Option<&'a str>,
}

impl Family for Panel<'_> {
    type Prepared = Prepared;
    type Conn = (Client, Option<SimParts>);

    fn label(&self) -> String {
        self.target.label()
    }

    fn prepare(&self, cli: &Cli) -> Result<Prepared, Failure> {
        prepare(cli, self.settings)
    }

    async fn connect(&self) -> Result<Self::Conn, Failure> {
        connect(self.target, self.settings, self.password).await
    }

    fn activity(&self, conn: &Self::Conn) -> Option<tokio::task::JoinHandle<()>> {
        let (sim, _) = conn.1.as_ref()?;
        Some(spawn_activity(sim.clone()))
    }

    async fn execute(&self, conn: &mut Self::Conn, cli: &Cli, p: Prepared) -> Result<(), Failure> {
        let ctx = Ctx {
            label: self.label(),
            json: cli.json,
        };
        execute(&mut conn.0, &ctx, &cli.command, p).await
    }

    async fn hang_up(&self, conn: Self::Conn) -> Result<(), String> {
        let (client, sim) = conn;
        let bye = if client.is_closed() {
            Ok(())
        } else {
            client.disconnect().await
        };
        drop(sim);
        bye.map_err(|e| e.to_string())
    }
}

/// A panel user id: a number from 1 to 4294967295.
fn user_id(s: &str) -> Result<u32, Failure> {
    s.parse::<u32>().ok().filter(|&n| n != 0).ok_or_else(|| {
        Failure::usage(format!("user id {s:?} is not valid on a C3 panel"))
            .hint("panel user ids (Pin) are numbers from 1 to 4294967295")
    })
}

fn pin_code(
    args: &crate::cli::PinArgs,
    required: bool,
    id: &str,
) -> Result<Option<String>, Failure> {
    let pin = input::read_pin(args, required, id).map_err(|mut f| {
        if f.hint.as_deref() == Some("terminals only accept numeric PINs") {
            f.hint = Some(format!("panel PIN codes are 1 to {MAX_PIN} digits"));
        }
        f
    })?;
    if let Some(p) = &pin
        && p.len() > MAX_PIN
    {
        return Err(Failure::usage(format!(
            "the PIN is too long: C3 panels hold at most {MAX_PIN} digits"
        )));
    }
    Ok(pin)
}

fn not_for_panels(what: &str, hint: &str) -> Failure {
    Failure::usage(format!("{what} does not apply to C3/inBio panels")).hint(hint.to_string())
}

fn to_panel_time(t: DeviceTime, what: &str) -> Result<PanelTime, Failure> {
    PanelTime::new(t.year, t.month, t.day, t.hour, t.minute, t.second).map_err(|e| {
        Failure::usage(format!("{what} {t}: {e}")).hint("panels keep times from 2000 to 2133")
    })
}

fn prepare(cli: &Cli, settings: &Settings) -> Result<Prepared, Failure> {
    if settings.transport == Transport::Udp {
        return Err(
            Failure::usage("--udp: zkctl talks to C3/inBio panels over TCP").hint("drop --udp"),
        );
    }
    Ok(match &cli.command {
        Cmd::Info | Cmd::Users(UsersCmd::List) | Cmd::Door(DoorCmd::Status) => Prepared::None,
        Cmd::Events { .. } | Cmd::Time(TimeCmd::Get) => Prepared::None,
        Cmd::Users(UsersCmd::Show { user_id: id } | UsersCmd::ClearPin { user_id: id }) => {
            Prepared::User(user_id(id)?)
        }
        Cmd::Users(UsersCmd::Delete { user_id: id, yes }) => {
            let n = user_id(id)?;
            input::confirm_possible(*yes, "deleting a user")?;
            Prepared::User(n)
        }
        Cmd::Users(UsersCmd::Add {
            user_id: id,
            name,
            pin,
            card,
            admin,
        }) => {
            let n = user_id(id)?;
            let password = pin_code(pin, false, id)?.unwrap_or_default();
            Prepared::Add {
                user: UserRow {
                    pin: n,
                    card_no: card.unwrap_or(0),
                    password,
                    name: name.clone().unwrap_or_default(),
                    super_authorize: *admin,
                    ..UserRow::default()
                },
            }
        }
        Cmd::Users(UsersCmd::SetPin { user_id: id, pin }) => {
            let n = user_id(id)?;
            match pin_code(pin, true, id)? {
                Some(p) => Prepared::Pin(n, p),
                None => return Err(Failure::usage("no PIN given")),
            }
        }
        Cmd::Attendance(AttendanceArgs {
            action: Some(AttendanceCmd::Clear { .. }),
            ..
        }) => {
            return Err(not_for_panels(
                "attendance clear",
                "zkctl does not delete a panel's transaction log; ZKAccess can",
            ));
        }
        Cmd::Attendance(a) if a.cursor.is_some() => {
            return Err(not_for_panels(
                "attendance --cursor",
                "download the panel's log with --since instead",
            ));
        }
        Cmd::Attendance(a) => {
            if a.csv && cli.json {
                return Err(Failure::usage("--csv and --json exclude each other"));
            }
            let since = match &a.since {
                Some(s) => {
                    let t = DeviceTime::parse(s).map_err(|e| {
                        Failure::usage(format!("--since {s:?}: {e}"))
                            .hint("use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")
                    })?;
                    Some(to_panel_time(t, "--since")?)
                }
                None => None,
            };
            Prepared::Since(since)
        }
        Cmd::Door(DoorCmd::Unlock { seconds, door }) => {
            let door = door.unwrap_or(1);
            if !(1..=4).contains(&door) {
                return Err(Failure::usage(format!(
                    "--door {door}: panels have doors 1 to 4"
                )));
            }
            let seconds = u8::try_from(*seconds)
                .ok()
                .filter(|s| (1..=254).contains(s))
                .ok_or_else(|| {
                    Failure::usage(format!("--seconds {seconds}: use 1 to 254 on a panel"))
                })?;
            Prepared::Unlock { door, seconds }
        }
        Cmd::Time(TimeCmd::Set { when }) => {
            let t = input::parse_when(when)?;
            Prepared::Time(to_panel_time(t, "time")?)
        }
        Cmd::Backup { .. } | Cmd::Restore { .. } => {
            return Err(not_for_panels(
                "backup/restore",
                "they save terminal users and fingerprint templates; \
                 use `users list --json` to save a panel's users",
            ));
        }
        Cmd::Sim(_) => return Err(not_for_panels("--device with `sim`", "drop --device")),
    })
}

fn options(settings: &Settings, password: Option<&str>) -> Options {
    Options::new()
        .password(password.unwrap_or_default())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .poll_interval(Duration::from_millis(500))
}

type SimParts = (Simulator, SimServer);

async fn connect(
    target: &PanelTarget,
    settings: &Settings,
    password: Option<&str>,
) -> Result<(Client, Option<SimParts>), Failure> {
    let label = target.label();
    match target {
        PanelTarget::Net { host, port } => {
            let client = Client::connect((host.as_str(), *port), options(settings, password))
                .await
                .map_err(|e| Failure::from_panel(&e, &label))?;
            Ok((client, None))
        }
        PanelTarget::Sim { doors, old } => {
            let profile = if *old {
                Profile::old_firmware(*doors)
            } else {
                Profile::new_firmware(*doors)
            };
            let sim = Simulator::new(SimConfig {
                profile,
                password: password.filter(|p| !p.is_empty()).map(str::to_owned),
                users: SIM_USERS,
                transactions: SIM_TRANSACTIONS,
                ..SimConfig::default()
            });
            let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            let server = sim
                .serve(Some(any), None, None)
                .await
                .map_err(|e| Failure::usage(format!("cannot start the simulated panel: {e}")))?;
            let addr = server
                .tcp_addr()
                .ok_or_else(|| Failure::usage("the simulated panel has no TCP address"))?;
            let client = Client::connect(addr, options(settings, password))
                .await
                .map_err(|e| Failure::from_panel(&e, &label))?;
            Ok((client, Some((sim, server))))
        }
    }
}

/// Something happening at door 1 of the simulated panel, every 400 ms
/// (a badge, the door opening and closing, an unknown card), so that
/// `events` has something to show.
fn spawn_activity(sim: Simulator) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(400));
        tick.tick().await;
        let mut n = 0usize;
        loop {
            tick.tick().await;
            match n % 4 {
                0 => {
                    if let Some(u) = sim.users().first() {
                        sim.swipe(Credential::Card(u.card_no), 1);
                    }
                }
                1 => {
                    sim.open_door(1);
                }
                2 => {
                    sim.close_door(1);
                }
                _ => {
                    sim.swipe(Credential::Card(99_999_999), 1);
                }
            }
            n = n.wrapping_add(1);
        }
    })
}

async fn execute(c: &mut Client, ctx: &Ctx, cmd: &Cmd, p: Prepared) -> Result<(), Failure> {
    match (cmd, p) {
        (Cmd::Info, _) => info(c, ctx).await,
        (Cmd::Users(u), p) => users(c, ctx, u, p).await,
        (Cmd::Attendance(a), Prepared::Since(since)) => attendance(c, ctx, a, since).await,
        (Cmd::Door(DoorCmd::Status), _) => door_status(c, ctx).await,
        (Cmd::Door(DoorCmd::Unlock { .. }), Prepared::Unlock { door, seconds }) => {
            door_unlock(c, ctx, door, seconds).await
        }
        (Cmd::Events { count }, _) => events(c, ctx, *count).await,
        (Cmd::Time(TimeCmd::Get), _) => {
            let t = c.time().await.map_err(|e| ctx.err(e))?;
            if ctx.json {
                println!("{}", json!({"time": iso(t)}));
            } else {
                println!("{}", iso(t));
            }
            Ok(())
        }
        (Cmd::Time(TimeCmd::Set { .. }), Prepared::Time(t)) => time_set(c, ctx, t).await,
        _ => Err(Failure::usage("internal: command not prepared")),
    }
}

// ---------------------------------------------------------------- views

/// `YYYY-MM-DDTHH:MM:SS`, as the terminal commands print times.
fn iso(t: PanelTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn sensor_name(s: DoorSensor) -> &'static str {
    match s {
        DoorSensor::Open => "open",
        DoorSensor::Closed => "closed",
        _ => "unknown",
    }
}

fn relay_name(r: Option<bool>) -> &'static str {
    match r {
        Some(true) => "released",
        Some(false) => "locked",
        None => "unknown",
    }
}

fn door_json(d: &DoorReading) -> Value {
    json!({
        "door": d.door,
        "sensor": sensor_name(d.sensor),
        "relay": relay_name(d.unlocked),
        "alarm": d.alarm.alarm(),
        "open_timeout": d.alarm.open_timeout(),
        "alarm_flags": d.alarm.0,
    })
}

fn door_text(d: &DoorReading) -> String {
    let mut s = format!(
        "door {}: sensor {}, lock {}",
        d.door,
        sensor_name(d.sensor),
        relay_name(d.unlocked)
    );
    let mut alarms = Vec::new();
    if d.alarm.alarm() {
        alarms.push("ALARM");
    }
    if d.alarm.open_timeout() {
        alarms.push("OPEN TOO LONG");
    }
    if alarms.is_empty() {
        s.push_str(", no alarm");
    } else {
        s.push_str(", ");
        s.push_str(&alarms.join(", "));
    }
    s
}

/// A panel user (never the PIN code, only whether one is set).
fn user_json(u: &UserRow) -> Value {
    json!({
        "user_id": u.pin.to_string(),
        "name": u.name,
        "card": u.card_no,
        "group": u.group,
        "start_date": u.start_date,
        "end_date": u.end_date,
        "super_user": u.super_authorize,
        "uid": u.uid,
        "has_pin": !u.password.is_empty(),
    })
}

fn dash(n: u32) -> String {
    if n == 0 { "-".into() } else { n.to_string() }
}

fn validity(u: &UserRow) -> String {
    match (u.start_date, u.end_date) {
        (0, 0) => "always".into(),
        (a, b) => format!("{}..{}", dash(a), dash(b)),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

fn users_table(users: &[UserRow]) -> String {
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.pin.to_string(),
                if u.name.is_empty() {
                    "-".into()
                } else {
                    shown(&u.name)
                },
                dash(u.card_no),
                u.group.to_string(),
                yes_no(!u.password.is_empty()),
                yes_no(u.super_authorize),
                validity(u),
            ]
        })
        .collect();
    let mut s = crate::view::table(
        &["USER ID", "NAME", "CARD", "GROUP", "PIN", "SUPER", "VALID"],
        &rows,
    );
    s.push_str(&format!("{} user(s)\n", users.len()));
    s
}

fn user_text(u: &UserRow) -> String {
    format!(
        "user id:   {}\nname:      {}\ncard:      {}\ngroup:     {}\nvalid:     {}\nsuper:     {}\n\
         uid:       {}\npin:       {}\n",
        u.pin,
        if u.name.is_empty() {
            "-".into()
        } else {
            shown(&u.name)
        },
        dash(u.card_no),
        u.group,
        validity(u),
        yes_no(u.super_authorize),
        u.uid.map_or_else(|| "-".into(), |n| n.to_string()),
        if u.password.is_empty() {
            "not set"
        } else {
            "set"
        },
    )
}

fn user_id_of(pin: u32) -> Value {
    if pin == 0 {
        Value::Null
    } else {
        Value::String(pin.to_string())
    }
}

/// A transaction or real-time event as JSON (without `type`).
fn record_json(e: &RtEvent) -> Value {
    json!({
        "time": iso(e.time),
        "door": e.door,
        "event": e.event.value(),
        "event_name": e.event.name(),
        "user_id": user_id_of(e.pin),
        "card": e.card_no,
        "verify": e.verify.value(),
        "verify_name": e.verify.name(),
        "in_out": e.in_out.name(),
    })
}

fn record_text(e: &RtEvent) -> String {
    format!(
        "{}  door {}  {} ({})  user {}  card {}  {}  {}",
        iso(e.time),
        e.door,
        e.event.name(),
        e.event.value(),
        if e.pin == 0 {
            "-".into()
        } else {
            e.pin.to_string()
        },
        dash(e.card_no),
        e.verify.name(),
        e.in_out.name()
    )
}

// ---------------------------------------------------------------- commands

async fn info(c: &mut Client, ctx: &Ctx) -> Result<(), Failure> {
    let di = c.device_info().await.map_err(|e| ctx.err(e))?;
    let time = c.time().await.map_err(|e| ctx.err(e))?;
    let users = c.users().await.map_err(|e| ctx.err(e))?.len();
    let records = c.transaction_count().await.map_err(|e| ctx.err(e))?;
    let session = c.session_id().is_some();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if ctx.json {
        println!(
            "{}",
            json!({
                "device": ctx.label,
                "kind": "c3",
                "serial": opt(&di.serial_number),
                "firmware": opt(&di.firmware),
                "device_name": opt(&di.device_name),
                "doors": di.lock_count,
                "readers": di.reader_count,
                "aux_inputs": di.aux_in_count,
                "aux_outputs": di.aux_out_count,
                "fingerprint_version": opt(&di.fingerprint_version),
                "time": iso(time),
                "session_connect": session,
                "users": users,
                "transactions": records,
            })
        );
        return Ok(());
    }
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            shown(s)
        }
    };
    println!("device:      {} (C3/inBio access panel)", ctx.label);
    println!("serial:      {}", or_dash(&di.serial_number));
    println!("model:       {}", or_dash(&di.device_name));
    println!("firmware:    {}", or_dash(&di.firmware));
    println!(
        "doors:       {} ({} readers, {} aux inputs, {} aux outputs)",
        di.lock_count, di.reader_count, di.aux_in_count, di.aux_out_count
    );
    println!("time:        {}", iso(time));
    println!(
        "connect:     {}",
        if session {
            "session (newer firmware)"
        } else {
            "session-less (older firmware)"
        }
    );
    println!("users:       {users}");
    println!("records:     {records}");
    Ok(())
}

fn not_found(pin: u32) -> Failure {
    Failure::refused(format!("there is no user with id {pin} on the panel"))
        .hint("list the users with `zkctl users list`")
}

async fn find_user(c: &mut Client, ctx: &Ctx, pin: u32) -> Result<UserRow, Failure> {
    c.user(pin)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| not_found(pin))
}

async fn users(c: &mut Client, ctx: &Ctx, cmd: &UsersCmd, p: Prepared) -> Result<(), Failure> {
    match (cmd, p) {
        (UsersCmd::List, _) => {
            let list = c.users().await.map_err(|e| ctx.err(e))?;
            if ctx.json {
                let arr: Vec<Value> = list.iter().map(user_json).collect();
                println!("{}", Value::Array(arr));
            } else {
                print!("{}", users_table(&list));
            }
        }
        (UsersCmd::Show { .. }, Prepared::User(pin)) => {
            let u = find_user(c, ctx, pin).await?;
            if ctx.json {
                println!("{}", user_json(&u));
            } else {
                print!("{}", user_text(&u));
            }
        }
        (UsersCmd::Add { .. }, Prepared::Add { user }) => {
            let has_names = c
                .table_structure()
                .await
                .map_err(|e| ctx.err(e))?
                .table("user")
                .is_some_and(|t| t.field("Name").is_some());
            if !user.name.is_empty() && !has_names {
                return Err(Failure::usage(
                    "this panel's firmware stores no user names (its user table has no Name field)",
                )
                .hint("drop --name"));
            }
            let back = c.add_user(&user).await.map_err(|e| ctx.err(e))?;
            if ctx.json {
                println!("{}", user_json(&back));
            } else {
                println!(
                    "added user {}{}{}",
                    back.pin,
                    if back.name.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", shown(&back.name))
                    },
                    if back.password.is_empty() {
                        ""
                    } else {
                        ", PIN set"
                    }
                );
            }
        }
        (UsersCmd::SetPin { .. }, Prepared::Pin(pin, code)) => {
            find_user(c, ctx, pin).await?;
            let back = c.set_pin(pin, &code).await.map_err(|e| ctx.err(e))?;
            if back.password != code {
                return Err(Failure::refused(
                    "the panel accepted the PIN but reading it back shows a different one",
                ));
            }
            if ctx.json {
                println!(
                    "{}",
                    json!({"user_id": pin.to_string(), "uid": back.uid, "has_pin": true, "verified": true})
                );
            } else {
                println!("PIN of user {pin} set; read back from the panel and confirmed");
            }
        }
        (UsersCmd::ClearPin { .. }, Prepared::User(pin)) => {
            find_user(c, ctx, pin).await?;
            let back = c.clear_pin(pin).await.map_err(|e| ctx.err(e))?;
            if !back.password.is_empty() {
                return Err(Failure::refused(
                    "the panel still reports a PIN after clearing it",
                ));
            }
            if ctx.json {
                println!(
                    "{}",
                    json!({"user_id": pin.to_string(), "uid": back.uid, "has_pin": false, "verified": true})
                );
            } else {
                println!("PIN of user {pin} cleared");
            }
        }
        (UsersCmd::Delete { yes, .. }, Prepared::User(pin)) => {
            let u = find_user(c, ctx, pin).await?;
            input::confirm(*yes, &format!("Delete user {pin} from {}?", ctx.label))?;
            c.delete_user(pin).await.map_err(|e| ctx.err(e))?;
            if ctx.json {
                println!(
                    "{}",
                    json!({"user_id": pin.to_string(), "uid": u.uid, "deleted": true})
                );
            } else {
                println!("deleted user {pin} and their door authorisations");
            }
        }
        _ => return Err(Failure::usage("internal: command not prepared")),
    }
    Ok(())
}

async fn attendance(
    c: &mut Client,
    ctx: &Ctx,
    args: &AttendanceArgs,
    since: Option<PanelTime>,
) -> Result<(), Failure> {
    let rows = c.transactions().await.map_err(|e| ctx.err(e))?;
    let records: Vec<RtEvent> = rows
        .iter()
        .filter(|t| since.is_none_or(|s| t.time >= s))
        .copied()
        .collect();
    let mut out = String::new();
    if args.csv {
        out.push_str("time,user_id,card,door,event,verify,in_out\n");
        for e in &records {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                iso(e.time),
                if e.pin == 0 {
                    String::new()
                } else {
                    e.pin.to_string()
                },
                e.card_no,
                e.door,
                e.event.value(),
                e.verify.value(),
                e.in_out.value()
            ));
        }
    } else if ctx.json {
        let arr: Vec<Value> = records.iter().map(record_json).collect();
        out.push_str(&Value::Array(arr).to_string());
        out.push('\n');
    } else {
        for e in &records {
            out.push_str(&record_text(e));
            out.push('\n');
        }
        out.push_str(&format!("{} record(s)\n", records.len()));
    }
    view::emit(&out, args.out.as_deref(), records.len(), ctx.json)
}

async fn door_status(c: &mut Client, ctx: &Ctx) -> Result<(), Failure> {
    let states = c.door_states().await.map_err(|e| ctx.err(e))?;
    if ctx.json {
        let arr: Vec<Value> = states.iter().map(door_json).collect();
        println!("{}", json!({ "doors": arr }));
    } else {
        for d in &states {
            println!("{}", door_text(d));
        }
    }
    Ok(())
}

async fn door_unlock(c: &mut Client, ctx: &Ctx, door: u8, seconds: u8) -> Result<(), Failure> {
    let doors = c.door_count().await.map_err(|e| ctx.err(e))?;
    if door > doors {
        return Err(Failure::usage(format!(
            "--door {door}: this panel has {doors} door(s)"
        )));
    }
    c.unlock(door, Duration::from_secs(u64::from(seconds)))
        .await
        .map_err(|e| ctx.err(e))?;
    let after = c.door_state(door).await.map_err(|e| ctx.err(e))?;
    if after.unlocked == Some(false) {
        return Err(Failure::refused(format!(
            "the panel accepted the unlock but door {door}'s lock still reports locked"
        ))
        .hint("check the door's lock settings (Door{N}Drivertime) in ZKAccess"));
    }
    if ctx.json {
        println!(
            "{}",
            json!({"door": door, "unlocked": true, "seconds": seconds, "relay": relay_name(after.unlocked)})
        );
    } else {
        println!(
            "door {door} unlocked for {seconds} s (lock {})",
            relay_name(after.unlocked)
        );
    }
    Ok(())
}

async fn events(c: &mut Client, ctx: &Ctx, count: Option<u64>) -> Result<(), Failure> {
    let doors = usize::from(c.door_count().await.map_err(|e| ctx.err(e))?);
    if !ctx.json {
        eprintln!("listening for events on {} (Ctrl-C to stop)", ctx.label);
    }
    family::print_events(c.events(), count, |item| {
        Ok(Some(match item.map_err(|e| ctx.err(e))? {
            PanelEvent::Event(e) => {
                if ctx.json {
                    let mut v = record_json(&e);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("type".into(), "event".into());
                    }
                    v.to_string()
                } else {
                    record_text(&e)
                }
            }
            PanelEvent::Status(s) => {
                let states = DoorReading::from_status(&s);
                let states = states.iter().take(doors);
                if ctx.json {
                    let arr: Vec<Value> = states.map(door_json).collect();
                    json!({"type": "status", "time": iso(s.time), "doors": arr}).to_string()
                } else {
                    let parts: Vec<String> = states.map(door_text).collect();
                    format!("{}  status  {}", iso(s.time), parts.join("; "))
                }
            }
            _ => return Ok(None),
        }))
    })
    .await
}

async fn time_set(c: &mut Client, ctx: &Ctx, t: PanelTime) -> Result<(), Failure> {
    let before = c.time().await.map_err(|e| ctx.err(e))?;
    c.set_time(t).await.map_err(|e| ctx.err(e))?;
    let after = c.time().await.map_err(|e| ctx.err(e))?;
    if ctx.json {
        println!(
            "{}",
            json!({"time": iso(after), "previous": iso(before), "requested": iso(t)})
        );
    } else {
        println!("panel clock set to {} (was {})", iso(after), iso(before));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn panel_device_specs() {
        assert!(PanelTarget::detect("10.0.0.5").is_none());
        assert!(PanelTarget::detect("sim").is_none());
        let t = PanelTarget::detect("c3://10.0.0.5").unwrap().unwrap();
        assert_eq!(t.label(), "c3://10.0.0.5:4370");
        let t = PanelTarget::detect("C3://host:4371").unwrap().unwrap();
        assert_eq!(t.label(), "c3://host:4371");
        assert!(PanelTarget::detect("c3://").unwrap().is_err());
        assert!(PanelTarget::detect("c3://host:0").unwrap().is_err());
        assert!(PanelTarget::detect("c3://sim").unwrap().is_err());
        assert_eq!(
            PanelTarget::detect("sim-c3").unwrap().unwrap().label(),
            "sim-c3:4"
        );
        assert_eq!(
            PanelTarget::detect("sim-c3:2:old")
                .unwrap()
                .unwrap()
                .label(),
            "sim-c3:2:old"
        );
        assert!(PanelTarget::detect("sim-c3:3").unwrap().is_err());
    }

    #[test]
    fn user_ids_and_views() {
        assert_eq!(user_id("1001").unwrap(), 1001);
        assert!(user_id("0").is_err());
        assert!(user_id("abc").is_err());
        let u = UserRow {
            pin: 7,
            password: "1234".into(),
            ..UserRow::default()
        };
        let v = user_json(&u);
        assert_eq!(v["has_pin"], true);
        assert!(!v.to_string().contains("1234"), "the PIN must not be shown");
        assert!(!user_text(&u).contains("1234"));
        assert!(!users_table(&[u]).contains("1234"));
    }
}
