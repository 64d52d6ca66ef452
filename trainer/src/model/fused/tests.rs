//! The fused layer and the two network ops (fused and composed) against plain candle in f32:
//! values and every gradient, on small random shapes, through the ops themselves, through
//! [`FilmLayer`] (weight norm and FiLM around it), and through a whole decoder against the
//! plain decoder in f64.

use candle_core::{DType, Device, Tensor, Var};
use sirenade_common::model_config::{Activation, ModelConfig, Progressive};

use super::{film_sine, film_sine_network};
use crate::model::composed;
use crate::model::init::{Dist, InitRng};
use crate::model::layers::{Film, FilmLayer};
use crate::model::linear::matmul_last;
use crate::model::{Decoder, Dual, Linear, SineLayers};

/// Relative tolerance of f32 values and gradients against plain candle in f32.
const REL_TOL: f64 = 1e-4;
/// Relative tolerance of the composed op in f64 against plain candle in f64 (the two differ
/// in summation order only).
const F64_TOL: f64 = 1e-10;

/// A `[dims]` f32 tensor of U(-bound, bound) draws.
fn uniform(rng: &mut InitRng, dims: &[usize], bound: f64) -> Tensor {
    let n = dims.iter().product();
    let v = rng.sample(Dist::symmetric(bound), n);
    Tensor::from_vec(v, dims, &Device::Cpu)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
}

/// `len` deterministic values in [-1, 1), a different sequence for each `seed`: inputs for the
/// products' tests, which compare against f64 sums.
pub(super) fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed * 104_729) % 2000) as f32 / 1000.0 - 1.0)
        .collect()
}

/// max |a - b| / max |b|, over all elements (in f64).
fn rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    let (a, b) = (
        a.to_dtype(DType::F64).unwrap(),
        b.to_dtype(DType::F64).unwrap(),
    );
    let diff = (&a - &b).unwrap().abs().unwrap().max_all().unwrap();
    let scale = b.abs().unwrap().max_all().unwrap();
    diff.to_scalar::<f64>().unwrap() / scale.to_scalar::<f64>().unwrap().max(1e-300)
}

/// Asserts that `fused` and `plain` agree in value and, for the objective
/// `sum(output * probe)`, in the gradient of every named variable (each to `tol` relative).
fn assert_same_values_and_gradients(
    fused: &Tensor,
    plain: &Tensor,
    probe: &Tensor,
    vars: &[(&str, &Var)],
    case: &str,
    tol: f64,
) {
    let err = rel_err(fused, plain);
    assert!(err < tol, "value {case}: {err}");
    let grads = |y: &Tensor| (y * probe).unwrap().sum_all().unwrap().backward().unwrap();
    let (g_fused, g_plain) = (grads(fused), grads(plain));
    for (name, var) in vars {
        let a = g_fused.get(var).expect("fused gradient");
        let b = g_plain.get(var).expect("plain gradient");
        let err = rel_err(a, b);
        assert!(err < tol, "d/d{name} {case}: {err}");
    }
}

#[test]
fn op_matches_plain_candle_in_value_and_gradients() {
    let mut rng = InitRng::new(5);
    // (3, 1500, 4, 5) has more rows than one partial product of dL/dW (4,500 > 2,048), with a
    // remainder; the layers 16 or more inputs wide take the blocked backward, the last one over
    // three chunks of blocks cut at the items' ends, with column and row remainders.
    let cases = [
        (1, 1, 1, 1),
        (3, 7, 1, 12),
        (2, 33, 16, 9),
        (3, 1500, 4, 5),
        (3, 1500, 70, 13),
    ];
    for (items, points, inputs, outputs) in cases {
        let x = Var::from_tensor(&uniform(&mut rng, &[items, points, inputs], 1.0)).unwrap();
        let w = Var::from_tensor(&uniform(&mut rng, &[outputs, inputs], 1.0)).unwrap();
        let film = Var::from_tensor(&uniform(&mut rng, &[items, 2, outputs], 3.0)).unwrap();
        let probe = uniform(&mut rng, &[items, points, outputs], 1.0);

        let fused = film_sine(&x, &w, &film).unwrap();
        let scale = film.narrow(1, 0, 1).unwrap();
        let shift = film.narrow(1, 1, 1).unwrap();
        let plain = matmul_last(&x, &w)
            .unwrap()
            .broadcast_mul(&scale)
            .unwrap()
            .broadcast_add(&shift)
            .unwrap()
            .sin()
            .unwrap();
        let vars = [("x", &x), ("W", &w), ("film", &film)];
        let case = format!("{:?}", (items, points, inputs, outputs));
        assert_same_values_and_gradients(&fused, &plain, &probe, &vars, &case, REL_TOL);
    }
}

