//! A session from anywhere `import`, `inspect` and `login --approve-with` take one, with the
//! person in the loop where the store cannot be: the string on stdin, a warning for a
//! string given as an argument, and the tdata passcode or account asked on a terminal. The
//! reading itself is the store's ([`tgsess_store::source`]); nothing is ever written.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use tgsess_store::source::{self, MAX_TEXT, SourceFormat, TdataFailure};
use tgsess_store::{Record, tdata};

use crate::error::{Error, Result};
use crate::output::{self, Shown};

/// How a Telegram Desktop tdata source is read.
#[derive(Clone, Debug, Default)]
pub(crate) struct TdataOpts {
    /// Desktop's `-key NAME` (default `data`).
    pub(crate) key_name: Option<String>,
    /// Read the local passcode from stdin instead of asking on the terminal.
    pub(crate) passcode_stdin: bool,
    /// Desktop's account index; by default the active one, or the only one.
    pub(crate) account: Option<i32>,
}

/// A session read from `arg` (a file of any format, a tdata directory, a string, or `-` for
/// stdin): (what it was, what it holds, the file when it was one).
pub(crate) async fn read(
    arg: &str,
    format: SourceFormat,
    tdata_opts: &TdataOpts,
) -> Result<(&'static str, Record, Option<PathBuf>)> {
    if arg == "-" {
        let (f, r) = source::parse_text(&read_stdin()?, format, "stdin")?;
        return Ok((f, r, None));
    }
    let path = Path::new(arg);
    if tdata::looks_like(path) {
        let (r, td) = read_tdata(path, tdata_opts).await?;
        return Ok(("tdata", r, Some(td.dir)));
    }
    if std::fs::symlink_metadata(path).is_err() && !arg.contains('/') && !arg.ends_with(".session")
    {
        output::warn(
            "the session string was given as an argument, where other users can see it in \
             `ps`; next time give - as the source and pipe the string in on stdin",
        );
        let (f, r) = source::parse_text(arg, format, "the string argument")?;
        return Ok((f, r, None));
    }
    let s = source::read_file(path, format).await?;
    Ok((s.format, s.record, s.path))
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

/// One account of the tdata at `path` (the tdata directory or its parent): the passcode from
/// stdin, or asked on a terminal (3 tries) when the empty one does not open it; the account
/// asked on a terminal when several are there and none was chosen.
pub(crate) async fn read_tdata(path: &Path, o: &TdataOpts) -> Result<(Record, tdata::Tdata)> {
    let mut passcode = match o.passcode_stdin {
        true => passcode_from_stdin()?,
        false => Vec::new(),
    };
    let mut account = o.account;
    let mut tries = 0;
    loop {
        match attempt(path, o, &passcode, account).await? {
            Ok(done) => return Ok(done),
            Err(TdataFailure::WrongPasscode(dir)) => {
                tries += 1;
                passcode = ask_passcode(&dir, o, tries).await?;
            }
            Err(TdataFailure::ChooseAccount(dir, accounts)) => {
                account = Some(choose_account(&dir, &accounts).await?);
            }
            Err(TdataFailure::Other(e)) => return Err(e.into()),
        }
    }
}

/// One read of the tdata (PBKDF2 with 100,000 rounds: off the async thread).
async fn attempt(
    path: &Path,
    o: &TdataOpts,
    passcode: &[u8],
    account: Option<i32>,
) -> Result<std::result::Result<(Record, tdata::Tdata), TdataFailure>> {
    let (path, pass) = (path.to_path_buf(), passcode.to_vec());
    let key_name = o.key_name.clone().unwrap_or_else(|| "data".into());
    tokio::task::spawn_blocking(move || source::read_tdata(&path, &key_name, &pass, account))
        .await
        .map_err(|e| Error::usage(format!("reading tdata failed: {e}")))
}

fn passcode_from_stdin() -> Result<Vec<u8>> {
    let mut line = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut line)
        .map_err(|e| Error::usage(format!("cannot read the passcode from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).as_bytes().to_vec())
}

/// The next passcode to try, after `tries` wrong ones: asked on a terminal, 3 tries.
async fn ask_passcode(dir: &Path, o: &TdataOpts, tries: usize) -> Result<Vec<u8>> {
    let wrong = || {
        Error::usage(format!(
            "{}: the local passcode is wrong; nothing was written",
            dir.shown()
        ))
    };
    if o.passcode_stdin || tries > 3 {
        return Err(wrong());
    }
    if !output::interactive() {
        return Err(Error::usage(format!(
            "{} has a local passcode; give it with --passcode-stdin, or run on a terminal to \
             be asked",
            dir.shown()
        )));
    }
    if tries > 1 {
        output::warn(format!("wrong passcode; {} of 3 tries left", 4 - tries));
    }
    match crate::prompt::hidden("Telegram Desktop local passcode: ").await? {
        Some(p) => Ok(p.expose().as_bytes().to_vec()),
        None => Err(Error::usage("no passcode entered; nothing was written")),
    }
}

/// The account to import when several are there and none is recorded as active.
async fn choose_account(dir: &Path, accounts: &[tdata::Account]) -> Result<i32> {
    let list = tdata::list(accounts);
    if !output::interactive() {
        return Err(Error::usage(format!(
            "{} holds {} accounts ({list}); pick one with --account N",
            dir.shown(),
            accounts.len()
        )));
    }
    output::out(format!(
        "{} holds {} accounts: {list}",
        dir.shown(),
        accounts.len()
    ));
    let answer = crate::prompt::line("Which account (its number)? ").await?;
    answer
        .and_then(|a| a.trim().parse::<i32>().ok())
        .ok_or_else(|| Error::usage("no account chosen; nothing was written"))
}
