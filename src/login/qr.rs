//! Signing in without a code: a QR code scanned by Telegram on a phone (`login --qr`), or
//! approval by another signed-in session (`login --approve-with SOURCE`, `import --as-new`).
//!
//! grammers 0.11 has no QR login, so this is raw `auth.exportLoginToken`,
//! `auth.importLoginToken` and `auth.acceptLoginToken` through `Client::invoke`, following
//! core.telegram.org/api/qr-login and the way Telethon (telethon/tl/custom/qrlogin.py) and
//! mtcute (packages/core/src/highlevel/methods/auth/sign-in-qr.ts) do it:
//! - the token is shown as `tg://login?token=<base64url without padding>`;
//! - it expires (about 30 s): export a fresh one when it does;
//! - acceptance arrives as updateLoginToken, after which exportLoginToken is called again
//!   and answers auth.loginTokenSuccess, or auth.loginTokenMigrateTo when the account lives
//!   on another DC: then auth.importLoginToken there (qrlogin.py `wait`, sign-in-qr.ts);
//! - SESSION_PASSWORD_NEEDED leads to the usual 2FA step.

use std::time::{Duration, Instant};

use base64::Engine as _;
use grammers_session::Session;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;

use super::{Run, net_error, rpc, timed};
use crate::error::{Error, Exit, Result};
use crate::net::Connection;
use crate::output;
use crate::output::Shown;
use crate::state;

/// A signed-in session that approves this one (`--approve-with`): read from its file or
/// string into memory only; nothing is ever written to it or beside it.
pub(super) struct Approver {
    conn: Connection,
    name: String,
}

/// How many expired tokens an approval tries before it gives up.
const EXPIRED_TRIES: usize = 3;

enum Token {
    /// Signed in (or failed for good): the login's outcome.
    Done(Exit),
    /// A token to show or have accepted, and when it expires (unix seconds).
    Wait(Vec<u8>, i32),
}

