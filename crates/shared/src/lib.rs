//! What tgsess's client side and its sandbox both need, in one small crate that both import
//! and that imports neither:
//! - [`mtproto`]: SHA1 over parts, the auth key id, the base64 token codec;
//! - [`fs`]: private files written whole, files read only when regular and bounded;
//! - [`sandbox_link`]: the sandbox's endpoint file and its side channel for new auth keys;
//! - [`secret`]: a string that is never printed;
//! - [`text`]: values from outside made safe to print.

pub mod fs;
pub mod limits;
pub mod mtproto;
pub mod sandbox_link;
pub mod secret;
pub mod text;

pub use secret::Secret;
