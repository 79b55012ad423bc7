//! `tgsess logout` and `tgsess reset --logout`: auth.logOut, keep the future auth token
//! for the account, then delete the session as `reset` does. When Telegram cannot be
//! reached the file is kept unless --yes, so a live key is never lost by accident.

use std::time::Duration;

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;

use crate::env::Env;
use crate::error::{Error, Exit, Result};
use crate::output::{self, Shown};
use crate::session::Target;
use crate::settings::Settings;
use crate::state::{self, State};
use tgsess_store::Record;

// `tgsess logout`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Delete the session even when Telegram cannot be reached (its key may stay valid)
    #[arg(long)]
    pub(crate) yes: bool,
    /// Seconds to wait for Telegram
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) timeout: u64,
}

pub(crate) async fn run(settings: &Settings, env: &dyn Env, args: &Args) -> Result<Exit> {
    let target = Target::open(settings).await?;
    let path = target.path.clone();
    if !target.exists() {
        output::out(format!(
            "No session at {}; nothing to log out.",
            path.shown()
        ));
        return Ok(Exit::Ok);
    }
    target.write_format(settings, "delete")?;
    if !confirmed(settings, &path, args.yes).await? {
        output::out("Nothing was logged out or deleted.");
        return Ok(Exit::NotSignedIn);
    }
    let lock = target.lock()?;
    let Some(record) = target.record().await? else {
        output::out("The session holds no login key: nothing to log out at Telegram.");
        super::reset::delete_reporting(&path, lock)?;
        return Ok(Exit::Ok);
    };
    match log_out(settings, env, &record, args.timeout, &path).await? {
        Ok(()) => {}
        Err(why) if args.yes => output::warn(format!(
            "could not log out at Telegram ({why}); deleting anyway as --yes asks. The key may \
             stay valid at Telegram: end it from Settings > Devices in an official app"
        )),
        Err(why) => {
            return Err(Error::NoVerdict(format!(
                "could not log out at Telegram{} ({why}); the session {} was kept so its key \
                 is not lost. Try again later, or `{}` to delete it anyway",
                settings.via_proxy(),
                path.shown(),
                settings.command("logout --yes")
            )));
        }
    }
    super::reset::delete_reporting(&path, lock)?;
    Ok(Exit::Ok)
}

/// --yes, or a yes at the terminal; off a terminal without --yes, a usage error (as reset:
/// deleting a session is never done without a yes from someone).
async fn confirmed(settings: &Settings, path: &std::path::Path, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !output::interactive() {
        return Err(Error::usage(format!(
            "logout would log out {} at Telegram and delete it; not on a terminal, so confirm \
             with `{}`",
            path.shown(),
            settings.command("logout --yes")
        )));
    }
    crate::prompt::confirm(&format!(
        "Log out {} at Telegram and delete it? The next login requests a new code (or signs \
         in with the future auth token Telegram returns).",
        path.shown()
    ))
    .await
}

/// auth.logOut on the session's key: `Ok(Ok(()))` logged out (or not signed in anyway),
/// `Ok(Err(why))` Telegram could not be asked. A fence refusal is an error of its own: a
/// configuration to fix, never a reason to delete the key, --yes or not.
async fn log_out(
    settings: &Settings,
    env: &dyn Env,
    record: &Record,
    timeout: u64,
    path: &std::path::Path,
) -> Result<std::result::Result<(), String>> {
    let (api_id, _) = settings.api_credentials()?;
    let network = settings.network();
    let conn = match network.memory_session(Some(record), false).await {
        Ok(session) => network.connect(session, api_id),
        Err(e) => Err(e),
    };
    let conn = match conn {
        Err(e @ Error::Usage(_)) => return Err(e),
        // Not even connected (e.g. the sandbox is not running): as unreachable.
        Err(e) => return Ok(Err(e.to_string())),
        Ok(conn) => conn,
    };
    let reply = tokio::time::timeout(
        Duration::from_secs(timeout.max(1)),
        crate::prompt::busy(
            "Logging out at Telegram",
            conn.client.invoke(&tl::functions::auth::LogOut {}),
        ),
    )
    .await;
    conn.close().await;
    match reply {
        Ok(Ok(tl::enums::auth::LoggedOut::Out(out))) => {
            keep_token(settings, env, out.future_auth_token, path)?;
            Ok(Ok(()))
        }
        Ok(Err(InvocationError::Rpc(r))) if r.code == 401 => {
            output::out(format!(
                "Telegram says this key was not signed in ({}); nothing to log out.",
                r.name
            ));
            Ok(Ok(()))
        }
        Ok(Err(e)) => Ok(Err(crate::net::says(&e))),
        Err(_) => Ok(Err(format!("no answer within {timeout} s"))),
    }
}

/// Keeps the future auth token for the phone (the configured one, else the one this session
/// signed in with), so the next login may sign in without a code.
fn keep_token(
    settings: &Settings,
    env: &dyn Env,
    token: Option<Vec<u8>>,
    path: &std::path::Path,
) -> Result<()> {
    let state = State::load(state::dir(env))?;
    let phone = settings
        .phone
        .as_ref()
        .map(|p| p.value.clone())
        .or_else(|| state::per_session(&state.data.session_phones, path).cloned());
    match (token, phone) {
        (Some(token), Some(phone)) => {
            let key = state::phone_key(&phone, settings.sandbox_dir.as_deref());
            state.modify(|d| {
                d.phone(&key)
                    .future_auth_tokens
                    .push(state::encode_token(&token))
            })?;
            output::out(format!(
                "Logged out at Telegram. Its future auth token is kept for this phone number: \
                 the next `{}` may sign in without a code.",
                settings.command("login")
            ));
        }
        (Some(_), None) => output::out(
            "Logged out at Telegram. (No phone is configured, so its future auth token was not \
             kept.)",
        ),
        (None, _) => output::out("Logged out at Telegram."),
    }
    Ok(())
}
