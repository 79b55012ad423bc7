//! Telegram's verdict on a session, named: what `check`, `list --check`, the metrics and
//! `exec`'s pre-flight report. One request per key ([`crate::net::ask`]), its answer judged
//! here, the identity pin applied, held sessions left alone, and what Telegram said
//! remembered per key id in the state.
//!
//! Which answer means what (core.telegram.org/api/errors): only a 401 means the key is not
//! authorized; among 401s, SESSION_REVOKED and SESSION_EXPIRED mean the authorization was
//! ended, USER_DEACTIVATED(_BAN) that the account is gone; 406 AUTH_KEY_DUPLICATED that the
//! key was used in parallel and "the session was already invalidated by the server".

use std::path::Path;

use serde::Serialize;

use crate::error::Exit;
use crate::identity::{Identity, Pin};
use crate::net::ask::{Answer, Asked};
use crate::output::Shown;
use crate::state::{KeyMemory, State};

/// The verdict's word, as `check --json`, `list --check --json` and the metrics say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    SignedIn,
    /// No key, or AUTH_KEY_UNREGISTERED (or the DC does not know the key).
    NotSignedIn,
    /// SESSION_REVOKED, SESSION_EXPIRED or AUTH_KEY_DUPLICATED: the key is finished.
    Revoked,
    /// USER_DEACTIVATED or USER_DEACTIVATED_BAN.
    Banned,
    /// Signed in, but not as `expect_user`.
    WrongUser,
    NoVerdict,
    /// Offline only: a key in a format that records no user.
    Unknown,
    /// Not asked: `tgsess exec` holds the session (a second connection on a key in use
    /// risks AUTH_KEY_DUPLICATED).
    Held,
}

impl Status {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::SignedIn => "signed_in",
            Status::NotSignedIn => "not_signed_in",
            Status::Revoked => "revoked",
            Status::Banned => "banned",
            Status::WrongUser => "wrong_user",
            Status::NoVerdict => "no_verdict",
            Status::Unknown => "unknown",
            Status::Held => "held",
        }
    }

    /// The documented exit codes: 0 signed in, 1 not (revoked, banned and the wrong user
    /// included), 3 no verdict. A held session is 0 when its holder confirmed it signed in
    /// after taking it, else 3 (see [`held_verdict`]).
    pub(crate) fn exit(self) -> Exit {
        match self {
            Status::SignedIn => Exit::Ok,
            Status::NotSignedIn | Status::Revoked | Status::Banned | Status::WrongUser => {
                Exit::NotSignedIn
            }
            Status::NoVerdict | Status::Unknown | Status::Held => Exit::NoVerdict,
        }
    }
}

/// Who holds a session, and what Telegram confirmed for its key since.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Held {
    pub(crate) pid: Option<u32>,
    pub(crate) command: String,
    /// RFC 3339, when it took the session.
    pub(crate) since: Option<String>,
    /// The identity Telegram confirmed for the key since the hold began (`exec`'s
    /// pre-flight), if any.
    pub(crate) confirmed: Option<Identity>,
}

/// A verdict and everything said with it.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub(crate) status: Status,
    /// Telegram's error name (`AUTH_KEY_UNREGISTERED`, `SESSION_REVOKED`, …), or `-404`
    /// for the transport error of an unknown key.
    pub(crate) error: Option<String>,
    pub(crate) identity: Option<Identity>,
    /// What happened and what to do, in words.
    pub(crate) reason: String,
    /// The DC that answered.
    pub(crate) dc: Option<i32>,
    pub(crate) held: Option<Held>,
}

impl Verdict {
    pub(crate) fn new(status: Status, reason: String) -> Verdict {
        Verdict {
            status,
            error: None,
            identity: None,
            reason,
            dc: None,
            held: None,
        }
    }

    pub(crate) fn exit(&self) -> Exit {
        match (&self.held, self.status) {
            (Some(h), Status::Held) if h.confirmed.is_some() => Exit::Ok,
            _ => self.status.exit(),
        }
    }
}

/// What a verdict's words need to know about the session.
pub(crate) struct Context<'a> {
    pub(crate) path: &'a Path,
    /// The command that logs this session in, as printed (pastes from any directory).
    pub(crate) login: String,
    /// The pin, and where it came from.
    pub(crate) pin: Option<(&'a Pin, String)>,
    /// The deadline in words: "within 10 s (--timeout)".
    pub(crate) deadline: String,
}

