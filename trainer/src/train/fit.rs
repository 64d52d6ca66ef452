//! The training loop around [`Trainer`]: progress bar, one JSON line per epoch in
//! `RUN/log.jsonl`, checkpoints every K epochs and on Ctrl-C, exact resume, and recovery from
//! a NaN or infinite loss or state (roll back to the last good checkpoint, halve the learning
//! rates, stop after 3 retries in a row).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::log::{self, EpochLine, EventKind, EventLine, LogLine};
use super::recovery::{Checkpoints, Saved};
use super::run_dir::{checkpoint_path, ensure_writable, log_path, RunInfo};
use super::trainer::{EpochOutcome, EpochReport, Trainer};

/// Rollbacks in a row (before the run gets past the epoch that failed) allowed before it gives
/// up.
pub const MAX_RETRIES: usize = 3;

/// Set by the Ctrl-C handler; the loop checkpoints and stops after the current epoch.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How a fit ended.
#[derive(Debug, Clone)]
pub struct FitSummary {
    /// Epochs completed in the run (including the epochs trained before a resume).
    pub epochs: usize,
    /// Mean loss of the last epoch this call ran (`None` if none ran).
    pub final_loss: Option<f64>,
    /// Rollbacks this call performed.
    pub rollbacks: usize,
    /// Whether Ctrl-C stopped the run early.
    pub interrupted: bool,
}

/// Options of [`fit`] that are not training settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct FitOptions {
    /// Continue the run in the folder from its checkpoint.
    pub resume: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Fault injection for testing the recovery: a NaN put into a latent when this epoch
    /// starts, once ([`Trainer::inject_nan`]).
    pub inject_nan_at: Option<usize>,
}

/// Prepares the run folder: refuses to overwrite a run unless resuming, and checks that a
/// resumed run has the same model, data and trajectory settings.
pub fn prepare_run_dir(run: &Path, info: &RunInfo, resume: bool) -> Result<()> {
    if resume {
        let old = RunInfo::read(run)?;
        if old.fingerprint() != info.fingerprint() {
            let what = if old.model != info.model {
                "a different model configuration"
            } else if old.data.items != info.data.items {
                "different data"
            } else if old.data.digest != info.data.digest {
                "different audio for the same items (the data set's files changed)"
            } else {
                "different training settings"
            };
            bail!(
                "{}: cannot resume: the run was trained with {what} (model {}, {} items)",
                run.display(),
                old.settings.model,
                old.data.items.len()
            );
        }
        if !checkpoint_path(run).is_file() {
            bail!(
                "{}: no checkpoint to resume from",
                checkpoint_path(run).display()
            );
        }
    } else {
        if checkpoint_path(run).exists() {
            bail!(
                "{}: already holds a training run (use --resume to continue it, or another --out)",
                run.display()
            );
        }
        ensure_writable(run)?;
    }
    Ok(())
}

/// Prints a notice above the progress bar, or on stderr when no bar is drawn (indicatif
/// prints nothing through a hidden bar).
fn notify(bar: &ProgressBar, message: String) {
    if bar.is_hidden() {
        eprintln!("{message}");
    } else {
        bar.println(message);
    }
}

/// Why training has to go back to the last good state.
struct Divergence {
    /// The epoch that failed.
    epoch: usize,
    /// The step whose loss was not finite; `None` when the loss stayed finite but the state
    /// at the end of the epoch was not (found when checkpointing it).
    step: Option<usize>,
    /// What was not finite: `loss`, or `tensor NAME`.
    what: String,
}

/// The bar that counts a training job's epochs (`trainer fit`, `trainer tune`), drawn on stderr
/// or hidden.
pub fn epoch_bar(total: usize, draw: bool) -> ProgressBar {
    progress_bar("epoch", total, draw)
}

/// A bar counting `total` units named by `label` ("epoch 12/600 [===>  ] …"), drawn on stderr
/// when `draw` (hidden otherwise, as `--quiet` asks): the one style every long command uses.
pub fn progress_bar(label: &str, total: usize, draw: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(total as u64),
        if draw {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    let template = format!("{label} {{pos}}/{{len}} [{{bar:30}}] {{msg}} (ETA {{eta}})");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("the template's keys are indicatif's")
            .progress_chars("=> "),
    );
    bar
}

