//! Resolved settings: flags, `TGSESS_*` environment variables and the config file merged with
//! precedence flag > env > file > default, and the session file named. Nothing downstream
//! looks at clap or the environment again.

use std::path::{Path, PathBuf};

use crate::cli::GlobalArgs;
use crate::config::{self, LoadedConfig, Lookup};
use crate::error::{Error, Result};
use crate::naming::{self, NamingInput, SessionChoice, Source, Sourced};
use crate::output::Shown;
use tgsess_shared::secret::Secret;
use tgsess_store::SessionFormat;

/// The process environment as tgsess sees it; tests pass their own.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

#[derive(Debug)]
pub struct Settings {
    pub config: Option<LoadedConfig>,
    /// The directory relative settings resolve against.
    pub base_dir: PathBuf,
    /// Where session files live (session_dir, else `base_dir`).
    pub session_dir: PathBuf,
    pub session: SessionChoice,
    pub api_id: Option<Sourced<i32>>,
    pub api_hash: Option<Secret>,
    pub phone: Option<Sourced<String>>,
    pub username: Option<Sourced<String>>,
    pub session_file: Option<Sourced<String>>,
    /// A sandbox to talk to instead of Telegram (absolute).
    pub sandbox_dir: Option<std::path::PathBuf>,
    /// Telegram's test DCs (`test_dc`), and where that came from (`None`: the default).
    pub test_dc: Sourced<bool>,
    /// The SOCKS5 proxy to connect through, if any.
    pub proxy: Option<Sourced<crate::net::Proxy>>,
    /// tgsess's state directory (pending codes, cooldowns, locks), when there is one.
    pub state_dir: Option<PathBuf>,
    /// The declared session format, when any (`session_format`).
    pub session_format: Option<Sourced<SessionFormat>>,
    /// Global options, quoted for a POSIX shell, that make a printed command act on this
    /// very session from any directory (see [`Settings::command`]).
    pub advice_args: Vec<String>,
    /// `login --sandbox`: the sandbox and its session vanish when the command ends, so no
    /// printed command can act on them later.
    pub rehearsal: bool,
}

impl Settings {
    /// A key for the other network is refused before any request: a production key with
    /// `test_dc`, or a test key without it.
    pub fn check_test_mode(&self, r: &tgsess_store::Record) -> Result<()> {
        let test = self.test_dc.value;
        match r.test_mode {
            Some(t) if t != test => Err(Error::usage(format!(
                "the session holds a key for Telegram's {} DCs, but test_dc is {} ({}); keys \
                 do not cross between the test and production networks: {}",
                if t { "test" } else { "production" },
                test,
                self.test_dc.source,
                if t {
                    "set test_dc = true (or --test-dc) to use it"
                } else {
                    "remove test_dc to use it, or use another session for the test DCs"
                }
            ))),
            _ => Ok(()),
        }
    }

    pub fn proxy(&self) -> Option<&crate::net::Proxy> {
        self.proxy.as_ref().map(|p| &p.value)
    }

    /// " (through the proxy socks5://host:port)" for messages about a failed connection.
    pub fn via_proxy(&self) -> String {
        self.proxy
            .as_ref()
            .map(|p| format!(" (through the proxy {}, from {})", p.value, p.source))
            .unwrap_or_default()
    }

    /// A tgsess command line for the user to paste: every option that chose the session and
    /// its format (an absolute `--config`, naming flags and variables, `--session-format`,
    /// `--sandbox-dir`), then `rest`, which the caller has quoted.
    pub fn command(&self, rest: &str) -> String {
        if self.rehearsal {
            // Only a new rehearsal can follow: this one's sandbox ends with the command.
            return "tgsess login --sandbox".into();
        }
        let mut words = vec!["tgsess".to_string()];
        words.extend(self.advice_args.iter().cloned());
        if !rest.is_empty() {
            words.push(rest.to_string());
        }
        words.join(" ")
    }

    /// A command line for another session file `session` (a near miss): the same options,
    /// with its naming flags replaced by `--session PATH`, and `--session-format` when the
    /// file is a Telethon or Pyrogram file (tgsess manages those only once declared).
    pub fn command_on(&self, session: &Path, format: Option<SessionFormat>, rest: &str) -> String {
        if self.rehearsal {
            return "tgsess login --sandbox".into();
        }
        let mut naming = vec!["--session", "--username", "--session-file", "--session-dir"];
        if format.is_some() {
            naming.push("--session-format");
        }
        let mut words = vec!["tgsess".to_string()];
        let mut args = self.advice_args.iter();
        while let Some(flag) = args.next() {
            if flag == "--test-dc" {
                words.push(flag.clone());
                continue;
            }
            let value = args.next();
            if !naming.contains(&flag.as_str()) {
                words.push(flag.clone());
                words.extend(value.cloned());
            }
        }
        words.push("--session".into());
        words.push(crate::output::shell_quote(session));
        if let Some(f) = format.filter(|f| *f != SessionFormat::Grammers) {
            words.push("--session-format".into());
            words.push(f.name().into());
        }
        words.push(rest.to_string());
        words.join(" ")
    }

