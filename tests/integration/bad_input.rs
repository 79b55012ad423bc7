//! Bad input, table-driven: at least 150 distinct bad configs, values, files and streams,
//! each run through the real binary. After every row: the exit code and a message fragment are as
//! expected, every file that existed before is byte-identical (SHA-256), nothing panicked,
//! no secret appears in any output, the command ended within its time limit, and (for the
//! faults, against the real sandbox) the request log shows no second code request.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Bad inputs: offline, each in a fresh directory.
// ---------------------------------------------------------------------------------------

/// What is at the session path (`work/s.session`) before the row runs.
#[derive(Clone, Copy, Debug)]
enum At {
    Nothing,
    Grammers,
    GrammersNoKey,
    Telethon,
    Pyrogram,
    Empty,
    Random,
    Truncated,
    NoTables,
    Unrelated,
    TelethonNoRow,
    TelethonTextKey,
    TelethonShortKey,
    PyrogramTextUser,
    GrammersTextKey,
    GrammersTextSubtype,
    Directory,
    DanglingLink,
    Fifo,
    JournalDir,
    HotJournal,
}

fn sql(path: &Path, statements: &[&str]) {
    rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let c = db.connect().unwrap();
        for s in statements {
            c.execute(s, ()).await.unwrap();
        }
    });
}

