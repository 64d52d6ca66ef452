//! ReduceLROnPlateau as PyTorch implements it, in the reference's configuration
//! (docs/reference-code.md, "Optimisers and learning-rate schedule": mode min, factor 0.95,
//! patience 100 epochs of steps, relative threshold 1e-4, cooldown 1, stepped every batch with
//! that batch's loss, on the synthesis optimiser only).

use serde::{Deserialize, Serialize};

/// Multiplies the learning rate by `factor` once the metric has not improved by a relative
/// `threshold` for more than `patience` steps; then waits `cooldown` steps before counting again.
///
/// Serialisable so that a checkpoint resumes the schedule exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    /// Factor applied to the learning rate on a plateau.
    pub factor: f64,
    /// Number of non-improving steps tolerated; the reduction happens on the next one.
    pub patience: u64,
    /// Relative improvement needed: better means `metric < best * (1 - threshold)`.
    pub threshold: f64,
    /// Steps after a reduction during which bad steps are not counted.
    pub cooldown: u64,
    /// Lower bound of the learning rate.
    pub min_lr: f64,
    /// Reductions smaller than this are skipped (PyTorch's `eps`, 1e-8).
    pub eps: f64,
    /// Best metric seen (`None` before the first step: PyTorch's +inf).
    best: Option<f64>,
    /// Consecutive non-improving steps.
    bad_steps: u64,
    /// Cooldown steps left.
    cooldown_left: u64,
}

impl ReduceLrOnPlateau {
    /// A schedule with PyTorch's defaults for the rest (threshold 1e-4 relative, min_lr 0,
    /// eps 1e-8).
    pub fn new(factor: f64, patience: u64, cooldown: u64) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau {
            factor,
            patience,
            threshold: 1e-4,
            cooldown,
            min_lr: 0.0,
            eps: 1e-8,
            best: None,
            bad_steps: 0,
            cooldown_left: 0,
        }
    }

    /// The reference's schedule for `steps_per_epoch` batches per epoch: factor 0.95,
    /// patience `100 * steps_per_epoch` steps, cooldown 1.
    pub fn reference(steps_per_epoch: u64) -> ReduceLrOnPlateau {
        ReduceLrOnPlateau::new(0.95, 100 * steps_per_epoch, 1)
    }

    /// Records `metric` and returns the learning rate to use from now on, given the current
    /// `lr`. A NaN metric counts as not improving.
    pub fn step(&mut self, metric: f64, lr: f64) -> f64 {
        let better = match self.best {
            None => !metric.is_nan(),
            Some(best) => metric < best * (1.0 - self.threshold),
        };
        if better {
            self.best = Some(metric);
            self.bad_steps = 0;
        } else {
            self.bad_steps += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_steps = 0;
        }
        if self.bad_steps > self.patience {
            self.cooldown_left = self.cooldown;
            self.bad_steps = 0;
            let reduced = (lr * self.factor).max(self.min_lr);
            if lr - reduced > self.eps {
                return reduced;
            }
        }
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_after_patience_and_waits_for_cooldown() {
        let mut s = ReduceLrOnPlateau::new(0.5, 2, 1);
        s.eps = 0.0;
        let mut lr = 1.0;
        // step: metric -> lr after the step (hand-traced against PyTorch's algorithm)
        let trace = [
            (10.0, 1.0),   // best 10
            (10.0, 1.0),   // bad 1
            (9.9995, 1.0), // 0.005% better is below the 1e-4 threshold: bad 2
            (10.0, 0.5),   // bad 3 > 2: reduce, cooldown 1
            (11.0, 0.5),   // cooldown: bad reset to 0
            (11.0, 0.5),   // bad 1
            (5.0, 0.5),    // best 5
            (6.0, 0.5),    // bad 1
            (6.0, 0.5),    // bad 2
            (6.0, 0.25),   // bad 3: reduce
        ];
        for (i, (metric, want)) in trace.into_iter().enumerate() {
            lr = s.step(metric, lr);
            assert_eq!(lr, want, "step {i}");
        }
    }

    #[test]
    fn tiny_reductions_are_skipped_and_state_round_trips() {
        let mut s = ReduceLrOnPlateau::new(0.95, 0, 0);
        assert_eq!(s.step(1.0, 1e-7), 1e-7);
        // 1e-7 * 0.05 = 5e-9 < eps 1e-8: PyTorch keeps the rate.
        assert_eq!(s.step(2.0, 1e-7), 1e-7);
        let reference = ReduceLrOnPlateau::reference(8);
        assert_eq!(reference.patience, 800);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ReduceLrOnPlateau>(&json).unwrap(), s);
    }
}
