//! The run's checkpoints as NaN recovery sees them: the newest one, the one before it, and
//! which of them a rollback returns to.
//!
//! A checkpoint is only ever written for a finite state ([`checkpoint::save`] refuses any
//! other), but a finite state can still be one that diverges at once: a huge step can leave
//! weights near 1e30, whose next loss is infinite. So the newest checkpoint counts as good
//! only once a step taken from its state gave a finite loss. Until then the one before it is
//! kept beside it, and a rollback forced by the very first step from the newest state returns
//! to that one instead (and puts it back in the newest one's place, so that the run folder's
//! `checkpoint.safetensors` is always the last good state).

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::checkpoint::{self, NonFiniteTensor};
use super::run_dir::{checkpoint_path, previous_checkpoint_path};
use super::trainer::Trainer;

/// What [`Checkpoints::save`] did.
pub enum Saved {
    /// The state is the newest checkpoint now.
    Written,
    /// Nothing was written: this tensor of the state holds a NaN or an infinity.
    NonFinite(String),
}

/// The checkpoints of one run folder.
pub struct Checkpoints<'a> {
    run: &'a Path,
    fingerprint: String,
    /// Whether a step taken from the newest checkpoint's state has given a finite loss.
    newest_good: bool,
}

impl<'a> Checkpoints<'a> {
    /// The checkpoints of `run`, whose states carry `fingerprint`. The newest one is not known
    /// to be good yet.
    pub fn new(run: &'a Path, fingerprint: String) -> Self {
        Self {
            run,
            fingerprint,
            newest_good: false,
        }
    }

    /// Forgets the previous checkpoint of an earlier run in the folder (a fresh run starts).
    pub fn start_fresh(&self) -> Result<()> {
        let previous = previous_checkpoint_path(self.run);
        if previous.exists() {
            std::fs::remove_file(&previous)
                .with_context(|| format!("{}: cannot remove", previous.display()))?;
        }
        Ok(())
    }

    /// Records that training from the newest checkpoint's state took finite steps (an epoch
    /// completed since it was written or loaded).
    pub fn confirm(&mut self) {
        self.newest_good = true;
    }

    /// Writes the trainer's state as the newest checkpoint, atomically. A newest checkpoint
    /// known to be good becomes the previous one first (a hard link, or a copy where links
    /// are not possible), so that the folder always holds a good state.
    pub fn save(&mut self, trainer: &Trainer) -> Result<Saved> {
        let (tensors, counters) = trainer.snapshot()?;
        if self.newest_good {
            self.keep_newest_as_previous()?;
        }
        let newest = checkpoint_path(self.run);
        match checkpoint::save(&newest, &tensors, &counters, &self.fingerprint) {
            Ok(()) => {
                self.newest_good = false;
                Ok(Saved::Written)
            }
            Err(e) => match e.downcast::<NonFiniteTensor>() {
                Ok(NonFiniteTensor(name)) => Ok(Saved::NonFinite(name)),
                Err(e) => Err(e),
            },
        }
    }

    fn keep_newest_as_previous(&self) -> Result<()> {
        let newest = checkpoint_path(self.run);
        let previous = previous_checkpoint_path(self.run);
        let staged = self.run.join(".checkpoint-previous.tmp");
        std::fs::remove_file(&staged).ok();
        if std::fs::hard_link(&newest, &staged).is_err() {
            std::fs::copy(&newest, &staged)
                .and_then(|_| std::fs::File::open(&staged)?.sync_all())
                .with_context(|| format!("{}: cannot copy", newest.display()))?;
        }
        std::fs::rename(&staged, &previous)
            .with_context(|| format!("{}: cannot move into place", previous.display()))
    }

    /// Loads the newest checkpoint into `trainer`.
    pub fn restore(&self, trainer: &mut Trainer) -> Result<()> {
        self.restore_from(&checkpoint_path(self.run), trainer)
    }

    fn restore_from(&self, path: &Path, trainer: &mut Trainer) -> Result<()> {
        let (tensors, counters) =
            checkpoint::load(path, &self.fingerprint, &candle_core::Device::Cpu)?;
        trainer.restore(&tensors, &counters)
    }

