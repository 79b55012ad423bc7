//! `tgsess list --check`: every session in the directory, all formats, asked concurrently;
//! read-only and code-free.

use std::time::{Duration, Instant};

use crate::common::*;

#[test]
fn every_format_is_checked_and_nothing_is_written() {
    let mut dc = Dc::start(&["--latency", "20"]);
    let d = |n: &str| dc.dir.join(n).display().to_string();
    dc.sign_in(&["--session", &d("a.session")]);
    dc.sign_in(&["--session", &d("b.session")]);
    for (format, name) in [("telethon", "tl.session"), ("pyrogram", "pg.session")] {
        let out = dc.run(&[
            "--session",
            &d("a.session"),
            "export",
            "--format",
            format,
            "--output",
            &d(name),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    }
    // A key the sandbox knows but that never signed in (its own fresh string).
    let fresh = dc.dir.join("session.string");
    let out = dc.run(&[
        "--session",
        &d("fresh.session"),
        "import",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let sends = dc.count("auth.sendCode");
    let before = snapshot(&dc.dir);
    let out = dc.run(&["list", "--check", "--json", "--jobs", "3"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one is not signed in: {}",
        stdout_of(&out)
    );
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status_of = |name: &str| {
        lines
            .iter()
            .find(|v| v["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .map(|v| v["status"].as_str().unwrap().to_string())
    };
    for n in [
        "a.session",
        "b.session",
        "tl.session",
        "pg.session",
        "sandbox.session",
    ] {
        if n == "sandbox.session" {
            assert_eq!(status_of(n), None, "no such file yet");
            continue;
        }
        assert_eq!(status_of(n).as_deref(), Some("signed_in"), "{n}: {lines:?}");
    }
    assert_eq!(status_of("fresh.session").as_deref(), Some("not_signed_in"));
    let summary = lines.last().unwrap();
    assert_eq!(summary["signed_in"], 4);
    assert_eq!(summary["not_signed_in"], 1);
    let mut after = snapshot(&dc.dir);
    let mut before = before;
    let keep = |v: &mut Vec<(std::path::PathBuf, Vec<u8>, u32)>| {
        v.retain(|(p, ..)| {
            let n = p.file_name().unwrap().to_string_lossy();
            n != "requests.jsonl" && n != "state.json"
        })
    };
    keep(&mut after);
    keep(&mut before);
    assert_eq!(after, before, "list --check changed a file");
    assert_eq!(
        dc.count("auth.sendCode"),
        sends,
        "list --check requested a code"
    );
    // No sandbox: every session is no verdict, by the one deadline.
    dc.stop();
    let started = Instant::now();
    let out = dc.run(&["list", "--check", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(stdout_of(&out).contains("no verdict"));
}
