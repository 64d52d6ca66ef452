//! The Bayesian half of BOHB (Falkner et al. 2018, "BOHB: Robust and Efficient Hyperparameter
//! Optimization at Scale"): a Tree-structured Parzen Estimator (Bergstra et al. 2011,
//! "Algorithms for Hyper-Parameter Optimization") over the unit cube, where each dimension is
//! a searched range on a log scale.
//!
//! A proposal is random with probability [`Tpe::random_fraction`] (BOHB: 1/3), and random while
//! no budget has [`Tpe::min_observations`] results (BOHB: d + 1). Otherwise the model is
//! fitted on the results of the largest budget that has enough: they are sorted by score, the
//! best ⌈γ·n⌉ (γ = [`Tpe::gamma`], BOHB's 0.15; at least one, finite scores only) form the good
//! set and the rest (failed trials included) the bad set. Each set gives a Parzen density
//! ([`Parzen`]): l(x) from the good, g(x) from the bad. [`Tpe::candidates`] points (BOHB: 64)
//! are drawn from l and the one with the largest l(x)/g(x) is proposed.

use std::collections::BTreeMap;

use rand::Rng;
use rand_distr::StandardNormal;

/// Scott's (normal reference) rule factor: h = 1.06 · σ · m^(−1/5).
const SCOTT: f64 = 1.06;

/// The smallest bandwidth, as a fraction of a dimension's log range: a single good point (or
/// coinciding ones) still spreads its candidates over ±3 % of the range.
pub const MIN_BANDWIDTH: f64 = 0.03;

/// Φ, the standard normal distribution function, from the complementary error function
/// (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = (x / std::f64::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    // erfc(-x/√2) / 2.
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// A Parzen density on the unit cube `[0, 1]^D`: an equal-weight mixture of one Gaussian
/// product kernel per point (each truncated to the cube and renormalised) and one uniform
/// component, the prior, as Bergstra et al. include it. It integrates to 1 over the cube and is
/// at least 1/(m + 1) everywhere in it, so a ratio of two never divides by zero.
///
/// Bandwidths are per dimension, shared by the kernels: Scott's rule on the points' standard
/// deviation in that dimension, h = 1.06 · σ · m^(−1/5), kept within [[`MIN_BANDWIDTH`], 1].
#[derive(Debug, Clone)]
pub struct Parzen<const D: usize> {
    points: Vec<[f64; D]>,
    bandwidth: [f64; D],
    /// Per point and dimension, the kernel's mass inside [0, 1] (its truncation normaliser).
    mass: Vec<[f64; D]>,
}

impl<const D: usize> Parzen<D> {
    /// The density of `points` (coordinates in [0, 1]; none gives the uniform density).
    pub fn fit(points: Vec<[f64; D]>) -> Self {
        let m = points.len();
        let mut bandwidth = [1.0; D];
        if m > 0 {
            for (d, h) in bandwidth.iter_mut().enumerate() {
                let mean = points.iter().map(|p| p[d]).sum::<f64>() / m as f64;
                let var = points.iter().map(|p| (p[d] - mean).powi(2)).sum::<f64>() / m as f64;
                *h = (SCOTT * var.sqrt() * (m as f64).powf(-0.2)).clamp(MIN_BANDWIDTH, 1.0);
            }
        }
        let mass = points
            .iter()
            .map(|p| {
                std::array::from_fn(|d| {
                    let h = bandwidth[d];
                    normal_cdf((1.0 - p[d]) / h) - normal_cdf(-p[d] / h)
                })
            })
            .collect();
        Self {
            points,
            bandwidth,
            mass,
        }
    }

    /// The bandwidth of each dimension.
    pub fn bandwidth(&self) -> [f64; D] {
        self.bandwidth
    }

    /// The density at `x` (0 outside the cube).
    pub fn density(&self, x: &[f64; D]) -> f64 {
        if x.iter().any(|v| !(0.0..=1.0).contains(v)) {
            return 0.0;
        }
        let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        let kernels: f64 = self
            .points
            .iter()
            .zip(&self.mass)
            .map(|(p, mass)| {
                (0..D)
                    .map(|d| {
                        let h = self.bandwidth[d];
                        let z = (x[d] - p[d]) / h;
                        norm * (-0.5 * z * z).exp() / (h * mass[d])
                    })
                    .product::<f64>()
            })
            .sum();
        (1.0 + kernels) / (self.points.len() + 1) as f64
    }

    /// A draw from the density: a component chosen uniformly (the prior or a point's kernel),
    /// then each coordinate from it. A kernel's truncated normal is drawn by rejection; its
    /// centre lies in [0, 1] and its width is at most 1, so at least a third of the draws land.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> [f64; D] {
        let k = rng.random_range(0..=self.points.len());
        let Some(p) = self.points.get(k) else {
            return std::array::from_fn(|_| rng.random::<f64>());
        };
        std::array::from_fn(|d| loop {
            let z: f64 = rng.sample(StandardNormal);
            let x = p[d] + self.bandwidth[d] * z;
            if (0.0..=1.0).contains(&x) {
                break x;
            }
        })
    }
}

