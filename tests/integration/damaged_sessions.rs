//! A damaged session file (a column of the wrong type or out of range) is a file problem,
//! exit 4, described in the same words by status, check, inspect, import and login; nothing
//! reads a key from it, nothing sends a request for it, and nothing replaces it without
//! `--force`, which keeps a byte-identical copy first.

use std::path::Path;
use std::process::Stdio;

use crate::common::*;

fn sql(path: &Path, statements: &[&str]) {
    rt().block_on(async {
        let db = libsql::Builder::new_local(path).build().await.unwrap();
        let c = db.connect().unwrap();
        for s in statements {
            c.execute(s, ()).await.unwrap();
        }
    });
}

/// A Pyrogram 2.0 file as `common::pyrogram_session` makes it.
fn pyrogram(path: &Path) {
    crate::common::pyrogram_session(path);
}

/// Telethon's `dc_id integer primary key` takes only integers; a file whose table was made
/// without that constraint (as the damaged files seen in the wild were) takes anything.
const LOOSE_TELETHON: [&str; 4] = [
    "ALTER TABLE sessions RENAME TO old_sessions",
    "CREATE TABLE sessions (dc_id, server_address text, port integer, auth_key blob, takeout_id integer, tmp_auth_key blob)",
    "INSERT INTO sessions SELECT * FROM old_sessions",
    "DROP TABLE old_sessions",
];

/// (what, format, how it is made damaged, the words every command must print)
fn rows() -> Vec<(&'static str, &'static str, Vec<&'static str>, &'static str)> {
    vec![
        (
            "Telethon dc_id TEXT",
            "telethon",
            [&LOOSE_TELETHON[..], &["UPDATE sessions SET dc_id = 'two'"]].concat(),
            "is a damaged Telethon session: sessions.dc_id is TEXT ('two'), not an INTEGER",
        ),
        (
            "Telethon dc_id REAL",
            "telethon",
            [&LOOSE_TELETHON[..], &["UPDATE sessions SET dc_id = 2.5"]].concat(),
            "is a damaged Telethon session: sessions.dc_id is REAL (2.5), not an INTEGER",
        ),
        (
            "Telethon dc_id -1",
            "telethon",
            vec!["UPDATE sessions SET dc_id = -1"],
            "sessions.dc_id is -1, out of range (Telegram's DCs are 1 to 5)",
        ),
        (
            "Telethon dc_id 1000",
            "telethon",
            vec!["UPDATE sessions SET dc_id = 1000"],
            "sessions.dc_id is 1000, out of range",
        ),
        (
            "Telethon dc_id 2^32 + 2",
            "telethon",
            vec!["UPDATE sessions SET dc_id = 4294967298"],
            "sessions.dc_id is 4294967298, out of range",
        ),
        (
            "Telethon port 70000",
            "telethon",
            vec!["UPDATE sessions SET port = 70000"],
            "sessions.port is 70000, out of range",
        ),
        (
            "Pyrogram test_mode 2",
            "pyrogram",
            vec!["UPDATE sessions SET test_mode = 2"],
            "is a damaged Pyrogram session: sessions.test_mode is 2, out of range (0 or 1)",
        ),
        (
            "Pyrogram user_id TEXT",
            "pyrogram",
            vec!["UPDATE sessions SET user_id = 'me'"],
            "sessions.user_id is TEXT ('me'), not an INTEGER",
        ),
    ]
}

#[test]
fn a_damaged_session_is_described_alike_and_never_replaced_without_force() {
    let dc = Dc::start(&[]);
    for (what, format, damage, words) in rows() {
        let file = dc
            .tmp
            .path()
            .join(format!("{}.session", what.replace(' ', "_")));
        let _ = std::fs::remove_file(&file);
        if format == "telethon" {
            telethon_session(&file);
        } else {
            pyrogram(&file);
        }
        sql(&file, &damage);
        let before = std::fs::read(&file).unwrap();
        let requests = dc.log().len();
        let session = [
            "--session",
            file.to_str().unwrap(),
            "--session-format",
            format,
        ];
        let with = |args: &[&str]| -> Vec<String> {
            session.iter().chain(args).map(|s| s.to_string()).collect()
        };
        let other = dc.tmp.path().join("other.session");
        for args in [
            with(&["status"]),
            with(&["check", "--offline"]),
            with(&["check"]),
            with(&["login", "--code-stdin"]),
            with(&["reset", "--yes"]),
            vec!["inspect".into(), file.display().to_string()],
            vec![
                "--session".into(),
                other.display().to_string(),
                "import".into(),
                file.display().to_string(),
            ],
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = dc.cmd(&args).stdin(Stdio::null()).output().unwrap();
            let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
            assert_eq!(out.status.code(), Some(4), "{what}: {args:?}: {text}");
            assert!(
                text.contains(words),
                "{what}: {args:?}: wanted {words:?} in {text}"
            );
            assert!(!text.contains("auth key:  present"), "{what}: {text}");
            assert_eq!(std::fs::read(&file).unwrap(), before, "{what}: {args:?}");
            assert!(!other.exists(), "{what}: {args:?}");
        }
        assert_eq!(dc.log().len(), requests, "{what}: a request was sent");
        // --force replaces it, after a byte-identical copy, with a fresh login.
        let dir_before: Vec<_> = std::fs::read_dir(dc.tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        let mut child = dc
            .cmd(
                &with(&["login", "--code-stdin", "--fresh", "--force"])
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"22222\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(0), "{what}: --force: {text}");
        assert!(text.contains("was copied to"), "{what}: {text}");
        let backups: Vec<_> = std::fs::read_dir(dc.tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| !dir_before.contains(p) && p.to_string_lossy().contains(".bak-"))
            .collect();
        assert_eq!(backups.len(), 1, "{what}: {backups:?}");
        assert_eq!(std::fs::read(&backups[0]).unwrap(), before, "{what}");
        let out = dc
            .cmd(
                &with(&["status", "--json"])
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
            )
            .output()
            .unwrap();
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            s["session"]["damage"],
            serde_json::Value::Null,
            "{what}: {s}"
        );
        assert_eq!(s["session"]["has_auth_key"], true, "{what}: {s}");
        let _ = std::fs::remove_file(&backups[0]);
    }
}
