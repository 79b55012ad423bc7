//! A SOCKS5 proxy, and the connection parameters grammers is given.

use std::num::NonZeroUsize;

use grammers_mtsender::{ConnectionParams, NoRetries};

use crate::error::{Error, Result};

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
pub(crate) fn connection_params(proxy: Option<&Proxy>) -> ConnectionParams {
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
pub(crate) struct Proxy {
    pub(super) url: tgsess_shared::secret::Secret,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: Option<String>,
    has_password: bool,
}

impl Proxy {
    /// Checks the shape grammers needs; the error names where the value came from and never
    /// repeats it (it may hold a password).
    pub(crate) fn parse(raw: &str, from: &str) -> Result<Proxy> {
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

    pub(crate) fn has_password(&self) -> bool {
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
