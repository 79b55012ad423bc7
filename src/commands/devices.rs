//! `tgsess devices`: what Telegram calls active sessions (account.getAuthorizations), and
//! `devices revoke HASH` (account.resetAuthorization). Read-only on the session file.

use std::time::Duration;

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;
use serde::Serialize;

use crate::error::{Error, Exit, Result};
use crate::output;
use crate::output::Shown;
use crate::session::Target;
use crate::settings::Settings;

// `tgsess devices`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) action: Option<DevicesAction>,
    /// One JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
    /// Seconds to wait for Telegram
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub(crate) timeout: u64,
}

// `tgsess devices revoke`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DevicesAction {
    /// End another session of the account (account.resetAuthorization); asks on a terminal
    Revoke {
        /// The session's hash, as `tgsess devices` lists it
        #[arg(allow_hyphen_values = true)]
        hash: String,
        /// Do not ask (required when not on a terminal)
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        global: super::global::GlobalArgs,
    },
}

/// One authorization, as `--json` prints it.
#[derive(Debug, Serialize)]
pub(crate) struct Device {
    pub(crate) hash: String,
    pub(crate) current: bool,
    pub(crate) device_model: String,
    pub(crate) platform: String,
    pub(crate) system_version: String,
    pub(crate) app_name: String,
    pub(crate) app_version: String,
    pub(crate) api_id: i32,
    pub(crate) ip: String,
    pub(crate) country: String,
    pub(crate) created: Option<String>,
    pub(crate) active: Option<String>,
}

fn when(unix: i32) -> Option<String> {
    jiff::Timestamp::from_second(i64::from(unix))
        .ok()
        .filter(|_| unix > 0)
        .map(|t| t.to_string())
}

impl From<tl::enums::Authorization> for Device {
    fn from(a: tl::enums::Authorization) -> Self {
        let tl::enums::Authorization::Authorization(a) = a;
        Device {
            hash: a.hash.to_string(),
            current: a.current,
            device_model: a.device_model,
            platform: a.platform,
            system_version: a.system_version,
            app_name: a.app_name,
            app_version: a.app_version,
            api_id: a.api_id,
            ip: a.ip,
            country: a.country,
            created: when(a.date_created),
            active: when(a.date_active),
        }
    }
}

/// Runs one request on the session, in memory; the file is never written.
async fn ask<R: tl::RemoteCall>(
    settings: &Settings,
    request: &R,
    timeout: Duration,
) -> Result<R::Return> {
    let target = Target::open(settings).await?;
    target.read_format(settings)?;
    let Some(record) = target.record().await? else {
        return Err(Error::NotSignedIn(format!(
            "{} holds no login key; `{}` signs in",
            target.path.shown(),
            settings.command("login")
        )));
    };
    let (api_id, _) = settings.api_credentials()?;
    let network = settings.network();
    let memory = network.memory_session(Some(&record), false).await?;
    let conn = network.connect(memory, api_id)?;
    let reply = tokio::time::timeout(timeout, conn.client.invoke(request)).await;
    conn.close().await;
    match reply {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(InvocationError::Rpc(r))) if r.code == 401 => Err(Error::NotSignedIn(format!(
            "Telegram says the session is not signed in ({}); `{}` signs in",
            r.name,
            settings.command("login")
        ))),
        Ok(Err(e)) => Err(Error::NoVerdict(format!(
            "Telegram could not be asked: {}",
            crate::net::says(&e)
        ))),
        Err(_) => Err(Error::NoVerdict(format!(
            "no answer within {} s (--timeout)",
            timeout.as_secs()
        ))),
    }
}

pub(crate) async fn run(settings: &Settings, args: &Args) -> Result<Exit> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    if let Some(DevicesAction::Revoke { hash, yes, .. }) = &args.action {
        return revoke(settings, hash, *yes, timeout).await;
    }
    let devices = list(settings, timeout).await?;
    if args.json {
        output::json(&devices);
    } else {
        print(settings, &devices);
    }
    Ok(Exit::Ok)
}

/// account.getAuthorizations: the account's sessions.
async fn list(settings: &Settings, timeout: Duration) -> Result<Vec<Device>> {
    let request = tl::functions::account::GetAuthorizations {};
    let tl::enums::account::Authorizations::Authorizations(list) =
        ask(settings, &request, timeout).await?;
    Ok(list.authorizations.into_iter().map(Device::from).collect())
}

fn print(settings: &Settings, devices: &[Device]) {
    output::out(format!(
        "{} session(s) of this account (* = this one, {}):",
        devices.len(),
        settings.session.path.shown()
    ));
    for d in devices {
        output::out(format!(
            "{} {:<20} {} {} ({}), {} {} (api_id {}), {} {}, created {}, active {}",
            if d.current { "*" } else { " " },
            d.hash,
            d.device_model,
            d.system_version,
            d.platform,
            d.app_name,
            d.app_version,
            d.api_id,
            d.ip,
            d.country,
            d.created.as_deref().unwrap_or("?"),
            d.active.as_deref().unwrap_or("?"),
        ));
    }
    for d in devices.iter().filter(|d| !d.current) {
        output::out(format!(
            "End {} {} ({}): `{}`",
            d.app_name,
            d.device_model,
            d.hash,
            settings.command(&format!("devices revoke {}", d.hash))
        ));
    }
    output::out(format!("End this one: `{}`", settings.command("logout")));
}

async fn revoke(settings: &Settings, hash: &str, yes: bool, timeout: Duration) -> Result<Exit> {
    let hash: i64 = hash.trim().parse().map_err(|_| {
        Error::usage(format!(
            "{hash:?} is not a session hash; `{}` lists them",
            settings.command("devices")
        ))
    })?;
    let device = other_device(settings, hash, timeout).await?;
    let what = format!(
        "{} {} ({} {}, api_id {})",
        device.device_model,
        device.system_version,
        device.app_name,
        device.app_version,
        device.api_id
    );
    if !yes && !confirmed(&what).await? {
        output::out("Nothing was revoked.");
        return Ok(Exit::NotSignedIn);
    }
    let request = tl::functions::account::ResetAuthorization { hash };
    ask(settings, &request, timeout).await?;
    output::out(format!(
        "Revoked {what}: that session is signed out at Telegram."
    ));
    Ok(Exit::Ok)
}

/// The device with this hash, when it is not this session.
async fn other_device(settings: &Settings, hash: i64, timeout: Duration) -> Result<Device> {
    let found = list(settings, timeout)
        .await?
        .into_iter()
        .find(|d| d.hash == hash.to_string());
    match found {
        None => Err(Error::usage(format!(
            "no session with hash {hash}; `{}` lists them",
            settings.command("devices")
        ))),
        Some(d) if d.current => Err(Error::usage(format!(
            "{hash} is this session ({}); `{}` ends it and deletes the file",
            settings.session.path.shown(),
            settings.command("logout")
        ))),
        Some(d) => Ok(d),
    }
}

/// A yes at the terminal; off one, --yes is needed.
async fn confirmed(what: &str) -> Result<bool> {
    if !output::interactive() {
        return Err(Error::usage(format!(
            "revoking would end the session {what}; not on a terminal, so confirm with --yes"
        )));
    }
    crate::prompt::confirm(&format!("End the session {what} at Telegram?")).await
}
