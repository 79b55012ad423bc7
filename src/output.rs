//! Where text goes: results for people on stdout, errors and warnings on stderr prefixed
//! `tgsess: `. Colour only on a terminal and never with NO_COLOR. A closed stdout (a pipe
//! into `head`) is not an error.

use std::io::{IsTerminal, Write};
use std::path::Path;

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
pub(crate) fn out(line: impl AsRef<str>) {
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
pub(crate) fn json<T: serde::Serialize>(value: &T) {
    out(serde_json::to_string(value).expect("report types serialize"));
}

pub(crate) fn warn(msg: impl AsRef<str>) {
    eprintln!(
        "tgsess: {} {}",
        paint("33", "warning:"),
        printable(msg.as_ref())
    );
}

pub(crate) fn error(msg: impl AsRef<str>) {
    eprintln!(
        "tgsess: {} {}",
        paint("31", "error:"),
        printable(msg.as_ref())
    );
}

/// stdin and stdout are both terminals: the only case in which tgsess prompts.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

pub(crate) use tgsess_shared::text::{Shown, escape};

/// Quotes a path for a shell command line the user can paste.
pub(crate) fn shell_quote(p: &Path) -> String {
    shell_quote_str(&p.display().to_string())
}

/// Quotes one word for a POSIX shell (single quotes, `'` as `'\''`), only when needed. A
/// word with control characters (a newline in a file name) is written as
/// `"$(printf 'a\012b')"`, printf's octal escapes (POSIX printf(1)), so the printed line stays
/// one line and still pastes into any POSIX shell (a trailing newline is the one thing
/// command substitution drops).
pub(crate) fn shell_quote_str(s: &str) -> String {
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if s.chars().any(|c| c.is_control() || bidi(c)) {
        let mut format = String::new();
        for c in s.chars() {
            match c {
                '\\' => format.push_str("\\\\"),
                '%' => format.push_str("%%"),
                '\'' => format.push_str("'\\''"),
                c if c.is_control() || bidi(c) => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        format.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => format.push(c),
            }
        }
        return format!("\"$(printf '{format}')\"");
    }
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// RFC 3339 in UTC.
pub(crate) fn timestamp(t: std::time::SystemTime) -> Option<String> {
    jiff::Timestamp::try_from(t).ok().map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote(Path::new("/a/b.session")), "/a/b.session");
        assert_eq!(
            shell_quote(Path::new("/a/'k'.session")),
            r"'/a/'\''k'\''.session'"
        );
        assert_eq!(shell_quote_str("a\nb'c%"), r#""$(printf 'a\012b'\''c%%')""#);
        assert_eq!(shell_quote_str("a\u{1b}b"), r#""$(printf 'a\033b')""#);
    }

    #[test]
    fn control_characters_are_escaped_but_layout_stays() {
        let p = printable("a\u{1b}[31mb\u{202e}c\nnext\tcol");
        assert_eq!(p, "a\\u{1b}[31mb\\u{202e}c\nnext\tcol");
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(std::path::Path::new("/a\nb").shown(), "/a\\u{a}b");
    }
}
