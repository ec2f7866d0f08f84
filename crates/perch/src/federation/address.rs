//! Which remote addresses and domains Perch may talk to when it fetches or
//! delivers (issue 23's safety rules): never a private, loopback,
//! link-local or otherwise non-public address, unless the operator allows
//! it (tests and private networks), and never a blocked domain or any of
//! its subdomains.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is not a public unicast address: loopback, private
/// (RFC 1918, unique-local), link-local, shared (CGNAT), unspecified,
/// broadcast, multicast, documentation, benchmarking or reserved space; an
/// IPv4 address inside IPv6 (mapped or NAT64-less compatible) is judged as
/// IPv4.
pub fn non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => non_public_v4(v4),
            None => non_public_v6(v6),
        },
    }
}

fn non_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10, shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24, protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // 198.18.0.0/15, benchmarking.
        || (a == 198 && (b == 18 || b == 19))
        // 240.0.0.0/4, reserved.
        || a >= 240
}

fn non_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7, unique local.
        || (first & 0xfe00) == 0xfc00
        // fe80::/10, link-local.
        || (first & 0xffc0) == 0xfe80
        // 2001:db8::/32, documentation.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // ::/96 (IPv4-compatible, deprecated) and 64:ff9b:1::/48 (local NAT64).
        || ip.segments()[..6].iter().all(|s| *s == 0)
        || (first == 0x0064 && ip.segments()[1] == 0xff9b && ip.segments()[2] == 1)
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
    fn only_public_unicast_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b:1::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(non_public(ip), "{ip} passed for public");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "198.17.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!non_public(ip), "{ip} refused as not public");
        }
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
