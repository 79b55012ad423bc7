//! What a library's session looks like on disk, and which of those the guard lets a program
//! open: the managed session with its side files, and what `--allow` admits.
//!
//! The shapes (docs/guard.md has the sources):
//! - `NAME.session`: Telethon, the Pyrogram forks, mtcute's default `client.session`, and
//!   grammers' examples; SQLite side files `-journal` (Telethon, Pyrogram, kurigram) and
//!   `-wal`/`-shm` (hydrogram, mtcute);
//! - GramJS's StoreSession: a folder NAME holding one file per key, named
//!   `encodeURIComponent(NAME + ":" + key)`, the first ones `dcId`, `serverAddress`, `port`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use tgsess_shared::fs::SQLITE_SIDE_SUFFIXES as SIDE;

/// The keys GramJS's StoreSession writes first (setDC, then the key), as file-name endings.
const GRAMJS_KEYS: [&str; 4] = ["%3AdcId", "%3AserverAddress", "%3Aport", "%3AauthKey"];

/// The session file `name` belongs to: `x.session` for `x.session` and its side files.
pub(crate) fn session_file(name: &OsStr) -> Option<String> {
    let name = name.to_str()?;
    let base = SIDE
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    (base.ends_with(".session") && base.len() > ".session".len()).then(|| base.to_string())
}

/// Whether `name`, inside a folder, is one of GramJS's StoreSession key files.
pub(crate) fn gramjs_key_file(name: &OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| GRAMJS_KEYS.iter().any(|k| n.ends_with(k)))
}

/// Which sessions a program may open: the managed one and its side files, and the
/// `--allow` patterns (a pattern with a `/` is matched against the absolute path, one
/// without against the file name).
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    managed: PathBuf,
    allow: Vec<glob::Pattern>,
}

impl Rules {
    /// `managed` is canonical (as /proc and the watched directories name files).
    pub(crate) fn new(managed: PathBuf, allow: Vec<glob::Pattern>) -> Rules {
        Rules { managed, allow }
    }

    /// Whether `path` (absolute, canonical directory) is a session the program may open.
    pub(crate) fn admits(&self, path: &Path) -> bool {
        if self.is_managed(path) {
            return true;
        }
        let name = path.file_name().map(|n| n.to_string_lossy());
        self.allow.iter().any(|p| {
            if p.as_str().contains('/') {
                p.matches_path(path)
            } else {
                name.as_deref().is_some_and(|n| p.matches(n))
            }
        })
    }

    /// The managed session itself or one of its side files.
    fn is_managed(&self, path: &Path) -> bool {
        path == self.managed
            || tgsess_store::files::side_files(&self.managed)
                .iter()
                .any(|s| s == path)
    }

    /// The session a path of a library's shape stands for, unless the rules admit it:
    /// `x.session-journal` stands for `x.session`.
    pub(crate) fn foreign_session(&self, path: &Path) -> Option<PathBuf> {
        let base = session_file(path.file_name()?)?;
        let session = path.with_file_name(base);
        (!self.admits(path) && !self.admits(&session)).then_some(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allow: &[&str]) -> Rules {
        Rules::new(
            PathBuf::from("/bots/a/karaposu.session"),
            allow
                .iter()
                .map(|p| glob::Pattern::new(p).unwrap())
                .collect(),
        )
    }

    #[test]
    fn session_files_and_their_side_files_are_recognised() {
        for (name, base) in [
            ("x.session", Some("x.session")),
            ("x.session-journal", Some("x.session")),
            ("x.session-wal", Some("x.session")),
            ("x.session-shm", Some("x.session")),
            (".session", None),
            ("x.sessions", None),
            ("data.db-wal", None),
            ("x.session.bak", None),
        ] {
            assert_eq!(session_file(OsStr::new(name)).as_deref(), base, "{name}");
        }
    }

    #[test]
    fn the_managed_session_and_its_side_files_are_never_foreign() {
        let r = rules(&[]);
        for p in ["", "-journal", "-wal", "-shm"] {
            let path = PathBuf::from(format!("/bots/a/karaposu.session{p}"));
            assert_eq!(r.foreign_session(&path), None, "{p}");
        }
        assert_eq!(
            r.foreign_session(Path::new("/bots/a/telegram_session.session-journal")),
            Some(PathBuf::from("/bots/a/telegram_session.session"))
        );
        assert_eq!(
            r.foreign_session(Path::new("/elsewhere/karaposu.session")),
            Some(PathBuf::from("/elsewhere/karaposu.session"))
        );
        assert_eq!(r.foreign_session(Path::new("/bots/a/notes.txt")), None);
    }

    #[test]
    fn allow_patterns_match_names_or_absolute_paths() {
        let r = rules(&["acct_*.session", "/srv/fleet/*"]);
        assert!(r.admits(Path::new("/anywhere/acct_7.session")));
        assert!(r.admits(Path::new("/srv/fleet/x.session")));
        assert!(!r.admits(Path::new("/srv/other/x.session")));
        assert_eq!(
            r.foreign_session(Path::new("/anywhere/acct_7.session-wal")),
            None
        );
    }

    #[test]
    fn gramjs_store_session_key_files_are_recognised() {
        assert!(gramjs_key_file(OsStr::new("my_sess%3AdcId")));
        assert!(gramjs_key_file(OsStr::new("my_sess%3AauthKey")));
        assert!(!gramjs_key_file(OsStr::new("dcId")));
    }
}
