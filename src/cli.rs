//! Command-line types (clap) and nothing else. [`crate::settings`] turns them, the
//! environment and the config file into the plain [`crate::settings::Settings`].
//! The global options are in [`crate::commands::global`].

use clap::Parser;

use crate::commands::Command;
use crate::commands::global::GlobalArgs;
use crate::error::Exit;
use crate::settings::keys;

const NAMING_HELP: &str = "\
Session naming: --session PATH, else <username>.session, else <session_file>.session,
else telegram_session.session, in session_dir or the config file's directory.
`tgsess status` says which file is used and why.";

/// The command line as clap sees it, with what the key table and the exit codes say added:
/// the help ends with the variables, the naming rule and the exit codes. (Each setting's
/// flag names its variable in its own line of help; a test holds them to the key table.)
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().after_help(format!(
        "{}\n\n{NAMING_HELP}\n\n{}",
        keys::env_help(),
        Exit::help()
    ))
}

/// Parses the command line. The help decorations of [`command`] (the variables' table, the
/// naming rules, the exit codes) are built only when help is asked for: parsing does not
/// read them. Only the subcommand given has its own arguments built (`defer` on
/// [`Command`]).
///
/// The parser and its matches are not dropped but left to the process's end: freeing
/// clap's tree, a few hundred kilobytes in thousands of allocations, was 8% of the
/// instructions of `check --offline` (callgrind), for memory the exit returns anyway.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os().collect())
}

fn parse_from(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let help = args
        .iter()
        .skip(1)
        .any(|a| a == "-h" || a == "--help" || a == "help");
    let mut cmd = if help { command() } else { Cli::command() };
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    // `_mut`: the values are moved out. clap's `from_arg_matches` clones all the matches first
    // (its default body), 79 allocations at every start.
    let cli = Cli::from_arg_matches_mut(&mut matches);
    std::mem::forget(matches);
    std::mem::forget(cmd);
    cli?.merge_global()
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

impl Cli {
    /// The global options given before the subcommand's name, with those given after it
    /// (which win) merged in: each command has them as its own arguments
    /// ([`crate::commands::global`] says why), so clap parses the two places apart.
    fn merge_global(mut self) -> Result<Cli, clap::Error> {
        if let Some(later) = self.command.take_global() {
            self.global = std::mem::take(&mut self.global).then(later);
        }
        if self.global.proxy.is_some() && self.global.no_proxy {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                "the argument '--no-proxy' cannot be used with '--proxy <URL>'\n",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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

    fn parsed(args: &str) -> Result<Cli, clap::Error> {
        parse_from(args.split(' ').map(Into::into).collect())
    }

    #[test]
    fn global_options_are_taken_before_and_after_the_subcommand_the_later_winning() {
        let before = parsed("tgsess --config a.toml --test-dc check --offline").unwrap();
        let after = parsed("tgsess check --offline --config a.toml --test-dc").unwrap();
        for cli in [before, after] {
            assert_eq!(cli.global.config, Some(PathBuf::from("a.toml")));
            assert!(cli.global.test_dc);
            assert!(matches!(cli.command, Command::Check(ref c) if c.offline));
        }
        let both = parsed("tgsess --config a.toml --phone 1 check --config b.toml").unwrap();
        assert_eq!(both.global.config, Some(PathBuf::from("b.toml")));
        assert_eq!(both.global.phone.as_deref(), Some("1"));
        let nested = "tgsess --config a.toml devices --phone 1 revoke H --config c.toml";
        let nested = parsed(nested).unwrap();
        assert_eq!(nested.global.config, Some(PathBuf::from("c.toml")));
        assert_eq!(nested.global.phone.as_deref(), Some("1"));
    }

    #[test]
    fn no_proxy_conflicts_with_proxy_on_either_side_of_the_subcommand() {
        for args in [
            "tgsess --proxy socks5://h:1 --no-proxy status",
            "tgsess status --proxy socks5://h:1 --no-proxy",
            "tgsess --proxy socks5://h:1 status --no-proxy",
            "tgsess --no-proxy status --proxy socks5://h:1",
        ] {
            let e = parsed(args).expect_err(args);
            assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{args}");
        }
    }

    #[test]
    fn each_flag_names_its_variable_in_its_help_wherever_it_is_listed() {
        let mut cmd = command();
        cmd.build();
        let mut commands = vec![&cmd];
        commands.extend(cmd.get_subcommands().filter(|s| s.get_name() != "help"));
        let devices = cmd.find_subcommand("devices").expect("devices");
        commands.extend(devices.get_subcommands().filter(|s| s.get_name() != "help"));
        for key in keys::KEYS {
            let Some(flag) = key.flag else { continue };
            let long = flag.trim_start_matches("--");
            for c in &commands {
                if matches!(c.get_name(), "__reap" | "completions") {
                    continue;
                }
                let arg = c.get_arguments().find(|a| a.get_long() == Some(long));
                let help = arg.and_then(|a| a.get_help()).map(|h| h.to_string());
                let note = format!("[env: {}]", key.env);
                assert!(
                    help.as_deref().is_some_and(|h| h.ends_with(&note)),
                    "{flag} in {}: {help:?}",
                    c.get_name()
                );
            }
        }
    }

    #[test]
    fn help_documents_exit_codes() {
        let help = command().render_long_help().to_string();
        assert!(help.contains("130  interrupted"), "{help}");
    }
}
