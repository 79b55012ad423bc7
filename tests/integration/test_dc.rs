//! Telegram's test DCs: which address a session uses, keys that must not cross networks,
//! and test mode carried through imports and exports. No network: a SOCKS5 recorder on
//! 127.0.0.1 notes where tgsess wanted to connect and refuses to go there.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::common::*;

/// A SOCKS5 server that records each CONNECT target and refuses it.
fn recorder() -> (SocketAddr, Arc<Mutex<Vec<SocketAddr>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
    let s = Arc::clone(&seen);
    std::thread::spawn(move || {
        for mut c in l.incoming().take(32).flatten() {
            let mut head = [0u8; 2];
            if c.read_exact(&mut head).is_err() {
                continue;
            }
            let mut methods = vec![0u8; head[1] as usize];
            let _ = c.read_exact(&mut methods);
            let _ = c.write_all(&[5, 0]);
            let mut req = [0u8; 10];
            if c.read_exact(&mut req).is_ok() && req[3] == 1 {
                s.lock().unwrap().push(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::new(req[4], req[5], req[6], req[7]),
                    u16::from_be_bytes([req[8], req[9]]),
                )));
            }
            let _ = c.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]); // not allowed by ruleset
        }
    });
    (addr, seen)
}

fn config(sb: &Workdir, extra: &str) {
    sb.write(
        "tgsess.toml",
        &format!("api_id = 1\napi_hash = \"x\"\nphone = \"9996621234\"\n{extra}"),
    );
}

#[test]
fn a_new_session_goes_to_the_test_dcs_only_when_asked() {
    for (flags, want) in [
        (&["--test-dc"][..], "149.154.167.40:80"),
        (&[][..], "149.154.167.41:443"),
    ] {
        let sb = Workdir::new();
        config(&sb, "");
        let (proxy, seen) = recorder();
        let out = sb
            .cmd()
            .args(flags)
            .args([
                "--proxy",
                &format!("socks5://{proxy}"),
                "login",
                "--code-stdin",
                "--timeout",
                "5",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{flags:?}: {}", stderr_of(&out));
        let seen = seen.lock().unwrap().clone();
        assert!(!seen.is_empty(), "{flags:?}: nothing reached the recorder");
        assert!(
            seen.iter().all(|a| a.to_string() == want),
            "{flags:?}: wanted only {want}, got {seen:?}"
        );
        assert!(!sb.work.join("telegram_session.session").exists());
    }
}

/// The Pyrogram 2.0 fixture string with its test_mode byte set.
fn test_mode_string() -> String {
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let pg = std::fs::read_to_string(fx.join("pyrogram-362.string")).unwrap();
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut raw = e.decode(pg.trim()).unwrap();
    raw[0] = 3; // >BI?256sQ?: dc_id (the test network has DCs 1 to 3), api_id,
    raw[5] = 1; // test_mode, …
    e.encode(raw)
}

#[test]
fn test_mode_survives_import_and_export_and_keys_do_not_cross() {
    let sb = Workdir::new();
    config(&sb, "");
    let out = sb
        .cmd()
        .args(["import", "-"])
        .write_stdin(test_mode_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let s = sb.cmd().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["session"]["test_mode"], true);
    assert_eq!(v["session"]["dc_address"], "149.154.175.117:80", "{v}");
    // Pyrogram string: the same bytes back, test mode included.
    let out = sb
        .cmd()
        .args(["export", "--format", "pyrogram-string", "--output", "-"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out).trim(), test_mode_string());
    // Telethon string: the test DC's address.
    let out = sb
        .cmd()
        .args(["export", "--format", "telethon-string", "--output", "-"])
        .output()
        .unwrap();
    let t = stdout_of(&out);
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(t.trim().strip_prefix('1').unwrap())
        .unwrap();
    assert_eq!(&raw[1..5], &[149, 154, 175, 117]);
    assert_eq!(u16::from_be_bytes([raw[5], raw[6]]), 80);
    // A test key without --test-dc, or a production key with it: refused before any request.
    let (proxy, seen) = recorder();
    let p = format!("socks5://{proxy}");
    let out = sb.cmd().args(["--proxy", &p, "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout_of(&out));
    assert!(stderr_of(&out).contains("test DCs"), "{}", stderr_of(&out));
    let prod = sb.work.join("prod.session");
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = sb
        .cmd()
        .args(["--session", prod.to_str().unwrap(), "import"])
        .arg(fx.join("pyrogram-v3.session"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = sb
        .cmd()
        .args([
            "--session",
            prod.to_str().unwrap(),
            "--test-dc",
            "--proxy",
            &p,
            "check",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("production"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "a request left for the wrong network"
    );
}
