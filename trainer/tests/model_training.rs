//! The model and optimiser public API used the way the training loop uses it: gradients reach
//! every variable through both forward paths, and a few hundred steps fit two short signals.

use candle_core::{DType, Device, Tensor, Var};
use sirenade_common::model_config::ModelConfig;
use sirenade_trainer::model::{Decoder, ParamGroup};
use sirenade_trainer::optim::{AdaBelief, Hyper, Optimizer, VarGroup};

/// Coordinates `[2, n]` on the training grid and two target signals (a sine and a decaying
/// sine) sampled there.
fn targets(n: usize) -> (Tensor, Tensor) {
    let t: Vec<f32> = (0..n).map(|j| -1.0 + 2.0 * j as f32 / n as f32).collect();
    let a: Vec<f32> = t.iter().map(|&t| 0.3 * (40.0 * t).sin()).collect();
    let b: Vec<f32> = t
        .iter()
        .map(|&t| 0.2 * (-(t + 1.0)).exp() * (25.0 * t + 1.0).sin())
        .collect();
    let coords = Tensor::from_vec([t.clone(), t].concat(), (2, n), &Device::Cpu).unwrap();
    let x = Tensor::from_vec([a, b].concat(), (2, n), &Device::Cpu).unwrap();
    (coords, x)
}

/// Deterministic small latents `[2, 256]` (the reference initialises them with std 0.001).
fn latents() -> Var {
    let z: Vec<f32> = (0..512).map(|i| 0.001 * (i as f32 * 1.7).sin()).collect();
    Var::from_vec(z, (2, 256), &Device::Cpu).unwrap()
}

/// A small FiLM model with weight norm and low omegas, so that a short CPU run can fit it.
fn small_config() -> ModelConfig {
    ModelConfig {
        omega_first: 30.0,
        omega_hidden: 30.0,
        weight_norm: true,
        ..ModelConfig::named("demo").unwrap()
    }
}

#[test]
fn gradients_reach_every_variable_through_the_derivative() {
    let decoder = Decoder::new(&small_config(), 5, DType::F32, &Device::Cpu).unwrap();
    let (t, _) = targets(64);
    let z = latents();
    let (y, dy) = decoder.forward_with_derivative(z.as_tensor(), &t).unwrap();
    let loss =
        (y.sqr().unwrap().sum_all().unwrap() + dy.sqr().unwrap().mean_all().unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    for v in decoder.named_vars() {
        assert!(
            grads.get(v.var.as_tensor()).is_some(),
            "no gradient for {}",
            v.name
        );
    }
    assert!(grads.get(z.as_tensor()).is_some());
}

#[test]
fn gradients_flow_through_leaky_and_concat_variants() {
    for name in ["pigan-sine-first", "pigan-concat-middle"] {
        let config = ModelConfig::named(name).unwrap();
        let decoder = Decoder::new(&config, 5, DType::F32, &Device::Cpu).unwrap();
        let (t, _) = targets(16);
        let (y, dy) = decoder
            .forward_with_derivative(latents().as_tensor(), &t)
            .unwrap();
        let loss =
            (y.sqr().unwrap().sum_all().unwrap() + dy.sqr().unwrap().mean_all().unwrap()).unwrap();
        let grads = loss.backward().unwrap();
        for v in decoder.named_vars() {
            assert!(
                grads.get(v.var.as_tensor()).is_some(),
                "{name}: no gradient for {}",
                v.name
            );
        }
    }
}

#[test]
fn a_short_fit_lowers_the_loss_tenfold() {
    let decoder = Decoder::new(&small_config(), 5, DType::F32, &Device::Cpu).unwrap();
    let (t, x) = targets(256);
    let z = latents();
    let group = |g| VarGroup {
        vars: decoder.vars(g),
        weight_decay: 0.0,
    };
    let mut synthesis =
        AdaBelief::new(vec![group(ParamGroup::Synthesis)], Hyper::adabelief(1e-3)).unwrap();
    let mut mapping =
        AdaBelief::new(vec![group(ParamGroup::Mapping)], Hyper::adabelief(1e-3)).unwrap();
    let mse = |y: &Tensor| -> Tensor { (y - &x).unwrap().sqr().unwrap().mean_all().unwrap() };
    let first = mse(&decoder.forward(z.as_tensor(), &t).unwrap())
        .to_scalar::<f32>()
        .unwrap();
    for _ in 0..300 {
        let loss = mse(&decoder.forward(z.as_tensor(), &t).unwrap());
        let grads = loss.backward().unwrap();
        synthesis.step(&grads).unwrap();
        mapping.step(&grads).unwrap();
    }
    let last = mse(&decoder.forward(z.as_tensor(), &t).unwrap())
        .to_scalar::<f32>()
        .unwrap();
    assert!(last < first / 10.0, "loss {first} -> {last}");
}
