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
    let defaults = [
        ("--model", "demo"),
        ("--batch", "2"),
        ("--points", "250"),
        ("--checkpoint-every", "1"),
    ];
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
    args.extend(["--quiet", "--out", out.to_str().unwrap()]);
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

/// Two loss curves agree epoch by epoch to 1e-6 (relative above 1).
fn assert_same_curve(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?}\nvs\n{b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{a:?}\nvs\n{b:?}");
    }
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
    assert_same_curve(&a, &b);
    // The same seed gives the same curve; another seed another one.
    let again = dir.path().join("again");
    ok(&small_fit(&again, "6", &[]));
    assert_eq!(losses(&again), a);
    let other = dir.path().join("other");
    ok(&small_fit(&other, "2", &["--seed", "9"]));
    assert_ne!(losses(&other)[..2], a[..2]);
}

/// A cosine schedule scales each step's rates by its closed form (the log records the rate of
/// each epoch's last step), changes the trajectory from the constant run's, and is recorded in
/// run.json.
#[test]
fn cosine_schedule_lowers_the_rate_to_its_floor_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let constant = dir.path().join("constant");
    let cosine = dir.path().join("cosine");
    let lr = ["--lr", "1e-4", "--optimizer", "adam"];
    ok(&small_fit(&constant, "6", &lr));
    let with_schedule: Vec<&str> = lr
        .iter()
        .copied()
        .chain(["--lr-schedule", "cosine"])
        .collect();
    ok(&small_fit(&cosine, "6", &with_schedule));
    let rates = |run: &Path| -> Vec<f64> {
        std::fs::read_to_string(run.join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["lr"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    assert!(rates(&constant).iter().all(|&r| r == 1e-4));
    // 4 items in batches of 2: 2 steps per epoch, 12 in the run; epoch e ends at step 2e + 1.
    let floor = 0.01;
    for (e, r) in rates(&cosine).iter().enumerate() {
        let p = (2 * e + 1) as f64 / 12.0;
        let want = 1e-4 * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()));
        assert!((r - want).abs() <= 1e-12, "epoch {e}: {r} vs {want}");
    }
    assert_ne!(losses(&constant)[1..], losses(&cosine)[1..]);
    let settings = |run: &Path| -> serde_json::Value {
        let text = std::fs::read_to_string(run.join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["settings"].clone()
    };
    assert_eq!(settings(&cosine)["lr_schedule"], "cosine");
    assert_eq!(settings(&constant)["lr_schedule"], "constant");
}

/// The STFT term's windows come from the epoch's RNG stream like the phases: a resumed run
/// continues exactly, the term lowers over training, and run.json records its settings.
#[test]
fn spectral_training_resumes_exactly_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let spectral = [
        "--stft-weight",
        "0.5",
        "--stft-window",
        "256",
        "--stft-windows",
        "2",
        "--stft-sizes",
        "128,64,32",
    ];
    let whole = dir.path().join("whole");
    let split = dir.path().join("split");
    ok(&small_fit(&whole, "24", &spectral));
    ok(&small_fit(&split, "12", &spectral));
    let resume: Vec<&str> = spectral.iter().copied().chain(["--resume"]).collect();
    ok(&small_fit(&split, "24", &resume));
    let (a, b) = (losses(&whole), losses(&split));
    assert_eq!(a.len(), 24);
    assert_same_curve(&a, &b);
    let spectral_terms: Vec<f64> = std::fs::read_to_string(whole.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["spectral"].as_f64())
        .collect();
    assert_eq!(spectral_terms.len(), 24);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&spectral_terms[18..]) < 0.9 * mean(&spectral_terms[..6]),
        "{spectral_terms:?}"
    );
    let plain = dir.path().join("plain");
    ok(&small_fit(&plain, "4", &[]));
    assert_ne!(losses(&plain), a[..4], "the spectral term changes the loss");
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("run.json")).unwrap()).unwrap();
    assert_eq!(info["settings"]["stft_weight"], 0.5);
    assert_eq!(
        info["settings"]["stft_sizes"],
        serde_json::json!([128, 64, 32])
    );
    assert_eq!(info["settings"]["stft_windows"], 2);
}

