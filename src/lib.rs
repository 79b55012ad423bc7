//! tgsess: a careful Telegram session manager.
//!
//! The binary is a thin wrapper around [`run`]. The library is usable on its own: a bot can
//! resolve the very same session file tgsess uses (see `examples/open_session.rs`).

pub(crate) mod cli;
pub(crate) mod commands;
pub mod env;
pub mod error;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod identity;
pub(crate) mod lease;
pub(crate) mod login;
pub mod net;
pub(crate) mod output;
pub(crate) mod prompt;
pub(crate) mod report;
pub(crate) mod session;
pub mod settings;
pub(crate) mod sources;
pub(crate) mod state;

use std::process::ExitCode;

use crate::commands::Command;
use crate::error::{Error, Exit};

/// Every file tgsess creates is 0600 and every directory 0700: set once, before anything is
/// created, instead of chmod after the fact.
fn restrict_umask() {
    // SAFETY: umask(2) has no memory-safety preconditions; it only sets the process mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Parses the command line, runs the command, and turns the outcome into an exit code.
pub fn run() -> ExitCode {
    restrict_umask();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap's own errors, in tgsess's voice: `tgsess: error: …`.
            let text = e.render().to_string();
            output::error(text.trim_end().trim_start_matches("error: "));
            return Exit::Usage.into();
        }
        Err(e) => {
            let _ = e.print();
            return Exit::Ok.into();
        }
    };
    if let Command::Reap = cli.command {
        return guard::child::reap();
    }
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut cli::command(), "tgsess", &mut std::io::stdout());
        return Exit::Ok.into();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output::error(format!("cannot start the async runtime: {e}"));
            return Exit::NoVerdict.into();
        }
    };
    // Boxed behind `dyn`: held on this frame, the futures cost its stack 34 KB, probed page
    // by page at every start whatever the command (perf, `check --offline`).
    let future: commands::Boxed = match cli.command {
        // The sandbox does not read the config: a broken tgsess.toml must not stop it.
        #[cfg(feature = "sandbox")]
        Command::Sandbox(with) => Box::pin(commands::sandbox::run(with.args)),
        command => match resolve(&cli.global) {
            Ok(settings) => Box::pin(commands::dispatch(command, settings, &env::ProcessEnv)),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        },
    };
    let outcome = runtime.block_on(future);
    match outcome {
        Ok(exit) => exit.into(),
        Err(e) => {
            if !matches!(e, Error::Interrupted) {
                output::error(e.to_string());
            }
            e.exit().into()
        }
    }
}

/// The settings of this run: the config file, environment and flags, from the current
/// directory.
fn resolve(global: &commands::global::GlobalArgs) -> Result<settings::Settings, Error> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the current directory: {e}")))?;
    settings::resolve(&global.into(), &env::ProcessEnv, &cwd)
}
