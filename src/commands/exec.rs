//! `tgsess exec [--] PROGRAM [ARGS…]`: run a bot while holding its session's lock.
//!
//! Two programs on one key from two addresses end in AUTH_KEY_DUPLICATED; two on one SQLite
//! session in "database is locked". While PROGRAM runs, every tgsess writer and a second
//! `exec` on the same session is refused (exit 4), naming this process. PROGRAM gets
//! `TGSESS_SESSION` (the session's full path) and `TGSESS_SESSION_FORMAT`. Signals are passed
//! on; the exit status is PROGRAM's (128 + N when a signal N ended it).

use std::process::Stdio;

use tokio::signal::unix::{SignalKind, signal};

use crate::error::{Error, Result};
use crate::session::Target;
use crate::settings::Settings;

/// `tgsess exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The program and its arguments (put -- before them)
    #[arg(
        trailing_var_arg = true,
        required = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub(crate) program: Vec<std::ffi::OsString>,
}

/// The signals passed on to PROGRAM. SIGINT only when stdin is not a terminal: at a
/// terminal, Ctrl-C already reaches PROGRAM, which shares tgsess's process group.
fn forwarded() -> Vec<SignalKind> {
    let mut v = vec![
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::quit(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
    ];
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        v.push(SignalKind::interrupt());
    }
    v
}

/// Runs PROGRAM and never returns: the process exits with PROGRAM's status.
pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<crate::error::Exit> {
    let program = &args.program;
    let target = Target::open(settings).await?;
    let format = target.read_format(settings)?.or(settings.declared_format());
    let lock = target.lock()?;
    let (first, rest) = program
        .split_first()
        .ok_or_else(|| Error::usage("exec needs a program to run: tgsess exec -- PROGRAM ARGS"))?;
    // Handlers first: a signal in the instant after the program starts is passed on too,
    // rather than ending tgsess and leaving the program running unlocked.
    let mut streams = Vec::new();
    for kind in forwarded() {
        if let Ok(s) = signal(kind) {
            streams.push((kind.as_raw_value(), s));
        }
    }
    let mut child = tokio::process::Command::new(first)
        .args(rest)
        .env("TGSESS_SESSION", &target.path)
        .env(
            "TGSESS_SESSION_FORMAT",
            format.map(|f| f.name()).unwrap_or("grammers"),
        )
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            Error::usage(format!(
                "cannot run {}: {e}",
                crate::output::escape(&first.to_string_lossy())
            ))
        })?;
    let pid = child.id().map(|p| p as i32);
    let status = loop {
        let any = futures_signal(&mut streams);
        tokio::select! {
            status = child.wait() => break status,
            sig = any => {
                if let Some(pid) = pid {
                    // SAFETY: signalling our own child.
                    unsafe { libc::kill(pid, sig); }
                }
            }
        }
    };
    drop(lock);
    let code = match status {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            s.code()
                .or_else(|| s.signal().map(|n| 128 + n))
                .unwrap_or(1)
        }
        Err(e) => {
            crate::output::error(format!("waiting for the program failed: {e}"));
            1
        }
    };
    std::process::exit(code)
}

/// The number of the next signal on any of `streams`.
async fn futures_signal(streams: &mut [(i32, tokio::signal::unix::Signal)]) -> i32 {
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let futures = streams.iter_mut().map(|(n, s)| {
        let n = *n;
        Box::pin(async move {
            s.recv().await;
            n
        })
    });
    futures::future::select_all(futures).await.0
}