fn plant(at: At, p: &Path) {
    match at {
        At::Nothing => {}
        At::Grammers => grammers_session(p, Some((4242, false))),
        At::GrammersNoKey => {
            grammers_session(p, None);
            sql(p, &["UPDATE dc_option SET auth_key = NULL"]);
        }
        At::Telethon => telethon_session(p),
        At::Pyrogram => pyrogram_session(p),
        At::Empty => std::fs::write(p, b"").unwrap(),
        At::Random => std::fs::write(
            p,
            (0..5000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
                .collect::<Vec<_>>(),
        )
        .unwrap(),
        At::Truncated => {
            grammers_session(p, Some((1, false)));
            let b = std::fs::read(p).unwrap();
            std::fs::write(p, &b[..b.len() / 3]).unwrap();
        }
        At::NoTables => sql(p, &["CREATE TABLE t (x)", "DROP TABLE t"]),
        At::Unrelated => sql(p, &["CREATE TABLE notes (body TEXT)"]),
        At::TelethonNoRow => {
            telethon_session(p);
            sql(p, &["DELETE FROM sessions"]);
        }
        At::TelethonTextKey => {
            telethon_session(p);
            sql(p, &["UPDATE sessions SET auth_key = 'not a blob'"]);
        }
        At::TelethonShortKey => {
            telethon_session(p);
            sql(p, &["UPDATE sessions SET auth_key = x'0102'"]);
        }
        At::PyrogramTextUser => {
            pyrogram_session(p);
            sql(p, &["UPDATE sessions SET user_id = 'me'"]);
        }
        At::GrammersTextKey => {
            grammers_session(p, Some((5, false)));
            sql(p, &["UPDATE dc_option SET auth_key = 'text key'"]);
        }
        At::GrammersTextSubtype => {
            grammers_session(p, Some((5, false)));
            sql(p, &["UPDATE peer_info SET subtype = '1x'"]);
        }
        At::Directory => std::fs::create_dir(p).unwrap(),
        At::DanglingLink => std::os::unix::fs::symlink(p.with_file_name("gone"), p).unwrap(),
        At::Fifo => {
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            // SAFETY: mkfifo on a path we own.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        At::JournalDir => {
            grammers_session(p, Some((6, false)));
            std::fs::create_dir(p.with_file_name("s.session-journal")).unwrap();
        }
        At::HotJournal => {
            grammers_session(p, Some((7, false)));
            std::fs::write(p.with_file_name("s.session-journal"), b"half a write").unwrap();
        }
    }
}

struct Bad {
    name: String,
    /// The config file's text (`work/tgsess.toml`), when there is one.
    config: Option<String>,
    at: At,
    env: Vec<(&'static str, String)>,
    args: Vec<String>,
    stdin: Vec<u8>,
    exit: i32,
    fragment: String,
}

/// The config every row starts from: valid, with a secret api_hash and a sandbox dir where
/// no sandbox runs (so nothing can ever reach a network).
fn base_config() -> String {
    format!(
        "api_id = 1\napi_hash = \"{API_HASH}\"\nphone = \"9996621234\"\nsession_file = \"s\"\n\
         sandbox_dir = \"no-sandbox\"\n"
    )
}

fn bad(name: impl Into<String>, args: &[&str], exit: i32, fragment: &str) -> Bad {
    Bad {
        name: name.into(),
        config: Some(base_config()),
        at: At::Nothing,
        env: Vec::new(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: Vec::new(),
        exit,
        fragment: fragment.into(),
    }
}

impl Bad {
    fn config(mut self, text: impl Into<String>) -> Self {
        self.config = Some(text.into());
        self
    }
    fn no_config(mut self) -> Self {
        self.config = None;
        self
    }
    fn at(mut self, at: At) -> Self {
        self.at = at;
        self
    }
    fn env(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.env.push((k, v.into()));
        self
    }
    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }
}

/// Config rows: each key with values of the wrong type, malformed TOML, bad values.
fn config_rows() -> Vec<Bad> {
    let mut rows = Vec::new();
    let keys = [
        "api_id",
        "api_hash",
        "phone",
        "username",
        "session_file",
        "session_dir",
        "sandbox_dir",
        "session_format",
        "proxy",
    ];
    let wrong = [
        ("a table", "{ a = 1 }"),
        ("an array", "[1, 2]"),
        ("a boolean", "true"),
        ("a float", "1.5"),
        ("a date", "1979-05-27"),
    ];
    for key in keys {
        for (what, value) in wrong {
            let cfg = format!("api_hash = \"{API_HASH}\"\n{key} = {value}\n");
            rows.push(bad(format!("config {key} is {what}"), &["status"], 2, "line 2").config(cfg));
        }
    }
    let texts = [
        ("unknown key", "usernme = \"x\"\n", "usernme"),
        ("unknown key api_hsh", "api_hsh = \"x\"\n", "api_hsh"),
        (
            "proxy not socks5",
            "proxy = \"http://u:PASSWORD@h:1\"\n",
            "only socks5",
        ),
        (
            "proxy without port",
            "proxy = \"socks5://u:PASSWORD@h\"\n",
            "port is missing",
        ),
        ("unterminated string", "username = \"abc\n", "line 1"),
        ("missing equals", "username \"abc\"\n", "line 1"),
        (
            "duplicate api_hash",
            "api_hash = \"A\"\napi_hash = \"B\"\n",
            "line 2",
        ),
        ("bad table header", "[oops\n", "line 1"),
        ("invalid escape", "username = \"a\\qb\"\n", "line 1"),
        ("lone bracket", "]\n", "line 1"),
        ("api_id zero", "api_id = 0\n", "api_id = 0"),
        ("api_id negative", "api_id = -7\n", "api_id = -7"),
        ("api_id too large", "api_id = 4294967296\n", "32-bit"),
        ("api_id as string", "api_id = \"123\"\n", "line 1"),
        (
            "username with slash",
            "username = \"a/b\"\n",
            "path separator",
        ),
        ("username dot dot", "username = \"..\"\n", "'..'"),
        ("username blank", "username = \"   \"\n", "blank"),
        (
            "session_file with slash",
            "session_file = \"x/y\"\n",
            "path separator",
        ),
        (
            "session_file backslash",
            "session_file = \"x\\\\y\"\n",
            "path separator",
        ),
        ("session_file dot dot", "session_file = \"a..b\"\n", "'..'"),
        (
            "session_format unknown",
            "session_format = \"telethn\"\n",
            "telethn",
        ),
        (
            "session_format capitalised",
            "session_format = \"Telethon\"\n",
            "Telethon",
        ),
        ("NUL byte after a value", "username = \"x\"\0\n", "line 1"),
    ];
    for (what, text, frag) in texts {
        let cfg = if what == "duplicate api_hash" {
            format!("api_hash = \"{API_HASH}\"\napi_hash = \"{API_HASH}\"\n")
        } else {
            text.replace("PASSWORD", PASSWORD)
        };
        rows.push(bad(format!("config {what}"), &["status"], 2, frag).config(cfg));
    }
    rows.push(
        bad("config secret unterminated", &["status"], 2, "line 1")
            .config(format!("api_hash = \"{API_HASH}\n")),
    );
    rows.push(
        bad("config secret bare word", &["status"], 2, "line 1")
            .config(format!("api_hash = {API_HASH}\n")),
    );
    rows.push(
        bad("config larger than 256 KiB", &["status"], 2, "larger than")
            .config(format!("# {}\n", "x".repeat(300 * 1024))),
    );
    rows
}

/// Environment and flag rows.
fn env_and_flag_rows() -> Vec<Bad> {
    let mut rows = Vec::new();
    for v in ["abc", "0", "-3", "1.5", "99999999999", "0x10"] {
        rows.push(
            bad(
                format!("env TGSESS_API_ID {v}"),
                &["status"],
                2,
                "TGSESS_API_ID",
            )
            .env("TGSESS_API_ID", v),
        );
        rows.push(bad(
            format!("flag --api-id {v}"),
            &[&format!("--api-id={v}"), "status"],
            2,
            "--api-id",
        ));
    }
    for v in ["foo", "TELETHON", "sqlite", "grammers2"] {
        rows.push(
            bad(
                format!("env TGSESS_SESSION_FORMAT {v}"),
                &["status"],
                2,
                "TGSESS_SESSION_FORMAT",
            )
            .env("TGSESS_SESSION_FORMAT", v),
        );
    }
    rows.push(bad(
        "flag --session-format bad",
        &["--session-format", "tdlib", "status"],
        2,
        "tdlib",
    ));
    for v in ["a/b", "..", "   "] {
        rows.push(
            bad(
                format!("env TGSESS_USERNAME {v:?}"),
                &["status"],
                2,
                "username",
            )
            .env("TGSESS_USERNAME", v),
        );
        rows.push(bad(
            format!("flag --session-file {v:?}"),
            &["--session-file", v, "status"],
            2,
            "session_file",
        ));
    }
    let flags: [(&str, &[&str], &str); 14] = [
        ("unknown flag", &["status", "--frobnicate"], "--frobnicate"),
        ("unknown command", &["frobnicate"], "frobnicate"),
        (
            "check timeout not a number",
            &["check", "--timeout", "soon"],
            "soon",
        ),
        (
            "check timeout negative",
            &["check", "--timeout", "-1"],
            "-1",
        ),
        (
            "login timeout not a number",
            &["login", "--timeout", "x"],
            "'x'",
        ),
        ("import without source", &["import"], "SOURCE"),
        ("export without format", &["export"], "--format"),
        (
            "export bad format",
            &["export", "--format", "tdlib"],
            "tdlib",
        ),
        ("completions bad shell", &["completions", "tcsh"], "tcsh"),
        (
            "json and quiet together",
            &["check", "--json", "-q"],
            "cannot be used",
        ),
        (
            "bot with resend",
            &["login", "--bot", "--resend"],
            "cannot be used",
        ),
        (
            "import bad format",
            &["import", "--format", "x", "-"],
            "'x'",
        ),
        (
            "sandbox not loopback",
            &["sandbox", "--listen", "10.0.0.1:1"],
            "loopback",
        ),
        (
            "dc-address not an address",
            &["import", "--dc-address", "nowhere", "-"],
            "nowhere",
        ),
    ];
    for (what, args, frag) in flags {
        rows.push(bad(format!("flag {what}"), args, 2, frag));
    }
    rows.push(
        bad(
            "config flag missing",
            &["--config", "nope.toml", "status"],
            2,
            "nope.toml",
        )
        .no_config(),
    );
    rows.push(
        bad("config env missing", &["status"], 2, "does not exist")
            .no_config()
            .env("TGSESS_CONFIG", "/nonexistent/tgsess.toml"),
    );
    rows.push(
        bad(
            "config is a directory",
            &["--config", ".", "status"],
            2,
            "not a regular file",
        )
        .no_config(),
    );
    rows.push(
        bad(
            "config is /dev/zero",
            &["--config", "/dev/zero", "status"],
            2,
            "not a regular",
        )
        .no_config(),
    );
    rows.push(
        bad(
            "missing api_id for check",
            &["check"],
            2,
            "api_id is not set",
        )
        .config(format!("api_hash = \"{API_HASH}\"\nsession_file = \"s\"\n"))
        .at(At::Grammers),
    );
    rows.push(
        bad(
            "missing api_hash for login",
            &["login"],
            2,
            "api_hash is not set",
        )
        .config("api_id = 1\nsession_file = \"s\"\n"),
    );
    rows
}

/// Rows with something odd at the session path, for several commands each.
fn session_rows() -> Vec<Bad> {
    let mut rows = Vec::new();
    let broken: [(At, &str); 8] = [
        (At::Empty, "empty file"),
        (At::Random, "not an SQLite database"),
        (At::Truncated, "not a session"),
        (At::NoTables, "no tables"),
        (At::Unrelated, "tables: notes"),
        (At::TelethonNoRow, "empty sessions table"),
        (At::TelethonShortKey, "not 256"),
        (At::TelethonTextKey, "not a BLOB"),
    ];
    for (at, frag) in broken {
        for args in [
            &["status"][..],
            &["check", "--offline"],
            &["reset", "--yes"],
            &["login"],
            &[
                "export",
                "--format",
                "telethon-string",
                "--output",
                "out.txt",
            ],
        ] {
            rows.push(bad(format!("{at:?} then {}", args.join(" ")), args, 4, frag).at(at));
        }
    }
    let more: [(At, &[&str], i32, &str); 16] = [
        (
            At::PyrogramTextUser,
            &["check", "--offline"],
            4,
            "not an INTEGER",
        ),
        (At::PyrogramTextUser, &["login"], 4, "not an INTEGER"),
        (At::GrammersTextKey, &["status"], 4, "not a BLOB"),
        (At::GrammersTextKey, &["login"], 4, "not a BLOB"),
        (
            At::GrammersTextSubtype,
            &["check", "--offline"],
            4,
            "not an INTEGER",
        ),
        (At::GrammersTextSubtype, &["login"], 4, "not an INTEGER"),
        (At::Directory, &["status"], 4, "is a directory"),
        (At::Directory, &["login"], 4, "is a directory"),
        (At::Fifo, &["status"], 4, "not a regular file"),
        (At::Fifo, &["reset", "--yes"], 4, "not a regular file"),
        (
            At::DanglingLink,
            &["login", "--code-stdin"],
            4,
            "dangling symlink",
        ),
        (
            At::DanglingLink,
            &["import", "--force", "-"],
            2,
            "stdin is empty",
        ),
        (At::JournalDir, &["reset", "--yes"], 4, "not a regular file"),
        (At::HotJournal, &["reset", "--yes"], 4, "unfinished write"),
        (At::HotJournal, &["login"], 4, "unfinished write"),
        (
            At::Telethon,
            &["logout", "--yes"],
            4,
            "session_format = \"telethon\"",
        ),
    ];
    for (at, args, exit, frag) in more {
        rows.push(bad(format!("{at:?} then {}", args.join(" ")), args, exit, frag).at(at));
    }
    let declared: [(At, &str); 3] = [
        (At::Telethon, "pyrogram"),
        (At::Pyrogram, "grammers"),
        (At::Grammers, "telethon"),
    ];
    for (at, format) in declared {
        for args in [&["status"][..], &["check", "--offline"], &["login"]] {
            let mut a = vec!["--session-format", format];
            a.extend_from_slice(args);
            rows.push(
                bad(
                    format!("{at:?} declared {format} then {}", args.join(" ")),
                    &a,
                    4,
                    "tgsess changes nothing until they agree",
                )
                .at(at),
            );
        }
    }
    rows.push(
        bad(
            "import over a key without --force",
            &["import", "SRC"],
            4,
            "--force",
        )
        .at(At::Grammers),
    );
    rows.push(
        bad(
            "pyrogram export without user id",
            &["export", "--format", "pyrogram-string", "--output", "-"],
            3,
            "user id",
        )
        .at(At::Telethon),
    );
    rows.push(
        bad(
            "export with no key",
            &["export", "--format", "telethon-string", "--output", "-"],
            1,
            "no login key",
        )
        .at(At::GrammersNoKey),
    );
    rows.push(
        bad(
            "export over an existing file",
            &["export", "--format", "pyrogram", "--output", "tgsess.toml"],
            4,
            "never overwrites",
        )
        .at(At::Grammers),
    );
    rows
}

/// Sources for `import` (stdin or a file), and phone values.
fn import_rows() -> Vec<Bad> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let good = std::fs::read_to_string(fixtures.join("telethon-ipv4.string")).unwrap();
    let good = good.trim().to_string();
    let pg = std::fs::read_to_string(fixtures.join("pyrogram-362.string")).unwrap();
    let pg = pg.trim().to_string();
    let mut rows = Vec::new();
    let strings: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "stdin is empty"),
        ("whitespace", "   \n\t ".into(), "stdin is empty"),
        ("just 1", "1".into(), "characters"),
        ("telethon truncated", good[..200].to_string(), "characters"),
        ("telethon one extra", format!("{good}A"), "characters"),
        (
            "telethon bad version",
            format!("9{}", &good[1..]),
            "not a session string",
        ),
        (
            "telethon star",
            format!("{}*{}", &good[..40], &good[41..]),
            "base64",
        ),
        ("pyrogram 350", pg[..350].to_string(), "characters"),
        ("pyrogram 361", pg[..361].to_string(), "characters"),
        ("pyrogram padded", format!("{pg}="), "not a session string"),
        ("pyrogram star", format!("*{}", &pg[1..]), "base64"),
        (
            "prose",
            "hello, this is not a session".into(),
            "not a session string",
        ),
        ("json", "{\"dc\": 2}".into(), "not a session string"),
        (
            "url",
            "https://example.org/session".into(),
            "not a session string",
        ),
        ("nul bytes", "1\0\0\0".into(), "not a session string"),
    ];
    for (what, text, frag) in strings {
        rows.push(bad(format!("import string {what}"), &["import", "-"], 2, frag).stdin(text));
    }
    let pyro_fixed: [(&str, usize, u8, &str); 3] = [
        ("pyrogram dc 0", 0, 0, "out of range"),
        ("pyrogram dc 9", 0, 9, "out of range"),
        ("pyrogram test_mode 2", 5, 2, "booleans"),
    ];
    for (what, at, byte, frag) in pyro_fixed {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut raw = e.decode(&pg).unwrap();
        raw[at] = byte;
        rows.push(bad(format!("import {what}"), &["import", "-"], 2, frag).stdin(e.encode(raw)));
    }
    {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut raw = e.decode(&pg).unwrap();
        raw[6..262].fill(0);
        rows.push(bad("import zero key", &["import", "-"], 2, "all zero").stdin(e.encode(raw)));
    }
    rows.push(
        bad("import big stdin", &["import", "-"], 2, "more than 64 KiB").stdin(vec![b'A'; 70_000]),
    );
    rows.push(bad(
        "import missing file",
        &["import", "nope/missing.session"],
        2,
        "missing.session",
    ));
    rows.push(bad("import a directory", &["import", "."], 2, "directory"));
    rows.push(bad(
        "import the config",
        &["import", "tgsess.toml"],
        2,
        "tgsess.toml",
    ));
    rows.push(
        bad(
            "import format telethon for text",
            &["import", "--format", "telethon", "-"],
            2,
            "SQLite",
        )
        .stdin(good.clone()),
    );
    rows.push(
        bad(
            "import format pyrogram-string for telethon",
            &["import", "--format", "pyrogram-string", "-"],
            2,
            "padding",
        )
        .stdin(good.clone()),
    );
    rows.push(
        bad(
            "import ipv6 dc-address",
            &["import", "--dc-address", "[::1]:443", "-"],
            2,
            "IPv6",
        )
        .stdin(good.clone()),
    );
    for phone in [
        "abc",
        "+",
        "123",
        "+0123456789",
        "+1234567890123456",
        "12a4567",
        "++15551234567",
    ] {
        rows.push(
            bad(format!("phone {phone:?}"), &["--phone", phone, "login", "--code-stdin"], 2, "international format")
                .config(format!(
                    "api_id = 1\napi_hash = \"{API_HASH}\"\nsession_file = \"s\"\nsandbox_dir = \"SANDBOX\"\n"
                )),
        );
    }
    rows
}

