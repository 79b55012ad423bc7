//! A session from anywhere `import`, `inspect` and `login --approve-with` take one: a file in
//! any format (SQLite opened read-only), a session string's text, or Telegram Desktop's
//! tdata. Nothing is ever written, to the source or beside it. Reading stdin and asking for a
//! tdata passcode or account are the caller's: this module only reads what it is given.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use tgsess_shared::text::Shown;

use crate::{Error, Record, Result, SQLITE_MAGIC, SessionFormat, strings, tdata, write};

/// What the user says a source is (`--format`); `Auto` decides by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    Auto,
    Telethon,
    TelethonString,
    Pyrogram,
    PyrogramString,
    GramjsString,
    MtcuteString,
    MtkrutoString,
}

impl SourceFormat {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Auto => "auto",
            SourceFormat::Telethon => "telethon",
            SourceFormat::TelethonString => "telethon-string",
            SourceFormat::Pyrogram => "pyrogram",
            SourceFormat::PyrogramString => "pyrogram-string",
            SourceFormat::GramjsString => "gramjs-string",
            SourceFormat::MtcuteString => "mtcute-string",
            SourceFormat::MtkrutoString => "mtkruto-string",
        }
    }
}

/// A session read from a source: what it was (`"telethon-string"`, `"pyrogram"`, …), what
/// it holds, and the file when it was one.
#[derive(Debug)]
pub struct Source {
    pub format: &'static str,
    pub record: Record,
    pub path: Option<PathBuf>,
}

/// Text sources larger than this are not session strings.
pub const MAX_TEXT: u64 = 64 * 1024;

/// A session string's text, from `origin` ("stdin", a file's name), in `format`.
pub fn parse_text(
    text: &str,
    format: SourceFormat,
    origin: &str,
) -> Result<(&'static str, Record)> {
    let bad = |e: String| Error::input(format!("{origin}: {e}; nothing was written"));
    let named = |name: &'static str, r: std::result::Result<Record, String>| {
        r.map(|p| (name, p)).map_err(bad)
    };
    match format {
        SourceFormat::TelethonString => named("telethon-string", strings::parse_telethon(text)),
        SourceFormat::PyrogramString => named("pyrogram-string", strings::parse_pyrogram(text)),
        SourceFormat::GramjsString => named("gramjs-string", crate::js_strings::parse_gramjs(text)),
        SourceFormat::MtcuteString => named("mtcute-string", crate::js_strings::parse_mtcute(text)),
        SourceFormat::MtkrutoString => {
            named("mtkruto-string", crate::js_strings::parse_mtkruto(text))
        }
        SourceFormat::Auto => strings::detect(text).map_err(bad),
        SourceFormat::Telethon | SourceFormat::Pyrogram => Err(bad(format!(
            "--format {} expects an SQLite session file, but this is text",
            format.name()
        ))),
    }
}

/// How reading one tdata account failed.
#[derive(Debug)]
pub enum TdataFailure {
    /// The passcode given does not open it (the empty one, when none was given).
    WrongPasscode(PathBuf),
    /// It holds several accounts, none recorded as active, and none was chosen.
    ChooseAccount(PathBuf, Vec<tdata::Account>),
    Other(Error),
}

