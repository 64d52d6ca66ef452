//! Per-note expressions — what CLAP's note expressions, VST3's note expression values and MPE
//! controllers say about one sounding note (tuning, volume, pan, pressure, slide) — and the
//! selector that says which notes an event addresses.

use super::controls::{Controls, LATENT_CONTROLS, LATENT_RANGE};
use super::note_id::VoiceTag;

/// Which sounding notes an event addresses, as CLAP and VST3 name them: by the host's note id
/// when both the event and the note have one, else by channel and key, either of which may be
/// "any" (CLAP's wildcard −1) when the event names no id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteSelector {
    /// The host's note id.
    pub voice_id: Option<i32>,
    /// MIDI channel; none: every channel.
    pub channel: Option<u8>,
    /// MIDI key; none: every key.
    pub key: Option<u8>,
}

impl NoteSelector {
    /// The notes of `key` on `channel` (a MIDI note-off).
    pub const fn note(channel: u8, key: u8) -> NoteSelector {
        NoteSelector {
            voice_id: None,
            channel: Some(channel),
            key: Some(key),
        }
    }

    /// Whether the note `tag` is addressed. An event for one note id reaches a note without
    /// an id only through its exact channel and key, never through a wildcard.
    pub fn matches(&self, tag: &VoiceTag) -> bool {
        match (self.voice_id, tag.voice_id) {
            (Some(id), Some(own)) => id == own,
            (Some(_), None) => self.channel == Some(tag.channel) && self.key == Some(tag.key),
            (None, _) => {
                self.channel.is_none_or(|c| c == tag.channel)
                    && self.key.is_none_or(|k| k == tag.key)
            }
        }
    }
}

/// Tuning, in semitones, that a note expression may give (CLAP's and VST3's range).
pub const MAX_TUNING: f32 = 120.0;

/// Largest volume (gain ratio) of a note expression: +12 dB, CLAP's and VST3's limit.
pub const MAX_VOLUME: f32 = 4.0;

/// Time over which a volume or pan change moves a note's gains, linearly, so that a stream of
/// expression values never clicks.
pub const EXPRESSION_RAMP_S: f32 = 0.005;

/// One note's expression state: its tuning as a clock speed, its left and right gains,
/// ramping towards the latest volume and pan, and its pressure and slide, which move the
/// latents `Pressure to` and `Slide to` name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Expression {
    /// Speed factor of the tuning on the note's clock: 2^(semitones / 12).
    pub speed: f64,
    /// Pressure, 0..1.
    pressure: f32,
    /// Slide, −1..1 (0: MPE's resting CC 74 of 64).
    slide: f32,
    volume: f32,
    pan: f32,
    gains: [f32; 2],
    step: [f32; 2],
    target: [f32; 2],
    ramp_left: u32,
}

impl Expression {
    /// No expression: the note at its own pitch, unity gain on both sides. Multiplying by
    /// these gains and speed is exact, so an unexpressed note is bit for bit what it was.
    pub const NEUTRAL: Expression = Expression {
        speed: 1.0,
        pressure: 0.0,
        slide: 0.0,
        volume: 1.0,
        pan: 0.0,
        gains: [1.0; 2],
        step: [0.0; 2],
        target: [1.0; 2],
        ramp_left: 0,
    };

    /// Retunes the note by `semitones` (clamped to ±[`MAX_TUNING`]; non-finite: none).
    pub fn set_tuning(&mut self, semitones: f32) {
        let semitones = if semitones.is_finite() {
            semitones.clamp(-MAX_TUNING, MAX_TUNING)
        } else {
            0.0
        };
        self.speed = if semitones == 0.0 {
            1.0
        } else {
            (f64::from(semitones) / 12.0).exp2()
        };
    }

    /// Sets the pressure (0..1; clamped, non-finite values are ignored).
    pub fn set_pressure(&mut self, pressure: f32) {
        if pressure.is_finite() {
            self.pressure = pressure.clamp(0.0, 1.0);
        }
    }

    /// Sets the slide (−1..1; clamped, non-finite values are ignored).
    pub fn set_slide(&mut self, slide: f32) {
        if slide.is_finite() {
            self.slide = slide.clamp(-1.0, 1.0);
        }
    }

