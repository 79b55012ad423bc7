//! Telethon and Pyrogram session strings: parsing (strict, every bad input an error) and
//! encoding, byte-compatible with the real libraries (checked by scripts/fixtures.py).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

use super::{AuthKey, Record};

fn check_dc(dc: i32) -> Result<i32, String> {
    super::dc_id(i64::from(dc))
}

fn check_key(key: &[u8]) -> Result<AuthKey, String> {
    let k = AuthKey::from_slice(key)
        .ok_or_else(|| format!("the auth key is {} bytes, not 256", key.len()))?;
    if k.0.iter().all(|b| *b == 0) {
        return Err("the auth key is empty (all zero): this session never had a key".into());
    }
    Ok(k)
}

/// Telethon's StringSession (telethon/sessions/string.py): '1' + urlsafe base64 WITH
/// padding of `>B{4|16}sH256s`; IPv4 exactly when the base64 part is 352 characters.
pub(crate) fn parse_telethon(s: &str) -> Result<Record, String> {
    let s = s.trim();
    let Some(rest) = s.strip_prefix('1') else {
        return Err(match s.chars().next() {
            None => "the string is empty".into(),
            Some(c) => format!("a Telethon string starts with version '1', this one with {c:?}"),
        });
    };
    let ip_len = match rest.len() {
        352 => 4,
        368 => 16,
        n => {
            return Err(format!(
                "a Telethon string has 353 (IPv4) or 369 (IPv6) characters, this one {}: \
                 truncated or padding removed?",
                n + 1
            ));
        }
    };
    let raw = URL_SAFE
        .decode(rest)
        .map_err(|e| format!("not valid urlsafe base64 with padding ({e})"))?;
    if raw.len() != 1 + ip_len + 2 + 256 {
        return Err(format!(
            "decodes to {} bytes, not {}",
            raw.len(),
            1 + ip_len + 258
        ));
    }
    let dc = check_dc(i32::from(raw[0]))?;
    let ip: IpAddr = if ip_len == 4 {
        Ipv4Addr::from(<[u8; 4]>::try_from(&raw[1..5]).expect("4")).into()
    } else {
        Ipv6Addr::from(<[u8; 16]>::try_from(&raw[1..17]).expect("16")).into()
    };
    let port = u16::from_be_bytes([raw[1 + ip_len], raw[2 + ip_len]]);
    Ok(Record {
        dc_id: dc,
        address: Some(SocketAddr::new(ip, port)),
        auth_key: check_key(&raw[3 + ip_len..])?,
        user_id: None,
        bot: None,
        test_mode: None,
        api_id: None,
        ..Record::default()
    })
}

pub fn encode_telethon(p: &Record) -> Result<String, String> {
    let addr = p
        .address
        .ok_or("a Telethon string needs the DC's address")?;
    let mut raw = vec![u8::try_from(p.dc_id).map_err(|_| "DC id out of range")?];
    match addr.ip() {
        IpAddr::V4(ip) => raw.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => raw.extend_from_slice(&ip.octets()),
    }
    raw.extend_from_slice(&addr.port().to_be_bytes());
    raw.extend_from_slice(&p.auth_key.0);
    Ok(format!("1{}", URL_SAFE.encode(raw)))
}

