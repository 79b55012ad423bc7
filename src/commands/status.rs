//! `tgsess status`: which session file is used and WHY, what it records, and near misses.

use crate::error::{Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::output::shell_quote;
use crate::report::{FoundReport, SessionReport, StatusReport};
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::SignedIn;
use tgsess_store::files::{self, Presence};

/// The report, and the exit code: 4 when the file is not a session or disagrees with the
/// declared format (reported in full first).
pub async fn build(settings: &Settings) -> Result<(StatusReport, Exit)> {
    let choice = &settings.session;
    let target = Target::open(settings).await?;
    let (session_format, format_reason) = target.format_and_reason();
    let mut session = SessionReport {
        path: choice.path.clone(),
        decided_by: choice.decided_by,
        reason: choice.reason.clone(),
        exists: false,
        format: None,
        session_format,
        format_reason,
        detail: None,
        damage: None,
        note: None,
        home_dc: None,
        dc_address: None,
        has_auth_key: false,
        auth_key_id: None,
        signed_in: SignedIn::No,
        user_id: None,
        bot: None,
        test_mode: None,
        mode: None,
        owner_uid: None,
        size: None,
        modified: None,
    };
    let mut warnings = choice.warnings.clone();
    let mut exit = Exit::Ok;
    if let Presence::File(i, m) = &target.presence {
        session.fill(i, m);
        if m.too_open() && i.has_auth_key() {
            warnings.push(format!(
                "{} is readable by others (mode {:04o}): it holds a login key. Fix: chmod 600 {}",
                choice.path.shown(),
                m.mode,
                shell_quote(&choice.path)
            ));
        }
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        if m.uid != me {
            warnings.push(format!(
                "{} belongs to another user (uid {}); whoever owns it can read its key or \
                 replace it",
                choice.path.shown(),
                m.uid
            ));
        }
        if let Err(e) = target.read_format(settings) {
            warnings.push(e.to_string());
            exit = e.exit();
        }
    }
    if let Some(dir) = choice.path.parent()
        && let Ok(d) = std::fs::metadata(dir)
    {
        use std::os::unix::fs::MetadataExt;
        if d.mode() & 0o002 != 0 && d.mode() & 0o1000 == 0 {
            warnings.push(format!(
                "the session directory {} is writable by everyone: anyone can replace the \
                 session. Fix: chmod o-w {}",
                dir.shown(),
                shell_quote(dir)
            ));
        }
    }
    let leftovers =
        tgsess_shared::fs::leftovers(&files::resolve(&choice.path).unwrap_or(choice.path.clone()));
    if !leftovers.is_empty() {
        warnings.push(format!(
            "{} temporary file(s) beside the session were left by a tgsess writer that \
             stopped mid-write; they hold copies of a login key: {}. The next tgsess command \
             that writes this session removes them (or delete them yourself)",
            leftovers.len(),
            leftovers
                .iter()
                .map(|p| p.shown())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    warnings.extend(login_state(settings));
    if let Some(holder) = target.lock_holder() {
        warnings.push(format!(
            "{} is in use: {holder} holds its lock; tgsess refuses to write it meanwhile",
            choice.path.shown()
        ));
    }
    let dirs = settings.near_dirs();
    let own_key = target.inspection().and_then(|i| i.auth_key.clone());
    let near: Vec<FoundReport> = files::near_misses(&choice.path, &dirs)
        .await
        .iter()
        .map(|f| FoundReport {
            same_key: own_key.is_some() && f.inspection.auth_key == own_key,
            ..FoundReport::from(f)
        })
        .collect();
    let misses = near.iter().filter(|n| !n.same_key).count();
    if session.signed_in != SignedIn::Yes && misses > 0 {
        warnings.push(format!(
            "{} does not record a signed-in user, but {} other session file(s) nearby hold a \
             login key (listed below). A signed-in session under another name is the classic \
             cause of being asked for a login code again: use that file (the commands are \
             listed beside it; or set username/session_file in the config to its name), or \
             copy its key with the import command listed there (two files then hold one key: \
             never run both at once)",
            choice.path.shown(),
            misses,
        ));
    }
    let report = StatusReport {
        config_file: settings.config.as_ref().map(|c| c.path.clone()),
        session,
        near_misses: near,
        warnings,
    };
    Ok((report, exit))
}

/// A pending code or a running cooldown for the configured phone, with the time left.
fn login_state(settings: &Settings) -> Vec<String> {
    let Some(phone) = &settings.phone else {
        return Vec::new();
    };
    let Ok(store) = crate::state::Store::load(settings.state_dir.clone()) else {
        return Vec::new();
    };
    let key = crate::state::phone_key(&phone.value, settings.sandbox_dir.as_deref());
    let ps = store.get(&key);
    let now = crate::state::now();
    let mut out = Vec::new();
    if let Some(p) = ps
        .pending
        .filter(|p| now - p.requested_at < crate::state::PENDING_TTL_SECS)
    {
        out.push(format!(
            "a login code for this phone is pending: requested {} ago, sent {}; `{}` asks for \
             it without requesting another",
            crate::login::text::human_duration(now - p.requested_at),
            p.sent_via,
            settings.command("login")
        ));
    }
    if let Some(until) = ps.cooldown_until.filter(|u| *u > now) {
        out.push(format!(
            "Telegram's wait for this phone ({}) runs for {} more; a login before then is \
             refused",
            ps.cooldown_reason.as_deref().unwrap_or("FLOOD_WAIT"),
            crate::login::text::human_duration(until - now)
        ));
    }
    out
}

pub async fn run(settings: &Settings, json: bool) -> Result<Exit> {
    let (r, exit) = build(settings).await?;
    if json {
        output::json(&r);
        return Ok(exit);
    }
    for w in &r.warnings {
        output::warn(w);
    }
    let s = &r.session;
    output::out(format!("Session file: {}", s.path.shown()));
    output::out(format!("  why:       {}", s.reason));
    match (&settings.config, &r.config_file) {
        (Some(c), Some(p)) => output::out(format!(
            "  config:    {} (found via {})",
            p.shown(),
            c.origin.describe()
        )),
        _ => output::out(format!(
            "  config:    none found (looked for tgsess.toml in {} and every parent directory, \
             then for tgsess/config.toml in $XDG_CONFIG_HOME or ~/.config); defaults and \
             environment only",
            settings.base_dir.shown()
        )),
    }
    if let Some(p) = &settings.proxy {
        output::out(format!("  proxy:     {} (from {})", p.value, p.source));
    }
    if settings.test_dc.value {
        output::out(format!(
            "  network:   Telegram's test DCs (test_dc from {})",
            settings.test_dc.source
        ));
    }
    if !s.exists {
        output::out("  exists:    no (a login would create it and request a new code)");
        output::out(format!("  managed:   {}", s.format_reason));
    } else {
        output::out("  exists:    yes");
        if let (Some(f), Some(d)) = (s.format, &s.detail) {
            output::out(format!("  format:    {} ({d})", f.describe()));
        }
        output::out(format!("  managed:   {}", s.format_reason));
        if let Some(d) = &s.damage {
            output::out(format!(
                "  damaged:   {d}; nothing is read from it (the warning above says what to do)"
            ));
        }
        if let Some(n) = &s.note {
            output::out(format!("  note:      {n}"));
        }
        if s.test_mode == Some(true) {
            output::out("  test mode: yes, a key for Telegram's test DCs");
        }
        if let Some(dc) = s.home_dc {
            let table = tgsess_store::known_dc_address(dc, s.test_mode == Some(true))
                .map(|a| format!("{a}, from Telegram's DC table: the file stores no address"));
            let addr = s
                .dc_address
                .clone()
                .or(table)
                .unwrap_or_else(|| "address unknown".into());
            let now = settings
                .sandbox_dir
                .as_deref()
                .and_then(|d| crate::net::sandbox_address(d).ok())
                .filter(|a| Some(a.to_string()) != s.dc_address)
                .map(|a| format!("; the sandbox now listens on {a}, and tgsess connects there"))
                .unwrap_or_default();
            output::out(format!("  home DC:   {dc} ({addr}{now})"));
        }
        output::out(format!(
            "  auth key:  {}",
            match &s.auth_key_id {
                Some(id) => format!("present (key id {id})"),
                None => "none".to_string(),
            }
        ));
        let signed = match (s.signed_in, s.user_id) {
            (SignedIn::Yes, Some(id)) => format!(
                "yes, as {} {id} (from the file)",
                if s.bot == Some(true) { "bot" } else { "user" }
            ),
            (SignedIn::Yes, None) => "yes (from the file)".to_string(),
            (SignedIn::No, _) => "no (from the file)".to_string(),
            (SignedIn::Unknown, _) => format!(
                "unknown: {}s do not record the user",
                s.format.map(|f| f.describe()).unwrap_or("session")
            ),
        };
        output::out(format!(
            "  signed in: {signed}; `{}` asks Telegram",
            settings.command("check")
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
            output::out(format!("  {}: {}", n.path.shown(), n.summary()));
            if !n.same_key {
                let format = n.format;
                output::out(format!(
                    "    use it as it is: `{}`",
                    settings.command_on(&n.path, format.session_format(), "status")
                ));
                output::out(format!(
                    "    or copy its key (two files then hold one key): `{}`",
                    settings.command(&format!("import {}", shell_quote(&n.path)))
                ));
            }
        }
    }
    Ok(exit)
}
