//! The learning rate a run leaves open, measured on its data: short probe runs from the same
//! seeded start, one per candidate rate, scored by reconstruction error; the run takes the
//! best.
//!
//! Why measure rather than pick by the kind of data: the rate that learns depends on the
//! model, its omegas, the optimiser and the data together, and the wrong one fails silently —
//! a SIREN at too high a rate settles on the set's mean (silence) and never leaves it, at too
//! low a rate it spends the budget barely moving. Which of the two happens shows within a few
//! hundred steps (`docs/fidelity.md`, "Data-aware defaults"), so the probe runs that many per
//! candidate, a few percent of a full run.

use anyhow::Result;
use indicatif::ProgressBar;
use sirenade_common::model_config::ModelConfig;

use super::settings::TrainSettings;
use super::trainer::{EpochOutcome, Trainer};

/// The rates the probe tries, a half-decade grid around the rates that train the shipped
/// models (the thesis' AdaBelief at 1e-5, the recipes' Adam at 1e-4).
pub const CANDIDATES: [f64; 4] = [1e-5, 3e-5, 1e-4, 3e-4];

/// Optimiser steps each candidate runs: enough for a rate that stalls to fall behind one that
/// learns, on notes and on speech.
pub const PROBE_STEPS: usize = 300;

/// A candidate wins only if its score is below the best smaller rate's by more than this
/// fraction: between rates that learn alike the smaller one is the safer for a long run.
pub const MARGIN: f64 = 0.01;

/// One candidate's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The learning rate tried.
    pub lr: f64,
    /// Reconstruction MSE / the set's mean power after the probe (`None`: the loss or the
    /// state went non-finite).
    pub score: Option<f64>,
}

/// What the probe measured and chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The rate chosen.
    pub lr: f64,
    /// Epochs each candidate ran.
    pub epochs: usize,
    /// Every candidate, in [`CANDIDATES`] order.
    pub trials: Vec<Trial>,
}

impl Probe {
    /// One line for the start of a run: the choice and every candidate's score.
    pub fn describe(&self) -> String {
        let scores: Vec<String> = self
            .trials
            .iter()
            .map(|t| match t.score {
                Some(s) => format!("{:e} → {s:.3}", t.lr),
                None => format!("{:e} → non-finite", t.lr),
            })
            .collect();
        format!(
            "lr {:e} (probe, × silence after {} epoch{} each: {})",
            self.lr,
            self.epochs,
            if self.epochs == 1 { "" } else { "s" },
            scores.join(", ")
        )
    }
}

/// Epochs a candidate runs: [`PROBE_STEPS`] steps of `batch` items out of `items`, but at most
/// a twentieth of the run's `epochs` (at least one), so a short run stays short.
pub fn probe_epochs(items: usize, batch: usize, epochs: usize) -> usize {
    let steps_per_epoch = items.div_ceil(batch.max(1)).max(1);
    PROBE_STEPS
        .div_ceil(steps_per_epoch)
        .min(epochs / 20)
        .max(1)
}

/// The rate with the lowest score, a larger rate winning only by more than [`MARGIN`]; `None`
/// when no candidate has a score.
pub fn choose(trials: &[Trial]) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None;
    for t in trials {
        let Some(score) = t.score else { continue };
        match best {
            Some((_, b)) if score >= b * (1.0 - MARGIN) => {}
            _ => best = Some((t.lr, score)),
        }
    }
    best.map(|(lr, _)| lr)
}

/// Runs the probe: each candidate trains a fresh trainer (the run's own seed, so the same
/// start) for [`probe_epochs`] epochs and is scored by reconstruction MSE / `mean_power`.
/// `bar` advances by one per probe epoch. When every candidate fails, the run keeps
/// `settings.lr`.
pub fn probe(
    settings: &TrainSettings,
    model: &ModelConfig,
    clips: &[Vec<f32>],
    mean_power: f64,
    bar: &ProgressBar,
) -> Result<Probe> {
    let epochs = probe_epochs(clips.len(), settings.batch, settings.epochs);
    let mut trials = Vec::with_capacity(CANDIDATES.len());
    for lr in CANDIDATES {
        let trial_settings = TrainSettings {
            lr,
            ..settings.clone()
        };
        let mut trainer = Trainer::new(&trial_settings, model, clips)?;
        let mut finite = true;
        while finite && trainer.epoch() < epochs {
            bar.inc(1);
            finite = !matches!(trainer.run_epoch()?, EpochOutcome::NonFinite { .. });
        }
        let score = if finite {
            Some(trainer.reconstruction_mse()? / mean_power).filter(|s| s.is_finite())
        } else {
            None
        };
        trials.push(Trial { lr, score });
    }
    Ok(Probe {
        lr: choose(&trials).unwrap_or(settings.lr),
        epochs,
        trials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trials(scores: &[Option<f64>]) -> Vec<Trial> {
        CANDIDATES
            .iter()
            .zip(scores)
            .map(|(&lr, &score)| Trial { lr, score })
            .collect()
    }

    #[test]
    fn the_lowest_score_wins_and_a_larger_rate_needs_the_margin() {
        assert_eq!(
            choose(&trials(&[Some(0.9), Some(0.8), Some(0.5), Some(1.0)])),
            Some(1e-4)
        );
        // 3e-4 is better by less than 1%: the smaller rate stays.
        assert_eq!(
            choose(&trials(&[Some(0.9), Some(0.8), Some(0.5), Some(0.498)])),
            Some(1e-4)
        );
        assert_eq!(
            choose(&trials(&[Some(0.9), Some(0.8), Some(0.5), Some(0.4)])),
            Some(3e-4)
        );
        // Non-finite candidates are skipped; none scored leaves the choice to the caller.
        assert_eq!(
            choose(&trials(&[None, Some(0.8), None, Some(0.95)])),
            Some(3e-5)
        );
        assert_eq!(choose(&trials(&[None, None, None, None])), None);
    }

    #[test]
    fn probe_length_follows_steps_and_stays_a_small_part_of_the_run() {
        // 80 items in batches of 8: 10 steps per epoch, 30 epochs reach 300 steps.
        assert_eq!(probe_epochs(80, 8, 2400), 30);
        // 120 items: 15 steps per epoch.
        assert_eq!(probe_epochs(120, 8, 2000), 20);
        // A 100-epoch run probes 5 epochs per candidate; a tiny one probes one.
        assert_eq!(probe_epochs(80, 8, 100), 5);
        assert_eq!(probe_epochs(4, 8, 3), 1);
    }

    #[test]
    fn the_description_lists_every_candidate() {
        let p = Probe {
            lr: 1e-4,
            epochs: 30,
            trials: trials(&[Some(0.91), Some(0.8), Some(0.5), None]),
        };
        assert_eq!(
            p.describe(),
            "lr 1e-4 (probe, × silence after 30 epochs each: 1e-5 → 0.910, 3e-5 → 0.800, \
             1e-4 → 0.500, 3e-4 → non-finite)"
        );
    }
}