/// Telegram's answer to the one request, judged.
pub(crate) fn judge(asked: &Asked, cx: &Context) -> Verdict {
    let mut v = match &asked.answer {
        Answer::User(who, _) => signed_in(who, cx),
        Answer::Rpc(r) => refused(r.code, &r.name, cx),
        Answer::UnknownKey => Verdict {
            error: Some("-404".into()),
            ..Verdict::new(
                Status::NotSignedIn,
                format!(
                    "DC {} does not know the key in {} (transport error -404): it was \
                     destroyed or never made there; `{}` signs in with a new key",
                    asked.dc,
                    cx.path.shown(),
                    cx.login
                ),
            )
        },
        Answer::Failed(why) => Verdict::new(
            Status::NoVerdict,
            format!("Telegram could not be asked: {why}"),
        ),
        Answer::TimedOut => Verdict::new(Status::NoVerdict, format!("no answer {}", cx.deadline)),
        Answer::NoKey(dc) => Verdict::new(
            Status::NoVerdict,
            format!(
                "the account lives on DC {dc}, and {} holds no key for DC {dc}; a client \
                 signs in there (`{}`)",
                cx.path.shown(),
                cx.login
            ),
        ),
    };
    if let Some(home) = asked.migrated_from {
        v.reason.push_str(&format!(
            " (DC {home} sent the question on to DC {})",
            asked.dc
        ));
    }
    v.dc = Some(asked.dc);
    v
}

fn signed_in(who: &Identity, cx: &Context) -> Verdict {
    let mut v = match &cx.pin {
        Some((pin, from)) if !who.matches(pin) => Verdict::new(
            Status::WrongUser,
            format!(
                "{} is signed in as {}, but expect_user (from {from}) is {pin}: this is \
                 another account's session. Move it away and run `{}` with the right \
                 account, or correct expect_user",
                cx.path.shown(),
                who.describe(),
                cx.login
            ),
        ),
        _ => Verdict::new(
            Status::SignedIn,
            format!(
                "Telegram confirms {} is signed in as {}",
                cx.path.shown(),
                who.describe()
            ),
        ),
    };
    v.identity = Some(who.clone());
    v
}

/// An RPC error, named: revoked, banned, not signed in (any other 401), or no verdict.
fn refused(code: i32, name: &str, cx: &Context) -> Verdict {
    let path = cx.path.shown();
    let login = &cx.login;
    let (status, words) = match (code, name) {
        (406, "AUTH_KEY_DUPLICATED") => (
            Status::Revoked,
            format!(
                "Telegram answered 406 AUTH_KEY_DUPLICATED: the key in {path} was used from two \
                 places at once, and Telegram destroyed it; it must never be used again. Find \
                 out what else used it (a second deploy, a copy of this session) and stop it \
                 before `{login}`, or the new key goes the same way"
            ),
        ),
        (401, "SESSION_REVOKED" | "SESSION_EXPIRED") => (
            Status::Revoked,
            format!(
                "Telegram answered 401 {name}: the authorization of the key in {path} was \
                 ended (from another of the account's sessions, or it expired); `{login}` \
                 signs in with a new key"
            ),
        ),
        (401, "USER_DEACTIVATED" | "USER_DEACTIVATED_BAN") => (
            Status::Banned,
            format!(
                "Telegram answered 401 {name}: the account of {path} is deactivated or \
                 banned; no login helps a banned account, only Telegram can lift it"
            ),
        ),
        (401, _) => (
            Status::NotSignedIn,
            format!(
                "Telegram answered 401 {name} for {path}: the key is not signed in (logged \
                 out, or never signed in); `{login}` signs in again"
            ),
        ),
        _ => (
            Status::NoVerdict,
            format!("Telegram answered {code} {name} for {path}; no verdict"),
        ),
    };
    Verdict {
        error: Some(name.to_string()),
        ..Verdict::new(status, words)
    }
}

/// A key Telegram destroyed (AUTH_KEY_DUPLICATED) answers 401 ever after; it stays
/// `revoked`, with the cause, so a script never takes it for a key that can sign in again.
pub(crate) fn destroyed_stays_revoked(v: Verdict, earlier: Option<&KeyMemory>) -> Verdict {
    let destroyed = earlier.is_some_and(|m| {
        m.status == Status::Revoked.word() && m.error.as_deref() == Some("AUTH_KEY_DUPLICATED")
    });
    if !destroyed || v.status != Status::NotSignedIn {
        return v;
    }
    let when = earlier
        .and_then(|m| jiff::Timestamp::from_millisecond(m.checked_at_ms).ok())
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    Verdict {
        status: Status::Revoked,
        error: Some("AUTH_KEY_DUPLICATED".into()),
        reason: format!(
            "{}; Telegram destroyed this key earlier (AUTH_KEY_DUPLICATED{when}): it was used \
             from two places at once, and must never be used again",
            v.reason
        ),
        ..v
    }
}

/// A held session's verdict, without asking: who holds it since when, and the identity
/// Telegram confirmed for its key after the hold began, if any.
pub(crate) fn held_verdict(
    holder: &tgsess_store::files::Holder,
    memory: Option<&KeyMemory>,
    path: &Path,
    while_held: &str,
) -> Verdict {
    let since = holder.since.and_then(crate::output::timestamp);
    let began = holder
        .since
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64);
    let confirmed = memory
        .filter(|m| matches!((m.confirmed_at_ms, began), (Some(c), Some(b)) if c >= b))
        .and_then(|m| m.identity.clone());
    let words = match &confirmed {
        Some(who) => format!(
            "Telegram confirmed it signed in as {} when it started",
            who.describe()
        ),
        None => "nothing was confirmed since it started".to_string(),
    };
    let mut v = Verdict::new(
        Status::Held,
        format!(
            "{} is held by {holder}{}; not asked, as a second connection on a key in use risks \
             AUTH_KEY_DUPLICATED ({while_held} asks anyway); {words}",
            path.shown(),
            since
                .as_deref()
                .map(|s| format!(" since {s}"))
                .unwrap_or_default(),
        ),
    );
    v.identity = confirmed.clone();
    v.held = Some(Held {
        pid: holder.pid,
        command: holder.command.clone(),
        since,
        confirmed,
    });
    v
}

