//! Every kernel against the f64 reference: thesis-sized and small networks, LeakyReLU and concat
//! variants, every block length, and the latent ramp.

use super::networks::{self, latent, Shape};
use super::reference;
use crate::evaluator::{Activation, Conditioning, Evaluator, Isa, NetworkWeights};

/// Time step of the test grid: a power of two, so that every block start is exact in f32 and
/// one reference serves every way of cutting the samples into blocks.
const DT: f32 = 1.0 / 1024.0;
const SAMPLES: usize = 2048;
const TOLERANCE: f64 = 1e-4;

fn isas() -> impl Iterator<Item = Isa> {
    Isa::ALL.into_iter().filter(|isa| isa.is_available())
}

fn block_start(start: usize) -> f32 {
    -1.0 + start as f32 * DT
}

fn render_in_blocks(ev: &mut Evaluator, block: usize) -> Vec<f32> {
    let mut out = vec![0.0; SAMPLES];
    for (c, chunk) in out.chunks_mut(block).enumerate() {
        ev.render(block_start(c * block), DT, chunk);
    }
    out
}

fn max_deviation(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(&g, &w)| (f64::from(g) - w).abs())
        .fold(0.0, f64::max)
}

/// Renders `weights` on every kernel in each block length and compares with the reference.
fn check_network(name: &str, weights: &NetworkWeights, seed: u64, blocks: &[usize]) {
    let z = latent(&mut networks::rng(seed), weights.latent_dim);
    let cond = reference::mapping(weights, &z);
    let want = reference::render(weights, &cond, &cond, block_start(0), DT, SAMPLES);
    let peak = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for isa in isas() {
        let mut ev = Evaluator::with_isa(weights.clone(), isa).unwrap();
        ev.prepare(&z).unwrap();
        for &block in blocks {
            let got = render_in_blocks(&mut ev, block);
            let dev = max_deviation(&got, &want);
            println!("{name} {isa} block {block}: max |Δ| = {dev:.2e} (peak {peak:.3})");
            assert!(dev <= TOLERANCE, "{name} {isa} block {block}: {dev:e}");
        }
    }
}

#[test]
fn pigan_matches_reference_on_every_isa() {
    check_network(
        "pigan",
        &networks::network(&Shape::pigan(), 1),
        2,
        &[64, 1000],
    );
}

#[test]
fn small_matches_reference_for_every_block_length() {
    let weights = networks::network(&Shape::small(), 3);
    check_network("small", &weights, 4, &[1, 3, 5, 7, 64, 65, 256, 1000]);
}

#[test]
fn leaky_relu_layers_match_reference() {
    let shape = Shape {
        hidden: Activation::LeakyRelu,
        ..Shape::small()
    };
    check_network("leaky", &networks::network(&shape, 5), 6, &[7, 64, 1000]);
}

#[test]
fn concat_conditioning_matches_reference() {
    let shape = Shape {
        conditioning: Conditioning::Concat,
        width: 96,
        ..Shape::small()
    };
    check_network("concat", &networks::network(&shape, 7), 8, &[7, 64, 1000]);
}

/// Per-layer FiLM: each layer reads its own slice of gamma and beta.
#[test]
fn per_layer_film_matches_reference() {
    let shape = Shape {
        conditioning: Conditioning::FilmPerLayer,
        ..Shape::small()
    };
    check_network(
        "per-layer",
        &networks::network(&shape, 17),
        18,
        &[1, 7, 64, 1000],
    );
}

#[test]
fn odd_widths_match_reference() {
    let shape = Shape {
        width: 37,
        depth: 3,
        ..Shape::small()
    };
    check_network("odd", &networks::network(&shape, 9), 10, &[1, 7, 64, 1000]);
}

/// The top of the omega range (10⁴): first-layer arguments up to about 7·10⁴.
#[test]
fn high_first_omega_matches_reference() {
    let shape = Shape {
        omega_first: 10_000.0,
        ..Shape::small()
    };
    check_network("omega 1e4", &networks::network(&shape, 15), 16, &[1, 7, 64]);
}

/// Evaluators can move to (and be shared with) the audio thread.
#[test]
fn evaluator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Evaluator>();
}

/// A latent change ramps gamma and beta linearly over the next block only, and `prepare` jumps.
#[test]
fn latent_change_ramps_across_the_next_block() {
    for (conditioning, seed) in [
        (Conditioning::Film, 11),
        (Conditioning::FilmPerLayer, 13),
        (Conditioning::Concat, 12),
    ] {
        let shape = Shape {
            conditioning,
            ..Shape::small()
        };
        let weights = networks::network(&shape, seed);
        let mut rng = networks::rng(seed);
        let (z0, z1) = (
            latent(&mut rng, shape.latent),
            latent(&mut rng, shape.latent),
        );
        let (c0, c1) = (
            reference::mapping(&weights, &z0),
            reference::mapping(&weights, &z1),
        );
        let calls = [(0, 64, &c0, &c0), (64, 100, &c0, &c1), (164, 64, &c1, &c1)];
        for isa in isas() {
            let mut ev = Evaluator::with_isa(weights.clone(), isa).unwrap();
            ev.prepare(&z0).unwrap();
            let mut dev = 0.0f64;
            for (i, &(start, n, from, to)) in calls.iter().enumerate() {
                if i == 1 {
                    ev.set_latent(&z1).unwrap();
                    ev.render(0.0, DT, &mut []);
                }
                let mut got = vec![0.0; n];
                ev.render(block_start(start), DT, &mut got);
                let want = reference::render(&weights, from, to, block_start(start), DT, n);
                dev = dev.max(max_deviation(&got, &want));
            }
            println!("ramp {conditioning:?} {isa}: max |Δ| = {dev:.2e}");
            assert!(dev <= TOLERANCE, "ramp {conditioning:?} {isa}: {dev:e}");

            ev.prepare(&z0).unwrap();
            let mut got = vec![0.0; 64];
            ev.render(block_start(0), DT, &mut got);
            let want = reference::render(&weights, &c0, &c0, block_start(0), DT, 64);
            assert!(max_deviation(&got, &want) <= TOLERANCE, "prepare must jump");
        }
    }
}

/// Voices share the packed weights but each keeps its own latent.
#[test]
fn voices_are_independent() {
    let weights = networks::network(&Shape::small(), 13);
    let mut rng = networks::rng(14);
    let (z0, z1) = (latent(&mut rng, 64), latent(&mut rng, 64));
    let mut a = Evaluator::new(weights).unwrap();
    let mut b = a.new_voice();
    a.prepare(&z0).unwrap();
    b.prepare(&z1).unwrap();
    let (mut ya, mut yb) = (vec![0.0; 64], vec![0.0; 64]);
    a.render(-1.0, DT, &mut ya);
    b.render(-1.0, DT, &mut yb);
    assert_ne!(ya, yb);
    b.prepare(&z0).unwrap();
    b.render(-1.0, DT, &mut yb);
    assert_eq!(ya, yb);
}
