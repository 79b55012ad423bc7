//! `tgsess check`: an exit code for scripts. Never prompts, never requests a code, never
//! creates or modifies a file.

use std::time::Instant;

use crate::error::{Error, Exit, Result};
use crate::formats::Format;
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

pub async fn run(settings: &Settings, offline_only: bool, json: bool, quiet: bool) -> Result<Exit> {
    if !offline_only {
        return Err(Error::usage(
            "this build checks the file only: run `tgsess check --offline`",
        ));
    }
    let started = Instant::now();
    let verdict = match offline(settings).await {
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
                    offline: true,
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
            offline: true,
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
        } else {
            "not signed in".to_string()
        };
        output::out(format!("{head}: {}", verdict.reason));
    }
    Ok(verdict.exit)
}
