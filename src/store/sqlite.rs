//! Read-only inspection of SQLite session files (tgsess/grammers, Telethon, Pyrogram).
//!
//! Uses libsql, the SQLite that grammers-session already links, opened with
//! `SQLITE_OPEN_READ_ONLY`: reading never creates, migrates or modifies a file.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use libsql::{OpenFlags, Value};

use super::{AuthKey, Format, Inspection, SQLITE_MAGIC, known_dc_address};

/// grammers-session 0.11 `PeerSubtype::UserSelf` / `UserBot` bits (src/storages/sqlite.rs).
const SUBTYPE_SELF: i64 = 1;
const SUBTYPE_BOT: i64 = 2;
/// grammers' home DC when `dc_home` is empty (grammers-session src/dc_options.rs DEFAULT_DC).
const GRAMMERS_DEFAULT_DC: i32 = 2;

/// Identifies and reads a session file. The caller has checked that the path exists and is a
/// regular file. Errors are not returned: whatever cannot be read is "not a session" with
/// the reason in `detail`.
pub async fn inspect(path: &Path) -> Inspection {
    let head = match read_head(path) {
        Ok(h) => h,
        Err(e) => return Inspection::not_a_session(format!("a file that cannot be read ({e})")),
    };
    if head.is_empty() {
        return Inspection::not_a_session("an empty file");
    }
    if head.len() < SQLITE_MAGIC.len() || head[..16] != SQLITE_MAGIC[..] {
        return Inspection::not_a_session("not an SQLite database");
    }
    match inspect_sqlite(path).await {
        Ok(i) => i,
        // Read-only, SQLite cannot roll back a hot journal: that is an unfinished write,
        // not damage.
        Err(_) if let Some(side) = super::files::unfinished_write(path) => {
            Inspection::not_a_session(format!(
                "an SQLite database with an unfinished write ({} is present: the program \
                 writing it is still at it, or stopped mid-write)",
                side.display()
            ))
        }
        Err(_) if let Some(side) = odd_side_file(path) => Inspection::not_a_session(format!(
            "an SQLite database whose side file {} is not a regular file; SQLite cannot \
             open it until that is moved away",
            side.display()
        )),
        Err(e) => Inspection::not_a_session(format!("a damaged SQLite database ({e})")),
    }
}

/// A `-journal`, `-wal` or `-shm` beside `path` that exists but is not a regular file.
fn odd_side_file(path: &Path) -> Option<std::path::PathBuf> {
    super::files::side_files(path)
        .into_iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_file()))
}

/// Bytes 18 and 19 of the SQLite header are 2 in WAL mode (sqlite.org/fileformat.html).
fn is_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && (head[18] == 2 || head[19] == 2)
}

/// The database and its `-wal` copied into a private temporary directory.
fn private_copy(path: &Path) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("tgsess-read-").tempdir()?;
    std::fs::copy(path, dir.path().join("db"))?;
    let wal = crate::atomic::with_suffix(path, "-wal");
    if wal.is_file() {
        std::fs::copy(&wal, dir.path().join("db-wal"))?;
    }
    Ok(dir)
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(16);
    std::fs::File::open(path)?.take(16).read_to_end(&mut buf)?;
    Ok(buf)
}

type Row = HashMap<String, Value>;

/// A read-only connection. A database in WAL mode is read from a private copy (with its
/// `-wal`), because SQLite creates `-wal` and `-shm` files beside a WAL database even for a
/// read-only connection (sqlite.org/wal.html, "Read-Only Databases"): reading must create
/// nothing beside a session.
struct Db {
    conn: libsql::Connection,
    /// Declared after `conn`, so the copy outlives the connection that reads it.
    _copy: Option<tempfile::TempDir>,
}

impl Db {
    async fn open(path: &Path) -> libsql::Result<Db> {
        let copy = if is_wal(path) {
            Some(private_copy(path).map_err(|e| libsql::Error::Misuse(e.to_string()))?)
        } else {
            None
        };
        let target = match &copy {
            Some(d) => d.path().join("db"),
            None => path.to_path_buf(),
        };
        let db = libsql::Builder::new_local(&target)
            .flags(OpenFlags::SQLITE_OPEN_READ_ONLY)
            .build()
            .await?;
        Ok(Db {
            conn: db.connect()?,
            _copy: copy,
        })
    }

    async fn rows(&self, sql: &str) -> libsql::Result<Vec<Row>> {
        let mut rows = self.conn.query(sql, ()).await?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await? {
            let mut map = HashMap::new();
            for i in 0..row.column_count() {
                let name = row.column_name(i).unwrap_or_default().to_ascii_lowercase();
                map.insert(name, row.get_value(i)?);
            }
            out.push(map);
        }
        Ok(out)
    }

    async fn tables(&self) -> libsql::Result<HashSet<String>> {
        Ok(self
            .rows("SELECT name FROM sqlite_master WHERE type = 'table'")
            .await?
            .into_iter()
            .filter_map(|r| text(&r, "name"))
            .map(|n| n.to_ascii_lowercase())
            .collect())
    }