pub(crate) fn url_of(token: &[u8]) -> String {
    format!(
        "tg://login?token={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    )
}

fn is_login_token(u: &UpdatesLike) -> bool {
    use tl::enums::{Update, Updates};
    let hit = |u: &Update| matches!(u, Update::LoginToken);
    match u {
        UpdatesLike::Updates(Updates::UpdateShort(s)) => hit(&s.update),
        UpdatesLike::Updates(Updates::Updates(s)) => s.updates.iter().any(hit),
        UpdatesLike::Updates(Updates::Combined(s)) => s.updates.iter().any(hit),
        _ => false,
    }
}

impl Run<'_> {
    pub(super) async fn codeless(&mut self) -> Result<Exit> {
        let approver = match self.opts.approve_with.clone() {
            Some(source) => Some(self.approver(&source).await?),
            None => None,
        };
        let result = self.token_loop(approver.as_ref()).await;
        if let Some(a) = approver {
            a.conn.close().await;
        }
        result
    }

    async fn token_loop(&mut self, approver: Option<&Approver>) -> Result<Exit> {
        let deadline = Instant::now() + self.opts.sign_in_timeout;
        let mut expired = 0;
        loop {
            if Instant::now() >= deadline {
                return Err(Error::NoVerdict(format!(
                    "no sign-in within {} s (--timeout); nothing was saved",
                    self.opts.sign_in_timeout.as_secs()
                )));
            }
            let reply = timed(
                self.opts.timeout,
                "Asking Telegram for a login token",
                self.client.invoke(&tl::functions::auth::ExportLoginToken {
                    api_id: self.api_id,
                    api_hash: self.api_hash.expose().to_string(),
                    except_ids: Vec::new(),
                }),
            )
            .await?;
            let (token, expires) = match self.token_answer(reply).await? {
                Token::Done(exit) => return Ok(exit),
                Token::Wait(t, e) => (t, e),
            };
            let Some(a) = approver else {
                self.show_token(&token, expires);
                self.wait_for_scan(expires, deadline).await?;
                continue;
            };
            match a.accept(&token, self.opts.timeout).await {
                Ok(()) => {}
                Err(e)
                    if e.to_string().contains("AUTH_TOKEN_EXPIRED")
                        && expired + 1 < EXPIRED_TRIES =>
                {
                    expired += 1;
                    output::warn(format!(
                        "the login token expired before {} could accept it; exporting a new one \
                         ({} of {EXPIRED_TRIES} tries left)",
                        a.name,
                        EXPIRED_TRIES - expired
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// What exportLoginToken (or importLoginToken after a migration) answered.
    async fn token_answer(
        &mut self,
        mut reply: std::result::Result<
            tl::enums::auth::LoginToken,
            grammers_mtsender::InvocationError,
        >,
    ) -> Result<Token> {
        use tl::enums::auth::LoginToken as L;
        for _ in 0..3 {
            match reply {
                Ok(L::Token(t)) => return Ok(Token::Wait(t.token, t.expires)),
                Ok(L::Success(s)) => {
                    return match s.authorization {
                        tl::enums::auth::Authorization::Authorization(a) => {
                            Ok(Token::Done(self.finish(a).await?))
                        }
                        tl::enums::auth::Authorization::SignUpRequired(_) => Err(Error::NotSignedIn(
                            "Telegram says this account must sign up first; use an official app"
                                .into(),
                        )),
                    };
                }
                Ok(L::MigrateTo(m)) => {
                    let dc = tgsess_store::dc_id(i64::from(m.dc_id)).map_err(|e| {
                        Error::NoVerdict(format!(
                            "Telegram answered auth.loginTokenMigrateTo with a DC tgsess cannot \
                             use ({e}); nothing more was sent"
                        ))
                    })?;
                    self.say(&format!(
                        "The account lives on DC {dc}; finishing the sign-in there."
                    ));
                    self.session
                        .set_home_dc_id(dc)
                        .await
                        .map_err(|e| Error::file(format!("in-memory session: {e}")))?;
                    reply = timed(
                        self.opts.timeout,
                        "Finishing the sign-in",
                        self.client
                            .invoke(&tl::functions::auth::ImportLoginToken { token: m.token }),
                    )
                    .await?;
                }
                Err(e) if rpc(&e).is_some_and(|r| r.name == "SESSION_PASSWORD_NEEDED") => {
                    self.save_draft(Some(true)).await;
                    return Ok(Token::Done(self.password().await?));
                }
                Err(e) => return Err(net_error("auth.exportLoginToken", &e)),
            }
        }
        Err(Error::NoVerdict(
            "Telegram kept redirecting the login token to other DCs".into(),
        ))
    }

    /// A line for people: stdout, or stderr when stdout carries JSON.
    pub(super) fn say(&self, line: &str) {
        if self.opts.json {
            eprintln!("{line}");
        } else {
            output::out(line);
        }
    }

    fn show_token(&self, token: &[u8], expires: i32) {
        let url = url_of(token);
        let left = (i64::from(expires) - state::now()).max(0);
        if self.opts.json {
            output::json(&serde_json::json!({
                "event": "token",
                "url": url,
                "expires_at": expires,
                "expires_in": left,
            }));
            return;
        }
        if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            // For a script: only the URL, one line per token, on stderr.
            eprintln!("{url}");
            return;
        }
        print_qr(&url);
        output::out(format!(
            "Scan it with Telegram on your phone: Settings > Devices > Link Desktop Device.\n\
             Or open: {url}\n\
             It expires in {left} s; a new one follows until you scan one or --timeout ends."
        ));
        if let Some(dir) = &self.settings.sandbox_dir {
            output::out(format!(
                "In the sandbox, scan it from another terminal:\n  echo '{url}' | tgsess \
                 sandbox --dir {} --scan",
                crate::output::shell_quote(dir)
            ));
        }
    }

    /// Waits for updateLoginToken, the token's expiry, or the deadline.
    async fn wait_for_scan(&mut self, expires: i32, deadline: Instant) -> Result<()> {
        let left = (i64::from(expires) - state::now()).max(1) as u64;
        let until = (Instant::now() + Duration::from_secs(left)).min(deadline);
        let mut updates = self.updates.take();
        let outcome = loop {
            let next = async {
                match updates.as_mut() {
                    Some(u) => u.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                u = next => match u {
                    Some(u) if is_login_token(&u) => break Ok(()),
                    Some(_) => {}
                    None => updates = None,
                },
                _ = tokio::time::sleep_until(until.into()) => {
                    // Expired (a fresh export also finds an acceptance whose update was
                    // missed), or the deadline.
                    break if until >= deadline {
                        Err(Error::NoVerdict(format!(
                            "no sign-in within {} s (--timeout); nothing was saved",
                            self.opts.sign_in_timeout.as_secs()
                        )))
                    } else {
                        Ok(())
                    };
                }
            }
        };
        self.updates = updates;
        outcome
    }

    /// Reads SOURCE into memory, refuses the session itself or its key, and checks with
    /// Telegram that SOURCE is signed in.
    async fn approver(&self, source: &str) -> Result<Approver> {
        let (format, record, path) = crate::sources::read(
            source,
            tgsess_store::source::SourceFormat::Auto,
            &Default::default(),
        )
        .await?;
        let name = match &path {
            Some(p) => format!("{} ({format})", p.shown()),
            None => format!("the {format} from stdin"),
        };
        if let Some(p) = &path
            && self.path.exists()
            && std::fs::canonicalize(p).ok() == std::fs::canonicalize(&self.path).ok()
        {
            return Err(Error::usage(format!(
                "{name} is the session being signed in; approve with another signed-in session"
            )));
        }
        if self
            .current()
            .await
            .is_some_and(|r| r.auth_key == record.auth_key)
        {
            return Err(Error::usage(format!(
                "{name} holds the same key as {}; an approval makes a new key, so use another \
                 session, or a fresh target (--session NEW.session)",
                self.path.shown()
            )));
        }
        let network = self.settings.network();
        let memory = network.memory_session(Some(&record), false).await?;
        let conn = network.connect(memory, self.api_id)?;
        let state = timed(
            self.opts.timeout,
            "Checking the approving session",
            conn.client.invoke(&tl::functions::updates::GetState {}),
        )
        .await;
        let refused = match state {
            Ok(Ok(_)) => None,
            Ok(Err(e)) if rpc(&e).is_some_and(|r| r.code == 401) => Some(Error::NotSignedIn(
                format!("{name} is not signed in ({e}), so it cannot approve a new session"),
            )),
            Ok(Err(e)) => Some(Error::NoVerdict(format!(
                "{name}: Telegram could not be asked: {}",
                crate::net::says(&e)
            ))),
            Err(e) => Some(Error::NoVerdict(format!("{name}: {e}"))),
        };
        if let Some(e) = refused {
            conn.close().await;
            return Err(e);
        }
        self.say(&format!(
            "{name} is signed in; it approves this new session (no code, and a key of its own)."
        ));
        Ok(Approver { conn, name })
    }
}

impl Approver {
    /// auth.acceptLoginToken from the approving session. Its errors keep Telegram's name.
    async fn accept(&self, token: &[u8], timeout: Duration) -> Result<()> {
        let reply = timed(
            timeout,
            "Approving",
            self.conn
                .client
                .invoke(&tl::functions::auth::AcceptLoginToken {
                    token: token.to_vec(),
                }),
        )
        .await
        .map_err(|e| Error::NoVerdict(format!("{}: {e}", self.name)))?;
        match reply {
            Ok(_) => Ok(()),
            Err(e) => Err(match rpc(&e).map(|r| r.name.as_str()) {
                Some("AUTH_TOKEN_EXPIRED") => Error::NoVerdict(format!(
                    "AUTH_TOKEN_EXPIRED: the login token expired before {} accepted it",
                    self.name
                )),
                Some("AUTH_TOKEN_ALREADY_ACCEPTED") => Error::NotSignedIn(
                    "AUTH_TOKEN_ALREADY_ACCEPTED: another session accepted this token first; \
                     nothing was saved"
                        .into(),
                ),
                Some("AUTH_TOKEN_INVALID") => Error::NotSignedIn(
                    "AUTH_TOKEN_INVALID: Telegram does not know this login token; nothing was saved"
                        .into(),
                ),
                Some(_) if rpc(&e).is_some_and(|r| r.code == 401) => Error::NotSignedIn(format!(
                    "{} is no longer signed in ({e}); nothing was saved",
                    self.name
                )),
                _ => net_error("auth.acceptLoginToken", &e),
            }),
        }
    }
}

/// The QR code in Unicode half blocks, dark modules black on white (explicit colours, so it
/// reads the same on a dark or a light terminal), with its quiet zone.
fn print_qr(url: &str) {
    use qrcode::render::unicode::Dense1x2;
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return;
    };
    let text = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Dark)
        .light_color(Dense1x2::Light)
        .quiet_zone(true)
        .build();
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for line in text.lines() {
        if colour {
            println!("\x1b[30;107m{line}\x1b[0m");
        } else {
            println!("{line}");
        }
    }
    if !colour {
        println!("(NO_COLOR is set: on a dark terminal the code shows inverted; use the URL)");
    }
}
