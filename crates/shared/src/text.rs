//! Values from outside (file names, command lines, database text) made safe to print:
//! control characters, newlines included, ESC and bidirectional overrides are shown
//! escaped, so a file name cannot break a line or forge one.

/// A path as messages show it: escaped like every value from outside ([`escape`]), so a
/// newline or an escape sequence in a file name cannot break or forge a line.
pub trait Shown {
    fn shown(&self) -> String;
}

impl Shown for std::path::Path {
    fn shown(&self) -> String {
        escape(&self.to_string_lossy())
    }
}

/// A value from outside (a file name, a command line) made safe to print: control
/// characters, including newlines, ESC and bidirectional overrides, are shown escaped.
pub fn escape(s: &str) -> String {
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !s.chars().any(|c| c.is_control() || bidi(c)) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() || bidi(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_paths_are_escaped() {
        assert_eq!(escape("x\ny"), "x\\u{a}y");
        assert_eq!(escape("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(std::path::Path::new("/a\nb").shown(), "/a\\u{a}b");
    }
}
