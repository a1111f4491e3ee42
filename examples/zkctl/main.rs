//! `zkctl`: manage a ZKTeco attendance terminal from the command line.
//!
//! ```text
//! cargo run --example zkctl --features simulator -- --device sim users list
//! zkctl --device 192.168.1.201 info
//! zkctl --device 192.168.1.201 --comm-key 1234 users set-pin 42 --pin-stdin
//! zkctl --device 192.168.1.201 backup office.json
//! ```
//!
//! Exit codes: 0 success, 1 the device refused (reply code explained) or
//! the user does not exist, 2 usage or input error (nothing sent), 3
//! network, timeout or protocol error, 4 a write the device acknowledged
//! could not be confirmed (the change may have been made). `--json` output is described in
//! `docs/zkctl-json.md`.

mod backup;
mod cli;
mod device;
mod fail;
mod family;
mod input;
mod panel;
mod sync;
mod transfer;
mod view;

use clap::Parser;
use cli::{AttendanceArgs, AttendanceCmd, Cli, Cmd, DoorCmd, SimArgs, TimeCmd, UsersCmd};
use device::{Session, Settings, Target};
use fail::Failure;
use family::Family;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;
use view::{UserView, shown};
use zkproto::terminal::client::{
    AttendanceSync, ClearOutcome, Client, Error as ClientError, NewUser, OnDiscontinuity,
    StreamOptions, SyncOutcome, Transport,
};
use zkproto::terminal::command::EventMask;
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::record::door::DoorStatus;
use zkproto::terminal::record::text::{Overflow, TextEncoding};
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::record::user::{Privilege, User, UserLayout};
use zkproto::terminal::sim::{Profile, SimConfig, Simulator};
use zkproto::terminal::sync::SyncCursor;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors = cli.json;
    if cli.trace {
        trace_to_stderr();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("zkctl: cannot start the async runtime: {e}");
            return ExitCode::from(fail::Exit::Network.code());
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json_errors {
                eprintln!("{}", f.json());
            } else {
                eprintln!("{}", f.line());
            }
            ExitCode::from(f.exit.code())
        }
    }
}

/// `--trace`: the client's frame dumps (`zkproto::frames`, secrets
/// redacted by the library) and the panel client's request/reply lines,
/// one per line on stderr; nothing else is logged.
fn trace_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::new(
        "off,zkproto::frames=trace,zkproto::panel::client=trace",
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_level(false)
        .without_time()
        .try_init();
}

/// Everything a command needs besides the client.
struct Ctx {
    label: String,
    enc: TextEncoding,
    json: bool,
}

impl Ctx {
    /// Maps a client error for this device.
    fn err(&self, e: ClientError) -> Failure {
        Failure::from_client(&e, &self.label)
    }

    /// Prints a JSON value on stdout.
    fn print_json(&self, v: &serde_json::Value) {
        println!("{v}");
    }
}

/// The operation as named in messages ("users set-pin 42").
fn operation(cmd: &Cmd) -> String {
    match cmd {
        Cmd::Info => "info".into(),
        Cmd::Users(u) => match u {
            UsersCmd::List => "users list".into(),
            UsersCmd::Show { user_id } => format!("users show {user_id}"),
            UsersCmd::Add { user_id, .. } => format!("users add {user_id}"),
            UsersCmd::SetPin { user_id, .. } => format!("users set-pin {user_id}"),
            UsersCmd::ClearPin { user_id } => format!("users clear-pin {user_id}"),
            UsersCmd::Delete { user_id, .. } => format!("users delete {user_id}"),
        },
        Cmd::Attendance(a) if a.action.is_some() => "attendance clear".into(),
        Cmd::Attendance(_) => "attendance".into(),
        Cmd::Door(DoorCmd::Unlock { door: Some(d), .. }) => format!("door unlock --door {d}"),
        Cmd::Door(DoorCmd::Unlock { .. }) => "door unlock".into(),
        Cmd::Door(DoorCmd::Status) => "door status".into(),
        Cmd::Events { .. } => "events".into(),
        Cmd::Time(TimeCmd::Get) => "time get".into(),
        Cmd::Time(TimeCmd::Set { .. }) => "time set".into(),
        Cmd::Backup { file } => format!("backup {}", file.display()),
        Cmd::Restore { file, .. } => format!("restore {}", file.display()),
        Cmd::Sim(_) => "sim".into(),
    }
}

