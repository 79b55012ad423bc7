//! Connections: the transport (any of four, see `transport.rs`), decryption, the session
//! layer, and the request log.
//! Every fault closes only its own connection; the listener keeps serving.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::transport;
use grammers_crypto::ObfuscatedCipher;
use grammers_tl_types::{self as tl, Cursor, Deserializable, Serializable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::rpc::{Caller, ClientInfo, Reply, State};
use super::wire::{self, MsgIds};

const INVOKE_WITH_LAYER: u32 = 0xda9b0d0d;
const INIT_CONNECTION: u32 = 0xc1cd5ea9;
const INVOKE_WITHOUT_UPDATES: u32 = 0xbf9459b7;
const INVOKE_AFTER_MSG: u32 = 0xcb9f372d;
const MSGS_ACK: u32 = 0x62d6b459;
const PING: u32 = 0x7abe77ec;
const PING_DELAY_DISCONNECT: u32 = 0xf3427b8c;
const GET_FUTURE_SALTS: u32 = 0xb921bd04;
/// mtproto.tl: msgs_state_req#da69fb52, msg_resend_req#7d861a08 (both answered with
/// msgs_state_info#04deb57d), destroy_session#e7512126 (destroy_session_ok#e22045fc or
/// destroy_session_none#62d350c9).
const MSGS_STATE_REQ: u32 = 0xda69fb52;
const MSG_RESEND_REQ: u32 = 0x7d861a08;
const MSGS_STATE_INFO: u32 = 0x04deb57d;
const DESTROY_SESSION: u32 = 0xe7512126;
const DESTROY_SESSION_OK: u32 = 0xe22045fc;
const DESTROY_SESSION_NONE: u32 = 0x62d350c9;

/// The running DC: what every connection shares (accounts and keys, the log, pushes, the
/// RSA key, the directory).
pub(crate) struct Datacenter {
    pub(crate) state: Mutex<State>,
    pub(crate) log: Mutex<std::fs::File>,
    /// Woken when a push (updateLoginToken) is queued for some key.
    pub(crate) pushed: Notify,
    /// `--latency`: every reply, and the start of every connection, waits this long, as
    /// round trips to Telegram do (50 to 300 ms).
    pub(crate) latency: std::time::Duration,
    /// The RSA key with which clients create auth keys (`server_key.rs`).
    pub(crate) server_key: super::server_key::ServerKey,
    /// Where new auth keys are registered (`keys.rs`).
    pub(crate) dir: std::path::PathBuf,
    /// The number the next connection gets.
    pub(crate) next_conn: std::sync::atomic::AtomicU64,
}

/// What a log line says about the connection a request came on.
#[derive(Default)]
pub(crate) struct Tags {
    /// Where the connection came from (a proxy's address when a client connects through one).
    pub(crate) peer: Option<std::net::SocketAddr>,
    /// The transport told from its first bytes, once known.
    pub(crate) transport: Option<&'static str>,
    /// The layer the client declared in invokeWithLayer, once it has.
    pub(crate) layer: Option<i32>,
}

impl Datacenter {
    /// Appends one line to requests.jsonl.
    pub(crate) fn log(&self, tags: &Tags, dc: i32, key_id: u64, method: &str, result: &str) {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let line = serde_json::json!({
            "time": time,
            "dc": dc,
            "key_id": format!("{key_id:016x}"),
            "method": method,
            "result": result,
            "peer": tags.peer.map(|p| p.to_string()),
            "transport": tags.transport,
            "layer": tags.layer,
        });
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "{line}");
        }
    }
}

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Datacenter>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors (EMFILE) or a connection reset before it was accepted: try
            // again shortly instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let latency = shared.latency;
        let conn = ClientConnection::new(stream, Arc::clone(&shared));
        tokio::spawn(async move {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            conn.run().await
        });
    }
}

struct Session {
    key: [u8; 256],
    key_id: u64,
    dc: i32,
    session_id: i64,
    ids: MsgIds,
}

