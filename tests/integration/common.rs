//! Shared helpers: a hermetic `tgsess` command, session files of every format, snapshots.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use grammers_session::Session;
use grammers_session::storages::SqliteSession;
use grammers_session::types::{DcOption, PeerAuth, PeerInfo};

/// `tgsess` with a clean environment: no TGSESS_* variables, HOME and XDG dirs inside `home`,
/// run from `cwd`. Tests never touch the developer's real home or config.
pub fn tgsess(home: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tgsess").unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".state"))
        .env("NO_COLOR", "1")
        .current_dir(cwd);
    cmd
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

/// A temp dir with `home/` and `work/` inside.
pub struct Sandbox {
    pub _dir: tempfile::TempDir,
    pub home: PathBuf,
    pub work: PathBuf,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        Sandbox {
            _dir: dir,
            home,
            work,
        }
    }

    pub fn cmd(&self) -> Command {
        tgsess(&self.home, &self.work)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A tgsess (grammers) session: home DC 2 at 127.0.0.1:1 with a key, optionally signed in.
pub fn grammers_session(path: &Path, user: Option<(i64, bool)>) {
    rt().block_on(async {
        let s = SqliteSession::open(path).await.unwrap();
        s.set_home_dc_id(2).await.unwrap();
        s.set_dc_option(&DcOption {
            id: 2,
            ipv4: "127.0.0.1:1".parse().unwrap(),
            ipv6: "[::ffff:127.0.0.1]:1".parse().unwrap(),
            auth_key: Some([7u8; 256]),
        })
        .await
        .unwrap();
        if let Some((id, bot)) = user {
            s.cache_peer(PeerInfo::User {
                id,
                auth: Some(PeerAuth::from_hash(42)),
                bot: Some(bot),
                is_self: Some(true),
            })
            .await
            .unwrap();
        }
    });
}

async fn exec(path: &Path, statements: &[&str], key: &[u8]) {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    for s in statements {
        if s.contains('?') {
            conn.execute(s, libsql::params![key.to_vec()])
                .await
                .unwrap();
        } else {
            conn.execute(s, ()).await.unwrap();
        }
    }
}

/// A Telethon 1.45 (version 8) SQLite session, schema as telethon/sessions/sqlite.py makes it.
pub fn telethon_session(path: &Path) {
    rt().block_on(exec(
        path,
        &[
            "create table version (version integer primary key)",
            "insert into version values (8)",
            "create table sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer, tmp_auth_key blob)",
            "insert into sessions values (2, '127.0.0.1', 443, ?, null, null)",
            "create table entities (id integer primary key, hash integer not null, username text, phone integer, name text, date integer)",
            "create table sent_files (md5_digest blob, file_size integer, type integer, id integer, hash integer, primary key(md5_digest, file_size, type))",
            "create table update_state (id integer primary key, pts integer, qts integer, date integer, seq integer)",
        ],
        &[9u8; 256],
    ));
}

/// A Pyrogram 2.0 (version 3) SQLite session, signed in as user 777.
pub fn pyrogram_session(path: &Path) {
    rt().block_on(exec(
        path,
        &[
            "CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, api_id INTEGER, test_mode INTEGER, auth_key BLOB, date INTEGER NOT NULL, user_id INTEGER, is_bot INTEGER)",
            "INSERT INTO sessions VALUES (2, 1, 0, ?, 0, 777, 0)",
            "CREATE TABLE peers (id INTEGER PRIMARY KEY, access_hash INTEGER, type INTEGER NOT NULL, username TEXT, phone_number TEXT, last_update_on INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE version (number INTEGER PRIMARY KEY)",
            "INSERT INTO version VALUES (3)",
        ],
        &[8u8; 256],
    ));
}

/// Everything in a directory, with contents, to prove a command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let mode = std::fs::metadata(&p).unwrap().mode();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes, mode)
        })
        .collect();
    v.sort();
    v
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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

/// A path quoted for a POSIX shell the way tgsess prints it: bare when it is safe, else in
/// single quotes with `'` as `'\''`.
pub fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
