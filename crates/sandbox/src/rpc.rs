//! The sandbox's Telegram: accounts, per-key authorization, codes, 2FA, tokens, and the
//! methods it answers. Everything here is synchronous and runs under one lock; the
//! connection code in `server.rs` does the I/O.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};

use super::objects;
use super::srp::{self, Round, Verifier};

/// What `auth.sentCode` reports as the way the code was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeType {
    App,
    Sms,
    Call,
    Email,
}

/// The scenario flags of `tgsess sandbox`.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    pub password: Option<tgsess_shared::secret::Secret>,
    pub code_type: Option<CodeType>,
    pub flood_wait: Option<u32>,
    pub send_code_unavailable: bool,
    pub migrate_to: Option<i32>,
    pub drop_on: Option<String>,
    pub code_ttl: Option<Duration>,
    pub revoke_after: Option<Duration>,
    /// How long a QR login token lives (Telegram: about 30 s).
    pub login_token_ttl: Option<Duration>,
    /// Delay before every reply and at the start of every connection.
    pub latency: Option<Duration>,
    /// Phones (digits) whose accounts are banned: a signed-in key of one gets 401
    /// USER_DEACTIVATED_BAN, as Telegram answers for a banned account.
    pub banned: Vec<String>,
}

/// What a client told about itself in initConnection, shown by account.getAuthorizations.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientInfo {
    pub(crate) api_id: i32,
    pub(crate) device_model: String,
    pub(crate) system_version: String,
    pub(crate) app_version: String,
}

/// A sandbox account.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Account {
    pub(crate) id: i64,
    pub(crate) access_hash: i64,
    pub(crate) phone: Option<String>,
    pub(crate) first_name: String,
    pub(crate) username: String,
    pub(crate) bot: bool,
}

#[derive(Clone, Debug)]
enum Auth {
    SignedOut,
    /// Ended from another of the account's sessions (account.resetAuthorization): Telegram
    /// then answers 401 SESSION_REVOKED (core.telegram.org/api/errors, 401).
    Revoked,
    /// signIn answered SESSION_PASSWORD_NEEDED for this user.
    PasswordNeeded(i64),
    SignedIn {
        user: i64,
        since: Instant,
    },
}

pub(crate) struct KeyEntry {
    pub(crate) key: [u8; 256],
    pub(crate) dc: i32,
    auth: Auth,
    client: ClientInfo,
    created: i32,
    active: i32,
}

struct PendingCode {
    phone: String,
    key_id: u64,
    created: Instant,
    /// Index into the app -> sms -> call ladder.
    step: usize,
}

struct LoginTokenEntry {
    key_id: u64,
    expires: i64,
    accepted_by: Option<i64>,
}

/// Telegram's own words for a QR login token's fate, kept in one place for the scan drop-box.
pub(crate) const TOKEN_ACCEPTED: &str = "ok";

/// Who is calling: the key, its DC, and where pushes for this connection go.
pub(crate) struct Caller {
    pub(crate) key_id: u64,
    pub(crate) dc: i32,
    /// The connection the request came on (one number per TCP connection) and the address
    /// it came from: a signed-in key used at once from two addresses is destroyed.
    pub(crate) conn: u64,
    pub(crate) ip: Option<std::net::IpAddr>,
}

/// How a request ends.
pub(crate) enum Reply {
    Ok(Vec<u8>),
    Error(i32, String),
    /// Close the connection without answering (`--drop-on`).
    Drop,
}

/// The KDF Telegram uses for 2FA passwords, with these salts.
fn algo(salt1: Vec<u8>, salt2: Vec<u8>) -> tl::enums::PasswordKdfAlgo {
    tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
        tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
            salt1,
            salt2,
            g: srp::G,
            p: srp::p_bytes(),
        },
    )
}

/// account.password: `srp` (the current algorithm, g_b and srp_id) when there is a
/// password, and the algorithm a new one would use.
fn password_answer(
    srp: Option<(tl::enums::PasswordKdfAlgo, Vec<u8>, i64)>,
    new_algo: tl::enums::PasswordKdfAlgo,
) -> tl::enums::account::Password {
    let (current_algo, srp_b, srp_id) = match srp {
        Some((a, b, id)) => (Some(a), Some(b), Some(id)),
        None => (None, None, None),
    };
    tl::enums::account::Password::Password(tl::types::account::Password {
        has_recovery: false,
        has_secure_values: false,
        has_password: current_algo.is_some(),
        hint: current_algo
            .as_ref()
            .map(|_| "the sandbox --password".into()),
        current_algo,
        srp_b,
        srp_id,
        email_unconfirmed_pattern: None,
        new_algo,
        new_secure_algo: tl::enums::SecurePasswordKdfAlgo::Unknown,
        // grammers uses this as its secret `a` (grammers-client src/client/auth.rs).
        secure_random: random_bytes(256),
        pending_reset_date: None,
        login_email_pattern: None,
    })
}

/// Parses a method's arguments and hands them on; malformed ones are INPUT_REQUEST_INVALID.
fn with<T: Deserializable>(args: &[u8], handle: impl FnOnce(T) -> Reply) -> Reply {
    match T::deserialize(&mut Cursor::from_slice(args)) {
        Ok(v) => handle(v),
        Err(_) => err(400, "INPUT_REQUEST_INVALID"),
    }
}

