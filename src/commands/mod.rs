//! One module per command. Each takes the resolved [`Settings`] and returns the exit status
//! of a run that went as intended, or an [`crate::error::Error`].

pub mod check;
pub mod list;
pub mod reset;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod status;

use crate::cli::Command;
use crate::error::{Exit, Result};
use crate::settings::Settings;

pub async fn dispatch(command: Command, settings: Settings) -> Result<Exit> {
    match command {
        Command::Status { json } => status::run(&settings, json).await,
        Command::Check {
            offline,
            json,
            quiet,
        } => check::run(&settings, offline, json, quiet).await,
        Command::Reset { yes } => reset::run(&settings, yes).await,
        Command::List { json } => list::run(&settings, json).await,
        Command::Completions { .. } => unreachable!("handled before settings are resolved"),
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) => unreachable!("handled before settings are resolved"),
    }
}