    /// Returns `trainer` to the last good state after a divergence; `first_step` says whether
    /// it came at the first step of an epoch (a loss, not a state found non-finite at a
    /// checkpoint).
    pub fn roll_back(&mut self, trainer: &mut Trainer, first_step: bool) -> Result<()> {
        let newest = checkpoint_path(self.run);
        if first_step && !self.newest_good {
            // The newest state's own first step failed: it is no good state to return to.
            let previous = previous_checkpoint_path(self.run);
            if !previous.is_file() {
                bail!(
                    "{}: its state (the start of epoch {}) gives a non-finite loss at its first step, and no earlier checkpoint is kept (check the data and the settings)",
                    newest.display(),
                    trainer.epoch()
                );
            }
            // Loaded before it replaces the newest one: a bad file leaves the folder as it was.
            self.restore_from(&previous, trainer)?;
            std::fs::rename(&previous, &newest)
                .with_context(|| format!("{}: cannot move into place", newest.display()))?;
        } else {
            self.restore(trainer)?;
        }
        self.newest_good = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sirenade_common::model_config::ModelConfig;

    use super::{Checkpoints, Saved};
    use crate::train::run_dir::{checkpoint_path, previous_checkpoint_path};
    use crate::train::settings::TrainSettings;
    use crate::train::trainer::{EpochOutcome, Trainer};

    fn trainer() -> Trainer {
        trainer_with(TrainSettings::default())
    }

    /// A small `demo` trainer on two sine clips; `settings` gives everything but the model,
    /// batch, points and epochs.
    fn trainer_with(settings: TrainSettings) -> Trainer {
        let settings = TrainSettings {
            model: "demo".into(),
            batch: 2,
            points: 250,
            epochs: 4,
            ..settings
        };
        let clips: Vec<Vec<f32>> = (0..2)
            .map(|k| {
                (0..sirenade_common::CLIP_LEN)
                    .map(|j| 0.3 * (0.01 * (j * (k + 1)) as f32).sin())
                    .collect()
            })
            .collect();
        Trainer::new(&settings, &ModelConfig::named("demo").unwrap(), &clips).unwrap()
    }

    fn run_epoch(trainer: &mut Trainer) {
        assert!(matches!(
            trainer.run_epoch().unwrap(),
            EpochOutcome::Done(_)
        ));
    }

    /// A cosine-scheduled run stopped after 2 of its 4 epochs and restored from its
    /// checkpoint into a fresh trainer continues with exactly the whole run's losses.
    #[test]
    fn a_scheduled_run_resumes_exactly() {
        let scheduled = || {
            trainer_with(TrainSettings {
                optimizer: crate::optim::OptimizerKind::Adam,
                lr: 1e-4,
                lr_schedule: crate::train::settings::LrSchedule::Cosine,
                ..TrainSettings::default()
            })
        };
        let loss = |t: &mut Trainer| match t.run_epoch().unwrap() {
            EpochOutcome::Done(r) => r.loss,
            EpochOutcome::NonFinite { .. } => panic!("a non-finite loss"),
        };
        let mut whole = scheduled();
        let all: Vec<f64> = (0..4).map(|_| loss(&mut whole)).collect();
        let dir = tempfile::tempdir().unwrap();
        let mut first = scheduled();
        let mut split: Vec<f64> = (0..2).map(|_| loss(&mut first)).collect();
        let mut c = Checkpoints::new(dir.path(), "f".into());
        assert!(matches!(c.save(&first).unwrap(), Saved::Written));
        let mut second = scheduled();
        c.restore(&mut second).unwrap();
        assert_eq!(second.epoch(), 2);
        split.extend((0..2).map(|_| loss(&mut second)));
        assert_eq!(split, all);
    }

    #[test]
    fn a_first_step_failure_returns_to_the_previous_checkpoint_and_only_a_readable_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = trainer();
        let mut c = Checkpoints::new(dir.path(), "f".into());
        assert!(matches!(c.save(&e).unwrap(), Saved::Written));
        run_epoch(&mut e);
        c.confirm();
        // The epoch-0 state is known good, so it is kept as the previous checkpoint.
        assert!(matches!(c.save(&e).unwrap(), Saved::Written));
        assert!(previous_checkpoint_path(dir.path()).is_file());
        run_epoch(&mut e);
        assert_eq!(e.epoch(), 2);
        // A later step failing: back to the newest (epoch 1); the previous one stays.
        c.roll_back(&mut e, false).unwrap();
        assert_eq!(e.epoch(), 1);
        assert!(previous_checkpoint_path(dir.path()).is_file());

        // The newest state's own first step failing: back to the one before, which takes
        // the newest one's place.
        let mut c = Checkpoints::new(dir.path(), "f".into());
        c.roll_back(&mut e, true).unwrap();
        assert_eq!(e.epoch(), 0);
        assert!(!previous_checkpoint_path(dir.path()).exists());
        let mut fresh = trainer();
        Checkpoints::new(dir.path(), "f".into())
            .restore(&mut fresh)
            .unwrap();
        assert_eq!(fresh.epoch(), 0);

        // An unreadable previous checkpoint: the error names it and the newest one stays.
        run_epoch(&mut e);
        c.confirm();
        assert!(matches!(c.save(&e).unwrap(), Saved::Written));
        std::fs::write(previous_checkpoint_path(dir.path()), b"broken").unwrap();
        let newest = std::fs::read(checkpoint_path(dir.path())).unwrap();
        let err = c.roll_back(&mut e, true).unwrap_err().to_string();
        assert!(err.contains("checkpoint-previous.safetensors"), "{err}");
        assert_eq!(std::fs::read(checkpoint_path(dir.path())).unwrap(), newest);

        // No previous checkpoint at all: a clear error.
        std::fs::remove_file(previous_checkpoint_path(dir.path())).unwrap();
        let err = c.roll_back(&mut e, true).unwrap_err().to_string();
        assert!(err.contains("no earlier checkpoint"), "{err}");
    }

    #[test]
    fn a_non_finite_state_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = trainer();
        let mut c = Checkpoints::new(dir.path(), "f".into());
        assert!(matches!(c.save(&e).unwrap(), Saved::Written));
        let before = std::fs::read(checkpoint_path(dir.path())).unwrap();
        e.inject_nan().unwrap();
        match c.save(&e).unwrap() {
            Saved::NonFinite(tensor) => assert_eq!(tensor, "latents"),
            Saved::Written => panic!("a NaN state was written"),
        }
        assert_eq!(std::fs::read(checkpoint_path(dir.path())).unwrap(), before);
    }
}
