//! `tgsess status`: which session file is used and WHY, what it records, and near misses.
//! The report is computed first ([`build`]), then printed as JSON or for people.

use std::path::Path;

use crate::error::{Exit, Result};
use crate::output::{self, Shown, shell_quote};
use crate::report::{FoundReport, LeaseReport, SessionReport, StatusReport};
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::files::{self, FileMeta, Presence};
use tgsess_store::{Inspection, SignedIn};

// `tgsess status`.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct Args {
    /// One JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let (report, exit) = build(settings).await?;
    if args.json {
        output::json(&report);
    } else {
        print(settings, &report);
    }
    Ok(exit)
}

/// The report, and the exit code: 4 when the file is not a session or disagrees with the
/// declared format (reported in full first).
pub(crate) async fn build(settings: &Settings) -> Result<(StatusReport, Exit)> {
    let path = &settings.session.path;
    let target = Target::open(settings).await?;
    let mut session = SessionReport::new(&settings.session, target.format_and_reason());
    let mut warnings = settings.session.warnings.clone();
    let mut exit = Exit::Ok;
    if let Presence::File(i, m) = &target.presence {
        session.fill(i, m);
        session.last_confirmed = last_confirmed(settings, session.auth_key_id.as_deref());
        warnings.extend(file_warnings(path, i, m));
        if let Err(e) = target.read_format(settings) {
            warnings.push(e.to_string());
            exit = e.exit();
        }
    }
    warnings.extend(dir_warning(path));
    warnings.extend(leftover_warning(path));
    warnings.extend(login_state(settings));
    warnings.extend(target.lock_holder().map(|holder| {
        format!(
            "{} is in use: {holder} holds its lock; tgsess refuses to write it meanwhile",
            path.shown()
        )
    }));
    let near = near_misses(settings, &target).await;
    warnings.extend(near_miss_warning(path, &session, &near));
    let copies = settings
        .state_dir
        .as_ref()
        .map(|d| tgsess_store::copies::list(&d.join("copies"), path))
        .unwrap_or_default();
    let lease = lease_report(settings, session.auth_key_id.as_deref()).await;
    let report = StatusReport {
        config_file: settings.config.as_ref().map(|c| c.path.clone()),
        session,
        near_misses: near,
        warnings,
        copies,
        lease,
    };
    Ok((report, exit))
}

