//! The serde description of a decoder architecture: everything needed to rebuild the network
//! (shapes, activations, conditioning, frequency scales, weight normalisation), with the named
//! presets of the thesis' pi-GAN family and its ablations.
//!
//! The trainer saves this struct with every run and every preset, and the evaluator builds from it
//! alone, so it carries no training hyperparameters and no weights. Facts about the reference code
//! are cited by their section of `docs/reference-code.md`; where the thesis and the code disagree
//! the choice is stated on the item concerned.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Negative slope of the synthesis network's "ReLU" activation. The reference code's `"relu"`
/// is a LeakyReLU with slope 0.02, not a plain ReLU (docs/reference-code.md, "The layer"); the
/// thesis says ReLU, we follow the code because its results are the ones reported.
pub const SYNTHESIS_LEAKY_SLOPE: f64 = 0.02;

/// Negative slope of the mapping network's LeakyReLU (docs/reference-code.md, "The pi-GAN
/// decoder").
pub const MAPPING_LEAKY_SLOPE: f64 = 0.2;

/// Hidden-layer omega of every NSynth preset: the reference code's `--autoconfig` optimum for
/// both NSynth sets (docs/reference-code.md, "The omega search"). The Speech Commands optimum
/// (615/200) is one `--omega-first/--omega-hidden` away.
pub const NSYNTH_OMEGA_HIDDEN: f64 = 245.0;

/// First-layer omega of every NSynth preset (`--autoconfig`; docs/reference-code.md, "The omega
/// search").
pub const NSYNTH_OMEGA_FIRST: f64 = 1760.0;

/// Problems that make a configuration impossible to build, or an unknown preset name.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    /// `ModelConfig::named` was given a name that is not a preset.
    #[error("unknown model `{name}`; known models: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// Every preset name, comma separated.
        known: String,
    },
    /// A size that must be positive is zero.
    #[error("{what} must be at least 1, got 0")]
    ZeroSize {
        /// Which size.
        what: String,
    },
    /// A frequency scale or weight scale that must be finite and positive is not.
    #[error("{what} must be finite and positive, got {value}")]
    BadScale {
        /// Which scale.
        what: String,
        /// Its value.
        value: f64,
    },
    /// An omega beyond what a preset may hold ([`MAX_OMEGA`](crate::preset::MAX_OMEGA)): such
    /// a model could be trained but never exported or played.
    #[error("{what} is {value}: a preset takes omegas up to {max}")]
    OmegaTooHigh {
        /// Which omega.
        what: String,
        /// Its value.
        value: f64,
        /// The largest accepted.
        max: f64,
    },
    /// The synthesis network has no layer.
    #[error("the synthesis network needs at least one layer")]
    NoLayers,
    /// The FiLM mapping output cannot hold a (gamma, beta) pair for the widest layer.
    #[error(
        "FiLM needs a mapping output of 2 x the widest synthesis layer ({needed}) or more, \
         and even; got {got}"
    )]
    FilmTooNarrow {
        /// The smallest valid output size.
        needed: usize,
        /// The configured output size.
        got: usize,
    },
    /// A concat-conditioned layer index does not name a hidden synthesis layer.
    #[error(
        "concat layer index {index} is not a hidden synthesis layer (valid: 1..{layers}, each once)"
    )]
    BadConcatLayer {
        /// The offending index.
        index: usize,
        /// The number of synthesis layers.
        layers: usize,
    },
    /// More progressive groups than first-layer units.
    #[error("{groups} progressive groups do not fit in a first layer of {width} units")]
    TooManyGroups {
        /// Configured number of groups.
        groups: usize,
        /// Width of the first synthesis layer.
        width: usize,
    },
}

/// An activation of a synthesis layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `sin(a)`: the SIREN activation.
    Sine,
    /// LeakyReLU with slope [`SYNTHESIS_LEAKY_SLOPE`] (the reference code's "relu").
    LeakyRelu,
    /// Identity.
    None,
}

impl Activation {
    /// The activation's name as written in configs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sine => "sine",
            Activation::LeakyRelu => "leaky_relu",
            Activation::None => "none",
        }
    }
}

