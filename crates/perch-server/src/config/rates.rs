//! The rate-limit settings: each limit written `N/PERIOD` (`10/1m`,
//! `20/1h`) or `off`, as operators write them for nginx or Mastodon's
//! rack-attack.
//!
//! The period is a whole number of seconds, minutes, hours or days
//! (`30s`, `1m`, `1h`, `1d`; a bare unit such as `m` means one). The limit
//! is bounded because the sliding window keeps one entry per accepted
//! request (see `perch_cache::RateRule`): a million in a window is already
//! tens of megabytes for one busy key.

use std::time::Duration;

use perch_cache::RateRule;

use super::ConfigError;

/// The most requests one rule may admit per window.
pub const MAX_LIMIT: u32 = 1_000_000;

/// The longest window a rule may have: a week.
pub const MAX_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// Every rate limit Perch applies; `None` is a limit turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// New statuses per user (the seed's `rate_limit:{userId}:{endpoint}`,
    /// 10 a minute).
    pub posts: Option<RateRule>,
    /// Sign-in attempts per client address.
    pub login_per_address: Option<RateRule>,
    /// Sign-in attempts per account name (guards one account against a
    /// guesser spread over many addresses).
    pub login_per_name: Option<RateRule>,
    /// Sign-ups per client address.
    pub signups_per_address: Option<RateRule>,
}

impl RateLimits {
    /// The defaults, the same values as the settings' defaults.
    pub const DEFAULT: RateLimits = RateLimits {
        posts: Some(RateRule::SEED),
        login_per_address: Some(RateRule {
            limit: 30,
            window: Duration::from_secs(60),
        }),
        login_per_name: Some(RateRule {
            limit: 10,
            window: Duration::from_secs(60),
        }),
        signups_per_address: Some(RateRule {
            limit: 20,
            window: Duration::from_secs(3600),
        }),
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::DEFAULT
    }
}

/// Reads one limit: `N/PERIOD` or `off`. The error names `setting`.
pub fn parse_rate(text: &str, setting: &'static str) -> Result<Option<RateRule>, ConfigError> {
    let t = text.trim().to_ascii_lowercase();
    if t == "off" {
        return Ok(None);
    }
    let bad = || {
        ConfigError::new(
            setting,
            format!(
                "{text:?} is not a limit like 10/1m, 20/1h or off \
                 (1 to {MAX_LIMIT} requests per 1s to 7d)"
            ),
        )
    };
    let (count, period) = t.split_once('/').ok_or_else(bad)?;
    let limit: u32 = count.trim().parse().map_err(|_| bad())?;
    let window = parse_period(period.trim()).ok_or_else(bad)?;
    if !(1..=MAX_LIMIT).contains(&limit) || window.is_zero() || window > MAX_WINDOW {
        return Err(bad());
    }
    Ok(Some(RateRule::new(limit, window)))
}

/// `30s`, `1m`, `2h`, `1d`, or a bare unit meaning one of it.
pub(super) fn parse_period(text: &str) -> Option<Duration> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().ok()?
    };
    let seconds: u64 = match unit {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

/// Writes a rule back as a setting reads it (`10/1m`), for logs and
/// `--help` texts.
pub fn format_rate(rule: Option<RateRule>) -> String {
    let Some(rule) = rule else {
        return "off".into();
    };
    let s = rule.window.as_secs();
    let period = match s {
        _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
        _ if s % 3600 == 0 => format!("{}h", s / 3600),
        _ if s % 60 == 0 => format!("{}m", s / 60),
        _ => format!("{s}s"),
    };
    format!("{}/{period}", rule.limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(limit: u32, secs: u64) -> Option<RateRule> {
        Some(RateRule::new(limit, Duration::from_secs(secs)))
    }

    #[test]
    fn limits_read_as_count_per_period() {
        let p = |t| parse_rate(t, "--x / X").unwrap();
        assert_eq!(p("10/1m"), rule(10, 60));
        assert_eq!(p("20/1h"), rule(20, 3600));
        assert_eq!(p(" 5 / 30s "), rule(5, 30));
        assert_eq!(p("100/m"), rule(100, 60));
        assert_eq!(p("1000/1D"), rule(1000, 86_400));
        assert_eq!(p("OFF"), None);
        assert_eq!(p("1000000/7d"), rule(MAX_LIMIT, 7 * 86_400));
    }

    #[test]
    fn bad_limits_are_refused_with_their_setting() {
        for bad in [
            "",
            "10",
            "10/",
            "/1m",
            "ten/1m",
            "10/1y",
            "0/1m",
            "-1/1m",
            "10/0m",
            "10/8d",
            "1000001/1m",
            "10/1m5",
            "10/1.5m",
            "on",
            "10/m/m",
        ] {
            let e = parse_rate(bad, "--rate-limit-posts / PERCH_RATE_LIMIT_POSTS").expect_err(bad);
            let text = e.to_string();
            assert!(text.contains("PERCH_RATE_LIMIT_POSTS"), "{bad:?}: {text}");
        }
    }

    #[test]
    fn rules_write_back_as_they_read() {
        for text in ["10/1m", "20/1h", "5/30s", "7/2d", "off"] {
            let parsed = parse_rate(text, "x").unwrap();
            assert_eq!(format_rate(parsed), text);
        }
        assert_eq!(format_rate(rule(3, 90)), "3/90s");
    }

    #[test]
    fn defaults_are_the_documented_values() {
        let d = RateLimits::DEFAULT;
        assert_eq!(format_rate(d.posts), "10/1m");
        assert_eq!(format_rate(d.login_per_address), "30/1m");
        assert_eq!(format_rate(d.login_per_name), "10/1m");
        assert_eq!(format_rate(d.signups_per_address), "20/1h");
    }
}
