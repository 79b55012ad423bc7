//! The one error type of tgsess, and the exit codes it maps to.
//!
//! Every failure a user can meet ends as one [`Error`] variant; [`Error::exit`] decides the
//! process's exit status, so the table in the README and in `--help` has one source.

use std::fmt;
use std::process::ExitCode;

/// The documented exit codes (README, `tgsess --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success; for `check`: signed in.
    Ok = 0,
    /// Not signed in (no session, key not signed in, revoked), or a login that did not complete.
    NotSignedIn = 1,
    /// Usage or configuration error.
    Usage = 2,
    /// No verdict: network error, timeout, server error other than 401.
    NoVerdict = 3,
    /// Session file problem: not a session, foreign format, locked, unsafe permissions.
    SessionFile = 4,
    /// Rate limited: a wait Telegram asked for is still running.
    RateLimited = 5,
    /// `exec` did not start PROGRAM, or stopped it: a dead or wrong session, or PROGRAM
    /// opened a session other than the managed one. A supervisor must not restart it.
    Guard = 6,
    /// `exec` lost its lease on PostgreSQL while PROGRAM ran, and stopped PROGRAM.
    LeaseLost = 7,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl Exit {
    /// Every exit code, in the order `--help` and the README list them.
    pub(crate) const ALL: [Exit; 9] = [
        Exit::Ok,
        Exit::NotSignedIn,
        Exit::Usage,
        Exit::NoVerdict,
        Exit::SessionFile,
        Exit::RateLimited,
        Exit::Guard,
        Exit::LeaseLost,
        Exit::Interrupted,
    ];

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    /// What the code means, as `--help` and the README say it.
    pub(crate) fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "success; for check: signed in",
            Exit::NotSignedIn => {
                "not signed in (no session, key not signed in, revoked), or a login that did \
                 not complete (also: `reset` declined at the prompt)"
            }
            Exit::Usage => "usage or configuration error, including unreadable import input",
            Exit::NoVerdict => "no verdict: network error, timeout, server error other than 401",
            Exit::SessionFile => {
                "session file problem: not a session, damaged, foreign format, locked by \
                 another process, unsafe permissions it cannot fix, a file export would \
                 overwrite"
            }
            Exit::RateLimited => {
                "rate limited: a wait Telegram asked for is still running (also \
                 SEND_CODE_UNAVAILABLE, and a code still pending for the phone)"
            }
            Exit::Guard => {
                "exec: PROGRAM was not started (the session is not signed in, revoked, banned, \
                 or another account) or was stopped (it opened a session other than the \
                 managed one); do not restart it (systemd: RestartPreventExitStatus=6)"
            }
            Exit::LeaseLost => {
                "exec: the lease on PostgreSQL was lost while PROGRAM ran (no confirmation \
                 within --grace, or the server ended the session), so PROGRAM was stopped \
                 before another host could take the lease"
            }
            Exit::Interrupted => "interrupted",
        }
    }

    /// The exit-code table of `--help`, from [`Exit::ALL`].
    pub(crate) fn help() -> String {
        let rows: Vec<String> = Exit::ALL
            .iter()
            .map(|e| format!("  {:<4} {}", e.code(), e.meaning()))
            .collect();
        format!("Exit codes:\n{}", rows.join("\n"))
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// Everything that can go wrong, one variant per exit code.
///
/// The message is complete: it names the file, key or value concerned and the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotSignedIn(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NoVerdict(String),
    #[error("{0}")]
    SessionFile(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Guard(String),
    #[error("{0}")]
    LeaseLost(String),
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Error::NotSignedIn(_) => Exit::NotSignedIn,
            Error::Usage(_) => Exit::Usage,
            Error::NoVerdict(_) => Exit::NoVerdict,
            Error::SessionFile(_) => Exit::SessionFile,
            Error::RateLimited(_) => Exit::RateLimited,
            Error::Guard(_) => Exit::Guard,
            Error::LeaseLost(_) => Exit::LeaseLost,
            Error::Interrupted => Exit::Interrupted,
        }
    }

    pub(crate) fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub(crate) fn file(msg: impl fmt::Display) -> Self {
        Error::SessionFile(msg.to_string())
    }
}

impl From<tgsess_store::Error> for Error {
    /// The store says what kind of problem it met; the exit code follows from it.
    fn from(e: tgsess_store::Error) -> Self {
        match e {
            tgsess_store::Error::File(m) => Error::SessionFile(m),
            tgsess_store::Error::Input(m) => Error::Usage(m),
            tgsess_store::Error::Missing(m) => Error::NotSignedIn(m),
        }
    }
}

#[cfg(feature = "sandbox")]
impl From<tgsess_sandbox::Error> for Error {
    /// The sandbox's own errors name the directory, address or flag: a usage error.
    fn from(e: tgsess_sandbox::Error) -> Self {
        Error::Usage(e.0)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_map_to_documented_codes() {
        assert_eq!(Error::NotSignedIn(String::new()).exit().code(), 1);
        assert_eq!(Error::Usage(String::new()).exit().code(), 2);
        assert_eq!(Error::NoVerdict(String::new()).exit().code(), 3);
        assert_eq!(Error::SessionFile(String::new()).exit().code(), 4);
        assert_eq!(Error::RateLimited(String::new()).exit().code(), 5);
        assert_eq!(Error::Guard(String::new()).exit().code(), 6);
        assert_eq!(Error::LeaseLost(String::new()).exit().code(), 7);
        assert_eq!(Error::Interrupted.exit().code(), 130);
    }

    #[test]
    fn help_table_lists_every_code() {
        let help = Exit::help();
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "130 "] {
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(code)),
                "{code}"
            );
        }
    }

    #[test]
    fn the_readme_lists_every_exit_code_as_the_enum_says_it() {
        let readme = include_str!("../README.md");
        for e in Exit::ALL {
            let row = format!("| {} | {} |", e.code(), e.meaning());
            assert!(readme.contains(&row), "README lacks the row {row:?}");
        }
    }
}
