//! Errors of reading and writing presets: the file, then the precise problem.

use thiserror::Error;

use crate::evaluator::WeightsError;
use crate::model_config::ConfigError;

/// A preset that could not be loaded or written: which file, and why.
#[derive(Debug, PartialEq, Error)]
#[error("{file}: {problem}")]
pub struct PresetError {
    /// The file (or `<bytes>` for [`Preset::from_bytes`](super::Preset::from_bytes)).
    pub file: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a preset.
#[derive(Debug, PartialEq, Error)]
pub enum Problem {
    /// The file cannot be read or written.
    #[error("{0}")]
    Io(String),
    /// The file is larger than [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error("the file has {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Fewer bytes than the 8-byte header length.
    #[error("truncated: {0} bytes, fewer than the 8-byte header length")]
    TooShort(usize),
    /// The declared header is larger than [`MAX_HEADER_BYTES`](super::MAX_HEADER_BYTES).
    #[error("the header claims {size} bytes, over the {limit}-byte limit")]
    HeaderTooLarge {
        /// The declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The declared header runs past the end of the file.
    #[error("truncated: the header claims {claimed} bytes but only {available} follow")]
    HeaderTruncated {
        /// The declared size.
        claimed: u64,
        /// The bytes after the length field.
        available: u64,
    },
    /// The safetensors container itself is malformed (offsets, JSON, data length).
    #[error("not a valid safetensors file: {0}")]
    Container(String),
    /// No `sirenade` metadata entry, or one that does not name the preset format.
    #[error("not a Sirenade preset (no `{key}` metadata naming format `{format}`)")]
    NotAPreset {
        /// The metadata key.
        key: &'static str,
        /// The expected format name.
        format: &'static str,
    },
    /// The preset's JSON metadata does not parse.
    #[error("malformed preset metadata: {0}")]
    Metadata(String),
    /// A format version this build does not read.
    #[error("preset format version {found}; this build reads version {supported}")]
    Version {
        /// The file's version.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// The model configuration cannot be built.
    #[error("invalid model config: {0}")]
    Config(#[from] ConfigError),
    /// A model size beyond what any preset could hold.
    #[error("the model config is implausibly large: {0}")]
    ConfigTooLarge(String),
    /// A sample rate other than the one models are trained at.
    #[error("sample rate {found} Hz; presets are {expected} Hz")]
    SampleRate {
        /// The file's rate.
        found: u32,
        /// The modelled rate.
        expected: u32,
    },
    /// A clip duration other than one second.
    #[error("duration {0} s; presets model 1 s clips")]
    Duration(f64),
    /// The number of principal directions is out of range.
    #[error("{found} principal directions; need between {min} and the latent size {max}")]
    Components {
        /// The count declared.
        found: usize,
        /// The least accepted.
        min: usize,
        /// The latent size.
        max: usize,
    },
    /// A tensor the config requires is absent.
    #[error("tensor {0} is missing")]
    MissingTensor(String),
    /// A tensor the config does not describe.
    #[error("unexpected tensor {0}")]
    UnexpectedTensor(String),
    /// A tensor stored in a dtype other than F16 or F32.
    #[error("tensor {name} has dtype {dtype}; presets hold F16 or F32")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: String,
    },
    /// A tensor whose shape differs from the config's.
    #[error("tensor {name} has shape {found:?}, config says {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// The shape the config implies.
        expected: Vec<usize>,
    },
    /// A tensor holding NaN or an infinity.
    #[error("tensor {name}[{index}] is not finite ({value})")]
    NotFinite {
        /// The tensor.
        name: String,
        /// The flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A finite value beyond [`MAX_MAGNITUDE`](super::MAX_MAGNITUDE).
    #[error(
        "tensor {name}[{index}] is {value:e}, beyond ±65504 (the f16 range): not a model's value"
    )]
    Magnitude {
        /// The tensor.
        name: String,
        /// The flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// An omega that is not finite, positive and at most [`MAX_OMEGA`](super::MAX_OMEGA).
    #[error("tensor {name}[{index}] is omega {value}; omegas must be in (0, 1e5]")]
    Omega {
        /// The tensor.
        name: String,
        /// The flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A value that f16 cannot hold (writing a compact preset).
    #[error("tensor {name}[{index}] = {value} does not fit in f16")]
    F16Overflow {
        /// The tensor.
        name: String,
        /// The flat index.
        index: usize,
        /// The value.
        value: f32,
    },
    /// The evaluator rejects the weights (a check beyond the config's shapes).
    #[error("the evaluator rejects the weights: {0}")]
    Weights(#[from] WeightsError),
}

impl Problem {
    /// Attaches the file name.
    pub(super) fn at(self, file: &str) -> PresetError {
        PresetError {
            file: file.to_string(),
            problem: self,
        }
    }
}
