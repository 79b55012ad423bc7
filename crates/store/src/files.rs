//! Session files on disk: examining them without changing them, permissions, the exclusive
//! lock writers take, deletion with SQLite's side files, and the scan for near misses.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{Error, Result};
use crate::{Inspection, SessionFormat};
use tgsess_shared::text::Shown;

/// File facts `status` reports.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub mode: u32,
    pub uid: u32,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl FileMeta {
    fn of(m: &std::fs::Metadata) -> Self {
        FileMeta {
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            size: m.len(),
            modified: m.modified().ok(),
        }
    }

    /// Readable or writable by group or others.
    pub fn too_open(&self) -> bool {
        self.mode & 0o077 != 0
    }
}

/// What is at a session path.
#[derive(Clone, Debug)]
pub enum Presence {
    Missing,
    File(Box<Inspection>, FileMeta),
}

/// Looks at a path without creating or changing anything. A directory, or a path that cannot
/// be examined, is an error (exit 4) that names it.
pub async fn examine(path: &Path) -> Result<Presence> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Presence::Missing),
        Err(e) => {
            return Err(Error::file(format!(
                "cannot examine session path {}: {e}; check the permissions of its directory",
                path.shown()
            )));
        }
    };
    if meta.is_dir() {
        return Err(Error::file(format!(
            "session path {} is a directory, not a file; point --session, session_dir or \
             session_file at a file",
            path.shown()
        )));
    }
    if !meta.is_file() {
        return Err(Error::file(format!(
            "session path {} is not a regular file",
            path.shown()
        )));
    }
    let inspection = super::sqlite::inspect(path).await;
    Ok(Presence::File(Box::new(inspection), FileMeta::of(&meta)))
}

/// The error for a file at the session path that is not a session, or (for a caller that
/// only opens grammers files) a session of another library.
pub fn wrong_format_error(path: &Path, i: &Inspection) -> Error {
    match i.format.filter(|f| f.is_foreign()).map(|f| f.name()) {
        Some(name) => Error::file(format!(
            "{} is a {} ({}), not a grammers session; grammers must not open it. tgsess \
             manages it in place once its format is declared: session_format = \"{name}\"",
            path.shown(),
            i.describe(),
            i.detail,
        )),
        None => Error::file(format!(
            "{} is not a session file: it is {}. tgsess changes nothing here; point it at the \
             right file (status says how the session file is chosen) or move this one away",
            path.shown(),
            i.detail
        )),
    }
}

/// What is wrong with a damaged session file, in the same words wherever it is met (status,
/// check, inspect, import, login): "PATH is a damaged Telethon session: sessions.dc_id is
/// TEXT ('two'), not an INTEGER from 1 to 5".
pub fn damage_words(path: &Path, i: &Inspection) -> Option<String> {
    let why = i.damage.as_deref()?;
    Some(format!(
        "{} is a damaged {}: {why}",
        path.shown(),
        i.describe()
    ))
}

/// The SQLite side files that belong to a database.
pub fn side_files(path: &Path) -> Vec<PathBuf> {
    tgsess_shared::fs::SQLITE_SIDE_SUFFIXES
        .iter()
        .map(|s| tgsess_shared::fs::with_suffix(path, s))
        .collect()
}

/// The lock file beside a session.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// An exclusive lock on a session, held by every command that writes it, released on drop.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
    pub path: PathBuf,
}

