//! The one place every connection's address passes before a socket is opened.
//!
//! Under a sandbox config (`sandbox_dir`), tgsess may connect to the sandbox and nowhere
//! else: not to an address a session file stores, not to Telegram's DC table (grammers'
//! `MemorySession` answers `dc_option` for DCs nobody set with its built-in production
//! table, grammers-session 0.11 src/session_data.rs `Default`), not to what a server's
//! `help.getConfig` lists. Every connection grammers' pool opens starts by reading the DC's
//! option from the session (grammers-mtsender 0.11 src/sender_pool.rs `create_connection`),
//! so a session wrapped in [`Fenced`] is checked at that point, for every DC, every time.
//! A proxy under a sandbox config must itself be on loopback.

use std::net::{IpAddr, SocketAddrV4};
use std::path::PathBuf;

use grammers_session::types::{DcOption, PeerId, PeerInfo, UpdateState, UpdatesState};
use grammers_session::{BoxFuture, Session};

use super::Proxy;
use crate::output::Shown;

/// Where connections may go.
#[derive(Clone, Debug)]
pub(crate) enum Fence {
    /// No sandbox configured: Telegram's DCs, or what the session stores.
    Open,
    /// Only the sandbox in `dir`, at `address`, for the DCs it serves.
    Sandbox {
        dir: PathBuf,
        address: SocketAddrV4,
        dcs: Vec<i32>,
    },
}

impl Fence {
    /// May a connection to DC `dc` at `addr` be opened? The refusal names the DC, the
    /// address and the sandbox, and says that nothing was sent.
    pub(crate) fn admit(&self, dc: i32, addr: SocketAddrV4) -> Result<(), Refused> {
        let Fence::Sandbox { dir, address, dcs } = self else {
            return Ok(());
        };
        if addr == *address && dcs.contains(&dc) {
            return Ok(());
        }
        let served = dcs
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let what = if dcs.contains(&dc) {
            format!("DC {dc} at {addr} is not the sandbox's address ({address})")
        } else {
            format!(
                "DC {dc} (at {addr}) is not one the sandbox serves (it serves DCs {served} at \
                 {address})"
            )
        };
        Err(Refused(format!(
            "{what}; with sandbox_dir {} set, tgsess connects only to that sandbox, so no \
             connection was opened and nothing was sent. A session from Telegram itself \
             does not belong in a sandbox config: remove sandbox_dir (or --sandbox-dir) to \
             use it with Telegram",
            dir.shown()
        )))
    }

    /// A proxy is where the socket goes: under a sandbox config it must be on loopback.
    pub(crate) fn admit_proxy(&self, proxy: Option<&Proxy>) -> Result<(), Refused> {
        let (Fence::Sandbox { dir, .. }, Some(p)) = (self, proxy) else {
            return Ok(());
        };
        let loopback =
            p.host == "localhost" || p.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if loopback {
            return Ok(());
        }
        Err(Refused(format!(
            "the proxy {p} is not on this machine; with sandbox_dir {} set, tgsess connects \
             only to the sandbox (a proxy must be on 127.0.0.0/8), so no connection was \
             opened: use --no-proxy, or a loopback proxy",
            dir.shown()
        )))
    }
}

/// A connection the fence did not let through.
#[derive(Clone, Debug)]
pub(crate) struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// An error of a fenced session: the fence's refusal, or the wrapped session's own error.
#[derive(Debug)]
pub(crate) enum FencedError {
    Refused(Refused),
    Session(String),
}

impl std::fmt::Display for FencedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FencedError::Refused(r) => r.fmt(f),
            FencedError::Session(s) => write!(f, "session error: {s}"),
        }
    }
}

impl std::error::Error for FencedError {}

/// A session whose DC options pass the [`Fence`] when read: the only way grammers' pool
/// learns where to connect.
pub(crate) struct Fenced<S> {
    inner: std::sync::Arc<S>,
    fence: Fence,
}

