//! Login end to end: the real `tgsess` binary, through a pseudo-terminal where a
//! person would type, against a real `tgsess sandbox` process on 127.0.0.1. Every test
//! asserts on the sandbox's request log; no login sends auth.sendCode more than once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use expectrl::{ControlCode, Session};

use crate::common::*;

fn fresh_login(dc: &Dc) {
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn fresh_login_wrong_code_then_right_one() {
    let dc = Dc::start(&[]);
    let mut p = dc.pty(&["login"]);
    p.expect("not by SMS");
    p.expect("Enter the login code");
    p.line("11111");
    p.expect("not right");
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as Sandbox (@sandbox_21234, id 700021234)");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 1);
    assert_eq!(dc.count("auth.signIn"), 2);
    assert_eq!(mode(&dc.session()), 0o600);
    let out = dc.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = dc.run(&["check", "--offline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    // Already signed in: nothing else is sent.
    let before = dc.count("auth.sendCode");
    let out = dc.run(&["login"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("Already signed in"));
    assert_eq!(dc.count("auth.sendCode"), before);
    // Every request came over a named transport from a client that declared grammers' layer.
    let lines = std::fs::read_to_string(dc.dir.join("requests.jsonl")).unwrap();
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["layer"], grammers_tl_types::LAYER, "{v}");
        assert!(v["transport"].is_string(), "{v}");
    }
}

#[test]
fn two_factor_wrong_then_right_password() {
    let dc = Dc::start(&["--password", "open sesame"]);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Two-step verification password (hint:");
    p.line("wrong");
    p.expect("wrong password");
    p.expect("Two-step verification password");
    p.line("open sesame");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 1);
    assert_eq!(dc.count("auth.checkPassword"), 2);
}

#[test]
fn flood_wait_is_remembered_and_the_rerun_sends_nothing() {
    let dc = Dc::start(&["--flood-wait", "3600"]);
    let mut p = dc.pty(&["login"]);
    p.expect("wait 3600 s");
    assert_eq!(p.exit_code(), 5);
    assert_eq!(dc.count("auth.sendCode"), 1);
    let requests = dc.log().len();
    let out = dc.run(&["login"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        dc.log().len(),
        requests,
        "the refused run contacted the server"
    );
}

#[test]
fn send_code_unavailable_is_explained() {
    let dc = Dc::start(&["--send-code-unavailable"]);
    let mut p = dc.pty(&["login"]);
    p.expect("used up");
    // The ways in without a code are named, the QR one as a command that pastes.
    p.expect("login --qr`");
    p.expect("login --approve-with");
    assert_eq!(p.exit_code(), 5);
    assert_eq!(dc.count("auth.sendCode"), 1);
    let out = dc.run(&["login"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains("login --qr`") && err.contains("login --force`"),
        "{err}"
    );
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn dropped_during_send_code_is_no_verdict_and_not_retried() {
    let dc = Dc::start(&["--drop-on", "auth.sendCode"]);
    let mut p = dc.pty(&["login"]);
    p.expect("may have reached Telegram");
    assert_eq!(p.exit_code(), 3);
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn dropped_during_sign_in_then_rerun_reuses_the_pending_code() {
    let dc = Dc::start(&["--drop-on", "auth.signIn"]);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("pending code is remembered");
    assert_eq!(p.exit_code(), 3);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter THAT code");
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn expired_code_stops_and_forgets_the_pending_request() {
    let dc = Dc::start(&["--code-ttl", "1"]);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    std::thread::sleep(Duration::from_millis(1300));
    p.line("22222");
    p.expect("expired");
    p.expect("inside any Telegram chat");
    assert_eq!(p.exit_code(), 1);
    let state = std::fs::read_to_string(dc.tmp.path().join("state/state.json")).unwrap();
    assert!(!state.contains("phone_code_hash"), "{state}");
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn phone_migrate_moves_the_home_dc() {
    let dc = Dc::start(&["--migrate-to", "3"]);
    let mut p = dc.pty(&["login"]);
    p.expect("lives on DC 3");
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    let log = dc.log();
    let sends: Vec<_> = log.iter().filter(|(m, _)| m == "auth.sendCode").collect();
    // The same request, once per DC: the first answer was the redirect.
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].1, "PHONE_MIGRATE_3");
    assert_eq!(sends[1].1, "ok");
    let out = dc.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["session"]["home_dc"], 3);
    assert_eq!(dc.run(&["check"]).status.code(), Some(0));
}

#[test]
fn bot_login_from_env_and_from_a_hidden_prompt() {
    let dc = Dc::start(&[]);
    let out = dc
        .cmd(&["login", "--bot"])
        .env("TGSESS_BOT_TOKEN", "123456:sandbox")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout_of(&out).contains("id 123456"));
    assert!(
        !stdout_of(&out).contains("123456:sandbox"),
        "the token was printed"
    );
    assert_eq!(dc.count("auth.sendCode"), 0);
    assert_eq!(dc.run(&["check"]).status.code(), Some(0));
    assert_eq!(dc.run(&["reset", "--yes"]).status.code(), Some(0));
    let mut p = dc.pty(&["login", "--bot"]);
    p.expect("Bot token");
    p.line("999:sandbox");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
}

#[test]
fn without_a_terminal_login_fails_fast_and_sends_no_code() {
    let dc = Dc::start(&[]);
    let out = dc.run(&["login"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for way in ["--code-stdin", "TGSESS_PASSWORD", "TGSESS_BOT_TOKEN"] {
        assert!(err.contains(way), "{err}");
    }
    assert!(dc.log().is_empty(), "it connected before failing");
    assert!(
        !dc.session().exists(),
        "it created a session before failing"
    );
    // The automation path: the code on stdin after the request.
    let mut child = dc
        .cmd(&["login", "--code-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"22222\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn ctrl_c_at_the_code_prompt_exits_130_and_the_code_stays_pending() {
    let dc = Dc::start(&[]);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    p.0.send(ControlCode::EndOfText).unwrap();
    assert_eq!(p.exit_code(), 130);
    let state = std::fs::read_to_string(dc.tmp.path().join("state/state.json")).unwrap();
    assert!(state.contains("phone_code_hash"));
    let out = dc.run(&["check", "--offline"]);
    assert_eq!(out.status.code(), Some(1));
    let mut p = dc.pty(&["login"]);
    p.expect("Enter THAT code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn near_miss_guard_stops_before_a_code_request() {
    let dc = Dc::start(&[]);
    fresh_login(&dc);
    // The config is renamed: a new, empty session name.
    let cfg = std::fs::read_to_string(dc.config()).unwrap();
    std::fs::write(
        dc.config(),
        cfg.replace("session_file = \"sandbox\"", "session_file = \"renamed\""),
    )
    .unwrap();
    let before = dc.count("auth.sendCode");
    let mut p = dc.pty(&["login"]);
    p.expect("sandbox.session");
    p.expect("--fresh");
    assert_eq!(p.exit_code(), 1);
    assert_eq!(dc.count("auth.sendCode"), before);
    let mut p = dc.pty(&["login", "--fresh"]);
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), before + 1);
}

#[test]
fn check_exit_codes_including_a_revoked_key() {
    let mut dc = Dc::start(&["--revoke-after", "2"]);
    assert_eq!(dc.run(&["check"]).status.code(), Some(1), "no file");
    assert!(dc.log().is_empty(), "no file, no network");
    fresh_login(&dc);
    let out = dc.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "signed_in");
    std::thread::sleep(Duration::from_millis(2200));
    let out = dc.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout_of(&out).contains("AUTH_KEY_UNREGISTERED"));
    let before = std::fs::read(dc.session()).unwrap();
    dc.stop();
    let out = dc.run(&["check", "--timeout", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    assert_eq!(
        std::fs::read(dc.session()).unwrap(),
        before,
        "check wrote the file"
    );
    let out = dc.run(&["check", "-q"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    // A Telethon file is read where it is: offline its sign-in is unknown (exit 3, JSON
    // "unknown"), online the stopped sandbox gives no verdict; a declared format that
    // disagrees with the file is exit 4. The file is never changed.
    let tl = dc.dir.join("tl.session");
    crate::common::telethon_session(&tl);
    let tl_arg = tl.to_str().unwrap();
    let tl_before = std::fs::read(&tl).unwrap();
    let out = dc.run(&["--session", tl_arg, "check", "--offline", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "unknown");
    let out = dc.run(&["--session", tl_arg, "check", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    let out = dc.run(&["--session", tl_arg, "--session-format", "pyrogram", "check"]);
    assert_eq!(out.status.code(), Some(4));
    let err = stderr_of(&out);
    assert!(
        err.contains("Telethon session") && err.contains("\"pyrogram\""),
        "{err}"
    );
    assert_eq!(std::fs::read(&tl).unwrap(), tl_before);
}

#[test]
fn logout_then_login_signs_in_with_the_future_auth_token() {
    let dc = Dc::start(&[]);
    fresh_login(&dc);
    let out = dc.run(&["logout", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dc.session().exists());
    let sign_ins = dc.count("auth.signIn");
    let mut p = dc.pty(&["login"]);
    p.expect("without a code");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.signIn"), sign_ins, "a code was typed");
    assert_eq!(dc.run(&["check"]).status.code(), Some(0));
}

#[test]
fn logout_keeps_the_file_when_the_server_is_gone() {
    let mut dc = Dc::start(&[]);
    fresh_login(&dc);
    dc.stop();
    let before = std::fs::read(dc.session()).unwrap();
    let mut p = dc.pty(&["logout", "--timeout", "3"]);
    p.expect("[y/N]");
    p.line("y");
    p.expect("was kept");
    assert_eq!(p.exit_code(), 3);
    assert_eq!(std::fs::read(dc.session()).unwrap(), before);
}

#[test]
fn reset_then_login_uses_a_new_key_and_one_new_code() {
    let dc = Dc::start(&[]);
    fresh_login(&dc);
    let key_of = || {
        let out = dc.run(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["session"]["auth_key_id"].as_str().unwrap().to_string()
    };
    let first = key_of();
    assert_eq!(dc.run(&["reset", "--yes"]).status.code(), Some(0));
    assert_eq!(dc.run(&["check"]).status.code(), Some(1));
    fresh_login(&dc);
    assert_ne!(key_of(), first);
    assert_eq!(dc.count("auth.sendCode"), 2);
}

#[test]
fn resend_moves_the_pending_code_to_the_next_way() {
    let dc = Dc::start(&[]);
    let mut p = dc.pty(&["login"]);
    p.expect("Enter the login code");
    p.0.send(ControlCode::EndOfText).unwrap();
    assert_eq!(p.exit_code(), 130);
    let mut p = dc.pty(&["login", "--resend"]);
    p.expect("sent again, by SMS");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 1);
    assert_eq!(dc.count("auth.resendCode"), 1);
}

#[test]
fn login_sandbox_rehearsal_walks_the_real_login() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .current_dir(tmp.path())
        .args(["login", "--sandbox"]);
    let mut s = Session::spawn(c).unwrap();
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    let mut p = Pty(s);
    p.expect("Its config gives the phone (9996621234); type the code 22222");
    // Advice fits the situation: nothing that needs this rehearsal's sandbox later.
    p.expect("A real login would offer to resend the code");
    p.expect("Enter the login code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    // The rehearsal cleans up after itself and never touched the user's state.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_restarted_sandbox_remembers_who_is_signed_in() {
    let mut dc = Dc::start(&[]);
    fresh_login(&dc);
    dc.restart();
    let out = dc.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = dc.run(&["login"]);
    assert!(stdout_of(&out).contains("Already signed in"));
    // A logout survives a restart too: the key stays signed out.
    assert_eq!(dc.run(&["logout", "--yes"]).status.code(), Some(0));
    dc.restart();
    let mut p = dc.pty(&["login"]);
    p.expect("without a code");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(
        dc.count("auth.sendCode"),
        2,
        "one code, then the future auth token"
    );
}

/// A hermetic tgsess on this sandbox's config, run from `cwd`.
fn at(dc: &Dc, cwd: &Path, args: &[&str]) -> Command {
    let mut c = dc.bare(cwd);
    c.arg("--config").arg(dc.config()).args(args);
    c
}

#[test]
fn a_pending_code_belongs_to_the_phone_not_the_session() {
    let dc = Dc::start(&[]);
    let bots = dc.tmp.path().join("bots");
    std::fs::create_dir_all(bots.join("sub")).unwrap();
    // Session A's login stops at the code prompt: its code is pending for the phone.
    let mut p = Pty::spawn(at(&dc, &bots, &["--session", "A.session", "login"]));
    p.expect("Enter the login code");
    p.0.send(ControlCode::EndOfText).unwrap();
    assert_eq!(p.exit_code(), 130);
    assert_eq!(dc.count("auth.sendCode"), 1);
    // Session B, same phone: no second code; exit 5 naming A, its expiry and the ways on.
    let out = at(
        &dc,
        &bots,
        &["--session", "B.session", "login", "--code-stdin"],
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    let a = std::fs::canonicalize(&bots).unwrap().join("A.session");
    assert!(
        err.contains(&format!("for session {}", a.display())),
        "{err}"
    );
    assert!(err.contains("stays valid until"), "{err}");
    assert!(err.contains("login --new-code`"), "{err}");
    assert_eq!(dc.count("auth.sendCode"), 1, "B requested a code");
    // A, written differently (from another directory through `..`, absolute from a third
    // one), is the same session: it asks for THAT code and requests none.
    let absolute = bots.join("sub/../A.session").display().to_string();
    for (cwd, path) in [
        (bots.join("sub"), "../A.session".to_string()),
        (dc.tmp.path().to_path_buf(), absolute),
    ] {
        let mut p = Pty::spawn(at(&dc, &cwd, &["--session", &path, "login"]));
        p.expect("Enter THAT code");
        p.0.send(ControlCode::EndOfText).unwrap();
        assert_eq!(p.exit_code(), 130, "{path}");
    }
    assert_eq!(dc.count("auth.sendCode"), 1);
    // The way on that B's message printed finishes A's login, pasted from anywhere.
    let finish = err
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.contains("--session") && c.ends_with(" login"))
        .unwrap_or_else(|| panic!("no command to finish A: {err}"))
        .to_string();
    let elsewhere = tempfile::tempdir().unwrap();
    let line = format!(
        "{} {}",
        bin().display(),
        finish.strip_prefix("tgsess ").unwrap()
    );
    let mut sh = Command::new("script");
    sh.args(["-qec", &line, "/dev/null"]);
    let env = dc.bare(elsewhere.path());
    sh.env_clear()
        .envs(env.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(elsewhere.path());
    let mut p = Pty::spawn(sh);
    p.expect("Enter THAT code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert!(a.exists());
    assert_eq!(dc.count("auth.sendCode"), 1);
    // B may now log in: its own code, on purpose.
    let out = at(
        &dc,
        &bots,
        &["--session", "B.session", "login", "--code-stdin", "--fresh"],
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert_ne!(out.status.code(), Some(5), "{}", stderr_of(&out));
}

#[test]
fn logout_off_a_terminal_needs_yes_and_keeps_everything_without_it() {
    let dc = Dc::start(&[]);
    fresh_login(&dc);
    let before = std::fs::read(dc.session()).unwrap();
    let out = dc.run(&["logout"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not on a terminal") && err.contains("logout --yes`"),
        "{err}"
    );
    assert_eq!(std::fs::read(dc.session()).unwrap(), before);
    assert_eq!(dc.count("auth.logOut"), 0);
    assert_eq!(dc.run(&["check"]).status.code(), Some(0));
}

#[test]
fn the_refactor_mistake_is_answered_with_the_naming_fix_first() {
    // A bot's config named its session after username; a refactor dropped the key. The
    // signed-in file is still there under the old name, and login must not spend a code.
    let dc = Dc::start(&[]);
    let bot = dc.tmp.path().join("bot");
    std::fs::create_dir_all(&bot).unwrap();
    let config = bot.join("tgsess.toml");
    let base = std::fs::read_to_string(dc.config())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("session_file"))
        .map(|l| {
            if l.starts_with("sandbox_dir") {
                format!("sandbox_dir = {:?}", dc.dir.display().to_string())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&config, format!("{base}\nusername = \"'karaposu'\"\n")).unwrap();
    let mut c = dc.bare(&bot);
    c.args(["login", "--code-stdin"]).stdin(Stdio::piped());
    let mut child = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"22222\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let old = bot.join("'karaposu'.session");
    assert!(old.exists());
    std::fs::write(&config, format!("{base}\n")).unwrap();
    let sends = dc.count("auth.sendCode");
    let out = dc
        .bare(&bot)
        .args(["login", "--code-stdin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(dc.count("auth.sendCode"), sends, "a code was requested");
    // First the naming fix (use that file; or restore username), then the import, which
    // says it copies the key.
    let use_it = err
        .find("1. use it as it is: `")
        .unwrap_or_else(|| panic!("{err}"));
    let restore = err
        .find("set username = \"'karaposu'\" in")
        .unwrap_or_else(|| panic!("{err}"));
    let copy = err
        .find("2. or copy its key")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(use_it < restore && restore < copy, "{err}");
    assert!(err.contains("two files then hold one key"), "{err}");
    // The first way works as printed, from anywhere: it finds the session signed in.
    let cmd = err[use_it..].split('`').nth(1).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let line = format!(
        "{} {}",
        bin().display(),
        cmd.strip_prefix("tgsess ").unwrap()
    );
    let mut sh = Command::new("sh");
    let env = dc.bare(elsewhere.path());
    sh.env_clear()
        .envs(env.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(elsewhere.path())
        .args(["-c", &line]);
    let out = sh.stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{line}: {}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("Already signed in as Sandbox"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(dc.count("auth.sendCode"), sends);
}

#[test]
fn a_stored_address_that_is_not_one_is_replaced_by_the_table_and_said() {
    // The home DC's stored address does not parse: check still asks Telegram (here the
    // sandbox, which the sandbox config points every served DC at) and says what it used.
    let dc = Dc::start(&[]);
    fresh_login(&dc);
    crate::common::rt().block_on(async {
        let db = libsql::Builder::new_local(dc.session())
            .build()
            .await
            .unwrap();
        db.connect()
            .unwrap()
            .execute("UPDATE dc_option SET ipv4 = 'garbage' WHERE dc_id = 2", ())
            .await
            .unwrap();
    });
    let out = dc.run(&["check"]);
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr_of(&out));
    assert!(text.contains("Telegram confirms"), "{text}");
    assert!(
        text.contains("(\"garbage\") is not an IPv4 address"),
        "{text}"
    );
    let out = dc.run(&["status"]);
    assert!(
        stdout_of(&out).contains("note:      its stored address for DC 2"),
        "{}",
        stdout_of(&out)
    );
    assert!(!stdout_of(&out).contains("`tgsess check`"));
}
