//! Errors of the evaluator: rejected weights at construction, rejected latents at preparation.

use std::fmt;

use thiserror::Error;

use super::kernel::Isa;

/// The part of a network an error refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The latent vector.
    Latent,
    /// Dense layer `i` of the mapping network.
    Mapping(usize),
    /// Synthesis layer `i` (0 takes the time coordinate).
    Synth(usize),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Latent => write!(f, "latent"),
            Part::Mapping(i) => write!(f, "mapping layer {i}"),
            Part::Synth(i) => write!(f, "synthesis layer {i}"),
        }
    }
}

/// Why a [`NetworkWeights`](super::NetworkWeights) cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum WeightsError {
    /// A width is zero.
    #[error("{0} has zero width")]
    ZeroWidth(Part),
    /// A layer's input width does not match what feeds it.
    #[error("{part} takes {found} inputs, but its input has {expected} values")]
    InputWidth {
        /// The layer.
        part: Part,
        /// Its declared input width.
        found: usize,
        /// The width of what feeds it.
        expected: usize,
    },
    /// A tensor has the wrong number of values.
    #[error("{part}: {tensor} has {found} values, expected {expected}")]
    Length {
        /// The layer.
        part: Part,
        /// Which tensor of the layer.
        tensor: &'static str,
        /// Its length.
        found: usize,
        /// The length its shape requires.
        expected: usize,
    },
    /// A tensor holds NaN or an infinity.
    #[error("{part}: {tensor}[{index}] is not finite ({value})")]
    NotFinite {
        /// The layer.
        part: Part,
        /// Which tensor of the layer.
        tensor: &'static str,
        /// The flat index of the first bad value.
        index: usize,
        /// The bad value.
        value: f32,
    },
    /// There are no synthesis layers.
    #[error("the network has no synthesis layers")]
    NoLayers,
    /// The last synthesis layer does not produce a single amplitude.
    #[error("the last synthesis layer has {0} outputs; the network must end in one amplitude")]
    OutputWidth(usize),
    /// FiLM conditioning needs `[gamma; beta]` of equal halves.
    #[error("the mapping network outputs {0} values; FiLM needs an even count (gamma, then beta)")]
    FilmOddWidth(usize),
    /// A FiLM layer is wider than gamma and beta.
    #[error("synthesis layer {layer} has {units} FiLM units but gamma and beta have {available}")]
    FilmTooNarrow {
        /// The layer.
        layer: usize,
        /// Its width.
        units: usize,
        /// Width of gamma (and beta).
        available: usize,
    },
    /// A layer asks for FiLM in a concat-conditioned network.
    #[error("synthesis layer {0} uses FiLM but the network is concat-conditioned")]
    FilmWithoutFilmConditioning(usize),
    /// A layer has concat weights in a FiLM-conditioned network.
    #[error("synthesis layer {0} has concat weights but the network is FiLM-conditioned")]
    ConcatWithoutConcatConditioning(usize),
    /// The first layer was given a time column although its input already is `t`.
    #[error("synthesis layer 0 cannot have a time column: its input already is t")]
    FirstLayerTime,
}

/// Why an evaluator cannot be built or a latent cannot be used.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum EvaluatorError {
    /// The weights are malformed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A kernel was forced that this CPU cannot run.
    #[error("the {0} kernel is not supported by this CPU")]
    IsaUnavailable(Isa),
    /// The latent has the wrong length.
    #[error("the latent has {found} values, the network expects {expected}")]
    LatentLength {
        /// Its length.
        found: usize,
        /// The network's latent width.
        expected: usize,
    },
    /// The latent holds NaN or an infinity.
    #[error("latent[{0}] is not finite")]
    LatentNotFinite(usize),
}