impl SessionLock {
    /// Takes the lock or fails fast (exit 4) saying which file is busy. The lock belongs to
    /// the resolved file, so two paths to one session (a symlink) share it. Lock files live
    /// in `lock_dir` (the state directory's `locks/`), named by a hash of the resolved path,
    /// so nothing appears beside a bot's session; without a state directory, beside it. The
    /// lock file is opened without following a symlink planted at its name.
    pub fn acquire(session: &Path, lock_dir: Option<&Path>) -> Result<Self> {
        let resolved = resolve(session)?;
        let path = match lock_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::file(format!("cannot create lock directory {}: {e}", dir.shown()))
                })?;
                dir.join(format!("{}.lock", path_hash(&resolved)))
            }
            None => lock_path(&resolved),
        };
        let file = tgsess_shared::fs::open_lock_file(&path).map_err(|e| {
            Error::file(format!(
                "cannot create the lock file {} for session {}: {e}{}",
                path.shown(),
                session.shown(),
                if e.raw_os_error() == Some(libc::ELOOP) {
                    " (it is a symlink; remove it)"
                } else {
                    ""
                }
            ))
        })?;
        match file.try_lock() {
            Ok(()) => {
                note_holder(&file);
                Ok(SessionLock { _file: file, path })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::file(format!(
                "session {} is busy: {} holds its lock; wait for it to finish and try again",
                session.shown(),
                holder_of(&path).map_or_else(|| "another tgsess process".into(), |h| h.to_string())
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::file(format!(
                "cannot lock {} for session {}: {e}",
                path.shown(),
                session.shown()
            ))),
        }
    }

    /// Where the lock file is, for a session and lock directory, without creating anything.
    pub fn path_for(session: &Path, lock_dir: Option<&Path>) -> Option<PathBuf> {
        let resolved = resolve(session).ok()?;
        Some(match lock_dir {
            Some(dir) => dir.join(format!("{}.lock", path_hash(&resolved))),
            None => lock_path(&resolved),
        })
    }
}

/// Writes "pid\nsince\ncommand" into the lock file just taken, so a refused process can
/// say who holds it and since when. `since` is unix milliseconds from the precise clock: the
/// file's mtime comes from the kernel's coarse clock, up to a tick earlier, which would date
/// the hold before a confirmation written just before it.
fn note_holder(mut file: &File) {
    use std::io::{Seek, Write};
    let cmd: Vec<String> = std::env::args().collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let text = format!("{}\n{now}\n{}\n", std::process::id(), cmd.join(" "));
    let _ = file.set_len(0);
    let _ = file.seek(std::io::SeekFrom::Start(0));
    let _ = file.write_all(text.as_bytes());
}

/// Who holds a session's lock, from the note it wrote when it took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    /// Its command line, escaped for printing.
    pub command: String,
    /// When it took the lock (the note's time).
    pub since: Option<std::time::SystemTime>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid} ({})", self.command),
            None => write!(f, "pid ? ({})", self.command),
        }
    }
}

/// Whoever holds the lock at `path`, read without taking anything: `None` when nobody holds
/// it (or it cannot be told).
pub fn holder_of(path: &Path) -> Option<Holder> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = tgsess_shared::fs::read_regular_text(path, 64 * 1024).unwrap_or_default();
            let mut lines = text.lines();
            let pid = lines.next().and_then(|p| p.parse().ok());
            let mut rest = lines.next().unwrap_or("?");
            let noted = rest.parse::<u64>().ok();
            if noted.is_some() {
                rest = lines.next().unwrap_or("?");
            }
            let command = tgsess_shared::text::escape(rest);
            // A note without the time (an older tgsess holds it): the file's mtime.
            let since = noted
                .map(|ms| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
                .or_else(|| file.metadata().and_then(|m| m.modified()).ok());
            Some(Holder {
                pid,
                command,
                since,
            })
        }
        Err(_) => None,
    }
}

/// A stable name for a path: the first 16 bytes of its SHA-256, in hex.
fn path_hash(p: &Path) -> String {
    use sha2::Digest;
    use std::os::unix::ffi::OsStrExt;
    let h = sha2::Sha256::digest(p.as_os_str().as_bytes());
    h[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The file a session path stands for, with every symlink on the way resolved, so that two
/// paths to one session share its lock and a save replaces the file, not a link. A dangling
/// symlink is an error (writing would create a file wherever it points).
pub fn resolve(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|_| {
            Error::file(format!(
                "session path {} is a symlink to {}, which does not exist; tgsess does not \
                 create files through a dangling symlink: remove it or point it at a session",
                path.shown(),
                std::fs::read_link(path)
                    .map(|t| t.shown().to_string())
                    .unwrap_or_default()
            ))
        }),
        Ok(_) => Ok(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
        Err(_) => Ok(match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => std::fs::canonicalize(dir)
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.to_path_buf()),
            _ => path.to_path_buf(),
        }),
    }
}

