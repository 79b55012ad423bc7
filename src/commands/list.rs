//! `tgsess list`: session files in the session directory.

use crate::error::{Exit, Result};
use crate::output;
use crate::report::{FoundReport, ListReport};
use crate::settings::Settings;
use crate::store::files;

pub async fn run(settings: &Settings, json: bool) -> Result<Exit> {
    let dir = &settings.session_dir;
    if !dir.is_dir() && dir.exists() {
        return Err(crate::error::Error::usage(format!(
            "session directory {} is not a directory",
            dir.display()
        )));
    }
    if dir.exists() && std::fs::read_dir(dir).is_err() {
        return Err(crate::error::Error::file(format!(
            "cannot read session directory {}; check its permissions",
            dir.display()
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
        output::out(format!("No session files in {}", dir.display()));
        return Ok(Exit::Ok);
    }
    output::out(format!("Session files in {}:", dir.display()));
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
