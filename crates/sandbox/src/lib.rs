//! The sandbox: a local Telegram datacenter that speaks real MTProto over TCP, so the real
//! grammers client inside tgsess, and Telethon, the Pyrogram forks, GramJS and mtcute
//! (`scripts/peers`), log in against it without touching Telegram. tgsess uses it behind its
//! `sandbox` cargo feature (on by default); it imports nothing of tgsess but
//! `tgsess-shared`.
//!
//! - `wire`: MTProto 2.0 server side (encryption, envelopes, containers, gzip).
//! - `server`, `transport`: connections, the four transports (plain and obfuscated), the
//!   request log.
//! - `layers`, `objects`: answers built in layer 230, re-encoded in each client's layer.
//! - `rpc`: accounts, codes, 2FA, tokens: the methods it answers.
//! - `srp`: server-side SRP; only the verifier is kept.
//! - `keys`: the side channel through which clients register new auth keys.
//! - `server_key`, `handshake`: the sandbox's own RSA key, and auth key creation with it.

mod handshake;
pub mod layers;
mod objects;
mod rpc;
pub mod scan;
mod server;
pub mod server_key;
mod srp;
mod transport;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

pub use rpc::{CodeType, Scenario};
use tgsess_shared::sandbox_link as keys;

/// Why the sandbox could not start or serve: a message that names the directory, address or
/// flag concerned and what to do. tgsess reports it as a usage error.
#[derive(Debug)]
pub struct Error(pub String);

