//! `trainer fit`, `eval` and `render` end to end on the bundled data with small settings:
//! exact resume, NaN recovery, bad input, and the outputs the commands promise.

use std::path::Path;
use std::process::Command;

fn trainer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

/// A small, fast run: 4 keyboard items, the demo model, 250 points per item; `extra` flags
/// replace the defaults they name.
fn small_fit(out: &Path, epochs: &str, extra: &[&str]) -> std::process::Output {
    let defaults = [("--model", "demo"), ("--batch", "2"), ("--points", "250")];
    let mut args = vec![
        "fit",
        "--data",
        "bundled:keyboard",
        "--items",
        "4",
        "--epochs",
        epochs,
    ];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend([
        "--checkpoint-every",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    args.extend_from_slice(extra);
    trainer(&args)
}

fn losses(run: &Path) -> Vec<f64> {
    std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("event").is_none())
        .map(|v| v["loss"].as_f64().unwrap())
        .collect()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn resume_continues_the_loss_curve_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let split = dir.path().join("split");
    ok(&small_fit(&whole, "6", &[]));
    ok(&small_fit(&split, "3", &[]));
    ok(&small_fit(&split, "6", &["--resume"]));
    let (a, b) = (losses(&whole), losses(&split));
    assert_eq!(a.len(), 6);
    assert_eq!(b.len(), 6);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{a:?}\nvs\n{b:?}");
    }
    // The same seed gives the same curve; another seed another one.
    let again = dir.path().join("again");
    ok(&small_fit(&again, "6", &[]));
    assert_eq!(losses(&again), a);
    let other = dir.path().join("other");
    ok(&small_fit(&other, "2", &["--seed", "9"]));
    assert_ne!(losses(&other)[..2], a[..2]);
}

#[test]
fn analytic_training_is_the_same_with_fused_and_plain_kernels() {
    let dir = tempfile::tempdir().unwrap();
    let fused = dir.path().join("fused");
    let plain = dir.path().join("plain");
    ok(&small_fit(&fused, "3", &["--derivative", "analytic"]));
    ok(&small_fit(
        &plain,
        "3",
        &["--derivative", "analytic", "--kernels", "plain"],
    ));
    let (a, b) = (losses(&fused), losses(&plain));
    assert_eq!(a.len(), 3);
    // The same function in both; f32 rounding differs in the last bits only.
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-3 * x.abs(), "{a:?}\nvs\n{b:?}");
    }
    let settings = |run: &Path| {
        let text = std::fs::read_to_string(run.join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["settings"]["kernels"].clone()
    };
    assert_eq!(settings(&fused), "fused");
    assert_eq!(settings(&plain), "plain");
}

