//! The transport of each connection, told from its first bytes as Telegram does
//! (core.telegram.org/mtproto/mtproto-transports): Abridged (`0xef`), Intermediate
//! (`0xeeeeeeee`), Padded intermediate (`0xdddddddd`), or Full (a length and sequence number 0,
//! no tag). Full uses grammers' own framing code; the tagged ones are framed here, server
//! side (grammers' client-side packers would send the tag again).
//!
//! The three tagged transports may also come obfuscated: a 64-byte random header whose
//! bytes 8..56 key AES-256-CTR both ways and whose bytes 56..60, once decrypted, are the
//! tag (core.telegram.org/mtproto/mtproto-transports#transport-obfuscation; the client side
//! is grammers-mtproto `src/transport/obfuscated.rs`).

use grammers_crypto::{DequeBuffer, ObfuscatedCipher};
use grammers_mtproto::transport::{self, Transport};

/// Frames larger than this close the connection.
pub(crate) const MAX_FRAME: usize = 2 << 20;

pub(crate) enum Framing {
    Full(transport::Full),
    Abridged,
    Intermediate,
    Padded,
}

pub(crate) enum Detected {
    /// Not enough bytes yet.
    NeedMore,
    /// The transport, and how many tag bytes to drop.
    Found(Framing, usize),
    /// An obfuscated tagged transport: drop the 64-byte header, then run every byte after
    /// it, both ways, through the cipher.
    Obfuscated(Framing, Box<ObfuscatedCipher>),
    /// Fits none: the connection is closed, and the reason logged.
    Unknown(String),
}

/// Tells the transport from the first bytes of a connection.
pub(crate) fn detect(buf: &[u8]) -> Detected {
    if buf.first() == Some(&0xef) {
        return Detected::Found(Framing::Abridged, 1);
    }
    if buf.len() < 8 {
        return Detected::NeedMore;
    }
    let tag = u32::from_le_bytes(buf[..4].try_into().expect("4"));
    match tag {
        0xeeee_eeee => Detected::Found(Framing::Intermediate, 4),
        0xdddd_dddd => Detected::Found(Framing::Padded, 4),
        len if (12..=MAX_FRAME as u32).contains(&len) && buf[4..8] == [0, 0, 0, 0] => {
            Detected::Found(Framing::Full(transport::Full::new()), 0)
        }
        _ => obfuscated(buf),
    }
}

/// The server's side of an obfuscated header, if `buf` starts with one.
fn obfuscated(buf: &[u8]) -> Detected {
    // Clients never start an obfuscated header with these (grammers-mtproto
    // `src/transport/obfuscated.rs` FORBIDDEN_FIRST_INTS), so they are refused at once.
    let plain_protocol = [
        *b"HEAD",
        *b"POST",
        *b"GET ",
        *b"OPTI",
        [0x16, 0x03, 0x01, 0x02],
    ];
    if plain_protocol.iter().any(|p| buf[..4] == *p) {
        return unknown(buf);
    }
    let Some(head) = buf.get(..64) else {
        return Detected::NeedMore;
    };
    // The client keys its sending side with head[8..56] and its receiving side with the
    // same bytes reversed (grammers-crypto `src/obfuscated.rs`), so the server's cipher is
    // the client's built from the reversed header.
    let mut reversed: [u8; 64] = head.try_into().expect("64");
    reversed.reverse();
    let mut cipher = ObfuscatedCipher::new(&reversed);
    let mut plain = reversed;
    plain.reverse();
    cipher.decrypt(&mut plain);
    let framing = match u32::from_le_bytes(plain[56..60].try_into().expect("4")) {
        0xefef_efef => Framing::Abridged,
        0xeeee_eeee => Framing::Intermediate,
        0xdddd_dddd => Framing::Padded,
        _ => return unknown(buf),
    };
    Detected::Obfuscated(framing, Box::new(cipher))
}

fn unknown(buf: &[u8]) -> Detected {
    Detected::Unknown(format!(
        "the first bytes {:02x?} fit no transport the sandbox serves (Abridged, \
         Intermediate, Padded intermediate, Full, or one of the first three obfuscated)",
        &buf[..8]
    ))
}

/// An MTProto packet's real length inside a padded frame: a plain message says its own
/// length; an encrypted one is 24 bytes of header and whole 16-byte AES blocks.
fn unpadded(frame: &[u8]) -> usize {
    if frame.len() >= 20 && frame[..8] == [0; 8] {
        let inner = u32::from_le_bytes(frame[16..20].try_into().expect("4")) as usize;
        return (20 + inner).min(frame.len());
    }
    if frame.len() > 24 {
        return frame.len() - (frame.len() - 24) % 16;
    }
    frame.len()
}

