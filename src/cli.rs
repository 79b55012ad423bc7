//! Command-line types (clap) and nothing else. [`crate::settings`] turns them, the
//! environment and the config file into the plain [`crate::settings::Settings`].
//!
//! Secrets (api_hash, codes, passwords, bot tokens) have no flags on purpose: arguments show
//! up in `ps` and shell history. They come from the config file, the environment or a prompt.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::commands::Command;
use crate::error::Exit;
use crate::settings::keys;

const NAMING_HELP: &str = "\
Session naming: --session PATH, else <username>.session, else <session_file>.session,
else telegram_session.session, in session_dir or the config file's directory.
`tgsess status` says which file is used and why.";

/// The command line as clap sees it, with what the key table and the exit codes say added:
/// each setting's flag gets its `[env: …]` note, and the help ends with the variables,
/// the naming rule and the exit codes. Nothing of it is typed twice.
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command().after_help(format!(
        "{}\n\n{NAMING_HELP}\n\n{}",
        keys::env_help(),
        Exit::help()
    ));
    for key in keys::KEYS {
        let Some(flag) = key.flag else { continue };
        let id = flag.trim_start_matches("--").replace('-', "_");
        cmd = cmd.mut_arg(id, |a| {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            a.help(format!("{help} [env: {}]", key.env))
        });
    }
    cmd
}

/// Parses the command line. The help decorations of [`command`] (the variables' table, the
/// naming rules, the exit codes, an `[env: …]` note on each flag) are built only when help
/// is asked for: they cost every other run about a tenth of its page faults (perf, `check
/// --offline`), and parsing does not read them. Only the subcommand given has its own
/// arguments built (`defer` on [`Command`]).
///
/// The parser and its matches are not dropped but left to the process's end: freeing
/// clap's tree, a few hundred kilobytes in thousands of allocations, was 8% of the
/// instructions of `check --offline` (callgrind), for memory the exit returns anyway.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let help = std::env::args_os()
        .skip(1)
        .any(|a| a == "-h" || a == "--help" || a == "help");
    let mut cmd = if help { command() } else { Cli::command() };
    let matches = cmd.try_get_matches_from_mut(std::env::args_os())?;
    let cli = Cli::from_arg_matches(&matches);
    std::mem::forget(matches);
    std::mem::forget(cmd);
    cli
}

#[derive(Debug, Parser)]
#[command(
    name = "tgsess",
    version,
    about = "A careful Telegram session manager: shows which session file is used and why, \
             and never spends a login code you did not mean to spend"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command understands.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Config file (default: $TGSESS_CONFIG, else tgsess.toml in the current directory or
    /// the nearest parent that has one, else $XDG_CONFIG_HOME/tgsess/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Use this session file, overriding all naming (relative: to the current directory)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) session: Option<PathBuf>,
    /// Name the session after this username
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) username: Option<String>,
    /// Session name used when username is not set
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) session_file: Option<String>,
    /// Directory of session files (relative: to the current directory; session_dir in the
    /// config file: to the config's directory)
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) session_dir: Option<PathBuf>,
    /// Telegram api_id
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) api_id: Option<String>,
    /// Phone number of the account
    #[arg(long, global = true, value_name = "PHONE")]
    pub(crate) phone: Option<String>,
    /// Talk to the `tgsess sandbox` in DIR instead of Telegram
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) sandbox_dir: Option<PathBuf>,
    /// Connect through this SOCKS5 proxy: socks5://[user@]host:port; a password only from the
    /// config or TGSESS_PROXY, never here
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) proxy: Option<String>,
    /// Use Telegram's test DCs instead of production
    #[arg(long, global = true)]
    pub(crate) test_dc: bool,
    /// The account the session must hold: @username or a numeric user id
    #[arg(long, global = true, value_name = "USER")]
    pub(crate) expect_user: Option<String>,
    /// A PostgreSQL URL on which `exec` holds a lease on the session's key, so one key runs
    /// in one place; no password here (PGPASSWORD or ~/.pgpass)
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) lease: Option<String>,
    /// Connect directly, even when a proxy is configured
    #[arg(long, global = true, conflicts_with = "proxy")]
    pub(crate) no_proxy: bool,
    /// The session file's format: the bot's own library's file, used in place
    ///
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub(crate) session_format: Option<FormatArg>,
}

impl From<&GlobalArgs> for crate::settings::Flags {
    fn from(g: &GlobalArgs) -> Self {
        crate::settings::Flags {
            config: g.config.clone(),
            session: g.session.clone(),
            username: g.username.clone(),
            session_file: g.session_file.clone(),
            session_dir: g.session_dir.clone(),
            api_id: g.api_id.clone(),
            phone: g.phone.clone(),
            sandbox_dir: g.sandbox_dir.clone(),
            proxy: g.proxy.clone(),
            test_dc: g.test_dc,
            no_proxy: g.no_proxy,
            session_format: g.session_format.map(Into::into),
            expect_user: g.expect_user.clone(),
            lease: g.lease.clone(),
        }
    }
}

/// A session file's format (`--session-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// grammers' SqliteSession, tgsess's own format (the default for a new file)
    Grammers,
    /// Telethon's SQLite session
    Telethon,
    /// Pyrogram's SQLite session (also kurigram, pyrofork, hydrogram)
    Pyrogram,
}

impl From<FormatArg> for tgsess_store::SessionFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Grammers => tgsess_store::SessionFormat::Grammers,
            FormatArg::Telethon => tgsess_store::SessionFormat::Telethon,
            FormatArg::Pyrogram => tgsess_store::SessionFormat::Pyrogram,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_valid() {
        command().debug_assert();
    }

    #[test]
    fn help_says_relative_paths_follow_the_current_directory_and_the_config_search() {
        let help = command().render_long_help().to_string();
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("overriding all naming (relative: to the current directory)"),
            "{flat}"
        );
        assert!(flat.contains("(relative: to the current directory; session_dir in the config file: to the config's directory)"), "{flat}");
        assert!(
            flat.contains("or the nearest parent that has one"),
            "{flat}"
        );
        assert!(
            !flat.contains("relative: to the config's directory)"),
            "{flat}"
        );
    }

    #[test]
    fn each_subcommand_keeps_its_line_of_help_once_its_arguments_are_built() {
        let text = |s: Option<&clap::builder::StyledStr>| s.map(|a| a.to_string());
        let before: Vec<_> = command()
            .get_subcommands()
            .map(|s| {
                let name = s.get_name().to_string();
                (name, text(s.get_about()), text(s.get_long_about()))
            })
            .collect();
        assert!(before.iter().any(|(n, a, _)| n == "check" && a.is_some()));
        let mut built = command();
        built.build();
        for (name, about, long_about) in before {
            let sc = built.find_subcommand(&name).expect("still there");
            assert_eq!(text(sc.get_about()), about, "{name}");
            assert_eq!(text(sc.get_long_about()), long_about, "{name}");
        }
    }

    #[test]
    fn help_documents_exit_codes() {
        let help = command().render_long_help().to_string();
        assert!(help.contains("130  interrupted"), "{help}");
    }
}
