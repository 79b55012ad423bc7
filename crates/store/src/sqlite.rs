//! Read-only inspection of SQLite session files (tgsess/grammers, Telethon, Pyrogram).
//!
//! Uses libsql, the SQLite that grammers-session already links, opened with
//! `SQLITE_OPEN_READ_ONLY`: reading never creates, migrates or modifies a file.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;

use libsql::{OpenFlags, Value};

use crate::{AuthKey, Inspection, SQLITE_MAGIC, SessionFormat, known_dc_address};
use tgsess_shared::text::Shown;

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
    // Checked before SQLite opens anything: it would open a FIFO put at a side file's name,
    // and wait there.
    if let Some(side) = odd_side_file(path) {
        return Inspection::not_a_session(format!(
            "an SQLite database whose side file {} is not a regular file; SQLite cannot \
             open it until that is moved away",
            side.shown()
        ));
    }
    match inspect_sqlite(path).await {
        Ok(i) => i,
        // Read-only, SQLite cannot roll back a hot journal: that is an unfinished write,
        // not damage.
        Err(_) if let Some(side) = crate::files::unfinished_write(path) => {
            Inspection::not_a_session(format!(
                "an SQLite database with an unfinished write ({} is present: the program \
                 writing it is still at it, or stopped mid-write)",
                side.shown()
            ))
        }
        Err(e) => Inspection::not_a_session(format!("a damaged SQLite database ({e})")),
    }
}

/// A `-journal`, `-wal` or `-shm` beside `path` that exists but is not a regular file.
fn odd_side_file(path: &Path) -> Option<std::path::PathBuf> {
    crate::files::side_files(path)
        .into_iter()
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_file()))
}

/// Bytes 18 and 19 of the SQLite header are 2 in WAL mode (sqlite.org/fileformat.html).
fn is_wal(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    tgsess_shared::fs::open_regular(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && (head[18] == 2 || head[19] == 2)
}

/// The database and its `-wal` copied into a private temporary directory.
fn private_copy(path: &Path) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("tgsess-read-").tempdir()?;
    copy_regular(path, &dir.path().join("db"))?;
    let wal = tgsess_shared::fs::with_suffix(path, "-wal");
    if wal.is_file() {
        copy_regular(&wal, &dir.path().join("db-wal"))?;
    }
    Ok(dir)
}

