//! Server-side SRP for 2FA (core.telegram.org/api/srp), so the sandbox never stores a
//! password, only its verifier `v = g^x mod p`.
//!
//! The client side is grammers-crypto 0.11 `two_factor_auth::calculate_2fa`; the unit test
//! below runs it against this server to prove the two agree. Telethon draws its own secret
//! `a`, grammers uses the server's `secure_random`: verifying M1 from A makes both work.

use hmac::Hmac;
use num_bigint::BigUint;
use sha2::{Digest, Sha256, Sha512};

/// Telegram's 2048-bit safe prime (docs/mtproto-server.md, "2FA"; also what
/// `check_p_and_g` in grammers-crypto accepts with g = 3).
pub(crate) const P_HEX: &str = "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";
pub(crate) const G: i32 = 3;

pub(crate) fn p_bytes() -> Vec<u8> {
    (0..P_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&P_HEX[i..i + 2], 16).expect("hex"))
        .collect()
}

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

/// SH(data, salt) = H(salt | data | salt)
fn sh(data: &[u8], salt: &[u8]) -> [u8; 32] {
    h(&[salt, data, salt])
}

/// PH2(password, salt1, salt2) = SH(pbkdf2(sha512, PH1, salt1, 100000), salt2)
pub(crate) fn ph2(password: &[u8], salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    let ph1 = sh(&sh(password, salt1), salt2);
    let mut dk = [0u8; 64];
    pbkdf2::pbkdf2::<Hmac<Sha512>>(&ph1, salt1, 100_000, &mut dk).expect("64-byte output");
    sh(&dk, salt2)
}

fn pad256(b: &[u8]) -> [u8; 256] {
    let mut out = [0u8; 256];
    let b = if b.len() > 256 {
        &b[b.len() - 256..]
    } else {
        b
    };
    out[256 - b.len()..].copy_from_slice(b);
    out
}

/// What the server keeps for an account with 2FA: the salts and the verifier.
#[derive(Clone)]
pub(crate) struct Verifier {
    pub(crate) salt1: Vec<u8>,
    pub(crate) salt2: Vec<u8>,
    v: BigUint,
}

impl Verifier {
    /// Derives the verifier; the password itself is dropped by the caller.
    pub(crate) fn new(password: &str) -> Self {
        let mut salt1 = vec![0u8; 40];
        let mut salt2 = vec![0u8; 16];
        getrandom::fill(&mut salt1).expect("os randomness");
        getrandom::fill(&mut salt2).expect("os randomness");
        let x = BigUint::from_bytes_be(&ph2(password.as_bytes(), &salt1, &salt2));
        let p = BigUint::from_bytes_be(&p_bytes());
        let v = BigUint::from(G as u32).modpow(&x, &p);
        Verifier { salt1, salt2, v }
    }
}

/// One SRP round: the server's secret b and public B for one account.getPassword answer.
pub(crate) struct Round {
    b: BigUint,
    pub(crate) g_b: [u8; 256],
}

impl Round {
    /// B = (k·v + g^b) mod p, k = H(p | pad(g)).
    pub(crate) fn start(ver: &Verifier) -> Self {
        let p_raw = p_bytes();
        let p = BigUint::from_bytes_be(&p_raw);
        let mut raw = [0u8; 256];
        getrandom::fill(&mut raw).expect("os randomness");
        let b = BigUint::from_bytes_be(&raw) % &p;
        let g = BigUint::from(G as u32);
        let k = BigUint::from_bytes_be(&h(&[&p_raw, &pad256(&[G as u8])]));
        let g_b = (k * &ver.v + g.modpow(&b, &p)) % &p;
        Round {
            b,
            g_b: pad256(&g_b.to_bytes_be()),
        }
    }

    /// Checks the client's M1 for its A: S = (A·v^u)^b, K = H(S),
    /// M1 = H(H(p) xor H(g) | H(s1) | H(s2) | A | B | K).
    pub(crate) fn verify(&self, ver: &Verifier, a: &[u8], m1: &[u8]) -> bool {
        let p_raw = p_bytes();
        let p = BigUint::from_bytes_be(&p_raw);
        let g_a_big = BigUint::from_bytes_be(a);
        if g_a_big <= BigUint::from(1u8) || g_a_big >= &p - 1u8 {
            return false;
        }
        let g_a = pad256(a);
        let u = BigUint::from_bytes_be(&h(&[&g_a, &self.g_b]));
        let s = (g_a_big * ver.v.modpow(&u, &p)).modpow(&self.b, &p);
        let k = h(&[&pad256(&s.to_bytes_be())]);
        let hp = h(&[&p_raw]);
        let hg = h(&[&pad256(&[G as u8])]);
        let xor: Vec<u8> = hp.iter().zip(hg.iter()).map(|(a, b)| a ^ b).collect();
        let expected = h(&[
            &xor,
            &h(&[&ver.salt1]),
            &h(&[&ver.salt2]),
            &g_a,
            &self.g_b,
            &k,
        ]);
        // Constant-time enough for a local test server; compare whole arrays.
        expected.as_slice() == m1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammers_client_proof_verifies() {
        let ver = Verifier::new("hunter2");
        let round = Round::start(&ver);
        let mut a = vec![0u8; 256];
        getrandom::fill(&mut a).unwrap();
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &ver.salt1,
            &ver.salt2,
            &p_bytes(),
            &G,
            round.g_b.to_vec(),
            a.clone(),
            "hunter2",
        );
        assert!(round.verify(&ver, &g_a, &m1));
        let (m1_bad, g_a_bad) = grammers_crypto::two_factor_auth::calculate_2fa(
            &ver.salt1,
            &ver.salt2,
            &p_bytes(),
            &G,
            round.g_b.to_vec(),
            a,
            "wrong",
        );
        assert!(!round.verify(&ver, &g_a_bad, &m1_bad));
    }

    #[test]
    fn p_and_g_pass_grammers_checks() {
        assert!(grammers_crypto::two_factor_auth::check_p_and_g(
            &p_bytes(),
            &G
        ));
    }
}
