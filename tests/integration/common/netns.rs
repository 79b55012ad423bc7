//! A network namespace with loopback and nothing else (`unshare -n`, as root).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A network namespace held by a `sleep` started with `unshare -n`, with loopback up.
pub struct Netns(Child);

impl Netns {
    /// `None` when this test is not run as root (unshare needs CAP_SYS_ADMIN): the caller
    /// says so and skips. As root, anything failing here fails the test.
    pub fn new() -> Option<Netns> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!(
                "fence: not root, so no network namespace; the unit tests in src/net/fence.rs still run"
            );
            return None;
        }
        let child = Command::new("/usr/bin/unshare")
            .args(["-n", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare -n (as root)");
        let ns = Netns(child);
        // The namespace exists once the sleep runs in it: its net link differs from ours.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{}/ns/net", ns.pid())).ok()
            == std::fs::read_link("/proc/self/ns/net").ok()
        {
            assert!(Instant::now() < deadline, "unshare -n made no namespace");
            std::thread::sleep(Duration::from_millis(10));
        }
        let up = Command::new("/usr/bin/nsenter")
            .args([
                "-t",
                &ns.pid().to_string(),
                "-n",
                "--",
                "/usr/sbin/ip",
                "link",
                "set",
                "lo",
                "up",
            ])
            .status()
            .unwrap();
        assert!(up.success());
        Some(ns)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Runs `args` (a program and its arguments) inside the namespace.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("/usr/bin/nsenter")
            .args(["-t", &self.pid().to_string(), "-n", "--"])
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
