//! `tgsess inspect`: every fixture made by a real library is described, read-only; strings
//! come from stdin or a file, never the command line.

use serde::Deserialize;

use crate::common::*;

/// The pinned `inspect --json` schema: an added, removed or renamed field fails this test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Inspected {
    source: String,
    format: String,
    detail: Option<String>,
    dc_id: i32,
    address: Option<String>,
    address_from: Option<String>,
    test_mode: Option<bool>,
    key_id: String,
    user_id: Option<i64>,
    bot: Option<bool>,
    api_id: Option<i32>,
    in_use: Vec<String>,
    accounts: Vec<serde_json::Value>,
}

#[test]
fn every_fixture_is_described_and_left_alone() {
    let manifest: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("manifest.json")).unwrap())
            .unwrap();
    let sb = Workdir::new();
    for (name, want) in &manifest {
        let src = sb.work.join(name);
        std::fs::copy(fixtures().join(name), &src).unwrap();
        let before = snapshot(&sb.work);
        let is_string = name.ends_with(".string");
        let out = if is_string {
            sb.cmd()
                .args(["inspect", "-", "--json"])
                .write_stdin(std::fs::read(&src).unwrap())
                .output()
                .unwrap()
        } else {
            sb.cmd()
                .args(["inspect", "--json"])
                .arg(&src)
                .output()
                .unwrap()
        };
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        let v: Inspected = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v.key_id, want["key_id"].as_str().unwrap(), "{name}");
        assert_eq!(
            i64::from(v.dc_id),
            want["dc_id"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(v.user_id, want["user_id"].as_i64(), "{name}");
        assert_eq!(
            v.address_from.as_deref(),
            Some(if want["address"].is_null() {
                "table"
            } else {
                "source"
            }),
            "{name}"
        );
        if !is_string {
            assert!(v.detail.is_some(), "{name}: no version detail");
        }
        assert!(v.in_use.is_empty(), "{name}: {:?}", v.in_use);
        assert_eq!(
            snapshot(&sb.work),
            before,
            "{name}: inspect changed something"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("auth_key\""), "{name}");
    }
}

#[test]
fn strings_never_come_from_the_command_line_and_live_sources_are_flagged() {
    let sb = Workdir::new();
    let s = std::fs::read_to_string(fixtures().join("telethon-ipv4.string")).unwrap();
    let out = sb.cmd().args(["inspect", s.trim()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("stdin"), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains(&s.trim()[10..40]));
    let tl = sb.work.join("bot.session");
    std::fs::copy(fixtures().join("telethon-v8.session"), &tl).unwrap();
    std::fs::write(sb.work.join("bot.session-journal"), b"").unwrap();
    let out = sb
        .cmd()
        .args(["inspect", "--json"])
        .arg(&tl)
        .output()
        .unwrap();
    let v: Inspected = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.in_use.len(), 1, "{:?}", v.in_use);
    assert!(v.in_use[0].contains("bot.session-journal"));
}
