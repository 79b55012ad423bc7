//! Command-line types (clap) and nothing else. [`crate::settings`] turns them, the
//! environment and the config file into the plain [`crate::settings::Settings`].
//!
//! Secrets (api_hash, codes, passwords, bot tokens) have no flags on purpose: arguments show
//! up in `ps` and shell history. They come from the config file, the environment or a prompt.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::EXIT_CODES_HELP;

const AFTER_HELP: &str = "\
Settings: every config key can also be given as TGSESS_<KEY> in the environment
(TGSESS_API_ID, TGSESS_API_HASH, TGSESS_PHONE, TGSESS_USERNAME, TGSESS_SESSION_FILE,
TGSESS_SESSION_DIR, TGSESS_SESSION_FORMAT, TGSESS_SANDBOX_DIR, TGSESS_PROXY, TGSESS_TEST_DC) and,
except api_hash and a proxy password, as a flag. Precedence: flag > environment >
config file > default.

Session naming: --session PATH, else <username>.session, else <session_file>.session,
else telegram_session.session, in session_dir or the config file's directory.
`tgsess status` says which file is used and why.";

#[derive(Debug, Parser)]
#[command(
    name = "tgsess",
    version,
    about = "A careful Telegram session manager: shows which session file is used and why, \
             and never spends a login code you did not mean to spend",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"),
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file (default: $TGSESS_CONFIG, else tgsess.toml in the current directory or
    /// the nearest parent that has one, else $XDG_CONFIG_HOME/tgsess/config.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Use this session file, overriding all naming (relative: to the current directory)
    #[arg(long, global = true, value_name = "PATH")]
    pub session: Option<PathBuf>,
    /// Name the session after this username [env: TGSESS_USERNAME]
    #[arg(long, global = true, value_name = "NAME")]
    pub username: Option<String>,
    /// Session name used when username is not set [env: TGSESS_SESSION_FILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub session_file: Option<String>,
    /// Directory of session files (relative: to the current directory; session_dir in the
    /// config file: to the config's directory) [env: TGSESS_SESSION_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub session_dir: Option<PathBuf>,
    /// Telegram api_id [env: TGSESS_API_ID]
    #[arg(long, global = true, value_name = "ID")]
    pub api_id: Option<String>,
    /// Phone number of the account [env: TGSESS_PHONE]
    #[arg(long, global = true, value_name = "PHONE")]
    pub phone: Option<String>,
    /// Talk to the `tgsess sandbox` in DIR instead of Telegram [env: TGSESS_SANDBOX_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub sandbox_dir: Option<PathBuf>,
    /// Connect through this SOCKS5 proxy: socks5://[user@]host:port; a password only from the
    /// config or TGSESS_PROXY, never here [env: TGSESS_PROXY]
    #[arg(long, global = true, value_name = "URL")]
    pub proxy: Option<String>,
    /// Use Telegram's test DCs instead of production [env: TGSESS_TEST_DC]
    #[arg(long, global = true)]
    pub test_dc: bool,
    /// Connect directly, even when a proxy is configured
    #[arg(long, global = true, conflicts_with = "proxy")]
    pub no_proxy: bool,
    /// The session file's format: the bot's own library's file, used in place
    /// [env: TGSESS_SESSION_FORMAT]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub session_format: Option<FormatArg>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which session file is used and why, what it records, and other sessions nearby
    Status {
        /// One JSON object on stdout
        #[arg(long)]
        json: bool,
    },
    /// Log in, requesting at most one code (interactive; see --code-stdin for automation)
    Login(LoginArgs),
    /// Log out at Telegram (keeping a future auth token), then delete the session
    Logout {
        /// Delete the session even when Telegram cannot be reached (its key may stay valid)
        #[arg(long)]
        yes: bool,
        /// Seconds to wait for Telegram
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        timeout: u64,
    },
    /// Exit 0 when the session is signed in, 1 when not; never prompts, never requests a code
    Check {
        /// Decide from the file alone, without contacting Telegram
        #[arg(long)]
        offline: bool,
        /// Seconds to wait for Telegram before giving no verdict (exit 3)
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        timeout: u64,
        /// One JSON object on stdout
        #[arg(long)]
        json: bool,
        /// Print nothing; the exit code is the answer
        #[arg(short, long, conflicts_with = "json")]
        quiet: bool,
    },
    /// Delete the session file (and its SQLite side files) to test a fresh login
    Reset {
        /// Do not ask for confirmation (required when not on a terminal)
        #[arg(long)]
        yes: bool,
        /// Log out at Telegram first (as `tgsess logout`)
        #[arg(long)]
        logout: bool,
    },
    /// Session files in the session directory, with format, user id and size
    List {
        /// One JSON object on stdout (with --check: one per session, then a summary)
        #[arg(long)]
        json: bool,
        /// Ask Telegram whether each session is signed in, concurrently; never writes a
        /// session and never requests a code
        #[arg(long)]
        check: bool,
        /// With --check: at most this many connections at once
        #[arg(long, default_value_t = 8, value_name = "N", requires = "check")]
        jobs: usize,
        /// With --check: one deadline for the whole run, in seconds
        #[arg(long, default_value_t = 30, value_name = "SECS", requires = "check")]
        timeout: u64,
    },
    /// Run a local Telegram datacenter (real MTProto on 127.0.0.1) for tests and rehearsals
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Import a Telethon or Pyrogram session (file or string) into the tgsess session, so
    /// the existing key is reused and no login code is requested
    Import(ImportArgs),
    /// Write the tgsess session in Telethon's or Pyrogram's format
    Export {
        /// The format to write
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Where to write: a new file (never overwritten) or - for stdout
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// The account's devices (Telegram's active sessions); `devices revoke HASH` ends one
    Devices {
        #[command(subcommand)]
        action: Option<DevicesAction>,
        /// One JSON object on stdout
        #[arg(long)]
        json: bool,
        /// Seconds to wait for Telegram
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        timeout: u64,
    },
    /// What a session file or string (from stdin: -) holds, without importing or writing
    /// anything; the key is never shown, only its id
    Inspect {
        /// A session file, or - to read a string from stdin
        source: String,
        /// What SOURCE is; auto decides by content
        #[arg(long, value_enum, default_value = "auto")]
        format: ImportFormat,
        /// One JSON object on stdout
        #[arg(long)]
        json: bool,
        /// For a tdata SOURCE: its -key data name (default: data)
        #[arg(long, value_name = "NAME")]
        tdata_key: Option<String>,
        /// For a tdata SOURCE: read its local passcode from stdin
        #[arg(long)]
        passcode_stdin: bool,
    },
    /// Run a program (a bot) while holding the session's lock: writers and a second exec are
    /// refused while it runs; it gets TGSESS_SESSION, the session's full path
    Exec {
        /// The program and its arguments (put -- before them)
        #[arg(
            trailing_var_arg = true,
            required = true,
            allow_hyphen_values = true,
            value_name = "PROGRAM"
        )]
        program: Vec<std::ffi::OsString>,
    },
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
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
        }
    }
}

