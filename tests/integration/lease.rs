//! The lease on PostgreSQL: one key runs in one place. Two "hosts" are two state
//! directories, each with its own copy of one session (one key), against one real private
//! PostgreSQL cluster ([`Pg`]) and one sandbox. The bot is the stand-in's `--stamps` mode,
//! which appends the time every 10 ms, so the tests can say which bot ran when.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A sandbox with a signed-in session (host A's), a copy of it for host B, and PostgreSQL.
struct Fleet {
    dc: Dc,
    pg: Pg,
}

/// One host: its state directory and its copy of the session.
struct Host {
    state: PathBuf,
    session: PathBuf,
}

impl Fleet {
    fn new() -> Fleet {
        let dc = Dc::start(&[]);
        dc.sign_in(&[]);
        Fleet {
            dc,
            pg: Pg::start(),
        }
    }

    fn host(&self, name: &str) -> Host {
        let dir = self.dc.tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let session = dir.join("sandbox.session");
        std::fs::copy(self.dc.session(), &session).unwrap();
        Host {
            state: dir.join("state"),
            session,
        }
    }

    /// `tgsess ARGS` on `host`, with the lease at `url` and the password in PGPASSWORD.
    fn cmd(&self, host: &Host, url: &str, args: &[&str]) -> Command {
        let mut c = self.dc.bare(self.dc.tmp.path());
        c.arg("--config")
            .arg(self.dc.config())
            .arg("--session")
            .arg(&host.session)
            .args(args)
            .env("TGSESS_STATE_DIR", &host.state)
            .env("TGSESS_LEASE", url)
            .env("PGPASSWORD", PG_PASSWORD)
            .stdin(Stdio::null());
        c
    }