    /// Adds the pressure and slide to the latents `controls` route them to, each by
    /// `Expression depth` at full travel, clamped to the latents' range. At rest (no pressure,
    /// slide centred) the latents are untouched.
    pub fn move_latents(&self, controls: &Controls, latents: &mut [f32; LATENT_CONTROLS]) {
        for (target, amount) in [
            (controls.pressure_to, self.pressure),
            (controls.slide_to, self.slide),
        ] {
            let Some(latent) = target.checked_sub(1).and_then(|k| latents.get_mut(k)) else {
                continue;
            };
            let depth = controls.expression_depth;
            if amount != 0.0 && depth.is_finite() {
                let depth = depth.clamp(0.0, LATENT_RANGE);
                *latent = (*latent + depth * amount).clamp(-LATENT_RANGE, LATENT_RANGE);
            }
        }
    }

    /// Sets the volume (gain ratio, 0..[`MAX_VOLUME`]; non-finite values are ignored),
    /// reached over [`EXPRESSION_RAMP_S`] at `rate` samples per second.
    pub fn set_volume(&mut self, volume: f32, rate: f32) {
        if volume.is_finite() {
            self.volume = volume.clamp(0.0, MAX_VOLUME);
            self.retarget(rate);
        }
    }

    /// Sets the pan (−1 left .. 1 right; non-finite values are ignored), reached over
    /// [`EXPRESSION_RAMP_S`].
    pub fn set_pan(&mut self, pan: f32, rate: f32) {
        if pan.is_finite() {
            self.pan = pan.clamp(-1.0, 1.0);
            self.retarget(rate);
        }
    }

    fn retarget(&mut self, rate: f32) {
        self.target = pan_gains(self.pan).map(|g| g * self.volume);
        let samples = (EXPRESSION_RAMP_S * rate).ceil().max(1.0);
        self.ramp_left = samples as u32;
        for side in 0..2 {
            self.step[side] = (self.target[side] - self.gains[side]) / samples;
        }
    }

    /// Jumps to the target gains (for a note that has not sounded yet: it starts at its
    /// volume and pan rather than ramping to them).
    pub fn settle(&mut self) {
        self.gains = self.target;
        self.ramp_left = 0;
    }

    /// The left and right gains of this sample, then one sample further along the ramp.
    #[inline]
    pub fn next_gains(&mut self) -> [f32; 2] {
        let gains = self.gains;
        if self.ramp_left > 0 {
            self.ramp_left -= 1;
            self.gains = if self.ramp_left == 0 {
                self.target
            } else {
                [gains[0] + self.step[0], gains[1] + self.step[1]]
            };
        }
        gains
    }
}

