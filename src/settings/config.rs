//! Finding and parsing the TOML configuration file.
//!
//! Precedence of each key is flag > environment (`TGSESS_<KEY>`) > file > default; this
//! module only deals with the file. [`super::keys`] merges the three layers.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::output::Shown;
use tgsess_shared::secret::Secret;

/// The keys a config file may hold. Unknown keys are an error (`deny_unknown_fields`): a typo
/// such as `usernme` must not silently change which session file is used.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    #[serde(default, deserialize_with = "api_id")]
    pub(crate) api_id: Option<i64>,
    pub(crate) api_hash: Option<Secret>,
    pub(crate) phone: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) session_file: Option<String>,
    pub(crate) session_dir: Option<String>,
    /// The directory of a `tgsess sandbox`: connect to it instead of Telegram.
    pub(crate) sandbox_dir: Option<String>,
    /// The session file's format: grammers (default for a new file), telethon, pyrogram.
    pub(crate) session_format: Option<tgsess_store::SessionFormat>,
    /// A SOCKS5 proxy URL; it may hold a password, so it is a secret.
    pub(crate) proxy: Option<Secret>,
    /// Telegram's test DCs instead of production (core.telegram.org/api/auth#test-accounts).
    pub(crate) test_dc: Option<bool>,
    /// The account the session must hold: `@username`, or a user id (a string or a number).
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) expect_user: Option<String>,
    /// A PostgreSQL URL: `exec` holds a lease on the session's key there.
    pub(crate) lease: Option<String>,
}

impl FileConfig {
    /// The value of config key `name` as text, for the merge in [`super::keys`]: numbers,
    /// booleans and formats in the words their flags take. An empty string counts as unset
    /// only where the key says so (username, session_file, sandbox_dir, proxy).
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let text = |v: &Option<String>| v.clone();
        match name {
            "api_id" => self.api_id.map(|v| v.to_string()),
            "api_hash" => self.api_hash.as_ref().map(|s| s.expose().to_string()),
            "phone" => text(&self.phone),
            "username" => text(&self.username),
            "session_file" => text(&self.session_file),
            "session_dir" => text(&self.session_dir),
            "sandbox_dir" => text(&self.sandbox_dir),
            "session_format" => self.session_format.map(|f| f.name().to_string()),
            "proxy" => self.proxy.as_ref().map(|s| s.expose().to_string()),
            "test_dc" => self.test_dc.map(|b| b.to_string()),
            "expect_user" => text(&self.expect_user),
            "lease" => text(&self.lease),
            _ => None,
        }
    }
}

/// A string, or an integer taken as its digits (`expect_user = 123` and `= "123"` alike).
fn string_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Given>::deserialize(d)?.map(|g| match g {
        Given::Text(t) => t,
        Given::Number(n) => n.to_string(),
    }))
}

/// A positive 32-bit api_id, checked while parsing so that toml's error names the line and
/// column.
fn api_id<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    let id = i64::deserialize(d)?;
    if id <= 0 || id > i64::from(i32::MAX) {
        return Err(serde::de::Error::custom(format!(
            "api_id = {id} is not a positive 32-bit integer; use the api_id from \
             https://my.telegram.org/apps"
        )));
    }
    Ok(Some(id))
}

/// Config files larger than this are not config files (`/dev/zero` must not eat memory).
const MAX_CONFIG: u64 = 256 * 1024;

/// Where the config file came from, for `status` and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConfigOrigin {
    Flag,
    Env,
    CurrentDir,
    Xdg,
}

impl ConfigOrigin {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            ConfigOrigin::Flag => "--config",
            ConfigOrigin::Env => "$TGSESS_CONFIG",
            ConfigOrigin::CurrentDir => "tgsess.toml in the current or a parent directory",
            ConfigOrigin::Xdg => "the user config directory",
        }
    }
}

/// A loaded config file.
#[derive(Debug)]
pub(crate) struct LoadedConfig {
    /// Absolute path of the file.
    pub(crate) path: PathBuf,
    pub(crate) origin: ConfigOrigin,
    pub(crate) values: FileConfig,
}

impl LoadedConfig {
    /// The directory relative paths in the config resolve against.
    pub(crate) fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }
}

