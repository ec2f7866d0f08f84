//! The home feed settings: where home timelines are read from, how long an
//! unread feed is kept, and from how many followers an account's posts are
//! merged at read time instead of fanned out.

use std::time::Duration;

use super::ConfigError;
use super::rates::parse_period;

/// Where `GET /api/v1/timelines/home` reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeSource {
    /// Each user's cached feed (`timeline:home:{userId}`), filled on write.
    Cache,
    /// An SQL join over follows on every read (Perch before home feeds; kept
    /// for comparison in `perch bench` and as an operator's way out).
    Sql,
}

/// The home feed settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomeSettings {
    /// Where home timelines are read from.
    pub source: HomeSource,
    /// How long a feed nobody reads is kept (restarted by reads).
    pub ttl: Duration,
    /// Accounts with at least this many followers are merged at read time.
    pub fanout_limit: i64,
}

impl HomeSettings {
    /// The defaults: cached feeds kept 7 days unread (as Mastodon keeps
    /// them), merged from 10,000 followers.
    pub const DEFAULT: HomeSettings = HomeSettings {
        source: HomeSource::Cache,
        ttl: Duration::from_secs(7 * 86_400),
        fanout_limit: 10_000,
    };

    /// Reads the three settings from their texts.
    pub fn parse(source: &str, ttl: &str, fanout_limit: &str) -> Result<HomeSettings, ConfigError> {
        let source = match source.trim().to_ascii_lowercase().as_str() {
            "cache" => HomeSource::Cache,
            "sql" => HomeSource::Sql,
            other => {
                return Err(ConfigError::new(
                    "--home-feed / PERCH_HOME_FEED",
                    format!("{other:?} is neither cache nor sql"),
                ));
            }
        };
        let ttl = parse_period(ttl.trim())
            .filter(|d| (Duration::from_secs(3600)..=Duration::from_secs(90 * 86_400)).contains(d))
            .ok_or_else(|| {
                ConfigError::new(
                    "--home-feed-ttl / PERCH_HOME_FEED_TTL",
                    format!("{ttl:?} is not a period from 1h to 90d, like 7d or 12h"),
                )
            })?;
        let fanout_limit = match fanout_limit.trim().parse::<i64>() {
            Ok(n) if (1..=1_000_000_000).contains(&n) => n,
            _ => {
                return Err(ConfigError::new(
                    "--home-fanout-limit / PERCH_HOME_FANOUT_LIMIT",
                    format!("{fanout_limit:?} is not a whole number from 1 to 1000000000"),
                ));
            }
        };
        Ok(HomeSettings {
            source,
            ttl,
            fanout_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_read_as_documented() {
        assert_eq!(
            HomeSettings::parse("cache", "7d", "10000").ok(),
            Some(HomeSettings::DEFAULT)
        );
        let sql = HomeSettings::parse("SQL", "12h", "5").ok();
        assert_eq!(
            sql,
            Some(HomeSettings {
                source: HomeSource::Sql,
                ttl: Duration::from_secs(12 * 3600),
                fanout_limit: 5,
            })
        );
    }

    #[test]
    fn bad_values_name_their_setting() {
        let cases = [
            (("redis", "7d", "10"), "PERCH_HOME_FEED"),
            (("cache", "7", "10"), "PERCH_HOME_FEED_TTL"),
            (("cache", "30m", "10"), "PERCH_HOME_FEED_TTL"),
            (("cache", "91d", "10"), "PERCH_HOME_FEED_TTL"),
            (("cache", "7d", "0"), "PERCH_HOME_FANOUT_LIMIT"),
            (("cache", "7d", "many"), "PERCH_HOME_FANOUT_LIMIT"),
        ];
        for ((source, ttl, limit), setting) in cases {
            let err = HomeSettings::parse(source, ttl, limit).err();
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(setting), "{source} {ttl} {limit}: {text}");
        }
    }
}