    async fn columns(&self, table: &str) -> libsql::Result<HashSet<String>> {
        Ok(self
            .rows(&format!("PRAGMA table_info({table})"))
            .await?
            .into_iter()
            .filter_map(|r| text(&r, "name"))
            .map(|n| n.to_ascii_lowercase())
            .collect())
    }
}

fn int(r: &Row, k: &str) -> Option<i64> {
    match r.get(k)? {
        Value::Integer(i) => Some(*i),
        _ => None,
    }
}

fn text(r: &Row, k: &str) -> Option<String> {
    match r.get(k)? {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// An auth key column: 256 bytes is a key, empty or NULL is none, anything else is damage.
/// Any other type (TEXT, a number) is damage too, reported before anything is written:
/// grammers would panic on it.
fn key(r: &Row, k: &str) -> Result<Option<AuthKey>, String> {
    match r.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Blob(b)) if b.is_empty() => Ok(None),
        Some(Value::Blob(b)) => AuthKey::from_slice(b)
            .map(Some)
            .ok_or_else(|| format!("{k} is {} bytes, not 256", b.len())),
        Some(_) => Err(format!("{k} is not a BLOB")),
    }
}

/// An integer column that must be an integer when present.
fn strict_int(r: &Row, k: &str) -> Result<Option<i64>, String> {
    match r.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Integer(i)) => Ok(Some(*i)),
        Some(_) => Err(format!("{k} is not an INTEGER")),
    }
}

async fn inspect_sqlite(path: &Path) -> Result<Inspection, String> {
    let db = Db::open(path).await.map_err(|e| e.to_string())?;
    let tables = db.tables().await.map_err(|e| e.to_string())?;
    let has = |t: &str| tables.contains(t);
    if has("dc_option") && has("dc_home") && has("peer_info") {
        return grammers(&db).await;
    }
    if has("sessions") {
        let cols = db.columns("sessions").await.map_err(|e| e.to_string())?;
        if has("version") && has("entities") && cols.contains("server_address") {
            return telethon(&db).await;
        }
        if has("peers") && cols.contains("dc_id") && cols.contains("auth_key") {
            return pyrogram(&db, &cols).await;
        }
    }
    if tables.is_empty() {
        return Ok(Inspection::not_a_session(
            "an SQLite database with no tables",
        ));
    }
    let mut names: Vec<_> = tables.into_iter().collect();
    names.sort();
    Ok(Inspection::not_a_session(format!(
        "an SQLite database that is not a session (tables: {})",
        names.join(", ")
    )))
}

async fn grammers(db: &Db) -> Result<Inspection, String> {
    let data = grammers_data(db).await?;
    let home = data.home_dc;
    let home_row = data.dc_options.iter().find(|(id, ..)| *id == home);
    let (address, auth_key) = match home_row {
        Some((_, v4, _, k)) => (v4.parse::<SocketAddr>().ok(), k.clone()),
        None => (known_dc_address(home, false), None),
    };
    Ok(Inspection {
        format: Format::Tgsess,
        detail: "grammers SqliteSession".into(),
        home_dc: Some(home),
        dc_address: address,
        // A key without a self user is unknown, not "no": tgsess writes a grammers file
        // only once it is signed in, so such a key was imported (Telethon records no user)
        // or written by another program; only Telegram can tell.
        signed_in: match (&auth_key, data.me) {
            (Some(_), None) => None,
            (key, me) => Some(key.is_some() && me.is_some()),
        },
        auth_key,
        user_id: data.me.map(|m| m.0),
        bot: data.me.map(|m| m.2),
        test_mode: None,
        api_id: None,
    })
}

async fn telethon(db: &Db) -> Result<Inspection, String> {
    let e = |e: libsql::Error| e.to_string();
    let version = db
        .rows("SELECT version FROM version LIMIT 1")
        .await
        .map_err(e)?
        .first()
        .and_then(|r| int(r, "version"));
    let rows = db.rows("SELECT * FROM sessions").await.map_err(e)?;
    let row = rows
        .first()
        .ok_or("Telethon session with an empty sessions table")?;
    let dc = int(row, "dc_id").map(|d| d as i32);
    let raw_address = text(row, "server_address");
    let ip = raw_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok());
    let port = int(row, "port").and_then(|p| u16::try_from(p).ok());
    // An address that is not an IP would silently become the DC table's: say so.
    let garbage = match (&raw_address, ip) {
        (Some(a), None) if !a.is_empty() => format!(
            "; its server_address {:?} is not an IP address, so the DC table's address for \
             its DC is used",
            crate::output::escape(a)
        ),
        _ => String::new(),
    };
    Ok(Inspection {
        format: Format::Telethon,
        detail: match version {
            Some(v) => format!("Telethon SQLite session, version {v}{garbage}"),
            None => format!("Telethon SQLite session{garbage}"),
        },
        home_dc: dc,
        dc_address: ip.zip(port).map(|(i, p)| SocketAddr::new(i, p)),
        auth_key: key(row, "auth_key")?,
        signed_in: None,
        user_id: None,
        bot: None,
        test_mode: None,
        api_id: None,
    })
}

