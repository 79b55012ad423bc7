//! The session store: every format a Telegram session is kept in, read and written without
//! ever asking or telling a person anything. It returns data and typed errors; the commands
//! of tgsess ask and print.
//!
//! - [`SessionFormat`], [`Inspection`], [`Record`]: what a session is and holds;
//! - [`sqlite`] identifies and reads session files, opened read-only, every column checked;
//! - [`write`] saves a [`Record`] in a format's exact schema, atomically;
//! - [`files`]: the file-system side: locks, side files, the open-file guard, scans;
//! - [`strings`], [`js_strings`]: Telethon, Pyrogram, GramJS, mtcute and MTKruto strings;
//! - [`tdata`]: Telegram Desktop's tdata, read-only;
//! - [`source`]: a session from anywhere an import takes one;
//! - [`dc`]: Telegram's DC ids and address tables.
//!
//! Reading never changes anything. A file is identified by its content (SQLite tables and
//! columns, see docs/session-formats.md) BEFORE anything hands it to grammers, because
//! grammers' `SqliteSession::open` creates missing files and runs its schema migration on
//! any SQLite file whose `user_version` is 0 (grammers-session 0.11
//! src/storages/sqlite.rs, `Database::init` / `migrate_v0_to_v1`): on a Pyrogram file that
//! would silently add tables and report "not signed in".

pub mod copies;
pub mod dc;
mod error;
pub mod files;
mod format;
pub mod js_strings;
mod record;
pub mod source;
pub mod sqlite;
pub mod strings;
pub mod tdata;
pub mod write;

pub use dc::{DC_IDS, dc_id, known_dc_address};
pub use error::{Error, Result};
pub use format::SessionFormat;
pub use record::{AuthKey, Inspection, Record, SignedIn};

/// The first 16 bytes of every SQLite 3 database.
pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
