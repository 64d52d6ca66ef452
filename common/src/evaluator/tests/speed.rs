//! Throughput of the evaluator (printed, never asserted): run with
//! `cargo test --release -p sirenade-common evaluator_speed -- --ignored --nocapture`.

use std::time::Instant;

use super::networks::{self, latent, Shape};
use crate::evaluator::{Evaluator, Isa, NetworkWeights};

/// Multiply-adds per sample of the synthesis network.
fn macs_per_sample(w: &NetworkWeights) -> usize {
    w.layers
        .iter()
        .map(|l| l.out_features * (l.in_features + usize::from(l.concat.is_some())))
        .sum()
}

#[test]
#[ignore]
fn evaluator_speed() {
    for (name, shape) in [
        ("pigan 8x256", Shape::pigan()),
        ("small 4x128", Shape::small()),
    ] {
        let weights = networks::network(&shape, 41);
        let flops = 2.0 * macs_per_sample(&weights) as f64;
        for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
            let mut ev = Evaluator::with_isa(weights.clone(), isa).unwrap();
            ev.prepare(&latent(&mut networks::rng(42), shape.latent))
                .unwrap();
            for block in [1, 16, 64, 256] {
                let mut out = vec![0.0; block];
                let mut samples = 0usize;
                let start = Instant::now();
                let mut t = -1.0f32;
                while start.elapsed().as_secs_f64() < 0.5 {
                    ev.render(t, 2.0 / 16000.0, &mut out);
                    t = if t > 0.9 {
                        -1.0
                    } else {
                        t + block as f32 / 8000.0
                    };
                    samples += block;
                }
                let rate = samples as f64 / start.elapsed().as_secs_f64();
                println!(
                    "{name} {isa} block {block}: {rate:.0} samples/s, {:.1} GFLOP/s, {:.2} voices at 48 kHz",
                    rate * flops / 1e9,
                    rate / 48_000.0
                );
            }
        }
    }
}
