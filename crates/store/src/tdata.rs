//! Telegram Desktop's tdata, read only (never a byte written into it, not even a lock).
//!
//! The layout, from Desktop's own sources (Telegram/SourceFiles/storage/details/
//! storage_file_utilities.cpp, storage/storage_domain.cpp, storage/storage_account.cpp) as
//! docs/tdata.md describes it, and checked against mtcute's reader and writer
//! (packages/convert/src/tdesktop/tdata.ts), whose output is this module's fixtures:
//! - a file is `TDF$`, an int32 LE version, the payload, and an MD5 over payload ‖ int32 LE
//!   payload length ‖ version bytes ‖ `TDF$`; `NAMEs` is read, else the newer of `NAME0` and
//!   `NAME1`;
//! - `key_<name>s` holds salt, keyEncrypted and infoEncrypted (Qt byte arrays: u32 BE length);
//!   the passcode key is PBKDF2-HMAC-SHA512(SHA512(salt ‖ passcode ‖ salt), salt, 1 or
//!   100000 iterations, 256 bytes); keyEncrypted holds the local key, infoEncrypted the
//!   account count, their indices and the active one;
//! - a local blob is msgKey (16) ‖ AES-256-IGE with the old MTProto key derivation (x = 8),
//!   checked by SHA1(plaintext)[..16] == msgKey; its first 4 bytes are its length (LE);
//! - account i lives in the file named by MD5("data" or "data#<i+1>")[..8], nibbles swapped,
//!   upper-case hex; its first block must be 0x4B (MtpAuthorization): user id and main DC
//!   (wide form after -1, -1), then the keys (dc id + 256 bytes each).

use std::path::{Path, PathBuf};

use md5::Digest as _;

use super::AuthKey;
use tgsess_shared::mtproto::sha1;
use tgsess_shared::text::Shown;

/// MtpAuthorization (Telegram/SourceFiles/storage/details/storage_settings_scheme.h).
const MTP_AUTHORIZATION: u32 = 0x4B;
/// Desktop allows up to 6 accounts (3, or 6 with Premium).
const MAX_ACCOUNTS: i32 = 6;

#[derive(Debug)]
pub enum TdataError {
    /// No key_datas: the path is not a tdata directory.
    NoKeyData(PathBuf),
    WrongPasscode,
    /// A file failed its MD5 or did not decrypt: damaged.
    Damaged(String),
    /// Something this version does not know how to read.
    Layout(String),
}

impl std::fmt::Display for TdataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TdataError::NoKeyData(p) => write!(
                f,
                "{} holds no key_datas, so it is not Telegram Desktop's tdata. Desktop keeps \
                 it in ~/.local/share/TelegramDesktop/tdata on Linux (snap: \
                 ~/snap/telegram-desktop/current/.local/share/TelegramDesktop/tdata; flatpak: \
                 ~/.var/app/org.telegram.desktop/data/TelegramDesktop/tdata), \
                 ~/Library/Application Support/Telegram Desktop/tdata on macOS (the App Store \
                 build: ~/Library/Group Containers/…/Telegram Desktop/tdata), and \
                 %APPDATA%\\Telegram Desktop\\tdata on Windows (the Microsoft Store build: \
                 %LOCALAPPDATA%\\Packages\\TelegramMessengerLLP.TelegramDesktop_*\\\
                 LocalCache\\Roaming\\Telegram Desktop UWP\\tdata)",
                p.shown()
            ),
            TdataError::WrongPasscode => write!(f, "the local passcode is wrong"),
            TdataError::Damaged(why) => write!(f, "the tdata is damaged: {why}"),
            TdataError::Layout(why) => {
                write!(
                    f,
                    "a tdata layout this version of tgsess does not know: {why}"
                )
            }
        }
    }
}

type R<T> = Result<T, TdataError>;

/// One account of a tdata directory.
#[derive(Debug, Clone)]
pub struct Account {
    /// Desktop's index (0 for the first).
    pub index: i32,
    pub user_id: i64,
    pub dc_id: i32,
    pub key: AuthKey,
}

/// The accounts, one line for a message: "account 0: user 1, DC 2; …".
pub fn list(accounts: &[Account]) -> String {
    accounts
        .iter()
        .map(|a| format!("account {}: user {}, DC {}", a.index, a.user_id, a.dc_id))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug)]
