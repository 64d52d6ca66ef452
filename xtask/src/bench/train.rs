//! `cargo xtask bench train`: training throughput of the thesis pi-GAN (8×256, batch 8, 2000
//! points per item, derivative term on) on this machine's cores, for both derivative forms,
//! in coordinate-samples per second (items × points / step time), and each form's peak memory.
//!
//! Each form runs in a child process of its own so that its peak resident memory is its own.
//! The PyTorch figures printed beside them are the reference measurements on this
//! machine type (PyTorch 2.15 CPU, same model and batch, 2 threads): they are constants, not
//! measured here, since PyTorch is not part of the build.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use sirenade_common::model_config::ModelConfig;
use sirenade_trainer::train::engine::{Engine, EpochOutcome};
use sirenade_trainer::train::settings::{DerivativeForm, TrainSettings};

/// PyTorch 2.15 CPU, forward-difference derivative (the reference).
pub const PYTORCH_FD: f64 = 51_923.0;
/// PyTorch 2.15 CPU, autograd derivative with `create_graph` (the reference).
pub const PYTORCH_ANALYTIC: f64 = 19_446.0;

/// The derivative form a child measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Form {
    /// Forward differences (the reference code).
    Fd,
    /// The exact derivative in forward mode.
    Analytic,
}

/// Options of `cargo xtask bench train`.
#[derive(Debug, Clone, Args)]
pub struct TrainBenchArgs {
    /// Timed steps per form (after one warm-up step).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Named model to measure.
    #[arg(long, default_value = "pigan")]
    pub model: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Internal: measure one form in this process and print its JSON line.
    #[arg(long, hide = true)]
    pub child: Option<Form>,
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Eight deterministic one-second clips (decaying harmonic tones).
fn clips() -> Vec<Vec<f32>> {
    (0..8)
        .map(|k| {
            let f0 = 220.0 * (1.0 + k as f64 / 8.0);
            (0..sirenade_common::CLIP_LEN)
                .map(|i| {
                    let t = i as f64 / sirenade_common::SAMPLE_RATE as f64;
                    let tone: f64 = (1..=4)
                        .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
                        .sum();
                    (0.3 * tone * (-3.0 * t).exp()) as f32
                })
                .collect()
        })
        .collect()
}

fn measure(form: Form, args: &TrainBenchArgs) -> Result<serde_json::Value> {
    let settings = TrainSettings {
        model: args.model.clone(),
        batch: 8,
        points: 2000,
        epochs: args.steps + 1,
        derivative: match form {
            Form::Fd => DerivativeForm::Fd,
            Form::Analytic => DerivativeForm::Analytic,
        },
        ..TrainSettings::default()
    };
    let model = ModelConfig::named(&args.model)?;
    let mut engine = Engine::new(&settings, &model, &clips())?;
    let mut step = || -> Result<()> {
        match engine.run_epoch()? {
            EpochOutcome::Done(_) => Ok(()),
            EpochOutcome::NonFinite { .. } => bail!("non-finite loss during the benchmark"),
        }
    };
    step()?;
    let start = Instant::now();
    for _ in 0..args.steps {
        step()?;
    }
    let per_step = start.elapsed().as_secs_f64() / args.steps as f64;
    Ok(json!({
        "coord_samples_per_s": 8.0 * 2000.0 / per_step,
        "seconds_per_step": per_step,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

/// Runs the benchmark (or, with `--child`, one form of it).
pub fn bench_train(args: &TrainBenchArgs) -> Result<()> {
    if let Some(form) = args.child {
        println!("{}", measure(form, args)?);
        return Ok(());
    }
    let exe = std::env::current_exe().context("cannot locate the xtask binary")?;
    let mut results = Vec::new();
    for name in ["fd", "analytic"] {
        let out = Command::new(&exe)
            .args([
                "bench",
                "train",
                "--steps",
                &args.steps.to_string(),
                "--model",
                &args.model,
            ])
            .args(["--child", name])
            .output()
            .context("cannot run the benchmark child")?;
        if !out.status.success() {
            bail!(
                "{name} benchmark failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("{name} benchmark printed no JSON"))?;
        results.push((name, v));
    }
    let rate = |i: usize| results[i].1["coord_samples_per_s"].as_f64().unwrap_or(0.0);
    let rss = |i: usize| results[i].1["peak_rss_mib"].as_f64().unwrap_or(0.0);
    if args.json {
        println!(
            "{}",
            json!({
                "model": args.model,
                "batch": 8,
                "points": 2000,
                "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
                "fd_coord_samples_per_s": rate(0),
                "analytic_coord_samples_per_s": rate(1),
                "fd_peak_rss_mib": rss(0),
                "analytic_peak_rss_mib": rss(1),
                "fd_vs_pytorch": rate(0) / PYTORCH_FD,
                "analytic_vs_pytorch": rate(1) / PYTORCH_ANALYTIC,
            })
        );
    } else {
        println!(
            "model {} at batch 8 × 2000 points, {} step(s) per form",
            args.model, args.steps
        );
        println!(
            "{:<10} {:>16} {:>14} {:>18}",
            "form", "coord-samples/s", "peak RSS MiB", "vs PyTorch ref"
        );
        for (i, (name, reference)) in [("fd", PYTORCH_FD), ("analytic", PYTORCH_ANALYTIC)]
            .iter()
            .enumerate()
        {
            println!(
                "{name:<10} {:>16.0} {:>14.0} {:>17.2}×",
                rate(i),
                rss(i),
                rate(i) / reference
            );
        }
    }
    Ok(())
}
