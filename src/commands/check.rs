//! `tgsess check`: an exit code for scripts. One request (see [`crate::net::ask`]), never a
//! prompt, never a code, never a session file written. What Telegram says about the key is
//! remembered in the state when the state already exists.

use std::time::{Duration, Instant};

use crate::error::{Error, Exit, Result};
use crate::health::{self, Context, Status, Verdict};
use crate::identity::Identity;
use crate::net::ask::Asker;
use crate::output;
use crate::output::Shown;
use crate::report::{CheckReport, Confirmed};
use crate::session::Target;
use crate::settings::Settings;
use crate::state::State;
use tgsess_store::{Record, SignedIn};

// `tgsess check`.
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
    /// Ask Telegram even while `tgsess exec` holds the session: a second connection on a
    /// key in use may make Telegram destroy it (AUTH_KEY_DUPLICATED)
    #[arg(long)]
    pub(crate) while_held: bool,
}

/// The key's id in hex, as the state remembers it.
pub(crate) fn key_hex(r: &Record) -> String {
    tgsess_store::write::key_id_hex(&r.auth_key)
}

/// From the file alone, with what Telegram last confirmed for its key.
fn offline(settings: &Settings, target: &Target) -> Result<(Verdict, Option<Confirmed>)> {
    let path = &target.path;
    target.read_format(settings)?;
    let Some(i) = target.inspection() else {
        let why = format!(
            "no session file at {} ({})",
            path.shown(),
            settings.session.reason
        );
        return Ok((Verdict::new(Status::NotSignedIn, why), None));
    };
    let memory = State::load(settings.state_dir.clone()).ok().and_then(|s| {
        let id = i.auth_key.as_ref().map(tgsess_store::write::key_id_hex)?;
        s.data.keys.get(&id).cloned()
    });
    let last = health::last_confirmed(memory.as_ref());
    let mut v = match i.signed_in() {
        SignedIn::Yes => Verdict::new(
            Status::SignedIn,
            format!(
                "{} records a signed-in {} (from the file only; Telegram was not asked)",
                path.shown(),
                if i.bot == Some(true) { "bot" } else { "user" }
            ),
        ),
        SignedIn::No => Verdict::new(
            Status::NotSignedIn,
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
            Status::Unknown,
            format!(
                "{} holds a login key, but {}s do not record the user, so the file alone \
                 cannot tell; `{}` asks Telegram",
                path.shown(),
                i.describe(),
                settings.command("check")
            ),
        ),
    };
    if let Some((who, at)) = &last {
        v.reason.push_str(&format!(
            "; Telegram last confirmed this key signed in as {} at {at}",
            who.describe()
        ));
    }
    v.identity = file_identity(i.user_id, i.bot, last.as_ref().map(|(w, _)| w));
    v.dc = i.home_dc;
    let confirmed = last.map(|(user, at)| Confirmed { user, at });
    Ok((v, confirmed))
}

/// The user a file records, with the name Telegram last confirmed for that very user.
fn file_identity(id: Option<i64>, bot: Option<bool>, last: Option<&Identity>) -> Option<Identity> {
    let id = id?;
    Some(match last.filter(|w| w.id == id) {
        Some(w) => w.clone(),
        None => Identity {
            id,
            username: None,
            name: String::new(),
            bot: bot == Some(true),
        },
    })
}

/// Telegram asked, once; the session left alone while `exec` holds it.
async fn online(settings: &Settings, target: &Target, args: &Args) -> Result<Verdict> {
    let (v, _) = offline(settings, target)?;
    let Some(record) = target.record().await? else {
        // No file or no key: nothing to ask Telegram about.
        let status = match v.status {
            Status::Unknown | Status::SignedIn => Status::NotSignedIn,
            s => s,
        };
        return Ok(Verdict { status, ..v });
    };
    let state = State::load(settings.state_dir.clone())?;
    let key = key_hex(&record);
    if let Some(holder) = target.lock_holder().filter(|_| !args.while_held) {
        let while_held = settings.command("check --while-held");
        let mut held = health::held_verdict(
            &holder,
            state.data.keys.get(&key),
            &target.path,
            &while_held,
        );
        pin_held(settings, &mut held);
        return Ok(held);
    }
    let verdict = ask(settings, target, &record, args.timeout).await?;
    let mut verdict = health::destroyed_stays_revoked(verdict, state.data.keys.get(&key));
    if verdict.status == Status::NoVerdict {
        verdict.reason.push_str(&settings.via_proxy());
    }
    health::remember(&state, &[(key, &verdict)]);
    // What the file's reading noted (a stored address that is not one, so the DC table's was
    // used) goes with the verdict.
    if let Some(note) = target.inspection().and_then(|i| i.note.as_deref()) {
        verdict.reason.push_str(&format!(" (note: {note})"));
    }
    Ok(verdict)
}

