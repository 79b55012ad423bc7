//! `tgsess login`: grammers' sign-in as ONE careful attempt.
//!
//! It requests at most one code, never repeats a code request by itself, remembers
//! Telegram's cooldowns and the pending code, and saves the session the way grammers'
//! private `complete_login` does. Every Telegram call goes through `Client::invoke` with
//! grammers' `NoRetries` policy (see [`crate::net::connection_params`]): grammers'
//! `request_login_code` would panic on `auth.sentCodeSuccess`, hit `unimplemented!` on
//! `auth.sentCodePaymentRequired`, send no `logout_tokens` and drop the code type
//! (grammers-client 0.11 src/client/auth.rs).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::InvocationError;
use grammers_session::Session;
use grammers_session::storages::SqliteSession;
use grammers_session::types::{PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState};
use grammers_tl_types as tl;

use crate::error::{Error, Exit, Result};
use crate::formats::{AuthKey, Format};
use crate::net::Connection;
use crate::output;
use crate::prompt;
use crate::secret::Secret;
use crate::session_file::{self, Presence, SessionLock, shell_quote};
use crate::settings::{Env, Settings};
use crate::state::{self, Pending, Store};

/// Codes and passwords may be typed this many times.
pub const ATTEMPTS: usize = 3;

#[derive(Clone, Debug)]
pub struct Options {
    pub force: bool,
    pub fresh: bool,
    pub resend: bool,
    pub bot: bool,
    pub code_stdin: bool,
    pub timeout: Duration,
    /// $TGSESS_PASSWORD, for 2FA without a terminal.
    pub password: Option<Secret>,
    /// $TGSESS_BOT_TOKEN.
    pub bot_token: Option<Secret>,
}

/// Who signed in, for the final message.
struct Who {
    id: i64,
    name: String,
    username: Option<String>,
    bot: bool,
}

impl Who {
    fn from_user(u: &tl::enums::User) -> Option<(Who, Option<i64>)> {
        match u {
            tl::enums::User::User(u) => Some((
                Who {
                    id: u.id,
                    name: [u.first_name.as_deref(), u.last_name.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                    username: u.username.clone(),
                    bot: u.bot,
                },
                u.access_hash,
            )),
            tl::enums::User::Empty(_) => None,
        }
    }

    fn describe(&self) -> String {
        let name = if self.name.is_empty() {
            "(no name)"
        } else {
            &self.name
        };
        match &self.username {
            Some(u) => format!("{name} (@{u}, id {})", self.id),
            None => format!("{name} (id {})", self.id),
        }
    }
}

fn rpc(e: &InvocationError) -> Option<&grammers_mtsender::RpcError> {
    match e {
        InvocationError::Rpc(r) => Some(r),
        _ => None,
    }
}

/// A network failure: no verdict, and never an automatic retry.
fn net_error(what: &str, e: &InvocationError) -> Error {
    Error::NoVerdict(format!("{what} failed: {e}"))
}

async fn timed<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = std::result::Result<T, InvocationError>>,
) -> Result<std::result::Result<T, InvocationError>> {
    match tokio::time::timeout(limit, prompt::busy(what, fut)).await {
        Ok(r) => Ok(r),
        Err(_) => Err(Error::NoVerdict(format!(
            "{what}: no answer within {} s (--timeout)",
            limit.as_secs()
        ))),
    }
}

