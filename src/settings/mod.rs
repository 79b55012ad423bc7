//! Resolved settings: flags, `TGSESS_*` environment variables and the config file merged by
//! one table of keys ([`keys`]) with precedence flag > env > file > default, and the session
//! file named ([`naming`]). Nothing downstream looks at clap or the environment again.

mod advice;
pub(crate) mod config;
pub(crate) mod keys;
pub(crate) mod naming;
pub use naming::SessionChoice;

use std::path::{Path, PathBuf};

pub(crate) use advice::Advice;
use config::{LoadedConfig, Lookup};
use keys::{Layers, Origin, Sourced};
use naming::NamingInput;

use crate::env::Env;
use crate::error::{Error, Result};
use crate::net::Proxy;
use crate::output::Shown;
use tgsess_shared::secret::Secret;
use tgsess_store::SessionFormat;

/// What the command line gave, before the environment and the config file are merged in:
/// plain values, no clap (the cli builds it).
#[derive(Debug, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub session: Option<PathBuf>,
    pub username: Option<String>,
    pub session_file: Option<String>,
    pub session_dir: Option<PathBuf>,
    pub api_id: Option<String>,
    pub phone: Option<String>,
    pub sandbox_dir: Option<PathBuf>,
    pub proxy: Option<String>,
    pub test_dc: bool,
    pub no_proxy: bool,
    pub session_format: Option<SessionFormat>,
    pub expect_user: Option<String>,
    pub lease: Option<String>,
}

impl Flags {
    /// The flag of config key `name`, as text.
    fn get(&self, name: &str) -> Option<String> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        match name {
            "api_id" => self.api_id.clone(),
            "phone" => self.phone.clone(),
            "username" => self.username.clone(),
            "session_file" => self.session_file.clone(),
            "session_dir" => path(&self.session_dir),
            "sandbox_dir" => path(&self.sandbox_dir),
            "session_format" => self.session_format.map(|f| f.name().to_string()),
            "proxy" => self.proxy.clone(),
            "test_dc" => self.test_dc.then(|| "true".to_string()),
            "expect_user" => self.expect_user.clone(),
            "lease" => self.lease.clone(),
            _ => None,
        }
    }
}

/// Everything a command needs to know about where it is and what it works on.
#[derive(Debug)]
pub struct Settings {
    pub(crate) config: Option<LoadedConfig>,
    /// The directory relative settings resolve against.
    pub(crate) base_dir: PathBuf,
    /// Where session files live (session_dir, else `base_dir`).
    pub(crate) session_dir: PathBuf,
    pub session: SessionChoice,
    pub(crate) api_id: Option<Sourced<i32>>,
    pub(crate) api_hash: Option<Secret>,
    pub(crate) phone: Option<Sourced<String>>,
    /// A sandbox to talk to instead of Telegram (absolute).
    pub(crate) sandbox_dir: Option<PathBuf>,
    /// Telegram's test DCs (`test_dc`), and where that came from.
    pub(crate) test_dc: Sourced<bool>,
    /// The SOCKS5 proxy to connect through, if any.
    pub(crate) proxy: Option<Sourced<Proxy>>,
    /// tgsess's state directory (pending codes, cooldowns, locks), when there is one.
    pub(crate) state_dir: Option<PathBuf>,
    /// The declared session format, when any (`session_format`).
    pub(crate) session_format: Option<Sourced<SessionFormat>>,
    /// How printed commands reach this very session from any directory.
    pub(crate) advice: Advice,
    /// The account the session must hold (`expect_user`), if pinned.
    pub(crate) expect_user: Option<Sourced<crate::identity::Pin>>,
    /// The PostgreSQL lease `exec` holds (`lease`), if configured.
    pub(crate) lease: Option<Sourced<crate::lease::Url>>,
}

impl Settings {
    /// The network a command connects through: a sandbox config's sandbox, the proxy, the
    /// test network. Nothing is read until a connection is made.
    pub fn network(&self) -> crate::net::Network {
        crate::net::Network {
            proxy: self.proxy.as_ref().map(|p| p.value.clone()),
            sandbox_dir: self.sandbox_dir.clone(),
            test_dc: self.test_dc.value,
            test_dc_from: self.test_dc.source.to_string(),
        }
    }

    /// " (through the proxy socks5://host:port, from …)" for messages about a failed
    /// connection.
    pub(crate) fn via_proxy(&self) -> String {
        self.proxy
            .as_ref()
            .map(|p| format!(" (through the proxy {}, from {})", p.value, p.source))
            .unwrap_or_default()
    }

