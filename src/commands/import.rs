//! `tgsess import`: reuse a Telethon or Pyrogram key instead of requesting a login code.
//! The source is only ever read (SQLite opened read-only); the destination is the
//! resolved tgsess session, written under its lock.

use std::path::Path;

use crate::env::Env;
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::files;
use tgsess_store::{Record, SessionFormat, write};

// `tgsess import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A session file, a session string, or - to read it from stdin (a string given as an
    /// argument is visible to other users in `ps`: prefer -)
    pub(crate) source: String,
    /// What SOURCE is; auto decides by content
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) format: ImportFormat,
    /// The DC's address (Pyrogram stores none; tgsess uses Telegram's table otherwise)
    #[arg(long, value_name = "IP:PORT")]
    pub(crate) dc_address: Option<std::net::SocketAddr>,
    /// Replace an existing session that holds a key (it is kept as a .bak file)
    #[arg(long)]
    pub(crate) force: bool,
    /// Do not copy SOURCE's key: have SOURCE approve a new, independent session (as
    /// `login --approve-with SOURCE`), so the two never share a key
    #[arg(long, conflicts_with_all = ["force", "dc_address"])]
    pub(crate) as_new: bool,
    /// For a Telegram Desktop tdata SOURCE: its -key data name (default: data)
    #[arg(long, value_name = "NAME")]
    pub(crate) tdata_key: Option<String>,
    /// For a tdata SOURCE: read its local passcode from stdin (otherwise asked on a terminal)
    #[arg(long)]
    pub(crate) passcode_stdin: bool,
    /// For a tdata SOURCE: which of its accounts (Desktop's index; default: the active one)
    #[arg(long, value_name = "N")]
    pub(crate) account: Option<i32>,
}

/// Source formats of `tgsess import`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ImportFormat {
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

pub(crate) async fn run(settings: &Settings, env: &dyn Env, args: &Args) -> Result<Exit> {
    if args.as_new {
        // The same operation as `login --approve-with SOURCE`, spelled where users look.
        return crate::commands::login::approve(settings, env, &args.source).await;
    }
    let tdata = crate::sources::TdataOpts {
        key_name: args.tdata_key.clone(),
        passcode_stdin: args.passcode_stdin,
        account: args.account,
    };
    let (source_format, record, source_path) =
        crate::sources::read(&args.source, args.format.into(), &tdata).await?;
    let target = Target::open(settings).await?;
    refuse_self_import(&target, source_path.as_deref())?;
    let format = destination_format(settings, &target, args)?;
    let record = completed(settings, args, format, record).await?;
    let _lock = target.lock()?;
    let backup = target.backup_if_needed()?;
    if target.damaged() {
        write::save_fresh(&target.path, format, &record).await?;
    } else {
        write::save(&target.path, format, &record).await?;
    }
    target.remember_api_id(format, record.api_id);
    say_imported(&target.path, source_format, format, &record, args);
    if let Some(b) = backup {
        output::out(format!("The previous session was kept as {}.", b.shown()));
    }
    if source_format == "tdata" {
        tdata_note(settings, args);
    } else if let Some(src) = &source_path {
        live_source_note(settings, src);
    }
    output::out(format!(
        "No login code was requested. `{}` asks Telegram whether the key is signed in.",
        settings.command("check")
    ));
    Ok(Exit::Ok)
}

/// The source is the session path itself: nothing to import.
fn refuse_self_import(target: &Target, source: Option<&std::path::Path>) -> Result<()> {
    let same = |src: &std::path::Path| {
        std::fs::canonicalize(src).ok() == std::fs::canonicalize(&target.path).ok()
    };
    match source {
        Some(src) if target.exists() && same(src) => Err(Error::file(format!(
            "the source {} is the session path itself: it is already the session tgsess \
             manages (declare its format with session_format to use it in place); nothing was \
             written",
            target.path.shown()
        ))),
        _ => Ok(()),
    }
}

/// The format the destination is written in; a key already there is replaced only with
/// --force (a damaged file too).
fn destination_format(settings: &Settings, target: &Target, args: &Args) -> Result<SessionFormat> {
    if args.force {
        return target.write_format_forced(settings, "write");
    }
    let format = target.write_format(settings, "write")?;
    match target.inspection() {
        Some(i) if i.has_auth_key() => Err(Error::file(format!(
            "the destination {} already holds a login key{}; importing would replace it. `{}` \
             replaces it and keeps a backup of the old file",
            target.path.shown(),
            i.user_id
                .map(|id| format!(" (signed in as user {id})"))
                .unwrap_or_default(),
            settings.command(&format!("import --force {}", quoted_source(args)))
        ))),
        _ => Ok(format),
    }
}

