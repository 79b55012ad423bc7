//! Steps 3 and 4: the code request (at most one per login, with the in-flight mark written
//! before it is sent), its resend, and typing the code.

use grammers_session::Session;
use grammers_tl_types as tl;

use super::text::{human_duration, next_name, sent_via};
use super::{ATTEMPTS, Run, net_error, rpc, timed};
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::prompt;
use crate::state::{self, Pending};

/// How Telegram answered a code request.
pub(crate) enum Sent {
    Hash(String),
    Authorized(Box<tl::types::auth::Authorization>),
    PasswordNeeded,
}

/// How long tgsess refuses to request a code after SEND_CODE_UNAVAILABLE. Telegram gives
/// no period: the error means every way of sending a code to this number is used up
/// (core.telegram.org/method/auth.resendCode, "Possible errors"), and Telegram documents
/// about five logins per phone number per day (docs/login.md, "Code requests in loops"), so the options come back with the day: 24 hours. `--force` overrides.
pub(crate) const SEND_CODE_UNAVAILABLE_SECS: i64 = 24 * 3600;

impl Run<'_> {
    /// A pending code for this phone and key is used; otherwise one code is requested.
    pub(super) async fn pending_or_request(&mut self, phone: &str) -> Result<Sent> {
        let key_id = self.home_key_id();
        let pending = self
            .state
            .get(&self.phone_key)
            .pending
            .filter(|p| Some(&p.key_id) == key_id.as_ref())
            .filter(|p| state::now() - p.requested_at < state::PENDING_TTL_SECS);
        if self.opts.resend && pending.is_none() {
            return Err(Error::usage(format!(
                "--resend needs a pending code for this phone and session, and there is none; \
                 `{}` requests one",
                self.settings.command("login")
            )));
        }
        if !self.interactive && !self.opts.code_stdin {
            return Err(super::non_interactive_error());
        }
        match pending {
            Some(p) if self.opts.resend => Ok(Sent::Hash(self.resend(phone, &p).await?)),
            Some(p) => {
                let ago = (state::now() - p.requested_at).max(0);
                output::out(format!(
                    "A code was already requested {} ago and sent {}. Enter THAT code; tgsess \
                     does not request another while it may still be valid.",
                    human_duration(ago),
                    p.sent_via
                ));
                Ok(Sent::Hash(p.phone_code_hash))
            }
            None => self.send_code(phone).await,
        }
    }

    fn remember(&mut self, what: &str, f: impl FnOnce(&mut state::Data)) {
        if let Err(e) = self.state.update(f) {
            output::warn(format!(
                "could not remember {what} ({e}); a rerun may not know about it"
            ));
        }
    }

    /// The one code request: auth.sendCode, sent once more only to the DC a migration
    /// names (that is not a retry: the first DC did not handle it).
    async fn send_code(&mut self, phone: &str) -> Result<Sent> {
        let request = self.send_code_request(phone);
        let mut migrated = false;
        loop {
            self.mark_in_flight()?;
            let reply = timed(
                self.opts.timeout,
                "Requesting a login code",
                self.client.invoke(&request),
            )
            .await
            .map_err(|e| Error::NoVerdict(format!("{e}. {}", self.lost_answer_advice())))?;
            let e = match reply {
                Ok(sent) => return self.sent(sent).await,
                Err(e) => e,
            };
            let Some(r) = rpc(&e) else {
                return Err(Error::NoVerdict(format!(
                    "auth.sendCode failed: {}. {}",
                    crate::net::says(&e),
                    self.lost_answer_advice()
                )));
            };
            self.clear_in_flight();
            let migrate = matches!(
                r.name.as_str(),
                "PHONE_MIGRATE" | "NETWORK_MIGRATE" | "USER_MIGRATE"
            );
            if !migrate || migrated {
                return self.send_code_refused(phone, r).await;
            }
            self.migrate(r).await?;
            migrated = true;
        }
    }

    fn send_code_request(&self, phone: &str) -> tl::functions::auth::SendCode {
        let tokens: Vec<Vec<u8>> = self
            .state
            .get(&self.phone_key)
            .future_auth_tokens
            .iter()
            .filter_map(|t| state::decode_token(t))
            .collect();
        tl::functions::auth::SendCode {
            phone_number: phone.to_string(),
            api_id: self.api_id,
            api_hash: self.api_hash.expose().to_string(),
            settings: super::code_settings(tokens),
        }
    }

    /// The in-flight mark goes to disk before the request: a crash between the answer and
    /// its save is then recognised on the next run, which does not request again.
    fn mark_in_flight(&mut self) -> Result<()> {
        let mark = (self.home_key_id().unwrap_or_default(), state::now());
        let key = self.phone_key.clone();
        let session = super::draft_key(&self.path);
        self.state
            .update(|d| {
                let ps = d.phone(&key);
                ps.in_flight = Some(mark);
                ps.in_flight_session = Some(session);
            })
            .map_err(|e| {
                Error::usage(format!(
                    "{e}; nothing was requested, because tgsess could not first note that a \
                     request is under way"
                ))
            })
    }

    fn clear_in_flight(&mut self) {
        let key = self.phone_key.clone();
        self.remember("the answer", |d| d.phone(&key).in_flight = None);
    }

    /// The account lives on another DC: the session's home moves there.
    async fn migrate(&mut self, r: &grammers_mtsender::RpcError) -> Result<()> {
        let dc = super::migrate_dc(r)?;
        output::out(format!(
            "This number's account lives on DC {dc}; sending the same request there (this is \
             not a retry)."
        ));
        self.session
            .set_home_dc_id(dc)
            .await
            .map_err(|e| Error::file(format!("in-memory session: {e}")))
    }

    /// What auth.sendCode answered: a code on its way, a sign-in through a stored logout
    /// token, or a payment Telegram wants first.
    async fn sent(&mut self, sent: tl::enums::auth::SentCode) -> Result<Sent> {
        let key = self.phone_key.clone();
        match sent {
            tl::enums::auth::SentCode::Code(c) => Ok(self.code_sent(c).await),
            tl::enums::auth::SentCode::Success(s) => {
                output::out("Telegram accepted a stored logout token: signed in without a code.");
                self.remember("the used logout token", |d| {
                    let ps = d.phone(&key);
                    ps.future_auth_tokens.clear();
                    ps.in_flight = None;
                });
                match s.authorization {
                    tl::enums::auth::Authorization::Authorization(a) => {
                        Ok(Sent::Authorized(Box::new(a)))
                    }
                    _ => Err(Error::NotSignedIn(
                        "Telegram says this number has no account; sign up with an official app"
                            .into(),
                    )),
                }
            }
            tl::enums::auth::SentCode::PaymentRequired(_) => {
                self.clear_in_flight();
                Err(Error::NotSignedIn(
                    "Telegram requires a payment (Telegram Premium) before it sends a login \
                     code to this number; log in with an official app"
                        .into(),
                ))
            }
        }
    }

    fn lost_answer_advice(&self) -> String {
        format!(
            "The request may have reached Telegram and a code may be on its way; tgsess did \
             not retry, and will not request again by itself. If a code arrives it cannot be \
             used without the lost answer; to request another on purpose: `{}`",
            self.settings.command("login --new-code")
        )
    }

    /// auth.sentCode: say where the code went, remember the request with its key.
    async fn code_sent(&mut self, c: tl::types::auth::SentCode) -> Sent {
        let via = sent_via(&c.r#type);
        output::out(format!("A login code was sent {via}."));
        if let Some(n) = c
            .next_type
            .as_ref()
            .filter(|_| self.settings.advice.rehearsal)
        {
            output::out(format!(
                "(A real login would offer to resend the code by {} here; this rehearsal's \
                 sandbox ends with this command.)",
                next_name(n)
            ));
        } else if let Some(n) = &c.next_type {
            output::out(format!(
                "If it does not arrive{}, `{}` asks Telegram to send it by {} instead.",
                c.timeout
                    .map(|s| format!(" within {s} s"))
                    .unwrap_or_default(),
                self.settings.command("login --resend"),
                next_name(n)
            ));
        }
        let pending = Pending {
            phone_code_hash: c.phone_code_hash.clone(),
            key_id: self.home_key_id().unwrap_or_default(),
            dc: self.session.home_dc_id().unwrap_or(0),
            requested_at: state::now(),
            sent_via: via,
            next_type: c.next_type.as_ref().map(|n| next_name(n).to_string()),
            timeout: c.timeout,
            session: Some(super::draft_key(&self.path)),
            resume: Some(self.settings.command("login")),
        };
        // After a migration the key is new: the draft must hold it, with the pending code.
        self.save_draft(None).await;
        let key = self.phone_key.clone();
        self.remember("the pending code", |d| {
            let ps = d.phone(&key);
            ps.pending = Some(pending);
            ps.in_flight = None;
        });
        Sent::Hash(c.phone_code_hash)
    }

    /// An RPC error for auth.sendCode: each is final, none is retried.
    async fn send_code_refused(
        &mut self,
        phone: &str,
        r: &grammers_mtsender::RpcError,
    ) -> Result<Sent> {
        match r.name.as_str() {
            "FLOOD_WAIT" | "FLOOD_PREMIUM_WAIT" => Err(self.flood_wait(r)),
            "SEND_CODE_UNAVAILABLE" => Err(self.send_code_unavailable()),
            "SESSION_PASSWORD_NEEDED" => self.token_needs_password().await,
            _ => Err(refusal(phone, r)),
        }
    }

    /// FLOOD_WAIT: remembered for the phone, so a rerun refuses before asking.
    fn flood_wait(&mut self, r: &grammers_mtsender::RpcError) -> Error {
        let secs = i64::from(r.value.unwrap_or(0));
        self.cooldown(secs, "FLOOD_WAIT");
        Error::RateLimited(format!(
            "Telegram asked this number to wait {secs} s ({}) before the next code request. \
             tgsess remembers this and will refuse to ask earlier; every request during a wait \
             makes it longer",
            human_duration(secs)
        ))
    }

    /// SEND_CODE_UNAVAILABLE: every way of sending a code is used up; the ways in without
    /// one are named.
    fn send_code_unavailable(&mut self) -> Error {
        self.cooldown(SEND_CODE_UNAVAILABLE_SECS, "SEND_CODE_UNAVAILABLE");
        Error::RateLimited(format!(
            "Telegram says every way of sending a code to this number is used up for now \
             (SEND_CODE_UNAVAILABLE). tgsess will not ask again for 24 hours (the options come \
             back with the day). Sign in without a code meanwhile: `{}` shows a QR code to scan \
             with Telegram on a phone (Settings > Devices > Link Desktop Device); login \
             --approve-with has a signed-in session (any format) approve this one; or log in \
             with an official Telegram app",
            self.settings.command("login --qr")
        ))
    }

    fn cooldown(&mut self, secs: i64, reason: &str) {
        let key = self.phone_key.clone();
        self.remember("the wait", |d| {
            let ps = d.phone(&key);
            ps.cooldown_until = Some(state::now() + secs);
            ps.cooldown_reason = Some(reason.into());
        });
    }

    /// A logout token was accepted and the account has 2FA: only the password is missing.
    async fn token_needs_password(&mut self) -> Result<Sent> {
        output::out(
            "Telegram accepted a stored logout token: no code needed, only the two-step \
             verification password.",
        );
        let key = self.phone_key.clone();
        self.remember("the used logout token", |d| {
            d.phone(&key).future_auth_tokens.clear()
        });
        self.save_draft(Some(true)).await;
        Ok(Sent::PasswordNeeded)
    }

    async fn resend(&mut self, phone: &str, p: &Pending) -> Result<String> {
        let reply = timed(
            self.opts.timeout,
            "Asking Telegram to resend the code",
            self.client.invoke(&tl::functions::auth::ResendCode {
                phone_number: phone.to_string(),
                phone_code_hash: p.phone_code_hash.clone(),
                reason: None,
            }),
        )
        .await?;
        let key = self.phone_key.clone();
        match reply {
            Ok(tl::enums::auth::SentCode::Code(c)) => {
                let via = sent_via(&c.r#type);
                output::out(format!("The code was sent again, {via}."));
                let hash = c.phone_code_hash.clone();
                self.remember("the resent code", |d| {
                    if let Some(pending) = d.phone(&key).pending.as_mut() {
                        pending.phone_code_hash = c.phone_code_hash.clone();
                        pending.sent_via = via;
                        pending.next_type = c.next_type.as_ref().map(|n| next_name(n).to_string());
                        pending.timeout = c.timeout;
                    }
                });
                Ok(hash)
            }
            Ok(_) => Err(Error::NotSignedIn(format!(
                "auth.resendCode gave an unexpected answer; `{}` shows the session",
                self.settings.command("status")
            ))),
            Err(e) => match rpc(&e).map(|r| r.name.as_str()) {
                Some("SEND_CODE_UNAVAILABLE") => Err(Error::RateLimited(
                    "Telegram has no other way left to send this code (SEND_CODE_UNAVAILABLE); \
                     use the code already sent, or wait"
                        .into(),
                )),
                Some("PHONE_CODE_EXPIRED") => {
                    self.forget_pending();
                    Err(Error::NotSignedIn(format!(
                        "the pending code expired; `{}` requests a new one",
                        self.settings.command("login")
                    )))
                }
                _ => Err(net_error("auth.resendCode", &e)),
            },
        }
    }

    fn forget_pending(&mut self) {
        let key = self.phone_key.clone();
        self.remember("that the code is used up", |d| d.phone(&key).pending = None);
    }

    async fn read_code(&self) -> Result<Option<String>> {
        let question = if self.opts.code_stdin || !self.interactive {
            "Code: "
        } else {
            "Enter the login code: "
        };
        let answer = prompt::line(question).await?;
        if self.opts.code_stdin || answer.is_none() {
            // The typed line did not end the prompt's line (stdin is not echoed, or Ctrl-D).
            println!();
        }
        Ok(answer)
    }

    pub(super) async fn enter_code(&mut self, phone: &str, hash: &str) -> Result<Exit> {
        let again = self.settings.command("login");
        for attempt in 1..=ATTEMPTS {
            let Some(code) = self.read_code().await? else {
                return Err(Error::NotSignedIn(format!(
                    "no code entered; the request is remembered: `{again}` asks for it again \
                     (no new code is requested)"
                )));
            };
            let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            if code.is_empty() {
                output::warn("empty code; type the digits you received");
                continue;
            }
            let reply = timed(
                self.opts.timeout,
                "Signing in",
                self.client.invoke(&tl::functions::auth::SignIn {
                    phone_number: phone.to_string(),
                    phone_code_hash: hash.to_string(),
                    phone_code: Some(code),
                    email_verification: None,
                }),
            )
            .await
            .map_err(|e| {
                Error::NoVerdict(format!(
                    "{e}. The pending code is remembered: `{again}` asks for it again"
                ))
            })?;
            match reply {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                    self.forget_pending();
                    return Err(Error::NotSignedIn(
                        "this number has no Telegram account; sign up with an official app first"
                            .into(),
                    ));
                }
                Err(e) => {
                    if let Some(done) = self.code_refused(&e, attempt).await {
                        return done;
                    }
                }
            }
        }
        Err(Error::NotSignedIn(format!(
            "{ATTEMPTS} wrong codes; the request is still pending: `{again}` asks for the \
             right code (no new code is requested)"
        )))
    }

    /// An error for auth.signIn: `None` to let the person try again.
    async fn code_refused(
        &mut self,
        e: &grammers_mtsender::InvocationError,
        attempt: usize,
    ) -> Option<Result<Exit>> {
        let again = self.settings.command("login");
        match rpc(e).map(|r| r.name.as_str()) {
            Some("PHONE_CODE_INVALID") | Some("PHONE_CODE_EMPTY") => {
                if attempt < ATTEMPTS {
                    output::warn(format!(
                        "that code is not right; try again ({} of {ATTEMPTS} tries left). No \
                         new code was requested",
                        ATTEMPTS - attempt
                    ));
                }
                None
            }
            Some("PHONE_CODE_EXPIRED") => {
                self.forget_pending();
                Some(Err(Error::NotSignedIn(format!(
                    "Telegram says this code has expired. Codes expire after a few minutes, \
                     and Telegram kills a code at once when it is sent or forwarded inside any \
                     Telegram chat. `{again}` requests a new one"
                ))))
            }
            Some("SESSION_PASSWORD_NEEDED") => {
                // The key now waits only for the password: remember that, bound to the key,
                // so a rerun goes straight to the password (docs/login.md, "A key waiting for its
                // password").
                self.forget_pending();
                self.save_draft(Some(true)).await;
                Some(self.password().await)
            }
            Some(_) => Some(Err(net_error("auth.signIn", e))),
            None => Some(Err(Error::NoVerdict(format!(
                "auth.signIn failed: {}. The pending code is remembered: `{again}` asks for \
                 it again (no new code is requested)",
                crate::net::says(e)
            )))),
        }
    }
}

/// The other refusals of auth.sendCode: each is final, none is retried.
fn refusal(phone: &str, r: &grammers_mtsender::RpcError) -> Error {
    let phone = output::escape(phone);
    match r.name.as_str() {
        "PHONE_NUMBER_INVALID" => Error::usage(format!(
            "Telegram says the phone number {phone} is invalid; set phone in international \
             format, country code first"
        )),
        "PHONE_NUMBER_BANNED" => Error::NotSignedIn(format!(
            "Telegram says the phone number {phone} is banned; contact Telegram support \
             (recover@telegram.org)"
        )),
        "PHONE_NUMBER_FLOOD" => Error::RateLimited(
            "Telegram says this number asked for too many codes (PHONE_NUMBER_FLOOD); wait \
             before trying again"
                .into(),
        ),
        "API_ID_INVALID" | "API_ID_PUBLISHED_FLOOD" => Error::usage(format!(
            "Telegram rejected api_id/api_hash ({}); check them at https://my.telegram.org/apps",
            r.name
        )),
        _ => Error::NoVerdict(format!(
            "auth.sendCode failed: {} {}; tgsess did not retry",
            r.code, r.name
        )),
    }
}
