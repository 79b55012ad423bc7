//! exec's pre-flight and guard: a bot on a dead or wrong session never starts, and a bot
//! that opens another session is stopped before it can ask for a login code. The bot is
//! examples/standin_bot.rs, which behaves as the libraries do: it creates its session file,
//! then makes a key with the sandbox and sends auth.sendCode.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// `tgsess exec ARGS` from `cwd` on the sandbox's config, with the stand-in's environment.
fn exec_from(dc: &Dc, cwd: &Path, args: &[&str]) -> Command {
    let mut c = dc.bare(cwd);
    c.arg("--config")
        .arg(dc.config())
        .arg("exec")
        .args(args)
        .env("STANDIN_SANDBOX", &dc.dir)
        .env("STANDIN_PHONE", "9996621234")
        .env("STANDIN_API_ID", "1")
        .env("STANDIN_API_HASH", "sandbox")
        .stdin(Stdio::null());
    c
}

fn bot() -> String {
    standin_bot().display().to_string()
}

/// A signed-in sandbox and a directory `other/` beside its session's.
fn signed_in() -> (Dc, PathBuf) {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let other = dc.tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    (dc, other)
}

/// What a run printed and how it ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to its end; killed after 30 s, so a hang fails the test instead of the suite.
fn finish(cmd: &mut Command) -> Ran {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    Ran {
        code: out.status.code(),
        stdout: stdout_of(&out),
        stderr: stderr_of(&out),
    }
}

/// Whether process `pid` has ended within `limit`.
fn gone_within(pid: i32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while running(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Whether process `pid` still runs (a zombie does not).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s[s.rfind(')').unwrap() + 2..].chars().next();
            state != Some('Z')
        })
        .unwrap_or(false)
}

/// The stop's words and files; no code was requested (the sign-in's own was the only one).
fn assert_stopped(o: &Ran, dc: &Dc, created: &Path, differ: &str) {
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    for words in [
        "stopped the program before it could ask for a login code",
        &format!("created {}", created.display()),
        &format!("managed session: {}", dc.session().display()),
        differ,
        "$TGSESS_SESSION",
        &format!("rm -f -- {}", quote(created)),
        "RestartPreventExitStatus=6",
    ] {
        assert!(o.stderr.contains(words), "{words:?} not in:\n{}", o.stderr);
    }
    assert_eq!(dc.count("auth.sendCode"), 1, "{:?}", dc.log());
    assert!(
        created.is_file(),
        "the file the bot created is left in place"
    );
}

#[test]
fn a_refactored_bot_opening_another_name_is_stopped_before_its_code() {
    let (dc, _) = signed_in();
    let before = std::fs::read(dc.session()).unwrap();
    let o = finish(&mut exec_from(
        &dc,
        &dc.dir,
        &["--", &bot(), "telegram_session"],
    ));
    let created = dc.dir.join("telegram_session.session");
    assert_stopped(&o, &dc, &created, "another name in the same directory");
    assert!(!o.stdout.contains("code requested"), "{}", o.stdout);
    assert!(
        std::fs::read(dc.session()).unwrap() == before,
        "the session is untouched"
    );
    // The pasted removal works, and the next run remembers what happened.
    let rm = o.stderr.lines().find(|l| l.contains("rm -f --")).unwrap();
    let rm = &rm[rm.find("rm -f --").unwrap()..];
    assert!(
        Command::new("sh")
            .args(["-c", rm])
            .status()
            .unwrap()
            .success()
    );
    assert!(!created.exists());
    let again = finish(&mut exec_from(&dc, &dc.dir, &["--", "true"]));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("s ago, exec did not let")
            && again.stderr.contains("telegram_session"),
        "{}",
        again.stderr
    );
}

#[test]
fn the_right_name_from_the_wrong_directory_is_stopped() {
    let (dc, other) = signed_in();
    let o = finish(&mut exec_from(&dc, &other, &["--", &bot(), "sandbox"]));
    let created = std::fs::canonicalize(&other)
        .unwrap()
        .join("sandbox.session");
    assert_stopped(&o, &dc, &created, "the same name in another directory");
}

#[test]
fn a_grandchild_in_a_session_of_its_own_is_stopped_with_the_whole_tree() {
    let (dc, other) = signed_in();
    // The grandchild leaves the group (setsid); the shell waits for it.
    let script = format!("setsid {} other_account & wait; echo after", bot());
    let started = Instant::now();
    let o = finish(&mut exec_from(&dc, &other, &["--", "sh", "-c", &script]));
    let created = std::fs::canonicalize(&other)
        .unwrap()
        .join("other_account.session");
    assert_stopped(&o, &dc, &created, "another name in another directory");
    assert!(
        !o.stdout.contains("after"),
        "the shell was killed too: {}",
        o.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_session_that_existed_and_is_opened_is_named_and_left_alone() {
    let (dc, other) = signed_in();
    let existing = std::fs::canonicalize(&other).unwrap().join("old.session");
    std::fs::write(&existing, b"kept").unwrap();
    let o = finish(&mut exec_from(&dc, &other, &["--", &bot(), "old"]));
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!("opened {}", existing.display())),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("existed before; tgsess left it alone"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("rm -f"), "{}", o.stderr);
    assert_eq!(std::fs::read(&existing).unwrap(), b"kept");
    assert_eq!(dc.count("auth.sendCode"), 1, "only the sign-in's own code");
}

#[test]
fn a_gramjs_store_session_folder_is_a_session_too() {
    let (dc, other) = signed_in();
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &[
            "--",
            "sh",
            "-c",
            "mkdir acct && echo 2 > 'acct/acct%3AdcId' && sleep 20",
        ],
    ));
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    let folder = std::fs::canonicalize(&other).unwrap().join("acct");
    assert!(
        o.stderr.contains(&format!("rm -r -- {}", quote(&folder))),
        "{}",
        o.stderr
    );
}

