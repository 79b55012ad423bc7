//! SOCKS5: check, login and logout against the sandbox through a small SOCKS5 server in the
//! test harness (RFC 1928, with RFC 1929 user/password), which counts its connections; the
//! sandbox's log shows each request arriving from the proxy's side of the relay.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::common::*;

const SECRET: &str = "pr0xy-s3cret";

struct Socks {
    addr: SocketAddr,
    /// Where each relayed connection left the proxy from: what the sandbox sees as its peer.
    outbound: Arc<Mutex<Vec<SocketAddr>>>,
    refused: Arc<Mutex<usize>>,
}

fn read_exact(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b).ok()?;
    Some(b)
}

/// One client: greeting, optional user/password, CONNECT (loopback targets only), relay.
fn serve(mut c: TcpStream, auth: Option<(String, String)>, s: &Socks) -> Option<()> {
    let head = read_exact(&mut c, 2)?;
    let methods = read_exact(&mut c, head[1] as usize)?;
    if let Some((user, pass)) = &auth {
        if !methods.contains(&2) {
            c.write_all(&[5, 0xff]).ok()?;
            return None;
        }
        c.write_all(&[5, 2]).ok()?;
        let v = read_exact(&mut c, 2)?;
        let u = read_exact(&mut c, v[1] as usize)?;
        let pl = read_exact(&mut c, 1)?;
        let p = read_exact(&mut c, pl[0] as usize)?;
        if u != user.as_bytes() || p != pass.as_bytes() {
            *s.refused.lock().unwrap() += 1;
            c.write_all(&[1, 1]).ok()?;
            return None;
        }
        c.write_all(&[1, 0]).ok()?;
    } else {
        c.write_all(&[5, 0]).ok()?;
    }
    let req = read_exact(&mut c, 4)?;
    let target = match req[3] {
        1 => {
            let a = read_exact(&mut c, 6)?;
            SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::new(a[0], a[1], a[2], a[3]),
                u16::from_be_bytes([a[4], a[5]]),
            ))
        }
        _ => return None,
    };
    assert!(
        target.ip().is_loopback(),
        "the proxy was asked for {target}"
    );
    let up = TcpStream::connect(target).ok()?;
    s.outbound.lock().unwrap().push(up.local_addr().ok()?);
    c.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).ok()?;
    let (mut c2, mut up2) = (c.try_clone().ok()?, up.try_clone().ok()?);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut up2);
        let _ = up2.shutdown(std::net::Shutdown::Write);
    });
    let mut up = up;
    let _ = std::io::copy(&mut up, &mut c);
    Some(())
}

fn socks(auth: Option<(&str, &str)>) -> Arc<Socks> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let s = Arc::new(Socks {
        addr: l.local_addr().unwrap(),
        outbound: Arc::default(),
        refused: Arc::default(),
    });
    let auth = auth.map(|(u, p)| (u.to_string(), p.to_string()));
    let shared = Arc::clone(&s);
    std::thread::spawn(move || {
        for c in l.incoming().take(64).flatten() {
            let (auth, s) = (auth.clone(), Arc::clone(&shared));
            std::thread::spawn(move || serve(c, auth, &s));
        }
    });
    s
}

/// The peers the sandbox logged, for every request so far.
fn peers(dc: &Dc) -> Vec<String> {
    std::fs::read_to_string(dc.dir.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["peer"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn check_login_logout_go_through_the_proxy() {
    let dc = Dc::start(&[]);
    let px = socks(None);
    let url = format!("socks5://{}", px.addr);
    let with = |args: &[&str]| {
        let mut c = dc.cmd(args);
        c.env("TGSESS_PROXY", &url);
        c
    };
    let out = with(&["login", "--code-stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin.take().unwrap().write_all(b"22222\n")?;
            ch.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = with(&["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let status = stdout_of(&with(&["status"]).output().unwrap());
    assert!(
        status.contains(&format!("proxy:     socks5://{}", px.addr)),
        "{status}"
    );
    let out = with(&["logout", "--yes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let outbound: Vec<String> = px
        .outbound
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(outbound.len() >= 3, "{outbound:?}");
    let seen = peers(&dc);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|p| outbound.contains(p)),
        "a request bypassed the proxy: {seen:?} vs {outbound:?}"
    );
}

#[test]
fn a_proxy_password_is_used_and_never_shown() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let px = socks(Some(("bot", SECRET)));
    // The right password, from the environment.
    let right = format!("socks5://bot:{SECRET}@{}", px.addr);
    let out = dc
        .cmd(&["check"])
        .env("TGSESS_PROXY", &right)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = dc
        .cmd(&["status"])
        .env("TGSESS_PROXY", &right)
        .output()
        .unwrap();
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(
        text.contains(&format!("socks5://bot:***@{}", px.addr)),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    // A wrong one: no verdict, naming the proxy, never the password.
    let wrong = format!("socks5://bot:not-{SECRET}@{}", px.addr);
    let out = dc
        .cmd(&["check", "--timeout", "3"])
        .env("TGSESS_PROXY", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(text.contains(&px.addr.to_string()), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(*px.refused.lock().unwrap() >= 1);
    // A password is never taken on the command line.
    let out = dc.cmd(&["--proxy", &right, "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(
        text.contains("TGSESS_PROXY") && !text.contains(SECRET),
        "{text}"
    );
    // --no-proxy overrides a configured one.
    let out = dc
        .cmd(&["--no-proxy", "check"])
        .env("TGSESS_PROXY", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
}

#[test]
fn a_dead_or_malformed_proxy_is_named() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = dc
        .cmd(&[
            "--proxy",
            &format!("socks5://{dead}"),
            "check",
            "--timeout",
            "3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    assert!(
        stdout_of(&out).contains(&dead.to_string()),
        "{}",
        stdout_of(&out)
    );
    for (bad, why) in [
        ("http://127.0.0.1:1", "only socks5"),
        ("socks5://127.0.0.1", "port is missing"),
        ("not a url", "not a socks5"),
    ] {
        let out = dc
            .cmd(&["check"])
            .env("TGSESS_PROXY", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr_of(&out).contains(why), "{bad}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("TGSESS_PROXY"), "{bad}");
    }
}