    /// A tgsess command line for the user to paste (see [`Advice::command`]).
    pub(crate) fn command(&self, rest: &str) -> String {
        self.advice.command(rest)
    }

    /// A command line for another session file (see [`Advice::command_on`]).
    pub(crate) fn command_on(
        &self,
        session: &Path,
        format: Option<SessionFormat>,
        rest: &str,
    ) -> String {
        self.advice.command_on(session, format, rest)
    }

    /// Where other session files (near misses) are looked for: the session's own directory,
    /// the session directory and the config's directory, each once.
    pub(crate) fn near_dirs(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        let own = self.session.path.parent();
        for d in own
            .into_iter()
            .chain([self.session_dir.as_path(), self.base_dir.as_path()])
        {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        dirs
    }

    /// The declared format, if any.
    pub(crate) fn declared_format(&self) -> Option<SessionFormat> {
        self.session_format.as_ref().map(|s| s.value)
    }

    /// How the user declares `format` for this session, as a line they can act on.
    pub(crate) fn declare_hint(&self, format: SessionFormat) -> String {
        let name = format.name();
        match &self.config {
            Some(c) => format!(
                "add `session_format = \"{name}\"` to {} (or pass --session-format {name})",
                c.path.shown()
            ),
            None => format!(
                "pass --session-format {name} (or set TGSESS_SESSION_FORMAT={name}, or \
                 session_format in a config file)"
            ),
        }
    }

    /// The api_id and api_hash, required by commands that connect.
    pub fn api_credentials(&self) -> Result<(i32, &Secret)> {
        let where_ = match &self.config {
            Some(c) => format!("in {}", c.path.shown()),
            None => "in a config file (none was found)".to_string(),
        };
        let id = self.api_id.as_ref().ok_or_else(|| {
            Error::usage(format!(
                "api_id is not set; set it {where_} or with TGSESS_API_ID (get one at \
                 https://my.telegram.org/apps)"
            ))
        })?;
        let hash = self.api_hash.as_ref().filter(|h| !h.is_empty());
        let hash = hash.ok_or_else(|| {
            Error::usage(format!(
                "api_hash is not set; set it {where_} or with TGSESS_API_HASH (it is never \
                 accepted as a command-line flag)"
            ))
        })?;
        Ok((id.value, hash))
    }
}

/// Resolves everything. `cwd` must be absolute.
pub fn resolve(flags: &Flags, env: &dyn Env, cwd: &Path) -> Result<Settings> {
    let config = load_config(flags, env, cwd)?;
    let layers = Layers {
        flags,
        env,
        file: config.as_ref().map(|c| (&c.values, c.path.as_path())),
    };
    let base_dir = config
        .as_ref()
        .map(|c| c.dir().to_path_buf())
        .unwrap_or_else(|| cwd.to_path_buf());
    let values = Values::of(&layers, flags)?;
    let home = env.set("HOME").map(PathBuf::from);
    let (default_dir, default_word) = default_session_dir(config.as_ref(), &base_dir, env);
    let session_flag = flags.session.as_ref().map(|p| Sourced {
        value: p.clone(),
        source: Origin::Flag("--session"),
    });
    let input = NamingInput {
        session_flag: session_flag.as_ref(),
        username: values.username.as_ref(),
        session_file: values.session_file.as_ref(),
        session_dir: values.session_dir.as_ref(),
        base_dir: &base_dir,
        cwd,
        default_dir: &default_dir,
        default_word,
        home: home.as_deref(),
    };
    let sandbox_dir = sandbox_dir(&values, &input)?;
    let session = naming::resolve(&input)?;
    let session_dir = naming::session_dir(&input)?;
    let advice = advice_of(
        config.as_ref(),
        flags.session.is_some().then_some(session.path.as_path()),
        &values,
        &session_dir,
        sandbox_dir.as_deref(),
    );
    Ok(Settings {
        config,
        base_dir,
        session_dir,
        session,
        api_id: values.api_id,
        api_hash: values.api_hash,
        phone: values.phone,
        sandbox_dir,
        state_dir: crate::state::dir(env),
        test_dc: values.test_dc,
        expect_user: values.expect_user,
        lease: values.lease,
        proxy: values.proxy,
        session_format: values.session_format,
        advice,
    })
}

/// The builder of printed commands: the options that decided this run, as they must be
/// repeated for the same session from any directory.
fn advice_of(
    config: Option<&LoadedConfig>,
    session: Option<&Path>,
    values: &Values,
    session_dir: &Path,
    sandbox_dir: Option<&Path>,
) -> Advice {
    Advice::of(&advice::Given {
        config: config.map(|c| c.path.as_path()),
        session,
        username: values.username.as_ref(),
        session_file: values.session_file.as_ref(),
        session_dir: values
            .session_dir
            .as_ref()
            .filter(|d| !matches!(d.source, Origin::File(_)))
            .map(|_| session_dir),
        session_format: values.session_format.as_ref(),
        sandbox_dir,
        proxy: values.proxy.as_ref(),
        test_dc: &values.test_dc,
    })
}

/// Finds and loads the config file, if there is one.
fn load_config(flags: &Flags, env: &dyn Env, cwd: &Path) -> Result<Option<LoadedConfig>> {
    let (env_config, xdg, home) = (
        env.var("TGSESS_CONFIG"),
        env.var("XDG_CONFIG_HOME"),
        env.var("HOME"),
    );
    let located = config::locate(&Lookup {
        flag: flags.config.as_deref(),
        env: env_config.as_deref(),
        cwd,
        xdg_config_home: xdg.as_deref(),
        home: home.as_deref(),
    })?;
    located
        .map(|(path, origin)| config::load(&path, origin))
        .transpose()
}

/// Every key's value, typed, from the table's layers.
struct Values {
    api_id: Option<Sourced<i32>>,
    api_hash: Option<Secret>,
    phone: Option<Sourced<String>>,
    username: Option<Sourced<String>>,
    session_file: Option<Sourced<String>>,
    session_dir: Option<Sourced<String>>,
    session_format: Option<Sourced<SessionFormat>>,
    sandbox_dir: Option<Sourced<String>>,
    proxy: Option<Sourced<Proxy>>,
    test_dc: Sourced<bool>,
    expect_user: Option<Sourced<crate::identity::Pin>>,
    lease: Option<Sourced<crate::lease::Url>>,
}

impl Values {
    fn of(l: &Layers, flags: &Flags) -> Result<Values> {
        let nonempty = |v: Option<Sourced<String>>| v.filter(|v| !v.value.is_empty());
        Ok(Values {
            api_id: l.get(&keys::API_ID, parse_api_id)?,
            api_hash: l.text(&keys::API_HASH)?.map(|h| Secret::new(h.value)),
            phone: l.text(&keys::PHONE)?,
            username: l.text(&keys::USERNAME)?,
            session_file: l.text(&keys::SESSION_FILE)?,
            session_dir: l.text(&keys::SESSION_DIR)?,
            session_format: l.get(&keys::SESSION_FORMAT, parse_format)?,
            sandbox_dir: nonempty(l.text(&keys::SANDBOX_DIR)?),
            proxy: match flags.no_proxy {
                true => None,
                false => l
                    .get(&keys::PROXY, parse_proxy)?
                    .filter(|p| p.value.is_some()),
            }
            .map(|p| Sourced {
                value: p.value.expect("filtered"),
                source: p.source,
            }),
            test_dc: l.get(&keys::TEST_DC, parse_bool)?.unwrap_or(Sourced {
                value: false,
                source: Origin::Default,
            }),
            expect_user: l.get(&keys::EXPECT_USER, parse_pin)?.and_then(|p| {
                p.value.map(|value| Sourced {
                    value,
                    source: p.source,
                })
            }),
            lease: nonempty(l.text(&keys::LEASE)?)
                .map(|u| {
                    let value = crate::lease::parse(&u.value, &u.source.to_string())?;
                    Ok::<_, Error>(Sourced {
                        value,
                        source: u.source,
                    })
                })
                .transpose()?,
        })
    }
}

/// `expect_user`: `@username` or a user id; empty counts as unset.
fn parse_pin(raw: &str, from: &Origin) -> Result<Option<crate::identity::Pin>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    crate::identity::Pin::parse(raw).map(Some).ok_or_else(|| {
        Error::usage(format!(
            "expect_user {:?} (from {from}) is neither an @username (@ and 5 to 32 letters, \
             digits or _) nor a numeric user id; write it as @name or as the id `tgsess \
             check` shows",
            crate::output::escape(raw)
        ))
    })
}

