//! The voice engine the plugin and the offline renderer share: notes in, stereo samples out.
//!
//! - [`controls`]: the sound parameters as plain values.
//! - [`channels`]: the MIDI channels' bends, bend ranges (RPN 0), pedals and MPE zones.
//! - [`sound`]: a preset made playable (note → item, controls → latent).
//! - `voice` / [`envelope`]: one note's clip and amplitude; [`expression`]: its own tuning,
//!   volume and pan, and which notes an event addresses; [`modulation`]: its own offsets of
//!   the latent and morph controls.
//! - [`interpolator`]: the band-limited reader of the `Native` render rate.
//! - [`note_id`]: the tag by which a voice's note is found and reported (a leaf).
//!
//! The engine never allocates after construction, and its output is a function of the events'
//! sample positions and the controls alone, not of how the host cuts the stream into blocks:
//! voices render their clips in fixed segments on their own clocks and read the controls at
//! each segment's start.

pub mod channels;
pub mod controls;
pub mod envelope;
pub mod expression;
pub mod interpolator;
pub mod modulation;
pub mod note_id;
pub mod sound;
mod voice;

use std::sync::Arc;

pub use channels::CHANNELS;
use channels::{Channels, NoteAction};
pub use controls::{Controls, RenderRate, LATENT_CONTROLS, MAX_VOICES};
use envelope::Envelope;
use expression::Expression;
pub use expression::NoteSelector;
use interpolator::{Interpolator, HALF_TAPS};
pub use modulation::ModTarget;
pub use note_id::VoiceTag;
pub use sound::{Sound, SoundError};
pub use voice::END_FADE_T;
use voice::{Start, Voice};

/// Voice slots per preset: the polyphony limit plus room for stolen voices fading out.
pub const VOICE_SLOTS: usize = MAX_VOICES + 8;

/// Velocity range mapped onto amplitude: velocity 1 is 0 dB, velocity → 0 is −40 dB.
pub const VELOCITY_RANGE_DB: f32 = 40.0;

/// A preset and the voice slots that play it: what the loader builds off the audio thread and
/// hands to the engine in one piece.
pub struct Bank {
    sound: Arc<Sound>,
    voices: Vec<Voice>,
}

impl Bank {
    /// Voice slots for `sound` (allocates; do it off the audio thread).
    pub fn new(sound: Arc<Sound>) -> Box<Bank> {
        let voices = (0..VOICE_SLOTS).map(|_| Voice::new(&sound)).collect();
        Box::new(Bank { sound, voices })
    }

    fn active(&self) -> usize {
        self.voices.iter().filter(|v| v.is_active()).count()
    }
}

/// The model's sample rate as f64.
const NATIVE_RATE: f64 = sirenade_common::SAMPLE_RATE as f64;

/// Polyphonic voices of one preset at one host sample rate.
pub struct Engine {
    bank: Box<Bank>,
    /// The previous preset's voices, fading out after a preset change.
    fading: Option<Box<Bank>>,
    /// A bank no longer used, waiting to be taken and freed off the audio thread.
    retired: Option<Box<Bank>>,
    controls: Controls,
    sample_rate: f64,
    mode: RenderRate,
    /// Host samples rendered since the last reset.
    clock: u64,
    /// Next 16 kHz sample to mix (Native mode).
    native_next: u64,
    interpolator: Interpolator,
    ages: u64,
    log: EndedLog,
    /// Frames with a sample replaced by zero because it was not finite (diagnostics).
    nonfinite_samples: u64,
    /// Pitch bend, bend range, sustain pedal and MPE zone of each MIDI channel.
    channels: Channels,
}

/// Voices that ended since the last [`Engine::drain_ended`], with the sample they ended at.
struct EndedLog {
    entries: [(VoiceTag, u32); VOICE_SLOTS * 2],
    len: usize,
    /// Voices silenced because their network output was not finite (diagnostics).
    faulted_voices: u64,
}

