//! `tgsess import`: reuse a Telethon or Pyrogram key instead of requesting a login code.
//! The source is only ever read (SQLite opened read-only); the destination is the
//! resolved tgsess session, written under its lock.

use std::io::Read;
use std::path::Path;

use crate::cli::{ImportArgs, ImportFormat};
use crate::error::{Error, Exit, Result};
use crate::formats::strings::{self, Portable};
use crate::formats::{Format, SQLITE_MAGIC, write};
use crate::output;
use crate::session_file::{self, Presence, SessionLock};
use crate::settings::Settings;

/// Text sources larger than this are not session strings.
const MAX_TEXT: u64 = 64 * 1024;

fn parse_text(text: &str, format: ImportFormat, origin: &str) -> Result<(&'static str, Portable)> {
    let bad = |e: String| Error::usage(format!("{origin}: {e}; nothing was written"));
    match format {
        ImportFormat::TelethonString => strings::parse_telethon(text)
            .map(|p| ("telethon-string", p))
            .map_err(bad),
        ImportFormat::PyrogramString => strings::parse_pyrogram(text)
            .map(|p| ("pyrogram-string", p))
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

async fn read_source(
    args: &ImportArgs,
) -> Result<(&'static str, Portable, Option<std::path::PathBuf>)> {
    if args.source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_TEXT)
            .read_to_string(&mut text)
            .map_err(|e| Error::usage(format!("cannot read the session from stdin: {e}")))?;
        let (f, p) = parse_text(&text, args.format, "stdin")?;
        return Ok((f, p, None));
    }
    let path = Path::new(&args.source);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if !args.source.contains('/') && !args.source.ends_with(".session") => {
            output::warn(
                "the session string was given as an argument, where other users can see it \
                 in `ps`; next time pipe it in with `tgsess import -`",
            );
            let (f, p) = parse_text(&args.source, args.format, "the string argument")?;
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
    let i = crate::formats::sqlite::inspect(path).await;
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
        Format::Tgsess => Err(Error::usage(format!(
            "{origin} is already a tgsess session; use it directly with --session {} \
             (nothing to convert)",
            session_file::shell_quote(path)
        ))),
        Format::NotASession => Err(Error::usage(format!(
            "{origin} is not a session tgsess can import: it is {}; nothing was written",
            i.detail
        ))),
        f if wanted.is_some_and(|w| w != f) => Err(Error::usage(format!(
            "{origin} is a {}, not what --format says; nothing was written",
            f.describe()
        ))),
        f => {
            let p = write::portable_of(&i)
                .map_err(|e| Error::usage(format!("{origin}: {e}; nothing was written")))?;
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

pub async fn run(settings: &Settings, args: &ImportArgs) -> Result<Exit> {
    let dest = settings.session.path.clone();
    let (format, portable, source_path) = read_source(args).await?;
    if let Some(src) = &source_path {
        let same =
            std::fs::canonicalize(src).ok() == std::fs::canonicalize(&dest).ok() && dest.exists();
        if same {
            return Err(Error::file(format!(
                "the source {} is the session path itself; tgsess never writes a foreign file. \
                 Import it into another session: --session NEW.session, or move it aside first",
                dest.display()
            )));
        }
    }
    match session_file::examine(&dest).await? {
        Presence::Missing => {}
        Presence::File(i, _) if i.format != Format::Tgsess => {
            return Err(Error::file(format!(
                "the destination {} is a {} ({}); tgsess never overwrites it. Choose another \
                 destination with --session",
                dest.display(),
                i.format.describe(),
                i.detail
            )));
        }
        Presence::File(i, _) if i.has_auth_key() && !args.force => {
            return Err(Error::file(format!(
                "the destination {} already holds a login key{}; importing would replace it. \
                 Use --force to replace it (the old file is kept as a .bak)",
                dest.display(),
                match i.user_id {
                    Some(id) => format!(" (signed in as user {id})"),
                    None => String::new(),
                }
            )));
        }
        Presence::File(..) => {}
    }
    let address = write::import_address(&portable, args.dc_address)?;
    if let Some(dir) = dest.parent() {
        session_file::ensure_dir(dir)?;
    }
    let _lock = SessionLock::acquire(&dest)?;
    let backup = write::tgsess(&dest, &portable, address).await?;
    output::out(format!(
        "Imported a {format} session into {}: DC {} at {address}, key id {}{}.",
        dest.display(),
        portable.dc_id,
        write::key_id_hex(&portable.auth_key),
        match (portable.user_id, portable.bot) {
            (Some(id), Some(true)) => format!(", signed in as bot {id}"),
            (Some(id), _) => format!(", signed in as user {id}"),
            _ => String::new(),
        }
    ));
    if let Some(b) = backup {
        output::out(format!("The previous session was kept as {}.", b.display()));
    }
    output::out(
        "No login code was requested. `tgsess check` asks Telegram whether the key is signed in.",
    );
    Ok(Exit::Ok)
}
