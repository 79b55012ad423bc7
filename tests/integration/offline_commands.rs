//! What works without a network: config lookup and naming, status, check --offline, list,
//! reset, and their bad input.

use std::path::PathBuf;

use serde::Deserialize;

use crate::common::*;

// ---- JSON schemas, pinned: an added, removed or renamed field fails these tests. ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Status {
    config_file: Option<PathBuf>,
    session: SessionJ,
    near_misses: Vec<FoundJ>,
    warnings: Vec<String>,
    copies: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SessionJ {
    path: PathBuf,
    decided_by: String,
    reason: String,
    exists: bool,
    format: Option<String>,
    session_format: Option<String>,
    format_reason: String,
    detail: Option<String>,
    damage: Option<String>,
    note: Option<String>,
    home_dc: Option<i32>,
    dc_address: Option<String>,
    has_auth_key: bool,
    auth_key_id: Option<String>,
    signed_in: String,
    user_id: Option<i64>,
    bot: Option<bool>,
    test_mode: Option<bool>,
    mode: Option<String>,
    owner_uid: Option<u32>,
    size: Option<u64>,
    modified: Option<String>,
    last_confirmed: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct FoundJ {
    path: PathBuf,
    format: String,
    detail: String,
    damage: Option<String>,
    has_auth_key: bool,
    signed_in: String,
    user_id: Option<i64>,
    bot: Option<bool>,
    size: u64,
    same_key: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CheckJ {
    status: String,
    error: Option<String>,
    reason: String,
    user_id: Option<i64>,
    username: Option<String>,
    name: Option<String>,
    bot: Option<bool>,
    dc: Option<i32>,
    session: PathBuf,
    offline: bool,
    held: Option<serde_json::Value>,
    last_confirmed: Option<serde_json::Value>,
    elapsed_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ListJ {
    session_dir: PathBuf,
    sessions: Vec<FoundJ>,
}

fn status_json(sb: &Workdir, args: &[&str]) -> Status {
    status_json_exit(sb, args, 0)
}

fn status_json_exit(sb: &Workdir, args: &[&str], code: i32) -> Status {
    let out = sb
        .cmd()
        .args(args)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

// ---- naming ----

#[test]
fn username_names_the_file_and_status_says_why() {
    let sb = Workdir::new();
    sb.write(
        "tgsess.toml",
        "username = \"karaposu\"\nsession_file = \"telegram_session\"\n",
    );
    let s = status_json(&sb, &[]);
    assert_eq!(s.session.path, sb.work.join("karaposu.session"));
    assert_eq!(s.session.decided_by, "username");
    assert!(s.session.reason.contains("username \"karaposu\""));
    assert!(
        s.session
            .reason
            .contains("session_file \"telegram_session\" ignored")
    );
    assert!(!s.session.exists);
    let out = sb.cmd().arg("status").output().unwrap();
    let text = stdout_of(&out);
    assert!(text.contains(&format!(
        "Session file: {}",
        sb.work.join("karaposu.session").display()
    )));
    assert!(text.contains("why:"), "{text}");
}

#[test]
fn quoted_username_is_used_as_written_with_a_warning() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"'karaposu'\"\n");
    // A session made by an earlier tool under the quoted name keeps working.
    grammers_session(&sb.work.join("'karaposu'.session"), Some((1001, false)));
    let out = sb.cmd().arg("status").output().unwrap();
    assert!(
        stderr_of(&out).contains("tgsess: warning: username \"'karaposu'\""),
        "{}",
        stderr_of(&out)
    );
    assert!(stderr_of(&out).contains("\"'karaposu'.session\""));
    let out = sb.cmd().args(["check", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("signed in as user 1001"));
}

#[test]
fn fallbacks_session_file_then_default() {
    let sb = Workdir::new();
    sb.write(
        "tgsess.toml",
        "username = \"\"\nsession_file = \"bot.session\"\n",
    );
    let s = status_json(&sb, &[]);
    assert_eq!(s.session.path, sb.work.join("bot.session"));
    assert_eq!(s.session.decided_by, "session_file");
    sb.write("tgsess.toml", "");
    let s = status_json(&sb, &[]);
    assert_eq!(s.session.path, sb.work.join("telegram_session.session"));
    assert_eq!(s.session.decided_by, "default");
}

#[test]
fn running_from_another_directory_uses_the_same_session() {
    let sb = Workdir::new();
    let proj = sb.work.join("proj");
    std::fs::create_dir_all(proj.join("sessions")).unwrap();
    std::fs::write(
        proj.join("tgsess.toml"),
        "username = \"me\"\nsession_dir = \"sessions\"\n",
    )
    .unwrap();
    let elsewhere = sb.work.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = tgsess(&sb.home, &elsewhere)
        .args(["--config", "../proj/tgsess.toml", "status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, proj.join("sessions").join("me.session"));
    // Through $TGSESS_CONFIG too.
    let out = tgsess(&sb.home, &elsewhere)
        .env("TGSESS_CONFIG", proj.join("tgsess.toml"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, proj.join("sessions").join("me.session"));
}

#[test]
fn xdg_config_is_found_and_sessions_default_to_the_data_dir() {
    let sb = Workdir::new();
    let cfgdir = sb.home.join(".config/tgsess");
    std::fs::create_dir_all(&cfgdir).unwrap();
    std::fs::write(cfgdir.join("config.toml"), "username = \"x\"\n").unwrap();
    let s = status_json(&sb, &[]);
    assert_eq!(s.config_file, Some(cfgdir.join("config.toml")));
    // Sessions hold keys: data, not configuration ($XDG_DATA_HOME, else ~/.local/share).
    assert_eq!(
        s.session.path,
        sb.home.join(".local/share/tgsess/x.session")
    );
    let out = sb
        .cmd()
        .env("XDG_DATA_HOME", sb.home.join("data"))
        .args(["status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, sb.home.join("data/tgsess/x.session"));
    // A relative session_dir in that config still follows the config's directory.
    std::fs::write(
        cfgdir.join("config.toml"),
        "username = \"x\"\nsession_dir = \"s\"\n",
    )
    .unwrap();
    let s = status_json(&sb, &[]);
    assert_eq!(s.session.path, cfgdir.join("s/x.session"));
}

#[test]
fn tgsess_toml_is_found_in_a_parent_directory_and_flags_follow_the_current_one() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"bot\"\n");
    let deep = sb.work.join("src/handlers");
    std::fs::create_dir_all(&deep).unwrap();
    let out = tgsess(&sb.home, &deep)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.config_file, Some(sb.work.join("tgsess.toml")));
    assert_eq!(s.session.path, sb.work.join("bot.session"));
    // A relative --session is relative to where the command runs, not to the config.
    let out = tgsess(&sb.home, &deep)
        .args(["--session", "here.session", "status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, deep.join("here.session"));
}

#[test]
fn precedence_flag_over_env_over_file() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"file\"\n");
    assert_eq!(
        status_json(&sb, &[]).session.path,
        sb.work.join("file.session")
    );
    let out = sb
        .cmd()
        .env("TGSESS_USERNAME", "env")
        .args(["status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, sb.work.join("env.session"));
    assert!(
        s.session.reason.contains("$TGSESS_USERNAME"),
        "{}",
        s.session.reason
    );
    let out = sb
        .cmd()
        .env("TGSESS_USERNAME", "env")
        .args(["--username", "flag", "status", "--json"])
        .output()
        .unwrap();
    let s: Status = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s.session.path, sb.work.join("flag.session"));
    assert!(s.session.reason.contains("flag --username"));
}

#[test]
fn session_flag_overrides_naming() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"me\"\n");
    let s = status_json(&sb, &["--session", "other/x.db"]);
    assert_eq!(s.session.path, sb.work.join("other/x.db"));
    assert_eq!(s.session.decided_by, "session_flag");
    assert!(s.session.reason.contains("username \"me\" ignored"));
}

#[test]
fn bad_names_are_rejected_naming_the_key() {
    let sb = Workdir::new();
    for (toml, key) in [
        ("username = \"a/b\"", "username"),
        ("username = \"..\"", "username"),
        ("username = \"   \"", "username"),
        ("session_file = \"x/../y\"", "session_file"),
    ] {
        sb.write("tgsess.toml", toml);
        let out = sb.cmd().arg("status").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{toml}");
        assert!(
            stderr_of(&out).starts_with(&format!("tgsess: error: {key}")),
            "{toml}: {}",
            stderr_of(&out)
        );
    }
}

// ---- near misses ----

#[test]
fn status_lists_signed_in_sessions_under_other_names() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"renamed\"\n");
    grammers_session(&sb.work.join("old.session"), Some((4242, false)));
    telethon_session(&sb.work.join("'karaposu'.session"));
    std::fs::write(sb.work.join("notes.txt"), "hello").unwrap();
    let s = status_json(&sb, &[]);
    assert_eq!(s.near_misses.len(), 2, "{:?}", s.near_misses);
    let old = s
        .near_misses
        .iter()
        .find(|n| n.path.ends_with("old.session"))
        .unwrap();
    assert_eq!(
        (old.format.as_str(), old.signed_in.as_str(), old.user_id),
        ("tgsess", "yes", Some(4242))
    );
    let tl = s
        .near_misses
        .iter()
        .find(|n| n.path.ends_with("'karaposu'.session"))
        .unwrap();
    assert_eq!(tl.format, "telethon");
    // Telethon records no user: unknown, never "not signed in".
    assert_eq!(tl.signed_in, "unknown");
    assert!(s.warnings.iter().any(|w| w.contains("classic cause")));
    let text = stdout_of(&sb.cmd().arg("status").output().unwrap());
    assert!(text.contains("signed in as user 4242"), "{text}");
}

// ---- check --offline ----

fn check(sb: &Workdir, extra: &[&str]) -> std::process::Output {
    sb.cmd()
        .args(["check", "--offline"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn check_offline_missing_file_is_1_and_creates_nothing() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"me\"\n");
    let before = snapshot(&sb.work);
    let out = check(&sb, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout_of(&out).contains("no session file"));
    assert_eq!(snapshot(&sb.work), before);
    let out = check(&sb, &["--json"]);
    let j: CheckJ = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.status, "not_signed_in");
    assert!(j.offline);
    assert_eq!(snapshot(&sb.work), before);
}

#[test]
fn check_offline_signed_in_and_not() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"me\"\n");
    grammers_session(&sb.work.join("me.session"), Some((99, true)));
    let before = snapshot(&sb.work);
    let out = check(&sb, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let j: CheckJ = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (j.status.as_str(), j.user_id, j.bot, j.dc),
        ("signed_in", Some(99), Some(true), Some(2))
    );
    let out = check(&sb, &["-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(snapshot(&sb.work), before);

    // A grammers key with no user recorded (an import from Telethon, say): the file alone
    // cannot tell, so offline this is no verdict, never "not signed in".
    grammers_session(&sb.work.join("key.session"), None);
    let out = sb
        .cmd()
        .args(["--username", "key", "check", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout_of(&out).contains("unknown offline"),
        "{}",
        stdout_of(&out)
    );
    // A file with no key at all is not signed in.
    grammers_session(&sb.work.join("nokey.session"), None);
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(sb.work.join("nokey.session"))
            .build()
            .await
            .unwrap();
        let c = db.connect().unwrap();
        c.execute("UPDATE dc_option SET auth_key = NULL", ())
            .await
            .unwrap();
    });
    let out = sb
        .cmd()
        .args(["--username", "nokey", "check", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
}

#[test]
fn foreign_and_broken_files_are_exit_4_and_unchanged() {
    let sb = Workdir::new();
    telethon_session(&sb.work.join("tl.session"));
    pyrogram_session(&sb.work.join("pg.session"));
    std::fs::write(sb.work.join("empty.session"), b"").unwrap();
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(sb.work.join("random.session"), &random).unwrap();
    // A grammers session cut short: SQLite header intact, pages missing.
    grammers_session(&sb.work.join("full.session"), Some((5, false)));
    let full = std::fs::read(sb.work.join("full.session")).unwrap();
    std::fs::write(sb.work.join("trunc.session"), &full[..full.len() / 3]).unwrap();
    std::fs::remove_file(sb.work.join("full.session")).unwrap();
    std::fs::create_dir(sb.work.join("dir.session")).unwrap();
    let before = snapshot(&sb.work);
    for (name, expect) in [
        ("empty", "empty file"),
        ("random", "not an SQLite database"),
        ("trunc", "not a session"),
        ("dir", "is a directory"),
    ] {
        for cmd in [&["check", "--offline"][..], &["reset", "--yes"][..]] {
            let out = sb
                .cmd()
                .args(["--session", &format!("{name}.session")])
                .args(cmd)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(4),
                "{name} {cmd:?}: {}",
                stderr_of(&out)
            );
            let err = stderr_of(&out);
            assert!(err.contains(expect), "{name}: {err}");
            assert!(err.contains(&format!("{name}.session")), "{name}: {err}");
        }
    }
    // Telethon and Pyrogram files are read in place; writing or deleting them needs the
    // format declared, and the refusal prints the line to add.
    for (name, format, offline_exit) in [("tl", "telethon", 3), ("pg", "pyrogram", 0)] {
        let file = format!("{name}.session");
        let out = sb
            .cmd()
            .args(["--session", &file, "check", "--offline"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(offline_exit),
            "{name}: {}",
            stdout_of(&out)
        );
        let out = sb
            .cmd()
            .args(["--session", &file, "reset", "--yes"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{name}");
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!("--session-format {format}")),
            "{name}: {err}"
        );
        let other = if format == "telethon" {
            "pyrogram"
        } else {
            "telethon"
        };
        let out = sb
            .cmd()
            .args(["--session", &file, "--session-format", other, "status"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(4),
            "{name}: declared format disagrees"
        );
    }
    let out = sb
        .cmd()
        .args(["--session", "empty.session", "check", "--offline", "--json"])
        .output()
        .unwrap();
    let j: CheckJ = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (j.status.as_str(), out.status.code()),
        ("file_problem", Some(4))
    );
    // status reports a Pyrogram file in full, format and reason included.
    let s = status_json_exit(&sb, &["--session", "pg.session"], 0);
    assert_eq!(s.session.format.as_deref(), Some("pyrogram"));
    assert_eq!(s.session.session_format.as_deref(), Some("pyrogram"));
    assert!(
        s.session.format_reason.contains("detected"),
        "{}",
        s.session.format_reason
    );
    assert_eq!(s.session.user_id, Some(777));
    assert_eq!(snapshot(&sb.work), before, "a command changed a file");
}

#[test]
fn status_warns_about_open_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Workdir::new();
    let p = sb.work.join("telegram_session.session");
    grammers_session(&p, Some((1, false)));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = status_json(&sb, &[]);
    assert_eq!(s.session.mode.as_deref(), Some("0644"));
    assert!(
        s.warnings.iter().any(|w| w.contains("chmod 600")),
        "{:?}",
        s.warnings
    );
}

// ---- reset ----

#[test]
fn reset_needs_yes_off_terminal_and_deletes_side_files() {
    let sb = Workdir::new();
    let p = sb.work.join("telegram_session.session");
    grammers_session(&p, Some((1, false)));
    // An empty (not hot) rollback journal, as SQLite leaves behind in DELETE mode races.
    std::fs::write(sb.work.join("telegram_session.session-journal"), b"").unwrap();
    let before = snapshot(&sb.work);
    let out = sb.cmd().arg("reset").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--yes"));
    assert_eq!(snapshot(&sb.work), before);
    let out = sb.cmd().args(["reset", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!p.exists());
    assert!(!sb.work.join("telegram_session.session-journal").exists());
    assert!(!sb.work.join("telegram_session.session.lock").exists());
    // Nothing left to delete is fine.
    let out = sb.cmd().args(["reset", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).contains("nothing to delete"));
}

#[test]
fn reset_refuses_a_session_another_process_holds() {
    let sb = Workdir::new();
    let p = sb.work.join("telegram_session.session");
    grammers_session(&p, Some((1, false)));
    let locks = sb.home.join(".state/tgsess/locks");
    let _held = tgsess_store::files::SessionLock::acquire(&p, Some(&locks)).unwrap();
    let before = std::fs::read(&p).unwrap();
    let out = sb.cmd().args(["reset", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr_of(&out).contains("busy"), "{}", stderr_of(&out));
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

// ---- list ----

#[test]
fn list_shows_sessions_with_format_and_user() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "session_dir = \"s\"\n");
    let dir = sb.work.join("s");
    std::fs::create_dir(&dir).unwrap();
    grammers_session(&dir.join("a.session"), Some((11, false)));
    pyrogram_session(&dir.join("b.session"));
    std::fs::write(dir.join("c.txt"), "x").unwrap();
    let out = sb.cmd().args(["list", "--json"]).output().unwrap();
    let l: ListJ = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(l.session_dir, dir);
    let names: Vec<_> = l
        .sessions
        .iter()
        .map(|s| {
            (
                s.path.file_name().unwrap().to_str().unwrap().to_string(),
                s.format.clone(),
                s.user_id,
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("a.session".into(), "tgsess".into(), Some(11)),
            ("b.session".into(), "pyrogram".into(), Some(777))
        ]
    );
}

#[test]
fn session_dir_that_is_a_file_is_a_clear_error() {
    let sb = Workdir::new();
    sb.write("notadir", "x");
    sb.write("tgsess.toml", "session_dir = \"notadir\"\n");
    let out = sb.cmd().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("notadir"));
}

// ---- bad config ----

#[test]
fn bad_config_gets_a_clear_error_and_exit_2() {
    let sb = Workdir::new();
    for (text, needles) in [
        ("usernme = \"x\"\n", &["usernme", "line 1"][..]),
        (
            "username = \"x\"\napi_id = \"12\"\n",
            &["line 2", "expected"][..],
        ),
        ("username = [\n", &["line 1"][..]),
        ("api_id = -3\n", &["api_id = -3", "positive"][..]),
    ] {
        let cfg = sb.write("tgsess.toml", text);
        let out = sb.cmd().arg("status").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr_of(&out);
        assert!(err.contains(&cfg.display().to_string()), "{err}");
        for n in needles {
            assert!(err.contains(n), "{text}: missing {n} in {err}");
        }
    }
    let out = sb
        .cmd()
        .args(["--config", "nope.toml", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("nope.toml"));
    sb.write("tgsess.toml", "");
    let out = sb
        .cmd()
        .env("TGSESS_API_ID", "twelve")
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("$TGSESS_API_ID"));
}

#[test]
fn offline_commands_work_without_api_credentials() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "phone = \"+1\"\n");
    for args in [&["status"][..], &["list"], &["check", "--offline"]] {
        let out = sb.cmd().args(args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
}

// ---- ecosystem ----

#[test]
fn help_documents_exit_codes_and_completions_work() {
    let sb = Workdir::new();
    let out = sb.cmd().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = stdout_of(&out);
    for needle in ["Exit codes:", "130  interrupted", "5    rate limited"] {
        assert!(help.contains(needle), "{help}");
    }
    let out = sb.cmd().args(["completions", "bash"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).contains("_tgsess"));
    let out = sb.cmd().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn api_hash_is_never_printed() {
    let sb = Workdir::new();
    sb.write(
        "tgsess.toml",
        "api_id = 5\napi_hash = \"0123456789abcdef0123456789abcdef\"\nusernme = 1\n",
    );
    let out = sb.cmd().arg("status").output().unwrap();
    assert!(
        !stderr_of(&out).contains("0123456789abcdef") || stderr_of(&out).contains("api_hash = \""),
        "the toml error echoes the offending line only"
    );
    sb.write(
        "tgsess.toml",
        "api_id = 5\napi_hash = \"0123456789abcdef0123456789abcdef\"\n",
    );
    let out = sb.cmd().args(["status", "--json"]).output().unwrap();
    assert!(!stdout_of(&out).contains("0123456789abcdef"));
    assert!(!stderr_of(&out).contains("0123456789abcdef"));
}

/// Telethon 2's SQLite session (LonamiWebs/Telethon, v2 branch,
/// client/src/telethon/_impl/session/storage/sqlite.py, `_create_tables`, version 10).
fn telethon2_session(path: &std::path::Path) {
    rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let c = db.connect().unwrap();
        for s in [
            "create table version (version integer primary key)",
            "create table datacenter(id integer primary key, addr text not null, auth blob)",
            "create table user(id integer primary key, dc integer not null, bot integer not null)",
            "create table state(pts integer not null, qts integer not null, date integer not null, seq integer not null)",
            "create table channelstate(id integer primary key, pts integer not null)",
            "insert into version values (10)",
            "insert into datacenter values (2, '149.154.167.51:443', zeroblob(256))",
            "insert into user values (777, 2, 0)",
        ] {
            c.execute(s, ()).await.unwrap();
        }
    });
}

#[test]
fn names_paths_and_configs_that_would_mislead_are_refused_or_flagged() {
    let long = "u".repeat(300);
    // (what, config, args, exit, a fragment of the output)
    let rows: Vec<(&str, String, Vec<&str>, i32, &str)> = vec![
        (
            "a 300-byte username",
            format!("username = \"{long}\"\n"),
            vec!["status"],
            2,
            "username (from config file",
        ),
        (
            "a 300-byte username names the limit",
            format!("username = \"{long}\"\n"),
            vec!["check", "--offline"],
            2,
            "at most 255 bytes (NAME_MAX). Use a username of at most 247 bytes",
        ),
        (
            "~user in session_dir",
            "session_dir = \"~nosuchuser/x\"\n".into(),
            vec!["status"],
            2,
            "session_dir \"~nosuchuser/x\" (from config file",
        ),
        (
            "~user in --session",
            String::new(),
            vec!["--session", "~nosuchuser/a.session", "check", "--offline"],
            2,
            "expands only ~ and ~/",
        ),
        (
            "a name that makes a hidden file",
            "username = \".bot\"\n".into(),
            vec!["status"],
            0,
            "makes the session file \".bot.session\", a hidden file",
        ),
        (
            "a 10,000-character config line",
            format!("usernme = \"{}\"\n", "y".repeat(10_000)),
            vec!["status"],
            2,
            "more characters not shown",
        ),
    ];
    for (what, config, args, exit, fragment) in rows {
        let sb = Workdir::new();
        sb.write("tgsess.toml", &config);
        let out = sb.cmd().args(&args).output().unwrap();
        let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(exit), "{what}: {text}");
        assert!(
            text.contains(fragment),
            "{what}: wanted {fragment:?} in {text}"
        );
        assert!(text.len() < 4000, "{what}: {} characters", text.len());
        let made: Vec<_> = std::fs::read_dir(&sb.work)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .filter(|n| n != "tgsess.toml")
            .collect();
        assert!(made.is_empty(), "{what}: created {made:?}");
    }
}

#[test]
fn a_newline_in_a_path_is_printed_escaped_and_its_command_still_pastes() {
    let sb = Workdir::new();
    let dir = sb.work.join("a\nb");
    std::fs::create_dir(&dir).unwrap();
    grammers_session(&dir.join("me.session"), None);
    sb.write(
        "tgsess.toml",
        "username = \"me\"\nsession_dir = \"a\\nb\"\n",
    );
    let out = sb.cmd().arg("status").output().unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("a\\u{a}b/me.session"), "{text}");
    assert!(!text.contains("a\nb"), "{text}");
    // Every line of the report starts as status starts its lines: none is a path's tail.
    for line in text.lines() {
        assert!(
            line.starts_with("Session file:") || line.starts_with("  "),
            "a broken line: {line:?}"
        );
    }
    // The check status prints, quoted for a shell, is one line and works pasted.
    let cmd = text
        .split('`')
        .nth(1)
        .filter(|c| c.starts_with("tgsess "))
        .unwrap_or_else(|| panic!("{text}"));
    let line = format!(
        "{} {} --offline",
        assert_cmd::cargo::cargo_bin("tgsess").display(),
        cmd.strip_prefix("tgsess ").unwrap()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &line])
        .env_clear()
        .env("HOME", &sb.home)
        .env("NO_COLOR", "1")
        .current_dir(&sb.home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{line}: {}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("a\\u{a}b/me.session"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn check_on_a_missing_session_names_the_signed_in_file_nearby() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"new\"\n");
    grammers_session(&sb.work.join("old.session"), Some((4242, false)));
    let out = sb.cmd().args(["check", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("old.session nearby holds a login key"),
        "{err}"
    );
    assert!(err.contains("--session"), "{err}");
    // -q prints nothing; the exit code stays.
    let out = sb
        .cmd()
        .args(["check", "--offline", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
}

#[test]
fn a_telethon_2_session_is_named_and_left_alone() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "session_file = \"bot\"\n");
    let file = sb.work.join("bot.session");
    telethon2_session(&file);
    let before = std::fs::read(&file).unwrap();
    for (args, exit) in [
        (&["status"][..], 4),
        (&["check", "--offline"], 4),
        (&["reset", "--yes"], 4),
        (&["inspect", "bot.session"], 2),
        (&["--session", "g.session", "import", "bot.session"], 2),
    ] {
        let out = sb.cmd().args(args).output().unwrap();
        let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(exit), "{args:?}: {text}");
        assert!(
            text.contains("a Telethon 2 session (version 10)"),
            "{args:?}: {text}"
        );
        assert!(
            text.contains("tgsess does not read or write"),
            "{args:?}: {text}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), before);
    }
}

#[test]
fn the_naming_warning_is_said_where_the_name_decides_a_file_and_exec_says_it_once() {
    let sb = Workdir::new();
    sb.write("tgsess.toml", "username = \"'karaposu'\"\n");
    grammers_session(&sb.work.join("'karaposu'.session"), Some((1001, false)));
    let warned = |args: &[&str]| {
        let out = sb.cmd().args(args).output().unwrap();
        stderr_of(&out).contains("contains quote characters")
    };
    assert!(warned(&["status"]));
    assert!(warned(&["status"]), "status says it every time");
    assert!(
        warned(&["login"]),
        "login creates or replaces the file: it says it"
    );
    assert!(
        !warned(&["check", "--offline"]),
        "check is for scripts: status explains"
    );
    assert!(!warned(&["list"]));
    // exec: once, so a bot's log does not repeat it at every start.
    assert!(warned(&["exec", "--", "true"]));
    assert!(!warned(&["exec", "--", "true"]));
    assert!(!warned(&["exec", "--", "true"]));
    // Another odd value is another warning, said once too.
    sb.write("tgsess.toml", "username = \" 'karaposu'\"\n");
    let out = sb.cmd().args(["exec", "--", "true"]).output().unwrap();
    assert!(
        stderr_of(&out).contains("surrounding spaces"),
        "{}",
        stderr_of(&out)
    );
}
