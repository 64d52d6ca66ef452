//! Decoder tests: parameter counts, init statistics, shapes, the analytic derivative against
//! central finite differences in f64, weight norm, state round trip.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use sirenade_common::model_config::{model_names, ModelConfig};

use super::init::{Dist, InitRng};
use super::*;

/// Builds a named model in the given dtype on the CPU.
fn build(name: &str, dtype: DType) -> Decoder {
    Decoder::new(&ModelConfig::named(name).unwrap(), 3, dtype, &Device::Cpu).unwrap()
}

/// Latents `[b, latent]` with N(0, std^2) entries and coordinates `[b, n]` spread over [-1, 1).
fn inputs(config: &ModelConfig, b: usize, n: usize, std: f64, dtype: DType) -> (Tensor, Tensor) {
    let mut rng = InitRng::new(11);
    let z = rng.sample(Dist::Normal { std }, b * config.latent_size);
    let t = rng.sample(Dist::symmetric(1.0), b * n);
    (
        Tensor::from_vec(z, (b, config.latent_size), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
        Tensor::from_vec(t, (b, n), &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap(),
    )
}

/// Number of trained scalars of a decoder, weight-norm gains excluded.
fn counted_parameters(decoder: &Decoder) -> usize {
    decoder
        .named_vars()
        .iter()
        .filter(|v| !v.name.ends_with("weight_g"))
        .map(|v| v.var.as_tensor().elem_count())
        .sum()
}

#[test]
fn parameter_counts_match_the_config() {
    for name in model_names() {
        let decoder = build(name, DType::F32);
        let config = decoder.config();
        assert_eq!(
            counted_parameters(&decoder),
            config.parameter_count(),
            "{name}"
        );
        let all: usize = decoder
            .named_vars()
            .iter()
            .map(|v| v.var.as_tensor().elem_count())
            .sum();
        assert_eq!(
            all,
            config.parameter_count() + config.weight_norm_gain_count(),
            "{name}"
        );
        let mapping: usize = decoder
            .vars(ParamGroup::Mapping)
            .iter()
            .map(|v| v.as_tensor().elem_count())
            .sum();
        let expected_mapping: usize = config
            .layer_shapes()
            .iter()
            .filter(|l| l.name.starts_with("mapping"))
            .map(|l| l.parameters)
            .sum();
        assert_eq!(mapping, expected_mapping, "{name}");
    }
    assert_eq!(counted_parameters(&build("pigan", DType::F32)), 790_273);
}

/// Sample standard deviation of a tensor's entries.
fn std_of(t: &Tensor) -> f64 {
    let v: Vec<f64> = t
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
}

#[test]
fn init_statistics_follow_the_reference_formulas() {
    // (model, expected std of every layer's weight, in layer_shapes order). Formulas of
    // docs/reference-code.md, "Weight initialisation": mapping Kaiming a=0.2 (last x0.25, or
    // x1 for concat, or U(±1/16) x0.25 for the depth-0 mapping), first sine U(±1/in), hidden sine
    // U(±sqrt(6/in)/omega), LeakyReLU N(0, 1.41393/sqrt(in))/omega, final U(±sqrt(6/in)/30),
    // final sine U(±sqrt(6/in)).
    let kaiming = (2.0f64 / 1.04).sqrt() / 16.0;
    let u = |bound: f64| bound / 3f64.sqrt();
    let hidden_sine = u((6.0f64 / 256.0).sqrt() / 245.0);
    let leaky = (2.0f64 / (1.0 + 0.0004)).sqrt() / 16.0 / 245.0;
    let final_none = u((6.0f64 / 256.0).sqrt() / 30.0);
    let mapping = [kaiming, kaiming, kaiming, kaiming * 0.25];
    let cases: Vec<(&str, Vec<f64>)> = vec![
        (
            "pigan",
            [&mapping[..], &[u(1.0)], &[hidden_sine; 7], &[final_none]].concat(),
        ),
        (
            "pigan-sine-first",
            [&mapping[..], &[u(1.0)], &[leaky; 7], &[final_none]].concat(),
        ),
        (
            "pigan-sine-last",
            [
                &mapping[..],
                &[(2.0f64 / 1.0004).sqrt() / 1760.0],
                &[leaky; 7],
                &[u((6.0f64 / 256.0).sqrt())],
            ]
            .concat(),
        ),
        (
            "pigan-min-mapping",
            [
                &[u(1.0 / 16.0) * 0.25][..],
                &[u(1.0)],
                &[hidden_sine; 7],
                &[final_none],
            ]
            .concat(),
        ),
        (
            "pigan-concat-middle",
            [
                &[kaiming; 4][..],
                &[u(1.0 / 257.0)],
                &[hidden_sine; 3],
                &[u((6.0f64 / 513.0).sqrt() / 245.0)],
                &[hidden_sine; 3],
                &[final_none],
            ]
            .concat(),
        ),
    ];
    for (name, expected) in cases {
        let decoder = build(name, DType::F32);
        let weights = decoder.folded_linears().unwrap();
        assert_eq!(weights.len(), expected.len(), "{name}");
        for ((layer, w, _), want) in weights.iter().zip(expected) {
            let got = std_of(w);
            assert!(
                (got / want - 1.0).abs() < 0.05,
                "{name} {layer}: std {got} vs {want}"
            );
        }
    }
}

#[test]
fn init_statistics_of_every_film_sine_shape_follow_the_formulas() {
    // The named models of sine FiLM layers not covered above, their expected stds computed
    // from each layer's fan-in by the formulas of docs/reference-code.md, "Weight
    // initialisation": mapping Kaiming normal
    // (a = 0.2) and its last layer x0.25, first sine U(±1/in), hidden sines
    // U(±sqrt(6/in)/omega_hidden), final linear U(±sqrt(6/in)/30). Tolerance 5%, or 3 standard
    // errors of a sample std (sqrt(0.5/n) relative, at most, for these distributions) where a
    // layer has too few weights for 5% to be a fair test (the small models' 96- and 128-weight
    // readouts).
    for name in [
        "pigan-five-mapping",
        "pigan-shrinking",
        "pigan-shrinking-thesis",
        "pigan-deep",
        "pigan-deep-thesis",
        "pigan-wide",
        "pigan-wide-thesis",
        "pigan-prog",
        "demo",
        "live",
        "layered-96",
        "layered-192",
    ] {
        let config = ModelConfig::named(name).unwrap();
        let decoder = build(name, DType::F32);
        let weights = decoder.folded_linears().unwrap();
        let mappings = weights
            .iter()
            .filter(|(l, _, _)| l.starts_with("mapping"))
            .count();
        for (layer, w, _) in &weights {
            let (outputs, fan_in) = w.dims2().unwrap();
            let fan_in = fan_in as f64;
            let u = |bound: f64| bound / 3f64.sqrt();
            let want = if let Some(i) = layer.strip_prefix("mapping.") {
                let kaiming = (2.0f64 / 1.04).sqrt() / fan_in.sqrt();
                if i.parse::<usize>().unwrap() + 1 == mappings {
                    kaiming * 0.25
                } else {
                    kaiming
                }
            } else if layer == "synthesis.0" {
                u(1.0 / fan_in)
            } else if layer == "output" {
                u((6.0 / fan_in).sqrt() / 30.0)
            } else {
                u((6.0 / fan_in).sqrt() / config.omega_hidden)
            };
            let n = (outputs as f64) * fan_in;
            let tolerance = 0.05f64.max(3.0 * (0.5 / n).sqrt());
            let got = std_of(w);
            assert!(
                (got / want - 1.0).abs() < tolerance,
                "{name} {layer}: std {got} vs {want} (tolerance {tolerance})"
            );
        }
    }
}

#[test]
fn biases_follow_the_reference_distributions() {
    let decoder = build("pigan", DType::F64);
    for (layer, _, b) in decoder.folded_linears().unwrap() {
        let v: Vec<f64> = b.to_vec1().unwrap();
        let (low, high) = if layer.starts_with("synthesis") {
            (0.0, std::f64::consts::TAU)
        } else {
            (-1.0 / 16.0, 1.0 / 16.0)
        };
        assert!(v.iter().all(|x| (low..high).contains(x)), "{layer}");
    }
    let relu = build("pigan-relu", DType::F64);
    let (_, _, b) = &relu.folded_linears().unwrap()[4];
    assert!(b.to_vec1::<f64>().unwrap().iter().all(|&x| x == 0.0));
}

#[test]
fn weight_norm_gains_are_row_norms_and_change_nothing_at_init() {
    let with = build("pigan", DType::F64);
    let config = ModelConfig {
        weight_norm: false,
        ..ModelConfig::named("pigan").unwrap()
    };
    let without = Decoder::new(&config, 3, DType::F64, &Device::Cpu).unwrap();
    let (z, t) = inputs(&config, 2, 64, 1.0, DType::F64);
    let a: Vec<Vec<f64>> = with.forward(&z, &t).unwrap().to_vec2().unwrap();
    let b: Vec<Vec<f64>> = without.forward(&z, &t).unwrap().to_vec2().unwrap();
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    }
    let vars = with.named_vars();
    let g = vars
        .iter()
        .find(|v| v.name == "synthesis.2.weight_g")
        .unwrap();
    let v = vars
        .iter()
        .find(|v| v.name == "synthesis.2.weight_v")
        .unwrap();
    let norms: Vec<f64> = v
        .var
        .as_tensor()
        .sqr()
        .unwrap()
        .sum(1)
        .unwrap()
        .sqrt()
        .unwrap()
        .to_vec1()
        .unwrap();
    let gains: Vec<f64> = g.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(norms, gains);
}

#[test]
fn forward_shapes_and_shape_errors() {
    for name in ["pigan", "pigan-concat-all", "demo", "pigan-shrinking"] {
        let decoder = build(name, DType::F32);
        let (z, t) = inputs(decoder.config(), 3, 50, 0.001, DType::F32);
        assert_eq!(decoder.forward(&z, &t).unwrap().dims(), &[3, 50], "{name}");
        let (y, dy) = decoder.forward_with_derivative(&z, &t).unwrap();
        assert_eq!(y.dims(), &[3, 50]);
        assert_eq!(dy.dims(), &[3, 50]);
    }
    let decoder = build("demo", DType::F32);
    let (z, t) = inputs(decoder.config(), 3, 50, 0.001, DType::F32);
    assert_eq!(decoder.mapping_output(&z).unwrap().dims(), &[3, 192]);
    let bad_z = z.narrow(1, 0, 10).unwrap();
    let err = decoder.forward(&bad_z, &t).unwrap_err().to_string();
    assert!(
        err.contains("latents z") && err.contains("[B, 256]"),
        "{err}"
    );
    let config = decoder.config().clone();
    let err = Decoder::new(&config, 0, DType::U8, &Device::Cpu)
        .err()
        .unwrap();
    assert!(err.to_string().contains("floating-point"), "{err}");
    let bad_t = t.narrow(0, 0, 2).unwrap();
    let err = decoder.forward(&z, &bad_t).unwrap_err().to_string();
    assert!(err.contains("coordinates t"), "{err}");
}

#[test]
fn same_seed_same_weights_in_f32_and_f64() {
    let a = build("demo", DType::F32);
    let b = build("demo", DType::F64);
    for ((_, wa, _), (_, wb, _)) in a
        .folded_linears()
        .unwrap()
        .iter()
        .zip(b.folded_linears().unwrap())
    {
        let wb32 = wb.to_dtype(DType::F32).unwrap();
        let diff = (wa - wb32).unwrap().abs().unwrap().max_all().unwrap();
        assert_eq!(diff.to_scalar::<f32>().unwrap(), 0.0);
    }
}

/// Largest |analytic - central difference| relative to max(1, max |analytic|), in f64.
fn derivative_error(decoder: &Decoder, z: &Tensor, t: &Tensor, h: f64) -> f64 {
    let (_, dy) = decoder.forward_with_derivative(z, t).unwrap();
    let plus = decoder.forward(z, &(t + h).unwrap()).unwrap();
    let minus = decoder.forward(z, &(t - h).unwrap()).unwrap();
    let fd: Vec<f64> = ((plus - minus).unwrap() / (2.0 * h))
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let dy: Vec<f64> = dy.flatten_all().unwrap().to_vec1().unwrap();
    let scale = dy.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    dy.iter()
        .zip(&fd)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn analytic_derivative_matches_finite_differences_in_f64() {
    // Central differences in f64 with step h: truncation error ~ h^2 |f'''| / 6, rounding error
    // ~ 1e-16 |f| / h. Smooth (all-sine) models use h = 1e-7 (observed error <= 2e-7 of the
    // largest |df/dt|). Models with LeakyReLU use h = 1e-8: with h = 1e-7 some of the 57k
    // pre-activations per run lie within h |da/dt| of the kink and the difference quotient
    // straddles it (observed 3e-2); at 1e-8 none does (observed <= 2e-7).
    const TOLERANCE: f64 = 1e-6;
    for (name, h) in [
        ("pigan", 1e-7),
        ("pigan-sine-first", 1e-8),
        ("pigan-sine-last", 1e-8),
        ("pigan-relu", 1e-8),
        ("pigan-concat-middle", 1e-7),
        ("pigan-concat-all", 1e-7),
        ("pigan-shrinking", 1e-7),
        ("demo", 1e-7),
        ("layered-96", 1e-7),
    ] {
        let decoder = build(name, DType::F64);
        let (z, t) = inputs(decoder.config(), 2, 16, 0.5, DType::F64);
        let err = derivative_error(&decoder, &z, &t, h);
        assert!(err < TOLERANCE, "{name}: relative error {err}");
    }
    let mut prog = build("pigan-prog", DType::F64);
    let schedule = ProgressiveSchedule::new(8, 256, 10_000);
    prog.set_progressive_mask(&schedule.mask(3 * 312 + 100))
        .unwrap();
    let (z, t) = inputs(prog.config(), 2, 16, 0.5, DType::F64);
    let err = derivative_error(&prog, &z, &t, 1e-7);
    assert!(err < TOLERANCE, "pigan-prog: relative error {err}");
}

#[test]
fn progressive_mask_gates_the_first_layer() {
    let mut decoder = build("pigan-prog", DType::F64);
    let (z, t) = inputs(decoder.config(), 1, 32, 0.5, DType::F64);
    let off: Vec<f64> = decoder
        .forward(&z, &t)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(
        off.iter().all(|&y| (y - off[0]).abs() < 1e-12),
        "masked model is constant in t"
    );
    let omega: Vec<f64> = decoder.omegas()[0].to_vec1().unwrap();
    assert!(omega.windows(2).all(|w| w[0] <= w[1]));
    assert!(omega.iter().all(|&w| (0.0..10_000.0).contains(&w)));
    decoder.set_progressive_mask(&[1.0; 256]).unwrap();
    let on: Vec<f64> = decoder
        .forward(&z, &t)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!(on.iter().any(|&y| (y - on[0]).abs() > 1e-9));
    assert!(decoder.set_progressive_mask(&[1.0; 3]).is_err());
    assert!(build("pigan", DType::F64)
        .set_progressive_mask(&[1.0; 256])
        .is_err());
}

#[test]
fn state_round_trips_and_mismatches_are_named() {
    let source = build("pigan-prog", DType::F32);
    let mut target = Decoder::new(source.config(), 99, DType::F32, &Device::Cpu).unwrap();
    let state: HashMap<String, Tensor> = source.state_tensors().into_iter().collect();
    target.load_state(&state).unwrap();
    let (z, t) = inputs(source.config(), 2, 8, 0.5, DType::F32);
    let mut source = source;
    source.set_progressive_mask(&[1.0; 256]).unwrap();
    target.set_progressive_mask(&[1.0; 256]).unwrap();
    let a: Vec<Vec<f32>> = source.forward(&z, &t).unwrap().to_vec2().unwrap();
    let b: Vec<Vec<f32>> = target.forward(&z, &t).unwrap().to_vec2().unwrap();
    assert_eq!(a, b);
    let mut partial = state.clone();
    partial.remove("synthesis.0.omega");
    let err = target.load_state(&partial).unwrap_err().to_string();
    assert!(err.contains("synthesis.0.omega"), "{err}");
    let mut other = build("demo", DType::F32);
    let err = other.load_state(&state).unwrap_err().to_string();
    assert!(err.contains("expected shape"), "{err}");
}

/// A dense layer in plain f64: `W x + b` for `W` rows.
fn affine(w: &[Vec<f64>], b: &[f64], x: &[f64]) -> Vec<f64> {
    w.iter()
        .zip(b)
        .map(|(row, bias)| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + bias)
        .collect()
}

/// The decoder written out as scalar f64 loops from its folded weights: the slow, obvious
/// reference of the candle forward (FiLM `sin((omega + gamma) (W x + b) + beta)`, concat
/// `sin(omega (W [x; c; t] + b))`).
fn scalar_forward(decoder: &Decoder, z: &[f64], t: f64) -> f64 {
    let config = decoder.config();
    let linears: Vec<(Vec<Vec<f64>>, Vec<f64>)> = decoder
        .folded_linears()
        .unwrap()
        .into_iter()
        .map(|(_, w, b)| (w.to_vec2().unwrap(), b.to_vec1().unwrap()))
        .collect();
    let omegas: Vec<Vec<f64>> = decoder
        .omegas()
        .iter()
        .map(|o| o.to_vec1().unwrap())
        .collect();
    let depth = config.mapping.hidden_layers + 1;
    let mut m = z.to_vec();
    for (i, (w, b)) in linears[..depth].iter().enumerate() {
        m = affine(w, b, &m);
        if i + 1 < depth {
            m.iter_mut()
                .for_each(|v| *v = if *v >= 0.0 { *v } else { 0.2 * *v });
        }
    }
    let film = config.conditioning.is_film();
    let half = m.len() / 2;
    let mut h = vec![t];
    for (i, (w, b)) in linears[depth..linears.len() - 1].iter().enumerate() {
        let input = if film {
            h.clone()
        } else if i == 0 {
            [vec![t], m.clone()].concat()
        } else if config.is_concat_hidden(i) {
            [h.clone(), m.clone(), vec![t]].concat()
        } else {
            h.clone()
        };
        let a = affine(w, b, &input);
        h = a
            .iter()
            .enumerate()
            .map(|(j, a)| {
                let k = config.film_offset(i) + j;
                let pre = if film {
                    (omegas[i][j] + m[k]) * a + m[half + k]
                } else {
                    omegas[i][j] * a
                };
                pre.sin()
            })
            .collect();
    }
    let (w, b) = &linears[linears.len() - 1];
    affine(w, b, &h)[0]
}

#[test]
fn candle_forward_matches_a_scalar_f64_reference() {
    for name in [
        "pigan",
        "pigan-concat-middle",
        "pigan-shrinking",
        "layered-96",
    ] {
        let decoder = build(name, DType::F64);
        let (z, t) = inputs(decoder.config(), 2, 5, 0.5, DType::F64);
        let y: Vec<Vec<f64>> = decoder.forward(&z, &t).unwrap().to_vec2().unwrap();
        let zs: Vec<Vec<f64>> = z.to_vec2().unwrap();
        let ts: Vec<Vec<f64>> = t.to_vec2().unwrap();
        for b in 0..2 {
            for j in 0..5 {
                let want = scalar_forward(&decoder, &zs[b], ts[b][j]);
                assert!(
                    (y[b][j] - want).abs() < 1e-9,
                    "{name} item {b} point {j}: {} vs {want}",
                    y[b][j]
                );
            }
        }
    }
}
