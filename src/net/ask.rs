//! One request that says who a key is signed in as.
//!
//! `invokeWithLayer(initConnection(users.getUsers([inputUserSelf])))` on one connection
//! opened with the stored key by grammers-mtsender's own [`Sender`], not its pool: the pool
//! first sends `help.getConfig` on every new connection (grammers-mtsender 0.11
//! src/sender_pool.rs, `connect_sender`), which costs a round trip, and answers a -404 by
//! making a new key. Here it is one TCP handshake and one round trip, and the answer names
//! the user. A `*_MIGRATE_X` answer is followed once, to DC X.
//!
//! Every address passes the route's fence before a socket is opened, as in the pool.

use std::net::SocketAddrV4;

use grammers_mtproto::transport;
use grammers_mtsender::{InvocationError, RpcError, Sender, ServerAddr, connect_with_auth};
use grammers_session::Session;
use grammers_session::storages::MemorySession;
use grammers_tl_types as tl;
use tgsess_store::Record;

use super::proxy::connection_params;
use super::{Network, Route};
use crate::error::{Error, Result};
use crate::identity::Identity;

/// What Telegram said to the one request.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The key is signed in as this user (with its access hash).
    User(Identity, Option<i64>),
    /// Telegram's refusal: 401 (not signed in, revoked, banned), 406 (duplicated), or
    /// anything else.
    Rpc(RpcError),
    /// The transport error -404: the DC does not know the key at all.
    UnknownKey,
    /// No verdict: the network failed.
    Failed(String),
    /// No verdict: no answer by the deadline.
    TimedOut,
    /// A migration to a DC the record holds no key for: nothing was sent there.
    NoKey(i32),
}

/// The answer, and the DC that gave it (another than the home DC after a migration).
#[derive(Debug)]
pub(crate) struct Asked {
    pub(crate) answer: Answer,
    pub(crate) dc: i32,
    /// The home DC, when a migration moved the question away from it.
    pub(crate) migrated_from: Option<i32>,
}

/// Asks on a network's route; build one per command and ask for as many keys as needed.
pub(crate) struct Asker {
    network: Network,
    route: Route,
    api_id: i32,
}

type InitRequest =
    tl::functions::InvokeWithLayer<tl::functions::InitConnection<tl::functions::users::GetUsers>>;

/// The request, with the same initConnection fields the pool sends.
fn init_request(api_id: i32) -> InitRequest {
    let p = connection_params(None);
    tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id,
            device_model: p.device_model,
            system_version: p.system_version,
            app_version: p.app_version,
            system_lang_code: p.system_lang_code,
            lang_pack: String::new(),
            lang_code: p.lang_code,
            proxy: None,
            params: None,
            query: tl::functions::users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            },
        },
    }
}

/// Keeps each connection's read buffer out of memory until it is used.
///
/// grammers-mtsender 0.11 src/sender.rs, `Sender::connect`, allocates every connection's
/// read buffer as `vec![0; MAXIMUM_DATA]` (1 MiB + 8 KiB). glibc serves blocks that large
/// with mmap(2), whose pages are zero until touched, but after the first such block is freed
/// it raises its mmap threshold (mallopt(3), M_MMAP_THRESHOLD: "dynamic adjustment") and serves
/// the next ones from the heap, where calloc must write every zero: a fleet of 2,000
/// connections wrote 2 GB and touched as much. Setting the threshold fixes it (at glibc's
/// default, 128 KiB) and turns the adjustment off.
fn untouched_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only changes the allocator's tuning; called once, before the
        // connections are made.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        });
    }
}

impl Asker {
    /// Reads the route once (a sandbox's address); a fence refusal of the proxy is exit 2.
    pub(crate) fn new(network: &Network, api_id: i32) -> Result<Asker> {
        untouched_buffers();
        let route = network.route()?;
        route
            .fence
            .admit_proxy(route.proxy.as_ref())
            .map_err(|r| Error::Usage(r.0))?;
        Ok(Asker {
            network: network.clone(),
            route,
            api_id,
        })
    }

    /// Asks who `record`'s key is signed in as, by `deadline`. `Err` is a refusal before
    /// anything was sent: the fence (exit 2) or a record the network cannot take.
    pub(crate) async fn ask(
        &self,
        record: &Record,
        deadline: tokio::time::Instant,
    ) -> Result<Asked> {
        let session = self.network.memory_session(Some(record), false).await?;
        let home = record.dc_id;
        let answer = self.once(&session, home, deadline).await?;
        let to = match &answer {
            Answer::Rpc(r) if r.code == 303 => r.value.map(|v| v as i32),
            _ => None,
        };
        let Some(dc) = to.filter(|dc| *dc != home) else {
            return Ok(Asked {
                answer,
                dc: home,
                migrated_from: None,
            });
        };
        Ok(Asked {
            answer: self.once(&session, dc, deadline).await?,
            dc,
            migrated_from: Some(home),
        })
    }

    /// Asks DC `dc` directly, as [`Asker::ask`] does after a migration there: for a caller
    /// that first asked with a record read in part, then read it whole for that DC's key.
    pub(crate) async fn ask_at(
        &self,
        record: &Record,
        dc: i32,
        deadline: tokio::time::Instant,
    ) -> Result<Asked> {
        let session = self.network.memory_session(Some(record), false).await?;
        Ok(Asked {
            answer: self.once(&session, dc, deadline).await?,
            dc,
            migrated_from: Some(record.dc_id),
        })
    }

    /// One connection to `dc` with the session's key for it, one request.
    async fn once(
        &self,
        session: &MemorySession,
        dc: i32,
        deadline: tokio::time::Instant,
    ) -> Result<Answer> {
        let fail = |e: grammers_session::storages::MemorySessionError| {
            Error::file(format!("in-memory session: {e}"))
        };
        let option = session.dc_option(dc).map_err(fail)?;
        let Some((ipv4, key)) = option.and_then(|o| Some((o.ipv4, o.auth_key?))) else {
            return Ok(Answer::NoKey(dc));
        };
        self.route
            .fence
            .admit(dc, ipv4)
            .map_err(|r| Error::Usage(r.0))?;
        let request = init_request(self.api_id);
        let reply = tokio::time::timeout_at(deadline, self.invoke(ipv4, key, &request)).await;
        Ok(match reply {
            Err(_) => Answer::TimedOut,
            Ok(Ok(users)) => match users.first().and_then(Identity::from_user) {
                Some((who, hash)) => Answer::User(who, hash),
                None => Answer::Failed("Telegram answered with no user".into()),
            },
            Ok(Err(InvocationError::Rpc(r))) => Answer::Rpc(r),
            Ok(Err(InvocationError::Transport(transport::Error::BadStatus { status: 404 }))) => {
                Answer::UnknownKey
            }
            Ok(Err(e)) => Answer::Failed(super::says(&e)),
        })
    }

    async fn invoke(
        &self,
        ipv4: SocketAddrV4,
        key: [u8; 256],
        request: &InitRequest,
    ) -> std::result::Result<Vec<tl::enums::User>, InvocationError> {
        let address = std::net::SocketAddr::V4(ipv4);
        let addr = match &self.route.proxy {
            Some(p) => ServerAddr::Proxied {
                address,
                proxy: p.url.expose().to_string(),
            },
            None => ServerAddr::Tcp { address },
        };
        let mut sender: Sender<transport::Full, _> =
            connect_with_auth(transport::Full::new(), addr, key)
                .await
                .map_err(InvocationError::Io)?;
        let reply = sender.invoke(request).await;
        let _ = sender.disconnect().await;
        reply
    }
}