fn err(code: i32, name: impl Into<String>) -> Reply {
    Reply::Error(code, name.into())
}

fn ok<T: Serializable>(v: T) -> Reply {
    Reply::Ok(v.to_bytes())
}

pub(crate) fn now_secs() -> i32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0)
}

fn random_i64() -> i64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("os randomness");
    i64::from_le_bytes(b)
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("os randomness");
    b
}

/// Telegram's test-DC numbers: 99966XYYYY with X = DC 1..3; the code is X five times
/// (core.telegram.org/api/auth, "Test accounts").
pub(crate) fn test_phone(phone: &str) -> Option<(i32, String)> {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let rest = digits.strip_prefix("99966")?;
    if rest.len() != 5 {
        return None;
    }
    let x = rest.as_bytes()[0];
    if !(b'1'..=b'3').contains(&x) {
        return None;
    }
    let dc = i32::from(x - b'0');
    Some((dc, (x as char).to_string().repeat(5)))
}

pub(crate) struct State {
    pub(crate) scenario: Scenario,
    pub(crate) dcs: Vec<i32>,
    pub(crate) address: SocketAddr,
    dir: std::path::PathBuf,
    verifier: Option<Verifier>,
    keys: HashMap<u64, KeyEntry>,
    accounts: HashMap<i64, Account>,
    codes: HashMap<String, PendingCode>,
    /// future_auth_token -> user id (auth.logOut hands them out; auth.sendCode honours them).
    future_tokens: HashMap<Vec<u8>, i64>,
    login_tokens: HashMap<Vec<u8>, LoginTokenEntry>,
    srp: HashMap<u64, (i64, Round)>,
    dropped: HashSet<String>,
    migrated: bool,
    /// updateLoginToken pushes waiting for the connection of a key.
    pub(crate) pushes: HashMap<u64, Vec<Vec<u8>>>,
    /// Sign-ins restored from `state.json`, applied when their key is loaded.
    restored: HashMap<u64, (i64, i64)>,
    /// Something `state.json` keeps changed since it was last written.
    dirty: bool,
    /// The open connections each key was used on, with the address each came from.
    live: HashMap<u64, HashMap<u64, std::net::IpAddr>>,
    /// (key, connection) pairs still owed their 406 AUTH_KEY_DUPLICATED: every connection
    /// that used a key when it was destroyed gets one, then 401 like any later request.
    owed_duplicated: HashSet<(u64, u64)>,
}

/// What survives a sandbox restart, like Telegram keeps its accounts and authorizations:
/// `DIR/state.json`. Pending codes, 2FA rounds and login tokens do not.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Persisted {
    accounts: Vec<Account>,
    /// (key id hex, user id, signed in at unix seconds)
    signed_in: Vec<(String, i64, i64)>,
    /// (token base64, user id)
    future_tokens: Vec<(String, i64)>,
}

const STATE_FILE: &str = "state.json";

impl State {
    pub(crate) fn new(
        scenario: Scenario,
        dcs: Vec<i32>,
        address: SocketAddr,
        dir: &std::path::Path,
    ) -> Self {
        // Only the verifier is kept: the password itself is not stored.
        let verifier = scenario
            .password
            .as_ref()
            .map(|p| Verifier::new(p.expose()));
        State {
            scenario,
            dcs,
            address,
            dir: dir.to_path_buf(),
            verifier,
            keys: HashMap::new(),
            accounts: HashMap::new(),
            codes: HashMap::new(),
            future_tokens: HashMap::new(),
            login_tokens: HashMap::new(),
            srp: HashMap::new(),
            dropped: HashSet::new(),
            migrated: false,
            pushes: HashMap::new(),
            restored: HashMap::new(),
            dirty: false,
            live: HashMap::new(),
            owed_duplicated: HashSet::new(),
        }
        .restore()
    }

    fn restore(mut self) -> Self {
        let Ok(text) = tgsess_shared::fs::read_regular_text(&self.dir.join(STATE_FILE), 64 << 20)
        else {
            return self;
        };
        let Ok(p) = serde_json::from_str::<Persisted>(&text) else {
            return self;
        };
        for a in p.accounts {
            self.accounts.insert(a.id, a);
        }
        for (key, user, since) in p.signed_in {
            if let Ok(id) = u64::from_str_radix(&key, 16) {
                self.restored.insert(id, (user, since));
            }
        }
        for (token, user) in p.future_tokens {
            if let Some(t) = tgsess_shared::mtproto::decode_token(&token) {
                self.future_tokens.insert(t, user);
            }
        }
        self
    }

    /// Writes `state.json` when something it keeps changed.
    fn persist(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let now = now_secs() as i64;
        let mut signed_in: Vec<(String, i64, i64)> = self
            .keys
            .iter()
            .filter_map(|(id, e)| match e.auth {
                Auth::SignedIn { user, since } => Some((
                    format!("{id:016x}"),
                    user,
                    now - since.elapsed().as_secs() as i64,
                )),
                _ => None,
            })
            .collect();
        // Restored sign-ins of keys no client has used since the restart.
        signed_in.extend(
            self.restored
                .iter()
                .filter(|(id, _)| !self.keys.contains_key(id))
                .map(|(id, (u, t))| (format!("{id:016x}"), *u, *t)),
        );
        let p = Persisted {
            accounts: self.accounts.values().cloned().collect(),
            signed_in,
            future_tokens: self
                .future_tokens
                .iter()
                .map(|(t, u)| (tgsess_shared::mtproto::encode_token(t), *u))
                .collect(),
        };
        let text = serde_json::to_string(&p).expect("serializes");
        let _ = tgsess_shared::fs::write_private(&self.dir.join(STATE_FILE), text.as_bytes());
    }

