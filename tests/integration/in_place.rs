//! The bot's own file, in place: a Telethon or Pyrogram session managed where the bot reads
//! it, through the real binary against the real sandbox, with a PTY where a person types.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const KARAPOSU: &str = "'karaposu'.session";

/// A bot directory with the seed's config: `username = "'karaposu'"` and the bot's format.
fn bot_dir(dc: &Dc, format: Option<&str>, phone: bool) -> PathBuf {
    let bot = dc.tmp.path().join("bot");
    std::fs::create_dir_all(&bot).unwrap();
    let mut toml = format!(
        "api_id = 1\napi_hash = \"sandbox\"\nusername = \"'karaposu'\"\nsandbox_dir = {:?}\n",
        dc.dir.display().to_string()
    );
    if phone {
        toml.push_str("phone = \"9996621234\"\n");
    }
    if let Some(f) = format {
        toml.push_str(&format!("session_format = \"{f}\"\n"));
    }
    std::fs::write(bot.join("tgsess.toml"), toml).unwrap();
    bot
}

/// tgsess run from the sandbox's temp dir with `--config bot/tgsess.toml` (relative).
fn bot_cmd(dc: &Dc, args: &[&str]) -> Command {
    let mut c = dc.bare(dc.tmp.path());
    c.args(["--config", "bot/tgsess.toml"]).args(args);
    c
}

fn run(mut c: Command) -> std::process::Output {
    c.stdin(Stdio::null()).output().unwrap()
}

fn login_with_one_code(dc: &Dc, args: &[&str]) {
    let before = dc.count("auth.sendCode");
    let mut p = Pty::spawn(bot_cmd(dc, args));
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), before + 1, "one code per login");
}

/// (type, name, sql) of every schema object, as SQLite stores them.
fn schema(path: &Path) -> Vec<(String, String, String)> {
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let c = db.connect().unwrap();
        let mut rows = c
            .query(
                "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
                (),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push((r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()));
        }
        out
    })
}

fn one_row(path: &Path, sql: &str) -> Vec<libsql::Value> {
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let c = db.connect().unwrap();
        let mut rows = c.query(sql, ()).await.unwrap();
        let r = rows.next().await.unwrap().expect("a row");
        (0..r.column_count())
            .map(|i| r.get_value(i).unwrap())
            .collect()
    })
}

fn sandbox_port(dc: &Dc) -> i64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dc.dir.join("sandbox.json")).unwrap())
            .unwrap();
    let addr: std::net::SocketAddr = v["address"].as_str().unwrap().parse().unwrap();
    i64::from(addr.port())
}

