//! Integration tests: the real `tgsess` binary on temp directories, env cleared.

mod codeless;
mod common;
mod discipline;
mod exec;
mod faults;
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
