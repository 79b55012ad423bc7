//! `tgsess login`: grammers' sign-in as ONE careful attempt, in small steps.
//!
//! It requests at most one code, never repeats a code request by itself, remembers
//! Telegram's cooldowns, the pending code, a request whose answer was lost and a key that
//! waits for its 2FA password, and saves the session through the store in the declared
//! format. Every Telegram call goes through `Client::invoke` with grammers' `NoRetries`
//! policy (see [`crate::net::connection_params`]): grammers' `request_login_code` would panic
//! on `auth.sentCodeSuccess`, hit `unimplemented!` on `auth.sentCodePaymentRequired`, send no
//! `logout_tokens` and drop the code type (grammers-client 0.11 src/client/auth.rs).
//!
//! The steps, each in its own place and each owning the state it saves:
//! 1. resume ([`Run::resume`]): the key from the file, or from the draft an earlier run left
//!    in the state directory; a signed-in key ends here, with no phone needed;
//! 2. guard ([`Run::guard`]): cooldowns, a lost request, near misses;
//! 3. request ([`code`]): auth.sendCode, with the in-flight mark written first;
//! 4. code ([`code`]): auth.signIn;
//! 5. password ([`password`]): the 2FA step, also resumed straight away on a rerun;
//! 6. finish ([`Run::finish`]): the session file appears, signed in, in its format.
//!
//! Until step 6 the new key lives only in the state directory (0600), bound to the session
//! path, so a refused or failed login leaves no session file behind.

mod bot;
mod code;
mod password;
pub(crate) mod qr;
pub(crate) mod text;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::InvocationError;
use grammers_session::Session;
use grammers_session::storages::MemorySession;
use grammers_session::types::{PeerAuth, PeerInfo, UpdateState, UpdatesState};
use grammers_tl_types as tl;

use crate::env::Env;
use crate::error::{Error, Exit, Result};
use crate::identity::Identity as Who;
use crate::net::Connection;
use crate::output;
use crate::output::Shown;
use crate::output::{shell_quote, shell_quote_str as shell_quote_word};
use crate::prompt;
use crate::session::Target;
use crate::settings::Settings;
use crate::state::{self, Draft, State};
use tgsess_shared::secret::Secret;
use tgsess_store::files;
use tgsess_store::{AuthKey, Record, SessionFormat, write};

pub(crate) use text::code_settings;

/// Codes and passwords may be typed this many times.
pub(crate) const ATTEMPTS: usize = 3;

#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) force: bool,
    pub(crate) fresh: bool,
    pub(crate) resend: bool,
    pub(crate) new_code: bool,
    pub(crate) bot: bool,
    pub(crate) code_stdin: bool,
    pub(crate) timeout: Duration,
    /// $TGSESS_PASSWORD, for 2FA without a terminal.
    pub(crate) password: Option<Secret>,
    /// $TGSESS_BOT_TOKEN.
    pub(crate) bot_token: Option<Secret>,
    /// `--qr`: sign in by a QR code scanned on a phone.
    pub(crate) qr: bool,
    /// `--approve-with SOURCE`: a signed-in session approves this one.
    pub(crate) approve_with: Option<String>,
    /// `--json` (with --qr).
    pub(crate) json: bool,
    /// The whole QR sign-in's deadline.
    pub(crate) sign_in_timeout: Duration,
}

impl Options {
    /// A login that signs in without a code (QR, approval).
    pub(crate) fn codeless(&self) -> bool {
        self.qr || self.approve_with.is_some()
    }
}

fn rpc(e: &InvocationError) -> Option<&grammers_mtsender::RpcError> {
    match e {
        InvocationError::Rpc(r) => Some(r),
        _ => None,
    }
}

/// The DC a `*_MIGRATE_N` error names, checked like every DC id ([`tgsess_store::dc_id`]).
fn migrate_dc(r: &grammers_mtsender::RpcError) -> Result<i32> {
    tgsess_store::dc_id(r.value.map_or(0, i64::from)).map_err(|e| {
        Error::NoVerdict(format!(
            "Telegram answered {} with a DC tgsess cannot use ({e}); nothing more was sent",
            r.name
        ))
    })
}

