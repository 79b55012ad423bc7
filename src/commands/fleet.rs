//! `tgsess list --check`: every session in the session directory asked at once, one request
//! each, under one deadline for the whole run. Read-only: sessions are read into memory,
//! never written, no code is requested, and sessions `tgsess exec` holds are not asked.
//!
//! The run is bound by the network, not by tgsess: with every session asked at once it takes
//! about one TCP handshake and one round trip. Concurrency is the number of sessions, bounded
//! by the open-file limit (one socket each), whose soft value is raised to the hard one first.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::list::Args;
use super::metrics;
use crate::error::{Exit, Result};
use crate::health::{self, Context, Held, Status, Verdict};
use crate::net::ask::Asker;
use crate::output;
use crate::output::Shown;
use crate::report::FileKind;
use crate::settings::Settings;
use crate::state::State;
use tgsess_store::files::{self, Found, SessionLock};
use tgsess_store::{Record, SessionFormat};

/// One session's verdict.
#[derive(Debug, Serialize)]
pub(crate) struct Checked {
    pub(crate) path: PathBuf,
    pub(crate) format: FileKind,
    pub(crate) status: Status,
    pub(crate) error: Option<String>,
    pub(crate) reason: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) username: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) bot: Option<bool>,
    pub(crate) held: Option<Held>,
    pub(crate) elapsed_ms: u64,
}

/// What one session needs before it is asked.
struct Job {
    index: usize,
    record: Option<Record>,
    context: (PathBuf, String, Option<(crate::identity::Pin, String)>),
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let started = Instant::now();
    if let Some(path) = &args.metrics {
        metrics::check_name(path)?;
    }
    let found = files::scan(&settings.session_dir).await;
    let state = State::load(settings.state_dir.clone())?;
    let jobs_at_once = concurrency(args.jobs, found.len());
    let mut verdicts: Vec<Option<(Verdict, u64)>> = found.iter().map(|_| None).collect();
    let mut asked = Vec::new();
    for (index, f) in found.iter().enumerate() {
        match held(settings, &state, f, args.while_held) {
            Some(v) => verdicts[index] = Some((v, 0)),
            None => asked.push(job(settings, index, f).await),
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout.max(1));
    // Without credentials or a route (no sandbox running), each session with a key gets no
    // verdict, with the reason.
    let asker = settings
        .api_credentials()
        .and_then(|(api_id, _)| Asker::new(&settings.network(), api_id))
        .map(Arc::new)
        .map_err(|e| e.to_string());
    for (index, v, took) in ask_all(asker, asked, jobs_at_once, deadline).await {
        let key = found[index]
            .inspection
            .auth_key
            .as_ref()
            .map(|k| format!("{:016x}", k.id()));
        let earlier = key.and_then(|k| state.data.keys.get(&k));
        verdicts[index] = Some((health::destroyed_stays_revoked(v, earlier), took));
    }
    remember(&state, &found, &verdicts);
    let results: Vec<Checked> = found
        .iter()
        .zip(verdicts)
        .filter_map(|(f, v)| v.map(|(v, took)| checked(f, v, took)))
        .collect();
    let took = started.elapsed();
    if let Some(path) = &args.metrics {
        metrics::write(path, &metrics_text(&results, took))?;
    }
    print(settings, args, &results, took);
    Ok(exit_of(&results))
}

/// How many sessions are asked at once: all of them (or `--jobs`), as far as the open-file
/// limit allows after raising it; said when the limit binds.
fn concurrency(jobs: Option<usize>, sessions: usize) -> usize {
    let wanted = jobs.unwrap_or(sessions).max(1);
    let Some((before, after)) = tgsess_shared::limits::raise_open_files() else {
        return wanted;
    };
    // Descriptors for stdio, the runtime, the state and a session being read.
    let room = usize::try_from(after)
        .unwrap_or(usize::MAX)
        .saturating_sub(64)
        .max(1);
    if wanted > room {
        output::warn(format!(
            "the open-file limit ({after}{}) allows {room} checks at once, not {wanted}: the run \
             takes longer. Raise the hard limit (`ulimit -Hn`, LimitNOFILE= in systemd) to ask \
             every session at once",
            if after > before {
                format!(", raised from {before}")
            } else {
                String::new()
            }
        ));
    }
    wanted.min(room)
}

/// A session `tgsess exec` holds is reported as held, not asked (unless `--while-held`).
fn held(settings: &Settings, state: &State, f: &Found, while_held: bool) -> Option<Verdict> {
    if while_held {
        return None;
    }
    let lock_dir = settings.state_dir.as_ref().map(|d| d.join("locks"));
    let lock = SessionLock::path_for(&f.path, lock_dir.as_deref())?;
    let holder = files::holder_of(&lock)?;
    let key = f
        .inspection
        .auth_key
        .as_ref()
        .map(|k| format!("{:016x}", k.id()));
    let memory = key.and_then(|k| state.data.keys.get(&k));
    let again = settings.command("list --check --while-held");
    Some(health::held_verdict(&holder, memory, &f.path, &again))
}

/// The record to ask with (grammers files are read whole, for their other DCs' keys), and
/// the words' context: how to log this very session in, and the pin when it is the
/// configured session.
async fn job(settings: &Settings, index: usize, f: &Found) -> Job {
    let record = match f.inspection.format {
        Some(SessionFormat::Grammers) => tgsess_store::write::record_of_grammers(&f.path)
            .await
            .ok()
            .flatten(),
        _ => f.inspection.record(),
    };
    let login = settings.command_on(&f.path, f.inspection.format, "login");
    let pin = settings
        .expect_user
        .as_ref()
        .filter(|_| f.path == settings.session.path)
        .map(|p| (p.value.clone(), p.source.to_string()));
    Job {
        index,
        record,
        context: (f.path.clone(), login, pin),
    }
}

/// Asks every job, at most `at_once` at a time, by `deadline`: (index, verdict, ms).
async fn ask_all(
    asker: std::result::Result<Arc<Asker>, String>,
    jobs: Vec<Job>,
    at_once: usize,
    deadline: tokio::time::Instant,
) -> Vec<(usize, Verdict, u64)> {
    let gate = Arc::new(tokio::sync::Semaphore::new(at_once));
    let bar = crate::prompt::progress(jobs.len() as u64, "checking sessions");
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        let (asker, gate) = (asker.clone(), Arc::clone(&gate));
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let t0 = Instant::now();
            let v = ask_one(asker.as_deref().map_err(String::as_str), &job, deadline).await;
            (job.index, v, t0.elapsed().as_millis() as u64)
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(r) = done {
            bar.inc(1);
            out.push(r);
        }
    }
    bar.finish_and_clear();
    out
}