#[test]
fn warn_reports_allow_admits_and_off_does_not_watch() {
    let (dc, other) = signed_in();
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &["--guard", "warn", "--", &bot(), "second"],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr.contains("second.session") && o.stderr.contains("--guard warn"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.contains("code requested: true"), "{}", o.stdout);
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &["--allow", "acct_*.session", "--", &bot(), "acct_7"],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(!o.stderr.contains("acct_7"), "{}", o.stderr);
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &["--guard", "off", "--", &bot(), "third"],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        !o.stderr.contains("third"),
        "off does not watch: {}",
        o.stderr
    );
    assert_eq!(
        dc.count("auth.sendCode"),
        4,
        "warn, allow and off let each code go"
    );
}

#[test]
fn the_happy_path_runs_the_bot_on_a_confirmed_session_and_keeps_a_copy() {
    let (dc, other) = signed_in();
    let before = std::fs::read(dc.session()).unwrap();
    let script = format!("{} --use \"$TGSESS_SESSION\"", bot());
    let o = finish(&mut exec_from(&dc, &other, &["--", "sh", "-c", &script]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("signed in as 700021234"), "{}", o.stdout);
    let methods: Vec<String> = dc.log().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        methods.iter().filter(|m| *m == "users.getUsers").count(),
        2,
        "{methods:?}"
    );
    assert_eq!(dc.count("auth.sendCode"), 1, "only the sign-in's own code");
    // The copy exec kept: private, listed by status, importable.
    let status = dc.run(&["status"]);
    let text = stdout_of(&status);
    assert!(text.contains("Copies exec kept"), "{text}");
    let copy = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("copy: "))
        .unwrap_or_else(|| panic!("no copy listed: {text}"));
    assert!(
        std::fs::read(copy).unwrap() == before,
        "the copy is the session as it was"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // The restore command status prints pastes, from any directory.
    let line = text
        .lines()
        .find(|l| l.contains("restore one with"))
        .unwrap();
    let restore = line.split('`').nth(1).unwrap();
    let out = Command::new("sh")
        .args(["-c", restore])
        .current_dir("/")
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin().parent().unwrap().display()),
        )
        .env("HOME", dc.tmp.path())
        .env("TGSESS_STATE_DIR", dc.tmp.path().join("state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{restore}: {}", stderr_of(&out));
    let check = dc.run(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout_of(&check));
}

#[test]
fn a_dead_wrong_or_missing_session_never_starts_the_bot() {
    let (mut dc, other) = signed_in();
    let marker = other.join("started");
    let script = format!("touch {}", quote(&marker));
    // The pin: another account.
    let o = finish(
        exec_from(&dc, &other, &["--", "sh", "-c", &script])
            .env("TGSESS_EXPECT_USER", "@someone_else"),
    );
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    assert!(
        o.stderr.contains("not started: the session is wrong user"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("someone_else"), "{}", o.stderr);
    // Telegram unreachable, but the key was confirmed just now: start, with a warning.
    dc.stop();
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &["--timeout", "2", "--", "sh", "-c", &script],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("starting anyway, as Telegram confirmed this key"),
        "{}",
        o.stderr
    );
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();
    // Logged out by Telegram: not started, with the login command to paste.
    dc.restart_with(&["--revoke-after", "0"]);
    let o = finish(&mut exec_from(&dc, &other, &["--", "sh", "-c", &script]));
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("not started: the session is not signed in"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("login"), "{}", o.stderr);
    // No session at all.
    let o = finish(
        exec_from(&dc, &other, &["--", "sh", "-c", &script]).env("TGSESS_SESSION_FILE", "nobody"),
    );
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    assert!(o.stderr.contains("does not exist"), "{}", o.stderr);
    assert!(!marker.exists(), "the bot never ran");
    assert_eq!(dc.count("auth.sendCode"), 1, "only the sign-in's own code");
}

