//! The sound parameters as plain values: what the plugin reads from its smoothed parameters
//! and the offline renderer from its command line, so both drive the voices identically.

use nice_plug::prelude::Enum;
use thiserror::Error;

/// Number of latent-direction controls (`Latent 1` … `Latent 8`).
pub const LATENT_CONTROLS: usize = 8;

/// Reach of each `Latent k` control, in standard deviations each way.
pub const LATENT_RANGE: f32 = 3.0;

/// Largest polyphony a musician can ask for (`Voices`).
pub const MAX_VOICES: usize = 16;

/// Largest `Bend range`, semitones each way: 48, the MPE default of a note's own channel.
pub const MAX_BEND_RANGE: f32 = 48.0;

/// Where the network is evaluated: the `Render rate` parameter and `synth render --render-rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum, clap::ValueEnum)]
pub enum RenderRate {
    /// At the host's own time points: exact, zero latency.
    #[default]
    #[name = "Host"]
    Host,
    /// At the model's native 16 kHz, then a band-limited interpolator to the host rate:
    /// about `host rate / 16 kHz` times cheaper per voice, with a few milliseconds of latency.
    #[name = "Native"]
    Native,
}

/// One continuous control: the single definition of its name, default, range and unit, from
/// which the plugin's parameter and `synth render`'s flag are both built and checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// The name a host shows (`Latent` is numbered: `Latent 1` …).
    pub name: &'static str,
    /// `synth render`'s flag, without its dashes.
    pub flag: &'static str,
    /// The value a new instance and a render without the flag use.
    pub default: f32,
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
    /// Unit as displayed after the value, with its leading space (empty: none).
    pub unit: &'static str,
}

/// A value outside its control's range.
#[derive(Debug, Error, PartialEq)]
#[error("--{flag} {value}: must be between {min} and {max}{unit}")]
pub struct OutOfRange {
    /// The control's flag.
    pub flag: &'static str,
    /// The value given.
    pub value: f32,
    /// The control's smallest value.
    pub min: f32,
    /// The control's largest value.
    pub max: f32,
    /// The control's unit.
    pub unit: &'static str,
}

impl Control {
    /// `value` if it lies in the range (NaN does not), else the error naming the flag.
    pub fn check(&self, value: f32) -> Result<f32, OutOfRange> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(OutOfRange {
                flag: self.flag,
                value,
                min: self.min,
                max: self.max,
                unit: self.unit,
            })
        }
    }
}

/// `Gain`: output level, dB.
pub const GAIN: Control = Control {
    name: "Gain",
    flag: "gain-db",
    default: -6.0,
    min: -48.0,
    max: 12.0,
    unit: " dB",
};

/// `Attack`, ms: the default is long enough to hide a clip's first-sample step, short enough
/// to keep the onset.
pub const ATTACK: Control = Control {
    name: "Attack",
    flag: "attack-ms",
    default: 2.0,
    min: 0.0,
    max: 2000.0,
    unit: " ms",
};

/// `Release`, ms (time to fall 60 dB).
pub const RELEASE: Control = Control {
    name: "Release",
    flag: "release-ms",
    default: 300.0,
    min: 5.0,
    max: 5000.0,
    unit: " ms",
};

/// `Voices`: the most notes sounding at once.
pub const VOICES: Control = Control {
    name: "Voices",
    flag: "voices",
    default: MAX_VOICES as f32,
    min: 1.0,
    max: MAX_VOICES as f32,
    unit: "",
};

/// `Morph`: 0 plays `Sound`, 1 plays `Morph to`.
pub const MORPH: Control = Control {
    name: "Morph",
    flag: "morph",
    default: 0.0,
    min: 0.0,
    max: 1.0,
    unit: "",
};

/// `Latent k`: an offset along principal direction k, in standard deviations.
pub const LATENT: Control = Control {
    name: "Latent",
    flag: "latents",
    default: 0.0,
    min: -LATENT_RANGE,
    max: LATENT_RANGE,
    unit: " σ",
};

