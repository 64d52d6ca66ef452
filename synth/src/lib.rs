//! Sirenade's instrument: a polyphonic CLAP and VST3 plugin (nice-plug) that plays a preset's
//! distribution of sounds, and the offline renderer that drives the same voices from MIDI files.
//!
//! - [`engine`]: the voice engine both share (notes, latents, envelopes, render rates).
//! - [`plugin`]: the nice-plug instrument (parameters, events, preset loading).
//! - [`editor`]: the instrument's window.
//! - [`library`]: the preset library compiled into the instrument.
//! - [`offline`]: rendering notes and MIDI files to WAV without a host.
//! - [`midi`]: standard MIDI files read as performances for the offline renderer.
//! - [`preset_report`]: what a preset holds, for `synth info`.

pub mod editor;
pub mod engine;
pub mod library;
pub mod midi;
pub mod offline;
pub mod plugin;
pub mod preset_report;

pub use plugin::Sirenade;

nice_plug::nice_export_clap!(Sirenade);
nice_plug::nice_export_vst3!(Sirenade);
