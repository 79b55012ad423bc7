//! The session a command works on: the resolved path, what is there, and the format to read
//! or write it in, with the reason. Every command starts here.

use std::path::PathBuf;

use tgsess_store::files::{self, Presence};
use tgsess_store::{Inspection, Record, SessionFormat, write};

use crate::error::{Error, Result};
use crate::output::Shown;
use crate::settings::Settings;

pub(crate) struct Target {
    pub(crate) path: PathBuf,
    pub(crate) presence: Presence,
    declared: Option<SessionFormat>,
    declared_from: String,
    lock_dir: Option<PathBuf>,
    state_dir: Option<PathBuf>,
}

impl Target {
    /// Looks at the session path without changing anything.
    pub(crate) async fn open(settings: &Settings) -> Result<Target> {
        let path = settings.session.path.clone();
        let presence = files::examine(&path).await?;
        let (declared, declared_from) = match &settings.session_format {
            Some(s) => (Some(s.value), s.source.to_string()),
            None => (None, String::new()),
        };
        Ok(Target {
            path,
            presence,
            declared,
            declared_from,
            lock_dir: settings.state_dir.as_ref().map(|d| d.join("locks")),
            state_dir: settings.state_dir.clone(),
        })
    }

    /// Who holds this session's lock now (a writer, or `tgsess exec` running a bot), if
    /// anyone; nothing is created or taken to find out.
    pub(crate) fn lock_holder(&self) -> Option<files::Holder> {
        let path = files::SessionLock::path_for(&self.path, self.lock_dir.as_deref())?;
        files::holder_of(&path)
    }

    /// The exclusive lock every writer holds while it works on this session.
    pub(crate) fn lock(&self) -> Result<files::SessionLock> {
        if let Some(dir) = self.path.parent() {
            files::ensure_dir(dir)?;
        }
        Ok(files::SessionLock::acquire(
            &self.path,
            self.lock_dir.as_deref(),
        )?)
    }

    pub(crate) fn inspection(&self) -> Option<&Inspection> {
        match &self.presence {
            Presence::File(i, _) => Some(i),
            Presence::Missing => None,
        }
    }

    pub(crate) fn exists(&self) -> bool {
        matches!(self.presence, Presence::File(..))
    }

    /// The format of the file on disk, or the one a new file gets; and why, in words.
    pub(crate) fn format_and_reason(&self) -> (Option<SessionFormat>, String) {
        let found = self.inspection().map(|i| i.format);
        match (self.declared, found) {
            (Some(d), Some(Some(f))) if d == f => (
                Some(d),
                format!(
                    "{} declared ({}), matches the file",
                    d.name(),
                    self.declared_from
                ),
            ),
            (Some(d), Some(_)) => (
                Some(d),
                format!(
                    "{} declared ({}), but the file is another format",
                    d.name(),
                    self.declared_from
                ),
            ),
            (Some(d), None) => (
                Some(d),
                format!(
                    "{} declared ({}); a new file gets this format",
                    d.name(),
                    self.declared_from
                ),
            ),
            (None, Some(f)) => match f {
                Some(s) => (
                    Some(s),
                    format!(
                        "{} detected from the file (session_format not set: read-only \
                         commands work; commands that write need it declared unless it is \
                         grammers)",
                        s.name()
                    ),
                ),
                None => (None, "not a session file".into()),
            },
            (None, None) => (
                Some(SessionFormat::Grammers),
                "grammers, the default for a new file (session_format not set)".into(),
            ),
        }
    }

    /// The format to read the file with. A declared format that disagrees with the file, or a
    /// file that is not a session, is exit 4. `None` when there is no file.
    pub(crate) fn read_format(&self, settings: &Settings) -> Result<Option<SessionFormat>> {
        let Some(i) = self.inspection() else {
            return Ok(None);
        };
        if i.format.is_none() {
            return Err(files::wrong_format_error(&self.path, i).into());
        }
        if let Some(words) = files::damage_words(&self.path, i) {
            return Err(Error::file(format!(
                "{words}. tgsess reads nothing from it and changes nothing. If its program \
                 still opens it, check it there. To replace it on purpose, keeping a copy of \
                 it first: `{}` starts a fresh login (and may request a code), or import a \
                 good session over it with import --force",
                settings.command("login --force")
            )));
        }
        self.file_format(settings)
    }

