//! Auth key creation against the sandbox's own RSA key, driven by a client written here from
//! the published protocol (core.telegram.org/mtproto/auth_key), not by the server's code:
//! the Intermediate transport by hand, grammers-crypto's client-side primitives (RSA_PAD,
//! factorisation, AES-IGE, the nonce-derived AES key) and grammers-tl-types' constructors.
//! The key it makes then signs in through the real grammers client.

use std::net::SocketAddr;

use grammers_tl_types::{self as tl, Deserializable, Serializable};
use num_bigint::BigUint;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha1::Digest;
use tgsess::net::Connection;
use tgsess_sandbox::Scenario;

use crate::common::*;

/// Telegram's DH prime, copied from core.telegram.org/mtproto/auth_key.
const TELEGRAM_PRIME: &str = "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f\
48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13ab\
dc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4\
a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d\
169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f\
0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";

fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

/// The sandbox's public key as a client reads it: `server_key.pem`, and the fingerprint
/// computed here (SHA1 of TL bytes n + TL bytes e, low 8 bytes).
struct PublicKey {
    n: BigUint,
    e: BigUint,
    fingerprint: i64,
}

fn public_key(dc: &EmbeddedDc) -> PublicKey {
    let pem = std::fs::read_to_string(dc.running.dir.join("server_key.pem")).unwrap();
    let k = rsa::RsaPublicKey::from_pkcs1_pem(&pem).unwrap();
    assert_eq!(k.n().bits(), 2048);
    let (n, e) = (k.n().to_bytes_be(), k.e().to_bytes_be());
    let digest = sha1(&[&n.to_bytes(), &e.to_bytes()]);
    let fingerprint = i64::from_le_bytes(digest[12..].try_into().unwrap());
    let file = std::fs::read_to_string(dc.running.dir.join("server_key.fingerprint")).unwrap();
    assert_eq!(file.trim().parse::<i64>().unwrap(), fingerprint);
    PublicKey {
        n: BigUint::from_bytes_be(&n),
        e: BigUint::from_bytes_be(&e),
        fingerprint,
    }
}

/// How the client encrypts p_q_inner_data for req_DH_params.
#[derive(Clone, Copy)]
enum Rsa {
    /// RSA_PAD, as grammers and mtcute do (grammers-crypto `rsa::encrypt_hashed`).
    Pad,
    /// SHA1(data) + data + padding to 255 bytes, as Telethon's `use_old` and Pyrogram do.
    Sha1Form,
}

fn encrypt(rsa: Rsa, key: &PublicKey, data: &[u8]) -> Vec<u8> {
    match rsa {
        Rsa::Pad => {
            let k = grammers_crypto::rsa::Key::new(&key.n.to_string(), &key.e.to_string()).unwrap();
            grammers_crypto::rsa::encrypt_hashed(data, &k, &random::<224>())
        }
        Rsa::Sha1Form => {
            let mut m = sha1(&[data]).to_vec();
            m.extend_from_slice(data);
            m.extend(random::<255>().iter().take(255 - m.len()));
            let c = BigUint::from_bytes_be(&m)
                .modpow(&key.e, &key.n)
                .to_bytes_be();
            let mut out = vec![0u8; 256 - c.len()];
            out.extend(c);
            out
        }
    }
}

/// What a step of the exchange may be made to get wrong.
#[derive(Clone, Copy, Default)]
struct Faults {
    wrong_fingerprint: bool,
    wrong_p: bool,
}

/// The state after resPQ.
struct AfterPq {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    p: u64,
    q: u64,
    pq: u64,
}

fn req_pq(c: &mut Plain, key: &PublicKey) -> AfterPq {
    let nonce = random::<16>();
    let tl::enums::ResPq::Pq(res) =
        c.call::<tl::enums::ResPq>(&tl::functions::ReqPqMulti { nonce }.to_bytes());
    assert_eq!(res.nonce, nonce);
    assert_eq!(res.server_public_key_fingerprints, vec![key.fingerprint]);
    assert_eq!(res.pq.len(), 8);
    let pq = u64::from_be_bytes(res.pq[..].try_into().unwrap());
    let (p, q) = grammers_crypto::factorize(pq);
    AfterPq {
        nonce,
        server_nonce: res.server_nonce,
        p,
        q,
        pq,
    }
}