/// One hidden synthesis layer: a linear map to `width` units followed by the activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthesisLayer {
    /// Number of output units.
    pub width: usize,
    /// Activation applied after the (conditioned, omega-scaled) affine map.
    pub activation: Activation,
}

/// How the mapping network's weights are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingInit {
    /// Kaiming-normal, fan-in, LeakyReLU gain with a = [`MAPPING_LEAKY_SLOPE`], for every weight
    /// (docs/reference-code.md, "Weight initialisation"). Biases keep PyTorch's default
    /// U(±1/sqrt(in)).
    KaimingNormal,
    /// PyTorch's default Linear init U(±1/sqrt(in)) for weights and biases: what the reference
    /// code's depth-0 mapping network ends up with (`pi-gan_min_mapping`; docs/reference-code.md,
    /// "Weight initialisation").
    TorchDefault,
}

/// The mapping network psi: `z -> [Linear, LeakyReLU(0.2)] x hidden_layers -> Linear`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Number of hidden layers (each Linear + LeakyReLU); 0 means one Linear latent -> output.
    pub hidden_layers: usize,
    /// Width of every hidden layer.
    pub hidden_width: usize,
    /// Output size: `2 * max width` for FiLM (gamma = first half, beta = second half), the
    /// conditioning-vector size for concat.
    pub output_size: usize,
    /// Factor applied to the output layer's initial weight (0.25 for FiLM, 1 for concat;
    /// docs/reference-code.md, "Weight initialisation"). It keeps gamma and beta small next to
    /// omega at init.
    pub output_weight_scale: f64,
    /// Weight initialisation.
    pub init: MappingInit,
}

/// How the latent reaches the synthesis network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Conditioning {
    /// Additive FiLM with one (gamma, beta) pair shared by all synthesis layers:
    /// `a = (omega + gamma[:out]) * (W x + b) + beta[:out]` (docs/reference-code.md, "The layer";
    /// thesis §4.6.2).
    Film,
    /// Per-layer FiLM, the pi-GAN paper's form: every synthesis layer has its own (gamma, beta)
    /// pair, `a_l = (omega_l + gamma_l) * (W_l x + b_l) + beta_l`. The mapping output is
    /// `[gamma_0, gamma_1, ..., beta_0, beta_1, ...]`, each layer's slice as wide as the layer.
    /// The per-sample cost is that of [`Conditioning::Film`]; only the mapping network's output
    /// grows, and it runs once per latent change.
    FilmPerLayer,
    /// Concatenation: the first layer takes `[t; c]`, each listed hidden layer takes `[h; c; t]`,
    /// others take `h`; no FiLM, `a = omega * (W x + b)` (docs/reference-code.md, "The ablation
    /// variants").
    Concat {
        /// Indices (0-based, among the synthesis layers, so at least 1) of the hidden layers that
        /// also receive `[c; t]`.
        hidden_layers: Vec<usize>,
    },
}

impl Conditioning {
    /// Whether the synthesis layers are FiLM-modulated (shared or per layer).
    pub fn is_film(&self) -> bool {
        matches!(self, Conditioning::Film | Conditioning::FilmPerLayer)
    }
}

/// Progressive activation scaling (thesis §5.4.2; docs/reference-code.md, "Progressive
/// activation scaling"): the first layer's omegas are sorted draws from U(0, omega_first) and
/// its output is multiplied by a mask that fades in `groups` contiguous unit groups, lowest
/// frequencies first. The drawn omega vector is part of the trained model (saved with the
/// weights), not of this config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progressive {
    /// Number of unit groups (the thesis uses 8).
    pub groups: usize,
}

/// One layer of the whole network as it appears in the layer table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerShape {
    /// Stable layer name (`mapping.0`, `synthesis.3`, `output`), also used to name weights.
    pub name: String,
    /// Inputs of the linear map (including concatenated conditioning).
    pub inputs: usize,
    /// Outputs of the linear map.
    pub outputs: usize,
    /// Activation name (`sine`, `leaky_relu`, `leaky_relu(0.2)`, `none`).
    pub activation: String,
    /// Frequency scale omega multiplying the affine output (`None` for the mapping network).
    pub omega: Option<f64>,
    /// Whether the layer is FiLM-modulated.
    pub film: bool,
    /// Weight and bias count (weight-norm gains excluded).
    pub parameters: usize,
}

