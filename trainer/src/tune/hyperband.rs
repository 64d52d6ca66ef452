//! Hyperband's brackets (Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to
//! Hyperparameter Optimization", JMLR, Algorithm 1) and the successive-halving rule inside
//! each bracket.
//!
//! With a maximum budget R and a halving rate η: s_max = ⌊log_η R⌋; bracket s (from s_max down
//! to 0) starts n = ⌈(s_max + 1)/(s + 1) · η^s⌉ configurations at budget r = R·η^(−s), and rung i
//! runs n_i = ⌊n·η^(−i)⌋ of them at budget r_i = r·η^i, keeping the best ⌊n_i/η⌋ for the next.
//! Budgets are epochs: r_i is rounded to the nearest whole epoch (exact when R is a power of η).

use serde::{Deserialize, Serialize};

/// One rung of a bracket: how many configurations run, and to how many epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Configurations evaluated in this rung (n_i).
    pub configs: usize,
    /// The epochs each has been trained for when it is scored (r_i).
    pub epochs: usize,
}

/// One bracket of successive halving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bracket {
    /// The bracket's index s (s_max is the most aggressive, 0 plain full-budget runs).
    pub s: usize,
    /// Its rungs, from the first (most configurations, least budget) to the last.
    pub rungs: Vec<Rung>,
}

impl Bracket {
    /// The epochs this bracket trains when every trial continues from its previous rung:
    /// Σ_i n_i · (r_i − r_(i−1)).
    pub fn cost(&self) -> usize {
        let mut before = 0;
        self.rungs
            .iter()
            .map(|r| {
                let c = r.configs * (r.epochs - before);
                before = r.epochs;
                c
            })
            .sum()
    }
}

/// s_max = ⌊log_η R⌋, in integers (the largest s with η^s ≤ R).
pub fn s_max(max_epochs: usize, eta: usize) -> usize {
    let mut s = 0;
    let mut power = eta;
    while power <= max_epochs {
        s += 1;
        power = match power.checked_mul(eta) {
            Some(p) => p,
            None => break,
        };
    }
    s
}

/// The s_max + 1 brackets of one Hyperband iteration for maximum budget `max_epochs` (R ≥ 1)
/// and halving rate `eta` (η ≥ 2), most aggressive first.
pub fn brackets(max_epochs: usize, eta: usize) -> Vec<Bracket> {
    let s_max = s_max(max_epochs, eta);
    (0..=s_max)
        .rev()
        .map(|s| {
            let eta_s = eta.pow(s as u32);
            let n = ((s_max + 1) * eta_s).div_ceil(s + 1);
            let rungs = (0..=s)
                .map(|i| {
                    let configs = n / eta.pow(i as u32);
                    let divisor = eta.pow((s - i) as u32) as f64;
                    let epochs = ((max_epochs as f64 / divisor).round() as usize).max(1);
                    Rung { configs, epochs }
                })
                .collect();
            Bracket { s, rungs }
        })
        .collect()
}

/// The brackets a search of `count` brackets runs: Hyperband's iteration repeated, s_max down
/// to 0 and again.
pub fn plan(max_epochs: usize, eta: usize, count: usize) -> Vec<Bracket> {
    brackets(max_epochs, eta)
        .into_iter()
        .cycle()
        .take(count)
        .collect()
}

/// The number of brackets whose planned epochs fit in `total` (at least the first must).
pub fn brackets_within(max_epochs: usize, eta: usize, total: usize) -> Option<usize> {
    let one = brackets(max_epochs, eta);
    let mut spent = 0;
    let mut count = 0;
    for b in one.iter().cycle() {
        if spent + b.cost() > total {
            break;
        }
        spent += b.cost();
        count += 1;
    }
    (count > 0).then_some(count)
}

/// Successive halving's selection: the indices (into `scores`) of the best `keep` finite scores,
/// best first, ties to the lower index. A failed (`None`) or non-finite score never survives.
pub fn survivors(scores: &[Option<f64>], keep: usize) -> Vec<usize> {
    let mut ranked: Vec<(usize, f64)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(keep).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Li et al. 2018, Table 1: R = 81, η = 3, (n_i, r_i) for every bracket s.
    #[test]
    fn brackets_are_the_papers_table_1() {
        let table: [(usize, &[(usize, usize)]); 5] = [
            (4, &[(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]),
            (3, &[(34, 3), (11, 9), (3, 27), (1, 81)]),
            (2, &[(15, 9), (5, 27), (1, 81)]),
            (1, &[(8, 27), (2, 81)]),
            (0, &[(5, 81)]),
        ];
        let got = brackets(81, 3);
        assert_eq!(got.len(), table.len());
        for (b, (s, rungs)) in got.iter().zip(table) {
            assert_eq!(b.s, s);
            let pairs: Vec<(usize, usize)> =
                b.rungs.iter().map(|r| (r.configs, r.epochs)).collect();
            assert_eq!(pairs, rungs, "bracket s = {s}");
        }
        // Each rung keeps ⌊n_i/η⌋, which is the next rung's n_i.
        for b in &got {
            for w in b.rungs.windows(2) {
                assert_eq!(w[1].configs, w[0].configs / 3);
            }
        }
    }

    #[test]
    fn s_max_costs_and_budget_plans() {
        assert_eq!(s_max(81, 3), 4);
        assert_eq!(s_max(80, 3), 3);
        assert_eq!(s_max(1, 3), 0);
        assert_eq!(s_max(27, 3), 3);
        // R = 9, η = 3: (9 @ 1, 3 @ 3, 1 @ 9), (5 @ 3, 1 @ 9), (3 @ 9).
        let b = brackets(9, 3);
        let costs: Vec<usize> = b.iter().map(Bracket::cost).collect();
        assert_eq!(costs, [9 + 3 * 2 + 6, 5 * 3 + 6, 3 * 9]);
        assert_eq!(brackets_within(9, 3, 20), None);
        assert_eq!(brackets_within(9, 3, 21), Some(1));
        assert_eq!(brackets_within(9, 3, 69), Some(3));
        assert_eq!(brackets_within(9, 3, 69 + 21), Some(4));
        let p = plan(9, 3, 5);
        assert_eq!(p.iter().map(|b| b.s).collect::<Vec<_>>(), [2, 1, 0, 2, 1]);
        // A budget that is not a power of η rounds to whole epochs, increasing.
        let b = brackets(10, 3);
        let epochs: Vec<usize> = b[0].rungs.iter().map(|r| r.epochs).collect();
        assert_eq!(epochs, [1, 3, 10]);
    }

    #[test]
    fn successive_halving_keeps_the_best() {
        let scores = [
            Some(0.5),
            None,
            Some(0.1),
            Some(f64::NAN),
            Some(0.3),
            Some(0.1),
            Some(0.9),
        ];
        assert_eq!(survivors(&scores, 2), [2, 5]);
        assert_eq!(survivors(&scores, 3), [2, 5, 4]);
        // Failed trials never survive, even when fewer than `keep` finished.
        assert_eq!(survivors(&scores, 10), [2, 5, 4, 0, 6]);
        assert!(survivors(&[None, None], 1).is_empty());
    }
}
