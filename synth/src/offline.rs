//! Rendering without a host: notes (or a MIDI file) through exactly the plugin's voice engine,
//! so an offline render equals what the plugin plays for the same preset, notes and rate.

use std::sync::Arc;

use crate::engine::{Bank, Controls, Engine, NoteSelector, Sound};

/// One note, in frames at the render rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// Frame of the note-on.
    pub start: u64,
    /// Frame of the note-off; none holds it until its clip ends.
    pub end: Option<u64>,
    /// MIDI key.
    pub key: u8,
    /// Velocity, 0..1.
    pub velocity: f32,
    /// MIDI channel (0..16): whose pitch bend and sustain pedal act on the note.
    pub channel: u8,
}

/// What a channel message other than a note does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChannelChange {
    /// Pitch bend, −1 to 1 (see [`Engine::pitch_bend`]).
    PitchBend(f32),
    /// A control change with its 7-bit value (see [`Engine::control_change`] for those the
    /// engine acts on: sustain pedal, slide, CC 120/121/123, RPN 0 bend ranges, MPE
    /// configuration).
    Control {
        /// Controller number.
        controller: u8,
        /// Its value, 0..=127.
        value: u8,
    },
    /// Channel aftertouch, 0..1 (see [`Engine::channel_pressure`]).
    Pressure(f32),
    /// Polyphonic aftertouch of one key, 0..1 (see [`Engine::note_pressure`]).
    KeyPressure {
        /// MIDI key.
        key: u8,
        /// Its pressure.
        pressure: f32,
    },
}

/// A channel message at a frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlChange {
    /// Frame at the render rate.
    pub frame: u64,
    /// MIDI channel (0..16).
    pub channel: u8,
    /// What it does.
    pub change: ChannelChange,
}

/// What a note expression sets (as CLAP and VST3 hosts send them; see
/// [`Engine::note_tuning`], [`Engine::note_volume`], [`Engine::note_pan`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExpressionValue {
    /// Tuning in semitones, −120..120.
    Tuning(f32),
    /// Volume as a gain ratio, 0..4.
    Volume(f32),
    /// Pan, −1 (left) to 1 (right).
    Pan(f32),
    /// Pressure, 0..1 (see [`Engine::note_pressure`]).
    Pressure(f32),
    /// Slide, −1..1 (see [`Engine::note_slide`]).
    Slide(f32),
}

/// A note expression at a frame, for the sounding notes it addresses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteExpression {
    /// Frame at the render rate.
    pub frame: u64,
    /// The notes it addresses (notes rendered here have no note ids: channel and key).
    pub notes: NoteSelector,
    /// What it sets.
    pub value: ExpressionValue,
}

/// Everything the engine is told besides its controls: notes, the channel messages that shape
/// them (what a MIDI file holds), and per-note expressions (what a CLAP or VST3 host may add).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Performance {
    /// The notes, in order of their note-ons.
    pub notes: Vec<Note>,
    /// Pitch bends and controllers, in time order.
    pub changes: Vec<ControlChange>,
    /// Note expressions, in time order.
    pub expressions: Vec<NoteExpression>,
}

/// One engine call, ordered within a frame: channel messages first (a bend or pedal sent with
/// a note applies to it), then note-offs, then note-ons, then note expressions (which address
/// sounding notes, so one sent with a note-on applies to that note).
#[derive(Debug, Clone, Copy)]
enum Event {
    Change(u8, ChannelChange),
    Off(Note),
    On(Note),
    Expression(NoteSelector, ExpressionValue),
}

impl Event {
    fn rank(&self) -> u8 {
        match self {
            Event::Change(..) => 0,
            Event::Off(_) => 1,
            Event::On(_) => 2,
            Event::Expression(..) => 3,
        }
    }

    fn is_note(&self) -> bool {
        matches!(self, Event::On(_) | Event::Off(_))
    }
}

/// Frames of silence kept rendering after the last event, at most, while voices still sound.
const MAX_TAIL_SECONDS: f64 = 30.0;

/// The longest render, in seconds: an hour of music.
pub const MAX_RENDER_SECONDS: f64 = 3600.0;

/// Bytes a RIFF (WAV) file's data chunk can hold, less room for its headers.
const MAX_WAV_DATA_BYTES: u64 = u32::MAX as u64 - 4096;

/// The longest render at `sample_rate`, in frames: [`MAX_RENDER_SECONDS`], and no more than a
/// stereo 32-bit WAV file holds (4 GB: 46 minutes at 192 kHz). A song's end comes from its
/// MIDI file, so a corrupt or hostile file (one delta time of 2^28 ticks at the slowest tempo
/// is 140 years) must meet this limit before the renderer allocates a sample of it.
pub fn max_render_frames(sample_rate: f32) -> u64 {
    let by_time = (MAX_RENDER_SECONDS * f64::from(sample_rate)) as u64;
    by_time.min(MAX_WAV_DATA_BYTES / (2 * 4))
}

/// Renders `notes` for exactly `frames` frames at `sample_rate` with fixed `controls`;
/// returns the left and right channels.
pub fn render_notes(
    sound: &Sound,
    controls: &Controls,
    sample_rate: f32,
    notes: &[Note],
    frames: usize,
) -> [Vec<f32>; 2] {
    let mut engine = engine_for(sound, controls, sample_rate);
    render_events(&mut engine, &events_of(notes, &[], &[]), Some(frames))
}