pub struct Tdata {
    pub dir: PathBuf,
    pub version: i32,
    pub accounts: Vec<Account>,
    /// The account Desktop had open, when recorded.
    pub active: Option<i32>,
}

/// The tdata directory for `path`: `path` itself when it holds key files, else its `tdata`.
pub fn locate(path: &Path) -> Option<PathBuf> {
    let has_key = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|it| {
            it.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("key_"))
        })
    };
    if has_key(path) {
        return Some(path.to_path_buf());
    }
    let inner = path.join("tdata");
    has_key(&inner).then_some(inner)
}

/// Whether `path` looks like tdata (or its parent), to route `import` and `inspect`.
pub fn looks_like(path: &Path) -> bool {
    path.is_dir() && locate(path).is_some()
}

/// Reads a logical file: `NAMEs`, else the newer of `NAME0` and `NAME1`. (version, payload).
fn read_file(dir: &Path, name: &str) -> R<(i32, Vec<u8>)> {
    let candidates: Vec<PathBuf> = if dir.join(format!("{name}s")).is_file() {
        vec![dir.join(format!("{name}s"))]
    } else {
        let mut v: Vec<(std::time::SystemTime, PathBuf)> = ["0", "1"]
            .iter()
            .map(|s| dir.join(format!("{name}{s}")))
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        v.sort_by_key(|b| std::cmp::Reverse(b.0));
        v.into_iter().map(|(_, p)| p).collect()
    };
    if candidates.is_empty() {
        return Err(TdataError::Layout(format!("{name} is missing")));
    }
    let mut last = String::new();
    for p in candidates {
        match read_tdf(&p) {
            Ok(v) => return Ok(v),
            Err(e) => last = format!("{}: {e}", p.shown()),
        }
    }
    Err(TdataError::Damaged(last))
}

fn read_tdf(p: &Path) -> Result<(i32, Vec<u8>), String> {
    // Desktop's key and account files are a few KiB; 16 MiB bounds a planted device.
    let data = tgsess_shared::fs::read_regular(p, 16 << 20).map_err(|e| e.to_string())?;
    if data.len() < 24 || &data[..4] != b"TDF$" {
        return Err("not a TDF$ file".into());
    }
    let version = i32::from_le_bytes(data[4..8].try_into().expect("4"));
    let payload = &data[8..data.len() - 16];
    let mut md5 = md5::Md5::new();
    md5.update(payload);
    md5.update((payload.len() as i32).to_le_bytes());
    md5.update(&data[4..8]);
    md5.update(b"TDF$");
    if md5.finalize()[..] != data[data.len() - 16..] {
        return Err("MD5 mismatch".into());
    }
    Ok((version, payload.to_vec()))
}

/// A Qt byte array: u32 BE length (0xFFFFFFFF: null), then the bytes.
fn qt_bytes<'a>(b: &mut &'a [u8]) -> R<&'a [u8]> {
    let bad = || TdataError::Layout("a byte array runs past its data".into());
    let len = u32::from_be_bytes(b.get(..4).ok_or_else(bad)?.try_into().expect("4"));
    *b = &b[4..];
    if len == u32::MAX {
        return Ok(&[]);
    }
    let len = len as usize;
    let out = b.get(..len).ok_or_else(bad)?;
    *b = &b[len..];
    Ok(out)
}

fn be_i32(b: &mut &[u8]) -> R<i32> {
    let v = b
        .get(..4)
        .ok_or_else(|| TdataError::Layout("an integer runs past its data".into()))?;
    let out = i32::from_be_bytes(v.try_into().expect("4"));
    *b = &b[4..];
    Ok(out)
}

