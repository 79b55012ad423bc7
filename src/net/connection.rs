//! A running grammers client: its sender pool on a [`Route`], every address through the
//! route's fence.

use std::sync::Arc;

use grammers_client::Client;
use grammers_mtsender::{SenderPool, SenderPoolHandle};
use grammers_session::Session;
use grammers_session::updates::UpdatesLike;

use super::fence::{self, Fence};
use super::proxy::{Proxy, connection_params};
use crate::error::{Error, Result};

/// How long closing the connections may take before they are dropped.
pub(crate) const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// A running client: the grammers `Client` plus the task that drives its connections.
pub struct Connection {
    pub client: Client,
    handle: SenderPoolHandle,
    runner: tokio::task::JoinHandle<()>,
    /// Updates Telegram pushes (kept only by [`Connection::with_updates`]).
    pub(crate) updates: Option<tokio::sync::mpsc::Receiver<UpdatesLike>>,
}

/// How a command reaches Telegram: through a proxy or not, and inside which [`Fence`].
#[derive(Clone, Debug)]
pub struct Route {
    pub(crate) proxy: Option<Proxy>,
    pub(crate) fence: Fence,
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

/// What `Display` of grammers' `InvocationError` leaves out: the session's own error (a
/// fence refusal among them) behind "session error".
pub(crate) fn says(e: &grammers_mtsender::InvocationError) -> String {
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
    pub(crate) fn with_updates<S>(session: Arc<S>, api_id: i32, route: &Route) -> Result<Self>
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
