//! The unit of data: a one-second mono clip at 16 kHz with its labels.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::CLIP_LEN;

/// What is known about a clip. Notes carry pitch, velocity and instrument fields; speech
/// carries the word; a plain WAV folder carries none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// MIDI pitch (notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch: Option<u8>,
    /// MIDI velocity (notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<u8>,
    /// NSynth instrument family, e.g. `keyboard` (notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// NSynth instrument name, e.g. `keyboard_acoustic_001` (notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instrument: Option<String>,
    /// NSynth instrument source: `acoustic`, `electronic` or `synthetic` (notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The spoken word (speech).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word: Option<String>,
}

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
