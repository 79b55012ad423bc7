//! Faults: at least 40, against the real sandbox (or a listener that
//! misbehaves on purpose), through a PTY where a person types. After each: the exit code and
//! a message fragment, every file that existed before is byte-identical (tgsess's own state
//! directory aside), no panic, no secret in any output, no command more than 1 s past its
//! timeout, and the request log's counts: no fault ever costs a second code.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;

/// Faults counted so far, across the tests of this file (reported by the last one to finish).
static FAULTS: AtomicUsize = AtomicUsize::new(0);

fn counted(n: usize) {
    let total = FAULTS.fetch_add(n, Ordering::SeqCst) + n;
    eprintln!("faults checked so far: {total}");
}

/// tgsess on the sandbox's config, with a secret api_hash from the environment.
fn tg(dc: &Dc, args: &[&str]) -> Command {
    let mut c = dc.cmd(args);
    c.env("TGSESS_API_HASH", API_HASH);
    c
}

fn run(dc: &Dc, args: &[&str], stdin: &str, limit: Duration) -> Outcome {
    let o = run_bounded(tg(dc, args), stdin.as_bytes(), limit);
    check_common(&args.join(" "), &o, limit + Duration::from_secs(1));
    o
}

fn expect(o: &Outcome, exit: i32, fragment: &str, what: &str) {
    assert_eq!(o.code, Some(exit), "{what}: {}", o.text);
    assert!(
        o.text.contains(fragment),
        "{what}: wanted {fragment:?} in {}",
        o.text
    );
}

/// Files in the sandbox's directory (the session among them) and the config, minus the
/// sandbox's own bookkeeping and tgsess's state directory.
fn kept(dc: &Dc) -> impl Fn() -> Vec<std::path::PathBuf> + '_ {
    let before = hashes(dc.tmp.path());
    move || {
        let after = hashes(dc.tmp.path());
        changed(
            &before,
            &after,
            &[
                &dc.tmp.path().join("state"),
                &dc.dir.join("requests.jsonl"),
                &dc.dir.join("state.json"),
                &dc.dir.join("keys"),
                &dc.dir.join("sandbox.json"),
                &dc.dir.join("session.string"),
                &dc.dir.join("tgsess.toml"),
            ],
        )
    }
}

fn pty(dc: &Dc, args: &[&str]) -> Pty {
    Pty::spawn(tg(dc, args))
}

/// Kills a PTY's process with SIGKILL (or another signal) and reaps it.
fn kill(p: Pty, signal: i32) {
    let pid = p.0.get_process().pid().as_raw();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid, signal);
    }
    let _ = p.0.get_process().wait();
}

fn login_to_code_prompt(dc: &Dc) -> Pty {
    let mut p = pty(dc, &["login"]);
    p.expect("Enter the login code");
    p
}

fn finish_with_code(dc: &Dc, sends: usize) {
    let mut p = pty(dc, &["login"]);
    p.expect("Enter THAT code");
    p.line("22222");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(
        dc.count("auth.sendCode"),
        sends,
        "the rerun requested a code"
    );
}

fn password_on_rerun(dc: &Dc, sends: usize) {
    let mut p = pty(dc, &["login"]);
    p.expect("waiting only for this key's two-step verification password");
    p.expect("Two-step verification password");
    p.line("pw");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(
        dc.count("auth.sendCode"),
        sends,
        "the rerun requested a code"
    );
}