/// Desktop's `prepareAES_oldmtp` with x = 8 (the MTProto 1.0 derivation).
fn old_mtp_key_iv(key: &[u8; 256], msg_key: &[u8]) -> ([u8; 32], [u8; 32]) {
    let x = 8;
    let a = sha1(&[msg_key, &key[x..x + 32]]);
    let b = sha1(&[&key[32 + x..48 + x], msg_key, &key[48 + x..64 + x]]);
    let c = sha1(&[&key[64 + x..96 + x], msg_key]);
    let d = sha1(&[msg_key, &key[96 + x..128 + x]]);
    let mut aes_key = [0u8; 32];
    aes_key[..8].copy_from_slice(&a[..8]);
    aes_key[8..20].copy_from_slice(&b[8..20]);
    aes_key[20..32].copy_from_slice(&c[4..16]);
    let mut iv = [0u8; 32];
    iv[..12].copy_from_slice(&a[8..20]);
    iv[12..20].copy_from_slice(&b[..8]);
    iv[20..24].copy_from_slice(&c[16..20]);
    iv[24..32].copy_from_slice(&d[..8]);
    (aes_key, iv)
}

/// Decrypts a local blob; `None` when its check fails (wrong key, or damage).
fn decrypt_local(blob: &[u8], key: &[u8; 256]) -> Option<Vec<u8>> {
    if blob.len() < 32 || !(blob.len() - 16).is_multiple_of(16) {
        return None;
    }
    let (msg_key, data) = blob.split_at(16);
    let (aes_key, iv) = old_mtp_key_iv(key, msg_key);
    let mut plain = data.to_vec();
    grammers_crypto::aes::ige_decrypt(&mut plain, &aes_key, &iv);
    if sha1(&[&plain])[..16] != *msg_key {
        return None;
    }
    let len = u32::from_le_bytes(plain[..4].try_into().expect("4")) as usize;
    if len < 4 || len > plain.len() || len + 16 <= plain.len() {
        return None;
    }
    Some(plain[4..len].to_vec())
}

fn passcode_key(salt: &[u8], passcode: &[u8]) -> [u8; 256] {
    let mut h = sha2::Sha512::new();
    sha2::Digest::update(&mut h, salt);
    sha2::Digest::update(&mut h, passcode);
    sha2::Digest::update(&mut h, salt);
    let password = h.finalize();
    let rounds = if passcode.is_empty() { 1 } else { 100_000 };
    let mut out = [0u8; 256];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(&password, salt, rounds, &mut out);
    out
}

/// The folder/file name of an account's data: MD5 of its data name, first 8 bytes, each
/// byte's nibbles swapped, upper-case hex.
pub(crate) fn data_folder(data_name: &str) -> String {
    md5::Md5::digest(data_name.as_bytes())[..8]
        .iter()
        .map(|b| format!("{:X}{:X}", b & 0x0F, b >> 4))
        .collect()
}

/// Reads every account of the tdata in `dir` with `passcode` (empty: none set).
pub fn read(dir: &Path, key_name: &str, passcode: &[u8]) -> R<Tdata> {
    let has = |n: &str| {
        ["s", "0", "1"]
            .iter()
            .any(|s| dir.join(format!("{n}{s}")).is_file())
    };
    let key_file = format!("key_{key_name}");
    if !has(&key_file) {
        return Err(TdataError::NoKeyData(dir.to_path_buf()));
    }
    let (version, payload) = read_file(dir, &key_file)?;
    let mut b = payload.as_slice();
    let salt = qt_bytes(&mut b)?;
    let key_encrypted = qt_bytes(&mut b)?;
    let info_encrypted = qt_bytes(&mut b)?;
    let pk = passcode_key(salt, passcode);
    let local = decrypt_local(key_encrypted, &pk).ok_or(TdataError::WrongPasscode)?;
    let local: [u8; 256] = local
        .try_into()
        .map_err(|_| TdataError::Layout("the local key is not 256 bytes".into()))?;
    let info = decrypt_local(info_encrypted, &local)
        .ok_or_else(|| TdataError::Damaged("key_datas' account list does not decrypt".into()))?;
    let mut i = info.as_slice();
    let count = be_i32(&mut i)?;
    if !(1..=MAX_ACCOUNTS).contains(&count) {
        return Err(TdataError::Layout(format!(
            "{count} accounts recorded; Desktop keeps 1 to {MAX_ACCOUNTS}"
        )));
    }
    let indices: Vec<i32> = (0..count).map(|_| be_i32(&mut i)).collect::<R<_>>()?;
    let active = be_i32(&mut i).ok();
    let mut accounts = Vec::new();
    for index in indices {
        let name = if index == 0 {
            key_name.to_string()
        } else {
            format!("{key_name}#{}", index + 1)
        };
        accounts.push(read_account(dir, &name, index, &local)?);
    }
    Ok(Tdata {
        dir: dir.to_path_buf(),
        version,
        accounts,
        active,
    })
}