fn all_bad_inputs() -> Vec<Bad> {
    let mut rows = config_rows();
    rows.extend(env_and_flag_rows());
    rows.extend(session_rows());
    rows.extend(import_rows());
    rows
}

/// Phone rows need a running sandbox (login checks the key first): SANDBOX in the config is
/// replaced by one shared sandbox's directory; none of them may reach auth.sendCode.
#[test]
fn at_least_150_bad_inputs_change_nothing_and_leak_nothing() {
    let rows = all_bad_inputs();
    let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), rows.len(), "row names must be distinct");
    assert!(rows.len() >= 150, "only {} bad inputs", rows.len());
    let dc = Dc::start(&[]);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let limit = Duration::from_secs(10);
    let mut failures = Vec::new();
    for r in &rows {
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            one_bad_input(r, &dc, &fixtures, limit)
        })) {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| r.name.clone()),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
    eprintln!("{} bad inputs checked", rows.len());
}

fn one_bad_input(r: &Bad, dc: &Dc, fixtures: &Path, limit: Duration) {
    {
        let tmp = tempfile::tempdir().unwrap();
        let (home, work) = (tmp.path().join("home"), tmp.path().join("work"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        if let Some(cfg) = &r.config {
            let cfg = cfg.replace("SANDBOX", dc.dir.to_str().unwrap());
            std::fs::write(work.join("tgsess.toml"), cfg.as_bytes()).unwrap();
        }
        plant(r.at, &work.join("s.session"));
        let before = hashes(tmp.path());
        let sends = dc.count("auth.sendCode");
        let mut cmd = Command::new(bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".state"))
            .env("NO_COLOR", "1")
            .env("TGSESS_PASSWORD", PASSWORD)
            .env("TGSESS_BOT_TOKEN", BOT_TOKEN)
            .current_dir(&work);
        for (k, v) in &r.env {
            cmd.env(k, v);
        }
        let src = fixtures.join("telethon-ipv4.string");
        cmd.args(
            r.args
                .iter()
                .map(|a| if a == "SRC" { src.to_str().unwrap() } else { a }),
        );
        let o = run_bounded(cmd, &r.stdin, limit);
        let what = &r.name;
        check_common(what, &o, limit);
        assert_eq!(o.code, Some(r.exit), "{what}: {}", o.text);
        assert!(
            o.text.contains(&r.fragment),
            "{what}: wanted {:?} in: {}",
            r.fragment,
            o.text
        );
        let after = hashes(tmp.path());
        let gone = changed(&before, &after, &[]);
        assert!(gone.is_empty(), "{what}: changed {gone:?}");
        // A login may set up tgsess's own state directory; nothing else may appear.
        let state = home.join(".state");
        let created: Vec<_> = after
            .keys()
            .filter(|p| !before.contains_key(*p))
            .filter(|p| !(r.args.iter().any(|a| a == "login") && p.starts_with(&state)))
            .collect();
        assert!(created.is_empty(), "{what}: created {created:?}");
        assert_eq!(
            dc.count("auth.sendCode"),
            sends,
            "{what}: a code was requested"
        );
    }
}
