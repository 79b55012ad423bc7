//! The real grammers client (through tgsess's own connection code) against the sandbox over
//! TCP on 127.0.0.1: the sandbox answers a real client as Telegram would (logins, 2FA,
//! bots, migration, errors).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use grammers_client::{Client, SignInError};
use grammers_mtsender::InvocationError;
use grammers_session::Session;
use grammers_tl_types as tl;
use tgsess::net::Connection;
use tgsess_sandbox::{self as sandbox, Scenario};
use tgsess_shared::Secret;

use crate::common::*;

fn send_code(phone: &str) -> tl::functions::auth::SendCode {
    tl::functions::auth::SendCode {
        phone_number: phone.into(),
        api_id: 1,
        api_hash: "sandbox".into(),
        settings: tl::enums::CodeSettings::Settings(tl::types::CodeSettings {
            allow_flashcall: false,
            current_number: false,
            allow_app_hash: false,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: None,
            token: None,
            app_sandbox: None,
        }),
    }
}

fn sign_in(phone: &str, hash: &str, code: &str) -> tl::functions::auth::SignIn {
    tl::functions::auth::SignIn {
        phone_number: phone.into(),
        phone_code_hash: hash.into(),
        phone_code: Some(code.into()),
        email_verification: None,
    }
}

fn rpc_name(e: &InvocationError) -> String {
    match e {
        InvocationError::Rpc(r) => r.name.clone(),
        other => format!("{other}"),
    }
}

async fn hash_of(client: &Client, phone: &str) -> String {
    match client.invoke(&send_code(phone)).await.unwrap() {
        tl::enums::auth::SentCode::Code(c) => c.phone_code_hash,
        other => panic!("{other:?}"),
    }
}

