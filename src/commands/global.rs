//! The global options: what every command understands, given before its name or after it.
//! clap's `global = true` would copy each of them into every subcommand at every start, a
//! tenth of `check --offline`'s page faults; instead each command has them as its own
//! arguments ([`With`]), and the parser (`cli::parse`) merges the two places.
//!
//! Secrets (api_hash, codes, passwords, bot tokens) have no flags on purpose: arguments show
//! up in `ps` and shell history. They come from the config file, the environment or a prompt.

use std::path::PathBuf;

use clap::Args;

// A command's own arguments, then the global options, which may follow its name as well as
// precede it. Derefs to the command's arguments. (Plain comments: a doc comment would be
// the subcommand's line of help, as on each command's `Args`.)
#[derive(Debug, Args)]
pub(crate) struct With<A: Args> {
    #[command(flatten)]
    pub(crate) args: A,
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

impl<A: Args> std::ops::Deref for With<A> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.args
    }
}

// Options every command understands (a plain comment, as on `With`).
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Config file (default: $TGSESS_CONFIG, else tgsess.toml in the current directory or
    /// the nearest parent that has one, else $XDG_CONFIG_HOME/tgsess/config.toml)
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Use this session file, overriding all naming (relative: to the current directory)
    #[arg(long, value_name = "PATH")]
    pub(crate) session: Option<PathBuf>,
    /// Name the session after this username [env: TGSESS_USERNAME]
    #[arg(long, value_name = "NAME")]
    pub(crate) username: Option<String>,
    /// Session name used when username is not set [env: TGSESS_SESSION_FILE]
    #[arg(long, value_name = "NAME")]
    pub(crate) session_file: Option<String>,
    /// Directory of session files (relative: to the current directory; session_dir in the
    /// config file: to the config's directory) [env: TGSESS_SESSION_DIR]
    #[arg(long, value_name = "DIR")]
    pub(crate) session_dir: Option<PathBuf>,
    /// Telegram api_id [env: TGSESS_API_ID]
    #[arg(long, value_name = "ID")]
    pub(crate) api_id: Option<String>,
    /// Phone number of the account [env: TGSESS_PHONE]
    #[arg(long, value_name = "PHONE")]
    pub(crate) phone: Option<String>,
    /// Talk to the `tgsess sandbox` in DIR instead of Telegram [env: TGSESS_SANDBOX_DIR]
    #[arg(long, value_name = "DIR")]
    pub(crate) sandbox_dir: Option<PathBuf>,
    /// Connect through this SOCKS5 proxy: socks5://[user@]host:port; a password only from the
    /// config or TGSESS_PROXY, never here [env: TGSESS_PROXY]
    #[arg(long, value_name = "URL")]
    pub(crate) proxy: Option<String>,
    /// Use Telegram's test DCs instead of production [env: TGSESS_TEST_DC]
    #[arg(long)]
    pub(crate) test_dc: bool,
    /// The account the session must hold: @username or a numeric user id
    /// [env: TGSESS_EXPECT_USER]
    #[arg(long, value_name = "USER")]
    pub(crate) expect_user: Option<String>,
    /// A PostgreSQL URL on which `exec` holds a lease on the session's key, so one key runs
    /// in one place; no password here (PGPASSWORD or ~/.pgpass) [env: TGSESS_LEASE]
    #[arg(long, value_name = "URL")]
    pub(crate) lease: Option<String>,
    /// Connect directly, even when a proxy is configured
    #[arg(long, conflicts_with = "proxy")]
    pub(crate) no_proxy: bool,
    /// The session file's format: the bot's own library's file, used in place
    /// [env: TGSESS_SESSION_FORMAT]
    ///
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) session_format: Option<FormatArg>,
}

impl GlobalArgs {
    /// These options, with `later`'s wherever it gives one.
    pub(crate) fn then(self, later: GlobalArgs) -> GlobalArgs {
        GlobalArgs {
            config: later.config.or(self.config),
            session: later.session.or(self.session),
            username: later.username.or(self.username),
            session_file: later.session_file.or(self.session_file),
            session_dir: later.session_dir.or(self.session_dir),
            api_id: later.api_id.or(self.api_id),
            phone: later.phone.or(self.phone),
            sandbox_dir: later.sandbox_dir.or(self.sandbox_dir),
            proxy: later.proxy.or(self.proxy),
            test_dc: later.test_dc || self.test_dc,
            expect_user: later.expect_user.or(self.expect_user),
            lease: later.lease.or(self.lease),
            no_proxy: later.no_proxy || self.no_proxy,
            session_format: later.session_format.or(self.session_format),
        }
    }
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
