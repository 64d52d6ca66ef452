//! `trainer tune` end to end on a tiny synthetic set (four one-second sines written here):
//! the search beats a bad start, its `best.toml` is a `trainer fit --config` file, a resumed
//! search repeats nothing, and bad input is one error line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sirenade_common::dataset::{self, Format, Selection};
use sirenade_trainer::fit_cmd::{config_settings, resolve_model};
use sirenade_trainer::train::settings::{DerivativeForm, Reduction, TrainSettings};
use sirenade_trainer::train::trainer::{EpochOutcome, Trainer};

fn trainer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One error line, exit status 1.
fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

/// Four one-second 16 kHz sines (40, 55, 70 and 85 Hz) in `dir/data`, and a base config in
/// `dir/base.toml`: the `demo` model, 200 points, batch 1 (four steps per epoch), and a
/// first-layer omega of 5, far too low to reach those frequencies.
fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    for (i, hz) in [40.0, 55.0, 70.0, 85.0].into_iter().enumerate() {
        let mut w = hound::WavWriter::create(data.join(format!("sine{i}.wav")), spec).unwrap();
        for k in 0..16_000 {
            let x = 0.5 * (2.0 * std::f64::consts::PI * hz * k as f64 / 16_000.0).sin();
            w.write_sample((x * 32767.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }
    let base = dir.join("base.toml");
    std::fs::write(
        &base,
        "model = \"demo\"\npoints = 200\nbatch = 1\nomega_first = 5.0\n",
    )
    .unwrap();
    (data, base)
}

/// `trainer tune` on the fixture with `extra` flags, quietly, JSON summary.
fn tune(data: &Path, base: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "tune",
        "--data",
        data.to_str().unwrap(),
        "--config",
        base.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--json",
    ];
    args.extend_from_slice(extra);
    trainer(&args)
}

fn state(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("tune.json")).unwrap()).unwrap()
}

/// Reconstruction MSE of `settings` after `epochs` epochs on the fixture's clips.
fn mse_after(data: &Path, settings: &TrainSettings, epochs: usize) -> f64 {
    let ds = dataset::load(data, Some(Format::WavFolder), &Selection::default()).unwrap();
    let clips: Vec<Vec<f32>> = ds.clips.into_iter().map(|c| c.samples).collect();
    let settings = TrainSettings {
        epochs,
        ..settings.clone()
    };
    let model = resolve_model(&settings).unwrap();
    let mut trainer = Trainer::new(&settings, &model, &clips).unwrap();
    for _ in 0..epochs {
        assert!(matches!(
            trainer.run_epoch().unwrap(),
            EpochOutcome::Done(_)
        ));
    }
    trainer.reconstruction_mse().unwrap()
}

#[test]
fn tune_beats_a_bad_start_and_writes_a_fit_config() {
    let dir = tempfile::tempdir().unwrap();
    let (data, base) = fixture(dir.path());
    let out = dir.path().join("search");
    // R = 9, η = 3: brackets (9 @ 1, 3 @ 3, 1 @ 9), (5 @ 3, 1 @ 9), (3 @ 9).
    let summary = ok(&tune(
        &data,
        &base,
        &out,
        &["--max-epochs", "9", "--eta", "3", "--omega-first", "5-5000"],
    ));
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["trials"], 9 + 5 + 3);
    assert_eq!(summary["epochs_spent"], 21 + 21 + 27);
    assert_eq!(summary["best"]["epochs"], 9);
    let saved = state(&out);
    assert_eq!(saved["complete"], true);
    assert_eq!(saved["trials"].as_array().unwrap().len(), 17);
    assert!(
        !out.join("trials").exists(),
        "the trials' states are removed"
    );

    // best.toml is read by `trainer fit --config`'s reader: the base with the best values.
    let best = config_settings(Some(&out.join("best.toml"))).unwrap();
    let start = config_settings(Some(&base)).unwrap();
    assert_eq!(best.model, "demo");
    assert_eq!((best.points, best.batch), (200, 1));
    assert_eq!(best.omega_first, summary["best"]["omega_first"].as_f64());
    assert_eq!(best.omega_hidden, summary["best"]["omega_hidden"].as_f64());
    assert_eq!(Some(best.lr), summary["best"]["lr"].as_f64());
    assert_eq!(
        TrainSettings {
            omega_first: start.omega_first,
            omega_hidden: start.omega_hidden,
            lr: start.lr,
            ..best.clone()
        },
        start
    );

    // The chosen omega reconstructs better than the bad start at the same budget.
    let tuned = mse_after(&data, &best, 9);
    let bad = mse_after(&data, &start, 9);
    assert!(
        tuned < 0.8 * bad,
        "tuned {tuned:.4e} (omega_first {:?}) vs bad start {bad:.4e}",
        best.omega_first
    );
    // It is the omega that matters: the bad one with the tuned rest does no better than the
    // bad start.
    let bad_omega = TrainSettings {
        omega_first: start.omega_first,
        ..best.clone()
    };
    let bad_omega = mse_after(&data, &bad_omega, 9);
    assert!(
        tuned < 0.8 * bad_omega,
        "tuned {tuned:.4e} vs {bad_omega:.4e}"
    );
    // And the search scored exactly what a run of those settings gives.
    let mean_power = saved["data"]["mean_power"].as_f64().unwrap();
    let score = summary["best"]["score"].as_f64().unwrap();
    assert!(
        (tuned / mean_power - score).abs() <= 1e-3 * score,
        "{tuned} / {mean_power} vs {score}"
    );
}

