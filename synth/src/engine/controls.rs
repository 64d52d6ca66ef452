//! The sound parameters as plain values: what the plugin reads from its smoothed parameters
//! and the offline renderer from its command line, so both drive the voices identically.

/// Number of latent-direction controls (`Latent 1` … `Latent 8`).
pub const LATENT_CONTROLS: usize = 8;

/// Reach of each `Latent k` control, in standard deviations each way.
pub const LATENT_RANGE: f32 = 3.0;

/// Largest polyphony a musician can ask for (`Voices`).
pub const MAX_VOICES: usize = 16;

/// Where the network is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderRate {
    /// At the host's own time points: exact, zero latency.
    #[default]
    Host,
    /// At the model's native 16 kHz, then a band-limited interpolator to the host rate:
    /// about `host rate / 16 kHz` times cheaper per voice, with a few milliseconds of latency.
    Native,
}

/// Default `Gain`, dB.
pub const DEFAULT_GAIN_DB: f32 = -6.0;
/// Default `Attack`, ms: long enough to hide a clip's first-sample step, short enough to keep
/// the onset.
pub const DEFAULT_ATTACK_MS: f32 = 2.0;
/// Default `Release`, ms (time to fall 60 dB).
pub const DEFAULT_RELEASE_MS: f32 = 300.0;
/// Default `Bend range`, semitones each way: the General MIDI default.
pub const DEFAULT_BEND_RANGE: f32 = 2.0;
/// Largest `Bend range`, semitones each way: 48, the MPE default of a note's own channel.
pub const MAX_BEND_RANGE: f32 = 48.0;

/// Default `Pressure to`: the first latent direction (the one the training set varies most).
pub const DEFAULT_PRESSURE_TO: usize = 1;
/// Default `Slide to`: the second latent direction.
pub const DEFAULT_SLIDE_TO: usize = 2;
/// Default `Expression depth`, standard deviations.
pub const DEFAULT_EXPRESSION_DEPTH: f32 = 1.0;

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
            gain: db_to_gain(DEFAULT_GAIN_DB),
            attack_s: DEFAULT_ATTACK_MS * 1e-3,
            release_s: DEFAULT_RELEASE_MS * 1e-3,
            voices: MAX_VOICES,
            key_tracking: true,
            render_rate: RenderRate::Host,
            bend_range: DEFAULT_BEND_RANGE,
            pressure_to: DEFAULT_PRESSURE_TO,
            slide_to: DEFAULT_SLIDE_TO,
            expression_depth: DEFAULT_EXPRESSION_DEPTH,
        }
    }
}

/// `10^(db/20)`.
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
