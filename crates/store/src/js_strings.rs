//! Session strings of the JavaScript/TypeScript libraries:
//! - GramJS (`telegram` on npm, gramjs/sessions/StringSession.ts): `'1'` + standard base64 of
//!   dc_id u8, the IP's length as i16 BE, the IP as text, the port as i16 BE, the key;
//! - mtcute version 3 (packages/core/src/highlevel/utils/string-session.ts, and
//!   packages/core/src/utils/dcs.ts for the DC option): base64url of version 3, int32 flags
//!   (1 self, 2 old test flag, 4 separate media DC), the DC option as TL bytes
//!   (`[2, id, flags (1 ipv6, 2 media only, 4 test)]`, TL string IP, int32 port), the media DC
//!   option when flag 4, the user id (int53, 8 bytes) and is_bot (TL Bool) when flag 1, then
//!   the key as TL bytes;
//! - MTKruto (read only; @mtcute/convert's mtkruto reader): base64url of Telegram's zero-run
//!   RLE of a TL string DC (`"2"`, `"2-test"`) and the key as TL bytes.
//!
//! Every parser checks the whole structure, so detection never guesses by a prefix.

use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::{AuthKey, Record};

/// TL Bool constructors (boolTrue#997275b5, boolFalse#bc799737).
const BOOL_TRUE: u32 = 0x9972_75b5;
const BOOL_FALSE: u32 = 0xbc79_9737;

fn key_of(b: &[u8]) -> Result<AuthKey, String> {
    let k =
        AuthKey::from_slice(b).ok_or_else(|| format!("the key is {} bytes, not 256", b.len()))?;
    if k.0.iter().all(|x| *x == 0) {
        return Err("the auth key is empty (all zero)".into());
    }
    Ok(k)
}

fn dc_of(id: i64) -> Result<i32, String> {
    super::dc_id(id)
}

pub(crate) fn parse_gramjs(s: &str) -> Result<Record, String> {
    let rest = s
        .trim()
        .strip_prefix('1')
        .ok_or("a GramJS string starts with '1'")?;
    let raw = STANDARD
        .decode(rest)
        .map_err(|e| format!("not valid standard base64 ({e})"))?;
    if raw.len() < 5 {
        return Err("too short".into());
    }
    let ip_len = u16::from_be_bytes([raw[1], raw[2]]) as usize;
    if !(7..=45).contains(&ip_len) || raw.len() != 1 + 2 + ip_len + 2 + 256 {
        return Err(format!(
            "its layout does not fit (address length {ip_len}, {} bytes)",
            raw.len()
        ));
    }
    let ip: IpAddr = std::str::from_utf8(&raw[3..3 + ip_len])
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or("the address is not an IP address in text")?;
    let port = u16::from_be_bytes([raw[3 + ip_len], raw[4 + ip_len]]);
    Ok(Record {
        dc_id: dc_of(i64::from(raw[0]))?,
        address: Some(SocketAddr::new(ip, port)),
        auth_key: key_of(&raw[5 + ip_len..])?,
        test_mode: Some(crate::dc::is_test_address(&SocketAddr::new(ip, port))),
        ..Record::default()
    })
}

pub fn encode_gramjs(r: &Record) -> Result<String, String> {
    let a = r.address.ok_or("a GramJS string needs the DC's address")?;
    let ip = a.ip().to_string();
    let mut raw = vec![u8::try_from(r.dc_id).map_err(|_| "DC id out of range")?];
    raw.extend_from_slice(&(ip.len() as u16).to_be_bytes());
    raw.extend_from_slice(ip.as_bytes());
    raw.extend_from_slice(&a.port().to_be_bytes());
    raw.extend_from_slice(&r.auth_key.0);
    Ok(format!("1{}", STANDARD.encode(raw)))
}

