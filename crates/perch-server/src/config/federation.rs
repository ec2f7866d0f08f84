//! Federation settings: whether remote fetches may reach private
//! addresses, and which domains are blocked.

use std::time::Duration;

use super::ConfigError;

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

/// The domains no request goes to or is taken from
/// (`--federation-blocked-domains`): each blocks itself and its
/// subdomains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainBlocks(Vec<String>);

impl DomainBlocks {
    /// Reads a comma-separated list of domain names; `Err` names an entry
    /// that is not one.
    pub fn parse(text: &str) -> Result<DomainBlocks, String> {
        let mut domains = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let domain = entry.trim_end_matches('.').to_ascii_lowercase();
            let valid = domain.len() <= 253
                && domain.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !valid {
                return Err(format!("{entry:?} is not a domain name"));
            }
            domains.push(domain);
        }
        Ok(DomainBlocks(domains))
    }

    /// Whether `host` is a blocked domain or under one.
    pub fn blocks(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|d| {
            host == *d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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

    #[test]
    fn a_blocked_domain_blocks_its_subdomains_and_no_other() {
        let blocks = DomainBlocks::parse(" spam.example, Bad.Example. ,").unwrap();
        assert!(blocks.blocks("spam.example"));
        assert!(blocks.blocks("a.b.spam.example"));
        assert!(blocks.blocks("BAD.example."));
        assert!(!blocks.blocks("notspam.example"));
        assert!(!blocks.blocks("spam.example.org"));
        assert!(!blocks.blocks("example"));
        assert!(DomainBlocks::parse("").unwrap().is_empty());
        for bad in [
            "http://spam.example",
            "sp am.example",
            "-x.example",
            "a..b",
            "x_y.example",
        ] {
            assert!(DomainBlocks::parse(bad).is_err(), "{bad}");
        }
    }
}