fn req_dh_params(
    a: &AfterPq,
    key: &PublicKey,
    rsa: Rsa,
    dc: Option<i32>,
    new_nonce: [u8; 32],
    faults: Faults,
) -> tl::functions::ReqDhParams {
    let bytes = |x: u64| BigUint::from(x).to_bytes_be();
    let inner = match dc {
        None => tl::enums::PQInnerData::Data(tl::types::PQInnerData {
            pq: a.pq.to_be_bytes().to_vec(),
            p: bytes(a.p),
            q: bytes(a.q),
            nonce: a.nonce,
            server_nonce: a.server_nonce,
            new_nonce,
        }),
        Some(dc) => tl::enums::PQInnerData::Dc(tl::types::PQInnerDataDc {
            pq: a.pq.to_be_bytes().to_vec(),
            p: bytes(a.p),
            q: bytes(a.q),
            nonce: a.nonce,
            server_nonce: a.server_nonce,
            new_nonce,
            dc,
        }),
    };
    tl::functions::ReqDhParams {
        nonce: a.nonce,
        server_nonce: a.server_nonce,
        p: bytes(if faults.wrong_p { a.p + 2 } else { a.p }),
        q: bytes(a.q),
        public_key_fingerprint: if faults.wrong_fingerprint {
            key.fingerprint ^ 1
        } else {
            key.fingerprint
        },
        encrypted_data: encrypt(rsa, key, &inner.to_bytes()),
    }
}

/// server_DH_params_ok, decrypted and checked as the auth_key page says a client must.
fn server_dh_inner(
    a: &AfterPq,
    new_nonce: &[u8; 32],
    answer: tl::enums::ServerDhParams,
) -> tl::types::ServerDhInnerData {
    let tl::enums::ServerDhParams::Ok(ok) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!((ok.nonce, ok.server_nonce), (a.nonce, a.server_nonce));
    let (k, iv) = grammers_crypto::generate_key_data_from_nonce(&a.server_nonce, new_nonce);
    let mut plain = ok.encrypted_answer;
    grammers_crypto::aes::ige_decrypt(&mut plain, &k, &iv);
    let mut cur = tl::Cursor::from_slice(&plain[20..]);
    let tl::enums::ServerDhInnerData::Data(inner) =
        tl::enums::ServerDhInnerData::deserialize(&mut cur).unwrap();
    assert_eq!(
        plain[..20],
        sha1(&[&plain[20..20 + cur.pos()]]),
        "answer hash"
    );
    assert!(
        plain.len() - 20 - cur.pos() < 16,
        "at most 15 bytes of padding"
    );
    assert_eq!((inner.nonce, inner.server_nonce), (a.nonce, a.server_nonce));
    assert_eq!(inner.g, 3);
    assert_eq!(
        BigUint::from_bytes_be(&inner.dh_prime),
        BigUint::parse_bytes(TELEGRAM_PRIME.as_bytes(), 16).unwrap()
    );
    inner
}

