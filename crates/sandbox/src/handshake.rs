//! The server side of auth key creation (core.telegram.org/mtproto/auth_key):
//! req_pq_multi (or req_pq) → resPQ, req_DH_params → server_DH_params_ok,
//! set_client_DH_params → dh_gen_ok, all as plain (unencrypted) messages on one connection.
//!
//! The RSA step accepts both encodings clients use: RSA_PAD (grammers, mtcute; the auth_key
//! page, section 4.1) and the older `SHA1(data) + data + padding` (Telethon's
//! `rsa.encrypt(use_old=True)`, Pyrogram, GramJS). The DH group is Telegram's own 2048-bit
//! prime with g = 3, since Pyrogram and its forks refuse any other prime
//! (pyrogram/session/auth.py: `dh_prime == prime.CURRENT_DH_PRIME`).

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use tgsess_shared::mtproto::sha1;

use super::server_key::ServerKey;

/// Telegram's DH prime (core.telegram.org/mtproto/auth_key, and pyrogram/crypto/prime.py
/// `CURRENT_DH_PRIME`).
pub(crate) const DH_PRIME_HEX: &str = "\
C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F\
48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37\
20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64\
2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4\
A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754\
FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4\
E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F\
0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B";
const G: i32 = 3;

/// The DC a key belongs to when the client's p_q_inner_data names none: the sandbox's
/// main DC, the one `session.string` and `tgsess.toml` point at.
pub(crate) const DEFAULT_DC: i32 = 2;

/// A new auth key, made by a finished exchange.
pub(crate) struct NewKey {
    pub(crate) key: [u8; 256],
    pub(crate) dc: i32,
}

/// Where one connection's exchange stands.
#[derive(Default)]
pub(crate) enum Handshake {
    #[default]
    Idle,
    SentPq {
        nonce: [u8; 16],
        server_nonce: [u8; 16],
        p: u64,
        q: u64,
    },
    SentDh {
        nonce: [u8; 16],
        server_nonce: [u8; 16],
        new_nonce: [u8; 32],
        a: BigUint,
        dc: i32,
    },
}

/// What an accepted req_DH_params carried.
struct Accepted {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    dc: i32,
}

pub(crate) fn dh_prime() -> BigUint {
    BigUint::parse_bytes(DH_PRIME_HEX.as_bytes(), 16).expect("valid hex")
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("os randomness");
    b
}

