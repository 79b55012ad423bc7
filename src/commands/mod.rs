//! One module per command. Each takes the resolved [`Settings`] and returns the exit status
//! of a run that went as intended, or an [`crate::error::Error`].

pub(crate) mod check;
pub(crate) mod devices;
pub(crate) mod exec;
pub(crate) mod export;
pub(crate) mod fleet;
pub(crate) mod global;
pub(crate) mod import;
pub(crate) mod inspect;
pub(crate) mod leases;
pub(crate) mod list;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod metrics;
pub(crate) mod reset;
#[cfg(feature = "sandbox")]
pub(crate) mod sandbox;
pub(crate) mod status;

use crate::env::Env;
use crate::error::{Exit, Result};
use crate::settings::Settings;
use global::{GlobalArgs, With};

/// A command's future, boxed and type-erased (see [`future`]).
pub(crate) type Boxed<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Exit>> + 'a>>;

/// The commands, as clap parses them. `defer`: a subcommand's own arguments are built only
/// when it is the one given (or for help and completions), not at every start. They are
/// then built after the line of help written here, so a doc comment on a command's `Args`
/// would replace it: those carry plain comments.
#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub(crate) enum Command {
    /// Which session file is used and why, what it records, and other sessions nearby
    Status(With<status::Args>),
    /// Log in, requesting at most one code (interactive; see --code-stdin for automation)
    Login(With<login::Args>),
    /// Log out at Telegram (keeping a future auth token), then delete the session
    Logout(With<logout::Args>),
    /// Exit 0 when the session is signed in, 1 when not; never prompts, never requests a code
    Check(With<check::Args>),
    /// Delete the session file (and its SQLite side files) to test a fresh login
    Reset(With<reset::Args>),
    /// Session files in the session directory, with format, user id and size
    List(With<list::Args>),
    /// Run a local Telegram datacenter (real MTProto on 127.0.0.1) for tests and rehearsals
    #[cfg(feature = "sandbox")]
    Sandbox(With<sandbox::Args>),
    /// Import a Telethon or Pyrogram session (file or string) into the tgsess session, so
    /// the existing key is reused and no login code is requested
    Import(With<import::Args>),
    /// Write the tgsess session in Telethon's or Pyrogram's format
    Export(With<export::Args>),
    /// The account's devices (Telegram's active sessions); `devices revoke HASH` ends one
    Devices(With<devices::Args>),
    /// What a session file or string (from stdin: -) holds, without importing or writing
    /// anything; the key is never shown, only its id
    Inspect(With<inspect::Args>),
    /// Run a bot, guarded: the session's lock (and lease), a pre-flight check, a copy, and a
    /// stop before it can request a code on another session; it gets TGSESS_SESSION
    Exec(With<exec::Args>),
    /// Every lease in the lease database (`lease`): held or ended, by which host and pid
    Leases(With<leases::Args>),
    /// Internal: exec's reaper (kills PROGRAM's group if tgsess dies)
    #[command(name = "__reap", hide = true)]
    Reap,
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The global options given after the command's name (after `devices revoke`'s too, which
    /// win), taken out; none for the two commands that take none.
    pub(crate) fn take_global(&mut self) -> Option<GlobalArgs> {
        let given = match self {
            Command::Status(a) => &mut a.global,
            Command::Login(a) => &mut a.global,
            Command::Logout(a) => &mut a.global,
            Command::Check(a) => &mut a.global,
            Command::Reset(a) => &mut a.global,
            Command::List(a) => &mut a.global,
            #[cfg(feature = "sandbox")]
            Command::Sandbox(a) => &mut a.global,
            Command::Import(a) => &mut a.global,
            Command::Export(a) => &mut a.global,
            Command::Inspect(a) => &mut a.global,
            Command::Exec(a) => &mut a.global,
            Command::Leases(a) => &mut a.global,
            Command::Devices(a) => {
                let given = std::mem::take(&mut a.global);
                return Some(match &mut a.args.action {
                    Some(devices::DevicesAction::Revoke { global, .. }) => {
                        given.then(std::mem::take(global))
                    }
                    None => given,
                });
            }
            Command::Reap | Command::Completions { .. } => return None,
        };
        Some(std::mem::take(given))
    }
}

