//! Import and export: fixtures made by the real Telethon and Pyrogram (scripts/fixtures.sh)
//! imported and exported by the real binary; bad input; and the case that started it all.

use std::process::Stdio;

use serde_json::Value;

use crate::common::*;

fn manifest() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn sandbox_with_config() -> Workdir {
    let sb = Workdir::new();
    sb.write(
        "tgsess.toml",
        "api_id = 12345\napi_hash = \"x\"\nsession_file = \"imported\"\nsession_dir = \"s\"\n",
    );
    sb
}

fn status(sb: &Workdir) -> Value {
    let out = sb.cmd().args(["status", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_fixture_imports_with_its_data_and_exports_back() {
    for (name, want) in manifest() {
        let sb = sandbox_with_config();
        let src = sb.work.join(&name);
        std::fs::copy(fixtures().join(&name), &src).unwrap();
        let before = std::fs::read(&src).unwrap();
        let ipv6 = want["address"].as_str().is_some_and(|a| a.starts_with('['));
        let mut cmd = sb.cmd();
        cmd.arg("import");
        if ipv6 {
            cmd.args(["--dc-address", "149.154.167.51:443"]);
        }
        let out = if name.ends_with(".string") {
            // Strings go through stdin, as a user should pass them.
            cmd.arg("-").write_stdin(before.clone()).output().unwrap()
        } else {
            cmd.arg(&src).output().unwrap()
        };
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        assert!(stdout_of(&out).contains("No login code was requested"));
        assert_eq!(
            std::fs::read(&src).unwrap(),
            before,
            "{name}: source changed"
        );
        let s = status(&sb);
        let session = &s["session"];
        assert_eq!(session["format"], "tgsess", "{name}");
        assert_eq!(session["mode"], "0600", "{name}");
        assert_eq!(session["home_dc"], want["dc_id"], "{name}");
        assert_eq!(session["auth_key_id"], want["key_id"], "{name}");
        if !want["user_id"].is_null() {
            assert_eq!(session["user_id"], want["user_id"], "{name}");
            assert_eq!(session["bot"], want["bot"], "{name}");
        }
        if let Some(a) = want["address"].as_str().filter(|_| !ipv6) {
            assert_eq!(session["dc_address"], a, "{name}");
        }
        if let Some(t) = want["test_mode"].as_bool() {
            assert_eq!(session["test_mode"], t, "{name}");
        }
        // Export back to the source's own format and compare the data (MTKruto: import only).
        let kind = want["format"].as_str().unwrap();
        if kind == "mtkruto-string" {
            continue;
        }
        let ext = if kind.ends_with("string") {
            "txt"
        } else {
            "session"
        };
        let back = sb.work.join(format!("back.{ext}"));
        let out = sb
            .cmd()
            .args(["export", "--format", kind, "--output"])
            .arg(&back)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        let sb2 = sandbox_with_config();
        let out = sb2.cmd().arg("import").arg(&back).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        let again = status(&sb2);
        for k in ["home_dc", "auth_key_id", "user_id", "bot"] {
            assert_eq!(again["session"][k], session[k], "{name}: {k} after export");
        }
        if name == "telethon-ipv4.string" || name == "pyrogram-362.string" {
            // Deterministic encodings: the very same text comes back.
            assert_eq!(
                std::fs::read_to_string(&back).unwrap().trim(),
                String::from_utf8_lossy(&before).trim(),
                "{name}"
            );
        }
    }
}

#[test]
fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let sb = sandbox_with_config();
    let good = std::fs::read_to_string(fixtures().join("telethon-ipv4.string")).unwrap();
    let good = good.trim();
    let pg = std::fs::read_to_string(fixtures().join("pyrogram-362.string")).unwrap();
    let pg = pg.trim();
    let mut non_b64 = good.to_string();
    non_b64.replace_range(40..41, "*");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", good.as_bytes()[..300].to_vec(), "characters"),
        (
            "padding removed",
            good.trim_end_matches('=').as_bytes().to_vec(),
            "characters",
        ),
        (
            "bad version",
            format!("2{}", &good[1..]).into_bytes(),
            "not a session string",
        ),
        ("non-base64", non_b64.into_bytes(), "base64"),
        (
            "pyrogram with padding",
            format!("{pg}=").into_bytes(),
            "not a session string",
        ),
        ("empty file", Vec::new(), "empty"),
        (
            "random bytes",
            (0..3000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 9) as u8)
                .collect(),
            "neither",
        ),
    ];
    for (what, bytes, needle) in cases {
        let src = sb.work.join("bad.input");
        std::fs::write(&src, &bytes).unwrap();
        let before = snapshot(&sb.work);
        let out = sb.cmd().arg("import").arg(&src).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(needle),
            "{what}: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains("bad.input"),
            "{what}: names the file"
        );
        assert_eq!(snapshot(&sb.work), before, "{what}");
        assert!(
            !sb.work.join("s").exists(),
            "{what}: a session dir was created"
        );
    }
    // SQLite damage: key of the wrong length, DC out of range, missing tables, empty row.
    let rt = rt();
    // A damaged session of a known format is a file problem (exit 4); a database that is
    // not a session at all is bad input (exit 2).
    let sqlite_cases: Vec<(&str, Vec<&str>, &str, i32)> = vec![
        (
            "short key",
            vec!["UPDATE sessions SET auth_key = zeroblob(100)"],
            "100 bytes",
            4,
        ),
        (
            "dc out of range",
            vec!["UPDATE sessions SET dc_id = 9"],
            "out of range",
            4,
        ),
        (
            "empty sessions",
            vec!["DELETE FROM sessions"],
            "empty sessions table",
            4,
        ),
        (
            "missing tables",
            vec!["DROP TABLE peers"],
            "not a session",
            2,
        ),
    ];
    for (what, sql, needle, exit) in sqlite_cases {
        let src = sb.work.join("bad.session");
        let _ = std::fs::remove_file(&src);
        std::fs::copy(fixtures().join("pyrogram-v3.session"), &src).unwrap();
        rt.block_on(async {
            let db = libsql::Builder::new_local(&src).build().await.unwrap();
            let c = db.connect().unwrap();
            for s in &sql {
                c.execute(s, ()).await.unwrap();
            }
        });
        let before = snapshot(&sb.work);
        let out = sb.cmd().arg("import").arg(&src).output().unwrap();
        assert_eq!(out.status.code(), Some(exit), "{what}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(needle),
            "{what}: {}",
            stderr_of(&out)
        );
        assert_eq!(snapshot(&sb.work), before, "{what}");
    }
}

