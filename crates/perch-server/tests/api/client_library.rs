//! A real Mastodon client library (Mastodon.py) drives a whole session:
//! `tests/clients/mastodon_py_session.py` against a server of each stack.

use std::process::Command;

use crate::support::ApiApp;

on_both_stacks!(mastodon_py_runs_a_whole_session);

const INSTALL: &str = "python3 -m pip install --quiet Mastodon.py==2.3.3";

async fn mastodon_py_runs_a_whole_session(app: &ApiApp) {
    let found = Command::new("python3")
        .args(["-c", "import mastodon"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for this test ({e}); then: {INSTALL}"));
    assert!(
        found.status.success(),
        "Mastodon.py is not installed for python3; install it with: {INSTALL}\n{}",
        String::from_utf8_lossy(&found.stderr)
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/mastodon_py_session.py"
    );
    // As a real client runs it, then with request paths' trailing slashes
    // removed (Mastodon.py asks for `/api/v1/instance/`), so that a failure
    // of the first does not hide the rest of the session.
    let mut failures = Vec::new();
    for extra in [None, Some("--strip-trailing-slash")] {
        let url = app.app.url.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new("python3");
            cmd.arg(script).arg(&url);
            if let Some(flag) = extra {
                cmd.arg(flag);
            }
            cmd.output().expect("run python3")
        })
        .await
        .expect("join");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !stdout.contains("mastodon.py session ok") {
            // The end of a traceback says what failed.
            let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            failures.push(format!(
                "mode {}: {}\n{stdout}...\n{}",
                extra.unwrap_or("as is"),
                out.status,
                tail.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the Mastodon.py session failed:\n{}",
        failures.join("\n\n")
    );
}
