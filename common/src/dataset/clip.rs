//! The unit of data: a one-second mono clip at 16 kHz with its labels.

use std::path::PathBuf;

pub use crate::label::Label;
use crate::CLIP_LEN;

/// One item of a data set: exactly [`CLIP_LEN`] samples at 16 kHz.
#[derive(Debug, Clone)]
pub struct Clip {
    /// A stable identifier: the NSynth note id, or the path relative to the data set root.
    pub id: String,
    /// The file the audio came from.
    pub source: PathBuf,
    /// What is known about the clip.
    pub label: Label,
    /// The audio, mono f32, exactly [`CLIP_LEN`] samples.
    pub samples: Vec<f32>,
}

/// Crops a signal to its first [`CLIP_LEN`] samples or zero-pads it at the end, as the thesis
/// does (NSynth: first second; Speech Commands: end padding).
pub fn fit_to_clip(mut samples: Vec<f32>) -> Vec<f32> {
    samples.resize(CLIP_LEN, 0.0);
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_and_pads() {
        let long = fit_to_clip(vec![1.0; CLIP_LEN + 5]);
        assert_eq!(long.len(), CLIP_LEN);
        let short = fit_to_clip(vec![1.0; 10]);
        assert_eq!(short.len(), CLIP_LEN);
        assert_eq!(short[9], 1.0);
        assert_eq!(short[10], 0.0);
    }
}