impl Framing {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Framing::Full(_) => "full",
            Framing::Abridged => "abridged",
            Framing::Intermediate => "intermediate",
            Framing::Padded => "padded intermediate",
        }
    }

    /// The name with "obfuscated" in front, for the obfuscated variants (Full has none:
    /// [`detect`] never returns it obfuscated).
    pub(crate) fn obfuscated_name(&self) -> &'static str {
        match self {
            Framing::Abridged => "obfuscated abridged",
            Framing::Intermediate => "obfuscated intermediate",
            Framing::Padded => "obfuscated padded intermediate",
            Framing::Full(_) => "full",
        }
    }

    /// Takes one whole frame's payload off the front of `buf`; `Ok(None)` while incomplete.
    pub(crate) fn unpack(&mut self, buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, String> {
        let (header, len) = match self {
            Framing::Full(t) => {
                return match t.unpack(&mut buf[..]) {
                    Ok(off) => {
                        let payload = buf[off.data_range].to_vec();
                        buf.drain(..off.next_offset);
                        Ok(Some(payload))
                    }
                    Err(transport::Error::MissingBytes) => {
                        let len = buf
                            .get(..4)
                            .map(|b| i32::from_le_bytes(b.try_into().expect("4")));
                        match len {
                            Some(l) if l < 0 || l as usize > MAX_FRAME => {
                                Err(format!("a frame of {l} bytes"))
                            }
                            _ => Ok(None),
                        }
                    }
                    Err(e) => Err(format!("a bad full-transport frame ({e})")),
                };
            }
            Framing::Abridged => {
                let Some(&first) = buf.first() else {
                    return Ok(None);
                };
                // The top bit asks for a quick ack; the sandbox sends none.
                if first & 0x7f < 0x7f {
                    (1, (first & 0x7f) as usize * 4)
                } else if buf.len() < 4 {
                    return Ok(None);
                } else {
                    let words = u32::from_le_bytes([buf[1], buf[2], buf[3], 0]) as usize;
                    (4, words * 4)
                }
            }
            Framing::Intermediate | Framing::Padded => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                let l = u32::from_le_bytes(buf[..4].try_into().expect("4")) & 0x7fff_ffff;
                (4, l as usize)
            }
        };
        if len > MAX_FRAME {
            return Err(format!("a frame of {len} bytes"));
        }
        if buf.len() < header + len {
            return Ok(None);
        }
        let mut frame: Vec<u8> = buf.drain(..header + len).skip(header).collect();
        if matches!(self, Framing::Padded) {
            frame.truncate(unpadded(&frame));
        }
        Ok(Some(frame))
    }

    /// One frame for the client.
    pub(crate) fn pack(&mut self, payload: &[u8]) -> Vec<u8> {
        match self {
            Framing::Full(t) => {
                let mut dq = DequeBuffer::with_capacity(payload.len() + 12, 12);
                dq.extend(payload.iter().copied());
                t.pack(&mut dq);
                dq[..].to_vec()
            }
            Framing::Abridged => {
                let words = payload.len() / 4;
                let mut out = if words < 0x7f {
                    vec![words as u8]
                } else {
                    let w = (words as u32).to_le_bytes();
                    vec![0x7f, w[0], w[1], w[2]]
                };
                out.extend_from_slice(payload);
                out
            }
            Framing::Intermediate => {
                let mut out = (payload.len() as u32).to_le_bytes().to_vec();
                out.extend_from_slice(payload);
                out
            }
            Framing::Padded => {
                let mut pad = [0u8; 1];
                let _ = getrandom::fill(&mut pad);
                let pad = (pad[0] % 16) as usize;
                let mut out = ((payload.len() + pad) as u32).to_le_bytes().to_vec();
                out.extend_from_slice(payload);
                let mut junk = vec![0u8; pad];
                let _ = getrandom::fill(&mut junk);
                out.extend(junk);
                out
            }
        }
    }

    /// A transport error (-404 and the like): raw four bytes on Full, framed otherwise.
    pub(crate) fn error(&mut self, code: i32) -> Vec<u8> {
        match self {
            Framing::Full(_) => code.to_le_bytes().to_vec(),
            _ => self.pack(&code.to_le_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_frames<T: Transport>(mut t: T, payloads: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            let mut dq = DequeBuffer::with_capacity(p.len() + 8, 8);
            dq.extend(p.iter().copied());
            t.pack(&mut dq);
            out.extend_from_slice(&dq[..]);
        }
        out
    }

    /// grammers' own client-side packers frame what the sandbox unpacks, and grammers' own
    /// unpackers read what the sandbox packs.
    #[test]
    fn grammers_framing_round_trips_through_the_server_side() {
        let payloads = vec![vec![1u8; 24], vec![2u8; 4 * 200], vec![3u8; 64]];
        for (name, bytes) in [
            (
                "abridged",
                client_frames(transport::Abridged::new(), &payloads),
            ),
            (
                "intermediate",
                client_frames(transport::Intermediate::new(), &payloads),
            ),
            ("full", client_frames(transport::Full::new(), &payloads)),
        ] {
            let Detected::Found(mut f, tag) = detect(&bytes) else {
                panic!("{name}: not detected");
            };
            assert_eq!(f.name(), name);
            let mut buf = bytes[tag..].to_vec();
            for p in &payloads {
                assert_eq!(f.unpack(&mut buf).unwrap().as_ref(), Some(p), "{name}");
            }
            assert!(buf.is_empty());
            let reply = f.pack(&payloads[1]);
            let mut back = reply.clone();
            let got = match name {
                "abridged" => transport::Abridged::new().unpack(&mut back[..]),
                "intermediate" => transport::Intermediate::new().unpack(&mut back[..]),
                _ => transport::Full::new().unpack(&mut back[..]),
            }
            .unwrap();
            assert_eq!(&back[got.data_range], &payloads[1][..], "{name}");
        }
    }

    #[test]
    fn padded_frames_lose_their_padding_and_junk_is_refused() {
        let mut msg = vec![0u8; 8];
        msg.extend([9u8; 8]);
        msg.extend(8u32.to_le_bytes());
        msg.extend([7u8; 8]);
        let mut frame = 0xdddd_ddddu32.to_le_bytes().to_vec();
        frame.extend(((msg.len() + 5) as u32).to_le_bytes());
        frame.extend(&msg);
        frame.extend([0xaa; 5]);
        let Detected::Found(mut f, 4) = detect(&frame) else {
            panic!("padded not detected");
        };
        let mut buf = frame[4..].to_vec();
        assert_eq!(f.unpack(&mut buf).unwrap(), Some(msg));
        assert!(matches!(
            detect(b"GET / HTTP/1.1\r\n"),
            Detected::Unknown(_)
        ));
        assert!(matches!(detect(&[0xee; 3]), Detected::NeedMore));
    }

    /// A client's obfuscated header for `tag`, made as grammers-mtproto
    /// `src/transport/obfuscated.rs` `generate_keys` makes it, and the client's cipher.
    fn client_header(tag: u32) -> ([u8; 64], ObfuscatedCipher) {
        let mut init = [0u8; 64];
        for (i, b) in init.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        init[56..60].copy_from_slice(&tag.to_le_bytes());
        let mut cipher = ObfuscatedCipher::new(&init);
        let mut encrypted = init;
        cipher.encrypt(&mut encrypted);
        init[56..64].copy_from_slice(&encrypted[56..64]);
        (init, cipher)
    }

    /// Padded intermediate, obfuscated, which grammers has no client for: hand-made frames
    /// both ways; a header whose tag is no transport is refused, as is plain HTTP at once.
    #[test]
    fn obfuscated_padded_frames_both_ways_and_bad_headers_are_refused() {
        let (head, mut client) = client_header(0xdddd_dddd);
        let payload = vec![0x5au8; 40];
        let mut frame = 40u32.to_le_bytes().to_vec();
        frame.extend(&payload);
        client.encrypt(&mut frame);
        let mut bytes = head.to_vec();
        bytes.extend(&frame);
        assert!(matches!(detect(&bytes[..63]), Detected::NeedMore));
        let Detected::Obfuscated(mut f, mut server) = detect(&bytes) else {
            panic!("obfuscated padded not detected");
        };
        assert_eq!(f.name(), "padded intermediate");
        let mut buf = bytes[64..].to_vec();
        server.decrypt(&mut buf);
        assert_eq!(f.unpack(&mut buf).unwrap(), Some(payload.clone()));
        let mut reply = f.pack(&payload);
        server.encrypt(&mut reply);
        client.decrypt(&mut reply);
        let len = u32::from_le_bytes(reply[..4].try_into().unwrap()) as usize;
        assert_eq!(len, reply.len() - 4);
        assert_eq!(&reply[4..44], &payload[..]);
        let (bad, _) = client_header(0x1234_5678);
        assert!(matches!(detect(&bad), Detected::Unknown(_)));
        assert!(matches!(detect(b"POST /api"), Detected::Unknown(_)));
    }
}