#[test]
fn lost_answers_and_dropped_connections() {
    let t = Duration::from_secs(5);
    // 1-3: the answer to auth.sendCode is lost: no request on its own, --new-code on purpose.
    let dc = Dc::start(&["--drop-on", "auth.sendCode"]);
    let files = kept(&dc);
    let o = run_bounded(
        {
            let mut c = tg(&dc, &["login", "--code-stdin", "--timeout", "3"]);
            c.env("TGSESS_PASSWORD", PASSWORD);
            c
        },
        b"",
        t,
    );
    check_common("drop sendCode", &o, t);
    expect(&o, 3, "may have reached Telegram", "drop sendCode");
    let o = run(&dc, &["login", "--code-stdin"], "", t);
    expect(&o, 1, "answer was lost", "rerun after a lost answer");
    assert!(o.text.contains("--new-code"), "{}", o.text);
    assert_eq!(dc.count("auth.sendCode"), 1, "the rerun requested a code");
    assert!(!dc.session().exists(), "a session file without a sign-in");
    let o = run(&dc, &["login", "--code-stdin", "--new-code"], "22222\n", t);
    expect(&o, 0, "Signed in as", "--new-code");
    assert_eq!(dc.count("auth.sendCode"), 2);
    assert!(files().is_empty(), "{:?}", files());

    // 4: the connection drops during auth.signIn: the rerun enters the same code.
    let dc = Dc::start(&["--drop-on", "auth.signIn"]);
    let mut p = login_to_code_prompt(&dc);
    p.line("22222");
    p.expect("pending code is remembered");
    assert_eq!(p.exit_code(), 3);
    finish_with_code(&dc, 1);

    // 5: the very first request (updates.getState) is dropped: nothing was requested.
    let dc = Dc::start(&["--drop-on", "updates.getState"]);
    let o = run(&dc, &["login", "--code-stdin", "--timeout", "3"], "", t);
    expect(&o, 3, "updates.getState", "drop getState");
    assert_eq!(dc.count("auth.sendCode"), 0);

    // 6-7: 2FA: the connection drops at account.getPassword, then at auth.checkPassword; each
    // rerun goes straight to the password, with no new code.
    for method in ["account.getPassword", "auth.checkPassword"] {
        let dc = Dc::start(&["--password", "pw", "--drop-on", method]);
        let mut p = login_to_code_prompt(&dc);
        p.line("22222");
        if method == "auth.checkPassword" {
            p.expect("Two-step verification password");
            p.line("pw");
        }
        assert_eq!(p.exit_code(), 3, "{method}");
        password_on_rerun(&dc, 1);
    }

    // 8: auth.logOut dropped: the session is kept, not lost.
    let dc = Dc::start(&["--drop-on", "auth.logOut"]);
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "Signed in", "login before logout");
    let files = kept(&dc);
    let mut p = pty(&dc, &["logout", "--timeout", "3"]);
    p.expect("[y/N]");
    p.line("y");
    p.expect("was kept");
    assert_eq!(p.exit_code(), 3, "drop logOut");
    assert!(files().is_empty(), "{:?}", files());

    // 9: users.getUsers dropped while recording who an imported key belongs to.
    let dc = Dc::start(&["--drop-on", "users.getUsers"]);
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "Signed in", "login");
    let tl = dc.tmp.path().join("tl.session");
    let o = run(
        &dc,
        &[
            "export",
            "--format",
            "telethon",
            "--output",
            tl.to_str().unwrap(),
        ],
        "",
        t,
    );
    expect(&o, 0, "Wrote", "export");
    let g = dc.tmp.path().join("g.session");
    let o = run(
        &dc,
        &[
            "--session",
            g.to_str().unwrap(),
            "import",
            tl.to_str().unwrap(),
        ],
        "",
        t,
    );
    expect(&o, 0, "Imported", "import");
    let files = kept(&dc);
    let o = run(
        &dc,
        &["--session", g.to_str().unwrap(), "login", "--timeout", "3"],
        "",
        t,
    );
    expect(&o, 3, "users.getUsers", "drop getUsers");
    assert!(files().is_empty(), "{:?}", files());
    assert_eq!(dc.count("auth.sendCode"), 1);

    // 10: the bot sign-in is dropped.
    let dc = Dc::start(&["--drop-on", "auth.importBotAuthorization"]);
    let mut c = tg(&dc, &["login", "--bot", "--timeout", "3"]);
    c.env("TGSESS_BOT_TOKEN", BOT_TOKEN);
    let o = run_bounded(c, b"", t);
    check_common("drop bot sign-in", &o, t);
    expect(&o, 3, "auth.importBotAuthorization", "drop bot sign-in");
    assert!(!dc.session().exists());
    counted(10);
}

