//! Signal helpers shared by the data pipeline, the metrics and the tests: resampling,
//! spectra, STFT magnitudes and the thesis' evaluation metrics.

pub mod metrics;
mod resample;
mod spectrum;
pub mod stft;

pub use resample::{resample, ResampleError};
pub use spectrum::{dominant_frequency, magnitude_spectrum};
