//! The `--json` schemas of `status`, `check` and `list`. Tests pin them by deserializing with
//! `deny_unknown_fields`; change them only on purpose.

use std::path::PathBuf;

use serde::Serialize;

use crate::settings::naming::DecidedBy;
use tgsess_store::files::{FileMeta, Found};
use tgsess_store::{Inspection, SessionFormat, SignedIn};

/// What a file is, in the words `--json` has always used: the schema is pinned, so grammers'
/// format stays "tgsess" here, and anything else is "not_a_session".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileKind {
    Tgsess,
    Telethon,
    Pyrogram,
    NotASession,
}

impl From<Option<SessionFormat>> for FileKind {
    fn from(f: Option<SessionFormat>) -> Self {
        match f {
            Some(SessionFormat::Grammers) => FileKind::Tgsess,
            Some(SessionFormat::Telethon) => FileKind::Telethon,
            Some(SessionFormat::Pyrogram) => FileKind::Pyrogram,
            None => FileKind::NotASession,
        }
    }
}

impl FileKind {
    /// The session format it is, if it is one.
    pub(crate) fn session_format(self) -> Option<SessionFormat> {
        match self {
            FileKind::Tgsess => Some(SessionFormat::Grammers),
            FileKind::Telethon => Some(SessionFormat::Telethon),
            FileKind::Pyrogram => Some(SessionFormat::Pyrogram),
            FileKind::NotASession => None,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        self.session_format()
            .map_or("not a session", SessionFormat::describe)
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct StatusReport {
    pub(crate) config_file: Option<PathBuf>,
    pub(crate) session: SessionReport,
    pub(crate) near_misses: Vec<FoundReport>,
    pub(crate) warnings: Vec<String>,
    /// The copies `exec` kept before it ran a program on the session, newest first.
    pub(crate) copies: Vec<PathBuf>,
    /// With a lease configured: who holds the lease on the session's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lease: Option<LeaseReport>,
}

/// The lease on a session's key, as `status` shows it.
#[derive(Debug, Serialize)]
pub(crate) struct LeaseReport {
    /// The lease URL (it never holds a password).
    pub(crate) url: String,
    /// The holder, when the lock is held now.
    pub(crate) holder: Option<crate::lease::Holder>,
    /// Why the database could not be asked.
    pub(crate) error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SessionReport {
    pub(crate) path: PathBuf,
    pub(crate) decided_by: DecidedBy,
    pub(crate) reason: String,
    pub(crate) exists: bool,
    pub(crate) format: Option<FileKind>,
    /// The format tgsess reads and writes this session in, and why.
    pub(crate) session_format: Option<SessionFormat>,
    pub(crate) format_reason: String,
    pub(crate) detail: Option<String>,
    /// What is wrong with a damaged file (a column of the wrong type or out of range).
    pub(crate) damage: Option<String>,
    /// A stored address that is not one, replaced by the DC table's.
    pub(crate) note: Option<String>,
    pub(crate) home_dc: Option<i32>,
    pub(crate) dc_address: Option<String>,
    pub(crate) has_auth_key: bool,
    /// The auth key's id (public on the wire), never the key.
    pub(crate) auth_key_id: Option<String>,
    /// "yes", "no" or "unknown" (a key in a format that does not record the user).
    pub(crate) signed_in: SignedIn,
    pub(crate) user_id: Option<i64>,
    pub(crate) bot: Option<bool>,
    /// A key for Telegram's test DCs (recorded, or told by its address).
    pub(crate) test_mode: Option<bool>,
    pub(crate) mode: Option<String>,
    pub(crate) owner_uid: Option<u32>,
    pub(crate) size: Option<u64>,
    pub(crate) modified: Option<String>,
    /// Who Telegram last confirmed this key signed in as, and when (tgsess's state).
    pub(crate) last_confirmed: Option<Confirmed>,
}

impl SessionReport {
    /// The report of a session path before its file (if any) is looked at.
    pub(crate) fn new(
        choice: &crate::settings::naming::SessionChoice,
        (session_format, format_reason): (Option<SessionFormat>, String),
    ) -> Self {
        SessionReport {
            path: choice.path.clone(),
            decided_by: choice.decided_by,
            reason: choice.reason.clone(),
            exists: false,
            format: None,
            session_format,
            format_reason,
            detail: None,
            damage: None,
            note: None,
            home_dc: None,
            dc_address: None,
            has_auth_key: false,
            auth_key_id: None,
            signed_in: SignedIn::No,
            user_id: None,
            bot: None,
            test_mode: None,
            mode: None,
            owner_uid: None,
            size: None,
            modified: None,
            last_confirmed: None,
        }
    }

    pub(crate) fn fill(&mut self, i: &Inspection, m: &FileMeta) {
        self.exists = true;
        self.format = Some(i.format.into());
        self.detail = Some(i.detail.clone());
        self.damage = i.damage.clone();
        self.note = i.note.clone();
        self.home_dc = i.home_dc;
        self.dc_address = i.dc_address.map(|a| a.to_string());
        self.has_auth_key = i.has_auth_key();
        self.auth_key_id = i.auth_key.as_ref().map(tgsess_store::write::key_id_hex);
        self.signed_in = i.signed_in();
        self.user_id = i.user_id;
        self.bot = i.bot;
        self.test_mode = i.record().and_then(|r| r.test_mode);
        self.mode = Some(format!("{:04o}", m.mode));
        self.owner_uid = Some(m.uid);
        self.size = Some(m.size);
        self.modified = m.modified.and_then(crate::output::timestamp);
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct FoundReport {
    pub(crate) path: PathBuf,
    pub(crate) format: FileKind,
    pub(crate) detail: String,
    pub(crate) damage: Option<String>,
    pub(crate) has_auth_key: bool,
    pub(crate) signed_in: SignedIn,
    pub(crate) user_id: Option<i64>,
    pub(crate) bot: Option<bool>,
    pub(crate) size: u64,
    /// Holds the same key as the session (e.g. the source of an import): not a near miss.
    pub(crate) same_key: bool,
    /// With a lease configured (`list`): who holds the lease on this file's key now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) lease: Option<crate::lease::Holder>,
}

impl From<&Found> for FoundReport {
    fn from(f: &Found) -> Self {
        let i = &f.inspection;
        FoundReport {
            path: f.path.clone(),
            format: i.format.into(),
            detail: i.detail.clone(),
            damage: i.damage.clone(),
            has_auth_key: i.has_auth_key(),
            signed_in: i.signed_in(),
            user_id: i.user_id,
            bot: i.bot,
            size: f.size,
            same_key: false,
            lease: None,
        }
    }
}

impl FoundReport {
    /// One line for people: format and what it records.
    pub(crate) fn summary(&self) -> String {
        if let Some(d) = &self.damage {
            return format!("{}, damaged: {d}", self.format.describe());
        }
        let who = match (self.signed_in, self.user_id) {
            (SignedIn::Yes, Some(id)) => format!(
                "signed in as {} {id}",
                if self.bot == Some(true) {
                    "bot"
                } else {
                    "user"
                }
            ),
            (SignedIn::Yes, None) => "signed in".to_string(),
            (SignedIn::No, _) if self.has_auth_key => "key, not signed in".to_string(),
            (SignedIn::No, _) => "no key".to_string(),
            (SignedIn::Unknown, _) => {
                "key; signed in: unknown (this format does not record the user)".into()
            }
        };
        let same = if self.same_key {
            "; same key as the session"
        } else {
            ""
        };
        format!("{} ({}), {who}{same}", self.format.describe(), self.detail)
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ListReport {
    pub(crate) session_dir: PathBuf,
    pub(crate) sessions: Vec<FoundReport>,
}

/// What Telegram last confirmed for a key: who, and when (RFC 3339).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Confirmed {
    pub(crate) user: crate::identity::Identity,
    pub(crate) at: String,
}

/// `check --json`.
#[derive(Debug, Serialize)]
pub(crate) struct CheckReport {
    /// "signed_in", "not_signed_in", "revoked", "banned", "wrong_user", "held",
    /// "no_verdict", "unknown" (offline, a format that records no user), "usage_error" or
    /// "file_problem"; always agrees with the exit code.
    pub(crate) status: &'static str,
    /// Telegram's error name (AUTH_KEY_UNREGISTERED, SESSION_REVOKED, AUTH_KEY_DUPLICATED,
    /// USER_DEACTIVATED_BAN, …; "-404" for a key the DC does not know).
    pub(crate) error: Option<String>,
    pub(crate) reason: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) username: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) bot: Option<bool>,
    pub(crate) dc: Option<i32>,
    pub(crate) session: PathBuf,
    pub(crate) offline: bool,
    /// Who holds the session (`tgsess exec`), when it was not asked for that reason.
    pub(crate) held: Option<crate::health::Held>,
    /// Offline: what Telegram last confirmed for this key.
    pub(crate) last_confirmed: Option<Confirmed>,
    pub(crate) elapsed_ms: u64,
}

impl CheckReport {
    pub(crate) fn new(
        settings: &crate::settings::Settings,
        offline: bool,
        elapsed: std::time::Duration,
        (status, reason): (&'static str, String),
        v: Option<&crate::health::Verdict>,
        last_confirmed: Option<Confirmed>,
    ) -> CheckReport {
        let who = v.and_then(|v| v.identity.as_ref());
        CheckReport {
            status,
            error: v.and_then(|v| v.error.clone()),
            reason,
            user_id: who.map(|w| w.id),
            username: who.and_then(|w| w.username.clone()),
            name: who.map(|w| w.name.clone()).filter(|n| !n.is_empty()),
            bot: who.map(|w| w.bot),
            dc: v.and_then(|v| v.dc),
            session: settings.session.path.clone(),
            offline,
            held: v.and_then(|v| v.held.clone()),
            last_confirmed,
            elapsed_ms: elapsed.as_millis() as u64,
        }
    }
}
