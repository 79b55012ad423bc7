//! What tgsess remembers between runs.
//!
//! - Per phone number (not per session file, so it survives `reset`): Telegram's cooldowns,
//!   the pending code request, the in-flight mark of a code request whose answer may be
//!   lost, and future auth tokens.
//! - Per session path, until sign-in completes: the draft, i.e. the new key a login works
//!   with, and whether Telegram is waiting only for the 2FA password. The session file
//!   itself appears only when it holds a signed-in user.
//!
//! One JSON file, `state.json`, in `$TGSESS_STATE_DIR`, else `$XDG_STATE_HOME/tgsess/`, else
//! `~/.local/state/tgsess/`; 0600 in a 0700 directory, replaced atomically (temp + rename).
//! Every change is a read-modify-write under an exclusive lock on `state.lock`
//! ([`State::modify`]), so two tgsess processes never overwrite each other's changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::error::{Error, Result};
use crate::output::Shown;

/// A pending code is reused for this long after it was requested.
pub(crate) const PENDING_TTL_SECS: i64 = 600;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pending {
    /// auth.sentCode's phone_code_hash; bound to the auth key below.
    pub(crate) phone_code_hash: String,
    /// The auth key the code was requested with (its id, hex).
    pub(crate) key_id: String,
    pub(crate) dc: i32,
    pub(crate) requested_at: i64,
    /// Where the code went, as told to the user ("the Telegram app", "SMS", ...).
    pub(crate) sent_via: String,
    pub(crate) next_type: Option<String>,
    pub(crate) timeout: Option<i32>,
    /// The session the code was requested for ([`session_key`]): a login of any other
    /// session for this phone is told to finish that one instead of requesting a code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<String>,
    /// The command that finishes that login, with every option that chose its session,
    /// as it was printed then (it works pasted from any directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resume: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct PhoneState {
    /// Unix seconds until which Telegram asked this phone to wait (FLOOD_WAIT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cooldown_until: Option<i64>,
    /// Why the cooldown runs: "FLOOD_WAIT" or "SEND_CODE_UNAVAILABLE".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cooldown_reason: Option<String>,
    /// Written just before auth.sendCode is sent, cleared when its answer is saved: found on
    /// a later run, it says a code may have been sent and its answer lost. (key id, when)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) in_flight: Option<(String, i64)>,
    /// The session ([`session_key`]) whose login wrote the in-flight mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) in_flight_session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pending: Option<Pending>,
    /// future_auth_token values from auth.logOut, base64; sent as logout_tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) future_auth_tokens: Vec<String>,
}

/// A login's key before the session file exists (issue: the file appears only signed in).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Draft {
    /// The phone key ([`phone_key`]) the draft belongs to ("" for a bot).
    pub(crate) phone_key: String,
    pub(crate) home_dc: i32,
    /// Every DC the login's in-memory session knew: (id, "ip:port", key base64).
    pub(crate) dcs: Vec<(i32, String, Option<String>)>,
    /// auth.signIn answered SESSION_PASSWORD_NEEDED for this key: only the password is
    /// missing, so a rerun goes straight to account.getPassword. The key id it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password_needed: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Data {
    #[serde(default)]
    pub(crate) phones: BTreeMap<String, PhoneState>,
    /// Keyed by the session's absolute path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) drafts: BTreeMap<String, Draft>,
    /// The phone each session signed in with (absolute path to phone), so a later `logout`
    /// can keep the future auth token for it even when the phone was typed at the prompt.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) session_phones: BTreeMap<String, String>,
    /// The api_id a grammers session's key came with (absolute path to api_id): grammers'
    /// schema has no place for it, and a Pyrogram export must carry it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) session_api_ids: BTreeMap<String, i32>,
    /// Naming warnings already shown by commands that print each only once (exec, logout,
    /// reset, export): the SHA-256 of the warning's text, so a bot's log is not filled with it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub(crate) shown_warnings: std::collections::BTreeSet<String>,
    /// What Telegram last said about each auth key, by key id (hex; public on the wire,
    /// never the key): who it was signed in as and when that was confirmed, so commands
    /// that do not ask can say it for formats that record no user.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) keys: BTreeMap<String, KeyMemory>,
    /// The last time `exec` refused to start a program on a session, or stopped one, by the
    /// session's canonical path: a rerun within minutes (a supervisor's restart) says it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) guard_events: BTreeMap<String, GuardEvent>,
}