/// `Bend range`, semitones each way: the default is General MIDI's.
pub const BEND_RANGE: Control = Control {
    name: "Bend range",
    flag: "bend-range",
    default: 2.0,
    min: 0.0,
    max: MAX_BEND_RANGE,
    unit: " st",
};

/// `Expression depth`: how far, in standard deviations, full pressure or a full slide moves
/// its latent.
pub const EXPRESSION_DEPTH: Control = Control {
    name: "Expression depth",
    flag: "expression-depth",
    default: 1.0,
    min: 0.0,
    max: LATENT_RANGE,
    unit: " σ",
};

/// Every continuous control, in the order a generic editor lists them.
pub const CONTROLS: [Control; 8] = [
    MORPH,
    LATENT,
    GAIN,
    ATTACK,
    RELEASE,
    VOICES,
    BEND_RANGE,
    EXPRESSION_DEPTH,
];

/// Default `Pressure to`: the first latent direction (the one the training set varies most).
pub const DEFAULT_PRESSURE_TO: usize = 1;
/// Default `Slide to`: the second latent direction.
pub const DEFAULT_SLIDE_TO: usize = 2;

/// One block's sound parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controls {
    /// `Sound`: the training item whose latent is the base (clamped to the preset's items).
    pub sound: usize,
    /// `Morph to`: the second item.
    pub morph_to: usize,
    /// `Morph`: 0 plays `sound`, 1 plays `morph_to`, in between interpolates the latents.
    pub morph: f32,
    /// `Latent k`: offsets along the preset's principal directions, in standard deviations.
    pub latents: [f32; LATENT_CONTROLS],
    /// `Gain` as a linear factor (the offline renderer and the plugin's smoothed dB value).
    pub gain: f32,
    /// `Attack`, seconds.
    pub attack_s: f32,
    /// `Release` (to −60 dB), seconds.
    pub release_s: f32,
    /// `Voices`: the most notes sounding at once (1 ..= [`MAX_VOICES`]).
    pub voices: usize,
    /// `Key tracking`: play the item nearest in pitch to the note (true) or the `Sound` item
    /// itself (false), transposed the rest of the way by time scaling.
    pub key_tracking: bool,
    /// `Render rate`.
    pub render_rate: RenderRate,
    /// `Bend range`: semitones a full pitch-bend moves a note, each way.
    pub bend_range: f32,
    /// `Pressure to`: the `Latent k` (1..=8) a note's pressure moves, 0 for none.
    pub pressure_to: usize,
    /// `Slide to`: the `Latent k` (1..=8) a note's slide (MPE's CC 74) moves, 0 for none.
    pub slide_to: usize,
    /// `Expression depth`: how far, in standard deviations, full pressure or a full slide
    /// moves its latent.
    pub expression_depth: f32,
}

impl Default for Controls {
    fn default() -> Controls {
        Controls {
            sound: 0,
            morph_to: 0,
            morph: 0.0,
            latents: [0.0; LATENT_CONTROLS],
            gain: db_to_gain(GAIN.default),
            attack_s: ATTACK.default * 1e-3,
            release_s: RELEASE.default * 1e-3,
            voices: MAX_VOICES,
            key_tracking: true,
            render_rate: RenderRate::Host,
            bend_range: BEND_RANGE.default,
            pressure_to: DEFAULT_PRESSURE_TO,
            slide_to: DEFAULT_SLIDE_TO,
            expression_depth: EXPRESSION_DEPTH.default,
        }
    }
}

/// `10^(db/20)`.
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_lies_in_its_range_and_checks_name_the_flag() {
        for c in CONTROLS {
            assert!(c.min < c.max, "{}", c.name);
            assert_eq!(c.check(c.default), Ok(c.default), "{}", c.name);
            assert!(c.check(f32::NAN).is_err(), "{}", c.name);
        }
        assert_eq!(
            BEND_RANGE.check(60.0).unwrap_err().to_string(),
            "--bend-range 60: must be between 0 and 48 st"
        );
        assert_eq!(
            RELEASE.check(1.0).unwrap_err().to_string(),
            "--release-ms 1: must be between 5 and 5000 ms"
        );
    }
}
