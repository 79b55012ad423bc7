//! The sandbox's own RSA-2048 key, with which any MTProto client creates a fresh auth key
//! the usual way (core.telegram.org/mtproto/auth_key) once it adds `server_key.pem`.
//!
//! On first start a directory gets `server_key.private.pem` (PKCS#1, 0600) and
//! `server_key.pem` (PKCS#1 public key, `-----BEGIN RSA PUBLIC KEY-----`, the form in which
//! Telegram publishes its keys and Telethon's `rsa.add_key`, Pyrogram's `server_public_keys`
//! and GramJS read them) plus `server_key.fingerprint`: the key's MTProto fingerprint, the
//! low 64 bits of SHA1(TL bytes n + TL bytes e), as a signed decimal (Telethon
//! telethon/crypto/rsa.py `_compute_fingerprint`).
//!
//! RSA key generation is the `rsa` crate's; the MTProto-specific decryption (raw RSA, then
//! RSA_PAD or the older SHA1 form) is in `handshake.rs`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use num_bigint::BigUint;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

pub const PRIVATE_FILE: &str = "server_key.private.pem";
pub const PUBLIC_FILE: &str = "server_key.pem";
pub(crate) const FINGERPRINT_FILE: &str = "server_key.fingerprint";

pub struct ServerKey {
    pub n: BigUint,
    d: BigUint,
    pub e: BigUint,
    pub fingerprint: i64,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKey({})", self.fingerprint)
    }
}

impl ServerKey {
    fn from_private(key: &rsa::RsaPrivateKey) -> Self {
        let big = |b: &rsa::BigUint| BigUint::from_bytes_be(&b.to_bytes_be());
        let (n, e) = (big(key.n()), big(key.e()));
        ServerKey {
            fingerprint: fingerprint(&n, &e),
            d: big(key.d()),
            n,
            e,
        }
    }

    /// Raw RSA: `c^d mod n` as 256 big-endian bytes; `None` when `c` is not below n.
    pub(crate) fn decrypt_raw(&self, c: &[u8]) -> Option<[u8; 256]> {
        let c = BigUint::from_bytes_be(c);
        if c >= self.n {
            return None;
        }
        let m = c.modpow(&self.d, &self.n).to_bytes_be();
        let mut out = [0u8; 256];
        out[256 - m.len()..].copy_from_slice(&m);
        Some(out)
    }
}

/// The MTProto fingerprint: SHA1(TL bytes n + TL bytes e), last 8 bytes, little-endian.
pub fn fingerprint(n: &BigUint, e: &BigUint) -> i64 {
    use grammers_tl_types::Serializable;
    let digest =
        tgsess_shared::mtproto::sha1(&[&n.to_bytes_be().to_bytes(), &e.to_bytes_be().to_bytes()]);
    i64::from_le_bytes(digest[12..20].try_into().expect("8 bytes"))
}

/// Loads DIR's key pair, or makes one on first start. The public files are rewritten each
/// time from the private key, so they always match it.
pub fn load_or_create(dir: &Path) -> Result<ServerKey, String> {
    let path = dir.join(PRIVATE_FILE);
    let key = match std::fs::symlink_metadata(&path) {
        Ok(meta) => {
            if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
                return Err(format!(
                    "{} must be a regular file that only its owner can read; fix it with \
                     `chmod 600 {}`, or delete it to have the sandbox make a new key",
                    path.display(),
                    path.display()
                ));
            }
            let pem = tgsess_shared::fs::read_regular_text(&path, 64 * 1024)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            rsa::RsaPrivateKey::from_pkcs1_pem(&pem).map_err(|e| {
                format!(
                    "{} is not a PKCS#1 RSA private key ({e}); delete it to have the sandbox \
                     make a new key",
                    path.display()
                )
            })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|e| format!("cannot generate the sandbox's RSA key: {e}"))?;
            let pem = key
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| format!("cannot encode the sandbox's RSA key: {e}"))?;
            tgsess_shared::fs::write_private(&path, pem.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            key
        }
        Err(e) => return Err(format!("cannot open {}: {e}", path.display())),
    };
    let public = key
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the sandbox's public key: {e}"))?;
    let server_key = ServerKey::from_private(&key);
    for (name, text) in [
        (PUBLIC_FILE, public),
        (FINGERPRINT_FILE, format!("{}\n", server_key.fingerprint)),
    ] {
        let p = dir.join(name);
        tgsess_shared::fs::write_private(&p, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    }
    Ok(server_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Telegram's production key and its fingerprint, as grammers pairs them
    /// (grammers-mtproto src/authentication.rs `key_for_fingerprint`).
    #[test]
    fn fingerprint_of_telegrams_key() {
        let n = BigUint::parse_bytes(
            b"29379598170669337022986177149456128565388431120058863768162556424047512191330847455\
              146576344487764408661701890505066208632169112269581063774293102577308490531282748\
              465986139880977280302242772832972539403531316010870401287642763009136156734339538\
              042419388722777357134487746169093539093850251243897188928735903389451772730245253\
              062963384108812842079887538976360465290946139638691491496062099570836476454855996\
              319192747663615955633778034897140982517446405334423701359108810182097749467210509\
              584293428076654573384828809574217079944388301239431309115013843331317877374435868\
              468779972014486325557807783825502498215169806323",
            10,
        )
        .unwrap();
        let e = BigUint::from(65537u32);
        assert_eq!(fingerprint(&n, &e), -3414540481677951611);
    }

    #[test]
    fn a_key_is_made_once_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let first = load_or_create(d.path()).unwrap();
        let mode = std::fs::metadata(d.path().join(PRIVATE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create(d.path()).unwrap();
        assert_eq!(first.fingerprint, again.fingerprint);
        let text = std::fs::read_to_string(d.path().join(FINGERPRINT_FILE)).unwrap();
        assert_eq!(text.trim().parse::<i64>().unwrap(), first.fingerprint);
        let pem = std::fs::read_to_string(d.path().join(PUBLIC_FILE)).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"), "{pem}");
        // Raw RSA round trip with the public half.
        let m = BigUint::from_bytes_be(&[7u8; 200]);
        let c = m.modpow(&first.e, &first.n).to_bytes_be();
        let back = first.decrypt_raw(&c).unwrap();
        assert_eq!(&back[56..], &[7u8; 200][..]);
    }

    #[test]
    fn a_readable_private_key_is_refused() {
        let d = tempfile::tempdir().unwrap();
        load_or_create(d.path()).unwrap();
        let p = d.path().join(PRIVATE_FILE);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(d.path()).unwrap_err();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