/// Work done before connecting: everything that can be checked without
/// the device, so that bad input never reaches it.
enum Prepared {
    None,
    Pin(Option<String>),
    Since(Option<DeviceTime>),
    Time(DeviceTime),
    Backup(Box<backup::Loaded>),
    /// `attendance --cursor FILE`: the stored cursor.
    Cursor(SyncCursor),
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let op = operation(&cli.command);
    let enc = TextEncoding::from_label(&cli.encoding).ok_or_else(|| {
        Failure::usage(format!("unknown --encoding {:?}", cli.encoding))
            .hint("try utf-8, gbk, big5, shift_jis, euc-kr, cp1250 … cp1258")
            .op(&op)
    })?;
    if !(cli.timeout.is_finite() && cli.timeout > 0.0 && cli.timeout <= 3600.0) {
        return Err(Failure::usage("--timeout must be between 0 and 3600 seconds").op(&op));
    }
    let settings = Settings {
        transport: if cli.udp {
            Transport::Udp
        } else if cli.tcp {
            Transport::Tcp
        } else {
            Transport::Auto
        },
        comm_key: cli.comm_key.unwrap_or(0),
        timeout: Duration::from_secs_f64(cli.timeout),
        encoding: enc,
    };
    if let Cmd::Sim(args) = &cli.command {
        return run_sim(args, &settings)
            .await
            .map_err(|f| f.context("sim", &op));
    }
    let Some(device) = cli.device.as_deref() else {
        return Err(Failure::usage("no device given")
            .hint("use --device HOST[:PORT], or --device sim to try the tool, or set ZKCTL_DEVICE")
            .op(&op));
    };
    if let Some(target) = panel::PanelTarget::detect(device) {
        let target = target.map_err(|f| f.context(device, &op))?;
        return panel::run(&cli, &target, &settings, cli.password.as_deref(), &op).await;
    }
    let target = Target::parse(device).map_err(|f| f.context(device, &op))?;
    family::run(
        &Terminal {
            target: &target,
            settings: &settings,
        },
        &cli,
        &op,
    )
    .await
}

/// The terminal family: a device on port 4370, or the terminal simulator.
struct Terminal<'a> {
    target: &'a Target,
    settings: &'a Settings,
}

impl Family for Terminal<'_> {
    type Prepared = Prepared;
    type Conn = Session;

    fn label(&self) -> String {
        self.target.label()
    }

    fn prepare(&self, cli: &Cli) -> Result<Prepared, Failure> {
        prepare(&cli.command, cli.json)
    }

    async fn connect(&self) -> Result<Session, Failure> {
        device::connect(self.target, self.settings).await
    }

    fn activity(&self, conn: &Session) -> Option<tokio::task::JoinHandle<()>> {
        let (sim, _) = conn.sim.as_ref()?;
        Some(device::spawn_punches(
            sim.clone(),
            Duration::from_millis(500),
        ))
    }

    async fn execute(&self, conn: &mut Session, cli: &Cli, p: Prepared) -> Result<(), Failure> {
        let ctx = Ctx {
            label: self.label(),
            enc: conn.encoding,
            json: cli.json,
        };
        execute(conn, &ctx, &cli.command, p).await
    }

    fn annotate(&self, conn: &Session, failure: Failure) -> Failure {
        failure.on_transport(conn.client.transport())
    }

    async fn hang_up(&self, conn: Session) -> Result<(), String> {
        let Session { client, sim, .. } = conn;
        let bye = client.disconnect().await;
        drop(sim);
        bye.map_err(|e| e.to_string())
    }
}

