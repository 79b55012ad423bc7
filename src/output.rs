//! Where text goes: results for people on stdout, errors and warnings on stderr prefixed
//! `tgsess: `. Colour only on a terminal and never with NO_COLOR. A closed stdout (a pipe
//! into `head`) is not an error.

use std::io::{IsTerminal, Write};

fn colour_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn paint(code: &str, text: &str) -> String {
    if colour_stderr() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Prints a line on stdout; a broken pipe is ignored. Control characters other than line
/// breaks and tabs (ESC, bidirectional overrides…, e.g. inside a file name) are escaped.
pub fn out(line: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", printable(line.as_ref()));
}

/// A message made safe for a terminal: see [`escape`]; `\n` and `\t` stay, as messages use
/// them for layout.
fn printable(s: &str) -> String {
    s.split('\n')
        .map(|l| l.split('\t').map(escape).collect::<Vec<_>>().join("\t"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints a JSON value on stdout, one line.
pub fn json<T: serde::Serialize>(value: &T) {
    out(serde_json::to_string(value).expect("report types serialize"));
}

pub fn warn(msg: impl AsRef<str>) {
    eprintln!(
        "tgsess: {} {}",
        paint("33", "warning:"),
        printable(msg.as_ref())
    );
}

pub fn error(msg: impl AsRef<str>) {
    eprintln!(
        "tgsess: {} {}",
        paint("31", "error:"),
        printable(msg.as_ref())
    );
}

/// stdin and stdout are both terminals: the only case in which tgsess prompts.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

pub use tgsess_shared::text::{Shown, escape};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_but_layout_stays() {
        let p = printable("a\u{1b}[31mb\u{202e}c\nnext\tcol");
        assert_eq!(p, "a\\u{1b}[31mb\\u{202e}c\nnext\tcol");
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(std::path::Path::new("/a\nb").shown(), "/a\\u{a}b");
    }
}