/// One refusal or stop of `exec`'s guard.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardEvent {
    /// Unix milliseconds.
    pub(crate) at_ms: i64,
    /// The program, as it was given.
    pub(crate) program: String,
    /// What happened, in one sentence (no secret: paths, statuses and names only).
    pub(crate) what: String,
}

/// Telegram's last word on one auth key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyMemory {
    /// The identity last confirmed, and when (unix milliseconds: a hold that began in the
    /// same second as a confirmation is told apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) identity: Option<crate::identity::Identity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confirmed_at_ms: Option<i64>,
    /// The last verdict (`check --json`'s status word) and Telegram's error name, if any.
    pub(crate) status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) checked_at_ms: i64,
}

impl Data {
    pub(crate) fn phone(&mut self, key: &str) -> &mut PhoneState {
        self.phones.entry(key.to_string()).or_default()
    }
}

/// Now, in unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The state directory for this environment.
pub(crate) fn dir(env: &dyn Env) -> Option<PathBuf> {
    let nonempty = |k: &str| env.var(k).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("TGSESS_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = nonempty("XDG_STATE_HOME") {
        return Some(Path::new(&d).join("tgsess"));
    }
    nonempty("HOME").map(|h| Path::new(&h).join(".local/state/tgsess"))
}

/// The key under which a session's state (its login draft, phone, api_id) is kept: the
/// canonical path, every symlink and `..` resolved, so `./a.session`, `/srv/bot/a.session`
/// and a link to it are one session.
pub(crate) fn session_key(path: &Path) -> String {
    tgsess_store::files::resolve(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// A value kept per session: under its canonical key, or (state written before keys were
/// canonical) under the path as it was given.
pub(crate) fn per_session<'a, T>(map: &'a BTreeMap<String, T>, path: &Path) -> Option<&'a T> {
    map.get(&session_key(path))
        .or_else(|| map.get(&path.display().to_string()))
}

/// The key under which a phone's state is kept: the digits, plus the sandbox it belongs to,
/// so rehearsals never block a real login.
pub(crate) fn phone_key(phone: &str, sandbox: Option<&Path>) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    match sandbox {
        Some(d) => format!("sandbox:{}:{digits}", d.display()),
        None => digits,
    }
}

/// The size state.json may have; anything larger is not ours.
const MAX_STATE: u64 = 1 << 20;

pub(crate) struct State {
    path: Option<PathBuf>,
    pub(crate) data: Data,
}

impl State {
    /// Reads the state; `None` keeps nothing (commands that only read).
    pub(crate) fn load(dir: Option<PathBuf>) -> Result<State> {
        let Some(dir) = dir else {
            return Ok(State {
                path: None,
                data: Data::default(),
            });
        };
        let path = dir.join("state.json");
        let data = read(&path)?;
        Ok(State {
            path: Some(path),
            data,
        })
    }

    /// For a login, which must be able to remember what it asks Telegram: the state
    /// directory must exist (it is created 0700) and be writable before any request, or
    /// this is exit 2 naming the variable to set.
    pub(crate) fn open_for_login(env: &dyn Env) -> Result<State> {
        let Some(d) = dir(env) else {
            return Err(Error::usage(
                "tgsess has nowhere to remember a pending code or a cooldown: HOME, \
                 XDG_STATE_HOME and TGSESS_STATE_DIR are all unset. Set TGSESS_STATE_DIR to \
                 a private directory; nothing was requested",
            ));
        };
        let unusable = |e: String| {
            Error::usage(format!(
                "the state directory {} is not usable ({e}); set TGSESS_STATE_DIR to a \
                 writable private directory. Nothing was requested",
                d.shown()
            ))
        };
        std::fs::create_dir_all(&d).map_err(|e| unusable(e.to_string()))?;
        let store = State::load(Some(d.clone()))?;
        store.modify(|_| ()).map_err(|e| {
            Error::usage(format!(
                "the state directory {} is not usable ({e}); set TGSESS_STATE_DIR to a \
                 writable private directory. Nothing was requested",
                d.shown()
            ))
        })?;
        Ok(store)
    }

    pub(crate) fn get(&self, key: &str) -> PhoneState {
        self.data.phones.get(key).cloned().unwrap_or_default()
    }

