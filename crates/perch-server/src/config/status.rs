//! The `/status` page's settings: who may read its figures, and how often
//! it samples them.

use std::time::Duration;

use super::ConfigError;

/// Settings of `/status`.
#[derive(Debug, Clone)]
pub struct StatusSettings {
    /// The admin token that opens the figures to a client that is not on
    /// loopback (`Authorization: Bearer TOKEN`); `None`: loopback only.
    pub token: Option<String>,
    /// How often the figures are sampled; the page keeps 360 samples (an
    /// hour at the default 10 s).
    pub interval: Duration,
}

/// The shortest admin token accepted.
const MIN_TOKEN: usize = 16;

impl StatusSettings {
    /// Validates `--status-token` and `--status-interval`.
    pub fn parse(token: Option<String>, interval: &str) -> Result<StatusSettings, ConfigError> {
        let token = token.filter(|t| !t.is_empty());
        if let Some(t) = &token
            && (t.len() < MIN_TOKEN || !t.chars().all(|c| c.is_ascii_graphic()))
        {
            return Err(ConfigError::new(
                "--status-token / PERCH_STATUS_TOKEN",
                format!("must be {MIN_TOKEN} or more printable characters, no spaces"),
            ));
        }
        let interval = parse_interval(interval.trim())
            .filter(|d| (Duration::from_millis(100)..=Duration::from_secs(600)).contains(d))
            .ok_or_else(|| {
                ConfigError::new(
                    "--status-interval / PERCH_STATUS_INTERVAL",
                    format!("{interval:?} is not a time from 100ms to 10m, like 10s"),
                )
            })?;
        Ok(StatusSettings { token, interval })
    }
}

/// `250ms`, `10s`, `1m`.
fn parse_interval(text: &str) -> Option<Duration> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(number)),
        "s" => Some(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_tokens_are_checked() {
        let ok = StatusSettings::parse(None, "10s").unwrap();
        assert_eq!((ok.token, ok.interval), (None, Duration::from_secs(10)));
        let fast = StatusSettings::parse(Some("a-long-admin-token".into()), "250ms").unwrap();
        assert_eq!(fast.interval, Duration::from_millis(250));
        assert_eq!(fast.token.as_deref(), Some("a-long-admin-token"));
        assert!(
            StatusSettings::parse(Some(String::new()), "1m")
                .unwrap()
                .token
                .is_none()
        );
        for bad in ["", "10", "50ms", "11m", "1h", "-1s", "ten s"] {
            assert!(StatusSettings::parse(None, bad).is_err(), "{bad}");
        }
        for bad in ["short", "has a space in it ok", "tab\tinside-the-token"] {
            let err = StatusSettings::parse(Some(bad.into()), "10s").unwrap_err();
            assert!(err.to_string().contains("PERCH_STATUS_TOKEN"), "{bad}");
        }
    }
}
