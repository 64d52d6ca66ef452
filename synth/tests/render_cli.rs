//! The `synth render` command: single notes, MIDI files, and clear errors for bad input.

use std::path::Path;
use std::process::Command;

fn synth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("run synth")
}

fn read_stereo(path: &Path) -> (u32, Vec<f32>) {
    let mut reader = hound::WavReader::open(path).expect("open the rendered WAV");
    let spec = reader.spec();
    assert_eq!(spec.channels, 2);
    let samples = reader.samples::<f32>().map(|s| s.unwrap()).collect();
    (spec.sample_rate, samples)
}

/// Renders `midi` with `synth render --midi` and `args` into a WAV beside it; returns the
/// interleaved stereo samples, all finite.
fn render_midi(midi: &Path, args: &[&str]) -> Vec<f32> {
    let stem = midi.file_stem().unwrap().to_str().unwrap();
    let out = midi.with_file_name(format!("{stem}{}.wav", args.join("_")));
    let mut command = vec!["render", "--midi", midi.to_str().unwrap()];
    command.extend_from_slice(args);
    command.extend(["--out", out.to_str().unwrap()]);
    let o = synth(&command);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, samples) = read_stereo(&out);
    assert!(samples.iter().all(|x| x.is_finite()));
    samples
}

/// Builders for the standard MIDI files these tests write (one track, through `midly`).
mod midi {
    use std::path::Path;

    use midly::num::{u14, u15, u24, u28, u4, u7};
    use midly::{
        Format, Header, MetaMessage, MidiMessage, PitchBend, Smf, Timing, TrackEvent,
        TrackEventKind,
    };

    /// What happens at one point of the track.
    pub type Kind = TrackEventKind<'static>;

    /// The longest delta time a MIDI file can hold, in ticks.
    pub const MAX_DELTA: u32 = (1 << 28) - 1;

    /// The slowest tempo a MIDI file can set, in microseconds per beat.
    pub const SLOWEST_TEMPO: u32 = (1 << 24) - 1;

    /// `kind`, `delta` ticks after the previous event.
    pub fn at(delta: u32, kind: Kind) -> TrackEvent<'static> {
        TrackEvent {
            delta: u28::new(delta),
            kind,
        }
    }

    fn channel(channel: u8, message: MidiMessage) -> Kind {
        TrackEventKind::Midi {
            channel: u4::new(channel),
            message,
        }
    }

    /// A note-on at velocity 100.
    pub fn note_on(ch: u8, key: u8) -> Kind {
        let (key, vel) = (u7::new(key), u7::new(100));
        channel(ch, MidiMessage::NoteOn { key, vel })
    }

    /// A note-off.
    pub fn note_off(ch: u8, key: u8) -> Kind {
        let (key, vel) = (u7::new(key), u7::new(0));
        channel(ch, MidiMessage::NoteOff { key, vel })
    }

    /// A control change.
    pub fn controller(ch: u8, controller: u8, value: u8) -> Kind {
        let (controller, value) = (u7::new(controller), u7::new(value));
        channel(ch, MidiMessage::Controller { controller, value })
    }

    /// A pitch bend, 0..=16383 (8192: centred).
    pub fn bend(ch: u8, value: u16) -> Kind {
        let bend = PitchBend(u14::new(value));
        channel(ch, MidiMessage::PitchBend { bend })
    }

    /// Channel aftertouch.
    pub fn channel_pressure(ch: u8, value: u8) -> Kind {
        channel(
            ch,
            MidiMessage::ChannelAftertouch {
                vel: u7::new(value),
            },
        )
    }

    /// Polyphonic aftertouch of one key.
    pub fn key_pressure(ch: u8, key: u8, value: u8) -> Kind {
        let (key, vel) = (u7::new(key), u7::new(value));
        channel(ch, MidiMessage::Aftertouch { key, vel })
    }

    /// A tempo change.
    pub fn tempo(microseconds_per_beat: u32) -> Kind {
        TrackEventKind::Meta(MetaMessage::Tempo(u24::new(microseconds_per_beat)))
    }

    /// Writes a single-track file of `ticks_per_beat` with `track`.
    pub fn save(path: &Path, ticks_per_beat: u16, track: Vec<TrackEvent<'static>>) {
        let smf = Smf {
            header: Header::new(
                Format::SingleTrack,
                Timing::Metrical(u15::new(ticks_per_beat)),
            ),
            tracks: vec![track],
        };
        smf.save(path).expect("write the MIDI file");
    }
}

