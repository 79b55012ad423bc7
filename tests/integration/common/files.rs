//! Files a test starts from and checks: sessions of every format, the fixtures, snapshots
//! and hashes that prove a command left a directory alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use grammers_session::Session;
use grammers_session::storages::SqliteSession;
use grammers_session::types::{DcOption, PeerAuth, PeerInfo};
use sha2::{Digest, Sha256};

/// tests/fixtures, made by the real libraries (scripts/fixtures.sh).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A tgsess (grammers) session: home DC 2 at 127.0.0.1:1 with a key, optionally signed in.
pub fn grammers_session(path: &Path, user: Option<(i64, bool)>) {
    rt().block_on(async {
        let s = SqliteSession::open(path).await.unwrap();
        s.set_home_dc_id(2).await.unwrap();
        s.set_dc_option(&DcOption {
            id: 2,
            ipv4: "127.0.0.1:1".parse().unwrap(),
            ipv6: "[::ffff:127.0.0.1]:1".parse().unwrap(),
            auth_key: Some([7u8; 256]),
        })
        .await
        .unwrap();
        if let Some((id, bot)) = user {
            s.cache_peer(PeerInfo::User {
                id,
                auth: Some(PeerAuth::from_hash(42)),
                bot: Some(bot),
                is_self: Some(true),
            })
            .await
            .unwrap();
        }
    });
}

async fn exec(path: &Path, statements: &[&str], key: &[u8]) {
    let db = libsql::Builder::new_local(path).build().await.unwrap();
    let conn = db.connect().unwrap();
    for s in statements {
        if s.contains('?') {
            conn.execute(s, libsql::params![key.to_vec()])
                .await
                .unwrap();
        } else {
            conn.execute(s, ()).await.unwrap();
        }
    }
}

/// A Telethon 1.45 (version 8) SQLite session, schema as telethon/sessions/sqlite.py makes it.
pub fn telethon_session(path: &Path) {
    rt().block_on(exec(
        path,
        &[
            "create table version (version integer primary key)",
            "insert into version values (8)",
            "create table sessions (dc_id integer primary key, server_address text, port integer, auth_key blob, takeout_id integer, tmp_auth_key blob)",
            "insert into sessions values (2, '127.0.0.1', 443, ?, null, null)",
            "create table entities (id integer primary key, hash integer not null, username text, phone integer, name text, date integer)",
            "create table sent_files (md5_digest blob, file_size integer, type integer, id integer, hash integer, primary key(md5_digest, file_size, type))",
            "create table update_state (id integer primary key, pts integer, qts integer, date integer, seq integer)",
        ],
        &[9u8; 256],
    ));
}

/// A Pyrogram 2.0 (version 3) SQLite session, signed in as user 777.
pub fn pyrogram_session(path: &Path) {
    rt().block_on(exec(
        path,
        &[
            "CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, api_id INTEGER, test_mode INTEGER, auth_key BLOB, date INTEGER NOT NULL, user_id INTEGER, is_bot INTEGER)",
            "INSERT INTO sessions VALUES (2, 1, 0, ?, 0, 777, 0)",
            "CREATE TABLE peers (id INTEGER PRIMARY KEY, access_hash INTEGER, type INTEGER NOT NULL, username TEXT, phone_number TEXT, last_update_on INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE version (number INTEGER PRIMARY KEY)",
            "INSERT INTO version VALUES (3)",
        ],
        &[8u8; 256],
    ));
}

/// Everything in a directory, with contents, to prove a command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let mode = std::fs::metadata(&p).unwrap().mode();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes, mode)
        })
        .collect();
    v.sort();
    v
}

/// Every regular file under `root` (symlinks not followed) and its SHA-256.
pub fn hashes(root: &Path) -> BTreeMap<PathBuf, [u8; 32]> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.insert(p, Sha256::digest(&bytes).into());
            }
        }
    }
    out
}

/// Files that existed before and are gone or changed, ignoring paths under `allowed`.
pub fn changed(
    before: &BTreeMap<PathBuf, [u8; 32]>,
    after: &BTreeMap<PathBuf, [u8; 32]>,
    allowed: &[&Path],
) -> Vec<PathBuf> {
    before
        .iter()
        .filter(|(p, _)| !allowed.iter().any(|a| p.starts_with(a)))
        .filter(|(p, h)| after.get(*p) != Some(h))
        .map(|(p, _)| p.clone())
        .collect()
}
