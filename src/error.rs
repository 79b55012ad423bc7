//! The one error type of tgsess, and the exit codes it maps to.
//!
//! Every failure a user can meet ends as one [`Error`] variant; [`Error::exit`] decides the
//! process's exit status, so the table in the README and in `--help` has one source.

use std::fmt;
use std::process::ExitCode;

/// The documented exit codes (README, `tgsess --help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
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
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The exit-code table as it appears in `--help` and the README.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success; for check: signed in
  1    not signed in (no session, key not signed in, revoked), or a login that did not complete
  2    usage or configuration error
  3    no verdict: network error, timeout, server error other than 401
  4    session file problem: not a session, foreign format, locked by another process,
       unsafe permissions it cannot fix
  5    rate limited: a wait Telegram asked for is still running
  130  interrupted";

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
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::NotSignedIn(_) => Exit::NotSignedIn,
            Error::Usage(_) => Exit::Usage,
            Error::NoVerdict(_) => Exit::NoVerdict,
            Error::SessionFile(_) => Exit::SessionFile,
            Error::RateLimited(_) => Exit::RateLimited,
            Error::Interrupted => Exit::Interrupted,
        }
    }

    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub fn file(msg: impl fmt::Display) -> Self {
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
        assert_eq!(Error::Interrupted.exit().code(), 130);
    }

    #[test]
    fn help_table_lists_every_code() {
        for code in ["0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "130 "] {
            assert!(
                EXIT_CODES_HELP
                    .lines()
                    .any(|l| l.trim_start().starts_with(code)),
                "{code}"
            );
        }
    }
}
