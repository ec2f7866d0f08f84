//! `perch bench` end to end, in process, with a tiny data set: every
//! workload runs and answers, the report's figures are in range, and a warm
//! profile read costs exactly one cache round trip and no database query.

use perch_bench::{BenchArgs, Report, Workload};

fn tiny(workloads: &str) -> BenchArgs {
    BenchArgs {
        url: None,
        database_url: None,
        redis_url: None,
        accounts: "30".into(),
        statuses: "60".into(),
        follows: "120".into(),
        favourites: "60".into(),
        connections: "4".into(),
        rate: None,
        duration: "1s".into(),
        warmup: "500ms".into(),
        workload: workloads.into(),
        json: None,
        plot: None,
        report_memory: true,
        no_gzip: false,
        seed: "7".into(),
        log: "warn".into(),
        rate_limit_posts: "1000000/1m".into(),
    }
}

async fn bench(workloads: &str) -> Report {
    let opts = tiny(workloads).validate().expect("valid options");
    perch_bench::run(&opts).await.expect("the bench runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_runs_and_a_warm_profile_read_costs_one_round_trip() {
    let report = bench("all,profile").await;
    // The JSON is what `--json` writes: check the figures through it.
    let json = serde_json::to_value(&report).expect("the report serializes");
    let runs = json["workloads"].as_array().expect("a list of runs");
    let names: Vec<&str> = runs.iter().filter_map(|w| w["workload"].as_str()).collect();
    assert_eq!(
        names,
        [
            "profile", "timeline", "home", "home-sql", "mixed", "profile"
        ]
    );
    assert_eq!(json["seeded"]["accounts"], 30);
    assert_eq!(json["gzip"], true, "GETs ask for gzip unless --no-gzip");
    // After the writes of the mixed runs, every cached answer reads as the
    // database answers it.
    let verified = &json["verification"];
    assert_eq!(verified["compared"], 1 + 3 * 30, "{verified}");
    assert_eq!(verified["differing"], 0, "{verified}");
    assert_eq!(json["seeded"]["statuses"], 60);
    assert!(
        json["seeded"]["follows"].as_u64().unwrap() > 60,
        "{}",
        json["seeded"]
    );
    for w in runs {
        let name = w["workload"].as_str().unwrap();
        assert!(w["requests"].as_u64().unwrap() > 0, "{name}: no requests");
        assert!(w["requests_per_sec"].as_f64().unwrap() > 0.0, "{name}");
        assert_eq!(w["errors"], 0, "{name}: {}", w["first_failure"]);
        // Each connection's first answer of each route is checked, so
        // every run checks some bodies; Perch's must all be right.
        assert!(w["bodies_checked"].as_u64().unwrap() > 0, "{name}");
        assert_eq!(w["bodies_wrong"], 0, "{name}: {}", w["first_failure"]);
        let p50 = w["latency_ms"]["p50"].as_f64().unwrap();
        let p99 = w["latency_ms"]["p99"].as_f64().unwrap();
        assert!(0.0 < p50 && p50 <= p99, "{name}: p50 {p50}, p99 {p99}");
        // The server's own time for each answer lies within the client's
        // wait for it, so each of its percentiles is at most the client's.
        let server = &w["server_ms"];
        let (s50, s99) = (server["p50"].as_f64(), server["p99"].as_f64());
        let (s50, s99) = s50.zip(s99).unwrap_or_else(|| panic!("{name}: {server}"));
        assert!(
            0.0 < s50 && s50 <= p50,
            "{name}: server p50 {s50}, p50 {p50}"
        );
        assert!(
            s50 <= s99 && s99 <= p99,
            "{name}: server p99 {s99}, p99 {p99}"
        );
        let ratios = w["cache_hit_ratio"].as_array().unwrap();
        assert!(!ratios.is_empty(), "{name}: no cache lookups reported");
        for f in ratios {
            let r = f["hit_ratio"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&r), "{name}: {f}");
            assert_ne!(
                f["family"], "blacklist",
                "blacklist checks are reported apart"
            );
        }
        if name != "mixed" {
            assert_eq!(w["non_2xx"], 0, "{name}: {}", w["first_failure"]);
        }
    }
    // Mixed: every request authenticated, so one blacklist check each;
    // the reads and writes of its mix all appear.
    let mixed = &runs[4];
    assert_eq!(mixed["blacklist_checks"]["valid"], mixed["requests"]);
    let routes: Vec<&str> = mixed["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["route"].as_str())
        .collect();
    for route in [
        "GET /api/v1/accounts/:id",
        "GET /api/v1/timelines/public",
        "POST /api/v1/statuses",
    ] {
        assert!(routes.contains(&route), "{route} missing from {routes:?}");
    }
    // In process the posting limit is raised, so every request is served.
    assert_eq!(mixed["non_2xx"], 0, "{}", mixed["first_failure"]);
    // The profile run after the others: every profile is cached, so each
    // request is one MGET and no query. The server refreshes its revoked
    // tokens from the database every 2 s, in the background: at most one
    // such query falls in a 1 s run.
    // Home, from the cache: the posts of the run were fanned out to some
    // followers' feeds, and the delay was measured; from SQL, each home
    // read costs a query, from the cache almost never.
    for w in [&report.workloads[2], &report.workloads[3]] {
        let fanout = w.fanout.expect("the home workload posts");
        assert!(fanout.posts > 0, "{fanout:?}");
        assert!(fanout.writes_per_post > 0.0, "{fanout:?}");
        assert!(fanout.delay_p50_ms <= fanout.delay_p99_ms, "{fanout:?}");
    }
    let (cached, joined) = (&report.workloads[2], &report.workloads[3]);
    assert_eq!(joined.workload, Workload::HomeSql);
    assert!(
        joined.db_queries_per_request.unwrap() > 0.9,
        "the join reads SQL: {joined:?}"
    );
    assert!(
        cached.db_queries_per_request.unwrap() < 0.5,
        "cached feeds: {cached:?}"
    );
    let again = &report.workloads[5];
    assert_eq!(again.workload, Workload::Profile);
    assert_eq!(again.round_trips_per_request, Some(1.0), "{again:?}");
    assert!(again.db_queries.unwrap() <= 1, "{again:?}");
    let profile = again
        .cache_hit_ratio
        .iter()
        .find(|f| f.family == "profile")
        .unwrap();
    assert_eq!(profile.hit_ratio, 1.0);
    // Memory: 30 cached profiles and a timeline page take room in the store.
    let memory = report.memory.as_ref().expect("--report-memory");
    assert_eq!(memory.store, "memory");
    assert!(
        memory.used_memory_per_1000_profiles.unwrap() > 100_000.0,
        "{memory:?}"
    );
    assert!(memory.used_memory_per_timeline_page > 1_000.0, "{memory:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_sends_requests_on_a_schedule() {
    let mut args = tiny("profile");
    args.rate = Some("200".into());
    args.warmup = "0s".into();
    args.report_memory = false;
    let opts = args.validate().expect("valid options");
    let report = perch_bench::run(&opts).await.expect("the bench runs");
    assert_eq!(report.rate, Some(200.0));
    assert!(
        report.table().contains("open loop at 200 req/s"),
        "{}",
        report.table()
    );
    // 4 users, each every 20 ms for 1 s: 50 each at most, where a closed
    // loop on a tiny data set sends thousands.
    let run = &report.workloads[0];
    assert!(
        (1..=200).contains(&run.requests),
        "{} requests",
        run.requests
    );
    assert_eq!(run.errors, 0, "{:?}", run.first_failure);
}

/// `--plot`: one SVG with a row per route of every run, each naming the
/// requests the report counted for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plot_draws_every_route_of_every_run() {
    let path = std::env::temp_dir().join(format!("perch-plot-{}.svg", uuid::Uuid::new_v4()));
    let mut args = tiny("profile,timeline");
    args.report_memory = false;
    args.plot = Some(path.display().to_string());
    let opts = args.validate().expect("valid options");
    let report = perch_bench::run(&opts).await.expect("the bench runs");
    let svg = std::fs::read_to_string(&path).expect("the plot was written");
    let _ = std::fs::remove_file(&path);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for run in &report.workloads {
        let name = run.workload.name();
        assert!(svg.contains(&format!(">{name} (")), "{name}");
        for route in &run.routes {
            let row = format!("{} ({} requests)", route.route, route.requests);
            assert!(svg.contains(&row), "no row {row:?}");
        }
    }
    // Each row has its median line and its histogram bars.
    let rows: usize = report.workloads.iter().map(|w| w.routes.len()).sum();
    assert!(rows >= 2);
    assert_eq!(svg.matches("stroke=\"#1f6fd1\"").count(), rows);
    assert!(svg.matches("fill=\"#2a8f4c\"").count() >= rows);
}

#[test]
fn bad_arguments_are_refused_naming_the_flag() {
    let mut args = tiny("profile");
    args.workload = "everything".into();
    assert!(
        args.validate()
            .unwrap_err()
            .to_string()
            .contains("--workload")
    );
    let mut args = tiny("profile");
    args.duration = "soon".into();
    assert!(
        args.validate()
            .unwrap_err()
            .to_string()
            .contains("--duration")
    );
    let mut args = tiny("profile");
    args.rate = Some("fast".into());
    assert!(args.validate().unwrap_err().to_string().contains("--rate"));
    let mut args = tiny("profile");
    args.url = Some("ftp://x".into());
    assert!(args.validate().unwrap_err().to_string().contains("--url"));
    let mut args = tiny("profile");
    args.url = Some("http://127.0.0.1:1,ftp://x".into());
    assert!(args.validate().unwrap_err().to_string().contains("--url"));
    let mut args = tiny("profile");
    args.url = Some("http://127.0.0.1:1, http://127.0.0.1:2/".into());
    let urls = args.validate().expect("two processes").urls;
    assert_eq!(urls, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    let mut args = tiny("profile");
    args.plot = Some("latency.png".into());
    assert!(args.validate().unwrap_err().to_string().contains("--plot"));
}

/// The in-process server takes its posting limit from the setting
/// (`--rate-limit-posts`, read as `PERCH_RATE_LIMIT_POSTS` reads it): at one
/// post an hour per account, the mixed workload's posts beyond each
/// account's first (made in the warm-up) are refused, and the report counts
/// them as 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_server_takes_its_posting_limit_from_the_setting() {
    let mut args = tiny("mixed");
    args.report_memory = false;
    args.accounts = "5".into();
    args.rate_limit_posts = "1/1h".into();
    let opts = args.validate().expect("valid options");
    let report = perch_bench::run(&opts).await.expect("the bench runs");
    let mixed = &report.workloads[0];
    assert!(mixed.rate_limited > 0, "{mixed:?}");
    // Only posts are limited: every 429 is a refused post.
    let posts = mixed
        .routes
        .iter()
        .find(|r| r.route == "POST /api/v1/statuses")
        .expect("the mix posts");
    assert_eq!(posts.rate_limited, mixed.rate_limited, "{mixed:?}");
    // A bad limit is refused before anything starts, naming the flag.
    let mut bad = tiny("mixed");
    bad.rate_limit_posts = "ten a minute".into();
    let e = bad.validate().expect_err("a bad limit");
    assert!(e.to_string().contains("--rate-limit-posts"), "{e}");
}