/// Omegas left open are chosen from the data, printed, recorded in run.json and kept by a
/// resume; set ones are kept.
#[test]
fn data_aware_omegas_and_rate_follow_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |run: &Path| -> serde_json::Value {
        let text = std::fs::read_to_string(run.join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["settings"].clone()
    };
    let speech = dir.path().join("speech");
    let run = |extra: &[&str], out: &Path| {
        let epochs = if extra.contains(&"--resume") {
            "2"
        } else {
            "1"
        };
        let mut args = vec![
            "fit",
            "--data",
            "bundled:speech",
            "--items",
            "4",
            "--model",
            "demo",
            "--batch",
            "2",
            "--points",
            "250",
            "--quiet",
            "--epochs",
            epochs,
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        trainer(&args)
    };
    let out = run(&[], &speech);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data-aware defaults: omega_first 615, omega_hidden 200 for time-localised"),
        "{err}"
    );
    assert_eq!(settings(&speech)["omega_first"], 615.0);
    assert_eq!(settings(&speech)["omega_hidden"], 200.0);
    // The learning rate was left open: a probe chose it from the candidates.
    assert!(err.contains("data-aware defaults: lr "), "{err}");
    assert!(
        err.contains("(probe, × silence after 1 epoch each: 1e-5 → "),
        "{err}"
    );
    let lr = settings(&speech)["lr"].as_f64().unwrap();
    assert!([1e-5, 3e-5, 1e-4, 3e-4].contains(&lr), "{lr}");
    let out = run(&["--resume"], &speech);
    ok(&out);
    assert_eq!(settings(&speech)["omega_first"], 615.0);
    // A resume keeps the probed rate without probing again.
    assert_eq!(settings(&speech)["lr"].as_f64().unwrap(), lr);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("probe"));
    let notes = dir.path().join("notes");
    let out = small_fit(&notes, "1", &[]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("for sustained sounds"));
    assert_eq!(settings(&notes)["omega_first"], 1760.0);
    let set = dir.path().join("set");
    let out = run(&["--omega-first", "900", "--lr", "2e-5"], &set);
    ok(&out);
    assert_eq!(settings(&set)["omega_first"], 900.0);
    assert_eq!(settings(&set)["omega_hidden"], 200.0);
    // A given rate is kept and nothing is probed; so is one a config file gives.
    assert_eq!(settings(&set)["lr"], 2e-5);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("probe"));
    let config = dir.path().join("lr.toml");
    std::fs::write(&config, "lr = 4e-5\n").unwrap();
    let configured = dir.path().join("configured");
    let out = run(&["--config", config.to_str().unwrap()], &configured);
    ok(&out);
    assert_eq!(settings(&configured)["lr"], 4e-5);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("probe"));
}

#[test]
fn analytic_training_is_the_same_with_every_sine_layer_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let fast = dir.path().join("fast");
    ok(&small_fit(&fast, "3", &["--derivative", "analytic"]));
    let a = losses(&fast);
    assert_eq!(a.len(), 3);
    let settings = |run: &Path| {
        let text = std::fs::read_to_string(run.join("run.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["settings"]["sine_layers"].clone()
    };
    assert_eq!(settings(&fast), "fast");
    for sine_layers in ["plain", "composed"] {
        let run = dir.path().join(sine_layers);
        ok(&small_fit(
            &run,
            "3",
            &["--derivative", "analytic", "--sine-layers", sine_layers],
        ));
        let b = losses(&run);
        // The same function in all; f32 rounding differs in the last bits only.
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= 1e-3 * x.abs(),
                "{sine_layers}: {a:?}\nvs\n{b:?}"
            );
        }
        assert_eq!(settings(&run), sine_layers);
    }
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

/// The rollback lines of a run's log.
fn rollbacks(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["event"] == "rollback")
        .collect()
}

