//! `trainer data info` as a user runs it: the binary, its output and its exit status.

use std::process::Command;

fn trainer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

#[test]
fn bundled_keyboard_json_has_the_documented_keys() {
    let out = trainer(&["data", "info", "--data", "bundled:keyboard", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 40);
    for key in [
        "by_pitch",
        "by_family",
        "by_word",
        "mean_power",
        "silence_fraction",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["by_family"]["keyboard"], 40);
    for p in 60..=64 {
        assert_eq!(v["by_pitch"][p.to_string()], 8);
    }
    assert_eq!(v["by_word"], serde_json::json!({}));
    assert!(v["mean_power"].as_f64().unwrap() > 1e-3);
    assert_eq!(v["format"], "nsynth");
}

#[test]
fn bundled_speech_detects_its_format_and_balances_words() {
    let out = trainer(&[
        "data",
        "info",
        "--data",
        "bundled:speech",
        "--items",
        "20",
        "--seed",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "speech-commands");
    assert_eq!(v["items"], 20);
    let words = v["by_word"].as_object().unwrap();
    assert_eq!(words.len(), 10);
    assert!(words.values().all(|c| c == 2), "{words:?}");
    // Speech has silence around the words and spread onsets (thesis section 5.5).
    assert!(v["silence_fraction"].as_f64().unwrap() > 0.2);
    assert!(v["onset_seconds"]["std"].as_f64().unwrap() > 0.05);
}

#[test]
fn text_output_names_the_characteristics() {
    let out = trainer(&[
        "data",
        "info",
        "--data",
        "bundled:keyboard",
        "--pitches",
        "60-61",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("items      16"), "{text}");
    for needle in ["mean power", "near-silent", "onset", "dominant f"] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn bad_input_is_one_clear_line_and_a_failure() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["data", "info", "--data", "/no/such/folder"],
            "/no/such/folder",
        ),
        (
            &["data", "info", "--data", "bundled:piano"],
            "unknown bundled data set",
        ),
        (
            &[
                "data",
                "info",
                "--data",
                "bundled:keyboard",
                "--pitches",
                "80-90",
            ],
            "matches no item",
        ),
        (
            &[
                "data",
                "info",
                "--data",
                "bundled:keyboard",
                "--items",
                "500",
            ],
            "500 items requested",
        ),
        (
            &[
                "data",
                "info",
                "--data",
                "bundled:keyboard",
                "--words",
                "one",
            ],
            "--words does not apply",
        ),
    ];
    for (args, needle) in cases {
        let out = trainer(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // An impossible option value is a usage error (exit 2).
    let out = trainer(&[
        "data",
        "info",
        "--data",
        "bundled:keyboard",
        "--items",
        "many",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
