//! The evaluator's input: the plain f32 weights of a conditional SIREN, already folded.
//!
//! This is deliberately independent of the trainer's model configuration and of the preset file
//! format: whoever loads a model (a preset loader, a test) folds weight normalisation into plain
//! matrices and describes the network here, and [`NetworkWeights::validate`] checks every shape
//! and value before anything is packed.

use super::error::{Part, WeightsError};

/// The nonlinearity applied after a synthesis layer's (FiLM-modulated) affine map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `sin(a)`: the SIREN layer.
    Sine,
    /// LeakyReLU with slope [`SYNTH_LEAKY_SLOPE`] (the reference code's `"relu"`).
    LeakyRelu,
    /// No nonlinearity: the final linear read-out.
    Identity,
}

/// Negative slope of a synthesis layer's [`Activation::LeakyRelu`] (the reference code uses 0.02).
pub const SYNTH_LEAKY_SLOPE: f32 = 0.02;

/// Negative slope of the LeakyReLU between the mapping network's dense layers.
pub const MAPPING_LEAKY_SLOPE: f32 = 0.2;

/// One dense layer of the mapping network: `y = W x + b`.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseLayer {
    /// Number of inputs.
    pub in_features: usize,
    /// Number of outputs.
    pub out_features: usize,
    /// Row-major `out_features × in_features` matrix.
    pub weight: Vec<f32>,
    /// `out_features` biases.
    pub bias: Vec<f32>,
}

/// The extra weights of a concat-conditioned synthesis layer, whose input is `[h; c; t]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConcatWeights {
    /// Row-major `out_features × cond_dim` block multiplying the per-voice vector `c`.
    pub weight: Vec<f32>,
    /// The `out_features` column multiplying the raw time coordinate `t`, present on hidden
    /// layers (`[h; c; t]`); the first layer has none because its input already is `t`.
    pub time: Option<Vec<f32>>,
}

/// One synthesis (SIREN) layer:
/// `act((omega + gamma[:out]) ⊙ (W h + b) + beta[:out])` with FiLM, `act(omega ⊙ (W h + b))`
/// without, where concat layers add `W_c c + w_t t` inside the affine map.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthLayer {
    /// Width of `h`, the previous layer's output (1 for the first layer, whose input is `t`).
    pub in_features: usize,
    /// Number of units.
    pub out_features: usize,
    /// Row-major `out_features × in_features` matrix (weight normalisation already folded in).
    pub weight: Vec<f32>,
    /// `out_features` biases.
    pub bias: Vec<f32>,
    /// Per-unit frequency scale `omega` (`out_features` values).
    pub omega: Vec<f32>,
    /// The nonlinearity after the affine map.
    pub activation: Activation,
    /// Whether the shared FiLM `(gamma, beta)` modulates this layer.
    pub film: bool,
    /// Concat-conditioning weights, when this layer also reads the per-voice vector.
    pub concat: Option<ConcatWeights>,
}

/// How the mapping network's output conditions the synthesis network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conditioning {
    /// The output is `[gamma; beta]`, two halves of equal width, shared by every FiLM layer
    /// (each takes the first `out_features` entries of both).
    Film,
    /// The output is `[gamma; beta]`, two halves of equal width, each holding every FiLM
    /// layer's own slice in layer order (the first FiLM layer takes the first `out_features`
    /// entries, the next the following ones).
    FilmPerLayer,
    /// The output is the vector `c` fed to every layer with [`ConcatWeights`].
    Concat,
}

/// A whole conditional SIREN: mapping network plus synthesis layers, in plain f32.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkWeights {
    /// Length of the latent vector `z` the mapping network takes.
    pub latent_dim: usize,
    /// Dense layers with LeakyReLU([`MAPPING_LEAKY_SLOPE`]) between them and none after the
    /// last; empty means the latent itself is the conditioning vector.
    pub mapping: Vec<DenseLayer>,
    /// How the mapping output is used.
    pub conditioning: Conditioning,
    /// The synthesis layers, first (input `t`) to last (one output: the amplitude).
    pub layers: Vec<SynthLayer>,
}