#[test]
fn the_bots_own_children_die_too_when_tgsess_is_killed() {
    let (dc, other) = signed_in();
    // A shell that starts the bot and waits: the bot is tgsess's grandchild, which
    // PR_SET_PDEATHSIG does not reach; the reaper kills the whole group.
    let mut exec = exec_from(&dc, &other, &["--", "sh", "-c", "sleep 60 & echo $!; wait"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(exec.stdout.take());
    let grandchild: i32 = line.trim().parse().unwrap();
    assert!(running(grandchild));
    exec.kill().unwrap();
    exec.wait().unwrap();
    assert!(
        gone_within(grandchild, Duration::from_secs(5)),
        "the bot's child outlived tgsess"
    );
    // A normal end leaves nothing behind either: no reaper of this test's runs (they carry
    // its state directory in their environment) is left once exec returns.
    let o = finish(&mut exec_from(&dc, &other, &["--", "true"]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let mine = dc.tmp.path().to_string_lossy().into_owned();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            let read = |f: &str| std::fs::read(e.path().join(f)).unwrap_or_default();
            let (cmdline, environ) = (read("cmdline"), read("environ"));
            String::from_utf8_lossy(&cmdline).contains("__reap")
                && String::from_utf8_lossy(&environ).contains(&mine)
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "a reaper was left: {left:?}");
}

#[test]
fn the_bot_dies_when_tgsess_is_killed() {
    let (dc, other) = signed_in();
    let mut exec = exec_from(&dc, &other, &["--", "sh", "-c", "echo $$; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = first_line(exec.stdout.take());
    let bot: i32 = line.trim().parse().unwrap();
    exec.kill().unwrap();
    exec.wait().unwrap();
    assert!(
        gone_within(bot, Duration::from_secs(5)),
        "the bot outlived tgsess"
    );
}

#[test]
fn a_held_session_reports_the_identity_the_preflight_confirmed() {
    let (dc, other) = signed_in();
    let mut exec = exec_from(&dc, &other, &["--", "sh", "-c", "echo up; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(exec.stdout.take()).trim(), "up");
    let from = dc.log().len();
    let out = dc.run(&["check", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), &v["status"]),
        (Some(0), &"held".into()),
        "{v}"
    );
    assert_eq!(v["held"]["confirmed"]["id"], 700021234, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("confirmed it signed in as"),
        "{v}"
    );
    assert_eq!(dc.log().len(), from, "a held session is not asked");
    // SAFETY: signalling our own child (tgsess), which passes it on to the group.
    unsafe {
        libc::kill(exec.id() as i32, libc::SIGTERM);
    }
    assert_eq!(exec.wait().unwrap().code(), Some(128 + libc::SIGTERM));
}

#[test]
fn at_a_terminal_the_bot_reads_it_and_ctrl_c_reaches_it() {
    let (dc, _) = signed_in();
    let script = "trap 'echo got INT; exit 3' INT; read name; echo hello $name; \
                  while :; do sleep 0.1; done";
    let mut pty = dc.pty(&["exec", "--", "sh", "-c", script]);
    // A program outside the terminal's foreground group would be stopped by SIGTTIN here.
    pty.line("ada");
    pty.expect("hello ada");
    pty.0.send(expectrl::ControlCode::ETX).unwrap();
    pty.expect("got INT");
    assert_eq!(pty.exit_code(), 3);
}

#[test]
fn killing_exec_during_the_preflight_starts_nothing_and_changes_nothing() {
    let (mut dc, other) = signed_in();
    dc.restart_with(&["--latency", "3000"]);
    let before = std::fs::read(dc.session()).unwrap();
    let marker = other.join("started");
    let script = format!("touch {}", quote(&marker));
    let mut exec = exec_from(&dc, &other, &["--", "sh", "-c", &script])
        .spawn()
        .unwrap();
    // The pre-flight is on the wire: the request is held by the sandbox's latency.
    std::thread::sleep(Duration::from_millis(700));
    exec.kill().unwrap();
    exec.wait().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(!marker.exists(), "the bot never ran");
    assert!(
        std::fs::read(dc.session()).unwrap() == before,
        "the session is untouched"
    );
    // The lock went with the process: the next exec runs.
    dc.restart();
    let o = finish(&mut exec_from(&dc, &other, &["--", "sh", "-c", &script]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(marker.exists());
}

#[test]
fn a_preflight_that_times_out_starts_only_a_confirmed_key() {
    let (mut dc, other) = signed_in();
    let marker = other.join("started");
    let script = format!("touch {}", quote(&marker));
    // Telegram answers, but only after the pre-flight's deadline.
    dc.restart_with(&["--latency", "4000"]);
    let started = Instant::now();
    let o = finish(&mut exec_from(
        &dc,
        &other,
        &["--timeout", "1", "--", "sh", "-c", &script],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stderr.contains("starting anyway"), "{}", o.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(marker.exists());
    std::fs::remove_file(&marker).unwrap();
    // A key tgsess never saw confirmed (another state directory): not started.
    let o = finish(
        exec_from(&dc, &other, &["--timeout", "1", "--", "sh", "-c", &script])
            .env("TGSESS_STATE_DIR", dc.tmp.path().join("fresh-state")),
    );
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    assert!(
        o.stderr.contains("never confirmed this key"),
        "{}",
        o.stderr
    );
    assert!(!marker.exists());
}