fn prepare(cmd: &Cmd, json: bool) -> Result<Prepared, Failure> {
    Ok(match cmd {
        Cmd::Users(UsersCmd::Add {
            user_id, pin, name, ..
        }) => {
            check_user_id_syntax(user_id)?;
            let Some(name) = name else {
                return Err(Failure::usage("--name is required").hint("add --name NAME"));
            };
            if name.trim().is_empty() {
                return Err(Failure::usage("--name is empty"));
            }
            Prepared::Pin(input::read_pin(pin, false, user_id)?)
        }
        Cmd::Users(UsersCmd::SetPin { user_id, pin }) => {
            check_user_id_syntax(user_id)?;
            Prepared::Pin(input::read_pin(pin, true, user_id)?)
        }
        Cmd::Users(UsersCmd::Delete { user_id, yes }) => {
            check_user_id_syntax(user_id)?;
            input::confirm_possible(*yes, "deleting a user")?;
            Prepared::None
        }
        Cmd::Users(UsersCmd::Show { user_id } | UsersCmd::ClearPin { user_id }) => {
            check_user_id_syntax(user_id)?;
            Prepared::None
        }
        Cmd::Attendance(AttendanceArgs {
            action:
                Some(AttendanceCmd::Clear {
                    yes,
                    archive,
                    cursor,
                }),
            ..
        }) => {
            if cursor.is_some() && archive.is_none() {
                return Err(Failure::usage("--cursor needs --archive FILE")
                    .hint("attendance clear --archive FILE --cursor CURSOR_FILE"));
            }
            if let Some(a) = archive
                && a.exists()
            {
                return Err(Failure::usage(format!(
                    "--archive {}: the file exists (an archive is never overwritten)",
                    a.display()
                ))
                .hint("name a new file"));
            }
            input::confirm_possible(*yes, "clearing the attendance log")?;
            match cursor {
                Some(c) => Prepared::Cursor(sync::load_cursor(c)?),
                None => Prepared::None,
            }
        }
        Cmd::Attendance(a) => {
            if a.csv && json {
                return Err(Failure::usage("--csv and --json exclude each other"));
            }
            if a.cursor.is_some() && a.since.is_some() {
                return Err(Failure::usage("--cursor and --since exclude each other"));
            }
            if a.restart && a.cursor.is_none() {
                return Err(Failure::usage("--restart needs --cursor FILE"));
            }
            let since = match &a.since {
                Some(s) => Some(DeviceTime::parse(s).map_err(|e| {
                    Failure::usage(format!("--since {s:?}: {e}"))
                        .hint("use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")
                })?),
                None => None,
            };
            match &a.cursor {
                Some(c) => Prepared::Cursor(sync::load_cursor(c)?),
                None => Prepared::Since(since),
            }
        }
        Cmd::Time(TimeCmd::Set { when }) => {
            let t = input::parse_when(when)?;
            if t.to_packed().is_err() {
                return Err(Failure::usage(format!(
                    "{t} is outside the device's range (2000-2099)"
                )));
            }
            Prepared::Time(t)
        }
        Cmd::Restore { file, .. } => Prepared::Backup(Box::new(backup::load(file)?)),
        Cmd::Door(DoorCmd::Unlock { door: Some(d), .. }) if *d != 1 => {
            return Err(
                Failure::usage(format!("--door {d}: a terminal has one door (door 1)"))
                    .hint("--door is for C3/inBio panels (--device c3://HOST)"),
            );
        }
        Cmd::Door(DoorCmd::Unlock { seconds, .. }) if *seconds == 0 || *seconds > 25 => {
            return Err(Failure::usage(format!("--seconds {seconds}: use 1 to 25"))
                .hint("firmware reads the duration as one byte of tenths of a second"));
        }
        _ => Prepared::None,
    })
}

/// A user id can be neither empty nor "0" (the device refuses both).
fn check_user_id_syntax(user_id: &str) -> Result<(), Failure> {
    if user_id.is_empty() || user_id == "0" {
        return Err(Failure::usage(format!(
            "user id {user_id:?} is not allowed (empty or 0)"
        )));
    }
    Ok(())
}

async fn execute(s: &mut Session, ctx: &Ctx, cmd: &Cmd, prepared: Prepared) -> Result<(), Failure> {
    let c = &mut s.client;
    match (cmd, prepared) {
        (Cmd::Info, _) => info(c, ctx).await,
        (Cmd::Users(u), p) => users(c, ctx, u, p).await,
        (
            Cmd::Attendance(AttendanceArgs {
                action:
                    Some(AttendanceCmd::Clear {
                        yes,
                        archive: Some(archive),
                        cursor,
                    }),
                ..
            }),
            p,
        ) => {
            let from = match (cursor, p) {
                (Some(path), Prepared::Cursor(c)) => Some((path.as_path(), c)),
                _ => None,
            };
            attendance_safe_clear(c, ctx, *yes, archive, from).await
        }
        (
            Cmd::Attendance(AttendanceArgs {
                action: Some(AttendanceCmd::Clear { yes, .. }),
                ..
            }),
            _,
        ) => attendance_clear(c, ctx, *yes).await,
        (Cmd::Attendance(a), Prepared::Since(since)) => attendance(c, ctx, a, since).await,
        (Cmd::Attendance(a), Prepared::Cursor(cursor)) => attendance_sync(c, ctx, a, cursor).await,
        (Cmd::Door(d), _) => door(c, ctx, d).await,
        (Cmd::Events { count }, _) => events(c, ctx, *count).await,
        (Cmd::Time(TimeCmd::Get), _) => time_get(c, ctx).await,
        (Cmd::Time(TimeCmd::Set { .. }), Prepared::Time(t)) => time_set(c, ctx, t).await,
        (Cmd::Backup { file }, _) => transfer::backup_cmd(c, ctx, file).await,
        (Cmd::Restore { dry_run, .. }, Prepared::Backup(b)) => {
            transfer::restore(c, ctx, &b, *dry_run).await
        }
        _ => Err(Failure::usage("internal: command not prepared")),
    }
}

