//! Integration tests: the real `tgsess` binary on temp directories, env cleared, against the
//! real sandbox over 127.0.0.1. One harness ([`common`]); one file per command or feature.

mod common;

mod advice;
mod architecture;
mod bad_input;
mod bounded_reads;
mod codeless_login;
mod damaged_sessions;
mod exec;
mod faults;
mod fence;
mod guard;
mod import_export;
mod in_place;
mod inspect;
mod key_exchange;
mod lease;
mod list;
mod login;
mod offline_commands;
mod proxy;
mod sandbox_wire;
mod sandbox_with_grammers;
mod tdata;
mod test_dc;
mod verdicts;