fn log_methods(dir: &Path) -> Vec<(String, String)> {
    request_log(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_login_with_2fa_then_logout() {
    let dc = start(Scenario {
        password: Some(Secret::new("correct horse")),
        ..Default::default()
    })
    .await;
    let dir = dc.running.dir.clone();
    let session = seeded_session(&dir, dc.running.address).await;
    let conn = Connection::new(Arc::clone(&session), 1, &tgsess::net::Route::direct()).unwrap();
    let c = &conn.client;
    assert!(!c.is_authorized().await.unwrap());
    let phone = "9996621234";
    let hash = hash_of(c, phone).await;
    let e = c.invoke(&sign_in(phone, &hash, "11111")).await.unwrap_err();
    assert_eq!(rpc_name(&e), "PHONE_CODE_INVALID");
    let e = c.invoke(&sign_in(phone, &hash, "22222")).await.unwrap_err();
    assert_eq!(rpc_name(&e), "SESSION_PASSWORD_NEEDED");
    let tl::enums::account::Password::Password(pw) = c
        .invoke(&tl::functions::account::GetPassword {})
        .await
        .unwrap();
    let token = grammers_client::client::PasswordToken::new(pw);
    match c.check_password(token, "wrong").await {
        Err(SignInError::InvalidPassword(_)) => {}
        other => panic!("{other:?}"),
    }
    let tl::enums::account::Password::Password(pw) = c
        .invoke(&tl::functions::account::GetPassword {})
        .await
        .unwrap();
    let token = grammers_client::client::PasswordToken::new(pw);
    let user = c.check_password(token, "correct horse").await.unwrap();
    assert!(c.is_authorized().await.unwrap());
    let me = c.get_me().await.unwrap();
    assert_eq!(me.id(), user.id());
    let tl::enums::auth::LoggedOut::Out(out) = c.sign_out().await.unwrap();
    assert!(out.future_auth_token.is_some());
    assert!(!c.is_authorized().await.unwrap());
    conn.close().await;
    let log = log_methods(&dir);
    let count = |m: &str| log.iter().filter(|(x, _)| x == m).count();
    assert_eq!(count("auth.sendCode"), 1);
    assert_eq!(count("auth.signIn"), 2);
    assert_eq!(count("auth.checkPassword"), 2);
    assert!(log.contains(&("auth.checkPassword".into(), "PASSWORD_HASH_INVALID".into())));
    assert!(log.contains(&("auth.logOut".into(), "ok".into())));
}

#[tokio::test]
async fn bot_sign_in_and_bad_token() {
    let dc = start(Scenario::default()).await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    let e = conn
        .client
        .bot_sign_in("123:wrong", "sandbox")
        .await
        .unwrap_err();
    assert_eq!(rpc_name(&e), "ACCESS_TOKEN_INVALID");
    let bot = conn
        .client
        .bot_sign_in("4242:sandbox", "sandbox")
        .await
        .unwrap();
    assert_eq!(bot.id().bare_id_unchecked(), 4242);
    assert!(conn.client.is_authorized().await.unwrap());
    conn.close().await;
}

#[tokio::test]
async fn phone_migrate_switches_the_home_dc() {
    let dc = start(Scenario {
        migrate_to: Some(3),
        ..Default::default()
    })
    .await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(Arc::clone(&session), 1, &tgsess::net::Route::direct()).unwrap();
    let phone = "9996621234";
    let e = conn.client.invoke(&send_code(phone)).await.unwrap_err();
    let InvocationError::Rpc(r) = &e else {
        panic!("{e}")
    };
    assert_eq!((r.name.as_str(), r.value), ("PHONE_MIGRATE", Some(3)));
    session.set_home_dc_id(3).await.unwrap();
    let hash = hash_of(&conn.client, phone).await;
    // The account lives on DC 3 now; its code follows the phone's test-DC digit.
    conn.client
        .invoke(&sign_in(phone, &hash, "22222"))
        .await
        .unwrap();
    assert!(conn.client.is_authorized().await.unwrap());
    conn.close().await;
    let log = std::fs::read_to_string(dc.running.dir.join("requests.jsonl")).unwrap();
    assert!(log.contains("\"dc\":3"), "{log}");
}

#[tokio::test]
async fn scenario_flags_answer_as_configured() {
    for (scenario, expect) in [
        (
            Scenario {
                flood_wait: Some(1234),
                ..Default::default()
            },
            ("FLOOD_WAIT", Some(1234)),
        ),
        (
            Scenario {
                send_code_unavailable: true,
                ..Default::default()
            },
            ("SEND_CODE_UNAVAILABLE", None),
        ),
    ] {
        let dc = start(scenario).await;
        let session = seeded_session(&dc.running.dir, dc.running.address).await;
        let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
        let e = conn
            .client
            .invoke(&send_code("9996621234"))
            .await
            .unwrap_err();
        let InvocationError::Rpc(r) = &e else {
            panic!("{e}")
        };
        assert_eq!((r.name.as_str(), r.value), expect);
        conn.close().await;
        // NoRetries: exactly one request reached the server.
        let n = log_methods(&dc.running.dir)
            .iter()
            .filter(|(m, _)| m == "auth.sendCode")
            .count();
        assert_eq!(n, 1);
    }
}

#[tokio::test]
async fn code_types_resend_ladder_and_expiry() {
    let dc = start(Scenario {
        code_type: Some(sandbox::CodeType::Sms),
        code_ttl: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    let c = &conn.client;
    let phone = "9996621234";
    let sent = c.invoke(&send_code(phone)).await.unwrap();
    let tl::enums::auth::SentCode::Code(sent) = sent else {
        panic!()
    };
    assert!(matches!(sent.r#type, tl::enums::auth::SentCodeType::Sms(_)));
    assert!(matches!(
        sent.next_type,
        Some(tl::enums::auth::CodeType::Call)
    ));
    let resend = tl::functions::auth::ResendCode {
        phone_number: phone.into(),
        phone_code_hash: sent.phone_code_hash.clone(),
        reason: None,
    };
    let tl::enums::auth::SentCode::Code(again) = c.invoke(&resend).await.unwrap() else {
        panic!()
    };
    assert!(matches!(
        again.r#type,
        tl::enums::auth::SentCodeType::Call(_)
    ));
    let e = c.invoke(&resend).await.unwrap_err();
    assert_eq!(rpc_name(&e), "SEND_CODE_UNAVAILABLE");
    let hash = hash_of(c, phone).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let e = c.invoke(&sign_in(phone, &hash, "22222")).await.unwrap_err();
    assert_eq!(rpc_name(&e), "PHONE_CODE_EXPIRED");
    conn.close().await;
}

#[tokio::test]
async fn revoke_after_turns_a_signed_in_key_into_401() {
    let dc = start(Scenario {
        revoke_after: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    conn.client.bot_sign_in("77:sandbox", "x").await.unwrap();
    assert!(conn.client.is_authorized().await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let e = conn
        .client
        .invoke(&tl::functions::updates::GetState {})
        .await
        .unwrap_err();
    let InvocationError::Rpc(r) = &e else {
        panic!("{e}")
    };
    assert_eq!((r.code, r.name.as_str()), (401, "AUTH_KEY_UNREGISTERED"));
    conn.close().await;
}

#[tokio::test]
async fn future_auth_token_signs_in_without_a_code() {
    let dc = start(Scenario::default()).await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    let c = &conn.client;
    let phone = "9996621234";
    let hash = hash_of(c, phone).await;
    c.invoke(&sign_in(phone, &hash, "22222")).await.unwrap();
    let tl::enums::auth::LoggedOut::Out(out) = c.sign_out().await.unwrap();
    let mut req = send_code(phone);
    let tl::enums::CodeSettings::Settings(s) = &mut req.settings;
    s.logout_tokens = Some(vec![out.future_auth_token.unwrap()]);
    match c.invoke(&req).await.unwrap() {
        tl::enums::auth::SentCode::Success(_) => {}
        other => panic!("{other:?}"),
    }
    assert!(c.is_authorized().await.unwrap());
    conn.close().await;
}

#[tokio::test]
async fn qr_login_token_is_accepted_by_a_signed_in_device() {
    let dc = start(Scenario::default()).await;
    let a = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    let b = Connection::new(
        seeded_session(&dc.running.dir, dc.running.address).await,
        1,
        &tgsess::net::Route::direct(),
    )
    .unwrap();
    let phone = "9996621234";
    let hash = hash_of(&b.client, phone).await;
    b.client
        .invoke(&sign_in(phone, &hash, "22222"))
        .await
        .unwrap();
    let export = tl::functions::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "x".into(),
        except_ids: vec![],
    };
    let tl::enums::auth::LoginToken::Token(t) = a.client.invoke(&export).await.unwrap() else {
        panic!()
    };
    b.client
        .invoke(&tl::functions::auth::AcceptLoginToken { token: t.token })
        .await
        .unwrap();
    match a.client.invoke(&export).await.unwrap() {
        tl::enums::auth::LoginToken::Success(_) => {}
        other => panic!("{other:?}"),
    }
    assert!(a.client.is_authorized().await.unwrap());
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn every_code_type_is_reported_as_configured() {
    use tl::enums::auth::SentCodeType as T;
    for (ct, check) in [
        (
            sandbox::CodeType::App,
            (|t: &T| matches!(t, T::App(_))) as fn(&T) -> bool,
        ),
        (sandbox::CodeType::Sms, |t| matches!(t, T::Sms(_))),
        (sandbox::CodeType::Call, |t| matches!(t, T::Call(_))),
        (sandbox::CodeType::Email, |t| matches!(t, T::EmailCode(_))),
    ] {
        let dc = start(Scenario {
            code_type: Some(ct),
            ..Default::default()
        })
        .await;
        let conn = Connection::new(
            seeded_session(&dc.running.dir, dc.running.address).await,
            1,
            &tgsess::net::Route::direct(),
        )
        .unwrap();
        let tl::enums::auth::SentCode::Code(c) =
            conn.client.invoke(&send_code("9996621234")).await.unwrap()
        else {
            panic!()
        };
        assert!(check(&c.r#type), "{ct:?}: {:?}", c.r#type);
        conn.close().await;
    }
}

/// users.getFullUser, as Pyrogram's get_me and start() call it: grammers' own deserialiser
/// reads the sandbox's layer-230 users.userFull.
#[tokio::test]
async fn get_full_user_answers_in_the_clients_layer() {
    let dc = start(Scenario::default()).await;
    let session = seeded_session(&dc.running.dir, dc.running.address).await;
    let conn = Connection::new(session, 1, &tgsess::net::Route::direct()).unwrap();
    conn.client.bot_sign_in("77:sandbox", "x").await.unwrap();
    let full = conn
        .client
        .invoke(&tl::functions::users::GetFullUser {
            id: tl::enums::InputUser::UserSelf,
        })
        .await
        .unwrap();
    let tl::enums::users::UserFull::Full(full) = full;
    let tl::enums::UserFull::Full(inner) = full.full_user;
    assert_eq!(full.users.len(), 1);
    let tl::enums::User::User(u) = &full.users[0] else {
        panic!("{:?}", full.users[0])
    };
    assert_eq!(inner.id, u.id);
    assert!(u.is_self && u.bot);
    conn.close().await;
}
