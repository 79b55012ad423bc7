//! Which library's session a file is.

use serde::{Deserialize, Serialize};

/// The format of a session file: the library that reads it. The user declares it with
/// `session_format` (config), `TGSESS_SESSION_FORMAT` or `--session-format`; a file's own
/// is told by its tables. All three name their files `<name>.session`, as the libraries do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionFormat {
    /// grammers' SqliteSession, tgsess's own format (the default for a new file).
    Grammers,
    /// Telethon's SQLite session (1.x, versions 7 and 8).
    Telethon,
    /// Pyrogram's SQLite session (also kurigram, pyrofork, hydrogram).
    Pyrogram,
}

impl SessionFormat {
    /// The name a user declares it by.
    pub fn name(self) -> &'static str {
        match self {
            SessionFormat::Grammers => "grammers",
            SessionFormat::Telethon => "telethon",
            SessionFormat::Pyrogram => "pyrogram",
        }
    }

    /// What a file of this format is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            SessionFormat::Grammers => "tgsess (grammers) session",
            SessionFormat::Telethon => "Telethon session",
            SessionFormat::Pyrogram => "Pyrogram session",
        }
    }

    /// The library whose file it is.
    pub fn library(self) -> &'static str {
        match self {
            SessionFormat::Grammers => "grammers",
            SessionFormat::Telethon => "Telethon",
            SessionFormat::Pyrogram => "Pyrogram",
        }
    }

    /// A bot's own file, managed in place only once declared (Telethon, Pyrogram).
    pub fn is_foreign(self) -> bool {
        matches!(self, SessionFormat::Telethon | SessionFormat::Pyrogram)
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
