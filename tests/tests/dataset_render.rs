//! `cargo xtask dataset` renders small sets that `trainer data info` then reads with the
//! expected histograms: the rendering and reading halves of the data pipeline agree.

use std::path::Path;

fn info_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "trainer",
        "data",
        "info",
        "--data",
        dir.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = sirenade_trainer::cli::run(args).expect("trainer data info succeeds");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn rendered_nsynth_set_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nsynth");
    xtask::run([
        "xtask",
        "dataset",
        "nsynth",
        "--out",
        out.to_str().unwrap(),
        "--families",
        "keyboard,mallet",
        "--programs",
        "0,8",
        "--pitches",
        "60-62",
        "--velocities",
        "100",
        "--seconds",
        "1.5",
        "--hold",
        "1",
    ])
    .expect("rendering succeeds");
    let v = info_json(&out, &[]);
    assert_eq!(v["format"], "nsynth");
    assert_eq!(v["items"], 6);
    assert_eq!(
        v["by_family"],
        serde_json::json!({"keyboard": 3, "mallet": 3})
    );
    assert_eq!(
        v["by_pitch"],
        serde_json::json!({"60": 2, "61": 2, "62": 2})
    );
    assert_eq!(v["by_velocity"], serde_json::json!({"100": 6}));
    assert!(v["mean_power"].as_f64().unwrap() > 1e-4);
    // The notes sound at their pitch: C4..D4 fundamentals (or an overtone) dominate.
    let f = v["dominant_frequency_hz"]["min"].as_f64().unwrap();
    assert!(f > 250.0, "{f}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("examples.json")).unwrap()).unwrap();
    let note = &meta["keyboard_acoustic_000-060-100"];
    assert_eq!(note["instrument_family_str"], "keyboard");
    assert_eq!(note["sample_rate"], 16000);
    assert_eq!(note["qualities_str"], serde_json::json!([]));
}

#[test]
fn rendered_speech_set_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("speech");
    xtask::run([
        "xtask",
        "dataset",
        "speech",
        "--out",
        out.to_str().unwrap(),
        "--words",
        "zero,one,two",
        "--per-word",
        "3",
        "--seed",
        "5",
    ])
    .expect("rendering succeeds (needs espeak-ng: apt-get install espeak-ng)");
    let v = info_json(&out, &[]);
    assert_eq!(v["format"], "speech-commands");
    assert_eq!(
        v["by_word"],
        serde_json::json!({"zero": 3, "one": 3, "two": 3})
    );
    assert_eq!(v["by_pitch"], serde_json::json!({}));
    assert!(v["silence_fraction"].as_f64().unwrap() > 0.1);
    let v = info_json(&out, &["--words", "one"]);
    assert_eq!(v["items"], 3);
}

#[test]
fn renderer_rejects_impossible_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let err = xtask::run([
        "xtask",
        "dataset",
        "nsynth",
        "--out",
        out,
        "--families",
        "kazoo",
    ])
    .unwrap_err();
    assert!(err.to_string().contains("unknown family 'kazoo'"), "{err}");
    let err = xtask::run([
        "xtask",
        "dataset",
        "nsynth",
        "--out",
        out,
        "--soundfont",
        "/no/such.sf2",
    ])
    .unwrap_err();
    assert!(err.to_string().contains("/no/such.sf2"), "{err}");
    let err = xtask::run([
        "xtask",
        "dataset",
        "speech",
        "--out",
        out,
        "--espeak",
        "/no/espeak",
    ])
    .unwrap_err();
    assert!(
        err.to_string().contains("apt-get install espeak-ng"),
        "{err}"
    );
}
