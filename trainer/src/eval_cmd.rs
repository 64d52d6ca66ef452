//! `trainer eval RUN`: full-resolution reconstructions of every item with the stored latents,
//! scored with the thesis' metrics (see `sirenade_common::dsp::metrics` for every formula
//! choice), next to the thesis' silence and white-noise reference rows.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use sirenade_common::dataset::Spread;
use sirenade_common::dsp::metrics::{lsd, mse, multi_stft_mse};
use sirenade_common::CLIP_LEN;

use crate::inference::LoadedRun;

/// Arguments of `trainer eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The run (or inversion) folder.
    pub run: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Mean and standard deviation of one metric over the items.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MeanStd {
    /// Mean over items.
    pub mean: f64,
    /// Population standard deviation over items.
    pub std: f64,
}

/// The three reported metrics.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetricRow {
    /// MSE × 10³.
    pub mse_x1e3: MeanStd,
    /// Multi-resolution STFT magnitude MSE.
    pub stft_mse: MeanStd,
    /// Log-spectral distance × 10.
    pub lsd_x10: MeanStd,
}

/// The result of `trainer eval --json`.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Items scored.
    pub items: usize,
    /// The model's reconstructions.
    pub metrics: MetricRow,
    /// Predicting silence.
    pub silence: MetricRow,
    /// Predicting N(0, 1) white noise (seeded per item).
    pub white_noise: MetricRow,
}

fn mean_std(values: &[f64]) -> MeanStd {
    let s = Spread::of(values);
    MeanStd {
        mean: s.mean,
        std: s.std,
    }
}

/// Scores predictions against targets item by item.
pub fn score(preds: &[Vec<f32>], targets: &[Vec<f32>]) -> MetricRow {
    let per = |f: &dyn Fn(&[f32], &[f32]) -> f64, scale: f64| {
        let v: Vec<f64> = preds
            .iter()
            .zip(targets)
            .map(|(p, t)| f(p, t) * scale)
            .collect();
        mean_std(&v)
    };
    MetricRow {
        mse_x1e3: per(&mse, 1e3),
        stft_mse: per(&multi_stft_mse, 1.0),
        lsd_x10: per(&lsd, 10.0),
    }
}

/// Scores reconstructions and both reference rows.
pub fn evaluate(preds: &[Vec<f32>], targets: &[Vec<f32>]) -> EvalReport {
    let silence: Vec<Vec<f32>> = targets.iter().map(|t| vec![0.0; t.len()]).collect();
    let noise: Vec<Vec<f32>> = (0..targets.len())
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(i as u64);
            (0..CLIP_LEN)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect()
        })
        .collect();
    EvalReport {
        items: targets.len(),
        metrics: score(preds, targets),
        silence: score(&silence, targets),
        white_noise: score(&noise, targets),
    }
}

fn row(name: &str, r: &MetricRow) -> String {
    format!(
        "{name:<14} {:>9.3} ± {:<8.3} {:>9.4} ± {:<8.4} {:>8.3} ± {:<8.3}\n",
        r.mse_x1e3.mean,
        r.mse_x1e3.std,
        r.stft_mse.mean,
        r.stft_mse.std,
        r.lsd_x10.mean,
        r.lsd_x10.std
    )
}

/// Runs `trainer eval` and returns what it prints.
pub fn run(args: &EvalArgs) -> Result<String> {
    let loaded = LoadedRun::open(&args.run)?;
    let clips = loaded.clips()?;
    let targets: Vec<Vec<f32>> = clips.into_iter().map(|c| c.samples).collect();
    let preds = loaded.reconstruct_all()?;
    let report = evaluate(&preds, &targets);
    if args.json {
        return Ok(serde_json::to_string_pretty(&report)? + "\n");
    }
    let mut s = format!(
        "{} items of {} (model {}), full resolution\n{:<14} {:>20} {:>20} {:>19}\n",
        report.items,
        loaded.info.data.source,
        loaded.info.settings.model,
        "",
        "MSE x1e3",
        "multi-STFT MSE",
        "LSD x10"
    );
    s += &row("model", &report.metrics);
    s += &row("silence", &report.silence);
    s += &row("white noise", &report.white_noise);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_reconstruction_scores_zero_and_references_are_ordered() {
        let targets: Vec<Vec<f32>> = (0..3)
            .map(|k| {
                (0..CLIP_LEN)
                    .map(|i| 0.3 * (i as f32 * 0.05 * (k + 1) as f32).sin())
                    .collect()
            })
            .collect();
        let r = evaluate(&targets, &targets);
        assert_eq!(r.metrics.mse_x1e3.mean, 0.0);
        assert_eq!(r.metrics.lsd_x10.mean, 0.0);
        // Silence scores the mean power (0.045 → 45 ×1e-3); white noise about 1 + power.
        assert!(
            (r.silence.mse_x1e3.mean - 45.0).abs() < 0.5,
            "{}",
            r.silence.mse_x1e3.mean
        );
        assert!(
            (r.white_noise.mse_x1e3.mean - 1045.0).abs() < 30.0,
            "{}",
            r.white_noise.mse_x1e3.mean
        );
    }
}
