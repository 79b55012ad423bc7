//! Finding and parsing the TOML configuration file.
//!
//! Precedence of each key is flag > environment (`TGSESS_<KEY>`) > file > default; this
//! module only deals with the file. [`crate::settings`] merges the three layers.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keys a config file may hold. Unknown keys are an error (`deny_unknown_fields`): a typo
/// such as `usernme` must not silently change which session file is used.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub api_id: Option<i64>,
    pub api_hash: Option<Secret>,
    pub phone: Option<String>,
    pub username: Option<String>,
    pub session_file: Option<String>,
    pub session_dir: Option<String>,
    /// The directory of a `tgsess sandbox`: connect to it instead of Telegram.
    pub sandbox_dir: Option<String>,
    /// The session file's format: grammers (default for a new file), telethon, pyrogram.
    pub session_format: Option<crate::store::SessionFormat>,
}

/// Where the config file came from, for `status` and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    Flag,
    Env,
    CurrentDir,
    Xdg,
}

impl ConfigOrigin {
    pub fn describe(&self) -> &'static str {
        match self {
            ConfigOrigin::Flag => "--config",
            ConfigOrigin::Env => "$TGSESS_CONFIG",
            ConfigOrigin::CurrentDir => "./tgsess.toml",
            ConfigOrigin::Xdg => "the user config directory",
        }
    }
}

/// A loaded config file.
#[derive(Debug)]
pub struct LoadedConfig {
    /// Absolute path of the file.
    pub path: PathBuf,
    pub origin: ConfigOrigin,
    pub values: FileConfig,
}

impl LoadedConfig {
    /// The directory relative paths in the config resolve against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("/"))
    }
}

/// Environment the lookup depends on, passed in so that tests need not touch the process's.
pub struct Lookup<'a> {
    pub flag: Option<&'a Path>,
    pub env: Option<&'a str>,
    pub cwd: &'a Path,
    pub xdg_config_home: Option<&'a str>,
    pub home: Option<&'a str>,
}

/// Finds the config file: `--config`, else `$TGSESS_CONFIG`, else `./tgsess.toml`, else
/// `$XDG_CONFIG_HOME/tgsess/config.toml` (`~/.config/tgsess/config.toml`).
///
/// A file named by the flag or the variable must exist; the two default places are optional.
pub fn locate(l: &Lookup) -> Result<Option<(PathBuf, ConfigOrigin)>> {
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
    let local = l.cwd.join("tgsess.toml");
    if local.exists() {
        return Ok(Some((local, ConfigOrigin::CurrentDir)));
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
pub fn load(path: &Path, origin: ConfigOrigin) -> Result<LoadedConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::usage(format!(
                "config file {} (from {}) does not exist; create it (see config.example.toml) \
                 or name another with --config",
                path.display(),
                origin.describe()
            )));
        }
        Err(e) => {
            return Err(Error::usage(format!(
                "cannot read config file {}: {e}",
                path.display()
            )));
        }
    };
    let values = parse(&text)
        .map_err(|msg| Error::usage(format!("config file {}: {msg}", path.display())))?;
    // The file exists: canonical form, so `../proj/tgsess.toml` prints as the real place.
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(LoadedConfig {
        path,
        origin,
        values,
    })
}

/// Parses config text; the error text carries toml's line/column report.
pub fn parse(text: &str) -> std::result::Result<FileConfig, String> {
    let values: FileConfig = toml::from_str(text).map_err(|e| {
        // toml's Display is multi-line ("TOML parse error at line 3, column 1\n  |\n3 | ...").
        // Keep it all, but on one logical message.
        let s = e.to_string();
        s.trim_end().replace("TOML parse error at ", "")
    })?;
    if let Some(id) = values.api_id
        && (id <= 0 || id > i64::from(i32::MAX))
    {
        return Err(format!(
            "api_id = {id} is not a positive 32-bit integer; use the api_id from \
             https://my.telegram.org/apps"
        ));
    }
    Ok(values)
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
    fn api_id_must_be_positive() {
        assert!(parse("api_id = 0").unwrap_err().contains("api_id = 0"));
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
