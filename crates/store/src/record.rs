//! What a session holds: its key, home DC and user, as a file records it ([`Inspection`])
//! or as it is carried between formats ([`Record`]).

use std::fmt;
use std::net::{SocketAddr, SocketAddrV4};

use serde::Serialize;

use crate::SessionFormat;
use crate::dc::is_test_address;

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
    /// `None`: the file is not a session this crate knows (see `detail`).
    pub format: Option<SessionFormat>,
    /// Not a session: what was seen. A session: its version details.
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
            format: None,
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

    /// What the file is, in words: its format, or "not a session".
    pub fn describe(&self) -> &'static str {
        self.format.map_or("not a session", SessionFormat::describe)
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
    pub fn damaged(format: SessionFormat, detail: String, damage: String) -> Self {
        Inspection {
            format: Some(format),
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