async fn pyrogram(db: &Db, cols: &HashSet<String>) -> Result<Inspection, String> {
    let e = |e: libsql::Error| e.to_string();
    let version = if cols.is_empty() {
        None
    } else {
        db.rows("SELECT number FROM version LIMIT 1")
            .await
            .ok()
            .and_then(|r| r.first().and_then(|r| int(r, "number")))
    };
    let rows = db.rows("SELECT * FROM sessions").await.map_err(e)?;
    let row = rows
        .first()
        .ok_or("Pyrogram session with an empty sessions table")?;
    let dc = int(row, "dc_id").map(|d| d as i32);
    let test_mode = int(row, "test_mode").map(|t| t != 0);
    let user_id = strict_int(row, "user_id")?;
    let auth_key = key(row, "auth_key")?;
    // kurigram v7 stores an address; upstream Pyrogram derives it from dc_id and test_mode.
    let stored = text(row, "server_address")
        .and_then(|a| a.parse::<IpAddr>().ok())
        .zip(int(row, "port").and_then(|p| u16::try_from(p).ok()))
        .map(|(i, p)| SocketAddr::new(i, p));
    Ok(Inspection {
        format: Format::Pyrogram,
        detail: match version {
            Some(v) => format!("Pyrogram SQLite session, version {v}"),
            None => "Pyrogram SQLite session".into(),
        },
        home_dc: dc,
        // Upstream Pyrogram stores no address: none is claimed here, and the DC table's is
        // used (and labelled as such) where one is needed.
        dc_address: stored,
        signed_in: Some(user_id.is_some() && auth_key.is_some()),
        auth_key,
        user_id,
        bot: int(row, "is_bot").map(|b| b != 0),
        test_mode,
        api_id: int(row, "api_id")
            .and_then(|a| i32::try_from(a).ok())
            .filter(|a| *a > 0),
    })
}

/// Everything `check` needs from a tgsess file to talk to Telegram without opening it for
/// writing: home DC, every DC option, and the self user.
pub struct GrammersData {
    pub home_dc: i32,
    /// (dc id, ipv4 "ip:port", ipv6 "[ip]:port", key)
    pub dc_options: Vec<(i32, String, String, Option<AuthKey>)>,
    /// (user id, access hash, bot)
    pub me: Option<(i64, Option<i64>, bool)>,
}

pub async fn read_grammers(path: &Path) -> Result<GrammersData, String> {
    let db = Db::open(path).await.map_err(|e| e.to_string())?;
    grammers_data(&db).await
}

async fn grammers_data(db: &Db) -> Result<GrammersData, String> {
    let e = |e: libsql::Error| e.to_string();
    let home_dc = db
        .rows("SELECT dc_id FROM dc_home LIMIT 1")
        .await
        .map_err(e)?
        .first()
        .and_then(|r| int(r, "dc_id"))
        .map(|d| d as i32)
        .unwrap_or(GRAMMERS_DEFAULT_DC);
    let mut dc_options = Vec::new();
    for r in db
        .rows("SELECT dc_id, ipv4, ipv6, auth_key FROM dc_option")
        .await
        .map_err(e)?
    {
        dc_options.push((
            int(&r, "dc_id").unwrap_or(0) as i32,
            text(&r, "ipv4").unwrap_or_default(),
            text(&r, "ipv6").unwrap_or_default(),
            key(&r, "auth_key")?,
        ));
    }
    let me = db
        .rows(&format!(
            "SELECT peer_id, hash, subtype FROM peer_info WHERE subtype & {SUBTYPE_SELF} LIMIT 1"
        ))
        .await
        .map_err(e)?
        .first()
        .map(|r| -> Result<_, String> {
            let id = strict_int(r, "peer_id")?.ok_or("peer_info.peer_id is NULL")?;
            let subtype = strict_int(r, "subtype")?.unwrap_or(0);
            Ok((id, strict_int(r, "hash")?, subtype & SUBTYPE_BOT != 0))
        })
        .transpose()?;
    Ok(GrammersData {
        home_dc,
        dc_options,
        me,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Random bytes, with and without a valid SQLite header: an inspection, never a panic,
        /// and the file is left as it was.
        #[test]
        fn inspect_never_panics_and_never_writes(
            body in proptest::collection::vec(any::<u8>(), 0..8192),
            header in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("x.session");
            let mut bytes = Vec::new();
            if header {
                bytes.extend_from_slice(SQLITE_MAGIC);
            }
            bytes.extend_from_slice(&body);
            std::fs::write(&p, &bytes).unwrap();
            let i = rt().block_on(inspect(&p));
            prop_assert_eq!(i.format, Format::NotASession);
            prop_assert_eq!(std::fs::read(&p).unwrap(), bytes);
            let _ = rt().block_on(read_grammers(&p));
        }
    }
}
