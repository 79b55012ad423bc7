//! `list --check --metrics PATH`: the verdicts in node_exporter's textfile collector format
//! (the Prometheus text exposition format, prometheus.io/docs/instrumenting/
//! exposition_formats).
//!
//! The collector reads every `*.prom` file in its directory and skips other names
//! (node_exporter collector/textfile.go, `Update`), so the file is written to a temporary
//! name beside it (`.NAME.PID-TAG.tmp`) and renamed into place: the collector never sees
//! half a file. A new file is 0600 (it names accounts); a file that is replaced keeps its
//! mode, so `chmod 0644` once lets a node_exporter running as another user read it.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::health::Status;
use crate::output::Shown;

/// One session's line.
pub(crate) struct Sample<'a> {
    pub(crate) session: &'a Path,
    pub(crate) format: &'a str,
    pub(crate) status: Status,
    pub(crate) user_id: Option<i64>,
    pub(crate) username: Option<&'a str>,
}

/// A label value as the text format writes it: `\`, `"` and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// The file's text.
pub(crate) fn text(samples: &[Sample], duration: f64, now: i64) -> String {
    let mut t = String::new();
    t.push_str(
        "# HELP tgsess_session_signed_in Whether Telegram confirmed the session signed in \
         (1) or not (0), by tgsess list --check.\n# TYPE tgsess_session_signed_in gauge\n",
    );
    for s in samples {
        let signed_in = u8::from(s.status == Status::SignedIn);
        let _ = writeln!(
            t,
            "tgsess_session_signed_in{{session=\"{}\",format=\"{}\",status=\"{}\",user_id=\"{}\",username=\"{}\"}} {signed_in}",
            label(&s.session.to_string_lossy()),
            label(s.format),
            s.status.word(),
            s.user_id.map(|i| i.to_string()).unwrap_or_default(),
            label(s.username.unwrap_or_default()),
        );
    }
    let _ = write!(
        t,
        "# HELP tgsess_check_duration_seconds How long the whole list --check took.\n\
         # TYPE tgsess_check_duration_seconds gauge\n\
         tgsess_check_duration_seconds {duration:.3}\n\
         # HELP tgsess_check_timestamp_seconds When the check ran (unix time).\n\
         # TYPE tgsess_check_timestamp_seconds gauge\n\
         tgsess_check_timestamp_seconds {now}\n"
    );
    t
}

/// The collector reads only `*.prom` files: another name is refused before anything runs.
pub(crate) fn check_name(path: &Path) -> Result<()> {
    if path.to_string_lossy().ends_with(".prom") {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--metrics {}: node_exporter's textfile collector reads only files named *.prom; \
         name the file so",
        path.shown()
    )))
}

/// Writes `text` to `path` atomically, keeping the mode of a file it replaces.
pub(crate) fn write(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| {
        Error::file(format!(
            "cannot write the metrics file {}: {e}; its directory must exist and be writable",
            path.shown()
        ))
    };
    check_name(path)?;
    let mode = std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777);
    let (tmp, mut f) = tgsess_shared::fs::temp_beside(path).map_err(fail)?;
    let written = std::io::Write::write_all(&mut f, text.as_bytes())
        .and_then(|()| match mode {
            Some(m) => f.set_permissions(std::fs::Permissions::from_mode(m)),
            None => Ok(()),
        })
        .and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    tgsess_shared::fs::commit(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_as_the_text_format_says() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let s = [Sample {
            session: Path::new("/s/a\".session"),
            format: "telethon",
            status: Status::SignedIn,
            user_id: Some(7),
            username: Some("x"),
        }];
        let t = text(&s, 0.25, 100);
        assert!(t.contains(
            "tgsess_session_signed_in{session=\"/s/a\\\".session\",format=\"telethon\",status=\"signed_in\",user_id=\"7\",username=\"x\"} 1"
        ), "{t}");
        assert!(t.ends_with("tgsess_check_timestamp_seconds 100\n"));
    }
}