/// Trains `trainer` in the run folder `run` (prepared with [`prepare_run_dir`]).
pub fn fit(
    trainer: &mut Trainer,
    run: &Path,
    info: &RunInfo,
    opts: FitOptions,
) -> Result<FitSummary> {
    let checkpoints = open_checkpoints(trainer, run, info, opts.resume)?;
    info.write(run)?;
    // A second registration (tests run several fits in one process) fails harmlessly: the
    // first handler sets the same flag.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    INTERRUPTED.store(false, Ordering::SeqCst);

    let mut fit_loop = FitLoop::new(trainer, run, checkpoints, opts.progress);
    let mut nan_to_inject = opts.inject_nan_at;
    while fit_loop.trainer.epoch() < fit_loop.trainer.settings().epochs {
        if nan_to_inject == Some(fit_loop.trainer.epoch()) {
            fit_loop.trainer.inject_nan()?;
            nan_to_inject = None;
        }
        let started = Instant::now();
        let divergence = match fit_loop.trainer.run_epoch()? {
            EpochOutcome::Done(report) => match fit_loop.finish_epoch(&report, started)? {
                EpochEnd::Continue => None,
                EpochEnd::Interrupted => break,
                EpochEnd::NonFiniteState(d) => Some(d),
            },
            EpochOutcome::NonFinite { epoch, step } => Some(Divergence {
                epoch,
                step: Some(step),
                what: "loss".into(),
            }),
        };
        let Some(d) = divergence else { continue };
        fit_loop.roll_back(d)?;
        if INTERRUPTED.load(Ordering::SeqCst) {
            // Ctrl-C came during the failed epoch: stop at the good state now.
            fit_loop.summary.interrupted = true;
            break;
        }
    }
    fit_loop.bar.finish_and_clear();
    Ok(fit_loop.summary)
}

/// The run's checkpoints, with `trainer` restored from them on a resume; a fresh run starts
/// its log and its first checkpoint (the initial state, which must be finite).
fn open_checkpoints<'a>(
    trainer: &mut Trainer,
    run: &'a Path,
    info: &RunInfo,
    resume: bool,
) -> Result<Checkpoints<'a>> {
    let mut checkpoints = Checkpoints::new(run, info.fingerprint());
    if resume {
        checkpoints.restore(trainer)?;
        log::truncate(run, trainer.epoch())?;
    } else {
        std::fs::remove_file(log_path(run)).ok();
        checkpoints.start_fresh()?;
        if let Saved::NonFinite(tensor) = checkpoints.save(trainer)? {
            bail!("the initial state is not finite ({tensor}): check the model's settings");
        }
    }
    Ok(checkpoints)
}

/// How an epoch that finished its steps ends.
enum EpochEnd {
    /// Go on to the next epoch.
    Continue,
    /// Ctrl-C: the state is checkpointed, stop.
    Interrupted,
    /// The checkpoint found a tensor that is not finite.
    NonFiniteState(Divergence),
}

/// One `fit` call's state around the trainer: where it logs and checkpoints, its progress bar,
/// what it will report, and the rollbacks of the current incident.
struct FitLoop<'a> {
    trainer: &'a mut Trainer,
    run: &'a Path,
    checkpoints: Checkpoints<'a>,
    bar: ProgressBar,
    summary: FitSummary,
    /// Rollbacks since the run last got past the epoch that failed.
    retries: usize,
    /// The latest epoch that failed.
    failed_at: usize,
}

impl<'a> FitLoop<'a> {
    /// The loop, continuing from the trainer's current epoch.
    fn new(
        trainer: &'a mut Trainer,
        run: &'a Path,
        checkpoints: Checkpoints<'a>,
        progress: bool,
    ) -> Self {
        let bar = epoch_bar(trainer.settings().epochs, progress);
        bar.set_position(trainer.epoch() as u64);
        let summary = FitSummary {
            epochs: trainer.epoch(),
            final_loss: None,
            rollbacks: 0,
            interrupted: false,
        };
        FitLoop {
            trainer,
            run,
            checkpoints,
            bar,
            summary,
            retries: 0,
            failed_at: 0,
        }
    }

