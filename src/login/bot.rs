//! Signing in a bot with its token (auth.importBotAuthorization); the token comes from
//! $TGSESS_BOT_TOKEN or a hidden prompt, never from the command line.

use grammers_session::Session;
use grammers_tl_types as tl;

use super::{Run, net_error, rpc, timed};
use crate::error::{Error, Exit, Result};
use crate::prompt;

impl Run<'_> {
    pub(super) async fn bot(&mut self) -> Result<Exit> {
        let token = match self.opts.bot_token.clone() {
            Some(t) => t,
            None if self.interactive => {
                match prompt::hidden("Bot token (from @BotFather): ").await? {
                    Some(t) => t,
                    None => return Err(Error::NotSignedIn("no bot token entered".into())),
                }
            }
            None => {
                return Err(Error::usage(
                    "--bot needs the token in $TGSESS_BOT_TOKEN (or a terminal to ask for it); \
                     it is never taken as an argument",
                ));
            }
        };
        let request = tl::functions::auth::ImportBotAuthorization {
            flags: 0,
            api_id: self.api_id,
            api_hash: self.api_hash.expose().to_string(),
            bot_auth_token: token.expose().to_string(),
        };
        let mut migrated = false;
        loop {
            match timed(
                self.opts.timeout,
                "Signing in the bot",
                self.client.invoke(&request),
            )
            .await?
            {
                Ok(tl::enums::auth::Authorization::Authorization(a)) => {
                    return self.finish(a).await;
                }
                Ok(_) => return Err(Error::NotSignedIn("unexpected answer".into())),
                Err(e) => match rpc(&e) {
                    Some(r) if r.name.ends_with("_MIGRATE") && !migrated => {
                        let dc = super::migrate_dc(r)?;
                        self.session
                            .set_home_dc_id(dc)
                            .await
                            .map_err(|e| Error::file(format!("in-memory session: {e}")))?;
                        migrated = true;
                    }
                    Some(r)
                        if r.name == "ACCESS_TOKEN_INVALID" || r.name == "ACCESS_TOKEN_EXPIRED" =>
                    {
                        return Err(Error::NotSignedIn(
                            "Telegram rejected the bot token (ACCESS_TOKEN_INVALID); copy it \
                             again from @BotFather"
                                .into(),
                        ));
                    }
                    _ => return Err(net_error("auth.importBotAuthorization", &e)),
                },
            }
        }
    }
}