/// With a lease configured: who holds it on the session's key, asked of the database.
async fn lease_report(settings: &Settings, key_id: Option<&str>) -> Option<LeaseReport> {
    let url = settings.lease.as_ref()?;
    let found = crate::lease::survey(&url.value, &crate::env::ProcessEnv).await;
    let (holder, error) = match found {
        Ok(h) => (
            key_id.and_then(|k| crate::lease::holding(&h, k)).cloned(),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    Some(LeaseReport {
        url: url.value.shown.clone(),
        holder,
        error,
    })
}

/// What Telegram last confirmed for the key, from the state (read only).
fn last_confirmed(settings: &Settings, key_id: Option<&str>) -> Option<crate::report::Confirmed> {
    let state = crate::state::State::load(settings.state_dir.clone()).ok()?;
    let memory = state.data.keys.get(key_id?);
    let (user, at) = crate::health::last_confirmed(memory)?;
    Some(crate::report::Confirmed { user, at })
}

/// A key readable by others, a file owned by someone else.
fn file_warnings(path: &Path, i: &Inspection, m: &FileMeta) -> Vec<String> {
    let mut out = Vec::new();
    if m.too_open() && i.has_auth_key() {
        out.push(format!(
            "{} is readable by others (mode {:04o}): it holds a login key. Fix: chmod 600 {}",
            path.shown(),
            m.mode,
            shell_quote(path)
        ));
    }
    // SAFETY: geteuid has no preconditions.
    if m.uid != unsafe { libc::geteuid() } {
        out.push(format!(
            "{} belongs to another user (uid {}); whoever owns it can read its key or replace \
             it",
            path.shown(),
            m.uid
        ));
    }
    out
}

/// A session directory anyone can write to (and without the sticky bit).
fn dir_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dir = path.parent()?;
    let mode = std::fs::metadata(dir).ok()?.mode();
    (mode & 0o002 != 0 && mode & 0o1000 == 0).then(|| {
        format!(
            "the session directory {} is writable by everyone: anyone can replace the \
             session. Fix: chmod o-w {}",
            dir.shown(),
            shell_quote(dir)
        )
    })
}

/// Temporary copies of a key left by a writer that died mid-write.
fn leftover_warning(path: &Path) -> Option<String> {
    let resolved = files::resolve(path).unwrap_or(path.to_path_buf());
    let left = tgsess_shared::fs::leftovers(&resolved);
    (!left.is_empty()).then(|| {
        let names: Vec<String> = left.iter().map(|p| p.shown()).collect();
        format!(
            "{} temporary file(s) beside the session were left by a tgsess writer that \
             stopped mid-write; they hold copies of a login key: {}. The next tgsess command \
             that writes this session removes them (or delete them yourself)",
            left.len(),
            names.join(", ")
        )
    })
}

/// A pending code or a running cooldown for the configured phone, with the time left.
fn login_state(settings: &Settings) -> Vec<String> {
    use crate::login::text::human_duration;
    let Some(phone) = &settings.phone else {
        return Vec::new();
    };
    let Ok(state) = crate::state::State::load(settings.state_dir.clone()) else {
        return Vec::new();
    };
    let ps = state.get(&crate::state::phone_key(
        &phone.value,
        settings.sandbox_dir.as_deref(),
    ));
    let now = crate::state::now();
    let pending = ps
        .pending
        .filter(|p| now - p.requested_at < crate::state::PENDING_TTL_SECS)
        .map(|p| {
            format!(
                "a login code for this phone is pending: requested {} ago, sent {}; `{}` asks \
                 for it without requesting another",
                human_duration(now - p.requested_at),
                p.sent_via,
                settings.command("login")
            )
        });
    let cooldown = ps.cooldown_until.filter(|u| *u > now).map(|until| {
        format!(
            "Telegram's wait for this phone ({}) runs for {} more; a login before then is \
             refused",
            ps.cooldown_reason.as_deref().unwrap_or("FLOOD_WAIT"),
            human_duration(until - now)
        )
    });
    pending.into_iter().chain(cooldown).collect()
}

/// Other session files nearby that hold a key; the source of an import (the same key) is
/// marked as such, not counted as a near miss.
async fn near_misses(settings: &Settings, target: &Target) -> Vec<FoundReport> {
    let own_key = target.inspection().and_then(|i| i.auth_key.clone());
    files::near_misses(&settings.session.path, &settings.near_dirs())
        .await
        .iter()
        .map(|f| FoundReport {
            same_key: own_key.is_some() && f.inspection.auth_key == own_key,
            ..FoundReport::from(f)
        })
        .collect()
}

/// The classic cause of a new code request: a signed-in session under another name.
fn near_miss_warning(path: &Path, s: &SessionReport, near: &[FoundReport]) -> Option<String> {
    let misses = near.iter().filter(|n| !n.same_key).count();
    (s.signed_in != SignedIn::Yes && misses > 0).then(|| {
        format!(
            "{} does not record a signed-in user, but {misses} other session file(s) nearby \
             hold a login key (listed below). A signed-in session under another name is the \
             classic cause of being asked for a login code again: use that file (the commands \
             are listed beside it; or set username/session_file in the config to its name), \
             or copy its key with the import command listed there (two files then hold one \
             key: never run both at once)",
            path.shown()
        )
    })
}

fn print(settings: &Settings, r: &StatusReport) {
    for w in &r.warnings {
        output::warn(w);
    }
    print_choice(settings, r);
    let s = &r.session;
    if s.exists {
        print_file(settings, s);
        print_lease(r);
    } else {
        output::out("  exists:    no (a login would create it and request a new code)");
        output::out(format!("  managed:   {}", s.format_reason));
    }
    print_near(settings, &r.near_misses);
    print_copies(settings, &r.copies);
}

/// The lease line: who holds it, or that it is free, or why the database was not asked.
fn print_lease(r: &StatusReport) {
    let Some(l) = &r.lease else {
        return;
    };
    let at = output::escape(&l.url);
    let words = match (&l.holder, &l.error) {
        (Some(h), _) => format!("held by {h}, at {at}"),
        (None, Some(e)) => format!("unknown: {e}"),
        (None, None) => format!("free at {at}"),
    };
    output::out(format!("  lease:     {words}"));
}

/// The copies exec kept, and how to restore one.
fn print_copies(settings: &Settings, copies: &[std::path::PathBuf]) {
    let Some(newest) = copies.first() else {
        return;
    };
    output::out(format!(
        "Copies exec kept before running a program (newest first; restore one with `{}`):",
        settings.command(&format!("import {} --force", shell_quote(newest)))
    ));
    for c in copies {
        output::out(format!("  copy: {}", c.shown()));
    }
}

/// Which file, why, from which config, through which proxy and network.
fn print_choice(settings: &Settings, r: &StatusReport) {
    output::out(format!("Session file: {}", r.session.path.shown()));
    output::out(format!("  why:       {}", r.session.reason));
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
}

/// What the file is and records.
fn print_file(settings: &Settings, s: &SessionReport) {
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
        output::out(format!(
            "  home DC:   {dc} ({})",
            home_address(settings, s, dc)
        ));
    }
    let key = match &s.auth_key_id {
        Some(id) => format!("present (key id {id})"),
        None => "none".to_string(),
    };
    output::out(format!("  auth key:  {key}"));
    output::out(format!(
        "  signed in: {}; `{}` asks Telegram",
        signed_in_words(s),
        settings.command("check")
    ));
    if let Some(c) = &s.last_confirmed {
        output::out(format!(
            "  confirmed: Telegram last confirmed this key signed in as {} at {}",
            c.user.describe(),
            c.at
        ));
    }
    output::out(format!(
        "  file:      mode {}, owner uid {}, {} bytes, modified {}",
        s.mode.as_deref().unwrap_or("?"),
        s.owner_uid.map(|u| u.to_string()).unwrap_or_default(),
        s.size.unwrap_or(0),
        s.modified.as_deref().unwrap_or("unknown")
    ));
}

