//! `tgsess reset`: delete the session (and its SQLite side files) to test a fresh login.
//!
//! Refuses anything that is not a tgsess session: a Telethon or Pyrogram file is never
//! deleted, nor a file tgsess cannot identify.

use std::io::{BufRead, Write};

use crate::error::{Error, Exit, Result};
use crate::formats::Format;
use crate::output;
use crate::session_file::{self, Presence, SessionLock};
use crate::settings::Settings;

fn confirm(question: &str) -> Result<bool> {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{question} [y/N] ");
    let _ = stdout.flush();
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::usage(format!("cannot read the answer: {e}")))?;
    if n == 0 {
        // End of input at the prompt: treat as "no".
        return Ok(false);
    }
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Deletes a session and its side files under its lock, then the lock file, and says what
/// went. Shared by `reset` and `logout`.
pub fn delete_reporting(path: &std::path::Path, lock: SessionLock) -> Result<()> {
    let gone = session_file::delete(path)?;
    drop(lock);
    let _ = std::fs::remove_file(session_file::lock_path(path));
    let names: Vec<String> = gone.iter().map(|p| p.display().to_string()).collect();
    output::out(format!("Deleted {}.", names.join(", ")));
    Ok(())
}

pub async fn run(settings: &Settings, yes: bool) -> Result<Exit> {
    let path = &settings.session.path;
    let inspection = match session_file::examine(path).await? {
        Presence::Missing => {
            output::out(format!(
                "No session at {}; nothing to delete ({}).",
                path.display(),
                settings.session.reason
            ));
            return Ok(Exit::Ok);
        }
        Presence::File(i, _) => i,
    };
    if inspection.format != Format::Tgsess {
        return Err(session_file::wrong_format_error(path, &inspection));
    }
    if !yes && !output::interactive() {
        return Err(Error::usage(format!(
            "reset would delete {}; not on a terminal, so confirm with --yes",
            path.display()
        )));
    }
    let lock = SessionLock::acquire(path)?;
    if !yes {
        let who = match (inspection.signed_in, inspection.user_id) {
            (Some(true), Some(id)) => format!(" (signed in as user {id})"),
            _ => String::new(),
        };
        if !confirm(&format!(
            "Delete {}{who}? The next login will request a new code.",
            path.display()
        ))? {
            output::out("Nothing deleted.");
            return Ok(Exit::NotSignedIn);
        }
    }
    delete_reporting(path, lock)?;
    output::out(
        "The key is only forgotten here, not logged out at Telegram. The next `tgsess login` \
         starts a fresh login and requests one new code.",
    );
    Ok(Exit::Ok)
}
