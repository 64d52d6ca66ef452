//! Signal helpers shared by the data pipeline, the metrics and the tests: resampling,
//! spectra, STFT magnitudes, the thesis' evaluation metrics and the fidelity measures of
//! `trainer eval` (SNR, spectral convergence, harmonic error and reach).

pub mod harmonics;
pub mod metrics;
mod resample;
mod spectrum;
pub mod stft;

pub use resample::{resample, ResampleError};
pub use spectrum::{dominant_frequency, magnitude_spectrum};
