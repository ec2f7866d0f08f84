//! Health figures and the memory-policy check.
//!
//! The seed wants memory bounded at 1 GB with `allkeys-lru` eviction. Those
//! are server settings (the seed put them in the client options, where they do
//! nothing), so Perch reads them at start-up, reports them in `/health`, warns
//! when they differ from the design, and sets them only when allowed to.

use std::collections::HashMap;
use std::time::Duration;

/// The memory bound and eviction policy of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryPolicy {
    /// The memory bound in bytes (`0`: unbounded, Redis' default).
    pub maxmemory: u64,
    /// The eviction policy (`allkeys-lru`, `noeviction`, ...).
    pub policy: String,
}

impl MemoryPolicy {
    /// The design's memory bound: 1 GB (Redis reads `1gb` as 2^30 bytes).
    pub const DESIGN_MAXMEMORY: u64 = 1 << 30;
    /// The design's eviction policy.
    pub const DESIGN_POLICY: &'static str = "allkeys-lru";

    /// The design's policy: 1 GB, `allkeys-lru`.
    pub fn design() -> Self {
        MemoryPolicy {
            maxmemory: Self::DESIGN_MAXMEMORY,
            policy: Self::DESIGN_POLICY.to_owned(),
        }
    }
}

/// The result of [`crate::Cache::check_memory_policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCheck {
    /// What the store had when checked.
    pub found: MemoryPolicy,
    /// What the design asks for.
    pub expected: MemoryPolicy,
    /// Whether they were equal.
    pub matches: bool,
    /// Whether the design's policy was written to the store.
    pub applied: bool,
}

/// The health of a store, as `/health` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The store (`redis`, `redis-cluster`, `memory`).
    pub backend: &'static str,
    /// The round-trip time of a `PING` (a lookup for the in-process store).
    pub ping: Duration,
    /// Memory in use, in bytes (`used_memory`; the weighed size in-process).
    pub used_memory: u64,
    /// The memory bound in bytes (`maxmemory`, `0` when unbounded).
    pub maxmemory: u64,
    /// The eviction policy (`maxmemory_policy`).
    pub maxmemory_policy: String,
    /// Connected clients (`connected_clients`); `None` in-process.
    pub connected_clients: Option<u64>,
    /// Lookups that found a key, server-wide (`keyspace_hits`).
    pub keyspace_hits: u64,
    /// Lookups that missed, server-wide (`keyspace_misses`).
    pub keyspace_misses: u64,
    /// Keys held (the in-process entry count; `None` on Redis).
    pub entries: Option<u64>,
}

impl HealthReport {
    /// Memory in use as a fraction of the bound (`None` when unbounded). The
    /// seed alerts above 0.8.
    pub fn memory_ratio(&self) -> Option<f64> {
        (self.maxmemory > 0).then(|| self.used_memory as f64 / self.maxmemory as f64)
    }
}

/// The `field:value` lines of a Redis `INFO` reply.
#[derive(Debug, Default)]
pub(crate) struct Info(HashMap<String, String>);

impl Info {
    /// Parses an `INFO` reply; section headers and blank lines are skipped.
    pub(crate) fn parse(text: &str) -> Self {
        let fields = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.trim().split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Info(fields)
    }

    /// Merges the `INFO` of every node of a Cluster: memory, clients and
    /// keyspace figures add up (the cluster's total, which is what the
    /// design's 1 GB bounds); the policy is the nodes' common one, or
    /// `mixed`.
    pub(crate) fn merge(mut nodes: Vec<Info>) -> Self {
        if nodes.len() == 1 {
            return nodes.pop().unwrap_or_default();
        }
        let mut merged = HashMap::new();
        for field in [
            "used_memory",
            "maxmemory",
            "connected_clients",
            "keyspace_hits",
            "keyspace_misses",
        ] {
            let sum: u64 = nodes.iter().map(|n| n.number(field)).sum();
            merged.insert(field.to_owned(), sum.to_string());
        }
        let mut policies: Vec<&str> = nodes
            .iter()
            .filter_map(|n| n.text("maxmemory_policy"))
            .collect();
        policies.dedup();
        let policy = match policies.as_slice() {
            [one] => (*one).to_owned(),
            _ => "mixed".to_owned(),
        };
        merged.insert("maxmemory_policy".to_owned(), policy);
        Info(merged)
    }

    /// A text field.
    pub(crate) fn text(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// A numeric field; `0` when absent or not a number.
    pub(crate) fn number(&self, field: &str) -> u64 {
        self.text(field)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }

    /// The memory bound and policy as `INFO memory` reports them.
    pub(crate) fn memory_policy(&self) -> MemoryPolicy {
        MemoryPolicy {
            maxmemory: self.number("maxmemory"),
            policy: self.text("maxmemory_policy").unwrap_or("").to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fields_of_info() {
        let info = Info::parse(
            "# Memory\r\nused_memory:1048576\r\nmaxmemory:1073741824\r\n\
             maxmemory_policy:allkeys-lru\r\n\r\n# Clients\r\nconnected_clients:7\r\n",
        );
        assert_eq!(info.number("used_memory"), 1_048_576);
        assert_eq!(info.number("connected_clients"), 7);
        assert_eq!(info.memory_policy(), MemoryPolicy::design());
        assert_eq!(info.number("absent"), 0);
    }

    #[test]
    fn a_clusters_nodes_add_up() {
        let node = |mem: u64, policy: &str| {
            Info::parse(&format!(
                "used_memory:{mem}\r\nmaxmemory:100\r\nmaxmemory_policy:{policy}\r\nconnected_clients:2\r\n"
            ))
        };
        let merged = Info::merge(vec![node(10, "allkeys-lru"), node(30, "allkeys-lru")]);
        assert_eq!(merged.number("used_memory"), 40);
        assert_eq!(merged.number("maxmemory"), 200);
        assert_eq!(merged.number("connected_clients"), 4);
        assert_eq!(merged.text("maxmemory_policy"), Some("allkeys-lru"));
        let mixed = Info::merge(vec![node(1, "allkeys-lru"), node(1, "noeviction")]);
        assert_eq!(mixed.text("maxmemory_policy"), Some("mixed"));
    }
}
