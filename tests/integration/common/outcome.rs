//! A command run with a deadline, and what must hold after every run: no panic, no secret
//! printed, within its time limit.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Secrets planted in every row; none may ever be printed.
pub const API_HASH: &str = "c0ffee5ecret0hash";
pub const PASSWORD: &str = "pw-s3cret-2fa";
pub const BOT_TOKEN: &str = "123456:bot-t0ken-s3cret";

/// A command's outcome, checked for what must hold after every row.
pub struct Outcome {
    pub code: Option<i32>,
    pub text: String,
    pub elapsed: Duration,
}

pub fn check_common(what: &str, o: &Outcome, limit: Duration) {
    assert_ne!(o.code, Some(101), "{what}: panicked: {}", o.text);
    assert!(!o.text.contains("panicked"), "{what}: {}", o.text);
    for secret in [API_HASH, PASSWORD, BOT_TOKEN] {
        assert!(
            !o.text.contains(secret),
            "{what}: printed a secret: {}",
            o.text
        );
    }
    assert!(
        o.elapsed <= limit,
        "{what}: took {:?}, limit {limit:?}",
        o.elapsed
    );
}

/// Runs `cmd` with `stdin`, killing it at `limit` + 5 s so a hang fails the row instead of
/// the suite.
pub fn run_bounded(mut cmd: Command, stdin: &[u8], limit: Duration) -> Outcome {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    let deadline = started + limit + Duration::from_secs(5);
    loop {
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        elapsed: started.elapsed(),
    }
}
