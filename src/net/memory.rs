//! The in-memory session every network command runs grammers over, and what it holds
//! afterwards.

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;

use grammers_session::Session;
use grammers_session::storages::{MemorySession, MemorySessionError};
use grammers_session::types::DcOption;
use tgsess_store::{AuthKey, Record};

use super::Network;
use super::sandbox::{attach_sandbox, v6_of};
use crate::error::{Error, Result};

/// The in-memory session every network command runs grammers over, built from what the
/// store loaded (`None`: a new session, no key yet). Nothing grammers changes while it
/// connects (DC options, new keys) reaches any file: the command saves the outcome through
/// the store when it means to. A test-mode record gets the test DCs (never production).
pub(crate) async fn memory_session(
    net: &Network,
    record: Option<&Record>,
    register: bool,
) -> Result<Arc<MemorySession>> {
    if let Some(r) = record {
        net.check_test_mode(r)?;
    }
    let s = Arc::new(MemorySession::default());
    if let Some(r) = record {
        let home = tgsess_store::write::import_address(r, None)?;
        tgsess_store::write::load_into(s.as_ref(), r, home)
            .await
            .map_err(fail)?;
    }
    if record.is_none() && net.test_dc {
        test_dcs(&s).await?;
    }
    if let Some(dir) = &net.sandbox_dir {
        attach_sandbox(s.as_ref(), dir, register).await?;
    }
    Ok(s)
}

fn fail(e: MemorySessionError) -> Error {
    Error::file(format!("in-memory session: {e}"))
}

/// A new session for Telegram's test DCs: their table, and no DC 4 or 5 (the test network
/// has none), so nothing goes to production.
async fn test_dcs(s: &MemorySession) -> Result<()> {
    {
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
    Ok(())
}

/// What an in-memory session holds now, as a record to save: the home DC and its key, the
/// other DCs and the update state. `base` supplies the rest: api_id and test mode, which
/// grammers does not keep, and the self user, which `MemorySession` cannot be asked for
/// (grammers-session 0.11 src/storages/memory.rs `peer` looks peers up by id only, so
/// `PeerId::self_user()` finds nothing, unlike the SQLite storage). `None` while the home
/// DC has no key.
pub(crate) async fn record_of_memory(s: &MemorySession, base: &Record) -> Option<Record> {
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
