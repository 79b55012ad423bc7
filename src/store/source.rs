//! Reading a session from anywhere `import` and `login --approve-with` take it: a file in
//! any format (SQLite opened read-only), a session string, or `-` for stdin. Nothing is
//! ever written, to the source or beside it.

use std::io::Read;
use std::path::Path;

use super::{Format, Record, SQLITE_MAGIC, strings, write};
use crate::cli::ImportFormat;
use crate::error::{Error, Result};
use crate::output;

struct Args<'a> {
    source: &'a str,
    format: ImportFormat,
}

/// Text sources larger than this are not session strings.
const MAX_TEXT: u64 = 64 * 1024;

fn parse_text(text: &str, format: ImportFormat, origin: &str) -> Result<(&'static str, Record)> {
    let bad = |e: String| Error::usage(format!("{origin}: {e}; nothing was written"));
    match format {
        ImportFormat::TelethonString => strings::parse_telethon(text)
            .map(|p| ("telethon-string", p))
            .map_err(bad),
        ImportFormat::PyrogramString => strings::parse_pyrogram(text)
            .map(|p| ("pyrogram-string", p))
            .map_err(bad),
        ImportFormat::GramjsString => super::js_strings::parse_gramjs(text)
            .map(|p| ("gramjs-string", p))
            .map_err(bad),
        ImportFormat::MtcuteString => super::js_strings::parse_mtcute(text)
            .map(|p| ("mtcute-string", p))
            .map_err(bad),
        ImportFormat::MtkrutoString => super::js_strings::parse_mtkruto(text)
            .map(|p| ("mtkruto-string", p))
            .map_err(bad),
        ImportFormat::Auto => strings::detect(text).map_err(bad),
        ImportFormat::Telethon | ImportFormat::Pyrogram => Err(bad(format!(
            "--format {} expects an SQLite session file, but this is text",
            if format == ImportFormat::Telethon {
                "telethon"
            } else {
                "pyrogram"
            }
        ))),
    }
}

/// Reads a session from `source` (a file of any format, a string, or `-` for stdin) without
/// changing anything: (format name, record, the file when it was one).
pub async fn read(
    source: &str,
    format: ImportFormat,
) -> Result<(&'static str, Record, Option<std::path::PathBuf>)> {
    let args = Args { source, format };
    if args.source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_TEXT)
            .read_to_string(&mut text)
            .map_err(|e| Error::usage(format!("cannot read the session from stdin: {e}")))?;
        let (f, p) = parse_text(&text, args.format, "stdin")?;
        return Ok((f, p, None));
    }
    let path = Path::new(args.source);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if !args.source.contains('/') && !args.source.ends_with(".session") => {
            output::warn(
                "the session string was given as an argument, where other users can see it \
                 in `ps`; next time pipe it in with `tgsess import -`",
            );
            let (f, p) = parse_text(args.source, args.format, "the string argument")?;
            return Ok((f, p, None));
        }
        Err(e) => {
            return Err(Error::usage(format!("cannot read {}: {e}", path.display())));
        }
    };
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory, not a session",
            path.display()
        )));
    }
    let origin = path.display().to_string();
    if meta.len() == 0 {
        return Err(Error::usage(format!(
            "{origin} is an empty file; nothing was written"
        )));
    }
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == SQLITE_MAGIC;
    if !is_sqlite {
        if meta.len() > MAX_TEXT {
            return Err(Error::usage(format!(
                "{origin} is neither an SQLite session nor a session string; nothing was written"
            )));
        }
        let bytes =
            std::fs::read(path).map_err(|e| Error::usage(format!("cannot read {origin}: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::usage(format!(
                "{origin} is neither an SQLite session nor a session string (binary data); \
                 nothing was written"
            ))
        })?;
        let (f, p) = parse_text(&text, args.format, &origin)?;
        return Ok((f, p, Some(path.to_path_buf())));
    }
    let i = crate::store::sqlite::inspect(path).await;
    let wanted = match args.format {
        ImportFormat::Telethon => Some(Format::Telethon),
        ImportFormat::Pyrogram => Some(Format::Pyrogram),
        ImportFormat::Auto => None,
        _ => {
            return Err(Error::usage(format!(
                "--format expects a string, but {origin} is an SQLite file ({}); nothing was \
                 written",
                i.detail
            )));
        }
    };
    match i.format {
        Format::Tgsess if wanted.is_none() => {
            let p = write::record_of_grammers(path).await?.ok_or_else(|| {
                Error::usage(format!(
                    "{origin}: this grammers session holds no key for its home DC; nothing \
                     to import, nothing was written"
                ))
            })?;
            Ok(("grammers", p, Some(path.to_path_buf())))
        }
        Format::NotASession => Err(Error::usage(format!(
            "{origin} is not a session tgsess can import: it is {}; nothing was written",
            i.detail
        ))),
        f if wanted.is_some_and(|w| w != f) => Err(Error::usage(format!(
            "{origin} is a {}, not what --format says; nothing was written",
            f.describe()
        ))),
        f => {
            let p = i.record().ok_or_else(|| {
                Error::usage(format!(
                    "{origin}: it holds no auth key (empty sessions row): nothing to import; \
                     nothing was written"
                ))
            })?;
            if !(1..=5).contains(&p.dc_id) {
                return Err(Error::usage(format!(
                    "{origin}: its DC id {} is out of range (Telegram's DCs are 1 to 5); \
                     nothing was written",
                    p.dc_id
                )));
            }
            Ok((
                if f == Format::Telethon {
                    "telethon"
                } else {
                    "pyrogram"
                },
                p,
                Some(path.to_path_buf()),
            ))
        }
    }
}
