//! tgsess's connection to Telegram (or the sandbox): grammers' sender pool with settings a
//! careful login needs.

use std::num::NonZeroUsize;
use std::sync::Arc;

use grammers_client::Client;
use grammers_mtsender::{ConnectionParams, NoRetries, SenderPool, SenderPoolHandle};
use grammers_session::Session;

/// Connection parameters built field by field.
///
/// - `retry_policy: NoRetries`: the default `AutoSleep` re-sends a request once on an I/O
///   error and on FLOOD_WAIT <= 60 s (grammers-mtsender 0.11 src/configuration.rs,
///   `impl RetryPolicy for AutoSleep`), which would turn one auth.sendCode into two.
/// - Not `ConnectionParams::default()`: it calls `os_info::get()`, which runs
///   `lsb_release -a` on every start (same file, `impl Default for ConnectionParams`).
pub fn connection_params() -> ConnectionParams {
    ConnectionParams {
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

/// A running client: the grammers `Client` plus the task that drives its connections.
pub struct Connection {
    pub client: Client,
    handle: SenderPoolHandle,
    runner: tokio::task::JoinHandle<()>,
}

impl Connection {
    /// Nothing is sent until the first request.
    pub fn new<S>(session: Arc<S>, api_id: i32) -> Self
    where
        S: Session + Sized,
        S::Error: std::error::Error + Send + Sync + 'static,
    {
        let pool = SenderPool::with_configuration(session, api_id, connection_params());
        let client = Client::new(pool.handle.clone());
        let handle = pool.handle.thin.clone();
        // Updates are not consumed: dropping the receiver makes the pool stop forwarding them.
        drop(pool.updates);
        let runner = tokio::spawn(pool.runner.run());
        Connection {
            client,
            handle,
            runner,
        }
    }

    /// Closes every connection and waits for the pool to stop.
    pub async fn close(self) {
        self.handle.quit();
        let _ = self.runner.await;
    }
}

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;

use grammers_session::storages::{MemorySession, SqliteSession};
use grammers_session::types::DcOption;

use crate::error::{Error, Result};

fn v6_of(v4: SocketAddrV4) -> SocketAddrV6 {
    SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0)
}

/// Points every DC of a sandbox session at the running sandbox in `dir`, and with `register`
/// gives DCs without a key a new key registered through the sandbox's side channel (what
/// key generation does against Telegram). Without the `sandbox` feature this is an error.
pub async fn attach_sandbox<S>(session: &S, dir: &Path, register: bool) -> Result<()>
where
    S: Session,
    S::Error: std::fmt::Display,
{
    #[cfg(feature = "sandbox")]
    {
        use crate::sandbox::keys;
        let endpoint = keys::read_endpoint(dir).map_err(|e| {
            Error::NoVerdict(format!(
                "no sandbox is running in {} ({e}); start one with `tgsess sandbox --dir {}`",
                dir.display(),
                dir.display()
            ))
        })?;
        let SocketAddr::V4(v4) = endpoint.address else {
            return Err(Error::usage(
                "the sandbox listens on IPv6; use an IPv4 loopback address",
            ));
        };
        let fail = |e: S::Error| Error::file(format!("cannot update the session: {e}"));
        for dc in endpoint.dcs {
            let existing = session.dc_option(dc).map_err(fail)?;
            let mut key = existing.and_then(|o| o.auth_key);
            if key.is_none() && register {
                let k = keys::new_key();
                keys::register(dir, dc, &k).map_err(|e| {
                    Error::NoVerdict(format!(
                        "cannot register a key with the sandbox in {}: {e}",
                        dir.display()
                    ))
                })?;
                key = Some(k);
            }
            session
                .set_dc_option(&DcOption {
                    id: dc,
                    ipv4: v4,
                    ipv6: v6_of(v4),
                    auth_key: key,
                })
                .await
                .map_err(fail)?;
        }
        Ok(())
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = (session, register);
        Err(Error::usage(format!(
            "sandbox_dir {} is set, but this tgsess was built without the sandbox feature",
            dir.display()
        )))
    }
}

/// An in-memory copy of a tgsess file for `check`: grammers may update DC options and keys
/// as it connects, and none of that may reach the file. Returns `None` when the home DC has
/// no key (nothing to ask Telegram about: a new key cannot be signed in).
pub async fn memory_copy(
    path: &Path,
    sandbox: Option<&Path>,
) -> Result<Option<Arc<MemorySession>>> {
    let data = crate::formats::sqlite::read_grammers(path)
        .await
        .map_err(|e| Error::file(format!("cannot read session {}: {e}", path.display())))?;
    let home_has_key = data
        .dc_options
        .iter()
        .any(|(id, _, _, k)| *id == data.home_dc && k.is_some());
    if !home_has_key {
        return Ok(None);
    }
    let s = Arc::new(MemorySession::default());
    let fail = |e: grammers_session::storages::MemorySessionError| {
        Error::file(format!("session {}: {e}", path.display()))
    };
    s.set_home_dc_id(data.home_dc).await.map_err(fail)?;
    for (id, v4, v6, key) in data.dc_options {
        let Ok(ipv4) = v4.parse::<SocketAddrV4>() else {
            continue;
        };
        let ipv6 = v6.parse::<SocketAddrV6>().unwrap_or_else(|_| v6_of(ipv4));
        s.set_dc_option(&DcOption {
            id,
            ipv4,
            ipv6,
            auth_key: key.map(|k| k.0),
        })
        .await
        .map_err(fail)?;
    }
    if let Some(dir) = sandbox {
        attach_sandbox(s.as_ref(), dir, false).await?;
    }
    Ok(Some(s))
}

/// The session file opened for writing by login/logout: created when missing (0600 through
/// the umask), tightened to 0600 when it is readable by others, attached to the sandbox when
/// configured. The caller holds the session lock and has checked the format.
pub async fn open_writable(path: &Path, sandbox: Option<&Path>) -> Result<Arc<SqliteSession>> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        crate::session_file::ensure_dir(dir)?;
    }
    let s = Arc::new(crate::session_file::open_grammers(path).await?);
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            Error::file(format!(
                "{} is readable by others and cannot be tightened to 0600: {e}",
                path.display()
            ))
        })?;
        crate::output::warn(format!(
            "{} was readable by others; tightened it to 0600",
            path.display()
        ));
    }
    if let Some(dir) = sandbox {
        attach_sandbox(s.as_ref(), dir, true).await?;
    }
    Ok(s)
}
