//! Seeded weight initialisation. Every initial value is drawn in f64 on the CPU from one ChaCha
//! stream, then converted to the model's dtype and moved to its device, so the same seed gives the
//! same network on every device (and the f64 reference tests see the same draws as f32 training).

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A distribution of initial values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dist {
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with mean 0 and the given standard deviation.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// All zeros.
    Zero,
}

impl Dist {
    /// The symmetric uniform distribution `U(-bound, bound)`.
    pub fn symmetric(bound: f64) -> Dist {
        Dist::Uniform {
            low: -bound,
            high: bound,
        }
    }
}

/// The seeded source of initial values.
pub struct InitRng(ChaCha8Rng);

impl InitRng {
    /// A stream determined by `seed` alone.
    pub fn new(seed: u64) -> InitRng {
        InitRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// `n` draws from `dist`. Normals use the Box-Muller transform (two uniforms per draw, the
    /// cosine branch only) so that the stream does not depend on a distribution crate's internals.
    pub fn sample(&mut self, dist: Dist, n: usize) -> Vec<f64> {
        match dist {
            Dist::Uniform { low, high } => (0..n)
                .map(|_| low + (high - low) * self.0.random::<f64>())
                .collect(),
            Dist::Normal { std } => (0..n)
                .map(|_| {
                    let u1 = 1.0 - self.0.random::<f64>();
                    let u2 = self.0.random::<f64>();
                    std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                })
                .collect(),
            Dist::Zero => vec![0.0; n],
        }
    }
}

/// A tensor of the given shape and dtype on `device` from f64 host values.
pub fn to_tensor(
    values: Vec<f64>,
    shape: &[usize],
    dtype: DType,
    device: &Device,
) -> candle_core::Result<Tensor> {
    Tensor::from_vec(values, shape, &Device::Cpu)?
        .to_dtype(dtype)?
        .to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_moments_are_right() {
        let a = InitRng::new(7).sample(Dist::Normal { std: 2.0 }, 20_000);
        let b = InitRng::new(7).sample(Dist::Normal { std: 2.0 }, 20_000);
        assert_eq!(a, b);
        let mean = a.iter().sum::<f64>() / a.len() as f64;
        let std = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / a.len() as f64).sqrt();
        assert!(
            mean.abs() < 0.05 && (std - 2.0).abs() < 0.05,
            "{mean} {std}"
        );
        let u = InitRng::new(1).sample(Dist::symmetric(3.0), 1000);
        assert!(u.iter().all(|x| (-3.0..3.0).contains(x)));
    }
}