/// Environment the lookup depends on, passed in so that tests need not touch the process's.
pub(crate) struct Lookup<'a> {
    pub(crate) flag: Option<&'a Path>,
    pub(crate) env: Option<&'a str>,
    pub(crate) cwd: &'a Path,
    pub(crate) xdg_config_home: Option<&'a str>,
    pub(crate) home: Option<&'a str>,
}

/// Finds the config file: `--config`, else `$TGSESS_CONFIG`, else `./tgsess.toml`, else
/// `$XDG_CONFIG_HOME/tgsess/config.toml` (`~/.config/tgsess/config.toml`).
///
/// A file named by the flag or the variable must exist; the two default places are optional.
pub(crate) fn locate(l: &Lookup) -> Result<Option<(PathBuf, ConfigOrigin)>> {
    let absolute = |p: &Path| -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            l.cwd.join(p)
        }
    };
    if let Some(p) = l.flag {
        return Ok(Some((absolute(p), ConfigOrigin::Flag)));
    }
    if let Some(v) = l.env.filter(|v| !v.is_empty()) {
        return Ok(Some((absolute(Path::new(v)), ConfigOrigin::Env)));
    }
    // ./tgsess.toml, then in each parent directory, as git and cargo look for theirs.
    for dir in l.cwd.ancestors() {
        let candidate = dir.join("tgsess.toml");
        if candidate.is_file() {
            return Ok(Some((candidate, ConfigOrigin::CurrentDir)));
        }
    }
    let xdg = match (l.xdg_config_home.filter(|v| !v.is_empty()), l.home) {
        (Some(x), _) => Some(PathBuf::from(x)),
        (None, Some(h)) if !h.is_empty() => Some(Path::new(h).join(".config")),
        _ => None,
    };
    if let Some(dir) = xdg {
        let p = dir.join("tgsess").join("config.toml");
        if p.exists() {
            return Ok(Some((p, ConfigOrigin::Xdg)));
        }
    }
    Ok(None)
}

/// Reads and parses the file. Errors name the file, and for syntax, type or unknown-key
/// errors the line and column (toml's own span report).
pub(crate) fn load(path: &Path, origin: ConfigOrigin) -> Result<LoadedConfig> {
    let text = read_regular(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::usage(format!(
            "config file {} (from {}) does not exist; create it (the keys are listed in \
             `tgsess --help`) or name another with --config",
            path.shown(),
            origin.describe()
        )),
        _ => Error::usage(format!("cannot read config file {}: {e}", path.shown())),
    })?;
    let values =
        parse(&text).map_err(|msg| Error::usage(format!("config file {}: {msg}", path.shown())))?;
    // The file exists: canonical form, so `../proj/tgsess.toml` prints as the real place.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(LoadedConfig {
        path,
        origin,
        values,
    })
}

/// Reads a config file: a regular file only (a FIFO would hang, a device never ends), at
/// most [`MAX_CONFIG`] bytes, UTF-8.
fn read_regular(path: &Path) -> std::io::Result<String> {
    tgsess_shared::fs::read_regular_text(path, MAX_CONFIG).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => {
            std::io::Error::other(format!("{e}; point --config at a file"))
        }
        std::io::ErrorKind::InvalidData => {
            std::io::Error::other(format!("{e}; a tgsess config is a few lines of text"))
        }
        _ => e,
    })
}

/// Parses config text; the error text carries toml's line/column report, with the values of
/// secret keys redacted from the quoted source line.
pub(crate) fn parse(text: &str) -> std::result::Result<FileConfig, String> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        // toml's Display is multi-line ("TOML parse error at line 3, column 1\n  |\n3 | ...").
        // Keep it all, but on one logical message.
        let s = e.to_string();
        cut_long_lines(&redact_secrets(s.trim_end()).replace("TOML parse error at ", ""))
    })
}

/// How much of one line of toml's report is shown: a quoted source line can be any length.
const SNIPPET_CHARS: usize = 120;