/// Pyrogram's session string (pyrogram/storage/storage.py and memory_storage.py): urlsafe
/// base64 with the padding stripped; the layout follows the length: 351 `>B?256sI?`,
/// 356 `>B?256sQ?`, otherwise `>BI?256sQ?` (normally 362).
pub(crate) fn parse_pyrogram(s: &str) -> Result<Record, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("the string is empty".into());
    }
    if s.contains('=') {
        return Err("a Pyrogram string has no '=' padding (Pyrogram strips it)".into());
    }
    if !matches!(s.len(), 351 | 356 | 362) {
        return Err(format!(
            "a Pyrogram string has 351, 356 or 362 characters, this one {}: truncated?",
            s.len()
        ));
    }
    let raw = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| format!("not valid urlsafe base64 ({e})"))?;
    let b = |v: u8| v != 0;
    let (dc, api_id, test, key, user, bot) = match raw.len() {
        263 => (
            raw[0],
            None,
            raw[1],
            &raw[2..258],
            i64::from(u32::from_be_bytes(raw[258..262].try_into().expect("4"))),
            raw[262],
        ),
        267 => (
            raw[0],
            None,
            raw[1],
            &raw[2..258],
            i64::from_be_bytes(raw[258..266].try_into().expect("8")),
            raw[266],
        ),
        271 => (
            raw[0],
            Some(u32::from_be_bytes(raw[1..5].try_into().expect("4"))),
            raw[5],
            &raw[6..262],
            i64::from_be_bytes(raw[262..270].try_into().expect("8")),
            raw[270],
        ),
        n => return Err(format!("decodes to {n} bytes, not 263, 267 or 271")),
    };
    if test > 1 || bot > 1 {
        return Err("test_mode/is_bot are not booleans: not a Pyrogram string".into());
    }
    Ok(Record {
        dc_id: check_dc(i32::from(dc))?,
        address: None,
        auth_key: check_key(key)?,
        user_id: (user != 0).then_some(user),
        bot: Some(b(bot)),
        test_mode: Some(b(test)),
        api_id: api_id
            .and_then(|a| i32::try_from(a).ok())
            .filter(|a| *a != 0),
        ..Record::default()
    })
}

