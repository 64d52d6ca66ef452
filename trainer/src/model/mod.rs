//! The decoder in candle: a conditional SIREN / pi-GAN network built from a
//! [`ModelConfig`](sirenade_common::model_config::ModelConfig) and a seed.
//!
//! - [`Decoder`] — construction, `forward`, `forward_with_derivative`, named variables by group,
//!   checkpoint state, the progressive mask.
//! - [`layers`] — the FiLM-sine layer, the concat-conditioned layer, the final linear.
//! - [`MappingNetwork`] — psi.
//! - [`Linear`] — an affine map, optionally weight-normalised.
//! - [`Dual`] — values with their time derivative (forward mode).
//! - `fused` — the FiLM-sine layer and whole FiLM-sine networks as CPU ops for f32 (forward
//!   and backward over SIMD kernels of our own).
//! - `composed` — a whole FiLM-sine network as one op written in candle tensor ops, for any
//!   device (the CUDA path), with a hand-derived backward instead of candle's autograd.
//! - `packing` — how both network ops take their weights and film.
//! - [`ProgressiveSchedule`] — the first-layer fade-in of progressive activation scaling.
//! - [`init`] and [`init_rules`] — seeded, device-independent initial values and the per-layer
//!   distributions of the reference code.

mod activation;
mod composed;
mod decoder;
mod dual;
mod fused;
pub mod init;
pub mod init_rules;
pub mod layers;
mod linear;
mod mapping;
mod packing;
mod progressive;
mod sine_layers;

#[cfg(test)]
mod tests;

pub use decoder::{Decoder, NamedVar, ParamGroup};
pub use dual::Dual;
pub use linear::Linear;
pub use mapping::MappingNetwork;
pub use progressive::ProgressiveSchedule;
pub use sine_layers::SineLayers;

use sirenade_common::model_config::ConfigError;
use thiserror::Error;

/// Errors building or running a decoder.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The configuration is impossible.
    #[error("invalid model config: {0}")]
    Config(#[from] ConfigError),
    /// A tensor operation failed (device, dtype, out of memory, ...).
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// An input or stored tensor has the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which tensor.
        what: String,
        /// The expected shape.
        expected: String,
        /// The actual shape.
        got: Vec<usize>,
    },
    /// A checkpoint lacks a tensor the model needs.
    #[error("model state lacks tensor `{0}`")]
    MissingTensor(String),
    /// The decoder was asked for in an integer dtype.
    #[error("a decoder needs a floating-point dtype, got {0:?}")]
    NotFloat(candle_core::DType),
    /// A progressive mask was set on a model without progressive scaling.
    #[error("this model has no progressive first layer")]
    NotProgressive,
}
