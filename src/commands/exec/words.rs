//! What exec says when the guard stops PROGRAM, and what it remembers of it.

use std::path::{Path, PathBuf};

use crate::guard::{Hit, How};
use crate::identity::Identity;
use crate::output::{self, Shown};
use crate::settings::Settings;
use crate::state::{GuardEvent, State};

/// The whole story of a hit: the file, the managed session, how they differ, the fix, and
/// how to remove what PROGRAM created.
pub(super) async fn hit_message(
    settings: &Settings,
    hit: &Hit,
    managed: &Path,
    who: Option<&Identity>,
) -> String {
    let did = match hit.how {
        How::Created => "created",
        How::Opened => "opened",
    };
    let by = hit.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
    let who = who
        .map(|w| format!(", signed in as {}", w.describe()))
        .unwrap_or_default();
    let mut lines = vec![
        format!(
            "stopped the program before it could ask for a login code: it{by} {did} {}, \
             which is not the session tgsess manages",
            hit.path.shown()
        ),
        format!(
            "  managed session: {}{who} ({})",
            managed.shown(),
            settings.session.reason
        ),
        format!("  how they differ: {}", difference(&hit.path, managed)),
        format!(
            "  fix: have the program open the file tgsess gives it in $TGSESS_SESSION, or \
             use that name in that directory; `{}` explains how the session is chosen",
            settings.command("status")
        ),
    ];
    lines.push(format!("  {}", leftover(hit).await));
    lines.push(
        "  exit 6: do not restart it until this is fixed (systemd: RestartPreventExitStatus=6)"
            .into(),
    );
    lines.join("\n")
}

/// Another name, the same name in another directory, or both.
fn difference(found: &Path, managed: &Path) -> String {
    let (fd, md) = (found.parent(), managed.parent());
    let (fname, mname) = (found.file_name(), managed.file_name());
    match (fd == md, fname == mname) {
        (true, _) => format!(
            "another name in the same directory ({} instead of {})",
            shown_name(found),
            shown_name(managed)
        ),
        (false, true) => format!(
            "the same name in another directory ({} instead of {}): the program ran from \
             another working directory, or its library puts sessions beside its script \
             (the Pyrogram forks do)",
            fd.unwrap_or(Path::new("/")).shown(),
            md.unwrap_or(Path::new("/")).shown()
        ),
        (false, false) => format!(
            "another name in another directory ({} instead of {})",
            found.shown(),
            managed.shown()
        ),
    }
}

fn shown_name(p: &Path) -> String {
    output::escape(&p.file_name().unwrap_or_default().to_string_lossy())
}

/// What to do with the file PROGRAM made: a file it created holds no signed-in key (it was
/// stopped before a login), so a command removes it; a file it opened is left alone.
async fn leftover(hit: &Hit) -> String {
    if hit.how == How::Opened {
        return format!(
            "{} existed before; tgsess left it alone (`tgsess --session {} status` says \
             what it holds)",
            hit.path.shown(),
            output::shell_quote(&hit.path)
        );
    }
    if hit.path.is_dir() {
        return format!(
            "the folder it created was left in place; remove it with: rm -r -- {}",
            output::shell_quote(&hit.path)
        );
    }
    let inspection = tgsess_store::sqlite::inspect(&hit.path).await;
    if inspection.has_auth_key() {
        return format!(
            "{} was left in place: it holds a key ({})",
            hit.path.shown(),
            inspection.describe()
        );
    }
    let mut files: Vec<PathBuf> = vec![hit.path.clone()];
    files.extend(
        tgsess_store::files::side_files(&hit.path)
            .into_iter()
            .filter(|p| p.exists()),
    );
    let quoted: Vec<String> = files.iter().map(|p| output::shell_quote(p)).collect();
    format!(
        "the file it created holds no signed-in key and was left in place; remove it with: \
         rm -f -- {}",
        quoted.join(" ")
    )
}

/// Remembers a refusal or stop for the session, for the next run to mention.
pub(super) fn remember(settings: &Settings, managed: &Path, program: &str, what: &str) {
    let Ok(state) = State::load(settings.state_dir.clone()) else {
        return;
    };
    let first = what.lines().next().unwrap_or(what).to_string();
    let event = GuardEvent {
        at_ms: crate::state::now_ms(),
        program: program.to_string(),
        what: first,
    };
    let key = crate::state::session_key(managed);
    if let Err(e) = state.modify(|d| {
        d.guard_events.insert(key, event);
    }) {
        output::warn(format!("the guard's stop could not be remembered: {e}"));
    }
}

/// How long a refusal or stop is worth mentioning at the next start.
const RECENT_MS: i64 = 15 * 60 * 1000;

/// "last time…", when exec refused or stopped a program on this session recently.
pub(super) fn recall(settings: &Settings, managed: &Path) {
    let Ok(state) = State::load(settings.state_dir.clone()) else {
        return;
    };
    let Some(e) = crate::state::per_session(&state.data.guard_events, managed) else {
        return;
    };
    let age = crate::state::now_ms() - e.at_ms;
    if (0..RECENT_MS).contains(&age) {
        output::warn(format!(
            "{} s ago, exec did not let `{}` run on this session: {} (a supervisor that \
             restarts on exit 6 repeats this; see RestartPreventExitStatus=6)",
            age / 1000,
            output::escape(&e.program),
            e.what
        ));
    }
}