/// A cursor over TL-serialised bytes.
struct Tl<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Tl<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        let end = end.ok_or("ends too early")?;
        let out = &self.b[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }

    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }

    /// TL bytes: one length byte (< 254) or 0xfe and three, the data, padding to 4.
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let first = self.take(1)?[0];
        let (len, head) = if first < 254 {
            (first as usize, 1)
        } else {
            let l = self.take(3)?;
            (
                l[0] as usize | (l[1] as usize) << 8 | (l[2] as usize) << 16,
                4,
            )
        };
        let data = self.take(len)?;
        self.take((4 - (head + len) % 4) % 4)?;
        Ok(data)
    }

    fn done(&self) -> Result<(), String> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err(format!("{} bytes left over", self.b.len() - self.pos))
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, data: &[u8]) {
    let head = if data.len() < 254 {
        out.push(data.len() as u8);
        1
    } else {
        out.push(254);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
        4
    };
    out.extend_from_slice(data);
    out.extend(std::iter::repeat_n(0, (4 - (head + data.len()) % 4) % 4));
}

/// mtcute's DC option: (id, address, ipv6, test).
fn parse_dc_option(b: &[u8]) -> Result<(i32, SocketAddr, bool), String> {
    let mut t = Tl { b, pos: 0 };
    let head = t.take(3)?;
    if head[0] != 1 && head[0] != 2 {
        return Err(format!("DC option version {} is unknown", head[0]));
    }
    let ip = std::str::from_utf8(t.bytes()?)
        .ok()
        .and_then(|s| s.parse::<IpAddr>().ok())
        .ok_or("the DC option's address is not an IP address")?;
    let port = t.u32()?;
    t.done()?;
    let port = u16::try_from(port).map_err(|_| "the port is out of range")?;
    Ok((
        dc_of(i64::from(head[1]))?,
        SocketAddr::new(ip, port),
        head[0] == 2 && head[2] & 4 != 0,
    ))
}

pub(crate) fn parse_mtcute(s: &str) -> Result<Record, String> {
    let raw = URL_SAFE_NO_PAD
        .decode(s.trim().trim_end_matches('='))
        .map_err(|e| format!("not valid base64url ({e})"))?;
    let mut t = Tl { b: &raw, pos: 0 };
    let version = t.take(1)?[0];
    if version != 3 {
        return Err(format!(
            "version {version}; tgsess reads mtcute's version 3"
        ));
    }
    let flags = t.u32()?;
    let (dc, address, test) = parse_dc_option(t.bytes()?)?;
    if flags & 4 != 0 {
        parse_dc_option(t.bytes()?)?;
    }
    let (user, bot) = if flags & 1 != 0 {
        let id = t.i64()?;
        let bot = match t.u32()? {
            BOOL_TRUE => true,
            BOOL_FALSE => false,
            other => return Err(format!("is_bot is not a TL Bool ({other:#x})")),
        };
        (Some(id), Some(bot))
    } else {
        (None, None)
    };
    let key = key_of(t.bytes()?)?;
    t.done()?;
    Ok(Record {
        dc_id: dc,
        address: Some(address),
        auth_key: key,
        user_id: user,
        bot,
        test_mode: Some(test || flags & 2 != 0),
        ..Record::default()
    })
}

