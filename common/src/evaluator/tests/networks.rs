//! Random networks shaped like the thesis models, initialised as the reference code does.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::evaluator::{
    Activation, ConcatWeights, Conditioning, DenseLayer, NetworkWeights, SynthLayer,
};

/// The shape of a random test network.
pub(super) struct Shape {
    pub depth: usize,
    pub width: usize,
    pub latent: usize,
    pub mapping_width: usize,
    pub mapping_depth: usize,
    pub omega_first: f32,
    pub omega_hidden: f32,
    pub hidden: Activation,
    pub conditioning: Conditioning,
}

impl Shape {
    /// The thesis pi-GAN: 8 × 256 sine layers, latent 256, mapping 256→256×3→512.
    pub fn pigan() -> Shape {
        Shape {
            depth: 8,
            width: 256,
            latent: 256,
            mapping_width: 256,
            mapping_depth: 3,
            omega_first: 1760.0,
            omega_hidden: 245.0,
            hidden: Activation::Sine,
            conditioning: Conditioning::Film,
        }
    }

    /// A small live configuration: 4 × 128.
    pub fn small() -> Shape {
        Shape {
            depth: 4,
            width: 128,
            latent: 64,
            mapping_width: 128,
            mapping_depth: 2,
            ..Shape::pigan()
        }
    }
}

pub(super) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

fn sym(rng: &mut ChaCha8Rng, n: usize, bound: f32) -> Vec<f32> {
    uniform(rng, n, -bound, bound)
}

/// A latent with unit variance per entry.
pub(super) fn latent(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    sym(rng, n, 3f32.sqrt())
}

/// Kaiming-uniform dense layer for LeakyReLU(0.2), weights scaled by `gain`.
fn dense(rng: &mut ChaCha8Rng, n_in: usize, n_out: usize, gain: f32) -> DenseLayer {
    let std = (2.0f32 / 1.04).sqrt() / (n_in as f32).sqrt() * gain;
    DenseLayer {
        in_features: n_in,
        out_features: n_out,
        weight: sym(rng, n_in * n_out, std * 3f32.sqrt()),
        bias: sym(rng, n_out, 1.0 / (n_in as f32).sqrt()),
    }
}

/// A random network of `shape`, seeded.
pub(super) fn network(shape: &Shape, seed: u64) -> NetworkWeights {
    let mut rng = rng(seed);
    let film = shape.conditioning != Conditioning::Concat;
    let cond_dim = if shape.conditioning == Conditioning::FilmPerLayer {
        2 * shape.width * shape.depth
    } else if film {
        2 * shape.width
    } else {
        shape.mapping_width
    };
    let mut mapping = Vec::new();
    let mut n_in = shape.latent;
    for _ in 0..shape.mapping_depth {
        mapping.push(dense(&mut rng, n_in, shape.mapping_width, 1.0));
        n_in = shape.mapping_width;
    }
    mapping.push(dense(
        &mut rng,
        n_in,
        cond_dim,
        if film { 0.25 } else { 1.0 },
    ));
    let mut layers = Vec::new();
    let width = shape.width;
    let concat = |rng: &mut ChaCha8Rng, out: usize, bound: f32, time: bool| {
        (!film).then(|| ConcatWeights {
            weight: sym(rng, out * cond_dim, bound),
            time: time.then(|| sym(rng, out, bound)),
        })
    };
    let first_bound = if film { 1.0 } else { 1.0 / 257.0 };
    layers.push(SynthLayer {
        in_features: 1,
        out_features: width,
        weight: sym(&mut rng, width, first_bound),
        bias: uniform(&mut rng, width, 0.0, std::f32::consts::TAU),
        omega: vec![shape.omega_first; width],
        activation: Activation::Sine,
        film,
        concat: concat(&mut rng, width, first_bound, false),
    });
    for _ in 1..shape.depth {
        let (weight, bias, omega) = match shape.hidden {
            Activation::Sine => {
                let fan_in = if film { width } else { 2 * width + 1 } as f32;
                (
                    sym(
                        &mut rng,
                        width * width,
                        (6.0 / fan_in).sqrt() / shape.omega_hidden,
                    ),
                    uniform(&mut rng, width, 0.0, std::f32::consts::TAU),
                    shape.omega_hidden,
                )
            }
            _ => (
                sym(
                    &mut rng,
                    width * width,
                    1.414 * 3f32.sqrt() / (width as f32).sqrt() / 30.0,
                ),
                vec![0.0; width],
                30.0,
            ),
        };
        let bound = (6.0 / (2 * width + 1) as f32).sqrt() / shape.omega_hidden;
        layers.push(SynthLayer {
            in_features: width,
            out_features: width,
            weight,
            bias,
            omega: vec![omega; width],
            activation: shape.hidden,
            film,
            concat: concat(&mut rng, width, bound, true),
        });
    }
    layers.push(SynthLayer {
        in_features: width,
        out_features: 1,
        weight: sym(&mut rng, width, (6.0 / width as f32).sqrt() / 30.0),
        bias: sym(&mut rng, 1, 0.0625),
        omega: vec![1.0],
        activation: Activation::Identity,
        film: false,
        concat: None,
    });
    NetworkWeights {
        latent_dim: shape.latent,
        mapping,
        conditioning: shape.conditioning,
        layers,
    }
}
