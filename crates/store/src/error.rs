//! The store's errors: what went wrong, as a message that names the file, column or value
//! concerned, and what kind of problem it is, from which tgsess decides its exit code.

use std::fmt;

/// A store failure.
#[derive(Debug)]
pub enum Error {
    /// The session file itself: not a session, damaged, busy, unwritable (tgsess: exit 4).
    File(String),
    /// What was given to read: a string, a file or tdata that is not a session (exit 2).
    Input(String),
    /// No session where one must be (exit 1): never created silently in its place.
    Missing(String),
}

impl Error {
    pub fn file(msg: impl fmt::Display) -> Self {
        Error::File(msg.to_string())
    }

    pub fn input(msg: impl fmt::Display) -> Self {
        Error::Input(msg.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::File(m) | Error::Input(m) | Error::Missing(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
