//! `trainer eval RUN`: full-resolution reconstructions of every item with the stored latents,
//! scored with the thesis' metrics and four fidelity measures (SNR, spectral convergence, and
//! for pitched items the harmonic error and reach; see `sirenade_common::dsp::metrics` and
//! `sirenade_common::dsp::harmonics` for every formula choice, and docs/evaluation.md), next to
//! the thesis' silence and white-noise reference rows.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;
use sirenade_common::dataset::Spread;
use sirenade_common::dsp::harmonics::{harmonic_error, midi_to_hz, HarmonicScore};
use sirenade_common::dsp::metrics::{lsd, mse, multi_stft_mse, snr_db, spectral_convergence};
use sirenade_common::{CLIP_LEN, SAMPLE_RATE};

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

/// Mean, standard deviation and median of one metric over the items.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MeanStd {
    /// Mean over items.
    pub mean: f64,
    /// Population standard deviation over items.
    pub std: f64,
    /// Median over items (the mean of the two middle values for an even count).
    pub median: f64,
}

/// The reported metrics.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MetricRow {
    /// MSE × 10³.
    pub mse_x1e3: MeanStd,
    /// Multi-resolution STFT magnitude MSE.
    pub stft_mse: MeanStd,
    /// Log-spectral distance × 10.
    pub lsd_x10: MeanStd,
    /// Signal-to-noise ratio (dB), clamped to ±200 dB.
    pub snr_db: MeanStd,
    /// Spectral convergence, averaged over the multi-resolution STFT windows.
    pub spectral_convergence: MeanStd,
    /// Mean absolute harmonic level error (dB) over the items with a pitch label and a
    /// harmonic below Nyquist; `None` (JSON `null`) when there are none.
    pub harmonic_error_db: Option<MeanStd>,
    /// Harmonic reach (Hz) over the same items as `harmonic_error_db`.
    pub harmonic_reach_hz: Option<MeanStd>,
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

/// The median of `values` (the mean of the two middle ones for an even count; 0 when empty).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The summary of a list of values (all zeros for an empty list).
fn mean_std(values: &[f64]) -> MeanStd {
    let s = Spread::of(values);
    MeanStd {
        mean: s.mean,
        std: s.std,
        median: median(values),
    }
}

/// Scores predictions against targets item by item; `pitches[i]` is item i's MIDI pitch
/// label, if any (the harmonic measures summarise only the items that have one).
pub fn score(preds: &[Vec<f32>], targets: &[Vec<f32>], pitches: &[Option<u8>]) -> MetricRow {
    assert_eq!(preds.len(), targets.len(), "one prediction per target");
    assert_eq!(
        pitches.len(),
        targets.len(),
        "one pitch label (or none) per target"
    );
    let per = |f: &dyn Fn(&[f32], &[f32]) -> f64, scale: f64| {
        let v: Vec<f64> = preds
            .iter()
            .zip(targets)
            .map(|(p, t)| f(p, t) * scale)
            .collect();
        mean_std(&v)
    };
    let harmonic: Vec<HarmonicScore> = preds
        .iter()
        .zip(targets)
        .zip(pitches)
        .filter_map(|((p, t), pitch)| harmonic_error(p, t, midi_to_hz((*pitch)?), SAMPLE_RATE))
        .collect();
    let over_pitched = |f: fn(&HarmonicScore) -> f64| {
        (!harmonic.is_empty()).then(|| mean_std(&harmonic.iter().map(f).collect::<Vec<_>>()))
    };
    MetricRow {
        mse_x1e3: per(&mse, 1e3),
        stft_mse: per(&multi_stft_mse, 1.0),
        lsd_x10: per(&lsd, 10.0),
        snr_db: per(&snr_db, 1.0),
        spectral_convergence: per(&spectral_convergence, 1.0),
        harmonic_error_db: over_pitched(|h| h.error_db),
        harmonic_reach_hz: over_pitched(|h| h.reach_hz),
    }
}