/// The current Pyrogram layout `>BI?256sQ?`.
pub fn encode_pyrogram(p: &Record) -> Result<String, String> {
    let mut raw = vec![u8::try_from(p.dc_id).map_err(|_| "DC id out of range")?];
    raw.extend_from_slice(&(p.api_id.unwrap_or(0) as u32).to_be_bytes());
    raw.push(u8::from(p.test_mode.unwrap_or(false)));
    raw.extend_from_slice(&p.auth_key.0);
    raw.extend_from_slice(&(p.user_id.unwrap_or(0) as u64).to_be_bytes());
    raw.push(u8::from(p.bot.unwrap_or(false)));
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// Which string format a text is, by its length and first character.
/// Every string format tgsess reads: (name, the `--format` that picks it, parser).
type Parser = fn(&str) -> Result<Record, String>;
pub(crate) const STRING_FORMATS: [(&str, &str, Parser); 5] = [
    ("Telethon StringSession", "telethon-string", parse_telethon),
    ("Pyrogram string", "pyrogram-string", parse_pyrogram),
    (
        "GramJS StringSession",
        "gramjs-string",
        super::js_strings::parse_gramjs,
    ),
    (
        "mtcute string",
        "mtcute-string",
        super::js_strings::parse_mtcute,
    ),
    (
        "MTKruto string",
        "mtkruto-string",
        super::js_strings::parse_mtkruto,
    ),
];

/// Decodes `s` with every known format and checks each one's whole structure: exactly one
/// must fit. Formats share prefixes (GramJS and Telethon both start with '1'), so nothing is
/// decided by a prefix or a length alone; an ambiguous string is an error that lists the
/// candidates and the `--format` that picks one.
pub fn detect(s: &str) -> Result<(&'static str, Record), String> {
    let t = s.trim();
    let tries: Vec<(&'static str, &'static str, Result<Record, String>)> = STRING_FORMATS
        .iter()
        .map(|(name, flag, parse)| (*name, *flag, parse(t)))
        .collect();
    let mut fits = Vec::new();
    let mut why = Vec::new();
    for (name, flag, r) in tries {
        match r {
            Ok(r) => fits.push((name, flag, r)),
            Err(e) => why.push(format!("as a {name}: {e}")),
        }
    }
    match fits.len() {
        1 => {
            let (_, flag, r) = fits.into_iter().next().expect("one");
            Ok((flag, r))
        }
        0 => Err(format!(
            "not a session string tgsess knows ({} characters{}). {}",
            t.len(),
            match t.chars().next() {
                Some(c) => format!(", starting with {c:?}"),
                None => String::new(),
            },
            why.join("; ")
        )),
        _ => Err(format!(
            "this string fits more than one format: {}; pick one with {}",
            fits.iter()
                .map(|(n, ..)| *n)
                .collect::<Vec<_>>()
                .join(" and "),
            fits.iter()
                .map(|(_, f, _)| format!("--format {f}"))
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn portable() -> Record {
        let mut k = [0u8; 256];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        Record {
            dc_id: 2,
            address: Some("149.154.167.41:443".parse().unwrap()),
            auth_key: AuthKey(k),
            user_id: Some(5_000_000_001),
            bot: Some(false),
            test_mode: Some(false),
            api_id: Some(12345),
            ..Record::default()
        }
    }

    #[test]
    fn telethon_round_trip() {
        let p = portable();
        let s = encode_telethon(&p).unwrap();
        assert_eq!(s.len(), 353);
        let back = parse_telethon(&s).unwrap();
        assert_eq!(
            (back.dc_id, back.address, &back.auth_key),
            (2, p.address, &p.auth_key)
        );
        let mut v6 = p.clone();
        v6.address = Some("[2001:67c:4e8:f002::a]:443".parse().unwrap());
        let s6 = encode_telethon(&v6).unwrap();
        assert_eq!(s6.len(), 369);
        assert_eq!(parse_telethon(&s6).unwrap().address, v6.address);
    }

    #[test]
    fn pyrogram_round_trip() {
        let p = portable();
        let s = encode_pyrogram(&p).unwrap();
        assert_eq!(s.len(), 362);
        let back = parse_pyrogram(&s).unwrap();
        assert_eq!(back.user_id, p.user_id);
        assert_eq!(back.api_id, Some(12345));
        assert_eq!(back.auth_key, p.auth_key);
    }

    #[test]
    fn bad_strings_say_what_is_wrong() {
        let good = encode_telethon(&portable()).unwrap();
        assert!(
            parse_telethon(&good[..200])
                .unwrap_err()
                .contains("truncated")
        );
        assert!(parse_telethon(good.trim_end_matches('=')).is_err());
        assert!(
            parse_telethon(&format!("2{}", &good[1..]))
                .unwrap_err()
                .contains("'2'")
        );
        let mut bad = good.clone();
        bad.replace_range(10..11, "*");
        assert!(parse_telethon(&bad).unwrap_err().contains("base64"));
        let pg = encode_pyrogram(&portable()).unwrap();
        assert!(
            parse_pyrogram(&format!("{pg}=="))
                .unwrap_err()
                .contains("padding")
        );
        let mut p = portable();
        p.dc_id = 9;
        let s = encode_pyrogram(&p).unwrap();
        assert!(parse_pyrogram(&s).unwrap_err().contains("out of range"));
        p.dc_id = 2;
        p.auth_key = AuthKey([0; 256]);
        assert!(
            parse_pyrogram(&encode_pyrogram(&p).unwrap())
                .unwrap_err()
                .contains("empty")
        );
        assert!(detect("hello").unwrap_err().contains("5 characters"));
        assert!(detect("").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn parsers_never_panic_on_random_text(s in "\\PC{0,400}") {
            let _ = parse_telethon(&s);
            let _ = parse_pyrogram(&s);
            let _ = detect(&s);
        }

        #[test]
        fn parsers_never_panic_on_random_base64_of_the_right_length(
            bytes in proptest::collection::vec(any::<u8>(), 250..280)
        ) {
            let t = format!("1{}", URL_SAFE.encode(&bytes));
            let _ = parse_telethon(&t);
            let p = URL_SAFE_NO_PAD.encode(&bytes);
            let _ = parse_pyrogram(&p);
            let _ = detect(&t);
            let _ = detect(&p);
        }
    }
}
