//! The nice-plug instrument: parameters and MIDI in, the shared voice engine, stereo out.
//!
//! - [`params`]: what the host shows and automates; [`preset_slot`]: the persisted preset.
//! - [`loader`]: preset loading on the background thread and the lock-free hand-over;
//!   [`preset_folder`]: the files the `Preset` parameter chooses from.
//! - [`meters`]: the voice count and load the audio thread shows the editor.

pub mod loader;
pub mod meters;
pub mod params;
pub mod preset_folder;
pub mod preset_slot;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;

use crate::editor::{EditorShared, SirenadeEditor};
use crate::engine::controls::db_to_gain;
use crate::engine::{Bank, Controls, Engine, NoteSelector, RenderRate, Sound, MAX_VOICES};
use loader::{AudioEnds, Loader, Task};
use meters::Meters;
use params::{ItemNames, SirenadeParams};
use preset_folder::PresetFolder;

/// Longest stretch rendered with one set of controls: parameter changes are picked up at
/// least this often, and the per-sample gain buffer has this size.
pub const MAX_BLOCK: usize = 64;

/// The Sirenade instrument.
pub struct Sirenade {
    /// Shared with the host and the background thread.
    params: Arc<SirenadeParams>,
    /// The background side: preset loading, freeing of old banks.
    loader: Arc<Loader>,
    /// The audio thread's ends of the hand-over queues.
    ends: AudioEnds,
    /// The user's preset folder (the editor's browser lists it).
    folder: Arc<PresetFolder>,
    /// Voices and load, written per block for the editor.
    meters: Arc<Meters>,
    /// Voices and their preset; built in `activate`, used only in `process`.
    engine: Option<Engine>,
    /// The preset-choice generation last acted on.
    seen_generation: u64,
    /// The `Preset` slot last acted on.
    seen_slot: i32,
    /// The latency last reported to the host.
    latency: u32,
    /// Whether a CLAP restart was asked for a `Render rate` change not yet applied.
    restart_requested: bool,
    /// Per-sample gain of the block being rendered.
    gain: [f32; MAX_BLOCK],
}

impl Default for Sirenade {
    fn default() -> Sirenade {
        let names: ItemNames = Arc::new(ArcSwap::from_pointee(Vec::new()));
        let folder = Arc::new(PresetFolder::from_env());
        folder.rescan();
        let params = Arc::new(SirenadeParams::new(&names, &folder));
        let (loader, ends) = Loader::new(
            Arc::clone(&params),
            names,
            Arc::clone(&folder),
            Arc::new(Sound::embedded()),
        );
        Sirenade {
            params,
            loader,
            ends,
            folder,
            meters: Arc::new(Meters::default()),
            engine: None,
            seen_generation: 0,
            seen_slot: 0,
            latency: 0,
            restart_requested: false,
            gain: [0.0; MAX_BLOCK],
        }
    }
}

/// A pitch bend as nice-plug normalises it (the 14-bit value / 16383) back on MIDI's own scale,
/// (value − 8192) / 8192: the wheel's centre, 8192, is exactly no bend, as in a MIDI file.
fn bend_of(normalized: f32) -> f32 {
    let raw = (normalized.clamp(0.0, 1.0) * 16_383.0).round();
    (raw - 8_192.0) / 8_192.0
}

/// A control change's value as nice-plug normalises it (value / 127) back on MIDI's 7 bits.
fn cc_value_of(normalized: f32) -> u8 {
    (normalized.clamp(0.0, 1.0) * 127.0).round() as u8
}

/// The notes an event addresses: its note id, channel and key, each of which CLAP may leave as
/// a wildcard.
fn selector(voice_id: VoiceID, channel: Channel, key: Key) -> NoteSelector {
    NoteSelector {
        voice_id: voice_id.id(),
        channel: channel.number(),
        key: key.number(),
    }
}

impl Sirenade {
    fn handle_event(engine: &mut Engine, event: NoteEvent<()>) {
        match event {
            NoteEvent::NoteOn {
                voice_id,
                channel,
                key,
                velocity,
                ..
            } => {
                if let Some(k) = key.number() {
                    engine.note_on(k, velocity, voice_id.id(), channel.number().unwrap_or(0));
                }
            }
            NoteEvent::NoteOff {
                voice_id,
                channel,
                key,
                ..
            } => engine.note_off(selector(voice_id, channel, key)),
            NoteEvent::Choke {
                voice_id,
                channel,
                key,
                ..
            } => engine.choke(selector(voice_id, channel, key)),
            NoteEvent::PolyTuning {
                voice_id,
                channel,
                key,
                tuning,
                ..
            } => engine.note_tuning(selector(voice_id, channel, key), tuning),
            NoteEvent::PolyVolume {
                voice_id,
                channel,
                key,
                gain,
                ..
            } => engine.note_volume(selector(voice_id, channel, key), gain),
            NoteEvent::PolyPan {
                voice_id,
                channel,
                key,
                pan,
                ..
            } => engine.note_pan(selector(voice_id, channel, key), pan),
            NoteEvent::PolyPressure {
                voice_id,
                channel,
                key,
                pressure,
                ..
            } => engine.note_pressure(selector(voice_id, channel, key), pressure),
            NoteEvent::PolyBrightness {
                voice_id,
                channel,
                key,
                brightness,
                ..
            } => engine.note_slide(selector(voice_id, channel, key), 2.0 * brightness - 1.0),
            NoteEvent::MidiChannelPressure {
                channel, pressure, ..
            } => engine.channel_pressure(channel, pressure),
            NoteEvent::PolyModulation {
                voice_id,
                poly_modulation_id,
                normalized_offset,
                ..
            } => {
                if let Some((target, offset)) =
                    params::voice_modulation(poly_modulation_id, normalized_offset)
                {
                    engine.modulate_voice(voice_id, target, offset);
                }
            }
            NoteEvent::MidiPitchBend { channel, value, .. } => {
                engine.pitch_bend(channel, bend_of(value));
            }
            NoteEvent::MidiCC {
                channel, cc, value, ..
            } => engine.control_change(channel, cc, cc_value_of(value)),
            _ => {}
        }
    }