/// A network failure: no verdict, and never an automatic retry.
fn net_error(what: &str, e: &InvocationError) -> Error {
    Error::NoVerdict(format!("{what} failed: {}", crate::net::says(e)))
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

/// Everything one login run works with.
struct Run<'a> {
    settings: &'a Settings,
    opts: &'a Options,
    path: PathBuf,
    format: SessionFormat,
    /// What the session file held before (api_id and test mode carry over).
    file_record: Option<Record>,
    session: Arc<MemorySession>,
    client: Client,
    state: State,
    /// Set once the phone is known ([`Run::phone`]).
    phone_key: String,
    phone: Option<String>,
    api_id: i32,
    api_hash: Secret,
    interactive: bool,
    /// Telegram's pushes, kept for a QR login (updateLoginToken).
    updates: Option<tokio::sync::mpsc::Receiver<grammers_session::updates::UpdatesLike>>,
    /// The file at the path is damaged and backed up: the saved session is a new file, not
    /// an update of its bytes.
    fresh_file: bool,
}

pub(crate) async fn run(settings: &Settings, env: &dyn Env, opts: &Options) -> Result<Exit> {
    let target = Target::open(settings).await?;
    let prep = prepare(settings, env, opts, &target).await?;
    announce(settings, opts, &prep);
    let lock = target.lock()?;
    if prep.fresh_file
        && let Some(b) = target.backup_if_needed()?
    {
        output::out(format!(
            "The damaged session file was copied to {} before this login replaces it (--force).",
            b.shown()
        ));
    }
    let network = settings.network();
    let session = network.memory_session(prep.start.as_ref(), true).await?;
    let mut conn = Connection::with_updates(Arc::clone(&session), prep.api_id, &network.route()?)?;
    let updates = if opts.qr { conn.updates.take() } else { None };
    conn.updates = None;
    let mut run = Run {
        settings,
        opts,
        path: prep.path,
        format: prep.format,
        file_record: prep.file_record,
        session,
        client: conn.client.clone(),
        state: prep.state,
        phone_key: String::new(),
        phone: None,
        api_id: prep.api_id,
        api_hash: prep.api_hash,
        interactive: output::interactive(),
        updates,
        fresh_file: prep.fresh_file,
    };
    let result = run.steps().await;
    conn.close().await;
    drop(lock);
    result
}

/// What a login knows before it connects.
struct Prep {
    path: PathBuf,
    format: SessionFormat,
    /// A damaged file at the path, replaced (--force) by a new one after a backup.
    fresh_file: bool,
    file_record: Option<Record>,
    /// The key to start with: the file's, else the draft an earlier run left.
    start: Option<Record>,
    state: State,
    api_id: i32,
    api_hash: Secret,
}

/// Everything checked before anything is set up or sent: the format to write, the
/// credentials, the phone's shape, a way to read the code, a remembered cooldown.
async fn prepare(
    settings: &Settings,
    env: &dyn Env,
    opts: &Options,
    target: &Target,
) -> Result<Prep> {
    // A damaged file is replaced only with --force, and only after a backup.
    let fresh_file = target.damaged() && opts.force;
    let format = match fresh_file {
        true => target.write_format_forced(settings, "write")?,
        false => target.write_format(settings, "write")?,
    };
    let (api_id, api_hash) = settings.api_credentials()?;
    let file_record = target.record().await?;
    // The file may already be signed in: then no phone is needed at all.
    let may_be_signed_in = target
        .inspection()
        .is_some_and(|i| i.signed_in() != tgsess_store::SignedIn::No);
    let phone = settings.phone.as_ref().filter(|_| !may_be_signed_in);
    if let Some(p) = phone.filter(|_| !opts.bot && !opts.codeless()) {
        check_phone(&p.value, &p.source.to_string(), settings)?;
    }
    let state = State::open_for_login(env)?;
    let draft = state::per_session(&state.data.drafts, &target.path).cloned();
    let start = file_record
        .clone()
        .or_else(|| draft.as_ref().and_then(draft_record));
    // Without a key nothing can be signed in already: a login without a way to read the
    // code fails here, before any file or connection is made.
    let can_answer = output::interactive()
        || opts.code_stdin
        || opts.codeless()
        || (opts.bot && opts.bot_token.is_some());
    if start.is_none() && !can_answer {
        return Err(non_interactive_error());
    }
    // A remembered cooldown is honoured before any contact with Telegram.
    if let Some(p) = phone.filter(|_| !opts.codeless()) {
        let key = state::phone_key(&p.value, settings.sandbox_dir.as_deref());
        check_cooldown(&state, &key, opts.force, settings)?;
    }
    Ok(Prep {
        path: target.path.clone(),
        format,
        fresh_file,
        file_record,
        start,
        state,
        api_id,
        api_hash: api_hash.clone(),
    })
}

