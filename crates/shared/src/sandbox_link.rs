//! The sandbox's side channel for auth keys: files in its directory. The sandbox writes its
//! endpoint and reads registered keys; tgsess reads the endpoint and registers keys.
//!
//! Other clients create keys with the sandbox's own RSA key (`handshake.rs`). grammers
//! cannot: it accepts only Telegram's RSA keys (grammers-mtproto src/authentication.rs
//! `key_for_fingerprint`), so tgsess, when it needs a fresh key, draws 256 random bytes and registers them by writing `DIR/keys/<key_id>.key`
//! (4 bytes DC id LE + 256 key bytes, 0600, written to a temp name and renamed, so the
//! sandbox never reads half a file). The sandbox treats every registered key as a new,
//! signed-out key of that DC, exactly as Telegram treats a freshly generated one.
//! `DIR/sandbox.json` tells clients where the running sandbox listens and which DC ids it
//! serves.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `DIR/sandbox.json`, written by a running sandbox before it announces itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub address: std::net::SocketAddr,
    pub dcs: Vec<i32>,
    pub pid: u32,
}

pub const ENDPOINT_FILE: &str = "sandbox.json";

pub fn keys_dir(dir: &Path) -> PathBuf {
    dir.join("keys")
}

fn key_file(dir: &Path, key_id: u64) -> PathBuf {
    keys_dir(dir).join(format!("{key_id:016x}.key"))
}

/// A fresh random auth key.
pub fn new_key() -> [u8; 256] {
    let mut k = [0u8; 256];
    getrandom::fill(&mut k).expect("os randomness");
    k
}

/// Registers a key for `dc` with the sandbox in `dir`.
pub fn register(dir: &Path, dc: i32, key: &[u8; 256]) -> std::io::Result<()> {
    let id = crate::mtproto::key_id(key);
    let kd = keys_dir(dir);
    std::fs::create_dir_all(&kd)?;
    let mut bytes = Vec::with_capacity(260);
    bytes.extend_from_slice(&dc.to_le_bytes());
    bytes.extend_from_slice(key);
    crate::fs::write_private(&key_file(dir, id), &bytes)
}

/// Looks a key up by id: `(dc, key)`.
pub fn load(dir: &Path, key_id: u64) -> Option<(i32, [u8; 256])> {
    let bytes = crate::fs::read_regular(&key_file(dir, key_id), 260).ok()?;
    if bytes.len() != 260 {
        return None;
    }
    let dc = i32::from_le_bytes(bytes[..4].try_into().ok()?);
    let key: [u8; 256] = bytes[4..].try_into().ok()?;
    (crate::mtproto::key_id(&key) == key_id).then_some((dc, key))
}

/// `sandbox.json` is a few hundred bytes; anything larger is not the sandbox's.
const MAX_ENDPOINT: u64 = 64 * 1024;

/// Reads `DIR/sandbox.json`: only a regular file, bounded, never blocking (a FIFO or a link
/// to a device planted there is an error, not a hang).
pub fn read_endpoint(dir: &Path) -> std::io::Result<Endpoint> {
    let text = crate::fs::read_regular_text(&dir.join(ENDPOINT_FILE), MAX_ENDPOINT)?;
    serde_json::from_str(&text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_then_load() {
        let d = tempfile::tempdir().unwrap();
        let k = new_key();
        register(d.path(), 3, &k).unwrap();
        let (dc, back) = load(d.path(), crate::mtproto::key_id(&k)).unwrap();
        assert_eq!((dc, back), (3, k));
        assert!(load(d.path(), 12345).is_none());
    }
}