/// One account of the tdata at `path` (the tdata directory or its parent), opened with
/// `passcode` (empty: none): `account`, else the active one, else the only one. PBKDF2 with
/// 100,000 rounds runs here: call it off an async thread.
pub fn read_tdata(
    path: &Path,
    key_name: &str,
    passcode: &[u8],
    account: Option<i32>,
) -> std::result::Result<(Record, tdata::Tdata), TdataFailure> {
    let input = |e: String| TdataFailure::Other(Error::input(e));
    let dir = tdata::locate(path)
        .ok_or_else(|| input(tdata::TdataError::NoKeyData(path.to_path_buf()).to_string()))?;
    let td = match tdata::read(&dir, key_name, passcode) {
        Ok(td) => td,
        Err(tdata::TdataError::WrongPasscode) => return Err(TdataFailure::WrongPasscode(dir)),
        Err(e) => return Err(input(format!("{}: {e}; nothing was written", dir.shown()))),
    };
    let wanted = account
        .or(td.active)
        .or_else(|| (td.accounts.len() == 1).then(|| td.accounts[0].index));
    let Some(index) = wanted else {
        return Err(TdataFailure::ChooseAccount(dir, td.accounts));
    };
    let a = td
        .accounts
        .iter()
        .find(|a| a.index == index)
        .ok_or_else(|| {
            input(format!(
                "{} has no account {index}; it holds {}",
                dir.shown(),
                tdata::list(&td.accounts)
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

/// A session from a file that exists at `path`: an SQLite session of any format, or a text
/// file holding a session string. Only read, never changed.
pub async fn read_file(path: &Path, format: SourceFormat) -> Result<Source> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::input(format!("cannot read {}: {e}", path.shown())))?;
    readable(path, &meta)?;
    let mut head = [0u8; 16];
    let is_sqlite = tgsess_shared::fs::open_regular(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == SQLITE_MAGIC;
    if is_sqlite {
        read_sqlite(path, format).await
    } else {
        read_text_file(path, meta.len(), format)
    }
}

/// A regular, non-empty file (a directory is told apart from tdata by the caller).
fn readable(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let origin = path.shown();
    if meta.is_dir() {
        return Err(Error::input(format!(
            "{origin} is a directory, not a session. {}",
            tdata::TdataError::NoKeyData(path.to_path_buf())
        )));
    }
    if !meta.is_file() {
        return Err(Error::input(format!(
            "{origin} is {}, not a session file; nothing was written",
            tgsess_shared::fs::kind_of(meta)
        )));
    }
    if meta.len() == 0 {
        return Err(Error::input(format!(
            "{origin} is an empty file; nothing was written"
        )));
    }
    Ok(())
}

/// A text file holding a session string.
fn read_text_file(path: &Path, len: u64, format: SourceFormat) -> Result<Source> {
    let origin = path.shown();
    let neither = |what: &str| {
        Error::input(format!(
            "{origin} is neither an SQLite session nor a session string{what}; nothing was \
             written"
        ))
    };
    if len > MAX_TEXT {
        return Err(neither(""));
    }
    let bytes = tgsess_shared::fs::read_regular(path, MAX_TEXT)
        .map_err(|e| Error::input(format!("cannot read {origin}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| neither(" (binary data)"))?;
    let (format, record) = parse_text(&text, format, &origin)?;
    Ok(Source {
        format,
        record,
        path: Some(path.to_path_buf()),
    })
}

/// An SQLite session file of any format, checked against `--format`.
async fn read_sqlite(path: &Path, format: SourceFormat) -> Result<Source> {
    let origin = path.shown();
    let i = crate::sqlite::inspect(path).await;
    let wanted = match format {
        SourceFormat::Telethon => Some(SessionFormat::Telethon),
        SourceFormat::Pyrogram => Some(SessionFormat::Pyrogram),
        SourceFormat::Auto => None,
        _ => {
            return Err(Error::input(format!(
                "--format expects a string, but {origin} is an SQLite file ({}); nothing was \
                 written",
                i.detail
            )));
        }
    };
    if let Some(words) = crate::files::damage_words(path, &i) {
        return Err(Error::file(format!(
            "{words}; tgsess reads nothing from it, and nothing was written"
        )));
    }
    let record = match (i.format, wanted) {
        (None, _) => Err(Error::input(format!(
            "{origin} is not a session tgsess can import: it is {}; nothing was written",
            i.detail
        ))),
        (Some(f), Some(w)) if f != w => Err(Error::input(format!(
            "{origin} is a {}, not what --format says; nothing was written",
            f.describe()
        ))),
        (Some(SessionFormat::Grammers), _) => {
            write::record_of_grammers(path).await?.ok_or_else(|| {
                Error::input(format!(
                    "{origin}: this grammers session holds no key for its home DC; nothing \
                     to import, nothing was written"
                ))
            })
        }
        (Some(_), _) => i.record().ok_or_else(|| {
            Error::input(format!(
                "{origin}: it holds no auth key (empty sessions row): nothing to import; \
                 nothing was written"
            ))
        }),
    }?;
    Ok(Source {
        format: i.format.map_or("", SessionFormat::name),
        record,
        path: Some(path.to_path_buf()),
    })
}
