//! The lease: one key runs in one place, across hosts, through a PostgreSQL session-level
//! advisory lock on the session's auth key id (docs/lease.md has the facts and sources).
//!
//! - The lock's key is the auth key id: MTProto's 64-bit id of the key is exactly the
//!   `bigint` key space of `pg_advisory_lock`. Two copies of one session (one key) contend;
//!   different keys never block each other.
//! - A session-level advisory lock lasts until it is released or the session ends, so it
//!   goes with the connection: a tgsess that dies (kill -9, out of memory) frees it at once,
//!   and so does a PostgreSQL restart (every session ends). The lease connection is its own.
//! - Who holds what is kept in the table `tgsess_leases` (created if missing): key id, host,
//!   pid, session path, since, last confirmed. `pg_locks` says whether a row's lock is held.
//!
//! The timing (the README's "Losing the lease" repeats it): tgsess confirms its lease every
//! grace/4 by updating its row. With no confirmation for a whole grace G (default 10 s) it
//! stops PROGRAM: SIGTERM, then SIGKILL 5 s later, so PROGRAM runs at most G + 5 s after
//! the last confirmation. PostgreSQL must keep the lock longer than that, so the lease
//! connection sets the server's keepalive for its own session to idle G, interval G, count 2:
//! a client that went silent is dropped no sooner than G + 2G = 3G (30 s by default) after
//! its last packet, and 3G > G + 5 s for every G of 3 s and more (the floor of `--grace`).

mod connect;
pub(crate) mod pgpass;

use std::time::Duration;

use serde::Serialize;
use tokio_postgres::Client;

use crate::error::{Error, Result};

pub(crate) use connect::{Url, connect, over_unix_socket, parse};

/// The smallest grace: below it, the SIGKILL 5 s after SIGTERM could come after the server
/// released the lock (3G must exceed G + 5 s).
pub(crate) const MIN_GRACE: u64 = 3;

/// The table of holders.
const TABLE: &str = "CREATE TABLE IF NOT EXISTS tgsess_leases (
    key_id bigint PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    session text NOT NULL,
    since timestamptz NOT NULL DEFAULT now(),
    confirmed timestamptz NOT NULL DEFAULT now()
)";

/// A transaction-level lock that serialises the table's creation between hosts starting
/// at once (CREATE TABLE IF NOT EXISTS alone can fail on a concurrent create).
const CREATE_LOCK: i64 = 0x7467_7365_7373; // "tgsess"

/// Who holds (or last held) a lease.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Holder {
    /// The auth key id, as tgsess shows it (16 hex digits).
    pub(crate) key_id: String,
    pub(crate) host: String,
    pub(crate) pid: i32,
    pub(crate) session: String,
    /// RFC 3339.
    pub(crate) since: String,
    pub(crate) confirmed: String,
    /// Whether the lock is held now (`pg_locks`); a row without it is a holder that ended.
    pub(crate) held: bool,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} ({}) since {}, last confirmed {}",
            self.pid,
            crate::output::escape(&self.host),
            crate::output::escape(&self.session),
            self.since,
            self.confirmed
        )
    }
}

/// The lock key of an auth key id: its 64 bits as PostgreSQL's bigint.
pub(crate) fn lock_key(key_id: u64) -> i64 {
    key_id as i64
}

/// This process, as the table records it.
pub(crate) struct Me {
    pub(crate) host: String,
    pub(crate) pid: i32,
    pub(crate) session: String,
}

impl Me {
    pub(crate) fn new(session: &std::path::Path) -> Me {
        Me {
            host: hostname(),
            pid: std::process::id() as i32,
            session: session.display().to_string(),
        }
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match r {
        0 => String::from_utf8_lossy(&buf[..end]).into_owned(),
        _ => "unknown host".into(),
    }
}

/// Creates the holders' table if it is missing.
pub(crate) async fn ensure_table(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await.map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CREATE_LOCK])
        .await
        .map_err(db)?;
    tx.batch_execute(TABLE).await.map_err(db)?;
    tx.commit().await.map_err(db)
}

/// Takes the lock if it is free; `Ok(false)`: another holds it.
pub(crate) async fn try_take(client: &Client, key: i64) -> Result<bool> {
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .map_err(db)?;
    Ok(row.get(0))
}

