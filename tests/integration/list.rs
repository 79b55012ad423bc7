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

#[test]
fn one_request_per_session_and_metrics_a_collector_reads() {
    let dc = Dc::start(&[]);
    let d = |n: &str| dc.dir.join(n).display().to_string();
    dc.sign_in(&["--session", &d("a.session")]);
    dc.sign_in(&["--session", &d("b.session")]);
    let fresh = dc.dir.join("session.string");
    let out = dc.run(&[
        "--session",
        &d("c.session"),
        "import",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let prom_dir = dc.tmp.path().join("textfile");
    std::fs::create_dir(&prom_dir).unwrap();
    let prom = prom_dir.join("tgsess.prom");
    let from = request_lines(&dc.dir).len();
    let out = dc.run(&[
        "list",
        "--check",
        "--json",
        "--metrics",
        prom.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "c is not signed in: {}",
        stdout_of(&out)
    );
    // One request per session: users.getUsers, nothing else.
    let methods: Vec<String> = request_lines(&dc.dir)[from..]
        .iter()
        .map(|l| l["method"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(methods, vec!["users.getUsers"; 3], "{methods:?}");
    let lines: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with("a.session")))
        .unwrap();
    assert_eq!(
        (&a["status"], &a["username"], &a["user_id"]),
        (
            &"signed_in".into(),
            &"sandbox_21234".into(),
            &700021234.into()
        )
    );
    let c = lines
        .iter()
        .find(|l| l["path"].as_str().is_some_and(|p| p.ends_with("c.session")))
        .unwrap();
    assert_eq!(
        (&c["status"], &c["error"]),
        (&"not_signed_in".into(), &"AUTH_KEY_UNREGISTERED".into())
    );
    // The metrics file, read by a Prometheus text-format parser.
    let text = std::fs::read_to_string(&prom).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let signed_in = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "tgsess_session_signed_in"
                    && s.labels.get("session").is_some_and(|p| p.ends_with(name))
            })
            .map(|s| {
                (
                    s.value.clone(),
                    s.labels.get("status").map(String::from),
                    s.labels.get("username").map(String::from),
                )
            })
            .unwrap_or_else(|| panic!("no sample for {name}: {text}"))
    };
    assert_eq!(
        signed_in("a.session"),
        (
            prometheus_parse::Value::Gauge(1.0),
            Some("signed_in".into()),
            Some("sandbox_21234".into())
        )
    );
    assert_eq!(
        signed_in("c.session").0,
        prometheus_parse::Value::Gauge(0.0)
    );
    assert_eq!(signed_in("c.session").1.as_deref(), Some("not_signed_in"));
    let gauge = |name: &str| match scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| &s.value)
    {
        Some(prometheus_parse::Value::Gauge(v)) => *v,
        other => panic!("{name}: {other:?}"),
    };
    assert!(gauge("tgsess_check_duration_seconds") > 0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as f64;
    assert!((now - gauge("tgsess_check_timestamp_seconds")).abs() < 60.0);
    // Written whole: nothing else in the collector's directory; a new file is 0600, and a
    // replaced one keeps the mode it was given.
    let names: Vec<_> = std::fs::read_dir(&prom_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("tgsess.prom")]);
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&prom), 0o600);
    std::fs::set_permissions(&prom, std::fs::Permissions::from_mode(0o644)).unwrap();
    dc.run(&["list", "--check", "--metrics", prom.to_str().unwrap()]);
    assert_eq!(mode(&prom), 0o644);
    // A name the collector would skip is refused before anything is asked.
    let out = dc.run(&["list", "--check", "--metrics", &d("metrics.txt")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("*.prom"));
}
