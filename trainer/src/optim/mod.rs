//! Optimisers over candle variables: AdaBelief exactly as adabelief-pytorch 0.2.0 with the
//! reference's settings (docs/reference-code.md, "Optimisers and learning-rate schedule"),
//! Adam (PyTorch's, coupled L2), and
//! ReduceLROnPlateau (PyTorch's, as the reference uses it).
//!
//! - [`Optimizer`] — the common interface (step, learning rate, per-group weight decay, state).
//! - [`AdaBelief`], [`Adam`] — the two update rules over [`VarGroup`]s.
//! - [`ReduceLrOnPlateau`] — the learning-rate schedule.

mod adabelief;
mod adam;
mod plateau;
mod slots;

#[cfg(test)]
mod tests;

pub use adabelief::AdaBelief;
pub use adam::Adam;
pub use plateau::ReduceLrOnPlateau;
pub use slots::{Slot, VarGroup};

use candle_core::backprop::GradStore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Errors of an optimiser step or state restore.
#[derive(Debug, Error)]
pub enum OptimError {
    /// A tensor operation failed.
    #[error("optimiser tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// A restored state does not fit the optimiser's variables.
    #[error("optimiser state mismatch: {0}")]
    StateMismatch(String),
}

/// Moment estimates and decay rates shared by AdaBelief and Adam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyper {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Denominator epsilon (AdaBelief also adds it to s in place).
    pub eps: f64,
}

impl Hyper {
    /// The reference's AdaBelief settings: betas (0.9, 0.999), eps 1e-16 (docs/reference-code.md,
    /// "Optimisers and learning-rate schedule").
    pub fn adabelief(lr: f64) -> Hyper {
        Hyper {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-16,
        }
    }

    /// PyTorch's Adam defaults: betas (0.9, 0.999), eps 1e-8.
    pub fn adam(lr: f64) -> Hyper {
        Hyper {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// An optimiser over groups of variables, each group with its own L2 weight decay.
pub trait Optimizer {
    /// One update of every variable that has a gradient in `grads` (others are untouched and
    /// their step counts do not advance, as in PyTorch).
    fn step(&mut self, grads: &GradStore) -> Result<(), OptimError>;
    /// The current learning rate.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate (used by the LR schedule and NaN rollback).
    fn set_learning_rate(&mut self, lr: f64);
    /// Sets the coupled-L2 coefficient lambda of group `group` (progressive weight decay).
    fn set_weight_decay(&mut self, group: usize, weight_decay: f64);
    /// The per-variable state (step count and both moments), groups in order, for checkpoints.
    fn state(&self) -> Vec<Slot>;
    /// Restores a state taken with [`Optimizer::state`] from an optimiser over the same shapes.
    fn load_state(&mut self, state: Vec<Slot>) -> Result<(), OptimError>;
}

/// The optimisers selectable on the command line (`--optimizer`) and in a config
/// (`optimizer = "adam"`), by the same lower-case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// [`AdaBelief`] with [`Hyper::adabelief`] (the reference code's).
    #[default]
    #[value(name = "adabelief")]
    AdaBelief,
    /// [`Adam`] with [`Hyper::adam`].
    Adam,
}

impl OptimizerKind {
    /// Builds the optimiser over `groups` with learning rate `lr` and default hyperparameters.
    pub fn build(self, groups: Vec<VarGroup>, lr: f64) -> Result<Box<dyn Optimizer>, OptimError> {
        Ok(match self {
            OptimizerKind::AdaBelief => Box::new(AdaBelief::new(groups, Hyper::adabelief(lr))?),
            OptimizerKind::Adam => Box::new(Adam::new(groups, Hyper::adam(lr))?),
        })
    }
}
