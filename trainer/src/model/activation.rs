//! Synthesis activations applied to a [`Dual`], with their derivative rule.

use candle_core::{Result, Tensor};
use sirenade_common::model_config::{Activation, SYNTHESIS_LEAKY_SLOPE};

use super::dual::Dual;

/// Applies `activation` to the pre-activation `a` and carries its tangent:
/// sine `cos(a) da`, LeakyReLU `(a >= 0 ? 1 : slope) da`, identity `da`.
pub fn apply(activation: Activation, a: Dual) -> Result<Dual> {
    match activation {
        Activation::Sine => {
            let tangent = match &a.tangent {
                Some(da) => Some(a.value.cos()?.mul(da)?),
                None => None,
            };
            Ok(Dual {
                value: a.value.sin()?,
                tangent,
            })
        }
        Activation::LeakyRelu => {
            let slope = SYNTHESIS_LEAKY_SLOPE;
            let tangent = match &a.tangent {
                Some(da) => Some(leaky_gain(&a.value, slope)?.mul(da)?),
                None => None,
            };
            Ok(Dual {
                value: candle_nn::ops::leaky_relu(&a.value, slope)?,
                tangent,
            })
        }
        Activation::None => Ok(a),
    }
}

/// The LeakyReLU's local slope: 1 where `a >= 0`, `slope` elsewhere.
fn leaky_gain(a: &Tensor, slope: f64) -> Result<Tensor> {
    a.ge(0.0)?.to_dtype(a.dtype())?.affine(1.0 - slope, slope)
}