/// The description of a decoder: mapping network psi plus synthesis network phi plus final linear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Size of the latent code z (256 in the thesis, A.3.2).
    pub latent_size: usize,
    /// The mapping network psi.
    pub mapping: MappingConfig,
    /// The synthesis layers, first to last (the final linear to one output is not listed).
    pub layers: Vec<SynthesisLayer>,
    /// Activation of the final linear layer to one output (`none` except for "sine last").
    pub output_activation: Activation,
    /// How z conditions the synthesis layers.
    pub conditioning: Conditioning,
    /// omega of the first synthesis layer (the upper bound of its draws when progressive).
    pub omega_first: f64,
    /// omega of every later synthesis layer.
    pub omega_hidden: f64,
    /// Progressive activation scaling of the first layer, if any.
    pub progressive: Option<Progressive>,
    /// Weight normalisation `W = g * v / ||v||_row` on every synthesis layer and the final linear.
    pub weight_norm: bool,
}

/// Number of layers of the thesis' synthesis network (docs/reference-code.md, "The pi-GAN
/// decoder").
const THESIS_LAYERS: usize = 8;
/// Width of the thesis' synthesis and mapping layers.
const THESIS_WIDTH: usize = 256;
/// The thesis' latent size (A.3.2).
const THESIS_LATENT: usize = 256;
/// Initial-weight factor of the FiLM mapping output layer (docs/reference-code.md, "Weight
/// initialisation").
const FILM_OUTPUT_SCALE: f64 = 0.25;

/// `n` synthesis layers of one width and activation.
fn uniform(n: usize, width: usize, activation: Activation) -> Vec<SynthesisLayer> {
    vec![SynthesisLayer { width, activation }; n]
}

/// Sine synthesis layers of the given widths.
fn sine_stack(widths: &[usize]) -> Vec<SynthesisLayer> {
    widths
        .iter()
        .map(|&width| SynthesisLayer {
            width,
            activation: Activation::Sine,
        })
        .collect()
}

/// The thesis' 8 × 256 sine FiLM decoder without weight normalisation: the base of the
/// ablations.
fn thesis_sine() -> ModelConfig {
    ModelConfig::thesis_film(uniform(THESIS_LAYERS, THESIS_WIDTH, Activation::Sine))
}

/// Builds one named model.
type Builder = fn() -> ModelConfig;

/// Every named model with its builder, in the order `model info` lists them: the one table
/// that [`ModelConfig::named`] and [`model_names`] read.
const NAMED_MODELS: &[(&str, Builder)] = &[
    ("pigan", || ModelConfig {
        weight_norm: true,
        ..thesis_sine()
    }),
    ("pigan-sine-first", || {
        let mut layers = uniform(THESIS_LAYERS, THESIS_WIDTH, Activation::LeakyRelu);
        layers[0].activation = Activation::Sine;
        ModelConfig::thesis_film(layers)
    }),
    ("pigan-sine-last", || ModelConfig {
        output_activation: Activation::Sine,
        ..ModelConfig::thesis_film(uniform(THESIS_LAYERS, THESIS_WIDTH, Activation::LeakyRelu))
    }),
    ("pigan-relu", || {
        ModelConfig::thesis_film(uniform(THESIS_LAYERS, THESIS_WIDTH, Activation::LeakyRelu))
    }),
    // The 5th sine layer (index 4) is the reference code's "middle" layer.
    ("pigan-concat-middle", || {
        ModelConfig::thesis_concat(vec![4])
    }),
    ("pigan-concat-all", || {
        ModelConfig::thesis_concat((1..THESIS_LAYERS).collect())
    }),
    ("pigan-min-mapping", || {
        let base = thesis_sine();
        ModelConfig {
            mapping: MappingConfig {
                hidden_layers: 0,
                init: MappingInit::TorchDefault,
                ..base.mapping
            },
            ..base
        }
    }),
    ("pigan-five-mapping", || {
        let base = thesis_sine();
        ModelConfig {
            mapping: MappingConfig {
                hidden_layers: 5,
                ..base.mapping
            },
            ..base
        }
    }),
    // Code widths (docs/reference-code.md, "The ablation variants"); the thesis'
    // 840/420/210/105 are below.
    ("pigan-shrinking", || {
        ModelConfig::thesis_film(sine_stack(&[1024, 512, 256, 128]))
    }),
    ("pigan-shrinking-thesis", || {
        ModelConfig::thesis_film(sine_stack(&[840, 420, 210, 105]))
    }),
    ("pigan-deep", || {
        ModelConfig::thesis_film(uniform(12, 210, Activation::Sine))
    }),
    ("pigan-deep-thesis", || {
        ModelConfig::thesis_film(uniform(12, 200, Activation::Sine))
    }),
    ("pigan-wide", || {
        ModelConfig::thesis_film(uniform(4, 365, Activation::Sine))
    }),
    ("pigan-wide-thesis", || {
        ModelConfig::thesis_film(uniform(4, 380, Activation::Sine))
    }),
    // The code's autoconfig for `pi-gan_prog` (docs/reference-code.md, "Progressive
    // activation scaling" and "The omega search"): 10000/300, 8 groups.
    // The first-layer omegas are U(0, 10000) as in the code, not the thesis' U(1, 10000).
    ("pigan-prog", || ModelConfig {
        omega_first: 10_000.0,
        omega_hidden: 300.0,
        progressive: Some(Progressive { groups: 8 }),
        weight_norm: true,
        ..thesis_sine()
    }),
    ("demo", || ModelConfig::small(96, 2)),
    ("live", || ModelConfig::small(128, 3)),
    ("layered-96", || ModelConfig::layered(96, 2, 128)),
    ("layered-192", || ModelConfig::layered(192, 3, 256)),
    ("layered-256", || ModelConfig::layered(256, 3, 256)),
];

