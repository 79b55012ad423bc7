//! The sandbox under bad input, load, and as a command: faults close only their own
//! connection; other clients keep being served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use grammers_crypto::DequeBuffer;
use grammers_mtproto::transport::{Full, Transport};
use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;
use tgsess::net::Connection;
use tgsess_sandbox::Scenario;

use crate::common::*;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut dq = DequeBuffer::with_capacity(payload.len(), 8);
    dq.extend(payload.iter().copied());
    Full::new().pack(&mut dq);
    dq[..].to_vec()
}

/// Sends bytes, then reads until the server closes (bounded by a timeout).
fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

async fn still_serves(dc: &EmbeddedDc) {
    let conn = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    assert!(!conn.client.is_authorized().await.unwrap());
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_closes_only_that_connection() {
    let dc = start(Scenario::default()).await;
    let addr = dc.running.address;
    // Unknown auth key: the transport error -404, then close.
    let mut packet = vec![0u8; 8 + 16 + 64];
    packet[..8].copy_from_slice(&0x1234_5678_9abc_def0u64.to_le_bytes());
    let reply = tokio::task::spawn_blocking(move || exchange(addr, &frame(&packet)))
        .await
        .unwrap();
    assert_eq!(reply, (-404i32).to_le_bytes().to_vec());
    // Wrong CRC: closed without an answer.
    let mut bad = frame(&[1u8; 64]);
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    let reply = tokio::task::spawn_blocking(move || exchange(addr, &bad))
        .await
        .unwrap();
    assert!(reply.is_empty());
    // Random bytes, a frame too short to hold a key id, a huge length, a plain (key
    // generation) request: each closes.
    let random: Vec<u8> = (0..512u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
        .collect();
    for bytes in [
        random,
        frame(&[0u8; 4]),
        (1i32 << 30).to_le_bytes().to_vec(),
        frame(&[0u8; 40]),
    ] {
        let reply = tokio::task::spawn_blocking(move || exchange(addr, &bytes))
            .await
            .unwrap();
        assert!(reply.len() <= 4, "{reply:?}");
    }
    still_serves(&dc).await;
}

#[tokio::test]
async fn unimplemented_method_gets_an_rpc_error_and_the_connection_lives() {
    let dc = start(Scenario::default()).await;
    let conn = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    let e = conn
        .client
        .invoke(&tl::functions::help::GetNearestDc {})
        .await
        .unwrap_err();
    let InvocationError::Rpc(r) = &e else {
        panic!("{e}")
    };
    assert_eq!(r.name, "METHOD_NOT_IMPLEMENTED_IN_SANDBOX");
    // Same connection, next request.
    assert!(!conn.client.is_authorized().await.unwrap());
    conn.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_on_closes_the_first_time_only() {
    let dc = start(Scenario {
        drop_on: Some("updates.getState".into()),
        ..Default::default()
    })
    .await;
    let conn = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    let e = conn.client.is_authorized().await.unwrap_err();
    assert!(
        matches!(e, InvocationError::Io(_) | InvocationError::Dropped(_)),
        "{e}"
    );
    // NoRetries: the dropped request was not sent again by itself.
    let log = std::fs::read_to_string(dc.running.dir.join("requests.jsonl")).unwrap();
    assert_eq!(log.matches("updates.getState").count(), 1, "{log}");
    assert!(log.contains("DROPPED"));
    conn.close().await;
    // The next client's same request is answered: the drop happens once. (A fresh client,
    // because grammers' pool may still route a request to the dead connection for a moment
    // after a drop, grammers-mtsender 0.11 src/sender_pool.rs `run`.)
    let again = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    assert!(!again.client.is_authorized().await.unwrap());
    again.close().await;
    let log = std::fs::read_to_string(dc.running.dir.join("requests.jsonl")).unwrap();
    assert_eq!(log.matches("updates.getState").count(), 2, "{log}");
}

/// A stress test, not a timing test: 50 clients at once, each with its own key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_connections() {
    let dc = Arc::new(start(Scenario::default()).await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let dc = Arc::clone(&dc);
        tasks.push(tokio::spawn(async move {
            let conn = Connection::new(
                seeded_session(&dc.running.dir, dc.running.address).await,
                1,
                &tgsess::net::Route::direct(),
            )
            .unwrap();
            let ok = !conn.client.is_authorized().await.unwrap();
            (conn, ok)
        }));
    }
    let mut conns = Vec::new();
    for t in tasks {
        let (c, ok) = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .unwrap()
            .unwrap();
        assert!(ok);
        conns.push(c);
    }
    // All 50 are open at once; close them.
    for c in conns {
        c.close().await;
    }
    let log = std::fs::read_to_string(dc.running.dir.join("requests.jsonl")).unwrap();
    assert_eq!(log.matches("updates.getState").count(), 50);
}

#[test]
fn sandbox_command_writes_its_files_then_announces_and_stops_on_sigterm() {
    use std::os::unix::fs::PermissionsExt;
    // Dc::start has read the announcement line; the files were there before it.
    let mut dc = Dc::start_fresh(&[]);
    for f in [
        "tgsess.toml",
        "session.string",
        "requests.jsonl",
        "sandbox.json",
        "server_key.pem",
        "server_key.fingerprint",
        "server_key.private.pem",
    ] {
        let p = dc.dir.join(f);
        assert!(p.exists(), "{f}");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let toml = std::fs::read_to_string(dc.config()).unwrap();
    assert!(toml.contains("phone = \"9996621234\""));
    let s = std::fs::read_to_string(dc.dir.join("session.string")).unwrap();
    assert_eq!(s.trim().len(), 353, "Telethon IPv4 StringSession length");
    let fingerprint = std::fs::read_to_string(dc.dir.join("server_key.fingerprint")).unwrap();
    let status = dc.stop().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!dc.dir.join("sandbox.json").exists());
    // A restart on the same directory keeps its RSA key.
    dc.restart();
    let again = std::fs::read_to_string(dc.dir.join("server_key.fingerprint")).unwrap();
    assert_eq!(again, fingerprint);
}

/// A real grammers Sender over each transport grammers has, obfuscated ones included: the
/// sandbox tells them apart by their first bytes and answers each in kind (here 401: the
/// fresh key is not signed in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grammers_transport_is_served() {
    use grammers_mtproto::transport::{Abridged, Intermediate, Obfuscated};
    use grammers_mtsender::{ServerAddr, connect_with_auth};
    let dc = start(Scenario::default()).await;
    let address = dc.running.address;
    async fn ask<T: Transport>(t: T, address: std::net::SocketAddr, dir: &std::path::Path) {
        // grammers' Abridged unpack takes a frame whose first word is negative for a
        // transport error (grammers-mtproto 0.11 src/transport/abridged.rs `unpack`), and an
        // encrypted packet starts with the key id: use a key whose id's low word is positive.
        let key = loop {
            let k = tgsess_shared::sandbox_link::new_key();
            if (tgsess_shared::mtproto::key_id(&k) as u32 as i32) >= 0 {
                break k;
            }
        };
        tgsess_shared::sandbox_link::register(dir, 2, &key).unwrap();
        let mut sender = connect_with_auth(t, ServerAddr::Tcp { address }, key)
            .await
            .unwrap();
        let reply = tokio::time::timeout(
            Duration::from_secs(10),
            sender.invoke(&tl::functions::updates::GetState {}),
        )
        .await
        .unwrap();
        match reply {
            Err(InvocationError::Rpc(r)) => assert_eq!(r.code, 401, "{r:?}"),
            other => panic!("{other:?}"),
        }
    }
    ask(Abridged::new(), address, &dc.running.dir).await;
    ask(Intermediate::new(), address, &dc.running.dir).await;
    ask(Full::new(), address, &dc.running.dir).await;
    ask(Obfuscated::new(Abridged::new()), address, &dc.running.dir).await;
    ask(
        Obfuscated::new(Intermediate::new()),
        address,
        &dc.running.dir,
    )
    .await;
    let log = request_log(&dc.running.dir);
    let states = log
        .iter()
        .filter(|(m, r)| m == "updates.getState" && r == "AUTH_KEY_UNREGISTERED")
        .count();
    assert_eq!(states, 5, "{log:?}");
    // Each line names its connection's transport; a bare Sender declares no layer.
    let mut transports: Vec<String> = crate::common::request_lines(&dc.running.dir)
        .into_iter()
        .filter(|v| v["method"] == "updates.getState")
        .inspect(|v| assert!(v["layer"].is_null(), "{v}"))
        .map(|v| v["transport"].as_str().unwrap().to_string())
        .collect();
    transports.sort();
    assert_eq!(
        transports,
        [
            "abridged",
            "full",
            "intermediate",
            "obfuscated abridged",
            "obfuscated intermediate"
        ]
    );
    // Something that is no transport: closed, and the close logged with its reason.
    let junk = tokio::task::spawn_blocking(move || exchange(address, b"GET / HTTP/1.1\r\n\r\n"))
        .await
        .unwrap();
    assert!(junk.is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = request_log(&dc.running.dir);
    assert!(
        log.iter()
            .any(|(m, r)| m == "(transport)" && r.contains("fit no transport")),
        "{log:?}"
    );
    still_serves(&dc).await;
}

/// `invokeWithLayer(LAYER, query)` sent as is, its answer kept as raw bytes: grammers would
/// read any answer as layer 230.
struct InLayer {
    layer: i32,
    query: Vec<u8>,
}

impl tl::Serializable for InLayer {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        buf.extend(0xda9b0d0du32.to_le_bytes());
        buf.extend(self.layer.to_le_bytes());
        buf.extend(self.query.iter().copied());
    }
}

#[derive(Debug)]
struct RawAnswer(Vec<u8>);

impl tl::Deserializable for RawAnswer {
    fn deserialize(buf: &mut tl::Cursor) -> tl::deserialize::Result<Self> {
        let mut v = Vec::new();
        buf.read_to_end(&mut v)?;
        Ok(RawAnswer(v))
    }
}

impl tl::RemoteCall for InLayer {
    type Return = RawAnswer;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_come_in_the_layer_the_client_declared() {
    use tl::Serializable as _;
    let dc = start(Scenario::default()).await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    let c = &conn.client;
    let token = c.request_login_code("9996621234", "sandbox").await.unwrap();
    c.sign_in(&token, "22222").await.unwrap();
    let get_me = tl::functions::users::GetUsers {
        id: vec![tl::enums::InputUser::UserSelf],
    }
    .to_bytes();
    // Layer 181 (hydrogram 0.2.0): its own `user` constructor, decodable with its schema.
    let RawAnswer(bytes) = c
        .invoke(&InLayer {
            layer: 181,
            query: get_me.clone(),
        })
        .await
        .unwrap();
    assert_eq!(bytes[..8], [0x15, 0xc4, 0xb5, 0x1c, 1, 0, 0, 0]);
    assert_eq!(bytes[8..12], 0x215c4438u32.to_le_bytes(), "user#215c4438");
    let l181 = tgsess_sandbox::layers::Schema::parse(include_str!(
        "../../crates/sandbox/src/layers/l181.tl"
    ))
    .unwrap();
    let tgsess_sandbox::layers::Value::Vector(users) = l181.decode_answer(&bytes).unwrap() else {
        panic!("not a vector")
    };
    let tgsess_sandbox::layers::Value::Object(name, fields) = &users[0] else {
        panic!("not an object")
    };
    assert_eq!(name, "user");
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "self" && *v == tgsess_sandbox::layers::Value::True)
    );
    // A layer the sandbox does not speak: refused, naming those it does, and not handled.
    let e = c
        .invoke(&InLayer {
            layer: 199,
            query: tl::functions::auth::LogOut {}.to_bytes(),
        })
        .await
        .unwrap_err();
    match e {
        // grammers lifts the first number out of the name into `value`, as for FLOOD_WAIT_X.
        InvocationError::Rpc(r) => assert_eq!(
            (r.name.as_str(), r.value),
            (
                "CONNECTION_LAYER_INVALID_SANDBOX_SPEAKS_181_198_220_225_229_230",
                Some(199)
            )
        ),
        other => panic!("{other}"),
    }
    conn.close().await;
    let lines = crate::common::request_lines(&dc.running.dir);
    let last: Vec<_> = lines.iter().rev().take(2).collect();
    assert_eq!(
        (last[1]["method"].as_str(), last[1]["layer"].as_i64()),
        (Some("users.getUsers"), Some(181))
    );
    assert_eq!(
        (last[0]["method"].as_str(), last[0]["layer"].as_i64()),
        (Some("auth.logOut"), Some(199))
    );
    // Still signed in: the refused logOut was never handled.
    assert!(
        !lines
            .iter()
            .any(|l| l["method"] == "auth.logOut" && l["result"] == "ok")
    );
}
