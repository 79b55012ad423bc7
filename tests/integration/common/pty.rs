//! A pseudo-terminal, where a person would type.

use std::process::Command;
use std::time::Duration;

use expectrl::{Eof, Session};

pub struct Pty(pub Session);

impl Pty {
    pub fn spawn(cmd: Command) -> Pty {
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(Duration::from_secs(30)));
        Pty(s)
    }

    pub fn expect(&mut self, text: &str) {
        if let Err(e) = self.0.expect(text) {
            panic!("waiting for {text:?}: {e}");
        }
    }

    pub fn line(&mut self, text: &str) {
        self.0.send_line(text).unwrap();
    }

    /// Reads to the end and returns the exit code.
    pub fn exit_code(mut self) -> i32 {
        let _ = self.0.expect(Eof);
        match self.0.get_process().wait().unwrap() {
            expectrl::WaitStatus::Exited(_, code) => code,
            other => panic!("{other:?}"),
        }
    }
}
