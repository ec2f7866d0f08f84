//! `--trusted-proxies`: the peers whose `X-Forwarded-For` / `Forwarded`
//! headers Perch believes, and the client address those headers give.
//!
//! Behind a load balancer every connection comes from the balancer, so the
//! per-address rate limits would lump all clients together; but a header
//! anyone can send must not let a client pick its own address. So the
//! headers are read only when the peer is trusted, and from the right (the
//! hop nearest Perch): each trusted hop is skipped, and the first address
//! that is not trusted is the client's.

use std::net::IpAddr;

use axum::http::HeaderMap;

use super::ConfigError;

/// An address block, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a
/// block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the block (IPv4-mapped IPv6 addresses count as
    /// their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let bits = |a: IpAddr| match a {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, true),
            IpAddr::V6(v6) => (u128::from(v6), false),
        };
        let ((net, net_v4), (host, host_v4)) = (bits(self.addr), bits(ip));
        if net_v4 != host_v4 {
            return false;
        }
        // IPv4 sits in the top 32 bits, so a prefix counts from the top
        // either way.
        let width = u32::from(self.prefix);
        let mask = if width == 0 {
            0
        } else {
            u128::MAX << (128 - width)
        };
        net & mask == host & mask
    }
}

/// The trusted proxies (none by default: the peer is the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma-separated list of blocks.
    pub fn parse(text: &str) -> Result<TrustedProxies, ConfigError> {
        let setting = "--trusted-proxies / PERCH_TRUSTED_PROXIES";
        let mut blocks = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let block = Cidr::parse(part).ok_or_else(|| {
                ConfigError::new(
                    setting,
                    format!("{part:?} is not an address or block like 10.0.0.0/8"),
                )
            })?;
            blocks.push(block);
        }
        Ok(TrustedProxies(blocks))
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        // Nearest hop first; an entry that does not parse ends the walk (a
        // trusted proxy wrote everything to its right, not it).
        for hop in hops.iter().rev() {
            let Some(ip) = hop else { break };
            client = *ip;
            if !self.trusts(*ip) {
                break;
            }
        }
        client
    }
}

/// The addresses a request passed through, farthest first: from
/// `Forwarded` (RFC 7239) if present, else `X-Forwarded-For`. `None` marks
/// an entry that is not an address (`unknown`, an obfuscated name).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.eq_ignore_ascii_case("for").then(|| node(v))
                })?
            })
            .collect();
    }
    values("x-forwarded-for").iter().map(|v| node(v)).collect()
}

/// An address from `1.2.3.4`, `"[2001:db8::1]:443"` or `1.2.3.4:80`.
fn node(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_matches('"');
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = t.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn blocks_contain_what_they_should() {
        let b = Cidr::parse("10.0.0.0/8").expect("block");
        assert!(b.contains(ip("10.1.2.3")) && !b.contains(ip("11.0.0.1")));
        assert!(b.contains(ip("::ffff:10.9.9.9")));
        let v6 = Cidr::parse("2001:db8::/32").expect("block");
        assert!(v6.contains(ip("2001:db8::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        assert!(
            Cidr::parse("127.0.0.1")
                .expect("one")
                .contains(ip("127.0.0.1"))
        );
        for bad in ["10.0.0.0/33", "nope", "1.2.3.4/x", "::/129"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_trusted_peers_are_believed_and_the_nearest_untrusted_hop_wins() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").expect("parse");
        let xff = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        // A client that lies in the leftmost entry does not get its way.
        assert_eq!(trusted.client(ip("127.0.0.1"), &xff), ip("203.0.113.7"));
        // From an untrusted peer the header means nothing.
        assert_eq!(trusted.client(ip("198.51.100.1"), &xff), ip("198.51.100.1"));
        let fwd = headers(&[(
            "forwarded",
            "for=\"[2001:db8::5]:443\";proto=https, for=10.0.0.3",
        )]);
        assert_eq!(trusted.client(ip("10.0.0.9"), &fwd), ip("2001:db8::5"));
        let unknown = headers(&[("x-forwarded-for", "unknown, 10.0.0.4")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &unknown), ip("10.0.0.4"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &xff),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/8, banana").is_err());
    }
}
