//! Adam as PyTorch's `torch.optim.Adam` (coupled L2 `weight_decay`, no amsgrad), the thesis' grid
//! search alternative (docs/reference-code.md, "The omega search"; the reference code itself has
//! no Adam option).

use candle_core::backprop::GradStore;

use super::slots::{Slot, Slots, VarGroup};
use super::{Hyper, OptimError, Optimizer};

/// Adam: per variable p with gradient g at its step k,
///
/// ```text
/// g += lambda p
/// m  = b1 m + (1 - b1) g
/// v  = b2 v + (1 - b2) g^2
/// p -= lr / (1 - b1^k) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)
/// ```
pub struct Adam {
    hyper: Hyper,
    slots: Slots,
}

impl Adam {
    /// An optimiser over `groups` with zero moments.
    pub fn new(groups: Vec<VarGroup>, hyper: Hyper) -> Result<Adam, OptimError> {
        Ok(Adam {
            hyper,
            slots: Slots::new(groups)?,
        })
    }
}

impl Optimizer for Adam {
    fn step(&mut self, grads: &GradStore) -> Result<(), OptimError> {
        let hyper = self.hyper;
        let Hyper { beta1, beta2, .. } = hyper;
        self.slots.for_each(grads, |u| {
            let m = (u.slot.first.affine(beta1, 0.0)? + u.grad.affine(1.0 - beta1, 0.0)?)?;
            let v =
                (u.slot.second.affine(beta2, 0.0)? + u.grad.sqr()?.affine(1.0 - beta2, 0.0)?)?;
            u.apply(&hyper, m, v)
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
