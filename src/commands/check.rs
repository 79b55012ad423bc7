//! `tgsess check`: an exit code for scripts. Never prompts, never requests a code, never
//! creates or modifies a file, whatever the session's format.

use std::time::{Duration, Instant};

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;

use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::report::CheckReport;
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::SignedIn;

/// `tgsess check`.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Args {
    /// Decide from the file alone, without contacting Telegram
    #[arg(long)]
    pub(crate) offline: bool,
    /// Seconds to wait for Telegram before giving no verdict (exit 3)
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) timeout: u64,
    /// One JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
    /// Print nothing; the exit code is the answer
    #[arg(short, long, conflicts_with = "json")]
    pub(crate) quiet: bool,
}

/// How a check ended, before it is printed.
struct Verdict {
    exit: Exit,
    status: &'static str,
    reason: String,
    user_id: Option<i64>,
    bot: Option<bool>,
    dc: Option<i32>,
}

impl Verdict {
    fn new(exit: Exit, status: &'static str, reason: String) -> Verdict {
        Verdict {
            exit,
            status,
            reason,
            user_id: None,
            bot: None,
            dc: None,
        }
    }
}

async fn offline(settings: &Settings, target: &Target) -> Result<Verdict> {
    let path = &target.path;
    target.read_format(settings)?;
    let Some(i) = target.inspection() else {
        return Ok(Verdict::new(
            Exit::NotSignedIn,
            "not_signed_in",
            format!(
                "no session file at {} ({})",
                path.shown(),
                settings.session.reason
            ),
        ));
    };
    let mut v = match i.signed_in() {
        SignedIn::Yes => Verdict::new(
            Exit::Ok,
            "signed_in",
            format!(
                "{} records a signed-in {} (from the file only; Telegram was not asked)",
                path.shown(),
                if i.bot == Some(true) { "bot" } else { "user" }
            ),
        ),
        SignedIn::No => Verdict::new(
            Exit::NotSignedIn,
            "not_signed_in",
            format!(
                "{} {}",
                path.shown(),
                if i.has_auth_key() {
                    "holds a login key that is not signed in"
                } else {
                    "holds no login key"
                }
            ),
        ),
        SignedIn::Unknown => Verdict::new(
            Exit::NoVerdict,
            "unknown",
            format!(
                "{} holds a login key, but {}s do not record the user, so the file alone \
                 cannot tell; `{}` asks Telegram",
                path.shown(),
                i.describe(),
                settings.command("check")
            ),
        ),
    };
    v.user_id = i.user_id;
    v.bot = i.bot;
    v.dc = i.home_dc;
    Ok(v)
}

/// Asks Telegram (updates.getState) with an in-memory session built from the store: only a
/// 401 means "not signed in" (docs/login.md: Telethon's `is_user_authorized` treats any
/// error as not authorized; Pyrogram never asks). Anything else is no verdict.
async fn online(settings: &Settings, target: &Target, timeout: Duration) -> Result<Verdict> {
    let mut v = asked(settings, target, timeout).await?;
    // What the file's reading noted (a stored address that is not one, so the DC table's was
    // used) goes with the verdict.
    if let Some(note) = target.inspection().and_then(|i| i.note.as_deref()) {
        v.reason.push_str(&format!(" (note: {note})"));
    }
    Ok(v)
}

