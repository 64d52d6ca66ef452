//! The mapping network ψ: latent → conditioning vector, run once per latent change into
//! preallocated buffers.

use super::kernel::{self, Isa};
use super::weights::{DenseLayer, MAPPING_LEAKY_SLOPE};

/// Ping-pong buffers for the hidden activations of the mapping network.
pub(crate) struct MappingScratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

impl MappingScratch {
    /// Buffers wide enough for every layer of `layers`.
    pub(crate) fn new(layers: &[DenseLayer]) -> MappingScratch {
        let width = layers.iter().map(|l| l.out_features).max().unwrap_or(0);
        MappingScratch {
            a: vec![0.0; width],
            b: vec![0.0; width],
        }
    }

    /// Runs validated `layers` on `latent` with the vectors of `isa`, writing the conditioning
    /// vector into `out`: dense layers with LeakyReLU(0.2) between them and none after the last.
    ///
    /// # Safety
    /// `isa` must be available.
    pub(crate) unsafe fn run(
        &mut self,
        isa: Isa,
        layers: &[DenseLayer],
        latent: &[f32],
        out: &mut [f32],
    ) {
        if layers.is_empty() {
            out.copy_from_slice(latent);
            return;
        }
        for (i, layer) in layers.iter().enumerate() {
            let (src, tmp) = match i {
                0 => (latent, &mut self.a),
                _ if i % 2 == 1 => (&self.a[..], &mut self.b),
                _ => (&self.b[..], &mut self.a),
            };
            let last = i + 1 == layers.len();
            let dst = if last {
                &mut out[..]
            } else {
                &mut tmp[..layer.out_features]
            };
            let x = &src[..layer.in_features];
            for (y, (row, &b)) in dst.iter_mut().zip(
                layer
                    .weight
                    .chunks_exact(layer.in_features)
                    .zip(&layer.bias),
            ) {
                let v = b + kernel::dot(isa, row, x);
                *y = if last || v >= 0.0 {
                    v
                } else {
                    v * MAPPING_LEAKY_SLOPE
                };
            }
        }
    }
}
