//! The few-coordinate kernel's compact panels: used exactly when every weight is an f16 value;
//! f16 panels are bit-identical to the f32 panels (widening f16 to f32 is exact and the
//! arithmetic is the same), for every block length that runs that kernel; integer panels (AVX-512
//! VNNI) match the f64 reference of the same weights within a stated tolerance, and give the
//! same bits for every block length.

use super::networks::{self, latent, Shape};
use super::reference;
use crate::evaluator::packed::NarrowStorage;
use crate::evaluator::{Activation, Conditioning, Evaluator, Isa, NetworkWeights};

/// `weights` with every synthesis matrix after the first layer (and a concat layer's time
/// column, which the narrow panels hold with it) rounded to f16, as a compact preset stores them.
fn compact(mut weights: NetworkWeights) -> NetworkWeights {
    let round = |w: &mut f32| *w = half::f16::from_f32(*w).to_f32();
    for layer in &mut weights.layers[1..] {
        layer.weight.iter_mut().for_each(round);
        if let Some(time) = layer.concat.as_mut().and_then(|c| c.time.as_mut()) {
            time.iter_mut().for_each(round);
        }
    }
    weights
}

fn render(ev: &mut Evaluator, block: usize) -> Vec<f32> {
    let dt = 1.0 / 1024.0;
    let mut out = vec![0.0f32; 96];
    for (c, chunk) in out.chunks_mut(block).enumerate() {
        ev.render(-1.0 + (c * block) as f32 * dt, dt, chunk);
    }
    out
}

#[test]
fn f16_panels_give_the_f32_panels_bits() {
    for (name, shape) in [("pigan", Shape::pigan()), ("small", Shape::small())] {
        let weights = compact(networks::network(&shape, 11));
        let z = latent(&mut networks::rng(12), weights.latent_dim);
        for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
            let mut f16 =
                Evaluator::with_storage(weights.clone(), isa, NarrowStorage::F16).unwrap();
            let mut f32 =
                Evaluator::with_storage(weights.clone(), isa, NarrowStorage::F32).unwrap();
            let expected = if isa.loads_f16() { "f16" } else { "f32" };
            assert_eq!(f16.matrix_storage(), expected, "{name} {isa}");
            assert_eq!(f32.matrix_storage(), "f32");
            f16.prepare(&z).unwrap();
            f32.prepare(&z).unwrap();
            // 1..=8 coordinates run the narrow kernel on every ISA's widest vectors.
            for block in 1..=8 {
                let (a, b) = (render(&mut f16, block), render(&mut f32, block));
                let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(
                    same,
                    "{name} {isa} block {block}: f16 panels changed the output"
                );
                assert!(a.iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn weights_that_are_not_f16_values_stay_f32() {
    let mut weights = compact(networks::network(&Shape::small(), 13));
    // One weight off the f16 grid (1 + 2^-20 has no f16 form) keeps the whole network in f32.
    weights.layers[2].weight[5] = 1.0 + 2f32.powi(-20);
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let ev = Evaluator::with_isa(weights.clone(), isa).unwrap();
        assert_eq!(ev.matrix_storage(), "f32", "{isa}");
    }
}

/// Largest deviation from the f64 reference allowed of the integer kernel, relative to the
/// output's peak: its weights keep 12–13 bits against the row's chunk budget and its inputs 15
/// bits against their largest magnitude, errors that the hidden omega (245 here) then scales.
const INTEGER_TOLERANCE: f64 = 1e-3;

#[test]
fn integer_panels_match_the_reference_of_their_weights() {
    let isa = Isa::Avx512;
    if !isa.has_vnni() {
        println!("no AVX-512 VNNI on this CPU: integer panels are not built here");
        return;
    }
    let shapes = [
        ("pigan", Shape::pigan()),
        ("small", Shape::small()),
        (
            "leaky",
            Shape {
                hidden: Activation::LeakyRelu,
                ..Shape::small()
            },
        ),
        (
            "concat",
            Shape {
                conditioning: Conditioning::Concat,
                width: 96,
                ..Shape::small()
            },
        ),
        (
            "odd",
            Shape {
                width: 37,
                depth: 3,
                ..Shape::small()
            },
        ),
        (
            "wide",
            Shape {
                width: 365,
                depth: 4,
                ..Shape::pigan()
            },
        ),
    ];
    for (seed, (name, shape)) in (20..).zip(shapes) {
        let weights = compact(networks::network(&shape, seed));
        let z = latent(&mut networks::rng(seed + 100), weights.latent_dim);
        let cond = reference::mapping(&weights, &z);
        let dt = 1.0 / 1024.0;
        let want = reference::render(&weights, &cond, &cond, -1.0, dt, 96);
        let peak = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut ev = Evaluator::with_storage(weights, isa, NarrowStorage::I16).unwrap();
        assert_eq!(ev.matrix_storage(), "i16", "{name}");
        ev.prepare(&z).unwrap();
        let one_at_a_time = render(&mut ev, 1);
        // One to eight samples run the matrix–vector kernel, more the block kernel.
        for block in [1, 2, 3, 5, 8, 9, 16, 17, 33, 48, 64, 96] {
            let got = render(&mut ev, block);
            let dev = got
                .iter()
                .zip(&want)
                .map(|(&g, &w)| (f64::from(g) - w).abs())
                .fold(0.0, f64::max);
            println!("{name} block {block}: max |Δ| = {dev:.2e} (peak {peak:.3})");
            assert!(
                dev <= INTEGER_TOLERANCE * peak,
                "{name} block {block}: {dev:e}"
            );
            let same = got
                .iter()
                .zip(&one_at_a_time)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same,
                "{name} block {block}: not the one-sample output bit for bit"
            );
        }
    }
}

/// A non-finite input reaches the output of the integer kernel, as it does the f32 kernels',
/// so that the voice engine can silence the voice.
#[test]
fn integer_panels_pass_non_finite_values_on() {
    let isa = Isa::Avx512;
    if !isa.has_vnni() {
        return;
    }
    let weights = compact(networks::network(&Shape::small(), 31));
    let mut ev = Evaluator::with_storage(weights.clone(), isa, NarrowStorage::I16).unwrap();
    assert_eq!(ev.matrix_storage(), "i16");
    ev.prepare(&vec![3e38; weights.latent_dim]).unwrap();
    // One sample (the matrix–vector kernel) and a block.
    for len in [1, 64] {
        let mut out = vec![0.0f32; len];
        ev.render(0.0, 1.0 / 1024.0, &mut out);
        assert!(out.iter().all(|y| !y.is_finite()), "{len}: {out:?}");
    }
}

/// Compact presets take the integer kernels where they are faster: layers at least
/// `MIN_WIDTH` (128) wide.
#[test]
fn compact_networks_take_integer_panels_from_128_wide() {
    let isa = Isa::Avx512;
    if !isa.has_vnni() {
        return;
    }
    for (width, expected) in [(96, "f16"), (127, "f16"), (128, "i16"), (256, "i16")] {
        let shape = Shape {
            width,
            ..Shape::small()
        };
        let weights = compact(networks::network(&shape, 50));
        let ev = Evaluator::with_isa(weights, isa).unwrap();
        assert_eq!(ev.matrix_storage(), expected, "width {width}");
    }
}
