//! The lease connection: the URL (never with a password in it), libpq's environment
//! defaults and password conventions, TLS when the URL asks for it, and the session settings
//! that keep the lock from going away early.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config};

use super::pgpass;
use crate::env::Env;
use crate::error::{Error, Result};

/// A lease URL, checked: a PostgreSQL connection string (URL or key=value) with no password.
#[derive(Clone, Debug)]
pub(crate) struct Url {
    pub(crate) config: Config,
    /// As given: it holds no password, so it can be shown.
    pub(crate) shown: String,
}

/// Checks a `lease` value from `from` (a flag, a variable, the config file).
pub(crate) fn parse(raw: &str, from: &str) -> Result<Url> {
    let bad = |why: String| {
        Error::usage(format!(
            "lease (from {from}) {why}; write it as postgresql://USER@HOST:PORT/DATABASE \
             (add ?sslmode=require for TLS)"
        ))
    };
    let config = Config::from_str(raw).map_err(|e| bad(format!("is not a connection URL: {e}")))?;
    if config.get_password().is_some() {
        // Shown nowhere: the message names the key, not the value.
        return Err(Error::usage(format!(
            "lease (from {from}) holds a password; a password is never taken there (it would \
             show in `ps`, shell history and messages). Remove it from the URL and put it in \
             PGPASSWORD or a password file (~/.pgpass, mode 0600), as libpq does"
        )));
    }
    Ok(Url {
        config,
        shown: raw.to_string(),
    })
}

/// Opens the lease connection: the URL with libpq's environment defaults, the password
/// from PGPASSWORD or the password file, TLS when `sslmode=require`, and this session's
/// keepalive and idle settings for `grace` (see the module above for the arithmetic).
pub(crate) async fn connect(url: &Url, env: &dyn Env, grace: Duration) -> Result<Client> {
    let mut config = url.config.clone();
    defaults(&mut config, env);
    config
        .application_name("tgsess exec")
        .connect_timeout(Duration::from_secs(10))
        .keepalives_idle(grace);
    let client = match config.get_ssl_mode() {
        SslMode::Require => spawn(config.connect(tls()?).await, url)?,
        _ => spawn(config.connect(tokio_postgres::NoTls).await, url)?,
    };
    let g = grace.as_secs().max(1);
    // idle_session_timeout (PostgreSQL 14+) would end the session, and the lock with it;
    // the server's keepalive for this session only: idle G, interval G, count 2.
    client
        .batch_execute(&format!(
            "SET idle_session_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
             SET tcp_keepalives_idle = {g}; SET tcp_keepalives_interval = {g}; \
             SET tcp_keepalives_count = 2"
        ))
        .await
        .map_err(super::db)?;
    Ok(client)
}

/// Whether the lease connects over a Unix socket, where the server's TCP keepalives do
/// nothing (runtime-config-connection.html): a vanished holder is noticed only when the
/// server next writes to it.
pub(crate) fn over_unix_socket(url: &Url, env: &dyn Env) -> bool {
    let mut config = url.config.clone();
    defaults(&mut config, env);
    matches!(config.get_hosts().first(), Some(Host::Unix(_)))
}

/// The connection's driver runs on its own task; the client is what the lease uses. When
/// the driver ends (the server went away), every later request fails at once.
fn spawn<S, T>(
    connected: std::result::Result<
        (Client, tokio_postgres::Connection<S, T>),
        tokio_postgres::Error,
    >,
    url: &Url,
) -> Result<Client>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (client, connection) = connected.map_err(|e| {
        Error::NoVerdict(format!(
            "cannot reach the lease database {} ({})",
            crate::output::escape(&url.shown),
            super::db(e)
        ))
    })?;
    tokio::spawn(connection);
    Ok(client)
}

/// libpq's environment defaults for what the URL leaves out (libpq-envars.html), and the
/// password by libpq's conventions.
fn defaults(config: &mut Config, env: &dyn Env) {
    let set = |name: &str| env.var(name).filter(|v| !v.is_empty());
    if config.get_hosts().is_empty()
        && let Some(h) = set("PGHOST")
    {
        config.host(h);
    }
    if config.get_ports().is_empty()
        && let Some(p) = set("PGPORT").and_then(|p| p.parse().ok())
    {
        config.port(p);
    }
    if config.get_user().is_none()
        && let Some(u) = set("PGUSER")
    {
        config.user(u);
    }
    if config.get_dbname().is_none()
        && let Some(d) = set("PGDATABASE")
    {
        config.dbname(d);
    }
    if let Some(p) = password(config, env) {
        config.password(p);
    }
}

fn password(config: &Config, env: &dyn Env) -> Option<String> {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let user = config.get_user().unwrap_or_default().to_string();
    let target = pgpass::For {
        host: &host,
        port: config.get_ports().first().copied().unwrap_or(5432),
        database: config.get_dbname().unwrap_or(&user),
        user: &user,
    };
    pgpass::password(env, &target)
}

/// TLS for `sslmode=require`: rustls, the server's certificate checked against the system's
/// roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` name others, as with OpenSSL). That is stricter
/// than libpq's `require`, which encrypts without checking.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(Error::usage(
            "lease: sslmode=require, but no trusted certificates were found; install the \
             system's CA certificates or name a file in SSL_CERT_FILE",
        ));
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}
