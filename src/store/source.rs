//! Reading a session from anywhere `import` and `login --approve-with` take it: a file in
//! any format (SQLite opened read-only), a session string, or `-` for stdin. Nothing is
//! ever written, to the source or beside it.

use std::io::Read;
use std::path::Path;

use super::{Format, Record, SQLITE_MAGIC, strings, write};
use crate::cli::ImportFormat;
use crate::error::{Error, Result};
use crate::output;
use crate::output::Shown;

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

/// A session string from stdin: at most [`MAX_TEXT`] bytes, read whole or refused, never
/// cut silently.
fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_TEXT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::usage(format!("cannot read the session from stdin: {e}")))?;
    if bytes.len() as u64 > MAX_TEXT {
        return Err(Error::usage(format!(
            "stdin holds more than {} (tgsess reads at most that much, and a session string \
             is under 1 KiB): pipe in only the string; nothing was written",
            tgsess_shared::fs::size_words(MAX_TEXT)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::usage("stdin is not text: pipe in a session string; nothing was written")
    })?;
    if text.trim().is_empty() {
        return Err(Error::usage(
            "stdin is empty: pipe in a session string (- reads it from stdin); nothing was \
             written",
        ));
    }
    Ok(text)
}

/// How a Telegram Desktop tdata source is read.
#[derive(Clone, Debug, Default)]
pub struct TdataOpts {
    /// Desktop's `-key NAME` (default `data`).
    pub key_name: Option<String>,
    /// Read the local passcode from stdin instead of asking on the terminal.
    pub passcode_stdin: bool,
    /// Desktop's account index; by default the active one, or the only one.
    pub account: Option<i32>,
}

/// Reads one account of the tdata at `path` (the tdata directory or its parent): the
/// passcode from stdin, or asked on a terminal (3 tries) when the empty one does not open it.
pub async fn read_tdata(path: &Path, o: &TdataOpts) -> Result<(Record, super::tdata::Tdata)> {
    use super::tdata::{self, TdataError};
    let dir = tdata::locate(path).ok_or_else(|| {
        Error::usage(tdata::TdataError::NoKeyData(path.to_path_buf()).to_string())
    })?;
    let key_name = o.key_name.clone().unwrap_or_else(|| "data".into());
    let read = |pass: Vec<u8>| {
        let (dir, key_name) = (dir.clone(), key_name.clone());
        // PBKDF2 with 100000 rounds: off the async thread.
        tokio::task::spawn_blocking(move || tdata::read(&dir, &key_name, &pass))
    };
    let join = |e: tokio::task::JoinError| Error::usage(format!("reading tdata failed: {e}"));
    let fail = |e: TdataError| match e {
        TdataError::WrongPasscode => Error::usage(format!(
            "{}: the local passcode is wrong; nothing was written",
            dir.shown()
        )),
        e => Error::usage(format!("{}: {e}; nothing was written", dir.shown())),
    };
    let mut result = if o.passcode_stdin {
        let mut line = String::new();
        std::io::stdin()
            .take(4096)
            .read_to_string(&mut line)
            .map_err(|e| Error::usage(format!("cannot read the passcode from stdin: {e}")))?;
        let pass = line.trim_end_matches(['\n', '\r']).as_bytes().to_vec();
        read(pass).await.map_err(join)?
    } else {
        read(Vec::new()).await.map_err(join)?
    };
    if matches!(result, Err(TdataError::WrongPasscode)) && !o.passcode_stdin {
        if !output::interactive() {
            return Err(Error::usage(format!(
                "{} has a local passcode; give it with --passcode-stdin, or run on a terminal \
                 to be asked",
                dir.shown()
            )));
        }
        for attempt in 1..=3 {
            let Some(p) = crate::prompt::hidden("Telegram Desktop local passcode: ").await? else {
                return Err(Error::usage("no passcode entered; nothing was written"));
            };
            result = read(p.expose().as_bytes().to_vec()).await.map_err(join)?;
            match &result {
                Err(TdataError::WrongPasscode) if attempt < 3 => {
                    output::warn(format!("wrong passcode; {} of 3 tries left", 3 - attempt))
                }
                _ => break,
            }
        }
    }
    let td = result.map_err(fail)?;
    let wanted = o
        .account
        .or(td.active)
        .or_else(|| (td.accounts.len() == 1).then(|| td.accounts[0].index));
    let list = || {
        td.accounts
            .iter()
            .map(|a| format!("account {}: user {}, DC {}", a.index, a.user_id, a.dc_id))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let index = match wanted {
        Some(i) => i,
        None if output::interactive() => {
            output::out(format!(
                "{} holds {} accounts: {}",
                dir.shown(),
                td.accounts.len(),
                list()
            ));
            let answer = crate::prompt::line("Which account (its number)? ").await?;
            answer
                .and_then(|a| a.trim().parse::<i32>().ok())
                .ok_or_else(|| Error::usage("no account chosen; nothing was written"))?
        }
        None => {
            return Err(Error::usage(format!(
                "{} holds {} accounts ({}); pick one with --account N",
                dir.shown(),
                td.accounts.len(),
                list()
            )));
        }
    };
    let a = td
        .accounts
        .iter()
        .find(|a| a.index == index)
        .ok_or_else(|| {
            Error::usage(format!(
                "{} has no account {index}; it holds {}",
                dir.shown(),
                list()
            ))
        })?;
    let record = Record {
        dc_id: a.dc_id,
        auth_key: a.key.clone(),
        user_id: Some(a.user_id),
        bot: Some(false),
        test_mode: Some(false),
        ..Record::default()
    };
    Ok((record, td))
}

/// Reads a session from `source` (a file of any format, a tdata directory, a string, or `-`
/// for stdin) without changing anything: (format name, record, the file when it was one).
pub async fn read(
    source: &str,
    format: ImportFormat,
) -> Result<(&'static str, Record, Option<std::path::PathBuf>)> {
    read_with(source, format, &TdataOpts::default()).await
}

/// [`read`], with how to read a tdata source.
pub async fn read_with(
    source: &str,
    format: ImportFormat,
    tdata_opts: &TdataOpts,
) -> Result<(&'static str, Record, Option<std::path::PathBuf>)> {
    if source != "-" && super::tdata::looks_like(Path::new(source)) {
        let (r, td) = read_tdata(Path::new(source), tdata_opts).await?;
        return Ok(("tdata", r, Some(td.dir)));
    }
    let args = Args { source, format };
    if args.source == "-" {
        let text = read_stdin()?;
        let (f, p) = parse_text(&text, args.format, "stdin")?;
        return Ok((f, p, None));
    }
    let path = Path::new(args.source);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) if !args.source.contains('/') && !args.source.ends_with(".session") => {
            output::warn(
                "the session string was given as an argument, where other users can see it \
                 in `ps`; next time give - as the source and pipe the string in on stdin",
            );
            let (f, p) = parse_text(args.source, args.format, "the string argument")?;
            return Ok((f, p, None));
        }
        Err(e) => {
            return Err(Error::usage(format!("cannot read {}: {e}", path.shown())));
        }
    };
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "{} is a directory, not a session. {}",
            path.shown(),
            super::tdata::TdataError::NoKeyData(path.to_path_buf())
        )));
    }
    let origin = path.shown().to_string();
    if !meta.is_file() {
        return Err(Error::usage(format!(
            "{origin} is {}, not a session file; nothing was written",
            tgsess_shared::fs::kind_of(&meta)
        )));
    }
    if meta.len() == 0 {
        return Err(Error::usage(format!(
            "{origin} is an empty file; nothing was written"
        )));
    }
    let mut head = [0u8; 16];
    let is_sqlite = tgsess_shared::fs::open_regular(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == SQLITE_MAGIC;
    if !is_sqlite {
        if meta.len() > MAX_TEXT {
            return Err(Error::usage(format!(
                "{origin} is neither an SQLite session nor a session string; nothing was written"
            )));
        }
        let bytes = tgsess_shared::fs::read_regular(path, MAX_TEXT)
            .map_err(|e| Error::usage(format!("cannot read {origin}: {e}")))?;
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
    if let Some(words) = super::files::damage_words(path, &i) {
        return Err(Error::file(format!(
            "{words}; tgsess reads nothing from it, and nothing was written"
        )));
    }
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