    /// Where other session files (near misses) are looked for: the session's own directory,
    /// the session directory and the config's directory, each once.
    pub fn near_dirs(&self) -> Vec<&Path> {
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

    /// The format to read the file with and why: declared, else detected, else the default.
    pub fn declared_format(&self) -> Option<SessionFormat> {
        self.session_format.as_ref().map(|s| s.value)
    }

    /// How the user declares `format` for this session, as a line they can act on.
    pub fn declare_hint(&self, format: SessionFormat) -> String {
        match &self.config {
            Some(c) => format!(
                "add `session_format = \"{}\"` to {} (or pass --session-format {})",
                format.name(),
                c.path.shown(),
                format.name()
            ),
            None => format!(
                "pass --session-format {} (or set TGSESS_SESSION_FORMAT={}, or \
                 session_format in a config file)",
                format.name(),
                format.name()
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
                "api_id is not set; set it {where_} or with TGSESS_API_ID \
                 (get one at https://my.telegram.org/apps)"
            ))
        })?;
        let hash = self
            .api_hash
            .as_ref()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::usage(format!(
                    "api_hash is not set; set it {where_} or with TGSESS_API_HASH \
                 (it is never accepted as a command-line flag)"
                ))
            })?;
        Ok((id.value, hash))
    }
}

/// Picks flag, else env, else file for one key.
fn layer<T: Clone>(
    flag: Option<T>,
    flag_name: &'static str,
    env: Option<T>,
    env_name: &'static str,
    file: Option<T>,
    file_path: Option<&Path>,
) -> Option<Sourced<T>> {
    if let Some(v) = flag {
        return Some(Sourced {
            value: v,
            source: Source::Flag(flag_name),
        });
    }
    if let Some(v) = env {
        return Some(Sourced {
            value: v,
            source: Source::Env(env_name),
        });
    }
    file.map(|v| Sourced {
        value: v,
        source: Source::File(file_path.map(Path::to_path_buf).unwrap_or_default()),
    })
}

