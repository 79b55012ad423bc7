//! A stand-in for a bot, behaving as Telethon, the Pyrogram forks and mtcute do at start: it
//! creates (or opens) its session file and keeps it open, then connects with a new key and
//! asks for a login code. The exec guard's tests run it under
//! `tgsess exec` against a sandbox.
//!
//! Run: standin_bot NAME            creates NAME (".session" added as Telethon adds it) in
//!                                  the working directory, then sends auth.sendCode
//!      standin_bot --use PATH      opens the signed-in session at PATH and asks who it is
//!      standin_bot --stamps FILE   a bot at work: appends the time (unix ns) to FILE every
//!                                  10 ms until it is killed (the lease's tests compare two)
//!      standin_bot --serve PATH    a bot at work on Telegram: on the grammers session at
//!                                  PATH, through STANDIN_VIA (IP:PORT, a relay), asks who it
//!                                  is every 100 ms and prints each answer, until killed
//!
//! Environment: STANDIN_SANDBOX (the sandbox's directory: its address is read from there),
//! STANDIN_PHONE, STANDIN_API_ID, STANDIN_API_HASH.

use std::net::{SocketAddr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use grammers_session::Session;
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use tgsess::net::{Connection, Route};

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn var(name: &str) -> Fallible<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Fallible<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let api_id: i32 = var("STANDIN_API_ID")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    match args.as_slice() {
        [flag, path] if flag == "--stamps" => stamps(Path::new(path)),
        [flag, path] if flag == "--serve" => serve(Path::new(path), api_id).await,
        [flag, path] if flag == "--use" => use_session(Path::new(path), api_id).await,
        [name] => new_session(name, api_id).await,
        _ => Err("usage: standin_bot NAME | standin_bot --use PATH".into()),
    }
}

/// As Telethon's `TelegramClient(name, …)`: the file first, then a new key, then the code.
async fn new_session(name: &str, api_id: i32) -> Fallible<()> {
    let path = if name.ends_with(".session") {
        PathBuf::from(name)
    } else {
        PathBuf::from(format!("{name}.session"))
    };
    let _file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    println!("created {}", path.display());
    let session = Arc::new(MemorySession::default());
    session.set_home_dc_id(2).await?;
    session.set_dc_option(&sandbox_dc(2)?).await?;
    let conn = Connection::new(session, api_id, &Route::direct())?;
    let token = conn
        .client
        .request_login_code(&var("STANDIN_PHONE")?, &var("STANDIN_API_HASH")?)
        .await;
    match token {
        Ok(_) => println!("code requested: true"),
        Err(e) => println!("code requested: false ({e})"),
    }
    conn.close().await;
    Ok(())
}

/// Appends the time to `path` every 10 ms, each line written whole, until killed.
fn stamps(path: &Path) -> Fallible<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        file.write_all(format!("{}\n", now.as_nanos()).as_bytes())?;
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A bot that keeps its connection busy, as a bot on updates does, from wherever
/// STANDIN_VIA relays it.
async fn serve(path: &Path, api_id: i32) -> Fallible<()> {
    let record = tgsess_store::write::record_of_grammers(path)
        .await?
        .ok_or("the session holds no key")?;
    let via: std::net::SocketAddrV4 = var("STANDIN_VIA")?.parse()?;
    let session = Arc::new(MemorySession::default());
    session.set_home_dc_id(record.dc_id).await?;
    session
        .set_dc_option(&DcOption {
            id: record.dc_id,
            ipv4: via,
            ipv6: SocketAddrV6::new(via.ip().to_ipv6_mapped(), via.port(), 0, 0),
            auth_key: Some(record.auth_key.0),
        })
        .await?;
    let conn = Connection::new(session, api_id, &Route::direct())?;
    loop {
        match conn.client.get_me().await {
            Ok(me) => println!("ok {}", me.id().bare_id_unchecked()),
            Err(e) => println!("error {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A bot on the session it was given: one request on it.
async fn use_session(path: &Path, api_id: i32) -> Fallible<()> {
    let session = Arc::new(tgsess_store::files::open_existing(path).await?);
    let conn = Connection::new(session, api_id, &Route::direct())?;
    let me = conn.client.get_me().await?;
    println!("signed in as {}", me.id().bare_id_unchecked());
    conn.close().await;
    Ok(())
}

/// DC `id` at the sandbox's address, with a new key. grammers knows only Telegram's RSA
/// keys, so the key is made through the sandbox's side channel instead of a key exchange.
fn sandbox_dc(id: i32) -> Fallible<DcOption> {
    let dir = PathBuf::from(var("STANDIN_SANDBOX")?);
    let key = tgsess_shared::sandbox_link::new_key();
    tgsess_shared::sandbox_link::register(&dir, id, &key)?;
    let endpoint = tgsess_shared::sandbox_link::read_endpoint(&dir)?;
    let SocketAddr::V4(v4) = endpoint.address else {
        return Err("the sandbox listens on IPv4".into());
    };
    Ok(DcOption {
        id,
        ipv4: v4,
        ipv6: SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
        auth_key: Some(key),
    })
}