/// A random stack of `widths.len()` layers on inputs of width `inputs`: each layer's weight
/// `[out, in]` and film `[items, 2, out]` as variables.
fn random_stack(
    rng: &mut InitRng,
    items: usize,
    inputs: usize,
    widths: &[usize],
) -> Vec<(Var, Var)> {
    let mut fan_in = inputs;
    widths
        .iter()
        .map(|&out| {
            let w = Var::from_tensor(&uniform(rng, &[out, fan_in], 1.5 / fan_in as f64)).unwrap();
            let film = Var::from_tensor(&uniform(rng, &[items, 2, out], 3.0)).unwrap();
            fan_in = out;
            (w, film)
        })
        .collect()
}

/// The network in plain candle ops, layer by layer, then the readout `h w^T + b` (`w`
/// `[1, width]`): values and, given `dx`, their tangents (`cos(a) * scale * (dh W^T)` through
/// each layer, `dh w^T` at the readout), concatenated like the fused op's output.
fn plain_network(
    x: &Tensor,
    dx: Option<&Tensor>,
    layers: &[(Var, Var)],
    readout: &(Var, Var),
) -> Tensor {
    let (mut h, mut dh) = (x.clone(), dx.cloned());
    for (w, film) in layers {
        let scale = film.narrow(1, 0, 1).unwrap();
        let shift = film.narrow(1, 1, 1).unwrap();
        let a = matmul_last(&h, w)
            .unwrap()
            .broadcast_mul(&scale)
            .unwrap()
            .broadcast_add(&shift)
            .unwrap();
        dh = dh.map(|d| {
            let da = matmul_last(&d, w).unwrap().broadcast_mul(&scale).unwrap();
            a.cos().unwrap().mul(&da).unwrap()
        });
        h = a.sin().unwrap();
    }
    let (w, b) = readout;
    let y = matmul_last(&h, w).unwrap().broadcast_add(b).unwrap();
    match dh {
        Some(d) => Tensor::cat(&[&y, &matmul_last(&d, w).unwrap()], 1).unwrap(),
        None => y,
    }
}

/// The network ops under test: the fused CPU kernels and the composed candle ops.
type NetworkOpFn = fn(&Tensor, &Tensor, &Tensor, Vec<usize>, bool) -> candle_core::Result<Tensor>;
const NETWORK_OPS: [(&str, NetworkOpFn); 2] = [
    ("fused", film_sine_network),
    ("composed", composed::film_sine_network),
];

/// The network cases: (items, points, input width, layer widths). (2, 1100, 1, [6, 4])'s
/// stacked rows (2 x 2 x 1100) span three partial products of the fused op's dL/dW; the last
/// case's layers after the first take its blocked backward over two chunks.
const NETWORK_CASES: [(usize, usize, usize, &[usize]); 6] = [
    (1, 1, 1, &[1]),
    (3, 7, 1, &[12, 9, 5]),
    (2, 45, 4, &[8, 8]),
    (2, 70, 1, &[16, 16, 16, 3]),
    (2, 1100, 1, &[6, 4]),
    (2, 1100, 1, &[40, 33, 17]),
];

#[test]
fn network_ops_match_plain_candle_in_value_tangent_and_gradients() {
    let mut rng = InitRng::new(6);
    for (case, tangent, op) in NETWORK_CASES
        .into_iter()
        .flat_map(|c| [false, true].map(|t| (c, t)))
        .flat_map(|(c, t)| NETWORK_OPS.map(|op| (c, t, op)))
    {
        check_network_op(&mut rng, case, tangent, op, DType::F32, false);
    }
}

