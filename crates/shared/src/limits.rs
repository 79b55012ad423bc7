//! The process's open-file limit: raised to what the system allows before opening many
//! connections at once (`list --check` of a fleet, a sandbox serving it).

/// The soft and hard RLIMIT_NOFILE.
pub fn open_files() -> Option<(u64, u64)> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given and has no other effect.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
    (r == 0).then_some((l.rlim_cur, l.rlim_max))
}

/// Raises the soft limit to the hard one (setrlimit(2): an unprivileged process may raise
/// its soft limit up to its hard limit). Returns (before, after); after == before when it
/// could not be raised or already was at the hard limit.
pub fn raise_open_files() -> Option<(u64, u64)> {
    let (soft, hard) = open_files()?;
    if soft >= hard {
        return Some((soft, soft));
    }
    let l = libc::rlimit {
        rlim_cur: hard,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct it is given; raising the soft limit up to the hard
    // one is always allowed and changes nothing else.
    let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) };
    Some((soft, if r == 0 { hard } else { soft }))
}
