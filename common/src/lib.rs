//! Shared pieces of Sirenade used by both the trainer and the plugin.
//!
//! - [`dataset`]: reading NSynth-format, Speech-Commands-format and plain WAV-folder data sets
//!   into fixed-length 16 kHz mono clips, with selection, balancing and summary statistics.
//! - [`dsp`]: signal helpers shared by the data pipeline, the metrics and the tests
//!   (band-limited resampling, spectra).
//! - [`audio`]: WAV decoding of any common bit depth and channel count.

pub mod audio;
pub mod dataset;
pub mod dsp;

/// The sample rate every clip is stored and modelled at (Hz), as in the thesis (section 5.5).
pub const SAMPLE_RATE: u32 = 16_000;

/// The number of samples of one clip: exactly one second at [`SAMPLE_RATE`].
pub const CLIP_LEN: usize = 16_000;
