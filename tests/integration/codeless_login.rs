//! Signing in without a code, end to end: `login --qr` with a scan from another terminal
//! (`tgsess sandbox --scan`), `login --approve-with SOURCE` from every format, `import
//! --as-new`, and `devices`. Every scenario asserts 0 auth.sendCode in the request log, and
//! that a source is byte-identical and still signed in afterwards.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::*;

/// `tgsess sandbox --dir DIR --scan` with `url` on stdin, as the sandbox account.
fn scan(dc: &Dc, url: &str) -> std::process::Output {
    let mut c = Command::new(bin())
        .args(["sandbox", "--dir"])
        .arg(&dc.dir)
        .arg("--scan")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(url.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn session_args(p: &Path) -> Vec<String> {
    vec!["--session".into(), p.display().to_string()]
}

/// A QR login through a PTY: waits for the URL, lets `scan` act on it, returns the PTY.
fn qr_pty(dc: &Dc, target: &Path, extra: &[&str]) -> (Pty, String) {
    let mut args: Vec<String> = session_args(target);
    args.extend(["login".into(), "--qr".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut p = dc.pty(&refs);
    p.expect("Settings > Devices > Link Desktop Device");
    let found =
        p.0.expect(expectrl::Regex("tg://login\\?token=[A-Za-z0-9_-]+"))
            .unwrap();
    let url = String::from_utf8_lossy(found.get(0).unwrap()).into_owned();
    (p, url)
}

#[test]
fn qr_login_scanned_from_another_terminal() {
    let dc = Dc::start(&[]);
    let target = dc.tmp.path().join("qr.session");
    let (mut p, url) = qr_pty(&dc, &target, &[]);
    let out = scan(&dc, &url);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    p.expect("Signed in as Sandbox");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 0);
    let out = dc.run(&["--session", target.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    // A token is accepted once.
    let again = scan(&dc, &url);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr_of(&again).contains("AUTH_TOKEN"),
        "{}",
        stderr_of(&again)
    );
}

#[test]
fn qr_login_with_two_step_verification() {
    let dc = Dc::start(&["--password", "pw"]);
    let target = dc.tmp.path().join("qr.session");
    let (mut p, url) = qr_pty(&dc, &target, &[]);
    assert_eq!(scan(&dc, &url).status.code(), Some(0));
    p.expect("Two-step verification password");
    p.line("pw");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.sendCode"), 0);
    assert_eq!(dc.count("auth.checkPassword"), 1);
}

#[test]
fn qr_login_migrates_to_the_accounts_dc() {
    let dc = Dc::start(&["--migrate-to", "3"]);
    let target = dc.tmp.path().join("qr.session");
    let (mut p, url) = qr_pty(&dc, &target, &[]);
    assert_eq!(scan(&dc, &url).status.code(), Some(0));
    p.expect("lives on DC 3");
    p.expect("Signed in as");
    assert_eq!(p.exit_code(), 0);
    assert_eq!(dc.count("auth.importLoginToken"), 1);
    assert_eq!(dc.count("auth.sendCode"), 0);
    let s = dc.run(&["--session", target.to_str().unwrap(), "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["session"]["home_dc"], 3);
}

#[test]
fn qr_login_without_a_terminal_prints_each_new_token_and_survives_expiry() {
    let dc = Dc::start(&["--login-token-ttl", "2"]);
    let target = dc.tmp.path().join("qr.session");
    let mut child = dc
        .cmd(&[
            "--session",
            target.to_str().unwrap(),
            "login",
            "--qr",
            "--json",
            "--timeout",
            "30",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let token = |lines: &mut std::io::Lines<_>| -> serde_json::Value {
        let l: String = Iterator::next(lines).unwrap().unwrap();
        serde_json::from_str(&l).unwrap()
    };
    let first = token(&mut lines);
    assert_eq!(first["event"], "token");
    // The first token expires unscanned; a new one follows.
    let second = token(&mut lines);
    assert_eq!(second["event"], "token");
    assert_ne!(first["url"], second["url"]);
    let stale = scan(&dc, first["url"].as_str().unwrap());
    assert!(
        stderr_of(&stale).contains("AUTH_TOKEN_EXPIRED"),
        "{}",
        stderr_of(&stale)
    );
    assert_eq!(
        scan(&dc, second["url"].as_str().unwrap()).status.code(),
        Some(0)
    );
    let result = loop {
        let v = token(&mut lines);
        if v["event"] != "token" {
            break v;
        }
    };
    assert_eq!(result["event"], "signed_in");
    assert_eq!(result["user_id"], 700021234);
    assert!(child.wait().unwrap().success());
    assert_eq!(dc.count("auth.sendCode"), 0);
}

#[test]
fn qr_login_interrupted_leaves_nothing_behind() {
    let dc = Dc::start(&[]);
    let target = dc.tmp.path().join("qr.session");
    let (mut p, _url) = qr_pty(&dc, &target, &[]);
    p.0.send(expectrl::ControlCode::EndOfText).unwrap();
    p.expect("interrupted");
    assert_eq!(p.exit_code(), 130);
    assert!(!target.exists());
    assert_eq!(dc.count("auth.sendCode"), 0);
}

/// A signed-in source in every format: the grammers session of a code login, and exports.
fn sources(dc: &Dc) -> Vec<PathBuf> {
    dc.sign_in(&[]);
    let dir = dc.tmp.path().join("sources");
    std::fs::create_dir_all(&dir).unwrap();
    let mut v = vec![dc.session()];
    for (format, name) in [
        ("telethon", "tl.session"),
        ("pyrogram", "pg.session"),
        ("telethon-string", "tl.string"),
        ("pyrogram-string", "pg.string"),
    ] {
        let p = dir.join(name);
        let out = dc.run(&[
            "export",
            "--format",
            format,
            "--output",
            p.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        v.push(p);
    }
    v
}

/// `tgsess --session TARGET login --approve-with SOURCE`.
fn approve(dc: &Dc, target: &Path, source: &str) -> std::process::Output {
    let t = target.to_str().unwrap();
    dc.run(&["--session", t, "login", "--approve-with", source])
}

#[test]
fn approval_from_every_format_and_from_stdin_needs_no_code() {
    let dc = Dc::start(&[]);
    let all = sources(&dc);
    assert_eq!(dc.count("auth.sendCode"), 1, "the sources' own login");
    for (i, src) in all.iter().enumerate() {
        let before = std::fs::read(src).unwrap();
        let target = dc.tmp.path().join(format!("approved-{i}.session"));
        let t = target.to_str().unwrap();
        let out = if src.extension().is_some_and(|e| e == "string") {
            // A string through stdin, never as an argument.
            let mut child = dc
                .cmd(&["--session", t, "login", "--approve-with", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&before).unwrap();
            child.wait_with_output().unwrap()
        } else if i % 2 == 0 {
            approve(&dc, &target, src.to_str().unwrap())
        } else {
            dc.run(&["--session", t, "import", "--as-new", src.to_str().unwrap()])
        };
        assert_eq!(out.status.code(), Some(0), "{src:?}: {}", stderr_of(&out));
        assert!(stdout_of(&out).contains("Signed in as"), "{src:?}");
        assert_eq!(std::fs::read(src).unwrap(), before, "{src:?} was changed");
        let stem = src.file_name().unwrap().to_string_lossy().into_owned();
        let side: Vec<_> = std::fs::read_dir(src.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&stem) && n != &stem)
            .collect();
        assert!(side.is_empty(), "{side:?}");
        assert_eq!(dc.run(&["--session", t, "check"]).status.code(), Some(0));
        // The source keeps working, with its own key: never the same key twice.
        let key_of = |p: &Path| {
            let s = dc.run(&["--session", p.to_str().unwrap(), "status", "--json"]);
            let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
            v["session"]["auth_key_id"].clone()
        };
        assert_ne!(key_of(&target), key_of(&dc.session()));
    }
    assert_eq!(dc.run(&["check"]).status.code(), Some(0), "the source");
    assert_eq!(dc.count("auth.sendCode"), 1, "an approval requested a code");
}

#[test]
fn approval_refusals() {
    // An expired token each time: three tries, then exit 3, and no file.
    let dc = Dc::start(&["--login-token-ttl", "0"]);
    let all = sources(&dc);
    let target = dc.tmp.path().join("new.session");
    let out = approve(&dc, &target, all[0].to_str().unwrap());
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("AUTH_TOKEN_EXPIRED"));
    assert_eq!(dc.count("auth.acceptLoginToken"), 3);
    assert!(!target.exists());
    // A source that is not signed in: the sandbox's fresh, signed-out string.
    let fresh = dc.dir.join("session.string");
    let out = approve(&dc, &target, fresh.to_str().unwrap());
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is not signed in"),
        "{}",
        stderr_of(&out)
    );
    // A signed-in session needs no approval: it says so and sends nothing else.
    let accepts = dc.count("auth.acceptLoginToken");
    let out = dc.run(&["login", "--approve-with", all[1].to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("Already signed in"));
    assert_eq!(dc.count("auth.acceptLoginToken"), accepts);
    assert!(!target.exists());
    assert_eq!(dc.count("auth.sendCode"), 1);
}

#[test]
fn devices_before_and_after_an_approval_and_revoke() {
    let dc = Dc::start(&[]);
    let all = sources(&dc);
    let list = |p: &Path| -> Vec<serde_json::Value> {
        let out = dc.run(&["--session", p.to_str().unwrap(), "devices", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(list(&all[0]).len(), 1);
    let target = dc.tmp.path().join("new.session");
    let t = target.to_str().unwrap();
    let out = approve(&dc, &target, all[0].to_str().unwrap());
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let devices = list(&target);
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices.iter().filter(|d| d["current"] == true).count(), 1);
    assert!(
        devices
            .iter()
            .all(|d| d["device_model"] == "tgsess on linux")
    );
    let other = devices.iter().find(|d| d["current"] == false).unwrap();
    let current = devices.iter().find(|d| d["current"] == true).unwrap();
    // The current one is logout's job; another one needs --yes off a terminal.
    let out = dc.run(&[
        "--session",
        t,
        "devices",
        "revoke",
        current["hash"].as_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("logout"), "{}", stderr_of(&out));
    let out = dc.run(&[
        "--session",
        t,
        "devices",
        "revoke",
        other["hash"].as_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--yes"));
    let out = dc.run(&[
        "--session",
        t,
        "devices",
        "revoke",
        other["hash"].as_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        dc.run(&["check"]).status.code(),
        Some(1),
        "the revoked source"
    );
    assert_eq!(list(&target).len(), 1);
    assert_eq!(dc.count("auth.sendCode"), 1);
}
