//! A sandbox config's side of the sandbox: where it listens, its fence, and its DCs in a
//! session (with new keys registered through its side channel).

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;

use grammers_session::Session;
use grammers_session::types::DcOption;

use super::fence::Fence;
use crate::error::{Error, Result};
use crate::output::Shown;

/// The fence of a sandbox config: the running sandbox's address and DCs.
pub(crate) fn sandbox_fence(dir: &Path) -> Result<Fence> {
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

pub(crate) fn v6_of(v4: SocketAddrV4) -> SocketAddrV6 {
    SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0)
}

/// Where a running sandbox listens, and the DC ids it serves (its `sandbox.json`).
pub(crate) struct SandboxEndpoint {
    pub(crate) address: SocketAddr,
    pub(crate) dcs: Vec<i32>,
}

/// Reads the endpoint of the sandbox running in `dir` (its `sandbox.json`). A build without
/// the `sandbox` feature talks to a sandbox just the same: the sandbox is another process.
pub(crate) fn read_sandbox_endpoint(dir: &Path) -> Result<SandboxEndpoint> {
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
pub(crate) async fn attach_sandbox<S>(session: &S, dir: &Path, register: bool) -> Result<()>
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
pub(crate) fn sandbox_address(dir: &Path) -> Result<SocketAddr> {
    read_sandbox_endpoint(dir).map(|e| e.address)
}