#[test]
fn composed_op_matches_plain_candle_in_f64_on_offset_inputs() {
    let mut rng = InitRng::new(16);
    for (case, tangent) in NETWORK_CASES
        .into_iter()
        .flat_map(|c| [false, true].map(|t| (c, t)))
    {
        check_network_op(&mut rng, case, tangent, NETWORK_OPS[1], DType::F64, true);
    }
}

/// Runs network op `op` on a random network of the given shape in `dtype` and compares it
/// with [`plain_network`] in value and every gradient (f32 to [`REL_TOL`], f64 to
/// [`F64_TOL`]); with `offset`, the packed weights and film are views starting inside larger
/// tensors.
fn check_network_op(
    rng: &mut InitRng,
    (items, points, inputs, widths): (usize, usize, usize, &[usize]),
    tangent: bool,
    (op_name, op): (&str, NetworkOpFn),
    dtype: DType,
    offset: bool,
) {
    let random = |rng: &mut InitRng, dims: &[usize], bound: f64| {
        Var::from_tensor(&uniform(rng, dims, bound).to_dtype(dtype).unwrap()).unwrap()
    };
    let x = random(rng, &[items, points, inputs], 1.0);
    let dx = random(rng, &[items, points, inputs], 5.0);
    let layers: Vec<(Var, Var)> = random_stack(rng, items, inputs, widths)
        .into_iter()
        .map(|(w, f)| {
            let to = |v: Var| Var::from_tensor(&v.to_dtype(dtype).unwrap()).unwrap();
            (to(w), to(f))
        })
        .collect();
    let width = *widths.last().unwrap();
    let readout = (random(rng, &[1, width], 1.0), random(rng, &[1], 1.0));
    let rows = if tangent { 2 * points } else { points };
    let probe = uniform(rng, &[items, rows, 1], 1.0)
        .to_dtype(dtype)
        .unwrap();

    let input = if tangent {
        Tensor::cat(&[x.as_tensor(), dx.as_tensor()], 1).unwrap()
    } else {
        x.as_tensor().clone()
    };
    let mut weights: Vec<Tensor> = layers
        .iter()
        .map(|(w, _)| w.flatten_all().unwrap())
        .collect();
    let films: Vec<Tensor> = layers
        .iter()
        .map(|(_, f)| f.flatten_from(1).unwrap())
        .collect();
    weights.push(readout.0.flatten_all().unwrap());
    weights.push(readout.1.as_tensor().clone());
    let (mut weights, mut film) = (
        Tensor::cat(&weights, 0).unwrap(),
        Tensor::cat(&films, 1).unwrap(),
    );
    if offset {
        let pad = |t: &Tensor, dim: usize| {
            let mut dims = t.dims().to_vec();
            dims[dim] = 3;
            let zeros = Tensor::zeros(dims, dtype, &Device::Cpu).unwrap();
            let len = t.dim(dim).unwrap();
            Tensor::cat(&[&zeros, t], dim)
                .unwrap()
                .narrow(dim, 3, len)
                .unwrap()
        };
        // A narrow of the leading axis stays contiguous, starting 3 elements in.
        weights = pad(&weights, 0);
        assert!(weights.is_contiguous() && weights.layout().start_offset() == 3);
        film = pad(&film.unsqueeze(0).unwrap(), 0).squeeze(0).unwrap();
        assert!(film.is_contiguous() && film.layout().start_offset() > 0);
    }
    let fused = op(&input, &weights, &film, widths.to_vec(), tangent).unwrap();
    let plain = plain_network(&x, tangent.then_some(dx.as_tensor()), &layers, &readout);
    let mut vars = vec![("x".to_string(), x.clone())];
    if tangent {
        vars.push(("dx".to_string(), dx.clone()));
    }
    for (l, (w, f)) in layers.iter().enumerate() {
        vars.push((format!("W{l}"), w.clone()));
        vars.push((format!("film{l}"), f.clone()));
    }
    vars.push(("readout w".to_string(), readout.0.clone()));
    vars.push(("readout b".to_string(), readout.1.clone()));
    let vars: Vec<(&str, &Var)> = vars.iter().map(|(n, v)| (n.as_str(), v)).collect();
    let case = format!(
        "{op_name} {dtype:?} {:?}",
        (items, points, inputs, widths, tangent)
    );
    let tol = if dtype == DType::F64 {
        F64_TOL
    } else {
        REL_TOL
    };
    assert_same_values_and_gradients(&fused, &plain, &probe, &vars, &case, tol);
}