/// Checks that `trainer eval` of the run's checkpoint gives finite metrics.
fn evaluates_finitely(run: &Path) {
    let out = trainer(&["eval", run.to_str().unwrap(), "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for m in [
        "mse_x1e3",
        "stft_mse",
        "lsd_x10",
        "snr_db",
        "spectral_convergence",
    ] {
        assert!(
            v["metrics"][m]["mean"].as_f64().is_some_and(f64::is_finite),
            "{m}: {v}"
        );
    }
}

/// The metric keys of every row of `trainer eval --json`, each `{mean, std, median}` (the
/// harmonic ones `null` without pitch labels).
const METRICS: [&str; 7] = [
    "mse_x1e3",
    "stft_mse",
    "lsd_x10",
    "snr_db",
    "spectral_convergence",
    "harmonic_error_db",
    "harmonic_reach_hz",
];

#[test]
fn divergence_rolls_back_halves_the_rate_and_stops_after_three_retries() {
    // A learning rate this large overflows the loss to infinity within a step or two. With
    // two steps per epoch the second step of epoch 0 diverges; with one step per epoch epoch 0
    // completes and its finite but blown-up state is checkpointed, so the next loss is the
    // first from that checkpoint: the rollback must go to the one before it.
    for batch in ["2", "4"] {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let out = small_fit(
            &run,
            "4",
            &["--lr", "1e30", "--optimizer", "adam", "--batch", batch],
        );
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("diverged") && err.contains("3 rollbacks"),
            "{err}"
        );
        // Each rollback is logged and announced (with --quiet, too).
        assert_eq!(
            err.matches("rolled back to the start of epoch 0").count(),
            3,
            "{err}"
        );
        let events = rollbacks(&run);
        assert_eq!(events.len(), 3, "batch {batch}: {events:?}");
        // Each retry halves the learning rate again.
        let lrs: Vec<f64> = events.iter().map(|v| v["lr"].as_f64().unwrap()).collect();
        assert!((lrs[0] - 0.5e30).abs() <= 1e18, "{lrs:?}");
        for w in lrs.windows(2) {
            assert!((w[1] - 0.5 * w[0]).abs() <= 1e-9 * w[0], "{lrs:?}");
        }
        // The checkpoint left is the last good state (the initial one), not the blown-up one.
        assert!(err.contains("(the start of epoch 0)"), "{err}");
        assert!(
            std::fs::read_to_string(run.join("log.jsonl"))
                .unwrap()
                .contains("\"event\":\"diverged\""),
            "the giving up is logged"
        );
        evaluates_finitely(&run);
    }
}

