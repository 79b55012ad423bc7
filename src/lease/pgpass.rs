//! The password of a lease connection, by libpq's conventions (docs/lease.md): `PGPASSWORD`,
//! else the password file (`PGPASSFILE`, else `~/.pgpass`), whose lines are
//! `hostname:port:database:username:password`, `*` matching anything, `\` escaping `:` and
//! `\`; the first matching line wins; a file that group or others can read is ignored.

use std::path::{Path, PathBuf};

use crate::env::Env;

/// What a connection is for, as the password file matches it.
pub(crate) struct For<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) database: &'a str,
    pub(crate) user: &'a str,
}

/// The password for `target`, if the environment or a password file has one.
pub(crate) fn password(env: &dyn Env, target: &For) -> Option<String> {
    if let Some(p) = env.var("PGPASSWORD").filter(|p| !p.is_empty()) {
        return Some(p);
    }
    let file = passfile(env)?;
    if !private(&file) {
        return None;
    }
    let text = tgsess_shared::fs::read_regular_text(&file, 1 << 20).ok()?;
    text.lines().find_map(|line| matching(line, target))
}

fn passfile(env: &dyn Env) -> Option<PathBuf> {
    env.var("PGPASSFILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| Path::new(&h).join(".pgpass")))
}

/// libpq ignores a password file that group or others may read.
fn private(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

/// The password of `line` when its four fields match `target`.
fn matching(line: &str, target: &For) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    let fields = split(line);
    let [host, port, db, user, password] = fields.as_slice() else {
        return None;
    };
    let port_text = target.port.to_string();
    let ok = |field: &str, value: &str| field == "*" || field == value;
    // A Unix socket, or no host, matches "localhost" (libpq-pgpass.html).
    let host_ok = ok(host, target.host) || (target.host.starts_with('/') && host == "localhost");
    (host_ok && ok(port, &port_text) && ok(db, target.database) && ok(user, target.user))
        .then(|| password.clone())
}

/// The fields of a line, split at unescaped `:`, with `\:` and `\\` unescaped.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> For<'static> {
        For {
            host: "db.example",
            port: 5432,
            database: "bots",
            user: "tgsess",
        }
    }

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        assert_eq!(matching("other:5432:bots:tgsess:no", &target()), None);
        assert_eq!(
            matching("db.example:*:bots:tgsess:a\\:b\\\\c", &target()).as_deref(),
            Some("a:b\\c")
        );
        assert_eq!(
            matching("*:5432:*:*:pw:with:colons", &target()).as_deref(),
            Some("pw:with:colons")
        );
        assert_eq!(matching("# db.example:*:*:*:x", &target()), None);
        assert_eq!(matching("db.example:5433:bots:tgsess:x", &target()), None);
    }

    #[test]
    fn a_socket_matches_localhost() {
        let t = For {
            host: "/run/postgresql",
            ..target()
        };
        assert_eq!(
            matching("localhost:5432:bots:tgsess:s", &t).as_deref(),
            Some("s")
        );
    }
}
