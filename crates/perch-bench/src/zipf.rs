//! Zipf-distributed choices: rank `k` (0-based) is drawn with probability
//! proportional to `1 / (k + 1)^s`.
//!
//! Hand-rolled rather than taken from `rand_distr`: the bench draws from a
//! few fixed populations (accounts, statuses) many times, and a table of the
//! cumulative distribution searched by bisection is exact, needs no
//! rejection loop, and costs `O(log n)` per draw.

use rand::RngExt;

/// A Zipf distribution over `0..n`.
#[derive(Debug, Clone)]
pub struct Zipf {
    /// `cdf[k]`: the probability of drawing a rank `<= k`; the last is 1.
    cdf: Vec<f64>,
}

impl Zipf {
    /// The distribution over `n` ranks with exponent `s` (the bench uses 1.0).
    /// `n` of zero is treated as one.
    pub fn new(n: usize, s: f64) -> Zipf {
        let n = n.max(1);
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for k in 1..=n {
            total += 1.0 / (k as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }

    /// Draws a rank in `0..n`.
    pub fn sample<R: RngExt + ?Sized>(&self, rng: &mut R) -> usize {
        let u: f64 = rng.random();
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }

    /// The probability of rank `k`.
    pub fn probability(&self, k: usize) -> f64 {
        match k {
            0 => self.cdf[0],
            k if k < self.cdf.len() => self.cdf[k] - self.cdf[k - 1],
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn the_first_ranks_dominate_as_zipf_says() {
        let zipf = Zipf::new(1000, 1.0);
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts = vec![0u32; 1000];
        let draws = 200_000;
        for _ in 0..draws {
            counts[zipf.sample(&mut rng)] += 1;
        }
        // H(1000) is about 7.485: rank 0 has p = 0.1336, rank 1 half that.
        let p0 = f64::from(counts[0]) / f64::from(draws);
        assert!((p0 - 0.1336).abs() < 0.005, "{p0}");
        let ratio = f64::from(counts[0]) / f64::from(counts[1]);
        assert!((ratio - 2.0).abs() < 0.1, "{ratio}");
        assert!((zipf.probability(0) - 0.1336).abs() < 0.001);
        assert!(counts.iter().all(|&c| c < draws));
    }

    #[test]
    fn one_rank_is_always_drawn() {
        let zipf = Zipf::new(0, 1.0);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(zipf.sample(&mut rng), 0);
    }
}
