//! Places the code a short command runs together in the binary (docs/startup-order.md).
//!
//! `link/startup-order.txt` lists, by symbol, the functions that `check --offline`, `check`,
//! `status` and `list` run; `scripts/startup_order.py` writes it. lld lays those functions
//! out first, in that order (`--symbol-ordering-file`), so a start maps a few dozen pages of
//! code instead of touching pages all over 9 MB of it: `check --offline` went from 183 to 135
//! page faults. A name the build no longer has is skipped (`--no-warn-symbol-ordering`): a
//! stale list costs speed, never correctness.

use std::env;
use std::path::Path;

fn main() {
    let order = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("link")
        .join("startup-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    if linked_by_rust_lld() && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether the binaries are linked by rustc's own lld, which knows `--symbol-ordering-file`:
/// the default on x86_64-unknown-linux-gnu since Rust 1.90 (blog.rust-lang.org, 2025-09-01,
/// "Faster linking times with 1.90.0 stable on Linux using the LLD linker"). GNU ld does not
/// know the option, so any linker setting (a configured linker, `-C linker-features=-lld`,
/// `-C link-self-contained=-linker`) turns the ordering off rather than risk a failed link.
fn linked_by_rust_lld() -> bool {
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && env::var_os("RUSTC_LINKER").is_none()
        && !flags.split('\x1f').any(|f| f.contains("linker"))
}
