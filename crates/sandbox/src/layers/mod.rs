//! Answers in the client's own layer. The sandbox builds every answer in grammers' layer
//! (230); a connection that declared another layer in invokeWithLayer gets it re-encoded:
//! decoded with layer 230's definitions, then written with its own layer's constructor ids
//! and fields, matched by name. Fields that layer lacks are dropped; the flags are
//! recomputed from the fields that remain.
//!
//! Each layer's definitions are the constructors the sandbox sends, extracted by
//! `scripts/layers.py` from the schema the client library itself ships (each `lN.tl` names
//! its source): hydrogram 0.2.0 (181), GramJS 2.26.22 (198), pyrofork 2.3.69 (220),
//! mtcute 0.29.7 (225), kurigram 2.2.26 and Telethon 1.45 (229), grammers 0.11 (230).

mod tl;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use tl::{Schema, Value};

/// The layer the sandbox builds its answers in.
pub(crate) const NATIVE: i32 = grammers_tl_types::LAYER;

const SOURCES: &[(i32, &str)] = &[
    (181, include_str!("l181.tl")),
    (198, include_str!("l198.tl")),
    (220, include_str!("l220.tl")),
    (225, include_str!("l225.tl")),
    (229, include_str!("l229.tl")),
    (230, include_str!("l230.tl")),
];

fn schemas() -> &'static HashMap<i32, Schema> {
    static S: OnceLock<HashMap<i32, Schema>> = OnceLock::new();
    S.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(l, text)| {
                (
                    *l,
                    Schema::parse(text).expect("a committed layer file parses"),
                )
            })
            .collect()
    })
}

/// The layers the sandbox speaks, lowest first.
pub fn supported() -> Vec<i32> {
    SOURCES.iter().map(|(l, _)| *l).collect()
}

/// Whether the sandbox answers in `layer` (checked on each declared layer, so no list is built).
pub(crate) fn speaks(layer: i32) -> bool {
    SOURCES.iter().any(|(l, _)| *l == layer)
}

/// The rpc_error for a layer the sandbox does not speak, naming those it does.
pub(crate) fn unsupported_error(layer: i32) -> String {
    let list: Vec<String> = supported().iter().map(i32::to_string).collect();
    format!(
        "CONNECTION_LAYER_INVALID_{layer}_SANDBOX_SPEAKS_{}",
        list.join("_")
    )
}

/// An answer built in layer 230, as a client of `layer` reads it.
pub(crate) fn encode_for(layer: i32, answer: Vec<u8>) -> Result<Vec<u8>, String> {
    if layer == NATIVE {
        return Ok(answer);
    }
    let all = schemas();
    let (Some(from), Some(to)) = (all.get(&NATIVE), all.get(&layer)) else {
        return Err(unsupported_error(layer));
    };
    let value = from.decode_answer(&answer)?;
    to.encode_answer(&value)
}

#[cfg(test)]
mod tests;