impl EndedLog {
    fn new() -> EndedLog {
        let tag = VoiceTag {
            voice_id: None,
            channel: 0,
            key: 0,
        };
        EndedLog {
            entries: [(tag, 0); VOICE_SLOTS * 2],
            len: 0,
            faulted_voices: 0,
        }
    }

    /// Records `voice` if it has just ended.
    #[inline]
    fn note(&mut self, voice: &mut Voice, at: u32) {
        let Some(tag) = voice.ended.take() else {
            return;
        };
        if std::mem::take(&mut voice.faulted) {
            self.faulted_voices += 1;
        }
        // Full only if the host never drains it; the oldest reports are kept.
        if let Some(slot) = self.entries.get_mut(self.len) {
            *slot = (tag, at);
            self.len += 1;
        }
    }

    fn collect(&mut self, bank: &mut Bank, at: u32) {
        for voice in &mut bank.voices {
            self.note(voice, at);
        }
    }
}

impl Engine {
    /// An engine playing `bank` at `sample_rate` Hz (allocates).
    pub fn new(bank: Box<Bank>, sample_rate: f32, controls: Controls) -> Engine {
        Engine {
            bank,
            fading: None,
            retired: None,
            mode: controls.render_rate,
            controls,
            sample_rate: f64::from(sample_rate),
            clock: 0,
            native_next: 0,
            interpolator: Interpolator::new(),
            ages: 0,
            log: EndedLog::new(),
            nonfinite_samples: 0,
            channels: Channels::new(controls.bend_range),
        }
    }

