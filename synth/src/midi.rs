//! Standard MIDI files as performances: notes, bends, controllers and aftertouch of every
//! track and channel, with the tempo map applied, in frames at the render rate. Bounded in
//! size and length, so a corrupt or hostile file is refused rather than rendered for hours.

use std::io::Read;
use std::path::Path;

use crate::offline::{max_render_frames, ChannelChange, ControlChange, Note, Performance};

/// The largest MIDI file read: 256 MB, beyond the biggest "black MIDI" songs of millions of
/// notes, and a bound on what a wrong path (a device, a huge non-MIDI file) can make it read.
pub const MAX_MIDI_BYTES: u64 = 256 << 20;

/// Why a MIDI file could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MidiError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The problem.
        source: std::io::Error,
    },
    /// The file is not a valid standard MIDI file.
    #[error("{path}: not a valid MIDI file: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// The file is larger than any MIDI file the renderer takes ([`MAX_MIDI_BYTES`]).
    #[error("{path}: larger than {limit} bytes, more than any MIDI file this renderer takes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A note starts or ends beyond the longest render (see [`max_render_frames`]).
    #[error(
        "{path}: a note at {seconds:.0} s, beyond the longest render at this rate ({limit:.0} s)"
    )]
    TooLong {
        /// The file.
        path: String,
        /// When the note starts or ends.
        seconds: f64,
        /// The longest render at the requested rate, in seconds.
        limit: f64,
    },
    /// The file uses SMPTE time code with a frame rate of zero, or similar nonsense.
    #[error("{path}: unusable timing: {reason}")]
    Timing {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// The notes, pitch bends and controllers (sustain pedal, CC 120, 121, 123) of a standard
/// MIDI file (all tracks and channels, tempo changes honoured), in frames at `sample_rate`.
/// Velocities are MIDI velocity / 127. Channel messages past the longest render are dropped.
pub fn read_midi(path: &Path, sample_rate: f32) -> Result<Performance, MidiError> {
    let name = path.display().to_string();
    let bytes = read_bytes(path, &name)?;
    let smf = midly::Smf::parse(&bytes).map_err(|e| MidiError::Parse {
        path: name.clone(),
        reason: e.to_string(),
    })?;
    let clock = Clock {
        timing: smf.header.timing,
        path: &name,
    };
    let mut tempo_per_tick = clock.seconds_per_tick(DEFAULT_TEMPO_US_PER_BEAT)?;
    let mut seconds = 0.0f64;
    let mut last_tick = 0u64;
    let mut held: Vec<(u8, u8, usize)> = Vec::new(); // (channel, key, note index)
    let mut notes: Vec<Note> = Vec::new();
    let mut changes: Vec<ControlChange> = Vec::new();
    let rate = f64::from(sample_rate);
    let max_frame = max_render_frames(sample_rate);
    let within_limit = |frame: u64, seconds: f64| {
        if frame <= max_frame {
            Ok(frame)
        } else {
            Err(MidiError::TooLong {
                path: name.clone(),
                seconds,
                limit: max_frame as f64 / rate,
            })
        }
    };
    for (tick, kind) in timed_events(&smf) {
        seconds += (tick - last_tick) as f64 * tempo_per_tick;
        last_tick = tick;
        let frame = (seconds * rate).round() as u64;
        match kind {
            midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(t)) => {
                tempo_per_tick = clock.seconds_per_tick(f64::from(t.as_int()))?;
            }
            midly::TrackEventKind::Midi { channel, message } => {
                let ch = channel.as_int();
                match message {
                    midly::MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                        held.push((ch, key.as_int(), notes.len()));
                        notes.push(Note {
                            start: within_limit(frame, seconds)?,
                            end: None,
                            key: key.as_int(),
                            velocity: f32::from(vel.as_int()) / 127.0,
                            channel: ch,
                        });
                    }
                    midly::MidiMessage::NoteOn { key, .. }
                    | midly::MidiMessage::NoteOff { key, .. } => {
                        if let Some(pos) = held
                            .iter()
                            .position(|&(c, k, _)| c == ch && k == key.as_int())
                        {
                            let (_, _, index) = held.remove(pos);
                            notes[index].end = Some(within_limit(frame, seconds)?);
                        }
                    }
                    other => {
                        if let Some(change) = channel_change(other).filter(|_| frame <= max_frame) {
                            changes.push(ControlChange {
                                frame,
                                channel: ch,
                                change,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Performance {
        notes,
        changes,
        expressions: Vec::new(),
    })
}

/// A standard MIDI file's tempo before any tempo event: 120 beats per minute.
const DEFAULT_TEMPO_US_PER_BEAT: f64 = 500_000.0;

/// The file's bytes, at most [`MAX_MIDI_BYTES`] of them.
fn read_bytes(path: &Path, name: &str) -> Result<Vec<u8>, MidiError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_MIDI_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|source| MidiError::Io {
            path: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > MAX_MIDI_BYTES {
        return Err(MidiError::TooLarge {
            path: name.to_string(),
            limit: MAX_MIDI_BYTES,
        });
    }
    Ok(bytes)
}

/// Every event of every track with its absolute tick, in time order (tracks merged in file
/// order at equal ticks): tempo changes apply across tracks (format 1).
fn timed_events<'a>(smf: &midly::Smf<'a>) -> Vec<(u64, midly::TrackEventKind<'a>)> {
    let mut timed: Vec<(u64, usize, midly::TrackEventKind<'a>)> = Vec::new();
    for track in &smf.tracks {
        let mut tick = 0u64;
        for event in track {
            tick += u64::from(event.delta.as_int());
            timed.push((tick, timed.len(), event.kind));
        }
    }
    timed.sort_by_key(|&(tick, order, _)| (tick, order));
    timed
        .into_iter()
        .map(|(tick, _, kind)| (tick, kind))
        .collect()
}

/// The file's time base, for turning ticks into seconds.
struct Clock<'a> {
    timing: midly::Timing,
    path: &'a str,
}

impl Clock<'_> {
    /// Seconds per tick at a tempo of `tempo_us_per_beat` (which time-code files ignore).
    fn seconds_per_tick(&self, tempo_us_per_beat: f64) -> Result<f64, MidiError> {
        match self.timing {
            midly::Timing::Metrical(ppq) if ppq.as_int() > 0 => {
                Ok(tempo_us_per_beat * 1e-6 / f64::from(ppq.as_int()))
            }
            midly::Timing::Timecode(fps, sub) if sub > 0 => {
                Ok(1.0 / (f64::from(fps.as_f32()) * f64::from(sub)))
            }
            _ => Err(MidiError::Timing {
                path: self.path.to_string(),
                reason: "zero ticks per beat or per frame".into(),
            }),
        }
    }
}

/// The channel message a MIDI message other than a note is, if the engine takes it.
fn channel_change(message: midly::MidiMessage) -> Option<ChannelChange> {
    match message {
        midly::MidiMessage::PitchBend { bend } => {
            Some(ChannelChange::PitchBend(f32::from(bend.as_int()) / 8192.0))
        }
        midly::MidiMessage::Controller { controller, value } => Some(ChannelChange::Control {
            controller: controller.as_int(),
            value: value.as_int(),
        }),
        midly::MidiMessage::ChannelAftertouch { vel } => {
            Some(ChannelChange::Pressure(f32::from(vel.as_int()) / 127.0))
        }
        midly::MidiMessage::Aftertouch { key, vel } => Some(ChannelChange::KeyPressure {
            key: key.as_int(),
            pressure: f32::from(vel.as_int()) / 127.0,
        }),
        _ => None,
    }
}