/// The record as the destination's format needs it: the DC's address, the api_id, and for
/// a Pyrogram file the user id (asked of Telegram when the source has none).
async fn completed(
    settings: &Settings,
    args: &Args,
    format: SessionFormat,
    mut record: Record,
) -> Result<Record> {
    // Only import has --dc-address: its advice is given here, not where the address is
    // looked up for every command.
    let with_flag =
        |e: tgsess_store::Error| Error::usage(format!("{e}; give it with --dc-address IP:PORT"));
    if let Some(a) = args.dc_address {
        write::import_address(&record, Some(a))?;
        record.address = Some(a);
    } else if format == SessionFormat::Grammers {
        write::import_address(&record, None).map_err(with_flag)?;
    }
    if record.api_id.is_none() {
        record.api_id = settings.api_id.as_ref().map(|a| a.value);
    }
    if format == SessionFormat::Pyrogram {
        let (api_id, _) = settings.api_credentials()?;
        record = settings.network().with_user_id(record, api_id).await?;
    }
    Ok(record)
}

/// What was imported where; for an IPv6 source, which address tgsess connects to.
fn say_imported(
    dest: &std::path::Path,
    source_format: &str,
    format: SessionFormat,
    record: &Record,
    args: &Args,
) {
    let who = match (record.user_id, record.bot) {
        (Some(id), Some(true)) => format!(", bot {id}"),
        (Some(id), _) => format!(", user {id}"),
        _ => String::new(),
    };
    output::out(format!(
        "Imported a {source_format} session into {} ({} format): DC {}, key id {}{who}.",
        dest.shown(),
        format.name(),
        record.dc_id,
        write::key_id_hex(&record.auth_key),
    ));
    if let (None, Some(std::net::SocketAddr::V6(v6))) = (args.dc_address, record.address) {
        let v4 = write::import_address(record, None)
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "no known address".into());
        output::out(format!(
            "The source gives DC {dc} an IPv6 address ({v6}), kept as the DC's IPv6 address; \
             tgsess connects over IPv4, to {v4} for DC {dc} from Telegram's DC table \
             (--dc-address IP:PORT names another).",
            dc = record.dc_id
        ));
    }
}

/// Desktop keeps using the key it shares with the import.
fn tdata_note(settings: &Settings, args: &Args) {
    output::warn(format!(
        "Telegram Desktop still uses this key. Using both at once from different addresses \
         ends in AUTH_KEY_DUPLICATED. For an independent session with a key of its own, \
         approved by Desktop's, no code needed: `{} && {}`",
        settings.command("reset --yes"),
        settings.command(&format!("import --as-new {}", quoted_source(args)))
    ));
}

/// The source as the user gave it, made absolute and quoted for a shell (`-` for stdin),
/// with the options that pick a tdata account.
fn quoted_source(args: &Args) -> String {
    let mut words = Vec::new();
    if let Some(k) = &args.tdata_key {
        words.push(format!("--tdata-key {}", crate::output::shell_quote_str(k)));
    }
    if let Some(a) = args.account {
        words.push(format!("--account {a}"));
    }
    if args.passcode_stdin {
        words.push("--passcode-stdin".into());
    }
    words.push(if args.source == "-" {
        "-".into()
    } else {
        let p = Path::new(&args.source);
        crate::output::shell_quote(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
    });
    words.join(" ")
}

/// The source file looks alive (a program has it open, or has an unfinished write): using one
/// key from two places ends in AUTH_KEY_DUPLICATED.
fn live_source_note(settings: &Settings, src: &Path) {
    let holder = files::holders(src).into_iter().next();
    let side = files::unfinished_write(src);
    if holder.is_none() && side.is_none() {
        return;
    }
    let why = match (holder, side) {
        (Some((pid, cmd)), _) => format!("pid {pid} ({cmd}) has it open"),
        (None, Some(s)) => format!("{} is present", s.shown()),
        (None, None) => unreachable!("checked above"),
    };
    output::warn(format!(
        "the source {} looks in use ({why}). Both now hold the same key: do not run both at \
         once, or Telegram ends the key (AUTH_KEY_DUPLICATED). For an independent session with \
         a key of its own, approved by the source, no code needed (reset only forgets the copy \
         here; the source's key stays valid): `{} && {}`",
        src.shown(),
        settings.command("reset --yes"),
        settings.command(&format!(
            "import --as-new {}",
            crate::output::shell_quote(src)
        ))
    ));
}
