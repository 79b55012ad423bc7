//! `tgsess login` (and `login --sandbox`, the one-command rehearsal).

use std::time::Duration;

use crate::cli::LoginArgs;
use crate::env::Env;
use crate::error::{Exit, Result};
use crate::login::{self, Options};
use crate::prompt;
use crate::settings::Settings;
use tgsess_shared::secret::Secret;

fn options(args: &LoginArgs, env: &dyn Env) -> Options {
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
pub async fn approve(settings: &Settings, env: &dyn Env, source: &str) -> Result<Exit> {
    let args = LoginArgs {
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

pub async fn run(settings: &Settings, env: &dyn Env, args: &LoginArgs) -> Result<Exit> {
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