/// What is odd about the session's name (quotes or spaces kept in it, a hidden file), said
/// where the name decides a file: `status` always (in its report), `login` and `import`
/// always (they create or replace the file); `exec`, `logout`, `reset` and `export` once per
/// distinct warning, remembered in the state (a bot's log must not repeat it at every
/// start); the read-only `check`, `list`, `inspect` and `devices` never (`status` explains).
fn naming_warnings(command: &Command, settings: &Settings) {
    let warnings = &settings.session.warnings;
    match command {
        Command::Login(_) | Command::Import(_) => {
            warnings.iter().for_each(crate::output::warn);
        }
        Command::Exec(_) | Command::Logout(_) | Command::Reset(_) | Command::Export(_) => {
            for w in once_each(warnings, settings) {
                crate::output::warn(w);
            }
        }
        _ => {}
    }
}

/// The warnings not yet shown, each remembered as shown; all of them when nothing can be
/// remembered.
fn once_each<'a>(warnings: &'a [String], settings: &Settings) -> Vec<&'a String> {
    use sha2::Digest;
    if warnings.is_empty() {
        return Vec::new();
    }
    let Ok(store) = crate::state::State::load(settings.state_dir.clone()) else {
        return warnings.iter().collect();
    };
    let id = |w: &String| {
        sha2::Sha256::digest(w.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let new: Vec<&String> = warnings
        .iter()
        .filter(|w| !store.data.shown_warnings.contains(&id(w)))
        .collect();
    if settings.state_dir.is_some() && !new.is_empty() {
        let ids: Vec<String> = new.iter().map(|w| id(w)).collect();
        let _ = store.modify(|d| d.shown_warnings.extend(ids));
    }
    new
}

/// Runs `command` on the resolved settings. Each command takes its one `Args`.
pub(crate) async fn dispatch(command: Command, settings: Settings, env: &dyn Env) -> Result<Exit> {
    naming_warnings(&command, &settings);
    future(&command, &settings, env).await
}

/// A command's run, behind a pointer. Awaited directly, every command's poll was inlined
/// into `dispatch`'s, whose stack frame was then the largest of them: 34 KB, probed page by
/// page at every start whatever the command (`check --offline`: 8 of its page faults).
/// Through `dyn`, each command's poll keeps its own frame; and each future is made and boxed
/// in a function of its own ([`boxed`]), or the stack slots of all of them, made here and
/// moved to the heap, added up to 24 KB of this frame.
fn future<'a>(command: &'a Command, s: &'a Settings, env: &'a dyn Env) -> Boxed<'a> {
    match command {
        Command::Status(args) => boxed(|| status::run(s, args)),
        Command::Check(args) => boxed(|| check::run(s, args)),
        Command::Reset(args) if args.logout => {
            boxed(|| async move { logout::run(s, env, &args.as_logout()).await })
        }
        Command::Reset(args) => boxed(|| reset::run(s, args)),
        Command::Logout(args) => boxed(|| logout::run(s, env, args)),
        Command::Login(args) => boxed(|| login::run(s, env, args)),
        Command::Import(args) => boxed(|| import::run(s, env, args)),
        Command::Exec(args) => boxed(|| exec::run(s, args)),
        Command::Leases(args) => boxed(|| leases::run(s, env, args)),
        Command::Inspect(args) => boxed(|| inspect::run(s, args)),
        Command::Devices(args) => boxed(|| devices::run(s, args)),
        Command::Export(args) => boxed(|| export::run(s, args)),
        Command::List(args) if args.check => boxed(|| fleet::run(s, args)),
        Command::List(args) => boxed(|| list::run(s, args)),
        Command::Completions { .. } | Command::Reap => {
            unreachable!("handled before settings are resolved")
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(_) => unreachable!("handled before settings are resolved"),
    }
}

/// `make`'s future on the heap, built in this function's frame, which is as large as that
/// one future and is gone once it returns.
#[inline(never)]
fn boxed<'a, F: Future<Output = Result<Exit>> + 'a>(make: impl FnOnce() -> F) -> Boxed<'a> {
    Box::pin(make())
}