/// Processes other than this one that have `path` (or one of its side files) open, as
/// (pid, command), found through `/proc/*/fd` on Linux. Processes of other users whose
/// descriptors cannot be read are not seen.
pub fn holders(path: &Path) -> Vec<(u32, String)> {
    let Ok(target) = std::fs::canonicalize(path) else {
        return Vec::new();
    };
    let mut names = vec![target.clone()];
    names.extend(side_files(&target));
    let me = std::process::id();
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for p in procs.filter_map(|e| e.ok()) {
        let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .filter_map(|e| e.ok())
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|l| names.contains(&l));
        if holds {
            let cmd = std::fs::read(p.path().join("cmdline"))
                .map(|b| {
                    b.split(|c| *c == 0)
                        .filter(|a| !a.is_empty())
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            out.push((pid, tgsess_shared::text::escape(&cmd)));
        }
    }
    out
}

/// A side file that says a write to `path` did not finish: a non-empty `-journal` (a hot
/// journal after a crash, or a write under way) or `-wal`.
pub fn unfinished_write(path: &Path) -> Option<PathBuf> {
    side_files(path)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && m.len() > 0))
}

/// Before writing or deleting a session file: refuses (exit 4) while another process has it
/// open, or while a side file says a write is unfinished. Nothing is changed either way.
pub fn guard_write(path: &Path, action: &str) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if let Some((pid, cmd)) = holders(path).into_iter().next() {
        return Err(Error::file(format!(
            "{} is open in another process (pid {pid}: {cmd}); tgsess does not {action} a \
             session file while a program uses it. Stop that program first",
            path.shown()
        )));
    }
    if let Some(side) = unfinished_write(path) {
        return Err(Error::file(format!(
            "{} has an unfinished write ({} is present); tgsess does not {action} it until \
             the program that writes it finishes. If none is running, open the session once \
             with its own library, which completes or rolls back the write",
            path.shown(),
            side.shown()
        )));
    }
    Ok(())
}

/// Creates the session directory (0700 through the umask) if it does not exist.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::file(format!(
            "cannot create session directory {}: {e}",
            dir.shown()
        ))
    })
}

/// Deletes a session and its SQLite side files; returns what was deleted.
/// Every path is checked first (a side file that is a directory stops it before anything
/// is deleted).
pub fn delete(path: &Path) -> Result<Vec<PathBuf>> {
    let all: Vec<PathBuf> = std::iter::once(path.to_path_buf())
        .chain(side_files(path))
        .collect();
    for p in &all {
        if let Ok(m) = std::fs::symlink_metadata(p)
            && !m.is_file()
        {
            return Err(Error::file(format!(
                "{} is not a regular file; nothing was deleted. Move it away and try again",
                p.shown()
            )));
        }
    }
    let mut gone = Vec::new();
    for p in all {
        match std::fs::remove_file(&p) {
            Ok(()) => gone.push(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::file(format!("cannot delete {}: {e}", p.shown())));
            }
        }
    }
    Ok(gone)
}

/// A session file found in a directory.
#[derive(Clone, Debug)]
pub struct Found {
    pub path: PathBuf,
    pub inspection: Inspection,
    pub size: u64,
}

/// At most this many candidates (`*.session` files and SQLite databases) are inspected per
/// directory, to keep `status` fast; unrelated files do not count against it.
const SCAN_LIMIT: usize = 20_000;

/// Session files (any format) in `dir`: every regular file that is an SQLite database of a
/// known session format, plus `*.session` files that are not sessions (so `list` can say so).
pub async fn scan(dir: &Path) -> Vec<Found> {
    let mut found = Vec::new();
    for path in candidates(dir) {
        found.extend(self::found(path).await);
    }
    found
}