/// Waits for the lock at most `wait`, in the server: granted the instant the holder's
/// session lets go. `Ok(false)`: the wait ran out.
pub(crate) async fn wait_for(client: &Client, key: i64, wait: Duration) -> Result<bool> {
    let ms = wait.as_millis().min(i32::MAX as u128);
    client
        .batch_execute(&format!("SET lock_timeout = {ms}"))
        .await
        .map_err(db)?;
    let got = client.execute("SELECT pg_advisory_lock($1)", &[&key]).await;
    client
        .batch_execute("SET lock_timeout = 0")
        .await
        .map_err(db)?;
    match got {
        Ok(_) => Ok(true),
        // 55P03 lock_not_available: lock_timeout ran out.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            Ok(false)
        }
        Err(e) => Err(db(e)),
    }
}

/// Records this process as the holder of `key`.
pub(crate) async fn record(client: &Client, key: i64, me: &Me) -> Result<()> {
    client
        .execute(
            "INSERT INTO tgsess_leases (key_id, host, pid, session) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_id) DO UPDATE SET host = $2, pid = $3, session = $4,
             since = now(), confirmed = now()",
            &[&key, &me.host, &me.pid, &me.session],
        )
        .await
        .map(|_| ())
        .map_err(db)
}

/// Confirms the lease: one round trip that also proves the session (and its lock) lives.
pub(crate) async fn confirm(client: &Client, key: i64, me: &Me) -> Result<()> {
    client
        .execute(
            "UPDATE tgsess_leases SET confirmed = now() WHERE key_id = $1 AND host = $2 \
             AND pid = $3",
            &[&key, &me.host, &me.pid],
        )
        .await
        .map(|_| ())
        .map_err(db)
}

/// Lets go: the lock first (a waiting host starts at once), then this holder's row.
pub(crate) async fn release(client: &Client, key: i64, me: &Me) {
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .await;
    let _ = client
        .execute(
            "DELETE FROM tgsess_leases WHERE key_id = $1 AND host = $2 AND pid = $3",
            &[&key, &me.host, &me.pid],
        )
        .await;
}

/// Every recorded holder, with whether its lock is held now; `key` narrows to one key.
pub(crate) async fn holders(client: &Client, key: Option<i64>) -> Result<Vec<Holder>> {
    let rows = client
        .query(
            "SELECT l.key_id, l.host, l.pid, l.session,
                    to_char(l.since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    to_char(l.confirmed AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    EXISTS (SELECT 1 FROM pg_locks k
                            WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 1
                              AND k.database = (SELECT oid FROM pg_database
                                                WHERE datname = current_database())
                              AND ((k.classid::bigint << 32) | k.objid::bigint) = l.key_id)
             FROM tgsess_leases l
             WHERE $1::bigint IS NULL OR l.key_id = $1
             ORDER BY l.since",
            &[&key],
        )
        .await
        .map_err(db)?;
    Ok(rows
        .iter()
        .map(|r| Holder {
            key_id: format!("{:016x}", r.get::<_, i64>(0) as u64),
            host: r.get(1),
            pid: r.get(2),
            session: r.get(3),
            since: r.get(4),
            confirmed: r.get(5),
            held: r.get(6),
        })
        .collect())
}

/// Who holds the lease on the key `key_id` (16 hex digits) now, among `holders`.
pub(crate) fn holding<'a>(holders: &'a [Holder], key_id: &str) -> Option<&'a Holder> {
    holders.iter().find(|h| h.held && h.key_id == key_id)
}

/// Every recorded holder in the lease database, for `leases`, `status` and `list`: read
/// only (a missing table is no holder; nothing is created).
pub(crate) async fn survey(url: &Url, env: &dyn crate::env::Env) -> Result<Vec<Holder>> {
    // A report must not hang on a database that does not answer: 5 s for the connection.
    let connecting = connect(url, env, Duration::from_secs(10));
    let client = tokio::time::timeout(Duration::from_secs(5), connecting)
        .await
        .map_err(|_| {
            Error::NoVerdict(format!(
                "the lease database {} did not answer within 5 s",
                crate::output::escape(&url.shown)
            ))
        })??;
    let row = client
        .query_one("SELECT to_regclass('tgsess_leases') IS NOT NULL", &[])
        .await
        .map_err(db)?;
    if !row.get::<_, bool>(0) {
        return Ok(Vec::new());
    }
    holders(&client, None).await
}

/// A database error, as words (never the URL's password: there is none in it).
pub(crate) fn db(e: tokio_postgres::Error) -> Error {
    let mut detail = e
        .as_db_error()
        .map(|d| format!("{}: {}", d.code().code(), d.message()))
        .unwrap_or_else(|| e.to_string());
    // The cause behind "error performing TLS handshake" and the like.
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        detail.push_str(&format!(": {c}"));
        cause = c.source();
    }
    Error::NoVerdict(format!("PostgreSQL (lease): {detail}"))
}