/// The home DC's address, where it came from, and the sandbox's when a sandbox config
/// connects elsewhere than the file says.
fn home_address(settings: &Settings, s: &SessionReport, dc: i32) -> String {
    let table = tgsess_store::known_dc_address(dc, s.test_mode == Some(true))
        .map(|a| format!("{a}, from Telegram's DC table: the file stores no address"));
    let addr = s
        .dc_address
        .clone()
        .or(table)
        .unwrap_or_else(|| "address unknown".into());
    let sandbox = settings
        .sandbox_dir
        .as_deref()
        .and_then(|d| crate::net::sandbox_address(d).ok())
        .filter(|a| Some(a.to_string()) != s.dc_address)
        .map(|a| format!("; the sandbox now listens on {a}, and tgsess connects there"))
        .unwrap_or_default();
    format!("{addr}{sandbox}")
}

fn signed_in_words(s: &SessionReport) -> String {
    let who = if s.bot == Some(true) { "bot" } else { "user" };
    match (s.signed_in, s.user_id) {
        (SignedIn::Yes, Some(id)) => format!("yes, as {who} {id} (from the file)"),
        (SignedIn::Yes, None) => "yes (from the file)".to_string(),
        (SignedIn::No, _) => "no (from the file)".to_string(),
        (SignedIn::Unknown, _) => format!(
            "unknown: {}s do not record the user",
            s.format.map(|f| f.describe()).unwrap_or("session")
        ),
    }
}

/// Other session files nearby, each with the commands that use it.
fn print_near(settings: &Settings, near: &[FoundReport]) {
    if near.is_empty() {
        return;
    }
    output::out("Other session files nearby that hold a login key:");
    for n in near {
        output::out(format!("  {}: {}", n.path.shown(), n.summary()));
        if !n.same_key {
            output::out(format!(
                "    use it as it is: `{}`",
                settings.command_on(&n.path, n.format.session_format(), "status")
            ));
            output::out(format!(
                "    or copy its key (two files then hold one key): `{}`",
                settings.command(&format!("import {}", shell_quote(&n.path)))
            ));
        }
    }
}
