//! `tgsess exec [OPTIONS] -- PROGRAM [ARGS…]`: run a bot on its session, guarded.
//!
//! 1. The lock: while PROGRAM runs, every tgsess writer and a second `exec` on the session
//!    are refused (exit 4), naming this process; `check` reports the session as held.
//!    With `lease` set, the lease on PostgreSQL too ([`lease`]): one key, one place.
//! 2. The pre-flight ([`preflight`]): one request; PROGRAM does not start on a session that
//!    is not signed in, revoked, banned or another account (exit 6).
//! 3. A copy of the session and its side files in the state directory (the last 3).
//! 4. PROGRAM in its own process group, killed if tgsess dies ([`crate::guard::child`]),
//!    with `TGSESS_SESSION` (the session's full path) and `TGSESS_SESSION_FORMAT`.
//! 5. The guard ([`crate::guard`]): PROGRAM opening another session is frozen and killed
//!    before it can ask for a code (exit 6).
//!
//! Signals are passed on to PROGRAM's group; the exit status is PROGRAM's (128 + N when a
//! signal N ended it).

mod lease;
mod preflight;
mod words;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::error::{Error, Exit, Result};
use crate::guard::{self, Guard, Hit, Mode, child};
use crate::identity::Identity;
use crate::output::{self, Shown};
use crate::session::Target;
use crate::settings::Settings;

// `tgsess exec`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Start PROGRAM without asking Telegram about the session first
    #[arg(long)]
    pub(crate) no_preflight: bool,
    /// Seconds the pre-flight waits for Telegram
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) timeout: u64,
    /// What to do when PROGRAM creates or opens a session other than the managed one
    #[arg(long, value_enum, default_value_t = Mode::Stop)]
    pub(crate) guard: Mode,
    /// A session PROGRAM may open besides the managed one (a glob; with a `/`, matched
    /// against the absolute path, else against the file name); repeatable
    #[arg(long = "allow", value_name = "GLOB")]
    pub(crate) allow: Vec<String>,
    /// Another directory to watch for new sessions; repeatable
    #[arg(long = "watch", value_name = "DIR")]
    pub(crate) watch: Vec<PathBuf>,
    /// With a lease: seconds to wait for another host to let go of it (0: refuse at once)
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub(crate) wait: u64,
    /// With a lease: seconds without a confirmation from PostgreSQL before PROGRAM is
    /// stopped (at least 3)
    #[arg(long, default_value_t = 10, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(crate::lease::MIN_GRACE..))]
    pub(crate) grace: u64,
    /// The program and its arguments (put -- before them)
    #[arg(
        trailing_var_arg = true,
        required = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM"
    )]
    pub(crate) program: Vec<OsString>,
}

/// The signals passed on to PROGRAM. SIGINT only when PROGRAM does not have the terminal:
/// at a terminal, Ctrl-C reaches PROGRAM's group directly.
fn forwarded(foreground: bool) -> Vec<(i32, Signal)> {
    let mut kinds = vec![
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::quit(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
    ];
    if !foreground {
        kinds.push(SignalKind::interrupt());
    }
    kinds
        .into_iter()
        .filter_map(|k| Some((k.as_raw_value(), signal(k).ok()?)))
        .collect()
}

/// Runs PROGRAM and never returns on success: the process exits with PROGRAM's status.
pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let target = Target::open(settings).await?;
    let format = target.read_format(settings)?.or(settings.declared_format());
    let lock = target.lock()?;
    let shown_program = program_words(&args.program);
    words::recall(settings, &target.path);
    let wait = std::time::Duration::from_secs(args.wait);
    let grace = std::time::Duration::from_secs(args.grace);
    // The key, read once for the lease and the pre-flight (neither needs it without the other
    // and with --no-preflight).
    let record = match settings.lease.is_some() || !args.no_preflight {
        true => target.record().await?,
        false => None,
    };
    let lease = lease::take(settings, &target, record.as_ref(), wait, grace).await?;
    let confirmed = match preflight(settings, &target, record.as_ref(), args).await {
        Err(e @ Error::Guard(_)) => {
            words::remember(settings, &target.path, &shown_program, &e.to_string());
            return Err(e);
        }
        other => other?,
    };
    keep_copy(settings, &target);
    let managed = tgsess_store::files::resolve(&target.path).unwrap_or(target.path.clone());
    let guard = start_guard(args, &managed)?;
    let outcome = run_program(args, &target, format, guard, lease.as_ref()).await;
    if let Some(l) = lease {
        l.release().await;
    }
    drop(lock);
    match outcome? {
        Ended::Status(code) => std::process::exit(code),
        Ended::LeaseLost(why) => Err(Error::LeaseLost(format!(
            "stopped the program: {why}. Another host may take the lease now; this one \
             must not run the bot until it holds the lease again"
        ))),
        Ended::Stopped(hit) => {
            let msg = words::hit_message(settings, &hit, &managed, confirmed.as_ref()).await;
            words::remember(settings, &target.path, &shown_program, &msg);
            Err(Error::Guard(msg))
        }
    }
}