/// `tgsess devices revoke`.
#[derive(Debug, Subcommand)]
pub enum DevicesAction {
    /// End another session of the account (account.resetAuthorization); asks on a terminal
    Revoke {
        /// The session's hash, as `tgsess devices` lists it
        #[arg(allow_hyphen_values = true)]
        hash: String,
        /// Do not ask (required when not on a terminal)
        #[arg(long)]
        yes: bool,
    },
}

/// A session file's format (`--session-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
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

/// Source formats of `tgsess import`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    Auto,
    Telethon,
    TelethonString,
    Pyrogram,
    PyrogramString,
    GramjsString,
    MtcuteString,
    MtkrutoString,
}

impl From<ImportFormat> for tgsess_store::source::SourceFormat {
    fn from(f: ImportFormat) -> Self {
        use tgsess_store::source::SourceFormat as S;
        match f {
            ImportFormat::Auto => S::Auto,
            ImportFormat::Telethon => S::Telethon,
            ImportFormat::TelethonString => S::TelethonString,
            ImportFormat::Pyrogram => S::Pyrogram,
            ImportFormat::PyrogramString => S::PyrogramString,
            ImportFormat::GramjsString => S::GramjsString,
            ImportFormat::MtcuteString => S::MtcuteString,
            ImportFormat::MtkrutoString => S::MtkrutoString,
        }
    }
}

/// Target formats of `tgsess export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    TelethonString,
    Telethon,
    PyrogramString,
    Pyrogram,
    GramjsString,
    MtcuteString,
}

/// `tgsess import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A session file, a session string, or - to read it from stdin (a string given as an
    /// argument is visible to other users in `ps`: prefer -)
    pub source: String,
    /// What SOURCE is; auto decides by content
    #[arg(long, value_enum, default_value = "auto")]
    pub format: ImportFormat,
    /// The DC's address (Pyrogram stores none; tgsess uses Telegram's table otherwise)
    #[arg(long, value_name = "IP:PORT")]
    pub dc_address: Option<std::net::SocketAddr>,
    /// Replace an existing session that holds a key (it is kept as a .bak file)
    #[arg(long)]
    pub force: bool,
    /// Do not copy SOURCE's key: have SOURCE approve a new, independent session (as
    /// `login --approve-with SOURCE`), so the two never share a key
    #[arg(long, conflicts_with_all = ["force", "dc_address"])]
    pub as_new: bool,
    /// For a Telegram Desktop tdata SOURCE: its -key data name (default: data)
    #[arg(long, value_name = "NAME")]
    pub tdata_key: Option<String>,
    /// For a tdata SOURCE: read its local passcode from stdin (otherwise asked on a terminal)
    #[arg(long)]
    pub passcode_stdin: bool,
    /// For a tdata SOURCE: which of its accounts (Desktop's index; default: the active one)
    #[arg(long, value_name = "N")]
    pub account: Option<i32>,
}

