//! The real-time evaluator: a conditional SIREN (FiLM or concat conditioned) evaluated block by
//! block with SIMD kernels, without allocating, locking or panicking while rendering.
//!
//! - [`weights`]: the input, [`NetworkWeights`] (plain folded f32 weights), validated.
//! - [`sine`]: the vectorised sine (≤ 2e-6 from f64 `sin` for `|x| ≤ 1e5`).
//! - `kernel`: the layer kernels per ISA ([`Isa`]), chosen at run time: a register-tiled block
//!   kernel (output rows × coordinate vectors), a matrix–vector kernel for chunks of a few
//!   samples, and the first layer in f64 (its sine arguments reach 1e4–1e5).
//! - `packed`: weights re-laid out in panels for the kernels (`quantized`: as 16-bit integers
//!   for the AVX-512 VNNI matrix–vector kernel); `scratch`: per-voice buffers.
//! - `mapping` and `latent_state`: the mapping network and the FiLM parameters with their ramp.
//! - [`Evaluator`]: the API — build, prepare a latent, render blocks.

mod error;
mod kernel;
mod latent_state;
mod mapping;
mod packed;
#[cfg(target_arch = "x86_64")]
mod quantized;
mod render;
mod scratch;
pub mod sine;
pub mod weights;

pub use error::{EvaluatorError, Part, WeightsError};
pub use kernel::Isa;
pub use render::Evaluator;
pub use scratch::BLOCK;
pub use weights::{
    Activation, ConcatWeights, Conditioning, DenseLayer, NetworkWeights, SynthLayer,
    MAPPING_LEAKY_SLOPE, SYNTH_LEAKY_SLOPE,
};

#[cfg(test)]
mod tests;