fn write_midi(path: &Path) {
    use midi::{at, note_off, note_on, tempo};
    // 480 ticks per beat at 120 bpm (0.5 s per beat), then 60 bpm from tick 480.
    let track = vec![
        at(0, tempo(500_000)),
        at(0, note_on(0, 60)),
        at(480, tempo(1_000_000)),
        at(0, note_off(0, 60)),
        at(0, note_on(0, 64)),
        at(240, note_off(0, 64)),
        at(
            0,
            midly::TrackEventKind::Meta(midly::MetaMessage::EndOfTrack),
        ),
    ];
    midi::save(path, 480, track);
}

/// One note whose note-off comes 2^28 − 1 ticks later at one tick per beat and the slowest
/// tempo (16.8 s per beat): 4.5e9 s, as a corrupt or hostile file might say.
fn write_endless_midi(path: &Path) {
    use midi::{at, note_off, note_on, tempo, MAX_DELTA, SLOWEST_TEMPO};
    let track = vec![
        at(0, tempo(SLOWEST_TEMPO)),
        at(0, note_on(0, 60)),
        at(MAX_DELTA, note_off(0, 60)),
    ];
    midi::save(path, 1, track);
}

#[test]
fn renders_a_note_of_the_embedded_preset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("note.wav");
    let o = synth(&[
        "render",
        "--item",
        "2",
        "--rate",
        "44100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (rate, samples) = read_stereo(&out);
    assert_eq!(rate, 44_100);
    // One clip at its own pitch: 1 s, then the voice ends.
    assert_eq!(samples.len() / 2, 44_100);
    assert!(samples.iter().any(|x| x.abs() > 1e-2));
}

#[test]
fn midi_files_follow_their_tempo_map() {
    let dir = tempfile::tempdir().unwrap();
    let midi = dir.path().join("song.mid");
    write_midi(&midi);
    let notes = sirenade_synth::midi::read_midi(&midi, 48_000.0)
        .unwrap()
        .notes;
    assert_eq!(notes.len(), 2);
    assert_eq!(
        (notes[0].start, notes[0].end, notes[0].key),
        (0, Some(24_000), 60)
    );
    // 240 ticks at 60 bpm (1 s per beat) = 0.5 s.
    assert_eq!((notes[1].start, notes[1].end), (24_000, Some(48_000)));
    let samples = render_midi(&midi, &[]);
    assert!(samples.len() / 2 > 48_000, "the release tail is rendered");
}

/// On channel 2: a bend range of `rpn_range` semitones by RPN 0 when given, a CC 7 (volume,
/// which the engine ignores), the wheel full up, the pedal down, key 60 from 0 to 1 s, the
/// pedal up at 2 s.
fn write_bent_midi(path: &Path, rpn_range: Option<u8>) {
    use midi::{at, bend, controller, note_off, note_on};
    let rpn = rpn_range.map_or_else(Vec::new, |range| {
        vec![
            at(0, controller(2, 101, 0)),
            at(0, controller(2, 100, 0)),
            at(0, controller(2, 6, range)),
        ]
    });
    let track = [
        rpn,
        vec![
            at(0, controller(2, 7, 100)),
            at(0, bend(2, 16_383)),
            at(0, controller(2, 64, 127)),
            at(0, note_on(2, 60)),
            at(960, note_off(2, 60)),
            at(960, controller(2, 64, 0)),
        ],
    ]
    .concat();
    midi::save(path, 480, track);
}

#[test]
fn midi_pitch_bend_and_pedal_are_rendered() {
    use sirenade_synth::engine::channels::cc;
    use sirenade_synth::midi::read_midi;
    use sirenade_synth::offline::{ChannelChange, ControlChange};
    let dir = tempfile::tempdir().unwrap();
    let midi = dir.path().join("bent.mid");
    write_bent_midi(&midi, None);
    let performance = read_midi(&midi, 48_000.0).unwrap();
    assert_eq!(performance.notes.len(), 1);
    assert_eq!(performance.notes[0].channel, 2);
    assert_eq!(performance.notes[0].end, Some(48_000));
    let at = |frame, change| ControlChange {
        frame,
        channel: 2,
        change,
    };
    assert_eq!(
        performance.changes,
        [
            at(
                0,
                ChannelChange::Control {
                    controller: 7,
                    value: 100
                }
            ),
            at(0, ChannelChange::PitchBend(8_191.0 / 8_192.0)),
            at(
                0,
                ChannelChange::Control {
                    controller: cc::SUSTAIN,
                    value: 127
                }
            ),
            at(
                96_000,
                ChannelChange::Control {
                    controller: cc::SUSTAIN,
                    value: 0
                }
            ),
        ]
    );
    // The note is held by the pedal past its note-off at 1 s; its clip ends it first. With
    // the wheel full up over 12 semitones the clip runs at (almost) twice the speed.
    let render = |midi: &Path, range: &str| {
        render_midi(midi, &["--key-tracking", "off", "--bend-range", range])
    };
    let length = |samples: &[f32]| samples.iter().rposition(|x| *x != 0.0).unwrap() / 2;
    let bent_12 = render(&midi, "12");
    let (unbent, octave) = (length(&render(&midi, "0")), length(&bent_12));
    assert!(unbent > 40_000, "unbent clip sounds until {unbent}");
    let ratio = unbent as f64 / octave as f64;
    assert!(
        (1.95..2.05).contains(&ratio),
        "{unbent} / {octave} = {ratio}"
    );
    // The same range set by RPN 0 in the file, at the default `--bend-range`: the same render.
    let rpn_midi = dir.path().join("rpn.mid");
    write_bent_midi(&rpn_midi, Some(12));
    assert!(
        render(&rpn_midi, "2") == bent_12,
        "RPN 0 sets the channel's range"
    );
    let o = synth(&["render", "--bend-range", "60", "--out", "x.wav"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bend-range 60"));
}

/// Aftertouch in a MIDI file moves the latent `--pressure-to` names; routed nowhere, it
/// changes nothing.
#[test]
fn midi_aftertouch_is_read_and_moves_its_latent() {
    use midi::{at, channel_pressure, key_pressure, note_off, note_on};
    use sirenade_synth::midi::read_midi;
    use sirenade_synth::offline::{ChannelChange, ControlChange};
    let dir = tempfile::tempdir().unwrap();
    let pressed = dir.path().join("pressed.mid");
    midi::save(
        &pressed,
        480,
        vec![
            at(0, channel_pressure(1, 127)),
            at(0, note_on(1, 60)),
            at(240, key_pressure(1, 60, 64)),
            at(240, note_off(1, 60)),
        ],
    );
    let plain = dir.path().join("plain.mid");
    midi::save(
        &plain,
        480,
        vec![at(0, note_on(1, 60)), at(480, note_off(1, 60))],
    );
    let performance = read_midi(&pressed, 48_000.0).unwrap();
    assert_eq!(
        performance.changes,
        [
            ControlChange {
                frame: 0,
                channel: 1,
                change: ChannelChange::Pressure(1.0),
            },
            ControlChange {
                frame: 12_000,
                channel: 1,
                change: ChannelChange::KeyPressure {
                    key: 60,
                    pressure: 64.0 / 127.0,
                },
            },
        ]
    );
    let render =
        |midi: &Path, pressure_to: &str| render_midi(midi, &["--pressure-to", pressure_to]);
    let reference = render(&plain, "1");
    assert!(
        render(&pressed, "1") != reference,
        "pressure moves Latent 1"
    );
    assert!(
        render(&pressed, "0") == reference,
        "routed nowhere: no change"
    );
    let o = synth(&["render", "--pressure-to", "9", "--out", "x.wav"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--pressure-to 9"));
    let o = synth(&["render", "--expression-depth", "4", "--out", "x.wav"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--expression-depth 4"));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.wav");
    let out = out.to_str().unwrap();
    let garbage = dir.path().join("broken.sirenade");
    std::fs::write(&garbage, b"not a preset at all").unwrap();
    let bad_midi = dir.path().join("bad.mid");
    std::fs::write(&bad_midi, b"MThd garbage").unwrap();
    let endless = dir.path().join("endless.mid");
    write_endless_midi(&endless);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--preset", "/no/such.sirenade"], "/no/such.sirenade"),
        (
            vec!["--preset", garbage.to_str().unwrap()],
            "broken.sirenade",
        ),
        (vec!["--midi", bad_midi.to_str().unwrap()], "bad.mid"),
        (vec!["--rate", "8000"], "--rate 8000"),
        (vec!["--item", "9999"], "--item 9999"),
        (vec!["--latent", "1,2,3"], "--latent"),
        (vec!["--latents", "9"], "outside -3..3"),
        (
            vec!["--midi", endless.to_str().unwrap()],
            "endless.mid: a note at 4503599342 s, beyond the longest render at this rate (3600 s)",
        ),
        (
            vec!["--midi", "/dev/zero"],
            "/dev/zero: larger than 268435456 bytes",
        ),
        (
            vec!["--hold", "1e12"],
            "the longest render at 48000 Hz is 3600 s",
        ),
        (
            vec!["--hold", "2900", "--rate", "192000"],
            "the longest render at 192000 Hz is 2796 s",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["render", "--out", out];
        all.extend(&args);
        let o = synth(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(needle),
            "{args:?}: `{err}` should name `{needle}`"
        );
        assert!(!Path::new(out).exists(), "{args:?}: nothing written");
    }
}