    /// A damaged file (a known format whose columns fail validation).
    pub(crate) fn damaged(&self) -> bool {
        self.inspection().is_some_and(|i| i.damage.is_some())
    }

    /// [`Target::read_format`] without the damage check: for a command replacing a damaged
    /// file on purpose (`--force`, after a backup).
    fn file_format(&self, settings: &Settings) -> Result<Option<SessionFormat>> {
        let Some(i) = self.inspection() else {
            return Ok(None);
        };
        let Some(found) = i.format else {
            return Err(files::wrong_format_error(&self.path, i).into());
        };
        match self.declared {
            Some(d) if d != found => Err(Error::file(format!(
                "{} is a {} ({}), but session_format is \"{}\" ({}). tgsess changes nothing \
                 until they agree: if this is the bot's file, {}",
                self.path.shown(),
                i.describe(),
                i.detail,
                d.name(),
                self.declared_from,
                settings.declare_hint(found).replacen("add", "set", 1)
            ))),
            _ => Ok(Some(found)),
        }
    }

    /// The format to write in, for a command that writes or deletes (`action`: "write",
    /// "delete"). A Telethon or Pyrogram file is written only when that format is declared;
    /// a file another process holds open, or one with an unfinished write, is refused.
    pub(crate) fn write_format(&self, settings: &Settings, action: &str) -> Result<SessionFormat> {
        self.read_format(settings)?;
        self.format_to_write(settings, action)
    }

    /// [`Target::write_format`] for a file that may be damaged: `--force` replaces one, and
    /// the caller backs it up first (see [`Target::backup_if_needed`]).
    pub(crate) fn write_format_forced(
        &self,
        settings: &Settings,
        action: &str,
    ) -> Result<SessionFormat> {
        self.format_to_write(settings, action)
    }

    /// Copies the file away before it is replaced, when it holds a key or is damaged.
    pub(crate) fn backup_if_needed(&self) -> Result<Option<PathBuf>> {
        match self.inspection() {
            Some(i) if i.has_auth_key() || i.damage.is_some() => {
                Ok(Some(write::backup(&self.path)?))
            }
            _ => Ok(None),
        }
    }

    fn format_to_write(&self, settings: &Settings, action: &str) -> Result<SessionFormat> {
        files::guard_write(&self.path, action)?;
        let format = match self.file_format(settings)? {
            None => self.declared.unwrap_or(SessionFormat::Grammers),
            Some(f) if f == SessionFormat::Grammers || self.declared == Some(f) => f,
            Some(f) => {
                return Err(Error::file(format!(
                    "{} is a {}: the file a {} program reads. tgsess will {action} it in \
                     place only when you declare that format, so that it never changes a \
                     bot's file by accident: {}",
                    self.path.shown(),
                    f.describe(),
                    f.library(),
                    settings.declare_hint(f)
                )));
            }
        };
        Ok(format)
    }

    /// What the file holds, for a network command or a save; `None` without a key.
    pub(crate) async fn record(&self) -> Result<Option<Record>> {
        match self.inspection() {
            Some(i) if i.format == Some(SessionFormat::Grammers) => {
                let mut r = write::record_of_grammers(&self.path).await?;
                if let Some(r) = r.as_mut() {
                    r.api_id = self.remembered_api_id();
                }
                Ok(r)
            }
            Some(i) => Ok(i.record()),
            None => Ok(None),
        }
    }

    /// The api_id remembered for this grammers session (its schema has no column for it).
    fn remembered_api_id(&self) -> Option<i32> {
        let store = crate::state::State::load(self.state_dir.clone()).ok()?;
        crate::state::per_session(&store.data.session_api_ids, &self.path).copied()
    }

    /// Remembers the api_id a key came with, for a grammers session; a failure is a warning.
    pub(crate) fn remember_api_id(&self, format: SessionFormat, api_id: Option<i32>) {
        let (SessionFormat::Grammers, Some(id)) = (format, api_id) else {
            return;
        };
        let key = crate::state::session_key(&self.path);
        let store = match crate::state::State::load(self.state_dir.clone()) {
            Ok(s) => s,
            Err(_) => return,
        };
        if let Err(e) = store.modify(|d| {
            d.session_api_ids.insert(key, id);
        }) {
            crate::output::warn(format!("could not remember the session's api_id: {e}"));
        }
    }
}
