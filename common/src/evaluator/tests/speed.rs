//! Throughput of the evaluator (printed, never asserted): run with
//! `cargo test --release -p sirenade-common evaluator_speed -- --ignored --nocapture`.
//!
//! Rates are per second of this thread's CPU time (Linux `schedstat`, falling back to wall
//! time), so that other processes sharing the cores do not distort them.

use std::time::Instant;

use super::networks::{self, latent, Shape};
use crate::evaluator::packed::NarrowStorage;
use crate::evaluator::{Evaluator, Isa, NetworkWeights};

/// Multiply-adds per sample of the synthesis network.
fn macs_per_sample(w: &NetworkWeights) -> usize {
    w.layers
        .iter()
        .map(|l| l.out_features * (l.in_features + usize::from(l.concat.is_some())))
        .sum()
}

/// Seconds this thread has run on a CPU, where the kernel reports it.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
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
            let z = latent(&mut networks::rng(42), shape.latent);
            let cpu = cpu_seconds();
            let wall = Instant::now();
            for _ in 0..2000 {
                ev.set_latent(&z).unwrap();
            }
            let seconds = match (cpu, cpu_seconds()) {
                (Some(a), Some(b)) => b - a,
                _ => wall.elapsed().as_secs_f64(),
            };
            println!("{name} {isa}: set_latent {:.1} µs", seconds / 2000.0 * 1e6);
            for block in [1, 16, 64, 256] {
                let rate = rate(&mut ev, block);
                println!(
                    "{name} {isa} block {block}: {rate:.0} samples/s, {:.1} GFLOP/s, {:.2} voices at 48 kHz",
                    rate * flops / 1e9,
                    rate / 48_000.0
                );
            }
        }
    }
}

/// Samples per second of CPU time rendering blocks of `block` for half a second.
fn rate(ev: &mut Evaluator, block: usize) -> f64 {
    let mut out = vec![0.0; block];
    let mut samples = 0usize;
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut t = -1.0f32;
    while wall.elapsed().as_secs_f64() < 0.5 {
        ev.render(t, 2.0 / 16000.0, &mut out);
        t = if t > 0.9 {
            -1.0
        } else {
            t + block as f32 / 8000.0
        };
        samples += block;
    }
    let seconds = match (cpu, cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed().as_secs_f64(),
    };
    samples as f64 / seconds
}

/// Compact (f16-valued) weights on AVX-512: the f16/f32 kernels against the VNNI integer
/// kernels, where the CPU has them. Run with
/// `cargo test --release -p sirenade-common compact_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn compact_speed() {
    let isa = Isa::Avx512;
    if !isa.has_vnni() {
        println!("no AVX-512 VNNI here");
        return;
    }
    let demo = Shape {
        width: 96,
        depth: 4,
        ..Shape::small()
    };
    for (name, shape) in [
        ("pigan", Shape::pigan()),
        ("small", Shape::small()),
        ("demo", demo),
    ] {
        let mut weights = networks::network(&shape, 43);
        for layer in &mut weights.layers[1..] {
            for w in &mut layer.weight {
                *w = half::f16::from_f32(*w).to_f32();
            }
        }
        let z = latent(&mut networks::rng(44), shape.latent);
        for block in [1, 16, 64] {
            let mut rates = [0.0; 2];
            for (r, storage) in rates
                .iter_mut()
                .zip([NarrowStorage::F16, NarrowStorage::I16])
            {
                let mut ev = Evaluator::with_storage(weights.clone(), isa, storage).unwrap();
                ev.prepare(&z).unwrap();
                *r = rate(&mut ev, block);
            }
            println!(
                "{name} block {block}: f16/f32 kernels {:.0}, integer kernels {:.0} samples/s ({:.2}×)",
                rates[0],
                rates[1],
                rates[1] / rates[0]
            );
        }
    }
}