fn read_account(dir: &Path, name: &str, index: i32, local: &[u8; 256]) -> R<Account> {
    let folder = data_folder(name);
    let (_, payload) = read_file(dir, &folder)?;
    let mut b = payload.as_slice();
    let blob = qt_bytes(&mut b)?;
    let plain = decrypt_local(blob, local)
        .ok_or_else(|| TdataError::Damaged(format!("{folder} does not decrypt")))?;
    let mut p = plain.as_slice();
    let block = be_i32(&mut p)? as u32;
    if block != MTP_AUTHORIZATION {
        // Blocks carry no length, so an unknown one cannot be skipped.
        return Err(TdataError::Layout(format!(
            "account {index}'s first block is {block:#x}, not the authorization (0x4b)"
        )));
    }
    let mut a = qt_bytes(&mut p)?;
    let (mut user, mut dc) = (i64::from(be_i32(&mut a)?), be_i32(&mut a)?);
    if user == -1 && dc == -1 {
        let hi = be_i32(&mut a)? as u32 as u64;
        let lo = be_i32(&mut a)? as u32 as u64;
        user = ((hi << 32) | lo) as i64;
        dc = be_i32(&mut a)?;
    }
    let count = be_i32(&mut a)?;
    if !(0..=16).contains(&count) {
        return Err(TdataError::Layout(format!(
            "{count} keys in account {index}"
        )));
    }
    let mut key = None;
    for _ in 0..count {
        let id = be_i32(&mut a)?;
        let k = a
            .get(..256)
            .ok_or_else(|| TdataError::Layout("a key runs past its data".into()))?;
        a = &a[256..];
        if id == dc {
            key = AuthKey::from_slice(k);
        }
    }
    let key = key.ok_or_else(|| {
        TdataError::Layout(format!("account {index} has no key for its main DC {dc}"))
    })?;
    let dc = super::dc_id(i64::from(dc))
        .map_err(|e| TdataError::Layout(format!("account {index}: {e}")))?;
    Ok(Account {
        index,
        user_id: user,
        dc_id: dc,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Desktop's encryptLocal: length (LE, counting itself) ‖ data ‖ padding, SHA1 msgKey.
    fn encrypt_local(data: &[u8], key: &[u8; 256]) -> Vec<u8> {
        let size = data.len() + 4;
        let mut plain = (size as u32).to_le_bytes().to_vec();
        plain.extend_from_slice(data);
        plain.resize(size.div_ceil(16) * 16, 0x5a);
        let msg_key = sha1(&[&plain])[..16].to_vec();
        let (k, iv) = old_mtp_key_iv(key, &msg_key);
        grammers_crypto::aes::ige_encrypt(&mut plain, &k, &iv);
        [msg_key, plain].concat()
    }

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut md5 = md5::Md5::new();
        md5.update(payload);
        md5.update((payload.len() as i32).to_le_bytes());
        md5.update(6001002i32.to_le_bytes());
        md5.update(b"TDF$");
        [
            b"TDF$".to_vec(),
            6001002i32.to_le_bytes().to_vec(),
            payload.to_vec(),
            md5.finalize().to_vec(),
        ]
        .concat()
    }

    fn qt(b: &[u8]) -> Vec<u8> {
        [(b.len() as u32).to_be_bytes().to_vec(), b.to_vec()].concat()
    }

    /// A tdata written as Desktop writes it: `count` accounts recorded, the first account's
    /// file starting with block `first_block`.
    fn make(dir: &Path, passcode: &[u8], count: i32, first_block: u32) {
        let salt = [7u8; 32];
        let local = [9u8; 256];
        let pk = passcode_key(&salt, passcode);
        let mut info = count.to_be_bytes().to_vec();
        for i in 0..count {
            info.extend(i.to_be_bytes());
        }
        info.extend(0i32.to_be_bytes());
        let payload = [
            qt(&salt),
            qt(&encrypt_local(&local, &pk)),
            qt(&encrypt_local(&info, &local)),
        ]
        .concat();
        std::fs::write(dir.join("key_datas"), frame(&payload)).unwrap();
        let mut auth = Vec::new();
        auth.extend((-1i32).to_be_bytes());
        auth.extend((-1i32).to_be_bytes());
        auth.extend(5_000_000_000i64.to_be_bytes());
        auth.extend(2i32.to_be_bytes());
        auth.extend(1i32.to_be_bytes());
        auth.extend(2i32.to_be_bytes());
        auth.extend([3u8; 256]);
        auth.extend(0i32.to_be_bytes());
        let block = [first_block.to_be_bytes().to_vec(), qt(&auth)].concat();
        let acc = qt(&encrypt_local(&block, &local));
        std::fs::write(dir.join(format!("{}s", data_folder("data"))), frame(&acc)).unwrap();
    }

    #[test]
    fn reads_what_desktop_writes_and_names_each_failure() {
        let d = tempfile::tempdir().unwrap();
        make(d.path(), b"", 1, MTP_AUTHORIZATION);
        let t = read(d.path(), "data", b"").unwrap();
        assert_eq!(
            (t.accounts[0].user_id, t.accounts[0].dc_id),
            (5_000_000_000, 2)
        );
        assert_eq!(t.accounts[0].key, AuthKey([3u8; 256]));
        // A passcode is set: the empty one is wrong, the right one opens it.
        make(d.path(), b"pw", 1, MTP_AUTHORIZATION);
        assert!(matches!(
            read(d.path(), "data", b""),
            Err(TdataError::WrongPasscode)
        ));
        assert!(read(d.path(), "data", b"pw").is_ok());
        // Seven accounts: more than Desktop keeps.
        make(d.path(), b"", 7, MTP_AUTHORIZATION);
        assert!(
            matches!(read(d.path(), "data", b""), Err(TdataError::Layout(m)) if m.contains("7 accounts"))
        );
        // No authorization block first.
        make(d.path(), b"", 1, 0x50);
        assert!(
            matches!(read(d.path(), "data", b""), Err(TdataError::Layout(m)) if m.contains("0x50"))
        );
        // A flipped byte: the MD5 no longer matches.
        make(d.path(), b"", 1, MTP_AUTHORIZATION);
        let p = d.path().join("key_datas");
        let mut b = std::fs::read(&p).unwrap();
        b[20] ^= 1;
        std::fs::write(&p, &b).unwrap();
        assert!(
            matches!(read(d.path(), "data", b""), Err(TdataError::Damaged(m)) if m.contains("MD5"))
        );
        // Truncated.
        std::fs::write(&p, &b[..30]).unwrap();
        assert!(matches!(
            read(d.path(), "data", b""),
            Err(TdataError::Damaged(_))
        ));
        // No key_datas at all.
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(
            read(d.path(), "data", b""),
            Err(TdataError::NoKeyData(_))
        ));
    }

    #[test]
    fn data_folders_are_desktops() {
        assert_eq!(data_folder("data"), "D877F783D5D3EF8C");
        assert_eq!(data_folder("data#2"), "A7FDF864FBC10B77");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Random key_datas and account files: an error, never a panic.
        #[test]
        fn random_bytes_never_panic(
            key in proptest::collection::vec(any::<u8>(), 0..600),
            acc in proptest::collection::vec(any::<u8>(), 0..600),
            framed in any::<bool>(),
        ) {
            let d = tempfile::tempdir().unwrap();
            let frame = |payload: &[u8]| {
                if !framed {
                    return payload.to_vec();
                }
                let mut md5 = md5::Md5::new();
                md5.update(payload);
                md5.update((payload.len() as i32).to_le_bytes());
                md5.update(1i32.to_le_bytes());
                md5.update(b"TDF$");
                let mut v = b"TDF$".to_vec();
                v.extend(1i32.to_le_bytes());
                v.extend(payload);
                v.extend(md5.finalize());
                v
            };
            std::fs::write(d.path().join("key_datas"), frame(&key)).unwrap();
            std::fs::write(d.path().join("D877F783D5D3EF8Cs"), frame(&acc)).unwrap();
            prop_assert!(read(d.path(), "data", b"").is_err());
        }
    }
}