    /// Read-modify-write under the state lock: re-reads state.json, applies `f`, writes it
    /// atomically, and keeps the result in `self.data`.
    pub(crate) fn modify(&self, f: impl FnOnce(&mut Data)) -> Result<Data> {
        let Some(path) = &self.path else {
            let mut d = Data::default();
            f(&mut d);
            return Ok(d);
        };
        let dir = path.parent().expect("state.json has a parent");
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::usage(format!(
                "cannot create state directory {}: {e}",
                dir.shown()
            ))
        })?;
        let lock_path = dir.join("state.lock");
        let lock = tgsess_shared::fs::open_lock_file(&lock_path)
            .map_err(|e| Error::usage(format!("cannot open {}: {e}", lock_path.shown())))?;
        lock.lock()
            .map_err(|e| Error::usage(format!("cannot lock {}: {e}", lock_path.shown())))?;
        tgsess_shared::fs::remove_leftovers(path);
        let mut data = read(path)?;
        f(&mut data);
        let text = serde_json::to_string_pretty(&data).expect("serializes");
        tgsess_shared::fs::write_private(path, text.as_bytes())
            .map_err(|e| Error::usage(format!("cannot write {}: {e}", path.shown())))?;
        Ok(data)
    }

    /// [`State::modify`] only when state.json already exists: commands that only read
    /// (`check`, `list --check`) remember what Telegram said, but never create the state.
    pub(crate) fn modify_existing(&self, f: impl FnOnce(&mut Data)) -> Result<bool> {
        match &self.path {
            Some(p) if p.is_file() => self.modify(f).map(|_| true),
            _ => Ok(false),
        }
    }

    /// [`State::modify`], keeping the new state.
    pub(crate) fn update(&mut self, f: impl FnOnce(&mut Data)) -> Result<()> {
        self.data = self.modify(f)?;
        Ok(())
    }
}

/// Reads state.json: missing is empty; only a regular file of sane size is read.
fn read(path: &Path) -> Result<Data> {
    let damaged = |why: String| {
        Error::usage(format!(
            "state file {} {why}; move it away to start over (it only holds cooldowns, \
             pending codes, login drafts and logout tokens)",
            path.shown()
        ))
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Data::default()),
        Err(e) => return Err(damaged(format!("cannot be read ({e})"))),
        Ok(m) if !m.is_file() => {
            return Err(damaged(format!(
                "is not a regular file (it is {})",
                tgsess_shared::fs::kind_of(&m)
            )));
        }
        Ok(_) => {}
    }
    let text = tgsess_shared::fs::read_regular_text(path, MAX_STATE)
        .map_err(|e| damaged(format!("cannot be read ({e})")))?;
    serde_json::from_str(&text).map_err(|e| damaged(format!("is damaged ({e})")))
}

pub(crate) use tgsess_shared::mtproto::{decode_token, encode_token};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_private_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let sd = d.path().join("st");
        let mut s = State::load(Some(sd.clone())).unwrap();
        s.update(|d| {
            d.phone("123").cooldown_until = Some(99);
            d.phone("123").future_auth_tokens.push(encode_token(b"tok"));
        })
        .unwrap();
        let back = State::load(Some(sd.clone())).unwrap();
        assert_eq!(back.get("123").cooldown_until, Some(99));
        let mode = std::fs::metadata(sd.join("state.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn concurrent_changes_are_all_kept() {
        let d = tempfile::tempdir().unwrap();
        let sd = d.path().join("st");
        // Two stores loaded before either writes: the second must not drop the first's token.
        let a = State::load(Some(sd.clone())).unwrap();
        let b = State::load(Some(sd.clone())).unwrap();
        a.modify(|d| d.phone("1").future_auth_tokens.push("t".into()))
            .unwrap();
        b.modify(|d| d.phone("2").cooldown_until = Some(5)).unwrap();
        let back = State::load(Some(sd)).unwrap();
        assert_eq!(back.get("1").future_auth_tokens, vec!["t".to_string()]);
        assert_eq!(back.get("2").cooldown_until, Some(5));
    }

    #[test]
    fn sandbox_state_is_kept_apart() {
        assert_eq!(phone_key("+1 555", None), "1555");
        assert_ne!(phone_key("1555", Some(Path::new("/sb"))), "1555");
    }
}