/// Where the code went, in words a person acts on (auth.SentCodeType, core.telegram.org/
/// api/auth): most codes go to the Telegram app on the account's other devices, not SMS.
fn sent_via(t: &tl::enums::auth::SentCodeType) -> String {
    use tl::enums::auth::SentCodeType as T;
    match t {
        T::App(_) => "to the Telegram app on your other devices (a message from \"Telegram\"), \
                      not by SMS"
            .into(),
        T::Sms(_) => "by SMS".into(),
        T::Call(_) => "by a phone call that reads it out".into(),
        T::FlashCall(_) => "by a flash call: the code is the calling number".into(),
        T::MissedCall(m) => format!(
            "by a missed call: the code is the last {} digits of the calling number",
            m.length
        ),
        T::EmailCode(e) => format!("by email to {}", e.email_pattern),
        T::SetUpEmailRequired(_) => "nowhere yet: Telegram wants a login email set up first \
                                     (use an official app)"
            .into(),
        T::FragmentSms(f) => format!("by SMS through Fragment ({})", f.url),
        T::FirebaseSms(_) => "by SMS (Firebase)".into(),
        T::SmsWord(_) => "by SMS, as a word".into(),
        T::SmsPhrase(_) => "by SMS, as a phrase".into(),
    }
}

fn next_name(t: &tl::enums::auth::CodeType) -> &'static str {
    use tl::enums::auth::CodeType as C;
    match t {
        C::Sms => "SMS",
        C::Call => "a phone call",
        C::FlashCall => "a flash call",
        C::MissedCall => "a missed call",
        C::FragmentSms => "SMS through Fragment",
    }
}

/// What tgsess asks auth.sendCode for: no flash or missed calls, no Firebase; stored
/// future auth tokens as `logout_tokens`.
pub fn code_settings(logout_tokens: Vec<Vec<u8>>) -> tl::enums::CodeSettings {
    tl::enums::CodeSettings::Settings(tl::types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        unknown_number: false,
        logout_tokens: (!logout_tokens.is_empty()).then_some(logout_tokens),
        token: None,
        app_sandbox: None,
    })
}

/// Everything one login run works with.
struct Run<'a> {
    settings: &'a Settings,
    opts: &'a Options,
    path: PathBuf,
    session: Arc<SqliteSession>,
    client: Client,
    store: Store,
    phone_key: String,
    api_id: i32,
    api_hash: Secret,
}

pub async fn run(settings: &Settings, env: &dyn Env, opts: &Options) -> Result<Exit> {
    let path = settings.session.path.clone();
    let (api_id, api_hash) = settings.api_credentials()?;
    let api_hash = api_hash.clone();
    let (file_signed_in, file_has_key) = match session_file::examine(&path).await? {
        Presence::Missing => (false, false),
        Presence::File(i, _) if i.format != Format::Tgsess => {
            return Err(session_file::wrong_format_error(&path, &i));
        }
        Presence::File(i, _) => (i.signed_in == Some(true), i.has_auth_key()),
    };
    let interactive = output::interactive();
    // Without a key nothing can be signed in already: a login without a way to read the
    // code fails here, before any file or connection is made.
    let can_answer = interactive || opts.code_stdin || (opts.bot && opts.bot_token.is_some());
    if !file_has_key && !can_answer {
        return Err(non_interactive_error());
    }
    output::out(format!(
        "Session: {} ({})",
        path.display(),
        settings.session.reason
    ));

    let phone = if opts.bot {
        None
    } else {
        match &settings.phone {
            Some(p) => Some(p.value.clone()),
            None if file_signed_in => None,
            None if interactive => {
                match prompt::line("Phone number (international format): ").await? {
                    Some(p) if !p.is_empty() => Some(p),
                    _ => return Err(Error::usage("no phone number given")),
                }
            }
            None => {
                return Err(Error::usage(
                    "phone is not set; set it in the config, with TGSESS_PHONE or --phone",
                ));
            }
        }
    };
    let phone_key = phone
        .as_deref()
        .map(|p| state::phone_key(p, settings.sandbox_dir.as_deref()))
        .unwrap_or_default();
    let store = Store::load(state::dir(env))?;

    // A remembered cooldown is honoured before any contact with Telegram.
    if !file_signed_in && phone.is_some() {
        check_cooldown(&store, &phone_key, opts.force)?;
    }

    if let Some(dir) = path.parent() {
        session_file::ensure_dir(dir)?;
    }
    let _lock = SessionLock::acquire(&path)?;
    let session = crate::net::open_writable(&path, settings.sandbox_dir.as_deref()).await?;
    let conn = Connection::new(Arc::clone(&session), api_id);
    let mut run = Run {
        settings,
        opts,
        path,
        session,
        client: conn.client.clone(),
        store,
        phone_key,
        api_id,
        api_hash,
    };
    let result = run.login(phone, interactive).await;
    conn.close().await;
    result
}

