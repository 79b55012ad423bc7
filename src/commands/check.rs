//! `tgsess check`: an exit code for scripts. Never prompts, never requests a code, never
//! creates or modifies a file.

use std::time::{Duration, Instant};

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;

use crate::error::{Exit, Result};
use crate::formats::Format;
use crate::net::Connection;
use crate::output;
use crate::report::CheckReport;
use crate::session_file::{self, Presence};
use crate::settings::Settings;

/// How a check ended, before it is printed.
struct Verdict {
    exit: Exit,
    status: &'static str,
    reason: String,
    user_id: Option<i64>,
    bot: Option<bool>,
    dc: Option<i32>,
}

async fn offline(settings: &Settings) -> Result<Verdict> {
    let path = &settings.session.path;
    let not_signed = |reason: String| Verdict {
        exit: Exit::NotSignedIn,
        status: "not_signed_in",
        reason,
        user_id: None,
        bot: None,
        dc: None,
    };
    match session_file::examine(path).await? {
        Presence::Missing => Ok(not_signed(format!(
            "no session file at {} ({})",
            path.display(),
            settings.session.reason
        ))),
        Presence::File(i, _) if i.format != Format::Tgsess => {
            Err(session_file::wrong_format_error(path, &i))
        }
        Presence::File(i, _) => {
            if i.signed_in == Some(true) {
                Ok(Verdict {
                    exit: Exit::Ok,
                    status: "signed_in",
                    reason: format!(
                        "{} records a signed-in {} (from the file only; Telegram was not asked)",
                        path.display(),
                        if i.bot == Some(true) { "bot" } else { "user" }
                    ),
                    user_id: i.user_id,
                    bot: i.bot,
                    dc: i.home_dc,
                })
            } else {
                let why = if i.has_auth_key() {
                    "holds a login key that is not signed in"
                } else {
                    "holds no login key"
                };
                let mut v = not_signed(format!("{} {why}", path.display()));
                v.dc = i.home_dc;
                Ok(v)
            }
        }
    }
}

/// Asks Telegram (updates.getState) with an in-memory copy of the session: only a 401
/// means "not signed in" (login-facts.md: Telethon's `is_user_authorized` treats any error
/// as not authorized; Pyrogram never asks). Anything else is no verdict.
async fn online(settings: &Settings, timeout: Duration) -> Result<Verdict> {
    let v = offline(settings).await?;
    if v.status == "not_signed_in" && v.dc.is_none() {
        // No file: exit 1 at once, no network.
        return Ok(v);
    }
    let path = &settings.session.path;
    let Some(memory) = crate::net::memory_copy(path, settings.sandbox_dir.as_deref()).await? else {
        return Ok(Verdict {
            reason: format!("{} holds no login key", path.display()),
            ..v
        });
    };
    let (api_id, _) = settings.api_credentials()?;
    let conn = Connection::new(memory, api_id);
    let reply = tokio::time::timeout(
        timeout,
        conn.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await;
    conn.close().await;
    let base = Verdict {
        exit: Exit::NoVerdict,
        status: "no_verdict",
        reason: String::new(),
        user_id: v.user_id,
        bot: v.bot,
        dc: v.dc,
    };
    Ok(match reply {
        Ok(Ok(_)) => Verdict {
            exit: Exit::Ok,
            status: "signed_in",
            reason: format!(
                "Telegram confirms the key in {} is signed in",
                path.display()
            ),
            ..base
        },
        Ok(Err(InvocationError::Rpc(r))) if r.code == 401 => Verdict {
            exit: Exit::NotSignedIn,
            status: "not_signed_in",
            reason: format!(
                "Telegram answered 401 {} for {}: the key is not signed in (logged out,                  revoked or never signed in); `tgsess login` signs in again",
                r.name,
                path.display()
            ),
            ..base
        },
        Ok(Err(e)) => Verdict {
            reason: format!("no verdict: {e}"),
            ..base
        },
        Err(_) => Verdict {
            reason: format!(
                "no verdict: no answer within {} s (--timeout)",
                timeout.as_secs()
            ),
            ..base
        },
    })
}

pub async fn run(
    settings: &Settings,
    offline_only: bool,
    timeout: u64,
    json: bool,
    quiet: bool,
) -> Result<Exit> {
    let started = Instant::now();
    let result = if offline_only {
        offline(settings).await
    } else {
        online(settings, Duration::from_secs(timeout.max(1))).await
    };
    let verdict = match result {
        Ok(v) => v,
        Err(e) => {
            // Scripts asked for JSON: give them JSON for file problems too.
            if json {
                let exit = e.exit();
                output::json(&CheckReport {
                    status: "file_problem",
                    reason: e.to_string(),
                    user_id: None,
                    bot: None,
                    dc: None,
                    session: settings.session.path.clone(),
                    offline: offline_only,
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
                return Ok(exit);
            }
            if quiet {
                return Ok(e.exit());
            }
            return Err(e);
        }
    };
    if json {
        output::json(&CheckReport {
            status: verdict.status,
            reason: verdict.reason,
            user_id: verdict.user_id,
            bot: verdict.bot,
            dc: verdict.dc,
            session: settings.session.path.clone(),
            offline: offline_only,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
    } else if !quiet {
        let head = if verdict.exit == Exit::Ok {
            match verdict.user_id {
                Some(id) => format!(
                    "signed in as {} {id}",
                    if verdict.bot == Some(true) {
                        "bot"
                    } else {
                        "user"
                    }
                ),
                None => "signed in".to_string(),
            }
        } else if verdict.exit == Exit::NoVerdict {
            "no verdict".to_string()
        } else {
            "not signed in".to_string()
        };
        output::out(format!("{head}: {}", verdict.reason));
    }
    Ok(verdict.exit)
}
