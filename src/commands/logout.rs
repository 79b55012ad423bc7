//! `tgsess logout` and `tgsess reset --logout`: auth.logOut, keep the future auth token
//! for the account, then delete the session as `reset` does. When Telegram cannot be
//! reached the file is kept unless --yes, so a live key is never lost by accident.

use std::time::Duration;

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;

use crate::env::Env;
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::session::Target;
use crate::settings::Settings;
use crate::state::{self, Store};

pub async fn run(settings: &Settings, env: &dyn Env, yes: bool, timeout: u64) -> Result<Exit> {
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
    if !yes && !output::interactive() {
        // As reset: deleting a session is never done without a yes from someone.
        return Err(Error::usage(format!(
            "logout would log out {} at Telegram and delete it; not on a terminal, so \
             confirm with `{}`",
            path.shown(),
            settings.command("logout --yes")
        )));
    }
    if !yes
        && !crate::prompt::confirm(&format!(
            "Log out {} at Telegram and delete it? The next login requests a new code (or \
             signs in with the future auth token Telegram returns).",
            path.shown()
        ))
        .await?
    {
        output::out("Nothing was logged out or deleted.");
        return Ok(Exit::NotSignedIn);
    }
    let lock = target.lock()?;
    let Some(record) = target.record().await? else {
        output::out("The session holds no login key: nothing to log out at Telegram.");
        super::reset::delete_reporting(&path, lock)?;
        return Ok(Exit::Ok);
    };
    let (api_id, _) = settings.api_credentials()?;
    let network = settings.network();
    let conn = match network.memory_session(Some(&record), false).await {
        Ok(session) => network.connect(session, api_id),
        Err(e) => Err(e),
    };
    let reply = match conn {
        // The fence refused the session's address: a configuration to fix, never a reason
        // to delete the key, --yes or not.
        Err(e @ Error::Usage(_)) => return Err(e),
        Ok(conn) => {
            let reply = tokio::time::timeout(
                Duration::from_secs(timeout.max(1)),
                crate::prompt::busy(
                    "Logging out at Telegram",
                    conn.client.invoke(&tl::functions::auth::LogOut {}),
                ),
            )
            .await
            .map_err(|_| format!("no answer within {timeout} s"));
            conn.close().await;
            reply
        }
        // Not even connected (e.g. the sandbox is not running): same as unreachable.
        Err(e) => Err(e.to_string()),
    };
    let outcome = match reply {
        Ok(Ok(tl::enums::auth::LoggedOut::Out(out))) => {
            let store = Store::load(state::dir(env))?;
            // The configured phone, else the one this session signed in with.
            let phone = settings
                .phone
                .as_ref()
                .map(|p| p.value.clone())
                .or_else(|| state::per_session(&store.data.session_phones, &path).cloned());
            match (out.future_auth_token, phone) {
                (Some(token), Some(phone)) => {
                    let key = state::phone_key(&phone, settings.sandbox_dir.as_deref());
                    store.modify(|d| {
                        d.phone(&key)
                            .future_auth_tokens
                            .push(state::encode_token(&token))
                    })?;
                    output::out(format!(
                        "Logged out at Telegram. Its future auth token is kept for this phone \
                         number: the next `{}` may sign in without a code.",
                        settings.command("login")
                    ));
                }
                (Some(_), None) => output::out(
                    "Logged out at Telegram. (No phone is configured, so its future auth token \
                     was not kept.)",
                ),
                (None, _) => output::out("Logged out at Telegram."),
            }
            Ok(())
        }
        Ok(Err(InvocationError::Rpc(r))) if r.code == 401 => {
            output::out(format!(
                "Telegram says this key was not signed in ({}); nothing to log out.",
                r.name
            ));
            Ok(())
        }
        Ok(Err(e)) => Err(crate::net::says(&e)),
        Err(why) => Err(why),
    };
    match outcome {
        Ok(()) => {}
        Err(why) if yes => {
            output::warn(format!(
                "could not log out at Telegram ({why}); deleting anyway as --yes asks. The key \
                 may stay valid at Telegram: end it from Settings > Devices in an official app"
            ));
        }
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
