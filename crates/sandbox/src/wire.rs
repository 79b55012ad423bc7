//! The server side of MTProto 2.0 as grammers 0.11 speaks it: encryption with x = 8 out and
//! x = 0 in, the session-layer envelope, containers, gzip_packed and rpc_result.
//!
//! grammers-crypto's `encrypt_data_v2` / `decrypt_data_v2` are client-only (x fixed,
//! grammers-crypto src/lib.rs `Side`), so the server writes its own, on the public
//! `aes::ige_encrypt` / `ige_decrypt`. Framing reuses grammers-mtproto's `transport::Full`,
//! which is symmetric (src/transport/full.rs: len | seq | payload | crc32).

use std::time::{SystemTime, UNIX_EPOCH};

use grammers_crypto::aes;
use grammers_tl_types::{Cursor, Deserializable, Serializable};
use sha2::{Digest, Sha256};

/// Constructor ids with no generated type in grammers-tl-types (docs/mtproto-server.md): written by hand.
pub(crate) const RPC_RESULT: u32 = 0xf35c6d01;
pub(crate) const MSG_CONTAINER: u32 = 0x73f1f8dc;
pub(crate) const GZIP_PACKED: u32 = 0x3072cfa1;
pub(crate) const RPC_ERROR: u32 = 0x2144ca19;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WireError {
    TooShort,
    KeyMismatch,
    MsgKeyMismatch,
    Malformed(&'static str),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

/// auth_key_id = SHA1(key)[12..20], little-endian.
pub(crate) fn key_id(key: &[u8; 256]) -> u64 {
    tgsess_shared::mtproto::key_id(key)
}

/// MTProto 2.0 aes_key/aes_iv (core.telegram.org/mtproto/description).
fn calc_key(key: &[u8; 256], msg_key: &[u8; 16], x: usize) -> ([u8; 32], [u8; 32]) {
    let a = sha256(&[msg_key, &key[x..x + 36]]);
    let b = sha256(&[&key[40 + x..76 + x], msg_key]);
    let mut aes_key = [0u8; 32];
    aes_key[..8].copy_from_slice(&a[..8]);
    aes_key[8..24].copy_from_slice(&b[8..24]);
    aes_key[24..].copy_from_slice(&a[24..]);
    let mut aes_iv = [0u8; 32];
    aes_iv[..8].copy_from_slice(&b[..8]);
    aes_iv[8..24].copy_from_slice(&a[8..24]);
    aes_iv[24..].copy_from_slice(&b[24..]);
    (aes_key, aes_iv)
}

/// Decrypts a client packet (x = 0) and checks msg_key. Returns the plaintext.
pub(crate) fn decrypt(key: &[u8; 256], packet: &[u8]) -> Result<Vec<u8>, WireError> {
    if packet.len() < 24 + 32 || !(packet.len() - 24).is_multiple_of(16) {
        return Err(WireError::TooShort);
    }
    if packet[..8] != key_id(key).to_le_bytes() {
        return Err(WireError::KeyMismatch);
    }
    let msg_key: [u8; 16] = packet[8..24].try_into().expect("16 bytes");
    let (k, iv) = calc_key(key, &msg_key, 0);
    let mut plain = packet[24..].to_vec();
    aes::ige_decrypt(&mut plain, &k, &iv);
    let check = sha256(&[&key[88..120], &plain]);
    if check[8..24] != msg_key {
        return Err(WireError::MsgKeyMismatch);
    }
    Ok(plain)
}

/// Encrypts a server packet (x = 8) with 12..1024 bytes of random padding.
pub(crate) fn encrypt(key: &[u8; 256], mut plain: Vec<u8>) -> Vec<u8> {
    let pad = 16 + (16 - plain.len() % 16);
    let mut padding = vec![0u8; pad];
    getrandom::fill(&mut padding).expect("os randomness");
    plain.extend_from_slice(&padding);
    let large = sha256(&[&key[96..128], &plain]);
    let msg_key: [u8; 16] = large[8..24].try_into().expect("16 bytes");
    let (k, iv) = calc_key(key, &msg_key, 8);
    aes::ige_encrypt(&mut plain, &k, &iv);
    let mut out = Vec::with_capacity(24 + plain.len());
    out.extend_from_slice(&key_id(key).to_le_bytes());
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(&plain);
    out
}

/// The decrypted envelope of one client packet. The salt (bytes 0..8) and seq_no (24..28)
/// are not kept: the sandbox checks neither.
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) session_id: i64,
    pub(crate) msg_id: i64,
    pub(crate) body: Vec<u8>,
}

pub(crate) fn parse_envelope(plain: &[u8]) -> Result<Envelope, WireError> {
    if plain.len() < 32 {
        return Err(WireError::TooShort);
    }
    let le64 = |r: std::ops::Range<usize>| i64::from_le_bytes(plain[r].try_into().unwrap());
    let len = i32::from_le_bytes(plain[28..32].try_into().unwrap());
    if len < 0 || 32 + len as usize > plain.len() || len % 4 != 0 {
        return Err(WireError::Malformed("message length"));
    }
    Ok(Envelope {
        session_id: le64(8..16),
        msg_id: le64(16..24),
        body: plain[32..32 + len as usize].to_vec(),
    })
}

/// One inner message of a container.
pub(crate) struct Inner {
    pub(crate) msg_id: i64,
    pub(crate) body: Vec<u8>,
}

