//! Scanning a QR login token as a sandbox account, from another terminal: the part a phone's
//! Telegram app plays (Settings → Devices → Link Desktop Device). `tgsess sandbox --dir D
//! --scan` drops the `tg://login?token=…` URL it reads from stdin into `D/scan/` as a
//! request; the running sandbox accepts the token as that account (auth.acceptLoginToken on
//! its behalf, with the updateLoginToken push) and writes the answer beside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::rpc::TOKEN_ACCEPTED;
use super::server::Datacenter;

pub(crate) const SCAN_DIR: &str = "scan";

#[derive(Serialize, Deserialize)]
pub struct Request {
    pub url: String,
    pub phone: String,
}

#[derive(Serialize, Deserialize)]
pub struct Answer {
    /// `ok`, or Telegram's error name (AUTH_TOKEN_EXPIRED, AUTH_TOKEN_INVALID, …).
    pub result: String,
    pub user_id: Option<i64>,
}

/// The token of a `tg://login?token=<base64url>` URL (core.telegram.org/api/qr-login).
pub(crate) fn token_of(url: &str) -> Option<Vec<u8>> {
    let b64 = url.trim().strip_prefix("tg://login?token=")?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('='))
        .ok()
}

/// Serves the drop-box until the sandbox stops: every 50 ms, each `*.req` is answered with
/// a `*.res` and removed.
pub(crate) async fn serve(dir: PathBuf, shared: Arc<Datacenter>) {
    let scan = dir.join(SCAN_DIR);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let Ok(entries) = std::fs::read_dir(&scan) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "req") {
                answer(&path, &shared);
            }
        }
    }
}

fn answer(path: &Path, shared: &Datacenter) {
    let Ok(text) = tgsess_shared::fs::read_regular_text(path, 64 * 1024) else {
        return;
    };
    let _ = std::fs::remove_file(path);
    let answer = match serde_json::from_str::<Request>(&text) {
        Ok(req) => accept(&req, shared),
        Err(_) => Answer {
            result: "MALFORMED_REQUEST".into(),
            user_id: None,
        },
    };
    let out = path.with_extension("res");
    let text = serde_json::to_string(&answer).expect("serializes");
    let _ = tgsess_shared::fs::write_private(&out, text.as_bytes());
}

fn accept(req: &Request, shared: &Datacenter) -> Answer {
    let fail = |r: &str| Answer {
        result: r.to_string(),
        user_id: None,
    };
    let Some(token) = token_of(&req.url) else {
        return fail("AUTH_TOKEN_INVALID");
    };
    let Ok(mut st) = shared.state.lock() else {
        return fail("INTERNAL");
    };
    let Some(user) = st.account_id_for_phone(&req.phone) else {
        return fail("PHONE_NUMBER_INVALID");
    };
    let result = st.accept_login_token(&token, user);
    let pushed = !st.pushes.is_empty();
    drop(st);
    if pushed {
        shared.pushed.notify_waiters();
    }
    shared.log(
        &super::server::Tags::default(),
        0,
        0,
        "auth.acceptLoginToken (scan)",
        result.err().unwrap_or(TOKEN_ACCEPTED),
    );
    match result {
        Ok(_) => Answer {
            result: TOKEN_ACCEPTED.into(),
            user_id: Some(user),
        },
        Err(e) => fail(e),
    }
}

/// The `--scan` side: drops the request, waits for the running sandbox's answer.
pub fn request(dir: &Path, url: &str, phone: &str) -> std::io::Result<Answer> {
    let scan = dir.join(SCAN_DIR);
    std::fs::create_dir_all(&scan)?;
    let mut rand = [0u8; 8];
    getrandom::fill(&mut rand).map_err(|e| std::io::Error::other(e.to_string()))?;
    let name: String = rand.iter().map(|b| format!("{b:02x}")).collect();
    let req = scan.join(format!("{name}.req"));
    let text = serde_json::to_string(&Request {
        url: url.trim().to_string(),
        phone: phone.to_string(),
    })
    .expect("serializes");
    tgsess_shared::fs::write_private(&req, text.as_bytes())?;
    let res = req.with_extension("res");
    for _ in 0..200 {
        if let Ok(t) = tgsess_shared::fs::read_regular_text(&res, 64 * 1024) {
            let _ = std::fs::remove_file(&res);
            return serde_json::from_str(&t).map_err(std::io::Error::other);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = std::fs::remove_file(&req);
    Err(std::io::Error::other(
        "no answer within 5 s: is a sandbox running in this directory?",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_base64url_tokens() {
        assert_eq!(token_of("tg://login?token=AQID").unwrap(), vec![1, 2, 3]);
        assert_eq!(
            token_of("tg://login?token=-_8\n").unwrap(),
            vec![0xfb, 0xff]
        );
        assert!(token_of("https://t.me/login?token=AQID").is_none());
        assert!(token_of("tg://login?token=***").is_none());
    }
}