    /// The host sample rate.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate as f32
    }

    /// Latency of a render rate at this sample rate, in host samples: 0 for `Host`; for
    /// `Native`, the interpolator's look-ahead.
    pub fn latency_for(rate: RenderRate, sample_rate: f32) -> u32 {
        match rate {
            RenderRate::Host => 0,
            RenderRate::Native => {
                ((HALF_TAPS as f64 + 1.0) * f64::from(sample_rate) / NATIVE_RATE).ceil() as u32
            }
        }
    }

    /// The render rate the voices run at now.
    pub fn render_rate(&self) -> RenderRate {
        self.mode
    }

    /// The current latency in host samples.
    pub fn latency(&self) -> u32 {
        Engine::latency_for(self.mode, self.sample_rate as f32)
    }

    /// Sets the controls used from the next sample on. A change of render rate silences the
    /// sounding voices (their clocks run at the old rate) and restarts the stream.
    pub fn set_controls(&mut self, controls: &Controls) {
        if controls.render_rate != self.mode {
            self.stop_all();
            self.mode = controls.render_rate;
            self.restart_stream();
        }
        if controls.bend_range != self.controls.bend_range {
            self.channels.set_default_range(controls.bend_range);
        }
        self.controls = *controls;
    }

    /// Silences everything and restarts the clocks (the host's reset).
    pub fn reset(&mut self) {
        self.stop_all();
        // The silent fading bank is retired at once unless one already waits (then it goes
        // at the end of the next render): a bank is never freed here.
        if self.retired.is_none() {
            self.retired = self.fading.take();
        }
        self.channels.reset_performance();
        self.restart_stream();
    }

    fn restart_stream(&mut self) {
        self.clock = 0;
        self.native_next = 0;
        self.interpolator.reset();
    }

    fn stop_all(&mut self) {
        for voice in &mut self.bank.voices {
            voice.stop();
        }
        if let Some(fading) = self.fading.as_mut() {
            for voice in &mut fading.voices {
                voice.stop();
            }
        }
        self.collect_ended(0);
    }

    /// Rate at which voices run, in samples per second.
    fn voice_rate(&self) -> f64 {
        match self.mode {
            RenderRate::Host => self.sample_rate,
            RenderRate::Native => NATIVE_RATE,
        }
    }

    /// Starts a note at the current sample. `velocity` is 0..1.
    pub fn note_on(&mut self, key: u8, velocity: f32, voice_id: Option<i32>, channel: u8) {
        let c = self.controls;
        let voice_rate = self.voice_rate() as f32;
        let held = self
            .bank
            .voices
            .iter()
            .filter(|v| v.is_active() && !v.envelope.is_killed())
            .count();
        if held >= c.voices.clamp(1, MAX_VOICES) {
            // Over the polyphony limit: fade out the oldest note still sounding.
            if let Some(oldest) = self
                .bank
                .voices
                .iter_mut()
                .filter(|v| v.is_active() && !v.envelope.is_killed())
                .min_by_key(|v| v.start.map_or(u64::MAX, |s| s.age))
            {
                oldest.envelope.kill(voice_rate);
            }
        }
        let slot = match self.bank.voices.iter().position(|v| !v.is_active()) {
            Some(i) => i,
            None => {
                // Every slot busy (many fades at once): cut the oldest.
                let Some(i) = (0..self.bank.voices.len())
                    .min_by_key(|&i| self.bank.voices[i].start.map_or(0, |s| s.age))
                else {
                    return;
                };
                self.bank.voices[i].stop();
                self.collect_ended(0);
                i
            }
        };
        let sound = &self.bank.sound;
        let a = sound.resolve(c.sound, key, c.key_tracking);
        let b = sound.resolve(c.morph_to, key, c.key_tracking);
        let dt = 2.0 * a.rate / self.voice_rate();
        let (t0, delay) = match self.mode {
            RenderRate::Host => (-1.0, 0),
            RenderRate::Native => {
                // The note starts at this host sample's position on the 16 kHz clock.
                let s = self.clock as f64 * NATIVE_RATE / self.sample_rate;
                let first = s.ceil();
                let delay = (first as u64).saturating_sub(self.native_next) as u32;
                (-1.0 + (first - s) * dt, delay)
            }
        };
        let velocity = if velocity.is_finite() {
            velocity.clamp(0.0, 1.0)
        } else {
            1.0
        };
        self.ages += 1;
        self.bank.voices[slot].begin(Start {
            tag: VoiceTag {
                voice_id,
                channel,
                key,
            },
            item: a.item,
            morph_item: b.item,
            dt,
            t0,
            delay,
            amplitude: velocity_gain(velocity),
            envelope: Envelope::start(c.attack_s, voice_rate),
            age: self.ages,
        });
        // An MPE controller sends a note's pressure and slide on its channel before the note.
        let (pressure, slide) = self.channels.pressure_and_slide(channel);
        let expression = &mut self.bank.voices[slot].expression;
        expression.set_pressure(pressure);
        expression.set_slide(slide);
    }

    /// Releases the notes `notes` addresses; while a note's channel has its sustain pedal
    /// down it keeps sounding until the pedal comes up.
    pub fn note_off(&mut self, notes: NoteSelector) {
        let rate = self.voice_rate() as f32;
        let release = self.controls.release_s;
        let channels = &self.channels;
        for voice in &mut self.bank.voices {
            let Some(start) = voice.start else { continue };
            if notes.matches(&start.tag) && voice.envelope.is_held() {
                if channels.pedal(start.tag.channel) {
                    voice.pedal_held = true;
                } else {
                    voice.envelope.release(release, rate);
                }
            }
        }
    }

    /// Retunes the notes `notes` addresses by `semitones` (a note expression: ±120, exact,
    /// like a pitch bend, from each note's next segment), on top of their channel's bend.
    pub fn note_tuning(&mut self, notes: NoteSelector, semitones: f32) {
        self.for_expressions(notes, |e, _| e.set_tuning(semitones));
    }

    /// Sets the volume of the notes `notes` addresses (a note expression: gain ratio 0..4,
    /// reached over 5 ms).
    pub fn note_volume(&mut self, notes: NoteSelector, gain: f32) {
        self.for_expressions(notes, |e, rate| e.set_volume(gain, rate));
    }

    /// Pans the notes `notes` addresses (a note expression: −1 left .. 1 right, constant
    /// power, reached over 5 ms).
    pub fn note_pan(&mut self, notes: NoteSelector, pan: f32) {
        self.for_expressions(notes, |e, rate| e.set_pan(pan, rate));
    }

    /// Offsets one control for the voice the host knows as `voice_id` (CLAP polyphonic
    /// modulation): from its next segment on it plays the control's value plus `offset`
    /// (standard deviations for a latent, a fraction for the morph), clamped to its range.
    pub fn modulate_voice(&mut self, voice_id: i32, target: ModTarget, offset: f32) {
        for voice in &mut self.bank.voices {
            if voice
                .start
                .is_some_and(|s| s.tag.voice_id == Some(voice_id))
            {
                voice.modulation.set(target, offset);
            }
        }
    }

    /// Applies `f` to the expression of each note `notes` addresses; a note that has not
    /// sounded yet (an expression sent with its note-on) starts at the new gains.
    fn for_expressions(&mut self, notes: NoteSelector, mut f: impl FnMut(&mut Expression, f32)) {
        let rate = self.voice_rate() as f32;
        for voice in &mut self.bank.voices {
            if voice.start.is_some_and(|s| notes.matches(&s.tag)) {
                f(&mut voice.expression, rate);
                if !voice.has_sounded() {
                    voice.expression.settle();
                }
            }
        }
    }

    /// Sets a channel's pitch bend, −1 (down) to 1 (up), its bend range (`Bend range`, or
    /// the channel's own from RPN 0 or an MPE configuration) in semitones at the ends. Its
    /// notes — and, on an MPE zone's master channel, the zone's notes — change speed (their
    /// pitch, exactly, by evaluating the function at other times) from their next segment on
    /// (at most 64 samples later). Out-of-range values are clamped, non-finite ones centre
    /// the bend.
    pub fn pitch_bend(&mut self, channel: u8, bend: f32) {
        self.channels.pitch_bend(channel, bend);
    }

    /// Presses or lifts a channel's sustain pedal (MIDI CC 64). Lifting it releases the notes
    /// whose note-off came while it was down.
    pub fn sustain_pedal(&mut self, channel: u8, down: bool) {
        if self.channels.set_pedal(channel, down) {
            self.release_pedalled(channel);
        }
    }

    /// Centres a channel's pitch bend, zeroes its pressure and lifts its pedal (MIDI CC 121,
    /// "reset all controllers"; the channel's bend range and slide stay, as MIDI's RP-015
    /// asks).
    pub fn reset_controllers(&mut self, channel: u8) {
        let lifted = self.channels.reset_controllers(channel);
        self.after_reset(channel, lifted);
    }

    fn after_reset(&mut self, channel: u8, lifted: bool) {
        self.channel_expressions(channel, |e| e.set_pressure(0.0));
        if lifted {
            self.release_pedalled(channel);
        }
    }

    /// Sets a channel's pressure (MIDI channel aftertouch, 0..1): its notes', and the one its
    /// next notes start with (MPE sends it before the note). It moves the latent `Pressure to`
    /// names, by up to `Expression depth`.
    pub fn channel_pressure(&mut self, channel: u8, pressure: f32) {
        self.channels.set_pressure(channel, pressure);
        self.channel_expressions(channel, |e| e.set_pressure(pressure));
    }

    /// Sets the pressure of the notes `notes` addresses (polyphonic aftertouch, CLAP's pressure
    /// expression; 0..1).
    pub fn note_pressure(&mut self, notes: NoteSelector, pressure: f32) {
        self.for_expressions(notes, |e, _| e.set_pressure(pressure));
    }

    /// Sets the slide of the notes `notes` addresses (CLAP's brightness expression; −1..1,
    /// 0 at rest). It moves the latent `Slide to` names, by up to `Expression depth`.
    pub fn note_slide(&mut self, notes: NoteSelector, slide: f32) {
        self.for_expressions(notes, |e, _| e.set_slide(slide));
    }

    fn channel_expressions(&mut self, channel: u8, mut f: impl FnMut(&mut Expression)) {
        for voice in &mut self.bank.voices {
            if voice.channel() == Some(channel) {
                f(&mut voice.expression);
            }
        }
    }

    /// A MIDI control change (7-bit value): sustain pedal (64), slide (74, MPE's Y axis),
    /// all sound off (120), reset all controllers (121), all notes off (123), and RPN 0 (pitch
    /// bend sensitivity: 101/100 select it, 6 and 38 give semitones and cents) and RPN 6 (the
    /// MPE Configuration Message, on channel 0 or 15). Other controllers are ignored.
    pub fn control_change(&mut self, channel: u8, controller: u8, value: u8) {
        match self.channels.control_change(channel, controller, value) {
            Some(NoteAction::PedalLifted) => self.release_pedalled(channel),
            Some(NoteAction::AllNotesOff) => self.all_notes_off(channel),
            Some(NoteAction::AllSoundOff) => self.all_sound_off(channel),
            Some(NoteAction::Slide(slide)) => {
                self.channel_expressions(channel, |e| e.set_slide(slide));
            }
            Some(NoteAction::Reset { lifted }) => self.after_reset(channel, lifted),
            None => {}
        }
    }

    /// Releases the notes of `channel` that its sustain pedal held.
    fn release_pedalled(&mut self, channel: u8) {
        let rate = self.voice_rate() as f32;
        let release = self.controls.release_s;
        for voice in &mut self.bank.voices {
            if voice.pedal_held && voice.channel() == Some(channel) {
                voice.pedal_held = false;
                if voice.envelope.is_held() {
                    voice.envelope.release(release, rate);
                }
            }
        }
    }

    /// Releases every note of a channel, pedal or not (MIDI CC 123, "all notes off").
    pub fn all_notes_off(&mut self, channel: u8) {
        let rate = self.voice_rate() as f32;
        let release = self.controls.release_s;
        for voice in &mut self.bank.voices {
            if voice.channel() == Some(channel) && voice.envelope.is_held() {
                voice.pedal_held = false;
                voice.envelope.release(release, rate);
            }
        }
    }

    /// Cuts every note of a channel at once (MIDI CC 120, "all sound off").
    pub fn all_sound_off(&mut self, channel: u8) {
        for voice in &mut self.bank.voices {
            if voice.channel() == Some(channel) {
                voice.stop();
            }
        }
        self.collect_ended(0);
    }

    /// Cuts the notes `notes` addresses at once (a host's choke).
    pub fn choke(&mut self, notes: NoteSelector) {
        for voice in &mut self.bank.voices {
            if voice.start.is_some_and(|s| notes.matches(&s.tag)) {
                voice.stop();
            }
        }
        self.collect_ended(0);
    }

    /// Replaces the preset. Sounding voices of the old one fade out over 5 ms while new notes
    /// use the new one; the old bank is retired once silent (take it with
    /// [`Engine::take_retired`] and free it off the audio thread). Call it only while
    /// [`Engine::has_retired`] is false, as the plugin does, so that no bank is ever dropped
    /// on the audio thread.
    pub fn swap_bank(&mut self, bank: Box<Bank>) {
        let rate = self.voice_rate() as f32;
        let mut old = std::mem::replace(&mut self.bank, bank);
        for voice in &mut old.voices {
            voice.envelope.kill(rate);
        }
        if let Some(previous) = self.fading.replace(old) {
            let mut previous = previous;
            for voice in &mut previous.voices {
                voice.stop();
            }
            self.log.collect(&mut previous, 0);
            self.retire(previous);
        }
    }

    /// Whether a retired bank is waiting to be freed (the engine holds one at a time; a new
    /// preset is best swapped in only when this is false).
    pub fn has_retired(&self) -> bool {
        self.retired.is_some()
    }

    /// Takes the bank no longer in use, to be freed off the audio thread.
    pub fn take_retired(&mut self) -> Option<Box<Bank>> {
        self.retired.take()
    }

    /// Holds a retired bank again (the caller could not pass it on yet).
    pub fn keep_retired(&mut self, bank: Box<Bank>) {
        self.retire(bank);
    }

    fn retire(&mut self, bank: Box<Bank>) {
        // At most one bank waits; an older one is freed here only if the caller never took it
        // (the plugin always does before swapping).
        self.retired = Some(bank);
    }

    /// Number of voices sounding.
    pub fn active_voices(&self) -> usize {
        self.bank.active() + self.fading.as_ref().map_or(0, |b| b.active())
    }

    /// Calls `f` with each voice that ended since the last call and the sample offset (within
    /// the last [`render`](Engine::render) call) where it ended.
    pub fn drain_ended(&mut self, mut f: impl FnMut(VoiceTag, u32)) {
        for &(tag, at) in &self.log.entries[..self.log.len] {
            f(tag, at);
        }
        self.log.len = 0;
    }

    /// Frames with a sample replaced by zero because it was not finite, and voices silenced
    /// for it.
    pub fn faults(&self) -> (u64, u64) {
        (self.nonfinite_samples, self.log.faulted_voices)
    }

    /// Renders `left.len()` samples (`right` must be as long; `gain` gives the output gain per
    /// sample, or is empty to use the controls' gain). Never allocates, locks or panics.
    pub fn render(&mut self, left: &mut [f32], right: &mut [f32], gain: &[f32]) {
        let n = left.len().min(right.len());
        for i in 0..n {
            let at = i as u32;
            let frame = match self.mode {
                RenderRate::Host => self.mix_voices(at),
                RenderRate::Native => self.native_sample(at),
            };
            self.clock += 1;
            let g = gain.get(i).copied().unwrap_or(self.controls.gain);
            let [mut l, mut r] = frame.map(|x| x * g);
            if !(l.is_finite() && r.is_finite()) {
                self.nonfinite_samples += 1;
                (l, r) = (finite_or_zero(l), finite_or_zero(r));
            }
            left[i] = l;
            right[i] = r;
        }
        if self.fading.as_ref().is_some_and(|b| b.active() == 0) && self.retired.is_none() {
            if let Some(bank) = self.fading.take() {
                self.retire(bank);
            }
        }
    }

    /// One stereo frame of every voice, summed, at the voices' own rate: each voice's sample
    /// times its expression's left and right gains.
    #[inline]
    fn mix_voices(&mut self, at: u32) -> [f32; 2] {
        let c = &self.controls;
        let channels = &self.channels;
        let mut sum = [0.0f32; 2];
        for bank in std::iter::once(&mut self.bank).chain(self.fading.as_mut()) {
            let sound = &*bank.sound;
            for voice in &mut bank.voices {
                if let Some(channel) = voice.channel() {
                    let bend = channels.speed(channel);
                    let x = voice.next_sample(sound, c, bend * voice.expression.speed);
                    let [gl, gr] = voice.expression.next_gains();
                    sum[0] += x * gl;
                    sum[1] += x * gr;
                    self.log.note(voice, at);
                }
            }
        }
        sum
    }

    /// One host frame of the Native render rate: mixes the 16 kHz frames this host sample
    /// makes final, then reads the stream `latency` host samples back.
    fn native_sample(&mut self, at: u32) -> [f32; 2] {
        let ratio = NATIVE_RATE / self.sample_rate;
        let last = (self.clock as f64 * ratio).floor() as u64;
        while self.native_next <= last {
            let x = self.mix_voices(at);
            self.interpolator.write(self.native_next, x);
            self.native_next += 1;
        }
        let position = (self.clock as f64 - f64::from(self.latency())) * ratio;
        self.interpolator.read(position)
    }

    fn collect_ended(&mut self, at: u32) {
        self.log.collect(&mut self.bank, at);
        if let Some(fading) = self.fading.as_mut() {
            self.log.collect(fading, at);
        }
    }
}

fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Amplitude of a velocity (0..1): linear in dB over [`VELOCITY_RANGE_DB`].
pub fn velocity_gain(velocity: f32) -> f32 {
    controls::db_to_gain(-VELOCITY_RANGE_DB * (1.0 - velocity))
}

#[cfg(test)]
mod tests;
