//! Harness shared by the zkctl command-line tests: builds the example
//! binaries once, runs them, and checks their exit code and output.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `target/<profile>` of this test executable.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/zkctl_cli-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory")
        .to_path_buf()
}

/// The example binaries the tests run.
const EXAMPLES: &[&str] = &["zkctl", "zksim"];

/// The features this test was built with, so that building the examples
/// reuses the library build of the same `cargo test` run.
pub fn features() -> String {
    let mut f = vec!["client", "simulator"];
    if cfg!(feature = "serde") {
        f.push("serde");
    }
    if cfg!(feature = "chrono") {
        f.push("chrono");
    }
    f.join(",")
}

/// Builds the examples once per test run.
pub fn built() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let target = dir.parent().expect("target directory").to_path_buf();
        let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet"])
            .args(EXAMPLES.iter().flat_map(|e| ["--example", e]))
            .args(["--features", &features(), "--target-dir"])
            .arg(&target);
        match dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
            None => {}
        }
        let status = cmd.status().expect("run cargo build for the examples");
        assert!(status.success(), "building the zkctl/zksim examples failed");
        dir.join("examples")
    })
}

pub fn bin(name: &str) -> PathBuf {
    let p = built().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(p.exists(), "{} is missing", p.display());
    p
}

/// Result of one zkctl run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts a failure with this exit code and a one-line message on
    /// stderr starting with "zkctl:".
    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "wrong exit code: {self:#?}");
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "error must be one line: {self:#?}");
        assert!(lines[0].starts_with("zkctl: "), "{self:#?}");
        self
    }
}

/// Runs zkctl with `args`, `stdin` on its standard input (closed after),
/// `env` added to a clean environment (no `ZKCTL_*` settings inherited),
/// and waits at most `limit` for it.
pub fn run_zkctl(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)], limit: Duration) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new(bin("zkctl"));
    cmd.args(args)
        .env_remove("ZKCTL_DEVICE")
        .env_remove("ZKCTL_COMM_KEY")
        .env_remove("ZKCTL_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn zkctl");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    Run::from(wait_with_deadline(child, limit))
}

pub fn wait_with_deadline(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "process did not finish within {limit:?}: {:?}",
                Run::from(out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port on 127.0.0.1 that nothing listens on (TCP and UDP).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}