/// One request about `record` within `timeout` seconds (at least 1), judged: what `check`
/// and exec's pre-flight both send.
pub(crate) async fn ask(
    settings: &Settings,
    target: &Target,
    record: &Record,
    timeout: u64,
) -> Result<Verdict> {
    let timeout = timeout.max(1);
    let (api_id, _) = settings.api_credentials()?;
    let asker = Asker::new(&settings.network(), api_id)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let asked = asker.ask(record, deadline).await?;
    let mut cx = context(settings, target);
    cx.deadline = format!("within {timeout} s (--timeout)");
    Ok(health::judge(&asked, &cx))
}

/// The words' context: the session, how to log it in, the pin.
pub(crate) fn context<'a>(settings: &'a Settings, target: &'a Target) -> Context<'a> {
    Context {
        path: &target.path,
        login: settings.command("login"),
        pin: settings
            .expect_user
            .as_ref()
            .map(|p| (&p.value, p.source.to_string())),
        deadline: "by the deadline (--timeout)".into(),
    }
}

/// A held session whose confirmed identity is not the pinned one is the wrong user.
fn pin_held(settings: &Settings, v: &mut Verdict) {
    let (Some(pin), Some(who)) = (&settings.expect_user, &v.identity) else {
        return;
    };
    if !who.matches(&pin.value) {
        v.status = Status::WrongUser;
        v.reason.push_str(&format!(
            "; but expect_user (from {}) is {}",
            pin.source, pin.value
        ));
    }
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
    let started = Instant::now();
    let result = match Target::open(settings).await {
        Ok(t) if args.offline => offline(settings, &t),
        Ok(t) => online(settings, &t, args).await.map(|v| (v, None)),
        Err(e) => Err(e),
    };
    if !args.quiet && !settings.session.path.exists() {
        nearby_note(settings).await;
    }
    let report = |status, reason, v: Option<&Verdict>, last| {
        CheckReport::new(
            settings,
            args.offline,
            started.elapsed(),
            (status, reason),
            v,
            last,
        )
    };
    let (verdict, last) = match result {
        Ok(v) => v,
        Err(e) if args.json => {
            // Scripts asked for JSON: give them JSON for every failure too.
            output::json(&report(error_status(&e), e.to_string(), None, None));
            return Ok(e.exit());
        }
        Err(e) if args.quiet => return Ok(e.exit()),
        Err(e) => return Err(e),
    };
    if args.json {
        let r = report(
            verdict.status.word(),
            verdict.reason.clone(),
            Some(&verdict),
            last,
        );
        output::json(&r);
    } else if !args.quiet {
        output::out(format!("{}: {}", headline(&verdict), verdict.reason));
    }
    Ok(verdict.exit())
}

/// The first words of the line for people.
fn headline(v: &Verdict) -> String {
    let who = v
        .identity
        .as_ref()
        .map(|w| match (w.name.is_empty(), &w.username) {
            // Only the id a file records: as the file says it.
            (true, None) => format!("{} {}", if w.bot { "bot" } else { "user" }, w.id),
            _ => w.describe(),
        });
    match (v.status, who) {
        (Status::SignedIn, Some(who)) => format!("signed in as {who}"),
        (Status::SignedIn, None) => "signed in".into(),
        (Status::Unknown, _) => "unknown offline".into(),
        (Status::NoVerdict, _) => "no verdict".into(),
        (Status::Held, _) => "held".into(),
        (Status::Revoked, _) => "revoked".into(),
        (Status::Banned, _) => "banned".into(),
        (Status::WrongUser, _) => "wrong user".into(),
        (Status::NotSignedIn, _) => "not signed in".into(),
    }
}