/// The files [`scan`] examines, sorted: `*.session` files and SQLite databases, without
/// side files, locks, temporary files and backups; at most [`SCAN_LIMIT`].
pub fn candidates(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !(name.ends_with("-journal")
                || name.ends_with("-wal")
                || name.ends_with("-shm")
                || name.ends_with(".lock")
                || name.ends_with(".tmp")
                || name.contains(".bak-"))
        })
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .filter(|p| p.extension().is_some_and(|e| e == "session") || starts_with_sqlite_magic(p))
        .collect();
    paths.sort();
    paths.truncate(SCAN_LIMIT);
    paths
}

/// One candidate, inspected: `None` for an SQLite database that is no session and not named
/// `*.session`.
pub async fn found(path: PathBuf) -> Option<Found> {
    let meta = std::fs::metadata(&path).ok()?;
    let is_named_session = path.extension().is_some_and(|e| e == "session");
    let inspection = super::sqlite::inspect(&path).await;
    if inspection.format.is_none() && !is_named_session {
        return None;
    }
    Some(Found {
        path,
        inspection,
        size: meta.len(),
    })
}

fn starts_with_sqlite_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 16];
    tgsess_shared::fs::open_regular(path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok()
        && &buf == super::SQLITE_MAGIC
}

/// Other session files near `session` that hold an auth key: in each of `dirs` (deduplicated).
pub async fn near_misses(session: &Path, dirs: &[&Path]) -> Vec<Found> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        if !seen.insert(dir.to_path_buf()) {
            continue;
        }
        for f in scan(dir).await {
            if f.path != session && f.inspection.has_auth_key() {
                out.push(f);
            }
        }
    }
    out
}

/// Opens the tgsess session at `path` with grammers, for a program that must use the very
/// session tgsess manages. The file must exist and be a tgsess session: a missing file is
/// NOT silently created (that is how a program ends up asking for a login code again), and a
/// Telethon/Pyrogram file is never handed to grammers (which would migrate it).
pub async fn open_existing(path: &Path) -> Result<grammers_session::storages::SqliteSession> {
    match examine(path).await? {
        Presence::Missing => Err(Error::Missing(format!(
            "no session file at {}; log in first with tgsess, with the same configuration",
            path.shown()
        ))),
        Presence::File(i, _) if i.format != Some(SessionFormat::Grammers) => {
            Err(wrong_format_error(path, &i))
        }
        Presence::File(..) => open_grammers(path).await,
    }
}

/// Opens (creating when missing) a grammers session at a path already checked to be missing
/// or a tgsess session. Created files get 0600 through the process umask.
pub(crate) async fn open_grammers(
    path: &Path,
) -> Result<grammers_session::storages::SqliteSession> {
    grammers_session::storages::SqliteSession::open(path)
        .await
        .map_err(|e| Error::file(format!("cannot open session {}: {e}", path.shown())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_and_lock_paths() {
        let p = Path::new("/d/a.session");
        assert_eq!(
            side_files(p),
            vec![
                PathBuf::from("/d/a.session-journal"),
                PathBuf::from("/d/a.session-wal"),
                PathBuf::from("/d/a.session-shm")
            ]
        );
        assert_eq!(lock_path(p), PathBuf::from("/d/a.session.lock"));
    }

    #[test]
    fn second_lock_fails_fast() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("x.session");
        let locks = dir.path().join("locks");
        let first = SessionLock::acquire(&s, Some(&locks)).unwrap();
        let e = SessionLock::acquire(&s, Some(&locks)).unwrap_err();
        assert!(matches!(e, Error::File(_)), "{e}");
        assert!(e.to_string().contains("x.session"), "{e}");
        // Through a symlink it is the same lock.
        std::fs::write(&s, b"").unwrap();
        let link = dir.path().join("link.session");
        std::os::unix::fs::symlink(&s, &link).unwrap();
        assert!(SessionLock::acquire(&link, Some(&locks)).is_err());
        drop(first);
        SessionLock::acquire(&s, Some(&locks)).unwrap();
        assert!(!dir.path().join("x.session.lock").exists());
    }
}