    /// The key for an id, loading a newly registered one from the side channel.
    pub(crate) fn key(&mut self, key_id: u64) -> Option<&KeyEntry> {
        if !self.keys.contains_key(&key_id) {
            let (dc, key) = tgsess_shared::sandbox_link::load(&self.dir, key_id)?;
            let auth = match self.restored.remove(&key_id) {
                Some((user, since)) => Auth::SignedIn {
                    user,
                    since: Instant::now()
                        .checked_sub(Duration::from_secs(
                            (i64::from(now_secs()) - since).max(0) as u64
                        ))
                        .unwrap_or_else(Instant::now),
                },
                None => Auth::SignedOut,
            };
            let now = now_secs();
            self.keys.insert(
                key_id,
                KeyEntry {
                    key,
                    dc,
                    auth,
                    client: ClientInfo::default(),
                    created: now,
                    active: now,
                },
            );
        }
        self.keys.get(&key_id)
    }

    fn account_dc(&self, phone_dc: i32) -> i32 {
        self.scenario.migrate_to.unwrap_or(phone_dc)
    }

    /// The DC an account lives on: its phone's X in 99966XYYYY (or --migrate-to).
    fn user_dc(&self, user: i64) -> Option<i32> {
        let phone = self.accounts.get(&user)?.phone.as_ref()?;
        let x = phone.chars().nth(5)?.to_digit(10)? as i32;
        Some(self.account_dc(x))
    }

    /// Records what a key's client said in initConnection (device, app) and when it was
    /// last active.
    pub(crate) fn note_client(&mut self, key_id: u64, info: Option<ClientInfo>) {
        if let Some(e) = self.keys.get_mut(&key_id) {
            e.active = now_secs();
            if let Some(i) = info {
                e.client = i;
            }
        }
    }

    fn account_for_phone(&mut self, phone: &str) -> Account {
        let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
        let tail: i64 = digits[5..].parse().unwrap_or(0);
        let id = 700_000_000 + tail;
        self.dirty |= !self.accounts.contains_key(&id);
        self.accounts
            .entry(id)
            .or_insert_with(|| Account {
                id,
                access_hash: random_i64(),
                phone: Some(digits.clone()),
                first_name: "Sandbox".into(),
                username: format!("sandbox_{}", &digits[5..]),
                bot: false,
            })
            .clone()
    }

    fn account_for_bot(&mut self, token: &str) -> Option<Account> {
        let (digits, secret) = token.split_once(':')?;
        if secret != "sandbox" || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let id: i64 = digits.parse().ok().filter(|v| *v > 0 && *v < (1 << 40))?;
        self.dirty |= !self.accounts.contains_key(&id);
        Some(
            self.accounts
                .entry(id)
                .or_insert_with(|| Account {
                    id,
                    access_hash: random_i64(),
                    phone: None,
                    first_name: "Sandbox Bot".into(),
                    username: format!("sandbox{id}_bot"),
                    bot: true,
                })
                .clone(),
        )
    }

    /// The signed-in user of a key, applying `--revoke-after`.
    fn signed_in_user(&mut self, key_id: u64) -> Result<i64, Reply> {
        let revoke = self.scenario.revoke_after;
        let entry = self.keys.get_mut(&key_id).expect("caller's key is known");
        match entry.auth {
            Auth::SignedIn { user, since } => {
                if revoke.is_some_and(|r| since.elapsed() >= r) {
                    entry.auth = Auth::SignedOut;
                    self.dirty = true;
                    return Err(err(401, "AUTH_KEY_UNREGISTERED"));
                }
                if self.is_banned(user) {
                    return Err(err(401, "USER_DEACTIVATED_BAN"));
                }
                Ok(user)
            }
            Auth::Revoked => Err(err(401, "SESSION_REVOKED")),
            _ => Err(err(401, "AUTH_KEY_UNREGISTERED")),
        }
    }

    /// Whether `user`'s phone is one `--ban` names.
    fn is_banned(&self, user: i64) -> bool {
        let phone = self.accounts.get(&user).and_then(|a| a.phone.as_deref());
        phone.is_some_and(|p| self.scenario.banned.iter().any(|b| b == p))
    }

