//! What one chunk's forward pass reads and writes: the contract between the ISA entry points,
//! the generic forward pass and the integer kernels (a leaf).

use crate::evaluator::packed::Packed;
use crate::evaluator::scratch::Scratch;

/// Everything one chunk's forward pass reads and writes.
pub(crate) struct Chunk<'a> {
    /// The packed network.
    pub net: &'a Packed,
    /// First-layer parameters, f64, parameter-major: `[6][units]` (see
    /// [`PARAMS_PER_ROW`](crate::evaluator::packed::PARAMS_PER_ROW)).
    pub first: &'a [f64],
    /// Later layers' parameters, f32, row-major as [`Packed`] lays them out (wide kernel).
    pub params: &'a [f32],
    /// Later layers' parameters, f32, parameter-major as [`Packed`] lays them out (narrow kernel).
    pub params_soa: &'a [f32],
    /// Activations and per-sample inputs (`t`, ramp fraction) already filled for the chunk.
    pub scratch: &'a mut Scratch,
    /// Output samples; its length (at most [`BLOCK`](crate::evaluator::scratch::BLOCK)) is the chunk length.
    pub out: &'a mut [f32],
}