    /// Takes a newly loaded bank (when the previous swap has been cleared) and gives a retired
    /// one back to the background thread.
    fn exchange_banks(&mut self, context: &mut impl ProcessContext<Self>) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        if !engine.has_retired() {
            if let Ok(bank) = self.ends.incoming.pop() {
                engine.swap_bank(bank);
            }
        }
        if let Some(old) = engine.take_retired() {
            match self.ends.outgoing.push(old) {
                Ok(()) => context.execute_background(Task::Collect),
                // The background thread is behind: keep it and try again next block.
                Err(rtrb::PushError::Full(old)) => engine.keep_retired(old),
            }
        }
    }

    /// The render rate the voices play at in this block (`None` while inactive). CLAP allows a
    /// latency change only in `activate`, so there a `Render rate` change asks the host for a
    /// restart and takes effect in the next activation, which reports the new latency. VST3
    /// hosts take a latency change at any time (a `restartComponent` from the GUI thread), so
    /// there the change is immediate and reported after the block.
    fn render_rate_for(&mut self, context: &mut impl ProcessContext<Self>) -> Option<RenderRate> {
        let current = self.engine.as_ref()?.render_rate();
        let wanted = self.params.render_rate.value();
        if wanted == current || context.plugin_api() != PluginApi::Clap {
            return Some(wanted);
        }
        if !self.restart_requested {
            self.restart_requested = true;
            context.request_restart();
        }
        Some(current)
    }
}

