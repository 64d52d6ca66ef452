//! Trials as training runs: each trial is a [`Trainer`] built from the base settings with the
//! trial's omegas and learning rate, trained epoch by epoch and scored by its reconstruction
//! error. A trial that will run in a later rung leaves its whole training state in
//! `DIR/trials/trial-ID.safetensors` (a checkpoint), from which the next rung continues.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candle_core::Device;
use indicatif::ProgressBar;

use super::search::{Evaluation, TrialRunner};
use super::space::TrialConfig;
use crate::fit_cmd::resolve_model;
use crate::train::checkpoint::{self, NonFiniteTensor};
use crate::train::run_dir::{DataInfo, RunInfo, RUN_VERSION};
use crate::train::settings::TrainSettings;
use crate::train::trainer::{EpochOutcome, Trainer};

/// Trains trials on a data set.
pub struct TrainingRunner {
    /// The trials' settings but for the searched values: the base settings with `epochs` set
    /// to the largest budget (the schedules of a trial are those of an R-epoch run).
    settings: TrainSettings,
    data: DataInfo,
    clips: Vec<Vec<f32>>,
    folder: PathBuf,
    bar: ProgressBar,
}

impl TrainingRunner {
    /// A runner over `clips` (described by `data`), with trial settings `settings` (their
    /// omegas and lr replaced per trial), keeping states in `folder`; every epoch advances
    /// `bar` by one.
    pub fn new(
        settings: TrainSettings,
        data: DataInfo,
        clips: Vec<Vec<f32>>,
        folder: PathBuf,
        bar: ProgressBar,
    ) -> Result<Self> {
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("{}: cannot create the folder", folder.display()))?;
        Ok(Self {
            settings,
            data,
            clips,
            folder,
            bar,
        })
    }

    /// Where trial `trial` keeps its state between rungs.
    fn state_path(&self, trial: usize) -> PathBuf {
        self.folder.join(format!("trial-{trial}.safetensors"))
    }

    /// The settings of a trial.
    pub fn trial_settings(&self, config: &TrialConfig) -> TrainSettings {
        TrainSettings {
            omega_first: Some(config.omega_first),
            omega_hidden: Some(config.omega_hidden),
            lr: config.lr,
            ..self.settings.clone()
        }
    }
}

impl TrialRunner for TrainingRunner {
    /// Restores the trial's kept state when it is the one scored after `from` epochs (else
    /// trains from scratch), trains to `to` epochs and scores reconstruction MSE / mean power.
    /// A non-finite loss, score or state fails the trial (`None`) instead of the search.
    fn evaluate(
        &mut self,
        trial: usize,
        config: &TrialConfig,
        from: usize,
        to: usize,
        keep: bool,
    ) -> Result<Evaluation> {
        let settings = self.trial_settings(config);
        let model = resolve_model(&settings)?;
        let fingerprint = RunInfo {
            version: RUN_VERSION,
            settings: settings.clone(),
            model: model.clone(),
            data: self.data.clone(),
            inversion: None,
        }
        .fingerprint();
        let mut trainer = Trainer::new(&settings, &model, &self.clips)?;
        let path = self.state_path(trial);
        if from > 0 && path.is_file() {
            if let Ok((tensors, counters)) = checkpoint::load(&path, &fingerprint, &Device::Cpu) {
                if counters.epoch == from {
                    trainer.restore(&tensors, &counters)?;
                }
            }
        }
        let mut epochs_run = 0;
        while trainer.epoch() < to {
            epochs_run += 1;
            self.bar.inc(1);
            if let EpochOutcome::NonFinite { .. } = trainer.run_epoch()? {
                return Ok(Evaluation {
                    score: None,
                    epochs_run,
                });
            }
        }
        let mse = trainer.reconstruction_mse()?;
        let mut score = Some(mse / self.data.mean_power).filter(|s| s.is_finite());
        if keep && score.is_some() {
            let (tensors, counters) = trainer.snapshot()?;
            if let Err(e) = checkpoint::save(&path, &tensors, &counters, &fingerprint) {
                if e.downcast_ref::<NonFiniteTensor>().is_none() {
                    return Err(e);
                }
                score = None;
            }
        }
        Ok(Evaluation { score, epochs_run })
    }

    fn release(&mut self, trial: usize) -> Result<()> {
        let path = self.state_path(trial);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("{}: cannot remove", path.display()))
            }
            _ => Ok(()),
        }
    }
}