/// The seed's story, in the bot's own format: one code to log in, check, status, reset, and
/// one code again; the file has the schema the library itself writes.
fn story(format: &str, fixture: &str) {
    let dc = Dc::start(&[]);
    let bot = bot_dir(&dc, Some(format), true);
    let session = bot.join(KARAPOSU);
    login_with_one_code(&dc, &["login"]);
    assert!(session.exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&session).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        schema(&session),
        schema(&fixtures().join(fixture)),
        "{format}: not the schema the library writes"
    );
    let row = match format {
        "telethon" => one_row(
            &session,
            "SELECT dc_id, server_address, port, length(auth_key), (SELECT version FROM version) FROM sessions",
        ),
        _ => one_row(
            &session,
            "SELECT dc_id, api_id, test_mode, length(auth_key), user_id, is_bot, (SELECT number FROM version) FROM sessions",
        ),
    };
    use libsql::Value::{Integer as I, Text as T};
    let want = match format {
        "telethon" => vec![
            I(2),
            T("127.0.0.1".into()),
            I(sandbox_port(&dc)),
            I(256),
            I(8),
        ],
        _ => vec![I(2), I(1), I(0), I(256), I(700021234), I(0), I(3)],
    };
    assert_eq!(row, want, "{format}: session row");
    // Only the session beside the config: no draft, no lock file, no side file.
    let names: Vec<String> = std::fs::read_dir(&bot)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let state = std::fs::read_to_string(dc.tmp.path().join("state/state.json")).unwrap();
    assert!(!state.contains("drafts"), "{state}");

    let out = run(bot_cmd(&dc, &["check"]));
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let offline = run(bot_cmd(&dc, &["check", "--offline"]));
    let want = if format == "telethon" { 3 } else { 0 };
    assert_eq!(offline.status.code(), Some(want), "{}", stdout_of(&offline));
    let status = stdout_of(&run(bot_cmd(&dc, &["status"])));
    assert!(
        status.contains(&format!("managed:   {format} declared")),
        "{status}"
    );
    let out = run(bot_cmd(&dc, &["reset", "--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!session.exists());
    login_with_one_code(&dc, &["login"]);
    assert_eq!(dc.count("auth.sendCode"), 2);
    // logout works on the bot's file too: auth.logOut, then the file is gone.
    let out = run(bot_cmd(&dc, &["logout", "--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("Logged out at Telegram"));
    assert!(!session.exists());
    assert_eq!(dc.count("auth.logOut"), 1);
}

#[test]
fn telethon_bot_story_in_place() {
    story("telethon", "telethon-v8.session");
}

#[test]
fn pyrogram_bot_story_in_place() {
    story("pyrogram", "pyrogram-v3.session");
}

/// A process that holds `path` open until killed, as a running bot holds its session.
struct Holder(std::process::Child);

impl Holder {
    fn open(path: &Path) -> Holder {
        let child = Command::new("sh")
            .args(["-c", "exec 3<\"$1\"; exec sleep 30", "sh"])
            .arg(path)
            .spawn()
            .unwrap();
        let fd = PathBuf::from(format!("/proc/{}/fd/3", child.id()));
        let start = Instant::now();
        while std::fs::read_link(&fd).ok().as_deref() != Some(path) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "holder never opened it"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Holder(child)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_session_held_open_by_another_process_is_refused_by_every_writer() {
    let dc = Dc::start(&[]);
    let bot = bot_dir(&dc, Some("telethon"), true);
    login_with_one_code(&dc, &["login"]);
    let session = bot.join(KARAPOSU);
    let string = fixtures().join("telethon-ipv4.string");
    let before = snapshot(&bot);
    let requests = dc.log().len();
    let holder = Holder::open(&session);
    let pid = holder.0.id();
    for args in [
        vec!["login"],
        vec!["reset", "--yes"],
        vec!["logout", "--yes"],
        vec!["import", "--force", string.to_str().unwrap()],
    ] {
        let out = run(bot_cmd(&dc, &args));
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(err.contains(&format!("pid {pid}")), "{args:?}: {err}");
        assert!(err.contains("sleep"), "{args:?}: {err}");
    }
    drop(holder);
    assert_eq!(snapshot(&bot), before, "a refused writer changed a file");
    assert_eq!(
        dc.log().len(),
        requests,
        "a refused writer contacted the server"
    );
    // An unfinished write (a hot journal) is refused the same way, and left alone.
    std::fs::write(bot.join(format!("{KARAPOSU}-journal")), b"journal").unwrap();
    let before = snapshot(&bot);
    let out = run(bot_cmd(&dc, &["reset", "--yes"]));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr_of(&out).contains("unfinished write"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(snapshot(&bot), before);
}

/// Every `tgsess …` command between backticks in `text`.
fn printed_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("tgsess "))
        .map(str::to_string)
        .collect()
}

#[test]
fn printed_commands_paste_from_any_directory() {
    let dc = Dc::start(&[]);
    let bot = bot_dir(&dc, None, true);
    let flags = ["--username", "'karaposu'", "--session-format", "telethon"];
    let args: Vec<&str> = flags.iter().copied().chain(["login"]).collect();
    // The config names no username and no format: flags choose the session.
    std::fs::write(
        bot.join("tgsess.toml"),
        std::fs::read_to_string(bot.join("tgsess.toml"))
            .unwrap()
            .replace("username = \"'karaposu'\"\n", ""),
    )
    .unwrap();
    login_with_one_code(&dc, &args);
    let session = bot.join(KARAPOSU);
    let mut printed = Vec::new();
    for extra in [&["status"][..], &["check", "--offline"]] {
        let args: Vec<&str> = flags.iter().copied().chain(extra.iter().copied()).collect();
        let out = run(bot_cmd(&dc, &args));
        printed.extend(printed_commands(&stdout_of(&out)));
        printed.extend(printed_commands(&stderr_of(&out)));
    }
    assert!(printed.len() >= 2, "{printed:?}");
    let elsewhere = tempfile::tempdir().unwrap();
    for cmd in &printed {
        assert!(cmd.contains("--config /"), "{cmd}");
        assert!(cmd.contains("--session-format telethon"), "{cmd}");
        let line = format!(
            "{} {}",
            bin().display(),
            cmd.strip_prefix("tgsess ").unwrap()
        );
        let mut sh = dc.bare(elsewhere.path());
        sh.env_remove("TGSESS_STATE_DIR");
        let mut c = Command::new("sh");
        c.env_clear()
            .envs(sh.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(elsewhere.path())
            .args(["-c", &line]);
        let out = run(c);
        let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert!(
            text.contains(&session.display().to_string()),
            "{cmd}: acted on another file: {text}"
        );
        assert_eq!(out.status.code(), Some(0), "{cmd}: {text}");
    }
    // The same holds for --session given relative to the current directory.
    let out = run(bot_cmd(
        &dc,
        &[
            "--session",
            &format!("bot/{KARAPOSU}"),
            "check",
            "--offline",
        ],
    ));
    let cmds = printed_commands(&stdout_of(&out));
    assert!(
        cmds.iter()
            .all(|c| c.contains(&format!("--session {}", crate::common::quote(&session)))),
        "{cmds:?}"
    );
}

#[test]
fn login_on_a_signed_in_key_needs_no_phone_and_records_the_user() {
    let dc = Dc::start(&[]);
    bot_dir(&dc, Some("telethon"), true);
    login_with_one_code(&dc, &["login"]);
    // The config loses its phone: a login must still see that the key is signed in.
    let bot = bot_dir(&dc, Some("telethon"), false);
    let sends = dc.count("auth.sendCode");
    let out = run(bot_cmd(&dc, &["login"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("Already signed in as Sandbox (@sandbox_21234, id 700021234)"),
        "{}",
        stdout_of(&out)
    );
    // A grammers session made from that Telethon file records no user until a login asks.
    let g = bot.join("g.session");
    let g_arg = g.to_str().unwrap();
    let src = bot.join(KARAPOSU);
    let out = run(bot_cmd(
        &dc,
        &[
            "--session",
            g_arg,
            "--session-format",
            "grammers",
            "import",
            src.to_str().unwrap(),
        ],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let status = |dc: &Dc| {
        let out = run(bot_cmd(
            dc,
            &[
                "--session",
                g_arg,
                "--session-format",
                "grammers",
                "status",
                "--json",
            ],
        ));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let s = status(&dc);
    assert_eq!(s["session"]["signed_in"], "unknown");
    // The import's source holds the same key: not a near miss, no warning.
    let near = &s["near_misses"][0];
    assert_eq!(near["same_key"], true, "{s}");
    assert!(s["warnings"].as_array().unwrap().is_empty(), "{s}");
    let out = run(bot_cmd(
        &dc,
        &["--session", g_arg, "--session-format", "grammers", "login"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("recorded in"),
        "{}",
        stdout_of(&out)
    );
    let s = status(&dc);
    assert_eq!(s["session"]["signed_in"], "yes");
    assert_eq!(s["session"]["user_id"], 700021234);
    assert_eq!(dc.count("auth.sendCode"), sends, "a code was requested");
}
