//! Which session file is used, and why. The heart of tgsess.
//!
//! Rules (README, "Session naming"):
//! - `--session PATH` names the file outright.
//! - Else `<username>.session` when `username` is set and non-empty,
//! - else `<session_file>.session` (no second `.session`),
//! - else `telegram_session.session`.
//!
//! Names are used exactly as written (`'karaposu'` keeps its quotes, so files made by earlier
//! tools keep working); a warning says so. Relative paths resolve against the config file's
//! directory, never silently against wherever the command happens to run.

use std::path::{Component, Path, PathBuf};

use super::keys::{Origin, Sourced};
use crate::error::{Error, Result};
use crate::output::Shown;

pub(crate) const DEFAULT_STEM: &str = "telegram_session";
/// The longest file name Linux file systems take, in bytes (NAME_MAX, <linux/limits.h>).
pub(crate) const NAME_MAX: usize = 255;
pub(crate) const EXTENSION: &str = ".session";

/// What decided the session file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DecidedBy {
    SessionFlag,
    Username,
    SessionFile,
    Default,
}

/// The resolved session file, with the explanation `status` prints.
#[derive(Clone, Debug)]
pub struct SessionChoice {
    pub path: PathBuf,
    pub(crate) decided_by: DecidedBy,
    pub reason: String,
    pub(crate) warnings: Vec<String>,
}

/// Inputs to naming. Relative paths from the config file resolve against its directory
/// (`base_dir`); relative flag and environment values against the current directory, as a
/// shell's tab completion expects.
pub(crate) struct NamingInput<'a> {
    pub(crate) session_flag: Option<&'a Sourced<PathBuf>>,
    pub(crate) username: Option<&'a Sourced<String>>,
    pub(crate) session_file: Option<&'a Sourced<String>>,
    pub(crate) session_dir: Option<&'a Sourced<String>>,
    /// The config file's directory, or the current directory without a config file.
    pub(crate) base_dir: &'a Path,
    pub(crate) cwd: &'a Path,
    /// Where sessions live when session_dir is not set, and those words for `status`.
    pub(crate) default_dir: &'a Path,
    pub(crate) default_word: &'a str,
    /// For a leading `~` in a path value.
    pub(crate) home: Option<&'a Path>,
}

impl NamingInput<'_> {
    /// A path value made absolute: a leading `~` is the home directory; a relative path
    /// resolves against the config's directory when the config file gave it, else against
    /// the current directory.
    pub(crate) fn path_of(&self, value: &Path, source: &Origin) -> PathBuf {
        let expanded = expand_home(value, self.home);
        let base = match source {
            Origin::File(_) => self.base_dir,
            _ => self.cwd,
        };
        absolutize(base, &expanded)
    }
}

/// `~` and `~/…` are the home directory; anything else is left alone.
pub(crate) fn expand_home(p: &Path, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~"), home) {
        (Ok(rest), Some(h)) => h.join(rest),
        _ => p.to_path_buf(),
    }
}

/// A path value may start with `~` or `~/` (the home directory) and nothing else of the
/// kind: `~user` is a shell feature tgsess does not have, and taking it literally would
/// create a directory named `~user`. The error names the key and the value.
pub(crate) fn check_tilde(
    key: &str,
    value: &Path,
    source: &Origin,
    home: Option<&Path>,
) -> Result<()> {
    let Some(first) = value.components().next() else {
        return Ok(());
    };
    let first = first.as_os_str().to_string_lossy();
    if !first.starts_with('~') {
        return Ok(());
    }
    if first != "~" {
        return Err(Error::usage(format!(
            "{key} {:?} (from {source}) starts with {first:?}: tgsess expands only ~ and ~/ (your \
             home directory), not ~user; write the directory out in full",
            value.shown()
        )));
    }
    if home.is_none() {
        return Err(Error::usage(format!(
            "{key} {:?} (from {source}) starts with ~, but HOME is not set; write the \
             directory out in full",
            value.shown()
        )));
    }
    Ok(())
}

/// Appends `.session` unless the name already ends with it.
pub(crate) fn file_name_for(stem: &str) -> String {
    if stem.ends_with(EXTENSION) {
        stem.to_string()
    } else {
        format!("{stem}{EXTENSION}")
    }
}

/// Checks a `username` / `session_file` value and returns warnings for legal but surprising
/// values. A value is a bare file name: directories belong in `session_dir`.
pub(crate) fn check_name(key: &str, v: &Sourced<String>) -> Result<Vec<String>> {
    let value = &v.value;
    let bad = |why: &str| {
        Error::usage(format!(
            "{key} {value:?} (from {}) {why}; {key} is a bare name, the session directory \
             goes in session_dir",
            v.source
        ))
    };
    if value.trim().is_empty() {
        return Err(Error::usage(format!(
            "{key} {value:?} (from {}) is blank; set a name or remove the key",
            v.source
        )));
    }
    if value.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    if value.contains('/') || value.contains('\\') {
        return Err(bad("contains a path separator"));
    }
    if value.contains("..") {
        return Err(bad("contains '..'"));
    }
    let file = file_name_for(value);
    if file.len() > NAME_MAX {
        return Err(Error::usage(format!(
            "{key} (from {}) is {} bytes long: the session file name (the name and \
             {EXTENSION:?}) would be {} bytes, and a file name can have at most {NAME_MAX} \
             bytes (NAME_MAX). Use a {key} of at most {} bytes",
            v.source,
            value.len(),
            file.len(),
            NAME_MAX - EXTENSION.len()
        )));
    }
    Ok(name_warnings(key, v, &file))
}

