//! Integration tests: the real `tgsess` binary on temp directories, env cleared.

mod advice;
mod bounded_reads;
mod codeless;
mod common;
mod damaged;
mod discipline;
mod exec;
mod faults;
mod fence;
mod in_place;
mod inspect;
mod interop;
mod key_exchange;
mod list_check;
mod login;
mod offline;
mod proxy;
mod sandbox_client;
mod sandbox_wire;
mod tdata;
mod test_dc;
