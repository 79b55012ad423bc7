//! Words for people: who signed in, where a code went, how long a wait is.

use grammers_tl_types as tl;

/// Where the code went, in words a person acts on (auth.SentCodeType, core.telegram.org/
/// api/auth): most codes go to the Telegram app on the account's other devices, not SMS.
pub(crate) fn sent_via(t: &tl::enums::auth::SentCodeType) -> String {
    use tl::enums::auth::SentCodeType as T;
    match t {
        T::App(_) => "to the Telegram app on your other devices (a message from \"Telegram\"), \
                      not by SMS"
            .into(),
        T::Sms(_) => "by SMS".into(),
        T::Call(_) => "by a phone call that reads it out".into(),
        T::FlashCall(_) => "by a flash call: the code is the calling number".into(),
        T::MissedCall(m) => format!(
            "by a missed call: the code is the last {} digits of the calling number",
            m.length
        ),
        T::EmailCode(e) => format!("by email to {}", e.email_pattern),
        T::SetUpEmailRequired(_) => "nowhere yet: Telegram wants a login email set up first \
                                     (use an official app)"
            .into(),
        T::FragmentSms(f) => format!("by SMS through Fragment ({})", f.url),
        T::FirebaseSms(_) => "by SMS (Firebase)".into(),
        T::SmsWord(_) => "by SMS, as a word".into(),
        T::SmsPhrase(_) => "by SMS, as a phrase".into(),
    }
}

pub(crate) fn next_name(t: &tl::enums::auth::CodeType) -> &'static str {
    use tl::enums::auth::CodeType as C;
    match t {
        C::Sms => "SMS",
        C::Call => "a phone call",
        C::FlashCall => "a flash call",
        C::MissedCall => "a missed call",
        C::FragmentSms => "SMS through Fragment",
    }
}

/// What tgsess asks auth.sendCode for: no flash or missed calls, no Firebase; stored
/// future auth tokens as `logout_tokens`.
pub(crate) fn code_settings(logout_tokens: Vec<Vec<u8>>) -> tl::enums::CodeSettings {
    tl::enums::CodeSettings::Settings(tl::types::CodeSettings {
        allow_flashcall: false,
        current_number: false,
        allow_app_hash: false,
        allow_missed_call: false,
        allow_firebase: false,
        unknown_number: false,
        logout_tokens: (!logout_tokens.is_empty()).then_some(logout_tokens),
        token: None,
        app_sandbox: None,
    })
}

/// A unix time as RFC 3339 in UTC.
pub(crate) fn timestamp(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}

pub(crate) fn human_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}
