//! The mapping network ψ: latent → conditioning vector, run once per latent change into
//! preallocated buffers.

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

    /// Runs validated `layers` on `latent`, writing the conditioning vector into `out`: dense
    /// layers with LeakyReLU(0.2) between them and none after the last.
    pub(crate) fn run(&mut self, layers: &[DenseLayer], latent: &[f32], out: &mut [f32]) {
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
                let v = b + dot(row, x);
                *y = if last || v >= 0.0 {
                    v
                } else {
                    v * MAPPING_LEAKY_SLOPE
                };
            }
        }
    }
}

/// A dot product with eight independent partial sums, so that it vectorises.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((acc, x), y) in acc.iter_mut().zip(x).zip(y) {
            *acc += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}