fn non_interactive_error() -> Error {
    Error::usage(
        "login needs a terminal to ask for the code (stdin and stdout are not both \
         terminals); nothing was requested. Non-interactive ways: --code-stdin reads the code \
         from stdin after the request, $TGSESS_PASSWORD supplies a 2FA password, --bot with \
         $TGSESS_BOT_TOKEN signs in a bot",
    )
}

fn check_cooldown(store: &Store, key: &str, force: bool) -> Result<()> {
    if let Some(until) = store.get(key).cooldown_until {
        let left = until - state::now();
        if left > 0 && !force {
            let when = jiff::Timestamp::from_second(until)
                .map(|t| t.to_string())
                .unwrap_or_default();
            return Err(Error::RateLimited(format!(
                "Telegram asked this phone number to wait until {when} ({left} s from now); \
                 tgsess will not request a code before then, because every request made \
                 during a wait makes it longer. `tgsess login --force` overrides this"
            )));
        }
    }
    Ok(())
}

impl Run<'_> {
    fn home_key_id(&self) -> Option<String> {
        let dc = self.session.home_dc_id().ok()?;
        let key = self.session.dc_option(dc).ok()??.auth_key?;
        Some(format!("{:016x}", AuthKey(key).id()))
    }

    async fn login(&mut self, phone: Option<String>, interactive: bool) -> Result<Exit> {
        let t = self.opts.timeout;
        match timed(
            t,
            "Checking the session",
            self.client.invoke(&tl::functions::updates::GetState {}),
        )
        .await?
        {
            Ok(_) => return self.already_signed_in().await,
            Err(e) if rpc(&e).is_some_and(|r| r.code == 401) => {}
            Err(e) => return Err(net_error("updates.getState", &e)),
        }
        if self.opts.bot {
            return self.bot(interactive).await;
        }
        let phone = phone.ok_or_else(|| {
            Error::usage("phone is not set; set it in the config, with TGSESS_PHONE or --phone")
        })?;
        check_cooldown(&self.store, &self.phone_key, self.opts.force)?;

        let key_id = self.home_key_id();
        let pending = self
            .store
            .get(&self.phone_key)
            .pending
            .filter(|p| Some(&p.key_id) == key_id.as_ref())
            .filter(|p| state::now() - p.requested_at < state::PENDING_TTL_SECS);
        if self.opts.resend && pending.is_none() {
            return Err(Error::usage(
                "--resend needs a pending code for this phone and session, and there is none; \
                 run `tgsess login` to request one",
            ));
        }
        if pending.is_none() && !self.opts.fresh {
            self.near_miss_guard().await?;
        }
        if !interactive && !self.opts.code_stdin {
            return Err(non_interactive_error());
        }

        let hash = match pending {
            Some(p) if self.opts.resend => self.resend(&phone, &p).await?,
            Some(p) => {
                let ago = (state::now() - p.requested_at).max(0);
                output::out(format!(
                    "A code was already requested {} min {} s ago and sent {}. Enter THAT \
                     code; tgsess does not request another while it may still be valid.",
                    ago / 60,
                    ago % 60,
                    p.sent_via
                ));
                p.phone_code_hash
            }
            None => match self.send_code(&phone).await? {
                Sent::Hash(h) => h,
                Sent::Authorized(auth) => return self.finish(*auth).await,
                Sent::PasswordNeeded => return self.password(interactive).await,
            },
        };
        self.enter_code(&phone, &hash, interactive).await
    }

    async fn already_signed_in(&mut self) -> Result<Exit> {
        let who = match self.session.peer(PeerId::self_user()).await {
            Ok(Some(p)) => format!("user id {}", p.id().bare_id_unchecked()),
            _ => {
                // Not recorded in this file (e.g. an imported key): ask who it is.
                match timed(
                    self.opts.timeout,
                    "Asking who is signed in",
                    self.client.invoke(&tl::functions::users::GetUsers {
                        id: vec![tl::enums::InputUser::UserSelf],
                    }),
                )
                .await?
                {
                    Ok(users) => match users.first().and_then(Who::from_user) {
                        Some((w, hash)) => {
                            self.cache_self(&w, hash).await?;
                            w.describe()
                        }
                        None => "an unknown user".into(),
                    },
                    Err(e) => return Err(net_error("users.getUsers", &e)),
                }
            }
        };
        output::out(format!(
            "Already signed in as {who}; session {}. Nothing was requested.",
            self.path.display()
        ));
        Ok(Exit::Ok)
    }

    async fn near_miss_guard(&self) -> Result<()> {
        let dirs = [
            self.settings.session_dir.as_path(),
            self.settings.base_dir.as_path(),
        ];
        let found: Vec<_> = session_file::near_misses(&self.path, &dirs)
            .await
            .into_iter()
            .filter(|f| f.inspection.signed_in != Some(false))
            .collect();
        if found.is_empty() {
            return Ok(());
        }
        let mut msg = format!(
            "{} is not signed in, but other session files nearby hold a login key that is (or \
             may be) signed in, so no code was requested:",
            self.path.display()
        );
        for f in &found {
            let i = &f.inspection;
            let state = match (i.signed_in, i.user_id) {
                (Some(true), Some(id)) => format!("signed in as user {id}"),
                (Some(true), None) => "signed in".into(),
                _ => "sign-in not recorded".into(),
            };
            msg.push_str(&format!(
                "\n  {}: {}, {state}",
                f.path.display(),
                i.format.describe()
            ));
            match i.format.import_name() {
                Some(fmt) => msg.push_str(&format!(
                    "\n    reuse it: tgsess import --format {fmt} {}",
                    shell_quote(&f.path)
                )),
                None => msg.push_str(&format!(
                    "\n    use it: tgsess --session {} login   (or set username/session_file in the config)",
                    shell_quote(&f.path)
                )),
            }
        }
        msg.push_str("\nTo log in with a new code anyway: tgsess login --fresh");
        Err(Error::NotSignedIn(msg))
    }

    async fn send_code(&mut self, phone: &str) -> Result<Sent> {
        let tokens: Vec<Vec<u8>> = self
            .store
            .get(&self.phone_key)
            .future_auth_tokens
            .iter()
            .filter_map(|t| state::decode_token(t))
            .collect();
        let request = tl::functions::auth::SendCode {
            phone_number: phone.to_string(),
            api_id: self.api_id,
            api_hash: self.api_hash.expose().to_string(),
            settings: code_settings(tokens),
        };
        let mut migrated = false;
        loop {
            let reply = timed(
                self.opts.timeout,
                "Requesting a login code",
                self.client.invoke(&request),
            )
            .await
            .map_err(|e| {
                Error::NoVerdict(format!(
                    "{e}. The request may have reached Telegram: wait for a code before \
                     running login again"
                ))
            })?;
            match reply {
                Ok(tl::enums::auth::SentCode::Code(c)) => {
                    let via = sent_via(&c.r#type);
                    output::out(format!("A login code was sent {via}."));
                    if let Some(n) = &c.next_type {
                        output::out(format!(
                            "If it does not arrive{}, `tgsess login --resend` asks Telegram \
                             to send it by {} instead.",
                            c.timeout
                                .map(|s| format!(" within {s} s"))
                                .unwrap_or_default(),
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
                    };
                    self.store.phone(&self.phone_key).pending = Some(pending);
                    self.store.save()?;
                    return Ok(Sent::Hash(c.phone_code_hash));
                }
                Ok(tl::enums::auth::SentCode::Success(s)) => {
                    output::out(
                        "Telegram accepted a stored logout token: signed in without a code.",
                    );
                    self.store.phone(&self.phone_key).future_auth_tokens.clear();
                    self.store.save()?;
                    let tl::enums::auth::Authorization::Authorization(a) = s.authorization else {
                        return Err(Error::NotSignedIn(
                            "Telegram says this number has no account; sign up with an official app"
                                .into(),
                        ));
                    };
                    return Ok(Sent::Authorized(Box::new(a)));
                }
                Ok(tl::enums::auth::SentCode::PaymentRequired(_)) => {
                    return Err(Error::NotSignedIn(
                        "Telegram requires a payment (Telegram Premium) before it sends a login \
                         code to this number; log in with an official app"
                            .into(),
                    ));
                }
                Err(e) => {
                    let Some(r) = rpc(&e) else {
                        return Err(Error::NoVerdict(format!(
                            "auth.sendCode failed: {e}. The request may have reached Telegram; \
                             tgsess did not retry. Wait for a code, then run login again (a \
                             code that arrives can still be used only with the same request, \
                             so if none arrives within a few minutes, running login again \
                             requests one)"
                        )));
                    };
                    match r.name.as_str() {
                        "PHONE_MIGRATE" | "NETWORK_MIGRATE" | "USER_MIGRATE" if !migrated => {
                            let dc = r.value.unwrap_or(0) as i32;
                            output::out(format!(
                                "This number's account lives on DC {dc}; sending the same \
                                 request there (this is not a retry)."
                            ));
                            self.session.set_home_dc_id(dc).await.map_err(|e| {
                                Error::file(format!("cannot update {}: {e}", self.path.display()))
                            })?;
                            migrated = true;
                            continue;
                        }
                        "FLOOD_WAIT" | "FLOOD_PREMIUM_WAIT" => {
                            let secs = i64::from(r.value.unwrap_or(0));
                            self.store.phone(&self.phone_key).cooldown_until =
                                Some(state::now() + secs);
                            self.store.save()?;
                            return Err(Error::RateLimited(format!(
                                "Telegram asked this number to wait {secs} s ({}) before the \
                                 next code request. tgsess remembers this and will refuse to \
                                 ask earlier; every request during a wait makes it longer",
                                human_duration(secs)
                            )));
                        }
                        "SEND_CODE_UNAVAILABLE" => {
                            return Err(Error::RateLimited(
                                "Telegram says every way of sending a code to this number is \
                                 used up for now (SEND_CODE_UNAVAILABLE). Do not retry: wait \
                                 (often a day), or log in with an official Telegram app, which \
                                 can receive codes another way"
                                    .into(),
                            ));
                        }
                        "PHONE_NUMBER_INVALID" => {
                            return Err(Error::usage(format!(
                                "Telegram says the phone number {phone:?} is invalid; set phone \
                                 in international format (e.g. +15551234567)"
                            )));
                        }
                        "PHONE_NUMBER_BANNED" => {
                            return Err(Error::NotSignedIn(format!(
                                "Telegram says the phone number {phone:?} is banned; contact \
                                 Telegram support (recover@telegram.org)"
                            )));
                        }
                        "PHONE_NUMBER_FLOOD" => {
                            return Err(Error::RateLimited(
                                "Telegram says this number asked for too many codes \
                                 (PHONE_NUMBER_FLOOD); wait before trying again"
                                    .into(),
                            ));
                        }
                        "API_ID_INVALID" | "API_ID_PUBLISHED_FLOOD" => {
                            return Err(Error::usage(format!(
                                "Telegram rejected api_id/api_hash ({}); check them at \
                                 https://my.telegram.org/apps",
                                r.name
                            )));
                        }
                        "SESSION_PASSWORD_NEEDED" => {
                            // A logout token was accepted; the account has 2FA.
                            output::out(
                                "Telegram accepted a stored logout token: no code needed, \
                                 only the two-step verification password.",
                            );
                            self.store.phone(&self.phone_key).future_auth_tokens.clear();
                            self.store.save()?;
                            return Ok(Sent::PasswordNeeded);
                        }
                        _ => {
                            return Err(Error::NoVerdict(format!(
                                "auth.sendCode failed: {e}; tgsess did not retry"
                            )));
                        }
                    }
                }
            }
        }
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
        match reply {
            Ok(tl::enums::auth::SentCode::Code(c)) => {
                let via = sent_via(&c.r#type);
                output::out(format!("The code was sent again, {via}."));
                let ps = self.store.phone(&self.phone_key);
                if let Some(pending) = ps.pending.as_mut() {
                    pending.phone_code_hash = c.phone_code_hash.clone();
                    pending.sent_via = via;
                    pending.next_type = c.next_type.as_ref().map(|n| next_name(n).to_string());
                    pending.timeout = c.timeout;
                }
                self.store.save()?;
                Ok(c.phone_code_hash)
            }
            Ok(_) => Err(Error::NotSignedIn(
                "auth.resendCode gave an unexpected answer; run `tgsess status`".into(),
            )),
            Err(e) => match rpc(&e).map(|r| r.name.as_str()) {
                Some("SEND_CODE_UNAVAILABLE") => Err(Error::RateLimited(
                    "Telegram has no other way left to send this code \
                     (SEND_CODE_UNAVAILABLE); use the code already sent, or wait"
                        .into(),
                )),
                Some("PHONE_CODE_EXPIRED") => {
                    self.forget_pending()?;
                    Err(Error::NotSignedIn(
                        "the pending code expired; run `tgsess login` to request a new one".into(),
                    ))
                }
                _ => Err(net_error("auth.resendCode", &e)),
            },
        }
    }

    fn forget_pending(&mut self) -> Result<()> {
        self.store.phone(&self.phone_key).pending = None;
        self.store.save()
    }

    async fn read_code(&self, interactive: bool) -> Result<Option<String>> {
        if self.opts.code_stdin || !interactive {
            prompt::line("Code: ").await
        } else {
            prompt::line("Enter the login code: ").await
        }
    }

    async fn enter_code(&mut self, phone: &str, hash: &str, interactive: bool) -> Result<Exit> {
        for attempt in 1..=ATTEMPTS {
            let Some(code) = self.read_code(interactive).await? else {
                return Err(Error::NotSignedIn(
                    "no code entered; the request is remembered: run `tgsess login` again to \
                     enter it (no new code is requested)"
                        .into(),
                ));
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
                    "{e}. The pending code is remembered: run `tgsess login` again to enter it"
                ))
            })?;
            match reply {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                    self.forget_pending()?;
                    return Err(Error::NotSignedIn(
                        "this number has no Telegram account; sign up with an official app first"
                            .into(),
                    ));
                }
                Err(e) => match rpc(&e).map(|r| r.name.as_str()) {
                    Some("PHONE_CODE_INVALID") | Some("PHONE_CODE_EMPTY") => {
                        if attempt < ATTEMPTS {
                            output::warn(format!(
                                "that code is not right; try again ({} of {ATTEMPTS} tries left). \
                                 No new code was requested",
                                ATTEMPTS - attempt
                            ));
                        }
                    }
                    Some("PHONE_CODE_EXPIRED") => {
                        self.forget_pending()?;
                        return Err(Error::NotSignedIn(
                            "Telegram says this code has expired. Codes expire after a few \
                             minutes, and Telegram kills a code at once when it is sent or \
                             forwarded inside any Telegram chat. Running `tgsess login` again \
                             requests a new one"
                                .into(),
                        ));
                    }
                    Some("SESSION_PASSWORD_NEEDED") => {
                        self.forget_pending()?;
                        return self.password(interactive).await;
                    }
                    Some(_) => return Err(net_error("auth.signIn", &e)),
                    None => {
                        return Err(Error::NoVerdict(format!(
                            "auth.signIn failed: {e}. The pending code is remembered: run \
                             `tgsess login` again to enter it (no new code is requested)"
                        )));
                    }
                },
            }
        }
        Err(Error::NotSignedIn(format!(
            "{ATTEMPTS} wrong codes; the request is still pending: run `tgsess login` again to \
             enter the right code (no new code is requested)"
        )))
    }

    async fn password(&mut self, interactive: bool) -> Result<Exit> {
        let env_password = self.opts.password.clone();
        if env_password.is_none() && !interactive {
            return Err(Error::usage(
                "the account has two-step verification and there is no terminal to ask for the \
                 password; set $TGSESS_PASSWORD",
            ));
        }
        let tries = if env_password.is_some() { 1 } else { ATTEMPTS };
        for attempt in 1..=tries {
            let pw = match timed(
                self.opts.timeout,
                "Fetching 2FA parameters",
                self.client.invoke(&tl::functions::account::GetPassword {}),
            )
            .await?
            {
                Ok(tl::enums::account::Password::Password(p)) => p,
                Err(e) => return Err(net_error("account.getPassword", &e)),
            };
            let password = match &env_password {
                Some(p) => p.clone(),
                None => {
                    let hint = pw
                        .hint
                        .as_deref()
                        .map(|h| format!(" (hint: {h})"))
                        .unwrap_or_default();
                    match prompt::hidden(&format!("Two-step verification password{hint}: ")).await?
                    {
                        Some(p) => p,
                        None => {
                            return Err(Error::NotSignedIn("no password entered".into()));
                        }
                    }
                }
            };
            let Some(check) = srp_answer(pw, password).await? else {
                return Err(Error::NoVerdict(
                    "Telegram's 2FA parameters failed the safety check; not sending the password"
                        .into(),
                ));
            };
            match timed(
                self.opts.timeout,
                "Checking the password",
                self.client.invoke(&check),
            )
            .await?
            {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                    return Err(Error::NotSignedIn("Telegram asks to sign up".into()));
                }
                Err(e) if rpc(&e).is_some_and(|r| r.name == "PASSWORD_HASH_INVALID") => {
                    if attempt < tries {
                        output::warn(format!(
                            "wrong password; {} of {tries} tries left",
                            tries - attempt
                        ));
                    }
                }
                Err(e) => return Err(net_error("auth.checkPassword", &e)),
            }
        }
        Err(Error::NotSignedIn(
            "wrong two-step verification password".into(),
        ))
    }

    async fn bot(&mut self, interactive: bool) -> Result<Exit> {
        let token = match self.opts.bot_token.clone() {
            Some(t) => t,
            None if interactive => match prompt::hidden("Bot token (from @BotFather): ").await? {
                Some(t) => t,
                None => return Err(Error::NotSignedIn("no bot token entered".into())),
            },
            None => {
                return Err(Error::usage(
                    "--bot needs the token in $TGSESS_BOT_TOKEN (or a terminal to ask for it); \
                     it is never taken as an argument",
                ));
            }
        };
        let request = tl::functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: self.api_id,
            api_hash: self.api_hash.expose().to_string(),
            bot_auth_token: token.expose().to_string(),
        };
        let mut migrated = false;
        loop {
            match timed(
                self.opts.timeout,
                "Signing in the bot",
                self.client.invoke(&request),
            )
            .await?
            {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(_) => return Err(Error::NotSignedIn("unexpected answer".into())),
                Err(e) => match rpc(&e) {
                    Some(r) if r.name.ends_with("_MIGRATE") && !migrated => {
                        let dc = r.value.unwrap_or(0) as i32;
                        self.session.set_home_dc_id(dc).await.map_err(|e| {
                            Error::file(format!("cannot update {}: {e}", self.path.display()))
                        })?;
                        migrated = true;
                    }
                    Some(r)
                        if r.name == "ACCESS_TOKEN_INVALID" || r.name == "ACCESS_TOKEN_EXPIRED" =>
                    {
                        return Err(Error::NotSignedIn(
                            "Telegram rejected the bot token (ACCESS_TOKEN_INVALID); copy it \
                             again from @BotFather"
                                .into(),
                        ));
                    }
                    _ => return Err(net_error("auth.importBotAuthorization", &e)),
                },
            }
        }
    }

    async fn cache_self(&self, who: &Who, access_hash: Option<i64>) -> Result<()> {
        self.session
            .cache_peer(PeerInfo::User {
                id: who.id,
                auth: access_hash.map(PeerAuth::from_hash),
                bot: Some(who.bot),
                is_self: Some(true),
            })
            .await
            .map_err(|e| Error::file(format!("cannot save {}: {e}", self.path.display())))
    }

    /// What grammers' private `complete_login` does (grammers-client 0.11
    /// src/client/auth.rs): cache the self user with `is_self`, store the update state.
    /// Then the same updates.getState verifies the sign-in.
    async fn finish(&mut self, auth: tl::types::auth::Authorization) -> Result<Exit> {
        let Some((who, hash)) = Who::from_user(&auth.user) else {
            return Err(Error::NotSignedIn("Telegram returned an empty user".into()));
        };
        self.cache_self(&who, hash).await?;
        let state = timed(
            self.opts.timeout,
            "Verifying",
            self.client.invoke(&tl::functions::updates::GetState {}),
        )
        .await?;
        match state {
            Ok(tl::enums::updates::State::State(s)) => {
                self.session
                    .set_update_state(UpdateState::All(UpdatesState {
                        pts: s.pts,
                        qts: s.qts,
                        date: s.date,
                        seq: s.seq,
                        channels: Vec::new(),
                    }))
                    .await
                    .map_err(|e| {
                        Error::file(format!("cannot save {}: {e}", self.path.display()))
                    })?;
            }
            Err(e) => {
                return Err(Error::NoVerdict(format!(
                    "signed in, but the check afterwards failed: {e}; run `tgsess check`"
                )));
            }
        }
        if !self.phone_key.is_empty() {
            let ps = self.store.phone(&self.phone_key);
            ps.pending = None;
            ps.cooldown_until = None;
            self.store.save()?;
        }
        output::out(format!(
            "Signed in as {}; session saved to {}",
            who.describe(),
            self.path.display()
        ));
        Ok(Exit::Ok)
    }
}

