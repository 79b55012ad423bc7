//! tgsess's connection to Telegram (or the sandbox): grammers' sender pool with settings a
//! careful login needs, behind the one [`fence`] every connection's address passes.
//!
//! - [`Network`]: what a command connects through (its [`Route`], a sandbox, the test DCs);
//! - [`connection`]: a running grammers client on a route;
//! - [`fence`]: the one place every address passes; under a sandbox config, only the
//!   sandbox is admitted;
//! - [`memory`]: the in-memory session a command runs on, built from what the store read;
//! - [`sandbox`]: a sandbox config's side of the sandbox;
//! - [`proxy`]: a SOCKS5 proxy and the connection parameters.

pub(crate) mod ask;
pub(crate) mod connection;
pub(crate) mod fence;
pub(crate) mod memory;
pub(crate) mod proxy;
pub(crate) mod sandbox;

use std::path::PathBuf;
use std::sync::Arc;

use grammers_session::storages::MemorySession;
use tgsess_store::Record;

pub(crate) use connection::says;
pub use connection::{Connection, Route};
pub(crate) use fence::Fence;
pub(crate) use memory::record_of_memory;
pub(crate) use proxy::Proxy;
pub(crate) use sandbox::{sandbox_address, sandbox_fence};

use crate::error::{Error, Result};

/// What a command connects through: its route (proxy and fence), the sandbox a sandbox
/// config talks to, and whether the session belongs to Telegram's test network.
#[derive(Clone, Debug)]
pub struct Network {
    pub(crate) proxy: Option<Proxy>,
    pub(crate) sandbox_dir: Option<PathBuf>,
    pub(crate) test_dc: bool,
    /// Where `test_dc` came from, for messages.
    pub(crate) test_dc_from: String,
}

impl Network {
    /// The in-memory session for `record` (`None`: a new session, no key yet; `register`:
    /// give DCs without a key a sandbox-registered one). See [`memory::memory_session`].
    pub(crate) async fn memory_session(
        &self,
        record: Option<&Record>,
        register: bool,
    ) -> Result<Arc<MemorySession>> {
        memory::memory_session(self, record, register).await
    }

    /// The route connections take: the proxy, inside the fence. Under a sandbox config this
    /// reads where the sandbox listens (its `sandbox.json`), so the fence knows its one
    /// address.
    pub fn route(&self) -> Result<Route> {
        let fence = match &self.sandbox_dir {
            Some(dir) => sandbox_fence(dir)?,
            None => Fence::Open,
        };
        Ok(Route {
            proxy: self.proxy.clone(),
            fence,
        })
    }

    /// A client on `session` through this network's route.
    pub(crate) fn connect(&self, session: Arc<MemorySession>, api_id: i32) -> Result<Connection> {
        Connection::new(session, api_id, &self.route()?)
    }

    /// A key for the other network is refused before any request: a production key with
    /// `test_dc`, or a test key without it.
    pub(crate) fn check_test_mode(&self, r: &Record) -> Result<()> {
        let test = self.test_dc;
        match r.test_mode {
            Some(t) if t != test => Err(Error::usage(format!(
                "the session holds a key for Telegram's {} DCs, but test_dc is {} ({}); keys \
                 do not cross between the test and production networks: {}",
                if t { "test" } else { "production" },
                test,
                self.test_dc_from,
                if t {
                    "set test_dc = true (or --test-dc) to use it"
                } else {
                    "remove test_dc to use it, or use another session for the test DCs"
                }
            ))),
            _ => Ok(()),
        }
    }

    /// Fills in the user id (and bot flag, access hash) of a record whose source did not keep
    /// it, by asking Telegram `users.getUsers([inputUserSelf])`. A Pyrogram session needs it:
    /// without `user_id` Pyrogram and its forks discard the key and ask for a new code. When
    /// Telegram cannot be asked, this refuses rather than write a session the library would
    /// throw away.
    pub(crate) async fn with_user_id(&self, mut r: Record, api_id: i32) -> Result<Record> {
        if r.user_id.is_some() {
            return Ok(r);
        }
        let refuse = |why: String| {
            Error::NoVerdict(format!(
                "the session does not record its user id, which a Pyrogram session must hold, and \
             asking Telegram failed ({why}); nothing was written"
            ))
        };
        // A fence refusal stays exit 2; anything else that stops the question is why the
        // user id could not be had.
        let keep_usage = |e: Error| match e {
            Error::Usage(_) => e,
            other => refuse(other.to_string()),
        };
        let asker = ask::Asker::new(self, api_id).map_err(keep_usage)?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let asked = asker.ask(&r, deadline).await.map_err(keep_usage)?;
        let not_signed_in = |name: &str| {
            Error::NotSignedIn(format!(
                "Telegram says the key is not signed in ({name}); there is no user to record, \
                 and nothing was written"
            ))
        };
        match asked.answer {
            ask::Answer::User(who, hash) => {
                r.user_id = Some(who.id);
                r.bot = Some(who.bot);
                r.access_hash = hash;
                Ok(r)
            }
            ask::Answer::Rpc(e) if e.code == 401 => Err(not_signed_in(&e.name)),
            ask::Answer::Rpc(e) => Err(refuse(e.to_string())),
            ask::Answer::UnknownKey => Err(not_signed_in("the DC does not know the key: -404")),
            ask::Answer::Failed(why) => Err(refuse(why)),
            ask::Answer::TimedOut => Err(refuse("no answer within 10 s".into())),
            ask::Answer::NoKey(dc) => Err(refuse(format!(
                "the account lives on DC {dc}, where the session holds no key"
            ))),
        }
    }
}
