//! The slow, obvious f64 evaluator every kernel is compared with.

use crate::evaluator::{Activation, Conditioning, NetworkWeights, MAPPING_LEAKY_SLOPE};

/// The mapping network in f64.
pub(super) fn mapping(w: &NetworkWeights, latent: &[f32]) -> Vec<f64> {
    let mut x: Vec<f64> = latent.iter().map(|&v| f64::from(v)).collect();
    for (i, layer) in w.mapping.iter().enumerate() {
        let last = i + 1 == w.mapping.len();
        x = (0..layer.out_features)
            .map(|o| {
                let row = &layer.weight[o * layer.in_features..][..layer.in_features];
                let v = f64::from(layer.bias[o])
                    + row
                        .iter()
                        .zip(&x)
                        .map(|(&w, &x)| f64::from(w) * x)
                        .sum::<f64>();
                if last || v >= 0.0 {
                    v
                } else {
                    v * f64::from(MAPPING_LEAKY_SLOPE)
                }
            })
            .collect();
    }
    x
}

/// One render call of `n` samples at `t0 + i·dt`, the conditioning vector moving linearly from
/// `from` to `to` (reaching it on the last sample).
pub(super) fn render(
    w: &NetworkWeights,
    from: &[f64],
    to: &[f64],
    t0: f32,
    dt: f32,
    n: usize,
) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let f = (i + 1) as f64 / n as f64;
            let cond: Vec<f64> = from.iter().zip(to).map(|(a, b)| a + (b - a) * f).collect();
            let t = f64::from(t0) + i as f64 * f64::from(dt);
            sample(w, &cond, t)
        })
        .collect()
}

fn sample(w: &NetworkWeights, cond: &[f64], t: f64) -> f64 {
    let half = cond.len() / 2;
    let mut h = vec![t];
    let mut film_offset = 0;
    for layer in &w.layers {
        let at = film_offset;
        if layer.film && w.conditioning == Conditioning::FilmPerLayer {
            film_offset += layer.out_features;
        }
        h = (0..layer.out_features)
            .map(|o| {
                let row = &layer.weight[o * layer.in_features..][..layer.in_features];
                let mut pre = f64::from(layer.bias[o])
                    + row
                        .iter()
                        .zip(&h)
                        .map(|(&w, &x)| f64::from(w) * x)
                        .sum::<f64>();
                if let Some(c) = &layer.concat {
                    let row = &c.weight[o * cond.len()..][..cond.len()];
                    pre += row
                        .iter()
                        .zip(cond)
                        .map(|(&w, &x)| f64::from(w) * x)
                        .sum::<f64>();
                    if let Some(time) = &c.time {
                        pre += f64::from(time[o]) * t;
                    }
                }
                let omega = f64::from(layer.omega[o]);
                let a = if layer.film && w.conditioning != Conditioning::Concat {
                    (omega + cond[at + o]) * pre + cond[half + at + o]
                } else {
                    omega * pre
                };
                match layer.activation {
                    Activation::Sine => a.sin(),
                    Activation::LeakyRelu if a < 0.0 => a * 0.02,
                    _ => a,
                }
            })
            .collect();
    }
    h[0]
}
