//! Reading each data set format end to end from files written in the test, including every
//! WAV layout and every bad-input case of the data pipeline.

use std::path::Path;

use serde_json::json;
use sirenade_common::audio::{write_wav, WavFormat};
use sirenade_common::dataset::{self, DatasetError, Format, QualityFilter, Selection, Summary};
use sirenade_common::CLIP_LEN;

fn sine(freq: f64, rate: u32, seconds: f64, amp: f64) -> Vec<f64> {
    let n = (rate as f64 * seconds) as usize;
    (0..n)
        .map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin())
        .collect()
}

/// Writes `x` with an arbitrary layout: integer `bits` (8/16/24/32) or float (bits = 0),
/// duplicated over `channels`.
fn write_layout(path: &Path, x: &[f64], rate: u32, bits: u16, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: if bits == 0 { 32 } else { bits },
        sample_format: if bits == 0 {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &v in x {
        for _ in 0..channels {
            match bits {
                0 => w.write_sample(v as f32).unwrap(),
                8 => w.write_sample((v * 127.0).round() as i8).unwrap(),
                16 => w.write_sample((v * 32767.0).round() as i16).unwrap(),
                24 => w.write_sample((v * 8_388_607.0).round() as i32).unwrap(),
                _ => w
                    .write_sample((v * i32::MAX as f64).round() as i32)
                    .unwrap(),
            }
        }
    }
    w.finalize().unwrap();
}

fn note_meta(pitch: u8, family: &str, velocity: u8, qualities: &[&str]) -> serde_json::Value {
    json!({
        "pitch": pitch, "velocity": velocity,
        "instrument_family_str": family,
        "instrument_source_str": "acoustic",
        "instrument_str": format!("{family}_acoustic_000"),
        "qualities_str": qualities, "sample_rate": 16000
    })
}

/// An NSynth folder: `families` × pitches 60..60+n_pitches × `per_cell` instruments,
/// 16-bit 16 kHz 4-second notes; plus one note with a quality flag.
fn nsynth_folder(root: &Path, families: &[&str], n_pitches: u8, per_cell: usize) {
    std::fs::create_dir_all(root.join("audio")).unwrap();
    let mut meta = serde_json::Map::new();
    for fam in families {
        for p in 60..60 + n_pitches {
            for k in 0..per_cell {
                let id = format!("{fam}_acoustic_{k:03}-{p:03}-100");
                let f = 440.0 * 2f64.powf((p as f64 - 69.0) / 12.0);
                let path = root.join(format!("audio/{id}.wav"));
                write_layout(&path, &sine(f, 16_000, 4.0, 0.5), 16_000, 16, 1);
                meta.insert(id, note_meta(p, fam, 100, &[]));
            }
        }
    }
    let id = "keyboard_acoustic_999-060-127".to_string();
    let path = root.join(format!("audio/{id}.wav"));
    write_layout(&path, &sine(261.6, 16_000, 4.0, 0.9), 16_000, 16, 1);
    meta.insert(id, note_meta(60, "keyboard", 127, &["reverb"]));
    std::fs::write(
        root.join("examples.json"),
        serde_json::to_string(&meta).unwrap(),
    )
    .unwrap();
}

fn load(root: &Path, sel: &Selection) -> Result<dataset::Dataset, DatasetError> {
    dataset::load(root, None, sel)
}

fn ids(d: &dataset::Dataset) -> Vec<String> {
    d.clips.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn nsynth_reads_first_second_unnormalised() {
    let dir = tempfile::tempdir().unwrap();
    nsynth_folder(dir.path(), &["keyboard"], 2, 1);
    let ds = load(dir.path(), &Selection::default()).unwrap();
    assert_eq!(ds.format, Format::Nsynth);
    // The quality-flagged note is excluded by default.
    assert_eq!(ds.clips.len(), 2);
    let c = &ds.clips[0];
    assert_eq!(c.samples.len(), CLIP_LEN);
    assert_eq!(c.label.pitch, Some(60));
    assert_eq!(c.label.family.as_deref(), Some("keyboard"));
    // int16 / 32767, no normalisation: the 0.5 sine stays 0.5.
    let peak = c.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!((peak - 0.5).abs() < 1e-3, "{peak}");
    assert_eq!(ds.conversions.cropped, 2);
    let keep = Selection {
        qualities: QualityFilter::Keep,
        ..Selection::default()
    };
    assert_eq!(load(dir.path(), &keep).unwrap().clips.len(), 3);
}

#[test]
fn nsynth_filters_and_balances() {
    let dir = tempfile::tempdir().unwrap();
    // 3 families × 5 pitches × 4 instruments = 60 notes.
    nsynth_folder(dir.path(), &["keyboard", "mallet", "guitar"], 5, 4);
    let sel = Selection {
        families: Some(vec!["keyboard".into(), "mallet".into()]),
        pitches: Some(60..=62),
        ..Selection::default()
    };
    let ds = load(dir.path(), &sel).unwrap();
    assert_eq!(ds.clips.len(), 2 * 3 * 4);
    let sel = Selection {
        items: Some(30),
        seed: 3,
        ..Selection::default()
    };
    let ds = load(dir.path(), &sel).unwrap();
    let s = Summary::of(&ds);
    assert_eq!(s.items, 30);
    assert!(s.by_family.values().all(|&c| c == 10), "{:?}", s.by_family);
    assert!(s.by_pitch.values().all(|&c| c == 6), "{:?}", s.by_pitch);
    // Seeded: same seed, same items; other seed, other items.
    let again = load(dir.path(), &sel).unwrap();
    assert_eq!(ids(&ds), ids(&again));
    let other = Selection {
        seed: 4,
        ..sel.clone()
    };
    assert_ne!(ids(&ds), ids(&load(dir.path(), &other).unwrap()));
}

#[test]
fn nsynth_id_lists() {
    let dir = tempfile::tempdir().unwrap();
    nsynth_folder(dir.path(), &["keyboard"], 3, 2);
    let list = dir.path().join("ids.json");
    let two = r#"["keyboard_acoustic_001-061-100", "keyboard_acoustic_000-062-100"]"#;
    std::fs::write(&list, two).unwrap();
    let sel = Selection {
        ids: Some(list.clone()),
        ..Selection::default()
    };
    let ds = load(dir.path(), &sel).unwrap();
    assert_eq!(
        ids(&ds),
        [
            "keyboard_acoustic_000-062-100",
            "keyboard_acoustic_001-061-100"
        ]
    );
    // The thesis' subset files are objects keyed by note id.
    std::fs::write(&list, r#"{"keyboard_acoustic_001-061-100": {"pitch": 61}}"#).unwrap();
    assert_eq!(load(dir.path(), &sel).unwrap().clips.len(), 1);
    // Unknown ids are named.
    std::fs::write(
        &list,
        r#"["keyboard_acoustic_001-061-100", "nope-000-000"]"#,
    )
    .unwrap();
    let e = load(dir.path(), &sel).unwrap_err();
    assert!(
        matches!(e, DatasetError::UnknownIds { count: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("nope-000-000") && e.to_string().contains("ids.json"));
    std::fs::write(&list, "[1, 2").unwrap();
    let e = load(dir.path(), &sel).unwrap_err();
    assert!(matches!(e, DatasetError::Metadata { .. }), "{e}");
    assert!(e.to_string().contains("ids.json"));
}

#[test]
fn nsynth_bad_metadata_and_missing_audio() {
    let dir = tempfile::tempdir().unwrap();
    nsynth_folder(dir.path(), &["keyboard"], 2, 1);
    let meta = dir.path().join("examples.json");
    let good = std::fs::read_to_string(&meta).unwrap();

    std::fs::write(&meta, &good[..good.len() / 2]).unwrap();
    let e = load(dir.path(), &Selection::default()).unwrap_err();
    assert!(matches!(e, DatasetError::Metadata { .. }), "{e}");
    assert!(e.to_string().contains("examples.json"));

    let no_pitch = r#"{"x-060-100": {"velocity": 100, "instrument_family_str": "keyboard"}}"#;
    std::fs::write(&meta, no_pitch).unwrap();
    let e = load(dir.path(), &Selection::default()).unwrap_err();
    assert!(
        e.to_string().contains("'pitch'") && e.to_string().contains("x-060-100"),
        "{e}"
    );

    std::fs::write(&meta, &good).unwrap();
    std::fs::remove_file(dir.path().join("audio/keyboard_acoustic_000-061-100.wav")).unwrap();
    let e = load(dir.path(), &Selection::default()).unwrap_err();
    assert!(matches!(e, DatasetError::MissingAudio { .. }), "{e}");
    assert!(e.to_string().contains("keyboard_acoustic_000-061-100"));

    // --skip-bad turns it into a counted warning.
    let skip = Selection {
        skip_bad: true,
        ..Selection::default()
    };
    let ds = load(dir.path(), &skip).unwrap();
    assert_eq!((ds.clips.len(), ds.skipped.len()), (1, 1));

    // Words make no sense for notes.
    let words = Selection {
        words: Some(vec!["one".into()]),
        ..Selection::default()
    };
    assert!(matches!(
        load(dir.path(), &words),
        Err(DatasetError::BadOption(_))
    ));
}

#[test]
fn empty_and_oversized_selections() {
    let dir = tempfile::tempdir().unwrap();
    nsynth_folder(dir.path(), &["keyboard"], 2, 1);
    let sel = Selection {
        pitches: Some(70..=72),
        ..Selection::default()
    };
    let e = load(dir.path(), &sel).unwrap_err();
    assert!(matches!(e, DatasetError::EmptySelection { .. }), "{e}");
    assert!(e.to_string().contains("pitches 70-72"));
    let sel = Selection {
        items: Some(5),
        ..Selection::default()
    };
    let e = load(dir.path(), &sel).unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::TooFewItems {
                requested: 5,
                available: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = load(&dir.path().join("nowhere"), &Selection::default()).unwrap_err();
    assert!(matches!(e, DatasetError::NotFound { .. }) && e.to_string().contains("nowhere"));
}

/// Every WAV layout is read, downmixed and resampled to the same 1 kHz clip.
#[test]
fn wav_folder_accepts_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layouts: [(&str, u32, u16, u16); 6] = [
        ("a_16bit_16k.wav", 16_000, 16, 1),
        ("b_24bit.wav", 16_000, 24, 1),
        ("c_8bit.wav", 16_000, 8, 1),
        ("d_stereo.wav", 16_000, 16, 2),
        ("e_44k1.wav", 44_100, 16, 1),
        ("sub/f_float_48k_stereo.wav", 48_000, 0, 2),
    ];
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    for (name, rate, bits, ch) in layouts {
        let x = sine(1000.0, rate, 1.2, 0.5);
        write_layout(&dir.path().join(name), &x, rate, bits, ch);
    }
    let ds = load(dir.path(), &Selection::default()).unwrap();
    assert_eq!(ds.format, Format::WavFolder);
    assert_eq!(ds.clips.len(), 6);
    assert_eq!(ds.clips[5].id, "sub/f_float_48k_stereo.wav");
    let reference = &ds.clips[0].samples;
    for c in &ds.clips {
        assert_eq!(c.samples.len(), CLIP_LEN);
        // The same 0.5-amplitude 1 kHz sine whatever the layout; 8-bit quantisation is
        // coarse (step 1/127), the resampled ones carry the resampler's small ripple.
        let tol = if c.id.starts_with("c_") { 0.01 } else { 0.005 };
        let err = c.samples[800..15_000]
            .iter()
            .zip(&reference[800..15_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < tol, "{}: max deviation {err}", c.id);
    }
    assert_eq!(ds.conversions.resampled_from[&44_100], 1);
    assert_eq!(ds.conversions.resampled_from[&48_000], 1);
    assert_eq!(ds.conversions.downmixed, 2);
    assert_eq!(ds.conversions.encodings["24-bit int"], 1);
    assert_eq!(ds.conversions.encodings["32-bit float"], 1);
    let text = Summary::of(&ds).to_text();
    assert!(
        text.contains("resampled  1 file(s) from 44100 Hz"),
        "{text}"
    );
}

#[test]
fn bad_wavs_fail_or_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_layout(&good, &sine(440.0, 16_000, 1.0, 0.5), 16_000, 16, 1);
    std::fs::write(dir.path().join("junk.wav"), b"RIFF....WAVEnot really").unwrap();
    let e = load(dir.path(), &Selection::default()).unwrap_err();
    assert!(e.to_string().contains("junk.wav"), "{e}");
    let skip = Selection {
        skip_bad: true,
        ..Selection::default()
    };
    let ds = load(dir.path(), &skip).unwrap();
    assert_eq!((ds.clips.len(), ds.skipped.len()), (1, 1));
    assert!(Summary::of(&ds).to_text().contains("1 bad file(s) skipped"));

    std::fs::remove_file(dir.path().join("junk.wav")).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(dir.path().join("short.wav"), &bytes[..bytes.len() / 2 + 1]).unwrap();
    let e = load(dir.path(), &Selection::default()).unwrap_err();
    assert!(
        e.to_string().contains("short.wav") && e.to_string().contains("truncated"),
        "{e}"
    );
}

#[test]
fn speech_commands_words_padding_and_balance() {
    let dir = tempfile::tempdir().unwrap();
    for (w, word) in ["zero", "one", "two"].iter().enumerate() {
        let d = dir.path().join(word);
        std::fs::create_dir_all(&d).unwrap();
        for k in 0..(3 + 2 * w) {
            // 0.6 s of tone: end-padded to 1 s.
            let x = sine(300.0 + 50.0 * k as f64, 16_000, 0.6, 0.3);
            write_layout(&d.join(format!("spk{k}_nohash_0.wav")), &x, 16_000, 16, 1);
        }
    }
    let noise = dir.path().join("_background_noise_");
    std::fs::create_dir_all(&noise).unwrap();
    write_layout(
        &noise.join("noise.wav"),
        &sine(50.0, 16_000, 3.0, 0.1),
        16_000,
        16,
        1,
    );
    let ds = load(dir.path(), &Selection::default()).unwrap();
    assert_eq!(ds.format, Format::SpeechCommands);
    assert_eq!(ds.clips.len(), 3 + 5 + 7);
    assert!(ds.clips.iter().all(|c| c.label.word.is_some()));
    let c = &ds.clips[0];
    assert_eq!(c.samples.len(), CLIP_LEN);
    assert!(c.samples[9_600..].iter().all(|&x| x == 0.0), "end padding");
    assert_eq!(ds.conversions.padded, 15);

    let sel = Selection {
        items: Some(9),
        ..Selection::default()
    };
    let s = Summary::of(&load(dir.path(), &sel).unwrap());
    assert!(s.by_word.values().all(|&c| c == 3), "{:?}", s.by_word);
    let sel = Selection {
        words: Some(vec!["one".into(), "two".into()]),
        ..Selection::default()
    };
    assert_eq!(load(dir.path(), &sel).unwrap().clips.len(), 12);
    let sel = Selection {
        words: Some(vec!["eleven".into()]),
        ..Selection::default()
    };
    let e = load(dir.path(), &sel).unwrap_err();
    assert!(e.to_string().contains("eleven"), "{e}");
    let sel = Selection {
        pitches: Some(60..=61),
        ..Selection::default()
    };
    assert!(matches!(
        load(dir.path(), &sel),
        Err(DatasetError::BadOption(_))
    ));
}

#[test]
fn explicit_format_overrides_detection() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("one")).unwrap();
    let x: Vec<f32> = vec![0.1; 16_000];
    write_wav(&dir.path().join("one/a.wav"), &x, 16_000, WavFormat::Int16).unwrap();
    let ds = dataset::load(dir.path(), Some(Format::WavFolder), &Selection::default()).unwrap();
    assert_eq!(ds.format, Format::WavFolder);
    assert_eq!(ds.clips[0].id, "one/a.wav");
    assert!(ds.clips[0].label.word.is_none());
}
