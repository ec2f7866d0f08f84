//! Tests of the settings' parsing and validation.

use super::*;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    raw: RawSettings,
}

fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
    let mut all = vec!["perch"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all)
        .map_err(|e| ConfigError::new("cli", e.to_string()))?
        .raw
        .validate()
}

#[test]
fn sizes_read_like_redis_maxmemory() {
    assert_eq!(parse_size("1GB"), Some(1 << 30));
    assert_eq!(parse_size("512mb"), Some(512 << 20));
    assert_eq!(parse_size("2 GiB"), Some(2 << 30));
    assert_eq!(parse_size("1048576"), Some(1 << 20));
    assert_eq!(parse_size("1.5GB"), None);
    assert_eq!(parse_size("lots"), None);
    assert_eq!(parse_size("99999999999999999999GB"), None);
}

#[test]
fn bad_values_name_their_setting() {
    let cases: &[(&[&str], &str)] = &[
        (&["--bind", "nowhere"], "PERCH_BIND"),
        (&["--cache-max-memory", "big"], "PERCH_CACHE_MAX_MEMORY"),
        (&["--database-url", "mysql://x"], "DATABASE_URL"),
        (&["--redis-url", "http://x"], "REDIS_URL"),
        (&["--jwt-secret", "short"], "PERCH_JWT_SECRET"),
        (&["--log-format", "xml"], "PERCH_LOG_FORMAT"),
        (&["--log", "perch=[[["], "PERCH_LOG"),
        (&["--domain", "a b"], "PERCH_DOMAIN"),
        (&["--cache-prefix", "a{b}"], "PERCH_CACHE_PREFIX"),
        (&["--cache-timeout-ms", "0"], "PERCH_CACHE_TIMEOUT_MS"),
        (&["--token-ttl-secs", "soon"], "PERCH_TOKEN_TTL_SECS"),
        (
            &["--cache-apply-policy", "maybe"],
            "PERCH_CACHE_APPLY_POLICY",
        ),
    ];
    for (args, setting) in cases {
        let err = parse(args).expect_err("must be refused");
        assert!(err.to_string().contains(setting), "{err} for {args:?}");
    }
}

#[test]
fn defaults_run_on_a_bare_machine() {
    let s = parse(&["--data-dir", "/tmp/perch-x"]).expect("defaults are valid");
    assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.domain, "127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite:///tmp/perch-x/perch.db?mode=rwc");
    assert_eq!(s.redis_url, None);
    assert_eq!(s.cache_max_memory, 1 << 30);
    assert_eq!(s.log_format, LogFormat::Text);
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(
        redact_url("postgres://u:secret@h:5432/db"),
        "postgres://u:***@h:5432/db"
    );
    assert_eq!(redact_url("redis://h:6379"), "redis://h:6379");
}

#[test]
fn rate_limits_default_to_the_documented_values_and_read_their_flags() {
    assert_eq!(parse(&[]).unwrap().rate_limits, RateLimits::DEFAULT);
    assert_eq!(
        RawSettings::defaults().validate().unwrap().rate_limits,
        RateLimits::DEFAULT
    );
    let s = parse(&[
        "--rate-limit-posts",
        "off",
        "--rate-limit-signup-address",
        "500/1h",
    ])
    .unwrap();
    assert_eq!(s.rate_limits.posts, None);
    assert_eq!(format_rate(s.rate_limits.signups_per_address), "500/1h");
    assert_eq!(
        s.rate_limits.login_per_name,
        RateLimits::DEFAULT.login_per_name
    );
    let e = parse(&["--rate-limit-login-name", "often"]).unwrap_err();
    assert!(e.to_string().contains("PERCH_RATE_LIMIT_LOGIN_NAME"), "{e}");
}
