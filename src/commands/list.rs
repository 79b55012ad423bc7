//! `tgsess list`: session files in the session directory.

use crate::error::{Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::report::{FoundReport, ListReport};
use crate::settings::Settings;
use tgsess_store::files;

// `tgsess list`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// One JSON object on stdout (with --check: one per session, then a summary)
    #[arg(long)]
    pub(crate) json: bool,
    /// Ask Telegram who each session is signed in as: one request per session, all at once;
    /// never writes a session and never requests a code
    #[arg(long)]
    pub(crate) check: bool,
    /// With --check: at most this many connections at once (default: every session at
    /// once, as far as the open-file limit allows)
    #[arg(long, value_name = "N", requires = "check")]
    pub(crate) jobs: Option<usize>,
    /// With --check: one deadline for the whole run, in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS", requires = "check")]
    pub(crate) timeout: u64,
    /// With --check: also write the verdicts for node_exporter's textfile collector
    /// (a *.prom file, replaced atomically)
    #[arg(long, value_name = "PATH", requires = "check")]
    pub(crate) metrics: Option<std::path::PathBuf>,
    /// With --check: ask even for sessions `tgsess exec` holds (a second connection on a key
    /// in use may make Telegram destroy it: AUTH_KEY_DUPLICATED)
    #[arg(long, requires = "check")]
    pub(crate) while_held: bool,
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
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
    let found = files::scan(dir).await;
    let mut sessions: Vec<FoundReport> = found.iter().map(FoundReport::from).collect();
    with_leases(settings, &found, &mut sessions).await?;
    let report = ListReport {
        session_dir: dir.clone(),
        sessions,
    };
    if args.json {
        output::json(&report);
    } else {
        print(settings, &report);
    }
    Ok(Exit::Ok)
}

/// With a lease configured: who holds the lease on each session's key.
async fn with_leases(
    settings: &Settings,
    found: &[files::Found],
    sessions: &mut [FoundReport],
) -> Result<()> {
    let Some(url) = &settings.lease else {
        return Ok(());
    };
    let holders = crate::lease::survey(&url.value, &crate::env::ProcessEnv).await?;
    for (report, f) in sessions.iter_mut().zip(found) {
        let key = f
            .inspection
            .record()
            .map(|r| tgsess_store::write::key_id_hex(&r.auth_key));
        report.lease = key
            .and_then(|k| crate::lease::holding(&holders, &k))
            .cloned();
    }
    Ok(())
}

fn print(settings: &Settings, report: &ListReport) {
    let dir = &report.session_dir;
    if report.sessions.is_empty() {
        output::out(format!("No session files in {}", dir.shown()));
        return;
    }
    output::out(format!("Session files in {}:", dir.shown()));
    for s in &report.sessions {
        let mark = if s.path == settings.session.path {
            "*"
        } else {
            " "
        };
        let lease = s
            .lease
            .as_ref()
            .map(|h| {
                format!(
                    "  lease held by pid {} on {}",
                    h.pid,
                    output::escape(&h.host)
                )
            })
            .unwrap_or_default();
        output::out(format!(
            "{mark} {}  {} bytes  {}{lease}",
            s.path.file_name().unwrap_or_default().to_string_lossy(),
            s.size,
            s.summary()
        ));
    }
    output::out("(* = the session this configuration uses)");
}
