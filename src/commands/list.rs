//! `tgsess list`: session files in the session directory.

use crate::error::{Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::report::{FoundReport, ListReport};
use crate::settings::Settings;
use tgsess_store::files;

/// `tgsess list`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// One JSON object on stdout (with --check: one per session, then a summary)
    #[arg(long)]
    pub(crate) json: bool,
    /// Ask Telegram whether each session is signed in, concurrently; never writes a session
    /// and never requests a code
    #[arg(long)]
    pub(crate) check: bool,
    /// With --check: at most this many connections at once
    #[arg(long, default_value_t = 8, value_name = "N", requires = "check")]
    pub(crate) jobs: usize,
    /// With --check: one deadline for the whole run, in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", requires = "check")]
    pub(crate) timeout: u64,
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let json = args.json;
    let dir = &settings.session_dir;
    if !dir.is_dir() && dir.exists() {
        return Err(crate::error::Error::usage(format!(
            "session directory {} is not a directory",
            dir.shown()
        )));
    }
    if dir.exists() && std::fs::read_dir(dir).is_err() {
        return Err(crate::error::Error::file(format!(
            "cannot read session directory {}; check its permissions",
            dir.shown()
        )));
    }
    let sessions: Vec<FoundReport> = files::scan(dir)
        .await
        .iter()
        .map(FoundReport::from)
        .collect();
    let report = ListReport {
        session_dir: dir.clone(),
        sessions,
    };
    if json {
        output::json(&report);
        return Ok(Exit::Ok);
    }
    if report.sessions.is_empty() {
        output::out(format!("No session files in {}", dir.shown()));
        return Ok(Exit::Ok);
    }
    output::out(format!("Session files in {}:", dir.shown()));
    for s in &report.sessions {
        let mark = if s.path == settings.session.path {
            "*"
        } else {
            " "
        };
        output::out(format!(
            "{mark} {}  {} bytes  {}",
            s.path.file_name().unwrap_or_default().to_string_lossy(),
            s.size,
            s.summary()
        ));
    }
    output::out("(* = the session this configuration uses)");
    Ok(Exit::Ok)
}

/// One session's verdict in `list --check`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Checked {
    pub(crate) path: std::path::PathBuf,
    pub(crate) format: crate::report::FileKind,
    /// "signed_in", "not_signed_in" or "no_verdict".
    pub(crate) status: &'static str,
    pub(crate) reason: String,
    pub(crate) elapsed_ms: u64,
}

/// `list --check`: every session in the session directory, asked concurrently with at most
/// `jobs` connections, under one deadline for the whole run. Read-only: sessions are loaded
/// into memory, never written, and no code is ever requested.
pub(crate) async fn check_all(settings: &Settings, args: &Args) -> Result<Exit> {
    let (json, jobs, timeout) = (args.json, args.jobs, args.timeout);
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let dir = &settings.session_dir;
    let found = files::scan(dir).await;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout.max(1));
    let gate = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let bar = crate::prompt::progress(found.len() as u64, "checking sessions");
    let mut set = tokio::task::JoinSet::new();
    let network = settings.network();
    let route = network.route().map_err(|e| e.to_string());
    for (i, f) in found.iter().enumerate() {
        let record = match f.inspection.format {
            Some(tgsess_store::SessionFormat::Grammers) => {
                tgsess_store::write::record_of_grammers(&f.path)
                    .await
                    .ok()
                    .flatten()
            }
            _ => f.inspection.record(),
        };
        let memory = match &record {
            Some(r) => network.memory_session(Some(r), false).await.map(Some),
            None => Ok(None),
        };
        let api_id = settings.api_credentials().map(|(id, _)| id);
        let route = route.clone();
        let gate = Arc::clone(&gate);
        set.spawn(async move {
            let t0 = Instant::now();
            let verdict = match (memory, api_id, route) {
                (Err(e), _, _) | (_, Err(e), _) => ("no_verdict", e.to_string()),
                (_, _, Err(e)) => ("no_verdict", e),
                (Ok(None), _, _) => ("not_signed_in", "holds no login key".to_string()),
                (Ok(Some(m)), Ok(api_id), Ok(route)) => {
                    let _permit = gate.acquire_owned().await;
                    ask(m, api_id, &route, deadline).await
                }
            };
            (i, verdict, t0.elapsed())
        });
    }
    let mut results: Vec<Option<Checked>> = found.iter().map(|_| None).collect();
    while let Some(done) = set.join_next().await {
        let Ok((i, (status, reason), took)) = done else {
            continue;
        };
        bar.inc(1);
        results[i] = Some(Checked {
            path: found[i].path.clone(),
            format: found[i].inspection.format.into(),
            status,
            reason,
            elapsed_ms: took.as_millis() as u64,
        });
    }
    bar.finish_and_clear();
    let results: Vec<Checked> = results.into_iter().flatten().collect();
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let (ok, not, none) = (
        count("signed_in"),
        count("not_signed_in"),
        count("no_verdict"),
    );
    let summary = format!(
        "{} sessions in {}: {ok} signed in, {not} not signed in, {none} no verdict ({} ms)",
        results.len(),
        dir.shown(),
        started.elapsed().as_millis()
    );
    if json {
        for r in &results {
            output::json(r);
        }
        output::json(&serde_json::json!({
            "summary": summary,
            "signed_in": ok,
            "not_signed_in": not,
            "no_verdict": none,
        }));
    } else {
        for r in &results {
            output::out(format!(
                "{:<14} {}  {}",
                r.status,
                r.path.file_name().unwrap_or_default().to_string_lossy(),
                r.reason
            ));
        }
        output::out(summary);
    }
    Ok(if none > 0 {
        Exit::NoVerdict
    } else if not > 0 {
        Exit::NotSignedIn
    } else {
        Exit::Ok
    })
}

/// updates.getState on one in-memory session, by the shared deadline.
async fn ask(
    memory: std::sync::Arc<grammers_session::storages::MemorySession>,
    api_id: i32,
    route: &crate::net::Route,
    deadline: tokio::time::Instant,
) -> (&'static str, String) {
    use grammers_tl_types as tl;
    let conn = match crate::net::Connection::new(memory, api_id, route) {
        Ok(c) => c,
        Err(e) => return ("no_verdict", e.to_string()),
    };
    let reply = tokio::time::timeout_at(
        deadline,
        conn.client.invoke(&tl::functions::updates::GetState {}),
    )
    .await;
    conn.close().await;
    match reply {
        Ok(Ok(_)) => ("signed_in", "Telegram confirms the key".into()),
        Ok(Err(grammers_mtsender::InvocationError::Rpc(r))) if r.code == 401 => {
            ("not_signed_in", format!("Telegram answered 401 {}", r.name))
        }
        Ok(Err(e)) => (
            "no_verdict",
            format!("Telegram could not be asked: {}", crate::net::says(&e)),
        ),
        Err(_) => (
            "no_verdict",
            "no answer before the run's deadline (--timeout)".into(),
        ),
    }
}
