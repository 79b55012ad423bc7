//! Saving a [`Record`] in a format's exact schema, atomically.
//!
//! Every write goes to a temporary file beside the target (`crate::atomic`): for an existing
//! file of the same format its bytes are copied first and only the session row is changed,
//! so the schema version (Telethon 1.36 cannot read the version 8 that 1.45 writes), the
//! entity cache and any other table stay as the library left them. A new file gets the
//! schema of the current release: Telethon 1.45 (telethon/sessions/sqlite.py, version 8),
//! Pyrogram 2.0 (pyrogram/storage/sqlite_storage.py, version 3, which kurigram, pyrofork
//! and hydrogram read), grammers-session 0.11 (src/storages/sqlite.rs). The temporary file
//! is synced and renamed over the target; on any error it is removed and the target is
//! untouched.

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};

use grammers_session::Session;
use grammers_session::types::{DcOption, PeerAuth, PeerInfo, UpdateState, UpdatesState};
use libsql::Value;

use crate::dc::{TEST_DC_PORT, TEST_DCS};
use crate::{AuthKey, Record, SessionFormat, known_dc_address};
use crate::{Error, Result};
use tgsess_shared::fs as atomic;
use tgsess_shared::text::Shown;

/// Saves `r` at `path` in `format`, replacing what is there (the caller has checked that it
/// may: same format, no other process holding it, backed up where needed).
pub async fn save(path: &Path, format: SessionFormat, r: &Record) -> Result<()> {
    write(path, format, r, true).await
}

/// Replaces what is at `path` with a new file in `format` holding only `r`: nothing of the
/// old file is kept (it was damaged, and backed up by the caller).
pub async fn save_fresh(path: &Path, format: SessionFormat, r: &Record) -> Result<()> {
    write_with(path, format, r, true, false).await
}

/// Creates a new file at `path`; fails when anything is already there.
pub async fn create(path: &Path, format: SessionFormat, r: &Record) -> Result<()> {
    write(path, format, r, false).await
}

async fn write(path: &Path, format: SessionFormat, r: &Record, replace: bool) -> Result<()> {
    write_with(path, format, r, replace, true).await
}

/// `replace`: the target may exist and is replaced; `keep`: an existing file's bytes are
/// the starting point (its schema version, other tables), only its session row changes.
async fn write_with(
    path: &Path,
    format: SessionFormat,
    r: &Record,
    replace: bool,
    keep: bool,
) -> Result<()> {
    check_savable(format, r)?;
    // Through a symlink, the file it points at is replaced, not the link.
    let path = &crate::files::resolve(path)?;
    // The caller holds the session's lock: temp files of earlier writers of it that died
    // mid-write (copies of its key) are removed first.
    atomic::remove_leftovers(path);
    let fail = |e: std::io::Error| Error::file(format!("cannot write {}: {e}", path.shown()));
    let (tmp, mut f) = atomic::temp_beside(path).map_err(fail)?;
    let seeded = replace && keep && path.exists();
    let filled = async {
        if seeded {
            let mut src = atomic::open_regular(path).map_err(fail)?;
            std::io::copy(&mut src, &mut f).map_err(fail)?;
        }
        drop(f);
        fill(&tmp, format, r, !seeded).await?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(fail)
    }
    .await;
    let done = filled.and_then(|()| {
        if replace {
            atomic::commit(&tmp, path).map_err(fail)
        } else {
            // link(2) fails when the target exists: never overwrites, even in a race.
            let r = std::fs::hard_link(&tmp, path).map_err(|e| exists_error(path, e));
            let _ = std::fs::remove_file(&tmp);
            r.and_then(|()| atomic::sync_dir(path).map_err(fail))
        }
    });
    if done.is_err() {
        for p in std::iter::once(tmp.clone()).chain(crate::files::side_files(&tmp)) {
            let _ = std::fs::remove_file(p);
        }
    }
    done
}

fn exists_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        Error::file(format!(
            "{} already exists; tgsess never overwrites a file here: choose another --output",
            path.shown()
        ))
    } else {
        Error::file(format!("cannot create {}: {e}", path.shown()))
    }
}

