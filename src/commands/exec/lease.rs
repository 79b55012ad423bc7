//! exec's side of the lease ([`crate::lease`]): taken before the pre-flight (whose request
//! on the key would otherwise run beside another host's bot), confirmed while PROGRAM runs,
//! released the instant PROGRAM has ended.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::env::ProcessEnv;
use crate::error::{Error, Result};
use crate::lease::{self, Me};
use crate::output;
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::Record;

/// A lease this process holds.
pub(super) struct Held {
    client: Client,
    key: i64,
    me: Me,
    grace: Duration,
}

/// Takes the lease on the session's key when one is configured: at once, or within
/// `wait`. Another holder is exit 4 naming it; an unreachable database is exit 3. Nothing
/// starts without the lease.
pub(super) async fn take(
    settings: &Settings,
    target: &Target,
    record: Option<&Record>,
    wait: Duration,
    grace: Duration,
) -> Result<Option<Held>> {
    let Some(url) = &settings.lease else {
        return Ok(None);
    };
    let Some(record) = record else {
        return Err(Error::Guard(format!(
            "not started: a lease is configured ({}), but the session holds no key to take \
             it on; log in first: `{}`",
            url.source,
            settings.command("login")
        )));
    };
    let key_id = record.auth_key.id();
    let key = lease::lock_key(key_id);
    if lease::over_unix_socket(&url.value, &ProcessEnv) {
        output::warn(
            "the lease connects over a Unix socket, where TCP keepalives do nothing: the \
             server notices a vanished tgsess only when it next writes to it; connect over \
             TCP so that a silent holder's lease ends after 3 x --grace",
        );
    }
    let mut client = lease::connect(&url.value, &ProcessEnv, grace)
        .await
        .map_err(|e| match e {
            Error::NoVerdict(m) => Error::NoVerdict(format!("{m}; the program was not started")),
            other => other,
        })?;
    lease::ensure_table(&mut client).await?;
    if !lease::try_take(&client, key).await? {
        let holder = holder_words(&client, key).await;
        if wait.is_zero() {
            return Err(refused(settings, key_id, &holder, &url.value.shown));
        }
        output::warn(format!(
            "waiting up to {} s (--wait) for the lease on key {key_id:016x}, held by {holder}",
            wait.as_secs()
        ));
        if !lease::wait_for(&client, key, wait).await? {
            let holder = holder_words(&client, key).await;
            return Err(refused(settings, key_id, &holder, &url.value.shown));
        }
    }
    let me = Me::new(&target.path);
    lease::record(&client, key, &me).await?;
    Ok(Some(Held {
        client,
        key,
        me,
        grace,
    }))
}

async fn holder_words(client: &Client, key: i64) -> String {
    match lease::holders(client, Some(key)).await {
        Ok(h) => h
            .into_iter()
            .find(|h| h.held)
            .map(|h| h.to_string())
            .unwrap_or_else(|| "a process that recorded no holder row".into()),
        Err(e) => format!("a holder tgsess could not read ({e})"),
    }
}

fn refused(settings: &Settings, key_id: u64, holder: &str, url: &str) -> Error {
    Error::SessionFile(format!(
        "the lease on this session's key ({key_id:016x}) is held by {holder}, at {}: the \
         same key must not run in two places (Telegram destroys it: AUTH_KEY_DUPLICATED). \
         Stop that one first, or wait for it: `{}`",
        output::escape(url),
        settings.command("exec --wait 60 -- PROGRAM")
    ))
}

impl Held {
    /// Confirms the lease every grace/4 and resolves, with the reason, when it is lost:
    /// the connection ended (a PostgreSQL restart, a terminated backend), or no
    /// confirmation came back for a whole grace.
    pub(super) async fn lost(&self) -> String {
        let beat = (self.grace / 4).max(Duration::from_millis(250));
        let mut confirmed = Instant::now();
        loop {
            tokio::time::sleep(beat).await;
            let left = self.grace.saturating_sub(confirmed.elapsed());
            let asked = lease::confirm(&self.client, self.key, &self.me);
            match tokio::time::timeout(left.max(Duration::from_millis(1)), asked).await {
                Ok(Ok(())) => confirmed = Instant::now(),
                Ok(Err(e)) if self.client.is_closed() => {
                    return format!("the lease's connection to PostgreSQL ended ({e})");
                }
                _ => {}
            }
            if confirmed.elapsed() >= self.grace {
                return format!(
                    "PostgreSQL did not confirm the lease for {} s (--grace)",
                    self.grace.as_secs()
                );
            }
        }
    }

    /// Lets go of the lease: a waiting host starts at once. At most 2 s; past that, the
    /// connection closing with this process frees it anyway.
    pub(super) async fn release(self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            lease::release(&self.client, self.key, &self.me),
        )
        .await;
    }
}
