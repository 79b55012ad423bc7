//! The guard: while `exec` runs PROGRAM, it watches for PROGRAM (or anything it starts)
//! creating or opening a session other than the managed one, and stops the whole tree
//! before the library behind it can ask Telegram for a login code.
//!
//! Two eyes, each on a thread of its own so that nothing in tgsess's runtime delays them:
//! - inotify on the watched directories ([`watch`]): a new `*.session` (or a side file of
//!   one, or a GramJS StoreSession folder) is seen the instant it is created. Every library
//!   creates its file before it connects (docs/guard.md), so the tree is frozen (SIGSTOP)
//!   right there, on the watching thread, before any report is written;
//! - /proc ([`procs`]): every [`SCAN_EVERY`], the files the tree holds open, for a session
//!   opened anywhere, also one that existed before.
//!
//! The thread that sees a foreign session freezes the tree (in `Stop` mode) and sends a
//! [`Hit`]; `exec` then kills the tree and says what happened.

pub(crate) mod child;
pub(crate) mod procs;
pub(crate) mod shapes;
mod watch;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

pub(crate) use shapes::Rules;

/// How often the open files of the tree are read.
pub(crate) const SCAN_EVERY: Duration = Duration::from_millis(100);

/// What the guard does on a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Freeze PROGRAM's tree at once, then kill it; exec exits 6
    Stop,
    /// Only report, once per file
    Warn,
    /// No watch (the pre-flight and the lock still apply)
    Off,
}

/// How the foreign session showed itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// It appeared in a watched directory while PROGRAM ran.
    Created,
    /// A process of the tree held it open.
    Opened,
}

/// A session PROGRAM's tree created or opened that the rules do not admit.
#[derive(Clone, Debug)]
pub(crate) struct Hit {
    /// The session (for a side file, its database; for GramJS, the folder).
    pub(crate) path: PathBuf,
    pub(crate) how: How,
    /// A process of the tree holding it open, when one was seen.
    pub(crate) pid: Option<i32>,
    /// Whether the tree was frozen (`Stop` mode).
    pub(crate) frozen: bool,
}

/// [`Shared::root`] before PROGRAM is being started: events are someone else's.
const IDLE: i32 = 0;
/// [`Shared::root`] while PROGRAM is being started: its pid is known in microseconds.
const STARTING: i32 = -1;

/// What the watching threads share: the tree's root, the rules, where hits go.
struct Shared {
    /// PROGRAM's pid (the leader of its group), or [`IDLE`] or [`STARTING`].
    root: AtomicI32,
    rules: Rules,
    mode: Mode,
    seen: Mutex<std::collections::BTreeSet<PathBuf>>,
    hits: mpsc::UnboundedSender<Hit>,
    /// When the guard started: a session born after it was created by PROGRAM's tree.
    since: std::time::SystemTime,
    /// The inotify eye is handling events it read (see [`Guard::settle`]).
    busy: std::sync::atomic::AtomicBool,
}

impl Shared {
    /// PROGRAM's pid; `None` before it is being started. While it is being started (an
    /// event in the microseconds between fork and the pid's return), waits for the pid,
    /// at most 100 ms.
    fn root(&self) -> Option<i32> {
        for _ in 0..1000 {
            match self.root.load(Ordering::Acquire) {
                IDLE => return None,
                STARTING => std::thread::sleep(Duration::from_micros(100)),
                pid => return Some(pid),
            }
        }
        None
    }

    /// Freezes the tree (in `Stop` mode, unless the eye that saw it already did) and reports
    /// `hit`, once per session.
    fn hit(&self, root: i32, mut hit: Hit) {
        if self.mode == Mode::Stop && !hit.frozen {
            procs::freeze(root);
            hit.frozen = true;
        }
        let first = self
            .seen
            .lock()
            .map(|mut s| s.insert(hit.path.clone()))
            .unwrap_or(true);
        if first {
            let _ = self.hits.send(hit);
        }
    }
}