    /// AUTH_KEY_DUPLICATED as users meet it: a signed-in key used at once, on two open
    /// connections, from two different addresses. Telegram "only emits it if any of the
    /// non-media DC detects that an authorized session is sending requests in parallel from
    /// two separate TCP connections" and the key is then invalid for good
    /// (core.telegram.org/api/errors, 406); the sandbox applies it to two addresses only, so
    /// a client's own reconnects from 127.0.0.1 never trip it. Every connection that used
    /// the key then gets 406 once; after that the key is unregistered (401).
    fn duplicated(&mut self, caller: &Caller) -> Option<Reply> {
        let (key, conn) = (caller.key_id, caller.conn);
        if self.owed_duplicated.remove(&(key, conn)) {
            return Some(err(406, "AUTH_KEY_DUPLICATED"));
        }
        let ip = caller.ip?;
        let live = self.live.entry(key).or_default();
        live.insert(conn, ip);
        let parallel = live.values().any(|other| *other != ip);
        let signed_in = self
            .keys
            .get(&key)
            .is_some_and(|e| matches!(e.auth, Auth::SignedIn { .. }));
        if !(parallel && signed_in) {
            return None;
        }
        let others: Vec<u64> = live.keys().copied().filter(|c| *c != conn).collect();
        self.owed_duplicated
            .extend(others.into_iter().map(|c| (key, c)));
        if let Some(e) = self.keys.get_mut(&key) {
            e.auth = Auth::SignedOut;
        }
        self.dirty = true;
        Some(err(406, "AUTH_KEY_DUPLICATED"))
    }

    /// A connection closed: it no longer uses its key.
    pub(crate) fn closed(&mut self, key_id: u64, conn: u64) {
        if let Some(live) = self.live.get_mut(&key_id) {
            live.remove(&conn);
            if live.is_empty() {
                self.live.remove(&key_id);
            }
        }
    }

    fn sign_in(&mut self, key_id: u64, user: i64) -> Reply {
        self.dirty = true;
        if let Some(e) = self.keys.get_mut(&key_id) {
            e.auth = Auth::SignedIn {
                user,
                since: Instant::now(),
            };
        }
        ok(self.authorization(user))
    }

    fn user(&self, id: i64, is_self: bool) -> tl::enums::User {
        objects::user(&self.accounts[&id], is_self)
    }

    fn authorization(&self, user: i64) -> tl::enums::auth::Authorization {
        objects::authorization(&self.accounts[&user])
    }

    fn config(&self, this_dc: i32) -> tl::enums::Config {
        objects::config(&self.dcs, self.address, this_dc, now_secs())
    }

    fn user_full(&self, id: i64, is_self: bool) -> Vec<u8> {
        objects::user_full(&self.accounts[&id], is_self)
    }

    fn code_ladder(&self) -> Vec<CodeType> {
        match self.scenario.code_type.unwrap_or(CodeType::App) {
            CodeType::App => vec![CodeType::App, CodeType::Sms, CodeType::Call],
            CodeType::Sms => vec![CodeType::Sms, CodeType::Call],
            CodeType::Call => vec![CodeType::Call],
            CodeType::Email => vec![CodeType::Email],
        }
    }