/// What a format needs before anything is written.
fn check_savable(format: SessionFormat, r: &Record) -> Result<()> {
    if r.auth_key.0.iter().all(|b| *b == 0) {
        return Err(Error::input(
            "refusing to save a session without a login key",
        ));
    }
    match format {
        // kurigram, pyrofork and hydrogram treat a session without user_id/is_bot as empty:
        // they make a new key and ask for a code (pyrogram/client.py `load_session`).
        SessionFormat::Pyrogram if r.user_id.is_none() => Err(Error::input(
            "a Pyrogram session must record the user id, or Pyrogram and its forks discard \
             the key and ask for a new code; nothing was written",
        )),
        SessionFormat::Telethon if r.address.is_none() => Err(Error::input(format!(
            "a Telethon session needs the address of DC {}, and none is known",
            r.dc_id
        ))),
        _ => Ok(()),
    }
}

async fn fill(tmp: &Path, format: SessionFormat, r: &Record, fresh: bool) -> Result<()> {
    match format {
        SessionFormat::Grammers => grammers(tmp, r).await,
        SessionFormat::Telethon => telethon(tmp, r, fresh).await,
        SessionFormat::Pyrogram => pyrogram(tmp, r, fresh).await,
    }
}

struct Db {
    conn: libsql::Connection,
    path: PathBuf,
}

impl Db {
    async fn open(path: &Path) -> Result<Db> {
        let fail = |e: libsql::Error| Error::file(format!("cannot write {}: {e}", path.shown()));
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .map_err(fail)?;
        Ok(Db {
            conn: db.connect().map_err(fail)?,
            path: path.to_path_buf(),
        })
    }

    fn fail(&self, e: libsql::Error) -> Error {
        Error::file(format!("cannot write {}: {e}", self.path.shown()))
    }

    async fn batch(&self, statements: &[&str]) -> Result<()> {
        for s in statements {
            self.conn.execute(s, ()).await.map_err(|e| self.fail(e))?;
        }
        Ok(())
    }

    async fn columns(&self, table: &str) -> Result<Vec<String>> {
        let mut rows = self
            .conn
            .query(&format!("PRAGMA table_info({table})"), ())
            .await
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await.map_err(|e| self.fail(e))? {
            if let Ok(Value::Text(name)) = row.get_value(1) {
                out.push(name.to_ascii_lowercase());
            }
        }
        Ok(out)
    }

    /// Replaces the one row of `sessions` with `values` (by column name), keeping the
    /// columns tgsess does not know (Telethon's takeout_id) when a row was there.
    async fn set_session_row(&self, values: Vec<(&str, Value)>) -> Result<()> {
        let cols = self.columns("sessions").await?;
        let known: Vec<(&str, Value)> = values
            .into_iter()
            .filter(|(c, _)| cols.iter().any(|k| k == c))
            .collect();
        let names: Vec<&str> = known.iter().map(|(c, _)| *c).collect();
        let params: Vec<Value> = known.into_iter().map(|(_, v)| v).collect();
        let mut rows = self
            .conn
            .query("SELECT count(*) FROM sessions", ())
            .await
            .map_err(|e| self.fail(e))?;
        let count = match rows.next().await.map_err(|e| self.fail(e))? {
            Some(row) => row.get::<i64>(0).unwrap_or(0),
            None => 0,
        };
        let sql = if count == 1 {
            let set: Vec<String> = names.iter().map(|n| format!("{n} = ?")).collect();
            format!("UPDATE sessions SET {}", set.join(", "))
        } else {
            if count > 1 {
                self.batch(&["DELETE FROM sessions"]).await?;
            }
            let marks = vec!["?"; names.len()].join(", ");
            format!(
                "INSERT INTO sessions ({}) VALUES ({marks})",
                names.join(", ")
            )
        };
        self.conn
            .execute(&sql, params)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

fn opt_int<T: Into<i64>>(v: Option<T>) -> Value {
    v.map(|v| Value::Integer(v.into())).unwrap_or(Value::Null)
}

/// The schema Telethon 1.45 creates (telethon/sessions/sqlite.py `_create_table` calls),
/// byte for byte as it stored it in tests/fixtures/telethon-v8.session.
const TELETHON_V8_SCHEMA: &[&str] = &[
    r#"CREATE TABLE version (version integer primary key)"#,
    r#"CREATE TABLE sessions (
                    dc_id integer primary key,
                    server_address text,
                    port integer,
                    auth_key blob,
                    takeout_id integer,
                    tmp_auth_key blob
                )"#,
    r#"CREATE TABLE entities (
                    id integer primary key,
                    hash integer not null,
                    username text,
                    phone integer,
                    name text,
                    date integer
                )"#,
    r#"CREATE TABLE sent_files (
                    md5_digest blob,
                    file_size integer,
                    type integer,
                    id integer,
                    hash integer,
                    primary key(md5_digest, file_size, type)
                )"#,
    r#"CREATE TABLE update_state (
                    id integer primary key,
                    pts integer,
                    qts integer,
                    date integer,
                    seq integer
                )"#,
];

