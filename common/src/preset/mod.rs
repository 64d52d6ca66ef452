//! The `.sirenade` preset file: one trained model, ready for the evaluator.
//!
//! A preset is a safetensors container (readable by any safetensors tool). Its JSON metadata
//! holds, under the key [`METADATA_KEY`], the format name and version, the number of principal
//! directions and a [`PresetInfo`] (model config with weight normalisation folded, sample rate,
//! duration, training set with each item's labels, training summary). Its tensors are, per
//! linear map, `{layer}.weight` `[out, in]` and `{layer}.bias` `[out]` (layers named as in
//! [`ModelConfig::layer_shapes`](crate::model_config::ModelConfig::layer_shapes)), per synthesis
//! layer `{layer}.omega` `[out]`, and the latent space: `latent.table` `[items, latent]`,
//! `latent.mean`, `latent.directions` `[K, latent]`, `latent.stds` `[K]`.
//!
//! - [`info`]: the JSON part; `latent`: the latent table and its PCA (`eigen`: the solver).
//! - `tensors`: which tensors a config implies and their f16/f32 encoding ([`Precision`]).
//! - `read`: [`Preset::load`] / [`Preset::from_bytes`], the only way in, validating everything.
//! - `write`: [`Preset::write`] (atomic) / [`Preset::to_bytes`].
//! - `network`: [`Preset::network_weights`], the evaluator's input.

mod eigen;
mod error;
pub mod info;
mod latent;
mod network;
mod read;
mod tensors;
mod write;

#[cfg(test)]
mod tests;

pub use error::{PresetError, Problem};
pub use info::{DataSummary, EvalSummary, PresetInfo, PresetItem, TrainingSummary};
pub use latent::{LatentSpace, MIN_COMPONENTS, PCA_COMPONENTS};
pub use tensors::Precision;

/// The safetensors metadata key holding the preset's JSON.
pub const METADATA_KEY: &str = "sirenade";

/// The format name written in the metadata (the "magic").
pub const FORMAT_NAME: &str = "sirenade-preset";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Files larger than this are rejected before being read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Headers (tensor table and JSON metadata) larger than this are rejected.
pub const MAX_HEADER_BYTES: u64 = 8 * 1024 * 1024;

/// The largest omega accepted.
pub const MAX_OMEGA: f32 = 1e5;

/// The largest magnitude accepted for any other value: the f16 range, which a compact preset
/// cannot exceed anyway. Trained weights, biases and latents are of order one; a finite value
/// far beyond (a corrupt or hostile f32 file) would drive the network's sums out of any sine's
/// range and its output to infinity.
pub const MAX_MAGNITUDE: f32 = 65_504.0;

/// The effective weights of one linear map (weight normalisation folded).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    /// Its name: `mapping.{i}`, `synthesis.{i}` or `output`.
    pub name: String,
    /// Row-major `[outputs, inputs]` matrix, inputs as in the config's layer table (a concat
    /// layer's columns are `[h; c; t]`, the first layer's `[t; c]`).
    pub weight: Vec<f32>,
    /// `outputs` biases.
    pub bias: Vec<f32>,
    /// Per-unit omegas (synthesis layers only).
    pub omega: Option<Vec<f32>>,
}

/// A loaded (validated) or about-to-be-written preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Model config, rate, training set and summary.
    pub info: PresetInfo,
    /// Every linear map in the config's layer order: mapping, synthesis, output.
    pub layers: Vec<LayerWeights>,
    /// The latent table and its principal components.
    pub latents: LatentSpace,
}
