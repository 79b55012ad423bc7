//! Step 5: the two-step verification password (account.getPassword, auth.checkPassword).
//! Reached after SESSION_PASSWORD_NEEDED, and straight away on a rerun while the key waits
//! for its password, so a lost password prompt never costs a second code.

use grammers_tl_types as tl;

use super::{ATTEMPTS, Run, net_error, rpc, timed};
use crate::error::{Error, Exit, Result};
use crate::output;
use crate::prompt;
use tgsess_shared::secret::Secret;

impl Run<'_> {
    pub(super) async fn password(&mut self) -> Result<Exit> {
        let again = self.settings.command("login");
        let env_password = self.opts.password.clone();
        if env_password.is_none() && !self.interactive {
            return Err(Error::usage(format!(
                "the account has two-step verification and there is no terminal to ask for the \
                 password; set $TGSESS_PASSWORD and run `{again}` (the code was accepted: no new \
                 code is needed)"
            )));
        }
        let tries = if env_password.is_some() { 1 } else { ATTEMPTS };
        for attempt in 1..=tries {
            let pw = self.password_params().await?;
            let password = self.password_text(&pw, &env_password, &again).await?;
            let Some(check) = srp_answer(pw, password).await? else {
                return Err(Error::NoVerdict(
                    "Telegram's 2FA parameters failed the safety check; not sending the password"
                        .into(),
                ));
            };
            match timed(
                self.opts.timeout,
                "Checking the password",
                self.client.invoke(&check),
            )
            .await?
            {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => {
                    return Err(Error::NotSignedIn("Telegram asks to sign up".into()));
                }
                Err(e) if rpc(&e).is_some_and(|r| r.name == "PASSWORD_HASH_INVALID") => {
                    if attempt < tries {
                        output::warn(format!(
                            "wrong password; {} of {tries} tries left",
                            tries - attempt
                        ));
                    }
                }
                Err(e) => return Err(net_error("auth.checkPassword", &e)),
            }
        }
        Err(Error::NotSignedIn(format!(
            "wrong two-step verification password; the key still waits for it: `{again}` asks \
             again (no new code is requested)"
        )))
    }

    /// The password from $TGSESS_PASSWORD, else asked for on the terminal (with the hint).
    async fn password_text(
        &self,
        pw: &tl::types::account::Password,
        env_password: &Option<Secret>,
        again: &str,
    ) -> Result<Secret> {
        if let Some(p) = env_password {
            return Ok(p.clone());
        }
        let hint = pw
            .hint
            .as_deref()
            .map(|h| format!(" (hint: {})", output::escape(h)))
            .unwrap_or_default();
        let question = format!("Two-step verification password{hint}: ");
        prompt::hidden(&question).await?.ok_or_else(|| {
            Error::NotSignedIn(format!(
                "no password entered; the key still waits for it: `{again}` asks again (no new \
                 code is requested)"
            ))
        })
    }

    /// account.getPassword. A 401 means Telegram no longer keeps this key waiting for its
    /// password: only then does the login start over with a code.
    async fn password_params(&mut self) -> Result<tl::types::account::Password> {
        match timed(
            self.opts.timeout,
            "Fetching 2FA parameters",
            self.client.invoke(&tl::functions::account::GetPassword {}),
        )
        .await?
        {
            Ok(tl::enums::account::Password::Password(p)) => Ok(p),
            Err(e) if rpc(&e).is_some_and(|r| r.code == 401) => {
                self.save_draft(Some(false)).await;
                Err(Error::NotSignedIn(format!(
                    "Telegram no longer waits for this key's password ({e}); `{}` starts over \
                     and requests a new code",
                    self.settings.command("login")
                )))
            }
            Err(e) => Err(net_error("account.getPassword", &e)),
        }
    }
}

/// The SRP answer for `auth.checkPassword`, computed on a blocking thread: grammers'
/// `check_p_and_g` and `calculate_2fa` are CPU-bound (about 0.8 s optimised).
async fn srp_answer(
    pw: tl::types::account::Password,
    password: Secret,
) -> Result<Option<tl::functions::auth::CheckPassword>> {
    tokio::task::spawn_blocking(move || {
        let Some(tl::enums::PasswordKdfAlgo::Sha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow(
            algo,
        )) = pw.current_algo
        else {
            return None;
        };
        if !grammers_crypto::two_factor_auth::check_p_and_g(&algo.p, &algo.g) {
            return None;
        }
        let (m1, g_a) = grammers_crypto::two_factor_auth::calculate_2fa(
            &algo.salt1,
            &algo.salt2,
            &algo.p,
            &algo.g,
            pw.srp_b?,
            pw.secure_random,
            password.expose(),
        );
        Some(tl::functions::auth::CheckPassword {
            password: tl::enums::InputCheckPasswordSrp::Srp(tl::types::InputCheckPasswordSrp {
                srp_id: pw.srp_id?,
                a: g_a.to_vec(),
                m1: m1.to_vec(),
            }),
        })
    })
    .await
    .map_err(|e| Error::NoVerdict(format!("2FA computation failed: {e}")))
}