impl NetworkWeights {
    /// Width of the mapping network's output (the conditioning vector).
    pub fn cond_dim(&self) -> usize {
        self.mapping
            .last()
            .map_or(self.latent_dim, |l| l.out_features)
    }

    /// Checks every shape, the chaining of widths, the conditioning rules and that every value is
    /// finite, so that the evaluator can later index and compute without further checks.
    pub fn validate(&self) -> Result<(), WeightsError> {
        if self.latent_dim == 0 {
            return Err(WeightsError::ZeroWidth(Part::Latent));
        }
        let mut width = self.latent_dim;
        for (i, layer) in self.mapping.iter().enumerate() {
            let part = Part::Mapping(i);
            check_width(part, layer.in_features, width)?;
            if layer.out_features == 0 {
                return Err(WeightsError::ZeroWidth(part));
            }
            check_tensor(
                part,
                "weight",
                &layer.weight,
                layer.out_features * layer.in_features,
            )?;
            check_tensor(part, "bias", &layer.bias, layer.out_features)?;
            width = layer.out_features;
        }
        let cond_dim = width;
        let film_width = match self.conditioning {
            Conditioning::Film | Conditioning::FilmPerLayer if !cond_dim.is_multiple_of(2) => {
                return Err(WeightsError::FilmOddWidth(cond_dim));
            }
            Conditioning::Film | Conditioning::FilmPerLayer => cond_dim / 2,
            Conditioning::Concat => 0,
        };
        let mut film_offset = 0;
        if self.layers.is_empty() {
            return Err(WeightsError::NoLayers);
        }
        let mut width = 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let part = Part::Synth(i);
            check_width(part, layer.in_features, width)?;
            let out = layer.out_features;
            if out == 0 {
                return Err(WeightsError::ZeroWidth(part));
            }
            check_tensor(part, "weight", &layer.weight, out * layer.in_features)?;
            check_tensor(part, "bias", &layer.bias, out)?;
            check_tensor(part, "omega", &layer.omega, out)?;
            if layer.film {
                if self.conditioning == Conditioning::Concat {
                    return Err(WeightsError::FilmWithoutFilmConditioning(i));
                }
                if film_offset + out > film_width {
                    return Err(WeightsError::FilmTooNarrow {
                        layer: i,
                        units: out,
                        available: film_width - film_offset,
                    });
                }
                if self.conditioning == Conditioning::FilmPerLayer {
                    film_offset += out;
                }
            }
            if let Some(concat) = &layer.concat {
                if self.conditioning != Conditioning::Concat {
                    return Err(WeightsError::ConcatWithoutConcatConditioning(i));
                }
                check_tensor(part, "concat weight", &concat.weight, out * cond_dim)?;
                match (&concat.time, i) {
                    (Some(_), 0) => return Err(WeightsError::FirstLayerTime),
                    (Some(time), _) => check_tensor(part, "time column", time, out)?,
                    (None, _) => {}
                }
            }
            width = out;
        }
        if width != 1 {
            return Err(WeightsError::OutputWidth(width));
        }
        Ok(())
    }
}

fn check_width(part: Part, found: usize, expected: usize) -> Result<(), WeightsError> {
    if found == expected {
        Ok(())
    } else {
        Err(WeightsError::InputWidth {
            part,
            found,
            expected,
        })
    }
}

fn check_tensor(
    part: Part,
    tensor: &'static str,
    values: &[f32],
    expected: usize,
) -> Result<(), WeightsError> {
    if values.len() != expected {
        return Err(WeightsError::Length {
            part,
            tensor,
            found: values.len(),
            expected,
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(WeightsError::NotFinite {
            part,
            tensor,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}
