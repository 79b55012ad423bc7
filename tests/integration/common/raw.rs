//! A client written from the published protocol, not from the sandbox's code: the
//! Intermediate transport by hand (core.telegram.org/mtproto/mtproto-transports), plain
//! messages for key creation, and encrypted ones with grammers-crypto's client-side
//! `encrypt_data_v2` / `decrypt_data_v2`. It can connect from another loopback address.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use grammers_tl_types::Deserializable;

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).unwrap();
    b
}

/// One TCP connection speaking plain messages on the Intermediate transport.
pub struct Plain {
    pub s: TcpStream,
}

/// What the server answered: a TL body, or a transport error code (then it closes).
#[derive(Debug, PartialEq)]
pub enum Answer {
    Body(Vec<u8>),
    Transport(i32),
    Closed,
}

impl Plain {
    pub fn connect(addr: SocketAddr) -> Plain {
        Plain::connect_from(addr, None)
    }

    /// A connection from `local` (another loopback address, such as 127.0.0.2: Linux
    /// routes all of 127.0.0.0/8 to lo), or from the kernel's choice.
    pub fn connect_from(addr: SocketAddr, local: Option<std::net::IpAddr>) -> Plain {
        let socket = match addr {
            SocketAddr::V4(_) => {
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            }
            SocketAddr::V6(_) => {
                socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None)
            }
        }
        .unwrap();
        if let Some(ip) = local {
            socket.bind(&SocketAddr::new(ip, 0).into()).unwrap();
        }
        socket.connect(&addr.into()).unwrap();
        let mut s: TcpStream = socket.into();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(&[0xee; 4]).unwrap();
        Plain { s }
    }

    pub fn send_raw(&mut self, payload: &[u8]) {
        let mut out = (payload.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(payload);
        self.s.write_all(&out).unwrap();
    }

    /// auth_key_id 0 | msg_id | length | body.
    pub fn send(&mut self, body: &[u8]) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let msg_id = ((now.as_secs() as i64) << 32) | ((now.subsec_nanos() as i64) << 2);
        let mut p = 0u64.to_le_bytes().to_vec();
        p.extend(msg_id.to_le_bytes());
        p.extend((body.len() as u32).to_le_bytes());
        p.extend_from_slice(body);
        self.send_raw(&p);
    }

    pub fn recv(&mut self) -> Answer {
        let mut len = [0u8; 4];
        if self.s.read_exact(&mut len).is_err() {
            return Answer::Closed;
        }
        let len = i32::from_le_bytes(len);
        if len < 0 {
            return Answer::Transport(len);
        }
        let mut p = vec![0u8; len as usize];
        self.s.read_exact(&mut p).unwrap();
        if len == 4 {
            return Answer::Transport(i32::from_le_bytes(p[..4].try_into().unwrap()));
        }
        assert_eq!(&p[..8], &[0u8; 8], "a plain reply has auth_key_id 0");
        let msg_id = i64::from_le_bytes(p[8..16].try_into().unwrap());
        assert_eq!(msg_id % 4, 1, "a server reply's msg_id is 1 mod 4");
        let n = u32::from_le_bytes(p[16..20].try_into().unwrap()) as usize;
        Answer::Body(p[20..20 + n].to_vec())
    }

    pub fn call<T: Deserializable>(&mut self, body: &[u8]) -> T {
        self.send(body);
        match self.recv() {
            Answer::Body(b) => T::from_bytes(&b).unwrap(),
            other => panic!("{other:?}"),
        }
    }
}

/// An encrypted session on a fresh key, as a client writes it (grammers-crypto's client-side
/// `encrypt_data_v2` / `decrypt_data_v2`), on the Intermediate transport.
pub struct Encrypted {
    c: Plain,
    key: grammers_crypto::AuthKey,
    pub session_id: i64,
    last_msg_id: i64,
}

impl Encrypted {
    pub fn new(addr: SocketAddr, key: [u8; 256]) -> Encrypted {
        Encrypted::from(addr, None, key)
    }

    /// As [`Encrypted::new`], from the local address `local`.
    pub fn from(addr: SocketAddr, local: Option<std::net::IpAddr>, key: [u8; 256]) -> Encrypted {
        Encrypted {
            c: Plain::connect_from(addr, local),
            key: grammers_crypto::AuthKey::from_bytes(key),
            session_id: i64::from_le_bytes(random()),
            last_msg_id: 0,
        }
    }

    /// Sends one message; returns its msg_id.
    pub fn send(&mut self, body: &[u8], content: bool) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let msg_id = ((((now.as_secs() as i64) << 32) | ((now.subsec_nanos() as i64) << 2)) & !3)
            .max(self.last_msg_id + 4);
        self.last_msg_id = msg_id;
        let mut plain = grammers_crypto::DequeBuffer::with_capacity(32 + body.len() + 32, 24);
        plain.extend(0i64.to_le_bytes());
        plain.extend(self.session_id.to_le_bytes());
        plain.extend(msg_id.to_le_bytes());
        plain.extend((if content { 1i32 } else { 0 }).to_le_bytes());
        plain.extend((body.len() as u32).to_le_bytes());
        plain.extend(body.iter().copied());
        grammers_crypto::encrypt_data_v2(&mut plain, &self.key);
        self.c.send_raw(&plain[..]);
        msg_id
    }

    /// The next message from the server: (msg_id, body).
    pub fn recv(&mut self) -> (i64, Vec<u8>) {
        let mut len = [0u8; 4];
        self.c.s.read_exact(&mut len).unwrap();
        let mut p = vec![0u8; u32::from_le_bytes(len) as usize];
        self.c.s.read_exact(&mut p).unwrap();
        let plain = grammers_crypto::decrypt_data_v2(&mut p, &self.key).unwrap();
        assert_eq!(
            plain[8..16],
            self.session_id.to_le_bytes(),
            "our session id"
        );
        let msg_id = i64::from_le_bytes(plain[16..24].try_into().unwrap());
        assert!(msg_id % 4 == 1 || msg_id % 4 == 3, "a server msg_id");
        let n = u32::from_le_bytes(plain[28..32].try_into().unwrap()) as usize;
        (msg_id, plain[32..32 + n].to_vec())
    }

    pub fn ask<T: Deserializable>(&mut self, body: &[u8]) -> (i64, T) {
        let id = self.send(body, false);
        let (_, reply) = self.recv();
        (
            id,
            T::from_bytes(&reply).unwrap_or_else(|e| panic!("{e}: {reply:02x?}")),
        )
    }
}
