//! Accuracy of the vectorised sine against f64 `sin` of the same f32 argument.

use rand::Rng;

use super::networks;
use crate::evaluator::sine::{self, sin_in_place_with};
use crate::evaluator::Isa;

const LIMIT: f32 = 1e5;
const TOLERANCE: f64 = 2e-6;

/// Largest `|sin_isa(x) - sin_f64(x)|` over `xs`, with the worst argument.
fn max_error(isa: Option<Isa>, xs: &[f32]) -> (f64, f32) {
    let mut ys = xs.to_vec();
    match isa {
        Some(isa) => sin_in_place_with(isa, &mut ys),
        None => ys.iter_mut().for_each(|y| *y = sine::sin(*y)),
    }
    xs.iter()
        .zip(&ys)
        .map(|(&x, &y)| ((f64::from(y) - f64::from(x).sin()).abs(), x))
        .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

fn paths() -> Vec<Option<Isa>> {
    let isas = Isa::ALL.into_iter().filter(|i| i.is_available()).map(Some);
    std::iter::once(None).chain(isas).collect()
}

/// A dense uniform sweep of `[-1e5, 1e5]`, every f32 of `[-4π, 4π]` spaced 2⁻¹⁶ apart, and
/// millions of random arguments (uniform, and log-uniform in magnitude).
#[test]
fn sine_within_2e_6_on_sweep_and_random_arguments() {
    let n = 2_000_001;
    let mut xs: Vec<f32> = (0..n)
        .map(|i| -LIMIT + 2.0 * LIMIT * (i as f64 / (n - 1) as f64) as f32)
        .collect();
    xs.extend(
        (0..(8.0 * std::f64::consts::PI * 65536.0) as i64)
            .map(|i| (-4.0 * std::f64::consts::PI + i as f64 / 65536.0) as f32),
    );
    let mut rng = networks::rng(21);
    xs.extend((0..2_000_000).map(|_| rng.random_range(-LIMIT..=LIMIT)));
    xs.extend((0..2_000_000).map(|_| {
        let m = 10f32.powf(rng.random_range(-6.0..5.0)).min(LIMIT);
        if rng.random() {
            m
        } else {
            -m
        }
    }));
    xs.extend([0.0, -0.0, LIMIT, -LIMIT, f32::MIN_POSITIVE, 1e-30]);
    for path in paths() {
        let (err, at) = max_error(path, &xs);
        println!(
            "sine {path:?}: max error {err:.3e} at x = {at} over {} arguments",
            xs.len()
        );
        assert!(err <= TOLERANCE, "sine {path:?}: {err:e} at {at}");
    }
}

/// Every f32 with `|x| ≤ 1e5` (about 2.4e9 arguments) on every path; slow (about 30 s per
/// path), run with `cargo test --release -p sirenade-common sine_exhaustive -- --ignored --nocapture`.
#[test]
#[ignore]
fn sine_exhaustive() {
    let top = LIMIT.to_bits();
    let mut xs = vec![0.0f32; 1 << 20];
    for path in paths() {
        let mut worst = (0.0f64, 0.0f32);
        for sign in [0u32, 0x8000_0000] {
            let mut bits = 0u32;
            while bits <= top {
                let end = (bits + (1 << 20)).min(top + 1);
                let len = (end - bits) as usize;
                for (x, b) in xs.iter_mut().zip(bits..end) {
                    *x = f32::from_bits(b | sign);
                }
                let e = max_error(path, &xs[..len]);
                if e.0 > worst.0 {
                    worst = e;
                }
                bits = end;
            }
        }
        println!(
            "sine exhaustive {path:?}: max error {:.3e} at x = {}",
            worst.0, worst.1
        );
        assert!(worst.0 <= TOLERANCE, "{path:?}: {worst:?}");
    }
}

/// NaN and infinities give NaN; nothing panics.
#[test]
fn sine_of_non_finite_is_nan() {
    for path in paths() {
        let mut ys = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        match path {
            Some(isa) => sin_in_place_with(isa, &mut ys),
            None => ys.iter_mut().for_each(|y| *y = sine::sin(*y)),
        }
        assert!(ys.iter().all(|y| y.is_nan()), "{path:?}: {ys:?}");
    }
}
