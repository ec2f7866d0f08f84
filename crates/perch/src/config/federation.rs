//! Federation settings: whether remote fetches may reach private
//! addresses, and which domains are blocked.

use std::time::Duration;

use super::ConfigError;
use crate::federation::address::DomainBlocks;

/// The unit of the delivery queue's waits between tries (see
/// `federation::deliver::BACKOFF`): 30 s, which makes the last try more
/// than a day after the first.
pub const RETRY_UNIT: Duration = Duration::from_secs(30);

/// How Perch talks to other servers.
#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// Whether remote fetches may reach private, loopback and link-local
    /// addresses (tests, private networks); off by default.
    pub allow_private: bool,
    /// Domains (and their subdomains) nothing is fetched from or taken
    /// from.
    pub blocked: DomainBlocks,
    /// The unit of the waits between delivery tries ([`RETRY_UNIT`]; tests
    /// shorten it, there is no flag).
    pub retry_unit: Duration,
}

impl Default for FederationSettings {
    fn default() -> FederationSettings {
        FederationSettings {
            allow_private: false,
            blocked: DomainBlocks::default(),
            retry_unit: RETRY_UNIT,
        }
    }
}

impl FederationSettings {
    /// Validates `--federation-allow-private` and
    /// `--federation-blocked-domains`.
    pub fn parse(allow_private: &str, blocked: &str) -> Result<FederationSettings, ConfigError> {
        let allow_private = match allow_private.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            other => {
                return Err(ConfigError::new(
                    "--federation-allow-private / PERCH_FEDERATION_ALLOW_PRIVATE",
                    format!("{other:?} is not true or false"),
                ));
            }
        };
        let blocked = DomainBlocks::parse(blocked).map_err(|reason| {
            ConfigError::new(
                "--federation-blocked-domains / PERCH_FEDERATION_BLOCKED_DOMAINS",
                reason,
            )
        })?;
        Ok(FederationSettings {
            allow_private,
            blocked,
            retry_unit: RETRY_UNIT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_checked() {
        let s = FederationSettings::parse("false", "").unwrap();
        assert!(!s.allow_private && s.blocked.is_empty());
        let s = FederationSettings::parse("true", "spam.example").unwrap();
        assert!(s.allow_private && s.blocked.blocks("a.spam.example"));
        let err = FederationSettings::parse("maybe", "").unwrap_err();
        assert!(err.to_string().contains("PERCH_FEDERATION_ALLOW_PRIVATE"));
        let err = FederationSettings::parse("false", "not a domain").unwrap_err();
        assert!(err.to_string().contains("PERCH_FEDERATION_BLOCKED_DOMAINS"));
    }
}
