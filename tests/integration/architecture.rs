//! The layers ARCHITECTURE.md describes, held by a test so they stay true: the crates depend
//! one way (Cargo refuses a cycle, but not a wrong edge), the store neither prints nor
//! prompts, and inside the application a module only imports modules of a lower rank.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The application's modules by rank: a module may import only lower ranks. Adding a module
/// means placing it here (and in ARCHITECTURE.md).
const RANKS: &[(&str, u8)] = &[
    ("lib", 7),
    ("main", 7),
    ("cli", 6),
    ("commands", 5),
    ("login", 4),
    ("session", 3),
    ("sources", 3),
    ("report", 3),
    ("settings", 2),
    ("health", 2),
    ("net", 1),
    ("guard", 1),
    ("lease", 1),
    ("state", 1),
    ("prompt", 1),
    ("env", 0),
    ("error", 0),
    ("identity", 0),
    ("output", 0),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file of src/ belongs to.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(root().join("src")).unwrap();
    let first = rel.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

/// Every `crate::NAME` a file's non-test code mentions.
fn crate_imports(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap();
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let before = rest[..i].chars().last();
        // `pub(crate)` and `tgsess_crate::` are not paths into this crate.
        if !name.is_empty() && !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_') {
            out.push(name);
        }
        rest = after;
    }
    out
}

#[test]
fn application_modules_import_only_lower_layers() {
    let ranks: BTreeMap<&str, u8> = RANKS.iter().copied().collect();
    let mut wrong = Vec::new();
    for file in rust_files(&root().join("src")) {
        let module = module_of(&file);
        let Some(&rank) = ranks.get(module.as_str()) else {
            panic!("{module} (from {}) has no rank in RANKS", file.display());
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_imports(&text) {
            if used == module {
                continue;
            }
            match ranks.get(used.as_str()) {
                Some(&r) if r < rank => {}
                Some(&r) => wrong.push(format!(
                    "{} ({module}, rank {rank}) imports {used} (rank {r})",
                    file.display()
                )),
                // Items of lib.rs (`crate::run`) and macros are not modules.
                None => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

/// The `[dependencies]` names of a crate's manifest.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let value: toml::Table = toml::from_str(&text).unwrap();
    value
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_crates_depend_one_way_and_only_the_application_knows_clap() {
    let crates = root().join("crates");
    let shared = dependencies(&crates.join("shared/Cargo.toml"));
    let store = dependencies(&crates.join("store/Cargo.toml"));
    let sandbox = dependencies(&crates.join("sandbox/Cargo.toml"));
    let ours = |deps: &[String]| -> Vec<String> {
        deps.iter()
            .filter(|d| d.starts_with("tgsess"))
            .cloned()
            .collect()
    };
    assert_eq!(ours(&shared), Vec::<String>::new());
    assert_eq!(ours(&store), vec!["tgsess-shared".to_string()]);
    assert_eq!(ours(&sandbox), vec!["tgsess-shared".to_string()]);
    for (name, deps) in [
        ("shared", &shared),
        ("store", &store),
        ("sandbox", &sandbox),
    ] {
        for ui in ["clap", "rpassword", "tgsess"] {
            assert!(
                !deps.contains(&ui.to_string()),
                "crates/{name} depends on {ui}"
            );
        }
    }
}

#[test]
fn the_store_neither_prints_nor_prompts() {
    for file in rust_files(&root().join("crates/store/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for word in [
            "println!",
            "eprintln!",
            "print!(",
            "eprint!(",
            "stdin()",
            "rpassword",
        ] {
            assert!(!code.contains(word), "{} uses {word}", file.display());
        }
    }
}