/// Renders a performance (notes, channel messages, note expressions) for exactly `frames`
/// frames.
pub fn render_performance(
    sound: &Sound,
    controls: &Controls,
    sample_rate: f32,
    performance: &Performance,
    frames: usize,
) -> [Vec<f32>; 2] {
    let mut engine = engine_for(sound, controls, sample_rate);
    let events = events_of(
        &performance.notes,
        &performance.changes,
        &performance.expressions,
    );
    render_events(&mut engine, &events, Some(frames))
}

/// Renders a performance until every voice has ended (at most 30 s after the last note
/// event, and never beyond [`max_render_frames`]).
pub fn render_to_end(
    sound: &Sound,
    controls: &Controls,
    sample_rate: f32,
    performance: &Performance,
) -> [Vec<f32>; 2] {
    let mut engine = engine_for(sound, controls, sample_rate);
    let events = events_of(
        &performance.notes,
        &performance.changes,
        &performance.expressions,
    );
    render_events(&mut engine, &events, None)
}

fn engine_for(sound: &Sound, controls: &Controls, sample_rate: f32) -> Engine {
    Engine::new(Bank::new(Arc::new(sound.clone())), sample_rate, *controls)
}

fn events_of(
    notes: &[Note],
    changes: &[ControlChange],
    expressions: &[NoteExpression],
) -> Vec<(u64, Event)> {
    let mut events = Vec::with_capacity(changes.len() + expressions.len() + notes.len() * 2);
    for c in changes {
        events.push((c.frame, Event::Change(c.channel, c.change)));
    }
    for e in expressions {
        events.push((e.frame, Event::Expression(e.notes, e.value)));
    }
    for note in notes {
        events.push((note.start, Event::On(*note)));
        if let Some(end) = note.end {
            events.push((end.max(note.start), Event::Off(*note)));
        }
    }
    // Stable: same-frame events of one kind keep their order.
    events.sort_by_key(|(frame, event)| (*frame, event.rank()));
    events
}

fn apply(engine: &mut Engine, event: &Event) {
    match *event {
        Event::On(n) => engine.note_on(n.key, n.velocity, None, n.channel),
        Event::Off(n) => engine.note_off(NoteSelector::note(n.channel, n.key)),
        Event::Change(channel, change) => match change {
            ChannelChange::PitchBend(bend) => engine.pitch_bend(channel, bend),
            ChannelChange::Control { controller, value } => {
                engine.control_change(channel, controller, value)
            }
            ChannelChange::Pressure(pressure) => engine.channel_pressure(channel, pressure),
            ChannelChange::KeyPressure { key, pressure } => {
                engine.note_pressure(NoteSelector::note(channel, key), pressure)
            }
        },
        Event::Expression(notes, value) => match value {
            ExpressionValue::Tuning(semitones) => engine.note_tuning(notes, semitones),
            ExpressionValue::Volume(gain) => engine.note_volume(notes, gain),
            ExpressionValue::Pan(pan) => engine.note_pan(notes, pan),
            ExpressionValue::Pressure(pressure) => engine.note_pressure(notes, pressure),
            ExpressionValue::Slide(slide) => engine.note_slide(notes, slide),
        },
    }
}

fn render_events(
    engine: &mut Engine,
    events: &[(u64, Event)],
    frames: Option<usize>,
) -> [Vec<f32>; 2] {
    const CHUNK: u64 = 4096;
    let rate = f64::from(engine.sample_rate());
    // Channel messages and expressions after the last note cannot make a sound start: the
    // render ends with the notes.
    let last_note = events.iter().rposition(|(_, e)| e.is_note());
    let last_event = last_note.map_or(0, |i| events[i].0);
    let limit = match frames {
        Some(n) => n as u64,
        None => (last_event + (MAX_TAIL_SECONDS * rate) as u64 + u64::from(engine.latency()))
            .min(max_render_frames(engine.sample_rate()).max(last_event)),
    };
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut next = 0usize;
    let mut frame = 0u64;
    let mut last_end = 0u64;
    while frame < limit {
        while let Some((at, event)) = events.get(next) {
            if *at > frame {
                break;
            }
            apply(engine, event);
            next += 1;
        }
        let until = events.get(next).map_or(limit, |e| e.0.min(limit));
        let len = (until - frame).clamp(1, CHUNK) as usize;
        let start = left.len();
        left.resize(start + len, 0.0);
        right.resize(start + len, 0.0);
        engine.render(&mut left[start..], &mut right[start..], &[]);
        engine.drain_ended(|_, at| last_end = last_end.max(frame + u64::from(at)));
        frame += len as u64;
        let notes_done = last_note.is_none_or(|i| next > i);
        if frames.is_none() && notes_done && engine.active_voices() == 0 {
            // Every voice has ended: keep the interpolator's look-ahead, then stop.
            let end = (last_end + u64::from(engine.latency())).max(last_event);
            if frame >= end {
                left.truncate(end as usize);
                right.truncate(end as usize);
                break;
            }
        }
    }
    [left, right]
}
