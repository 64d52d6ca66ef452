//! `cargo xtask bench evaluator`: the real-time evaluator's single-thread throughput per model and
//! block size, against this core's measured FP32 peak, candle's CPU forward and ONNX Runtime.
//!
//! The ONNX Runtime baseline (`xtask/python/evaluator_onnxruntime.py`, one thread) runs the same
//! folded weights and latents, which this benchmark hands it in a safetensors file; its
//! output on a check block must match the evaluator's (within [`ORT_CHECK_TOLERANCE`]) or the
//! benchmark fails, so both sides are known to compute the same function.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use clap::Args;
use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;
use serde_json::json;
use sirenade_common::evaluator::{Activation, Evaluator, NetworkWeights};
use sirenade_common::preset::Precision;

use super::clock;
use super::models::{BenchModel, MODELS};
use super::{peak, python};

/// Block sizes measured.
const BLOCKS: [usize; 4] = [1, 16, 64, 256];

/// The host rate voices are counted at.
const HOST_RATE: f64 = 48_000.0;

/// Start and step of the coordinates every measured block walks along (one 16 kHz clip).
const T0: f64 = -1.0;
const DT: f64 = 2.0 / 16_000.0;

/// Largest difference allowed between ONNX Runtime's and the evaluator's output on the check
/// block: both evaluate the same f32 network with different summation orders and sines; the
/// first layer's arguments reach thousands, so a few 1e-5 of difference are expected.
pub const ORT_CHECK_TOLERANCE: f64 = 2e-3;

/// Arguments of `cargo xtask bench evaluator`.
#[derive(Debug, Clone, Args)]
pub struct EvaluatorBenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of measurement per figure.
    #[arg(long, default_value_t = 0.5)]
    pub seconds: f64,
    /// Precision of the presets measured: `f16` (compact, what `trainer export` writes by
    /// default and what ships; the evaluator keeps f16 matrices for its few-coordinate kernel,
    /// or 16-bit integers for all of its kernels with AVX-512 VNNI and layers at least 128
    /// wide) or `f32`. ONNX Runtime runs the same values in f32 either way.
    #[arg(long, default_value = "f16", value_parser = parse_precision)]
    pub precision: Precision,
    /// Python interpreter with onnxruntime 1.32 and onnx for the ONNX Runtime baseline
    /// (default: `target/bench-venv/bin/python` when `scripts/bench-venv.sh` has made it).
    #[arg(long)]
    pub python: Option<PathBuf>,
}

/// One model at one block size.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluatorBenchResult {
    /// `pigan`, `wide` or `small`.
    pub model: &'static str,
    /// Samples per `render` call.
    pub block: usize,
    /// Evaluator samples per CPU second.
    pub samples_per_s: f64,
    /// Voices sustainable at 48 kHz on one core.
    pub voices_48k: f64,
    /// Achieved GFLOP/s of the synthesis network.
    pub gflops: f64,
    /// `gflops / peak_gflops`.
    pub peak_fraction: f64,
    /// candle's CPU forward (one thread), samples per CPU second.
    pub candle_samples_per_s: f64,
    /// `samples_per_s / candle_samples_per_s`.
    pub speedup_vs_candle: f64,
    /// ONNX Runtime (one thread) on the same network, samples per CPU second, when its
    /// baseline ran.
    pub ort_samples_per_s: Option<f64>,
    /// `samples_per_s / ort_samples_per_s`.
    pub speedup_vs_ort: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluatorBenchReport {
    /// The single-thread FP32 peak: the higher of the two measurements below.
    pub peak_gflops: f64,
    /// Single-thread SGEMM through `gemm`.
    pub sgemm_gflops: f64,
    /// The FMA-throughput loop.
    pub fma_gflops: f64,
    /// The evaluator's kernel.
    pub isa: String,
    /// Storage precision of the measured presets (`f16` or `f32`).
    pub precision: &'static str,
    /// The ONNX Runtime version of the baseline, when it ran.
    pub onnxruntime: Option<String>,
    /// Largest difference between ONNX Runtime's and the evaluator's check block, over models.
    pub ort_check_max_abs: Option<f64>,
    /// Per model and block.
    pub results: Vec<EvaluatorBenchResult>,
}