/// A whole exchange on one connection: the new key, as the client computed it.
fn create_key(addr: SocketAddr, key: &PublicKey, rsa: Rsa, dc: Option<i32>) -> [u8; 256] {
    let mut c = Plain::connect(addr);
    let a = req_pq(&mut c, key);
    let new_nonce = random::<32>();
    let req = req_dh_params(&a, key, rsa, dc, new_nonce, Faults::default());
    let answer = c.call::<tl::enums::ServerDhParams>(&req.to_bytes());
    let inner = server_dh_inner(&a, &new_nonce, answer);
    let prime = BigUint::from_bytes_be(&inner.dh_prime);
    let g_a = BigUint::from_bytes_be(&inner.g_a);
    let edge = BigUint::from(1u8) << (2048 - 64);
    assert!(g_a > edge && g_a < &prime - &edge, "g_a in the safe range");
    let b = BigUint::from_bytes_be(&random::<256>());
    let g_b = BigUint::from(3u8).modpow(&b, &prime);
    let set = set_client_dh(&a, &new_nonce, &g_b);
    let tl::enums::SetClientDhParamsAnswer::DhGenOk(ok) =
        c.call::<tl::enums::SetClientDhParamsAnswer>(&set.to_bytes())
    else {
        panic!("not dh_gen_ok")
    };
    let shared = g_a.modpow(&b, &prime).to_bytes_be();
    let mut auth_key = [0u8; 256];
    auth_key[256 - shared.len()..].copy_from_slice(&shared);
    let aux = sha1(&[&auth_key]);
    let hash1 = sha1(&[&new_nonce, &[1], &aux[..8]]);
    assert_eq!(ok.new_nonce_hash1, hash1[4..]);
    // A replay of the last step on the same connection is refused.
    c.send(&set.to_bytes());
    assert_eq!(c.recv(), Answer::Transport(-404));
    auth_key
}

fn set_client_dh(
    a: &AfterPq,
    new_nonce: &[u8; 32],
    g_b: &BigUint,
) -> tl::functions::SetClientDhParams {
    let inner = tl::enums::ClientDhInnerData::Data(tl::types::ClientDhInnerData {
        nonce: a.nonce,
        server_nonce: a.server_nonce,
        retry_id: 0,
        g_b: g_b.to_bytes_be(),
    })
    .to_bytes();
    let mut data = sha1(&[&inner]).to_vec();
    data.extend(inner);
    while !data.len().is_multiple_of(16) {
        data.push(0);
    }
    let (k, iv) = grammers_crypto::generate_key_data_from_nonce(&a.server_nonce, new_nonce);
    grammers_crypto::aes::ige_encrypt(&mut data, &k, &iv);
    tl::functions::SetClientDhParams {
        nonce: a.nonce,
        server_nonce: a.server_nonce,
        encrypted_data: data,
    }
}

/// The key, used by the real grammers client: a code is sent and the account signs in.
async fn sign_in_with(dc: &EmbeddedDc, dc_id: i32, key: [u8; 256]) -> i64 {
    let s = memory_session(dc.running.address, dc_id, &[(dc_id, key)]).await;
    let conn = Connection::new(s, 1, &tgsess::net::Route::direct()).unwrap();
    let c = &conn.client;
    assert!(!c.is_authorized().await.unwrap());
    let token = c.request_login_code("9996621234", "sandbox").await.unwrap();
    let user = match c.sign_in(&token, "22222").await {
        Ok(u) => u.id().bare_id().unwrap(),
        Err(e) => panic!("{e}"),
    };
    conn.close().await;
    user
}

