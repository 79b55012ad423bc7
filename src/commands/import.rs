//! `tgsess import`: reuse a Telethon or Pyrogram key instead of requesting a login code.
//! The source is only ever read (SQLite opened read-only); the destination is the
//! resolved tgsess session, written under its lock.

use std::io::Read;
use std::path::Path;

use crate::cli::{ImportArgs, ImportFormat};
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::settings::Settings;
use crate::store::files;
use crate::store::strings;
use crate::store::{Format, Record, SQLITE_MAGIC, SessionFormat, Target, write};

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
) -> Result<(&'static str, Record, Option<std::path::PathBuf>)> {
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

pub async fn run(settings: &Settings, args: &ImportArgs) -> Result<Exit> {
    let (source_format, mut record, source_path) = read_source(args).await?;
    let target = Target::open(settings).await?;
    let dest = target.path.clone();
    if let Some(src) = &source_path
        && target.exists()
        && std::fs::canonicalize(src).ok() == std::fs::canonicalize(&dest).ok()
    {
        return Err(Error::file(format!(
            "the source {} is the session path itself: it is already the session tgsess \
             manages (declare its format with session_format to use it in place); nothing \
             was written",
            dest.display()
        )));
    }
    let format = target.write_format(settings, "write")?;
    if let Some(i) = target.inspection()
        && i.has_auth_key()
        && !args.force
    {
        return Err(Error::file(format!(
            "the destination {} already holds a login key{}; importing would replace it. \
             `{}` replaces it and keeps a backup of the old file",
            dest.display(),
            match i.user_id {
                Some(id) => format!(" (signed in as user {id})"),
                None => String::new(),
            },
            settings.command(&format!("import --force {}", quoted_source(args)))
        )));
    }
    if let Some(a) = args.dc_address {
        write::import_address(&record, Some(a))?;
        record.address = Some(a);
    } else if format == SessionFormat::Grammers {
        write::import_address(&record, None)?;
    }
    if record.api_id.is_none() {
        record.api_id = settings.api_id.as_ref().map(|a| a.value);
    }
    if format == SessionFormat::Pyrogram {
        record = crate::net::with_user_id(settings, record).await?;
    }
    let _lock = target.lock()?;
    let backup = match target.inspection() {
        Some(i) if i.has_auth_key() => Some(write::backup(&dest)?),
        _ => None,
    };
    write::save(&dest, format, &record).await?;
    output::out(format!(
        "Imported a {source_format} session into {} ({} format): DC {}, key id {}{}.",
        dest.display(),
        format.name(),
        record.dc_id,
        write::key_id_hex(&record.auth_key),
        match (record.user_id, record.bot) {
            (Some(id), Some(true)) => format!(", bot {id}"),
            (Some(id), _) => format!(", user {id}"),
            _ => String::new(),
        }
    ));
    if let Some(b) = backup {
        output::out(format!("The previous session was kept as {}.", b.display()));
    }
    if let Some(src) = &source_path {
        live_source_note(src);
    }
    output::out(format!(
        "No login code was requested. `{}` asks Telegram whether the key is signed in.",
        settings.command("check")
    ));
    Ok(Exit::Ok)
}

/// The source as the user gave it, quoted for a shell (`-` for stdin).
fn quoted_source(args: &ImportArgs) -> String {
    if args.source == "-" {
        "-".into()
    } else {
        let p = Path::new(&args.source);
        files::shell_quote(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
    }
}

/// The source file looks alive (a program has it open, or has an unfinished write): using one
/// key from two places ends in AUTH_KEY_DUPLICATED.
fn live_source_note(src: &Path) {
    let holder = files::holders(src).into_iter().next();
    let side = files::unfinished_write(src);
    if holder.is_none() && side.is_none() {
        return;
    }
    let why = match (holder, side) {
        (Some((pid, cmd)), _) => format!("pid {pid} ({cmd}) has it open"),
        (None, Some(s)) => format!("{} is present", s.display()),
        (None, None) => unreachable!("checked above"),
    };
    output::warn(format!(
        "the source {} looks in use ({why}). Both now hold the same key: do not run both at \
         once, or Telegram ends the key (AUTH_KEY_DUPLICATED)",
        src.display()
    ));
}