/// Runs the benchmark and returns what it prints.
pub fn bench_evaluator(args: &EvaluatorBenchArgs) -> Result<String> {
    // candle's CPU kernels read this for their thread count: one thread, like the evaluator.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let interpreter = python::interpreter(args.python.as_deref())?;
    let peak = peak::measure(args.seconds);
    let mut results = Vec::new();
    let mut isa = String::new();
    let mut models = Vec::new();
    for (seed, (name, model)) in MODELS.into_iter().enumerate() {
        let m = BenchModel::new(model, seed as u64, args.precision)?;
        let mut ev = Evaluator::new(m.weights.clone())?;
        isa = format!("{} (matrices {})", ev.isa(), ev.matrix_storage());
        ev.prepare(&m.latent)?;
        let z = Tensor::from_vec(m.latent.clone(), (1, m.latent.len()), &Device::Cpu)?;
        for block in BLOCKS {
            let samples_per_s = evaluator_rate(&mut ev, block, args.seconds);
            let candle_samples_per_s = candle_rate(&m, &z, block, args.seconds)?;
            let gflops = samples_per_s * m.flops_per_sample() / 1e9;
            results.push(EvaluatorBenchResult {
                model: name,
                block,
                samples_per_s,
                voices_48k: samples_per_s / HOST_RATE,
                gflops,
                peak_fraction: gflops / peak.best(),
                candle_samples_per_s,
                speedup_vs_candle: samples_per_s / candle_samples_per_s,
                ort_samples_per_s: None,
                speedup_vs_ort: None,
            });
        }
        models.push((name, m, ev));
    }
    let mut report = EvaluatorBenchReport {
        peak_gflops: peak.best(),
        sgemm_gflops: peak.sgemm,
        fma_gflops: peak.fma,
        isa,
        precision: match args.precision {
            Precision::F16 => "f16",
            Precision::F32 => "f32",
        },
        onnxruntime: None,
        ort_check_max_abs: None,
        results,
    };
    if let Some(py) = &interpreter {
        onnxruntime_baseline(py, args.seconds, &mut models, &mut report)?;
    }
    if args.json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    let mut text = table(&report);
    if interpreter.is_none() {
        text += &python::missing_note("ONNX Runtime");
        text += "\n";
    }
    Ok(text)
}

/// Runs the ONNX Runtime baseline on the same networks and latents, checks that it computes
/// what the evaluator computes, and fills in its rates.
fn onnxruntime_baseline(
    py: &Path,
    seconds: f64,
    models: &mut [(&'static str, BenchModel, Evaluator)],
    report: &mut EvaluatorBenchReport,
) -> Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let file = dir.path().join("evaluator-models.safetensors");
    write_models(&file, models)?;
    let blocks: Vec<String> = BLOCKS.iter().map(|b| b.to_string()).collect();
    let out = python::run_script(
        py,
        "evaluator_onnxruntime.py",
        &[
            file.display().to_string(),
            "--blocks".into(),
            blocks.join(","),
            "--seconds".into(),
            seconds.to_string(),
        ],
    )?;
    let mut worst = 0.0f64;
    for (name, _, ev) in models.iter_mut() {
        let theirs: Vec<f64> = serde_json::from_value(out["check"][*name].clone())
            .with_context(|| format!("the ONNX Runtime baseline returned no check for {name}"))?;
        let mut ours = vec![0.0f32; theirs.len()];
        ev.render_f64(T0, DT, &mut ours);
        let finite = ours.iter().all(|v| v.is_finite()) && theirs.iter().all(|v| v.is_finite());
        if theirs.is_empty() || !finite {
            bail!("the {name} check block is empty or not finite (ONNX Runtime or the evaluator)");
        }
        let diff = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (f64::from(*a) - b).abs())
            .fold(0.0, f64::max);
        if diff > ORT_CHECK_TOLERANCE {
            bail!(
                "ONNX Runtime's {name} output differs from the evaluator's by {diff:e} (limit \
                 {ORT_CHECK_TOLERANCE:e}): the baseline does not compute the same network"
            );
        }
        worst = worst.max(diff);
    }
    for r in out["results"].as_array().into_iter().flatten() {
        let (Some(model), Some(block), Some(rate)) = (
            r["model"].as_str(),
            r["block"].as_u64(),
            r["samples_per_s"].as_f64(),
        ) else {
            bail!("malformed ONNX Runtime result {r}");
        };
        if let Some(x) = report
            .results
            .iter_mut()
            .find(|x| x.model == model && x.block as u64 == block)
        {
            x.ort_samples_per_s = Some(rate);
            x.speedup_vs_ort = Some(x.samples_per_s / rate);
        }
    }
    report.onnxruntime = out["onnxruntime"].as_str().map(str::to_string);
    report.ort_check_max_abs = Some(worst);
    Ok(())
}

/// One f32 tensor to write: name, shape, values.
type Tensor32<'a> = (String, Vec<usize>, &'a [f32]);

/// Pushes `PREFIX.weight` `[out, in]` and `PREFIX.bias` `[out]` of a dense map.
fn push_dense<'a>(
    tensors: &mut Vec<Tensor32<'a>>,
    prefix: String,
    shape: [usize; 2],
    weight: &'a [f32],
    bias: &'a [f32],
) {
    tensors.push((format!("{prefix}.weight"), shape.to_vec(), weight));
    tensors.push((format!("{prefix}.bias"), vec![shape[0]], bias));
}

