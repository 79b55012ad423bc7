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
use crate::error::{Exit, Result};
use crate::settings::{Env, Settings};

pub async fn dispatch(command: Command, settings: Settings, env: &dyn Env) -> Result<Exit> {
    // Where the name decides which file is created or read, say what is odd about it
    // (quotes or spaces kept in the name); status reports it itself, and a script that asked
    // check for JSON or silence gets neither.
    let quiet = matches!(
        command,
        Command::Status { .. }
            | Command::List { .. }
            | Command::Inspect { .. }
            | Command::Check { json: true, .. }
            | Command::Check { quiet: true, .. }
    );
    if !quiet {
        for w in &settings.session.warnings {
            crate::output::warn(w);
        }
    }
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
            let tdata = crate::store::source::TdataOpts {
                key_name: tdata_key,
                passcode_stdin,
                account: None,
            };
            inspect::run(&source, format, json, &tdata).await
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
