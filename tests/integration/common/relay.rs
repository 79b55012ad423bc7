//! A TCP relay on 127.0.0.1: what a client sends goes on to a server, from a source address
//! of the test's choosing (127.0.0.2 and 127.0.0.3 are other "hosts": Linux routes all of
//! 127.0.0.0/8 to lo). It can stop forwarding without closing anything, as a network
//! partition does ([`Relay::pause`]), and then close every connection ([`Relay::cut`]).

use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Relay {
    pub port: u16,
    paused: Arc<AtomicBool>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    /// Forwards connections to `to`, each from `from` (or the kernel's choice).
    pub fn start(to: SocketAddr, from: Option<IpAddr>) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let paused = Arc::new(AtomicBool::new(false));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (p, s) = (Arc::clone(&paused), Arc::clone(&sockets));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Some(server) = connect(to, from) else {
                    continue;
                };
                s.lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    Arc::clone(&p),
                );
                pipe(server, client, Arc::clone(&p));
            }
        });
        Relay {
            port,
            paused,
            sockets,
        }
    }

    /// Stops forwarding; what arrives waits in the kernel's buffers, nothing is closed.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Closes every connection it relays, both ways.
    pub fn cut(&self) {
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn connect(to: SocketAddr, from: Option<IpAddr>) -> Option<TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    if let Some(ip) = from {
        socket.bind(&SocketAddr::new(ip, 0).into()).ok()?;
    }
    socket.connect(&to.into()).ok()?;
    Some(socket.into())
}

/// Copies `from` to `to` until either closes; while paused, reads nothing.
fn pipe(mut from: TcpStream, mut to: TcpStream, paused: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut buf = [0u8; 8192];
        loop {
            if paused.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });
}
