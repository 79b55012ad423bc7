//! One module per command. Each takes the resolved [`Settings`] and returns the exit status
//! of a run that went as intended, or an [`crate::error::Error`].

pub mod check;
pub mod devices;
pub mod exec;
pub mod export;
pub mod import;
pub mod inspect;
pub mod list;
pub mod login;
pub mod logout;
pub mod reset;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod status;

use crate::cli::Command;
use crate::env::Env;
use crate::error::{Exit, Result};
use crate::settings::Settings;

/// What is odd about the session's name (quotes or spaces kept in it, a hidden file), said
/// where the name decides a file: `status` always (in its report), `login` and `import`
/// always (they create or replace the file); `exec`, `logout`, `reset` and `export` once per
/// distinct warning, remembered in the state (a bot's log must not repeat it at every
/// start); the read-only `check`, `list`, `inspect` and `devices` never (`status` explains).
fn naming_warnings(command: &Command, settings: &Settings) {
    let warnings = &settings.session.warnings;
    match command {
        Command::Login(_) | Command::Import(_) => {
            warnings.iter().for_each(crate::output::warn);
        }
        Command::Exec { .. }
        | Command::Logout { .. }
        | Command::Reset { .. }
        | Command::Export { .. } => {
            for w in once_each(warnings, settings) {
                crate::output::warn(w);
            }
        }
        _ => {}
    }
}

/// The warnings not yet shown, each remembered as shown; all of them when nothing can be
/// remembered.
fn once_each<'a>(warnings: &'a [String], settings: &Settings) -> Vec<&'a String> {
    use sha2::Digest;
    if warnings.is_empty() {
        return Vec::new();
    }
    let Ok(store) = crate::state::Store::load(settings.state_dir.clone()) else {
        return warnings.iter().collect();
    };
    let id = |w: &String| {
        sha2::Sha256::digest(w.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let new: Vec<&String> = warnings
        .iter()
        .filter(|w| !store.data.shown_warnings.contains(&id(w)))
        .collect();
    if settings.state_dir.is_some() && !new.is_empty() {
        let ids: Vec<String> = new.iter().map(|w| id(w)).collect();
        let _ = store.modify(|d| d.shown_warnings.extend(ids));
    }
    new
}

pub async fn dispatch(command: Command, settings: Settings, env: &dyn Env) -> Result<Exit> {
    naming_warnings(&command, &settings);
    match command {
        Command::Status { json } => status::run(&settings, json).await,
        Command::Check {
            offline,
            timeout,
            json,
            quiet,
        } => check::run(&settings, offline, timeout, json, quiet).await,
        Command::Reset { yes, logout: false } => reset::run(&settings, yes).await,
        Command::Reset { yes, logout: true } => logout::run(&settings, env, yes, 10).await,
        Command::Logout { yes, timeout } => logout::run(&settings, env, yes, timeout).await,
        Command::Login(args) => login::run(&settings, env, &args).await,
        Command::Import(args) => import::run(&settings, env, &args).await,
        Command::Exec { program } => exec::run(&settings, &program).await,
        Command::Inspect {
            source,
            format,
            json,
            tdata_key,
            passcode_stdin,
        } => {
            let tdata = crate::sources::TdataOpts {
                key_name: tdata_key,
                passcode_stdin,
                account: None,
            };
            inspect::run(&settings, &source, format, json, &tdata).await
        }
        Command::Devices {
            action,
            json,
            timeout,
        } => devices::run(&settings, action, json, timeout).await,
        Command::Export { format, output } => export::run(&settings, format, output).await,
        Command::List {
            json, check: false, ..
        } => list::run(&settings, json).await,
        Command::List {
            json,
            jobs,
            timeout,
            ..
        } => list::check_all(&settings, json, jobs, timeout).await,
        Command::Completions { .. } => unreachable!("handled before settings are resolved"),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) => unreachable!("handled before settings are resolved"),
    }
}