/// Legal but surprising names: hidden files, quotes, surrounding spaces.
fn name_warnings(key: &str, v: &Sourced<String>, file: &str) -> Vec<String> {
    let value = &v.value;
    let mut warnings = Vec::new();
    if file.starts_with('.') {
        warnings.push(format!(
            "{key} {value:?} (from {}) makes the session file {file:?}, a hidden file: `ls` \
             and file managers do not show it, and it is easy to lose or copy by mistake. \
             Remove the leading dot unless you meant it",
            v.source
        ));
    }
    if value.contains(['\'', '"']) {
        warnings.push(format!(
            "{key} {value:?} (from {}) contains quote characters; they are part of the name, \
             so the session file is {file:?}. This keeps files made by earlier tools working; \
             remove the quotes from the value if you meant the bare name",
            v.source
        ));
    }
    if value.trim() != value {
        warnings.push(format!(
            "{key} {value:?} (from {}) has surrounding spaces; they are part of the name, so \
             the session file is {file:?}",
            v.source
        ));
    }
    warnings
}

fn set(v: Option<&Sourced<String>>) -> Option<&Sourced<String>> {
    v.filter(|v| !v.value.is_empty())
}

/// Lexically absolute: joins a relative path to `base` and drops `.` components.
pub(crate) fn absolutize(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    joined
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The directory session files live in: `session_dir`, else the base directory.
pub(crate) fn session_dir(input: &NamingInput) -> Result<PathBuf> {
    match set(input.session_dir) {
        Some(d) => {
            if d.value.contains('\0') {
                return Err(Error::usage(format!(
                    "session_dir {:?} (from {}) contains a NUL byte",
                    d.value, d.source
                )));
            }
            check_tilde("session_dir", Path::new(&d.value), &d.source, input.home)?;
            Ok(input.path_of(Path::new(&d.value), &d.source))
        }
        None => Ok(input.default_dir.to_path_buf()),
    }
}

/// Resolves the session file and says why.
pub(crate) fn resolve(input: &NamingInput) -> Result<SessionChoice> {
    let base_word = input.default_word;
    let username = set(input.username);
    let session_file = set(input.session_file);
    let mut warnings = Vec::new();
    // Validate whatever is set even when it is not used: a bad value is a bad config.
    if let Some(u) = input.username.filter(|u| !u.value.is_empty()) {
        warnings.extend(check_name("username", u)?);
    }
    if let Some(s) = input.session_file.filter(|s| !s.value.is_empty()) {
        warnings.extend(check_name("session_file", s)?);
    }
    let dir = session_dir(input)?;

    if let Some(flag) = input.session_flag {
        return flag_choice(
            input,
            flag,
            [("username", username), ("session_file", session_file)],
        );
    }

    let (stem, decided_by, mut reason) = stem_of(username, session_file);
    match set(input.session_dir) {
        Some(d) => reason.push_str(&format!("; in session_dir (from {})", d.source)),
        None => reason.push_str(&format!("; in {base_word}")),
    }
    Ok(SessionChoice {
        path: dir.join(file_name_for(&stem)),
        decided_by,
        reason,
        warnings,
    })
}

/// --session (or $TGSESS_SESSION) names the file outright; the names set are ignored.
fn flag_choice(
    input: &NamingInput,
    flag: &Sourced<PathBuf>,
    names: [(&str, Option<&Sourced<String>>); 2],
) -> Result<SessionChoice> {
    check_tilde("--session", &flag.value, &flag.source, input.home)?;
    let path = input.path_of(&flag.value, &flag.source);
    let mut reason = format!("named outright by {}", flag.source);
    if !flag.value.is_absolute() {
        reason.push_str(" (relative, resolved against the current directory)");
    }
    let ignored: Vec<String> = names
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {:?}", v.value)))
        .collect();
    if !ignored.is_empty() {
        reason.push_str(&format!("; {} ignored", ignored.join(", ")));
    }
    // Quote warnings are about names that are not used here.
    Ok(SessionChoice {
        path,
        decided_by: DecidedBy::SessionFlag,
        reason,
        warnings: Vec::new(),
    })
}

/// The name the file is named after, what decided it, and the words that say so.
fn stem_of(
    username: Option<&Sourced<String>>,
    session_file: Option<&Sourced<String>>,
) -> (String, DecidedBy, String) {
    match (username, session_file) {
        (Some(u), s) => {
            let mut r = format!("named after username {:?} (from {})", u.value, u.source);
            if let Some(s) = s {
                r.push_str(&format!("; session_file {:?} ignored", s.value));
            }
            (u.value.clone(), DecidedBy::Username, r)
        }
        (None, Some(s)) => (
            s.value.clone(),
            DecidedBy::SessionFile,
            format!(
                "named after session_file {:?} (from {}); username is not set",
                s.value, s.source
            ),
        ),
        (None, None) => (
            DEFAULT_STEM.to_string(),
            DecidedBy::Default,
            "default name: neither username nor session_file is set".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(v: &str) -> Sourced<String> {
        Sourced {
            value: v.to_string(),
            source: Origin::File(PathBuf::from("/cfg/tgsess.toml")),
        }
    }

    fn input<'a>(
        u: Option<&'a Sourced<String>>,
        s: Option<&'a Sourced<String>>,
        d: Option<&'a Sourced<String>>,
    ) -> NamingInput<'a> {
        NamingInput {
            session_flag: None,
            username: u,
            session_file: s,
            session_dir: d,
            base_dir: Path::new("/cfg"),
            cwd: Path::new("/cwd"),
            default_dir: Path::new("/cfg"),
            default_word: "the config file's directory",
            home: Some(Path::new("/home/u")),
        }
    }

    #[test]
    fn username_wins_and_reason_names_the_ignored_value() {
        let (u, s) = (file("karaposu"), file("telegram_session"));
        let c = resolve(&input(Some(&u), Some(&s), None)).unwrap();
        assert_eq!(c.path, PathBuf::from("/cfg/karaposu.session"));
        assert_eq!(c.decided_by, DecidedBy::Username);
        assert!(c.reason.contains("username \"karaposu\""), "{}", c.reason);
        assert!(
            c.reason
                .contains("session_file \"telegram_session\" ignored"),
            "{}",
            c.reason
        );
    }

    #[test]
    fn quotes_are_kept_and_warned_about() {
        let u = file("'karaposu'");
        let c = resolve(&input(Some(&u), None, None)).unwrap();
        assert_eq!(c.path, PathBuf::from("/cfg/'karaposu'.session"));
        assert_eq!(c.warnings.len(), 1);
        assert!(c.warnings[0].contains("\"'karaposu'.session\""));
    }

    #[test]
    fn fallbacks() {
        let empty = file("");
        let s = file("bot.session");
        let c = resolve(&input(Some(&empty), Some(&s), None)).unwrap();
        assert_eq!(c.path, PathBuf::from("/cfg/bot.session"));
        assert_eq!(c.decided_by, DecidedBy::SessionFile);
        let c = resolve(&input(None, None, None)).unwrap();
        assert_eq!(c.path, PathBuf::from("/cfg/telegram_session.session"));
        assert_eq!(c.decided_by, DecidedBy::Default);
    }

    #[test]
    fn session_dir_relative_to_config_dir() {
        let d = file("./sessions");
        let c = resolve(&input(None, None, Some(&d))).unwrap();
        assert_eq!(
            c.path,
            PathBuf::from("/cfg/sessions/telegram_session.session")
        );
        let d = file("/abs");
        let c = resolve(&input(None, None, Some(&d))).unwrap();
        assert_eq!(c.path, PathBuf::from("/abs/telegram_session.session"));
    }

    #[test]
    fn session_flag_overrides_everything() {
        let u = file("karaposu");
        let flag = Sourced {
            value: PathBuf::from("x/my.db"),
            source: Origin::Flag("--session"),
        };
        let mut i = input(Some(&u), None, None);
        i.session_flag = Some(&flag);
        let c = resolve(&i).unwrap();
        // A flag resolves against the current directory, as tab completion expects.
        assert_eq!(c.path, PathBuf::from("/cwd/x/my.db"));
        assert_eq!(c.decided_by, DecidedBy::SessionFlag);
        let home = Sourced {
            value: PathBuf::from("~/bots/a.session"),
            source: Origin::Flag("--session"),
        };
        i.session_flag = Some(&home);
        assert_eq!(
            resolve(&i).unwrap().path,
            PathBuf::from("/home/u/bots/a.session")
        );
        assert!(c.reason.contains("username \"karaposu\" ignored"));
    }

    #[test]
    fn bad_names_are_rejected_naming_the_key() {
        for bad in ["a/b", "..", "x..y", "a\\b", "   ", "a\0b"] {
            let u = file(bad);
            let e = resolve(&input(Some(&u), None, None)).unwrap_err();
            assert!(e.to_string().starts_with("username"), "{e}");
            assert_eq!(e.exit().code(), 2);
        }
        let s = file("dir/name");
        let e = resolve(&input(None, Some(&s), None)).unwrap_err();
        assert!(e.to_string().starts_with("session_file"), "{e}");
    }

    #[test]
    fn surrounding_spaces_warn() {
        let u = file(" bob ");
        let c = resolve(&input(Some(&u), None, None)).unwrap();
        assert_eq!(c.path, PathBuf::from("/cfg/ bob .session"));
        assert!(c.warnings.iter().any(|w| w.contains("surrounding spaces")));
    }

    #[test]
    fn no_double_extension() {
        assert_eq!(file_name_for("a.session"), "a.session");
        assert_eq!(file_name_for("a"), "a.session");
    }
}
