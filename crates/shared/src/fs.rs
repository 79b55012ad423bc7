//! Private files written whole, and files read safely: used by the session store, tgsess's
//! state and the sandbox.
//!
//! Reading: everything tgsess reads from disk (configs, state.json, session files, tdata,
//! the sandbox's endpoint, keys and state) goes through [`read_regular`]. It opens with
//! `O_NONBLOCK`, so a FIFO planted at the name cannot block the open (open(2): "O_NONBLOCK
//! … the open() for reading-only returns without delay" for a FIFO), checks on the OPEN
//! descriptor that it is a regular file (a device such as /dev/zero never ends), and reads
//! at most a stated number of bytes.
//!
//! A write goes to a temporary file created beside the target with `O_EXCL | O_NOFOLLOW`
//! (a planted symlink or an earlier temp is never followed or reused), mode 0600, is synced,
//! then renamed over the target, and the directory is synced. On any failure the temporary
//! file is removed, so a full disk never leaves a 0-byte or half-written file behind.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Opens a new file exclusively: never follows a symlink, never reuses an existing file.
pub fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
}

/// Opens (creating, 0600) a lock file: never through a symlink planted at its name, never
/// truncated (a holder's note may be in it).
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(path)
}

/// A fresh, unused temporary path beside `path`, created empty (0600).
pub fn temp_beside(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    for attempt in 0..16u32 {
        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand).map_err(|e| io::Error::other(e.to_string()))?;
        let tag: String = rand.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = path.with_file_name(format!(".{name}.{}-{tag}.tmp", std::process::id()));
        match create_exclusive(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 15 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free temporary name"))
}

/// The suffixes of SQLite's side files: the rollback journal, the write-ahead log and its
/// shared-memory index (sqlite.org/tempfiles.html).
pub const SQLITE_SIDE_SUFFIXES: [&str; 3] = ["-journal", "-wal", "-shm"];

/// What [`temp_beside`] names a temporary file for `path`: `.NAME.PID-TAG.tmp`, and the
/// SQLite side files a write into it may leave (`-journal`, `-wal`, `-shm`). Returns the
/// writer's pid when `name` is one.
fn temp_of(path: &Path, name: &str) -> Option<u32> {
    let base = path.file_name()?.to_str()?;
    let rest = name
        .strip_prefix('.')?
        .strip_prefix(base)?
        .strip_prefix('.')?;
    let rest = std::iter::once("")
        .chain(SQLITE_SIDE_SUFFIXES)
        .find_map(|side| rest.strip_suffix(&format!(".tmp{side}")))?;
    let (pid, tag) = rest.split_once('-')?;
    (tag.len() == 12 && tag.chars().all(|c| c.is_ascii_hexdigit())).then_some(())?;
    pid.parse().ok()
}

/// Whether a process with this pid exists (kill(2) with signal 0: ESRCH means none).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 checks for existence only; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Temporary files beside `path` left by writers that died mid-write (kill -9, power
/// loss): copies of what was being written, keys included. A temp file of a process that
/// still runs is not a leftover.
pub fn leftovers(path: &Path) -> Vec<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| temp_of(path, n))
                .is_some_and(|pid| pid != std::process::id() && !alive(pid))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Removes [`leftovers`] of `path`. Only a writer holding the file's lock calls this: under
/// the lock, no other writer of the same kind is at work. Returns what was removed.
pub fn remove_leftovers(path: &Path) -> Vec<PathBuf> {
    leftovers(path)
        .into_iter()
        .filter(|p| std::fs::remove_file(p).is_ok())
        .collect()
}

/// Syncs the directory that holds `path`, so a rename survives a crash.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Renames a finished, synced temporary file over `path`; removes it when that fails.
pub fn commit(tmp: &Path, path: &Path) -> io::Result<()> {
    let r = std::fs::rename(tmp, path).and_then(|()| sync_dir(path));
    if r.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    r
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, 0600 and
/// synced, so no reader ever sees half a file.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, mut f) = temp_beside(path)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    commit(&tmp, path)
}

/// What kind of thing a metadata describes, for an error message.
pub fn kind_of(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symlink"
    } else {
        "a regular file"
    }
}

/// Opens `path` for reading only when it is a regular file (symlinks followed), without
/// ever blocking: `O_NONBLOCK` makes the open of a FIFO return at once, and the type is
/// checked on the open descriptor, so nothing can be swapped in between.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", kind_of(&m)),
        ));
    }
    Ok(f)
}

/// The whole of a regular file of at most `max` bytes (see [`open_regular`]); a larger one
/// is an error that names the limit.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    open_regular(path)?.take(max + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {}", size_words(max)),
        ));
    }
    Ok(buf)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_text(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_regular(path, max)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// "64 KiB", "1 MiB", "260 bytes".
pub fn size_words(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// `path` + `suffix`, without touching the file system.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_private_files_and_never_follows_a_planted_temp() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("state.json");
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        // An attacker's symlink at the old fixed temp name is ignored.
        std::os::unix::fs::symlink(&victim, d.path().join(".state.json.tmp")).unwrap();
        write_private(&target, b"{}").unwrap();
        write_private(&target, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"{\"a\":1}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp") && !e.path().is_symlink())
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn reads_only_bounded_regular_files_and_never_blocks() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_regular(&fifo, 10).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        let zero = d.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_regular(&zero, 10).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let big = d.path().join("big");
        std::fs::write(&big, [b'x'; 11]).unwrap();
        let e = read_regular(&big, 10).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        std::fs::write(&big, [b'x'; 10]).unwrap();
        assert_eq!(read_regular(&big, 10).unwrap().len(), 10);
        assert_eq!(size_words(64 * 1024), "64 KiB");
        assert_eq!(size_words(1 << 20), "1 MiB");
    }

    #[test]
    fn leftovers_of_dead_writers_are_found_and_removed() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("a.session");
        // A pid that cannot run: above the kernel's pid_max limit (4194304).
        let dead = d.path().join(".a.session.4194305-0123456789ab.tmp");
        let dead_journal = d.path().join(".a.session.4194305-0123456789ab.tmp-journal");
        let live = d.path().join(format!(".a.session.{}-0123456789ab.tmp", 1));
        let other = d.path().join(".b.session.4194305-0123456789ab.tmp");
        let unrelated = d.path().join(".a.session.x.tmp");
        for p in [&dead, &dead_journal, &live, &other, &unrelated] {
            std::fs::write(p, b"k").unwrap();
        }
        assert_eq!(leftovers(&target), vec![dead.clone(), dead_journal.clone()]);
        assert_eq!(remove_leftovers(&target), vec![dead.clone(), dead_journal]);
        assert!(!dead.exists() && live.exists() && other.exists() && unrelated.exists());
    }

    #[test]
    fn create_exclusive_refuses_symlinks_and_existing_files() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("l");
        std::os::unix::fs::symlink(d.path().join("nowhere"), &link).unwrap();
        assert!(create_exclusive(&link).is_err());
        assert!(!d.path().join("nowhere").exists());
        let f = d.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        assert!(create_exclusive(&f).is_err());
        assert_eq!(std::fs::read(&f).unwrap(), b"x");
    }
}
