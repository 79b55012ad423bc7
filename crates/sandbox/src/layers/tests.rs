//! The sandbox's answers, re-encoded per layer, against bytes that each client library's own
//! serialiser wrote for the same values (tests/fixtures/layers/*.json, made by
//! scripts/layers.sh with scripts/layer_fixtures.py and scripts/layer_fixtures.cjs).

use grammers_tl_types::{Deserializable, Serializable};

use super::*;
use crate::objects;
use crate::rpc::Account;

const FIXTURES: &[(&str, &str)] = &[
    (
        "hydrogram",
        include_str!("../../tests/fixtures/layers/hydrogram.json"),
    ),
    (
        "gramjs",
        include_str!("../../tests/fixtures/layers/gramjs.json"),
    ),
    (
        "pyrofork",
        include_str!("../../tests/fixtures/layers/pyrofork.json"),
    ),
    (
        "mtcute",
        include_str!("../../tests/fixtures/layers/mtcute.json"),
    ),
    (
        "kurigram",
        include_str!("../../tests/fixtures/layers/kurigram.json"),
    ),
    (
        "telethon",
        include_str!("../../tests/fixtures/layers/telethon.json"),
    ),
];

/// The values scripts/layer_fixtures.py and .cjs serialise, built by the sandbox's own code.
fn answers() -> Vec<(&'static str, Vec<u8>)> {
    let account = Account {
        id: 700021234,
        access_hash: 0x1122334455667788,
        phone: Some("9996621234".into()),
        first_name: "Sandbox".into(),
        username: "sandbox_21234".into(),
        bot: false,
    };
    let address = "127.0.0.1:40000".parse().unwrap();
    vec![
        ("user", objects::user(&account, true).to_bytes()),
        ("users.userFull", objects::user_full(&account, true)),
        (
            "config",
            objects::config(&[1, 2, 3], address, 2, 1700000000).to_bytes(),
        ),
        (
            "auth.authorization",
            objects::authorization(&account).to_bytes(),
        ),
    ]
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn every_layer_matches_its_librarys_serialiser() {
    for (lib, text) in FIXTURES {
        let fixture: serde_json::Value = serde_json::from_str(text).unwrap();
        let layer = fixture["layer"].as_i64().unwrap() as i32;
        assert!(supported().contains(&layer), "{lib}: layer {layer}");
        for (name, native) in answers() {
            let ours = encode_for(layer, native).unwrap_or_else(|e| panic!("{lib} {name}: {e}"));
            assert_eq!(
                hex(&ours),
                fixture[name].as_str().unwrap(),
                "{lib} {} (layer {layer}): {name}",
                fixture["version"]
            );
        }
    }
}

#[test]
fn layer_230_round_trips_unchanged_through_the_codec() {
    let schema = &schemas()[&NATIVE];
    for (name, native) in answers() {
        let v = schema.decode_answer(&native).unwrap();
        assert_eq!(schema.encode_answer(&v).unwrap(), native, "{name}");
    }
    // A vector of users (users.getUsers), too.
    let mut users = 0x1cb5c415u32.to_le_bytes().to_vec();
    users.extend(2u32.to_le_bytes());
    users.extend(&answers()[0].1);
    users.extend(&answers()[0].1);
    let v = schema.decode_answer(&users).unwrap();
    assert_eq!(schema.encode_answer(&v).unwrap(), users);
}

#[test]
fn the_committed_layer_files_are_the_declared_layers() {
    for (layer, text) in SOURCES {
        assert!(
            text.starts_with(&format!("// Layer {layer}:")),
            "l{layer}.tl"
        );
    }
    assert_eq!(NATIVE, 230);
}

#[test]
fn what_cannot_be_expressed_is_an_error_not_garbage() {
    let err = encode_for(199, vec![0; 8]).unwrap_err();
    assert_eq!(
        err,
        "CONNECTION_LAYER_INVALID_199_SANDBOX_SPEAKS_181_198_220_225_229_230"
    );
    // A constructor outside the layer files.
    let err = encode_for(181, 0xdeadbeefu32.to_le_bytes().to_vec()).unwrap_err();
    assert!(err.contains("deadbeef"), "{err}");
    // Trailing bytes.
    let mut b = answers()[0].1.clone();
    b.extend([0; 4]);
    assert!(encode_for(181, b).unwrap_err().contains("left after"));
}

/// Every kind of answer the sandbox gives, from its real request handling, re-encodes into
/// every layer and decodes back with that layer's own definitions.
#[test]
fn every_answer_the_sandbox_gives_fits_every_layer() {
    use crate::rpc::{Caller, Reply, Scenario, State};
    use grammers_tl_types::{self as tl, enums, functions as f};

    let settings = |tokens: Option<Vec<Vec<u8>>>| {
        enums::CodeSettings::Settings(tl::types::CodeSettings {
            allow_flashcall: false,
            current_number: false,
            allow_app_hash: false,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: tokens,
            token: None,
            app_sandbox: None,
        })
    };
    let send_code = |tokens| {
        f::auth::SendCode {
            phone_number: "9996621234".into(),
            api_id: 1,
            api_hash: "sandbox".into(),
            settings: settings(tokens),
        }
        .to_bytes()
    };
    let dir = tempfile::tempdir().unwrap();
    let caller = |n: u8| {
        let mut key = [n; 256];
        key[0] = 0x42;
        tgsess_shared::sandbox_link::register(dir.path(), 2, &key).unwrap();
        Caller {
            key_id: tgsess_shared::mtproto::key_id(&key),
            dc: 2,
            conn: u64::from(n),
            ip: None,
        }
    };
    let (a, b, c) = (caller(1), caller(2), caller(3));
    let address = "127.0.0.1:40000".parse().unwrap();
    let mut st = State::new(Scenario::default(), vec![1, 2, 3], address, dir.path());
    let mut answers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ask = |st: &mut State, who: &Caller, body: Vec<u8>| -> Vec<u8> {
        // As a connection does: the key is looked up (and loaded) before its requests.
        assert!(st.key(who.key_id).is_some());
        let (name, reply) = st.handle(who, &body);
        match reply {
            Reply::Ok(bytes) => {
                answers.push((name, bytes.clone()));
                bytes
            }
            Reply::Error(code, msg) => panic!("{name}: {code} {msg}"),
            Reply::Drop => panic!("{name}: dropped"),
        }
    };
    ask(&mut st, &a, f::help::GetConfig {}.to_bytes());
    let sent = ask(&mut st, &a, send_code(None));
    let Ok(enums::auth::SentCode::Code(sent)) = enums::auth::SentCode::from_bytes(&sent) else {
        panic!("no sentCode")
    };
    let resend = f::auth::ResendCode {
        phone_number: "9996621234".into(),
        phone_code_hash: sent.phone_code_hash.clone(),
        reason: None,
    };
    ask(&mut st, &a, resend.to_bytes());
    ask(&mut st, &a, account_password());
    ask(
        &mut st,
        &a,
        f::auth::SignIn {
            phone_number: "9996621234".into(),
            phone_code_hash: sent.phone_code_hash,
            phone_code: Some("22222".into()),
            email_verification: None,
        }
        .to_bytes(),
    );
    let users = vec![
        enums::InputUser::UserSelf,
        enums::InputUser::User(tl::types::InputUser {
            user_id: 12345,
            access_hash: 0,
        }),
    ];
    ask(&mut st, &a, f::users::GetUsers { id: users }.to_bytes());
    let full = f::users::GetFullUser {
        id: enums::InputUser::UserSelf,
    };
    ask(&mut st, &a, full.to_bytes());
    ask(&mut st, &a, f::updates::GetState {}.to_bytes());
    let diff = f::updates::GetDifference {
        pts: 1,
        pts_limit: None,
        pts_total_limit: None,
        date: 0,
        qts: 0,
        qts_limit: None,
    };
    ask(&mut st, &a, diff.to_bytes());
    ask(&mut st, &a, f::account::GetAuthorizations {}.to_bytes());
    // QR: b exports a token, a accepts it, b's next export is the success.
    let export = f::auth::ExportLoginToken {
        api_id: 1,
        api_hash: "sandbox".into(),
        except_ids: Vec::new(),
    };
    let token = ask(&mut st, &b, export.to_bytes());
    let Ok(enums::auth::LoginToken::Token(token)) = enums::auth::LoginToken::from_bytes(&token)
    else {
        panic!("no loginToken")
    };
    ask(
        &mut st,
        &a,
        f::auth::AcceptLoginToken { token: token.token }.to_bytes(),
    );
    ask(&mut st, &b, export.to_bytes());
    // Log out with a future auth token; c signs in with it and no code (sentCodeSuccess).
    let out = ask(&mut st, &a, f::auth::LogOut {}.to_bytes());
    let Ok(enums::auth::LoggedOut::Out(out)) = enums::auth::LoggedOut::from_bytes(&out) else {
        panic!("no loggedOut")
    };
    ask(
        &mut st,
        &c,
        send_code(Some(vec![out.future_auth_token.unwrap()])),
    );

    // The constructors those answers hold, nested ones included.
    fn walk(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(name, fields) => {
                out.insert(name.clone());
                fields.iter().for_each(|(_, f)| walk(f, out));
            }
            Value::Vector(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (_, bytes) in &answers {
        walk(&schemas()[&NATIVE].decode_answer(bytes).unwrap(), &mut seen);
    }
    let expected = "account.authorizations account.password auth.authorization \
        auth.loggedOut auth.loginToken auth.loginTokenSuccess auth.sentCode \
        auth.sentCodeSuccess auth.sentCodeTypeApp auth.sentCodeTypeSms auth.codeTypeSms \
        authorization config dcOption peerNotifySettings peerSettings updates.differenceEmpty \
        updates.state user userEmpty userFull users.userFull";
    for name in expected.split_whitespace() {
        assert!(seen.contains(name), "{name} not covered: {seen:?}");
    }
    for layer in supported() {
        let schema = &schemas()[&layer];
        for (name, bytes) in &answers {
            let ours = encode_for(layer, bytes.clone())
                .unwrap_or_else(|e| panic!("{name} in layer {layer}: {e}"));
            let back = schema.decode_answer(&ours).unwrap();
            assert_eq!(
                schema.encode_answer(&back).unwrap(),
                ours,
                "{name} in {layer}"
            );
        }
    }

    /// account.getPassword on an account without 2FA.
    fn account_password() -> Vec<u8> {
        f::account::GetPassword {}.to_bytes()
    }
}
