//! `check`: one request per check, Telegram's verdict named (signed in as whom, not signed
//! in, revoked, banned, the wrong user, held), each produced by the sandbox and asserted in
//! the JSON, the exit code and the request log; the identity pin in `check` and `login`.

use std::net::IpAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use grammers_session::Session;
use grammers_session::storages::SqliteSession;
use grammers_tl_types::{self as tl, Serializable};

use crate::common::*;

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(stdout_of(out).trim())
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout_of(out), stderr_of(out)))
}

/// `check --json` (plus `extra`): exit code and report.
fn check(dc: &Dc, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["check", "--json", "--timeout", "5"];
    args.extend_from_slice(extra);
    let out = dc.run(&args);
    (out.status.code(), json_of(&out))
}

/// The requests logged since `from`: (dc, method, result).
fn since(dc: &Dc, from: usize) -> Vec<(i64, String, String)> {
    request_lines(&dc.dir)[from..]
        .iter()
        .map(|v| {
            (
                v["dc"].as_i64().unwrap(),
                v["method"].as_str().unwrap().to_string(),
                v["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn one_get_users(dc: i64, result: &str) -> Vec<(i64, String, String)> {
    vec![(dc, "users.getUsers".to_string(), result.to_string())]
}

/// The auth key a grammers session holds for its home DC 2.
fn key_of(path: &std::path::Path) -> [u8; 256] {
    rt().block_on(async {
        let s = SqliteSession::open(path).await.unwrap();
        s.dc_option(2).unwrap().unwrap().auth_key.unwrap()
    })
}

/// What a bot sends first on a new connection: its layer, its client, and a request.
fn init_get_users() -> Vec<u8> {
    tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id: 1,
            device_model: "bot".into(),
            system_version: "test".into(),
            app_version: "1".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: tl::functions::users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            },
        },
    }
    .to_bytes()
}

/// Sends a request and reads the reply: the rpc_error's (code, message), or None for a
/// result.
fn rpc(c: &mut Encrypted, body: &[u8]) -> Option<(i32, String)> {
    c.send(body, true);
    let (_, reply) = c.recv();
    assert_eq!(reply[..4], 0xf35c6d01u32.to_le_bytes(), "an rpc_result");
    let result = &reply[12..];
    if result[..4] != 0x2144ca19u32.to_le_bytes() {
        return None;
    }
    let code = i32::from_le_bytes(result[4..8].try_into().unwrap());
    let len = result[8] as usize;
    Some((
        code,
        String::from_utf8(result[9..9 + len].to_vec()).unwrap(),
    ))
}

#[test]
fn a_check_is_one_request_that_names_the_user_and_is_remembered() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let from = request_lines(&dc.dir).len();
    let (code, v) = check(&dc, &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["status"], "signed_in");
    assert_eq!(v["error"], serde_json::Value::Null);
    assert_eq!(v["user_id"], 700021234);
    assert_eq!(v["username"], "sandbox_21234");
    assert_eq!(v["name"], "Sandbox");
    assert_eq!(v["bot"], false);
    // Exactly one request: no help.getConfig first, as grammers' pool would send.
    assert_eq!(since(&dc, from), one_get_users(2, "ok"));
    let lines = request_lines(&dc.dir);
    assert_eq!(
        lines.last().unwrap()["layer"],
        tl::LAYER,
        "declared in initConnection"
    );
    // The people's line names the account.
    let out = dc.run(&["check"]);
    assert!(
        stdout_of(&out).starts_with("signed in as Sandbox (@sandbox_21234, id 700021234)"),
        "{}",
        stdout_of(&out)
    );
    // A Telethon file records no user: offline, tgsess says who Telegram last confirmed.
    let tl_path = dc.tmp.path().join("bot.session");
    let tl_arg = tl_path.to_str().unwrap();
    dc.sign_in(&["--session", tl_arg, "--session-format", "telethon"]);
    let out = dc.run(&["--session", tl_arg, "check", "--offline", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    let v = json_of(&out);
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["last_confirmed"]["user"]["username"], "sandbox_21234");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("Telegram last confirmed this key signed in as Sandbox (@sandbox_21234"),
        "{v}"
    );
    let out = dc.run(&["--session", tl_arg, "status"]);
    assert!(
        stdout_of(&out).contains("confirmed: Telegram last confirmed this key signed in as"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn revoked_banned_and_logged_out_keys_are_named_with_exit_1() {
    let mut dc = Dc::start(&[]);
    let b = dc.tmp.path().join("b.session");
    let b_arg = b.to_str().unwrap();
    dc.sign_in(&[]);
    dc.sign_in(&["--session", b_arg]);
    // Session A ends session B (account.resetAuthorization): B's key answers SESSION_REVOKED.
    let status = json_of(&dc.run(&["--session", b_arg, "status", "--json"]));
    let key_id = status["session"]["auth_key_id"].as_str().unwrap();
    let hash = (u64::from_str_radix(key_id, 16).unwrap() as i64).to_string();
    let out = dc.run(&["devices", "revoke", &hash, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let from = request_lines(&dc.dir).len();
    let (code, v) = check(&dc, &["--session", b_arg]);
    assert_eq!(
        (code, &v["status"], &v["error"]),
        (Some(1), &"revoked".into(), &"SESSION_REVOKED".into())
    );
    assert!(v["reason"].as_str().unwrap().contains("was ended"), "{v}");
    assert_eq!(since(&dc, from), one_get_users(2, "SESSION_REVOKED"));
    // The account banned: its keys answer USER_DEACTIVATED_BAN; no login helps.
    dc.restart_with(&["--ban", "9996621234"]);
    let (code, v) = check(&dc, &[]);
    assert_eq!((code, &v["status"]), (Some(1), &"banned".into()), "{v}");
    assert_eq!(v["error"], "USER_DEACTIVATED_BAN");
    assert!(
        v["reason"].as_str().unwrap().contains("no login helps"),
        "{v}"
    );
    // Logged out by Telegram (the sandbox's --revoke-after): not signed in.
    dc.restart_with(&["--revoke-after", "0"]);
    let (code, v) = check(&dc, &[]);
    assert_eq!(
        (code, &v["status"]),
        (Some(1), &"not_signed_in".into()),
        "{v}"
    );
    assert_eq!(v["error"], "AUTH_KEY_UNREGISTERED");
    // Without a sandbox there is no verdict, and nothing else.
    dc.stop();
    let (code, v) = check(&dc, &[]);
    assert_eq!((code, &v["status"]), (Some(3), &"no_verdict".into()), "{v}");
}

#[test]
fn a_key_used_from_two_addresses_is_destroyed_and_stays_revoked() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let key = key_of(&dc.session());
    let addr = dc.address();
    // The bot, on another loopback address, using the key.
    let bot_ip: IpAddr = "127.0.0.2".parse().unwrap();
    let mut bot = Encrypted::from(addr, Some(bot_ip), key);
    assert_eq!(
        rpc(&mut bot, &init_get_users()),
        None,
        "the bot is signed in"
    );
    // A check from 127.0.0.1 while the bot's connection is open: parallel use.
    let from = request_lines(&dc.dir).len();
    let (code, v) = check(&dc, &[]);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(
        (&v["status"], &v["error"]),
        (&"revoked".into(), &"AUTH_KEY_DUPLICATED".into())
    );
    assert!(
        v["reason"].as_str().unwrap().contains("two places at once"),
        "{v}"
    );
    assert_eq!(since(&dc, from), one_get_users(2, "AUTH_KEY_DUPLICATED"));
    // The bot's connection gets its 406 too, then 401 like every later request.
    let body = tl::functions::users::GetUsers {
        id: vec![tl::enums::InputUser::UserSelf],
    }
    .to_bytes();
    assert_eq!(
        rpc(&mut bot, &body),
        Some((406, "AUTH_KEY_DUPLICATED".into()))
    );
    assert_eq!(
        rpc(&mut bot, &body),
        Some((401, "AUTH_KEY_UNREGISTERED".into()))
    );
    let peers: Vec<String> = request_lines(&dc.dir)
        .iter()
        .filter_map(|l| {
            l["peer"]
                .as_str()
                .map(|p| p.split(':').next().unwrap().to_string())
        })
        .collect();
    assert!(peers.contains(&"127.0.0.2".to_string()), "{peers:?}");
    // Later checks: Telegram says 401, tgsess keeps saying why the key is finished.
    drop(bot);
    let from = request_lines(&dc.dir).len();
    let (code, v) = check(&dc, &[]);
    assert_eq!(
        (code, &v["status"], &v["error"]),
        (Some(1), &"revoked".into(), &"AUTH_KEY_DUPLICATED".into())
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("destroyed this key earlier"),
        "{v}"
    );
    assert_eq!(since(&dc, from), one_get_users(2, "AUTH_KEY_UNREGISTERED"));
}

#[test]
fn the_pin_names_both_accounts_in_check_and_keeps_login_from_saving_another() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    let (code, v) = check(&dc, &["--expect-user", "@someone_else"]);
    assert_eq!((code, &v["status"]), (Some(1), &"wrong_user".into()), "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains("@sandbox_21234") && reason.contains("@someone_else"),
        "{reason}"
    );
    assert_eq!(v["user_id"], 700021234);
    let (code, v) = check(&dc, &["--expect-user", "700021234"]);
    assert_eq!((code, &v["status"]), (Some(0), &"signed_in".into()), "{v}");
    let (code, v) = check(&dc, &["--expect-user", "@SANDBOX_21234"]);
    assert_eq!(code, Some(0), "usernames ignore case: {v}");
    // A pin that is neither: exit 2, naming the key and the fix.
    let out = dc.run(&["check", "--expect-user", "someone"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("expect_user \"someone\" (from flag --expect-user)"),
        "{}",
        stderr_of(&out)
    );
    // Already signed in as another account: nothing changes.
    let before = std::fs::read(dc.session()).unwrap();
    let out = dc.run(&["login", "--expect-user", "@someone_else"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
    assert!(stderr_of(&out).contains("expect_user (from flag --expect-user) is @someone_else"));
    assert_eq!(std::fs::read(dc.session()).unwrap(), before);
    // A login that ends as another account keeps no session, and logs that one out again.
    let other = dc.tmp.path().join("other.session");
    let from = request_lines(&dc.dir).len();
    let mut child = dc
        .cmd(&[
            "--session",
            other.to_str().unwrap(),
            "--expect-user",
            "@someone_else",
            "login",
            "--code-stdin",
            "--fresh",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"22222\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("logged out again"),
        "{}",
        stderr_of(&out)
    );
    assert!(!other.exists(), "no session of the other account");
    let methods: Vec<String> = since(&dc, from).into_iter().map(|(_, m, _)| m).collect();
    let signed = methods.iter().position(|m| m == "auth.signIn").unwrap();
    assert_eq!(
        methods[signed + 1..],
        ["auth.logOut".to_string()],
        "{methods:?}"
    );
}

#[test]
fn a_migration_is_followed_once() {
    let mut dc = Dc::start(&[]);
    dc.sign_in(&[]);
    // The account now lives on DC 3: DC 2 sends the question on.
    dc.restart_with(&["--migrate-to", "3"]);
    let from = request_lines(&dc.dir).len();
    let (code, v) = check(&dc, &[]);
    assert_eq!(
        since(&dc, from),
        vec![
            (2, "users.getUsers".into(), "USER_MIGRATE_3".into()),
            (3, "users.getUsers".into(), "AUTH_KEY_UNREGISTERED".into()),
        ]
    );
    // The session's DC 3 key was never signed in: that is DC 3's verdict.
    assert_eq!(
        (code, &v["status"], &v["dc"]),
        (Some(1), &"not_signed_in".into(), &3.into()),
        "{v}"
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("DC 2 sent the question on to DC 3"),
        "{v}"
    );
    // list --check reads only the home key at first; the migration's DC key is read then.
    let from = request_lines(&dc.dir).len();
    let out = dc.run(&["list", "--check", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(stdout_of(&out).lines().next().unwrap()).unwrap();
    assert_eq!(
        (&first["status"], &first["error"]),
        (&"not_signed_in".into(), &"AUTH_KEY_UNREGISTERED".into()),
        "{first}"
    );
    assert_eq!(
        since(&dc, from),
        vec![
            (2, "users.getUsers".into(), "USER_MIGRATE_3".into()),
            (3, "users.getUsers".into(), "AUTH_KEY_UNREGISTERED".into()),
        ]
    );
}

#[test]
fn a_session_exec_holds_is_not_asked_unless_told_to() {
    let dc = Dc::start(&[]);
    dc.sign_in(&[]);
    // Without the pre-flight, nothing is confirmed when the hold begins.
    let mut bot = dc
        .cmd(&["exec", "--no-preflight", "--", "sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for exec to hold the lock, asking `status` (which never connects).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stdout_of(&dc.run(&["status", "--json"])).contains("holds its lock") {
        assert!(Instant::now() < deadline, "exec never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let from = request_lines(&dc.dir).len();
    let (code, v2) = check(&dc, &[]);
    assert_eq!(v2["status"], "held", "{v2}");
    assert_eq!(code, Some(3), "nothing confirmed since it started: {v2}");
    assert_eq!(v2["held"]["pid"], bot.id());
    assert!(
        v2["held"]["command"].as_str().unwrap().contains("exec"),
        "{v2}"
    );
    assert!(v2["held"]["since"].is_string(), "{v2}");
    assert!(
        v2["reason"]
            .as_str()
            .unwrap()
            .contains("check --while-held"),
        "{v2}"
    );
    assert!(
        since(&dc, from).is_empty(),
        "no connection for a held session"
    );
    // list --check agrees, and also opens no connection.
    let out = dc.run(&["list", "--check", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(stdout_of(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["status"], "held", "{}", stdout_of(&out));
    assert!(since(&dc, from).is_empty());
    // --while-held asks, once.
    let (code, v) = check(&dc, &["--while-held"]);
    assert_eq!((code, &v["status"]), (Some(0), &"signed_in".into()), "{v}");
    assert_eq!(since(&dc, from), one_get_users(2, "ok"));
    // What that confirmed, after the hold began, is what a held check now reports.
    let (code, v) = check(&dc, &[]);
    assert_eq!((code, &v["status"]), (Some(0), &"held".into()), "{v}");
    assert_eq!(v["held"]["confirmed"]["id"], 700021234, "{v}");
    // SIGTERM to exec is passed on to the bot; both end.
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(bot.id() as i32, libc::SIGTERM);
    }
    let _ = bot.wait();
}
