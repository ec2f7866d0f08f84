//! Federation settings: whether remote fetches may reach private
//! addresses, and which domains are blocked.

use super::ConfigError;
use crate::federation::address::DomainBlocks;

/// How Perch talks to other servers.
#[derive(Debug, Clone, Default)]
pub struct FederationSettings {
    /// Whether remote fetches may reach private, loopback and link-local
    /// addresses (tests, private networks); off by default.
    pub allow_private: bool,
    /// Domains (and their subdomains) nothing is fetched from or taken
    /// from.
    pub blocked: DomainBlocks,
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
