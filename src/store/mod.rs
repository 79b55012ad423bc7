//! The session store: the one module through which every command reads and writes session
//! files, whatever their format (grammers, Telethon, Pyrogram), and session strings.
//!
//! - [`sqlite`] identifies and reads files, opened read-only;
//! - [`write`] saves a [`Record`] in a format's exact schema, atomically;
//! - [`files`] holds the file-system side: locks, side files, the open-file guard, scans;
//! - [`strings`] parses and encodes session strings.
//!
//! Reading never changes anything. A file is identified by its content (SQLite tables and columns,
//! see `shared/reference/session-formats.md`) BEFORE anything hands it to grammers, because
//! grammers' `SqliteSession::open` creates missing files and runs its schema migration on
//! any SQLite file whose `user_version` is 0 (grammers-session 0.11
//! src/storages/sqlite.rs, `Database::init` / `migrate_v0_to_v1`): on a Pyrogram file that
//! would silently add tables and report "not signed in".

pub mod files;
pub mod js_strings;
pub mod source;
pub mod sqlite;
pub mod strings;
pub mod target;
pub mod tdata;
pub mod write;

pub use target::Target;

use std::fmt;
use std::net::SocketAddr;

use std::net::SocketAddrV4;

use serde::{Deserialize, Serialize};

/// The first 16 bytes of every SQLite 3 database.
pub const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Which library a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// grammers' `SqliteSession`, tgsess's own format.
    Tgsess,
    Telethon,
    Pyrogram,
    /// Exists but is not a session this tool knows (see [`Inspection::detail`]).
    NotASession,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::Tgsess => "tgsess (grammers) session",
            Format::Telethon => "Telethon session",
            Format::Pyrogram => "Pyrogram session",
            Format::NotASession => "not a session",
        }
    }

    pub fn is_foreign(self) -> bool {
        matches!(self, Format::Telethon | Format::Pyrogram)
    }

    /// The import format name for a foreign file.
    pub fn import_name(self) -> Option<&'static str> {
        match self {
            Format::Telethon => Some("telethon"),
            Format::Pyrogram => Some("pyrogram"),
            _ => None,
        }
    }
}

/// The format a user declares with `session_format` (config), `TGSESS_SESSION_FORMAT` or
/// `--session-format`. All three name their files `<name>.session`, as the libraries do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SessionFormat {
    /// grammers' SqliteSession, tgsess's own format (the default for a new file)
    Grammers,
    /// Telethon's SQLite session
    Telethon,
    /// Pyrogram's SQLite session (also kurigram, pyrofork, hydrogram)
    Pyrogram,
}

impl SessionFormat {
    pub fn name(self) -> &'static str {
        match self {
            SessionFormat::Grammers => "grammers",
            SessionFormat::Telethon => "telethon",
            SessionFormat::Pyrogram => "pyrogram",
        }
    }

    pub fn format(self) -> Format {
        match self {
            SessionFormat::Grammers => Format::Tgsess,
            SessionFormat::Telethon => Format::Telethon,
            SessionFormat::Pyrogram => Format::Pyrogram,
        }
    }

    pub fn of(format: Format) -> Option<SessionFormat> {
        match format {
            Format::Tgsess => Some(SessionFormat::Grammers),
            Format::Telethon => Some(SessionFormat::Telethon),
            Format::Pyrogram => Some(SessionFormat::Pyrogram),
            Format::NotASession => None,
        }
    }

    pub fn parse(s: &str) -> Option<SessionFormat> {
        match s {
            "grammers" => Some(SessionFormat::Grammers),
            "telethon" => Some(SessionFormat::Telethon),
            "pyrogram" => Some(SessionFormat::Pyrogram),
            _ => None,
        }
    }
}

/// A 256-byte MTProto auth key. Never printed: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(pub [u8; 256]);

impl Default for AuthKey {
    /// All zero: only a placeholder for `..Record::default()`; never saved (the writers and
    /// string parsers refuse a zero key).
    fn default() -> Self {
        AuthKey([0; 256])
    }
}

impl AuthKey {
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 256]>::try_from(b).ok().map(AuthKey)
    }

    /// auth_key_id: the low 64 bits of SHA1(key), as MTProto defines it (bytes 12..20).
    /// Safe to show: it identifies a key without revealing it.
    pub fn id(&self) -> u64 {
        tgsess_shared::mtproto::key_id(&self.0)
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(redacted)")
    }
}

/// What a file records, read without changing it.
#[derive(Clone, Debug)]
pub struct Inspection {
    pub format: Format,
    /// For [`Format::NotASession`]: what was seen. For others: version details.
    pub detail: String,
    pub home_dc: Option<i32>,
    pub dc_address: Option<SocketAddr>,
    pub auth_key: Option<AuthKey>,
    /// `Some(true)` when the file records a signed-in user; `None` when the format does not
    /// record it (Telethon).
    pub signed_in: Option<bool>,
    pub user_id: Option<i64>,
    pub bot: Option<bool>,
    /// Pyrogram: the file is for Telegram's test DCs.
    pub test_mode: Option<bool>,
    /// Pyrogram v3 and later record the api_id the key was made with.
    pub api_id: Option<i32>,
    /// A session of a known format with a column of the wrong type or out of range: what
    /// is wrong, naming the table and column. Nothing is read from such a file (no key, no
    /// DC), and nothing replaces it without `--force` and a backup.
    pub damage: Option<String>,
    /// Something a reader should know that does not stop it: a stored address that is
    /// not an IP address, for which the DC table's is used.
    pub note: Option<String>,
}

