//! Who a key is signed in as: the user id, username, name and bot flag Telegram confirmed.
//! Never the phone number.

use grammers_tl_types as tl;
use serde::{Deserialize, Serialize};

/// An account as Telegram described it in a `user` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub(crate) id: i64,
    pub(crate) username: Option<String>,
    /// First and last name, as the account shows them.
    pub(crate) name: String,
    pub(crate) bot: bool,
}

impl Identity {
    /// The identity in a `user`, with its access hash; `None` for userEmpty.
    pub(crate) fn from_user(u: &tl::enums::User) -> Option<(Identity, Option<i64>)> {
        let tl::enums::User::User(u) = u else {
            return None;
        };
        let name = [u.first_name.as_deref(), u.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let who = Identity {
            id: u.id,
            username: u.username.clone(),
            name,
            bot: u.bot,
        };
        Some((who, u.access_hash))
    }

    /// "Name (@username, id N)", escaped: names come from outside.
    pub(crate) fn describe(&self) -> String {
        let name = match self.name.as_str() {
            "" => "(no name)".to_string(),
            n => tgsess_shared::text::escape(n),
        };
        let kind = if self.bot { "bot " } else { "" };
        match &self.username {
            Some(u) => format!(
                "{name} (@{}, {kind}id {})",
                tgsess_shared::text::escape(u),
                self.id
            ),
            None => format!("{name} ({kind}id {})", self.id),
        }
    }

    /// Whether this is the account a pin names.
    pub(crate) fn matches(&self, pin: &Pin) -> bool {
        match pin {
            Pin::Id(id) => self.id == *id,
            Pin::Username(u) => self
                .username
                .as_deref()
                .is_some_and(|mine| mine.eq_ignore_ascii_case(u)),
        }
    }
}

/// `expect_user`: the account a session must hold, by `@username` or numeric user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pin {
    Id(i64),
    Username(String),
}

impl Pin {
    /// `@name` (Telegram usernames: 5 to 32 of a-z, 0-9 and _, core.telegram.org/method/
    /// account.updateUsername) or a positive user id; `None` for anything else.
    pub(crate) fn parse(raw: &str) -> Option<Pin> {
        let raw = raw.trim();
        if let Some(name) = raw.strip_prefix('@') {
            let ok = (5..=32).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return ok.then(|| Pin::Username(name.to_string()));
        }
        raw.parse::<i64>().ok().filter(|id| *id > 0).map(Pin::Id)
    }
}

impl std::fmt::Display for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pin::Id(id) => write!(f, "user id {id}"),
            Pin::Username(u) => write!(f, "@{u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_usernames_or_ids() {
        assert_eq!(
            Pin::parse("@sandbox_21234"),
            Some(Pin::Username("sandbox_21234".into()))
        );
        assert_eq!(Pin::parse(" 700021234 "), Some(Pin::Id(700021234)));
        for bad in [
            "",
            "@",
            "@abc",
            "sandbox",
            "@has space",
            "-5",
            "0",
            "@a-b-c-d",
        ] {
            assert_eq!(Pin::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_username_pin_ignores_case_and_an_id_pin_the_name() {
        let me = Identity {
            id: 7,
            username: Some("Sandbox_X".into()),
            name: "S".into(),
            bot: false,
        };
        assert!(me.matches(&Pin::Username("sandbox_x".into())));
        assert!(me.matches(&Pin::Id(7)));
        assert!(!me.matches(&Pin::Id(8)));
        assert!(!me.matches(&Pin::Username("other".into())));
    }
}