/// Copies a regular file (never a FIFO or device put in its place) into a new private file.
fn copy_regular(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut src = tgsess_shared::fs::open_regular(from)?;
    let mut dst = tgsess_shared::fs::create_exclusive(to)?;
    std::io::copy(&mut src, &mut dst).map(|_| ())
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(16);
    tgsess_shared::fs::open_regular(path)?
        .take(16)
        .read_to_end(&mut buf)?;
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
        let conn = db.connect()?;
        // Every read of this connection sees one snapshot: a bot writing the file between two
        // of the queries cannot mix two states into one reading. It also takes the file's
        // shared lock once instead of once per query (each autocommit statement locks,
        // checks for a hot journal and unlocks again: sqlite.org/lockingv3.html, section 5).
        // The transaction ends when the connection closes.
        conn.execute("BEGIN", ()).await?;
        Ok(Db { conn, _copy: copy })
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

fn text(r: &Row, k: &str) -> Option<String> {
    match r.get(k)? {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// A stored value as a message shows it: `TEXT ('two')`, `REAL (2.5)`, `BLOB (3 bytes)`.
fn stored(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => format!("INTEGER ({i})"),
        Value::Real(f) => format!("REAL ({f})"),
        Value::Text(t) => {
            let cut: String = t.chars().take(40).collect();
            let more = if cut.len() < t.len() { "…" } else { "" };
            format!("TEXT ('{}{more}')", tgsess_shared::text::escape(&cut))
        }
        Value::Blob(b) => format!("BLOB ({} bytes)", b.len()),
    }
}

/// One row of a session table, read column by column with each value's type and range
/// checked. Every error names the table and column, what is stored and what belongs there:
/// a file that fails is damaged, and nothing is read from it.
struct Cols<'a> {
    table: &'static str,
    row: &'a Row,
}

type Checked<T> = Result<T, String>;

impl Cols<'_> {
    fn bad(&self, k: &str, v: &Value, want: &str) -> String {
        format!("{}.{k} is {}, not {want}", self.table, stored(v))
    }

    /// An INTEGER in `range`, or NULL (and a missing column) as `None`. `range_words` says
    /// what the range is, for the error.
    fn int(
        &self,
        k: &str,
        range: std::ops::RangeInclusive<i64>,
        range_words: &str,
    ) -> Checked<Option<i64>> {
        match self.row.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Integer(i)) if range.contains(i) => Ok(Some(*i)),
            Some(Value::Integer(i)) => Err(format!(
                "{}.{k} is {i}, out of range ({range_words})",
                self.table
            )),
            Some(v) if range_words == "any" => Err(self.bad(k, v, "an INTEGER")),
            Some(v) => Err(self.bad(k, v, &format!("an INTEGER ({range_words})"))),
        }
    }

    /// The DC id, which must be there: an INTEGER Telegram has a DC for.
    fn dc(&self, k: &str) -> Checked<i32> {
        let words = "Telegram's DCs are 1 to 5";
        match self.int(k, super::DC_IDS, words)? {
            Some(d) => Ok(d as i32),
            None => Err(format!(
                "{}.{k} is NULL, not an INTEGER ({words})",
                self.table
            )),
        }
    }

    /// 0 or 1 (or NULL).
    fn flag(&self, k: &str) -> Checked<Option<bool>> {
        Ok(self.int(k, 0..=1, "0 or 1")?.map(|b| b != 0))
    }

    fn port(&self, k: &str) -> Checked<Option<u16>> {
        Ok(self
            .int(k, 0..=65535, "a port is 0 to 65535")?
            .map(|p| p as u16))
    }

    fn text(&self, k: &str) -> Checked<Option<String>> {
        match self.row.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Text(t)) => Ok(Some(t.clone())),
            Some(v) => Err(self.bad(k, v, "TEXT")),
        }
    }

    /// An auth key: 256 bytes is a key, empty or NULL is none. Anything else is damage,
    /// reported before anything is written (grammers would panic on it).
    fn key(&self, k: &str) -> Checked<Option<AuthKey>> {
        match self.row.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Blob(b)) if b.is_empty() => Ok(None),
            Some(Value::Blob(b)) => AuthKey::from_slice(b)
                .map(Some)
                .ok_or_else(|| format!("{}.{k} is {} bytes, not 256", self.table, b.len())),
            Some(v) => Err(self.bad(k, v, "a BLOB")),
        }
    }

    /// Any BLOB, or NULL.
    fn blob(&self, k: &str) -> Checked<()> {
        match self.row.get(k) {
            None | Some(Value::Null) | Some(Value::Blob(_)) => Ok(()),
            Some(v) => Err(self.bad(k, v, "a BLOB")),
        }
    }
}

/// The one row of a table (`version`, `sessions`), or `None` when it has none.
async fn first_row(db: &Db, sql: &str) -> Checked<Option<Row>> {
    Ok(db
        .rows(sql)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next())
}

/// A schema version: a positive INTEGER, when the table has a row.
async fn version(db: &Db, table: &'static str, col: &str) -> Checked<Option<i64>> {
    match first_row(db, &format!("SELECT {col} FROM {table} LIMIT 1")).await? {
        Some(row) => Cols { table, row: &row }.int(col, 1..=i64::MAX, "a version is positive"),
        None => Ok(None),
    }
}

/// An address as a file stores it, and a note when it is not an IP address (the DC
/// table's address for that DC is then used, and said to be).
fn parsed_address(
    raw: Option<&str>,
    port: Option<u16>,
    column: &str,
) -> (Option<SocketAddr>, Option<String>) {
    let ip = raw.and_then(|a| a.parse::<IpAddr>().ok());
    let note = match (raw, ip) {
        (Some(a), None) if !a.is_empty() => Some(format!(
            "its {column} {:?} is not an IP address, so the DC table's address for its DC is \
             used",
            tgsess_shared::text::escape(a)
        )),
        _ => None,
    };
    (ip.zip(port).map(|(i, p)| SocketAddr::new(i, p)), note)
}

