//! Advice must paste: every command tgsess prints carries the options that chose the session
//! (an absolute `--config`, naming flags and variables, `--session-format`, `--sandbox-dir`,
//! a proxy given as a flag, `--test-dc`), quoted for a POSIX shell, so it works pasted from
//! any directory. This is the one builder every printed command comes from.

use std::path::Path;

use super::keys::{Origin, Sourced};
use crate::net::Proxy;
use crate::output::{shell_quote, shell_quote_str};
use tgsess_store::SessionFormat;

/// The options a printed command repeats, and whether the session is a rehearsal's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Advice {
    /// (flag, value) pairs, the value already quoted; `--test-dc` takes none.
    words: Vec<(&'static str, Option<String>)>,
    /// `login --sandbox`: the sandbox and its session vanish when the command ends, so no
    /// printed command can act on them later.
    pub(crate) rehearsal: bool,
}

/// What the advice reproduces.
pub(super) struct Given<'a> {
    pub(crate) config: Option<&'a Path>,
    pub(crate) session: Option<&'a Path>,
    pub(crate) username: Option<&'a Sourced<String>>,
    pub(crate) session_file: Option<&'a Sourced<String>>,
    /// The session directory, when a flag or variable set it (a config value comes back
    /// with `--config`).
    pub(crate) session_dir: Option<&'a Path>,
    pub(crate) session_format: Option<&'a Sourced<SessionFormat>>,
    pub(crate) sandbox_dir: Option<&'a Path>,
    pub(crate) proxy: Option<&'a Sourced<Proxy>>,
    pub(crate) test_dc: &'a Sourced<bool>,
}

/// Set on the command line or in the environment: repeated as a flag. What the config file
/// set comes back with `--config`.
fn not_file(s: &Origin) -> bool {
    !matches!(s, Origin::File(_) | Origin::Default)
}

impl Advice {
    pub(super) fn of(g: &Given) -> Advice {
        let mut a = Advice::default();
        let path = |p: &Path| shell_quote(p);
        a.push("--config", g.config.map(path));
        a.push("--session", g.session.map(path));
        let text = |s: Option<&Sourced<String>>| {
            s.filter(|s| not_file(&s.source))
                .map(|s| shell_quote_str(&s.value))
        };
        a.push("--username", text(g.username));
        a.push("--session-file", text(g.session_file));
        a.push("--session-dir", g.session_dir.map(path));
        let format = g.session_format.filter(|f| not_file(&f.source));
        a.push(
            "--session-format",
            format.map(|f| f.value.name().to_string()),
        );
        a.push("--sandbox-dir", g.sandbox_dir.map(path));
        // A proxy from the flag has no password (refused there); one from the environment
        // or the config comes back by itself.
        let proxy = g.proxy.filter(|p| matches!(p.source, Origin::Flag(_)));
        a.push(
            "--proxy",
            proxy.map(|p| shell_quote_str(&p.value.to_string())),
        );
        if g.test_dc.value && not_file(&g.test_dc.source) {
            a.words.push(("--test-dc", None));
        }
        a
    }

    fn push(&mut self, flag: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.words.push((flag, Some(v)));
        }
    }

    /// `tgsess OPTIONS REST` for the user to paste; `rest` is quoted by the caller.
    pub(crate) fn command(&self, rest: &str) -> String {
        self.line(&[], None, rest)
    }

    /// A command line for another session file `session` (a near miss): the same options,
    /// its naming flags replaced by `--session PATH`, and `--session-format` when the file
    /// is a Telethon or Pyrogram file (tgsess manages those only once declared).
    pub(crate) fn command_on(
        &self,
        session: &Path,
        format: Option<SessionFormat>,
        rest: &str,
    ) -> String {
        let mut dropped = vec!["--session", "--username", "--session-file", "--session-dir"];
        if format.is_some() {
            dropped.push("--session-format");
        }
        let mut extra = vec![("--session", Some(shell_quote(session)))];
        if let Some(f) = format.filter(|f| f.is_foreign()) {
            extra.push(("--session-format", Some(f.name().to_string())));
        }
        self.line(&dropped, Some(extra), rest)
    }

    fn line(
        &self,
        dropped: &[&str],
        extra: Option<Vec<(&'static str, Option<String>)>>,
        rest: &str,
    ) -> String {
        if self.rehearsal {
            // Only a new rehearsal can follow: this one's sandbox ends with the command.
            return "tgsess login --sandbox".into();
        }
        let kept = self.words.iter().filter(|(f, _)| !dropped.contains(f));
        let mut words = vec!["tgsess".to_string()];
        for (flag, value) in kept.chain(extra.iter().flatten()) {
            words.push(flag.to_string());
            words.extend(value.clone());
        }
        if !rest.is_empty() {
            words.push(rest.to_string());
        }
        words.join(" ")
    }
}
