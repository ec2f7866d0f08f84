//! The layers' rules, read from the sources (ARCHITECTURE.md, "Layers"), so
//! a change that breaks one fails here rather than in a review:
//!
//! - `domain` names no HTTP type and nothing of `http`;
//! - `http` reaches the database only through `domain` (the one exception:
//!   `/health`, `/metrics` and `/status` read the database handle's own
//!   figures, its ping and its pool);
//! - the top-level modules form layers, each naming only those below it
//!   ([`ORDER`]): so there is no import loop across layers, the shared
//!   handles (`state.rs`) name nothing of the domain or of `http`, and
//!   each layer keeps its own state (`domain/state.rs`, `http/state.rs`).

use std::path::{Path, PathBuf};

/// The code lines of one source file, trimmed, comment lines left out.
fn code_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("a source file");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .map(str::to_owned)
        .collect()
}

/// Every `.rs` file under `dir`, with its code lines (comments left out).
fn sources(dir: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let code = code_lines(&path);
                out.push((path, code));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {}", dir.display());
    out
}

fn src(layer: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer)
}

/// The lines of `layer`'s files that hold any of `words`, but in `allowed`.
fn offences(layer: &str, words: &[&str], allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, lines) in sources(&src(layer)) {
        let name = path
            .strip_prefix(src(layer))
            .unwrap_or(&path)
            .display()
            .to_string();
        if allowed.contains(&name.as_str()) {
            continue;
        }
        for line in lines {
            if words.iter().any(|w| line.contains(w)) {
                found.push(format!("{layer}/{name}: {line}"));
            }
        }
    }
    found
}

#[test]
fn the_domain_names_no_http_type() {
    let words = [
        "axum",
        "StatusCode",
        "HeaderMap",
        "HeaderValue",
        "crate::http",
        "reqwest::header",
        // The body type of HTTP responses: a kept page is `Arc<[u8]>`.
        "bytes::",
    ];
    let found = offences("domain", &words, &[]);
    assert!(found.is_empty(), "domain names HTTP:\n{}", found.join("\n"));
}

#[test]
fn http_reaches_the_database_only_through_the_domain() {
    let found = offences("http", &["crate::db"], &[]);
    assert!(
        found.is_empty(),
        "http names the database:\n{}",
        found.join("\n")
    );
    let handle = ["health.rs", "ops.rs", "status/ring.rs"];
    let found = offences("http", &["state.db", ".db."], &handle);
    assert!(
        found.is_empty(),
        "http uses the database handle:\n{}",
        found.join("\n")
    );
}

/// The top-level modules of `src/`, bottom first: each may name (as
/// `crate::module`) only modules before it. `federation` (the protocol) is
/// below `domain` (what Perch does, the inbox's acts included), which is
/// below `http`.
const ORDER: &[&str] = &[
    "ids",
    "auth",
    "config",
    "config_tests",
    "telemetry",
    "db",
    "error",
    "state",
    "federation",
    "domain",
    "http",
    "app",
    "lib",
];

/// The modules `lines` name as `crate::module`.
fn named(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        assert!(
            !line.contains("crate::{"),
            "name modules one `crate::` path at a time, so this check sees them: {line}"
        );
        for (at, _) in line.match_indices("crate::") {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // `perch_cache::`, not `crate::`
            }
            let name: String = line[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `crate::VERSION` and the like are the crate root's items,
            // not a module: every layer may name them.
            if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&root).expect("src") {
        let path = entry.expect("an entry").path();
        let module = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a module name")
            .to_owned();
        let rank = ORDER.iter().position(|m| *m == module);
        let Some(rank) = rank else {
            panic!("src/{module} is in no layer: add it to ORDER");
        };
        seen.push(module.clone());
        let files = if path.is_dir() {
            sources(&path)
        } else {
            vec![(path.clone(), code_lines(&path))]
        };
        for (file, lines) in files {
            for other in named(&lines) {
                let above = match ORDER.iter().position(|m| *m == other) {
                    Some(r) => r >= rank && other != module,
                    None => true,
                };
                if above {
                    found.push(format!("{}: names crate::{other}", file.display()));
                }
            }
        }
    }
    // The rule has teeth only if it looked at the real tree.
    for layer in ["state", "federation", "domain", "http"] {
        assert!(seen.iter().any(|m| m == layer), "no src/{layer}");
    }
    found.sort();
    found.dedup();
    assert!(
        found.is_empty(),
        "a layer names one above it (or an unknown module):\n{}",
        found.join("\n")
    );
}
