//! AdaBelief as adabelief-pytorch 0.2.0 runs with the reference's settings
//! (`weight_decouple=False`, `rectify=False`, `amsgrad=False`; docs/reference-code.md,
//! "Optimisers and learning-rate schedule").

use candle_core::backprop::GradStore;

use super::slots::{Slot, Slots, VarGroup};
use super::{Hyper, OptimError, Optimizer};

/// AdaBelief: per variable p with gradient g at its step k,
///
/// ```text
/// g += lambda p                       (coupled L2)
/// m  = b1 m + (1 - b1) g
/// s  = b2 s + (1 - b2) (g - m)^2
/// s += eps                            (in place: eps accumulates in the state)
/// p -= lr / (1 - b1^k) * m / (sqrt(s) / sqrt(1 - b2^k) + eps)
/// ```
pub struct AdaBelief {
    hyper: Hyper,
    slots: Slots,
}

impl AdaBelief {
    /// An optimiser over `groups` with zero moments.
    pub fn new(groups: Vec<VarGroup>, hyper: Hyper) -> Result<AdaBelief, OptimError> {
        Ok(AdaBelief {
            hyper,
            slots: Slots::new(groups)?,
        })
    }
}

impl Optimizer for AdaBelief {
    fn step(&mut self, grads: &GradStore) -> Result<(), OptimError> {
        let hyper = self.hyper;
        let Hyper {
            beta1, beta2, eps, ..
        } = hyper;
        self.slots.for_each(grads, |u| {
            let m = (u.slot.first.affine(beta1, 0.0)? + u.grad.affine(1.0 - beta1, 0.0)?)?;
            let belief = (&u.grad - &m)?.sqr()?.affine(1.0 - beta2, 0.0)?;
            let s = (u.slot.second.affine(beta2, 0.0)? + belief)?.affine(1.0, eps)?;
            u.apply(&hyper, m, s)
        })
    }

    fn learning_rate(&self) -> f64 {
        self.hyper.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.hyper.lr = lr;
    }

    fn set_weight_decay(&mut self, group: usize, weight_decay: f64) {
        self.slots.set_weight_decay(group, weight_decay);
    }

    fn state(&self) -> Vec<Slot> {
        self.slots.state()
    }

    fn load_state(&mut self, state: Vec<Slot>) -> Result<(), OptimError> {
        self.slots.load_state(state)
    }
}
