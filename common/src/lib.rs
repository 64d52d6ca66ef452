//! Shared pieces of Sirenade used by both the trainer and the plugin.
//!
//! The data-set readers and the signal helpers (and their dependencies: resampling, FFT,
//! directory walking) are behind the `data` feature, on by default; the instrument builds
//! without it, so that what a DAW loads holds only what plays.
//!
//! - [`dataset`] (`data`): reading NSynth-format, Speech-Commands-format and plain WAV-folder data sets
//!   into fixed-length 16 kHz mono clips, with selection, balancing and summary statistics.
//! - [`dsp`] (`data`): signal helpers shared by the data pipeline, the metrics and the tests
//!   (band-limited resampling, spectra).
//! - [`label`]: what is known about a clip (pitch, instrument, word), from data set to preset.
//! - [`audio`]: WAV decoding of any common bit depth and channel count.
//! - [`atomic_file`]: files written whole or not at all (temporary file, then rename).
//! - [`error_line`]: an error and its causes on one line, each said once (the tools' output).
//! - [`exit`] (`cli`): the tools' exit statuses.
//! - [`model_config`]: the serde description of a decoder architecture and its named presets.
//! - [`evaluator`]: the real-time SIMD evaluator of a conditional SIREN (no candle).
//! - [`preset`]: the `.sirenade` preset file (safetensors + JSON metadata): write, load, validate.
//! - [`thousands`]: integers with grouped digits, as the tools print them.

pub mod atomic_file;
pub mod audio;
#[cfg(feature = "data")]
pub mod dataset;
#[cfg(feature = "data")]
pub mod dsp;
pub mod error_line;
pub mod evaluator;
#[cfg(feature = "cli")]
pub mod exit;
pub mod label;
pub mod model_config;
pub mod preset;
pub mod thousands;

/// The sample rate every clip is stored and modelled at (Hz), as in the thesis (section 5.5).
pub const SAMPLE_RATE: u32 = 16_000;

/// The number of samples of one clip: exactly one second at [`SAMPLE_RATE`].
pub const CLIP_LEN: usize = 16_000;
