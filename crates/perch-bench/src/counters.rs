//! The server's own counters, read before and after each measured run so
//! that costs and hit ratios cover that run only.
//!
//! In process, the bench reads the server's state directly: storage calls
//! ([`perch::db::Db::queries`]), cache round trips
//! ([`perch_cache::Cache::round_trips`]), hits and misses per key family and
//! the blacklist checks (apart: a token that is not revoked is not a miss of
//! anything worth caching). Against a running server only the per-family
//! hits and misses of `GET /health` (`cache_families`) are available.

use std::collections::BTreeMap;

use anyhow::Context;

use perch::state::AppState;

/// Hits and misses of one key family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitsMisses {
    /// Lookups that found a value.
    pub hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Storage calls (in process only).
    pub db_queries: Option<u64>,
    /// Cache round trips (in process only).
    pub round_trips: Option<u64>,
    /// Per key family.
    pub families: BTreeMap<String, HitsMisses>,
    /// Blacklist checks: (valid, revoked), in process only.
    pub blacklist: Option<(u64, u64)>,
}

impl Counters {
    /// The in-process server's counters.
    pub fn of_state(state: &AppState) -> Counters {
        let families = state
            .cache
            .stats()
            .into_iter()
            .map(|s| {
                let figures = HitsMisses {
                    hits: s.hits,
                    misses: s.misses,
                };
                (s.family.name().to_string(), figures)
            })
            .collect();
        let blacklist = state.cache.blacklist_stats();
        Counters {
            db_queries: Some(state.db.queries()),
            round_trips: Some(state.cache.round_trips()),
            families,
            blacklist: Some((blacklist.valid, blacklist.revoked)),
        }
    }

    /// A running server's counters, from `GET /health`.
    pub async fn of_remote(client: &reqwest::Client, base: &str) -> anyhow::Result<Counters> {
        let health: serde_json::Value = client
            .get(format!("{base}/health"))
            .send()
            .await
            .context("GET /health")?
            .json()
            .await
            .context("reading GET /health")?;
        let families = health["cache_families"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|f| {
                        let name = f["family"].as_str()?.to_string();
                        let figures = HitsMisses {
                            hits: f["hits"].as_u64().unwrap_or(0),
                            misses: f["misses"].as_u64().unwrap_or(0),
                        };
                        Some((name, figures))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Counters {
            families,
            ..Counters::default()
        })
    }

    /// Adds another process's per-family figures (a remote server's
    /// counters, which carry nothing else).
    pub fn add(&mut self, other: &Counters) {
        for (name, figures) in &other.families {
            let mine = self.families.entry(name.clone()).or_default();
            mine.hits += figures.hits;
            mine.misses += figures.misses;
        }
    }

    /// What happened between `self` (before) and `after`.
    pub fn delta(&self, after: &Counters) -> Counters {
        let sub = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        let families = after
            .families
            .iter()
            .map(|(name, a)| {
                let b = self.families.get(name).copied().unwrap_or_default();
                let figures = HitsMisses {
                    hits: a.hits.saturating_sub(b.hits),
                    misses: a.misses.saturating_sub(b.misses),
                };
                (name.clone(), figures)
            })
            .collect();
        let blacklist = match (self.blacklist, after.blacklist) {
            (Some((v0, r0)), Some((v1, r1))) => {
                Some((v1.saturating_sub(v0), r1.saturating_sub(r0)))
            }
            _ => None,
        };
        Counters {
            db_queries: sub(self.db_queries, after.db_queries),
            round_trips: sub(self.round_trips, after.round_trips),
            families,
            blacklist,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_covers_the_run_only() {
        let mut before = Counters {
            db_queries: Some(10),
            round_trips: Some(100),
            blacklist: Some((5, 0)),
            ..Counters::default()
        };
        before
            .families
            .insert("profile".into(), HitsMisses { hits: 1, misses: 2 });
        let mut after = before.clone();
        after.db_queries = Some(12);
        after.round_trips = Some(150);
        after.blacklist = Some((25, 1));
        after.families.insert(
            "profile".into(),
            HitsMisses {
                hits: 41,
                misses: 3,
            },
        );
        let d = before.delta(&after);
        assert_eq!(d.db_queries, Some(2));
        assert_eq!(d.round_trips, Some(50));
        assert_eq!(d.blacklist, Some((20, 1)));
        assert_eq!(
            d.families["profile"],
            HitsMisses {
                hits: 40,
                misses: 1
            }
        );
    }
}