pub fn encode_mtcute(r: &Record) -> Result<String, String> {
    let a = r.address.ok_or("an mtcute string needs the DC's address")?;
    let mut dc = vec![
        2,
        u8::try_from(r.dc_id).map_err(|_| "DC id out of range")?,
        u8::from(a.is_ipv6()) | if r.test_mode == Some(true) { 4 } else { 0 },
    ];
    put_bytes(&mut dc, a.ip().to_string().as_bytes());
    dc.extend_from_slice(&u32::from(a.port()).to_le_bytes());
    let has_self = r.user_id.is_some();
    let mut raw = vec![3];
    raw.extend_from_slice(&u32::from(has_self).to_le_bytes());
    put_bytes(&mut raw, &dc);
    if let Some(id) = r.user_id {
        raw.extend_from_slice(&id.to_le_bytes());
        let b = if r.bot == Some(true) {
            BOOL_TRUE
        } else {
            BOOL_FALSE
        };
        raw.extend_from_slice(&b.to_le_bytes());
    }
    put_bytes(&mut raw, &r.auth_key.0);
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// Telegram's zero-run RLE: `0x00 n` stands for n zero bytes.
fn rle_decode(b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(b.len() * 2);
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0 {
            let n = *b.get(i + 1).ok_or("a zero run without its length")?;
            if n == 0 {
                return Err("a zero run of length 0".into());
            }
            out.extend(std::iter::repeat_n(0, n as usize));
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

pub(crate) fn parse_mtkruto(s: &str) -> Result<Record, String> {
    let packed = URL_SAFE_NO_PAD
        .decode(s.trim().trim_end_matches('='))
        .map_err(|e| format!("not valid base64url ({e})"))?;
    let raw = rle_decode(&packed)?;
    let mut t = Tl { b: &raw, pos: 0 };
    let dc_text = std::str::from_utf8(t.bytes()?).map_err(|_| "the DC is not text")?;
    let (dc, test) = match dc_text.strip_suffix("-test") {
        Some(d) => (d, true),
        None => (dc_text, false),
    };
    let dc: i64 = dc
        .parse()
        .map_err(|_| format!("the DC {dc_text:?} is not a number"))?;
    let key = key_of(t.bytes()?)?;
    t.done()?;
    Ok(Record {
        dc_id: dc_of(dc)?,
        auth_key: key,
        test_mode: Some(test),
        ..Record::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record() -> Record {
        let mut k = [0u8; 256];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i * 7 + 1) as u8;
        }
        Record {
            dc_id: 4,
            address: Some("149.154.167.91:443".parse().unwrap()),
            auth_key: AuthKey(k),
            user_id: Some(6_000_000_002),
            bot: Some(true),
            test_mode: Some(false),
            ..Record::default()
        }
    }

    #[test]
    fn gramjs_and_mtcute_round_trip() {
        let r = record();
        let g = parse_gramjs(&encode_gramjs(&r).unwrap()).unwrap();
        assert_eq!(
            (g.dc_id, g.address, &g.auth_key),
            (4, r.address, &r.auth_key)
        );
        let m = parse_mtcute(&encode_mtcute(&r).unwrap()).unwrap();
        assert_eq!(
            (m.dc_id, m.address, &m.auth_key, m.user_id, m.bot),
            (4, r.address, &r.auth_key, r.user_id, r.bot)
        );
        let v6 = Record {
            address: Some("[2001:67c:4e8:f004::a]:443".parse().unwrap()),
            user_id: None,
            ..r
        };
        assert_eq!(
            parse_mtcute(&encode_mtcute(&v6).unwrap()).unwrap().address,
            v6.address
        );
        assert_eq!(
            parse_gramjs(&encode_gramjs(&v6).unwrap()).unwrap().address,
            v6.address
        );
    }

    #[test]
    fn mtkruto_reads_rle_and_test_dcs() {
        let mut raw = Vec::new();
        put_bytes(&mut raw, b"2-test");
        put_bytes(&mut raw, &record().auth_key.0);
        // Telegram's RLE of it.
        let mut packed = Vec::new();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == 0 {
                let n = raw[i..].iter().take(255).take_while(|b| **b == 0).count();
                packed.extend([0, n as u8]);
                i += n;
            } else {
                packed.push(raw[i]);
                i += 1;
            }
        }
        let r = parse_mtkruto(&URL_SAFE_NO_PAD.encode(packed)).unwrap();
        assert_eq!((r.dc_id, r.test_mode), (2, Some(true)));
        assert_eq!(r.auth_key, record().auth_key);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn random_text_is_an_error_never_a_panic(s in ".{0,600}") {
            let _ = parse_gramjs(&s);
            let _ = parse_mtcute(&s);
            let _ = parse_mtkruto(&s);
        }

        #[test]
        fn random_base64_is_an_error_never_a_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_mtcute(&URL_SAFE_NO_PAD.encode(&b));
            let _ = parse_mtkruto(&URL_SAFE_NO_PAD.encode(&b));
            let _ = parse_gramjs(&format!("1{}", STANDARD.encode(&b)));
        }
    }
}
