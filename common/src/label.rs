//! What is known about a clip (pitch, velocity, instrument, word): read from a data set by
//! the trainer and carried by a preset to the instrument, so it lives outside the data-set
//! readers the instrument does not link.

use serde::{Deserialize, Serialize};

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
