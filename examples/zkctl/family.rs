//! One skeleton for every device family: check the input, connect, run the
//! command, hang up. Each family (the terminal in `main.rs`, the panel in
//! `panel.rs`) says how it does each step; the order of the steps, the
//! simulator's background activity during `events`, and what a failed
//! goodbye means are written once, here. A new family (the push hub) is one
//! more implementation of [`Family`].

use crate::cli::{Cli, Cmd};
use crate::fail::{self, Failure};
use tokio::task::JoinHandle;

/// How one device family does each step of a command.
pub trait Family {
    /// The command's input, checked before connecting (bad input never
    /// reaches the device).
    type Prepared;
    /// An open connection, with the in-process simulator behind `sim`.
    type Conn;

    /// The device as named in messages.
    fn label(&self) -> String;

    /// Checks everything that can be checked without the device.
    fn prepare(&self, cli: &Cli) -> Result<Self::Prepared, Failure>;

    /// Connects (starting the simulator first for `sim`).
    async fn connect(&self) -> Result<Self::Conn, Failure>;

    /// Something happening on the simulated device, so that `events` has
    /// something to show (`None` for a real device).
    fn activity(&self, conn: &Self::Conn) -> Option<JoinHandle<()>>;

    /// Runs the command and prints its result.
    async fn execute(
        &self,
        conn: &mut Self::Conn,
        cli: &Cli,
        prepared: Self::Prepared,
    ) -> Result<(), Failure>;

    /// Adds what the connection knows (the transport in use, say) to a
    /// failure of the command.
    fn annotate(&self, _conn: &Self::Conn, failure: Failure) -> Failure {
        failure
    }

    /// Hangs up (and stops the simulator); the error text, if any.
    async fn hang_up(&self, conn: Self::Conn) -> Result<(), String>;
}

/// Runs `cli`'s command on a device of `family`: prepare, connect, execute,
/// hang up. The command's failure is the result; a failed goodbye after a
/// command that worked is a note on stderr (not with `--json`).
pub async fn run<F: Family>(family: &F, cli: &Cli, op: &str) -> Result<(), Failure> {
    let label = family.label();
    let prepared = family.prepare(cli).map_err(|f| f.context(&label, op))?;
    let mut conn = family.connect().await.map_err(|f| f.context(&label, op))?;
    let activity = match cli.command {
        Cmd::Events { .. } => family.activity(&conn),
        _ => None,
    };
    let result = family.execute(&mut conn, cli, prepared).await;
    if let Some(a) = activity {
        a.abort();
    }
    let result = result.map_err(|f| family.annotate(&conn, f));
    let bye = family.hang_up(conn).await;
    result.map_err(|f| f.context(&label, op))?;
    if let Err(e) = bye
        && !cli.json
    {
        eprintln!("zkctl: {label}: note: disconnect: {}", fail::one_line(&e));
    }
    Ok(())
}

/// Prints one line per item of `stream` until `count` lines are printed,
/// the stream ends, or Ctrl-C; `line` formats an item (`None`: not shown,
/// not counted). Each line is flushed at once, for pipes.
pub async fn print_events<S: futures_util::Stream>(
    stream: S,
    count: Option<u64>,
    mut line: impl FnMut(S::Item) -> Result<Option<String>, Failure>,
) -> Result<(), Failure> {
    use futures_util::StreamExt;
    use std::io::Write;
    let mut stream = std::pin::pin!(stream);
    let mut seen = 0u64;
    let mut stdout = std::io::stdout();
    while count.is_none_or(|n| seen < n) {
        let next = tokio::select! {
            n = stream.next() => n,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(item) = next else { break };
        let Some(text) = line(item)? else { continue };
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
        seen += 1;
    }
    Ok(())
}
