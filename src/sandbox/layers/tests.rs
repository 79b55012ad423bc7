//! The sandbox's answers, re-encoded per layer, against bytes that each client library's own
//! serialiser wrote for the same values (tests/fixtures/layers/*.json, made by
//! scripts/layers.sh with scripts/layer_fixtures.py and scripts/layer_fixtures.cjs).

use grammers_tl_types::Serializable;

use super::*;
use crate::sandbox::objects;
use crate::sandbox::rpc::Account;

const FIXTURES: &[(&str, &str)] = &[
    (
        "hydrogram",
        include_str!("../../../tests/fixtures/layers/hydrogram.json"),
    ),
    (
        "gramjs",
        include_str!("../../../tests/fixtures/layers/gramjs.json"),
    ),
    (
        "pyrofork",
        include_str!("../../../tests/fixtures/layers/pyrofork.json"),
    ),
    (
        "mtcute",
        include_str!("../../../tests/fixtures/layers/mtcute.json"),
    ),
    (
        "kurigram",
        include_str!("../../../tests/fixtures/layers/kurigram.json"),
    ),
    (
        "telethon",
        include_str!("../../../tests/fixtures/layers/telethon.json"),
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