/// `tgsess login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Request a code even though Telegram's remembered wait is still running; replace a
    /// damaged session file (a copy of it is kept first)
    #[arg(long)]
    pub force: bool,
    /// Request a code even though another session file nearby is signed in
    #[arg(long)]
    pub fresh: bool,
    /// Ask Telegram to send the pending code another way (auth.resendCode)
    #[arg(long)]
    pub resend: bool,
    /// Request a new code although one may already be pending for this phone: an earlier
    /// request's answer was lost, or a code was sent for another session
    #[arg(long)]
    pub new_code: bool,
    /// Sign in a bot; the token comes from $TGSESS_BOT_TOKEN or a hidden prompt
    #[arg(long, conflicts_with_all = ["resend", "code_stdin"])]
    pub bot: bool,
    /// Read the code from stdin after the request (for expect-style automation);
    /// 2FA then needs $TGSESS_PASSWORD
    #[arg(long)]
    pub code_stdin: bool,
    /// Sign in without a code: show a QR code (and its tg://login URL) to scan with Telegram
    /// on a phone (Settings > Devices > Link Desktop Device)
    #[arg(long, conflicts_with_all = ["bot", "resend", "new_code", "code_stdin"])]
    pub qr: bool,
    /// Sign in without a code: SOURCE, a signed-in session (file in any format, or - for a
    /// string on stdin), approves this new session; SOURCE is only read
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["bot", "resend", "new_code", "code_stdin", "qr"])]
    pub approve_with: Option<String>,
    /// With --qr: one JSON line per token, then one for the result
    #[arg(long, requires = "qr")]
    pub json: bool,
    /// Rehearse: run a sandbox DC in this process and log in against it
    #[cfg(feature = "sandbox")]
    #[arg(long)]
    pub sandbox: bool,
    /// Seconds to wait for each answer from Telegram (with --qr: for the whole sign-in,
    /// default 300)
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

/// How the sandbox says a code was sent (`--code-type`).
#[cfg(feature = "sandbox")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CodeTypeArg {
    App,
    Sms,
    Call,
    Email,
}

#[cfg(feature = "sandbox")]
impl From<CodeTypeArg> for tgsess_sandbox::CodeType {
    fn from(c: CodeTypeArg) -> Self {
        match c {
            CodeTypeArg::App => tgsess_sandbox::CodeType::App,
            CodeTypeArg::Sms => tgsess_sandbox::CodeType::Sms,
            CodeTypeArg::Call => tgsess_sandbox::CodeType::Call,
            CodeTypeArg::Email => tgsess_sandbox::CodeType::Email,
        }
    }
}

/// `tgsess sandbox`: where it lives and which scenario it plays.
#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Directory for its config, keys and request log
    #[arg(long, default_value = "tgsess-sandbox", value_name = "DIR")]
    pub dir: PathBuf,
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Accounts have 2FA with this (test) password
    #[arg(long, value_name = "PW")]
    pub password: Option<String>,
    /// What auth.sentCode reports as the way the code was sent
    #[arg(long, value_enum, default_value = "app")]
    pub code_type: CodeTypeArg,
    /// auth.sendCode answers FLOOD_WAIT_SECS
    #[arg(long, value_name = "SECS")]
    pub flood_wait: Option<u32>,
    /// auth.sendCode answers SEND_CODE_UNAVAILABLE
    #[arg(long)]
    pub send_code_unavailable: bool,
    /// Accounts live on this DC: the first auth.sendCode elsewhere answers PHONE_MIGRATE_DC
    #[arg(long, value_name = "DC")]
    pub migrate_to: Option<i32>,
    /// Close the connection the first time this method (e.g. auth.sendCode) arrives
    #[arg(long, value_name = "METHOD")]
    pub drop_on: Option<String>,
    /// Codes older than this answer PHONE_CODE_EXPIRED
    #[arg(long, value_name = "SECS")]
    pub code_ttl: Option<u64>,
    /// Signed-in keys answer 401 AUTH_KEY_UNREGISTERED this long after signing in
    #[arg(long, value_name = "SECS")]
    pub revoke_after: Option<u64>,
    /// Delay every reply (and each new connection) by this many milliseconds, as round trips
    /// to Telegram take
    #[arg(long, value_name = "MS")]
    pub latency: Option<u64>,
    /// QR login tokens expire after this long (default 30; 0: expired at once)
    #[arg(long, value_name = "SECS")]
    pub login_token_ttl: Option<u64>,
    /// Do not serve: scan the tg://login URL read from stdin as a sandbox account (what a
    /// phone's Telegram app does), on the sandbox running in --dir
    #[arg(long)]
    pub scan: bool,
    /// The account that scans (with --scan)
    #[arg(
        long = "as",
        value_name = "PHONE",
        default_value = "9996621234",
        requires = "scan"
    )]
    pub scan_as: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_says_relative_paths_follow_the_current_directory_and_the_config_search() {
        let help = Cli::command().render_long_help().to_string();
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
    fn help_documents_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("130  interrupted"), "{help}");
    }
}