/// Scores reconstructions and both reference rows (`pitches` as in [`score`]).
pub fn evaluate(preds: &[Vec<f32>], targets: &[Vec<f32>], pitches: &[Option<u8>]) -> EvalReport {
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
        metrics: score(preds, targets, pitches),
        silence: score(&silence, targets, pitches),
        white_noise: score(&noise, targets, pitches),
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

/// A fidelity cell: `median (mean ± std)` with `prec` decimals, or `n/a`.
fn cell(m: Option<MeanStd>, prec: usize) -> String {
    m.map_or("n/a".to_string(), |m| {
        format!("{:.prec$} ({:.prec$} ± {:.prec$})", m.median, m.mean, m.std)
    })
}

fn fidelity_row(name: &str, r: &MetricRow) -> String {
    format!(
        "{name:<14} {:<24} {:<24} {:<24} {}\n",
        cell(Some(r.snr_db), 2),
        cell(Some(r.spectral_convergence), 3),
        cell(r.harmonic_error_db, 2),
        cell(r.harmonic_reach_hz, 0)
    )
}

/// Runs `trainer eval` and returns what it prints.
pub fn run(args: &EvalArgs) -> Result<String> {
    let loaded = LoadedRun::open(&args.run)?;
    let clips = loaded.clips()?;
    let pitches: Vec<Option<u8>> = clips.iter().map(|c| c.label.pitch).collect();
    let targets: Vec<Vec<f32>> = clips.into_iter().map(|c| c.samples).collect();
    let preds = loaded.reconstruct_all()?;
    let report = evaluate(&preds, &targets, &pitches);
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
    s += &format!(
        "\nmedian (mean ± std) over items\n{:<14} {:<24} {:<24} {:<24} {}\n",
        "", "SNR dB", "spectral conv.", "harmonic err. dB", "harmonic reach Hz"
    );
    s += &fidelity_row("model", &report.metrics);
    s += &fidelity_row("silence", &report.silence);
    s += &fidelity_row("white noise", &report.white_noise);
    if report.metrics.harmonic_error_db.is_none() {
        s += "(harmonic measures: no item has a pitch label)\n";
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sines() -> Vec<Vec<f32>> {
        (0..3)
            .map(|k| {
                (0..CLIP_LEN)
                    .map(|i| 0.3 * (i as f32 * 0.05 * (k + 1) as f32).sin())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn perfect_reconstruction_scores_zero_and_references_are_ordered() {
        let targets = sines();
        let r = evaluate(&targets, &targets, &[None; 3]);
        assert_eq!(r.metrics.mse_x1e3.mean, 0.0);
        assert_eq!(r.metrics.lsd_x10.mean, 0.0);
        assert_eq!(r.metrics.snr_db.median, 200.0);
        assert_eq!(r.metrics.spectral_convergence.median, 0.0);
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
        // Silence: SNR 0 dB and spectral convergence 1 exactly; noise has a negative SNR,
        // 10·log10(0.045 / 1.045) ≈ −13.7 dB.
        assert!(r.silence.snr_db.mean.abs() < 1e-9);
        assert!((r.silence.spectral_convergence.mean - 1.0).abs() < 1e-9);
        assert!(
            (r.white_noise.snr_db.median + 13.66).abs() < 0.2,
            "{}",
            r.white_noise.snr_db.median
        );
        // No pitch labels: no harmonic measures, `null` in the JSON.
        assert!(r.metrics.harmonic_error_db.is_none() && r.silence.harmonic_reach_hz.is_none());
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["metrics"]["harmonic_error_db"].is_null());
        assert!(json["metrics"]["snr_db"]["median"].is_number());
    }

    #[test]
    fn harmonic_measures_summarise_only_the_pitched_items() {
        // Item 0 is A4 (440 Hz, MIDI 69) and copied exactly; item 1 is its copy at half the
        // amplitude, 6.02 dB down at every harmonic; item 2 has no pitch label.
        let a4: Vec<f32> = (0..CLIP_LEN)
            .map(|i| (0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 16e3).sin()) as f32)
            .collect();
        let half: Vec<f32> = a4.iter().map(|v| 0.5 * v).collect();
        let targets = vec![a4.clone(), a4.clone(), sines()[0].clone()];
        let preds = vec![a4, half, vec![0.0; CLIP_LEN]];
        let r = score(&preds, &targets, &[Some(69), Some(69), None]);
        let err = r.harmonic_error_db.unwrap();
        // Tolerance 1e-6 dB: the levels of a copy are equal, and halving is exact in f32.
        let six = 20.0 * 2f64.log10();
        assert!((err.mean - six / 2.0).abs() < 1e-6, "{err:?}");
        assert!((err.median - six / 2.0).abs() < 1e-6, "{err:?}");
        let reach = r.harmonic_reach_hz.unwrap();
        assert_eq!((reach.mean, reach.median), (220.0, 220.0));
        // The unpitched item still counts in the others: SNR 200, 6.02 and 0 dB.
        assert!((r.snr_db.median - six).abs() < 1e-9, "{:?}", r.snr_db);
        assert!((r.snr_db.mean - (200.0 + six) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
