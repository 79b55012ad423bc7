//! No key leaves the sandbox: under a sandbox config every connection's address passes one
//! fence, which admits only the sandbox. Proven where a leak cannot leave: in a network
//! namespace made with `unshare -n` that has loopback and nothing else, so a connection to
//! Telegram would fail with "Network is unreachable" instead of reaching it. Each network
//! command must instead stop at the fence (exit 2), name the DC, and send nothing.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// The command, its exit code and output; checks what every row must show.
fn refused(dc: &Dc, args: &[&str], dc_id: i32) -> String {
    let started = Instant::now();
    let out = dc.cmd(args).stdin(Stdio::null()).output().unwrap();
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
    assert!(
        text.contains(&format!("DC {dc_id} ")) && text.contains("not one the sandbox serves"),
        "{args:?}: {text}"
    );
    assert!(
        !text.contains("nreachable"),
        "{args:?}: a connection was tried: {text}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "{args:?}");
    text
}

#[test]
fn under_a_sandbox_config_no_connection_leaves_loopback() {
    let Some(ns) = Netns::new() else {
        return;
    };
    // The namespace really has no way out: a plain connection to Telegram's DC 4 fails.
    let out = ns.run(&[
        "/usr/bin/python3",
        "-c",
        "import socket; socket.create_connection(('149.154.167.91', 443), 2)",
    ]);
    assert!(
        stderr_of(&out).contains("unreachable"),
        "the namespace has a route out: {}",
        stderr_of(&out)
    );
    let dc = Dc::start_in(Some(ns.pid()), &[]);
    // An mtcute string of Telegram's own DC 4 (149.154.167.91:443), imported into the
    // sandbox config's session: a key of the real network in a sandbox config.
    let string = std::fs::read_to_string(fixtures().join("mtcute-bot.string")).unwrap();
    let out = dc
        .cmd(&["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(c.stdin.as_mut().unwrap(), string.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let before = std::fs::read(dc.session()).unwrap();
    for args in [
        &["check", "--timeout", "3"][..],
        &["check", "--json", "--timeout", "3"],
        &["login", "--code-stdin", "--timeout", "3"],
        &["devices", "--timeout", "3"],
        &["logout", "--yes", "--timeout", "3"],
    ] {
        refused(&dc, args, 4);
    }
    // list --check gives the refusal as the session's reason.
    let out = dc
        .cmd(&["list", "--check", "--timeout", "3"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&out).contains("DC 4 (at 149.154.167.91:443) is not one the sandbox serves"),
        "{}",
        stdout_of(&out)
    );
    assert!(dc.log().is_empty(), "{:?}", dc.log());
    // The same session approving another one: refused before it is asked anything (the new
    // session's own key talks to the sandbox; the imported key never does).
    let other = dc.tmp.path().join("other.session");
    let source = dc.session();
    let approve = [
        "--session",
        other.to_str().unwrap(),
        "login",
        "--approve-with",
        source.to_str().unwrap(),
        "--timeout",
        "3",
    ];
    refused(&dc, &approve, 4);
    assert!(!other.exists());
    // The imported key was never used and the session is as it was.
    let key_id = "133a41d4fc411294";
    let lines = crate::common::request_lines(&dc.dir);
    assert!(
        lines.iter().all(|l| l["key_id"].as_str() != Some(key_id)),
        "{lines:?}"
    );
    assert_eq!(std::fs::read(dc.session()).unwrap(), before);
}

#[test]
fn a_login_draft_holds_no_address_outside_the_sandbox() {
    // A login stopped at the code prompt leaves its draft (every DC of its session) in the
    // state: the DCs the sandbox does not serve point nowhere, never at Telegram.
    let dc = Dc::start(&[]);
    let mut p = Pty::spawn(dc.cmd(&["login"]));
    p.expect("Enter the login code");
    p.0.send(expectrl::ControlCode::EndOfText).unwrap();
    assert_eq!(p.exit_code(), 130);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dc.tmp.path().join("state/state.json")).unwrap())
            .unwrap();
    let drafts = state["drafts"].as_object().unwrap();
    assert_eq!(drafts.len(), 1, "{state}");
    let address = std::fs::read_to_string(dc.dir.join("sandbox.json")).unwrap();
    let address: serde_json::Value = serde_json::from_str(&address).unwrap();
    let sandbox = address["address"].as_str().unwrap();
    let mut ids = Vec::new();
    for (id, addr, _) in drafts
        .values()
        .flat_map(|d| d["dcs"].as_array().unwrap())
        .map(|d| (d[0].as_i64().unwrap(), d[1].as_str().unwrap(), &d[2]))
    {
        assert!(
            addr == sandbox || addr == "0.0.0.0:0",
            "DC {id} at {addr}: {state}"
        );
        ids.push(id);
    }
    ids.sort();
    assert_eq!(ids, [1, 2, 3, 4, 5], "{state}");
}
