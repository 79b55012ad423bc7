//! What tgsess remembers per phone number (not per session file, so it survives `reset`):
//! Telegram's cooldowns, the pending code request, and future auth tokens.
//!
//! One JSON file, `state.json`, in `$TGSESS_STATE_DIR`, else `$XDG_STATE_HOME/tgsess/`, else
//! `~/.local/state/tgsess/`; 0600 in a 0700 directory, replaced atomically (temp + rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::settings::Env;

/// A pending code is reused for this long after it was requested.
pub const PENDING_TTL_SECS: i64 = 600;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// auth.sentCode's phone_code_hash; bound to the auth key below.
    pub phone_code_hash: String,
    /// The auth key the code was requested with (its id, hex).
    pub key_id: String,
    pub dc: i32,
    pub requested_at: i64,
    /// Where the code went, as told to the user ("the Telegram app", "SMS", ...).
    pub sent_via: String,
    pub next_type: Option<String>,
    pub timeout: Option<i32>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhoneState {
    /// Unix seconds until which Telegram asked this phone to wait (FLOOD_WAIT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// future_auth_token values from auth.logOut, base64; sent as logout_tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub future_auth_tokens: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    #[serde(default)]
    pub phones: BTreeMap<String, PhoneState>,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The state directory for this environment.
pub fn dir(env: &dyn Env) -> Option<PathBuf> {
    let nonempty = |k: &str| env.var(k).filter(|v| !v.is_empty());
    if let Some(d) = nonempty("TGSESS_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = nonempty("XDG_STATE_HOME") {
        return Some(Path::new(&d).join("tgsess"));
    }
    nonempty("HOME").map(|h| Path::new(&h).join(".local/state/tgsess"))
}

/// The key under which a phone's state is kept: the digits, plus the sandbox it belongs to,
/// so rehearsals never block a real login.
pub fn phone_key(phone: &str, sandbox: Option<&Path>) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    match sandbox {
        Some(d) => format!("sandbox:{}:{digits}", d.display()),
        None => digits,
    }
}

pub struct Store {
    path: Option<PathBuf>,
    pub data: StateFile,
}

impl Store {
    pub fn load(dir: Option<PathBuf>) -> Result<Store> {
        let Some(dir) = dir else {
            return Ok(Store {
                path: None,
                data: StateFile::default(),
            });
        };
        let path = dir.join("state.json");
        let data = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).map_err(|e| {
                Error::usage(format!(
                    "state file {} is damaged ({e}); move it away to start over (it only \
                     holds cooldowns, pending codes and logout tokens)",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => StateFile::default(),
            Err(e) => {
                return Err(Error::usage(format!(
                    "cannot read state file {}: {e}",
                    path.display()
                )));
            }
        };
        Ok(Store {
            path: Some(path),
            data,
        })
    }

    pub fn phone(&mut self, key: &str) -> &mut PhoneState {
        self.data.phones.entry(key.to_string()).or_default()
    }

    pub fn get(&self, key: &str) -> PhoneState {
        self.data.phones.get(key).cloned().unwrap_or_default()
    }

    /// Writes atomically; 0600 through the umask and the explicit mode.
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().expect("state.json has a parent");
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::usage(format!(
                "cannot create state directory {}: {e}",
                dir.display()
            ))
        })?;
        let text = serde_json::to_string_pretty(&self.data).expect("serializes");
        crate::session_file::write_private_atomic(path, text.as_bytes())
            .map_err(|e| Error::usage(format!("cannot write {}: {e}", path.display())))
    }
}

pub fn encode_token(t: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(t)
}

pub fn decode_token(t: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_private_mode() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let sd = d.path().join("st");
        let mut s = Store::load(Some(sd.clone())).unwrap();
        s.phone("123").cooldown_until = Some(99);
        s.phone("123").future_auth_tokens.push(encode_token(b"tok"));
        s.save().unwrap();
        let back = Store::load(Some(sd.clone())).unwrap();
        assert_eq!(back.get("123").cooldown_until, Some(99));
        let mode = std::fs::metadata(sd.join("state.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn sandbox_state_is_kept_apart() {
        assert_eq!(phone_key("+1 555", None), "1555");
        assert_ne!(phone_key("1555", Some(Path::new("/sb"))), "1555");
    }
}