// ---------------------------------------------------------------- info

/// The device's user-record layout, known once its user table was read
/// (`None` while the table is empty).
async fn user_layout(c: &mut Client, ctx: &Ctx) -> Result<Option<UserLayout>, Failure> {
    if c.user_layout().is_none() {
        c.users().await.map_err(|e| ctx.err(e))?;
    }
    Ok(c.user_layout())
}

async fn info(c: &mut Client, ctx: &Ctx) -> Result<(), Failure> {
    let di = c.device_info().await.map_err(|e| ctx.err(e))?;
    let layout = user_layout(c, ctx).await?;
    let sizes = &di.sizes;
    let time = di.time;
    let v = json!({
        "device": ctx.label,
        "serial": di.serial_number,
        "platform": di.platform,
        "firmware": di.firmware_version,
        "device_name": di.device_name,
        "mac": di.mac,
        "time": time.to_string(),
        "user_layout": layout.map(backup::layout_name),
        "users": {"used": sizes.users, "capacity": sizes.users_cap},
        "fingers": {"used": sizes.fingers, "capacity": sizes.fingers_cap},
        "records": {"used": sizes.records, "capacity": sizes.records_cap},
        "admins": sizes.admins,
        "passwords": sizes.passwords,
    });
    if ctx.json {
        ctx.print_json(&v);
        return Ok(());
    }
    let opt = |o: &Option<String>| o.as_deref().map_or_else(|| "-".into(), shown);
    println!("device:      {}", ctx.label);
    println!("serial:      {}", opt(&di.serial_number));
    println!("model:       {}", opt(&di.device_name));
    println!("platform:    {}", opt(&di.platform));
    println!("firmware:    {}", shown(&di.firmware_version));
    println!("mac:         {}", opt(&di.mac));
    println!("time:        {time}");
    match layout {
        Some(l) => println!("user record: {} bytes", l.record_len()),
        None => println!("user record: unknown (no users yet)"),
    }
    println!("users:       {} of {}", sizes.users, sizes.users_cap);
    println!("fingers:     {} of {}", sizes.fingers, sizes.fingers_cap);
    println!("records:     {} of {}", sizes.records, sizes.records_cap);
    Ok(())
}

// ---------------------------------------------------------------- users

fn not_found(user_id: &str) -> Failure {
    Failure::refused(format!(
        "there is no user with id {user_id:?} on the device"
    ))
    .hint("list the users with `zkctl users list`")
}

async fn find_user(c: &mut Client, ctx: &Ctx, user_id: &str) -> Result<User, Failure> {
    c.user(user_id)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| not_found(user_id))
}

/// Explains a PIN that does not fit the device's records.
fn pin_too_long(layout: UserLayout) -> Failure {
    Failure::usage(format!(
        "the PIN is too long: this device's {}-byte user records hold at most {} digits",
        layout.record_len(),
        layout.password_len()
    ))
}