#[test]
fn interrupted_at_every_prompt() {
    // 11-12: Ctrl-C, then SIGKILL, at the code prompt: the rerun enters the same code.
    for signal in [libc::SIGINT, libc::SIGKILL] {
        let dc = Dc::start(&[]);
        let p = login_to_code_prompt(&dc);
        if signal == libc::SIGINT {
            let mut p = p;
            p.0.send(expectrl::ControlCode::EndOfText).unwrap();
            p.expect("interrupted");
            assert_eq!(p.exit_code(), 130);
        } else {
            kill(p, signal);
        }
        assert!(!dc.session().exists(), "a session without a sign-in");
        finish_with_code(&dc, 1);
    }
    // 13: SIGTERM at the code prompt.
    let dc = Dc::start(&[]);
    kill(login_to_code_prompt(&dc), libc::SIGTERM);
    finish_with_code(&dc, 1);
    // 14-16: Ctrl-C, SIGKILL, SIGTERM at the password prompt: the rerun asks only for it.
    for signal in [libc::SIGINT, libc::SIGKILL, libc::SIGTERM] {
        let dc = Dc::start(&["--password", "pw"]);
        let mut p = login_to_code_prompt(&dc);
        p.line("22222");
        p.expect("Two-step verification password");
        if signal == libc::SIGINT {
            p.0.send(expectrl::ControlCode::EndOfText).unwrap();
            p.expect("interrupted");
            assert_eq!(p.exit_code(), 130);
        } else {
            kill(p, signal);
        }
        password_on_rerun(&dc, 1);
    }
    // 17: three wrong passwords: the key still waits; the rerun asks for the password.
    let dc = Dc::start(&["--password", "pw"]);
    let mut p = login_to_code_prompt(&dc);
    p.line("22222");
    for _ in 0..3 {
        p.expect("Two-step verification password");
        p.line("nope");
    }
    p.expect("still waits");
    assert_eq!(p.exit_code(), 1);
    password_on_rerun(&dc, 1);
    // 18: three wrong codes: the request stays pending.
    let dc = Dc::start(&[]);
    let mut p = login_to_code_prompt(&dc);
    for _ in 0..3 {
        p.line("11111");
    }
    p.expect("3 wrong codes");
    assert_eq!(p.exit_code(), 1);
    finish_with_code(&dc, 1);
    // 19: Ctrl-D at the code prompt: remembered, and the next message on its own line.
    let dc = Dc::start(&[]);
    let mut p = login_to_code_prompt(&dc);
    p.0.send(expectrl::ControlCode::EndOfTransmission).unwrap();
    p.expect("no code entered");
    assert_eq!(p.exit_code(), 1);
    finish_with_code(&dc, 1);
    // 20: Ctrl-C at reset's confirmation: exit 130, nothing deleted.
    let dc = Dc::start(&[]);
    let o = run(
        &dc,
        &["login", "--code-stdin"],
        "22222\n",
        Duration::from_secs(5),
    );
    expect(&o, 0, "Signed in", "login");
    let mut p = pty(&dc, &["reset"]);
    p.expect("stays valid at Telegram");
    p.0.send(expectrl::ControlCode::EndOfText).unwrap();
    p.expect("interrupted");
    assert_eq!(p.exit_code(), 130);
    assert!(dc.session().exists());
    counted(10);
}