/// Every name [`ModelConfig::named`] accepts, in the order `model info` lists them.
pub fn model_names() -> impl Iterator<Item = &'static str> {
    NAMED_MODELS.iter().map(|(name, _)| *name)
}

impl ModelConfig {
    /// The model called `name` (one of [`model_names`]).
    ///
    /// Ablations keep the vanilla decoder's omegas (1760/245) because the reference code's
    /// `--autoconfig` applies them to every `pi-gan*` tag (docs/reference-code.md, "The omega
    /// search"). Unlike the
    /// reference code, the ablations' mapping networks are trained (that is the trainer's job;
    /// nothing here freezes them), and weight normalisation is on only where the reference code
    /// has it (`pigan`, `pigan-prog`; docs/reference-code.md, "The ablation variants").
    pub fn named(name: &str) -> Result<ModelConfig, ConfigError> {
        NAMED_MODELS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, build)| build())
            .ok_or_else(|| ConfigError::UnknownModel {
                name: name.to_string(),
                known: model_names().collect::<Vec<_>>().join(", "),
            })
    }

    /// The thesis' FiLM decoder around the given synthesis layers: latent 256, mapping
    /// 3 x 256 hidden with a `2 * max width` output scaled by 0.25 at init, final linear,
    /// NSynth omegas, no weight norm (the `piGAN_custom` class of docs/reference-code.md, "The
    /// ablation variants").
    fn thesis_film(layers: Vec<SynthesisLayer>) -> ModelConfig {
        let widest = layers.iter().map(|l| l.width).max().unwrap_or(0);
        ModelConfig {
            latent_size: THESIS_LATENT,
            mapping: MappingConfig {
                hidden_layers: 3,
                hidden_width: THESIS_WIDTH,
                output_size: 2 * widest,
                output_weight_scale: FILM_OUTPUT_SCALE,
                init: MappingInit::KaimingNormal,
            },
            layers,
            output_activation: Activation::None,
            conditioning: Conditioning::Film,
            omega_first: NSYNTH_OMEGA_FIRST,
            omega_hidden: NSYNTH_OMEGA_HIDDEN,
            progressive: None,
            weight_norm: false,
        }
    }

    /// The thesis' concat decoder: 8 x 256 sine layers, a 3 x 256 mapping network to a 256-wide
    /// conditioning vector with unscaled Kaiming init (docs/reference-code.md, "Weight
    /// initialisation").
    fn thesis_concat(hidden_layers: Vec<usize>) -> ModelConfig {
        ModelConfig {
            mapping: MappingConfig {
                hidden_layers: 3,
                hidden_width: THESIS_WIDTH,
                output_size: THESIS_WIDTH,
                output_weight_scale: 1.0,
                init: MappingInit::KaimingNormal,
            },
            conditioning: Conditioning::Concat { hidden_layers },
            ..ModelConfig::thesis_film(vec![
                SynthesisLayer {
                    width: THESIS_WIDTH,
                    activation: Activation::Sine,
                };
                THESIS_LAYERS
            ])
        }
    }

    /// A small FiLM decoder for CPU training and real-time playback: 4 sine layers of `width`,
    /// a 128-wide mapping network with `mapping_depth` hidden layers, NSynth omegas.
    /// Weight normalisation is off: it does not change the function class, costs a norm per
    /// layer per step, and the thesis' ablations trained without it.
    fn small(width: usize, mapping_depth: usize) -> ModelConfig {
        ModelConfig {
            mapping: MappingConfig {
                hidden_layers: mapping_depth,
                hidden_width: 128,
                output_size: 2 * width,
                output_weight_scale: FILM_OUTPUT_SCALE,
                init: MappingInit::KaimingNormal,
            },
            ..ModelConfig::thesis_film(vec![
                SynthesisLayer {
                    width,
                    activation: Activation::Sine,
                };
                4
            ])
        }
    }

    /// A per-layer FiLM decoder for real-time playback: 4 sine layers of `width`, each with its
    /// own (gamma, beta) from a mapping network of `mapping_depth` hidden layers of
    /// `mapping_width`, NSynth omegas, no weight normalisation.
    fn layered(width: usize, mapping_depth: usize, mapping_width: usize) -> ModelConfig {
        let small = ModelConfig::small(width, mapping_depth);
        let layers = small.layers.len();
        ModelConfig {
            mapping: MappingConfig {
                hidden_width: mapping_width,
                output_size: 2 * layers * width,
                ..small.mapping
            },
            conditioning: Conditioning::FilmPerLayer,
            ..small
        }
    }

    /// Checks that the configuration describes a network that can be built.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let zero = |what: &str| ConfigError::ZeroSize {
            what: what.to_string(),
        };
        if self.latent_size == 0 {
            return Err(zero("latent_size"));
        }
        if self.mapping.hidden_layers > 0 && self.mapping.hidden_width == 0 {
            return Err(zero("mapping.hidden_width"));
        }
        if self.mapping.output_size == 0 {
            return Err(zero("mapping.output_size"));
        }
        if self.layers.is_empty() {
            return Err(ConfigError::NoLayers);
        }
        if let Some(i) = self.layers.iter().position(|l| l.width == 0) {
            return Err(zero(&format!("layers[{i}].width")));
        }
        let omegas = [
            ("omega_first", self.omega_first),
            ("omega_hidden", self.omega_hidden),
        ];
        let weight_scale = (
            "mapping.output_weight_scale",
            self.mapping.output_weight_scale,
        );
        for (what, value) in omegas.into_iter().chain([weight_scale]) {
            if !(value.is_finite() && value > 0.0) {
                return Err(ConfigError::BadScale {
                    what: what.to_string(),
                    value,
                });
            }
        }
        let max = f64::from(crate::preset::MAX_OMEGA);
        for (what, value) in omegas {
            if value > max {
                return Err(ConfigError::OmegaTooHigh {
                    what: what.to_string(),
                    value,
                    max,
                });
            }
        }
        match &self.conditioning {
            Conditioning::Film | Conditioning::FilmPerLayer => {
                let needed = 2 * self.film_width();
                let got = self.mapping.output_size;
                if got < needed || !got.is_multiple_of(2) {
                    return Err(ConfigError::FilmTooNarrow { needed, got });
                }
            }
            Conditioning::Concat { hidden_layers } => {
                let layers = self.layers.len();
                for (k, &index) in hidden_layers.iter().enumerate() {
                    if index == 0 || index >= layers || hidden_layers[..k].contains(&index) {
                        return Err(ConfigError::BadConcatLayer { index, layers });
                    }
                }
            }
        }
        if let Some(p) = self.progressive {
            let width = self.layers[0].width;
            if p.groups == 0 {
                return Err(zero("progressive.groups"));
            }
            if p.groups > width {
                return Err(ConfigError::TooManyGroups {
                    groups: p.groups,
                    width,
                });
            }
        }
        Ok(())
    }

    /// The widest synthesis layer (0 when there are none).
    pub fn max_width(&self) -> usize {
        self.layers.iter().map(|l| l.width).max().unwrap_or(0)
    }

    /// How many gamma values (and as many betas) the mapping network must produce: the widest
    /// layer's width for shared FiLM, the sum of the widths for per-layer FiLM, 0 for concat.
    pub fn film_width(&self) -> usize {
        match self.conditioning {
            Conditioning::Film => self.max_width(),
            Conditioning::FilmPerLayer => self.layers.iter().map(|l| l.width).sum(),
            Conditioning::Concat { .. } => 0,
        }
    }

    /// Where synthesis layer `index`'s gammas start in the gamma half of the mapping output
    /// (and its betas in the beta half): 0 for shared FiLM, the widths of the layers before it
    /// for per-layer FiLM.
    pub fn film_offset(&self, index: usize) -> usize {
        match self.conditioning {
            Conditioning::FilmPerLayer => self.layers[..index].iter().map(|l| l.width).sum(),
            _ => 0,
        }
    }

    /// Size of the concatenated conditioning vector c (0 for FiLM).
    pub fn concat_size(&self) -> usize {
        match self.conditioning {
            Conditioning::Film | Conditioning::FilmPerLayer => 0,
            Conditioning::Concat { .. } => self.mapping.output_size,
        }
    }

    /// Whether synthesis layer `index` receives `[h; c; t]` (concat conditioning only).
    pub fn is_concat_hidden(&self, index: usize) -> bool {
        matches!(&self.conditioning, Conditioning::Concat { hidden_layers } if hidden_layers.contains(&index))
    }

    /// Every layer of the network in order: mapping layers, synthesis layers, final linear.
    pub fn layer_shapes(&self) -> Vec<LayerShape> {
        let linear = |inputs: usize, outputs: usize| inputs * outputs + outputs;
        let mut shapes = Vec::new();
        let mut inputs = self.latent_size;
        for i in 0..=self.mapping.hidden_layers {
            let last = i == self.mapping.hidden_layers;
            let outputs = if last {
                self.mapping.output_size
            } else {
                self.mapping.hidden_width
            };
            shapes.push(LayerShape {
                name: format!("mapping.{i}"),
                inputs,
                outputs,
                activation: if last {
                    Activation::None.name().to_string()
                } else {
                    format!("leaky_relu({MAPPING_LEAKY_SLOPE})")
                },
                omega: None,
                film: false,
                parameters: linear(inputs, outputs),
            });
            inputs = outputs;
        }
        let film = self.conditioning.is_film();
        let c = self.concat_size();
        let mut previous = 1;
        for (i, layer) in self.layers.iter().enumerate() {
            let inputs = if i == 0 {
                1 + c
            } else if self.is_concat_hidden(i) {
                previous + c + 1
            } else {
                previous
            };
            shapes.push(LayerShape {
                name: format!("synthesis.{i}"),
                inputs,
                outputs: layer.width,
                activation: layer.activation.name().to_string(),
                omega: Some(if i == 0 {
                    self.omega_first
                } else {
                    self.omega_hidden
                }),
                film,
                parameters: linear(inputs, layer.width),
            });
            previous = layer.width;
        }
        shapes.push(LayerShape {
            name: "output".to_string(),
            inputs: previous,
            outputs: 1,
            activation: self.output_activation.name().to_string(),
            omega: Some(1.0),
            film: false,
            parameters: linear(previous, 1),
        });
        shapes
    }

    /// Number of weights and biases, weight-norm gains and fixed omega buffers excluded (the
    /// thesis' count: 790,273 for `pigan`).
    pub fn parameter_count(&self) -> usize {
        self.layer_shapes().iter().map(|l| l.parameters).sum()
    }

    /// Number of weight-norm gain entries (one per output unit of every synthesis layer and of
    /// the final linear; 0 without weight norm). The reference code's printed count includes them.
    pub fn weight_norm_gain_count(&self) -> usize {
        if self.weight_norm {
            self.layers.iter().map(|l| l.width).sum::<usize>() + 1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameter_counts_match_the_reference() {
        let expected = [
            ("pigan", 790_273),
            ("pigan-sine-first", 790_273),
            ("pigan-sine-last", 790_273),
            ("pigan-relu", 790_273),
            ("pigan-concat-middle", 855_809),
            ("pigan-concat-all", 1_250_561),
            ("pigan-min-mapping", 592_897),
            ("pigan-five-mapping", 921_857),
            ("pigan-shrinking", 1_414_913),
            ("pigan-shrinking-thesis", 1_094_707),
            ("pigan-deep", 793_357),
            ("pigan-deep-thesis", 742_977),
            ("pigan-wide", 786_852),
            ("pigan-wide-thesis", 828_177),
            ("pigan-prog", 790_273),
            ("demo", 102_401),
            ("live", 148_865),
            // Mapping 256·128+128 + 128·128+128 + 128·768+768, synthesis 2·96 + 3·(96·96+96),
            // readout 97.
            ("layered-96", 176_705),
            ("layered-192", 703_873),
            ("layered-256", 921_857),
        ];
        for (name, count) in expected {
            let config = ModelConfig::named(name).unwrap();
            assert_eq!(config.parameter_count(), count, "{name}");
        }
    }

    #[test]
    fn pigan_with_gains_matches_the_reference_printout() {
        let config = ModelConfig::named("pigan").unwrap();
        assert_eq!(
            config.parameter_count() + config.weight_norm_gain_count(),
            792_322
        );
    }

    #[test]
    fn every_named_config_validates_and_round_trips() {
        for name in model_names() {
            let config = ModelConfig::named(name).unwrap();
            config.validate().unwrap();
            let json = serde_json::to_string(&config).unwrap();
            let back: ModelConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, config, "{name}");
        }
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = ModelConfig::named("pigan-huge").unwrap_err().to_string();
        assert!(err.contains("pigan-huge"), "{err}");
        assert!(
            err.contains("pigan-deep-thesis") && err.contains("demo"),
            "{err}"
        );
    }

    #[test]
    fn impossible_shapes_are_rejected() {
        let base = ModelConfig::named("pigan").unwrap();
        let check = |config: ModelConfig, needle: &str| {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err} lacks {needle}");
        };
        check(
            ModelConfig {
                latent_size: 0,
                ..base.clone()
            },
            "latent_size",
        );
        let mut zero_width = base.clone();
        zero_width.layers[3].width = 0;
        check(zero_width, "layers[3].width");
        check(
            ModelConfig {
                layers: vec![],
                ..base.clone()
            },
            "at least one layer",
        );
        check(
            ModelConfig {
                omega_first: f64::NAN,
                ..base.clone()
            },
            "omega_first",
        );
        check(
            ModelConfig {
                omega_hidden: -3.0,
                ..base.clone()
            },
            "omega_hidden",
        );
        check(
            ModelConfig {
                omega_first: 2e5,
                ..base.clone()
            },
            "omega_first is 200000: a preset takes omegas up to 100000",
        );
        let mut narrow = base.clone();
        narrow.mapping.output_size = 300;
        check(narrow, "512");
        let mut concat = ModelConfig::named("pigan-concat-middle").unwrap();
        concat.conditioning = Conditioning::Concat {
            hidden_layers: vec![0],
        };
        check(concat, "index 0");
        check(
            ModelConfig {
                progressive: Some(Progressive { groups: 300 }),
                ..base
            },
            "300 progressive groups",
        );
    }

    #[test]
    fn layer_table_of_concat_middle() {
        let shapes = ModelConfig::named("pigan-concat-middle")
            .unwrap()
            .layer_shapes();
        let inputs: Vec<usize> = shapes.iter().map(|l| l.inputs).collect();
        assert_eq!(
            inputs,
            vec![256, 256, 256, 256, 257, 256, 256, 256, 513, 256, 256, 256, 256]
        );
        assert_eq!(shapes.last().unwrap().name, "output");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let mut json = serde_json::to_value(ModelConfig::named("demo").unwrap()).unwrap();
        json["colour"] = serde_json::json!("blue");
        assert!(serde_json::from_value::<ModelConfig>(json).is_err());
    }
}