/// The schema Pyrogram 2.0 creates (pyrogram/storage/sqlite_storage.py `SCHEMA`), byte for
/// byte as it stored it in tests/fixtures/pyrogram-v3.session.
const PYROGRAM_V3_SCHEMA: &[&str] = &[
    r#"CREATE TABLE sessions
(
    dc_id     INTEGER PRIMARY KEY,
    api_id    INTEGER,
    test_mode INTEGER,
    auth_key  BLOB,
    date      INTEGER NOT NULL,
    user_id   INTEGER,
    is_bot    INTEGER
)"#,
    r#"CREATE TABLE peers
(
    id             INTEGER PRIMARY KEY,
    access_hash    INTEGER,
    type           INTEGER NOT NULL,
    username       TEXT,
    phone_number   TEXT,
    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))
)"#,
    r#"CREATE TABLE version
(
    number INTEGER PRIMARY KEY
)"#,
    r#"CREATE INDEX idx_peers_id ON peers (id)"#,
    r#"CREATE INDEX idx_peers_username ON peers (username)"#,
    r#"CREATE INDEX idx_peers_phone_number ON peers (phone_number)"#,
    r#"CREATE TRIGGER trg_peers_last_update_on
    AFTER UPDATE
    ON peers
BEGIN
    UPDATE peers
    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)
    WHERE id = NEW.id;
END"#,
];

/// Telethon 1.45 (version 8); an existing file keeps its version (7 has no tmp_auth_key).
async fn telethon(tmp: &Path, r: &Record, fresh: bool) -> Result<()> {
    let addr = r.address.expect("checked by check_savable");
    let db = Db::open(tmp).await?;
    if fresh {
        db.batch(TELETHON_V8_SCHEMA).await?;
        db.batch(&["insert into version values (8)"]).await?;
    }
    db.set_session_row(vec![
        ("dc_id", Value::Integer(i64::from(r.dc_id))),
        ("server_address", Value::Text(addr.ip().to_string())),
        ("port", Value::Integer(i64::from(addr.port()))),
        ("auth_key", Value::Blob(r.auth_key.0.to_vec())),
    ])
    .await?;
    if let Some([pts, qts, date, seq]) = r.update_state {
        // Telethon keeps the account's own state under entity id 0 (sqlite.py set_update_state).
        db.conn
            .execute(
                "insert or replace into update_state values (0, ?, ?, ?, ?)",
                vec![
                    Value::Integer(pts.into()),
                    Value::Integer(qts.into()),
                    Value::Integer(date.into()),
                    Value::Integer(seq.into()),
                ],
            )
            .await
            .map_err(|e| db.fail(e))?;
    }
    Ok(())
}

/// Pyrogram 2.0 (version 3); an existing file keeps its version and fork columns (kurigram's
/// server_address and port are filled when present).
async fn pyrogram(tmp: &Path, r: &Record, fresh: bool) -> Result<()> {
    let db = Db::open(tmp).await?;
    if fresh {
        db.batch(PYROGRAM_V3_SCHEMA).await?;
        db.batch(&["INSERT INTO version VALUES (3)"]).await?;
    }
    let address = r
        .address
        .or_else(|| known_dc_address(r.dc_id, r.test_mode.unwrap_or(false)));
    db.set_session_row(vec![
        ("dc_id", Value::Integer(i64::from(r.dc_id))),
        ("api_id", opt_int(r.api_id)),
        (
            "test_mode",
            Value::Integer(i64::from(r.test_mode.unwrap_or(false))),
        ),
        ("auth_key", Value::Blob(r.auth_key.0.to_vec())),
        ("date", Value::Integer(crate::now())),
        ("user_id", opt_int(r.user_id)),
        ("is_bot", Value::Integer(i64::from(r.bot.unwrap_or(false)))),
        (
            "server_address",
            address
                .map(|a| Value::Text(a.ip().to_string()))
                .unwrap_or(Value::Null),
        ),
        ("port", opt_int(address.map(|a| a.port()))),
    ])
    .await
}

