//! The Grafana dashboard in `ops/grafana/perch.json` (issue 24): a real
//! Prometheus (Debian's `prometheus`, which `scripts/test.sh` installs when
//! missing) scrapes a running Perch every second while `perch bench` loads
//! it, and every panel's every query then returns data.

#[path = "../../perch-server/tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestApp, TestDb, free_port, random_cache_prefix, redis_settings, redis_test_url};
use perch_bench::BenchArgs;
use serde_json::Value;

/// A Prometheus of this test's own, killed on drop.
struct PrivateProm {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl PrivateProm {
    fn scraping(target: &str) -> PrivateProm {
        let dir = std::env::temp_dir().join(format!("perch-prom-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("prometheus dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: perch\n    static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("config");
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is needed: apt-get install -y prometheus, or scripts/test.sh");
        PrivateProm {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The result vector of an instant query (empty on any error).
    async fn query(&self, client: &reqwest::Client, expr: &str) -> Vec<Value> {
        let answer = client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await;
        let Ok(answer) = answer else {
            return Vec::new();
        };
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_ne!(body["status"], "error", "{expr}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for PrivateProm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn dashboard() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ops/grafana/perch.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard")).expect("JSON")
}

/// Every query of the dashboard, as Grafana would send it for "All".
fn queries(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("a title").to_string();
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expr");
            let expr = expr
                .replace("$__rate_interval", "1m")
                .replace("$instance", ".*");
            out.push((title.clone(), expr));
        }
    }
    out
}

#[test]
fn the_dashboard_is_a_grafana_dashboard() {
    let dash = dashboard();
    assert_eq!(dash["uid"], "perch-overview");
    assert!(dash["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    for p in panels {
        assert!(
            p["gridPos"]["w"].is_u64() && p["type"] == "timeseries",
            "{p}"
        );
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}");
    }
    // The design's targets each have a panel.
    let titles: String = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for needed in ["hit ratio", "p99", "memory", "connections", "5xx"] {
        assert!(titles.contains(needed), "no panel for {needed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_panel_has_data_from_a_perch_under_bench_load() {
    let db = TestDb::sqlite().await;
    let mut settings = redis_settings(&db.url, &redis_test_url(), &random_cache_prefix());
    // The bench signs up its accounts over HTTP.
    let off = perch::config::parse_rate("off", "test").expect("off");
    settings.rate_limits.signups_per_address = off;
    settings.rate_limits.login_per_address = off;
    let app = TestApp::spawn(settings).await;
    let prom = PrivateProm::scraping(app.url.trim_start_matches("http://"));
    let args = BenchArgs {
        url: Some(app.url.clone()),
        database_url: None,
        redis_url: None,
        accounts: "12".into(),
        statuses: "30".into(),
        follows: "30".into(),
        favourites: "20".into(),
        connections: "4".into(),
        rate: None,
        duration: "4s".into(),
        warmup: "500ms".into(),
        workload: "mixed,timeline,profile".into(),
        json: None,
        plot: None,
        report_memory: false,
        no_gzip: false,
        seed: "11".into(),
        log: "warn".into(),
        rate_limit_posts: "1000000/1m".into(),
    };
    let opts = args.validate().expect("valid bench options");
    perch_bench::run(&opts).await.expect("the bench runs");

    let client = reqwest::Client::new();
    let dash = dashboard();
    let queries = queries(&dash);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut empty = Vec::new();
        for (title, expr) in &queries {
            if prom.query(&client, expr).await.is_empty() {
                empty.push(format!("{title}: {expr}"));
            }
        }
        if empty.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "panels without data after 30 s:\n{}",
            empty.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // And the figures are Perch's own: the bench's reads were counted.
    let reads = prom
        .query(
            &client,
            "sum(perch_http_request_duration_seconds_count{method=\"GET\"})",
        )
        .await;
    let n: f64 = reads[0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(n > 100.0, "only {n} reads were scraped");
    app.stop().await;
    db.finish().await;
}