/// Starts PROGRAM and watches it to its end: signals passed on to its group, the reaper,
/// the guard's hits, the lease; then takes the terminal back.
async fn run_program(
    args: &Args,
    target: &Target,
    format: Option<tgsess_store::SessionFormat>,
    guard: Option<Guard>,
    lease: Option<&lease::Held>,
) -> Result<Ended> {
    let foreground = child::owns_terminal();
    // Handlers first: a signal in the instant after the program starts is passed on too,
    // rather than ending tgsess and leaving the program running unlocked.
    let mut signals = forwarded(foreground);
    let reaper = child::Reaper::start();
    let started = Started {
        format,
        foreground,
        guard: guard.as_ref(),
        reaper: reaper.as_ref(),
    };
    let outcome = match spawn(args, target, &started) {
        Ok(mut program) => {
            let pid = program.id().map(|p| p as i32).unwrap_or(0);
            Ok(supervise(&mut program, pid, &mut signals, guard, lease).await)
        }
        Err(e) => Err(e),
    };
    // "done" also when nothing ran: the reaper must not kill a group that may be reused.
    if let Some(r) = reaper {
        r.done();
    }
    if foreground {
        child::reclaim_terminal();
    }
    outcome
}

/// The pre-flight, unless `--no-preflight`; then the identity last confirmed, if any.
async fn preflight(
    settings: &Settings,
    target: &Target,
    record: Option<&tgsess_store::Record>,
    args: &Args,
) -> Result<Option<Identity>> {
    if args.no_preflight {
        return Ok(None);
    }
    preflight::run(settings, target, record, args.timeout).await
}

/// A copy of the session before PROGRAM may change it; a failure is a warning (a full disk
/// must not keep a bot from starting).
fn keep_copy(settings: &Settings, target: &Target) {
    let (Some(dir), true) = (&settings.state_dir, target.path.is_file()) else {
        return;
    };
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%S%.3fZ")
        .to_string();
    if let Err(e) = tgsess_store::copies::keep(&dir.join("copies"), &target.path, &stamp) {
        output::warn(format!("{e}; starting anyway"));
    }
}

/// The guard on the directories PROGRAM's library may write to, unless `--guard off`.
fn start_guard(args: &Args, managed: &std::path::Path) -> Result<Option<Guard>> {
    if args.guard == Mode::Off {
        return Ok(None);
    }
    let allow = args
        .allow
        .iter()
        .map(|g| {
            glob::Pattern::new(g)
                .map_err(|e| Error::usage(format!("--allow {}: {e}", output::escape(g))))
        })
        .collect::<Result<Vec<_>>>()?;
    let dirs = watched_dirs(args, managed)?;
    let rules = guard::Rules::new(managed.to_path_buf(), allow);
    guard::start(rules, &dirs, args.guard)
        .map(Some)
        .map_err(|e| {
            Error::usage(format!(
                "cannot watch for other sessions ({e}); run with --guard off to start without \
             the watch"
            ))
        })
}

/// The managed session's directory, the working directory, the directory of the script
/// PROGRAM runs (the Pyrogram forks put `NAME.session` beside `sys.argv[0]`), each
/// `--watch DIR`: canonical, each once.
fn watched_dirs(args: &Args, managed: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut add = |d: PathBuf| {
        if let Ok(c) = std::fs::canonicalize(&d)
            && c.is_dir()
            && !dirs.contains(&c)
        {
            dirs.push(c);
        }
    };
    if let Some(parent) = managed.parent() {
        add(parent.to_path_buf());
    }
    if let Ok(cwd) = std::env::current_dir() {
        add(cwd);
    }
    if let Some(script) = script_of(&args.program) {
        add(script);
    }
    for w in &args.watch {
        if !w.is_dir() {
            return Err(Error::usage(format!(
                "--watch {}: not a directory; give one that exists",
                w.shown()
            )));
        }
        add(w.clone());
    }
    Ok(dirs)
}

/// The directory of the script PROGRAM runs: PROGRAM itself when given as a path (a script
/// with a shebang), else the first argument that names an existing file (`python bot.py`).
fn script_of(program: &[OsString]) -> Option<PathBuf> {
    let first = std::path::Path::new(program.first()?);
    let candidates = std::iter::once(first)
        .filter(|p| p.components().count() > 1)
        .chain(
            program[1..]
                .iter()
                .map(std::path::Path::new)
                .filter(|p| !p.to_string_lossy().starts_with('-')),
        );
    for c in candidates {
        if c.is_file() {
            return Some(c.parent().map(|p| p.to_path_buf()).unwrap_or_default());
        }
    }
    None
}

/// What PROGRAM is started with, besides its command line.
struct Started<'a> {
    format: Option<tgsess_store::SessionFormat>,
    /// Hand it the terminal.
    foreground: bool,
    guard: Option<&'a Guard>,
    reaper: Option<&'a child::Reaper>,
}