fn v6_of(v4: SocketAddrV4) -> SocketAddrV6 {
    SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0)
}

/// grammers-session 0.11 through its own `SqliteSession`, so the schema is exactly its own.
async fn grammers(tmp: &Path, r: &Record) -> Result<()> {
    let addr = home_v4(r)?;
    let s = grammers_session::storages::SqliteSession::open(tmp)
        .await
        .map_err(|e| Error::file(format!("cannot write {}: {e}", tmp.shown())))?;
    let fail = |e: grammers_session::storages::SqliteSessionError| {
        Error::file(format!("cannot write {}: {e}", tmp.shown()))
    };
    load_into(&s, r, addr).await.map_err(fail)?;
    Ok(())
}

/// Puts a record into any grammers session (the SQLite file being written, or the
/// in-memory session a network command runs on): home DC and its key at `home`, the other
/// DCs (the test network's for a test key that lists none, so nothing goes to production),
/// the self user and the update state.
pub async fn load_into<S: Session>(
    s: &S,
    r: &Record,
    home: SocketAddrV4,
) -> std::result::Result<(), S::Error> {
    s.set_home_dc_id(r.dc_id).await?;
    let mut others = r.other_dcs.clone();
    if r.test_mode == Some(true) && others.is_empty() {
        for (id, ip) in TEST_DCS {
            others.push((id, SocketAddrV4::new(ip.into(), TEST_DC_PORT), None));
        }
    }
    for (id, v4, key) in others.into_iter().filter(|(id, ..)| *id != r.dc_id) {
        s.set_dc_option(&DcOption {
            id,
            ipv4: v4,
            ipv6: v6_of(v4),
            auth_key: key.map(|k| k.0),
        })
        .await?;
    }
    s.set_dc_option(&DcOption {
        id: r.dc_id,
        ipv4: home,
        ipv6: match r.address {
            Some(SocketAddr::V6(v6)) => v6,
            _ => v6_of(home),
        },
        auth_key: Some(r.auth_key.0),
    })
    .await?;
    if let Some(id) = r.user_id {
        s.cache_peer(PeerInfo::User {
            id,
            auth: r.access_hash.map(PeerAuth::from_hash),
            bot: r.bot,
            is_self: Some(true),
        })
        .await?;
    }
    if let Some([pts, qts, date, seq]) = r.update_state {
        s.set_update_state(UpdateState::All(UpdatesState {
            pts,
            qts,
            date,
            seq,
            channels: Vec::new(),
        }))
        .await?;
    }
    Ok(())
}

fn v4_of(addr: SocketAddr) -> Option<SocketAddrV4> {
    match addr {
        SocketAddr::V4(a) => Some(a),
        SocketAddr::V6(_) => None,
    }
}

/// The home DC's IPv4 address, which grammers connects to: the record's, else the table's.
fn home_v4(r: &Record) -> Result<SocketAddrV4> {
    import_address(r, None)
}

/// Where an imported key's DC is: `--dc-address`, else what the source stores, else the
/// well-known table (production or test DCs).
pub fn import_address(p: &Record, dc_address: Option<SocketAddr>) -> Result<SocketAddrV4> {
    if let Some(a) = dc_address {
        return v4_of(a).ok_or_else(|| {
            Error::input(format!(
                "--dc-address {a} is IPv6; give an IPv4 address:port"
            ))
        });
    }
    // An IPv6 address is kept as the DC's IPv6 address; tgsess connects over IPv4, to the
    // DC table's address for that DC.
    if let Some(a) = p.address.and_then(v4_of) {
        return Ok(a);
    }
    let test = p.test_mode.unwrap_or(false);
    known_dc_address(p.dc_id, test)
        .and_then(v4_of)
        .ok_or_else(|| {
            Error::input(format!(
                "no known address for {} DC {} (Telegram's test network has DCs 1 to 3)",
                if test { "test" } else { "production" },
                p.dc_id
            ))
        })
}