/// "Session: PATH (why; format)", on stderr when stdout carries only JSON.
fn announce(settings: &Settings, opts: &Options, prep: &Prep) {
    let line = format!(
        "Session: {} ({}; {} format)",
        prep.path.shown(),
        settings.session.reason,
        prep.format.name()
    );
    if opts.json {
        eprintln!("{line}");
    } else {
        output::out(line);
    }
}

fn non_interactive_error() -> Error {
    Error::usage(
        "login needs a terminal to ask for the code (stdin and stdout are not both \
         terminals); nothing was requested. Non-interactive ways: --code-stdin reads the code \
         from stdin after the request, $TGSESS_PASSWORD supplies a 2FA password, --bot with \
         $TGSESS_BOT_TOKEN signs in a bot",
    )
}

/// Drafts are kept per session, under its canonical path.
fn draft_key(path: &std::path::Path) -> String {
    state::session_key(path)
}

/// The record a draft holds: its home DC and key, and the other DCs it knew.
fn draft_record(d: &Draft) -> Option<Record> {
    let key_of = |k: &Option<String>| {
        k.as_deref()
            .and_then(state::decode_token)
            .and_then(|b| AuthKey::from_slice(&b))
    };
    let (_, addr, key) = d.dcs.iter().find(|(id, ..)| *id == d.home_dc)?;
    let others = d
        .dcs
        .iter()
        .filter(|(id, ..)| *id != d.home_dc)
        .filter_map(|(id, a, k)| Some((*id, a.parse().ok()?, key_of(k))))
        .collect();
    Some(Record {
        dc_id: d.home_dc,
        address: Some(addr.parse().ok()?),
        auth_key: key_of(key)?,
        other_dcs: others,
        ..Record::default()
    })
}

