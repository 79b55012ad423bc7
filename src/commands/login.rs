//! `tgsess login` (and `login --sandbox`, the one-command rehearsal).

use std::time::Duration;

use crate::env::Env;
use crate::error::{Exit, Result};
use crate::login::{self, Options};
use crate::prompt;
use crate::settings::Settings;
use tgsess_shared::secret::Secret;

// `tgsess login`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Request a code even though Telegram's remembered wait is still running; replace a
    /// damaged session file (a copy of it is kept first)
    #[arg(long)]
    pub(crate) force: bool,
    /// Request a code even though another session file nearby is signed in
    #[arg(long)]
    pub(crate) fresh: bool,
    /// Ask Telegram to send the pending code another way (auth.resendCode)
    #[arg(long)]
    pub(crate) resend: bool,
    /// Request a new code although one may already be pending for this phone: an earlier
    /// request's answer was lost, or a code was sent for another session
    #[arg(long)]
    pub(crate) new_code: bool,
    /// Sign in a bot; the token comes from $TGSESS_BOT_TOKEN or a hidden prompt
    #[arg(long, conflicts_with_all = ["resend", "code_stdin"])]
    pub(crate) bot: bool,
    /// Read the code from stdin after the request (for expect-style automation);
    /// 2FA then needs $TGSESS_PASSWORD
    #[arg(long)]
    pub(crate) code_stdin: bool,
    /// Sign in without a code: show a QR code (and its tg://login URL) to scan with Telegram
    /// on a phone (Settings > Devices > Link Desktop Device)
    #[arg(long, conflicts_with_all = ["bot", "resend", "new_code", "code_stdin"])]
    pub(crate) qr: bool,
    /// Sign in without a code: SOURCE, a signed-in session (file in any format, or - for a
    /// string on stdin), approves this new session; SOURCE is only read
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["bot", "resend", "new_code", "code_stdin", "qr"])]
    pub(crate) approve_with: Option<String>,
    /// With --qr: one JSON line per token, then one for the result
    #[arg(long, requires = "qr")]
    pub(crate) json: bool,
    /// Rehearse: run a sandbox DC in this process and log in against it
    #[cfg(feature = "sandbox")]
    #[arg(long)]
    pub(crate) sandbox: bool,
    /// Seconds to wait for each answer from Telegram (with --qr: for the whole sign-in,
    /// default 300)
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<u64>,
}

fn options(args: &Args, env: &dyn Env) -> Options {
    let secret = |k: &str| env.var(k).filter(|v| !v.is_empty()).map(Secret::new);
    Options {
        force: args.force,
        fresh: args.fresh,
        resend: args.resend,
        new_code: args.new_code,
        bot: args.bot,
        code_stdin: args.code_stdin,
        timeout: Duration::from_secs(args.timeout.unwrap_or(30).max(1)),
        qr: args.qr,
        approve_with: args.approve_with.clone(),
        json: args.json,
        sign_in_timeout: Duration::from_secs(args.timeout.unwrap_or(300).max(1)),
        password: secret("TGSESS_PASSWORD"),
        bot_token: secret("TGSESS_BOT_TOKEN"),
    }
}

/// `import --as-new SOURCE`: `login --approve-with SOURCE` with every other option at its
/// default.
pub(crate) async fn approve(settings: &Settings, env: &dyn Env, source: &str) -> Result<Exit> {
    let args = Args {
        force: false,
        fresh: false,
        resend: false,
        new_code: false,
        bot: false,
        code_stdin: false,
        qr: false,
        approve_with: Some(source.to_string()),
        json: false,
        #[cfg(feature = "sandbox")]
        sandbox: false,
        timeout: None,
    };
    run(settings, env, &args).await
}

pub(crate) async fn run(settings: &Settings, env: &dyn Env, args: &Args) -> Result<Exit> {
    let opts = options(args, env);
    #[cfg(feature = "sandbox")]
    if args.sandbox {
        return prompt::interruptible(rehearse(env, &opts)).await;
    }
    prompt::interruptible(login::run(settings, env, &opts)).await
}

/// `login --sandbox`: a sandbox on a temporary directory, in this process, and the real
/// interactive login against it.
#[cfg(feature = "sandbox")]
async fn rehearse(env: &dyn Env, opts: &Options) -> Result<Exit> {
    use crate::error::Error;
    use tgsess_sandbox as sandbox;
    let tmp = tempfile::Builder::new()
        .prefix("tgsess-rehearsal-")
        .tempdir()
        .map_err(|e| Error::usage(format!("cannot create a temporary directory: {e}")))?;
    let running = sandbox::start(sandbox::Options {
        dir: tmp.path().join("sandbox"),
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        scenario: sandbox::Scenario::default(),
    })
    .await?;
    crate::output::out(format!(
        "Rehearsal: a local Telegram DC is running on {} (nothing leaves this machine).\n\
         Its config gives the phone ({}); type the code 22222 when asked. It all disappears\n\
         when this command ends; for a lasting one run `tgsess sandbox --dir tgsess-sandbox`.",
        running.address,
        sandbox::DEMO_PHONE
    ));
    // The demo reads only the sandbox's own config, and keeps its state apart.
    let mut demo_env = std::collections::HashMap::new();
    demo_env.insert(
        "TGSESS_STATE_DIR".to_string(),
        tmp.path().join("state").display().to_string(),
    );
    let args = crate::settings::Flags {
        config: Some(running.config_path()),
        ..Default::default()
    };
    let mut settings = crate::settings::resolve(&args, &demo_env, tmp.path())?;
    settings.advice.rehearsal = true;
    let _ = env;
    let r = login::run(&settings, &demo_env, opts).await;
    drop(running);
    r
}
