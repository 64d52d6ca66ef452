//! The few-coordinate kernel's f16 panels: used exactly when every weight is an f16 value, and
//! then bit-identical to the f32 panels (widening f16 to f32 is exact and the arithmetic is
//! the same), for every block length that runs that kernel.

use super::networks::{self, latent, Shape};
use crate::evaluator::packed::NarrowStorage;
use crate::evaluator::{Evaluator, Isa, NetworkWeights};

/// `weights` with every synthesis matrix after the first layer rounded to f16, as a compact
/// preset stores them.
fn compact(mut weights: NetworkWeights) -> NetworkWeights {
    for layer in &mut weights.layers[1..] {
        for w in &mut layer.weight {
            *w = half::f16::from_f32(*w).to_f32();
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
                Evaluator::with_storage(weights.clone(), isa, NarrowStorage::Compact).unwrap();
            let mut f32 =
                Evaluator::with_storage(weights.clone(), isa, NarrowStorage::F32).unwrap();
            assert_eq!(f16.narrow_is_f16(), isa.loads_f16(), "{name} {isa}");
            assert!(!f32.narrow_is_f16());
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
        assert!(!ev.narrow_is_f16(), "{isa}");
    }
}
