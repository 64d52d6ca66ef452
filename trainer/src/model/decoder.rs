//! The whole decoder: mapping network psi, synthesis network phi, final linear, built from a
//! [`ModelConfig`] and a seed.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use sirenade_common::model_config::{Activation, Conditioning, ModelConfig};

use super::composed;
use super::dual::Dual;
use super::fused;
use super::init::{to_tensor, Dist, InitRng};
use super::init_rules;
use super::layers::{ConcatInputs, ConcatLayer, ConcatRole, Film, FilmLayer, OutputLayer};
use super::linear::Linear;
use super::mapping::MappingNetwork;
use super::sine_layers::SineLayers;
use super::ModelError;

/// Which optimiser group a parameter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamGroup {
    /// The mapping network psi (its own optimiser, no weight decay in the reference).
    Mapping,
    /// The synthesis layers and the final linear (phi: weight decay and the LR schedule apply).
    Synthesis,
}

/// A trained variable with its stable name (`mapping.0.weight`, `synthesis.3.weight_v`,
/// `output.bias`, ...) and group.
#[derive(Debug, Clone)]
pub struct NamedVar {
    /// Stable name, used in checkpoints.
    pub name: String,
    /// Optimiser group.
    pub group: ParamGroup,
    /// The variable.
    pub var: Var,
}

/// The synthesis layers, by conditioning kind.
enum Synthesis {
    Film(Vec<FilmLayer>),
    Concat(Vec<ConcatLayer>),
}

/// Which op runs a whole all-sine FiLM network.
#[derive(Debug, Clone, Copy)]
enum NetworkOp {
    /// The fused op of `fused` (f32 on the CPU).
    Fused,
    /// The candle-op network of `composed` (CPU or CUDA).
    Composed,
}

/// A conditional SIREN decoder `f(z, t)`.
pub struct Decoder {
    config: ModelConfig,
    mapping: MappingNetwork,
    synthesis: Synthesis,
    output: OutputLayer,
    mask: Option<Tensor>,
    /// The sine layers' implementation.
    sine_layers: SineLayers,
}

impl Decoder {
    /// Builds the network described by `config` with weights drawn from `seed`, in `dtype`
    /// (F32 for training, F64 for reference tests) on `device`.
    ///
    /// Draw order (one ChaCha stream): mapping layers (weight, bias), then each synthesis layer
    /// (the first layer's omegas when progressive, weight, bias), then the final linear. A
    /// progressive model starts with its first-layer mask at zero, as the reference does.
    pub fn new(
        config: &ModelConfig,
        seed: u64,
        dtype: DType,
        device: &Device,
    ) -> Result<Decoder, ModelError> {
        config.validate()?;
        if !dtype.is_float() {
            return Err(ModelError::NotFloat(dtype));
        }
        let mut rng = InitRng::new(seed);
        let m = &config.mapping;
        let mut mapping_layers = Vec::with_capacity(m.hidden_layers + 1);
        let mut inputs = config.latent_size;
        for i in 0..=m.hidden_layers {
            let is_output = i == m.hidden_layers;
            let out = if is_output {
                m.output_size
            } else {
                m.hidden_width
            };
            let init = init_rules::mapping(m.init, inputs, is_output, m.output_weight_scale);
            let (w, b) = init.draw(&mut rng, out, inputs, &[], dtype, device)?;
            mapping_layers.push(Linear::new(&w, &b, false)?);
            inputs = out;
        }

        let shapes = config.layer_shapes();
        let synthesis_shapes = &shapes[m.hidden_layers + 1..shapes.len() - 1];
        let mut film_layers = Vec::new();
        let mut concat_layers = Vec::new();
        for (i, (layer, shape)) in config.layers.iter().zip(synthesis_shapes).enumerate() {
            let omega = match (i, config.progressive) {
                (0, Some(_)) => {
                    let mut draws = rng.sample(
                        Dist::Uniform {
                            low: 0.0,
                            high: config.omega_first,
                        },
                        layer.width,
                    );
                    draws.sort_by(f64::total_cmp);
                    draws
                }
                (0, None) => vec![config.omega_first; layer.width],
                _ => vec![config.omega_hidden; layer.width],
            };
            let omega_mean = omega.iter().map(|w| w.abs()).sum::<f64>() / omega.len() as f64;
            let init = init_rules::synthesis(layer.activation, i == 0, shape.inputs, omega_mean);
            let (w, b) = init.draw(&mut rng, layer.width, shape.inputs, &omega, dtype, device)?;
            let linear = Linear::new(&w, &b, config.weight_norm)?;
            let omega = to_tensor(omega, &[layer.width], dtype, device)?;
            match &config.conditioning {
                Conditioning::Film | Conditioning::FilmPerLayer => film_layers.push(FilmLayer {
                    linear,
                    film_offset: config.film_offset(i),
                    omega,
                    activation: layer.activation,
                }),
                Conditioning::Concat { .. } => concat_layers.push(ConcatLayer {
                    linear,
                    omega,
                    activation: layer.activation,
                    role: if i == 0 {
                        ConcatRole::First
                    } else if config.is_concat_hidden(i) {
                        ConcatRole::Skip
                    } else {
                        ConcatRole::Plain
                    },
                }),
            }
        }
        let last = config.layers.last().map_or(1, |l| l.width);
        let init = init_rules::synthesis(config.output_activation, false, last, 1.0);
        let (w, b) = init.draw(&mut rng, 1, last, &[1.0], dtype, device)?;
        let output = OutputLayer {
            linear: Linear::new(&w, &b, config.weight_norm)?,
            activation: config.output_activation,
        };
        let synthesis = match config.conditioning {
            Conditioning::Film | Conditioning::FilmPerLayer => Synthesis::Film(film_layers),
            Conditioning::Concat { .. } => Synthesis::Concat(concat_layers),
        };
        let mask = match config.progressive {
            Some(_) => Some(Tensor::zeros(config.layers[0].width, dtype, device)?),
            None => None,
        };
        Ok(Decoder {
            config: config.clone(),
            mapping: MappingNetwork {
                layers: mapping_layers,
            },
            synthesis,
            output,
            mask,
            sine_layers: SineLayers::default(),
        })
    }