impl Plugin for Sirenade {
    const NAME: &'static str = "Sirenade";
    const VENDOR: &'static str = "Sirenade";
    const URL: &'static str = "https://sirenade.invalid";
    const EMAIL: &'static str = "team@sirenade.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        aux_input_ports: &[],
        aux_output_ports: &[],
        names: PortNames::const_default(),
    }];

    const MIDI_INPUT: MidiConfig = MidiConfig::MidiCCs;
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = nice_plug_egui::EguiEditor<SirenadeEditor>;
    type SysExMessage = ();
    type BackgroundTask = Task;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        crate::editor::create(EditorShared {
            params: Arc::clone(&self.params),
            loader: Arc::clone(&self.loader),
            meters: Arc::clone(&self.meters),
            folder: Arc::clone(&self.folder),
        })
    }

    fn task_executor(&mut self) -> TaskExecutor<Self> {
        let loader = Arc::clone(&self.loader);
        Box::new(move |task| loader.run(task))
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        // A project restored before activation names its preset: load it now, on this thread,
        // so the first block already plays it.
        let generation = self.params.preset.generation();
        if generation != self.seen_generation {
            self.seen_generation = generation;
            context.execute(Task::LoadChoice);
        }
        self.loader.discard_pending(&mut self.ends.incoming);
        // The slot restored with a project is not a request: the persisted path is.
        self.seen_slot = self.params.preset_slot.value();
        let controls = self.params.controls_now();
        let engine = Engine::new(
            Bank::new(self.loader.sound()),
            buffer_config.sample_rate,
            controls,
        );
        self.latency = engine.latency();
        self.restart_requested = false;
        context.set_latency_samples(self.latency);
        context.set_current_voice_capacity(MAX_VOICES as u32);
        self.engine = Some(engine);
        true
    }

    fn reset(&mut self) {
        if let Some(engine) = self.engine.as_mut() {
            engine.reset();
        }
    }

    fn deactivate(&mut self) {
        self.engine = None;
        self.meters.clear();
        self.loader.run(Task::Collect);
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let started = Instant::now();
        let generation = self.params.preset.generation();
        let slot = self.params.preset_slot.value();
        if generation != self.seen_generation {
            // A restored state names its preset by path; the slot it restored with it is not
            // a request of its own.
            self.seen_generation = generation;
            self.seen_slot = slot;
            context.execute_background(Task::LoadChoice);
        }
        if slot != self.seen_slot {
            self.seen_slot = slot;
            context.execute_background(Task::LoadSlot(slot));
        }
        self.exchange_banks(context);
        let Some(render_rate) = self.render_rate_for(context) else {
            return ProcessStatus::Normal;
        };
        let Some(engine) = self.engine.as_mut() else {
            return ProcessStatus::Normal;
        };
        let samples = buffer.samples();
        let outputs = buffer.as_slice();
        let [left, right, ..] = outputs else {
            return ProcessStatus::Normal;
        };
        let mut next_event = context.next_event();
        let mut start = 0usize;
        while start < samples {
            // Events due now see the parameters as they are now (a host may move `Sound` and
            // strike a note at the same sample); the block then runs to the next event.
            engine.set_controls(&Controls {
                render_rate,
                ..self.params.controls_now()
            });
            while let Some(event) = next_event {
                if event.timing() as usize > start {
                    break;
                }
                Sirenade::handle_event(engine, event);
                next_event = context.next_event();
            }
            let mut end = (start + MAX_BLOCK).min(samples);
            if let Some(event) = next_event {
                end = end.min((event.timing() as usize).max(start + 1));
            }
            let len = end - start;
            let controls = Controls {
                render_rate,
                ..self.params.controls_after(len as u32)
            };
            engine.set_controls(&controls);
            let gain = &mut self.gain[..len];
            self.params.gain.smoothed.next_block(gain, len);
            for g in gain.iter_mut() {
                *g = db_to_gain(*g);
            }
            engine.render(&mut left[start..end], &mut right[start..end], gain);
            engine.drain_ended(|tag, at| {
                // A full host queue only loses the notification, never audio.
                let _ = context.try_send_event(NoteEvent::VoiceTerminated {
                    timing: (start as u32) + at,
                    voice_id: tag.voice_id.map_or(VoiceID::Wildcard, VoiceID::ID),
                    channel: Channel::Number(tag.channel),
                    key: Key::Number(tag.key),
                });
            });
            start = end;
        }
        let latency = engine.latency();
        if latency != self.latency {
            self.latency = latency;
            context.set_latency_samples(latency);
        }
        self.meters.record(
            engine.active_voices(),
            started.elapsed().as_secs_f64(),
            samples as f64 / f64::from(engine.sample_rate()),
        );
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Sirenade {
    const CLAP_ID: &'static str = "dev.sirenade.synth";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("A neural instrument: a distribution of sounds as one continuous function");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::Instrument,
        ClapFeature::Synthesizer,
        ClapFeature::Stereo,
    ];
    // Declares the voice capacity (CLAP voice-info) and takes per-voice modulation of the
    // latents and the morph (`params::voice_modulation`).
    const CLAP_POLY_MODULATION_CONFIG: Option<PolyModulationConfig> = Some(PolyModulationConfig {
        max_voice_capacity: MAX_VOICES as u32,
        supports_overlapping_voices: true,
    });

    /// Pages of eight parameters for a host's hardware knobs (CLAP remote controls: Bitwig maps
    /// them to its controllers): the latent directions first, where the sound is shaped.
    fn remote_controls(&self, context: &mut impl RemoteControlsContext) {
        let p = &self.params;
        context.add_section("Sirenade", |section| {
            section.add_page("Latents", |page| {
                for latent in &p.latents {
                    page.add_param(&latent.value);
                }
            });
            section.add_page("Sound", |page| {
                page.add_param(&p.sound);
                page.add_param(&p.morph_to);
                page.add_param(&p.morph);
                page.add_param(&p.gain);
                page.add_param(&p.attack);
                page.add_param(&p.release);
                page.add_param(&p.bend_range);
                page.add_param(&p.voices);
            });
            section.add_page("Setup", |page| {
                page.add_param(&p.preset_slot);
                page.add_param(&p.render_rate);
                page.add_param(&p.key_tracking);
                page.add_param(&p.pressure_to);
                page.add_param(&p.slide_to);
                page.add_param(&p.expression_depth);
            });
        });
    }
}

impl Vst3Plugin for Sirenade {
    const VST3_CLASS_ID: [u8; 16] = *b"SirenadeSynthV01";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Synth];
}

#[cfg(test)]
mod tests {
    use super::{bend_of, cc_value_of};

    /// Every 7-bit controller value, normalised as nice-plug does, comes back exactly.
    #[test]
    fn control_values_are_read_back_on_seven_bits() {
        for v in 0..=127u8 {
            assert_eq!(cc_value_of(f32::from(v) / 127.0), v);
        }
        assert_eq!(cc_value_of(2.0), 127);
        assert_eq!(cc_value_of(f32::NAN), 0);
    }

    /// The 14-bit wheel positions a host sends, normalised as nice-plug does.
    #[test]
    fn pitch_bend_is_read_on_the_midi_scale() {
        let of_raw = |raw: u16| bend_of(f32::from(raw) / 16_383.0);
        assert_eq!(of_raw(8_192), 0.0);
        assert_eq!(of_raw(0), -1.0);
        assert_eq!(of_raw(16_383), 8_191.0 / 8_192.0);
        assert_eq!(of_raw(4_096), -0.5);
        assert_eq!(bend_of(2.0), 8_191.0 / 8_192.0);
        assert!(
            bend_of(f32::NAN).is_nan(),
            "the engine centres non-finite bends"
        );
    }
}
