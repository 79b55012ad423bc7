//! Writing sessions: tgsess (grammers) files from imported data, and Telethon / Pyrogram
//! SQLite files for export, with the schemas those libraries create (Telethon 1.45
//! telethon/sessions/sqlite.py version 8; Pyrogram 2.0 pyrogram/storage/sqlite_storage.py
//! version 3). Files are created 0600 and never overwrite anything.

use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};

use grammers_session::Session;
use grammers_session::types::{DcOption, PeerInfo};

use super::strings::Portable;
use super::{AuthKey, Inspection, TEST_DCS, known_dc_address};
use crate::error::{Error, Result};

/// Creates `path` exclusively (0600), failing if anything is there.
pub fn create_new(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::file(format!(
                    "{} already exists; tgsess never overwrites a file on export: choose \
                     another --output",
                    path.display()
                ))
            } else {
                Error::file(format!("cannot create {}: {e}", path.display()))
            }
        })
}

async fn exec(path: &Path, statements: &[&str], params: Vec<libsql::Value>) -> Result<()> {
    let fail = |e: libsql::Error| Error::file(format!("cannot write {}: {e}", path.display()));
    let db = libsql::Builder::new_local(path)
        .build()
        .await
        .map_err(fail)?;
    let conn = db.connect().map_err(fail)?;
    for s in statements {
        if s.contains('?') {
            conn.execute(s, params.clone()).await.map_err(fail)?;
        } else {
            conn.execute(s, ()).await.map_err(fail)?;
        }
    }
    Ok(())
}

/// A Telethon 1.45 SQLite session (version 8).
pub async fn telethon_sqlite(path: &Path, p: &Portable) -> Result<()> {
    let addr = p
        .address
        .ok_or_else(|| Error::usage("a Telethon session needs the DC's address"))?;
    create_new(path)?;
    let r = exec(
        path,
        &[
            "create table version (version integer primary key)",
            "create table sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer, tmp_auth_key blob)",
            "create table entities (id integer primary key, hash integer not null, username text, phone integer, name text, date integer)",
            "create table sent_files (md5_digest blob, file_size integer, type integer, id integer, hash integer, primary key(md5_digest, file_size, type))",
            "create table update_state (id integer primary key, pts integer, qts integer, date integer, seq integer)",
            "insert into version values (8)",
            "insert into sessions values (?, ?, ?, ?, NULL, NULL)",
        ],
        vec![
            libsql::Value::Integer(i64::from(p.dc_id)),
            libsql::Value::Text(addr.ip().to_string()),
            libsql::Value::Integer(i64::from(addr.port())),
            libsql::Value::Blob(p.auth_key.0.to_vec()),
        ],
    )
    .await;
    if r.is_err() {
        let _ = std::fs::remove_file(path); // ours, just created
    }
    r
}

/// A Pyrogram 2.0 SQLite session (version 3).
pub async fn pyrogram_sqlite(path: &Path, p: &Portable) -> Result<()> {
    create_new(path)?;
    let now = crate::state::now();
    let r = exec(
        path,
        &[
            "CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, api_id INTEGER, test_mode INTEGER, auth_key BLOB, date INTEGER NOT NULL, user_id INTEGER, is_bot INTEGER)",
            "CREATE TABLE peers (id INTEGER PRIMARY KEY, access_hash INTEGER, type INTEGER NOT NULL, username TEXT, phone_number TEXT, last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER)))",
            "CREATE TABLE version (number INTEGER PRIMARY KEY)",
            "CREATE INDEX idx_peers_id ON peers (id)",
            "CREATE INDEX idx_peers_username ON peers (username)",
            "CREATE INDEX idx_peers_phone_number ON peers (phone_number)",
            "CREATE TRIGGER trg_peers_last_update_on AFTER UPDATE ON peers BEGIN UPDATE peers SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER) WHERE id = NEW.id; END",
            "INSERT INTO version VALUES (3)",
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
        ],
        vec![
            libsql::Value::Integer(i64::from(p.dc_id)),
            p.api_id
                .map(|a| libsql::Value::Integer(i64::from(a)))
                .unwrap_or(libsql::Value::Null),
            libsql::Value::Integer(i64::from(p.test_mode.unwrap_or(false))),
            libsql::Value::Blob(p.auth_key.0.to_vec()),
            libsql::Value::Integer(now),
            p.user_id
                .map(libsql::Value::Integer)
                .unwrap_or(libsql::Value::Null),
            p.bot
                .map(|b| libsql::Value::Integer(i64::from(b)))
                .unwrap_or(libsql::Value::Null),
        ],
    )
    .await;
    if r.is_err() {
        let _ = std::fs::remove_file(path);
    }
    r
}

/// The portable data of a foreign SQLite file, from its inspection.
pub fn portable_of(i: &Inspection) -> std::result::Result<Portable, String> {
    let key = i
        .auth_key
        .clone()
        .ok_or("it holds no auth key (empty sessions row): nothing to import")?;
    let dc = i.home_dc.ok_or("it records no DC")?;
    if !(1..=5).contains(&dc) {
        return Err(format!("its DC id {dc} is out of range (1 to 5)"));
    }
    Ok(Portable {
        dc_id: dc,
        // Telethon and kurigram store the address; for upstream Pyrogram the inspection
        // derived it from Telegram's DC table, which is what an import uses anyway.
        address: i.dc_address,
        auth_key: key,
        user_id: i.user_id,
        bot: i.bot,
        test_mode: i.test_mode,
        api_id: None,
    })
}