    /// Chooses the sine layers' implementation ([`SineLayers::Fast`] by default).
    pub fn set_sine_layers(&mut self, sine_layers: SineLayers) {
        self.sine_layers = sine_layers;
    }

    /// The configuration this decoder was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The mapping network's output for latents z `[B, latent]`: `[B, 2M]` FiLM (gamma, beta)
    /// or the `[B, C]` concat conditioning vector.
    pub fn mapping_output(&self, z: &Tensor) -> Result<Tensor, ModelError> {
        Ok(self.mapping.forward(z)?)
    }

    /// The decoder's output `[B, n]` for latents z `[B, latent]` at coordinates t `[B, n]`.
    pub fn forward(&self, z: &Tensor, t: &Tensor) -> Result<Tensor, ModelError> {
        Ok(self.run(z, t, false)?.value)
    }

    /// The output `[B, n]` and its exact derivative d/dt `[B, n]` (forward mode through every
    /// layer). t is the model coordinate (one clip spans 2 units), so a per-sample difference
    /// corresponds to this derivative times 2/16000.
    pub fn forward_with_derivative(
        &self,
        z: &Tensor,
        t: &Tensor,
    ) -> Result<(Tensor, Tensor), ModelError> {
        let out = self.run(z, t, true)?;
        let tangent = out.tangent.expect("tangent requested");
        Ok((out.value, tangent))
    }

    /// Checks shapes, then runs the network, carrying the tangent when `derivative` is set.
    fn run(&self, z: &Tensor, t: &Tensor, derivative: bool) -> Result<Dual, ModelError> {
        let latent = self.config.latent_size;
        let (batch, _) = match z.dims() {
            [b, l] if *l == latent => (*b, *l),
            got => {
                return Err(ModelError::Shape {
                    what: "latents z".into(),
                    expected: format!("[B, {latent}]"),
                    got: got.to_vec(),
                })
            }
        };
        match t.dims() {
            [b, _] if *b == batch => {}
            got => {
                return Err(ModelError::Shape {
                    what: "coordinates t".into(),
                    expected: format!("[{batch}, n]"),
                    got: got.to_vec(),
                })
            }
        }
        let t = t.unsqueeze(2)?;
        let t = Dual {
            tangent: derivative.then(|| t.ones_like()).transpose()?,
            value: t,
        };
        let conditioning = self.mapping.forward(z)?;
        let mut h = t.clone();
        match &self.synthesis {
            Synthesis::Film(layers) => {
                let film = Film::split(&conditioning)?;
                let use_fused = self.sine_layers == SineLayers::Fast && fused::supports(&h.value);
                let network_op = match self.sine_layers {
                    SineLayers::Fast if use_fused => Some(NetworkOp::Fused),
                    SineLayers::Fast if !h.value.device().is_cpu() => Some(NetworkOp::Composed),
                    SineLayers::Composed => Some(NetworkOp::Composed),
                    _ => None,
                };
                let all_sine = layers.iter().all(|l| l.activation == Activation::Sine);
                let linear_readout = self.output.activation == Activation::None;
                // A mask is folded into the second layer's weights, so a one-layer network
                // with one runs layer by layer.
                let foldable = self.mask.is_none() || layers.len() > 1;
                if let Some(op) = network_op.filter(|_| all_sine && linear_readout && foldable) {
                    let y = self.run_network_op(op, layers, &film, &h.value, derivative)?;
                    return Ok(Dual {
                        value: y.value.squeeze(2)?,
                        tangent: y.tangent.map(|d| d.squeeze(2)).transpose()?,
                    });
                }
                for (i, layer) in layers.iter().enumerate() {
                    h = if use_fused {
                        layer.forward(&h, &film)?
                    } else {
                        layer.forward_plain(&h, &film)?
                    };
                    if i == 0 {
                        h = self.apply_mask(h)?;
                    }
                }
            }
            Synthesis::Concat(layers) => {
                let inputs = ConcatInputs {
                    c: conditioning.unsqueeze(1)?,
                    t,
                };
                for (i, layer) in layers.iter().enumerate() {
                    h = layer.forward(&h, &inputs)?;
                    if i == 0 {
                        h = self.apply_mask(h)?;
                    }
                }
            }
        }
        let y = self.output.forward(&h)?;
        Ok(Dual {
            value: y.value.squeeze(2)?,
            tangent: y.tangent.map(|d| d.squeeze(2)).transpose()?,
        })
    }