/// Writes each model's folded weights and latent as f32 tensors named `MODEL.mapping.I.*`,
/// `MODEL.layer.K.{weight,bias,omega}` and `MODEL.latent`, with the layer structure and the
/// clock of the check block in the metadata.
fn write_models(file: &Path, models: &[(&'static str, BenchModel, Evaluator)]) -> Result<()> {
    let mut tensors: Vec<Tensor32> = Vec::new();
    let mut spec = serde_json::Map::new();
    for (name, m, _) in models {
        let w: &NetworkWeights = &m.weights;
        tensors.push((format!("{name}.latent"), vec![m.latent.len()], &m.latent));
        for (i, d) in w.mapping.iter().enumerate() {
            let shape = [d.out_features, d.in_features];
            push_dense(
                &mut tensors,
                format!("{name}.mapping.{i}"),
                shape,
                &d.weight,
                &d.bias,
            );
        }
        let mut layers = Vec::new();
        for (k, l) in w.layers.iter().enumerate() {
            if l.concat.is_some() {
                bail!("the ONNX Runtime baseline has no concat conditioning ({name})");
            }
            let shape = [l.out_features, l.in_features];
            push_dense(
                &mut tensors,
                format!("{name}.layer.{k}"),
                shape,
                &l.weight,
                &l.bias,
            );
            tensors.push((
                format!("{name}.layer.{k}.omega"),
                vec![l.out_features],
                &l.omega,
            ));
            layers.push(json!({"activation": activation_name(l.activation), "film": l.film}));
        }
        spec.insert(
            name.to_string(),
            json!({"mapping_layers": w.mapping.len(), "layers": layers}),
        );
    }
    let order: Vec<&str> = models.iter().map(|(n, _, _)| *n).collect();
    spec.insert("order".into(), json!(order));
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, shape, _), b)| Ok((n.clone(), TensorView::new(Dtype::F32, shape.clone(), b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let metadata = HashMap::from([
        (
            "models".to_string(),
            serde_json::Value::Object(spec).to_string(),
        ),
        ("t0".to_string(), T0.to_string()),
        ("dt".to_string(), DT.to_string()),
    ]);
    safetensors::serialize_to_file(views, Some(metadata), file)
        .with_context(|| format!("cannot write {}", file.display()))
}

/// `f16` or `f32`.
fn parse_precision(s: &str) -> Result<Precision, String> {
    match s {
        "f16" => Ok(Precision::F16),
        "f32" => Ok(Precision::F32),
        _ => Err(format!("precision '{s}' is not f16 or f32")),
    }
}

/// The activation's name in the baseline script.
fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Sine => "sine",
        Activation::LeakyRelu => "leaky_relu",
        Activation::Identity => "none",
    }
}

/// Renders blocks of `block` samples along a clip, wrapping at its end.
fn evaluator_rate(ev: &mut Evaluator, block: usize, seconds: f64) -> f64 {
    let mut out = vec![0.0f32; block];
    let mut t = T0;
    clock::rate(seconds, || {
        ev.render_f64(t, DT, &mut out);
        t += block as f64 * DT;
        if t > 1.0 {
            t = T0;
        }
        block
    })
}

/// candle's forward of the same decoder on one block of coordinates (it recomputes the mapping
/// network per call: that is the cost of a candle forward per block).
fn candle_rate(m: &BenchModel, z: &Tensor, block: usize, seconds: f64) -> Result<f64> {
    let t: Vec<f32> = (0..block)
        .map(|k| -1.0 + k as f32 * 2.0 / 16_000.0)
        .collect();
    let t = Tensor::from_vec(t, (1, block), &Device::Cpu)?;
    let mut failure = None;
    let rate = clock::rate(seconds, || {
        if let Err(e) = m.decoder.forward(z, &t) {
            failure = Some(e);
        }
        block
    });
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(rate),
    }
}

fn table(r: &EvaluatorBenchReport) -> String {
    let mut s = format!(
        "single-thread FP32 peak {:.1} GFLOP/s (SGEMM {:.1}, FMA loop {:.1}); evaluator kernel {}; {} presets\n",
        r.peak_gflops, r.sgemm_gflops, r.fma_gflops, r.isa, r.precision
    );
    if let (Some(v), Some(d)) = (&r.onnxruntime, r.ort_check_max_abs) {
        s += &format!(
            "ONNX Runtime {v}, one thread (its output matches the evaluator's within {d:.1e})\n"
        );
    }
    s += &format!(
        "{:<6} {:>5} {:>11} {:>10} {:>8} {:>7} {:>12} {:>8} {:>11} {:>8}\n",
        "model",
        "block",
        "samples/s",
        "voices@48k",
        "GFLOP/s",
        "of peak",
        "candle smp/s",
        "vs candle",
        "ORT smp/s",
        "vs ORT"
    );
    let dash = || "–".to_string();
    for x in &r.results {
        s += &format!(
            "{:<6} {:>5} {:>11.0} {:>10.2} {:>8.1} {:>6.1}% {:>12.0} {:>8.1}x {:>11} {:>8}\n",
            x.model,
            x.block,
            x.samples_per_s,
            x.voices_48k,
            x.gflops,
            100.0 * x.peak_fraction,
            x.candle_samples_per_s,
            x.speedup_vs_candle,
            x.ort_samples_per_s.map_or_else(dash, |v| format!("{v:.0}")),
            x.speedup_vs_ort.map_or_else(dash, |v| format!("{v:.2}x")),
        );
    }
    s
}
