//! `cargo xtask bench train`: training throughput of the thesis pi-GAN (8×256, batch 8, 2000
//! points per item, derivative term on) on this machine's cores, for both derivative forms,
//! in coordinate-samples per second (items × points / step time), and each form's peak memory.
//!
//! Two baselines are measured in the same run: the same steps with the plain candle layers
//! (`SineLayers::Plain`), and the same model and step in PyTorch 2.15 on the same cores
//! (`xtask/python/train_step_pytorch.py`, run by the bench virtualenv's interpreter; see
//! [`super::python`]). The training-speed goal is stated against PyTorch, so the speed-up over
//! the PyTorch run is the figure that counts; where no interpreter is installed, the speed-up
//! over plain candle times the plain-candle to PyTorch ratio of the goal's reference figures
//! (the constants below) stands in for it (marked as an estimate). Each measurement runs in a process of its own so that its
//! peak resident memory is its own. The three measurements of a form alternate over
//! `--rounds` rounds and each figure is the median of its rounds: on a shared host whose speed
//! drifts by 10–30% over minutes, one measurement of each side taken one after the other can
//! land on different sides of a drift.
//!
//! "Ours" is `--sine-layers` (default `fast`; `composed` measures the CUDA path's op on the CPU).
//! Each child also counts its allocations of a MiB or more per timed step
//! ([`crate::large_allocs`]): on the plain and composed paths, the tensor op outputs, that is
//! the writes the same step makes on a GPU.
//!
//! `--stft` measures instead what the multi-resolution STFT term costs: the fd step of the
//! same model with and without it (one 512-sample window per item beside the 2000 strided
//! points, FFT sizes 512, 256, 128 and 64), alternating over the rounds, and their ratio.
//!
//! `--thesis-scale` measures instead what the goal asks of a GPU: seconds per epoch of the
//! thesis protocol (1024 items, batch 128, 2000 points) on `--device cpu|cuda` (the `cuda`
//! device needs `xtask` built with `--features cuda`, which `cargo xtask check-cuda` does),
//! with `--compare-plain` also those of plain candle in the same run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use sirenade_common::model_config::ModelConfig;
use sirenade_trainer::model::SineLayers;
use sirenade_trainer::train::settings::{DerivativeForm, TrainSettings};
use sirenade_trainer::train::trainer::{EpochOutcome, Trainer};

use super::python;
use crate::large_allocs;

/// Reference figures the training-speed goal was stated with (coordinate-samples/s on 2 CPU
/// cores; BENCHMARKS.md, "Reference figures of the training-speed goal"): PyTorch 2.15,
/// forward-difference derivative. Only their ratios are used, so the machine's speed cancels.
pub const PYTORCH_FD: f64 = 51_923.0;
/// Reference figure: PyTorch 2.15, autograd derivative with `create_graph`.
pub const PYTORCH_ANALYTIC: f64 = 19_446.0;
/// Reference figure: candle written plainly, forward-difference derivative.
pub const PLAIN_CANDLE_FD: f64 = 13_001.0;
/// Reference figure: candle written plainly, forward-mode derivative.
pub const PLAIN_CANDLE_ANALYTIC: f64 = 5_490.0;

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
    /// Timed steps per measurement (after one warm-up step); the median step counts.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Rounds of (ours, plain candle, PyTorch) per form, alternating; each figure is the median
    /// of its rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Named model to measure.
    #[arg(long, default_value = "pigan")]
    pub model: String,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Python interpreter with torch 2.15 and adabelief-pytorch for the PyTorch baseline
    /// (default: `target/bench-venv/bin/python` when `scripts/bench-venv.sh` has made it).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Measure seconds per epoch at thesis scale (1024 items, batch 128) instead.
    #[arg(long)]
    pub thesis_scale: bool,
    /// Device of the thesis-scale measurement: `cpu` or `cuda`.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Epochs timed per form at thesis scale (after one warm-up epoch); the median counts.
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// The sine layers measured against the baselines: `fast` (this project's default: the
    /// fused CPU op, on CUDA the composed network op), or `composed` (the CUDA path, to measure
    /// it on the CPU); `plain` measures the baseline against itself.
    #[arg(long, value_enum, default_value = "fast", alias = "kernels")]
    pub sine_layers: SineLayers,
    /// At thesis scale, also measure the plain candle layers in the same run and print the
    /// speed-up over them.
    #[arg(long, requires = "thesis_scale")]
    pub compare_plain: bool,
    /// Measure the cost of the STFT term instead: the fd step with and without it.
    #[arg(long, conflicts_with = "thesis_scale")]
    pub stft: bool,
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

