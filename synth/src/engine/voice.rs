//! One sounding note: the continuous function of one latent, evaluated from t = −1 to 1 at the
//! note's speed, in segments of [`BLOCK`] samples, times its envelope.

use sirenade_common::evaluator::{Evaluator, BLOCK};

use super::controls::Controls;
use super::envelope::Envelope;
use super::expression::Expression;
use super::modulation::Modulation;
use super::note_id::VoiceTag;
use super::sound::Sound;

/// Length, in model time (t units), of the raised-cosine fade that ends every clip at t = 1:
/// 5 ms of the clip, so a voice that plays to the end stops without a click.
pub const END_FADE_T: f64 = 0.01;

/// How a note starts: the items it plays and where its clock begins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    pub tag: VoiceTag,
    pub item: usize,
    pub morph_item: usize,
    /// Model time advanced per sample at the rate the voice runs at.
    pub dt: f64,
    /// Model time of its first sample (−1, or a little after at the native rate).
    pub t0: f64,
    /// Silent samples before the first one.
    pub delay: u32,
    pub amplitude: f32,
    pub envelope: Envelope,
    pub age: u64,
}

/// A voice slot: allocated once per preset, reused for every note.
pub(crate) struct Voice {
    evaluator: Evaluator,
    latent: Vec<f32>,
    segment: [f32; BLOCK],
    segment_len: usize,
    segment_pos: usize,
    /// Samples of the clip rendered so far.
    rendered: u64,
    /// Speed factor (pitch bend × tuning) of the segments since `base_rendered`.
    speed: f64,
    /// Model time of sample `base_rendered`: the clock restarts from there whenever the speed
    /// changes, so an unbent note's times are `t0 + k·dt`, exactly as without bends.
    base_t: f64,
    /// Samples rendered when the current speed took effect.
    base_rendered: u64,
    /// Samples with t < 1 from `base_rendered` on, at the current speed.
    base_length: u64,
    primed: bool,
    /// Released by a note-off while the sustain pedal was down: released when it comes up.
    pub pedal_held: bool,
    pub start: Option<Start>,
    pub envelope: Envelope,
    /// The note's own tuning, volume and pan (CLAP and VST3 note expressions).
    pub expression: Expression,
    /// The note's own offsets of the latent and morph controls (CLAP polyphonic modulation).
    pub modulation: Modulation,
    /// The note that ended (on its own or silenced), until the engine reports it.
    pub ended: Option<VoiceTag>,
    /// Set when the network produced NaN or Inf and the voice was silenced.
    pub faulted: bool,
}

impl Voice {
    /// A free slot for `sound` (allocates).
    pub(crate) fn new(sound: &Sound) -> Voice {
        Voice {
            evaluator: sound.new_evaluator(),
            latent: vec![0.0; sound.latent_dim()],
            segment: [0.0; BLOCK],
            segment_len: 0,
            segment_pos: 0,
            rendered: 0,
            speed: 1.0,
            base_t: 0.0,
            base_rendered: 0,
            base_length: 0,
            primed: false,
            pedal_held: false,
            start: None,
            envelope: Envelope::done(),
            expression: Expression::NEUTRAL,
            modulation: Modulation::NONE,
            ended: None,
            faulted: false,
        }
    }

    /// Whether the slot is playing a note.
    pub(crate) fn is_active(&self) -> bool {
        self.start.is_some()
    }

    /// Starts a note in this slot.
    pub(crate) fn begin(&mut self, start: Start) {
        self.speed = 1.0;
        self.base_t = start.t0;
        self.base_rendered = 0;
        self.base_length = clip_length(start.t0, start.dt);
        self.pedal_held = false;
        self.rendered = 0;
        self.segment_len = 0;
        self.segment_pos = 0;
        self.primed = false;
        self.envelope = start.envelope;
        self.expression = Expression::NEUTRAL;
        self.modulation = Modulation::NONE;
        self.ended = None;
        self.faulted = false;
        self.start = Some(start);
    }

    /// Ends the note now (no fade) and marks it for reporting.
    pub(crate) fn stop(&mut self) {
        if let Some(start) = self.start.take() {
            self.envelope.finish();
            self.ended = Some(start.tag);
        }
    }

    /// Whether the note has rendered any of its clip yet.
    pub(crate) fn has_sounded(&self) -> bool {
        self.rendered > 0
    }