impl Handshake {
    /// Answers one plain request. `Err` names why the connection is closed (Telegram answers
    /// those with the transport error -404).
    pub(crate) fn step(
        &mut self,
        key: &ServerKey,
        body: &[u8],
    ) -> Result<(Vec<u8>, Option<NewKey>), String> {
        let id = body
            .get(..4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .ok_or("a plain message shorter than a constructor id")?;
        let mut c = Cursor::from_slice(&body[4..]);
        use tl::functions as f;
        match id {
            f::ReqPqMulti::CONSTRUCTOR_ID | f::ReqPq::CONSTRUCTOR_ID => {
                let nonce = <[u8; 16]>::deserialize(&mut c).map_err(|_| "a short req_pq")?;
                Ok((self.res_pq(key, nonce), None))
            }
            f::ReqDhParams::CONSTRUCTOR_ID => {
                let req =
                    f::ReqDhParams::deserialize(&mut c).map_err(|_| "a malformed req_DH_params")?;
                Ok((self.dh_params(key, req)?, None))
            }
            f::SetClientDhParams::CONSTRUCTOR_ID => {
                let req = f::SetClientDhParams::deserialize(&mut c)
                    .map_err(|_| "a malformed set_client_DH_params")?;
                let (reply, new) = self.client_dh(req)?;
                Ok((reply, Some(new)))
            }
            _ => Err(format!(
                "plain message {} outside key exchange",
                tl::name_for_id(id)
            )),
        }
    }

    fn res_pq(&mut self, key: &ServerKey, nonce: [u8; 16]) -> Vec<u8> {
        let (p, q) = pq_pair();
        let server_nonce = random::<16>();
        *self = Handshake::SentPq {
            nonce,
            server_nonce,
            p,
            q,
        };
        tl::enums::ResPq::Pq(tl::types::ResPq {
            nonce,
            server_nonce,
            pq: (p * q).to_be_bytes().to_vec(),
            server_public_key_fingerprints: vec![key.fingerprint],
        })
        .to_bytes()
    }

    fn dh_params(
        &mut self,
        key: &ServerKey,
        req: tl::functions::ReqDhParams,
    ) -> Result<Vec<u8>, String> {
        let Accepted {
            nonce,
            server_nonce,
            new_nonce,
            dc,
        } = self.check_dh_request(key, req)?;
        let (a, encrypted_answer) = dh_answer(nonce, server_nonce, &new_nonce);
        *self = Handshake::SentDh {
            nonce,
            server_nonce,
            new_nonce,
            a,
            dc,
        };
        Ok(tl::enums::ServerDhParams::Ok(tl::types::ServerDhParamsOk {
            nonce,
            server_nonce,
            encrypted_answer,
        })
        .to_bytes())
    }

    /// req_DH_params, checked against the pending resPQ.
    fn check_dh_request(
        &mut self,
        key: &ServerKey,
        req: tl::functions::ReqDhParams,
    ) -> Result<Accepted, String> {
        let Handshake::SentPq {
            nonce,
            server_nonce,
            p,
            q,
        } = std::mem::take(self)
        else {
            return Err("req_DH_params without a pending req_pq (a replayed nonce?)".into());
        };
        if req.nonce != nonce || req.server_nonce != server_nonce {
            return Err("req_DH_params with a nonce this connection was not given".into());
        }
        if req.public_key_fingerprint != key.fingerprint {
            return Err(format!(
                "req_DH_params for RSA key fingerprint {}, but this sandbox's key is {} \
                 (server_key.fingerprint)",
                req.public_key_fingerprint, key.fingerprint
            ));
        }
        if BigUint::from_bytes_be(&req.p) != BigUint::from(p)
            || BigUint::from_bytes_be(&req.q) != BigUint::from(q)
        {
            return Err("req_DH_params with a wrong factorisation of pq".into());
        }
        let plain = key
            .decrypt_raw(&req.encrypted_data)
            .ok_or("req_DH_params encrypted_data is not below the RSA modulus")?;
        use tl::enums::PQInnerData as In;
        let (inner_nonces, new_nonce, dc) = match decode_rsa_payload(&plain)
            .ok_or("req_DH_params encrypted_data fits neither RSA_PAD nor the SHA1 form")?
        {
            In::Data(d) => ((d.nonce, d.server_nonce), d.new_nonce, None),
            In::Dc(d) => ((d.nonce, d.server_nonce), d.new_nonce, Some(d.dc)),
            In::TempDc(_) | In::Temp(_) => {
                return Err("temporary keys (p_q_inner_data_temp*) are not served".into());
            }
        };
        if inner_nonces != (nonce, server_nonce) {
            return Err("p_q_inner_data nonces differ from the request's".into());
        }
        Ok(Accepted {
            nonce,
            server_nonce,
            new_nonce,
            dc: key_dc(dc),
        })
    }

    fn client_dh(
        &mut self,
        req: tl::functions::SetClientDhParams,
    ) -> Result<(Vec<u8>, NewKey), String> {
        let Handshake::SentDh {
            nonce,
            server_nonce,
            new_nonce,
            a,
            dc,
        } = std::mem::take(self)
        else {
            return Err(
                "set_client_DH_params without a pending req_DH_params (a replayed nonce?)".into(),
            );
        };
        if req.nonce != nonce || req.server_nonce != server_nonce {
            return Err("set_client_DH_params with a nonce this connection was not given".into());
        }
        let mut data = req.encrypted_data;
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err("set_client_DH_params encrypted_data is not whole AES blocks".into());
        }
        let (k, iv) = grammers_crypto::generate_key_data_from_nonce(&server_nonce, &new_nonce);
        grammers_crypto::aes::ige_decrypt(&mut data, &k, &iv);
        let mut c = Cursor::from_slice(&data[20..]);
        let tl::enums::ClientDhInnerData::Data(inner) =
            tl::enums::ClientDhInnerData::deserialize(&mut c)
                .map_err(|_| "set_client_DH_params holds no client_DH_inner_data")?;
        if data[..20] != sha1(&[&data[20..20 + c.pos()]]) {
            return Err(
                "set_client_DH_params: the SHA1 of client_DH_inner_data does not match".into(),
            );
        }
        if inner.nonce != nonce || inner.server_nonce != server_nonce {
            return Err("client_DH_inner_data nonces differ from the request's".into());
        }
        let prime = dh_prime();
        let g_b = BigUint::from_bytes_be(&inner.g_b);
        if !in_safe_range(&g_b, &prime) {
            return Err("g_b is outside (2^1984, dh_prime - 2^1984)".into());
        }
        let bytes = g_b.modpow(&a, &prime).to_bytes_be();
        let mut key = [0u8; 256];
        key[256 - bytes.len()..].copy_from_slice(&bytes);
        let aux = sha1(&[&key]);
        let hash = sha1(&[&new_nonce, &[1], &aux[..8]]);
        let reply = tl::enums::SetClientDhParamsAnswer::DhGenOk(tl::types::DhGenOk {
            nonce,
            server_nonce,
            new_nonce_hash1: hash[4..20].try_into().expect("16 bytes"),
        })
        .to_bytes();
        Ok((reply, NewKey { key, dc }))
    }
}

