//! The layers' rules, read from the sources (ARCHITECTURE.md, "Layers"), so
//! a change that breaks one fails here rather than in a review:
//!
//! - `domain` names no HTTP type and nothing of `http`;
//! - `http` reaches the database only through `domain` (the one exception:
//!   `/health`, `/metrics` and `/status` read the database handle's own
//!   figures, its ping and its pool);
//! - the application state (`state.rs`, shared with the background
//!   workers) holds nothing of `http`: the rendered-JSON memos are the
//!   HTTP layer's own (`http/state.rs`).

use std::path::{Path, PathBuf};

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
                let text = std::fs::read_to_string(&path).expect("a source file");
                let code = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.starts_with("//"))
                    .map(str::to_owned)
                    .collect();
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

#[test]
fn the_application_state_holds_nothing_of_http() {
    let path = src("state.rs");
    let text = std::fs::read_to_string(&path).expect("state.rs");
    let found: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter(|l| l.contains("crate::http") || l.contains("axum"))
        .collect();
    assert!(
        found.is_empty(),
        "state.rs names http:\n{}",
        found.join("\n")
    );
}
