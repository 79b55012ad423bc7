//! `tgsess exec`: a bot runs while tgsess holds its session's lock.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A signed-in sandbox session and `tgsess exec -- sh -c SCRIPT` running on it,
/// with the first line the script printed.
fn signed_in_bot(script: &str, stdin: Stdio) -> (Dc, Child, String) {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let mut bot = dc
        .cmd(&["exec", "--", "sh", "-c", script])
        .stdin(stdin)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first_line(bot.stdout.take());
    (dc, bot, first)
}

#[test]
fn writers_and_a_second_exec_are_refused_while_the_bot_runs() {
    let (dc, mut bot, first) = signed_in_bot(
        "echo \"session=$TGSESS_SESSION format=$TGSESS_SESSION_FORMAT\"; read line; exit 7",
        Stdio::piped(),
    );
    assert_eq!(
        first.trim(),
        format!("session={} format=grammers", dc.session().display())
    );
    let pid = bot.id();
    let before = std::fs::read(dc.session()).unwrap();
    for args in [
        &["reset", "--yes"][..],
        &["logout", "--yes"],
        &["login", "--code-stdin"],
        &["exec", "--", "true"],
    ] {
        let out = dc.cmd(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!("pid {pid}")) && err.contains("exec"),
            "{args:?}: {err}"
        );
    }
    let status = dc.cmd(&["status"]).output().unwrap();
    assert!(
        stderr_of(&status).contains(&format!("pid {pid}")),
        "{}",
        stderr_of(&status)
    );
    assert_eq!(std::fs::read(dc.session()).unwrap(), before);
    drop(bot.stdin.take());
    assert_eq!(
        bot.wait().unwrap().code(),
        Some(7),
        "the bot's own exit status"
    );
    // Released: a writer works again.
    let out = dc.cmd(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(dc.cmd(&["status"]).output().unwrap().stderr.is_empty());
}

#[test]
fn signals_are_passed_on_and_the_status_comes_back() {
    let (dc, mut bot, line) = signed_in_bot(
        "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done",
        Stdio::null(),
    );
    assert_eq!(line.trim(), "ready");
    // SAFETY: signalling our own child (tgsess), which passes it on.
    unsafe {
        libc::kill(bot.id() as i32, libc::SIGTERM);
    }
    let started = Instant::now();
    let status = bot.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(42));
    let out = dc
        .cmd(&["exec", "--", "no-such-program-here"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no-such-program-here"));
}
