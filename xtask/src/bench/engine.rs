//! `cargo xtask bench engine`: the real-time evaluator's single-thread throughput per model and
//! block size, against this core's measured FP32 peak and candle's CPU forward.

use anyhow::Result;
use candle_core::{Device, Tensor};
use clap::Args;
use serde::Serialize;
use sirenade_common::evaluator::Evaluator;

use super::clock;
use super::models::{BenchModel, MODELS};
use super::peak;

/// Block sizes measured.
const BLOCKS: [usize; 4] = [1, 16, 64, 256];

/// The host rate voices are counted at.
const HOST_RATE: f64 = 48_000.0;

/// Arguments of `cargo xtask bench engine`.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of measurement per figure.
    #[arg(long, default_value_t = 0.5)]
    pub seconds: f64,
}

/// One model at one block size.
#[derive(Debug, Clone, Serialize)]
pub struct EngineResult {
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
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct EngineReport {
    /// The single-thread FP32 peak: the higher of the two measurements below.
    pub peak_gflops: f64,
    /// Single-thread SGEMM through `gemm`.
    pub sgemm_gflops: f64,
    /// The FMA-throughput loop.
    pub fma_gflops: f64,
    /// The evaluator's kernel.
    pub isa: String,
    /// Per model and block.
    pub results: Vec<EngineResult>,
}

/// Runs the benchmark and returns what it prints.
pub fn bench_engine(args: &EngineArgs) -> Result<String> {
    // candle's CPU kernels read this for their thread count: one thread, like the evaluator.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let peak = peak::measure(args.seconds);
    let mut results = Vec::new();
    let mut isa = String::new();
    for (seed, (name, model)) in MODELS.into_iter().enumerate() {
        let m = BenchModel::new(model, seed as u64)?;
        let mut ev = Evaluator::new(m.weights.clone())?;
        isa = ev.isa().to_string();
        ev.prepare(&m.latent)?;
        let z = Tensor::from_vec(m.latent.clone(), (1, m.latent.len()), &Device::Cpu)?;
        for block in BLOCKS {
            let samples_per_s = evaluator_rate(&mut ev, block, args.seconds);
            let candle_samples_per_s = candle_rate(&m, &z, block, args.seconds)?;
            let gflops = samples_per_s * m.flops_per_sample() / 1e9;
            results.push(EngineResult {
                model: name,
                block,
                samples_per_s,
                voices_48k: samples_per_s / HOST_RATE,
                gflops,
                peak_fraction: gflops / peak.best(),
                candle_samples_per_s,
                speedup_vs_candle: samples_per_s / candle_samples_per_s,
            });
        }
    }
    let report = EngineReport {
        peak_gflops: peak.best(),
        sgemm_gflops: peak.sgemm,
        fma_gflops: peak.fma,
        isa,
        results,
    };
    if args.json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    Ok(table(&report))
}

/// Renders blocks of `block` samples along a clip, wrapping at its end.
fn evaluator_rate(ev: &mut Evaluator, block: usize, seconds: f64) -> f64 {
    let mut out = vec![0.0f32; block];
    let dt = 2.0 / 16_000.0;
    let mut t = -1.0f32;
    clock::rate(seconds, || {
        ev.render(t, dt, &mut out);
        t += block as f32 * dt;
        if t > 1.0 {
            t = -1.0;
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

fn table(r: &EngineReport) -> String {
    let mut s = format!(
        "single-thread FP32 peak {:.1} GFLOP/s (SGEMM {:.1}, FMA loop {:.1}); evaluator kernel {}\n",
        r.peak_gflops, r.sgemm_gflops, r.fma_gflops, r.isa
    );
    s += &format!(
        "{:<6} {:>5} {:>13} {:>10} {:>8} {:>7} {:>13} {:>9}\n",
        "model",
        "block",
        "samples/s",
        "voices@48k",
        "GFLOP/s",
        "of peak",
        "candle smp/s",
        "speed-up"
    );
    for x in &r.results {
        s += &format!(
            "{:<6} {:>5} {:>13.0} {:>10.2} {:>8.1} {:>6.1}% {:>13.0} {:>8.1}x\n",
            x.model,
            x.block,
            x.samples_per_s,
            x.voices_48k,
            x.gflops,
            100.0 * x.peak_fraction,
            x.candle_samples_per_s,
            x.speedup_vs_candle
        );
    }
    s
}