fn parse_api_id(raw: &str, from: &Origin) -> Result<i32> {
    raw.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            Error::usage(format!(
                "api_id {raw:?} (from {from}) is not a positive integer; use the api_id from \
                 https://my.telegram.org/apps"
            ))
        })
}

fn parse_format(raw: &str, from: &Origin) -> Result<SessionFormat> {
    SessionFormat::parse(raw.trim()).ok_or_else(|| {
        Error::usage(format!(
            "session_format {raw:?} (from {from}) is not a format tgsess knows; use grammers, \
             telethon or pyrogram"
        ))
    })
}

fn parse_bool(raw: &str, from: &Origin) -> Result<bool> {
    match raw.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(Error::usage(format!(
            "test_dc {raw:?} (from {from}) is not true or false"
        ))),
    }
}

/// A proxy URL (`Some`), or an empty one that counts as unset (`None`). A password is never
/// taken from the flag: other users see arguments in `ps`.
fn parse_proxy(raw: &str, from: &Origin) -> Result<Option<Proxy>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let p = Proxy::parse(raw, &from.to_string())?;
    if p.has_password() && matches!(from, Origin::Flag(_)) {
        return Err(Error::usage(
            "--proxy holds a password: passwords never go on the command line (other users \
             see them in `ps`); put the URL in the config's proxy key or in TGSESS_PROXY",
        ));
    }
    Ok(Some(p))
}