async fn inspect_sqlite(path: &Path) -> Result<Inspection, String> {
    let db = Db::open(path).await.map_err(|e| e.to_string())?;
    let tables = db.tables().await.map_err(|e| e.to_string())?;
    let has = |t: &str| tables.contains(t);
    if has("dc_option") && has("dc_home") && has("peer_info") {
        return Ok(or_damaged(
            grammers(&db).await,
            SessionFormat::Grammers,
            "grammers SqliteSession",
        ));
    }
    if has("sessions") {
        let cols = db.columns("sessions").await.map_err(|e| e.to_string())?;
        if has("version") && has("entities") && cols.contains("server_address") {
            return Ok(or_damaged(
                telethon(&db).await,
                SessionFormat::Telethon,
                "Telethon SQLite session",
            ));
        }
        if has("peers") && cols.contains("dc_id") && cols.contains("auth_key") {
            return Ok(or_damaged(
                pyrogram(&db).await,
                SessionFormat::Pyrogram,
                "Pyrogram SQLite session",
            ));
        }
    }
    if has("datacenter") && has("user") && has("state") && has("channelstate") {
        return Ok(telethon2(&db).await);
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

/// A format's reading, or the damage that stopped it.
fn or_damaged(r: Checked<Inspection>, format: SessionFormat, what: &str) -> Inspection {
    r.unwrap_or_else(|why| Inspection::damaged(format, format!("damaged {what}"), why))
}

/// Telethon 2 (`telethon/_impl/session/storage/sqlite.py`, CURRENT_VERSION = 10): tables
/// `datacenter`, `user`, `state` and `channelstate`. tgsess neither reads nor writes it.
async fn telethon2(db: &Db) -> Inspection {
    let v = version(db, "version", "version").await.ok().flatten();
    Inspection::not_a_session(format!(
        "a Telethon 2 session{}, a format tgsess does not read or write (it manages Telethon \
         1.x files, versions 7 and 8); tgsess leaves it as it is: sign in again with \
         tgsess, or keep using it with Telethon 2 only",
        v.map(|v| format!(" (version {v})")).unwrap_or_default()
    ))
}

async fn grammers(db: &Db) -> Checked<Inspection> {
    let data = grammers_data(db).await?;
    let home = data.home_dc;
    let home_row = data.dc_options.iter().find(|o| o.id == home);
    let (address, auth_key, note) = match home_row {
        Some(o) => (
            o.ipv4
                .map(SocketAddr::V4)
                .or_else(|| known_dc_address(home, false)),
            o.key.clone(),
            o.ipv4.is_none().then(|| {
                format!(
                    "its stored address for DC {home} ({:?}) is not an IPv4 address, so the DC \
                     table's address for DC {home} is used",
                    tgsess_shared::text::escape(&o.raw_ipv4)
                )
            }),
        ),
        None => (known_dc_address(home, false), None, None),
    };
    Ok(Inspection {
        format: Some(SessionFormat::Grammers),
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
        damage: None,
        note,
    })
}

async fn telethon(db: &Db) -> Checked<Inspection> {
    let version = version(db, "version", "version").await?;
    let row = first_row(db, "SELECT * FROM sessions")
        .await?
        .ok_or("Telethon session with an empty sessions table")?;
    let c = Cols {
        table: "sessions",
        row: &row,
    };
    let dc = c.dc("dc_id")?;
    let raw_address = c.text("server_address")?;
    let port = c.port("port")?;
    let auth_key = c.key("auth_key")?;
    c.int("takeout_id", i64::MIN..=i64::MAX, "any")?;
    c.blob("tmp_auth_key")?;
    let (dc_address, note) = parsed_address(raw_address.as_deref(), port, "server_address");
    Ok(Inspection {
        format: Some(SessionFormat::Telethon),
        detail: match version {
            Some(v) => format!("Telethon SQLite session, version {v}"),
            None => "Telethon SQLite session".into(),
        },
        home_dc: Some(dc),
        dc_address,
        auth_key,
        signed_in: None,
        user_id: None,
        bot: None,
        test_mode: None,
        api_id: None,
        damage: None,
        note,
    })
}

async fn pyrogram(db: &Db) -> Checked<Inspection> {
    let version = version(db, "version", "number").await?;
    let row = first_row(db, "SELECT * FROM sessions")
        .await?
        .ok_or("Pyrogram session with an empty sessions table")?;
    let c = Cols {
        table: "sessions",
        row: &row,
    };
    let dc = c.dc("dc_id")?;
    let api_id = c.int("api_id", 0..=i64::from(i32::MAX), "an api_id is 32-bit")?;
    let test_mode = c.flag("test_mode")?;
    let auth_key = c.key("auth_key")?;
    c.int("date", i64::MIN..=i64::MAX, "any")?;
    let user_id = c.int("user_id", 1..=i64::MAX, "a user id is positive")?;
    let bot = c.flag("is_bot")?;
    // kurigram v7 stores an address; upstream Pyrogram derives it from dc_id and test_mode.
    let raw_address = c.text("server_address")?;
    let port = c.port("port")?;
    let (stored, note) = parsed_address(raw_address.as_deref(), port, "server_address");
    Ok(Inspection {
        format: Some(SessionFormat::Pyrogram),
        detail: match version {
            Some(v) => format!("Pyrogram SQLite session, version {v}"),
            None => "Pyrogram SQLite session".into(),
        },
        home_dc: Some(dc),
        // Upstream Pyrogram stores no address: none is claimed here, and the DC table's is
        // used (and labelled as such) where one is needed.
        dc_address: stored,
        signed_in: Some(user_id.is_some() && auth_key.is_some()),
        auth_key,
        user_id,
        bot,
        test_mode,
        api_id: api_id.map(|a| a as i32).filter(|a| *a > 0),
        damage: None,
        note,
    })
}

/// One row of grammers' `dc_option`, checked.
pub(crate) struct DcRow {
    pub id: i32,
    /// `None` when the stored text is not an IPv4 address:port.
    pub ipv4: Option<SocketAddrV4>,
    pub raw_ipv4: String,
    pub ipv6: Option<SocketAddrV6>,
    pub key: Option<AuthKey>,
}

/// Everything `check` needs from a tgsess file to talk to Telegram without opening it for
/// writing: home DC, every DC option, and the self user.
pub(crate) struct GrammersData {
    pub home_dc: i32,
    pub dc_options: Vec<DcRow>,
    /// (user id, access hash, bot)
    pub me: Option<(i64, Option<i64>, bool)>,
}

pub(crate) async fn read_grammers(path: &Path) -> Result<GrammersData, String> {
    let db = Db::open(path).await.map_err(|e| e.to_string())?;
    grammers_data(&db).await
}

async fn grammers_data(db: &Db) -> Checked<GrammersData> {
    let home_dc = match first_row(db, "SELECT dc_id FROM dc_home LIMIT 1").await? {
        Some(row) => Cols {
            table: "dc_home",
            row: &row,
        }
        .dc("dc_id")?,
        None => GRAMMERS_DEFAULT_DC,
    };
    let mut dc_options = Vec::new();
    for r in db
        .rows("SELECT dc_id, ipv4, ipv6, auth_key FROM dc_option")
        .await
        .map_err(|e| e.to_string())?
    {
        let c = Cols {
            table: "dc_option",
            row: &r,
        };
        let raw_ipv4 = c.text("ipv4")?.unwrap_or_default();
        dc_options.push(DcRow {
            id: c.dc("dc_id")?,
            ipv4: raw_ipv4.parse().ok(),
            ipv6: c.text("ipv6")?.and_then(|a| a.parse().ok()),
            raw_ipv4,
            key: c.key("auth_key")?,
        });
    }
    let me = first_row(
        db,
        &format!(
            "SELECT peer_id, hash, subtype FROM peer_info WHERE subtype & {SUBTYPE_SELF} LIMIT 1"
        ),
    )
    .await?
    .map(|r| -> Checked<_> {
        let c = Cols {
            table: "peer_info",
            row: &r,
        };
        let any = i64::MIN..=i64::MAX;
        let id = c
            .int("peer_id", any.clone(), "any")?
            .ok_or("peer_info.peer_id is NULL")?;
        let subtype = c.int("subtype", any.clone(), "any")?.unwrap_or(0);
        Ok((id, c.int("hash", any, "any")?, subtype & SUBTYPE_BOT != 0))
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
            prop_assert_eq!(i.format, None);
            prop_assert_eq!(std::fs::read(&p).unwrap(), bytes);
            let _ = rt().block_on(read_grammers(&p));
        }
    }
}
