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
