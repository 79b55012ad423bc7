//! Starting PROGRAM so that it never runs unguarded:
//! - in a process group of its own (setpgid(2)), so a signal reaches every process it starts
//!   and the guard can freeze them all at once;
//! - with PR_SET_PDEATHSIG = SIGKILL (prctl(2)): if tgsess dies (kill -9, out of memory),
//!   the kernel kills PROGRAM. The signal follows the death of the *thread* that forked, so
//!   the fork happens on tgsess's main thread (the runtime is current-thread). If tgsess
//!   died between fork and prctl, the parent is already gone: the child checks getppid()
//!   against the pid it was forked from and kills itself, the race prctl(2) describes;
//! - watched by a reaper ([`Reaper`]): PR_SET_PDEATHSIG reaches only PROGRAM itself, so if
//!   tgsess dies, a process PROGRAM started (a shell script's bot) would live on, without the
//!   lock or the lease; the reaper, a process of its own, kills PROGRAM's whole group then;
//! - at a terminal where tgsess is in the foreground, as the terminal's foreground group
//!   (tcsetpgrp(3)), so Ctrl-C and reads from the terminal reach PROGRAM as they did before
//!   it had a group of its own. tgsess takes the terminal back when PROGRAM ends.

use std::os::unix::process::CommandExt;

/// Whether stdin is a terminal whose foreground group is tgsess's own.
pub(crate) fn owns_terminal() -> bool {
    // SAFETY: plain queries on fd 0 and on this process.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// Makes `cmd` start PROGRAM guarded (see the module's comment); `foreground`: hand it the
/// terminal; `reaper`: the reaper's pipe, to which the child writes its own pid (its process
/// group) before it runs PROGRAM, so no instant passes in which PROGRAM runs unknown to it.
pub(crate) fn guarded(
    cmd: &mut std::process::Command,
    foreground: bool,
    reaper: Option<std::os::fd::RawFd>,
) {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (setpgid, prctl, getppid, raise, write, sigprocmask,
    // tcsetpgrp, signal), and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            if let Some(fd) = reaper {
                tell_pid(fd, libc::getpid());
            }
            if foreground {
                take_terminal(libc::getpid());
                // A foreground job gets Ctrl-C and Ctrl-\ even if tgsess was started with
                // them ignored (a shell ignores them for its background lists, and an ignored
                // signal stays ignored across exec: signal(7)), as a shell's own foreground
                // jobs do.
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            }
            Ok(())
        });
    }
}

/// Writes `pid` and a newline to `fd`, formatted on the stack (no allocation: fit for a
/// child between fork and exec).
fn tell_pid(fd: std::os::fd::RawFd, pid: libc::pid_t) {
    let mut buf = [0u8; 12];
    let mut at = buf.len() - 1;
    buf[at] = b'\n';
    let mut n = pid.max(0) as u32;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // SAFETY: write(2) from a live stack buffer.
    unsafe { libc::write(fd, buf[at..].as_ptr().cast(), buf.len() - at) };
}

/// Gives the terminal on fd 0 to group `pgid`. A background group calling tcsetpgrp would get
/// SIGTTOU (tcsetpgrp(3)); it is blocked for the call.
///
/// # Safety
/// Async-signal-safe; fit for a child between fork and exec.
unsafe fn take_terminal(pgid: libc::pid_t) {
    // SAFETY: sigset operations on a local set; tcsetpgrp on fd 0.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut old);
        libc::tcsetpgrp(0, pgid);
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Takes the terminal back for tgsess's own group, after PROGRAM ended.
pub(crate) fn reclaim_terminal() {
    // SAFETY: as in take_terminal, for this process.
    unsafe { take_terminal(libc::getpgrp()) }
}

/// The reaper's side of a run: a pipe whose only writer is tgsess. PROGRAM's process group is
/// written into it by the child before it runs PROGRAM ([`guarded`]), and "done" by tgsess
/// when PROGRAM has ended under its eye;
/// a pipe closed without "done" means tgsess died, and the reaper kills that group.
pub(crate) struct Reaper {
    pipe: std::process::ChildStdin,
    child: std::process::Child,
}

impl Reaper {
    /// Starts `tgsess __reap` (this very binary) before PROGRAM, so that it is already
    /// waiting when PROGRAM starts, in a process group of its own so that neither the
    /// terminal's signals nor a kill of PROGRAM's group reach it. `None` when it cannot
    /// start: PROGRAM still dies with tgsess through PR_SET_PDEATHSIG.
    pub(crate) fn start() -> Option<Reaper> {
        let exe = std::env::current_exe().ok()?;
        let mut child = std::process::Command::new(exe)
            .arg("__reap")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        let pipe = child.stdin.take()?;
        Some(Reaper { pipe, child })
    }

    /// The pipe's descriptor, for [`guarded`]: PROGRAM's child side writes its pid there.
    pub(crate) fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.pipe.as_raw_fd()
    }

    /// PROGRAM has ended: the reaper leaves without killing anything.
    pub(crate) fn done(mut self) {
        use std::io::Write;
        let _ = self.pipe.write_all(b"done");
        drop(self.pipe);
        let _ = self.child.wait();
    }
}

/// `tgsess __reap`: reads PROGRAM's process group, then waits for tgsess (its stdin's only
/// writer) to end; unless tgsess said "done" first, kills that group.
pub(crate) fn reap() -> std::process::ExitCode {
    use std::io::Read;
    let mut said = String::new();
    let _ = std::io::stdin().take(64).read_to_string(&mut said);
    let mut words = said.split_whitespace();
    let pgid = words.next().and_then(|w| w.parse::<i32>().ok());
    if let (Some(pgid), None) = (pgid.filter(|g| *g > 1), words.next()) {
        // SAFETY: kill(2) on the group tgsess started PROGRAM in.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    std::process::ExitCode::SUCCESS
}