/// One result the surrogate learns from: a point of the unit cube and its score (lower is
/// better; `None` for a failed trial).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation<const D: usize> {
    /// The configuration, in unit-cube coordinates.
    pub x: [f64; D],
    /// Its score at the observation's budget.
    pub score: Option<f64>,
}

/// A proposed point and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proposal<const D: usize> {
    /// The point, in unit-cube coordinates.
    pub x: [f64; D],
    /// The budget whose results the model was fitted on; `None` for a random draw.
    pub model_budget: Option<usize>,
}

/// The TPE proposal rule with its constants (BOHB's defaults: [`Tpe::default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tpe {
    /// The quantile that splits good from bad results.
    pub gamma: f64,
    /// The probability that a proposal is drawn uniformly at random even with a model.
    pub random_fraction: f64,
    /// The candidates drawn from l(x) per proposal.
    pub candidates: usize,
}

impl Default for Tpe {
    /// γ = 0.15, a third random, 64 candidates.
    fn default() -> Self {
        Self {
            gamma: 0.15,
            random_fraction: 1.0 / 3.0,
            candidates: 64,
        }
    }
}

impl Tpe {
    /// The results a budget needs before a model is fitted on it: d + 1.
    pub fn min_observations<const D: usize>() -> usize {
        D + 1
    }

    /// The densities l (good) and g (bad) of a budget's results, or `None` when they are
    /// too few or none is finite.
    pub fn densities<const D: usize>(
        &self,
        observations: &[Observation<D>],
    ) -> Option<(Parzen<D>, Parzen<D>)> {
        let n = observations.len();
        let finite = observations
            .iter()
            .filter(|o| o.score.is_some_and(f64::is_finite))
            .count();
        if n < Self::min_observations::<D>() || finite == 0 {
            return None;
        }
        let mut sorted: Vec<&Observation<D>> = observations.iter().collect();
        let key = |o: &Observation<D>| o.score.filter(|s| s.is_finite()).unwrap_or(f64::INFINITY);
        sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
        let good = ((self.gamma * n as f64).ceil() as usize).clamp(1, finite);
        let (l, g) = sorted.split_at(good);
        Some((
            Parzen::fit(l.iter().map(|o| o.x).collect()),
            Parzen::fit(g.iter().map(|o| o.x).collect()),
        ))
    }

