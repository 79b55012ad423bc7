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
use crate::net::ask::{Answer, Asked, Asker};
use crate::output;
use crate::output::Shown;
use crate::report::FileKind;
use crate::settings::Settings;
use crate::state::State;
use tgsess_store::Record;
use tgsess_store::files::{self, Found, SessionLock};

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
    let paths = files::candidates(&settings.session_dir);
    let state = State::load(settings.state_dir.clone())?;
    let mut run = Asking::new(settings, args, paths.len());
    // Sessions are read on other threads, and each is asked as soon as it is read: reading
    // the rest overlaps the network.
    let mut slots: Vec<Option<Found>> = paths.iter().map(|_| None).collect();
    let mut verdicts: Vec<Option<(Verdict, u64)>> = paths.iter().map(|_| None).collect();
    let mut read = read_all(paths);
    while let Some((index, f)) = read.recv().await {
        verdicts[index] = held(settings, &state, &f, args.while_held).map(|v| (v, 0));
        if verdicts[index].is_none() {
            run.spawn(job(settings, index, &f));
        }
        slots[index] = Some(f);
    }
    for (index, v, took) in run.finish().await {
        let key = slots[index]
            .as_ref()
            .and_then(|f| f.inspection.auth_key.as_ref())
            .map(tgsess_store::write::key_id_hex);
        let earlier = key.and_then(|k| state.data.keys.get(&k));
        verdicts[index] = Some((health::destroyed_stays_revoked(v, earlier), took));
    }
    let (found, verdicts): (Vec<Found>, Vec<Option<(Verdict, u64)>>) = slots
        .into_iter()
        .zip(verdicts)
        .filter_map(|(f, v)| Some((f?, v)))
        .unzip();
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

/// Reads the candidates on blocking threads, two at a time (SQLite work that would hold up
/// the connections on the runtime's thread), sending each session as it is read, with its
/// index among the candidates.
fn read_all(paths: Vec<PathBuf>) -> tokio::sync::mpsc::UnboundedReceiver<(usize, Found)> {
    const READERS: usize = 2;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let paths = Arc::new(std::sync::Mutex::new(paths.into_iter().enumerate()));
    for _ in 0..READERS {
        let (tx, paths) = (tx.clone(), Arc::clone(&paths));
        tokio::task::spawn_blocking(move || {
            loop {
                let next = paths.lock().ok().and_then(|mut p| p.next());
                let Some((index, path)) = next else { break };
                // The store's reads are async in name only (libsql's local database); they
                // run to completion here.
                if let Some(f) = futures::executor::block_on(files::found(path))
                    && tx.send((index, f)).is_err()
                {
                    break;
                }
            }
        });
    }
    rx
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
        .map(tgsess_store::write::key_id_hex);
    let memory = key.and_then(|k| state.data.keys.get(&k));
    let again = settings.command("list --check --while-held");
    Some(health::held_verdict(&holder, memory, &f.path, &again))
}

/// The record to ask with (what the scan read: the home DC and its key; a grammers file is
/// read whole only when a migration needs another DC's key), and the words' context: how to
/// log this very session in, and the pin when it is the configured session.
fn job(settings: &Settings, index: usize, f: &Found) -> Job {
    let record = f.inspection.record();
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

/// The sessions being asked: at most so many at once, all by one deadline.
struct Asking {
    asker: std::result::Result<Arc<Asker>, String>,
    gate: Arc<tokio::sync::Semaphore>,
    deadline: tokio::time::Instant,
    set: tokio::task::JoinSet<(usize, Verdict, u64)>,
    bar: indicatif::ProgressBar,
}

impl Asking {
    fn new(settings: &Settings, args: &Args, sessions: usize) -> Asking {
        // Without credentials or a route (no sandbox running), each session with a key gets
        // no verdict, with the reason.
        let asker = settings
            .api_credentials()
            .and_then(|(api_id, _)| Asker::new(&settings.network(), api_id))
            .map(Arc::new)
            .map_err(|e| e.to_string());
        Asking {
            asker,
            gate: Arc::new(tokio::sync::Semaphore::new(concurrency(
                args.jobs, sessions,
            ))),
            deadline: tokio::time::Instant::now() + Duration::from_secs(args.timeout.max(1)),
            set: tokio::task::JoinSet::new(),
            bar: crate::prompt::progress(sessions as u64, "checking sessions"),
        }
    }

    fn spawn(&mut self, job: Job) {
        let (asker, gate, deadline) = (self.asker.clone(), Arc::clone(&self.gate), self.deadline);
        self.set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let t0 = Instant::now();
            let v = ask_one(asker.as_deref().map_err(String::as_str), &job, deadline).await;
            (job.index, v, t0.elapsed().as_millis() as u64)
        });
    }

    /// Every answer: (index, verdict, ms).
    async fn finish(mut self) -> Vec<(usize, Verdict, u64)> {
        let mut out = Vec::new();
        while let Some(done) = self.set.join_next().await {
            if let Ok(r) = done {
                self.bar.inc(1);
                out.push(r);
            }
        }
        self.bar.finish_and_clear();
        out
    }
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
    let asked = match asker.ask(record, deadline).await {
        Ok(a) => whole_for_migration(asker, a, path, deadline).await,
        Err(e) => Err(e),
    };
    match asked {
        Ok(asked) => health::judge(&asked, &cx),
        // Refused before anything was sent (the fence): no verdict, with the reason.
        Err(e) => Verdict::new(Status::NoVerdict, e.to_string()),
    }
}

/// After a migration to a DC the scan's record has no key for, a grammers file is read whole
/// (it keeps every DC's key) and that DC asked.
async fn whole_for_migration(
    asker: &Asker,
    asked: Asked,
    path: &std::path::Path,
    deadline: tokio::time::Instant,
) -> Result<Asked> {
    let Answer::NoKey(dc) = asked.answer else {
        return Ok(asked);
    };
    match tgsess_store::write::record_of_grammers(path).await {
        Ok(Some(whole)) => asker.ask_at(&whole, dc, deadline).await,
        _ => Ok(asked),
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
                .map(tgsess_store::write::key_id_hex)?;
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