/// The server's DH half: a secret `a`, and server_DH_inner_data (g = 3, the prime, g_a,
/// the time) as SHA1 + data + padding, AES-IGE encrypted with the nonce-derived key.
fn dh_answer(nonce: [u8; 16], server_nonce: [u8; 16], new_nonce: &[u8; 32]) -> (BigUint, Vec<u8>) {
    let prime = dh_prime();
    let (a, g_a) = loop {
        let a = BigUint::from_bytes_be(&random::<256>());
        let g_a = BigUint::from(G as u32).modpow(&a, &prime);
        if in_safe_range(&g_a, &prime) {
            break (a, g_a);
        }
    };
    let answer = tl::enums::ServerDhInnerData::Data(tl::types::ServerDhInnerData {
        nonce,
        server_nonce,
        g: G,
        dh_prime: prime.to_bytes_be(),
        g_a: g_a.to_bytes_be(),
        server_time: super::rpc::now_secs(),
    })
    .to_bytes();
    let mut with_hash = sha1(&[&answer]).to_vec();
    with_hash.extend(answer);
    while !with_hash.len().is_multiple_of(16) {
        with_hash.push(random::<1>()[0]);
    }
    let (k, iv) = grammers_crypto::generate_key_data_from_nonce(&server_nonce, new_nonce);
    grammers_crypto::aes::ige_encrypt(&mut with_hash, &k, &iv);
    (a, with_hash)
}

/// The DC a new key belongs to, with the test-DC offset (10000) and the media sign removed:
/// Telethon and mtcute send `dc_id + 10000` on test servers and a negative id for media DCs.
fn key_dc(declared: Option<i32>) -> i32 {
    declared
        .map(|d| (d.unsigned_abs() % 10000) as i32)
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_DC)
}

/// 2^(2048-64) < x < dh_prime - 2^(2048-64), the range the auth_key page recommends both
/// sides check.
fn in_safe_range(x: &BigUint, prime: &BigUint) -> bool {
    let edge = BigUint::from(1u8) << (2048 - 64);
    *x > edge && *x < prime - &edge
}

/// The p_q_inner_data inside an RSA-decrypted block, in either encoding.
fn decode_rsa_payload(m: &[u8; 256]) -> Option<tl::enums::PQInnerData> {
    rsa_pad(m).or_else(|| sha1_form(m))
}

