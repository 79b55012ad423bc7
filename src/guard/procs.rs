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

/// (ppid, pgrp) of process `pid`, from /proc/PID/stat.
fn parent_and_group(pid: i32) -> Option<(i32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(1);
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((ppid, pgrp))
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

/// Whether any process outside `tree` holds `path` open.
pub(crate) fn held_outside(path: &Path, tree: &BTreeSet<i32>) -> bool {
    let me = std::process::id() as i32;
    all()
        .keys()
        .filter(|pid| !tree.contains(pid) && **pid != me)
        .any(|pid| open_files(*pid).iter().any(|p| p == path))
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
