//! `tgsess reset`: delete the session (and its SQLite side files) to test a fresh login.
//!
//! A Telethon or Pyrogram file is deleted only when its format is declared; a file tgsess
//! cannot identify, or one another process holds open, never.

use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::prompt;
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::SignedIn;
use tgsess_store::files::{self, SessionLock};

// `tgsess reset`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long)]
    pub(crate) yes: bool,
    /// Log out at Telegram first (as `tgsess logout`)
    #[arg(long)]
    pub(crate) logout: bool,
}

/// Deletes a session and its side files under its lock, and says what went. Shared by
/// `reset` and `logout`. (Lock files are never deleted: a process could be waiting on one.)
pub(crate) fn delete_reporting(path: &std::path::Path, lock: SessionLock) -> Result<()> {
    let gone = files::delete(path)?;
    drop(lock);
    let names: Vec<String> = gone.iter().map(|p| p.shown().to_string()).collect();
    output::out(format!("Deleted {}.", names.join(", ")));
    Ok(())
}

impl Args {
    /// `reset --logout` is `logout`, with reset's --yes.
    pub(crate) fn as_logout(&self) -> super::logout::Args {
        super::logout::Args {
            yes: self.yes,
            timeout: 10,
        }
    }
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let yes = args.yes;
    let target = Target::open(settings).await?;
    let path = &target.path;
    let Some(inspection) = target.inspection() else {
        output::out(format!(
            "No session at {}; nothing to delete ({}).",
            path.shown(),
            settings.session.reason
        ));
        return Ok(Exit::Ok);
    };
    target.write_format(settings, "delete")?;
    if !yes && !output::interactive() {
        return Err(Error::usage(format!(
            "reset would delete {}; not on a terminal, so confirm with --yes",
            path.shown()
        )));
    }
    let lock = target.lock()?;
    if !yes {
        let who = match (inspection.signed_in(), inspection.user_id) {
            (SignedIn::Yes, Some(id)) => format!(" (signed in as user {id})"),
            (SignedIn::Unknown, _) => " (it holds a login key)".to_string(),
            _ => String::new(),
        };
        let question = format!(
            "Delete {}{who}? The key stays valid at Telegram (it is only forgotten here; \
             `{}` logs it out first), and the next login requests a new code.",
            path.shown(),
            settings.command("reset --logout")
        );
        if !prompt::confirm(&question).await? {
            output::out("Nothing deleted.");
            return Ok(Exit::NotSignedIn);
        }
    }
    delete_reporting(path, lock)?;
    output::out(format!(
        "The key is only forgotten here, not logged out at Telegram. The next `{}` starts a \
         fresh login and requests one new code.",
        settings.command("login")
    ));
    Ok(Exit::Ok)
}