/// A login that Telegram refuses (exit 5, `first`), then a rerun that is refused
/// (exit 5, `rerun`) without sending the server anything.
fn refused_then_refused_offline(dc: &Dc, first: &str, rerun: &str) {
    let t = Duration::from_secs(5);
    let o = run(dc, &["login", "--code-stdin"], "", t);
    expect(&o, 5, first, "refused by Telegram");
    let requests = dc.log().len();
    let o = run(dc, &["login", "--code-stdin"], "", t);
    expect(&o, 5, rerun, "rerun");
    assert_eq!(
        dc.log().len(),
        requests,
        "the refused rerun contacted the server"
    );
}

#[test]
fn telegram_says_no() {
    let t = Duration::from_secs(5);
    // 21-22: FLOOD_WAIT, then the rerun refuses without contacting the server.
    let dc = Dc::start(&["--flood-wait", "3600"]);
    refused_then_refused_offline(&dc, "wait 3600 s", "--force");
    // 23-25: SEND_CODE_UNAVAILABLE is remembered for 24 h: refused locally; status shows it;
    // --force overrides.
    let dc = Dc::start(&["--send-code-unavailable"]);
    refused_then_refused_offline(&dc, "SEND_CODE_UNAVAILABLE", "SEND_CODE_UNAVAILABLE");
    let o = run(&dc, &["status"], "", t);
    expect(&o, 0, "SEND_CODE_UNAVAILABLE", "status shows the wait");
    let o = run(&dc, &["login", "--code-stdin", "--force"], "", t);
    expect(&o, 5, "used up", "--force asks again");
    assert_eq!(dc.count("auth.sendCode"), 2);
    // 26: the code expires: one new request is then allowed, and costs exactly one.
    let dc = Dc::start(&["--code-ttl", "1"]);
    let mut p = login_to_code_prompt(&dc);
    std::thread::sleep(Duration::from_millis(1200));
    p.line("22222");
    p.expect("expired");
    assert_eq!(p.exit_code(), 1);
    assert_eq!(dc.count("auth.sendCode"), 1);
    // 27: the account lives on another DC: one request, answered PHONE_MIGRATE, sent on.
    let dc = Dc::start(&["--migrate-to", "3"]);
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "lives on DC 3", "migrate");
    let ok: Vec<_> = dc
        .log()
        .into_iter()
        .filter(|(m, r)| m == "auth.sendCode" && r == "ok")
        .collect();
    assert_eq!(ok.len(), 1, "{:?}", dc.log());
    // 28: the key is revoked after sign-in: check says so, the file is kept.
    let dc = Dc::start(&["--revoke-after", "1"]);
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "Signed in", "login");
    std::thread::sleep(Duration::from_millis(1200));
    let files = kept(&dc);
    let o = run(&dc, &["check"], "", t);
    expect(&o, 1, "AUTH_KEY_UNREGISTERED", "revoked");
    assert!(files().is_empty());
    // 29: a phone the sandbox has no account for costs one refused request, no more.
    let dc = Dc::start(&[]);
    let o = run(
        &dc,
        &["--phone", "+15551234567", "login", "--code-stdin"],
        "",
        t,
    );
    expect(&o, 2, "invalid", "unknown phone");
    assert_eq!(dc.count("auth.sendCode"), 1);
    counted(9);
}

/// A listener on 127.0.0.1 that accepts connections and never answers.
fn blackhole() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().take(64).flatten() {
            held.push(s);
        }
    });
    addr
}

