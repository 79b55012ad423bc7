//! The local DC two ways: [`Dc`], the `tgsess sandbox` process a user would run, and
//! [`EmbeddedDc`], the sandbox library in the test's own runtime for client-level tests;
//! what each logged; the RSA key the suite shares.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use grammers_session::Session;
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use tgsess_sandbox::{self as sandbox, Scenario};
use tgsess_shared::sandbox_link as keys;

use super::command::bin;
use super::pty::Pty;

pub struct Dc {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    child: Child,
    /// The network namespace (a process holding it) every command of this sandbox runs in.
    netns: Option<u32>,
}

impl Drop for Dc {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

impl Dc {
    /// A sandbox on a new directory that already holds the suite's RSA key
    /// ([`seed_server_key`]).
    pub fn start(flags: &[&str]) -> Dc {
        Self::start_in(None, flags)
    }

    /// A sandbox inside the network namespace that process `netns` holds (see
    /// [`super::Netns`]); every command of it runs there too.
    pub fn start_in(netns: Option<u32>, flags: &[&str]) -> Dc {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sb");
        seed_server_key(&dir);
        let child = Self::spawn(netns, tmp.path(), &dir, flags);
        Dc {
            tmp,
            dir,
            child,
            netns,
        }
    }

    /// A sandbox on an empty directory: it makes its own RSA key.
    pub fn start_fresh(flags: &[&str]) -> Dc {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sb");
        let child = Self::spawn(None, tmp.path(), &dir, flags);
        Dc {
            tmp,
            dir,
            child,
            netns: None,
        }
    }

    /// The tgsess binary, run in this sandbox's network namespace when it has one.
    fn program(netns: Option<u32>) -> Command {
        match netns {
            Some(pid) => {
                let mut c = Command::new("/usr/bin/nsenter");
                c.args(["-t", &pid.to_string(), "-n", "--"]).arg(bin());
                c
            }
            None => Command::new(bin()),
        }
    }

    /// Stops the sandbox and starts a new one, without scenario flags, on the same
    /// directory (a new port).
    pub fn restart(&mut self) {
        self.restart_with(&[]);
    }

    /// Stops the sandbox and starts it again on the same directory with scenario `flags`
    /// (accounts and sign-ins survive, as at Telegram).
    pub fn restart_with(&mut self, flags: &[&str]) {
        assert_eq!(self.stop().and_then(|s| s.code()), Some(0));
        self.child = Self::spawn(self.netns, self.tmp.path(), &self.dir, flags);
    }

    fn spawn(netns: Option<u32>, home: &Path, dir: &Path, flags: &[&str]) -> Child {
        let mut child = Self::program(netns)
            .args(["sandbox", "--dir"])
            .arg(dir)
            .args(flags)
            .env_clear()
            .env("HOME", home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("tgsess sandbox listening on 127.0.0.1:"),
            "{line}"
        );
        child
    }

    /// SIGTERM, then the sandbox's exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        self.child.wait().ok()
    }

    /// Where the sandbox listens (its sandbox.json).
    pub fn address(&self) -> std::net::SocketAddr {
        keys::read_endpoint(&self.dir).unwrap().address
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("tgsess.toml")
    }

    pub fn session(&self) -> PathBuf {
        self.dir.join("sandbox.session")
    }

    /// (method, result) of every request so far.
    pub fn log(&self) -> Vec<(String, String)> {
        request_log(&self.dir)
    }

    pub fn count(&self, method: &str) -> usize {
        self.log().iter().filter(|(m, _)| m == method).count()
    }

    /// A hermetic tgsess command on this sandbox's config.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.bare(self.tmp.path());
        c.arg("--config").arg(self.config()).args(args);
        c
    }

    /// A hermetic tgsess command run from `cwd`, with no arguments yet: HOME and the state
    /// directory are this sandbox's, nothing else of the caller's environment leaks in.
    pub fn bare(&self, cwd: &Path) -> Command {
        let mut c = Self::program(self.netns);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("TGSESS_STATE_DIR", self.tmp.path().join("state"))
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .current_dir(cwd);
        c
    }

    /// `tgsess ARGS login --code-stdin --fresh` with the sandbox's code on stdin (--fresh:
    /// other signed-in sessions nearby are expected); asserts success.
    pub fn sign_in(&self, args: &[&str]) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["login", "--code-stdin", "--fresh"]);
        let mut child = self
            .cmd(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"22222\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    /// Runs tgsess in a pseudo-terminal.
    pub fn pty(&self, args: &[&str]) -> Pty {
        Pty::spawn(self.cmd(args))
    }
}

/// Puts a sandbox RSA key into `dir` before a sandbox starts there, as a restart finds one.
/// Making a key takes 0.25 to 1.5 s, so the suite makes one and copies it; first-start
/// generation is tested by `sandbox_command_writes_its_files_then_announces_and_stops_on_sigterm`
/// and the unit tests in src/sandbox/server_key.rs.
pub fn seed_server_key(dir: &Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    static PEM: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let pem = PEM.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        tgsess_sandbox::server_key::load_or_create(d.path()).unwrap();
        std::fs::read(d.path().join(tgsess_sandbox::server_key::PRIVATE_FILE)).unwrap()
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(tgsess_sandbox::server_key::PRIVATE_FILE))
        .unwrap()
        .write_all(pem)
        .unwrap();
}

/// Every line a sandbox in `dir` logged in requests.jsonl.
pub fn request_lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("requests.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (method, result) of every request a sandbox in `dir` logged.
pub fn request_log(dir: &Path) -> Vec<(String, String)> {
    request_lines(dir)
        .iter()
        .map(|v| {
            (
                v["method"].as_str().unwrap().to_string(),
                v["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The sandbox library started in this process, on its own directory.
pub struct EmbeddedDc {
    pub _dir: tempfile::TempDir,
    pub running: sandbox::Running,
}

pub async fn start(scenario: Scenario) -> EmbeddedDc {
    let dir = tempfile::tempdir().unwrap();
    seed_server_key(dir.path());
    let running = sandbox::start(sandbox::Options {
        dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        scenario,
    })
    .await
    .unwrap();
    EmbeddedDc { _dir: dir, running }
}

/// A memory session with home DC `home` and, for each `(dc, key)`, that DC at the sandbox's
/// address with that auth key.
pub async fn memory_session(
    addr: std::net::SocketAddr,
    home: i32,
    dc_keys: &[(i32, [u8; 256])],
) -> Arc<MemorySession> {
    let s = Arc::new(MemorySession::default());
    s.set_home_dc_id(home).await.unwrap();
    let std::net::SocketAddr::V4(v4) = addr else {
        panic!("ipv4")
    };
    for (dc, key) in dc_keys {
        s.set_dc_option(&DcOption {
            id: *dc,
            ipv4: v4,
            ipv6: std::net::SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
            auth_key: Some(*key),
        })
        .await
        .unwrap();
    }
    s
}

/// A memory session seeded with a registered key for every sandbox DC, home DC 2.
pub async fn seeded_session(dir: &Path, addr: std::net::SocketAddr) -> Arc<MemorySession> {
    let dc_keys: Vec<(i32, [u8; 256])> = (1..=3)
        .map(|dc| {
            let key = keys::new_key();
            keys::register(dir, dc, &key).unwrap();
            (dc, key)
        })
        .collect();
    memory_session(addr, 2, &dc_keys).await
}
