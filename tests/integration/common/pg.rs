//! A private PostgreSQL cluster for the lease's tests: initdb in a temporary directory, the
//! server on 127.0.0.1 and a free port (and a socket in that directory), run as an
//! unprivileged user when the tests run as root (initdb and postgres refuse root). Password
//! authentication over TCP (scram-sha-256), so the tests go through PGPASSWORD as a user
//! would. The binaries: Debian's /usr/lib/postgresql/VERSION/bin (the newest), else `PATH`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The superuser's password in every test cluster (not a secret: a throwaway cluster).
pub const PG_PASSWORD: &str = "lease-test-pw";

pub struct Pg {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    owner: Option<(u32, u32)>,
    /// Serve TLS with a certificate made for 127.0.0.1 ([`Pg::start_tls`]).
    tls: bool,
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where initdb and postgres are.
fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|b| b.join("initdb").is_file());
    found.sort_by_key(|b| {
        b.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(b) = found.pop() {
        return b;
    }
    let which = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .expect("sh");
    let path = String::from_utf8_lossy(&which.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "PostgreSQL's server binaries (initdb, postgres) are missing: install Debian's \
         `postgresql` package (.ci/run does)"
    );
    PathBuf::from(path).parent().unwrap().to_path_buf()
}

/// The user the cluster runs as: `postgres`, else `nobody`, when this process is root.
fn owner() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in [c"postgres", c"nobody"] {
        // SAFETY: getpwnam returns a pointer to static storage or null.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        if !pw.is_null() {
            // SAFETY: checked non-null above.
            return Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) });
        }
    }
    panic!("running as root, but there is neither a postgres nor a nobody user to run PostgreSQL")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Pg {
    pub fn start() -> Pg {
        Self::start_with(false)
    }

    /// A cluster that also serves TLS, with a self-signed certificate for IP 127.0.0.1;
    /// [`Pg::ca`] is the certificate a client must trust.
    pub fn start_tls() -> Pg {
        Self::start_with(true)
    }

    /// The server's certificate (PEM), as a client's trusted root.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    fn start_with(tls: bool) -> Pg {
        let dir = tempfile::tempdir().unwrap();
        let owner = owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let mut pg = Pg {
            dir,
            child: None,
            port: free_port(),
            owner,
            tls,
        };
        pg.initdb();
        if tls {
            pg.certificate();
        }
        pg.run();
        pg
    }

    /// server.crt and server.key (0600, the server's user's), for 127.0.0.1.
    fn certificate(&self) {
        use std::os::unix::fs::PermissionsExt;
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let key = self.dir.path().join("server.key");
        std::fs::write(self.ca(), made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(&key, Some(uid), Some(gid)).unwrap();
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(bindir().join(program));
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            .current_dir(self.dir.path());
        if let Some((uid, gid)) = self.owner {
            c.uid(uid).gid(gid);
        }
        c
    }

    fn initdb(&self) {
        let pwfile = self.dir.path().join("pw");
        std::fs::write(&pwfile, PG_PASSWORD).unwrap();
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).unwrap();
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args([
                "-U",
                "tgsess",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--no-sync", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections (at most 30 s).
    fn run(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path())
            .args(["-c", "fsync=off", "-c", "max_connections=50"])
            .args(self.tls_args())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self
                .command("pg_isready")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .unwrap();
            if ready.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tls_args(&self) -> Vec<String> {
        if !self.tls {
            return Vec::new();
        }
        let dir = self.dir.path().display();
        [
            "ssl=on".to_string(),
            format!("ssl_cert_file={dir}/server.crt"),
            format!("ssl_key_file={dir}/server.key"),
        ]
        .into_iter()
        .flat_map(|c| ["-c".to_string(), c])
        .collect()
    }

    /// Stops the server (fast shutdown: every session ends).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child; SIGINT is PostgreSQL's fast shutdown.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
            let _ = c.wait();
        }
    }

    /// A restart on the same port: every session, and every lock, ends.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The lease as a key=value string over the cluster's Unix socket (trust: no password).
    pub fn socket_url(&self) -> String {
        format!(
            "host={} port={} user=tgsess dbname=postgres",
            self.dir.path().display(),
            self.port
        )
    }

    /// The lease URL (no password: that comes from PGPASSWORD).
    pub fn url(&self) -> String {
        format!("postgresql://tgsess@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs SQL through psql on the cluster's socket; its output, unaligned.
    pub fn sql(&self, sql: &str) -> String {
        let out = self
            .command("psql")
            .arg("-h")
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "tgsess",
                "-d",
                "postgres",
            ])
            .args(["-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}
