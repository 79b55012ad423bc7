//! `tgsess status`: which session file is used and WHY, what it records, and near misses.

use crate::error::{Exit, Result};
use crate::output;
use crate::report::{FoundReport, SessionReport, StatusReport};
use crate::session_file::{self, Presence, shell_quote};
use crate::settings::Settings;

pub async fn build(settings: &Settings) -> Result<StatusReport> {
    let choice = &settings.session;
    let mut session = SessionReport {
        path: choice.path.clone(),
        decided_by: choice.decided_by,
        reason: choice.reason.clone(),
        exists: false,
        format: None,
        detail: None,
        home_dc: None,
        dc_address: None,
        has_auth_key: false,
        auth_key_id: None,
        signed_in: None,
        user_id: None,
        bot: None,
        mode: None,
        owner_uid: None,
        size: None,
        modified: None,
    };
    let mut warnings = choice.warnings.clone();
    let presence = session_file::examine(&choice.path).await?;
    if let Presence::File(i, m) = &presence {
        session.fill(i, m);
        if m.too_open() {
            warnings.push(format!(
                "{} is readable by others (mode {:04o}): it holds a login key. Fix: chmod 600 {}",
                choice.path.display(),
                m.mode,
                shell_quote(&choice.path)
            ));
        }
        if i.format != crate::formats::Format::Tgsess {
            warnings.push(session_file::wrong_format_error(&choice.path, i).to_string());
        }
    }
    let dirs = [settings.session_dir.as_path(), settings.base_dir.as_path()];
    let near: Vec<FoundReport> = session_file::near_misses(&choice.path, &dirs)
        .await
        .iter()
        .map(FoundReport::from)
        .collect();
    let signed_in_here = session.signed_in == Some(true);
    if !signed_in_here && !near.is_empty() {
        warnings.push(format!(
            "{} does not record a signed-in user, but {} other session file(s) nearby hold a \
             login key (listed below). A signed-in session under another name is the classic \
             cause of being asked for a login code again: use it with --session PATH, set \
             username/session_file in the config, or convert it with `tgsess import PATH`",
            choice.path.display(),
            near.len()
        ));
    }
    Ok(StatusReport {
        config_file: settings.config.as_ref().map(|c| c.path.clone()),
        session,
        near_misses: near,
        warnings,
    })
}

pub async fn run(settings: &Settings, json: bool) -> Result<Exit> {
    let r = build(settings).await?;
    // A file at the session path that is not a tgsess session is a session file problem
    // (exit 4), reported in full first.
    let exit = match r.session.format {
        Some(f) if f != crate::formats::Format::Tgsess => Exit::SessionFile,
        _ => Exit::Ok,
    };
    if json {
        output::json(&r);
        return Ok(exit);
    }
    for w in &r.warnings {
        output::warn(w);
    }
    let s = &r.session;
    output::out(format!("Session file: {}", s.path.display()));
    output::out(format!("  why:       {}", s.reason));
    match (&settings.config, &r.config_file) {
        (Some(c), Some(p)) => output::out(format!(
            "  config:    {} (found via {})",
            p.display(),
            c.origin.describe()
        )),
        _ => output::out("  config:    none found (defaults and environment only)"),
    }
    if !s.exists {
        output::out("  exists:    no (a login would create it and request a new code)");
    } else {
        output::out("  exists:    yes");
        if let (Some(f), Some(d)) = (s.format, &s.detail) {
            output::out(format!("  format:    {} ({d})", f.describe()));
        }
        if let Some(dc) = s.home_dc {
            let addr = s.dc_address.as_deref().unwrap_or("address unknown");
            output::out(format!("  home DC:   {dc} ({addr})"));
        }
        output::out(format!(
            "  auth key:  {}",
            match &s.auth_key_id {
                Some(id) => format!("present (key id {id})"),
                None => "none".to_string(),
            }
        ));
        let signed = match (s.signed_in, s.user_id) {
            (Some(true), Some(id)) => format!(
                "yes, as {} {id}",
                if s.bot == Some(true) { "bot" } else { "user" }
            ),
            (Some(true), None) => "yes".to_string(),
            (Some(false), _) => "no".to_string(),
            (None, _) => "not recorded by this format".to_string(),
        };
        output::out(format!(
            "  signed in: {signed} (from the file; `tgsess check` asks Telegram)"
        ));
        output::out(format!(
            "  file:      mode {}, owner uid {}, {} bytes, modified {}",
            s.mode.as_deref().unwrap_or("?"),
            s.owner_uid.map(|u| u.to_string()).unwrap_or_default(),
            s.size.unwrap_or(0),
            s.modified.as_deref().unwrap_or("unknown")
        ));
    }
    if !r.near_misses.is_empty() {
        output::out("Other session files nearby that hold a login key:");
        for n in &r.near_misses {
            output::out(format!("  {}: {}", n.path.display(), n.summary()));
        }
    }
    Ok(exit)
}