#[test]
fn an_injected_nan_is_rolled_back_and_training_completes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = small_fit(
        &run,
        "5",
        &["--checkpoint-every", "2", "--inject-nan-at", "3"],
    );
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 rollback(s)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let events = rollbacks(&run);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["epoch"], 3);
    assert_eq!(events[0]["resumed_at_epoch"], 2);
    // Every epoch is logged once (epoch 2, redone, replaced its first line), after the event.
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    let epochs: Vec<u64> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("event").is_none())
        .map(|v| v["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, [0, 1, 2, 3, 4], "{log}");
    // The redone epochs ran at half the learning rate (the plateau schedule moved nothing in
    // these few steps).
    let lrs: Vec<f64> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("event").is_none())
        .map(|v| v["lr"].as_f64().unwrap())
        .collect();
    assert_eq!(events[0]["lr"].as_f64().unwrap(), lrs[1] * 0.5, "{log}");
    assert_eq!(lrs[2], lrs[1] * 0.5, "{log}");
    evaluates_finitely(&run);
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn changed_audio_is_refused_by_resume_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("keyboard");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/keyboard"),
        &data,
    );
    let run = dir.path().join("run");
    let fit = |epochs: &str, extra: &[&str]| {
        let mut args = vec![
            "fit",
            "--data",
            data.to_str().unwrap(),
            "--items",
            "2",
            "--epochs",
            epochs,
            "--model",
            "demo",
            "--batch",
            "2",
            "--points",
            "250",
            "--quiet",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        trainer(&args)
    };
    ok(&fit("2", &[]));
    // Overwrite one selected item's audio with another clip: same ids, other samples.
    let ids: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(run.join("items.json")).unwrap()).unwrap();
    let audio = data.join("audio");
    let mut others: Vec<_> = std::fs::read_dir(&audio)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !ids.iter().any(|id| p.file_stem().unwrap() == id.as_str()))
        .collect();
    others.sort();
    std::fs::copy(&others[0], audio.join(format!("{}.wav", ids[1]))).unwrap();
    let out = fit("3", &["--resume"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different audio"), "{err}");
    let out = trainer(&["eval", run.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audio of the run's items changed"), "{err}");
}

#[test]
fn resuming_a_progressive_run_with_more_epochs_keeps_its_schedule() {
    // pigan-prog's fade-in spans the epochs a run starts with: 64 epochs fade each group in
    // over 2, 32 over 1. A run of 32 epochs resumed to 64 keeps the 32-epoch schedule, so it
    // equals a run started with --fade-in-epochs 32 and 64 epochs.
    let dir = tempfile::tempdir().unwrap();
    // The rate is given: a probe's length follows the run's epochs, and 32 against 64 would
    // probe (and possibly choose) differently.
    let tiny = [
        "--model",
        "pigan-prog",
        "--points",
        "16",
        "--checkpoint-every",
        "8",
        "--lr",
        "1e-5",
    ];
    let whole = dir.path().join("whole");
    let split = dir.path().join("split");
    let fit = |run: &Path, epochs: &str, extra: &[&str]| {
        let mut args = tiny.to_vec();
        args.extend_from_slice(extra);
        small_fit(run, epochs, &args)
    };
    ok(&fit(&whole, "64", &["--fade-in-epochs", "32"]));
    ok(&fit(&split, "32", &[]));
    ok(&fit(&split, "64", &["--resume"]));
    let (a, b) = (losses(&whole), losses(&split));
    assert_eq!(b.len(), 64);
    assert_same_curve(&a, &b);
    // Another span is another trajectory (the test can fail).
    let other = dir.path().join("other");
    ok(&fit(&other, "64", &[]));
    assert_ne!(losses(&other)[2..4], a[2..4]);
}

#[test]
fn bad_input_fails_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let cases: [(&[&str], &str); 10] = [
        (&["--model", "pigan-huge"], "pigan-huge"),
        (&["--fade-in-epochs", "0"], "--fade-in-epochs"),
        (&["--batch", "9"], "larger than the data set"),
        (&["--lr=-1"], "--lr"),
        (&["--device", "tpu"], "--device"),
        (&["--stft-weight=-1"], "--stft-weight"),
        (
            &["--stft-weight", "1", "--stft-sizes", "1024"],
            "FFT size 1024",
        ),
        (&["--stft-weight", "1", "--stft-sizes", "4"], "FFT size 4"),
        (
            &["--stft-weight", "1", "--stft-window", "20000"],
            "--stft-window",
        ),
        (
            &["--stft-weight", "1", "--stft-windows", "0"],
            "--stft-windows",
        ),
    ];
    for (extra, needle) in cases {
        let out = small_fit(&run, "1", extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
        assert!(!run.join("checkpoint.safetensors").exists());
    }
    // A choice outside an enum flag's list is a usage error (exit 2) that lists the choices.
    let out = small_fit(&run, "1", &["--lr-schedule", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--lr-schedule") && err.contains("constant, cosine"),
        "{err}"
    );
    assert!(!run.join("checkpoint.safetensors").exists());
    let out = small_fit(Path::new("/proc/forbidden/run"), "1", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/proc/forbidden/run"));
    // A malformed settings file: one line that names the file and the place.
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "batch = 2\nepochs = \"many\"\n").unwrap();
    let out = small_fit(&run, "1", &["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("line 2, column 10"),
        "{err}"
    );
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
    // Keyboard notes carry pitch labels: every metric, the harmonic ones included, is numeric.
    for row in ["metrics", "silence", "white_noise"] {
        for m in METRICS {
            assert!(v[row][m]["mean"].as_f64().unwrap().is_finite(), "{row}.{m}");
            assert!(v[row][m]["std"].as_f64().is_some(), "{row}.{m}");
            assert!(
                v[row][m]["median"].as_f64().unwrap().is_finite(),
                "{row}.{m}"
            );
        }
    }
    // White noise is far worse than silence.
    assert!(
        v["white_noise"]["mse_x1e3"]["mean"].as_f64() > v["silence"]["mse_x1e3"]["mean"].as_f64()
    );
    // Silence: SNR 0 dB, spectral convergence 1; its harmonics sit at the floor, far below
    // the notes', so it reaches none of them.
    let silence = |m: &str| v["silence"][m]["median"].as_f64().unwrap();
    assert!(silence("snr_db").abs() < 1e-9);
    assert!((silence("spectral_convergence") - 1.0).abs() < 1e-9);
    assert!(silence("harmonic_error_db") > 40.0);
    assert_eq!(silence("harmonic_reach_hz"), 0.0);
    let text = trainer(&["eval", run.to_str().unwrap()]);
    ok(&text);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("harmonic reach Hz") && !text.contains("n/a"),
        "{text}"
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
fn eval_of_speech_has_no_harmonic_measures() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&trainer(&[
        "fit",
        "--data",
        "bundled:speech",
        "--items",
        "4",
        "--epochs",
        "1",
        "--model",
        "demo",
        "--batch",
        "2",
        "--points",
        "250",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]));
    let out = trainer(&["eval", run.to_str().unwrap(), "--json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 4);
    // Spoken words have no pitch label: the harmonic measures are `null` in every row, the
    // others numeric.
    for row in ["metrics", "silence", "white_noise"] {
        for m in &METRICS[..5] {
            assert!(
                v[row][m]["median"].as_f64().unwrap().is_finite(),
                "{row}.{m}"
            );
        }
        for m in &METRICS[5..] {
            assert!(v[row][m].is_null(), "{row}.{m}: {}", v[row][m]);
        }
    }
    let text = trainer(&["eval", run.to_str().unwrap()]);
    ok(&text);
    assert!(String::from_utf8_lossy(&text.stdout).contains("no item has a pitch label"));
}

/// `trainer invert` of the first `items` keyboard notes of pitches 63–64 (the small runs train
/// on 60–61) with `steps` steps each.
fn invert(run: &Path, out: &Path, items: &str, steps: &str) -> std::process::Output {
    trainer(&[
        "invert",
        run.to_str().unwrap(),
        "--data",
        "bundled:keyboard",
        "--pitches",
        "63-64",
        "--items",
        items,
        "--steps",
        steps,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn invert_reconstructs_unseen_clips_into_an_evaluable_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&small_fit(&run, "2", &["--pitches", "60-61"]));
    let held_out = dir.path().join("held_out");
    ok(&invert(&run, &held_out, "3", "5"));
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
    // An output folder that cannot be written fails before the steps.
    let out = trainer(&[
        "invert",
        run.to_str().unwrap(),
        "--data",
        "bundled:keyboard",
        "--out",
        "/proc/forbidden/held_out",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/proc/forbidden/held_out") && !err.contains("inverted"),
        "{err}"
    );
}

#[test]
fn an_inversion_keeps_the_progressive_mask_of_its_training_run() {
    // pigan-prog after 4 of 4 epochs has faded in two of its eight first-layer groups; an
    // inversion of 7 steps must still load with that mask, not the one of "epoch 7 of 7".
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&small_fit(
        &run,
        "4",
        &[
            "--model",
            "pigan-prog",
            "--points",
            "16",
            "--pitches",
            "60-61",
        ],
    ));
    let held_out = dir.path().join("held_out");
    ok(&invert(&run, &held_out, "2", "7"));
    let trained = sirenade_trainer::inference::LoadedRun::open(&run).unwrap();
    let mut inverted = sirenade_trainer::inference::LoadedRun::open(&held_out).unwrap();
    assert_eq!(inverted.epochs_trained, 4);
    let own = inverted.reconstruct(1, 16_000).unwrap();
    inverted.decoder = trained.decoder;
    assert_eq!(inverted.reconstruct(1, 16_000).unwrap(), own);
}
