//! Your own bot, on the very session file tgsess manages.
//!
//! Loads the same config as `tgsess` (same lookup: --config is not parsed here, but
//! $TGSESS_CONFIG, ./tgsess.toml and ~/.config/tgsess/config.toml are, with the same
//! TGSESS_* variables), resolves the same session path, and opens it with grammers. A missing
//! or foreign file is an error instead of a silent new session.
//!
//! Run: cargo run --example open_session

use std::sync::Arc;

use grammers_client::Client;
use grammers_session::Session;
use grammers_session::types::PeerId;
use tgsess::env::ProcessEnv;
use tgsess::settings::{self, Flags};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cwd = std::env::current_dir()?;
    let settings = settings::resolve(&Flags::default(), &ProcessEnv, &cwd)?;
    println!("session: {}", settings.session.path.display());
    println!("why:     {}", settings.session.reason);

    let session = Arc::new(tgsess_store::files::open_existing(&settings.session.path).await?);
    match session.peer(PeerId::self_user()).await? {
        Some(me) => println!("records signed-in user {}", me.id().bare_id_unchecked()),
        None => println!("records no signed-in user: run `tgsess login`"),
    }

    // A client on it, built the way tgsess builds its own (no automatic resends, no
    // lsb_release at start); nothing is sent until the first request.
    let (api_id, _api_hash) = settings.api_credentials()?;
    // The same network too: a sandbox config connects only to that sandbox.
    let network = settings.network();
    let conn = tgsess::net::Connection::new(Arc::clone(&session), api_id, &network.route()?)?;
    let _client: &Client = &conn.client; // e.g. conn.client.get_me().await?
    conn.close().await;
    Ok(())
}
