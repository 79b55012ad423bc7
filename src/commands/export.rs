//! `tgsess export`: the tgsess session in Telethon's or Pyrogram's format.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::session::Target;
use crate::settings::Settings;
use tgsess_store::{Record, SessionFormat, strings, write};

// `tgsess export`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The format to write
    #[arg(long, value_enum)]
    pub(crate) format: ExportFormat,
    /// Where to write: a new file (never overwritten) or - for stdout
    #[arg(long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
}

/// Target formats of `tgsess export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    TelethonString,
    Telethon,
    PyrogramString,
    Pyrogram,
    GramjsString,
    MtcuteString,
}

/// A new text file (0600), never over an existing one; removed again if the write fails.
fn write_new_text(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = tgsess_shared::fs::create_exclusive(path).map_err(|e| {
        Error::file(format!(
            "cannot create {}: {e}; tgsess never overwrites a file on export: choose another \
             --output",
            path.shown()
        ))
    })?;
    let r = f
        .write_all(format!("{text}\n").as_bytes())
        .and_then(|()| f.sync_all());
    if let Err(e) = r {
        let _ = std::fs::remove_file(path);
        return Err(Error::file(format!("cannot write {}: {e}", path.shown())));
    }
    Ok(())
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let target = Target::open(settings).await?;
    target.read_format(settings)?;
    let Some(record) = target.record().await? else {
        return Err(Error::NotSignedIn(format!(
            "{} holds no login key: nothing to export",
            target.path.shown()
        )));
    };
    let record = for_export(settings, args.format, record).await?;
    let to_stdout = args.output.as_deref().is_some_and(|o| o.as_os_str() == "-");
    match (string_of(args.format, &record)?, &args.output) {
        (None, Some(out)) if !to_stdout => write_file(args.format, out, &record).await,
        (None, _) => Err(Error::usage(
            "this format is an SQLite file: give --output PATH (a new file)",
        )),
        (Some(text), Some(out)) if !to_stdout => {
            write_new_text(out, &text)?;
            output::out(format!("Wrote {} (0600).", out.shown()));
            Ok(Exit::Ok)
        }
        (Some(_), None) if std::io::stdout().is_terminal() => Err(Error::usage(
            "refusing to print a session string on the terminal: it is a full login \
             credential. Use --output FILE, or --output - to print it anyway",
        )),
        (Some(text), _) => {
            output::warn("this string is a full login credential: keep it secret");
            output::out(text);
            Ok(Exit::Ok)
        }
    }
}

/// The record as the export format needs it: the api_id; for Pyrogram the user id (asked
/// of Telegram when the session has none), with a word on the address it cannot keep; for
/// a sandbox session the sandbox's address, whatever the file stores.
async fn for_export(settings: &Settings, format: ExportFormat, mut p: Record) -> Result<Record> {
    if p.api_id.is_none() {
        p.api_id = settings.api_id.as_ref().map(|a| a.value);
    }
    if matches!(
        format,
        ExportFormat::Pyrogram | ExportFormat::PyrogramString
    ) {
        let (api_id, _) = settings.api_credentials()?;
        p = settings.network().with_user_id(p, api_id).await?;
        pyrogram_address_note(&p);
    } else if let Some(dir) = &settings.sandbox_dir {
        // Pyrogram stores no address, and the table's would be Telegram's.
        p.address = Some(crate::net::sandbox_address(dir)?);
    }
    Ok(p)
}

/// Pyrogram stores no address: one the session has that is not the table's is lost.
fn pyrogram_address_note(p: &Record) {
    let table = tgsess_store::known_dc_address(p.dc_id, p.test_mode == Some(true));
    if let Some(a) = p.address.filter(|a| Some(*a) != table && !a.is_ipv6()) {
        output::warn(format!(
            "Pyrogram stores no address: the session's {a} is lost in this export, and Pyrogram \
             will connect to {} for DC {} instead",
            table
                .map(|t| t.to_string())
                .unwrap_or_else(|| "no known address".into()),
            p.dc_id
        ));
    }
}

/// The string for a string format; `None` for a file format.
fn string_of(format: ExportFormat, p: &Record) -> Result<Option<String>> {
    use tgsess_store::js_strings;
    let text = match format {
        ExportFormat::TelethonString => strings::encode_telethon(p),
        ExportFormat::PyrogramString => strings::encode_pyrogram(p),
        ExportFormat::GramjsString => js_strings::encode_gramjs(p),
        ExportFormat::MtcuteString => js_strings::encode_mtcute(p),
        ExportFormat::Telethon | ExportFormat::Pyrogram => return Ok(None),
    };
    text.map(Some).map_err(Error::usage)
}

/// A new Telethon or Pyrogram file, never over an existing one.
async fn write_file(format: ExportFormat, out: &std::path::Path, p: &Record) -> Result<Exit> {
    let as_format = match format {
        ExportFormat::Telethon => SessionFormat::Telethon,
        _ => SessionFormat::Pyrogram,
    };
    write::create(out, as_format, p).await?;
    output::out(format!(
        "Wrote {} (0600). It holds the same login key: do not use both files at once \
         (Telegram ends keys used from two places, AUTH_KEY_DUPLICATED).",
        out.shown()
    ));
    Ok(Exit::Ok)
}