/// The sandbox directory made absolute (`~` and a relative path as for every path value).
fn sandbox_dir(values: &Values, input: &NamingInput) -> Result<Option<PathBuf>> {
    let Some(d) = &values.sandbox_dir else {
        return Ok(None);
    };
    naming::check_tilde("sandbox_dir", Path::new(&d.value), &d.source, input.home)?;
    Ok(Some(input.path_of(Path::new(&d.value), &d.source)))
}

/// Where sessions live when session_dir is not set: beside the config file, or, for the
/// user-wide config in `$XDG_CONFIG_HOME`, in `$XDG_DATA_HOME/tgsess` (sessions hold keys,
/// which are data, not configuration), or the current directory without a config file.
fn default_session_dir(
    config: Option<&LoadedConfig>,
    base_dir: &Path,
    env: &dyn Env,
) -> (PathBuf, &'static str) {
    let beside = (base_dir.to_path_buf(), "the config file's directory");
    match config {
        Some(c) if c.origin == config::ConfigOrigin::Xdg => {
            let data = env
                .set("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| env.set("HOME").map(|h| Path::new(&h).join(".local/share")));
            match data {
                Some(d) => (
                    d.join("tgsess"),
                    "tgsess's data directory ($XDG_DATA_HOME/tgsess)",
                ),
                None => beside,
            }
        }
        Some(_) => beside,
        None => (
            base_dir.to_path_buf(),
            "the current directory (no config file)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn precedence_flag_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("tgsess.toml");
        std::fs::write(&cfg, "username = \"fromfile\"\napi_id = 1\n").unwrap();
        let mut args = Flags {
            config: Some(cfg.clone()),
            ..Default::default()
        };
        let s = resolve(&args, &env(&[]), dir.path()).unwrap();
        assert_eq!(s.session.path, dir.path().join("fromfile.session"));
        assert_eq!(s.api_id.unwrap().value, 1);
        let e = env(&[("TGSESS_USERNAME", "fromenv"), ("TGSESS_API_ID", "2")]);
        let s = resolve(&args, &e, dir.path()).unwrap();
        assert_eq!(s.session.path, dir.path().join("fromenv.session"));
        assert_eq!(s.api_id.unwrap().value, 2);
        args.username = Some("fromflag".into());
        args.api_id = Some("3".into());
        let s = resolve(&args, &e, dir.path()).unwrap();
        assert_eq!(s.session.path, dir.path().join("fromflag.session"));
        assert_eq!(s.api_id.unwrap().value, 3);
    }

    #[test]
    fn relative_to_config_dir_not_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let cfgdir = dir.path().join("proj");
        std::fs::create_dir(&cfgdir).unwrap();
        std::fs::write(cfgdir.join("tgsess.toml"), "session_dir = \"s\"\n").unwrap();
        let args = Flags {
            config: Some(cfgdir.join("tgsess.toml")),
            ..Default::default()
        };
        let elsewhere = dir.path().join("elsewhere");
        let s = resolve(&args, &env(&[]), &elsewhere).unwrap();
        assert_eq!(
            s.session.path,
            cfgdir.join("s").join("telegram_session.session")
        );
    }

    #[test]
    fn bad_env_api_id_names_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve(
            &Flags::default(),
            &env(&[("TGSESS_API_ID", "abc")]),
            dir.path(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("$TGSESS_API_ID"), "{e}");
        assert_eq!(e.exit().code(), 2);
    }

    #[test]
    fn missing_credentials_only_matter_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let s = resolve(&Flags::default(), &env(&[]), dir.path()).unwrap();
        let e = s.api_credentials().unwrap_err();
        assert!(e.to_string().contains("api_id"), "{e}");
    }
}
