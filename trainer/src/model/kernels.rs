//! Which implementation runs the synthesis network's sine layers.

use serde::{Deserialize, Serialize};

/// The implementation of the FiLM-sine layers. Both compute the same function; they differ in
/// speed and in the last bits of f32 rounding, so the choice is part of a run's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernels {
    /// The fused FiLM-sine ops for f32 tensors on the CPU (one op and one matrix product per
    /// layer, the tangent stacked under the values); plain candle elsewhere.
    #[default]
    Fused,
    /// Plain candle ops only: the reference the fused layers are tested against, and the
    /// training benchmark's baseline measured in the same run.
    Plain,
}