#[test]
fn network_ops_reject_inputs_that_do_not_fit_their_layers() {
    for (_, op) in NETWORK_OPS {
        rejects_misfits(op);
    }
}

/// Asserts that `op` names each way its inputs can misfit two layers 4 -> 5 -> 2.
fn rejects_misfits(op: NetworkOpFn) {
    let zeros = |dims: &[usize]| Tensor::zeros(dims, DType::F32, &Device::Cpu).unwrap();
    let run = |x: &[usize], w: &[usize], f: &[usize], tangent: bool| {
        op(&zeros(x), &zeros(w), &zeros(f), vec![5, 2], tangent)
            .unwrap_err()
            .to_string()
    };
    // Two layers 4 -> 5 -> 2 and a readout: 20 + 10 + 2 + 1 weights, 2 * (5 + 2) film
    // entries per item.
    let err = run(&[2, 3, 4], &[33], &[2, 14], true);
    assert!(err.contains("3 stacked rows per item"), "{err}");
    let err = run(&[2, 3, 4], &[30], &[2, 14], false);
    assert!(
        err.contains("weights [30]") && err.contains("[33]"),
        "{err}"
    );
    let err = run(&[2, 3, 4], &[33], &[3, 14], false);
    assert!(err.contains("film [3, 14]"), "{err}");
    let err = run(&[2, 3], &[33], &[2, 14], false);
    assert!(err.contains("do not fit [B, rows, in]"), "{err}");
}

#[test]
fn film_layer_fused_matches_its_plain_form() {
    let mut rng = InitRng::new(8);
    let (items, points, inputs, outputs, latent) = (3, 11, 10, 8, 20);
    let linear = Linear::new(
        &uniform(&mut rng, &[outputs, inputs], 0.3),
        &uniform(&mut rng, &[outputs], 0.3),
        true,
    )
    .unwrap();
    let layer = FilmLayer {
        film_offset: 0,
        linear,
        omega: Tensor::full(30f32, outputs, &Device::Cpu).unwrap(),
        activation: Activation::Sine,
    };
    let mapping = Var::from_tensor(&uniform(&mut rng, &[items, 2 * latent], 2.0)).unwrap();
    let film = Film::split(&mapping).unwrap();
    let x = Dual::plain(uniform(&mut rng, &[items, points, inputs], 1.0));
    let probe = uniform(&mut rng, &[items, points, outputs], 1.0);

    let fused = layer.forward(&x, &film).unwrap().value;
    let plain = layer.forward_plain(&x, &film).unwrap().value;
    let mut vars = layer.linear.vars();
    vars.push(("mapping", mapping));
    let vars: Vec<(&str, &Var)> = vars.iter().map(|(n, v)| (*n, v)).collect();
    assert_same_values_and_gradients(&fused, &plain, &probe, &vars, "FiLM layer", REL_TOL);
}

