//! Session formats: recognising and reading tgsess (grammers), Telethon and Pyrogram files.
//!
//! Everything here reads. A file is identified by its content (SQLite tables and columns,
//! see `shared/reference/session-formats.md`) BEFORE anything hands it to grammers, because
//! grammers' `SqliteSession::open` creates missing files and runs its schema migration on
//! any SQLite file whose `user_version` is 0 (grammers-session 0.11
//! src/storages/sqlite.rs, `Database::init` / `migrate_v0_to_v1`): on a Pyrogram file that
//! would silently add tables and report "not signed in".

pub mod sqlite;
pub mod strings;
pub mod write;

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

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

/// A 256-byte MTProto auth key. Never printed: `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(pub [u8; 256]);

impl AuthKey {
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 256]>::try_from(b).ok().map(AuthKey)
    }

    /// auth_key_id: the low 64 bits of SHA1(key), as MTProto defines it (bytes 12..20).
    /// Safe to show: it identifies a key without revealing it.
    pub fn id(&self) -> u64 {
        use sha1::Digest;
        let h = sha1::Sha1::digest(self.0);
        u64::from_le_bytes(h[12..20].try_into().expect("8 bytes"))
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
}

impl Inspection {
    pub fn not_a_session(detail: impl Into<String>) -> Self {
        Inspection {
            format: Format::NotASession,
            detail: detail.into(),
            home_dc: None,
            dc_address: None,
            auth_key: None,
            signed_in: None,
            user_id: None,
            bot: None,
            test_mode: None,
        }
    }

    pub fn has_auth_key(&self) -> bool {
        self.auth_key.is_some()
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

/// The well-known address of a DC, when a format stores none (Pyrogram).
pub fn known_dc_address(dc: i32, test_mode: bool) -> Option<SocketAddr> {
    let (table, port): (&[(i32, [u8; 4])], u16) = if test_mode {
        (&TEST_DCS, 80)
    } else {
        (&PRODUCTION_DCS, 443)
    };
    table
        .iter()
        .find(|(id, _)| *id == dc)
        .map(|(_, ip)| SocketAddr::from((*ip, port)))
}