impl<S> Fenced<S> {
    pub(crate) fn new(inner: std::sync::Arc<S>, fence: Fence) -> Self {
        Fenced { inner, fence }
    }
}

fn wrap<E: std::fmt::Display>(e: E) -> FencedError {
    FencedError::Session(e.to_string())
}

impl<S> Session for Fenced<S>
where
    S: Session,
    S::Error: std::fmt::Display,
{
    type Error = FencedError;

    fn home_dc_id(&self) -> Result<i32, FencedError> {
        self.inner.home_dc_id().map_err(wrap)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), FencedError>> {
        Box::pin(async move { self.inner.set_home_dc_id(dc_id).await.map_err(wrap) })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, FencedError> {
        let option = self.inner.dc_option(dc_id).map_err(wrap)?;
        if let Some(o) = &option {
            self.fence
                .admit(dc_id, o.ipv4)
                .map_err(FencedError::Refused)?;
        }
        Ok(option)
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), FencedError>> {
        let dc_option = dc_option.clone();
        Box::pin(async move { self.inner.set_dc_option(&dc_option).await.map_err(wrap) })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, FencedError>> {
        Box::pin(async move { self.inner.peer(peer).await.map_err(wrap) })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), FencedError>> {
        Box::pin(async move { self.inner.cache_peer(peer).await.map_err(wrap) })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, FencedError>> {
        Box::pin(async move { self.inner.updates_state().await.map_err(wrap) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), FencedError>> {
        Box::pin(async move { self.inner.set_update_state(update).await.map_err(wrap) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_session::storages::MemorySession;

    fn sandbox() -> Fence {
        Fence::Sandbox {
            dir: PathBuf::from("/sb"),
            address: "127.0.0.1:4000".parse().unwrap(),
            dcs: vec![1, 2, 3],
        }
    }

    #[test]
    fn a_sandbox_fence_admits_only_the_sandbox() {
        let f = sandbox();
        assert!(f.admit(2, "127.0.0.1:4000".parse().unwrap()).is_ok());
        let e = f
            .admit(4, "149.154.167.91:443".parse().unwrap())
            .unwrap_err();
        assert!(
            e.0.starts_with("DC 4 (at 149.154.167.91:443) is not one the sandbox serves"),
            "{e}"
        );
        assert!(
            e.0.contains("/sb") && e.0.contains("nothing was sent"),
            "{e}"
        );
        let e = f
            .admit(2, "149.154.167.41:443".parse().unwrap())
            .unwrap_err();
        assert!(
            e.0.starts_with("DC 2 at 149.154.167.41:443 is not the sandbox's"),
            "{e}"
        );
        assert!(f.admit(2, "127.0.0.1:4001".parse().unwrap()).is_err());
        assert!(
            Fence::Open
                .admit(4, "149.154.167.91:443".parse().unwrap())
                .is_ok()
        );
    }

    #[test]
    fn a_sandbox_fence_admits_only_loopback_proxies() {
        let f = sandbox();
        let local = Proxy::parse("socks5://127.0.0.2:1080", "test").unwrap();
        let far = Proxy::parse("socks5://10.1.2.3:1080", "test").unwrap();
        assert!(f.admit_proxy(Some(&local)).is_ok());
        assert!(
            f.admit_proxy(Some(&far))
                .unwrap_err()
                .0
                .contains("10.1.2.3")
        );
        assert!(Fence::Open.admit_proxy(Some(&far)).is_ok());
    }

    #[test]
    fn a_fenced_session_refuses_the_built_in_telegram_table() {
        // MemorySession::default() knows Telegram's five production DCs.
        let s = Fenced::new(std::sync::Arc::new(MemorySession::default()), sandbox());
        for dc in 1..=5 {
            let e = s.dc_option(dc).unwrap_err();
            assert!(e.to_string().contains(&format!("DC {dc}")), "{e}");
        }
    }
}