async fn users(c: &mut Client, ctx: &Ctx, cmd: &UsersCmd, p: Prepared) -> Result<(), Failure> {
    let enc = ctx.enc;
    match cmd {
        UsersCmd::List => {
            let list = c.users().await.map_err(|e| ctx.err(e))?;
            let views: Vec<UserView> = list.iter().map(|u| UserView::of(u, enc)).collect();
            if ctx.json {
                ctx.print_json(&json!(views));
            } else {
                print!("{}", view::users_table(&views));
            }
            Ok(())
        }
        UsersCmd::Show { user_id } => {
            let u = find_user(c, ctx, user_id).await?;
            print_user(ctx, &u);
            Ok(())
        }
        UsersCmd::Add {
            user_id,
            name,
            card,
            admin,
            ..
        } => {
            let Prepared::Pin(pin) = p else {
                return Err(Failure::usage("internal: PIN not read"));
            };
            let name = name.as_deref().unwrap_or_default();
            // Check locally against the device's layout (the larger one
            // while the table is empty) so that bad input never reaches it.
            let layout = user_layout(c, ctx).await?.unwrap_or(UserLayout::Extended72);
            let mut u = User::new(layout, 1, user_id, enc).map_err(|e| {
                Failure::usage(format!("user id {user_id:?} cannot be stored: {e}")).hint(
                    match layout {
                        UserLayout::Compact28 => {
                            "this device's 28-byte user records take numeric ids up to 4294967295"
                        }
                        UserLayout::Extended72 => "this device's user ids hold at most 24 bytes",
                    },
                )
            })?;
            u.set_name(name, enc, Overflow::Error).map_err(|_| {
                Failure::usage(format!(
                    "name {name:?} is too long: it is {} bytes in {} and this device's \
                     {}-byte user records hold {}",
                    enc.encoded_len(name).unwrap_or(name.len()),
                    enc.name(),
                    layout.record_len(),
                    layout.name_len()
                ))
                .hint("use a shorter name")
            })?;
            if let Some(pin) = &pin {
                u.set_password(pin).map_err(|_| pin_too_long(layout))?;
            }
            let mut new = NewUser::new(user_id.clone())
                .name(name.to_string())
                .card(card.unwrap_or(0));
            if *admin {
                new = new.privilege(Privilege::ADMIN);
            }
            if let Some(pin) = pin {
                new = new.password(pin);
            }
            let back = c.add_user(new).await.map_err(|e| match e {
                ClientError::DuplicateUserId { uids, .. } => Failure::refused(format!(
                    "user id {user_id:?} already exists on the device (uid {})",
                    uids.iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .hint("choose another id, or change the existing user"),
                e => ctx.err(e),
            })?;
            if ctx.json {
                print_user(ctx, &back);
            } else {
                println!(
                    "added user {} ({}) at uid {}{}",
                    shown(&back.user_id(enc)),
                    shown(&back.name(enc)),
                    back.uid(),
                    if back.has_password() { ", PIN set" } else { "" }
                );
            }
            Ok(())
        }
        UsersCmd::SetPin { user_id, .. } => {
            let Prepared::Pin(Some(pin)) = p else {
                return Err(Failure::usage("internal: PIN not read"));
            };
            // One read to find the user and one to read the write back
            // (inside set_pin); a PIN too long for the records is refused
            // before anything is written.
            let back = c.set_pin(user_id, &pin).await.map_err(|e| match e {
                ClientError::Encode(_) => match c.user_layout() {
                    Some(layout) => pin_too_long(layout),
                    None => ctx.err(e),
                },
                e => ctx.err(e),
            })?;
            if back.password(enc).expose() != pin {
                return Err(Failure::refused(
                    "the device accepted the PIN but reading it back shows a different one",
                ));
            }
            if ctx.json {
                ctx.print_json(&json!({"user_id": user_id, "uid": back.uid(), "has_pin": true, "verified": true}));
            } else {
                println!(
                    "PIN of user {} ({}) set; read back from the device and confirmed",
                    shown(user_id),
                    shown(&back.name(enc))
                );
            }
            Ok(())
        }
        UsersCmd::ClearPin { user_id } => {
            find_user(c, ctx, user_id).await?;
            let back = c.clear_pin(user_id).await.map_err(|e| ctx.err(e))?;
            if back.has_password() {
                return Err(Failure::refused(
                    "the device still reports a PIN after clearing it",
                ));
            }
            if ctx.json {
                ctx.print_json(&json!({"user_id": user_id, "uid": back.uid(), "has_pin": false, "verified": true}));
            } else {
                println!(
                    "PIN of user {} ({}) cleared",
                    shown(user_id),
                    shown(&back.name(enc))
                );
            }
            Ok(())
        }
        UsersCmd::Delete { user_id, yes } => {
            let u = find_user(c, ctx, user_id).await?;
            input::confirm(
                *yes,
                &format!(
                    "Delete user {} ({}) from {}?",
                    shown(user_id),
                    shown(&u.name(enc)),
                    ctx.label
                ),
            )?;
            c.delete_user(user_id).await.map_err(|e| ctx.err(e))?;
            if c.user(user_id).await.map_err(|e| ctx.err(e))?.is_some() {
                return Err(Failure::refused(
                    "the device still lists the user after deleting it",
                ));
            }
            if ctx.json {
                ctx.print_json(&json!({"user_id": user_id, "uid": u.uid(), "deleted": true}));
            } else {
                println!(
                    "deleted user {} ({}, uid {})",
                    shown(user_id),
                    shown(&u.name(enc)),
                    u.uid()
                );
            }
            Ok(())
        }
    }
}

fn print_user(ctx: &Ctx, u: &User) {
    let v = UserView::of(u, ctx.enc);
    if ctx.json {
        ctx.print_json(&json!(v));
    } else {
        print!("{}", view::user_text(&v));
    }
}

// ---------------------------------------------------------------- attendance

/// A `\r`-updated progress line on stderr, only when stderr is a terminal.
struct Progress {
    on: bool,
    last: std::time::Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            last: std::time::Instant::now(),
        }
    }

    fn update(&mut self, done: u64, total: u64) {
        if !self.on || (self.last.elapsed() < Duration::from_millis(100) && done < total) {
            return;
        }
        self.last = std::time::Instant::now();
        let width = 30u64;
        let done = done.min(total);
        let filled = (done * width).checked_div(total).unwrap_or(width);
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let bar: String = (0..width)
            .map(|i| if i < filled { '#' } else { '.' })
            .collect();
        eprint!("\rdownloading [{bar}] {pct:>3}% {done}/{total} bytes");
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.on {
            eprint!("\r{}\r", " ".repeat(72));
            let _ = std::io::stderr().flush();
        }
    }
}