fn spawn(args: &Args, target: &Target, with: &Started) -> Result<tokio::process::Child> {
    let (format, foreground, guard) = (with.format, with.foreground, with.guard);
    let (first, rest) = args
        .program
        .split_first()
        .ok_or_else(|| Error::usage("exec needs a program to run: tgsess exec -- PROGRAM ARGS"))?;
    let mut cmd = std::process::Command::new(first);
    cmd.args(rest)
        .env("TGSESS_SESSION", &target.path)
        .env(
            "TGSESS_SESSION_FORMAT",
            format.map(|f| f.name()).unwrap_or("grammers"),
        )
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    child::guarded(&mut cmd, foreground, with.reaper.map(child::Reaper::fd));
    if let Some(g) = guard {
        g.starting();
    }
    let spawned = tokio::process::Command::from(cmd).spawn();
    match (&spawned, guard) {
        (Ok(c), Some(g)) => g.started(c.id().map(|p| p as i32).unwrap_or(0)),
        (Err(_), Some(g)) => g.not_started(),
        _ => {}
    }
    spawned.map_err(|e| {
        Error::usage(format!(
            "cannot run {}: {e}",
            output::escape(&first.to_string_lossy())
        ))
    })
}

/// How PROGRAM's run ended.
enum Ended {
    /// On its own: its exit status (128 + N for a signal N).
    Status(i32),
    /// Stopped by the guard.
    Stopped(Hit),
    /// Stopped because the lease was lost (why).
    LeaseLost(String),
}

/// Waits for PROGRAM, passing signals on to its group and acting on the guard's hits and
/// on the loss of the lease.
async fn supervise(
    program: &mut tokio::process::Child,
    pid: i32,
    signals: &mut [(i32, Signal)],
    mut guard: Option<Guard>,
    lease: Option<&lease::Held>,
) -> Ended {
    let lost = async {
        match lease {
            Some(l) => l.lost().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(lost);
    loop {
        let hit = async {
            match guard.as_mut() {
                Some(g) => g.hits.recv().await,
                None => std::future::pending().await,
            }
        };
        // In this order: a hit or a lost lease that is already known when the program ends
        // is still acted on and said.
        tokio::select! {
            biased;
            Some(hit) = hit => {
                if let Some(end) = on_hit(program, pid, hit).await {
                    return end;
                }
            }
            why = &mut lost => {
                stop(program, pid).await;
                return Ended::LeaseLost(why);
            }
            sig = next_signal(signals) => {
                // SAFETY: signalling PROGRAM's own process group.
                unsafe { libc::kill(-pid, sig); }
            }
            status = program.wait() => return after_exit(program, pid, guard, status).await,
        }
    }
}

/// A hit: in `Stop` mode the tree was frozen, so it is killed and exec ends; in `Warn` mode
/// it is said, once.
async fn on_hit(program: &mut tokio::process::Child, pid: i32, hit: Hit) -> Option<Ended> {
    if hit.frozen {
        guard::procs::signal_all(pid, &guard::procs::tree(pid), libc::SIGKILL);
        let _ = program.wait().await;
        return Some(Ended::Stopped(hit));
    }
    output::warn(format!(
        "the program {} {}, which is not the managed session (--guard warn)",
        match hit.how {
            guard::How::Created => "created",
            guard::How::Opened => "opened",
        },
        hit.path.shown()
    ));
    None
}

/// PROGRAM ended on its own: what the guard saw before it ended (events still being read
/// when it exited) is acted on as if it had come first.
async fn after_exit(
    program: &mut tokio::process::Child,
    pid: i32,
    guard: Option<Guard>,
    status: std::io::Result<std::process::ExitStatus>,
) -> Ended {
    if let Some(mut g) = guard {
        g.settle().await;
        while let Ok(hit) = g.hits.try_recv() {
            if let Some(end) = on_hit(program, pid, hit).await {
                return end;
            }
        }
    }
    Ended::Status(exit_code(status))
}

/// How long PROGRAM has after SIGTERM before SIGKILL, when the lease is lost.
const TERM_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGTERM to PROGRAM's group, SIGKILL to its whole tree [`TERM_GRACE`] later.
async fn stop(program: &mut tokio::process::Child, pid: i32) {
    // SAFETY: signalling PROGRAM's own process group.
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    if tokio::time::timeout(TERM_GRACE, program.wait())
        .await
        .is_err()
    {
        guard::procs::signal_all(pid, &guard::procs::tree(pid), libc::SIGKILL);
        let _ = program.wait().await;
    }
}

fn exit_code(status: std::io::Result<std::process::ExitStatus>) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => s
            .code()
            .or_else(|| s.signal().map(|n| 128 + n))
            .unwrap_or(1),
        Err(e) => {
            output::error(format!("waiting for the program failed: {e}"));
            1
        }
    }
}

/// The number of the next signal on any of `signals`.
async fn next_signal(signals: &mut [(i32, Signal)]) -> i32 {
    if signals.is_empty() {
        return std::future::pending().await;
    }
    let futures = signals.iter_mut().map(|(n, s)| {
        let n = *n;
        Box::pin(async move {
            s.recv().await;
            n
        })
    });
    futures::future::select_all(futures).await.0
}

/// The program as one would type it, for messages.
fn program_words(program: &[OsString]) -> String {
    program
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
