//! The one harness every integration test uses: the binary ([`command`]), the local DC as
//! a process or in-process ([`dc`]), a pseudo-terminal ([`pty`]), session files, fixtures and
//! snapshots ([`files`]), bounded runs and what must hold after each ([`outcome`]), a
//! loopback-only network namespace ([`netns`]), and a hand-written MTProto client
//! ([`raw`]).

pub mod command;
pub mod dc;
pub mod files;
pub mod netns;
pub mod outcome;
pub mod pg;
pub mod pty;
pub mod raw;
pub mod relay;

pub use command::*;
pub use dc::*;
pub use files::*;
pub use netns::Netns;
pub use outcome::*;
pub use pg::{PG_PASSWORD, Pg};
pub use pty::Pty;
pub use raw::{Answer, Encrypted, Plain};
pub use relay::Relay;