    /// `exec EXTRA -- standin_bot --stamps FILE` on `host`, its stderr piped.
    fn bot(&self, host: &Host, url: &str, extra: &[&str], stamps: &Path) -> Child {
        let bot = standin_bot();
        let mut args = vec!["exec"];
        args.extend(extra);
        args.extend([
            "--",
            bot.to_str().unwrap(),
            "--stamps",
            stamps.to_str().unwrap(),
        ]);
        self.cmd(host, url, &args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// The times a bot wrote (unix ns), in order.
fn stamps(path: &Path) -> Vec<u128> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

/// Waits (at most `limit`) until `path` holds stamps.
fn running(path: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !stamps(path).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits for `child`, at most `limit`; its exit code and stderr.
fn ended(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr_of(&out))
}

fn term(child: &Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
}

/// A's last stamp comes before B's first: the two never ran at once.
fn one_after_the_other(a: &Path, b: &Path) -> Duration {
    let (a, b) = (stamps(a), stamps(b));
    let (last, first) = (*a.last().unwrap(), *b.first().unwrap());
    assert!(
        last < first,
        "the bots overlapped: A's last {last}, B's first {first}"
    );
    Duration::from_nanos((first - last) as u64)
}

#[test]
fn a_second_host_is_refused_while_the_first_holds_the_lease() {
    let f = Fleet::new();
    let url = f.pg.url();
    let (a, b) = (f.host("a"), f.host("b"));
    let a_stamps = f.dc.tmp.path().join("a.stamps");
    let bot = f.bot(&a, &url, &[], &a_stamps);
    assert!(
        running(&a_stamps, Duration::from_secs(20)),
        "A's bot never ran"
    );
    let out = f.cmd(&b, &url, &["exec", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains(&format!("held by pid {}", bot.id())), "{err}");
    assert!(err.contains(a.session.to_str().unwrap()), "{err}");
    assert!(err.contains("exec --wait 60"), "{err}");
    assert!(!err.contains(PG_PASSWORD), "{err}");
    // The database agrees: one holder row, its lock held.
    let rows = f.pg.sql("SELECT host, pid, session FROM tgsess_leases");
    assert!(rows.contains(&format!("|{}|", bot.id())), "{rows}");
    // And every fleet view shows the holder: leases, status, list.
    let holder = format!("pid {} on ", bot.id());
    let leases = stdout_of(&f.cmd(&b, &url, &["leases"]).output().unwrap());
    assert!(
        leases.contains("held") && leases.contains(&holder),
        "{leases}"
    );
    let status = stdout_of(&f.cmd(&b, &url, &["status"]).output().unwrap());
    assert!(
        status.contains(&format!("lease:     held by {holder}")),
        "{status}"
    );
    let list = f.cmd(&b, &url, &["list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["sessions"][0]["lease"]["pid"], bot.id(), "{list}");
    assert_eq!(list["sessions"][0]["lease"]["held"], true, "{list}");
    term(&bot);
    let (code, _) = ended(bot, Duration::from_secs(10));
    assert_eq!(code, Some(128 + libc::SIGTERM));
    assert_eq!(
        f.pg.sql("SELECT count(*) FROM tgsess_leases"),
        "0",
        "released"
    );
    let out = f.cmd(&b, &url, &["exec", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn a_waiting_host_starts_the_moment_the_holder_stops() {
    let f = Fleet::new();
    let url = f.pg.url();
    let (a, b) = (f.host("a"), f.host("b"));
    let (a_stamps, b_stamps) = (
        f.dc.tmp.path().join("a.stamps"),
        f.dc.tmp.path().join("b.stamps"),
    );
    let first = f.bot(&a, &url, &[], &a_stamps);
    assert!(running(&a_stamps, Duration::from_secs(20)));
    let mut second = f.bot(&b, &url, &["--wait", "60"], &b_stamps);
    let line = first_line(second.stderr.take());
    assert!(
        line.contains("waiting up to 60 s") && line.contains("held by pid"),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        stamps(&b_stamps).is_empty(),
        "B started while A held the lease"
    );
    term(&first);
    ended(first, Duration::from_secs(10));
    assert!(
        running(&b_stamps, Duration::from_secs(10)),
        "B never started"
    );
    let gap = one_after_the_other(&a_stamps, &b_stamps);
    assert!(gap < Duration::from_secs(1), "handover took {gap:?}");
    term(&second);
    ended(second, Duration::from_secs(10));
}

#[test]
fn kill_9_of_the_holder_kills_its_bot_and_the_other_host_takes_over() {
    let f = Fleet::new();
    let url = f.pg.url();
    let (a, b) = (f.host("a"), f.host("b"));
    let (a_stamps, b_stamps) = (
        f.dc.tmp.path().join("a.stamps"),
        f.dc.tmp.path().join("b.stamps"),
    );
    let mut first = f.bot(&a, &url, &[], &a_stamps);
    assert!(running(&a_stamps, Duration::from_secs(20)));
    let second = f.bot(&b, &url, &["--wait", "60"], &b_stamps);
    std::thread::sleep(Duration::from_millis(300));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        running(&b_stamps, Duration::from_secs(10)),
        "B never started"
    );
    one_after_the_other(&a_stamps, &b_stamps);
    let before = stamps(&a_stamps).len();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        stamps(&a_stamps).len(),
        before,
        "A's bot outlived its tgsess"
    );
    term(&second);
    ended(second, Duration::from_secs(10));
}

#[test]
fn a_partitioned_holder_stops_its_bot_within_the_grace_before_the_other_host_starts() {
    let f = Fleet::new();
    let relay = Relay::start(([127, 0, 0, 1], f.pg.port).into(), None);
    let via_relay = format!("postgresql://tgsess@127.0.0.1:{}/postgres", relay.port);
    let (a, b) = (f.host("a"), f.host("b"));
    let (a_stamps, b_stamps) = (
        f.dc.tmp.path().join("a.stamps"),
        f.dc.tmp.path().join("b.stamps"),
    );
    let first = f.bot(&a, &via_relay, &["--grace", "3"], &a_stamps);
    assert!(running(&a_stamps, Duration::from_secs(20)));
    let second = f.bot(&b, &f.pg.url(), &["--wait", "60"], &b_stamps);
    std::thread::sleep(Duration::from_millis(300));
    relay.pause();
    let paused = Instant::now();
    let (code, err) = ended(first, Duration::from_secs(15));
    assert_eq!(code, Some(7), "{err}");
    assert!(err.contains("did not confirm the lease for 3 s"), "{err}");
    assert!(
        paused.elapsed() < Duration::from_secs(6),
        "{:?}",
        paused.elapsed()
    );
    // PostgreSQL still sees A's session (the relay keeps it open): B waits on.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        stamps(&b_stamps).is_empty(),
        "B started while PostgreSQL held A's lock"
    );
    relay.cut();
    assert!(
        running(&b_stamps, Duration::from_secs(10)),
        "B never started"
    );
    one_after_the_other(&a_stamps, &b_stamps);
    term(&second);
    ended(second, Duration::from_secs(10));
}

#[test]
fn a_postgresql_restart_stops_the_holders_bot() {
    let mut f = Fleet::new();
    let url = f.pg.url();
    let a = f.host("a");
    let a_stamps = f.dc.tmp.path().join("a.stamps");
    let first = f.bot(&a, &url, &[], &a_stamps);
    assert!(running(&a_stamps, Duration::from_secs(20)));
    f.pg.restart();
    let (code, err) = ended(first, Duration::from_secs(20));
    assert_eq!(code, Some(7), "{err}");
    assert!(err.contains("connection to PostgreSQL ended"), "{err}");
    let before = stamps(&a_stamps).len();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(stamps(&a_stamps).len(), before, "the bot was stopped");
}

#[test]
fn a_password_in_the_lease_url_is_refused_without_being_shown() {
    let f = Fleet::new();
    let a = f.host("a");
    let url = format!(
        "postgresql://tgsess:{PG_PASSWORD}@127.0.0.1:{}/postgres",
        f.pg.port
    );
    let out = f.cmd(&a, &url, &["exec", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("holds a password") && err.contains("PGPASSWORD"),
        "{err}"
    );
    assert!(!err.contains(PG_PASSWORD), "{err}");
    // Without PGPASSWORD, the password file is used, by libpq's rules.
    let pgpass = f.dc.tmp.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:tgsess:{PG_PASSWORD}\n", f.pg.port),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = f
        .cmd(&a, &f.pg.url(), &["exec", "--", "true"])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Over the cluster's Unix socket: it works, and says what keepalives cannot do there.
    let out = f
        .cmd(&a, &f.pg.socket_url(), &["exec", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("over a Unix socket"),
        "{}",
        stderr_of(&out)
    );
    // Unreachable: the program does not start, exit 3.
    let marker = f.dc.tmp.path().join("started");
    let dead = "postgresql://tgsess@127.0.0.1:1/postgres";
    let out = f
        .cmd(&a, dead, &["exec", "--", "touch", marker.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(!marker.exists());
}

#[test]
fn sslmode_require_encrypts_the_lease_and_checks_the_certificate() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let pg = Pg::start_tls();
    let f = Fleet { dc, pg };
    let a = f.host("a");
    let url = format!("{}?sslmode=require", f.pg.url());
    let a_stamps = f.dc.tmp.path().join("a.stamps");
    let mut trusting = f.cmd(&a, &url, &["exec", "--", standin_bot().to_str().unwrap()]);
    trusting
        .args(["--stamps", a_stamps.to_str().unwrap()])
        .env("SSL_CERT_FILE", f.pg.ca())
        .stderr(Stdio::piped());
    let bot = trusting.spawn().unwrap();
    assert!(
        running(&a_stamps, Duration::from_secs(20)),
        "the bot never ran"
    );
    let ssl = f.pg.sql(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'tgsess exec'",
    );
    assert_eq!(ssl, "t", "the lease's connection is encrypted");
    term(&bot);
    ended(bot, Duration::from_secs(10));
    // A server whose certificate no trusted root signed: no lease, no bot (exit 3).
    let other = f.dc.tmp.path().join("other-ca.pem");
    let other_ca = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    std::fs::write(&other, other_ca.cert.pem()).unwrap();
    let empty = f.dc.tmp.path().join("no-certs");
    std::fs::create_dir(&empty).unwrap();
    let marker = f.dc.tmp.path().join("started");
    let out = f
        .cmd(&a, &url, &["exec", "--", "touch", marker.to_str().unwrap()])
        .env("SSL_CERT_FILE", &other)
        .env("SSL_CERT_DIR", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("certificate"),
        "{}",
        stderr_of(&out)
    );
    assert!(!marker.exists());
}

/// Two deploys of one bot on one key, from 127.0.0.2 and 127.0.0.3, each through a relay
/// that gives its connections that source address; the lease at `url`, or none. Returns
/// what each bot printed, and the verdict `check` gives afterwards.
fn two_deploys(lease: Option<&str>) -> (String, String, serde_json::Value, Vec<(String, String)>) {
    let f = Fleet::new();
    let (a, b) = (f.host("a"), f.host("b"));
    let url = lease.map(|_| f.pg.url());
    let deploy = |host: &Host, from: [u8; 4], extra: &[&str]| {
        let relay = Relay::start(f.dc.address(), Some(from.into()));
        let script = format!(
            "exec {} --serve \"$TGSESS_SESSION\"",
            standin_bot().display()
        );
        let mut args = vec!["exec"];
        args.extend(extra);
        args.extend(["--", "sh", "-c", &script]);
        let mut c = f.cmd(host, url.as_deref().unwrap_or(""), &args);
        if url.is_none() {
            c.env_remove("TGSESS_LEASE");
        }
        let child = c
            .env("STANDIN_VIA", format!("127.0.0.1:{}", relay.port))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        (child, relay)
    };
    let (first, _r1) = deploy(&a, [127, 0, 0, 2], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    // The second deploy, as a rolling update starts it: without the lease it runs at once
    // (its pre-flight left out, so that the two bots themselves meet).
    let extra: &[&str] = if lease.is_some() {
        &["--wait", "60"]
    } else {
        &["--no-preflight"]
    };
    let (second, _r2) = deploy(&b, [127, 0, 0, 3], extra);
    std::thread::sleep(Duration::from_millis(1500));
    term(&first);
    let first = first.wait_with_output().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    term(&second);
    let second = second.wait_with_output().unwrap();
    let out = f
        .cmd(&a, "", &["check", "--json"])
        .env_remove("TGSESS_LEASE")
        .output()
        .unwrap();
    let verdict = serde_json::from_slice(&out.stdout).unwrap();
    (stdout_of(&first), stdout_of(&second), verdict, f.dc.log())
}

#[test]
fn two_deploys_on_one_key_destroy_it_without_the_lease_and_never_with_it() {
    let (first, second, verdict, log) = two_deploys(None);
    assert!(first.contains("ok 700021234"), "{first}");
    assert!(
        format!("{first}{second}").contains("AUTH_KEY_DUPLICATED"),
        "{first}\n{second}"
    );
    // The key is gone: Telegram (the sandbox) answers 401 to it from now on.
    assert_eq!(verdict["status"], "not_signed_in", "{verdict}");
    assert_eq!(verdict["error"], "AUTH_KEY_UNREGISTERED", "{verdict}");
    assert!(log.iter().any(|(_, r)| r == "AUTH_KEY_DUPLICATED"));

    let (first, second, verdict, log) = two_deploys(Some("lease"));
    assert!(first.contains("ok 700021234"), "{first}");
    assert!(
        second.contains("ok 700021234"),
        "the second ran after the first: {second}"
    );
    assert!(
        !format!("{first}{second}").contains("error"),
        "{first}\n{second}"
    );
    assert_eq!(verdict["status"], "signed_in", "{verdict}");
    assert!(
        log.iter().all(|(_, r)| r != "AUTH_KEY_DUPLICATED"),
        "{log:?}"
    );
}

#[test]
fn a_waiter_killed_while_waiting_starts_nothing_and_leaves_no_trace() {
    let f = Fleet::new();
    let url = f.pg.url();
    let (a, b) = (f.host("a"), f.host("b"));
    let (a_stamps, b_stamps) = (
        f.dc.tmp.path().join("a.stamps"),
        f.dc.tmp.path().join("b.stamps"),
    );
    let first = f.bot(&a, &url, &[], &a_stamps);
    assert!(running(&a_stamps, Duration::from_secs(20)));
    let mut waiter = f.bot(&b, &url, &["--wait", "60"], &b_stamps);
    let line = first_line(waiter.stderr.take());
    assert!(line.contains("waiting up to 60 s"), "{line}");
    waiter.kill().unwrap();
    waiter.wait().unwrap();
    term(&first);
    ended(first, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        stamps(&b_stamps).is_empty(),
        "the killed waiter's bot never ran"
    );
    assert_eq!(f.pg.sql("SELECT count(*) FROM tgsess_leases"), "0");
    let out = f.cmd(&b, &url, &["exec", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}