impl Inspection {
    pub fn not_a_session(detail: impl Into<String>) -> Self {
        Inspection {
            format: Format::NotASession,
            damage: None,
            note: None,
            detail: detail.into(),
            home_dc: None,
            dc_address: None,
            auth_key: None,
            signed_in: None,
            user_id: None,
            bot: None,
            test_mode: None,
            api_id: None,
        }
    }

    pub fn has_auth_key(&self) -> bool {
        self.auth_key.is_some()
    }

    /// Signed in, three-valued: `Some(true)` the file records a user with a key, `Some(false)`
    /// no key or no user where the format records users, `None` a key in a format that does
    /// not record the user (Telethon): only Telegram can tell.
    pub fn signed_in(&self) -> SignedIn {
        match (self.auth_key.is_some(), self.signed_in) {
            (false, _) => SignedIn::No,
            (true, Some(true)) => SignedIn::Yes,
            (true, Some(false)) => SignedIn::No,
            (true, None) => SignedIn::Unknown,
        }
    }

    /// A known format whose content fails validation ([`Inspection::damage`]).
    pub fn damaged(format: Format, detail: String, damage: String) -> Self {
        Inspection {
            format,
            detail,
            damage: Some(damage),
            ..Inspection::not_a_session("")
        }
    }

    /// What the file holds, for a save in another place or format. `None` without a key.
    pub fn record(&self) -> Option<Record> {
        Some(Record {
            dc_id: self.home_dc?,
            address: self.dc_address,
            auth_key: self.auth_key.clone()?,
            user_id: self.user_id,
            bot: self.bot,
            test_mode: self
                .test_mode
                .or_else(|| self.dc_address.as_ref().map(is_test_address)),
            api_id: self.api_id,
            ..Record::default()
        })
    }
}

/// Whether a file records a signed-in user: yes, no, or unknown (Telethon records no user).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedIn {
    Yes,
    No,
    Unknown,
}

impl SignedIn {
    pub fn as_json(self) -> Option<bool> {
        match self {
            SignedIn::Yes => Some(true),
            SignedIn::No => Some(false),
            SignedIn::Unknown => None,
        }
    }
}

/// Everything a session carries between formats, and what the store saves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub dc_id: i32,
    /// The home DC's address as the source gave it (Telethon and kurigram store one; Pyrogram
    /// does not).
    pub address: Option<SocketAddr>,
    pub auth_key: AuthKey,
    pub user_id: Option<i64>,
    pub bot: Option<bool>,
    pub test_mode: Option<bool>,
    pub api_id: Option<i32>,
    /// The self user's access hash (grammers records it).
    pub access_hash: Option<i64>,
    /// updates.state (pts, qts, date, seq) right after sign-in.
    pub update_state: Option<[i32; 4]>,
    /// Other DCs a grammers session knows, with their keys (never the home DC).
    pub other_dcs: Vec<(i32, SocketAddrV4, Option<AuthKey>)>,
}

/// Telegram's DC ids: 1 to 5, in the production and the test network alike
/// (core.telegram.org/api/datacenter). Every id read from a file, a string, Telegram's own
/// migrate errors or tgsess's state passes here, and is never narrowed by a cast.
pub const DC_IDS: std::ops::RangeInclusive<i64> = 1..=5;

/// A DC id checked against [`DC_IDS`]; the error says what is wrong with it.
pub fn dc_id(raw: i64) -> Result<i32, String> {
    if DC_IDS.contains(&raw) {
        Ok(raw as i32)
    } else {
        Err(format!(
            "DC id {raw} is out of range (Telegram's DCs are {} to {})",
            DC_IDS.start(),
            DC_IDS.end()
        ))
    }
}

/// Telegram's production DC addresses (IPv4, port 443), as grammers-session 0.11 lists them
/// in src/dc_options.rs `KNOWN_DC_OPTIONS`.
pub const PRODUCTION_DCS: [(i32, [u8; 4]); 5] = [
    (1, [149, 154, 175, 53]),
    (2, [149, 154, 167, 41]),
    (3, [149, 154, 175, 100]),
    (4, [149, 154, 167, 92]),
    (5, [91, 108, 56, 104]),
];

/// Telegram's test DCs (core.telegram.org/api/auth, test accounts); Pyrogram connects to
/// them on port 80 (pyrogram/session/internals/data_center.py).
pub const TEST_DCS: [(i32, [u8; 4]); 3] = [
    (1, [149, 154, 175, 10]),
    (2, [149, 154, 167, 40]),
    (3, [149, 154, 175, 117]),
];

/// The port of Telegram's test DCs as Pyrogram connects to them
/// (pyrogram/session/internals/data_center.py: `TEST = {1: "149.154.175.10", …}` on 80).
pub const TEST_DC_PORT: u16 = 80;

/// Whether an address is one of Telegram's test DCs.
pub fn is_test_address(a: &SocketAddr) -> bool {
    TEST_DCS
        .iter()
        .any(|(_, ip)| a.ip() == std::net::IpAddr::from(*ip))
}

/// The well-known address of a DC, when a format stores none (Pyrogram).
pub fn known_dc_address(dc: i32, test_mode: bool) -> Option<SocketAddr> {
    let (table, port): (&[(i32, [u8; 4])], u16) = if test_mode {
        (&TEST_DCS, TEST_DC_PORT)
    } else {
        (&PRODUCTION_DCS, 443)
    };
    table
        .iter()
        .find(|(id, _)| *id == dc)
        .map(|(_, ip)| SocketAddr::from((*ip, port)))
}
