//! `tgsess sandbox`: serve a local DC until SIGINT/SIGTERM.

use std::io::Write;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::SandboxArgs;
use crate::error::{Error, Exit, Result};
use crate::sandbox::{self, DEMO_PHONE, Scenario, keys};
use crate::secret::Secret;

pub fn scenario(a: &SandboxArgs) -> Scenario {
    Scenario {
        password: a.password.clone().map(Secret::new),
        code_type: Some(a.code_type),
        flood_wait: a.flood_wait,
        send_code_unavailable: a.send_code_unavailable,
        migrate_to: a.migrate_to,
        drop_on: a.drop_on.clone(),
        code_ttl: a.code_ttl.map(Duration::from_secs),
        revoke_after: a.revoke_after.map(Duration::from_secs),
    }
}

pub async fn run(args: SandboxArgs) -> Result<Exit> {
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Error::usage(format!("cannot watch SIGTERM: {e}")))?;
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Error::usage(format!("cannot watch SIGINT: {e}")))?;
    let running = sandbox::start(sandbox::Options {
        dir: args.dir.clone(),
        listen: args.listen,
        scenario: scenario(&args),
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "tgsess sandbox listening on {}", running.address);
        let _ = writeln!(
            out,
            "  directory: {} (tgsess.toml, session.string, requests.jsonl)",
            running.dir.display()
        );
        let _ = writeln!(
            out,
            "  log in:    tgsess --config {} login",
            running.config_path().display()
        );
        let _ = writeln!(
            out,
            "  phone {DEMO_PHONE}, code 22222 (any 99966XYYYY works, X = DC 1..3, code XXXXX)"
        );
        let _ = out.flush();
    }
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    // A stopped sandbox must not look reachable.
    let _ = std::fs::remove_file(running.dir.join(keys::ENDPOINT_FILE));
    drop(running);
    Ok(Exit::Ok)
}
