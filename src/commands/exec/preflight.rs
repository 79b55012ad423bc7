//! exec's pre-flight: before PROGRAM starts, the managed session is asked once, as `check`
//! asks (one request, [`crate::net::ask`]); never a code. What Telegram confirms is
//! remembered for the key, after exec took the lock, so `check` and `list --check` can
//! report the held session with that identity without opening a second connection.

use crate::commands::check;
use crate::error::{Error, Exit, Result};
use crate::health::{self, Status, Verdict};
use crate::identity::Identity;
use crate::output::{self, Shown};
use crate::session::Target;
use crate::settings::Settings;
use crate::state::State;

/// Asks Telegram about the managed session. `Ok`: PROGRAM may start, signed in as the
/// identity (when known). `Err(Error::Guard)`: it must not, and the message says why and
/// how to fix it.
pub(super) async fn run(
    settings: &Settings,
    target: &Target,
    record: Option<&tgsess_store::Record>,
    timeout: u64,
) -> Result<Option<Identity>> {
    let Some(record) = record else {
        return Err(no_key(settings, target));
    };
    let state = State::load(settings.state_dir.clone())?;
    let key = check::key_hex(record);
    let earlier = state.data.keys.get(&key).cloned();
    let verdict = match check::ask(settings, target, record, timeout).await {
        Ok(v) => health::destroyed_stays_revoked(v, earlier.as_ref()),
        // No sandbox running, a proxy refusing: no verdict, as a timeout is.
        Err(e) if e.exit() == Exit::NoVerdict => Verdict::new(Status::NoVerdict, e.to_string()),
        Err(e) => return Err(e),
    };
    remember(&state, &key, &verdict);
    match verdict.status {
        Status::SignedIn => Ok(verdict.identity),
        Status::NoVerdict => unreachable_but_known(settings, &verdict, earlier.as_ref()),
        _ => Err(refused(&verdict)),
    }
}

/// Telegram could not be reached: PROGRAM starts only on a key Telegram confirmed before
/// (as the pinned account, when there is a pin), with a warning.
fn unreachable_but_known(
    settings: &Settings,
    verdict: &Verdict,
    earlier: Option<&crate::state::KeyMemory>,
) -> Result<Option<Identity>> {
    let last = health::last_confirmed(earlier).filter(|(who, _)| {
        settings
            .expect_user
            .as_ref()
            .is_none_or(|pin| who.matches(&pin.value))
    });
    match last {
        Some((who, when)) => {
            output::warn(format!(
                "pre-flight: no verdict ({}); starting anyway, as Telegram confirmed this key \
                 signed in as {} at {when}",
                verdict.reason,
                who.describe()
            ));
            Ok(Some(who))
        }
        None => Err(Error::Guard(format!(
            "not started: the pre-flight got no verdict ({}), and Telegram never confirmed \
             this key to tgsess before, so it may be dead. Try again when Telegram can be \
             reached (`{}` asks it), or start without the pre-flight (--no-preflight)",
            verdict.reason,
            settings.command("check")
        ))),
    }
}

/// The verdict's words already carry the fix (log in again; find what else used the key;
/// no login helps a banned account; which account the pin wants).
fn refused(v: &Verdict) -> Error {
    Error::Guard(format!(
        "not started: the session is {}: {}",
        v.status.word().replace('_', " "),
        v.reason
    ))
}

fn no_key(settings: &Settings, target: &Target) -> Error {
    let what = if target.exists() {
        "holds no login key"
    } else {
        "does not exist"
    };
    Error::Guard(format!(
        "not started: {} {what} ({}), so the program would ask Telegram for a login code. \
         Log in first: `{}`",
        target.path.shown(),
        settings.session.reason,
        settings.command("login")
    ))
}

/// Remembers the verdict for the key, creating the state if needed: exec is a writer.
fn remember(state: &State, key: &str, v: &Verdict) {
    let r = state.modify(|d| health::note(d, key, v));
    if let Err(e) = r {
        output::warn(format!(
            "the pre-flight's verdict could not be remembered: {e}"
        ));
    }
}