/// What processing a packet asks the connection to do.
enum Step {
    Continue,
    Close,
}

struct ClientConnection {
    /// This connection's number ([`Caller::conn`]).
    id: u64,
    stream: TcpStream,
    tags: Tags,
    shared: Arc<Datacenter>,
    /// Told from the first bytes ([`transport::detect`]).
    framing: Option<transport::Framing>,
    /// Set when the transport is obfuscated: every byte after the header, both ways.
    obfuscation: Option<Box<ObfuscatedCipher>>,
    session: Option<Session>,
    /// Auth key creation on this connection (`handshake.rs`).
    handshake: super::handshake::Handshake,
    /// Message ids of the plain replies during key creation.
    plain_ids: MsgIds,
    /// Top-level messages to send: (body, content-related).
    outbox: Vec<(Vec<u8>, bool)>,
}

impl Drop for ClientConnection {
    /// The key this connection used is no longer used on it.
    fn drop(&mut self) {
        if let (Some(s), Ok(mut st)) = (self.session.as_ref(), self.shared.state.lock()) {
            st.closed(s.key_id, self.id);
        }
    }
}

impl ClientConnection {
    fn new(stream: TcpStream, shared: Arc<Datacenter>) -> Self {
        ClientConnection {
            id: shared
                .next_conn
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            tags: Tags {
                peer: stream.peer_addr().ok(),
                ..Tags::default()
            },
            stream,
            shared,
            framing: None,
            obfuscation: None,
            session: None,
            handshake: Default::default(),
            plain_ids: MsgIds::default(),
            outbox: Vec::new(),
        }
    }

