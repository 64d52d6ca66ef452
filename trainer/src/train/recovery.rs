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
use super::engine::Engine;
use super::run_dir::{checkpoint_path, previous_checkpoint_path};

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

    /// Writes the engine's state as the newest checkpoint, atomically. A newest checkpoint
    /// known to be good becomes the previous one first (a hard link, or a copy where links
    /// are not possible), so that the folder always holds a good state.
    pub fn save(&mut self, engine: &Engine) -> Result<Saved> {
        let (tensors, counters) = engine.snapshot()?;
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
                .with_context(|| format!("{}: cannot copy", newest.display()))?;
        }
        std::fs::rename(&staged, &previous)
            .with_context(|| format!("{}: cannot move into place", previous.display()))
    }

    /// Loads the newest checkpoint into `engine`.
    pub fn restore(&self, engine: &mut Engine) -> Result<()> {
        let (tensors, counters) = checkpoint::load(
            &checkpoint_path(self.run),
            &self.fingerprint,
            &candle_core::Device::Cpu,
        )?;
        engine.restore(&tensors, &counters)
    }

    /// Returns `engine` to the last good state after a divergence; `first_step` says whether
    /// it came at the first step of an epoch (a loss, not a state found non-finite at a
    /// checkpoint).
    pub fn roll_back(&mut self, engine: &mut Engine, first_step: bool) -> Result<()> {
        let newest = checkpoint_path(self.run);
        if first_step && !self.newest_good {
            // The newest state's own first step failed: it is no good state to return to.
            let previous = previous_checkpoint_path(self.run);
            if !previous.is_file() {
                bail!(
                    "{}: the run's first state already gives a non-finite loss (check the data and the settings)",
                    newest.display()
                );
            }
            std::fs::rename(&previous, &newest)
                .with_context(|| format!("{}: cannot move into place", newest.display()))?;
        }
        self.newest_good = true;
        self.restore(engine)
    }
}