impl Run<'_> {
    /// The session file appears (or is updated), in its format.
    async fn save(&self, record: &Record) -> Result<()> {
        if self.fresh_file {
            Ok(write::save_fresh(&self.path, self.format, record).await?)
        } else {
            Ok(write::save(&self.path, self.format, record).await?)
        }
    }

    fn home_key_id(&self) -> Option<String> {
        let dc = self.session.home_dc_id().ok()?;
        let key = self.session.dc_option(dc).ok()??.auth_key?;
        Some(write::key_id_hex(&AuthKey(key)))
    }

    /// What the in-memory session holds now, with what the file had (api_id, test mode).
    async fn current(&self) -> Option<Record> {
        let mut base = self.file_record.clone().unwrap_or_default();
        if base.api_id.is_none() {
            base.api_id = Some(self.api_id);
        }
        if base.test_mode.is_none() {
            base.test_mode = Some(self.settings.test_dc.value);
        }
        crate::net::record_of_memory(&self.session, &base).await
    }

    async fn steps(&mut self) -> Result<Exit> {
        if self.resume().await? {
            return self.already_signed_in().await;
        }
        if self.opts.codeless() {
            if self.waiting_for_password() {
                return self.password().await;
            }
            return self.codeless().await;
        }
        self.save_draft(None).await;
        if self.opts.bot {
            return self.bot().await;
        }
        let phone = self.phone().await?;
        self.guard().await?;
        if self.waiting_for_password() {
            output::out(
                "Telegram is waiting only for this key's two-step verification password (the \
                 code was already accepted); no code is requested.",
            );
            return self.password().await;
        }
        let hash = match self.pending_or_request(&phone).await? {
            code::Sent::Hash(h) => h,
            code::Sent::Authorized(auth) => return self.finish(*auth).await,
            code::Sent::PasswordNeeded => return self.password().await,
        };
        self.enter_code(&phone, &hash).await
    }

    /// Step 1: asks Telegram whether the key we hold (from the file or a draft) is signed
    /// in. For a new session this first request also makes the key.
    async fn resume(&mut self) -> Result<bool> {
        match timed(
            self.opts.timeout,
            "Checking the session",
            self.client.invoke(&tl::functions::updates::GetState {}),
        )
        .await?
        {
            Ok(_) => Ok(true),
            Err(e) if rpc(&e).is_some_and(|r| r.code == 401) => Ok(false),
            Err(e) => Err(Error::NoVerdict(format!(
                "updates.getState failed{}: {e}",
                self.settings.via_proxy()
            ))),
        }
    }

    /// Keeps the key this login works with in the state directory, bound to the session
    /// path, so a rerun resumes with it (and its pending code). `password_needed`: `Some`
    /// sets or clears the mark that the key waits only for its 2FA password; `None` keeps
    /// the mark as it is for this key. A failed write is a warning: the login goes on.
    async fn save_draft(&mut self, password_needed: Option<bool>) {
        let Some(r) = self.current().await else {
            return;
        };
        let mut dcs = vec![(
            r.dc_id,
            r.address.map(|a| a.to_string()).unwrap_or_default(),
            Some(state::encode_token(&r.auth_key.0)),
        )];
        for (id, a, k) in &r.other_dcs {
            dcs.push((
                *id,
                a.to_string(),
                k.as_ref().map(|k| state::encode_token(&k.0)),
            ));
        }
        let key_id = write::key_id_hex(&r.auth_key);
        let password_needed = match password_needed {
            Some(true) => Some(key_id),
            Some(false) => None,
            None => self.waiting_for_password().then_some(key_id),
        };
        let draft = Draft {
            phone_key: self.phone_key.clone(),
            home_dc: r.dc_id,
            dcs,
            password_needed,
        };
        let key = draft_key(&self.path);
        if let Err(e) = self.state.update(|d| {
            d.drafts.insert(key, draft);
        }) {
            output::warn(format!("could not remember this login's key: {e}"));
        }
    }

    fn waiting_for_password(&self) -> bool {
        let key = draft_key(&self.path);
        let stage = self
            .state
            .data
            .drafts
            .get(&key)
            .and_then(|d| d.password_needed.clone());
        stage.is_some() && stage == self.home_key_id()
    }

    /// The phone number: configured, or asked for, and checked for E.164 shape before it can
    /// cost a request. Only needed once the key turned out not to be signed in.
    async fn phone(&mut self) -> Result<String> {
        let (raw, from) = match &self.settings.phone {
            Some(p) => (p.value.clone(), p.source.to_string()),
            None if self.interactive => {
                match prompt::line("Phone number (international format): ").await? {
                    Some(p) if !p.is_empty() => (p, "the prompt".to_string()),
                    _ => return Err(Error::usage("no phone number given")),
                }
            }
            None => {
                return Err(Error::usage(
                    "phone is not set; set it in the config, with TGSESS_PHONE or --phone",
                ));
            }
        };
        let phone = check_phone(&raw, &from, self.settings)?;
        self.phone_key = state::phone_key(&phone, self.settings.sandbox_dir.as_deref());
        self.phone = Some(phone.clone());
        Ok(phone)
    }

    /// Step 2: what must hold before any code request: no remembered cooldown, no request
    /// whose answer was lost, no signed-in session nearby under another name.
    async fn guard(&self) -> Result<()> {
        check_cooldown(&self.state, &self.phone_key, self.opts.force, self.settings)?;
        if self.waiting_for_password() {
            return Ok(());
        }
        let ps = self.state.get(&self.phone_key);
        let key_id = self.home_key_id();
        let pending = ps
            .pending
            .as_ref()
            .is_some_and(|p| Some(&p.key_id) == key_id.as_ref());
        if let Some((k, at)) = &ps.in_flight
            && !pending
            && Some(k) == key_id.as_ref()
            && !self.opts.new_code
        {
            let ago = (state::now() - at).max(0);
            return Err(Error::NotSignedIn(format!(
                "a code request was sent {} ago, but its answer was lost (the process \
                 stopped or the connection broke before it was saved). A code may have been \
                 sent; without that answer tgsess cannot use it. To request another code on \
                 purpose: `{}`",
                text::human_duration(ago),
                self.settings.command("login --new-code")
            )));
        }
        if !pending && !self.opts.new_code {
            self.other_code_guard(&ps, key_id.as_deref())?;
        }
        if !pending && !self.opts.fresh && !self.opts.resend {
            self.near_miss_guard().await?;
        }
        Ok(())
    }

    /// The code quota belongs to the phone: while a code requested for it with another key
    /// (another session, or this path before its key changed) may still be valid, or a
    /// request's answer was lost, no code is requested here (exit 5). The way on: finish
    /// that login, wait, or `--new-code`.
    fn other_code_guard(&self, ps: &state::PhoneState, key_id: Option<&str>) -> Result<()> {
        let now = state::now();
        let ttl = state::PENDING_TTL_SECS;
        let other_pending = ps
            .pending
            .as_ref()
            .filter(|p| Some(p.key_id.as_str()) != key_id && now - p.requested_at < ttl);
        let other_flight = ps
            .in_flight
            .as_ref()
            .filter(|(k, at)| Some(k.as_str()) != key_id && now - at < ttl);
        let (what, at, session, resume) = match (other_pending, other_flight) {
            (Some(p), _) => (
                format!("sent {}", p.sent_via),
                p.requested_at,
                p.session.clone(),
                p.resume.clone(),
            ),
            (None, Some((_, at))) => (
                "its answer was lost (so a code may be on its way)".to_string(),
                *at,
                ps.in_flight_session.clone(),
                None,
            ),
            (None, None) => return Ok(()),
        };
        let whose = match &session {
            Some(s) if *s == draft_key(&self.path) => {
                "for this session, with a key it no longer holds".to_string()
            }
            Some(s) => format!("for session {}", crate::output::escape(s)),
            None => "for another session".to_string(),
        };
        let until = at + ttl;
        let finish = match resume {
            Some(cmd) => format!("finish that login with that code: `{cmd}`; or "),
            None => String::new(),
        };
        Err(Error::RateLimited(format!(
            "a login code for this phone was requested {} ago {whose}, and {what}; it stays \
             valid until {} (in {}). Telegram counts codes per phone number, so tgsess requests \
             no other while it may be used. The ways on: {finish}wait until it expires; or \
             request a new code for this session on purpose: `{}`",
            text::human_duration((now - at).max(0)),
            text::timestamp(until),
            text::human_duration((until - now).max(0)),
            self.settings.command("login --new-code")
        )))
    }

    async fn already_signed_in(&mut self) -> Result<Exit> {
        let Some(mut record) = self.current().await else {
            return Err(Error::NoVerdict("the session lost its key".into()));
        };
        // Who it is, by name, as a fresh login says it. When the file records the user, a
        // failed question only costs the name; when it does not, it is the answer.
        let asked = timed(
            self.opts.timeout,
            "Asking who is signed in",
            self.client.invoke(&tl::functions::users::GetUsers {
                id: vec![tl::enums::InputUser::UserSelf],
            }),
        )
        .await
        .and_then(|r| r.map_err(|e| net_error("users.getUsers", &e)));
        let who = match asked {
            Ok(users) => users.first().and_then(Who::from_user),
            Err(e) if record.user_id.is_none() => return Err(e),
            Err(_) => None,
        };
        if let Some((w, _)) = &who {
            self.pinned_or_refuse(w, "Already signed in")?;
            self.remember_identity(&record, w);
        }
        if let Some((w, hash)) = &who {
            record.user_id = Some(w.id);
            record.bot = Some(w.bot);
            record.access_hash = *hash;
        }
        let recorded = self.file_record.as_ref().and_then(|r| r.user_id);
        let who = match (&who, record.user_id) {
            (Some((w, _)), _) => w.describe(),
            (None, Some(id)) => format!("user id {id} (Telegram did not say the name)"),
            (None, None) => "an unknown user".into(),
        };
        if !self.path.exists() || (recorded.is_none() && self.format != SessionFormat::Telethon) {
            self.save(&record).await?;
            self.clear_login_state();
            self.say(&format!(
                "Already signed in as {who}; recorded in {}. Nothing was requested.",
                self.path.shown()
            ));
        } else {
            self.say(&format!(
                "Already signed in as {who}; session {}. Nothing was requested.",
                self.path.shown()
            ));
        }
        Ok(Exit::Ok)
    }

    async fn near_miss_guard(&self) -> Result<()> {
        let dirs = self.settings.near_dirs();
        // A file with this very key (the source of an import) is no near miss: it is signed
        // in exactly when this session is, and that was just asked.
        let own_key = self.current().await.map(|r| r.auth_key);
        let found: Vec<_> = files::near_misses(&self.path, &dirs)
            .await
            .into_iter()
            .filter(|f| f.inspection.signed_in() != tgsess_store::SignedIn::No)
            .filter(|f| f.inspection.auth_key.is_none() || f.inspection.auth_key != own_key)
            .collect();
        if found.is_empty() {
            return Ok(());
        }
        let mut msg = format!(
            "{} is not signed in, but other session files nearby hold a login key that is (or \
             may be) signed in, so no code was requested. This session is {}: if a name \
             changed (a renamed or removed username or session_file, another directory), \
             fix the naming rather than log in again:",
            self.path.shown(),
            self.settings.session.reason
        );
        for f in &found {
            msg.push_str(&self.near_miss_ways(f));
        }
        msg.push_str(&format!(
            "\nTo log in with a new code anyway: `{}`",
            self.settings.command("login --fresh")
        ));
        Err(Error::NotSignedIn(msg))
    }

    /// One near miss and the ways to use it, best first: use the file itself (the naming
    /// fix), then copy its key (which leaves two files holding one key).
    fn near_miss_ways(&self, f: &files::Found) -> String {
        let i = &f.inspection;
        let state = match (i.signed_in(), i.user_id) {
            (tgsess_store::SignedIn::Yes, Some(id)) => format!("signed in as user {id}"),
            (tgsess_store::SignedIn::Yes, None) => "signed in".into(),
            _ => "signed in: unknown (this format does not record the user)".into(),
        };
        let format = i.format;
        let mut out = format!(
            "\n  {}: {}, {state}\n    1. use it as it is: `{}`",
            f.path.shown(),
            i.describe(),
            self.settings.command_on(&f.path, format, "login")
        );
        if let Some(hint) = self.naming_hint(&f.path) {
            out.push_str(&format!(" (or, for good, {hint})"));
        }
        out.push_str(&format!(
            "\n    2. or copy its key into this session: `{}` (two files then hold one key: \
             never run both at once, or Telegram ends the key with AUTH_KEY_DUPLICATED)",
            self.settings
                .command(&format!("import {}", shell_quote(&f.path)))
        ));
        out
    }

    /// "set username = \"NAME\" in CONFIG": when the near miss sits in the session
    /// directory and its name is what username would make.
    fn naming_hint(&self, path: &std::path::Path) -> Option<String> {
        let name = path.file_name()?.to_str()?;
        let stem = name.strip_suffix(crate::settings::naming::EXTENSION)?;
        if path.parent()? != self.settings.session_dir || stem.is_empty() {
            return None;
        }
        let quoted = serde_json::to_string(stem).ok()?;
        Some(match &self.settings.config {
            Some(c) => format!(
                "set username = {quoted} in {} (it names the file {name})",
                c.path.shown()
            ),
            None => format!(
                "set TGSESS_USERNAME={} (it names the file {name})",
                shell_quote_word(stem)
            ),
        })
    }

    fn clear_login_state(&mut self) {
        let key = draft_key(&self.path);
        let phone = self.phone_key.clone();
        let typed = self.phone.clone();
        let api_id = (self.format == SessionFormat::Grammers).then_some(self.api_id);
        let r = self.state.update(|d| {
            d.drafts.remove(&key);
            if let Some(id) = api_id {
                d.session_api_ids.insert(key.clone(), id);
            }
            if let Some(p) = typed {
                d.session_phones.insert(key.clone(), p);
            }
            if !phone.is_empty() {
                let ps = d.phone(&phone);
                ps.pending = None;
                ps.in_flight = None;
                ps.in_flight_session = None;
                ps.cooldown_until = None;
                ps.cooldown_reason = None;
            }
        });
        if let Err(e) = r {
            output::warn(format!("signed in, but the state could not be tidied: {e}"));
        }
    }

    /// Step 6, as grammers' private `complete_login` does (grammers-client 0.11
    /// src/client/auth.rs): cache the self user with `is_self`, store the update state; then
    /// the session file appears, in its format, signed in.
    async fn finish(&mut self, auth: tl::types::auth::Authorization) -> Result<Exit> {
        let Some((who, hash)) = Who::from_user(&auth.user) else {
            return Err(Error::NotSignedIn("Telegram returned an empty user".into()));
        };
        if let Err(e) = self.pinned_or_refuse(&who, "Signed in") {
            return Err(self.undo_sign_in(e).await);
        }
        self.session
            .cache_peer(PeerInfo::User {
                id: who.id,
                auth: hash.map(PeerAuth::from_hash),
                bot: Some(who.bot),
                is_self: Some(true),
            })
            .await
            .map_err(memory_error)?;
        let verified = self.store_update_state().await?;
        let mut record = self
            .current()
            .await
            .ok_or_else(|| Error::NoVerdict("signed in, but the key is gone".into()))?;
        record.user_id = Some(who.id);
        record.bot = Some(who.bot);
        record.access_hash = hash;
        self.save(&record).await?;
        self.clear_login_state();
        self.remember_identity(&record, &who);
        self.announce_signed_in(&who, verified);
        Ok(Exit::Ok)
    }

    /// `expect_user`: another account is refused (exit 1), naming both.
    fn pinned_or_refuse(&self, who: &Who, what: &str) -> Result<()> {
        let Some(pin) = &self.settings.expect_user else {
            return Ok(());
        };
        if who.matches(&pin.value) {
            return Ok(());
        }
        Err(Error::NotSignedIn(format!(
            "{what} as {}, but expect_user (from {}) is {}: that is another account. {} is \
             left as it was",
            who.describe(),
            pin.source,
            pin.value,
            self.path.shown()
        )))
    }

    /// A sign-in as the wrong account: nothing is saved, and the new authorization is logged
    /// out again (auth.logOut on the key it made), so no session of it dangles.
    async fn undo_sign_in(&mut self, refusal: Error) -> Error {
        let logged_out = timed(
            self.opts.timeout,
            "Logging the other account out again",
            self.client.invoke(&tl::functions::auth::LogOut {}),
        )
        .await;
        self.clear_login_state();
        let tail = match logged_out {
            Ok(Ok(_)) => "; the new authorization was logged out again (nothing dangles)".into(),
            Ok(Err(e)) => format!(
                "; logging the new authorization out failed ({}): end it in Telegram's \
                 Settings > Devices",
                crate::net::says(&e)
            ),
            Err(e) => format!("; logging it out got no answer ({e}): end it in Settings > Devices"),
        };
        Error::NotSignedIn(format!(
            "{refusal}{tail}. Sign in with the expected account"
        ))
    }

    /// What Telegram confirmed about this key, kept for commands that do not ask.
    fn remember_identity(&self, record: &Record, who: &Who) {
        let key = write::key_id_hex(&record.auth_key);
        let now = crate::state::now_ms();
        let _ = self.state.modify(|d| {
            d.keys.insert(
                key,
                crate::state::KeyMemory {
                    identity: Some(who.clone()),
                    confirmed_at_ms: Some(now),
                    status: "signed_in".into(),
                    error: None,
                    checked_at_ms: now,
                },
            );
        });
    }

    /// updates.getState, kept in the session as grammers keeps it; false when it got no
    /// answer (the sign-in stands: the key is authorized).
    async fn store_update_state(&mut self) -> Result<bool> {
        let state = timed(
            self.opts.timeout,
            "Verifying",
            self.client.invoke(&tl::functions::updates::GetState {}),
        )
        .await;
        let Ok(Ok(tl::enums::updates::State::State(s))) = state else {
            return Ok(false);
        };
        self.session
            .set_update_state(UpdateState::All(UpdatesState {
                pts: s.pts,
                qts: s.qts,
                date: s.date,
                seq: s.seq,
                channels: Vec::new(),
            }))
            .await
            .map_err(memory_error)?;
        Ok(true)
    }

    fn announce_signed_in(&self, who: &Who, verified: bool) {
        self.say(&format!(
            "Signed in as {}; session saved to {} ({} format)",
            who.describe(),
            self.path.shown(),
            self.format.name()
        ));
        if self.opts.json {
            output::json(&serde_json::json!({
                "event": "signed_in",
                "user_id": who.id,
                "bot": who.bot,
                "session": self.path,
                "format": self.format.name(),
            }));
        }
        if !verified {
            output::warn(format!(
                "the check after signing in got no answer; `{}` asks again",
                self.settings.command("check")
            ));
        }
    }
}