/// A relay to `to` that holds every reply for `delay` first.
fn slow_relay(to: std::net::SocketAddr, delay: Duration) -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in l.incoming().take(16).flatten() {
            let Ok(server) = TcpStream::connect(to) else {
                continue;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    std::thread::sleep(delay);
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Points the sandbox's endpoint file at another address (the sandbox keeps running).
fn redirect(dc: &Dc, to: std::net::SocketAddr) -> String {
    let path = dc.dir.join("sandbox.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
    v["address"] = serde_json::Value::String(to.to_string());
    std::fs::write(&path, v.to_string()).unwrap();
    original
}

#[test]
fn deadlines_hold_against_silent_and_slow_servers() {
    // 30-32: a server that accepts TCP and never answers: check, login, logout all end with
    // exit 3 within their timeout + 1 s.
    let mut dc = Dc::start(&[]);
    let o = run(
        &dc,
        &["login", "--code-stdin"],
        "22222\n",
        Duration::from_secs(5),
    );
    expect(&o, 0, "Signed in", "login");
    let original = redirect(&dc, blackhole());
    let session_before = std::fs::read(dc.session()).unwrap();
    // logout is confirmed at a terminal (off one it would need --yes, which deletes even an
    // unreachable session): after the yes, the silent server costs at most the timeout.
    let mut p = pty(&dc, &["logout", "--timeout", "2"]);
    p.expect("[y/N]");
    let started = Instant::now();
    p.line("y");
    p.expect("was kept");
    assert_eq!(p.exit_code(), 3);
    assert!(
        started.elapsed() <= Duration::from_secs(3),
        "logout took {:?}",
        started.elapsed()
    );
    for args in [
        &["check", "--timeout", "2"][..],
        &[
            "--session",
            "fresh.session",
            "login",
            "--code-stdin",
            "--timeout",
            "2",
        ],
    ] {
        let started = Instant::now();
        let o = run(&dc, args, "", Duration::from_secs(2));
        assert_eq!(o.code, Some(3), "{args:?}: {}", o.text);
        assert!(
            started.elapsed() <= Duration::from_secs(3),
            "{args:?} took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(std::fs::read(dc.session()).unwrap(), session_before);
    // 33: every reply 2.5 s late: check --timeout 1 is back within 2 s.
    let real: serde_json::Value = serde_json::from_str(&original).unwrap();
    let real: std::net::SocketAddr = real["address"].as_str().unwrap().parse().unwrap();
    redirect(&dc, slow_relay(real, Duration::from_millis(2500)));
    let started = Instant::now();
    let o = run(
        &dc,
        &["check", "--timeout", "1"],
        "",
        Duration::from_secs(1),
    );
    expect(&o, 3, "no answer within 1 s", "slow server");
    assert!(
        started.elapsed() <= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // 34-36: the sandbox is gone: check and logout give no verdict; JSON agrees.
    std::fs::write(dc.dir.join("sandbox.json"), &original).unwrap();
    dc.stop();
    let o = run(
        &dc,
        &["check", "--timeout", "2"],
        "",
        Duration::from_secs(2),
    );
    assert_eq!(o.code, Some(3), "{}", o.text);
    let o = run(
        &dc,
        &["check", "--json", "--timeout", "2"],
        "",
        Duration::from_secs(2),
    );
    assert_eq!(o.code, Some(3));
    assert!(o.text.contains("\"status\":\"no_verdict\""), "{}", o.text);
    let mut p = pty(&dc, &["logout", "--timeout", "2"]);
    p.expect("[y/N]");
    p.line("y");
    p.expect("was kept");
    assert_eq!(p.exit_code(), 3, "logout without a server");
    assert_eq!(std::fs::read(dc.session()).unwrap(), session_before);
    counted(7);
}

#[test]
fn state_that_cannot_be_kept_stops_before_any_request() {
    let t = Duration::from_secs(5);
    let dc = Dc::start(&[]);
    // 37: no HOME, no XDG_STATE_HOME, no TGSESS_STATE_DIR.
    let mut c = tg(&dc, &["login", "--code-stdin"]);
    c.env_remove("HOME").env_remove("TGSESS_STATE_DIR");
    let o = run_bounded(c, b"", t);
    check_common("no state dir", &o, t);
    expect(&o, 2, "TGSESS_STATE_DIR", "no state dir");
    // 38: a state directory that cannot be created or written (under a regular file: mode
    // bits would not stop root, who runs CI).
    let blocker = dc.tmp.path().join("not-a-dir");
    std::fs::write(&blocker, "a file").unwrap();
    let mut c = tg(&dc, &["login", "--code-stdin"]);
    c.env("TGSESS_STATE_DIR", blocker.join("state"));
    let o = run_bounded(c, b"", t);
    check_common("unwritable state", &o, t);
    expect(&o, 2, "not usable", "unwritable state dir");
    // 39: state.json damaged.
    let st = dc.tmp.path().join("state");
    std::fs::create_dir_all(&st).unwrap();
    std::fs::write(st.join("state.json"), "{ not json").unwrap();
    let o = run(&dc, &["login", "--code-stdin"], "", t);
    expect(&o, 2, "is damaged", "damaged state");
    // 40: state.json is a directory.
    std::fs::remove_file(st.join("state.json")).unwrap();
    std::fs::create_dir(st.join("state.json")).unwrap();
    let o = run(&dc, &["login", "--code-stdin"], "", t);
    expect(&o, 2, "not a regular file", "state.json a directory");
    std::fs::remove_dir(st.join("state.json")).unwrap();
    assert_eq!(
        dc.count("auth.sendCode"),
        0,
        "a request without a usable state"
    );
    // 41: a planted symlink at the old temp name is never followed.
    let victim = dc.tmp.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, st.join(".state.json.tmp")).unwrap();
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "Signed in", "planted temp symlink");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    counted(5);
}

#[test]
fn files_in_the_way() {
    let t = Duration::from_secs(5);
    let dc = Dc::start(&[]);
    let o = run(&dc, &["login", "--code-stdin"], "22222\n", t);
    expect(&o, 0, "Signed in", "login");
    // 42: another tgsess holds the session's lock (a login waiting at its prompt).
    let mut other = pty(
        &dc,
        &[
            "--session",
            dc.tmp.path().join("b.session").to_str().unwrap(),
            "login",
            "--fresh",
        ],
    );
    other.expect("Enter the login code");
    let o = run(
        &dc,
        &[
            "--session",
            dc.tmp.path().join("b.session").to_str().unwrap(),
            "login",
            "--code-stdin",
            "--fresh",
        ],
        "",
        t,
    );
    expect(&o, 4, "busy", "second login on a locked session");
    // 43: the same, through a symlink to that session path's directory.
    let link = dc.tmp.path().join("link");
    std::os::unix::fs::symlink(dc.tmp.path(), &link).unwrap();
    let o = run(
        &dc,
        &[
            "--session",
            link.join("b.session").to_str().unwrap(),
            "login",
            "--code-stdin",
            "--fresh",
        ],
        "",
        t,
    );
    assert_eq!(o.code, Some(4), "through a symlink: {}", o.text);
    other.line("22222");
    other.expect("Signed in as");
    assert_eq!(other.exit_code(), 0);
    // 44: two import --force within one second keep two distinct backups.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/telethon-ipv4.string");
    let original = std::fs::read(dc.session()).unwrap();
    for _ in 0..2 {
        let o = run(&dc, &["import", "--force", src.to_str().unwrap()], "", t);
        expect(&o, 0, "kept as", "import --force");
    }
    let backups: Vec<_> = std::fs::read_dir(&dc.dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("sandbox.session.bak-")
        })
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert_eq!(backups.len(), 2, "backups overwrote each other");
    assert!(
        backups.contains(&original),
        "the signed-in original was lost"
    );
    // 45: a second sandbox on the same directory is refused.
    let o = run_bounded(
        {
            let mut c = Command::new(bin());
            c.args(["sandbox", "--dir"]).arg(&dc.dir);
            c
        },
        b"",
        t,
    );
    expect(&o, 2, "another tgsess sandbox", "second sandbox");
    assert!(dc.dir.join("sandbox.json").exists());
    counted(4);
}

#[test]
fn a_session_that_cannot_be_saved_is_saved_by_the_rerun() {
    // 46: something is in the way of the session file when sign-in completes: exit 4, and
    // the signed-in key stays in the state directory; once the way is clear, the rerun
    // records it with no new code.
    let dc = Dc::start(&[]);
    let mut p = login_to_code_prompt(&dc);
    std::fs::create_dir(dc.session()).unwrap();
    std::fs::write(dc.session().join("in the way"), "x").unwrap();
    p.line("22222");
    p.expect("cannot write");
    assert_eq!(p.exit_code(), 4);
    std::fs::remove_dir_all(dc.session()).unwrap();
    let o = run(&dc, &["login"], "", Duration::from_secs(5));
    expect(&o, 0, "Already signed in", "the rerun");
    assert!(o.text.contains("recorded in"), "{}", o.text);
    assert_eq!(dc.count("auth.sendCode"), 1);
    assert_eq!(dc.run(&["check", "--offline"]).status.code(), Some(0));
    counted(1);
}

/// Keeps the shared counter honest: every fault test above adds its count.
#[test]
fn fault_table_has_at_least_40_rows() {
    // The counts passed to `counted` in this file, summed statically.
    let src = include_str!("faults.rs");
    let total: usize = src
        .lines()
        .filter_map(|l| l.trim().strip_prefix("counted("))
        .filter_map(|l| l.strip_suffix(");"))
        .filter_map(|n| n.parse::<usize>().ok())
        .sum();
    assert!(total >= 40, "only {total} faults");
}

/// The temporary files beside `session` (copies of a key a writer was writing).
fn temps_beside(session: &Path) -> Vec<String> {
    let name = session.file_name().unwrap().to_string_lossy().into_owned();
    let mut v: Vec<String> = std::fs::read_dir(session.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")) && n.contains(".tmp"))
        .collect();
    v.sort();
    v
}

#[test]
fn writers_killed_mid_write_leave_no_copy_of_the_key_for_long() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let session = dc.session();
    let source = dc.tmp.path().join("source.session");
    let o = run(
        &dc,
        &[
            "export",
            "--format",
            "telethon",
            "--output",
            source.to_str().unwrap(),
        ],
        "",
        Duration::from_secs(5),
    );
    expect(&o, 0, "Wrote", "export");
    let status_warns = |dc: &Dc| {
        let out = tg(dc, &["status", "--json"]).output().unwrap();
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("stopped mid-write"))
    };
    // A writer that died (a pid no process has) left a temp copy and its journal: status
    // names them, and the next writer of the session, under its lock, removes them.
    for side in ["", "-journal"] {
        std::fs::write(
            session.with_file_name(format!(".sandbox.session.4194305-0123456789ab.tmp{side}")),
            b"a copy of a key",
        )
        .unwrap();
    }
    assert!(status_warns(&dc));
    let o = run(
        &dc,
        &["import", "--force", source.to_str().unwrap()],
        "",
        Duration::from_secs(5),
    );
    expect(&o, 0, "Imported", "import --force");
    assert!(
        temps_beside(&session).is_empty(),
        "{:?}",
        temps_beside(&session)
    );
    assert!(!status_warns(&dc));
    // kill -9 at every moment of real writes: whatever each leaves, status reports exactly
    // when there is something, and the next completed write leaves nothing.
    let mut left = 0;
    for i in 0..15u64 {
        let mut child = tg(&dc, &["import", "--force", source.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(3 * i));
        let _ = child.kill();
        let _ = child.wait();
        let temps = temps_beside(&session);
        assert_eq!(status_warns(&dc), !temps.is_empty(), "{temps:?}");
        left += temps.len();
    }
    eprintln!("kill -9 during import --force: {left} temp files seen over 15 kills");
    let o = run(
        &dc,
        &["import", "--force", source.to_str().unwrap()],
        "",
        Duration::from_secs(5),
    );
    expect(&o, 0, "Imported", "import --force after the kills");
    assert!(
        temps_beside(&session).is_empty(),
        "{:?}",
        temps_beside(&session)
    );
    assert_eq!(dc.count("auth.sendCode"), 1);
    counted(16);
}
