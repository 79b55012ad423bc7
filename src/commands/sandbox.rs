//! `tgsess sandbox`: serve a local DC until SIGINT/SIGTERM.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::error::{Error, Exit, Result};
use crate::output::Shown;
use tgsess_sandbox::{self as sandbox, DEMO_PHONE, Scenario};
use tgsess_shared::sandbox_link as keys;
use tgsess_shared::secret::Secret;

/// How the sandbox says a code was sent (`--code-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CodeTypeArg {
    App,
    Sms,
    Call,
    Email,
}

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

// `tgsess sandbox`: where it lives and which scenario it plays.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory for its config, keys and request log
    #[arg(long, default_value = "tgsess-sandbox", value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// Address to listen on (loopback only)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub(crate) listen: std::net::SocketAddr,
    /// Accounts have 2FA with this (test) password
    #[arg(long, value_name = "PW")]
    pub(crate) password: Option<String>,
    /// What auth.sentCode reports as the way the code was sent
    #[arg(long, value_enum, default_value = "app")]
    pub(crate) code_type: CodeTypeArg,
    /// auth.sendCode answers FLOOD_WAIT_SECS
    #[arg(long, value_name = "SECS")]
    pub(crate) flood_wait: Option<u32>,
    /// auth.sendCode answers SEND_CODE_UNAVAILABLE
    #[arg(long)]
    pub(crate) send_code_unavailable: bool,
    /// Accounts live on this DC: the first auth.sendCode elsewhere answers PHONE_MIGRATE_DC
    #[arg(long, value_name = "DC")]
    pub(crate) migrate_to: Option<i32>,
    /// Close the connection the first time this method (e.g. auth.sendCode) arrives
    #[arg(long, value_name = "METHOD")]
    pub(crate) drop_on: Option<String>,
    /// Codes older than this answer PHONE_CODE_EXPIRED
    #[arg(long, value_name = "SECS")]
    pub(crate) code_ttl: Option<u64>,
    /// Signed-in keys answer 401 AUTH_KEY_UNREGISTERED this long after signing in
    #[arg(long, value_name = "SECS")]
    pub(crate) revoke_after: Option<u64>,
    /// Delay every reply (and each new connection) by this many milliseconds, as round trips
    /// to Telegram take
    #[arg(long, value_name = "MS")]
    pub(crate) latency: Option<u64>,
    /// QR login tokens expire after this long (default 30; 0: expired at once)
    #[arg(long, value_name = "SECS")]
    pub(crate) login_token_ttl: Option<u64>,
    /// This phone's account is banned: its signed-in keys answer 401 USER_DEACTIVATED_BAN
    /// (repeat for more phones)
    #[arg(long = "ban", value_name = "PHONE")]
    pub(crate) ban: Vec<String>,
    /// Do not serve: scan the tg://login URL read from stdin as a sandbox account (what a
    /// phone's Telegram app does), on the sandbox running in --dir
    #[arg(long)]
    pub(crate) scan: bool,
    /// The account that scans (with --scan)
    #[arg(
        long = "as",
        value_name = "PHONE",
        default_value = "9996621234",
        requires = "scan"
    )]
    pub(crate) scan_as: String,
}

pub(crate) fn scenario(a: &Args) -> Scenario {
    Scenario {
        password: a.password.clone().map(Secret::new),
        code_type: Some(a.code_type.into()),
        flood_wait: a.flood_wait,
        send_code_unavailable: a.send_code_unavailable,
        migrate_to: a.migrate_to,
        drop_on: a.drop_on.clone(),
        code_ttl: a.code_ttl.map(Duration::from_secs),
        revoke_after: a.revoke_after.map(Duration::from_secs),
        login_token_ttl: a.login_token_ttl.map(Duration::from_secs),
        latency: a.latency.map(Duration::from_millis),
        banned: a
            .ban
            .iter()
            .map(|p| p.chars().filter(char::is_ascii_digit).collect())
            .collect(),
    }
}

/// `--scan`: accept the QR login URL on stdin as a sandbox account.
fn scan(args: &Args) -> Result<Exit> {
    use std::io::Read;
    let mut url = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut url)
        .map_err(|e| Error::usage(format!("cannot read the URL from stdin: {e}")))?;
    let Some(line) = url
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tg://login?token="))
    else {
        return Err(Error::usage(
            "sandbox --scan reads a tg://login?token=… URL from stdin (as `tgsess login --qr` \
             prints it); none was given",
        ));
    };
    let answer = sandbox::scan::request(&args.dir, line, &args.scan_as)
        .map_err(|e| Error::NoVerdict(format!("sandbox in {}: {e}", args.dir.shown())))?;
    match answer.user_id {
        Some(id) => {
            println!(
                "Scanned: the token was accepted as sandbox user {id} ({}).",
                args.scan_as
            );
            Ok(Exit::Ok)
        }
        None => Err(Error::NotSignedIn(format!(
            "the sandbox refused the token: {}",
            answer.result
        ))),
    }
}

pub(crate) async fn run(args: Args) -> Result<Exit> {
    if args.scan {
        return scan(&args);
    }
    // Every client of a fleet check holds a connection open at once.
    tgsess_shared::limits::raise_open_files();
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::usage(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::usage(format!("cannot watch SIGINT: {e}")))?;
    let running = sandbox::start(sandbox::Options {
        dir: args.dir.clone(),
        listen: args.listen,
        scenario: scenario(&args),
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "tgsess sandbox listening on {}", running.address);
        let _ = writeln!(
            out,
            "  directory: {} (tgsess.toml, session.string, requests.jsonl)",
            running.dir.shown()
        );
        let _ = writeln!(
            out,
            "  RSA key:   {} (fingerprint {}), for clients that create their own auth key",
            running.dir.join(sandbox::server_key::PUBLIC_FILE).shown(),
            running.server_key_fingerprint
        );
        let _ = writeln!(
            out,
            "  log in:    tgsess --config {} login",
            running.config_path().shown()
        );
        let _ = writeln!(
            out,
            "  phone {DEMO_PHONE}, code 22222 (any 99966XYYYY works, X = DC 1..3, code XXXXX)"
        );
        let _ = out.flush();
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    // A stopped sandbox must not look reachable.
    let _ = std::fs::remove_file(running.dir.join(keys::ENDPOINT_FILE));
    drop(running);
    Ok(Exit::Ok)
}