async fn ask_one(
    asker: std::result::Result<&Asker, &str>,
    job: &Job,
    deadline: tokio::time::Instant,
) -> Verdict {
    let (path, login, pin) = &job.context;
    let Some(record) = &job.record else {
        return Verdict::new(Status::NotSignedIn, "holds no login key".into());
    };
    let asker = match asker {
        Ok(a) => a,
        Err(why) => return Verdict::new(Status::NoVerdict, why.to_string()),
    };
    let cx = Context {
        path,
        login: login.clone(),
        pin: pin.as_ref().map(|(p, from)| (p, from.clone())),
        deadline: "before the run's deadline (--timeout)".into(),
    };
    match asker.ask(record, deadline).await {
        Ok(asked) => health::judge(&asked, &cx),
        // Refused before anything was sent (the fence): no verdict, with the reason.
        Err(e) => Verdict::new(Status::NoVerdict, e.to_string()),
    }
}

/// Remembers what Telegram said, per key id, when the state exists.
fn remember(state: &State, found: &[Found], verdicts: &[Option<(Verdict, u64)>]) {
    let pairs: Vec<(String, &Verdict)> = found
        .iter()
        .zip(verdicts)
        .filter_map(|(f, v)| {
            let key = f
                .inspection
                .auth_key
                .as_ref()
                .map(|k| format!("{:016x}", k.id()))?;
            Some((key, &v.as_ref()?.0))
        })
        .collect();
    health::remember(state, &pairs);
}

fn checked(f: &Found, v: Verdict, took: u64) -> Checked {
    let who = v.identity.as_ref();
    Checked {
        path: f.path.clone(),
        format: f.inspection.format.into(),
        status: v.status,
        error: v.error.clone(),
        user_id: who.map(|w| w.id),
        username: who.and_then(|w| w.username.clone()),
        name: who.map(|w| w.name.clone()).filter(|n| !n.is_empty()),
        bot: who.map(|w| w.bot),
        held: v.held.clone(),
        reason: v.reason,
        elapsed_ms: took,
    }
}

fn metrics_text(results: &[Checked], took: Duration) -> String {
    let kinds: Vec<String> = results
        .iter()
        .map(|r| {
            serde_json::to_value(r.format)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect();
    let samples: Vec<metrics::Sample> = results
        .iter()
        .zip(&kinds)
        .map(|(r, kind)| metrics::Sample {
            session: &r.path,
            format: kind,
            status: r.status,
            user_id: r.user_id,
            username: r.username.as_deref(),
        })
        .collect();
    metrics::text(&samples, took.as_secs_f64(), crate::state::now())
}

/// The counts by status, in a fixed order.
fn counts(results: &[Checked]) -> Vec<(Status, usize)> {
    use Status::*;
    [
        SignedIn,
        NotSignedIn,
        Revoked,
        Banned,
        WrongUser,
        Held,
        NoVerdict,
    ]
    .into_iter()
    .map(|s| (s, results.iter().filter(|r| r.status == s).count()))
    .collect()
}

fn print(settings: &Settings, args: &Args, results: &[Checked], took: Duration) {
    let counts = counts(results);
    let words: Vec<String> = counts
        .iter()
        .filter(|(s, n)| {
            *n > 0
                || matches!(
                    s,
                    Status::SignedIn | Status::NotSignedIn | Status::NoVerdict
                )
        })
        .map(|(s, n)| format!("{n} {}", s.word().replace('_', " ")))
        .collect();
    let summary = format!(
        "{} sessions in {}: {} ({} ms)",
        results.len(),
        settings.session_dir.shown(),
        words.join(", "),
        took.as_millis()
    );
    if args.json {
        for r in results {
            output::json(r);
        }
        let mut s = serde_json::json!({ "summary": summary });
        for (status, n) in counts {
            s[status.word()] = n.into();
        }
        output::json(&s);
        return;
    }
    for r in results {
        output::out(format!(
            "{:<14} {}  {}",
            r.status.word(),
            r.path.file_name().unwrap_or_default().to_string_lossy(),
            r.reason
        ));
    }
    output::out(summary);
}

/// 3 when any session got no verdict, else 1 when any is not signed in (revoked, banned and
/// the wrong user included), else 0. A held session counts as its verdict's exit says.
fn exit_of(results: &[Checked]) -> Exit {
    let exits: Vec<Exit> = results
        .iter()
        .map(|r| match (&r.held, r.status) {
            (Some(h), Status::Held) if h.confirmed.is_some() => Exit::Ok,
            (_, s) => s.exit(),
        })
        .collect();
    if exits.contains(&Exit::NoVerdict) {
        Exit::NoVerdict
    } else if exits.contains(&Exit::NotSignedIn) {
        Exit::NotSignedIn
    } else {
        Exit::Ok
    }
}
