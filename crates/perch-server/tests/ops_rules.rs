//! The Prometheus alerting rules shipped in `ops/prometheus/` (issue 24):
//! they parse, and each fires on series that break its target and stays
//! silent on series that meet it (`promtool test rules`, Debian's
//! `prometheus` package, which `scripts/test.sh` installs when missing).

use std::path::PathBuf;
use std::process::Command;

fn ops_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ops/prometheus")
}

fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(ops_dir())
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool is needed ({e}): apt-get install -y prometheus, or scripts/test.sh")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_alert_rules_parse() {
    let (ok, text) = promtool(&["check", "rules", "perch-rules.yml"]);
    assert!(ok, "{text}");
    assert!(text.contains("8 rules found"), "{text}");
}

#[test]
fn every_alert_fires_on_its_breach_and_only_then() {
    let (ok, text) = promtool(&["test", "rules", "perch-rules.test.yml"]);
    assert!(ok, "{text}");
    // Every rule has a test case.
    let rules = std::fs::read_to_string(ops_dir().join("perch-rules.yml")).expect("rules");
    let tests = std::fs::read_to_string(ops_dir().join("perch-rules.test.yml")).expect("tests");
    for line in rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tests.contains(&format!("alertname: {line}")),
            "{line} has no test"
        );
    }
}