fn parse_api_id(raw: &str, from: &str) -> Result<i32> {
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

/// Resolves everything. `cwd` must be absolute.
pub fn resolve(args: &GlobalArgs, env: &dyn Env, cwd: &Path) -> Result<Settings> {
    let env_config = env.var("TGSESS_CONFIG");
    let xdg = env.var("XDG_CONFIG_HOME");
    let home = env.var("HOME");
    let located = config::locate(&Lookup {
        flag: args.config.as_deref(),
        env: env_config.as_deref(),
        cwd,
        xdg_config_home: xdg.as_deref(),
        home: home.as_deref(),
    })?;
    let config = match located {
        Some((path, origin)) => Some(config::load(&path, origin)?),
        None => None,
    };
    let (file, file_path) = match &config {
        Some(c) => (Some(&c.values), Some(c.path.as_path())),
        None => (None, None),
    };
    let base_dir = config
        .as_ref()
        .map(|c| c.dir().to_path_buf())
        .unwrap_or_else(|| cwd.to_path_buf());
    // An empty environment variable counts as unset.
    let ev = |name: &str| env.var(name).filter(|v| !v.is_empty());

    let api_id_flag = match &args.api_id {
        Some(v) => Some(parse_api_id(v, "flag --api-id")?),
        None => None,
    };
    let api_id_env = match ev("TGSESS_API_ID") {
        Some(v) => Some(parse_api_id(&v, "$TGSESS_API_ID")?),
        None => None,
    };
    // config::parse already checked the range.
    let api_id_file = file.and_then(|f| f.api_id).map(|v| v as i32);
    let api_id = layer(
        api_id_flag,
        "--api-id",
        api_id_env,
        "TGSESS_API_ID",
        api_id_file,
        file_path,
    );
    let api_hash = ev("TGSESS_API_HASH")
        .map(Secret::new)
        .or_else(|| file.and_then(|f| f.api_hash.clone()));
    let phone = layer(
        args.phone.clone(),
        "--phone",
        ev("TGSESS_PHONE"),
        "TGSESS_PHONE",
        file.and_then(|f| f.phone.clone()),
        file_path,
    );
    let username = layer(
        args.username.clone(),
        "--username",
        ev("TGSESS_USERNAME"),
        "TGSESS_USERNAME",
        file.and_then(|f| f.username.clone()),
        file_path,
    );
    let session_file = layer(
        args.session_file.clone(),
        "--session-file",
        ev("TGSESS_SESSION_FILE"),
        "TGSESS_SESSION_FILE",
        file.and_then(|f| f.session_file.clone()),
        file_path,
    );
    let session_dir = layer(
        args.session_dir
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        "--session-dir",
        ev("TGSESS_SESSION_DIR"),
        "TGSESS_SESSION_DIR",
        file.and_then(|f| f.session_dir.clone()),
        file_path,
    );
    let sandbox_dir = layer(
        args.sandbox_dir
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        "--sandbox-dir",
        ev("TGSESS_SANDBOX_DIR"),
        "TGSESS_SANDBOX_DIR",
        file.and_then(|f| f.sandbox_dir.clone()),
        file_path,
    )
    .filter(|d| !d.value.is_empty());
    let format_env = match ev("TGSESS_SESSION_FORMAT") {
        Some(v) => Some(SessionFormat::parse(v.trim()).ok_or_else(|| {
            Error::usage(format!(
                "$TGSESS_SESSION_FORMAT is {v:?}; use grammers, telethon or pyrogram"
            ))
        })?),
        None => None,
    };
    let session_format = layer(
        args.session_format.map(Into::into),
        "--session-format",
        format_env,
        "TGSESS_SESSION_FORMAT",
        file.and_then(|f| f.session_format),
        file_path,
    );
    let proxy = resolve_proxy(args, &ev, file, file_path)?;
    let test_env = match ev("TGSESS_TEST_DC") {
        Some(v) => Some(match v.trim() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                return Err(Error::usage(format!(
                    "$TGSESS_TEST_DC is {v:?}; use true or false"
                )));
            }
        }),
        None => None,
    };
    let test_dc = layer(
        args.test_dc.then_some(true),
        "--test-dc",
        test_env,
        "TGSESS_TEST_DC",
        file.and_then(|f| f.test_dc),
        file_path,
    )
    .unwrap_or(Sourced {
        value: false,
        source: Source::Flag("(default)"),
    });
    let session_flag = args.session.as_ref().map(|p| Sourced {
        value: p.clone(),
        source: Source::Flag("--session"),
    });
    let home_path = ev("HOME").map(PathBuf::from);
    let (default_dir, default_word) = default_session_dir(config.as_ref(), &base_dir, env);
    let input = NamingInput {
        session_flag: session_flag.as_ref(),
        username: username.as_ref(),
        session_file: session_file.as_ref(),
        session_dir: session_dir.as_ref(),
        base_dir: &base_dir,
        cwd,
        default_dir: &default_dir,
        default_word,
        home: home_path.as_deref(),
    };
    if let Some(d) = &sandbox_dir {
        naming::check_tilde("sandbox_dir", Path::new(&d.value), &d.source, input.home)?;
    }
    let sandbox_dir = sandbox_dir.map(|d| input.path_of(Path::new(&d.value), &d.source));
    let session = naming::resolve(&input)?;
    let session_dir = naming::session_dir(&input)?;
    let advice_args = advice_args(&AdviceInput {
        config: config.as_ref().map(|c| c.path.as_path()),
        session: args.session.as_ref().map(|_| session.path.as_path()),
        username: username.as_ref(),
        session_file: session_file.as_ref(),
        session_dir: session_dir_flag(&session_dir, &input),
        session_format: session_format.as_ref(),
        sandbox_dir: sandbox_dir.as_deref(),
        proxy: proxy.as_ref(),
        test_dc: args.test_dc,
    });
    Ok(Settings {
        config,
        base_dir,
        session_dir,
        session,
        api_id,
        api_hash,
        phone,
        username,
        session_file,
        sandbox_dir,
        state_dir: crate::state::dir(env),
        test_dc,
        proxy,
        session_format,
        advice_args,
        rehearsal: false,
    })
}