#[test]
fn f32_decoder_matches_the_f64_reference() {
    // The f32 decoder runs every sine FiLM layer fused (with the tangent stacked when the
    // derivative is asked for), as the composed network op, or plain, as told; the f64 one is
    // plain candle throughout.
    // Its first layer's omega (1760) puts pre-activations near 3000, where one f32 rounding
    // step (2.4e-4) already moves the sine by as much, so the tolerance here is looser.
    const DECODER_TOL: f64 = 2e-3;
    let config = ModelConfig::named("demo").unwrap();
    let mut rng = InitRng::new(2);
    let (items, points) = (2, 50);
    let z = rng.sample(Dist::Normal { std: 0.5 }, items * config.latent_size);
    let t = rng.sample(Dist::symmetric(1.0), items * points);
    // The progressive variant's first-layer mask is folded into the second layer's weights.
    let progressive = ModelConfig {
        progressive: Some(Progressive { groups: 4 }),
        ..config.clone()
    };
    // Per-layer FiLM: every layer reads (and sends gradients to) its own mapping outputs.
    let layered = ModelConfig::named("layered-96").unwrap();
    let cases = [
        (&layered, SineLayers::Fast, true),
        (&layered, SineLayers::Composed, false),
        (&config, SineLayers::Fast, false),
        (&config, SineLayers::Fast, true),
        (&config, SineLayers::Plain, true),
        (&progressive, SineLayers::Fast, false),
        (&progressive, SineLayers::Fast, true),
        (&config, SineLayers::Composed, false),
        (&config, SineLayers::Composed, true),
        (&progressive, SineLayers::Composed, true),
    ];
    for (config, sine_layers, derivative) in cases {
        let f32 =
            decoder_outputs_and_gradients(config, DType::F32, sine_layers, &z, &t, derivative);
        let f64 = decoder_outputs_and_gradients(
            config,
            DType::F64,
            SineLayers::Plain,
            &z,
            &t,
            derivative,
        );
        for ((name, a), (_, b)) in f32.iter().zip(&f64) {
            let diff: f64 = (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar()
                .unwrap();
            let scale: f64 = b.abs().unwrap().max_all().unwrap().to_scalar().unwrap();
            assert!(
                diff <= DECODER_TOL * scale.max(1e-12),
                "{name} ({sine_layers:?}, derivative {derivative}, progressive {}): {diff} vs {scale}",
                config.progressive.is_some()
            );
        }
    }
}

/// A fresh decoder's output (and, with `derivative`, its d/dt) for latents z and coordinates
/// t, then the gradients of every variable of `sum(y^2) + sum((dy/dt)^2) / 1e6` (the tangent
/// is about a thousand times the value), all as f64 with names.
fn decoder_outputs_and_gradients(
    config: &ModelConfig,
    dtype: DType,
    sine_layers: SineLayers,
    z: &[f64],
    t: &[f64],
    derivative: bool,
) -> Vec<(String, Tensor)> {
    let (items, points) = (2, t.len() / 2);
    let mut decoder = Decoder::new(config, 4, dtype, &Device::Cpu).unwrap();
    decoder.set_sine_layers(sine_layers);
    if config.progressive.is_some() {
        // Some units off, some fading in, some on.
        let width = config.layers[0].width;
        let mask: Vec<f64> = (0..width).map(|i| (i % 3) as f64 / 2.0).collect();
        decoder.set_progressive_mask(&mask).unwrap();
    }
    let to = |v: &[f64], dims: (usize, usize)| {
        Tensor::from_vec(v.to_vec(), dims, &Device::Cpu)
            .unwrap()
            .to_dtype(dtype)
            .unwrap()
    };
    let z = to(z, (items, config.latent_size));
    let t = to(t, (items, points));
    let mut tensors = Vec::new();
    let objective = if derivative {
        let (y, dy) = decoder.forward_with_derivative(&z, &t).unwrap();
        let objective = (y.sqr().unwrap().sum_all().unwrap()
            + (dy.sqr().unwrap().sum_all().unwrap() * 1e-6).unwrap())
        .unwrap();
        tensors.push(("output".to_string(), y.to_dtype(DType::F64).unwrap()));
        tensors.push(("derivative".to_string(), dy.to_dtype(DType::F64).unwrap()));
        objective
    } else {
        let y = decoder.forward(&z, &t).unwrap();
        tensors.push(("output".to_string(), y.to_dtype(DType::F64).unwrap()));
        y.sqr().unwrap().sum_all().unwrap()
    };
    let grads = objective.backward().unwrap();
    for v in decoder.named_vars() {
        let g = grads.get(v.var.as_tensor()).expect("gradient");
        tensors.push((v.name, g.to_dtype(DType::F64).unwrap()));
    }
    tensors
}