/// What to remember of a verdict about the key `key_id`: the identity, when confirmed.
pub(crate) fn memory_of(v: &Verdict, earlier: Option<&KeyMemory>) -> KeyMemory {
    let now = crate::state::now_ms();
    let confirmed = v.identity.is_some() && v.status != Status::Held;
    KeyMemory {
        identity: if confirmed {
            v.identity.clone()
        } else {
            earlier.and_then(|m| m.identity.clone())
        },
        confirmed_at_ms: if confirmed {
            Some(now)
        } else {
            earlier.and_then(|m| m.confirmed_at_ms)
        },
        status: v.status.word().to_string(),
        error: v.error.clone(),
        checked_at_ms: now,
    }
}

/// Notes a verdict about the key `key_id` in the state's data.
pub(crate) fn note(d: &mut crate::state::Data, key_id: &str, v: &Verdict) {
    let m = memory_of(v, d.keys.get(key_id));
    d.keys.insert(key_id.to_string(), m);
}

/// Remembers verdicts (key id hex, verdict) in the state, when the state already exists:
/// a read-only command never creates it. Held sessions were not asked and change nothing.
pub(crate) fn remember(state: &State, verdicts: &[(String, &Verdict)]) {
    let asked: Vec<&(String, &Verdict)> = verdicts
        .iter()
        .filter(|(_, v)| !matches!(v.status, Status::Held | Status::Unknown))
        .collect();
    if asked.is_empty() {
        return;
    }
    let r = state.modify_existing(|d| {
        for (id, v) in asked {
            note(d, id, v);
        }
    });
    if let Err(e) = r {
        crate::output::warn(format!("the verdict could not be remembered: {e}"));
    }
}

/// "last confirmed signed in as X at T", for offline words, from what is remembered.
pub(crate) fn last_confirmed(memory: Option<&KeyMemory>) -> Option<(Identity, String)> {
    let m = memory?;
    let at = m.confirmed_at_ms?;
    let when = jiff::Timestamp::from_millisecond(at).ok()?.to_string();
    Some((m.identity.clone()?, when))
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_mtsender::RpcError;

    fn cx(pin: Option<&Pin>) -> Context<'_> {
        Context {
            path: Path::new("/s/a.session"),
            login: "tgsess login".into(),
            pin: pin.map(|p| (p, "TGSESS_EXPECT_USER".to_string())),
            deadline: "within 10 s (--timeout)".into(),
        }
    }

    fn rpc(code: i32, name: &str) -> Asked {
        Asked {
            answer: Answer::Rpc(RpcError {
                code,
                name: name.into(),
                value: None,
                caused_by: None,
            }),
            dc: 2,
            migrated_from: None,
        }
    }

    #[test]
    fn telegram_errors_are_named_as_the_documentation_says() {
        let cases = [
            (401, "AUTH_KEY_UNREGISTERED", Status::NotSignedIn),
            (401, "SESSION_PASSWORD_NEEDED", Status::NotSignedIn),
            (401, "SESSION_REVOKED", Status::Revoked),
            (401, "SESSION_EXPIRED", Status::Revoked),
            (406, "AUTH_KEY_DUPLICATED", Status::Revoked),
            (401, "USER_DEACTIVATED", Status::Banned),
            (401, "USER_DEACTIVATED_BAN", Status::Banned),
            (420, "FLOOD_WAIT", Status::NoVerdict),
            (500, "INTERNAL", Status::NoVerdict),
        ];
        for (code, name, want) in cases {
            let v = judge(&rpc(code, name), &cx(None));
            assert_eq!(v.status, want, "{code} {name}");
            assert_eq!(v.error.as_deref(), Some(name));
        }
        assert_eq!(Status::Revoked.exit(), Exit::NotSignedIn);
        assert_eq!(Status::Banned.exit(), Exit::NotSignedIn);
        assert_eq!(Status::WrongUser.exit(), Exit::NotSignedIn);
    }

    #[test]
    fn the_pin_turns_another_account_into_wrong_user() {
        let who = Identity {
            id: 5,
            username: Some("someone".into()),
            name: "S".into(),
            bot: false,
        };
        let asked = Asked {
            answer: Answer::User(who.clone(), None),
            dc: 2,
            migrated_from: None,
        };
        let pin = Pin::Username("other_one".into());
        let v = judge(&asked, &cx(Some(&pin)));
        assert_eq!(v.status, Status::WrongUser);
        assert!(
            v.reason.contains("@someone") && v.reason.contains("@other_one"),
            "{}",
            v.reason
        );
        let pin = Pin::Id(5);
        assert_eq!(judge(&asked, &cx(Some(&pin))).status, Status::SignedIn);
    }
}