/// The running guard: its hits arrive here.
pub(crate) struct Guard {
    pub(crate) hits: mpsc::UnboundedReceiver<Hit>,
    shared: Arc<Shared>,
    /// The inotify descriptor the eye reads.
    inotify: std::os::fd::RawFd,
}

impl Guard {
    /// PROGRAM is about to be started: from now on, events are its own.
    pub(crate) fn starting(&self) {
        self.shared.root.store(STARTING, Ordering::Release);
    }

    /// PROGRAM runs as `pid`, the leader of its own process group.
    pub(crate) fn started(&self, pid: i32) {
        self.shared.root.store(pid, Ordering::Release);
    }

    /// PROGRAM could not be started.
    pub(crate) fn not_started(&self) {
        self.shared.root.store(IDLE, Ordering::Release);
    }

    /// Waits (at most 200 ms) until the inotify eye has handled every event the kernel
    /// queued, so that what PROGRAM did just before it ended is in [`Guard::hits`]: nothing
    /// left to read (FIONREAD, inotify(7)) and the eye not busy, twice 1 ms apart (the eye
    /// marks itself busy just after a read returns).
    pub(crate) async fn settle(&self) {
        let idle = || {
            let mut queued: libc::c_int = 0;
            // SAFETY: FIONREAD on our own inotify descriptor writes one int.
            let r = unsafe { libc::ioctl(self.inotify, libc::FIONREAD, &mut queued) };
            (r != 0 || queued == 0) && !self.shared.busy.load(Ordering::Acquire)
        };
        let mut quiet = 0;
        for _ in 0..200 {
            quiet = if idle() { quiet + 1 } else { 0 };
            if quiet == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Starts watching `dirs` (canonical, existing), before PROGRAM starts, so nothing it does
/// at its very start is missed. Fails only when inotify cannot be set up.
pub(crate) fn start(rules: Rules, dirs: &[PathBuf], mode: Mode) -> std::io::Result<Guard> {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        root: AtomicI32::new(IDLE),
        rules,
        mode,
        seen: Mutex::new(Default::default()),
        hits: tx,
        since: coarse_now(),
        busy: Default::default(),
    });
    let inotify = watch::start(Arc::clone(&shared), dirs)?;
    let scanner = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("guard-scan".into())
        .spawn(move || scan(&scanner))?;
    Ok(Guard {
        hits: rx,
        shared,
        inotify,
    })
}

/// The /proc eye: the tree's open files, every [`SCAN_EVERY`], until exec stops listening.
fn scan(shared: &Shared) {
    while !shared.hits.is_closed() {
        if let Some(root) = shared.root()
            && let Some(hit) = scan_once(shared, root)
        {
            shared.hit(root, hit);
        }
        std::thread::sleep(SCAN_EVERY);
    }
}

/// A foreign session some process of the tree holds open now, if any.
fn scan_once(shared: &Shared, root: i32) -> Option<Hit> {
    for pid in procs::tree(root) {
        for file in procs::open_files(pid) {
            if let Some(session) = shared.rules.foreign_session(&file) {
                let how = if born_since(&session, shared.since) {
                    How::Created
                } else {
                    How::Opened
                };
                return Some(Hit {
                    path: session,
                    how,
                    pid: Some(pid),
                    frozen: false,
                });
            }
        }
    }
    None
}

/// Now, on the clock the kernel stamps files with: CLOCK_REALTIME_COARSE (file times come
/// from `ktime_get_coarse_real_ts64`, up to a tick behind CLOCK_REALTIME), so a file made
/// after this instant never carries an earlier time.
fn coarse_now() -> std::time::SystemTime {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    std::time::UNIX_EPOCH + Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec as u32)
}

/// Whether `path` came into being after `since` (its birth time, statx(2); where the file
/// system keeps none, its change time). A file of the same tick counts as older.
fn born_since(path: &std::path::Path, since: std::time::SystemTime) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = std::fs::metadata(path) else {
        return false;
    };
    let born = m.created().unwrap_or_else(|_| {
        std::time::UNIX_EPOCH + Duration::new(m.ctime().max(0) as u64, m.ctime_nsec() as u32)
    });
    born > since
}