/// The record of a grammers file, with everything grammers keeps that other formats lack
/// (other DCs and their keys, the self user's access hash).
pub async fn record_of_grammers(path: &Path) -> Result<Option<Record>> {
    let data = crate::sqlite::read_grammers(path)
        .await
        .map_err(|e| Error::file(format!("cannot read session {}: {e}", path.shown())))?;
    let mut home = None;
    let mut other_dcs = Vec::new();
    for o in &data.dc_options {
        if o.id == data.home_dc {
            // An address that is not one is replaced by the DC table's (the inspection says
            // so); a real IPv6 address (an IPv6 source) is the address the source gave.
            let addr = o.ipv4.or_else(|| {
                known_dc_address(o.id, false).and_then(|a| match a {
                    SocketAddr::V4(v4) => Some(v4),
                    SocketAddr::V6(_) => None,
                })
            });
            let given = o
                .ipv6
                .filter(|a| a.ip().to_ipv4_mapped().is_none())
                .map(SocketAddr::V6);
            home = addr.map(|a| (a, given, o.key.clone()));
        } else if let Some(addr) = o.ipv4 {
            other_dcs.push((o.id, addr, o.key.clone()));
        }
    }
    let Some((addr, given, Some(key))) = home else {
        return Ok(None);
    };
    let test_mode = TEST_DCS
        .iter()
        .any(|(_, ip)| *addr.ip() == std::net::Ipv4Addr::from(*ip));
    Ok(Some(Record {
        dc_id: data.home_dc,
        address: Some(given.unwrap_or(SocketAddr::V4(addr))),
        auth_key: key,
        user_id: data.me.map(|m| m.0),
        bot: data.me.map(|m| m.2),
        test_mode: Some(test_mode),
        api_id: None,
        access_hash: data.me.and_then(|m| m.1),
        update_state: None,
        other_dcs,
    }))
}

/// A copy of `path` and its SQLite side files under a name that has never existed
/// (`PATH.bak-TIME`, then `-2`, `-3`…, each created with O_EXCL), before it is replaced.
/// Returns the backup of the main file.
pub fn backup(path: &Path) -> Result<PathBuf> {
    let stamp = crate::now();
    for n in 1..1000 {
        let suffix = if n == 1 {
            format!(".bak-{stamp}")
        } else {
            format!(".bak-{stamp}-{n}")
        };
        let target = atomic::with_suffix(path, &suffix);
        let mut out = match atomic::create_exclusive(&target) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(backup_error(path, e)),
        };
        let copied = copy_into(path, &mut out);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&target);
            return Err(backup_error(path, e));
        }
        for side in crate::files::side_files(path) {
            if side.exists() {
                let dest = atomic::with_suffix(
                    &target,
                    side.to_string_lossy()
                        .strip_prefix(&*path.to_string_lossy())
                        .unwrap_or(""),
                );
                let r = atomic::create_exclusive(&dest).and_then(|mut f| copy_into(&side, &mut f));
                if let Err(e) = r {
                    return Err(backup_error(&side, e));
                }
            }
        }
        return Ok(target);
    }
    Err(Error::file(format!(
        "cannot find a free backup name for {}",
        path.shown()
    )))
}

/// Copies the regular file `src` into `out`, synced.
pub(crate) fn copy_into(src: &Path, out: &mut std::fs::File) -> std::io::Result<()> {
    std::io::copy(&mut atomic::open_regular(src)?, out)?;
    out.sync_all()
}

fn backup_error(path: &Path, e: std::io::Error) -> Error {
    Error::file(format!(
        "cannot back up {} before replacing it ({e}); nothing was changed",
        path.shown()
    ))
}

/// For messages: the key's id, never the key.
pub fn key_id_hex(k: &AuthKey) -> String {
    format!("{:016x}", k.id())
}