    /// The next point to evaluate given every result so far, keyed by budget.
    pub fn propose<const D: usize, R: Rng>(
        &self,
        by_budget: &BTreeMap<usize, Vec<Observation<D>>>,
        rng: &mut R,
    ) -> Proposal<D> {
        let random = |rng: &mut R| Proposal {
            x: std::array::from_fn(|_| rng.random::<f64>()),
            model_budget: None,
        };
        if rng.random::<f64>() < self.random_fraction {
            return random(rng);
        }
        let model = by_budget
            .iter()
            .rev()
            .find_map(|(&budget, obs)| self.densities(obs).map(|m| (budget, m)));
        let Some((budget, (l, g))) = model else {
            return random(rng);
        };
        let mut best = (f64::NEG_INFINITY, [0.0; D]);
        for _ in 0..self.candidates.max(1) {
            let x = l.sample(rng);
            let ratio = l.density(&x) / g.density(&x);
            if ratio > best.0 {
                best = (ratio, x);
            }
        }
        Proposal {
            x: best.1,
            model_budget: Some(budget),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.0) - 0.841_344_746).abs() < 1e-7);
        assert!((normal_cdf(-1.96) - 0.024_997_895).abs() < 1e-7);
        assert!(normal_cdf(-40.0) >= 0.0 && normal_cdf(40.0) <= 1.0);
    }

    #[test]
    fn densities_integrate_to_one_on_the_cube() {
        // 1-D, with kernels cut by both boundaries.
        let p = Parzen::<1>::fit(vec![[0.02], [0.5], [0.55], [0.97]]);
        let n = 20_000;
        let integral: f64 = (0..n)
            .map(|i| p.density(&[(i as f64 + 0.5) / n as f64]) / n as f64)
            .sum();
        assert!((integral - 1.0).abs() < 1e-4, "{integral}");
        // A single point gets the smallest bandwidth and still integrates to 1.
        let one = Parzen::<1>::fit(vec![[0.0]]);
        assert_eq!(one.bandwidth(), [MIN_BANDWIDTH]);
        let integral: f64 = (0..n)
            .map(|i| one.density(&[(i as f64 + 0.5) / n as f64]) / n as f64)
            .sum();
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
        // 2-D.
        let p = Parzen::<2>::fit(vec![[0.1, 0.9], [0.4, 0.35], [0.8, 0.05], [0.45, 0.5]]);
        let n = 500;
        let mut integral = 0.0;
        for i in 0..n {
            for j in 0..n {
                let x = [(i as f64 + 0.5) / n as f64, (j as f64 + 0.5) / n as f64];
                integral += p.density(&x) / (n * n) as f64;
            }
        }
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
        assert_eq!(p.density(&[1.2, 0.5]), 0.0);
        // With no points: the uniform prior.
        assert_eq!(Parzen::<2>::fit(vec![]).density(&[0.3, 0.3]), 1.0);
    }

    fn distance(x: &[f64; 2], to: &[f64; 2]) -> f64 {
        ((x[0] - to[0]).powi(2) + (x[1] - to[1]).powi(2)).sqrt()
    }

    /// On f(x) = |x − (0.3, 0.7)|², model proposals after 30 random results lie much nearer
    /// the minimum than uniform draws (equal in distribution for a random sampler, so a mean
    /// distance under half of the uniform one would fail it).
    #[test]
    fn proposals_concentrate_near_the_minimum() {
        let minimum = [0.3, 0.7];
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let observed: Vec<Observation<2>> = (0..30)
            .map(|_| {
                let x = [rng.random::<f64>(), rng.random::<f64>()];
                Observation {
                    x,
                    score: Some(distance(&x, &minimum).powi(2)),
                }
            })
            .collect();
        let by_budget = BTreeMap::from([(1, observed)]);
        let model_only = Tpe {
            random_fraction: 0.0,
            ..Tpe::default()
        };
        let draws = 200;
        let mut tpe_mean = 0.0;
        let mut random_mean = 0.0;
        for _ in 0..draws {
            let p = model_only.propose(&by_budget, &mut rng);
            assert_eq!(p.model_budget, Some(1));
            tpe_mean += distance(&p.x, &minimum) / draws as f64;
            let u = [rng.random::<f64>(), rng.random::<f64>()];
            random_mean += distance(&u, &minimum) / draws as f64;
        }
        assert!(
            tpe_mean < 0.5 * random_mean,
            "TPE {tpe_mean:.3} vs random {random_mean:.3}"
        );
    }

    /// A whole sequential run in 1-D (a third random, as BOHB): the later proposals are
    /// nearer the minimum of f(x) = (x − 0.8)² than uniform draws.
    #[test]
    fn a_sequential_search_closes_in_on_the_minimum() {
        let tpe = Tpe::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut observed = BTreeMap::<usize, Vec<Observation<1>>>::new();
        let mut late = Vec::new();
        for k in 0..60 {
            let p = tpe.propose(&observed, &mut rng);
            if k < Tpe::min_observations::<1>() {
                assert_eq!(p.model_budget, None);
            }
            let score = (p.x[0] - 0.8).powi(2);
            observed.entry(1).or_default().push(Observation {
                x: p.x,
                score: Some(score),
            });
            if k >= 30 {
                late.push((p.x[0] - 0.8).abs());
            }
        }
        let tpe_mean = late.iter().sum::<f64>() / late.len() as f64;
        // E|U − 0.8| = (0.8² + 0.2²)/2 = 0.34 for uniform U.
        assert!(tpe_mean < 0.2, "{tpe_mean}");
    }

    #[test]
    fn the_model_uses_the_largest_budget_with_enough_results() {
        let obs = |n: usize, score: Option<f64>| -> Vec<Observation<1>> {
            (0..n)
                .map(|i| Observation {
                    x: [i as f64 / n as f64],
                    score,
                })
                .collect()
        };
        let tpe = Tpe {
            random_fraction: 0.0,
            ..Tpe::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut by_budget = BTreeMap::from([(1, obs(9, Some(1.0))), (9, obs(1, Some(0.5)))]);
        assert_eq!(tpe.propose(&by_budget, &mut rng).model_budget, Some(1));
        // In 1-D a model needs 2 results: 3 has too few and 27 no finite one.
        by_budget.insert(3, obs(1, Some(0.5)));
        by_budget.insert(27, obs(4, None));
        assert_eq!(tpe.propose(&by_budget, &mut rng).model_budget, Some(1));
        by_budget.get_mut(&9).unwrap().extend(obs(1, None));
        assert_eq!(tpe.propose(&by_budget, &mut rng).model_budget, Some(9));
        // Too little anywhere: random.
        let few = BTreeMap::from([(1, obs(1, Some(0.1)))]);
        assert_eq!(tpe.propose(&few, &mut rng).model_budget, None);
        // The same seed gives the same proposal.
        let a = tpe.propose(&by_budget, &mut ChaCha8Rng::seed_from_u64(5));
        let b = tpe.propose(&by_budget, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(a, b);
    }
}