/// Where sessions live when session_dir is not set: beside the config file, or, for the
/// user-wide config in `$XDG_CONFIG_HOME`, in `$XDG_DATA_HOME/tgsess` (sessions hold keys,
/// which are data, not configuration), or the current directory without a config file.
fn default_session_dir(
    config: Option<&LoadedConfig>,
    base_dir: &Path,
    env: &dyn Env,
) -> (PathBuf, &'static str) {
    let ev = |name: &str| env.var(name).filter(|v| !v.is_empty());
    match config {
        Some(c) if c.origin == config::ConfigOrigin::Xdg => {
            let data = ev("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| ev("HOME").map(|h| Path::new(&h).join(".local/share")));
            match data {
                Some(d) => (
                    d.join("tgsess"),
                    "tgsess's data directory ($XDG_DATA_HOME/tgsess)",
                ),
                None => (base_dir.to_path_buf(), "the config file's directory"),
            }
        }
        Some(_) => (base_dir.to_path_buf(), "the config file's directory"),
        None => (
            base_dir.to_path_buf(),
            "the current directory (no config file)",
        ),
    }
}

/// flag > env > file, `--no-proxy` over all; a password is never taken from the flag.
fn resolve_proxy(
    args: &GlobalArgs,
    ev: &dyn Fn(&str) -> Option<String>,
    file: Option<&config::FileConfig>,
    file_path: Option<&Path>,
) -> Result<Option<Sourced<crate::net::Proxy>>> {
    use crate::net::Proxy;
    if args.no_proxy {
        return Ok(None);
    }
    if let Some(raw) = &args.proxy {
        let p = Proxy::parse(raw, "flag --proxy")?;
        if p.has_password() {
            return Err(Error::usage(
                "--proxy holds a password: passwords never go on the command line (other users \
                 see them in `ps`); put the URL in the config's proxy key or in TGSESS_PROXY",
            ));
        }
        return Ok(Some(Sourced {
            value: p,
            source: Source::Flag("--proxy"),
        }));
    }
    if let Some(raw) = ev("TGSESS_PROXY") {
        return Ok(Some(Sourced {
            value: Proxy::parse(&raw, "$TGSESS_PROXY")?,
            source: Source::Env("TGSESS_PROXY"),
        }));
    }
    match (file.and_then(|f| f.proxy.as_ref()), file_path) {
        (Some(raw), Some(path)) if !raw.is_empty() => Ok(Some(Sourced {
            value: Proxy::parse(raw.expose(), &format!("config file {}", path.shown()))?,
            source: Source::File(path.to_path_buf()),
        })),
        _ => Ok(None),
    }
}

/// What [`advice_args`] reproduces.
struct AdviceInput<'a> {
    config: Option<&'a Path>,
    session: Option<&'a Path>,
    username: Option<&'a Sourced<String>>,
    session_file: Option<&'a Sourced<String>>,
    session_dir: Option<&'a Path>,
    session_format: Option<&'a Sourced<SessionFormat>>,
    sandbox_dir: Option<&'a Path>,
    proxy: Option<&'a Sourced<crate::net::Proxy>>,
    test_dc: bool,
}

/// The session directory as an absolute flag value, when a flag or variable set it (a
/// config value comes back with `--config`).
fn session_dir_flag<'a>(resolved: &'a Path, input: &NamingInput) -> Option<&'a Path> {
    input
        .session_dir
        .filter(|d| !matches!(d.source, Source::File(_)))
        .map(|_| resolved)
}

/// Options set on the command line or in the environment are repeated as flags, so the
/// command works pasted anywhere; what the config file set comes back with `--config`.
fn advice_args(a: &AdviceInput) -> Vec<String> {
    let not_file = |s: &Source| !matches!(s, Source::File(_));
    let mut out = Vec::new();
    let mut push = |flag: &str, value: String| {
        out.push(flag.to_string());
        out.push(crate::output::shell_quote_str(&value));
    };
    if let Some(c) = a.config {
        push("--config", c.display().to_string());
    }
    if let Some(p) = a.session {
        push("--session", p.display().to_string());
    }
    if let Some(u) = a.username.filter(|u| not_file(&u.source)) {
        push("--username", u.value.clone());
    }
    if let Some(f) = a.session_file.filter(|f| not_file(&f.source)) {
        push("--session-file", f.value.clone());
    }
    if let Some(d) = a.session_dir {
        push("--session-dir", d.display().to_string());
    }
    if let Some(f) = a.session_format.filter(|f| not_file(&f.source)) {
        push("--session-format", f.value.name().to_string());
    }
    if let Some(d) = a.sandbox_dir {
        push("--sandbox-dir", d.display().to_string());
    }
    // A proxy from the flag has no password (refused there); one from the environment or
    // the config comes back by itself.
    if let Some(p) = a.proxy.filter(|p| matches!(p.source, Source::Flag(_))) {
        push("--proxy", p.value.to_string());
    }
    if a.test_dc {
        out.push("--test-dc".into());
    }
    out
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
        let mut args = GlobalArgs {
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
        let args = GlobalArgs {
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
            &GlobalArgs::default(),
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
        let s = resolve(&GlobalArgs::default(), &env(&[]), dir.path()).unwrap();
        let e = s.api_credentials().unwrap_err();
        assert!(e.to_string().contains("api_id"), "{e}");
    }
}
