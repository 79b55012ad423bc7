//! Telegram Desktop tdata, imported and inspected from fixtures written by @mtcute/convert
//! (scripts/fixtures_tdata.mjs): with and without a local passcode, and with three accounts.
//! Nothing is ever written into tdata.

use std::path::Path;

use crate::common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

fn status(sb: &Workdir, session: &Path) -> serde_json::Value {
    let out = sb
        .cmd()
        .args(["--session", session.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["session"].clone()
}

#[test]
fn every_account_of_every_fixture_imports_and_tdata_is_left_alone() {
    let manifest: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("tdata-manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.len(), 3);
    for (name, want) in &manifest {
        let sb = Workdir::new();
        let src = sb.work.join(name);
        copy_dir(&fixtures().join(name), &src);
        let before = hashes(&src);
        let passcode = want["passcode"].as_str();
        for (i, acc) in want["accounts"].as_array().unwrap().iter().enumerate() {
            let session = sb.work.join(format!("{name}-{i}.session"));
            let mut cmd = sb.cmd();
            cmd.args(["--session", session.to_str().unwrap(), "import"]);
            // The parent of tdata/ for one, tdata/ itself for the others.
            cmd.arg(if i == 0 {
                src.clone()
            } else {
                src.join("tdata")
            });
            cmd.args(["--account", &i.to_string()]);
            if let Some(p) = passcode {
                cmd.arg("--passcode-stdin").write_stdin(format!("{p}\n"));
            }
            let out = cmd.output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name} {i}: {}",
                stderr_of(&out)
            );
            assert!(stderr_of(&out).contains("Telegram Desktop still uses this key"));
            let s = status(&sb, &session);
            assert_eq!(s["auth_key_id"], acc["key_id"], "{name} {i}");
            assert_eq!(s["user_id"], acc["user_id"], "{name} {i}");
            assert_eq!(s["home_dc"], acc["dc_id"], "{name} {i}");
        }
        assert_eq!(
            hashes(&src),
            before,
            "{name}: something was written into tdata"
        );
    }
}

#[test]
fn passcodes_accounts_and_wrong_paths_are_explained() {
    let sb = Workdir::new();
    let s = sb.work.join("x.session");
    let x = s.to_str().unwrap();
    let pass = fixtures().join("tdata-passcode");
    // A wrong passcode, and none at all without a terminal: nothing is written.
    let out = sb
        .cmd()
        .args(["--session", x, "import", "--passcode-stdin"])
        .arg(&pass)
        .write_stdin("wrong\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("passcode is wrong"),
        "{}",
        stderr_of(&out)
    );
    let out = sb
        .cmd()
        .args(["--session", x, "import"])
        .arg(&pass)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--passcode-stdin"),
        "{}",
        stderr_of(&out)
    );
    assert!(!s.exists());
    // Three accounts: inspect lists them all; import takes the active one by default.
    let multi = fixtures().join("tdata-multi");
    let out = sb
        .cmd()
        .args(["inspect", "--json"])
        .arg(&multi)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "tdata");
    assert_eq!(v["accounts"].as_array().unwrap().len(), 3);
    assert_eq!(v["accounts"][0]["active"], true);
    let text = stdout_of(&sb.cmd().args(["inspect"]).arg(&multi).output().unwrap());
    assert!(text.contains("account 2: user 5000000105"), "{text}");
    let out = sb
        .cmd()
        .args(["--session", x, "import", "--account", "5"])
        .arg(&multi)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("no account 5"),
        "{}",
        stderr_of(&out)
    );
    // A directory that is not tdata says where Desktop keeps it.
    let out = sb
        .cmd()
        .args(["--session", x, "import"])
        .arg(&sb.work)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("TelegramDesktop/tdata"),
        "{}",
        stderr_of(&out)
    );
    assert!(!s.exists());
}