fn key_id(key: &[u8; 256]) -> String {
    let h = sha1(&[key]);
    format!("{:016x}", u64::from_le_bytes(h[12..20].try_into().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_pad_exchange_makes_a_key_that_signs_in() {
    let dc = start(Scenario::default()).await;
    let pk = public_key(&dc);
    let addr = dc.running.address;
    let key = tokio::task::spawn_blocking(move || create_key(addr, &pk, Rsa::Pad, None))
        .await
        .unwrap();
    let user = sign_in_with(&dc, 2, key).await;
    assert!(user > 0);
    let id = key_id(&key);
    let lines = request_lines(&dc.running.dir);
    let steps: Vec<_> = lines
        .iter()
        .take(4)
        .map(|l| (l["method"].as_str().unwrap(), l["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps[..3],
        [
            ("req_pq_multi", "ok"),
            ("req_DH_params", "ok"),
            ("set_client_DH_params", "ok")
        ]
    );
    assert_eq!(lines[2]["key_id"], id.as_str());
    assert_eq!(lines[2]["dc"], 2);
    assert!(
        steps[3]
            .1
            .starts_with("CLOSED: set_client_DH_params without"),
        "{steps:?}"
    );
    assert!(lines.iter().any(|l| l["method"] == "auth.signIn"
        && l["key_id"] == id.as_str()
        && l["result"] == "ok"));
    // The key is registered like any other: it survives in the sandbox directory.
    assert!(
        dc.running
            .dir
            .join("keys")
            .join(format!("{id}.key"))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha1_form_exchange_with_a_test_dc_id() {
    let dc = start(Scenario::default()).await;
    let pk = public_key(&dc);
    let addr = dc.running.address;
    // Telethon sends p_q_inner_data with no DC; mtcute p_q_inner_data_dc, 10000 + id on test
    // servers. Both fit in the SHA1 form here.
    let key =
        tokio::task::spawn_blocking(move || create_key(addr, &pk, Rsa::Sha1Form, Some(10002)))
            .await
            .unwrap();
    let lines = request_lines(&dc.running.dir);
    // DC 2 is the sandbox phone's home DC (on another, sign-in migrates there).
    assert_eq!(lines[2]["dc"], 2);
    assert!(sign_in_with(&dc, 2, key).await > 0);
}

/// Each fault is answered with -404 and logged with its reason; the next client is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_close_only_their_connection() {
    let dc = start(Scenario::default()).await;
    let addr = dc.running.address;
    let reasons = tokio::task::spawn_blocking({
        let dc_dir = dc.running.dir.clone();
        let pk = public_key(&dc);
        move || {
            let mut reasons = Vec::new();
            for fault in ["fingerprint", "p", "replay", "overrun", "garbage", "order"] {
                let before = request_lines(&dc_dir).len();
                let mut c = Plain::connect(addr);
                match fault {
                    "overrun" => {
                        let mut p = vec![0u8; 8];
                        p.extend(1i64.to_le_bytes());
                        p.extend(400u32.to_le_bytes());
                        p.extend([0u8; 20]);
                        c.send_raw(&p);
                    }
                    "order" => c.send(
                        &tl::functions::SetClientDhParams {
                            nonce: [1; 16],
                            server_nonce: [2; 16],
                            encrypted_data: vec![0; 48],
                        }
                        .to_bytes(),
                    ),
                    _ => {
                        let a = req_pq(&mut c, &pk);
                        let faults = Faults {
                            wrong_fingerprint: fault == "fingerprint",
                            wrong_p: fault == "p",
                        };
                        let mut req = req_dh_params(&a, &pk, Rsa::Pad, None, random(), faults);
                        if fault == "garbage" {
                            req.encrypted_data = vec![0x42; 255];
                        }
                        if fault == "replay" {
                            // The same request on a second connection, after the first
                            // was answered: that nonce is spent.
                            c.call::<tl::enums::ServerDhParams>(&req.to_bytes());
                            c = Plain::connect(addr);
                        }
                        c.send(&req.to_bytes());
                    }
                }
                assert_eq!(c.recv(), Answer::Transport(-404), "{fault}");
                assert_eq!(c.recv(), Answer::Closed, "{fault}");
                // Another client is served at once.
                create_key(addr, &pk, Rsa::Pad, None);
                // The fault's own line: the first close logged after it was sent.
                let fault_line = request_lines(&dc_dir)
                    .into_iter()
                    .skip(before)
                    .find(|l| l["result"].as_str().unwrap().starts_with("CLOSED: "))
                    .unwrap();
                reasons.push(fault_line["result"].as_str().unwrap().to_string());
            }
            reasons
        }
    })
    .await
    .unwrap();
    let expect = [
        "RSA key fingerprint",
        "wrong factorisation of pq",
        "without a pending req_pq",
        "length field overruns",
        "fits neither RSA_PAD nor the SHA1 form",
        "without a pending req_DH_params",
    ];
    for (got, want) in reasons.iter().zip(expect) {
        assert!(got.contains(want), "{got} / {want}");
    }
    assert_eq!(reasons.len(), expect.len());
}

/// The service messages clients send around sign-in, answered as mtproto.tl says: each
/// names the request it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_messages_are_answered_as_the_protocol_says() {
    let dc = start(Scenario::default()).await;
    let pk = public_key(&dc);
    let addr = dc.running.address;
    let key = tokio::task::spawn_blocking(move || {
        let key = create_key(addr, &pk, Rsa::Pad, None);
        let mut s = Encrypted::new(addr, key);
        // msgs_state_req: one byte per msg_id (4: received).
        let mut req = 0xda69fb52u32.to_le_bytes().to_vec();
        req.extend(vec![7i64, 11].to_bytes());
        let (id, tl::enums::MsgsStateInfo::Info(info)) = s.ask::<tl::enums::MsgsStateInfo>(&req);
        assert_eq!((info.req_msg_id, info.info), (id, vec![4, 4]));
        // msg_resend_req: 1 (nothing known) for each, as the sandbox keeps nothing to resend.
        let mut req = 0x7d861a08u32.to_le_bytes().to_vec();
        req.extend(vec![7i64].to_bytes());
        let (id, tl::enums::MsgsStateInfo::Info(info)) = s.ask::<tl::enums::MsgsStateInfo>(&req);
        assert_eq!((info.req_msg_id, info.info), (id, vec![1]));
        // get_future_salts: a salt valid now.
        let (id, tl::enums::FutureSalts::Salts(salts)) =
            s.ask::<tl::enums::FutureSalts>(&tl::functions::GetFutureSalts { num: 1 }.to_bytes());
        assert_eq!(salts.req_msg_id, id);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i32;
        assert!(
            salts
                .salts
                .0
                .iter()
                .any(|f| f.valid_since <= now && now < f.valid_until)
        );
        // ping and ping_delay_disconnect: pong with both ids.
        for body in [
            tl::functions::Ping { ping_id: 99 }.to_bytes(),
            tl::functions::PingDelayDisconnect {
                ping_id: 98,
                disconnect_delay: 75,
            }
            .to_bytes(),
        ] {
            let (id, tl::enums::Pong::Pong(p)) = s.ask::<tl::enums::Pong>(&body);
            assert_eq!(p.msg_id, id);
            assert!(p.ping_id == 99 || p.ping_id == 98);
        }
        // destroy_session: ok for this session, none for one that never existed.
        let ours = s.session_id;
        let (_, res) = s.ask::<tl::enums::DestroySessionRes>(
            &tl::functions::DestroySession { session_id: ours }.to_bytes(),
        );
        assert_eq!(
            res,
            tl::enums::DestroySessionRes::DestroySessionOk(tl::types::DestroySessionOk {
                session_id: ours
            })
        );
        let (_, res) = s.ask::<tl::enums::DestroySessionRes>(
            &tl::functions::DestroySession {
                session_id: ours ^ 1,
            }
            .to_bytes(),
        );
        assert_eq!(
            res,
            tl::enums::DestroySessionRes::DestroySessionNone(tl::types::DestroySessionNone {
                session_id: ours ^ 1
            })
        );
        key
    })
    .await
    .unwrap();
    // Each one is a line in the request log, under the key it came with.
    let id = key_id(&key);
    let logged: Vec<String> = request_lines(&dc.running.dir)
        .iter()
        .filter(|l| l["key_id"] == id.as_str())
        .map(|l| {
            format!(
                "{} {}",
                l["method"].as_str().unwrap(),
                l["result"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        logged,
        [
            "set_client_DH_params ok",
            "msgs_state_req ok",
            "msg_resend_req ok",
            "get_future_salts ok",
            "ping ok",
            "ping_delay_disconnect ok",
            "destroy_session ok",
            "destroy_session ok",
        ]
    );
}
