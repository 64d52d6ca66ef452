//! Signal helpers shared by the data pipeline, the metrics and the tests.

mod resample;
mod spectrum;

pub use resample::{resample, ResampleError};
pub use spectrum::{dominant_frequency, magnitude_spectrum};