/// Cuts every line of a report to [`SNIPPET_CHARS`] characters, saying so.
fn cut_long_lines(msg: &str) -> String {
    msg.lines()
        .map(|l| {
            let n = l.chars().count();
            if n <= SNIPPET_CHARS {
                l.to_string()
            } else {
                let kept: String = l.chars().take(SNIPPET_CHARS).collect();
                format!("{kept}… ({} more characters not shown)", n - SNIPPET_CHARS)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Secret keys whose values never appear in an error.
const SECRET_KEYS: [&str; 2] = ["api_hash", "proxy"];

/// When toml's report quotes a line that sets a secret key, the value is cut from that line,
/// and quoted literals are cut from the message, which may repeat it.
fn redact_secrets(msg: &str) -> String {
    let secret_line = |l: &str| {
        l.split_once('|').is_some_and(|(n, rest)| {
            n.trim().parse::<u32>().is_ok() && SECRET_KEYS.iter().any(|k| rest.contains(k))
        })
    };
    if !msg.lines().any(secret_line) {
        return msg.to_string();
    }
    msg.lines()
        .map(|l| {
            if secret_line(l) {
                match l.split_once('=') {
                    Some((head, _)) => format!("{head}= <redacted>"),
                    None => format!("{} <redacted>", l.split('|').next().unwrap_or("")),
                }
            } else {
                cut_quoted(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces every `"…"` and `` `…` `` literal in a line with <redacted>.
fn cut_quoted(l: &str) -> String {
    let mut out = String::new();
    let mut inside: Option<char> = None;
    for c in l.chars() {
        match inside {
            Some(q) if c == q => {
                out.push_str("<redacted>");
                inside = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => inside = Some(c),
            None => out.push(c),
        }
    }
    if inside.is_some() {
        out.push_str("<redacted>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let e = parse("usernme = \"x\"\n").unwrap_err();
        assert!(e.contains("usernme"), "{e}");
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn wrong_type_is_reported_with_position() {
        let e = parse("api_hash = \"h\"\napi_id = \"123\"\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("api_id") || e.contains("integer"), "{e}");
    }

    #[test]
    fn secrets_never_appear_in_errors() {
        for text in [
            "api_hash = \"s3cr3t-value\"\napi_hash = \"s3cr3t-value\"\n",
            "api_hash = \"s3cr3t-value\n",
            "api_hash = s3cr3t-value\n",
            "api_id = 1\napi_hash = [\"s3cr3t-value\"]\n",
        ] {
            let e = parse(text).unwrap_err();
            assert!(!e.contains("s3cr3t"), "{text:?} -> {e}");
            assert!(e.contains("line"), "{e}");
        }
    }

    #[test]
    fn long_lines_are_cut_in_errors() {
        let text = format!("username = \"{}\"\nusernme = 1\n", "x".repeat(10_000));
        let e = parse(&format!("usernme = \"{}\"\n", "y".repeat(10_000))).unwrap_err();
        assert!(e.len() < 1000, "{} characters: {e}", e.len());
        assert!(e.contains("more characters not shown"), "{e}");
        assert!(parse(&text).unwrap_err().len() < 1000);
    }

    #[test]
    fn api_id_must_be_positive() {
        let e = parse("username = \"x\"\napi_id = 0").unwrap_err();
        assert!(e.contains("api_id = 0") && e.contains("line 2"), "{e}");
        assert!(parse("api_id = -5").is_err());
        assert!(parse("api_id = 99999999999").is_err());
        assert_eq!(parse("api_id = 12345").unwrap().api_id, Some(12345));
    }

    #[test]
    fn api_hash_is_redacted_in_debug() {
        let c = parse("api_hash = \"deadbeefcafe\"").unwrap();
        assert!(!format!("{c:?}").contains("deadbeef"));
    }

    #[test]
    fn lookup_order() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("cwd");
        let xdg = dir.path().join("xdg");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(xdg.join("tgsess")).unwrap();
        std::fs::write(xdg.join("tgsess/config.toml"), "").unwrap();
        let xdg_s = xdg.to_str().unwrap();
        let mut l = Lookup {
            flag: None,
            env: None,
            cwd: &cwd,
            xdg_config_home: Some(xdg_s),
            home: None,
        };
        assert_eq!(locate(&l).unwrap().unwrap().1, ConfigOrigin::Xdg);
        std::fs::write(cwd.join("tgsess.toml"), "").unwrap();
        assert_eq!(locate(&l).unwrap().unwrap().1, ConfigOrigin::CurrentDir);
        l.env = Some("other.toml");
        let (p, o) = locate(&l).unwrap().unwrap();
        assert_eq!((p, o), (cwd.join("other.toml"), ConfigOrigin::Env));
        l.flag = Some(Path::new("/abs/flag.toml"));
        assert_eq!(locate(&l).unwrap().unwrap().1, ConfigOrigin::Flag);
    }
}