async fn asked(settings: &Settings, target: &Target, timeout: Duration) -> Result<Verdict> {
    let v = offline(settings, target).await?;
    let path = &target.path;
    let Some(record) = target.record().await? else {
        // No file or no key: nothing to ask Telegram about.
        return Ok(Verdict {
            exit: Exit::NotSignedIn,
            status: "not_signed_in",
            ..v
        });
    };
    let (api_id, _) = settings.api_credentials()?;
    let network = settings.network();
    let memory = network.memory_session(Some(&record), false).await?;
    let conn = network.connect(memory, api_id)?;
    let reply = tokio::time::timeout(
        timeout,
        conn.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await;
    conn.close().await;
    let base = Verdict {
        user_id: v.user_id,
        bot: v.bot,
        dc: v.dc,
        ..Verdict::new(Exit::NoVerdict, "no_verdict", String::new())
    };
    Ok(match reply {
        Ok(Ok(_)) => Verdict {
            exit: Exit::Ok,
            status: "signed_in",
            reason: format!("Telegram confirms the key in {} is signed in", path.shown()),
            ..base
        },
        Ok(Err(InvocationError::Rpc(r))) if r.code == 401 => Verdict {
            exit: Exit::NotSignedIn,
            status: "not_signed_in",
            reason: format!(
                "Telegram answered 401 {} for {}: the key is not signed in (logged out, \
                 revoked or never signed in); `{}` signs in again",
                r.name,
                path.shown(),
                settings.command("login")
            ),
            ..base
        },
        Ok(Err(e)) => Verdict {
            reason: format!(
                "Telegram could not be asked{}: {}",
                settings.via_proxy(),
                crate::net::says(&e)
            ),
            ..base
        },
        Err(_) => Verdict {
            reason: format!(
                "no answer within {} s (--timeout){}",
                timeout.as_secs(),
                settings.via_proxy()
            ),
            ..base
        },
    })
}

/// With no session at the path, the signed-in files nearby that `status` and `login` name,
/// on stderr: a script's exit code stays the answer, its log shows the likely cause.
async fn nearby_note(settings: &Settings) {
    let dirs = settings.near_dirs();
    let found = tgsess_store::files::near_misses(&settings.session.path, &dirs).await;
    for f in found
        .iter()
        .filter(|f| f.inspection.signed_in() != SignedIn::No)
    {
        let format = f.inspection.format;
        output::warn(format!(
            "there is no session at {}, but {} nearby holds a login key ({}); if it is the \
             one meant, check it with `{}` (`{}` explains how the session file is chosen)",
            settings.session.path.shown(),
            f.path.shown(),
            f.inspection.describe(),
            settings.command_on(&f.path, format, "check"),
            settings.command("status")
        ));
    }
}

/// The JSON status of an error, agreeing with its exit code.
fn error_status(e: &Error) -> &'static str {
    match e.exit() {
        Exit::NotSignedIn => "not_signed_in",
        Exit::Usage => "usage_error",
        Exit::SessionFile => "file_problem",
        _ => "no_verdict",
    }
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let (offline_only, timeout, json, quiet) = (args.offline, args.timeout, args.json, args.quiet);
    let started = Instant::now();
    let result = match Target::open(settings).await {
        Ok(t) if offline_only => offline(settings, &t).await,
        Ok(t) => online(settings, &t, Duration::from_secs(timeout.max(1))).await,
        Err(e) => Err(e),
    };
    let report = |status, reason, v: Option<&Verdict>| CheckReport {
        status,
        reason,
        user_id: v.and_then(|v| v.user_id),
        bot: v.and_then(|v| v.bot),
        dc: v.and_then(|v| v.dc),
        session: settings.session.path.clone(),
        offline: offline_only,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    if !quiet && !settings.session.path.exists() {
        nearby_note(settings).await;
    }
    let verdict = match result {
        Ok(v) => v,
        Err(e) if json => {
            // Scripts asked for JSON: give them JSON for every failure too.
            output::json(&report(error_status(&e), e.to_string(), None));
            return Ok(e.exit());
        }
        Err(e) if quiet => return Ok(e.exit()),
        Err(e) => return Err(e),
    };
    if json {
        output::json(&report(
            verdict.status,
            verdict.reason.clone(),
            Some(&verdict),
        ));
    } else if !quiet {
        let head = match verdict.exit {
            Exit::Ok => match verdict.user_id {
                Some(id) => format!(
                    "signed in as {} {id}",
                    if verdict.bot == Some(true) {
                        "bot"
                    } else {
                        "user"
                    }
                ),
                None => "signed in".to_string(),
            },
            Exit::NoVerdict if verdict.status == "unknown" => "unknown offline".to_string(),
            Exit::NoVerdict => "no verdict".to_string(),
            _ => "not signed in".to_string(),
        };
        output::out(format!("{head}: {}", verdict.reason));
    }
    Ok(verdict.exit)
}