enum Sent {
    Hash(String),
    Authorized(Box<tl::types::auth::Authorization>),
    PasswordNeeded,
}

/// The SRP answer for `auth.checkPassword`, computed on a blocking thread: grammers'
/// `check_p_and_g` and `calculate_2fa` are CPU-bound (about 0.8 s optimised).
async fn srp_answer(
    pw: tl::types::account::Password,
    password: Secret,
) -> Result<Option<tl::functions::auth::CheckPassword>> {
    tokio::task::spawn_blocking(move || {
        let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            algo,
        )) = pw.current_algo
        else {
            return None;
        };
        if !grammers_crypto::two_factor_auth::check_p_and_g(&algo.p, &algo.g) {
            return None;
        }
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &algo.salt1,
            &algo.salt2,
            &algo.p,
            &algo.g,
            pw.srp_b?,
            pw.secure_random,
            password.expose(),
        );
        Some(tl::functions::auth::CheckPassword {
            password: tl::enums::InputCheckPasswordSrp::Srp(tl::types::InputCheckPasswordSrp {
                srp_id: pw.srp_id?,
                a: g_a.to_vec(),
                m1: m1.to_vec(),
            }),
        })
    })
    .await
    .map_err(|e| Error::NoVerdict(format!("2FA computation failed: {e}")))
}

fn human_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}
