//! tgsess's connection to Telegram (or the sandbox): grammers' sender pool with settings a
//! careful login needs, behind the one [`fence`] every connection's address passes.

pub mod fence;

pub use fence::Fence;

use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::output::Shown;
use grammers_client::Client;
use grammers_mtsender::{ConnectionParams, NoRetries, SenderPool, SenderPoolHandle};
use grammers_session::Session;
use grammers_session::updates::UpdatesLike;

/// Connection parameters built field by field.
///
/// - `retry_policy: NoRetries`: the default `AutoSleep` re-sends a request once on an I/O
///   error and on FLOOD_WAIT <= 60 s (grammers-mtsender 0.11 src/configuration.rs,
///   `impl RetryPolicy for AutoSleep`), which would turn one auth.sendCode into two.
/// - Not `ConnectionParams::default()`: it calls `os_info::get()`, which runs
///   `lsb_release -a` on every start (same file, `impl Default for ConnectionParams`).
///
/// A proxy goes to grammers' `proxy_url` (grammers-mtsender 0.11 src/configuration.rs,
/// `proxy` feature: `socks5://[user:pass@]host:port`), always validated by [`Proxy::parse`]
/// first: grammers' own errors for a malformed URL would quote it, password included
/// (src/net/tcp.rs `connect_proxy_stream`).
pub fn connection_params(proxy: Option<&Proxy>) -> ConnectionParams {
    ConnectionParams {
        proxy_url: proxy.map(|p| p.url.expose().to_string()),
        device_model: format!("tgsess on {}", std::env::consts::OS),
        system_version: std::env::consts::ARCH.to_string(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        system_lang_code: "en".to_string(),
        lang_code: "en".to_string(),
        use_ipv6: false,
        retry_policy: Box::new(NoRetries),
        updates_channel_capacity: NonZeroUsize::new(16).expect("non-zero"),
        __non_exhaustive: (),
    }
}

/// A SOCKS5 proxy (`proxy` in the config, `TGSESS_PROXY`, `--proxy`). The URL, password and
/// all, is a secret: `Display` shows it without the password.
#[derive(Clone)]
pub struct Proxy {
    url: tgsess_shared::secret::Secret,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    has_password: bool,
}

impl Proxy {
    /// Checks the shape grammers needs; the error names where the value came from and never
    /// repeats it (it may hold a password).
    pub fn parse(raw: &str, from: &str) -> Result<Proxy> {
        let bad = |why: &str| {
            Error::usage(format!(
                "the proxy (from {from}) is not a socks5://[user:password@]host:port URL: {why}"
            ))
        };
        let u = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
        if u.scheme() != "socks5" {
            return Err(bad("only socks5:// is supported"));
        }
        let host = u
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("the host is missing"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = u.port().ok_or_else(|| bad("the port is missing"))?;
        Ok(Proxy {
            url: tgsess_shared::secret::Secret::new(raw.trim().to_string()),
            host,
            port,
            user: Some(u.username().to_string()).filter(|s| !s.is_empty()),
            has_password: u.password().is_some(),
        })
    }

    pub fn has_password(&self) -> bool {
        self.has_password
    }
}

impl std::fmt::Display for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (&self.user, self.has_password) {
            (Some(u), true) => write!(f, "socks5://{u}:***@{host}:{}", self.port),
            (Some(u), false) => write!(f, "socks5://{u}@{host}:{}", self.port),
            (None, true) => write!(f, "socks5://:***@{host}:{}", self.port),
            (None, false) => write!(f, "socks5://{host}:{}", self.port),
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({self})")
    }
}

/// How long closing the connections may take before they are dropped.
pub const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// A running client: the grammers `Client` plus the task that drives its connections.
pub struct Connection {
    pub client: Client,
    handle: SenderPoolHandle,
    runner: tokio::task::JoinHandle<()>,
    /// Updates Telegram pushes (kept only by [`Connection::with_updates`]).
    pub updates: Option<tokio::sync::mpsc::Receiver<UpdatesLike>>,
}

/// How a command reaches Telegram: through a proxy or not, and inside which [`Fence`].
#[derive(Clone, Debug)]
pub struct Route {
    pub proxy: Option<Proxy>,
    pub fence: Fence,
}

impl Route {
    /// Straight to the addresses a session holds: no proxy, no fence (library users and
    /// tests of the sandbox itself, which pass sessions that point at it).
    pub fn direct() -> Route {
        Route {
            proxy: None,
            fence: Fence::Open,
        }
    }

    /// The route the settings ask for. Under a sandbox config this reads where the sandbox
    /// listens (its `sandbox.json`), so the fence knows its one address.
    pub fn of(settings: &crate::settings::Settings) -> Result<Route> {
        let fence = match &settings.sandbox_dir {
            Some(dir) => sandbox_fence(dir)?,
            None => Fence::Open,
        };
        Ok(Route {
            proxy: settings.proxy().cloned(),
            fence,
        })
    }

    /// Refuses (exit 2) a connection to the session's home DC, or a proxy, that the fence
    /// does not admit: before any socket is opened.
    fn check_home<S>(&self, session: &S) -> Result<()>
    where
        S: Session,
        S::Error: std::fmt::Display,
    {
        let refused = |r: fence::Refused| Error::Usage(r.0);
        self.fence
            .admit_proxy(self.proxy.as_ref())
            .map_err(refused)?;
        let fail = |e: S::Error| Error::file(format!("in-memory session: {e}"));
        let home = session.home_dc_id().map_err(fail)?;
        if let Some(o) = session.dc_option(home).map_err(fail)? {
            self.fence.admit(home, o.ipv4).map_err(refused)?;
        }
        Ok(())
    }
}

/// The fence of a sandbox config: the running sandbox's address and DCs.
fn sandbox_fence(dir: &Path) -> Result<Fence> {
    let endpoint = read_sandbox_endpoint(dir)?;
    let SocketAddr::V4(address) = endpoint.address else {
        return Err(Error::usage(
            "the sandbox listens on IPv6; use an IPv4 loopback address",
        ));
    };
    Ok(Fence::Sandbox {
        dir: dir.to_path_buf(),
        address,
        dcs: endpoint.dcs,
    })
}

/// What `Display` of grammers' `InvocationError` leaves out: the session's own error (a
/// fence refusal among them) behind "session error".
pub fn says(e: &grammers_mtsender::InvocationError) -> String {
    match e {
        grammers_mtsender::InvocationError::Session(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

impl Connection {
    /// Nothing is sent until the first request. Updates are not consumed: dropping the
    /// receiver makes the pool stop forwarding them. Every address passes `route`'s fence:
    /// the home DC's now (a refusal is exit 2, before any socket), any other DC when the
    /// pool first connects to it.
    pub fn new<S>(session: Arc<S>, api_id: i32, route: &Route) -> Result<Self>
    where
        S: Session + Sized,
        S::Error: std::error::Error + Send + Sync + 'static,
    {
        let mut c = Self::with_updates(session, api_id, route)?;
        c.updates = None;
        Ok(c)
    }

    /// As [`Connection::new`], keeping the update stream (a QR login waits on it for
    /// updateLoginToken).
    pub fn with_updates<S>(session: Arc<S>, api_id: i32, route: &Route) -> Result<Self>
    where
        S: Session + Sized,
        S::Error: std::error::Error + Send + Sync + 'static,
    {
        route.check_home(session.as_ref())?;
        let fenced = Arc::new(fence::Fenced::new(session, route.fence.clone()));
        let pool =
            SenderPool::with_configuration(fenced, api_id, connection_params(route.proxy.as_ref()));
        let client = Client::new(pool.handle.clone());
        let handle = pool.handle.thin.clone();
        let runner = tokio::spawn(pool.runner.run());
        Ok(Connection {
            client,
            handle,
            runner,
            updates: Some(pool.updates),
        })
    }

    /// Closes every connection and waits for the pool to stop, at most [`CLOSE_GRACE`]:
    /// against a server that accepted TCP and never answers, grammers' runner may never
    /// finish on its own, and a command's deadline includes its shutdown.
    pub async fn close(mut self) {
        self.handle.quit();
        if tokio::time::timeout(CLOSE_GRACE, &mut self.runner)
            .await
            .is_err()
        {
            self.runner.abort();
        }
    }
}

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;

use grammers_session::storages::{MemorySession, MemorySessionError};
use grammers_session::types::DcOption;

use tgsess_store::{AuthKey, Record};

use crate::error::{Error, Result};

fn v6_of(v4: SocketAddrV4) -> SocketAddrV6 {
    SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0)
}

/// Where a running sandbox listens, and the DC ids it serves (its `sandbox.json`).
pub struct SandboxEndpoint {
    pub address: SocketAddr,
    pub dcs: Vec<i32>,
}

/// Reads the endpoint of the sandbox running in `dir` (its `sandbox.json`). A build without
/// the `sandbox` feature talks to a sandbox just the same: the sandbox is another process.
pub fn read_sandbox_endpoint(dir: &Path) -> Result<SandboxEndpoint> {
    tgsess_shared::sandbox_link::read_endpoint(dir)
        .map(|e| SandboxEndpoint {
            address: e.address,
            dcs: e.dcs,
        })
        .map_err(|e| {
            Error::NoVerdict(format!(
                "no sandbox is running in {} ({e}); start one with `tgsess sandbox --dir {}`",
                dir.shown(),
                crate::output::shell_quote(dir)
            ))
        })
}

/// Where no connection can go: the address given to DCs a sandbox does not serve, so that
/// neither a connection nor a saved draft ever holds Telegram's address for them.
const NOWHERE: SocketAddrV4 = SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0);

/// Points every DC a sandbox serves at the running sandbox in `dir`, and every other DC
/// that is not the session's home at nowhere; with `register`, DCs without a key get a new
/// key registered through the sandbox's side channel (what key generation does against
/// Telegram).
pub async fn attach_sandbox<S>(session: &S, dir: &Path, register: bool) -> Result<()>
where
    S: Session,
    S::Error: std::fmt::Display,
{
    let endpoint = read_sandbox_endpoint(dir)?;
    let SocketAddr::V4(v4) = endpoint.address else {
        return Err(Error::usage(
            "the sandbox listens on IPv6; use an IPv4 loopback address",
        ));
    };
    let fail = |e: S::Error| Error::file(format!("cannot update the session: {e}"));
    let home = session.home_dc_id().map_err(fail)?;
    for dc in tgsess_store::DC_IDS.map(|d| d as i32) {
        let served = endpoint.dcs.contains(&dc);
        if !served && dc == home {
            // Left as the session has it: the fence refuses it, naming the DC.
            continue;
        }
        let existing = session.dc_option(dc).map_err(fail)?;
        let mut key = existing.and_then(|o| o.auth_key).filter(|_| served);
        if served && key.is_none() && register {
            key = Some(register_key(dir, dc)?);
        }
        let at = if served { v4 } else { NOWHERE };
        session
            .set_dc_option(&DcOption {
                id: dc,
                ipv4: at,
                ipv6: v6_of(at),
                auth_key: key,
            })
            .await
            .map_err(fail)?;
    }
    Ok(())
}

/// A fresh key for `dc`, registered with the sandbox in `dir` through its side channel.
fn register_key(dir: &Path, dc: i32) -> Result<[u8; 256]> {
    use tgsess_shared::sandbox_link as keys;
    let k = keys::new_key();
    keys::register(dir, dc, &k).map_err(|e| {
        Error::NoVerdict(format!(
            "cannot register a key with the sandbox in {}: {e}",
            dir.shown()
        ))
    })?;
    Ok(k)
}

/// The address of the running sandbox in `dir`.
pub fn sandbox_address(dir: &Path) -> Result<SocketAddr> {
    read_sandbox_endpoint(dir).map(|e| e.address)
}

/// The in-memory session every network command runs grammers over, built from what the
/// store loaded (`None`: a new session, no key yet). Nothing grammers changes while it
/// connects (DC options, new keys) reaches any file: the command saves the outcome through
/// the store when it means to. A test-mode record gets the test DCs (never production).
pub async fn memory_session(
    record: Option<&Record>,
    settings: &crate::settings::Settings,
    register: bool,
) -> Result<Arc<MemorySession>> {
    let sandbox = settings.sandbox_dir.as_deref();
    if let Some(r) = record {
        settings.check_test_mode(r)?;
    }
    let s = Arc::new(MemorySession::default());
    let fail = |e: MemorySessionError| Error::file(format!("in-memory session: {e}"));
    if let Some(r) = record {
        let home = tgsess_store::write::import_address(r, None)?;
        tgsess_store::write::load_into(s.as_ref(), r, home)
            .await
            .map_err(fail)?;
    }
    if record.is_none() && settings.test_dc.value {
        // A new session for Telegram's test DCs: their table, never production's.
        for (id, ip) in tgsess_store::dc::TEST_DCS {
            let v4 = SocketAddrV4::new(ip.into(), tgsess_store::dc::TEST_DC_PORT);
            s.set_dc_option(&DcOption {
                id,
                ipv4: v4,
                ipv6: v6_of(v4),
                auth_key: None,
            })
            .await
            .map_err(fail)?;
        }
        for id in 4..=5 {
            // No test DC 4 or 5: keep production's out of the session.
            s.set_dc_option(&DcOption {
                id,
                ipv4: SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
                ipv6: SocketAddrV6::new(std::net::Ipv6Addr::LOCALHOST, 0, 0, 0),
                auth_key: None,
            })
            .await
            .map_err(fail)?;
        }
    }
    if let Some(dir) = sandbox {
        attach_sandbox(s.as_ref(), dir, register).await?;
    }
    Ok(s)
}

/// What an in-memory session holds now, as a record to save: the home DC and its key, the
/// other DCs and the update state. `base` supplies the rest: api_id and test mode, which
/// grammers does not keep, and the self user, which `MemorySession` cannot be asked for
/// (grammers-session 0.11 src/storages/memory.rs `peer` looks peers up by id only, so
/// `PeerId::self_user()` finds nothing, unlike the SQLite storage). `None` while the home
/// DC has no key.
pub async fn record_of_memory(s: &MemorySession, base: &Record) -> Option<Record> {
    let home = s.home_dc_id().ok()?;
    let option = s.dc_option(home).ok()??;
    let key = option.auth_key?;
    let mut other_dcs = Vec::new();
    for id in 1..=5 {
        if id != home
            && let Ok(Some(o)) = s.dc_option(id)
        {
            other_dcs.push((id, o.ipv4, o.auth_key.map(AuthKey)));
        }
    }
    let st = s.updates_state().await.ok();
    Some(Record {
        dc_id: home,
        address: Some(SocketAddr::V4(option.ipv4)),
        auth_key: AuthKey(key),
        user_id: base.user_id,
        bot: base.bot,
        test_mode: base.test_mode,
        api_id: base.api_id,
        access_hash: base.access_hash,
        update_state: st
            .filter(|u| u.date != 0)
            .map(|u| [u.pts, u.qts, u.date, u.seq]),
        other_dcs,
    })
}

/// Fills in the user id (and bot flag, access hash) of a record whose source did not keep
/// it, by asking Telegram `users.getUsers([inputUserSelf])`. A Pyrogram session needs it:
/// without `user_id` Pyrogram and its forks discard the key and ask for a new code. When
/// Telegram cannot be asked, this refuses rather than write a session the library would
/// throw away.
pub async fn with_user_id(settings: &crate::settings::Settings, mut r: Record) -> Result<Record> {
    use grammers_tl_types as tl;
    if r.user_id.is_some() {
        return Ok(r);
    }
    let refuse = |why: String| {
        Error::NoVerdict(format!(
            "the session does not record its user id, which a Pyrogram session must hold, and \
             asking Telegram failed ({why}); nothing was written"
        ))
    };
    let (api_id, _) = settings.api_credentials()?;
    let memory = memory_session(Some(&r), settings, false)
        .await
        .map_err(|e| refuse(e.to_string()))?;
    let conn = Connection::new(memory, api_id, &Route::of(settings)?)?;
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.client.invoke(&tl::functions::users::GetUsers {
            id: vec![tl::enums::InputUser::UserSelf],
        }),
    )
    .await;
    conn.close().await;
    match reply {
        Ok(Ok(users)) => match users.into_iter().next() {
            Some(tl::enums::User::User(u)) => {
                r.user_id = Some(u.id);
                r.bot = Some(u.bot);
                r.access_hash = u.access_hash;
                Ok(r)
            }
            _ => Err(refuse("Telegram returned no user".into())),
        },
        Ok(Err(grammers_mtsender::InvocationError::Rpc(e))) if e.code == 401 => {
            Err(Error::NotSignedIn(format!(
                "Telegram says the key is not signed in ({}); there is no user to record, and \
                 nothing was written",
                e.name
            )))
        }
        Ok(Err(e)) => Err(refuse(e.to_string())),
        Err(_) => Err(refuse("no answer within 10 s".into())),
    }
}