    /// Accepts an epoch whose steps were all finite: logs it, moves the bar, and checkpoints
    /// when one is due (every K epochs, at the end, on Ctrl-C).
    fn finish_epoch(&mut self, report: &EpochReport, started: Instant) -> Result<EpochEnd> {
        self.checkpoints.confirm();
        self.trainer.synchronize()?;
        let seconds = started.elapsed().as_secs_f64();
        let rate = report.coordinate_samples as f64 / seconds.max(1e-9);
        log::append(
            self.run,
            &LogLine::Epoch(EpochLine {
                epoch: report.epoch,
                loss: report.loss,
                amplitude: report.amplitude,
                derivative: report.derivative,
                spectral: report.spectral,
                lr: report.lr,
                seconds,
                coord_samples_per_s: rate,
            }),
        )?;
        self.bar.set_message(format!(
            "loss {:.4e} | {:.0} coord-samples/s",
            report.loss, rate
        ));
        self.bar.set_position(self.trainer.epoch() as u64);
        self.summary.final_loss = Some(report.loss);
        self.summary.epochs = self.trainer.epoch();
        if self.retries > 0 && report.epoch >= self.failed_at {
            // Past the epoch that failed: a later divergence is a new incident.
            self.retries = 0;
        }
        let interrupted = INTERRUPTED.load(Ordering::SeqCst);
        let settings = self.trainer.settings();
        let epoch = self.trainer.epoch();
        let due = epoch.is_multiple_of(settings.checkpoint_every)
            || epoch == settings.epochs
            || interrupted;
        if !due {
            return Ok(EpochEnd::Continue);
        }
        Ok(match self.checkpoints.save(self.trainer)? {
            Saved::NonFinite(tensor) => EpochEnd::NonFiniteState(Divergence {
                epoch: report.epoch,
                step: None,
                what: format!("tensor {tensor}"),
            }),
            Saved::Written if interrupted => {
                self.summary.interrupted = true;
                EpochEnd::Interrupted
            }
            Saved::Written => EpochEnd::Continue,
        })
    }

    /// Goes back to the last good checkpoint with the learning rates halved, or gives up after
    /// [`MAX_RETRIES`] rollbacks in a row.
    fn roll_back(&mut self, d: Divergence) -> Result<()> {
        self.summary.rollbacks += 1;
        self.retries += 1;
        self.failed_at = self.failed_at.max(d.epoch);
        let failing = self.trainer.learning_rates();
        self.checkpoints
            .roll_back(self.trainer, d.step == Some(0))?;
        let at = match d.step {
            Some(step) => format!("epoch {} step {step}", d.epoch),
            None => format!("the end of epoch {}", d.epoch),
        };
        if self.retries > MAX_RETRIES {
            self.bar.abandon();
            self.log_event(EventKind::Diverged, &d, None)?;
            bail!(
                "training diverged: non-finite {} at {at} after {MAX_RETRIES} rollbacks with halved learning rates; the last good state (the start of epoch {}) is in {}",
                d.what,
                self.trainer.epoch(),
                checkpoint_path(self.run).display()
            );
        }
        // Half the lower of the rates at the failure and in the state returned to: an older
        // checkpoint holds a rate from before earlier halvings, and a plateau cut since the
        // checkpoint is in the failing rate.
        let restored = self.trainer.learning_rates();
        self.trainer.set_learning_rates((
            0.5 * failing.0.min(restored.0),
            0.5 * failing.1.min(restored.1),
        ));
        notify(
            &self.bar,
            format!(
                "non-finite {} at {at}: rolled back to the start of epoch {}, learning rate halved to {:.3e}",
                d.what,
                self.trainer.epoch(),
                self.trainer.learning_rate()
            ),
        );
        log::truncate(self.run, self.trainer.epoch())?;
        self.log_event(EventKind::Rollback, &d, Some(self.trainer.learning_rate()))?;
        self.bar.set_position(self.trainer.epoch() as u64);
        self.summary.epochs = self.trainer.epoch();
        Ok(())
    }

    /// Appends a rollback or divergence record for `d` to the run's log.
    fn log_event(&self, event: EventKind, d: &Divergence, lr: Option<f64>) -> Result<()> {
        log::append(
            self.run,
            &LogLine::Event(EventLine {
                event,
                epoch: d.epoch,
                step: d.step,
                cause: d.what.clone(),
                resumed_at_epoch: self.trainer.epoch(),
                lr,
            }),
        )
    }
}