/// `n` deterministic one-second clips (decaying harmonic tones; the first eight are those the
/// PyTorch baseline builds).
fn clips(n: usize) -> Vec<Vec<f32>> {
    (0..n)
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
        sine_layers: args.sine_layers,
        stft_weight: if args.stft { 1.0 } else { 0.0 },
        ..TrainSettings::default()
    };
    let model = ModelConfig::named(&args.model)?;
    let mut trainer = Trainer::new(&settings, &model, &clips(8))?;
    let mut step = || -> Result<()> {
        match trainer.run_epoch()? {
            EpochOutcome::Done(_) => Ok(trainer.synchronize()?),
            EpochOutcome::NonFinite { .. } => bail!("non-finite loss during the benchmark"),
        }
    };
    step()?;
    // The median step: a shared machine's occasional stalls do not move it.
    let mut times = Vec::with_capacity(args.steps);
    let (count_before, bytes_before) = large_allocs::totals();
    for _ in 0..args.steps {
        let start = Instant::now();
        step()?;
        times.push(start.elapsed().as_secs_f64());
    }
    let (count_after, bytes_after) = large_allocs::totals();
    let steps = args.steps as f64;
    times.sort_by(f64::total_cmp);
    let per_step = times[times.len() / 2];
    Ok(json!({
        "coord_samples_per_s": 8.0 * 2000.0 / per_step,
        "seconds_per_step": per_step,
        "large_allocs_per_step": (count_after - count_before) as f64 / steps,
        "large_alloc_mb_per_step": (bytes_after - bytes_before) as f64 / steps / 1e6,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

/// One measurement in a child process: `form` with the given sine layers.
fn run_child(
    args: &TrainBenchArgs,
    form: &str,
    sine_layers: SineLayers,
) -> Result<serde_json::Value> {
    run_child_with(args, form, sine_layers, false)
}

/// One measurement in a child process: `form` with the given sine layers, with or without the
/// STFT term.
fn run_child_with(
    args: &TrainBenchArgs,
    form: &str,
    sine_layers: SineLayers,
    stft: bool,
) -> Result<serde_json::Value> {
    let exe = std::env::current_exe().context("cannot locate the xtask binary")?;
    let label = sine_layers.name();
    let out = Command::new(&exe)
        .args(["bench", "train", "--steps", &args.steps.to_string()])
        .args([
            "--model",
            &args.model,
            "--child",
            form,
            "--sine-layers",
            label,
        ])
        .args(stft.then_some("--stft"))
        .output()
        .context("cannot run the benchmark child")?;
    if !out.status.success() {
        bail!(
            "{form} ({label}) benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{form} ({label}) benchmark printed no JSON"))
}

/// `--stft`: the fd step's seconds without and with the STFT term, alternating over the
/// rounds, medians and their ratio (a spectral term worth its cost stays under 1.3).
fn bench_stft(args: &TrainBenchArgs) -> Result<()> {
    let seconds = |v: &serde_json::Value| v["seconds_per_step"].as_f64().unwrap_or(f64::NAN);
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        without.push(seconds(&run_child_with(
            args,
            "fd",
            args.sine_layers,
            false,
        )?));
        with.push(seconds(&run_child_with(
            args,
            "fd",
            args.sine_layers,
            true,
        )?));
    }
    let (a, b) = (median(&without), median(&with));
    if args.json {
        println!(
            "{}",
            json!({
                "model": args.model,
                "sine_layers": args.sine_layers.name(),
                "seconds_per_step": a,
                "stft_seconds_per_step": b,
                "stft_cost_ratio": b / a,
                "rounds": args.rounds,
                "without_rounds": without,
                "with_rounds": with,
            })
        );
    } else {
        println!(
            "model {} fd step at batch 8 × 2000 points, {} sine layers: {:.4} s without the STFT \
             term, {:.4} s with it (one 512-sample window per item, FFT 512/256/128/64): {:.3}× \
             (median of {} alternating round(s); bound 1.3×)",
            args.model,
            args.sine_layers.name(),
            a,
            b,
            b / a,
            args.rounds
        );
    }
    Ok(())
}

/// Every round's figures of one form, in the order they were taken.
#[derive(Default)]
struct Rounds {
    ours: Vec<f64>,
    plain: Vec<f64>,
    pytorch: Vec<f64>,
    ours_rss: f64,
    pytorch_rss: f64,
    /// Our allocations of a MiB or more per step and their MB (the same every round).
    ours_allocs: (f64, f64),
    /// The same for plain candle.
    plain_allocs: (f64, f64),
}

impl Rounds {
    fn json(&self) -> serde_json::Value {
        json!({ "ours": self.ours, "plain": self.plain, "pytorch": self.pytorch })
    }
}

/// The median of `v` (the mean of the middle two for an even count); `v` is not empty.
fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// One derivative form's results: ours, the baselines (medians of the rounds), and what they
/// imply.
struct FormResult {
    name: &'static str,
    ours: f64,
    plain: f64,
    ours_rss: f64,
    /// PyTorch on this machine in the same run, when an interpreter was found.
    pytorch: Option<f64>,
    pytorch_rss: Option<f64>,
    /// The reference PyTorch and plain-candle figures for this form.
    pytorch_ref: f64,
    plain_ref: f64,
    /// The figures of every round.
    rounds: Rounds,
}

impl FormResult {
    fn speedup(&self) -> f64 {
        self.ours / self.plain
    }

    /// The speed-up over PyTorch measured in this run.
    fn vs_pytorch(&self) -> Option<f64> {
        self.pytorch.map(|p| self.ours / p)
    }

    /// The speed-up over plain candle, scaled by the reference figures' plain-candle to
    /// PyTorch ratio: an estimate of the speed relative to PyTorch on equal hardware, for runs
    /// without the PyTorch baseline.
    fn vs_pytorch_estimate(&self) -> f64 {
        self.speedup() * self.plain_ref / self.pytorch_ref
    }
}

/// The PyTorch baseline of one form, in its own process (the script implements the pigan
/// model only).
fn run_pytorch(
    python: &std::path::Path,
    args: &TrainBenchArgs,
    form: &str,
) -> Result<serde_json::Value> {
    python::run_script(
        python,
        "train_step_pytorch.py",
        &[
            "--form".into(),
            form.into(),
            "--steps".into(),
            args.steps.to_string(),
            "--threads".into(),
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string(),
        ],
    )
}

/// Items and batch of the thesis protocol (thesis A.3.2).
const THESIS_ITEMS: usize = 1024;
const THESIS_BATCH: usize = 128;

/// Median seconds per epoch of one derivative form at thesis scale on `args.device` with the
/// given sine layers.
fn thesis_epoch_seconds(
    form: DerivativeForm,
    sine_layers: SineLayers,
    args: &TrainBenchArgs,
    data: &[Vec<f32>],
) -> Result<f64> {
    let settings = TrainSettings {
        model: args.model.clone(),
        batch: THESIS_BATCH,
        points: 2000,
        epochs: args.epochs + 1,
        derivative: form,
        device: args.device.clone(),
        sine_layers,
        ..TrainSettings::default()
    };
    let model = ModelConfig::named(&args.model)?;
    let mut trainer = Trainer::new(&settings, &model, data)?;
    let mut times = Vec::with_capacity(args.epochs);
    for epoch in 0..=args.epochs {
        let start = Instant::now();
        if let EpochOutcome::NonFinite { .. } = trainer.run_epoch()? {
            bail!("non-finite loss during the benchmark");
        }
        trainer.synchronize()?;
        if epoch > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// `--thesis-scale`: seconds per epoch for both forms, and with `--compare-plain` those of the
/// plain candle layers measured in the same run.
fn bench_thesis_scale(args: &TrainBenchArgs) -> Result<()> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let data = clips(THESIS_ITEMS);
    let forms = [
        ("fd", DerivativeForm::Fd),
        ("analytic", DerivativeForm::Analytic),
    ];
    let mut ours = Vec::with_capacity(2);
    let mut plain = Vec::with_capacity(2);
    for (_, form) in forms {
        ours.push(thesis_epoch_seconds(form, args.sine_layers, args, &data)?);
        if args.compare_plain {
            plain.push(thesis_epoch_seconds(form, SineLayers::Plain, args, &data)?);
        }
    }
    let rate = |s: f64| (THESIS_ITEMS * 2000) as f64 / s;
    if args.json {
        let mut out = json!({
            "model": args.model,
            "device": args.device,
            "sine_layers": args.sine_layers.name(),
            "items": THESIS_ITEMS,
            "batch": THESIS_BATCH,
            "points": 2000,
        });
        for (i, (name, _)) in forms.iter().enumerate() {
            out[format!("{name}_seconds_per_epoch")] = json!(ours[i]);
            out[format!("{name}_coord_samples_per_s")] = json!(rate(ours[i]));
            if let Some(p) = plain.get(i) {
                out[format!("{name}_plain_seconds_per_epoch")] = json!(p);
                out[format!("{name}_speedup_over_plain")] = json!(p / ours[i]);
            }
        }
        println!("{out}");
    } else {
        println!(
            "model {} on {} with the {} sine layers: {THESIS_ITEMS} items, batch {THESIS_BATCH}, \
             2000 points, median of {} epoch(s)",
            args.model,
            args.device,
            args.sine_layers.name(),
            args.epochs
        );
        for (i, (name, _)) in forms.iter().enumerate() {
            let s = ours[i];
            let versus = plain.get(i).map_or_else(String::new, |p| {
                format!("   plain {p:.3} s, {:.2}× faster", p / s)
            });
            println!(
                "{name:<10} {s:>8.3} s per epoch {:>12.0} coordinate-samples/s{versus}",
                rate(s)
            );
        }
        println!("(target on an H100: under 0.5 s per epoch)");
    }
    Ok(())
}

/// Runs the benchmark (or, with `--child`, one measurement of it).
pub fn bench_train(args: &TrainBenchArgs) -> Result<()> {
    if args.steps == 0 {
        bail!("--steps must be at least 1");
    }
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    if args.thesis_scale {
        return bench_thesis_scale(args);
    }
    if let Some(form) = args.child {
        println!("{}", measure(form, args)?);
        return Ok(());
    }
    if args.stft {
        return bench_stft(args);
    }
    let python = if args.model == "pigan" {
        python::interpreter(args.python.as_deref())?
    } else {
        None
    };
    let results = [
        measure_form(args, python.as_deref(), "fd", PYTORCH_FD, PLAIN_CANDLE_FD)?,
        measure_form(
            args,
            python.as_deref(),
            "analytic",
            PYTORCH_ANALYTIC,
            PLAIN_CANDLE_ANALYTIC,
        )?,
    ];
    if args.json {
        print_json(args, &results);
    } else {
        print_table(args, &results, python.is_some());
    }
    Ok(())
}

/// Measures one derivative form in alternating rounds: ours, plain candle, and PyTorch when
/// `python` is given, each in its own process.
fn measure_form(
    args: &TrainBenchArgs,
    python: Option<&std::path::Path>,
    name: &'static str,
    pytorch_ref: f64,
    plain_ref: f64,
) -> Result<FormResult> {
    let rate = |v: &serde_json::Value| v["coord_samples_per_s"].as_f64().unwrap_or(0.0);
    let rss = |v: &serde_json::Value| v["peak_rss_mib"].as_f64().unwrap_or(0.0);
    let allocs = |v: &serde_json::Value| {
        (
            v["large_allocs_per_step"].as_f64().unwrap_or(0.0),
            v["large_alloc_mb_per_step"].as_f64().unwrap_or(0.0),
        )
    };
    let mut rounds = Rounds::default();
    for _ in 0..args.rounds {
        let ours = run_child(args, name, args.sine_layers)?;
        let plain = run_child(args, name, SineLayers::Plain)?;
        rounds.ours.push(rate(&ours));
        rounds.plain.push(rate(&plain));
        rounds.ours_rss = rounds.ours_rss.max(rss(&ours));
        rounds.ours_allocs = allocs(&ours);
        rounds.plain_allocs = allocs(&plain);
        if let Some(p) = python {
            let pytorch = run_pytorch(p, args, name)?;
            rounds.pytorch.push(rate(&pytorch));
            rounds.pytorch_rss = rounds.pytorch_rss.max(rss(&pytorch));
        }
    }
    Ok(FormResult {
        name,
        ours: median(&rounds.ours),
        plain: median(&rounds.plain),
        ours_rss: rounds.ours_rss,
        pytorch: (!rounds.pytorch.is_empty()).then(|| median(&rounds.pytorch)),
        pytorch_rss: (!rounds.pytorch.is_empty()).then_some(rounds.pytorch_rss),
        pytorch_ref,
        plain_ref,
        rounds,
    })
}

/// The results as one JSON object on stdout (`--json`).
fn print_json(args: &TrainBenchArgs, results: &[FormResult; 2]) {
    let [fd, analytic] = results;
    println!(
        "{}",
        json!({
            "model": args.model,
            "sine_layers": args.sine_layers.name(),
            "batch": 8,
            "points": 2000,
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "fd_coord_samples_per_s": fd.ours,
            "analytic_coord_samples_per_s": analytic.ours,
            "fd_plain_coord_samples_per_s": fd.plain,
            "analytic_plain_coord_samples_per_s": analytic.plain,
            "fd_pytorch_coord_samples_per_s": fd.pytorch,
            "analytic_pytorch_coord_samples_per_s": analytic.pytorch,
            "fd_speedup_over_plain": fd.speedup(),
            "analytic_speedup_over_plain": analytic.speedup(),
            "fd_vs_pytorch": fd.vs_pytorch(),
            "analytic_vs_pytorch": analytic.vs_pytorch(),
            "fd_peak_rss_mib": fd.ours_rss,
            "analytic_peak_rss_mib": analytic.ours_rss,
            "fd_pytorch_peak_rss_mib": fd.pytorch_rss,
            "analytic_pytorch_peak_rss_mib": analytic.pytorch_rss,
            "fd_large_allocs_per_step": fd.rounds.ours_allocs.0,
            "fd_large_alloc_mb_per_step": fd.rounds.ours_allocs.1,
            "fd_plain_large_allocs_per_step": fd.rounds.plain_allocs.0,
            "fd_plain_large_alloc_mb_per_step": fd.rounds.plain_allocs.1,
            "analytic_large_allocs_per_step": analytic.rounds.ours_allocs.0,
            "analytic_large_alloc_mb_per_step": analytic.rounds.ours_allocs.1,
            "analytic_plain_large_allocs_per_step": analytic.rounds.plain_allocs.0,
            "analytic_plain_large_alloc_mb_per_step": analytic.rounds.plain_allocs.1,
            "fd_vs_pytorch_estimate": fd.vs_pytorch_estimate(),
            "analytic_vs_pytorch_estimate": analytic.vs_pytorch_estimate(),
            "rounds": args.rounds,
            "fd_rounds": fd.rounds.json(),
            "analytic_rounds": analytic.rounds.json(),
        })
    );
}

/// The results as a table with the rounds, allocations and notes on stdout.
fn print_table(args: &TrainBenchArgs, results: &[FormResult; 2], found_python: bool) {
    println!(
        "model {} at batch 8 × 2000 points, {} step(s) per measurement (median), median of {} \
         alternating round(s)",
        args.model, args.steps, args.rounds
    );
    println!("ours: the {} sine layers", args.sine_layers.name());
    println!(
        "{:<10} {:>12} {:>12} {:>14} {:>10} {:>11} {:>15} {:>9}",
        "form",
        "ours c-s/s",
        "plain c-s/s",
        "PyTorch c-s/s",
        "vs plain",
        "vs PyTorch",
        "RSS MiB",
        "est."
    );
    let dash = || "–".to_string();
    for r in results {
        println!(
            "{:<10} {:>12.0} {:>12.0} {:>14} {:>9.2}× {:>11} {:>15} {:>8.2}×",
            r.name,
            r.ours,
            r.plain,
            r.pytorch.map_or_else(dash, |p| format!("{p:.0}")),
            r.speedup(),
            r.vs_pytorch().map_or_else(dash, |v| format!("{v:.2}×")),
            match r.pytorch_rss {
                Some(p) => format!("{:.0} / {p:.0}", r.ours_rss),
                None => format!("{:.0}", r.ours_rss),
            },
            r.vs_pytorch_estimate()
        );
    }
    for r in results {
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{} rounds: ours {}; plain {}; PyTorch {}",
            r.name,
            list(&r.rounds.ours),
            list(&r.rounds.plain),
            if r.rounds.pytorch.is_empty() {
                dash()
            } else {
                list(&r.rounds.pytorch)
            }
        );
    }
    for r in results {
        let ((oc, om), (pc, pm)) = (r.rounds.ours_allocs, r.rounds.plain_allocs);
        println!(
            "{} allocations of 1 MiB or more per step: ours {oc:.0} ({om:.0} MB), plain {pc:.0} \
             ({pm:.0} MB)",
            r.name
        );
    }
    println!(
        "(target: 1.5× PyTorch for both forms; RSS: ours / PyTorch's, the largest of the rounds)"
    );
    println!(
        "(allocations: on the plain and composed paths nearly all are tensor op outputs, the \
         writes a GPU would make; the fused CPU path reuses pooled buffers)"
    );
    println!(
        "(est. = speed-up over plain candle × the goal's reference plain-candle / PyTorch ratio: \
         fd {:.3}, analytic {:.3})",
        PLAIN_CANDLE_FD / PYTORCH_FD,
        PLAIN_CANDLE_ANALYTIC / PYTORCH_ANALYTIC
    );
    if args.model != "pigan" {
        println!("(the PyTorch baseline implements the pigan model only)");
    } else if !found_python {
        println!("{}", python::missing_note("PyTorch"));
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    /// The middle value of an odd count, the mean of the middle two of an even one, whatever
    /// the order.
    #[test]
    fn median_of_rounds() {
        assert_eq!(median(&[3.0]), 3.0);
        assert_eq!(median(&[9.0, 1.0, 5.0]), 5.0);
        assert_eq!(median(&[4.0, 1.0, 9.0, 2.0]), 3.0);
    }
}