impl Error {
    fn usage(msg: impl std::fmt::Display) -> Self {
        Error(msg.to_string())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The phone number the sandbox's config uses (test-DC rule: DC 2, code 22222).
pub const DEMO_PHONE: &str = "9996621234";

pub struct Options {
    pub dir: PathBuf,
    pub listen: SocketAddr,
    pub scenario: Scenario,
}

/// A running sandbox; dropping it stops the listener.
pub struct Running {
    pub address: SocketAddr,
    pub dir: PathBuf,
    /// The MTProto fingerprint of `server_key.pem`.
    pub server_key_fingerprint: i64,
    task: tokio::task::JoinHandle<()>,
    /// Held while this sandbox runs: a second one on the same directory is refused.
    _lock: std::fs::File,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("tgsess.toml")
    }
}

fn io_err(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::usage(format!("sandbox: cannot {what} {}: {e}", p.display()))
}

/// The Telethon StringSession text for a key: '1' + urlsafe base64 (with padding) of
/// `>B4sH256s` (telethon/sessions/string.py).
pub(crate) fn telethon_string(dc: u8, addr: SocketAddr, key: &[u8; 256]) -> String {
    let mut payload = Vec::with_capacity(263);
    payload.push(dc);
    match addr.ip() {
        std::net::IpAddr::V4(ip) => payload.extend_from_slice(&ip.octets()),
        std::net::IpAddr::V6(ip) => payload.extend_from_slice(&ip.octets()),
    }
    payload.extend_from_slice(&addr.port().to_be_bytes());
    payload.extend_from_slice(key);
    format!(
        "1{}",
        base64::engine::general_purpose::URL_SAFE.encode(payload)
    )
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    tgsess_shared::fs::write_private(path, text.as_bytes()).map_err(|e| io_err("write", path, e))
}

/// Starts serving. Before it returns, DIR holds `tgsess.toml`, `session.string`,
/// `sandbox.json`, `requests.jsonl` and the RSA key files (`server_key.rs`).
pub async fn start(opts: Options) -> Result<Running> {
    check_options(&opts)?;
    std::fs::create_dir_all(keys::keys_dir(&opts.dir))
        .map_err(|e| io_err("create", &opts.dir, e))?;
    let dir = std::fs::canonicalize(&opts.dir).map_err(|e| io_err("open", &opts.dir, e))?;
    let lock = lock_dir(&dir)?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::usage(format!("sandbox: cannot listen on {}: {e}", opts.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::usage(format!("sandbox: {e}")))?;
    let dcs = served_dcs(&opts.scenario);
    write_client_files(&dir, address, &dcs)?;
    let server_key =
        server_key::load_or_create(&dir).map_err(|e| Error::usage(format!("sandbox: {e}")))?;
    let server_key_fingerprint = server_key.fingerprint;
    let shared = Arc::new(server::Datacenter {
        latency: opts.scenario.latency.unwrap_or_default(),
        server_key,
        dir: dir.clone(),
        state: Mutex::new(rpc::State::new(opts.scenario, dcs, address, &dir)),
        log: Mutex::new(open_log(&dir)?),
        pushed: tokio::sync::Notify::new(),
        next_conn: std::sync::atomic::AtomicU64::new(1),
    });
    let scans = tokio::spawn(scan::serve(dir.clone(), Arc::clone(&shared)));
    let task = tokio::spawn(async move {
        server::serve(listener, shared).await;
        scans.abort();
    });
    Ok(Running {
        address,
        dir,
        server_key_fingerprint,
        task,
        _lock: lock,
    })
}

/// A loopback address to listen on, and a DC to migrate to that Telegram has.
fn check_options(opts: &Options) -> Result<()> {
    if !opts.listen.ip().is_loopback() {
        return Err(Error::usage(format!(
            "sandbox: --listen {} is not a loopback address; the sandbox only listens on \
             127.0.0.0/8 or ::1",
            opts.listen
        )));
    }
    match opts.scenario.migrate_to {
        Some(dc) if !(1..=5).contains(&dc) => Err(Error::usage(format!(
            "sandbox: --migrate-to {dc}: Telegram's DC ids are 1 to 5"
        ))),
        _ => Ok(()),
    }
}

/// DCs 1 to 3, as Telegram's test network has them, and the one accounts migrate to.
fn served_dcs(scenario: &Scenario) -> Vec<i32> {
    let mut dcs = vec![1, 2, 3];
    if let Some(dc) = scenario.migrate_to.filter(|dc| !dcs.contains(dc)) {
        dcs.push(dc);
    }
    dcs
}

/// The request log, appended to across restarts.
fn open_log(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("requests.jsonl");
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| io_err("open", &path, e))
}

/// What clients read: a Telethon string for a fresh signed-out key (for other MTProto
/// clients), a tgsess config whose session lives here, and the endpoint file.
fn write_client_files(dir: &Path, address: SocketAddr, dcs: &[i32]) -> Result<()> {
    let string_key = keys::new_key();
    keys::register(dir, 2, &string_key).map_err(|e| io_err("register a key in", dir, e))?;
    write_private(
        &dir.join("session.string"),
        &format!("{}\n", telethon_string(2, address, &string_key)),
    )?;
    write_private(&dir.join("tgsess.toml"), &config_text(dir, address))?;
    let endpoint = keys::Endpoint {
        address,
        dcs: dcs.to_vec(),
        pid: std::process::id(),
    };
    write_private(
        &dir.join(keys::ENDPOINT_FILE),
        &serde_json::to_string(&endpoint).expect("serializes"),
    )
}

/// A tgsess config whose session lives in `dir` and talks to this sandbox.
fn config_text(dir: &Path, address: SocketAddr) -> String {
    format!(
        "# Written by `tgsess sandbox`: a config whose session lives here and talks to the\n\
         # sandbox listening on {address}. Log in with:\n\
         #   tgsess --config {config} login\n\
         # phone {DEMO_PHONE} (test-DC rule: the code is 22222).\n\
         api_id = 1\n\
         api_hash = \"sandbox\"\n\
         phone = \"{DEMO_PHONE}\"\n\
         session_file = \"sandbox\"\n\
         sandbox_dir = \".\"\n",
        config = dir.join("tgsess.toml").display()
    )
}

/// One sandbox per directory: a second one would overwrite the first's sandbox.json and,
/// when it stopped, delete it.
fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("sandbox.lock");
    let file = tgsess_shared::fs::open_lock_file(&path).map_err(|e| io_err("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = keys::read_endpoint(dir)
                .map(|e| format!(" (pid {})", e.pid))
                .unwrap_or_default();
            Err(Error::usage(format!(
                "sandbox: another tgsess sandbox{pid} is running in {}; stop it first, or \
                 give this one another --dir",
                dir.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io_err("lock", &path, e)),
    }
}
