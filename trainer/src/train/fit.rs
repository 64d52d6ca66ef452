//! The training loop around [`Engine`]: progress bar, one JSON line per epoch in
//! `RUN/log.jsonl`, checkpoints every K epochs and on Ctrl-C, exact resume, and recovery from
//! a NaN or infinite loss (roll back to the last good checkpoint, halve the learning rates,
//! stop after 3 retries).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use sirenade_common::atomic_file;

use super::checkpoint;
use super::engine::{Engine, EpochOutcome};
use super::run_dir::{checkpoint_path, log_path, RunInfo};

/// Rollbacks allowed before a run gives up.
pub const MAX_RETRIES: usize = 3;

/// Set by the Ctrl-C handler; the loop checkpoints and stops after the current epoch.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How a fit ended.
#[derive(Debug, Clone)]
pub struct FitSummary {
    /// Epochs completed in the run (including earlier sessions when resumed).
    pub epochs: usize,
    /// Mean loss of the last epoch run in this session (`None` if none ran).
    pub final_loss: Option<f64>,
    /// Rollbacks performed in this session.
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
}

fn append_log(run: &Path, line: serde_json::Value) -> Result<()> {
    let path = log_path(run);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("{}: cannot append", path.display()))?;
    writeln!(f, "{line}").with_context(|| format!("{}: write failed", path.display()))?;
    Ok(())
}

/// Drops log lines of epochs at or after `epoch` (they are redone after a resume).
fn truncate_log(run: &Path, epoch: usize) -> Result<()> {
    let path = log_path(run);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["epoch"].as_u64())
                .is_some_and(|e| (e as usize) < epoch)
        })
        .collect();
    let kept: String = kept.iter().map(|l| format!("{l}\n")).collect();
    atomic_file::write(&path, kept.as_bytes())
        .with_context(|| format!("{}: cannot rewrite", path.display()))
}

fn save(engine: &Engine, run: &Path, fingerprint: &str) -> Result<()> {
    let (tensors, counters) = engine.snapshot()?;
    checkpoint::save(&checkpoint_path(run), &tensors, &counters, fingerprint)
}

fn restore(engine: &mut Engine, run: &Path, fingerprint: &str) -> Result<()> {
    let (tensors, counters) = checkpoint::load(
        &checkpoint_path(run),
        fingerprint,
        &candle_core::Device::Cpu,
    )?;
    engine.restore(&tensors, &counters)
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
        std::fs::create_dir_all(run)
            .with_context(|| format!("{}: cannot create the run folder", run.display()))?;
        let probe = tempfile::NamedTempFile::new_in(run);
        if probe.is_err() {
            bail!("{}: the run folder is not writable", run.display());
        }
    }
    Ok(())
}

/// Trains `engine` in the run folder `run` (prepared with [`prepare_run_dir`]).
pub fn fit(
    engine: &mut Engine,
    run: &Path,
    info: &RunInfo,
    opts: FitOptions,
) -> Result<FitSummary> {
    let fingerprint = info.fingerprint();
    if opts.resume {
        restore(engine, run, &fingerprint)?;
        truncate_log(run, engine.epoch())?;
    } else {
        std::fs::remove_file(log_path(run)).ok();
        save(engine, run, &fingerprint)?;
    }
    info.write(run)?;
    // A second registration (tests run several fits in one process) fails harmlessly: the
    // first handler sets the same flag.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    INTERRUPTED.store(false, Ordering::SeqCst);

    let epochs = engine.settings().epochs;
    let every = engine.settings().checkpoint_every;
    let bar = ProgressBar::with_draw_target(
        Some(epochs as u64),
        if opts.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("epoch {pos}/{len} [{bar:30}] {msg} (ETA {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_position(engine.epoch() as u64);
    let mut summary = FitSummary {
        epochs: engine.epoch(),
        final_loss: None,
        rollbacks: 0,
        interrupted: false,
    };
    let mut halvings_since_checkpoint = 0usize;
    while engine.epoch() < epochs {
        let started = Instant::now();
        match engine.run_epoch()? {
            EpochOutcome::Done(report) => {
                let seconds = started.elapsed().as_secs_f64();
                let rate = report.coordinate_samples as f64 / seconds.max(1e-9);
                append_log(
                    run,
                    json!({
                        "epoch": report.epoch,
                        "loss": report.loss,
                        "amplitude": report.amplitude,
                        "derivative": report.derivative,
                        "lr": report.lr,
                        "seconds": seconds,
                        "coord_samples_per_s": rate,
                    }),
                )?;
                bar.set_message(format!(
                    "loss {:.4e} | {:.0} coord-samples/s",
                    report.loss, rate
                ));
                bar.set_position(engine.epoch() as u64);
                summary.final_loss = Some(report.loss);
                summary.epochs = engine.epoch();
                let interrupted = INTERRUPTED.load(Ordering::SeqCst);
                if engine.epoch().is_multiple_of(every) || engine.epoch() == epochs || interrupted {
                    save(engine, run, &fingerprint)?;
                    halvings_since_checkpoint = 0;
                }
                if interrupted {
                    summary.interrupted = true;
                    break;
                }
            }
            EpochOutcome::NonFinite { epoch, step } => {
                summary.rollbacks += 1;
                if summary.rollbacks > MAX_RETRIES {
                    bar.abandon();
                    bail!(
                        "training diverged: non-finite loss at epoch {epoch} step {step} after {MAX_RETRIES} rollbacks with halved learning rates; the last good state is in {}",
                        checkpoint_path(run).display()
                    );
                }
                restore(engine, run, &fingerprint)?;
                halvings_since_checkpoint += 1;
                engine.scale_learning_rates(0.5f64.powi(halvings_since_checkpoint as i32));
                let line = json!({
                    "event": "rollback",
                    "epoch": epoch,
                    "step": step,
                    "resumed_at_epoch": engine.epoch(),
                    "lr": engine.learning_rate(),
                });
                bar.println(format!(
                    "non-finite loss at epoch {epoch} step {step}: rolled back to epoch {}, learning rate halved to {:.3e}",
                    engine.epoch(),
                    engine.learning_rate()
                ));
                truncate_log(run, engine.epoch())?;
                append_log(run, line)?;
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}