fn memory_error(e: grammers_session::storages::MemorySessionError) -> Error {
    Error::file(format!("in-memory session: {e}"))
}

/// The phone in the form Telegram takes, or a usage error that says where the value came
/// from and, against a sandbox, which numbers it accepts.
fn check_phone(raw: &str, from: &str, settings: &Settings) -> Result<String> {
    normalize_phone(raw).ok_or_else(|| {
        Error::usage(format!(
            "phone {:?} (from {from}) is not a phone number in international format: a + and \
             7 to 15 digits, country code first; nothing was requested{}",
            output::escape(raw),
            if settings.sandbox_dir.is_some() {
                " (the sandbox accepts its demo number 9996621234 and numbers 99966XYYYY)"
            } else {
                ""
            }
        ))
    })
}

/// `+` and 7 to 15 digits (E.164), after dropping spaces, dashes, dots and parentheses; the
/// `+` is optional (Telegram takes the digits).
pub(crate) fn normalize_phone(raw: &str) -> Option<String> {
    let kept: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = kept.strip_prefix('+').unwrap_or(&kept);
    let ok = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then(|| digits.to_string())
}

fn check_cooldown(state: &State, key: &str, force: bool, settings: &Settings) -> Result<()> {
    let ps = state.get(key);
    let Some(until) = ps.cooldown_until else {
        return Ok(());
    };
    let left = until - state::now();
    if left <= 0 || force {
        return Ok(());
    }
    let when = jiff::Timestamp::from_second(until)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let why = match ps.cooldown_reason.as_deref() {
        Some("SEND_CODE_UNAVAILABLE") => {
            "Telegram said every way of sending a code to this number is used up \
             (SEND_CODE_UNAVAILABLE)"
        }
        _ => "Telegram asked this phone number to wait (FLOOD_WAIT)",
    };
    Err(Error::RateLimited(format!(
        "{why}; tgsess will not request a code before {when} ({} from now), because every \
         request made during a wait makes it longer. `{}` overrides this. Meanwhile, sign in \
         without a code: `{}` (scan with Telegram on a phone), or have a signed-in session \
         approve this one with login --approve-with",
        text::human_duration(left),
        settings.command("login --force"),
        settings.command("login --qr")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_checked_for_shape() {
        assert_eq!(
            normalize_phone("+1 (555) 123-4567").as_deref(),
            Some("15551234567")
        );
        assert_eq!(normalize_phone("9996621234").as_deref(), Some("9996621234"));
        for bad in [
            "abc",
            "",
            "+",
            "123",
            "+1234567890123456",
            "+0123456789",
            "12a4567",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }
}
