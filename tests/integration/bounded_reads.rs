//! Everything tgsess reads is a regular file of bounded size, read within the command's
//! deadline: a FIFO planted where a file is expected (which would block its open forever)
//! or a link to /dev/zero (which never ends) is an error naming the file, at once. Each row:
//! what is planted, the command, its exit code and message, and the time it took.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn mkfifo(p: &Path) {
    let _ = std::fs::remove_file(p);
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn zero_link(p: &Path) {
    let _ = std::fs::remove_file(p);
    std::os::unix::fs::symlink("/dev/zero", p).unwrap();
}

/// Runs `cmd`, killed at 10 s, and checks exit code, message and that it took under `limit`.
fn bounded(what: &str, mut cmd: Command, exit: i32, fragment: &str, limit: Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(took < limit, "{what}: took {took:?}: {text}");
    assert_eq!(out.status.code(), Some(exit), "{what}: {text}");
    assert!(
        text.contains(fragment),
        "{what}: wanted {fragment:?} in {text}"
    );
}

#[test]
fn every_file_read_is_a_bounded_regular_file_and_never_blocks() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let endpoint = dc.dir.join("sandbox.json");
    let saved = std::fs::read(&endpoint).unwrap();
    let within = Duration::from_secs(3);
    // The sandbox's endpoint: a FIFO, then a link to /dev/zero.
    mkfifo(&endpoint);
    bounded(
        "sandbox.json FIFO",
        dc.cmd(&["check", "--timeout", "2"]),
        3,
        "it is a FIFO, not a regular file",
        within,
    );
    zero_link(&endpoint);
    bounded(
        "sandbox.json /dev/zero",
        dc.cmd(&["check", "--timeout", "2"]),
        3,
        "character device",
        within,
    );
    std::fs::remove_file(&endpoint).unwrap();
    std::fs::write(&endpoint, &saved).unwrap();
    // tgsess's state file.
    let state = dc.tmp.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    mkfifo(&state.join("state.json"));
    bounded(
        "state.json FIFO",
        dc.cmd(&["login", "--code-stdin"]),
        2,
        "state.json is not a regular file (it is a FIFO)",
        within,
    );
    zero_link(&state.join("state.json"));
    bounded(
        "state.json /dev/zero",
        dc.cmd(&["login", "--code-stdin"]),
        2,
        "is not a regular file",
        within,
    );
    std::fs::remove_file(state.join("state.json")).unwrap();
    // A side file of the session.
    let s = dc.tmp.path().join("s.session");
    grammers_session(&s, Some((700021234, false)));
    let s_arg = s.to_str().unwrap();
    mkfifo(&PathBuf::from(format!("{s_arg}-wal")));
    bounded(
        "-wal FIFO",
        dc.cmd(&["--session", s_arg, "status"]),
        4,
        "is not a regular file",
        within,
    );
    bounded(
        "-wal FIFO, check",
        dc.cmd(&["--session", s_arg, "check", "--offline"]),
        4,
        "is not a regular file",
        within,
    );
    std::fs::remove_file(format!("{s_arg}-wal")).unwrap();
    // A session file given to import or inspect, and a tdata file.
    let src = dc.tmp.path().join("src.session");
    mkfifo(&src);
    bounded(
        "import FIFO",
        dc.cmd(&["import", src.to_str().unwrap()]),
        2,
        "a FIFO, not a session file",
        within,
    );
    zero_link(&src);
    bounded(
        "inspect /dev/zero",
        dc.cmd(&["inspect", src.to_str().unwrap()]),
        2,
        "character device",
        within,
    );
    let tdata = dc.tmp.path().join("desk/tdata");
    std::fs::create_dir_all(&tdata).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tdata-simple/tdata");
    for e in std::fs::read_dir(&fixture).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), tdata.join(e.file_name())).unwrap();
        }
    }
    // Desktop's newer "s" variant as a FIFO: passed over for the good file, as Desktop does.
    mkfifo(&tdata.join("key_datass"));
    bounded(
        "tdata key_datass FIFO",
        dc.cmd(&["inspect", tdata.to_str().unwrap()]),
        0,
        "Telegram Desktop tdata",
        within,
    );
    mkfifo(&tdata.join("key_datas"));
    bounded(
        "tdata key_datas FIFO",
        dc.cmd(&["inspect", tdata.to_str().unwrap()]),
        2,
        "holds no key_datas",
        within,
    );
    // The sandbox's own key side channel: a FIFO named for a key it is asked about. It must
    // answer (refusing the key) and go on serving.
    let k = dc.tmp.path().join("k.session");
    grammers_session(&k, None);
    let key_id = tgsess_shared::mtproto::key_id(&[7u8; 256]);
    std::fs::create_dir_all(dc.dir.join("keys")).unwrap();
    mkfifo(&dc.dir.join(format!("keys/{key_id:016x}.key")));
    let started = Instant::now();
    let out = dc
        .cmd(&["--session", k.to_str().unwrap(), "check", "--timeout", "3"])
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{}",
        stderr_of(&out)
    );
    assert_ne!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = dc.cmd(&["check", "--timeout", "3"]).output().unwrap();
    assert!(
        stdout_of(&out).contains("Telegram confirms"),
        "the sandbox stopped serving: {}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
}
