//! `tgsess export`: the tgsess session in Telethon's or Pyrogram's format.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::ExportFormat;
use crate::error::{Error, Exit, Result};
use crate::formats::{Format, strings, write};
use crate::output;
use crate::session_file::{self, Presence};
use crate::settings::Settings;

fn write_new_text(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    write::create_new(path)?
        .write_all(format!("{text}\n").as_bytes())
        .map_err(|e| Error::file(format!("cannot write {}: {e}", path.display())))
}

pub async fn run(
    settings: &Settings,
    format: ExportFormat,
    output: Option<PathBuf>,
) -> Result<Exit> {
    let path = &settings.session.path;
    match session_file::examine(path).await? {
        Presence::Missing => {
            return Err(Error::NotSignedIn(format!(
                "no session at {}: nothing to export",
                path.display()
            )));
        }
        Presence::File(i, _) if i.format != Format::Tgsess => {
            return Err(session_file::wrong_format_error(path, &i));
        }
        Presence::File(..) => {}
    }
    let mut p = write::portable_of_tgsess(path).await?;
    p.api_id = settings.api_id.as_ref().map(|a| a.value);
    let to_stdout = output.as_deref().is_some_and(|o| o.as_os_str() == "-");
    let text = match format {
        ExportFormat::TelethonString => Some(strings::encode_telethon(&p).map_err(Error::usage)?),
        ExportFormat::PyrogramString => Some(strings::encode_pyrogram(&p).map_err(Error::usage)?),
        ExportFormat::Telethon | ExportFormat::Pyrogram => None,
    };
    let Some(text) = text else {
        let Some(out) = output.filter(|_| !to_stdout) else {
            return Err(Error::usage(
                "this format is an SQLite file: give --output PATH (a new file)",
            ));
        };
        if format == ExportFormat::Telethon {
            write::telethon_sqlite(&out, &p).await?;
        } else {
            write::pyrogram_sqlite(&out, &p).await?;
        }
        output::out(format!(
            "Wrote {} (0600). It holds the same login key: do not use both files at once \
             (Telegram ends keys used from two places, AUTH_KEY_DUPLICATED).",
            out.display()
        ));
        return Ok(Exit::Ok);
    };
    match output {
        Some(out) if !to_stdout => {
            write_new_text(&out, &text)?;
            output::out(format!("Wrote {} (0600).", out.display()));
        }
        None if std::io::stdout().is_terminal() => {
            return Err(Error::usage(
                "refusing to print a session string on the terminal: it is a full login \
                 credential. Use --output FILE, or --output - to print it anyway",
            ));
        }
        _ => {
            output::warn("this string is a full login credential: keep it secret");
            output::out(text);
        }
    }
    Ok(Exit::Ok)
}
