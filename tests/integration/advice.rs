//! Advice must paste: every `tgsess …` command any message prints, collected from every
//! kind of message that prints one, is run from another directory exactly as printed (the
//! shell's own word splitting). Each must (1) name only flags its command has (`--help` after
//! it exits 0) and (2) act on the very session the message was about (its global options,
//! with `status --json`, resolve to that file).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

/// Every `tgsess …` command between backticks in `text`.
fn printed_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("tgsess "))
        .map(str::to_string)
        .collect()
}

/// The words a POSIX shell makes of a command line.
fn shell_words(line: &str) -> Vec<String> {
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("for a in {line}; do printf '%s\\0' \"$a\"; done"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{line}: {}", stderr_of(&out));
    out.stdout
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

/// The global options of a printed command (before its subcommand): every global option
/// tgsess prints takes a value, but --test-dc.
fn globals(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < words.len() && words[i].starts_with("--") {
        out.push(words[i].clone());
        if words[i] != "--test-dc" {
            out.push(words[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    out
}

/// A command of this sandbox's environment (HOME, state), run from `cwd`.
fn from(dc: &Dc, cwd: &Path, args: &[String]) -> std::process::Output {
    let mut c = dc.bare(cwd);
    c.args(args).stdin(Stdio::null()).output().unwrap()
}

/// The session file the global options of `words` choose, run from `cwd`.
fn resolved(dc: &Dc, cwd: &Path, words: &[String]) -> PathBuf {
    let mut status = globals(words);
    status.extend(["status".into(), "--json".into()]);
    let out = from(dc, cwd, &status);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{words:?}: {e}: {}", stderr_of(&out)));
    PathBuf::from(s["session"]["path"].as_str().unwrap())
}

/// Checks one printed command: it parses with the flags it names, and from another
/// directory it acts on the same session as where it was printed (`printed_in`).
fn pastes(dc: &Dc, cmd: &str, printed_in: &Path) {
    let elsewhere = tempfile::tempdir().unwrap();
    let words = shell_words(
        cmd.strip_prefix("tgsess ")
            .map(|r| format!("tgsess {r}"))
            .as_deref()
            .unwrap(),
    );
    assert_eq!(words[0], "tgsess", "{cmd}");
    let mut help: Vec<String> = words[1..].to_vec();
    help.push("--help".into());
    let out = from(dc, elsewhere.path(), &help);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{cmd}: names a flag its command lacks, or does not parse: {}",
        stderr_of(&out)
    );
    assert_eq!(
        resolved(dc, elsewhere.path(), &words),
        resolved(dc, printed_in, &words),
        "{cmd}: acts on another session from another directory"
    );
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

fn login_code(dc: &Dc, cwd: &Path, args: &[&str]) {
    let mut c = dc.bare(cwd);
    c.args(args).args(["login", "--code-stdin", "--fresh"]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"22222\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn every_printed_command_pastes_from_any_directory() {
    let dc = Dc::start(&[]);
    let bot = dc.tmp.path().join("bot dir");
    std::fs::create_dir_all(&bot).unwrap();
    // The session is named by relative flags and a relative config, from the bot's
    // directory: every printed command must carry them, made absolute.
    let config = dc.config();
    let cfg = config.to_str().unwrap();
    let named = ["--config", cfg, "--session", "main.session"];
    let session = bot.join("main.session");
    let args = |extra: &[&str]| -> Vec<String> {
        named.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let mut said: Vec<(String, String)> = Vec::new();
    let mut say = |what: &str, out: &std::process::Output| {
        said.push((what.to_string(), text(out)));
    };
    // No session yet, a signed-in one nearby: check names it; status lists it with commands.
    login_code(&dc, &bot, &["--config", cfg, "--session", "other.session"]);
    say("check, missing", &from(&dc, &bot, &args(&["check"])));
    say("status, near miss", &from(&dc, &bot, &args(&["status"])));
    // login stops at the near miss.
    say(
        "login, near miss",
        &from(&dc, &bot, &args(&["login", "--code-stdin"])),
    );
    // A login at the code prompt, interrupted: its code is pending; another session's login
    // is refused with the way to finish this one.
    let mut c = dc.bare(&bot);
    c.args(args(&["login", "--fresh"]));
    let mut p = Pty::spawn(c);
    p.expect("Enter the login code");
    p.0.send(expectrl::ControlCode::EndOfText).unwrap();
    assert_eq!(p.exit_code(), 130);
    say(
        "login, another session's pending code",
        &from(
            &dc,
            &bot,
            &[
                "--config".into(),
                cfg.into(),
                "--session".into(),
                "third.session".into(),
                "login".into(),
                "--code-stdin".into(),
                "--fresh".into(),
            ],
        ),
    );
    // Signed in; then an import over it is refused (--force named), check, devices.
    login_code(&dc, &bot, &named);
    let src = bot.join("other.session");
    say(
        "import over a key",
        &from(&dc, &bot, &args(&["import", src.to_str().unwrap()])),
    );
    say("devices", &from(&dc, &bot, &args(&["devices"])));
    // logout off a terminal, then logged out (the future token), then reset.
    say("logout, no terminal", &from(&dc, &bot, &args(&["logout"])));
    say(
        "logout --yes",
        &from(&dc, &bot, &args(&["logout", "--yes"])),
    );
    // A damaged file at the path.
    crate::common::telethon_session(&session);
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(&session).build().await.unwrap();
        db.connect()
            .unwrap()
            .execute("UPDATE sessions SET port = 70000", ())
            .await
            .unwrap();
    });
    say(
        "damaged",
        &from(
            &dc,
            &bot,
            &args(&["--session-format", "telethon", "status"]),
        ),
    );
    std::fs::remove_file(&session).unwrap();
    // A test-DC key for DC 4, which the test network lacks: login's advice names no flag
    // login lacks (--dc-address is import's).
    crate::common::pyrogram_session(&session);
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(&session).build().await.unwrap();
        db.connect()
            .unwrap()
            .execute("UPDATE sessions SET test_mode = 1, dc_id = 4", ())
            .await
            .unwrap();
    });
    let out = from(
        &dc,
        &bot,
        &args(&[
            "--session-format",
            "pyrogram",
            "--test-dc",
            "login",
            "--code-stdin",
        ]),
    );
    assert!(!text(&out).contains("--dc-address"), "{}", text(&out));
    assert_ne!(out.status.code(), Some(0));
    std::fs::remove_file(&session).unwrap();
    let mut n = 0;
    for (what, out) in &said {
        let cmds = printed_commands(out);
        assert!(!cmds.is_empty(), "{what}: printed no command: {out}");
        for cmd in cmds {
            pastes(&dc, &cmd, &bot);
            n += 1;
        }
    }
    eprintln!("{n} printed commands from {} messages paste", said.len());
    assert!(n >= 15, "{n}");
}

#[test]
fn commands_printed_by_a_cooldown_and_a_lost_answer_paste() {
    for (flags, first) in [
        (&["--flood-wait", "3600"][..], "wait 3600 s"),
        (&["--drop-on", "auth.sendCode"], "may have reached Telegram"),
    ] {
        let dc = Dc::start(flags);
        let mut p = dc.pty(&["login", "--timeout", "3"]);
        p.expect(first);
        let _ = p.exit_code();
        let out = dc.run(&["login", "--code-stdin"]);
        let cmds = printed_commands(&text(&out));
        assert!(!cmds.is_empty(), "{}", text(&out));
        for cmd in cmds {
            pastes(&dc, &cmd, dc.tmp.path());
        }
        let _ = bin();
    }
}
