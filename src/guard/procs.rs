//! PROGRAM's process tree as /proc shows it: its members, the files they hold open, and
//! stopping them all.
//!
//! The tree is every process in PROGRAM's process group, and every descendant of PROGRAM by
//! parent pid, so a grandchild that made a group or session of its own is still in it.
//! Fields of /proc/PID/stat (proc(5)): after the command name in parentheses come state,
//! ppid, pgrp; the name may itself hold spaces and parentheses, so parsing starts after the
//! last `)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The fields of /proc/PID/stat after the command name: state, ppid, pgrp, …
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().take(3).map(String::from).collect())
}

/// (ppid, pgrp) of process `pid`, from /proc/PID/stat.
fn parent_and_group(pid: i32) -> Option<(i32, i32)> {
    let fields = stat_fields(pid)?;
    Some((fields.get(1)?.parse().ok()?, fields.get(2)?.parse().ok()?))
}

/// Whether `pid` is stopped (state T or t), or gone.
fn stopped_or_gone(pid: i32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().cloned())
        .is_none_or(|state| state == "T" || state == "t" || state == "Z")
}

/// Freezes the tree of `root`: its group at once (one kill), then every member found in
/// /proc, and waits (at most 100 ms) until each has stopped. A process stops on its way
/// back to user space, so a system call it was in (an open(2) whose descriptor was not yet
/// installed) has completed by then. Returns the tree.
pub(crate) fn freeze(root: i32) -> BTreeSet<i32> {
    signal_all(root, &BTreeSet::new(), libc::SIGSTOP);
    stop_newest_children(root);
    let tree = tree(root);
    signal_all(root, &tree, libc::SIGSTOP);
    for _ in 0..100 {
        if tree.iter().all(|pid| stopped_or_gone(*pid)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    tree
}

/// Stops, newest first, every process whose parent is `root`: a process PROGRAM has just
/// started (one that left its group, too) has one of the highest pids, so it is met at
/// the start of the walk rather than after every other process's /proc entry.
fn stop_newest_children(root: i32) {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    let mut pids: Vec<i32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable_by(|a, b| b.cmp(a));
    for pid in pids {
        if parent_and_group(pid).is_some_and(|(ppid, _)| ppid == root) {
            // SAFETY: kill(2) on a child of PROGRAM.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
        }
    }
}

/// Every process now running: pid to (ppid, pgrp).
fn all() -> BTreeMap<i32, (i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, parent_and_group(pid)?)))
        .collect()
}

/// The members of the tree rooted at `root`, whose process group is `root` too.
pub(crate) fn tree(root: i32) -> BTreeSet<i32> {
    let procs = all();
    let mut members: BTreeSet<i32> = procs
        .iter()
        .filter(|(_, (_, pgrp))| *pgrp == root)
        .map(|(pid, _)| *pid)
        .collect();
    members.insert(root);
    // Descendants by parent pid, until nothing new joins (bounded by the process count).
    for _ in 0..procs.len() {
        let before = members.len();
        for (pid, (ppid, _)) in &procs {
            if members.contains(ppid) {
                members.insert(*pid);
            }
        }
        if members.len() == before {
            break;
        }
    }
    members
}

/// The files process `pid` holds open (what /proc/PID/fd links to), deleted ones left out.
pub(crate) fn open_files(pid: i32) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|p| p.is_absolute() && !p.to_string_lossy().ends_with(" (deleted)"))
        .collect()
}

/// The first of `pids` that holds `path` open.
pub(crate) fn holder<'a>(pids: impl IntoIterator<Item = &'a i32>, path: &Path) -> Option<i32> {
    pids.into_iter()
        .copied()
        .find(|pid| open_files(*pid).iter().any(|p| p == path))
}

/// Whether any process outside `tree` (and other than tgsess) holds `path` open.
pub(crate) fn held_outside(path: &Path, tree: &BTreeSet<i32>) -> bool {
    let me = std::process::id() as i32;
    let procs = all();
    holder(
        procs
            .keys()
            .filter(|pid| !tree.contains(pid) && **pid != me),
        path,
    )
    .is_some()
}

/// Sends `signal` to the group `root` and to each member of `tree` outside it.
pub(crate) fn signal_all(root: i32, tree: &BTreeSet<i32>, signal: i32) {
    // SAFETY: kill(2) on pids of PROGRAM's tree; a pid that has ended meanwhile fails with
    // ESRCH, which changes nothing.
    unsafe {
        libc::kill(-root, signal);
        for pid in tree {
            libc::kill(*pid, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_and_its_open_files_are_seen() {
        let me = std::process::id() as i32;
        let (ppid, _) = parent_and_group(me).unwrap();
        assert_eq!(ppid, std::os::unix::process::parent_id() as i32);
        let f = tempfile::NamedTempFile::new().unwrap();
        let path = std::fs::canonicalize(f.path()).unwrap();
        assert!(open_files(me).contains(&path));
        let outside: BTreeSet<i32> = BTreeSet::new();
        assert!(
            !held_outside(&path, &outside),
            "this process is not counted"
        );
    }
}