async fn attendance(
    c: &mut Client,
    ctx: &Ctx,
    args: &AttendanceArgs,
    since: Option<DeviceTime>,
) -> Result<(), Failure> {
    use futures_util::StreamExt;
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress::new()));
    let mut opts = StreamOptions::new();
    if let Some(t) = since {
        opts = opts.since(t);
    }
    let bar = progress.clone();
    opts = opts.progress(move |p| {
        if let Ok(mut b) = bar.lock() {
            b.update(p.bytes_done, p.bytes_total.unwrap_or(p.bytes_done));
        }
    });
    let mut records = Vec::new();
    let mut failed = None;
    {
        let mut stream = std::pin::pin!(c.attendance_stream(opts));
        while let Some(item) = stream.next().await {
            match item {
                Ok(a) => records.push(a),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
    }
    if let Ok(b) = progress.lock() {
        b.finish();
    }
    if let Some(e) = failed {
        return Err(ctx.err(e));
    }
    write_records(ctx, args, &records)
}

/// Prints or writes (`--out`) attendance records in the chosen form.
fn write_records(
    ctx: &Ctx,
    args: &AttendanceArgs,
    records: &[zkproto::terminal::record::attendance::Attendance],
) -> Result<(), Failure> {
    let mut out = String::new();
    if ctx.json && !args.csv {
        let arr: Vec<_> = records.iter().map(view::attendance_json).collect();
        out.push_str(&serde_json::Value::Array(arr).to_string());
        out.push('\n');
    } else if args.csv {
        out.push_str(&view::attendance_csv_document(records));
    } else {
        out.push_str(&view::attendance_text_header());
        for a in records {
            out.push_str(&view::attendance_text(a));
            out.push('\n');
        }
        out.push_str(&format!("{} record(s)\n", records.len()));
    }
    view::emit(&out, args.out.as_deref(), records.len(), ctx.json)
}

/// `attendance --cursor FILE`: the records after the stored cursor. They
/// are written out first, then the cursor is replaced; after a broken
/// download the records received are written and the cursor covers exactly
/// them, so running the same command again continues without repeating any.
async fn attendance_sync(
    c: &mut Client,
    ctx: &Ctx,
    args: &AttendanceArgs,
    cursor: SyncCursor,
) -> Result<(), Failure> {
    let Some(path) = &args.cursor else {
        return Err(Failure::usage("internal: no cursor file"));
    };
    let policy = if args.restart {
        OnDiscontinuity::Restart
    } else {
        OnDiscontinuity::Stop
    };
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress::new()));
    let bar = progress.clone();
    let mut sync = AttendanceSync::new(cursor)
        .on_discontinuity(policy)
        .progress(move |p| {
            if let Ok(mut b) = bar.lock() {
                b.update(p.bytes_done, p.bytes_total.unwrap_or(p.bytes_done));
            }
        });
    let result = c.sync_attendance(&mut sync).await;
    if let Ok(b) = progress.lock() {
        b.finish();
    }
    match &result {
        Ok(SyncOutcome::Stopped(d)) => {
            return Err(Failure::refused(format!(
                "the device's attendance log does not continue the cursor in {}: {d}",
                path.display()
            ))
            .hint("nothing was written; add --restart to download the whole log, or delete the cursor file"));
        }
        Ok(SyncOutcome::Restarted { reason, .. }) => {
            eprintln!("zkctl: note: {reason}; the whole log was downloaded again");
        }
        Ok(SyncOutcome::Continued) | Err(_) => {}
    }
    let records = sync.take_records();
    if result.is_ok() || !records.is_empty() {
        write_records(ctx, args, &records)?;
        flush_records(args)?;
        sync::save_cursor(path, sync.cursor())?;
    }
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(ctx.err(e).hint(format!(
            "{} record(s) received were written and {} updated; run the same command again to continue",
            records.len(),
            path.display()
        ))),
    }
}