#[test]
fn resume_refuses_a_different_run_or_a_corrupt_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&small_fit(&run, "1", &[]));
    // Starting again in the same folder without --resume is refused.
    let out = small_fit(&run, "2", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
    // A different model.
    let out = small_fit(&run, "2", &["--resume", "--model", "live"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("different model"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A corrupt checkpoint.
    let ckpt = run.join("checkpoint.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 3]).unwrap();
    let out = small_fit(&run, "2", &["--resume"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checkpoint.safetensors"), "{err}");
}

#[test]
fn divergence_rolls_back_halves_the_rate_and_stops_after_three_retries() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // A learning rate this large overflows the loss to infinity within a step or two.
    let out = small_fit(&run, "4", &["--lr", "1e30", "--optimizer", "adam"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("diverged") && err.contains("3 rollbacks"),
        "{err}"
    );
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    let rollbacks: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "rollback")
        .collect();
    assert!(!rollbacks.is_empty(), "{log}");
    // Each retry halves the learning rate again.
    let lrs: Vec<f64> = rollbacks
        .iter()
        .map(|v| v["lr"].as_f64().unwrap())
        .collect();
    for w in lrs.windows(2) {
        assert!(w[1] < w[0], "{lrs:?}");
    }
    // The last good checkpoint is intact and usable.
    let out = trainer(&["eval", run.to_str().unwrap(), "--json"]);
    ok(&out);
}

#[test]
fn bad_input_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let cases: [(&[&str], &str); 4] = [
        (&["--model", "pigan-huge"], "pigan-huge"),
        (&["--batch", "9"], "larger than the data set"),
        (&["--lr=-1"], "--lr"),
        (&["--device", "tpu"], "--device"),
    ];
    for (extra, needle) in cases {
        let out = small_fit(&run, "1", extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert!(!run.join("checkpoint.safetensors").exists());
    }
    let out = small_fit(Path::new("/proc/forbidden/run"), "1", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/proc/forbidden/run"));
}

#[test]
fn eval_and_render_cover_every_item() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&small_fit(&run, "2", &[]));
    let out = trainer(&["eval", run.to_str().unwrap(), "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 4);
    for row in ["metrics", "silence", "white_noise"] {
        for m in ["mse_x1e3", "stft_mse", "lsd_x10"] {
            assert!(v[row][m]["mean"].as_f64().unwrap().is_finite(), "{row}.{m}");
            assert!(v[row][m]["std"].as_f64().is_some(), "{row}.{m}");
        }
    }
    // White noise is far worse than silence.
    assert!(
        v["white_noise"]["mse_x1e3"]["mean"].as_f64() > v["silence"]["mse_x1e3"]["mean"].as_f64()
    );

    let renders = dir.path().join("renders");
    let out = trainer(&[
        "render",
        run.to_str().unwrap(),
        "--items",
        "0,3",
        "--rate",
        "48000",
        "--out",
        renders.to_str().unwrap(),
    ]);
    ok(&out);
    for name in [
        "0000-original.wav",
        "0000-reconstruction.wav",
        "0003-waveform.png",
        "0003-spectrogram.png",
    ] {
        assert!(renders.join(name).is_file(), "{name} missing");
    }
    // Figures are whole PNGs of drawn content, and no temporary file is left behind.
    for (name, size) in [
        ("0003-waveform.png", (1000, 420)),
        ("0003-spectrogram.png", (1200, 480)),
    ] {
        let file = std::fs::File::open(renders.join(name)).unwrap();
        let mut reader = png::Decoder::new(file).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), size, "{name}");
        let colours: std::collections::HashSet<&[u8]> =
            pixels[..frame.buffer_size()].chunks(3).collect();
        assert!(colours.len() > 20, "{name}: {} colours", colours.len());
    }
    assert_eq!(std::fs::read_dir(&renders).unwrap().count(), 8);
    let r = hound::WavReader::open(renders.join("0003-reconstruction.wav")).unwrap();
    assert_eq!(r.spec().sample_rate, 48_000);
    assert_eq!(r.spec().sample_format, hound::SampleFormat::Float);
    assert_eq!(r.len(), 48_000);
    let out = trainer(&[
        "render",
        run.to_str().unwrap(),
        "--items",
        "7",
        "--out",
        renders.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("item 7 does not exist"));
}

#[test]
fn invert_reconstructs_unseen_clips_into_an_evaluable_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&small_fit(&run, "2", &["--pitches", "60-61"]));
    let held_out = dir.path().join("held_out");
    let out = trainer(&[
        "invert",
        run.to_str().unwrap(),
        "--data",
        "bundled:keyboard",
        "--pitches",
        "63-64",
        "--items",
        "3",
        "--steps",
        "5",
        "--quiet",
        "--out",
        held_out.to_str().unwrap(),
    ]);
    ok(&out);
    let out = trainer(&["eval", held_out.to_str().unwrap(), "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 3);
    assert!(v["metrics"]["mse_x1e3"]["mean"]
        .as_f64()
        .unwrap()
        .is_finite());
    let renders = dir.path().join("renders");
    ok(&trainer(&[
        "render",
        held_out.to_str().unwrap(),
        "--items",
        "2",
        "--out",
        renders.to_str().unwrap(),
    ]));
    assert!(renders.join("0002-reconstruction.wav").is_file());
    // A missing run is one clear error.
    let out = trainer(&[
        "invert",
        "/no/run",
        "--data",
        "bundled:keyboard",
        "--out",
        held_out.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/run"));
}
