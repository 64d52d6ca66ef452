//! AdaBelief and Adam checked step by step against the formulas evaluated here in plain f64.

use candle_core::{DType, Device, Tensor, Var};

use super::*;

/// Gradient coefficient of element `i` at step `k`: varied so that g - m changes sign.
fn coefficient(k: usize, i: usize) -> f64 {
    ((k * 7 + i * 3) % 5) as f64 * 0.4 - 0.9
}

/// The loss whose gradient is `c_k + p`: `sum(c_k p + p^2 / 2)`.
fn loss(k: usize, p: &Var) -> Tensor {
    let n = p.as_tensor().elem_count();
    let c: Vec<f64> = (0..n).map(|i| coefficient(k, i)).collect();
    let c = Tensor::from_vec(c, n, &Device::Cpu).unwrap();
    let p = p.as_tensor();
    ((p * &c).unwrap() + (p.sqr().unwrap() * 0.5).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
}

/// Which rule the scalar reference follows.
#[derive(Clone, Copy)]
enum Rule {
    AdaBelief,
    Adam,
}

/// The update rules written out per scalar: returns p after `steps` steps.
fn scalar_reference(rule: Rule, hyper: Hyper, lambda: f64, p0: &[f64], steps: usize) -> Vec<f64> {
    let Hyper {
        lr,
        beta1,
        beta2,
        eps,
    } = hyper;
    let mut p = p0.to_vec();
    let mut m = vec![0.0; p.len()];
    let mut s = vec![0.0; p.len()];
    for k in 1..=steps {
        for i in 0..p.len() {
            let g = coefficient(k, i) + p[i] + lambda * p[i];
            m[i] = beta1 * m[i] + (1.0 - beta1) * g;
            match rule {
                Rule::AdaBelief => {
                    s[i] = beta2 * s[i] + (1.0 - beta2) * (g - m[i]) * (g - m[i]);
                    s[i] += eps;
                }
                Rule::Adam => s[i] = beta2 * s[i] + (1.0 - beta2) * g * g,
            }
            let bc1 = 1.0 - beta1.powi(k as i32);
            let bc2 = 1.0 - beta2.powi(k as i32);
            let denom = s[i].sqrt() / bc2.sqrt() + eps;
            p[i] -= lr / bc1 * m[i] / denom;
        }
    }
    p
}

/// Runs `steps` steps of the optimiser on two groups (lambda 0.1 and 0) and compares with the
/// scalar reference to 1e-12.
fn check_against_reference(rule: Rule, hyper: Hyper, steps: usize) {
    let a0 = [0.5, -1.0, 2.0];
    let b0 = [0.25, -0.75];
    let a = Var::new(&a0[..], &Device::Cpu).unwrap();
    let b = Var::new(&b0[..], &Device::Cpu).unwrap();
    let groups = vec![
        VarGroup {
            vars: vec![a.clone()],
            weight_decay: 0.1,
        },
        VarGroup {
            vars: vec![b.clone()],
            weight_decay: 0.0,
        },
    ];
    let mut opt: Box<dyn Optimizer> = match rule {
        Rule::AdaBelief => Box::new(AdaBelief::new(groups, hyper).unwrap()),
        Rule::Adam => Box::new(Adam::new(groups, hyper).unwrap()),
    };
    for k in 1..=steps {
        let total = (loss(k, &a) + loss(k, &b)).unwrap();
        opt.step(&total.backward().unwrap()).unwrap();
    }
    for (var, p0, lambda) in [(&a, &a0[..], 0.1), (&b, &b0[..], 0.0)] {
        let want = scalar_reference(rule, hyper, lambda, p0, steps);
        let got: Vec<f64> = var.as_tensor().to_vec1().unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }
    assert!(opt.state().iter().all(|s| s.step == steps as u64));
}

#[test]
fn adabelief_first_step_by_hand() {
    // p = 1, g = 0.5, lr 0.1: m = 0.05, s = 0.001 * 0.45^2 = 2.025e-4 (+1e-16),
    // denom = sqrt(2.025e-4) / sqrt(0.001) = 0.45, step = 0.1 / 0.1 * 0.05 / 0.45 = 1/9.
    let p = Var::new(&[1.0f64][..], &Device::Cpu).unwrap();
    let mut opt = AdaBelief::new(
        vec![VarGroup {
            vars: vec![p.clone()],
            weight_decay: 0.0,
        }],
        Hyper::adabelief(0.1),
    )
    .unwrap();
    let grads = (p.as_tensor() * 0.5)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    opt.step(&grads).unwrap();
    let got: Vec<f64> = p.as_tensor().to_vec1().unwrap();
    assert!((got[0] - (1.0 - 1.0 / 9.0)).abs() < 1e-12, "{got:?}");
    let s: Vec<f64> = opt.state()[0].second.to_vec1().unwrap();
    assert!((s[0] - (2.025e-4 + 1e-16)).abs() < 1e-18, "{s:?}");
}

#[test]
fn adam_first_step_by_hand() {
    // Step 1 of Adam moves by lr * g / (|g| + eps) = lr * sign(g) up to eps.
    let p = Var::new(&[1.0f64, 1.0][..], &Device::Cpu).unwrap();
    let mut opt = Adam::new(
        vec![VarGroup {
            vars: vec![p.clone()],
            weight_decay: 0.0,
        }],
        Hyper::adam(0.1),
    )
    .unwrap();
    let c = Tensor::new(&[0.5f64, -2.0][..], &Device::Cpu).unwrap();
    let grads = (p.as_tensor() * c)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    opt.step(&grads).unwrap();
    let got: Vec<f64> = p.as_tensor().to_vec1().unwrap();
    assert!(
        (got[0] - 0.9).abs() < 1e-7 && (got[1] - 1.1).abs() < 1e-7,
        "{got:?}"
    );
}

#[test]
fn adabelief_matches_reference_over_steps() {
    check_against_reference(Rule::AdaBelief, Hyper::adabelief(1e-2), 6);
    // A large eps makes its in-place accumulation in s visible in the result.
    let big_eps = Hyper {
        eps: 1e-3,
        ..Hyper::adabelief(1e-2)
    };
    check_against_reference(Rule::AdaBelief, big_eps, 6);
}

#[test]
fn adam_matches_reference_over_steps() {
    check_against_reference(Rule::Adam, Hyper::adam(1e-2), 6);
}

#[test]
fn variables_without_gradient_are_left_alone() {
    let used = Var::new(&[1.0f32][..], &Device::Cpu).unwrap();
    let unused = Var::new(&[2.0f32][..], &Device::Cpu).unwrap();
    let mut opt = OptimizerKind::AdaBelief
        .build(
            vec![VarGroup {
                vars: vec![used.clone(), unused.clone()],
                weight_decay: 1.0,
            }],
            0.1,
        )
        .unwrap();
    let grads = used.as_tensor().sum_all().unwrap().backward().unwrap();
    opt.step(&grads).unwrap();
    assert_eq!(unused.as_tensor().to_vec1::<f32>().unwrap(), vec![2.0]);
    let steps: Vec<u64> = opt.state().iter().map(|s| s.step).collect();
    assert_eq!(steps, vec![1, 0]);
}

#[test]
fn state_restore_continues_identically() {
    let hyper = Hyper::adabelief(1e-2);
    let make = |values: &[f64]| {
        let v = Var::new(values, &Device::Cpu).unwrap();
        let opt = AdaBelief::new(
            vec![VarGroup {
                vars: vec![v.clone()],
                weight_decay: 0.05,
            }],
            hyper,
        )
        .unwrap();
        (v, opt)
    };
    let (a, mut opt_a) = make(&[0.3, -0.2]);
    for k in 1..=3 {
        opt_a.step(&loss(k, &a).backward().unwrap()).unwrap();
    }
    let snapshot: Vec<f64> = a.as_tensor().to_vec1().unwrap();
    let (b, mut opt_b) = make(&snapshot);
    opt_b.load_state(opt_a.state()).unwrap();
    for k in 4..=6 {
        opt_a.step(&loss(k, &a).backward().unwrap()).unwrap();
        opt_b.step(&loss(k, &b).backward().unwrap()).unwrap();
    }
    assert_eq!(
        a.as_tensor().to_vec1::<f64>().unwrap(),
        b.as_tensor().to_vec1::<f64>().unwrap()
    );
    let wrong = vec![Slot {
        step: 1,
        first: Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap(),
        second: Tensor::zeros(3, DType::F64, &Device::Cpu).unwrap(),
    }];
    assert!(opt_b.load_state(wrong).is_err());
    assert!(opt_b.load_state(Vec::new()).is_err());
}

#[test]
fn learning_rate_and_weight_decay_are_settable_and_kinds_parse() {
    let v = Var::new(&[1.0f64][..], &Device::Cpu).unwrap();
    let mut opt = OptimizerKind::Adam
        .build(
            vec![VarGroup {
                vars: vec![v.clone()],
                weight_decay: 0.0,
            }],
            1e-3,
        )
        .unwrap();
    opt.set_learning_rate(0.5);
    assert_eq!(opt.learning_rate(), 0.5);
    opt.set_weight_decay(0, 2.0);
    // Gradient 0 plus lambda p = 2: the first Adam step moves by lr against sign(2).
    let zero = Tensor::zeros(1, DType::F64, &Device::Cpu).unwrap();
    let grads = (v.as_tensor() * zero)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    opt.step(&grads).unwrap();
    let got: Vec<f64> = v.as_tensor().to_vec1().unwrap();
    assert!((got[0] - 0.5).abs() < 1e-7, "{got:?}");
    // The names a config file and `--optimizer` take.
    let parse = |name: &str| serde_json::from_value::<OptimizerKind>(name.into());
    assert_eq!(parse("adam").unwrap(), OptimizerKind::Adam);
    assert_eq!(parse("adabelief").unwrap(), OptimizerKind::AdaBelief);
    let err = parse("sgd").unwrap_err().to_string();
    assert!(err.contains("sgd") && err.contains("adabelief"), "{err}");
    use clap::ValueEnum;
    assert_eq!(
        OptimizerKind::from_str("adabelief", false).unwrap(),
        OptimizerKind::AdaBelief
    );
}
