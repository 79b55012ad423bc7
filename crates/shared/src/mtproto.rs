//! MTProto helpers both sides need: SHA1 over parts, the auth key id and the base64 token
//! codec (future auth tokens and keys kept in JSON files).

use base64::Engine as _;

/// SHA1 of the parts, in order.
pub fn sha1(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.digest().bytes()
}

/// auth_key_id: the low 64 bits of SHA1(key), as MTProto defines it (bytes 12..20).
pub fn key_id(key: &[u8; 256]) -> u64 {
    u64::from_le_bytes(sha1(&[key])[12..20].try_into().expect("8 bytes"))
}

/// Tokens (future auth tokens) and keys kept in JSON state files: standard base64.
pub fn encode_token(t: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(t)
}

pub fn decode_token(t: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(t).ok()
}