/// Makes the written records durable before the cursor moves past them.
fn flush_records(args: &AttendanceArgs) -> Result<(), Failure> {
    let fail = |p: &std::path::Path, e: std::io::Error| {
        Failure::usage(format!("cannot sync {}: {e}", p.display()))
    };
    match &args.out {
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.sync_all())
            .map_err(|e| fail(p, e)),
        None => std::io::stdout()
            .flush()
            .map_err(|e| Failure::usage(format!("cannot write the records: {e}"))),
    }
}

/// `attendance clear --archive FILE [--cursor CFILE]`: download (all, or
/// what follows the cursor), write and sync the archive, then clear only if
/// the log is still exactly what was archived (checked with the keypad
/// disabled).
async fn attendance_safe_clear(
    c: &mut Client,
    ctx: &Ctx,
    yes: bool,
    archive: &std::path::Path,
    from: Option<(&std::path::Path, SyncCursor)>,
) -> Result<(), Failure> {
    let start = from.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
    let mut sync = AttendanceSync::new(start).on_discontinuity(OnDiscontinuity::Stop);
    let outcome = c.sync_attendance(&mut sync).await.map_err(|e| ctx.err(e))?;
    if let SyncOutcome::Stopped(d) = outcome {
        return Err(Failure::refused(format!(
            "not cleared: the device's attendance log does not continue the cursor: {d}"
        ))
        .hint("nothing was archived or deleted; download with `attendance --cursor FILE --restart` first"));
    }
    let archived = sync.cursor().records();
    input::confirm(
        yes,
        &format!(
            "Archive {} record(s) to {} and delete all {archived} attendance record(s) on {}?",
            sync.records().len(),
            archive.display(),
            ctx.label
        ),
    )?;
    sync::write_archive(archive, sync.records()).map_err(|e| {
        Failure::usage(format!(
            "cannot write the archive {}: {e}",
            archive.display()
        ))
        .hint("nothing was deleted")
    })?;
    match c
        .clear_attendance_if_unchanged(sync.cursor())
        .await
        .map_err(|e| ctx.err(e))?
    {
        ClearOutcome::Changed(change) => Err(Failure::refused(format!(
            "not cleared: {change} while the archive was written"
        ))
        .hint(format!(
            "nothing was deleted; {} holds {} record(s); run again with a new archive file",
            archive.display(),
            sync.records().len()
        ))),
        ClearOutcome::Cleared { records } => {
            if let Some((path, _)) = from {
                sync::save_cursor(path, &SyncCursor::new())?;
            }
            let after = c.free_sizes().await.map_err(|e| ctx.err(e))?.records;
            if ctx.json {
                ctx.print_json(&json!({
                    "cleared": records,
                    "remaining": after,
                    "archived": sync.records().len(),
                    "archive": archive.display().to_string(),
                }));
            } else {
                println!(
                    "archived {} record(s) to {}; cleared {records} attendance record(s); {after} remain",
                    sync.records().len(),
                    archive.display()
                );
            }
            Ok(())
        }
    }
}

async fn attendance_clear(c: &mut Client, ctx: &Ctx, yes: bool) -> Result<(), Failure> {
    let before = c.free_sizes().await.map_err(|e| ctx.err(e))?.records;
    input::confirm(
        yes,
        &format!("Delete all {before} attendance record(s) on {}?", ctx.label),
    )?;
    c.clear_attendance().await.map_err(|e| ctx.err(e))?;
    let after = c.free_sizes().await.map_err(|e| ctx.err(e))?.records;
    if ctx.json {
        ctx.print_json(&json!({"cleared": before, "remaining": after}));
    } else {
        println!("cleared {before} attendance record(s); {after} remain");
    }
    Ok(())
}