    fn sent_code(&self, hash: &str, step: usize) -> tl::enums::auth::SentCode {
        let ladder = self.code_ladder();
        let r#type = match ladder[step] {
            CodeType::App => {
                tl::enums::auth::SentCodeType::App(tl::types::auth::SentCodeTypeApp { length: 5 })
            }
            CodeType::Sms => {
                tl::enums::auth::SentCodeType::Sms(tl::types::auth::SentCodeTypeSms { length: 5 })
            }
            CodeType::Call => {
                tl::enums::auth::SentCodeType::Call(tl::types::auth::SentCodeTypeCall { length: 5 })
            }
            CodeType::Email => {
                tl::enums::auth::SentCodeType::EmailCode(tl::types::auth::SentCodeTypeEmailCode {
                    apple_signin_allowed: false,
                    google_signin_allowed: false,
                    email_pattern: "s***@sandbox.invalid".into(),
                    length: 5,
                    reset_available_period: None,
                    reset_pending_date: None,
                })
            }
        };
        let next_type = ladder.get(step + 1).map(|t| match t {
            CodeType::Call => tl::enums::auth::CodeType::Call,
            _ => tl::enums::auth::CodeType::Sms,
        });
        tl::enums::auth::SentCode::Code(tl::types::auth::SentCode {
            r#type,
            phone_code_hash: hash.to_string(),
            timeout: next_type.as_ref().map(|_| 60),
            next_type,
        })
    }

    /// Handles one request body (after the invokeWithLayer/initConnection wrappers).
    /// Returns the method name for the log, and the reply.
    pub(crate) fn handle(&mut self, caller: &Caller, body: &[u8]) -> (String, Reply) {
        if body.len() < 4 {
            return ("(empty)".into(), err(400, "INPUT_REQUEST_INVALID"));
        }
        let id = u32::from_le_bytes(body[..4].try_into().expect("4 bytes"));
        let name = match tl::name_for_id(id) {
            "" => format!("#{id:08x}"),
            n => n.to_string(),
        };
        if let Some(m) = &self.scenario.drop_on
            && *m == name
            && self.dropped.insert(name.clone())
        {
            return (name, Reply::Drop);
        }
        if let Some(refused) = self.duplicated(caller) {
            self.persist();
            return (name, refused);
        }
        let reply = self.dispatch(caller, id, &body[4..]);
        self.persist();
        (name, reply)
    }

    /// The method `id`, its arguments parsed, answered by the one method that handles it.
    fn dispatch(&mut self, caller: &Caller, id: u32, args: &[u8]) -> Reply {
        use tl::functions as f;
        match id {
            f::help::GetConfig::CONSTRUCTOR_ID => ok(self.config(caller.dc)),
            f::updates::GetState::CONSTRUCTOR_ID => self.get_state(caller),
            f::updates::GetDifference::CONSTRUCTOR_ID => {
                with(args, |_: f::updates::GetDifference| {
                    self.get_difference(caller)
                })
            }
            f::users::GetFullUser::CONSTRUCTOR_ID => with(args, |r: f::users::GetFullUser| {
                self.get_full_user(caller, r.id)
            }),
            f::users::GetUsers::CONSTRUCTOR_ID => {
                with(args, |r: f::users::GetUsers| self.get_users(caller, &r.id))
            }
            f::auth::SendCode::CONSTRUCTOR_ID => {
                with(args, |r: f::auth::SendCode| self.send_code(caller, r))
            }
            f::auth::ResendCode::CONSTRUCTOR_ID => with(args, |r: f::auth::ResendCode| {
                self.resend_code(&r.phone_code_hash)
            }),
            f::auth::CancelCode::CONSTRUCTOR_ID => with(args, |r: f::auth::CancelCode| {
                self.codes.remove(&r.phone_code_hash);
                ok(true)
            }),
            f::auth::SignIn::CONSTRUCTOR_ID => {
                with(args, |r: f::auth::SignIn| self.sign_in_with_code(caller, r))
            }
            _ => self.dispatch_more(caller, id, args),
        }
    }

    /// The methods after sign-in by code: passwords, logout, bots, QR tokens, devices.
    fn dispatch_more(&mut self, caller: &Caller, id: u32, args: &[u8]) -> Reply {
        use tl::functions as f;
        match id {
            f::account::GetPassword::CONSTRUCTOR_ID => ok(self.password(caller.key_id)),
            f::auth::CheckPassword::CONSTRUCTOR_ID => with(args, |r: f::auth::CheckPassword| {
                self.check_password(caller, r)
            }),
            f::auth::LogOut::CONSTRUCTOR_ID => self.log_out(caller),
            f::auth::ImportBotAuthorization::CONSTRUCTOR_ID => {
                with(args, |r: f::auth::ImportBotAuthorization| {
                    self.import_bot(caller, &r.bot_auth_token)
                })
            }
            f::auth::ExportLoginToken::CONSTRUCTOR_ID => {
                with(args, |_: f::auth::ExportLoginToken| {
                    self.export_login_token(caller)
                })
            }
            f::auth::ImportLoginToken::CONSTRUCTOR_ID => {
                with(args, |r: f::auth::ImportLoginToken| {
                    self.import_login_token(caller, r.token)
                })
            }
            f::auth::AcceptLoginToken::CONSTRUCTOR_ID => {
                with(args, |r: f::auth::AcceptLoginToken| {
                    self.accept_token(caller, &r.token)
                })
            }
            f::account::GetAuthorizations::CONSTRUCTOR_ID => self.get_authorizations(caller),
            f::account::ResetAuthorization::CONSTRUCTOR_ID => {
                with(args, |r: f::account::ResetAuthorization| {
                    self.signed_in_user(caller.key_id).map_or_else(
                        |e| e,
                        |u| self.reset_authorization(u, caller.key_id, r.hash),
                    )
                })
            }
            _ => err(400, "METHOD_NOT_IMPLEMENTED_IN_SANDBOX"),
        }
    }

    fn get_state(&mut self, caller: &Caller) -> Reply {
        self.signed_in_user(caller.key_id).map_or_else(
            |e| e,
            |_| {
                ok(tl::enums::updates::State::State(
                    tl::types::updates::State {
                        pts: 1,
                        qts: 0,
                        date: now_secs(),
                        seq: 1,
                        unread_count: 0,
                    },
                ))
            },
        )
    }

    fn get_difference(&mut self, caller: &Caller) -> Reply {
        self.signed_in_user(caller.key_id).map_or_else(
            |e| e,
            |_| {
                ok(tl::enums::updates::Difference::Empty(
                    tl::types::updates::DifferenceEmpty {
                        date: now_secs(),
                        seq: 1,
                    },
                ))
            },
        )
    }

    fn get_full_user(&mut self, caller: &Caller, id: tl::enums::InputUser) -> Reply {
        let me = match self.signed_in_user(caller.key_id) {
            Ok(me) => me,
            Err(e) => return e,
        };
        let id = match id {
            tl::enums::InputUser::UserSelf => me,
            tl::enums::InputUser::User(u) if self.accounts.contains_key(&u.user_id) => u.user_id,
            _ => return err(400, "USER_ID_INVALID"),
        };
        Reply::Ok(self.user_full(id, id == me))
    }

    fn get_users(&mut self, caller: &Caller, ids: &[tl::enums::InputUser]) -> Reply {
        let me = match self.signed_in_user(caller.key_id) {
            Ok(me) => me,
            Err(e) => return e,
        };
        // An account that lives on another DC (its phone's, or --migrate-to since it signed
        // in) is asked for there: 303 USER_MIGRATE_X (core.telegram.org/api/errors, 303).
        if let Some(home) = self.user_dc(me).filter(|d| *d != caller.dc) {
            return err(303, format!("USER_MIGRATE_{home}"));
        }
        let users: Vec<tl::enums::User> = ids.iter().map(|u| self.user_of(u, me)).collect();
        ok(users)
    }

    /// One user of users.getUsers: the caller, a sandbox account, or userEmpty.
    fn user_of(&self, u: &tl::enums::InputUser, me: i64) -> tl::enums::User {
        match u {
            tl::enums::InputUser::UserSelf => self.user(me, true),
            tl::enums::InputUser::User(u) if self.accounts.contains_key(&u.user_id) => {
                self.user(u.user_id, u.user_id == me)
            }
            tl::enums::InputUser::User(u) => {
                tl::enums::User::Empty(tl::types::UserEmpty { id: u.user_id })
            }
            _ => tl::enums::User::Empty(tl::types::UserEmpty { id: 0 }),
        }
    }

    /// auth.resendCode: the next way down the code ladder, or SEND_CODE_UNAVAILABLE at its
    /// end.
    fn resend_code(&mut self, hash: &str) -> Reply {
        let ladder_len = self.code_ladder().len();
        let Some(p) = self.codes.get_mut(hash) else {
            return err(400, "PHONE_CODE_EXPIRED");
        };
        if p.step + 1 >= ladder_len {
            self.codes.remove(hash);
            return err(406, "SEND_CODE_UNAVAILABLE");
        }
        p.step += 1;
        p.created = Instant::now();
        let step = p.step;
        ok(self.sent_code(hash, step))
    }

    /// auth.logOut: the key is signed out, and a future auth token is handed out.
    fn log_out(&mut self, caller: &Caller) -> Reply {
        let user = match self.signed_in_user(caller.key_id) {
            Ok(u) => u,
            Err(e) => return e,
        };
        if let Some(e) = self.keys.get_mut(&caller.key_id) {
            e.auth = Auth::SignedOut;
        }
        let token = random_bytes(32);
        self.future_tokens.insert(token.clone(), user);
        self.dirty = true;
        ok(tl::enums::auth::LoggedOut::Out(
            tl::types::auth::LoggedOut {
                future_auth_token: Some(token),
            },
        ))
    }

    fn import_bot(&mut self, caller: &Caller, token: &str) -> Reply {
        match self.account_for_bot(token) {
            Some(a) => self.sign_in(caller.key_id, a.id),
            None => err(400, "ACCESS_TOKEN_INVALID"),
        }
    }

    /// auth.acceptLoginToken: answered with the authorization of the session being signed
    /// in, as Telegram does.
    fn accept_token(&mut self, caller: &Caller, token: &[u8]) -> Reply {
        let user = match self.signed_in_user(caller.key_id) {
            Ok(u) => u,
            Err(e) => return e,
        };
        match self.accept_login_token(token, user) {
            Ok(new_key) => ok(self.authorization_record(new_key, caller.key_id)),
            Err(name) => err(400, name),
        }
    }

    fn get_authorizations(&mut self, caller: &Caller) -> Reply {
        let user = match self.signed_in_user(caller.key_id) {
            Ok(u) => u,
            Err(e) => return e,
        };
        ok(tl::enums::account::Authorizations::Authorizations(
            tl::types::account::Authorizations {
                authorization_ttl_days: 180,
                authorizations: self.authorizations_of(user, caller.key_id),
            },
        ))
    }

    /// One authorization as account.getAuthorizations shows it: the key's client, from its
    /// initConnection. The hash is the key id, so a revoke names one key.
    fn authorization_record(&self, key_id: u64, caller: u64) -> tl::enums::Authorization {
        let e = self.keys.get(&key_id);
        let c = e.map(|e| e.client.clone()).unwrap_or_default();
        let or = |s: String, d: &str| if s.is_empty() { d.to_string() } else { s };
        tl::enums::Authorization::Authorization(tl::types::Authorization {
            current: key_id == caller,
            official_app: false,
            password_pending: false,
            encrypted_requests_disabled: false,
            call_requests_disabled: false,
            unconfirmed: false,
            hash: key_id as i64,
            device_model: or(c.device_model, "unknown device"),
            platform: "sandbox".into(),
            system_version: or(c.system_version, "unknown"),
            api_id: c.api_id,
            app_name: "MTProto client".into(),
            app_version: or(c.app_version, "unknown"),
            date_created: e.map(|e| e.created).unwrap_or(0),
            date_active: e.map(|e| e.active).unwrap_or(0),
            ip: "127.0.0.1".into(),
            country: format!("Sandbox DC {}", e.map(|e| e.dc).unwrap_or(0)),
            region: String::new(),
        })
    }

    fn authorizations_of(&self, user: i64, caller: u64) -> Vec<tl::enums::Authorization> {
        let mut ids: Vec<u64> = self
            .keys
            .iter()
            .filter(|(_, e)| matches!(e.auth, Auth::SignedIn { user: u, .. } if u == user))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_by_key(|id| (*id != caller, *id));
        ids.into_iter()
            .map(|id| self.authorization_record(id, caller))
            .collect()
    }

    fn reset_authorization(&mut self, user: i64, caller: u64, hash: i64) -> Reply {
        let target = hash as u64;
        if target == caller {
            // Telegram: the current session is ended with auth.logOut, not this.
            return err(406, "FRESH_RESET_AUTHORISATION_FORBIDDEN");
        }
        match self.keys.get_mut(&target) {
            Some(e) if matches!(e.auth, Auth::SignedIn { user: u, .. } if u == user) => {
                e.auth = Auth::Revoked;
                self.dirty = true;
                ok(true)
            }
            _ => err(400, "HASH_INVALID"),
        }
    }

    /// auth.acceptLoginToken on behalf of `user`: the token must exist, be alive and not
    /// yet accepted. The exporting connection gets an updateLoginToken push.
    pub(crate) fn accept_login_token(
        &mut self,
        token: &[u8],
        user: i64,
    ) -> Result<u64, &'static str> {
        let Some(t) = self.login_tokens.get_mut(token) else {
            return Err("AUTH_TOKEN_INVALID");
        };
        if t.expires <= i64::from(now_secs()) {
            return Err("AUTH_TOKEN_EXPIRED");
        }
        if t.accepted_by.is_some() {
            return Err("AUTH_TOKEN_ALREADY_ACCEPTED");
        }
        t.accepted_by = Some(user);
        let waiting = t.key_id;
        let push = tl::enums::Updates::UpdateShort(tl::types::UpdateShort {
            update: tl::enums::Update::LoginToken,
            date: now_secs(),
        })
        .to_bytes();
        self.pushes.entry(waiting).or_default().push(push);
        Ok(waiting)
    }

    /// The account of a sandbox phone, for the scan drop-box (the phone's Telegram app).
    pub(crate) fn account_id_for_phone(&mut self, phone: &str) -> Option<i64> {
        test_phone(phone)?;
        Some(self.account_for_phone(phone).id)
    }

    /// An accepted token signs the key in: on the account's DC only (elsewhere
    /// auth.loginTokenMigrateTo), and with 2FA only after the password.
    fn finish_token(&mut self, caller: &Caller, token: Vec<u8>, user: i64) -> Reply {
        if let Some(dc) = self.user_dc(user).filter(|dc| *dc != caller.dc) {
            return ok(tl::enums::auth::LoginToken::MigrateTo(
                tl::types::auth::LoginTokenMigrateTo { dc_id: dc, token },
            ));
        }
        self.login_tokens.remove(&token);
        if self.verifier.is_some() {
            if let Some(e) = self.keys.get_mut(&caller.key_id) {
                e.auth = Auth::PasswordNeeded(user);
            }
            return err(401, "SESSION_PASSWORD_NEEDED");
        }
        match self.sign_in(caller.key_id, user) {
            Reply::Ok(_) => ok(tl::enums::auth::LoginToken::Success(
                tl::types::auth::LoginTokenSuccess {
                    authorization: self.authorization(user),
                },
            )),
            other => other,
        }
    }

    fn import_login_token(&mut self, caller: &Caller, token: Vec<u8>) -> Reply {
        match self.login_tokens.get(&token) {
            Some(t) if t.expires > i64::from(now_secs()) => match t.accepted_by {
                Some(user) => self.finish_token(caller, token, user),
                None => ok(tl::enums::auth::LoginToken::Token(
                    tl::types::auth::LoginToken {
                        expires: t.expires as i32,
                        token,
                    },
                )),
            },
            Some(_) => err(400, "AUTH_TOKEN_EXPIRED"),
            None => err(400, "AUTH_TOKEN_INVALID"),
        }
    }

    fn export_login_token(&mut self, caller: &Caller) -> Reply {
        // A token this key exported and that was accepted: sign in.
        let accepted = self
            .login_tokens
            .iter()
            .find(|(_, t)| t.key_id == caller.key_id && t.accepted_by.is_some())
            .map(|(k, t)| (k.clone(), t.accepted_by.expect("checked")));
        if let Some((token, user)) = accepted {
            return self.finish_token(caller, token, user);
        }
        let token = random_bytes(32);
        let ttl = self
            .scenario
            .login_token_ttl
            .map_or(30, |d| d.as_secs() as i64);
        // 0: expired from the start (for tests of the expiry path).
        let expires = i64::from(now_secs()) + if ttl == 0 { -1 } else { ttl };
        self.login_tokens.insert(
            token.clone(),
            LoginTokenEntry {
                key_id: caller.key_id,
                expires,
                accepted_by: None,
            },
        );
        ok(tl::enums::auth::LoginToken::Token(
            tl::types::auth::LoginToken {
                expires: expires as i32,
                token,
            },
        ))
    }

    fn send_code(&mut self, caller: &Caller, req: tl::functions::auth::SendCode) -> Reply {
        if let Some(refused) = self.send_code_refusal(caller, &req) {
            return refused;
        }
        let account = self.account_for_phone(&req.phone_number);
        let tl::enums::CodeSettings::Settings(settings) = req.settings;
        for t in settings.logout_tokens.into_iter().flatten() {
            if self.future_tokens.get(&t) == Some(&account.id) {
                return self.sign_in_with_token(caller, &t, account.id);
            }
        }
        let hash = format!("{:016x}", random_i64());
        self.codes.insert(
            hash.clone(),
            PendingCode {
                phone: account.phone.clone().unwrap_or_default(),
                key_id: caller.key_id,
                created: Instant::now(),
                step: 0,
            },
        );
        ok(self.sent_code(&hash, 0))
    }

    /// Why auth.sendCode is refused, if it is: a bad api_id, a phone that is not a test
    /// number or is banned, the scenario's FLOOD_WAIT or SEND_CODE_UNAVAILABLE, or an
    /// account on another DC (PHONE_MIGRATE).
    fn send_code_refusal(
        &mut self,
        caller: &Caller,
        req: &tl::functions::auth::SendCode,
    ) -> Option<Reply> {
        if req.api_id <= 0 || req.api_hash.is_empty() {
            return Some(err(400, "API_ID_INVALID"));
        }
        let Some((phone_dc, _)) = test_phone(&req.phone_number) else {
            return Some(err(400, "PHONE_NUMBER_INVALID"));
        };
        if req.phone_number.ends_with("0000") {
            return Some(err(400, "PHONE_NUMBER_BANNED"));
        }
        if let Some(secs) = self.scenario.flood_wait {
            return Some(err(420, format!("FLOOD_WAIT_{secs}")));
        }
        if self.scenario.send_code_unavailable {
            return Some(err(406, "SEND_CODE_UNAVAILABLE"));
        }
        let home = self.account_dc(phone_dc);
        // With --migrate-to the first request is redirected even when it came from an
        // unexpected DC; after that the account simply lives on that DC.
        (caller.dc != home).then(|| {
            self.migrated = true;
            err(303, format!("PHONE_MIGRATE_{home}"))
        })
    }

    /// A stored future auth token of the account: signed in without a code, or waiting
    /// only for the 2FA password.
    fn sign_in_with_token(&mut self, caller: &Caller, token: &[u8], user: i64) -> Reply {
        self.future_tokens.remove(token);
        self.dirty = true;
        if self.verifier.is_some() {
            if let Some(e) = self.keys.get_mut(&caller.key_id) {
                e.auth = Auth::PasswordNeeded(user);
            }
            return err(401, "SESSION_PASSWORD_NEEDED");
        }
        match self.sign_in(caller.key_id, user) {
            Reply::Ok(_) => ok(tl::enums::auth::SentCode::Success(
                tl::types::auth::SentCodeSuccess {
                    authorization: self.authorization(user),
                },
            )),
            other => other,
        }
    }

    fn sign_in_with_code(&mut self, caller: &Caller, req: tl::functions::auth::SignIn) -> Reply {
        let digits: String = req
            .phone_number
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect();
        let Some((_, code)) = test_phone(&digits) else {
            return err(400, "PHONE_NUMBER_INVALID");
        };
        // A phone_code_hash is bound to the phone and to the key that requested it.
        let Some(p) = self.codes.get(&req.phone_code_hash) else {
            return err(400, "PHONE_CODE_EXPIRED");
        };
        if p.phone != digits || p.key_id != caller.key_id {
            return err(400, "PHONE_CODE_EXPIRED");
        }
        if self
            .scenario
            .code_ttl
            .is_some_and(|ttl| p.created.elapsed() >= ttl)
        {
            self.codes.remove(&req.phone_code_hash);
            return err(400, "PHONE_CODE_EXPIRED");
        }
        match req.phone_code.as_deref() {
            None | Some("") => return err(400, "PHONE_CODE_EMPTY"),
            Some(c) if c != code => return err(400, "PHONE_CODE_INVALID"),
            Some(_) => {}
        }
        self.codes.remove(&req.phone_code_hash);
        let account = self.account_for_phone(&digits);
        if self.verifier.is_some() {
            if let Some(e) = self.keys.get_mut(&caller.key_id) {
                e.auth = Auth::PasswordNeeded(account.id);
            }
            return err(401, "SESSION_PASSWORD_NEEDED");
        }
        self.sign_in(caller.key_id, account.id)
    }

    /// account.password: no password, or the SRP round of the scenario's password (its
    /// `g_b` kept for the key's auth.checkPassword).
    fn password(&mut self, key_id: u64) -> tl::enums::account::Password {
        let Some(ver) = self.verifier.clone() else {
            return password_answer(None, algo(random_bytes(8), random_bytes(16)));
        };
        let round = Round::start(&ver);
        let srp_id = random_i64();
        let srp = (
            algo(ver.salt1.clone(), ver.salt2.clone()),
            round.g_b.to_vec(),
            srp_id,
        );
        self.srp.insert(key_id, (srp_id, round));
        password_answer(Some(srp), algo(ver.salt1.clone(), random_bytes(16)))
    }

    fn check_password(
        &mut self,
        caller: &Caller,
        req: tl::functions::auth::CheckPassword,
    ) -> Reply {
        let tl::enums::InputCheckPasswordSrp::Srp(input) = req.password else {
            return err(400, "PASSWORD_HASH_INVALID");
        };
        let user = match self.keys.get(&caller.key_id).map(|e| &e.auth) {
            Some(Auth::PasswordNeeded(u)) => *u,
            _ => return err(400, "AUTH_RESTART"),
        };
        let Some(ver) = self.verifier.clone() else {
            return err(400, "PASSWORD_HASH_INVALID");
        };
        // Each round answers one check: a retry needs a fresh account.getPassword.
        let Some((srp_id, round)) = self.srp.remove(&caller.key_id) else {
            return err(400, "SRP_ID_INVALID");
        };
        if srp_id != input.srp_id {
            return err(400, "SRP_ID_INVALID");
        }
        if !round.verify(&ver, &input.a, &input.m1) {
            return err(400, "PASSWORD_HASH_INVALID");
        }
        self.sign_in(caller.key_id, user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_phones_follow_telegrams_rule() {
        assert_eq!(test_phone("9996621234"), Some((2, "22222".into())));
        assert_eq!(test_phone("+99966 3 1234"), Some((3, "33333".into())));
        assert_eq!(test_phone("9996641234"), None);
        assert_eq!(test_phone("15551234567"), None);
        assert_eq!(test_phone("999662123"), None);
    }
}