    /// An all-sine FiLM network with a linear readout as one network op (`op`), giving
    /// `[B, n, 1]`: the layers' weights, the readout's weight and bias, and the per-item scales
    /// and shifts packed; the progressive mask (if any) folded into the second layer's weights
    /// (`W_1 (m x) = (W_1 diag m) x`); with `derivative` the tangent (dt/dt = 1 at the input)
    /// stacked under the values along the point axis.
    fn run_network_op(
        &self,
        op: NetworkOp,
        layers: &[FilmLayer],
        film: &Film,
        t: &Tensor,
        derivative: bool,
    ) -> candle_core::Result<Dual> {
        let n = t.dim(1)?;
        let x = if derivative {
            Tensor::cat(&[t, &t.ones_like()?], 1)?
        } else {
            t.clone()
        };
        let mut weights = Vec::with_capacity(layers.len());
        let mut films = Vec::with_capacity(2 * layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let mut w = layer.linear.weight()?;
            if let (1, Some(mask)) = (i, &self.mask) {
                w = w.broadcast_mul(&mask.unsqueeze(0)?)?;
            }
            weights.push(w.flatten_all()?);
            let (scale, shift) = layer.scale_shift(film)?;
            films.push(scale);
            films.push(shift);
        }
        weights.push(self.output.linear.weight()?.flatten_all()?);
        weights.push(self.output.linear.bias().clone());
        let weights = Tensor::cat(&weights, 0)?;
        let film = Tensor::cat(&films, 2)?.squeeze(1)?;
        let widths = layers
            .iter()
            .map(|l| l.omega.dim(0))
            .collect::<candle_core::Result<_>>()?;
        let h = match op {
            NetworkOp::Fused => fused::film_sine_network(&x, &weights, &film, widths, derivative)?,
            NetworkOp::Composed => {
                composed::film_sine_network(&x, &weights, &film, widths, derivative)?
            }
        };
        Ok(if derivative {
            Dual {
                value: h.narrow(1, 0, n)?,
                tangent: Some(h.narrow(1, n, n)?),
            }
        } else {
            Dual::plain(h)
        })
    }

    /// Multiplies the first layer's output by the progressive mask, if any.
    fn apply_mask(&self, h: Dual) -> candle_core::Result<Dual> {
        match &self.mask {
            Some(mask) => h.scale(mask),
            None => Ok(h),
        }
    }

    /// Sets the progressive first-layer mask (one value per first-layer unit, see
    /// [`super::ProgressiveSchedule::mask`]).
    pub fn set_progressive_mask(&mut self, values: &[f64]) -> Result<(), ModelError> {
        let Some(mask) = &self.mask else {
            return Err(ModelError::NotProgressive);
        };
        if values.len() != mask.dim(0)? {
            return Err(ModelError::Shape {
                what: "progressive mask".into(),
                expected: format!("[{}]", mask.dim(0)?),
                got: vec![values.len()],
            });
        }
        let new = to_tensor(
            values.to_vec(),
            &[values.len()],
            mask.dtype(),
            mask.device(),
        )?;
        self.mask = Some(new);
        Ok(())
    }

