//! Copies kept before a program runs on a session: the file and its SQLite side files
//! (`-wal` holds committed pages WAL-mode libraries such as hydrogram and mtcute have not yet
//! checkpointed; a hot `-journal` is needed to roll back a torn write), 0600 in 0700
//! folders, the newest [`KEEP`] per session.
//!
//! Layout: `ROOT/NAME-ID/STAMP/NAME` (+ side files), where ID is the first 12 hex digits of
//! the SHA-256 of the session's canonical path (two `bot.session` in two folders stay
//! apart) and STAMP is UTC time to the millisecond, so names sort by age. A copy keeps the
//! session's own file name: `tgsess import COPY --force` identifies it like the original.

use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::{Error, Result};

/// How many copies are kept per session.
pub const KEEP: usize = 3;

/// The folder holding `session`'s copies under `root`.
pub fn folder(root: &Path, session: &Path) -> PathBuf {
    let canonical = crate::files::resolve(session).unwrap_or_else(|_| session.to_path_buf());
    let digest = sha2::Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let id: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let name = session.file_name().unwrap_or_default().to_string_lossy();
    root.join(format!("{name}-{id}"))
}

/// Copies `session` and its side files into a new folder under `root`, then removes all
/// but the newest [`KEEP`] copies. Returns the copy of the session file.
pub fn keep(root: &Path, session: &Path, stamp: &str) -> Result<PathBuf> {
    let folder = folder(root, session);
    let copy_dir = folder.join(stamp);
    private_dir(root)
        .and_then(|_| private_dir(&folder))
        .and_then(|_| private_dir(&copy_dir))
        .map_err(|e| failed(&copy_dir, e))?;
    let name = session.file_name().unwrap_or_default();
    let copy = copy_dir.join(name);
    copy_file(session, &copy)?;
    for side in crate::files::side_files(session) {
        if side.is_file() {
            copy_file(&side, &copy_dir.join(side.file_name().unwrap_or_default()))?;
        }
    }
    prune(&folder);
    Ok(copy)
}

/// The copies of `session` under `root`, newest first.
pub fn list(root: &Path, session: &Path) -> Vec<PathBuf> {
    let folder = folder(root, session);
    let name = session.file_name().unwrap_or_default();
    let mut stamps = stamps(&folder);
    stamps.reverse();
    stamps
        .into_iter()
        .map(|s| folder.join(s).join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// The copy folders' names, oldest first.
fn stamps(folder: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(folder)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Removes the oldest copies beyond [`KEEP`]; a failure leaves an extra copy, no harm.
fn prune(folder: &Path) {
    let stamps = stamps(folder);
    let extra = stamps.len().saturating_sub(KEEP);
    for old in &stamps[..extra] {
        let _ = std::fs::remove_dir_all(folder.join(old));
    }
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let mut out = tgsess_shared::fs::create_exclusive(to).map_err(|e| failed(to, e))?;
    crate::write::copy_into(from, &mut out).map_err(|e| failed(from, e))
}

fn failed(path: &Path, e: std::io::Error) -> Error {
    Error::File(format!(
        "cannot keep a copy of the session ({}: {e})",
        tgsess_shared::text::escape(&path.display().to_string())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_three_copies_are_kept_with_their_side_files_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let session = tmp.path().join("bot.session");
        std::fs::write(&session, b"one").unwrap();
        std::fs::write(tmp.path().join("bot.session-wal"), b"wal").unwrap();
        let root = tmp.path().join("copies");
        for (i, stamp) in ["a1", "a2", "a3", "a4"].iter().enumerate() {
            std::fs::write(&session, format!("v{i}")).unwrap();
            keep(&root, &session, stamp).unwrap();
        }
        let copies = list(&root, &session);
        assert_eq!(copies.len(), 3);
        assert_eq!(std::fs::read(&copies[0]).unwrap(), b"v3");
        assert_eq!(std::fs::read(&copies[2]).unwrap(), b"v1");
        let wal = copies[0].with_file_name("bot.session-wal");
        assert_eq!(std::fs::read(&wal).unwrap(), b"wal");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&copies[0]), 0o600);
        assert_eq!(mode(copies[0].parent().unwrap()), 0o700);
        assert_eq!(mode(&root), 0o700);
    }
}