/// RSA_PAD (core.telegram.org/mtproto/auth_key, 4.1): m = temp_key_xor (32) + aes_encrypted
/// (224); temp_key = temp_key_xor ^ SHA256(aes_encrypted); the AES-IGE (zero IV) plaintext
/// is reversed(data_with_padding) (192) + SHA256(temp_key + data_with_padding) (32).
fn rsa_pad(m: &[u8; 256]) -> Option<tl::enums::PQInnerData> {
    let sha256 = |parts: &[&[u8]]| -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    };
    let mut temp_key: [u8; 32] = m[..32].try_into().expect("32 bytes");
    for (t, h) in temp_key.iter_mut().zip(sha256(&[&m[32..]])) {
        *t ^= h;
    }
    let mut plain = m[32..].to_vec();
    grammers_crypto::aes::ige_decrypt(&mut plain, &temp_key, &[0u8; 32]);
    let padded: Vec<u8> = plain[..192].iter().rev().copied().collect();
    if plain[192..] != sha256(&[&temp_key, &padded]) {
        return None;
    }
    tl::enums::PQInnerData::from_bytes(&padded).ok()
}

/// The older form: m = 0x00 + SHA1(data) + data + random padding to 255 bytes.
fn sha1_form(m: &[u8; 256]) -> Option<tl::enums::PQInnerData> {
    if m[0] != 0 {
        return None;
    }
    let mut c = Cursor::from_slice(&m[21..]);
    let inner = tl::enums::PQInnerData::deserialize(&mut c).ok()?;
    (m[1..21] == sha1(&[&m[21..21 + c.pos()]])).then_some(inner)
}

/// Two random primes p < q in [2^30, 2^31), so pq fits the 8 bytes clients expect.
fn pq_pair() -> (u64, u64) {
    let prime = || loop {
        let x = (u32::from_le_bytes(random::<4>()) >> 2 | 1 << 30 | 1) as u64;
        if is_prime(x) {
            return x;
        }
    };
    loop {
        let (p, q) = (prime(), prime());
        if p != q {
            return (p.min(q), p.max(q));
        }
    }
}

/// Deterministic Miller-Rabin for n < 2^64 (the first twelve primes are enough witnesses).
fn is_prime(n: u64) -> bool {
    const WITNESSES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    if let Some(&w) = WITNESSES.iter().find(|&&w| n.is_multiple_of(w)) {
        return n == w;
    }
    let mul = |a: u64, b: u64| ((a as u128 * b as u128) % n as u128) as u64;
    let pow = |mut b: u64, mut e: u64| {
        let mut r = 1u64;
        while e > 0 {
            if e & 1 == 1 {
                r = mul(r, b);
            }
            b = mul(b, b);
            e >>= 1;
        }
        r
    };
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    WITNESSES.iter().all(|&a| {
        let mut x = pow(a, d);
        if x == 1 || x == n - 1 {
            return true;
        }
        for _ in 1..s {
            x = mul(x, x);
            if x == n - 1 {
                return true;
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primality_matches_trial_division() {
        let slow = |n: u64| {
            n >= 2
                && (2..)
                    .take_while(|d| d * d <= n)
                    .all(|d| !n.is_multiple_of(d))
        };
        for n in (0..5000).chain((1u64 << 31) - 500..(1u64 << 31)) {
            assert_eq!(is_prime(n), slow(n), "{n}");
        }
    }

    #[test]
    fn pq_factors_are_primes_in_range() {
        for _ in 0..20 {
            let (p, q) = pq_pair();
            assert!(p < q && is_prime(p) && is_prime(q));
            assert!((1 << 30..1 << 31).contains(&p) && (1 << 30..1 << 31).contains(&q));
        }
    }

    #[test]
    fn key_dc_drops_the_test_offset_and_media_sign() {
        assert_eq!(key_dc(Some(10003)), 3);
        assert_eq!(key_dc(Some(-4)), 4);
        assert_eq!(key_dc(Some(-10001)), 1);
        assert_eq!(key_dc(Some(0)), DEFAULT_DC);
        assert_eq!(key_dc(None), DEFAULT_DC);
    }

    #[test]
    fn the_prime_is_telegrams() {
        // 2048 bits, and p mod 3 == 2, the condition for g = 3 that clients check
        // (core.telegram.org/mtproto/auth_key, "DH key exchange complete").
        let p = dh_prime();
        assert_eq!(p.bits(), 2048);
        assert_eq!(&p % 3u32, BigUint::from(2u32));
    }
}
