//! The binary: where it is, a hermetic command on a work directory, and what it printed.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `tgsess` binary Cargo built for these tests; every test runs this one.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("tgsess")
}

/// The stand-in bot (examples/standin_bot.rs), which `cargo test` builds beside the binary.
pub fn standin_bot() -> PathBuf {
    let p = bin().parent().unwrap().join("examples/standin_bot");
    assert!(
        p.is_file(),
        "{} is missing: run the whole suite (`cargo test`), which builds the examples",
        p.display()
    );
    p
}

/// `tgsess` with a clean environment: no TGSESS_* variables, HOME and XDG dirs inside `home`,
/// run from `cwd`. Tests never touch the developer's real home or config.
pub fn tgsess(home: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".state"))
        .env("NO_COLOR", "1")
        .current_dir(cwd);
    cmd
}

/// A temp dir with `home/` and `work/` inside.
pub struct Workdir {
    pub _dir: tempfile::TempDir,
    pub home: PathBuf,
    pub work: PathBuf,
}

impl Workdir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        Workdir {
            _dir: dir,
            home,
            work,
        }
    }

    pub fn cmd(&self) -> Command {
        tgsess(&self.home, &self.work)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// The first line a child printed on `stream` (its piped stdout or stderr, taken).
pub fn first_line(stream: Option<impl std::io::Read>) -> String {
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(stream.expect("the stream is piped")),
        &mut line,
    )
    .unwrap();
    line
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A path quoted for a POSIX shell the way tgsess prints it: bare when it is safe, else in
/// single quotes with `'` as `'\''`.
pub fn quote(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
