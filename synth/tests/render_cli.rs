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

fn write_midi(path: &Path) {
    use midly::num::{u15, u24, u28, u4, u7};
    use midly::{
        Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind,
    };
    let ev = |delta: u32, kind| TrackEvent {
        delta: u28::new(delta),
        kind,
    };
    let note = |on: bool, key: u8| TrackEventKind::Midi {
        channel: u4::new(0),
        message: if on {
            MidiMessage::NoteOn {
                key: u7::new(key),
                vel: u7::new(100),
            }
        } else {
            MidiMessage::NoteOff {
                key: u7::new(key),
                vel: u7::new(0),
            }
        },
    };
    // 480 ticks per beat at 120 bpm (0.5 s per beat), then 60 bpm from tick 480.
    let track = vec![
        ev(
            0,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(500_000))),
        ),
        ev(0, note(true, 60)),
        ev(
            480,
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(1_000_000))),
        ),
        ev(0, note(false, 60)),
        ev(0, note(true, 64)),
        ev(240, note(false, 64)),
        ev(0, TrackEventKind::Meta(MetaMessage::EndOfTrack)),
    ];
    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(480))),
        tracks: vec![track],
    };
    smf.save(path).expect("write the MIDI file");
}

/// One note whose note-off comes 2^28 − 1 ticks later at one tick per beat and the slowest
/// tempo (16.8 s per beat): 4.5e9 s, as a corrupt or hostile file might say.
fn write_endless_midi(path: &Path) {
    use midly::num::{u15, u24, u28, u4, u7};
    use midly::{
        Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind,
    };
    let note = |delta: u32, on: bool| TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi {
            channel: u4::new(0),
            message: if on {
                MidiMessage::NoteOn {
                    key: u7::new(60),
                    vel: u7::new(100),
                }
            } else {
                MidiMessage::NoteOff {
                    key: u7::new(60),
                    vel: u7::new(0),
                }
            },
        },
    };
    let track = vec![
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Meta(MetaMessage::Tempo(u24::max_value())),
        },
        note(0, true),
        note(u28::max_value().as_int(), false),
    ];
    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(1))),
        tracks: vec![track],
    };
    smf.save(path).expect("write the MIDI file");
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
    let notes = sirenade_synth::offline::read_midi(&midi, 48_000.0)
        .unwrap()
        .notes;
    assert_eq!(notes.len(), 2);
    assert_eq!(
        (notes[0].start, notes[0].end, notes[0].key),
        (0, Some(24_000), 60)
    );
    // 240 ticks at 60 bpm (1 s per beat) = 0.5 s.
    assert_eq!((notes[1].start, notes[1].end), (24_000, Some(48_000)));
    let out = dir.path().join("song.wav");
    let o = synth(&[
        "render",
        "--midi",
        midi.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, samples) = read_stereo(&out);
    assert!(samples.len() / 2 > 48_000, "the release tail is rendered");
    assert!(samples.iter().all(|x| x.is_finite()));
}

/// On channel 2: a CC 7 (volume, which the renderer ignores), the wheel full up, the pedal
/// down, key 60 from 0 to 1 s, the pedal up at 2 s.
fn write_bent_midi(path: &Path) {
    use midly::num::{u14, u15, u28, u4, u7};
    use midly::{Format, Header, MidiMessage, PitchBend, Smf, Timing, TrackEvent, TrackEventKind};
    let ev = |delta: u32, message| TrackEvent {
        delta: u28::new(delta),
        kind: TrackEventKind::Midi {
            channel: u4::new(2),
            message,
        },
    };
    let cc = |controller: u8, value: u8| MidiMessage::Controller {
        controller: u7::new(controller),
        value: u7::new(value),
    };
    let track = vec![
        ev(0, cc(7, 100)),
        ev(
            0,
            MidiMessage::PitchBend {
                bend: PitchBend(u14::new(16_383)),
            },
        ),
        ev(0, cc(64, 127)),
        ev(
            0,
            MidiMessage::NoteOn {
                key: u7::new(60),
                vel: u7::new(100),
            },
        ),
        ev(
            960,
            MidiMessage::NoteOff {
                key: u7::new(60),
                vel: u7::new(0),
            },
        ),
        ev(960, cc(64, 0)),
    ];
    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(480))),
        tracks: vec![track],
    };
    smf.save(path).expect("write the MIDI file");
}

#[test]
fn midi_pitch_bend_and_pedal_are_rendered() {
    use sirenade_synth::offline::{read_midi, ChannelChange, ControlChange};
    let dir = tempfile::tempdir().unwrap();
    let midi = dir.path().join("bent.mid");
    write_bent_midi(&midi);
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
            at(0, ChannelChange::PitchBend(8_191.0 / 8_192.0)),
            at(0, ChannelChange::Sustain(true)),
            at(96_000, ChannelChange::Sustain(false)),
        ]
    );
    // The note is held by the pedal past its note-off at 1 s; its clip ends it first. With
    // the wheel full up over 12 semitones the clip runs at (almost) twice the speed.
    let length = |range: &str| {
        let out = dir.path().join(format!("bent-{range}.wav"));
        let o = synth(&[
            "render",
            "--midi",
            midi.to_str().unwrap(),
            "--key-tracking",
            "off",
            "--bend-range",
            range,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (_, samples) = read_stereo(&out);
        let last = samples.iter().rposition(|x| *x != 0.0).unwrap() / 2;
        assert!(samples.iter().all(|x| x.is_finite()));
        last
    };
    let (unbent, octave) = (length("0"), length("12"));
    assert!(unbent > 40_000, "unbent clip sounds until {unbent}");
    let ratio = unbent as f64 / octave as f64;
    assert!(
        (1.95..2.05).contains(&ratio),
        "{unbent} / {octave} = {ratio}"
    );
    let o = synth(&["render", "--bend-range", "30", "--out", "x.wav"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bend-range 30"));
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
