//! Variable groups and the per-variable moment state both adaptive optimisers keep.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::OptimError;

/// Variables sharing one weight-decay coefficient.
///
/// The thesis regularises `lambda/2 ||W_phi||^2` (weights of the synthesis network); the
/// reference code applies AdaBelief's coupled L2 to every synthesis parameter, biases and
/// weight-norm (g, v) included, and none to the mapping network (docs/reference-code.md,
/// "Weight regularisation"). Both are expressible by how the caller splits its variables into
/// groups.
#[derive(Debug, Clone)]
pub struct VarGroup {
    /// The variables.
    pub vars: Vec<Var>,
    /// Coupled L2 coefficient lambda: `g += lambda * p` before the moment updates.
    pub weight_decay: f64,
}

/// One variable's optimiser state.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Number of updates applied to this variable.
    pub step: u64,
    /// First moment m.
    pub first: Tensor,
    /// Second moment (AdaBelief's s, Adam's v).
    pub second: Tensor,
}

/// Groups with a slot per variable.
pub struct Slots {
    groups: Vec<VarGroup>,
    slots: Vec<Vec<Slot>>,
}

/// What an update rule sees for one variable.
pub struct Update<'a> {
    /// The variable.
    pub var: &'a Var,
    /// Its current value, detached from the autograd graph so that the moments built from it
    /// carry no history from step to step.
    pub param: Tensor,
    /// Its gradient (detached) with weight decay already added.
    pub grad: Tensor,
    /// Its state, step already incremented.
    pub slot: &'a mut Slot,
}

impl Update<'_> {
    /// Applies the bias-corrected step both adaptive rules share,
    /// `p -= lr / (1 - b1^k) * m / (sqrt(second) / sqrt(1 - b2^k) + eps)`, and stores the new
    /// moments in the slot.
    pub fn apply(
        self,
        hyper: &super::Hyper,
        first: Tensor,
        second: Tensor,
    ) -> Result<(), OptimError> {
        let k = self.slot.step as i32;
        let denom = second
            .sqrt()?
            .affine(1.0 / (1.0 - hyper.beta2.powi(k)).sqrt(), hyper.eps)?;
        let step = (&first / denom)?.affine(hyper.lr / (1.0 - hyper.beta1.powi(k)), 0.0)?;
        self.var.set(&(self.param - step)?)?;
        *self.slot = Slot {
            step: self.slot.step,
            first,
            second,
        };
        Ok(())
    }
}

impl Slots {
    /// Zero moments for every variable of `groups`.
    pub fn new(groups: Vec<VarGroup>) -> Result<Slots, OptimError> {
        let slots = groups
            .iter()
            .map(|g| {
                g.vars
                    .iter()
                    .map(|v| {
                        Ok(Slot {
                            step: 0,
                            first: v.as_tensor().zeros_like()?,
                            second: v.as_tensor().zeros_like()?,
                        })
                    })
                    .collect::<Result<Vec<_>, OptimError>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Slots { groups, slots })
    }

    /// Calls `rule` for every variable with a gradient, after adding `lambda * p` to the gradient
    /// and incrementing the variable's step.
    pub fn for_each(
        &mut self,
        grads: &GradStore,
        mut rule: impl FnMut(Update<'_>) -> Result<(), OptimError>,
    ) -> Result<(), OptimError> {
        for (group, slots) in self.groups.iter().zip(self.slots.iter_mut()) {
            for (var, slot) in group.vars.iter().zip(slots.iter_mut()) {
                let Some(grad) = grads.get(var.as_tensor()) else {
                    continue;
                };
                let param = var.as_tensor().detach();
                let grad = grad.detach();
                let grad = if group.weight_decay != 0.0 {
                    (grad + param.affine(group.weight_decay, 0.0)?)?
                } else {
                    grad
                };
                slot.step += 1;
                rule(Update {
                    var,
                    param,
                    grad,
                    slot,
                })?;
            }
        }
        Ok(())
    }

    /// Sets group `group`'s weight decay.
    pub fn set_weight_decay(&mut self, group: usize, weight_decay: f64) {
        self.groups[group].weight_decay = weight_decay;
    }

    /// A copy of every slot, groups in order.
    pub fn state(&self) -> Vec<Slot> {
        self.slots.iter().flatten().cloned().collect()
    }

    /// Replaces every slot, checking count and shapes; moments are moved to each variable's
    /// dtype and device.
    pub fn load_state(&mut self, state: Vec<Slot>) -> Result<(), OptimError> {
        let expected: usize = self.slots.iter().map(Vec::len).sum();
        if state.len() != expected {
            return Err(OptimError::StateMismatch(format!(
                "{} slots for {expected} variables",
                state.len()
            )));
        }
        let mut incoming = state.into_iter();
        for (group, slots) in self.groups.iter().zip(self.slots.iter_mut()) {
            for (index, (var, slot)) in group.vars.iter().zip(slots.iter_mut()).enumerate() {
                let new = incoming.next().expect("count checked");
                let like = var.as_tensor();
                for moment in [&new.first, &new.second] {
                    if moment.dims() != like.dims() {
                        return Err(OptimError::StateMismatch(format!(
                            "variable {index}: moment shape {:?}, variable shape {:?}",
                            moment.dims(),
                            like.dims()
                        )));
                    }
                }
                *slot = Slot {
                    step: new.step,
                    first: new.first.to_dtype(like.dtype())?.to_device(like.device())?,
                    second: new
                        .second
                        .to_dtype(like.dtype())?
                        .to_device(like.device())?,
                };
            }
        }
        Ok(())
    }
}
