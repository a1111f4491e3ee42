//! The Python that the interoperability tests drive the third-party clients
//! with (pyzk for terminals, zkaccess-c3 for panels).
//!
//! * `$ZKPROTO_PYTHON` set: that interpreter is used as it is; it must
//!   already have the pinned packages (checked, with a one-line failure).
//! * otherwise a virtual environment is created once under the cargo target
//!   directory (`target/interop-venv`) with the pinned versions from PyPI.
//!   Creation runs under a lock directory, so parallel test threads and
//!   test processes (cargo test, nextest) neither race nor install twice;
//!   a `ready` marker holding the pinned requirement list is written last,
//!   so an interrupted install is redone, and a changed pin reinstalls.
//!
//! Every failure is one line that says what to install or fix. The tests
//! never skip: a machine without Python 3 fails them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// The pinned third-party clients (what `.ci/run` and the README name).
pub const REQUIREMENTS: &[&str] = &["pyzk==0.9", "zkaccess-c3==0.0.15"];

/// Longest a test waits for another process to finish provisioning.
const LOCK_WAIT: Duration = Duration::from_secs(600);
/// A lock older than this is left over from a killed process.
const STALE_LOCK: Duration = Duration::from_secs(900);

/// The interpreter to run the interop scripts with; provisions it on first
/// use. Panics with a one-line explanation when that is impossible.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(resolve) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn resolve() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ZKPROTO_PYTHON") {
        let p = PathBuf::from(p);
        check_packages(&p).map_err(|e| {
            format!(
                "ZKPROTO_PYTHON={} cannot be used: {e}; install them with `{} -m pip install {}` \
                 or unset ZKPROTO_PYTHON to let the tests create their own venv",
                p.display(),
                p.display(),
                REQUIREMENTS.join(" ")
            )
        })?;
        return Ok(p);
    }
    let dir = target_dir().join("interop-venv");
    provision(&dir)
}

/// The cargo target directory this test binary was built into
/// (`<target>/<profile>/deps/<test>`), falling back to `./target`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "deps"))
                .and_then(Path::parent)
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

fn marker_text() -> String {
    REQUIREMENTS.join("\n") + "\n"
}

fn is_ready(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("ready")).is_ok_and(|m| m == marker_text())
        && venv_python(dir).exists()
}

fn provision(dir: &Path) -> Result<PathBuf, String> {
    if is_ready(dir) {
        return Ok(venv_python(dir));
    }
    let parent = dir
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", dir.display()))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let _lock = DirLock::acquire(&dir.with_extension("lock"))?;
    // Another process may have finished while this one waited.
    if is_ready(dir) {
        return Ok(venv_python(dir));
    }
    let base = find_python3()?;
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove the half-made {}: {e}", dir.display()))?;
    }
    run(
        Command::new(&base).arg("-m").arg("venv").arg(dir),
        "create a Python venv",
        "install the venv module (Debian/Ubuntu: apt install python3-venv)",
    )?;
    let py = venv_python(dir);
    run(
        Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(REQUIREMENTS),
        &format!(
            "install {} from the Python package index",
            REQUIREMENTS.join(" ")
        ),
        "check that PyPI (or your pip index/proxy) is reachable, or set ZKPROTO_PYTHON to a Python that has them",
    )?;
    check_packages(&py)?;
    std::fs::write(dir.join("ready"), marker_text())
        .map_err(|e| format!("cannot write {}: {e}", dir.join("ready").display()))?;
    Ok(py)
}

/// `python3` (or `python`, if that is Python 3) from `PATH`.
fn find_python3() -> Result<PathBuf, String> {
    for name in ["python3", "python"] {
        let out = Command::new(name).arg("--version").output();
        if let Ok(out) = out {
            let v = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            if out.status.success() && v.trim_start().starts_with("Python 3") {
                return Ok(PathBuf::from(name));
            }
        }
    }
    Err(format!(
        "the interop tests need Python 3 and none was found on PATH: install it \
         (Debian/Ubuntu: apt install python3 python3-venv), or set ZKPROTO_PYTHON to a Python with {}",
        REQUIREMENTS.join(" ")
    ))
}

/// Checks that `py` runs and has exactly the pinned versions.
fn check_packages(py: &Path) -> Result<(), String> {
    let pins: Vec<String> = REQUIREMENTS
        .iter()
        .map(|r| {
            let (name, version) = r.split_once("==").unwrap_or((r, ""));
            format!("({name:?}, {version:?})")
        })
        .collect();
    let script = format!(
        "import importlib.metadata as m, sys\n\
         bad = []\n\
         for name, want in [{}]:\n\
         \x20   try:\n\
         \x20       got = m.version(name)\n\
         \x20   except m.PackageNotFoundError:\n\
         \x20       got = None\n\
         \x20   if got != want:\n\
         \x20       bad.append(f'{{name}} {{got or \"missing\"}} (want {{want}})')\n\
         print('; '.join(bad) if bad else 'pinned packages present')\n\
         sys.exit(1 if bad else 0)\n",
        pins.join(", ")
    );
    let out = Command::new(py)
        .arg("-c")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot start {} ({e})", py.display()))?;
    let said = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && said.trim() == "pinned packages present" {
        Ok(())
    } else {
        let said = said.trim().to_string();
        let said = match (said.is_empty(), last_line(&out.stderr)) {
            (false, _) => said,
            (true, err) if !err.is_empty() => err,
            (true, _) => format!("it did not answer the package check ({})", out.status),
        };
        Err(format!(
            "{} lacks the pinned packages: {said}",
            py.display()
        ))
    }
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

fn run(cmd: &mut Command, what: &str, fix: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot {what}: {e}; {fix}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot {what} ({}: {}); {fix}",
            out.status,
            last_line(&out.stderr)
        ))
    }
}

/// A cross-process lock: a directory created atomically, removed on drop.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: &Path) -> Result<DirLock, String> {
        let start = std::time::Instant::now();
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => {
                    let _ = std::fs::write(path.join("pid"), std::process::id().to_string());
                    return Ok(DirLock(path.to_path_buf()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|a| a > STALE_LOCK) {
                        let _ = std::fs::remove_dir_all(path);
                        continue;
                    }
                    if start.elapsed() > LOCK_WAIT {
                        return Err(format!(
                            "waited {}s for another test process to finish creating the Python venv \
                             (lock {}); remove the lock if no test is running",
                            LOCK_WAIT.as_secs(),
                            path.display()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("cannot create the lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
