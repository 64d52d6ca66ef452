//! From a preset's layer table to the evaluator's [`NetworkWeights`].

use super::Preset;
use crate::evaluator::{self, ConcatWeights, Conditioning, DenseLayer, NetworkWeights, SynthLayer};
use crate::model_config::{self, Activation, LayerShape};

impl Preset {
    /// The evaluator's input: mapping layers as dense layers, synthesis layers with their
    /// omegas and FiLM flag (concat layers' `[h; c; t]` columns split into `W_h`, `W_c`, `w_t`),
    /// the final linear as a last synthesis layer with omega 1.
    pub fn network_weights(&self) -> NetworkWeights {
        let config = &self.info.model;
        let shapes = config.layer_shapes();
        let mut mapping = Vec::new();
        let mut layers = Vec::new();
        let film = config.conditioning.is_film();
        let cond = config.concat_size();
        for (index, (shape, w)) in shapes.iter().zip(&self.layers).enumerate() {
            if shape.name.starts_with("mapping.") {
                mapping.push(DenseLayer {
                    in_features: shape.inputs,
                    out_features: shape.outputs,
                    weight: w.weight.clone(),
                    bias: w.bias.clone(),
                });
                continue;
            }
            let synth = index - mapping.len();
            let is_output = shape.name == "output";
            let activation = activation(if is_output {
                config.output_activation
            } else {
                config.layers[synth].activation
            });
            let conditioned = !is_output && (synth == 0 || config.is_concat_hidden(synth));
            let (weight, concat, in_features) = if !film && conditioned {
                split_concat(shape, &w.weight, cond, synth == 0)
            } else {
                (w.weight.clone(), None, shape.inputs)
            };
            layers.push(SynthLayer {
                in_features,
                out_features: shape.outputs,
                weight,
                bias: w.bias.clone(),
                omega: w.omega.clone().unwrap_or_else(|| vec![1.0; shape.outputs]),
                activation,
                film: film && !is_output,
                concat,
            });
        }
        NetworkWeights {
            latent_dim: config.latent_size,
            mapping,
            conditioning: match config.conditioning {
                model_config::Conditioning::Film => Conditioning::Film,
                model_config::Conditioning::FilmPerLayer => Conditioning::FilmPerLayer,
                model_config::Conditioning::Concat { .. } => Conditioning::Concat,
            },
            layers,
        }
    }
}

/// Splits a concat layer's row-major `[out, in]` matrix: the first layer's columns are
/// `[t; c]`, a conditioned hidden layer's `[h; c; t]`. Returns `(W_x, concat, x width)`.
fn split_concat(
    shape: &LayerShape,
    weight: &[f32],
    cond: usize,
    first: bool,
) -> (Vec<f32>, Option<ConcatWeights>, usize) {
    let x_cols = shape.inputs - cond - usize::from(!first);
    let rows = weight.chunks_exact(shape.inputs);
    let mut w_x = Vec::with_capacity(shape.outputs * x_cols);
    let mut w_c = Vec::with_capacity(shape.outputs * cond);
    let mut w_t = Vec::with_capacity(shape.outputs);
    for row in rows {
        w_x.extend_from_slice(&row[..x_cols]);
        w_c.extend_from_slice(&row[x_cols..x_cols + cond]);
        if !first {
            w_t.push(row[x_cols + cond]);
        }
    }
    let concat = ConcatWeights {
        weight: w_c,
        time: (!first).then_some(w_t),
    };
    (w_x, Some(concat), x_cols)
}

/// The evaluator's name for a config activation.
fn activation(a: Activation) -> evaluator::Activation {
    match a {
        Activation::Sine => evaluator::Activation::Sine,
        Activation::LeakyRelu => evaluator::Activation::LeakyRelu,
        Activation::None => evaluator::Activation::Identity,
    }
}