// ---------------------------------------------------------------- door, events, time

async fn door(c: &mut Client, ctx: &Ctx, cmd: &DoorCmd) -> Result<(), Failure> {
    match cmd {
        DoorCmd::Unlock { seconds, .. } => {
            c.unlock(Duration::from_secs(u64::from(*seconds)))
                .await
                .map_err(|e| ctx.err(e))?;
            if ctx.json {
                ctx.print_json(&json!({"unlocked": true, "seconds": seconds}));
            } else {
                println!("door unlocked for {seconds} s");
            }
        }
        DoorCmd::Status => {
            let st = c.door_state().await.map_err(|e| ctx.err(e))?;
            let status = match st.status {
                DoorStatus::Open => "open",
                DoorStatus::Closed => "closed",
                _ => "unknown",
            };
            if ctx.json {
                ctx.print_json(&json!({"door": status, "raw": st.raw.raw}));
            } else {
                println!("door {status} (raw {:#04x})", st.raw.raw);
            }
        }
    }
    Ok(())
}

async fn events(c: &mut Client, ctx: &Ctx, count: Option<u64>) -> Result<(), Failure> {
    let stream = c.events(EventMask::all()).await.map_err(|e| ctx.err(e))?;
    if !ctx.json {
        eprintln!("listening for events on {} (Ctrl-C to stop)", ctx.label);
    }
    family::print_events(stream, count, |item| {
        let e = item.map_err(|e| ctx.err(e))?;
        Ok(Some(if ctx.json {
            view::event_json(&e).to_string()
        } else {
            view::event_text(&e)
        }))
    })
    .await
}

async fn time_get(c: &mut Client, ctx: &Ctx) -> Result<(), Failure> {
    let t = c.time().await.map_err(|e| ctx.err(e))?;
    if ctx.json {
        ctx.print_json(&json!({"time": t.to_string()}));
    } else {
        println!("{t}");
    }
    Ok(())
}

async fn time_set(c: &mut Client, ctx: &Ctx, t: DeviceTime) -> Result<(), Failure> {
    let before = c.time().await.map_err(|e| ctx.err(e))?;
    c.set_time(t).await.map_err(|e| ctx.err(e))?;
    let after = c.time().await.map_err(|e| ctx.err(e))?;
    if ctx.json {
        ctx.print_json(&json!({"time": after.to_string(), "previous": before.to_string(), "requested": t.to_string()}));
    } else {
        println!("device clock set to {after} (was {before})");
    }
    Ok(())
}

// ---------------------------------------------------------------- sim

async fn run_sim(args: &SimArgs, settings: &Settings) -> Result<(), Failure> {
    let profile = Profile::by_name(&args.profile).ok_or_else(|| {
        Failure::usage(format!("unknown profile {:?}", args.profile)).hint("use zk8 or zk6")
    })?;
    let addr = tokio::net::lookup_host(&args.bind)
        .await
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| {
            Failure::usage(format!("--bind {:?} is not an address", args.bind))
                .hint("e.g. 127.0.0.1:4370")
        })?;
    let sim = Simulator::open(SimConfig {
        profile,
        comm_key: (settings.comm_key != 0).then(|| CommKey::new(settings.comm_key)),
        encoding: settings.encoding,
        seed: args.seed,
        users: args.users,
        attendance: args.attendance,
        state_file: args.state.clone(),
        pacing: None, // the profile's: link
    })
    .map_err(|e| {
        // The path is named once: newer simulators put it in the error.
        let msg = e.to_string();
        let file = args.state.as_deref().map(|p| p.display().to_string());
        Failure::usage(match file {
            Some(f) if !msg.contains(&f) => format!("cannot load the state file {f}: {msg}"),
            _ => format!("cannot load the state file: {msg}"),
        })
    })?;
    let server = device::serve(&sim, addr).await?;
    let punches = match args.punch_every {
        Some(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => Some(
            device::spawn_punches(sim.clone(), Duration::from_secs_f64(secs)),
        ),
        Some(_) => {
            return Err(Failure::usage(
                "--punch-every must be between 0 and 86400 seconds",
            ));
        }
        None => None,
    };
    let show =
        |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
    println!(
        "listening tcp={} udp={}",
        show(server.tcp_addr()),
        show(server.udp_addr())
    );
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    if let Some(p) = punches {
        p.abort();
    }
    server.shutdown().await;
    Ok(())
}