/// The portable data of a tgsess session, for export.
pub async fn portable_of_tgsess(path: &Path) -> Result<Portable> {
    let data = super::sqlite::read_grammers(path)
        .await
        .map_err(|e| Error::file(format!("cannot read session {}: {e}", path.display())))?;
    let (_, v4, _, key) = data
        .dc_options
        .iter()
        .find(|(id, _, _, _)| *id == data.home_dc)
        .ok_or_else(|| {
            Error::NotSignedIn(format!(
                "{} has no login key for its home DC: nothing to export",
                path.display()
            ))
        })?;
    let key = key.clone().ok_or_else(|| {
        Error::NotSignedIn(format!(
            "{} has no login key: nothing to export",
            path.display()
        ))
    })?;
    let address = v4.parse::<SocketAddr>().ok();
    let test_mode = address.map(|a| {
        TEST_DCS
            .iter()
            .any(|(_, ip)| a.ip() == std::net::IpAddr::from(*ip))
    });
    Ok(Portable {
        dc_id: data.home_dc,
        address,
        auth_key: key,
        user_id: data.me.map(|m| m.0),
        bot: data.me.map(|m| m.2),
        test_mode,
        api_id: None,
    })
}

fn v4_of(addr: SocketAddr) -> Option<SocketAddrV4> {
    match addr {
        SocketAddr::V4(a) => Some(a),
        SocketAddr::V6(_) => None,
    }
}

/// Where the imported key's DC is: `--dc-address`, else what the source stores, else the
/// well-known table (production or test DCs).
pub fn import_address(p: &Portable, dc_address: Option<SocketAddr>) -> Result<SocketAddrV4> {
    if let Some(a) = dc_address {
        return v4_of(a).ok_or_else(|| {
            Error::usage(format!(
                "--dc-address {a} is IPv6; give an IPv4 address:port"
            ))
        });
    }
    if let Some(a) = p.address {
        return v4_of(a).ok_or_else(|| {
            Error::usage(format!(
                "the source stores an IPv6 address ({a}); tgsess connects over IPv4: give the \
                 DC's IPv4 address with --dc-address IP:PORT"
            ))
        });
    }
    let test = p.test_mode.unwrap_or(false);
    known_dc_address(p.dc_id, test)
        .and_then(v4_of)
        .ok_or_else(|| {
            Error::usage(format!(
                "no known address for {} DC {}; give it with --dc-address IP:PORT",
                if test { "test" } else { "production" },
                p.dc_id
            ))
        })
}

/// Writes a new tgsess session at `path` from imported data, through a temporary file in
/// the same directory and a rename, so a half-written session never appears. An existing
/// file (only with --force, checked by the caller) is first moved to a backup, never lost.
pub async fn tgsess(path: &Path, p: &Portable, addr: SocketAddrV4) -> Result<Option<PathBuf>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::session_file::ensure_dir(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".import-tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let write = async {
        let s = crate::session_file::open_grammers(&tmp).await?;
        let fail = |e: grammers_session::storages::SqliteSessionError| {
            Error::file(format!("cannot write {}: {e}", tmp.display()))
        };
        s.set_home_dc_id(p.dc_id).await.map_err(fail)?;
        if p.test_mode == Some(true) {
            // Other DCs of the test network, without keys, so nothing goes to production.
            for (id, ip) in TEST_DCS {
                if id != p.dc_id {
                    let a = SocketAddrV4::new(ip.into(), 80);
                    s.set_dc_option(&DcOption {
                        id,
                        ipv4: a,
                        ipv6: SocketAddrV6::new(a.ip().to_ipv6_mapped(), 80, 0, 0),
                        auth_key: None,
                    })
                    .await
                    .map_err(fail)?;
                }
            }
        }
        s.set_dc_option(&DcOption {
            id: p.dc_id,
            ipv4: addr,
            ipv6: SocketAddrV6::new(addr.ip().to_ipv6_mapped(), addr.port(), 0, 0),
            auth_key: Some(p.auth_key.0),
        })
        .await
        .map_err(fail)?;
        if let Some(id) = p.user_id {
            s.cache_peer(PeerInfo::User {
                id,
                auth: None,
                bot: p.bot,
                is_self: Some(true),
            })
            .await
            .map_err(fail)?;
        }
        Ok::<(), Error>(())
    };
    if let Err(e) = write.await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let backup = if path.exists() {
        let mut b = path.as_os_str().to_owned();
        b.push(format!(".bak-{}", crate::state::now()));
        let b = PathBuf::from(b);
        std::fs::rename(path, &b)
            .map_err(|e| Error::file(format!("cannot move {} aside: {e}", path.display())))?;
        Some(b)
    } else {
        None
    };
    std::fs::rename(&tmp, path)
        .map_err(|e| Error::file(format!("cannot write {}: {e}", path.display())))?;
    Ok(backup)
}

/// For messages: the key's id, never the key.
pub fn key_id_hex(k: &AuthKey) -> String {
    format!("{:016x}", k.id())
}