#[test]
fn import_never_replaces_a_key_without_force_and_keeps_a_backup_with_it() {
    let sb = sandbox_with_config();
    std::fs::create_dir(sb.work.join("s")).unwrap();
    let dest = sb.work.join("s/imported.session");
    grammers_session(&dest, Some((42, false)));
    let before = std::fs::read(&dest).unwrap();
    let src = fixtures().join("telethon-v8.session");
    let out = sb.cmd().arg("import").arg(&src).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr_of(&out).contains("--force"));
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    let out = sb
        .cmd()
        .args(["import", "--force"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let backups: Vec<_> = std::fs::read_dir(sb.work.join("s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".bak-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read(&backups[0]).unwrap(),
        before,
        "the old session was lost"
    );
    // A foreign file is never a destination.
    let out = sb
        .cmd()
        .args(["--session", "tl.session", "import"])
        .arg(fixtures().join("pyrogram-362.string"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    std::fs::copy(src, sb.work.join("tl2.session")).unwrap();
    let before = std::fs::read(sb.work.join("tl2.session")).unwrap();
    let out = sb
        .cmd()
        .args(["--session", "tl2.session", "import", "--force"])
        .arg(fixtures().join("pyrogram-362.string"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(std::fs::read(sb.work.join("tl2.session")).unwrap(), before);
}

#[test]
fn export_never_overwrites_and_keeps_strings_off_terminals() {
    let sb = sandbox_with_config();
    let out = sb
        .cmd()
        .arg("import")
        .arg(fixtures().join("pyrogram-v3.session"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let target = sb.work.join("out.session");
    std::fs::write(&target, b"precious").unwrap();
    for fmt in ["telethon", "pyrogram", "telethon-string"] {
        let out = sb
            .cmd()
            .args(["export", "--format", fmt, "--output"])
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{fmt}");
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    }
    // Not a terminal: the string goes to stdout, with a warning on stderr.
    let out = sb
        .cmd()
        .args(["export", "--format", "pyrogram-string"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out).trim().len(), 362);
    assert!(stderr_of(&out).contains("credential"));
    let out = sb
        .cmd()
        .args(["export", "--format", "telethon", "--output", "new.session"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sb.work.join("new.session"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The case that started tgsess: a Telethon session named `'karaposu'.session` whose key is
/// signed in; the config says `username = "'karaposu'"`. Importing it reuses the key: the
/// sandbox sees no auth.sendCode from the import on.
#[test]
fn karaposu() {
    let dc = Dc::start(&[]);
    // Make a signed-in key (this part requests the one code a first login needs) and hand
    // it to Telethon's format, as the user's old Telethon code held it.
    let mut child = dc
        .cmd(&["login", "--code-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"22222\n").unwrap();
    }
    assert!(child.wait().unwrap().success());
    let project = dc.tmp.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let telethon_file = project.join("'karaposu'.session");
    let out = dc
        .cmd(&["export", "--format", "telethon", "--output"])
        .arg(&telethon_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The new code's config: the quoted username, sessions in their own directory, and the
    // same sandbox.
    std::fs::write(
        project.join("tgsess.toml"),
        format!(
            "api_id = 1\napi_hash = \"sandbox\"\nphone = \"9996621234\"\nusername = \"'karaposu'\"\n\
             session_dir = \"tgsess-sessions\"\nsandbox_dir = \"{}\"\n",
            dc.dir.display()
        ),
    )
    .unwrap();
    let sends_before = dc.count("auth.sendCode");
    let original = std::fs::read(&telethon_file).unwrap();
    // Run from the project directory, which finds its ./tgsess.toml.
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("tgsess"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dc.tmp.path())
            .env("TGSESS_STATE_DIR", dc.tmp.path().join("state"))
            .current_dir(&project)
            .args(args);
        c.stdin(Stdio::null()).output().unwrap()
    };
    let out = run(&["status"]);
    assert!(
        stdout_of(&out).contains("'karaposu'.session"),
        "{}",
        stdout_of(&out)
    );
    let out = run(&["import", "'karaposu'.session"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = run(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    let out = run(&["login"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("Already signed in"));
    assert_eq!(
        dc.count("auth.sendCode"),
        sends_before,
        "a code was requested after import"
    );
    assert_eq!(
        std::fs::read(&telethon_file).unwrap(),
        original,
        "the Telethon file changed"
    );
    assert!(project.join("tgsess-sessions/'karaposu'.session").exists());
}

#[test]
fn a_foreign_file_at_the_session_path_is_read_in_place_and_written_only_when_declared() {
    for fixture in ["telethon-v8.session", "pyrogram-v3.session"] {
        let sb = Workdir::new();
        sb.write(
            "tgsess.toml",
            "api_id = 1\napi_hash = \"x\"\nphone = \"9996621234\"\nusername = \"'karaposu'\"\n",
        );
        let path = sb.work.join("'karaposu'.session");
        std::fs::copy(fixtures().join(fixture), &path).unwrap();
        let before = snapshot(&sb.work);
        let (library, format, offline_exit) = if fixture.starts_with("telethon") {
            ("Telethon", "telethon", 3)
        } else {
            ("Pyrogram", "pyrogram", 0)
        };
        // Read-only commands work on the bot's own file (no online check here: the
        // fixture's address is Telegram's, and tests never leave loopback).
        for (args, exit) in [
            (&["status"][..], 0),
            (&["check", "--offline"], offline_exit),
        ] {
            let out = sb.cmd().args(args).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(exit),
                "{fixture} {args:?}: {}",
                stderr_of(&out)
            );
        }
        let status = stdout_of(&sb.cmd().arg("status").output().unwrap());
        assert!(status.contains(&format!("{format} detected")), "{status}");
        // Writers refuse until the format is declared, and say which line to add.
        for args in [
            &["login"][..],
            &["reset", "--yes"],
            &["logout", "--yes"],
            &["import", "--force", "SOURCE"],
        ] {
            let source = fixtures().join("telethon-ipv4.string");
            let args: Vec<&std::ffi::OsStr> = args
                .iter()
                .map(|a| match *a {
                    "SOURCE" => source.as_os_str(),
                    a => std::ffi::OsStr::new(a),
                })
                .collect();
            let out = sb.cmd().args(&args).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(4),
                "{fixture} {args:?}: {}",
                stderr_of(&out)
            );
            let err = stderr_of(&out);
            assert!(err.contains(library), "{fixture} {args:?}: {err}");
            assert!(
                err.contains(&format!("session_format = \"{format}\"")),
                "{fixture} {args:?}: {err}"
            );
        }
        assert_eq!(
            snapshot(&sb.work),
            before,
            "{fixture}: a command changed a file"
        );
    }
}

#[test]
fn an_ipv6_telethon_string_imports_without_flags_and_exports_identically() {
    let sb = sandbox_with_config();
    let src = fixtures().join("telethon-ipv6.string");
    let original = std::fs::read_to_string(&src).unwrap();
    let out = sb.cmd().arg("import").arg(&src).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // It says, as the README does, which address tgsess connects to: Telegram's IPv4 one
    // for that DC, from the DC table.
    assert!(
        stdout_of(&out).contains("an IPv6 address")
            && stdout_of(&out).contains("connects over IPv4, to 149.154.167.41:443 for DC 2"),
        "{}",
        stdout_of(&out)
    );
    let out = sb
        .cmd()
        .args(["export", "--format", "telethon-string", "--output", "-"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).trim(),
        original.trim(),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn gramjs_and_mtcute_strings_from_the_real_libraries_round_trip() {
    let m = manifest();
    let mut seen = 0;
    for (name, entry) in &m {
        let format = entry["format"].as_str().unwrap();
        if !matches!(format, "gramjs-string" | "mtcute-string") {
            continue;
        }
        seen += 1;
        let sb = sandbox_with_config();
        let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
        let out = sb
            .cmd()
            .args(["import", "-"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
        assert!(
            stdout_of(&out).contains(format),
            "{name}: {}",
            stdout_of(&out)
        );
        let s = sb.cmd().args(["status", "--json"]).output().unwrap();
        let v: Value = serde_json::from_slice(&s.stdout).unwrap();
        assert_eq!(v["session"]["auth_key_id"], entry["key_id"], "{name}");
        assert_eq!(v["session"]["home_dc"], entry["dc_id"], "{name}");
        let out = sb
            .cmd()
            .args(["export", "--format", format, "--output", "-"])
            .output()
            .unwrap();
        assert_eq!(
            stdout_of(&out).trim(),
            text.trim(),
            "{name}: export differs"
        );
    }
    assert!(seen >= 2, "no GramJS/mtcute fixtures in the manifest");
}