    /// Every trained variable with its name and group, mapping first, in a fixed order.
    pub fn named_vars(&self) -> Vec<NamedVar> {
        let mut vars = Vec::new();
        let mut push = |prefix: String, group: ParamGroup, linear: &Linear| {
            for (suffix, var) in linear.vars() {
                vars.push(NamedVar {
                    name: format!("{prefix}.{suffix}"),
                    group,
                    var,
                });
            }
        };
        for (i, layer) in self.mapping.layers.iter().enumerate() {
            push(format!("mapping.{i}"), ParamGroup::Mapping, layer);
        }
        for (i, linear) in self.synthesis_linears().into_iter().enumerate() {
            push(format!("synthesis.{i}"), ParamGroup::Synthesis, linear);
        }
        push("output".into(), ParamGroup::Synthesis, &self.output.linear);
        vars
    }

    /// The trained variables of one group, in [`Decoder::named_vars`] order.
    pub fn vars(&self, group: ParamGroup) -> Vec<Var> {
        self.named_vars()
            .into_iter()
            .filter(|v| v.group == group)
            .map(|v| v.var)
            .collect()
    }

    /// Each synthesis layer's fixed omega vector `[width]`, first layer first.
    pub fn omegas(&self) -> Vec<&Tensor> {
        match &self.synthesis {
            Synthesis::Film(layers) => layers.iter().map(|l| &l.omega).collect(),
            Synthesis::Concat(layers) => layers.iter().map(|l| &l.omega).collect(),
        }
    }

    /// The effective (weight-norm folded) weight `[out, in]` and bias `[out]` of every linear
    /// map, named like [`Decoder::named_vars`] without the suffix, for export.
    pub fn folded_linears(&self) -> Result<Vec<(String, Tensor, Tensor)>, ModelError> {
        let mut out = Vec::new();
        for (i, l) in self.mapping.layers.iter().enumerate() {
            out.push((format!("mapping.{i}"), l.weight()?, l.bias().clone()));
        }
        for (i, l) in self.synthesis_linears().into_iter().enumerate() {
            out.push((format!("synthesis.{i}"), l.weight()?, l.bias().clone()));
        }
        let l = &self.output.linear;
        out.push(("output".into(), l.weight()?, l.bias().clone()));
        Ok(out)
    }

    /// The synthesis layers' linear maps, first layer first.
    fn synthesis_linears(&self) -> Vec<&Linear> {
        match &self.synthesis {
            Synthesis::Film(layers) => layers.iter().map(|l| &l.linear).collect(),
            Synthesis::Concat(layers) => layers.iter().map(|l| &l.linear).collect(),
        }
    }

    /// Everything a checkpoint must hold to restore this decoder: the trained variables by name
    /// plus each synthesis layer's omega as `synthesis.{i}.omega` (the progressive first layer's
    /// omegas are random draws).
    pub fn state_tensors(&self) -> Vec<(String, Tensor)> {
        let mut state: Vec<(String, Tensor)> = self
            .named_vars()
            .into_iter()
            .map(|v| (v.name, v.var.as_tensor().clone()))
            .collect();
        for (i, omega) in self.omegas().into_iter().enumerate() {
            state.push((format!("synthesis.{i}.omega"), omega.clone()));
        }
        state
    }

    /// Restores the tensors of [`Decoder::state_tensors`] (any dtype or device; converted),
    /// checking that every one is present with the right shape.
    pub fn load_state(&mut self, state: &HashMap<String, Tensor>) -> Result<(), ModelError> {
        let fetch = |name: &str, like: &Tensor| -> Result<Tensor, ModelError> {
            let t = state
                .get(name)
                .ok_or_else(|| ModelError::MissingTensor(name.to_string()))?;
            if t.dims() != like.dims() {
                return Err(ModelError::Shape {
                    what: name.to_string(),
                    expected: format!("{:?}", like.dims()),
                    got: t.dims().to_vec(),
                });
            }
            Ok(t.to_dtype(like.dtype())?.to_device(like.device())?)
        };
        let mut updates = Vec::new();
        for v in self.named_vars() {
            updates.push((fetch(&v.name, v.var.as_tensor())?, v.var));
        }
        let omegas = self
            .omegas()
            .into_iter()
            .enumerate()
            .map(|(i, o)| fetch(&format!("synthesis.{i}.omega"), o))
            .collect::<Result<Vec<_>, _>>()?;
        for (t, var) in updates {
            var.set(&t)?;
        }
        match &mut self.synthesis {
            Synthesis::Film(layers) => {
                for (l, o) in layers.iter_mut().zip(omegas) {
                    l.omega = o;
                }
            }
            Synthesis::Concat(layers) => {
                for (l, o) in layers.iter_mut().zip(omegas) {
                    l.omega = o;
                }
            }
        }
        Ok(())
    }
}
