//! `tgsess inspect SOURCE [--json]`: what a session file or string holds, without importing
//! or writing anything. Strings are read from stdin (`-`) or a file, never from the command
//! line. The key is never shown, only its id.

use std::path::Path;

use serde::Serialize;

use super::import::ImportFormat;
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use std::path::PathBuf;

use crate::output::shell_quote;
use tgsess_store::{Record, files, known_dc_address, sqlite};

// `tgsess inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A session file, or - to read a string from stdin
    pub(crate) source: String,
    /// What SOURCE is; auto decides by content
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) format: ImportFormat,
    /// One JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
    /// For a tdata SOURCE: its -key data name (default: data)
    #[arg(long, value_name = "NAME")]
    pub(crate) tdata_key: Option<String>,
    /// For a tdata SOURCE: read its local passcode from stdin
    #[arg(long)]
    pub(crate) passcode_stdin: bool,
}

/// `inspect --json`; the schema is pinned by a test.
#[derive(Debug, Serialize)]
pub(crate) struct Inspected {
    pub(crate) source: String,
    pub(crate) format: &'static str,
    /// For a file: the library's schema version as its tables tell it.
    pub(crate) detail: Option<String>,
    pub(crate) dc_id: i32,
    pub(crate) address: Option<String>,
    /// "source" (the source gives it), "table" (Telegram's DC table), or null (unknown).
    pub(crate) address_from: Option<&'static str>,
    pub(crate) test_mode: Option<bool>,
    pub(crate) key_id: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) bot: Option<bool>,
    pub(crate) api_id: Option<i32>,
    /// Signs that a program uses the source right now.
    pub(crate) in_use: Vec<String>,
    /// For Telegram Desktop's tdata: every account (the fields above describe the active one).
    pub(crate) accounts: Vec<TdataAccount>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TdataAccount {
    pub(crate) index: i32,
    pub(crate) user_id: i64,
    pub(crate) dc_id: i32,
    pub(crate) key_id: String,
    pub(crate) active: bool,
}

fn in_use(path: &Path) -> Vec<String> {
    let mut v: Vec<String> = files::side_files(path)
        .into_iter()
        .filter(|p| p.exists() && !p.to_string_lossy().ends_with("-shm"))
        .map(|p| format!("{} is present", p.shown()))
        .collect();
    v.extend(
        files::holders(path)
            .into_iter()
            .map(|(pid, cmd)| format!("pid {pid} ({cmd}) has it open")),
    );
    v
}

pub(crate) async fn run(settings: &crate::settings::Settings, args: &Args) -> Result<Exit> {
    if args.source != "-" && !Path::new(&args.source).exists() {
        return Err(Error::usage(
            "inspect reads a session file, or a string from stdin with `-` (a string on the \
             command line would be visible to other users in `ps`): tgsess inspect - < FILE",
        ));
    }
    let report = inspect(args).await?;
    if args.json {
        output::json(&report);
    } else {
        print(&report, settings);
    }
    Ok(Exit::Ok)
}

/// What the source holds, as the report shows it.
async fn inspect(args: &Args) -> Result<Inspected> {
    let (format, r, path, accounts) = read(args).await?;
    let detail = match &path {
        Some(_) if format == "tdata" => Some(format!(
            "Telegram Desktop tdata, {} account(s)",
            accounts.len()
        )),
        Some(p) => {
            let i = sqlite::inspect(p).await;
            i.format.is_some().then_some(i.detail)
        }
        None => None,
    };
    let (address, address_from) = match r.address {
        Some(a) => (Some(a.to_string()), Some("source")),
        None => match known_dc_address(r.dc_id, r.test_mode.unwrap_or(false)) {
            Some(a) => (Some(a.to_string()), Some("table")),
            None => (None, None),
        },
    };
    Ok(Inspected {
        source: path.as_ref().map_or_else(|| "-".into(), |p| p.shown()),
        format,
        detail,
        dc_id: r.dc_id,
        address,
        address_from,
        test_mode: r.test_mode,
        key_id: tgsess_store::write::key_id_hex(&r.auth_key),
        user_id: r.user_id,
        bot: r.bot,
        api_id: r.api_id,
        in_use: path
            .as_deref()
            .filter(|p| p.is_file())
            .map(in_use)
            .unwrap_or_default(),
        accounts,
    })
}

/// The source read: what it is, what it holds, its file, and for tdata every account.
async fn read(args: &Args) -> Result<(&'static str, Record, Option<PathBuf>, Vec<TdataAccount>)> {
    let tdata = &crate::sources::TdataOpts {
        key_name: args.tdata_key.clone(),
        passcode_stdin: args.passcode_stdin,
        account: None,
    };
    let path = Path::new(&args.source);
    if !tgsess_store::tdata::looks_like(path) {
        let (f, r, p) = crate::sources::read(&args.source, args.format.into(), tdata).await?;
        return Ok((f, r, p, Vec::new()));
    }
    let (r, td) = crate::sources::read_tdata(path, tdata).await?;
    let accounts = td
        .accounts
        .iter()
        .map(|a| TdataAccount {
            index: a.index,
            user_id: a.user_id,
            dc_id: a.dc_id,
            key_id: tgsess_store::write::key_id_hex(&a.key),
            active: td.active == Some(a.index),
        })
        .collect();
    Ok(("tdata", r, Some(td.dir), accounts))
}

fn print(r: &Inspected, settings: &crate::settings::Settings) {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "not recorded".into());
    let detail = r.detail.as_deref().map(|d| format!(" ({d})"));
    output::out(format!("Source:    {}", r.source));
    output::out(format!(
        "  format:  {}{}",
        r.format,
        detail.unwrap_or_default()
    ));
    let table = match r.address_from {
        Some("table") => {
            " (from Telegram's DC table as grammers-session 0.11 lists it: the source stores \
             no address)"
        }
        _ => "",
    };
    output::out(format!(
        "  DC:      {} at {}{table}",
        r.dc_id,
        r.address.as_deref().unwrap_or("an unknown address")
    ));
    output::out(format!(
        "  test DCs: {}",
        opt(r.test_mode.map(|t| t.to_string()))
    ));
    output::out(format!(
        "  key id:  {} (the key itself is never shown)",
        r.key_id
    ));
    let user = match (r.user_id, r.bot) {
        (Some(id), Some(true)) => format!("bot {id}"),
        (Some(id), _) => format!("user {id}"),
        _ => "not recorded (only Telegram can tell who is signed in)".into(),
    };
    output::out(format!("  user:    {user}"));
    output::out(format!(
        "  api_id:  {}",
        opt(r.api_id.map(|a| a.to_string()))
    ));
    print_accounts_and_use(r, settings);
}

/// Each tdata account, and the signs that a program uses the source.
fn print_accounts_and_use(r: &Inspected, settings: &crate::settings::Settings) {
    for a in &r.accounts {
        output::out(format!(
            "  account {}: user {}, DC {}, key id {}{}",
            a.index,
            a.user_id,
            a.dc_id,
            a.key_id,
            if a.active { " (active)" } else { "" }
        ));
    }
    for hint in &r.in_use {
        let source = std::path::absolute(&r.source).unwrap_or_else(|_| r.source.clone().into());
        output::warn(format!(
            "in use: {hint}; a copy of this key used elsewhere at the same time ends in \
             AUTH_KEY_DUPLICATED (`{}` makes an independent session instead, with a key of its \
             own)",
            settings.command(&format!("import --as-new {}", shell_quote(&source)))
        ));
    }
}