    /// The MIDI channel of the note playing, if any.
    pub(crate) fn channel(&self) -> Option<u8> {
        self.start.map(|s| s.tag.channel)
    }

    /// The next output sample (envelope and velocity applied); 0 once the voice has ended.
    /// `speed` is the factor of pitch bend and tuning on the clip's clock (1: none); it takes
    /// effect at the next segment.
    #[inline]
    pub(crate) fn next_sample(&mut self, sound: &Sound, controls: &Controls, speed: f64) -> f32 {
        let Some(start) = self.start.as_mut() else {
            return 0.0;
        };
        if start.delay > 0 {
            start.delay -= 1;
            return 0.0;
        }
        let amplitude = start.amplitude;
        if self.segment_pos >= self.segment_len && !self.render_segment(sound, controls, speed) {
            self.stop();
            return 0.0;
        }
        let x = self.segment[self.segment_pos];
        self.segment_pos += 1;
        let level = self.envelope.next_level();
        if self.envelope.is_done() {
            self.stop();
        }
        x * level * amplitude
    }

    /// Renders the next segment of the clip; false when the clip has ended or the network
    /// produced a non-finite value (the voice is then silenced).
    fn render_segment(&mut self, sound: &Sound, controls: &Controls, speed: f64) -> bool {
        let Some(start) = self.start.as_ref() else {
            return false;
        };
        if speed != self.speed {
            // Restart the clock where the previous segments left it, at the new speed.
            self.base_t += (self.rendered - self.base_rendered) as f64 * start.dt * self.speed;
            self.base_rendered = self.rendered;
            self.speed = speed;
            self.base_length = clip_length(self.base_t, start.dt * speed);
        }
        let dt = start.dt * self.speed;
        let since_base = self.rendered - self.base_rendered;
        let remaining = self.base_length.saturating_sub(since_base);
        let n = remaining.min(BLOCK as u64) as usize;
        if n == 0 {
            return false;
        }
        let (morph, mut latents) = self.modulation.applied(controls.morph, &controls.latents);
        self.expression.move_latents(controls, &mut latents);
        sound.latent_into(
            start.item,
            start.morph_item,
            morph,
            &latents,
            &mut self.latent,
        );
        // The latent is finite and of the preset's size by construction, so these cannot fail;
        // a failure would leave the previous conditioning, which is still a valid sound.
        let _ = if self.primed {
            self.evaluator.set_latent(&self.latent)
        } else {
            self.evaluator.prepare(&self.latent)
        };
        self.primed = true;
        let t0 = self.base_t + since_base as f64 * dt;
        let out = &mut self.segment[..n];
        self.evaluator.render_f64(t0, dt, out);
        if out.iter().any(|x| !x.is_finite()) {
            self.faulted = true;
            return false;
        }
        let fade_from = 1.0 - END_FADE_T;
        for (i, x) in out.iter_mut().enumerate() {
            let t = t0 + i as f64 * dt;
            if t > fade_from {
                let phase = ((t - fade_from) / END_FADE_T).min(1.0);
                *x *= (0.5 * (1.0 + (std::f64::consts::PI * phase).cos())) as f32;
            }
        }
        self.rendered += n as u64;
        self.segment_len = n;
        self.segment_pos = 0;
        true
    }
}

/// Number of samples `t0 + k·dt` with t < 1.
fn clip_length(t0: f64, dt: f64) -> u64 {
    if dt.is_nan() || dt <= 0.0 || t0 >= 1.0 {
        return 0;
    }
    let n = ((1.0 - t0) / dt).ceil();
    // Guard the last sample against rounding: t must stay below 1.
    let mut n = n as u64;
    while n > 0 && t0 + (n - 1) as f64 * dt >= 1.0 {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::clip_length;

    #[test]
    fn clip_length_counts_samples_before_t_one() {
        assert_eq!(clip_length(-1.0, 2.0 / 16000.0), 16000);
        assert_eq!(clip_length(-1.0, 2.0 / 48000.0), 48000);
        assert_eq!(clip_length(-1.0, 4.0 / 16000.0), 8000);
        assert_eq!(
            clip_length(-1.0 + 0.5 * 2.0 / 16000.0, 2.0 / 16000.0),
            16000
        );
        assert_eq!(clip_length(1.0, 0.1), 0);
        assert_eq!(clip_length(-1.0, 0.0), 0);
    }
}
