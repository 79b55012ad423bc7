//! The inotify eye (inotify(7), through the `inotify` crate): new entries and opened files in
//! the watched directories, read on a thread that blocks on the inotify descriptor, so a
//! hit is acted on within microseconds of the kernel queueing it.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use super::{Hit, How, Shared, procs};

/// Entries appearing (created, or renamed into place) and files opened.
fn mask() -> WatchMask {
    WatchMask::CREATE | WatchMask::MOVED_TO | WatchMask::OPEN
}

/// What a watch descriptor stands for.
enum Watched {
    /// A directory the user or exec chose.
    Dir(PathBuf),
    /// A folder created while PROGRAM ran: a GramJS StoreSession, if its key files appear.
    NewFolder(PathBuf),
}

struct Eye {
    inotify: Inotify,
    watched: BTreeMap<WatchDescriptor, Watched>,
}

/// Adds the watches, then reads events on a thread of its own for as long as tgsess runs.
/// Returns the inotify descriptor (for [`super::Guard::settle`]).
pub(super) fn start(shared: Arc<Shared>, dirs: &[PathBuf]) -> std::io::Result<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    let inotify = Inotify::init()?;
    let mut eye = Eye {
        inotify,
        watched: BTreeMap::new(),
    };
    for dir in dirs {
        let wd = eye.inotify.watches().add(dir, mask())?;
        eye.watched.insert(wd, Watched::Dir(dir.clone()));
    }
    let fd = eye.inotify.as_raw_fd();
    std::thread::Builder::new()
        .name("guard-watch".into())
        .spawn(move || eye.run(&shared))?;
    Ok(fd)
}

impl Eye {
    fn run(mut self, shared: &Shared) {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let events: Vec<(WatchDescriptor, EventMask, Option<std::ffi::OsString>)> =
                match self.inotify.read_events_blocking(&mut buffer) {
                    Ok(events) => events
                        .map(|e| (e.wd, e.mask, e.name.map(OsStr::to_os_string)))
                        .collect(),
                    Err(_) => return,
                };
            shared
                .busy
                .store(true, std::sync::atomic::Ordering::Release);
            for (wd, mask, name) in events {
                if let Some(name) = name {
                    self.event(shared, &wd, mask, &name);
                }
            }
            shared
                .busy
                .store(false, std::sync::atomic::Ordering::Release);
        }
    }

    fn event(&mut self, shared: &Shared, wd: &WatchDescriptor, mask: EventMask, name: &OsStr) {
        let Some(root) = shared.root() else {
            return;
        };
        match self.watched.get(wd) {
            Some(Watched::Dir(dir)) => {
                let path = dir.join(name);
                if mask.contains(EventMask::CREATE | EventMask::ISDIR) {
                    self.follow_folder(shared, root, path);
                } else if mask.intersects(EventMask::CREATE | EventMask::MOVED_TO) {
                    created(shared, root, &path);
                } else if mask.contains(EventMask::OPEN) {
                    opened(shared, root, &path);
                }
            }
            Some(Watched::NewFolder(folder)) if super::shapes::gramjs_key_file(name) => {
                gramjs_folder(shared, root, folder);
            }
            Some(Watched::NewFolder(_)) => {}
            None => {}
        }
    }

    /// Watches a folder that appeared, for GramJS's key files; those written before the
    /// watch was added are found by listing it once the watch is in place.
    fn follow_folder(&mut self, shared: &Shared, root: i32, folder: PathBuf) {
        let mask = WatchMask::CREATE | WatchMask::MOVED_TO;
        if let Ok(wd) = self.inotify.watches().add(&folder, mask) {
            self.watched.insert(wd, Watched::NewFolder(folder.clone()));
        }
        let listed = std::fs::read_dir(&folder)
            .map(|d| {
                d.flatten()
                    .any(|e| super::shapes::gramjs_key_file(&e.file_name()))
            })
            .unwrap_or(false);
        if listed {
            gramjs_folder(shared, root, &folder);
        }
    }
}

/// A GramJS StoreSession folder appeared: a hit unless the rules admit it.
fn gramjs_folder(shared: &Shared, root: i32, folder: &Path) {
    if !shared.rules.admits(folder) {
        let hit = Hit {
            path: folder.to_path_buf(),
            how: How::Created,
            pid: None,
            frozen: false,
        };
        shared.hit(root, hit);
    }
}

/// A new entry: a foreign session is a hit at once, unless a process outside PROGRAM's tree
/// holds it (another tool working in the same directory): then the tree goes on.
fn created(shared: &Shared, root: i32, path: &Path) {
    let Some(session) = shared.rules.foreign_session(path) else {
        return;
    };
    let mut hit = Hit {
        path: session,
        how: How::Created,
        pid: None,
        frozen: false,
    };
    if shared.mode != super::Mode::Stop {
        shared.hit(root, hit);
        return;
    }
    // Frozen first: the check below reads /proc, which takes milliseconds.
    let tree = procs::freeze(root);
    if procs::held_outside(path, &tree) && procs::holder(&tree, path).is_none() {
        procs::signal_all(root, &tree, libc::SIGCONT);
        return;
    }
    hit.frozen = true;
    shared.hit(root, hit);
}

/// An existing file opened in a watched directory: a hit when the tree holds it. The open
/// is reported before its descriptor is installed, so in `Stop` mode the tree is frozen
/// first (which lets the open complete) and thawed again when none of it holds the file;
/// in `Warn` mode it is looked for a few times.
fn opened(shared: &Shared, root: i32, path: &Path) {
    let Some(session) = shared.rules.foreign_session(path) else {
        return;
    };
    let hit = |pid, frozen| Hit {
        path: session.clone(),
        how: How::Opened,
        pid: Some(pid),
        frozen,
    };
    if shared.mode == super::Mode::Stop {
        let tree = procs::freeze(root);
        match procs::holder(&tree, path) {
            Some(pid) => shared.hit(root, hit(pid, true)),
            None => procs::signal_all(root, &tree, libc::SIGCONT),
        }
        return;
    }
    for _ in 0..5 {
        if let Some(pid) = procs::holder(&procs::tree(root), path) {
            shared.hit(root, hit(pid, false));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
