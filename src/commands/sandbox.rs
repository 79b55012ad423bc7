//! `tgsess sandbox`: serve a local DC until SIGINT/SIGTERM.

use std::io::Write;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::cli::SandboxArgs;
use crate::error::{Error, Exit, Result};
use crate::output::Shown;
use tgsess_sandbox::{self as sandbox, DEMO_PHONE, Scenario};
use tgsess_shared::sandbox_link as keys;
use tgsess_shared::secret::Secret;

pub fn scenario(a: &SandboxArgs) -> Scenario {
    Scenario {
        password: a.password.clone().map(Secret::new),
        code_type: Some(a.code_type.into()),
        flood_wait: a.flood_wait,
        send_code_unavailable: a.send_code_unavailable,
        migrate_to: a.migrate_to,
        drop_on: a.drop_on.clone(),
        code_ttl: a.code_ttl.map(Duration::from_secs),
        revoke_after: a.revoke_after.map(Duration::from_secs),
        login_token_ttl: a.login_token_ttl.map(Duration::from_secs),
        latency: a.latency.map(Duration::from_millis),
    }
}

/// `--scan`: accept the QR login URL on stdin as a sandbox account.
fn scan(args: &SandboxArgs) -> Result<Exit> {
    use std::io::Read;
    let mut url = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut url)
        .map_err(|e| Error::usage(format!("cannot read the URL from stdin: {e}")))?;
    let Some(line) = url
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tg://login?token="))
    else {
        return Err(Error::usage(
            "sandbox --scan reads a tg://login?token=… URL from stdin (as `tgsess login --qr` \
             prints it); none was given",
        ));
    };
    let answer = sandbox::scan::request(&args.dir, line, &args.scan_as)
        .map_err(|e| Error::NoVerdict(format!("sandbox in {}: {e}", args.dir.shown())))?;
    match answer.user_id {
        Some(id) => {
            println!(
                "Scanned: the token was accepted as sandbox user {id} ({}).",
                args.scan_as
            );
            Ok(Exit::Ok)
        }
        None => Err(Error::NotSignedIn(format!(
            "the sandbox refused the token: {}",
            answer.result
        ))),
    }
}

pub async fn run(args: SandboxArgs) -> Result<Exit> {
    if args.scan {
        return scan(&args);
    }
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
            running.dir.shown()
        );
        let _ = writeln!(
            out,
            "  RSA key:   {} (fingerprint {}), for clients that create their own auth key",
            running.dir.join(sandbox::server_key::PUBLIC_FILE).shown(),
            running.server_key_fingerprint
        );
        let _ = writeln!(
            out,
            "  log in:    tgsess --config {} login",
            running.config_path().shown()
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