#[test]
fn tune_resumes_without_repeating_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (data, base) = fixture(dir.path());
    // R = 3, η = 3: brackets (3 @ 1, 1 @ 3) and (2 @ 3).
    let whole = dir.path().join("whole");
    ok(&tune(
        &data,
        &base,
        &whole,
        &["--max-epochs", "3", "--eta", "3", "--brackets", "2"],
    ));
    let split = dir.path().join("split");
    ok(&tune(
        &data,
        &base,
        &split,
        &["--max-epochs", "3", "--eta", "3", "--brackets", "1"],
    ));
    let first = state(&split);
    assert_eq!(first["trials"].as_array().unwrap().len(), 3);
    assert_eq!(first["epochs_spent"], 5);

    // A search stopped while its promoted trial ran (its last result not yet saved) runs
    // that trial again from its last completed rung, to the same result.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let mut stopped = first.clone();
    let promoted = stopped["trials"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["results"].as_array().unwrap().len() == 2)
        .unwrap();
    promoted["results"].as_array_mut().unwrap().pop();
    stopped["complete"] = false.into();
    std::fs::write(cut.join("tune.json"), stopped.to_string()).unwrap();
    ok(&tune(&data, &base, &cut, &["--resume"]));
    let rerun = state(&cut);
    assert_eq!(rerun["trials"], first["trials"]);
    // Its kept state was gone with the finished bracket: 3 epochs from scratch.
    assert_eq!(rerun["epochs_spent"], 5 + 3);

    // Starting over an existing search is refused.
    let err = refused(&tune(&data, &base, &split, &[]));
    assert!(err.contains("--resume"), "{err}");
    // So is resuming another search space or other data.
    let err = refused(&tune(
        &data,
        &base,
        &split,
        &["--resume", "--omega-first", "10-100"],
    ));
    assert!(
        err.contains("--omega-first 100-20000 in tune.json, 10-100 now"),
        "{err}"
    );
    let err = refused(&tune(&data, &base, &split, &["--resume", "--items", "3"]));
    assert!(err.contains("different data"), "{err}");
    let err = refused(&tune(&data, &base, &split, &["--resume", "--eta", "2"]));
    assert!(err.contains("--eta"), "{err}");

    // Resuming with a longer plan runs only the new bracket: the first three trials stay as
    // they were, and the whole is what the uninterrupted search did.
    ok(&tune(
        &data,
        &base,
        &split,
        &["--resume", "--brackets", "2"],
    ));
    let resumed = state(&split);
    let trials = |v: &serde_json::Value| v["trials"].as_array().unwrap().clone();
    assert_eq!(trials(&resumed)[..3], trials(&first)[..]);
    assert_eq!(resumed["trials"], state(&whole)["trials"]);
    assert_eq!(resumed["epochs_spent"], 5 + 6);
    // Resuming a finished search trains nothing more.
    ok(&tune(&data, &base, &split, &["--resume"]));
    assert_eq!(state(&split)["epochs_spent"], 5 + 6);

    // Bad ranges and schedules: one line, status 1, nothing written.
    let fresh = dir.path().join("fresh");
    for (flag, value, why) in [
        ("--omega-first", "300-100", "below the high end"),
        ("--omega-hidden", "0-100", "positive"),
        ("--lr", "1e-5-inf", "finite"),
        ("--omega-first", "100-1e6", "up to 100000"),
        ("--lr", "fast", "LOW-HIGH"),
        ("--eta", "1", "at least 2"),
    ] {
        let err = refused(&tune(&data, &base, &fresh, &[flag, value]));
        assert!(err.contains(why), "{flag} {value}: {err}");
        assert!(!fresh.join("tune.json").exists());
    }
}

/// The trials' score is the MSE over every sample: with the derivative term off and mean
/// reduction, the training objective over every phase is that same MSE.
#[test]
fn tune_scores_by_the_reconstruction_mse_over_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (data, base) = fixture(dir.path());
    let ds = dataset::load(&data, Some(Format::WavFolder), &Selection::default()).unwrap();
    let clips: Vec<Vec<f32>> = ds.clips.into_iter().map(|c| c.samples).collect();
    let settings = TrainSettings {
        omega_first: Some(300.0),
        batch: 3,
        derivative: DerivativeForm::None,
        reduction: Reduction::Mean,
        ..config_settings(Some(&base)).unwrap()
    };
    let mut trainer = Trainer::new(&settings, &resolve_model(&settings).unwrap(), &clips).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            trainer.run_epoch().unwrap(),
            EpochOutcome::Done(_)
        ));
    }
    let mse = trainer.reconstruction_mse().unwrap();
    let objective = trainer.full_loss().unwrap();
    assert!(mse > 0.0 && mse.is_finite());
    assert!(
        (mse - objective).abs() <= 1e-5 * objective,
        "{mse} vs {objective}"
    );
}
