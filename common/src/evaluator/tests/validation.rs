//! Construction rejects malformed weights and latents with precise errors.

use super::networks::{self, Shape};
use crate::evaluator::{Evaluator, EvaluatorError, Part, WeightsError};

fn error_of(edit: impl FnOnce(&mut crate::evaluator::NetworkWeights)) -> String {
    let mut w = networks::network(&Shape::small(), 31);
    edit(&mut w);
    match Evaluator::new(w) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wrong_shapes_are_named() {
    assert_eq!(
        error_of(|w| {
            w.layers[2].weight.pop();
        }),
        "synthesis layer 2: weight has 16383 values, expected 16384"
    );
    assert_eq!(
        error_of(|w| w.mapping[1].in_features = 5),
        "mapping layer 1 takes 5 inputs, but its input has 128 values"
    );
    assert_eq!(
        error_of(|w| w.layers.last_mut().unwrap().omega.push(1.0)),
        "synthesis layer 4: omega has 2 values, expected 1"
    );
    assert_eq!(
        error_of(|w| w.layers.truncate(3)),
        "the last synthesis layer has 128 outputs; the network must end in one amplitude"
    );
}

#[test]
fn non_finite_weights_are_rejected() {
    let mut w = networks::network(&Shape::small(), 32);
    w.layers[1].bias[5] = f32::NAN;
    assert!(matches!(
        Evaluator::new(w),
        Err(EvaluatorError::Weights(WeightsError::NotFinite {
            part: Part::Synth(1),
            tensor: "bias",
            index: 5,
            ..
        }))
    ));
    assert!(error_of(|w| w.mapping[0].weight[3] = f32::INFINITY).starts_with("mapping layer 0"));
}

#[test]
fn conditioning_rules_are_checked() {
    assert_eq!(
        error_of(|w| w.mapping.last_mut().unwrap().out_features = 255),
        "mapping layer 2: weight has 32768 values, expected 32640"
    );
    let mut w = networks::network(&Shape::small(), 33);
    let last = w.mapping.last_mut().unwrap();
    last.out_features = 200;
    last.weight.truncate(200 * 128);
    last.bias.truncate(200);
    assert_eq!(
        Evaluator::new(w).err().unwrap().to_string(),
        "synthesis layer 0 has 128 FiLM units but gamma and beta have 100"
    );
}

#[test]
fn bad_latents_are_rejected() {
    let mut ev = Evaluator::new(networks::network(&Shape::small(), 34)).unwrap();
    assert_eq!(
        ev.prepare(&[0.0; 3]),
        Err(EvaluatorError::LatentLength {
            found: 3,
            expected: 64
        })
    );
    let mut z = vec![0.0; 64];
    z[9] = f32::NAN;
    assert_eq!(ev.set_latent(&z), Err(EvaluatorError::LatentNotFinite(9)));
}
