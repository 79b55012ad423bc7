//! The settings as a table: every key once, with its environment variable and its flag, and
//! the one rule that merges them: flag, else environment (an empty value counts as unset),
//! else config file, else the default. `--help`'s list of variables and the README's table
//! come from [`KEYS`].

use std::fmt;
use std::path::PathBuf;

use super::Flags;
use super::config::FileConfig;
use crate::env::Env;
use crate::error::Result;
use crate::output::Shown;

/// One setting.
#[derive(Debug)]
pub(crate) struct Key {
    /// Its name in the config file.
    pub(crate) name: &'static str,
    /// Its environment variable.
    pub(crate) env: &'static str,
    /// Its flag; none for a secret (arguments show in `ps` and shell history).
    pub(crate) flag: Option<&'static str>,
}

macro_rules! keys {
    ($($id:ident: $name:literal, $env:literal, $flag:expr;)*) => {
        $(pub const $id: Key = Key { name: $name, env: $env, flag: $flag };)*
        /// Every setting, in the order `--help` and the README list them.
        pub(crate) const KEYS: &[&Key] = &[$(&$id),*];
    };
}

keys! {
    API_ID: "api_id", "TGSESS_API_ID", Some("--api-id");
    API_HASH: "api_hash", "TGSESS_API_HASH", None;
    PHONE: "phone", "TGSESS_PHONE", Some("--phone");
    USERNAME: "username", "TGSESS_USERNAME", Some("--username");
    SESSION_FILE: "session_file", "TGSESS_SESSION_FILE", Some("--session-file");
    SESSION_DIR: "session_dir", "TGSESS_SESSION_DIR", Some("--session-dir");
    SESSION_FORMAT: "session_format", "TGSESS_SESSION_FORMAT", Some("--session-format");
    SANDBOX_DIR: "sandbox_dir", "TGSESS_SANDBOX_DIR", Some("--sandbox-dir");
    PROXY: "proxy", "TGSESS_PROXY", Some("--proxy");
    TEST_DC: "test_dc", "TGSESS_TEST_DC", Some("--test-dc");
    EXPECT_USER: "expect_user", "TGSESS_EXPECT_USER", Some("--expect-user");
    LEASE: "lease", "TGSESS_LEASE", Some("--lease");
}

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    /// Not set anywhere.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "flag {name}"),
            Origin::Env(name) => write!(f, "${name}"),
            Origin::File(p) => write!(f, "config file {}", p.shown()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// A setting's value together with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) source: Origin,
}

/// The three places a value can be given: flags, environment, config file.
pub(crate) struct Layers<'a> {
    pub(crate) flags: &'a Flags,
    pub(crate) env: &'a dyn Env,
    pub(crate) file: Option<(&'a FileConfig, &'a std::path::Path)>,
}

impl Layers<'_> {
    /// Every value given for `key`, highest precedence first.
    fn given(&self, key: &Key) -> Vec<Sourced<String>> {
        let flag = key
            .flag
            .and_then(|f| self.flags.get(key.name).map(|v| (v, Origin::Flag(f))));
        let env = self.env.set(key.env).map(|v| (v, Origin::Env(key.env)));
        let file = self.file.and_then(|(c, path)| {
            c.get(key.name)
                .map(|v| (v, Origin::File(path.to_path_buf())))
        });
        [flag, env, file]
            .into_iter()
            .flatten()
            .map(|(value, source)| Sourced { value, source })
            .collect()
    }

    /// `key`'s value, from the highest layer that gives one; every layer that gives one is
    /// parsed, so a bad value is an error even where another overrides it.
    pub(crate) fn get<T>(
        &self,
        key: &Key,
        parse: impl Fn(&str, &Origin) -> Result<T>,
    ) -> Result<Option<Sourced<T>>> {
        let mut out = None;
        for g in self.given(key) {
            let value = parse(&g.value, &g.source)?;
            out = out.or(Some(Sourced {
                value,
                source: g.source,
            }));
        }
        Ok(out)
    }

    /// A text value, as given (an empty one from the config file counts as unset where the
    /// caller filters it).
    pub(crate) fn text(&self, key: &Key) -> Result<Option<Sourced<String>>> {
        self.get(key, |v, _| Ok(v.to_string()))
    }
}

/// The variables `--help` lists, from [`KEYS`].
pub(crate) fn env_help() -> String {
    let names: Vec<&str> = KEYS.iter().map(|k| k.env).collect();
    format!(
        "Settings: every config key can also be given as TGSESS_<KEY> in the environment\n\
         ({}) and, except api_hash and a proxy password, as a flag. Precedence: flag >\n\
         environment > config file > default; an empty variable counts as unset.",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_table_lists_every_key_with_its_variable_and_flag() {
        let readme = include_str!("../../README.md");
        for key in KEYS {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", key.name)))
                .unwrap_or_else(|| panic!("README has no row for {}", key.name));
            assert!(row.contains(&format!("`{}`", key.env)), "{row}");
            match key.flag {
                Some(f) => assert!(row.contains(&format!("`{f}`")), "{row}"),
                None => assert!(row.contains("none"), "{row}"),
            }
        }
    }
}