/// msg_container#73f1f8dc messages:vector<%Message> (bare vector: count, then messages).
pub(crate) fn parse_container(body: &[u8]) -> Result<Vec<Inner>, WireError> {
    let mut c = Cursor::from_slice(&body[4..]);
    let n = i32::deserialize(&mut c).map_err(|_| WireError::Malformed("container"))?;
    if !(0..=1024).contains(&n) {
        return Err(WireError::Malformed("container size"));
    }
    let mut out = Vec::new();
    for _ in 0..n {
        let msg_id = i64::deserialize(&mut c).map_err(|_| WireError::Malformed("container"))?;
        let _seq = i32::deserialize(&mut c).map_err(|_| WireError::Malformed("container"))?;
        let len = i32::deserialize(&mut c).map_err(|_| WireError::Malformed("container"))?;
        if len < 0 || len as usize > body.len() {
            return Err(WireError::Malformed("container entry length"));
        }
        let mut b = vec![0u8; len as usize];
        c.read_exact(&mut b)
            .map_err(|_| WireError::Malformed("container entry"))?;
        out.push(Inner { msg_id, body: b });
    }
    Ok(out)
}

/// gzip_packed#3072cfa1 packed_data:bytes
pub(crate) fn gunzip(body: &[u8]) -> Result<Vec<u8>, WireError> {
    use std::io::Read;
    let mut c = Cursor::from_slice(&body[4..]);
    let packed = Vec::<u8>::deserialize(&mut c).map_err(|_| WireError::Malformed("gzip"))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .take(16 << 20)
        .read_to_end(&mut out)
        .map_err(|_| WireError::Malformed("gzip data"))?;
    Ok(out)
}

/// rpc_result#f35c6d01 req_msg_id:long result:Object
pub(crate) fn rpc_result(req_msg_id: i64, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + result.len());
    RPC_RESULT.serialize(&mut out);
    req_msg_id.serialize(&mut out);
    out.extend_from_slice(result);
    out
}

/// rpc_error#2144ca19 error_code:int error_message:string
pub(crate) fn rpc_error(code: i32, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    RPC_ERROR.serialize(&mut out);
    code.serialize(&mut out);
    message.to_string().serialize(&mut out);
    out
}

/// Server message ids: close to now, strictly increasing, odd: `| 1` for answers,
/// `| 3` for unsolicited messages (core.telegram.org/mtproto/description#message-identifier-msg-id).
#[derive(Default)]
pub(crate) struct MsgIds {
    last: i64,
    seq: i32,
}

impl MsgIds {
    pub(crate) fn next(&mut self, unsolicited: bool) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970");
        let candidate = ((now.as_secs() as i64) << 32) | ((now.subsec_nanos() as i64) << 2);
        let base = (candidate & !3).max((self.last & !3) + 4);
        self.last = base | if unsolicited { 3 } else { 1 };
        self.last
    }

    /// Content-related messages carry odd seq_no, growing by 2.
    pub(crate) fn content_seq(&mut self) -> i32 {
        self.seq += 2;
        self.seq - 1
    }
}

/// Wraps one server message in the envelope: salt | session_id | msg_id | seq_no | len | body.
pub(crate) fn envelope(session_id: i64, msg_id: i64, seq_no: i32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + body.len());
    0i64.serialize(&mut out); // salt 0: a non-zero salt makes grammers ask for future salts
    session_id.serialize(&mut out);
    msg_id.serialize(&mut out);
    seq_no.serialize(&mut out);
    (body.len() as i32).serialize(&mut out);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_crypto::{AuthKey, DequeBuffer};

    fn key() -> [u8; 256] {
        let mut k = [0u8; 256];
        getrandom::fill(&mut k).unwrap();
        k
    }

    #[test]
    fn decrypts_what_the_grammers_client_encrypts() {
        let k = key();
        let mut buf = DequeBuffer::with_capacity(64, 32);
        buf.extend((0..64u8).collect::<Vec<_>>());
        grammers_crypto::encrypt_data_v2(&mut buf, &AuthKey::from_bytes(k));
        let plain = decrypt(&k, &buf[..]).unwrap();
        assert_eq!(&plain[..64], &(0..64u8).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn grammers_client_decrypts_what_the_server_encrypts() {
        let k = key();
        let mut packet = encrypt(&k, (0..64u8).collect());
        let plain = grammers_crypto::decrypt_data_v2(&mut packet, &AuthKey::from_bytes(k)).unwrap();
        assert_eq!(&plain[..64], &(0..64u8).collect::<Vec<_>>()[..]);
    }

    #[test]
    fn tampering_is_detected() {
        let k = key();
        let mut buf = DequeBuffer::with_capacity(64, 32);
        buf.extend(vec![1u8; 64]);
        grammers_crypto::encrypt_data_v2(&mut buf, &AuthKey::from_bytes(k));
        let mut p = buf[..].to_vec();
        let last = p.len() - 1;
        p[last] ^= 1;
        assert_eq!(decrypt(&k, &p), Err(WireError::MsgKeyMismatch));
        assert_eq!(decrypt(&key(), &buf[..]), Err(WireError::KeyMismatch));
    }

    #[test]
    fn msg_ids_are_odd_and_increasing() {
        let mut ids = MsgIds::default();
        let mut last = 0;
        for i in 0..1000 {
            let id = ids.next(i % 3 == 0);
            assert!(id > last);
            assert_eq!(id % 2, 1);
            last = id;
        }
    }
}