    async fn run(mut self) {
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        loop {
            let key_id = self.session.as_ref().map(|s| s.key_id);
            let known = buf.len();
            tokio::select! {
                read = self.stream.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                _ = self.shared.pushed.notified(), if key_id.is_some() => {
                    if self.flush_pushes().await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            if let Some(cipher) = self.obfuscation.as_mut() {
                cipher.decrypt(&mut buf[known..]);
            }
            match self.transport(&mut buf) {
                Some(true) => {}
                Some(false) => continue,
                None => return,
            }
            if self.frames(&mut buf).await.is_none() {
                return;
            }
        }
    }

    /// The connection's transport, told from its first bytes as Telegram does: `Some(true)`
    /// known, `Some(false)` more bytes needed, `None` none fits (logged; the connection
    /// closes).
    fn transport(&mut self, buf: &mut Vec<u8>) -> Option<bool> {
        if self.framing.is_some() {
            return Some(true);
        }
        match transport::detect(buf) {
            transport::Detected::NeedMore => Some(false),
            transport::Detected::Unknown(why) => {
                self.shared
                    .log(&self.tags, 0, 0, "(transport)", &format!("CLOSED: {why}"));
                None
            }
            transport::Detected::Found(f, tag) => {
                buf.drain(..tag);
                self.tags.transport = Some(f.name());
                self.framing = Some(f);
                Some(true)
            }
            transport::Detected::Obfuscated(f, mut cipher) => {
                buf.drain(..64);
                cipher.decrypt(buf);
                self.tags.transport = Some(f.obfuscated_name());
                self.framing = Some(f);
                self.obfuscation = Some(cipher);
                Some(true)
            }
        }
    }

    /// Every whole frame in `buf`, handled in order; `None` when the connection is done
    /// (a bad length, seq or CRC is logged with its reason).
    async fn frames(&mut self, buf: &mut Vec<u8>) -> Option<()> {
        loop {
            let framing = self.framing.as_mut().expect("detected before");
            let frame = match framing.unpack(buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Some(()),
                Err(why) => {
                    let name = framing.name();
                    let why = format!("CLOSED: {why} on the {name} transport");
                    self.shared.log(&self.tags, 0, 0, "(transport)", &why);
                    return None;
                }
            };
            match self.packet(&frame).await {
                Ok(Step::Continue) => {}
                Ok(Step::Close) | Err(_) => return None,
            }
        }
    }

    /// Writes framed bytes, obfuscated when the client's are.
    async fn send_raw(&mut self, mut bytes: Vec<u8>) -> std::io::Result<()> {
        if let Some(cipher) = self.obfuscation.as_mut() {
            cipher.encrypt(&mut bytes);
        }
        self.stream.write_all(&bytes).await
    }

    /// Encrypts and sends everything in the outbox, one packet per message.
    async fn flush(&mut self) -> std::io::Result<()> {
        let Some(s) = self.session.as_mut() else {
            self.outbox.clear();
            return Ok(());
        };
        let mut wire_bytes = Vec::new();
        for (body, content) in self.outbox.drain(..) {
            let msg_id = s.ids.next(!content);
            let seq = if content { s.ids.content_seq() } else { 0 };
            let packet = wire::encrypt(&s.key, wire::envelope(s.session_id, msg_id, seq, &body));
            let framing = self.framing.as_mut().expect("a session has a transport");
            wire_bytes.extend(framing.pack(&packet));
        }
        if !self.shared.latency.is_zero() {
            tokio::time::sleep(self.shared.latency).await;
        }
        self.send_raw(wire_bytes).await
    }

    async fn flush_pushes(&mut self) -> std::io::Result<()> {
        let Some(key_id) = self.session.as_ref().map(|s| s.key_id) else {
            return Ok(());
        };
        let pushes = self
            .shared
            .state
            .lock()
            .map(|mut st| st.pushes.remove(&key_id).unwrap_or_default())
            .unwrap_or_default();
        // Pushes (updateShort#78d4dec1 holding updateLoginToken#564fe691) are the same in
        // every layer the sandbox speaks (layers/l*.tl), so they go out as built.
        for p in pushes {
            self.outbox.push((p, true));
        }
        self.flush().await
    }

    /// Answers with the transport error -404, as Telegram does, and closes.
    async fn refuse(&mut self) -> std::io::Result<Step> {
        let bytes = self
            .framing
            .as_mut()
            .map(|f| f.error(-404))
            .unwrap_or_default();
        self.send_raw(bytes).await?;
        Ok(Step::Close)
    }

    /// Logs why this connection closes, with no answer (Telegram sends none either).
    fn close(&self, key_id: u64, why: &str) -> Step {
        let dc = self.session.as_ref().map_or(0, |s| s.dc);
        self.shared.log(
            &self.tags,
            dc,
            key_id,
            "(packet)",
            &format!("CLOSED: {why}"),
        );
        Step::Close
    }

    async fn packet(&mut self, frame: &[u8]) -> std::io::Result<Step> {
        if frame.len() < 8 {
            return Ok(self.close(0, "a packet shorter than an auth key id"));
        }
        let key_id = u64::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
        if key_id == 0 {
            return self.plain(frame).await;
        }
        if self.session.as_ref().is_some_and(|s| s.key_id != key_id) {
            return Ok(self.close(key_id, "a second auth key on one connection"));
        }
        if self.session.is_none() {
            let known = self
                .shared
                .state
                .lock()
                .ok()
                .and_then(|mut st| st.key(key_id).map(|e| (e.key, e.dc)));
            let Some((key, dc)) = known else {
                // Unknown key: the transport error -404, as Telegram answers.
                self.shared
                    .log(&self.tags, 0, key_id, "(unknown key)", "-404");
                return self.refuse().await;
            };
            self.session = Some(Session {
                key,
                key_id,
                dc,
                session_id: 0,
                ids: MsgIds::default(),
            });
        }
        let s = self.session.as_mut().expect("set above");
        let plain = match wire::decrypt(&s.key, frame) {
            Ok(p) => p,
            Err(e) => return Ok(self.close(key_id, &format!("cannot decrypt: {e}"))),
        };
        let env = match wire::parse_envelope(&plain) {
            Ok(env) => env,
            Err(e) => return Ok(self.close(key_id, &format!("bad envelope: {e}"))),
        };
        // Echo the client's session id: grammers panics on any other
        // (grammers-mtproto src/mtp/encrypted.rs `deserialize`).
        s.session_id = env.session_id;
        let step = self.message(env.msg_id, &env.body, 0);
        self.flush().await?;
        Ok(step)
    }

    /// A plain message (auth_key_id 0 | msg_id | length | body): a step of auth key
    /// creation. Any fault is logged with its reason and answered with the transport error
    /// -404, as Telegram does, and the connection closes.
    async fn plain(&mut self, frame: &[u8]) -> std::io::Result<Step> {
        let body = frame
            .get(20..)
            .zip(frame.get(16..20))
            .map(|(rest, len)| {
                (
                    rest,
                    u32::from_le_bytes(len.try_into().expect("4")) as usize,
                )
            })
            .and_then(|(rest, len)| rest.get(..len));
        let method = body
            .and_then(|b| b.get(..4))
            .map(|id| tl::name_for_id(u32::from_le_bytes(id.try_into().expect("4"))))
            .filter(|n| !n.is_empty())
            .unwrap_or("(plain)");
        let outcome = match body {
            Some(b) => self.handshake.step(&self.shared.server_key, b),
            None => Err("a plain message whose length field overruns the packet".into()),
        };
        let (reply, new_key) = match outcome {
            Ok(r) => r,
            Err(why) => {
                self.shared
                    .log(&self.tags, 0, 0, method, &format!("CLOSED: {why}"));
                return self.refuse().await;
            }
        };
        let (dc, key_id) = match new_key {
            Some(k) => {
                match tgsess_shared::sandbox_link::register(&self.shared.dir, k.dc, &k.key) {
                    Ok(()) => (k.dc, wire::key_id(&k.key)),
                    Err(e) => {
                        self.shared
                            .log(&self.tags, 0, 0, method, &format!("CLOSED: {e}"));
                        return Ok(Step::Close);
                    }
                }
            }
            None => (0, 0),
        };
        self.shared.log(&self.tags, dc, key_id, method, "ok");
        let mut packet = vec![0u8; 8];
        packet.extend(self.plain_ids.next(false).to_le_bytes());
        packet.extend((reply.len() as u32).to_le_bytes());
        packet.extend(reply);
        let framing = self
            .framing
            .as_mut()
            .expect("a plain message came on a transport");
        let bytes = framing.pack(&packet);
        self.send_raw(bytes).await?;
        Ok(Step::Continue)
    }

    fn message(&mut self, msg_id: i64, body: &[u8], depth: u8) -> Step {
        if body.len() < 4 || depth > 4 {
            return Step::Continue;
        }
        let id = u32::from_le_bytes(body[..4].try_into().expect("4 bytes"));
        match id {
            wire::MSG_CONTAINER => match wire::parse_container(body) {
                Ok(inner) => {
                    for m in inner {
                        if let Step::Close = self.message(m.msg_id, &m.body, depth + 1) {
                            return Step::Close;
                        }
                    }
                    Step::Continue
                }
                Err(_) => Step::Close,
            },
            wire::GZIP_PACKED => match wire::gunzip(body) {
                Ok(b) => self.message(msg_id, &b, depth + 1),
                Err(_) => Step::Close,
            },
            MSGS_ACK => Step::Continue,
            PING
            | PING_DELAY_DISCONNECT
            | GET_FUTURE_SALTS
            | MSGS_STATE_REQ
            | MSG_RESEND_REQ
            | DESTROY_SESSION => {
                let (name, answer) = self.service(id, msg_id, body);
                if let Some(s) = self.session.as_ref() {
                    self.shared.log(&self.tags, s.dc, s.key_id, name, "ok");
                }
                self.outbox.push((answer, false));
                Step::Continue
            }
            _ => self.rpc(msg_id, body),
        }
    }

    /// A service message (mtproto.tl): its name and the answer, which names the request by
    /// its msg_id where the protocol says so.
    fn service(&self, id: u32, msg_id: i64, body: &[u8]) -> (&'static str, Vec<u8>) {
        match id {
            PING => ("ping", pong(msg_id, long_at(body, 4))),
            PING_DELAY_DISCONNECT => ("ping_delay_disconnect", pong(msg_id, long_at(body, 4))),
            GET_FUTURE_SALTS => ("get_future_salts", future_salts(msg_id)),
            // One byte per asked msg_id: 4 "received" for a state request; for a resend
            // request 1 "nothing known" (the sandbox keeps no sent messages to resend).
            MSGS_STATE_REQ => ("msgs_state_req", msgs_state_info(msg_id, body, 4)),
            MSG_RESEND_REQ => ("msg_resend_req", msgs_state_info(msg_id, body, 1)),
            _ => ("destroy_session", self.destroy_session(long_at(body, 4))),
        }
    }

    fn destroy_session(&self, asked: i64) -> Vec<u8> {
        let current = self.session.as_ref().map(|s| s.session_id);
        let ctor = if Some(asked) == current {
            DESTROY_SESSION_OK
        } else {
            DESTROY_SESSION_NONE
        };
        let mut out = ctor.to_le_bytes().to_vec();
        out.extend(asked.to_le_bytes());
        out
    }

    fn rpc(&mut self, msg_id: i64, body: &[u8]) -> Step {
        let s = self.session.as_ref().expect("rpc needs a session");
        let caller = Caller {
            key_id: s.key_id,
            dc: s.dc,
            conn: self.id,
            ip: self.tags.peer.map(|p| p.ip()),
        };
        let Some((name, reply)) = self.answer(&caller, body) else {
            return Step::Close;
        };
        let Some(result) = self.encoded(&caller, &name, reply) else {
            return Step::Close;
        };
        self.outbox.push((wire::rpc_result(msg_id, &result), true));
        Step::Continue
    }

    /// The request's name and the answer to it. Clients declare their layer once, usually
    /// on a connection's first request; it holds for the rest of the connection. One the
    /// sandbox cannot answer in is refused before the request is handled. `None`: the state
    /// is poisoned, and the connection closes.
    fn answer(&mut self, caller: &Caller, body: &[u8]) -> Option<(String, Reply)> {
        match unwrap_invoke_noting(body) {
            Some((inner, _, Some(l))) if !super::layers::speaks(l) => {
                self.tags.layer = Some(l);
                let id = inner
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
                let refusal = Reply::Error(400, super::layers::unsupported_error(l));
                Some((tl::name_for_id(id).to_string(), refusal))
            }
            Some((inner, info, layer)) => {
                let mut st = self.shared.state.lock().ok()?;
                self.tags.layer = layer.or(self.tags.layer);
                st.note_client(caller.key_id, info);
                let r = st.handle(caller, inner);
                if !st.pushes.is_empty() {
                    self.shared.pushed.notify_waiters();
                }
                Some(r)
            }
            None => Some((
                "(malformed)".to_string(),
                Reply::Error(400, "INPUT_REQUEST_INVALID".into()),
            )),
        }
    }

    /// The answer's bytes in the connection's layer, logged; `None` for a dropped request
    /// (the connection closes).
    fn encoded(&self, caller: &Caller, name: &str, reply: Reply) -> Option<Vec<u8>> {
        let log = |result: &str| {
            self.shared
                .log(&self.tags, caller.dc, caller.key_id, name, result)
        };
        match reply {
            Reply::Drop => {
                log("DROPPED");
                None
            }
            Reply::Ok(bytes) => {
                let layer = self.tags.layer.unwrap_or(super::layers::NATIVE);
                Some(match super::layers::encode_for(layer, bytes) {
                    Ok(bytes) => {
                        log("ok");
                        bytes
                    }
                    Err(why) => {
                        let msg = format!("SANDBOX_CANNOT_ANSWER_IN_LAYER_{layer}");
                        log(&format!("{msg}: {why}"));
                        wire::rpc_error(500, &msg)
                    }
                })
            }
            Reply::Error(code, msg) => {
                log(&msg);
                Some(wire::rpc_error(code, &msg))
            }
        }
    }
}

/// Strips invokeWithLayer / initConnection / invokeWithoutUpdates / invokeAfterMsg and
/// returns the request inside, with what initConnection said about the client and the layer
/// invokeWithLayer declared. grammers-tl-types cannot deserialize these generic wrappers
/// (docs/mtproto-server.md), so they are unwrapped by hand.
pub(crate) fn unwrap_invoke_noting(
    body: &[u8],
) -> Option<(&[u8], Option<ClientInfo>, Option<i32>)> {
    let mut body = body;
    let mut info = None;
    let mut layer = None;
    for _ in 0..8 {
        if body.len() < 4 {
            return None;
        }
        let id = u32::from_le_bytes(body[..4].try_into().ok()?);
        let mut c = Cursor::from_slice(&body[4..]);
        match id {
            INVOKE_WITH_LAYER => {
                layer = Some(i32::deserialize(&mut c).ok()?);
            }
            INVOKE_WITHOUT_UPDATES => {}
            INVOKE_AFTER_MSG => {
                i64::deserialize(&mut c).ok()?;
            }
            INIT_CONNECTION => {
                let flags = i32::deserialize(&mut c).ok()?;
                let api_id = i32::deserialize(&mut c).ok()?;
                // device_model, system_version, app_version, system_lang_code, lang_pack,
                // lang_code (core.telegram.org/method/initConnection).
                let mut strings = Vec::new();
                for _ in 0..6 {
                    strings.push(String::deserialize(&mut c).ok()?);
                }
                info = Some(ClientInfo {
                    api_id,
                    device_model: strings[0].clone(),
                    system_version: strings[1].clone(),
                    app_version: strings[2].clone(),
                });
                if flags & 1 != 0 {
                    tl::enums::InputClientProxy::deserialize(&mut c).ok()?;
                }
                if flags & 2 != 0 {
                    tl::enums::Jsonvalue::deserialize(&mut c).ok()?;
                }
            }
            _ => return Some((body, info, layer)),
        }
        body = &body[4 + c.pos()..];
    }
    None
}

/// The little-endian long at `at`, or 0.
fn long_at(body: &[u8], at: usize) -> i64 {
    body.get(at..at + 8)
        .map_or(0, |c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
}

fn pong(msg_id: i64, ping_id: i64) -> Vec<u8> {
    tl::enums::Pong::Pong(tl::types::Pong { msg_id, ping_id }).to_bytes()
}

/// One salt that is valid forever: the sandbox checks none.
fn future_salts(msg_id: i64) -> Vec<u8> {
    tl::enums::FutureSalts::Salts(tl::types::FutureSalts {
        req_msg_id: msg_id,
        now: super::rpc::now_secs(),
        salts: tl::RawVec(vec![tl::types::FutureSalt {
            valid_since: 0,
            valid_until: i32::MAX,
            salt: 0,
        }]),
    })
    .to_bytes()
}

/// msgs_state_info with `fill` for each msg_id asked about.
fn msgs_state_info(msg_id: i64, body: &[u8], fill: u8) -> Vec<u8> {
    let n = body
        .get(8..12)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4")) as usize)
        .unwrap_or(0)
        .min(8192);
    let mut out = MSGS_STATE_INFO.to_le_bytes().to_vec();
    out.extend(msg_id.to_le_bytes());
    out.extend(vec![fill; n].to_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_what_grammers_sends_first() {
        let req = tl::functions::InvokeWithLayer {
            layer: tl::LAYER,
            query: tl::functions::InitConnection {
                api_id: 1,
                device_model: "d".into(),
                system_version: "s".into(),
                app_version: "a".into(),
                system_lang_code: "en".into(),
                lang_pack: "".into(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: tl::functions::help::GetConfig {},
            },
        }
        .to_bytes();
        let (inner, _, _) = unwrap_invoke_noting(&req).unwrap();
        assert_eq!(inner, &tl::functions::help::GetConfig {}.to_bytes()[..]);
    }
}
