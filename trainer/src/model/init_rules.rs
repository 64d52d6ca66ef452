//! Which distribution every layer's weight and bias is drawn from (docs/reference-code.md,
//! "Weight initialisation").

use candle_core::{DType, Device, Result, Tensor};
use sirenade_common::model_config::{
    Activation, MappingInit, MAPPING_LEAKY_SLOPE, SYNTHESIS_LEAKY_SLOPE,
};

use super::init::{to_tensor, Dist, InitRng};

/// SIREN's fixed omega for layers with no activation (`siren_omega` with 30;
/// docs/reference-code.md, "Weight initialisation").
const SIREN_OMEGA: f64 = 30.0;

/// The initial distribution of one linear map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearInit {
    /// Distribution of each weight before scaling.
    pub weight: Dist,
    /// Factor applied to every drawn weight (0.25 on the FiLM mapping output layer).
    pub scale: f64,
    /// Divide row i by the layer's omega_i (the `kaiming_in` rule of LeakyReLU layers, which
    /// roughly cancels the omega scaling at init).
    pub divide_by_omega: bool,
    /// Distribution of each bias.
    pub bias: Dist,
}

/// Kaiming-normal (fan-in, LeakyReLU gain with negative slope `a`) standard deviation.
fn kaiming_std(a: f64, fan_in: usize) -> f64 {
    (2.0 / (1.0 + a * a)).sqrt() / (fan_in as f64).sqrt()
}

/// PyTorch's default Linear bias (and weight) distribution U(±1/sqrt(in)).
fn torch_default(fan_in: usize) -> Dist {
    Dist::symmetric(1.0 / (fan_in as f64).sqrt())
}

/// The bias of sine layers: U(0, 2 pi) (`polar`).
const POLAR: Dist = Dist::Uniform {
    low: 0.0,
    high: std::f64::consts::TAU,
};

/// Init of a synthesis layer or of the final linear (`first` only for synthesis layer 0; the
/// final linear has `omega_mean` 1). `inputs` counts concatenated conditioning.
pub fn synthesis(
    activation: Activation,
    first: bool,
    inputs: usize,
    omega_mean: f64,
) -> LinearInit {
    let fan_in = inputs as f64;
    let (weight, divide_by_omega, bias) = match activation {
        Activation::Sine if first => (Dist::symmetric(1.0 / fan_in), false, POLAR),
        Activation::Sine => (
            Dist::symmetric((6.0 / fan_in).sqrt() / omega_mean),
            false,
            POLAR,
        ),
        Activation::LeakyRelu => (
            Dist::Normal {
                std: kaiming_std(SYNTHESIS_LEAKY_SLOPE, inputs),
            },
            true,
            Dist::Zero,
        ),
        Activation::None => (
            Dist::symmetric((6.0 / fan_in).sqrt() / SIREN_OMEGA),
            false,
            torch_default(inputs),
        ),
    };
    LinearInit {
        weight,
        scale: 1.0,
        divide_by_omega,
        bias,
    }
}

/// Init of mapping layer; `output_scale` multiplies the output layer's weight only.
pub fn mapping(init: MappingInit, inputs: usize, is_output: bool, output_scale: f64) -> LinearInit {
    let weight = match init {
        MappingInit::KaimingNormal => Dist::Normal {
            std: kaiming_std(MAPPING_LEAKY_SLOPE, inputs),
        },
        MappingInit::TorchDefault => torch_default(inputs),
    };
    LinearInit {
        weight,
        scale: if is_output { output_scale } else { 1.0 },
        divide_by_omega: false,
        bias: torch_default(inputs),
    }
}

impl LinearInit {
    /// Draws a weight `[out, inputs]` then a bias `[out]` (in that order from `rng`); `omega`
    /// holds the layer's per-unit omegas (length `out`) and is read only by `divide_by_omega`.
    pub fn draw(
        &self,
        rng: &mut InitRng,
        out: usize,
        inputs: usize,
        omega: &[f64],
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let mut w = rng.sample(self.weight, out * inputs);
        for (row, chunk) in w.chunks_mut(inputs.max(1)).enumerate() {
            let divisor = if self.divide_by_omega {
                omega[row]
            } else {
                1.0
            };
            for x in chunk {
                *x *= self.scale / divisor;
            }
        }
        let b = rng.sample(self.bias, out);
        Ok((
            to_tensor(w, &[out, inputs], dtype, device)?,
            to_tensor(b, &[out], dtype, device)?,
        ))
    }
}
