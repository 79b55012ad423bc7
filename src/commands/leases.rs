//! `tgsess leases`: every lease recorded in the lease database, whether its lock is held
//! now, and by whom. Read only: a database without the table has no leases.

use crate::env::Env;
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::settings::Settings;

// `tgsess leases`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// One JSON object per lease on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) async fn run(settings: &Settings, env: &dyn Env, args: &Args) -> Result<Exit> {
    let Some(url) = &settings.lease else {
        return Err(Error::usage(
            "no lease is configured: set `lease` in the config file, TGSESS_LEASE or --lease \
             to a PostgreSQL URL",
        ));
    };
    let holders = crate::lease::survey(&url.value, env).await?;
    if args.json {
        for h in &holders {
            output::json(h);
        }
        return Ok(Exit::Ok);
    }
    if holders.is_empty() {
        output::out(format!(
            "No leases recorded at {}",
            output::escape(&url.value.shown)
        ));
        return Ok(Exit::Ok);
    }
    output::out(format!("Leases at {}:", output::escape(&url.value.shown)));
    for h in &holders {
        let state = if h.held { "held " } else { "ended" };
        output::out(format!("  {}  {state}  {h}", h.key_id));
    }
    Ok(Exit::Ok)
}