/// Left and right gains of a pan position: constant power (L² + R² = 2), unity on both sides
/// at the centre, so a centred note is exactly the mono voice on both channels.
pub fn pan_gains(pan: f32) -> [f32; 2] {
    if pan == 0.0 {
        return [1.0; 2];
    }
    let angle = std::f32::consts::FRAC_PI_4 * (pan.clamp(-1.0, 1.0) + 1.0);
    let (sin, cos) = angle.sin_cos();
    [
        std::f32::consts::SQRT_2 * cos,
        std::f32::consts::SQRT_2 * sin,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(voice_id: Option<i32>, channel: u8, key: u8) -> VoiceTag {
        VoiceTag {
            voice_id,
            channel,
            key,
        }
    }

    #[test]
    fn selectors_match_by_id_else_by_channel_and_key_with_wildcards() {
        let note = tag(Some(7), 2, 60);
        let anonymous = tag(None, 2, 60);
        let by_id = NoteSelector {
            voice_id: Some(7),
            channel: Some(0),
            key: Some(0),
        };
        assert!(by_id.matches(&note), "the id decides when both have one");
        assert!(!NoteSelector {
            voice_id: Some(8),
            ..by_id
        }
        .matches(&note));
        assert!(!by_id.matches(&anonymous), "no id: channel and key decide");
        let exact = NoteSelector {
            voice_id: Some(7),
            channel: Some(2),
            key: Some(60),
        };
        assert!(exact.matches(&anonymous));
        let id_only = NoteSelector {
            voice_id: Some(7),
            channel: None,
            key: None,
        };
        assert!(id_only.matches(&note));
        assert!(
            !id_only.matches(&anonymous),
            "an id with wildcards never reaches an anonymous note"
        );
        assert!(NoteSelector::note(2, 60).matches(&anonymous));
        assert!(!NoteSelector::note(3, 60).matches(&anonymous));
        let any_key = NoteSelector {
            voice_id: None,
            channel: Some(2),
            key: None,
        };
        assert!(any_key.matches(&anonymous) && !any_key.matches(&tag(None, 1, 60)));
        let anything = NoteSelector {
            voice_id: None,
            channel: None,
            key: None,
        };
        assert!(anything.matches(&note) && anything.matches(&tag(None, 15, 0)));
    }

    #[test]
    fn pan_law_is_constant_power_and_unity_at_the_centre() {
        assert_eq!(pan_gains(0.0), [1.0, 1.0]);
        for pan in [-1.0f32, -0.6, -0.1, 0.3, 0.9, 1.0] {
            let [l, r] = pan_gains(pan);
            assert!((l * l + r * r - 2.0).abs() < 1e-5, "pan {pan}: {l}, {r}");
            // Against a float64 evaluation of the same law.
            let angle = std::f64::consts::FRAC_PI_4 * (f64::from(pan) + 1.0);
            let expect = [2f64.sqrt() * angle.cos(), 2f64.sqrt() * angle.sin()];
            assert!((f64::from(l) - expect[0]).abs() < 1e-6);
            assert!((f64::from(r) - expect[1]).abs() < 1e-6);
        }
        assert!(pan_gains(-1.0)[1].abs() < 1e-6 && pan_gains(1.0)[0].abs() < 1e-6);
    }

    #[test]
    fn volume_and_pan_ramp_linearly_and_land_exactly() {
        let mut e = Expression::NEUTRAL;
        assert_eq!(e.next_gains(), [1.0, 1.0]);
        // 5 ms at 16 kHz: 80 samples.
        e.set_volume(0.5, 16_000.0);
        let first = e.next_gains();
        assert_eq!(
            first,
            [1.0, 1.0],
            "the ramp starts from where the gains were"
        );
        let mut last = first;
        for _ in 1..80 {
            let g = e.next_gains();
            assert!(g[0] < last[0] && g[0] > 0.5 - 1e-6, "{g:?} after {last:?}");
            last = g;
        }
        assert_eq!(e.next_gains(), [0.5, 0.5]);
        assert_eq!(e.next_gains(), [0.5, 0.5]);
        e.set_pan(1.0, 16_000.0);
        for _ in 0..80 {
            e.next_gains();
        }
        let [l, r] = e.next_gains();
        assert!(l.abs() < 1e-6 && (r - 0.5 * std::f32::consts::SQRT_2).abs() < 1e-6);
        e.set_volume(f32::NAN, 16_000.0);
        e.set_pan(f32::INFINITY, 16_000.0);
        assert_eq!(e.next_gains(), [l, r], "non-finite values change nothing");
        e.set_volume(100.0, 16_000.0);
        for _ in 0..80 {
            e.next_gains();
        }
        assert!((e.next_gains()[1] - MAX_VOLUME * std::f32::consts::SQRT_2).abs() < 1e-5);
    }

    #[test]
    fn pressure_and_slide_move_their_latents_by_the_depth() {
        let controls = Controls {
            pressure_to: 1,
            slide_to: 3,
            expression_depth: 2.0,
            ..Controls::default()
        };
        let rest = [0.5, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let mut latents = rest;
        let mut e = Expression::NEUTRAL;
        e.move_latents(&controls, &mut latents);
        assert_eq!(latents, rest, "at rest nothing moves");
        e.set_pressure(0.25);
        e.set_slide(0.75);
        e.move_latents(&controls, &mut latents);
        assert_eq!(
            latents[..3],
            [1.0, 0.0, 3.0],
            "0.5 + 2·0.25; 2 + 2·0.75 clamped"
        );
        e.set_pressure(f32::NAN);
        e.set_slide(-7.0);
        let mut latents = rest;
        e.move_latents(&controls, &mut latents);
        assert_eq!(
            latents[..3],
            [1.0, 0.0, 0.0],
            "NaN ignored; slide clamped to −1"
        );
        let off = Controls {
            pressure_to: 0,
            slide_to: 99,
            ..controls
        };
        let mut latents = rest;
        e.move_latents(&off, &mut latents);
        assert_eq!(latents, rest, "no target, or none that exists");
        let nan_depth = Controls {
            expression_depth: f32::NAN,
            ..controls
        };
        e.move_latents(&nan_depth, &mut latents);
        assert_eq!(latents, rest, "a depth that is not a number moves nothing");
    }

    #[test]
    fn tuning_is_an_exact_speed_and_clamped() {
        let mut e = Expression::NEUTRAL;
        e.set_tuning(12.0);
        assert_eq!(e.speed, 2.0);
        e.set_tuning(-24.0);
        assert_eq!(e.speed, 0.25);
        e.set_tuning(7.0);
        assert!((e.speed - 2f64.powf(7.0 / 12.0)).abs() < 1e-15);
        e.set_tuning(1e9);
        assert_eq!(e.speed, 1024.0);
        e.set_tuning(f32::NAN);
        assert_eq!(e.speed, 1.0);
    }
}
