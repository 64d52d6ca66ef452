//! `trainer tune`: the thesis' search for each setup's omegas and learning rate (section 5.7,
//! appendix A.3.2) on the user's data: BOHB over short training runs ([`crate::tune`]),
//! resumable from `DIR/tune.json`, ending in `DIR/best.toml` for `trainer fit --config`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;
use sirenade_common::atomic_file;

use crate::data_cmd::DataArgs;
use crate::fit_cmd::{config_settings, resolve_model};
use crate::train::fit::epoch_bar;
use crate::train::run_dir::{ensure_writable, DataInfo};
use crate::train::settings::TrainSettings;
use crate::tune::hyperband::{brackets_within, plan, s_max, Bracket};
use crate::tune::runner::TrainingRunner;
use crate::tune::search::{run_search, Step};
use crate::tune::space::{LogRange, SearchSpace};
use crate::tune::state::{state_path, TuneState, STATE_VERSION};
use crate::tune::tpe::Tpe;

/// Hyperband's largest budget R (epochs) when neither the flag nor a resumed state gives one.
const DEFAULT_MAX_EPOCHS: usize = 27;

/// Hyperband's halving rate η when neither the flag nor a resumed state gives one.
const DEFAULT_ETA: usize = 3;

/// Arguments of `trainer tune`.
#[derive(Debug, Clone, Args)]
pub struct TuneArgs {
    /// Data set and selection (--seed also seeds the trials' training and the search).
    #[command(flatten)]
    pub data: DataArgs,
    /// The folder of the search: tune.json, best.toml and the trials' states.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Continue the search in --out from its tune.json.
    #[arg(long)]
    pub resume: bool,
    /// TOML file of the base training settings (as `trainer fit --config` reads).
    #[arg(long, value_name = "BASE.toml")]
    pub config: Option<PathBuf>,
    /// Named model configuration (see `trainer model info`).
    #[arg(long)]
    pub model: Option<String>,
    /// Hyperband's largest budget R, in epochs [default: 27, or the resumed search's].
    #[arg(long, value_name = "R")]
    pub max_epochs: Option<usize>,
    /// Hyperband's halving rate η: each rung keeps the best 1/η [default: 3, or the resumed
    /// search's].
    #[arg(long)]
    pub eta: Option<usize>,
    /// Brackets to run (Hyperband's s_max..0, repeated) [default: s_max + 1, one Hyperband
    /// iteration, or the resumed search's].
    #[arg(long, value_name = "N", conflicts_with = "budget_epochs")]
    pub brackets: Option<usize>,
    /// Run as many brackets as fit in this many epochs.
    #[arg(long, value_name = "TOTAL")]
    pub budget_epochs: Option<usize>,
    /// Range of the first-layer omega, searched on a log scale [default: 100-20000].
    #[arg(long, value_name = "LOW-HIGH")]
    pub omega_first: Option<String>,
    /// Range of the hidden-layer omega, searched on a log scale [default: 10-1000].
    #[arg(long, value_name = "LOW-HIGH")]
    pub omega_hidden: Option<String>,
    /// Range of the learning rate, searched on a log scale [default: 1e-5-1e-3].
    #[arg(long, value_name = "LOW-HIGH")]
    pub lr: Option<String>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

impl TuneArgs {
    /// The searched ranges: the flags over `base` (the defaults, or a resumed search's).
    fn space(&self, base: SearchSpace) -> Result<SearchSpace> {
        let max = f64::from(sirenade_common::preset::MAX_OMEGA);
        let range = |flag: &str, text: &Option<String>, max: Option<f64>, default: LogRange| {
            text.as_deref()
                .map_or(Ok(default), |t| LogRange::parse(flag, t, max))
        };
        Ok(SearchSpace {
            omega_first: range(
                "omega-first",
                &self.omega_first,
                Some(max),
                base.omega_first,
            )?,
            omega_hidden: range(
                "omega-hidden",
                &self.omega_hidden,
                Some(max),
                base.omega_hidden,
            )?,
            lr: range("lr", &self.lr, None, base.lr)?,
        })
    }

    /// The base settings: defaults < --config < flags (--model, --seed).
    fn settings(&self) -> Result<TrainSettings> {
        let mut s = config_settings(self.config.as_deref())?;
        if let Some(m) = &self.model {
            s.model = m.clone();
        }
        if let Some(seed) = self.data.seed {
            s.seed = seed;
        }
        Ok(s)
    }

    /// The brackets to run for R and η: --brackets, or as many as --budget-epochs holds, or
    /// `otherwise`.
    fn bracket_count(&self, max_epochs: usize, eta: usize, otherwise: usize) -> Result<usize> {
        if let Some(n) = self.brackets {
            if n == 0 {
                bail!("--brackets must be at least 1");
            }
            return Ok(n);
        }
        match self.budget_epochs {
            Some(total) => brackets_within(max_epochs, eta, total).with_context(|| {
                let first = plan(max_epochs, eta, 1)[0].cost();
                format!(
                    "--budget-epochs {total} is less than the first bracket's {first} epochs \
                     (--max-epochs {max_epochs}, --eta {eta})"
                )
            }),
            None => Ok(otherwise),
        }
    }
}

/// Checks R and η.
fn check_schedule(max_epochs: usize, eta: usize) -> Result<()> {
    if max_epochs == 0 {
        bail!("--max-epochs must be at least 1");
    }
    if eta < 2 {
        bail!("--eta must be at least 2 (got {eta})");
    }
    Ok(())
}

/// The best configuration as a `trainer fit --config` file: the base settings with the best
/// omegas and learning rate.
fn best_settings(base: &TrainSettings, config: &crate::tune::space::TrialConfig) -> TrainSettings {
    TrainSettings {
        omega_first: Some(config.omega_first),
        omega_hidden: Some(config.omega_hidden),
        lr: config.lr,
        ..base.clone()
    }
}

/// The bar's message: where the search is and the best score so far.
fn progress_message(state: &TuneState, trial: usize, plan: &[Bracket]) -> String {
    let best = state.incumbent().map_or("best -".to_string(), |i| {
        format!(
            "best {:.4} @{}",
            i.result.score.unwrap_or(f64::INFINITY),
            i.result.epochs
        )
    });
    match state.position {
        Some(p) => format!(
            "bracket {}/{} (s={}) rung {}/{} trial {trial} | {best}",
            p.bracket + 1,
            plan.len(),
            p.s,
            p.rung + 1,
            p.s + 1
        ),
        None => best,
    }
}

/// Runs `trainer tune` and returns its summary.
pub fn run(args: &TuneArgs) -> Result<String> {
    let dir = &args.out;
    let saved = if args.resume {
        if !state_path(dir).is_file() {
            bail!(
                "{}: no search to resume (start one without --resume)",
                state_path(dir).display()
            );
        }
        Some(TuneState::read(dir)?)
    } else {
        if state_path(dir).exists() {
            bail!(
                "{}: already holds a search (use --resume to continue it, or another --out)",
                dir.display()
            );
        }
        None
    };
    let space = args.space(
        saved
            .as_ref()
            .map_or_else(SearchSpace::default, |s| s.space),
    )?;
    let max_epochs = args
        .max_epochs
        .or(saved.as_ref().map(|s| s.max_epochs))
        .unwrap_or(DEFAULT_MAX_EPOCHS);
    let eta = args
        .eta
        .or(saved.as_ref().map(|s| s.eta))
        .unwrap_or(DEFAULT_ETA);
    check_schedule(max_epochs, eta)?;
    let one_iteration = s_max(max_epochs, eta) + 1;
    let brackets = args.bracket_count(
        max_epochs,
        eta,
        saved.as_ref().map_or(one_iteration, |s| s.brackets),
    )?;
    let settings = args.settings()?;
    resolve_model(&settings)?;
    let ds = args.data.load()?;
    settings.validate(ds.clips.len())?;
    let data = DataInfo::of(&args.data.data, args.data.describe(), &ds);
    if data.mean_power <= 0.0 {
        bail!(
            "{}: the selected clips are silent: no reconstruction error can be scored against their power",
            args.data.data
        );
    }
    let asked = TuneState {
        version: STATE_VERSION,
        data: data.clone(),
        settings: settings.clone(),
        space,
        max_epochs,
        eta,
        brackets,
        position: None,
        complete: false,
        epochs_spent: 0,
        trials: Vec::new(),
    };
    let mut state = match saved {
        Some(old) => {
            old.check_same_search(&asked)?;
            TuneState {
                brackets,
                complete: false,
                ..old
            }
        }
        None => {
            ensure_writable(dir)?;
            asked
        }
    };
    let brackets_plan = plan(max_epochs, eta, brackets);
    let total: usize = brackets_plan.iter().map(Bracket::cost).sum();
    let bar = epoch_bar(total, !args.quiet);
    bar.set_position(state.epochs_done() as u64);
    let trial_settings = TrainSettings {
        epochs: max_epochs,
        fade_in_epochs: None,
        ..settings.clone()
    };
    let clips: Vec<Vec<f32>> = ds.clips.into_iter().map(|c| c.samples).collect();
    let mut runner =
        TrainingRunner::new(trial_settings, data, clips, dir.join("trials"), bar.clone())?;
    let mut report = |state: &TuneState, step: Step| -> Result<()> {
        match step {
            Step::Starting { trial } => {
                bar.set_message(progress_message(state, trial, &brackets_plan))
            }
            Step::Scored { trial } => {
                state.write(dir)?;
                bar.set_position(state.epochs_done() as u64);
                bar.set_message(progress_message(state, trial, &brackets_plan));
            }
            Step::Finished => state.write(dir)?,
        }
        Ok(())
    };
    let seed = settings.seed;
    run_search(&mut state, &Tpe::default(), seed, &mut runner, &mut report)?;
    bar.finish_and_clear();
    std::fs::remove_dir(dir.join("trials")).ok();
    summary(dir, &state, &settings, args.json)
}

/// Writes `DIR/best.toml` and returns the closing summary (text or JSON).
fn summary(dir: &Path, state: &TuneState, base: &TrainSettings, json: bool) -> Result<String> {
    let Some(best) = state.incumbent() else {
        bail!(
            "every one of the {} trials diverged (non-finite loss or state): try a lower --lr range",
            state.trials.len()
        );
    };
    let c = best.trial.config;
    let score = best.result.score.unwrap_or(f64::INFINITY);
    let settings = best_settings(base, &c);
    let path = dir.join("best.toml");
    let text = format!(
        "# trainer tune: trial {} of {}, score {score:.6} (reconstruction MSE / mean power) after {} epochs\n{}",
        best.trial.id,
        state.trials.len(),
        best.result.epochs,
        toml::to_string(&settings).context("the best settings as TOML")?
    );
    atomic_file::write(&path, text.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    if json {
        let summary = json!({
            "best": {
                "trial": best.trial.id,
                "score": score,
                "epochs": best.result.epochs,
                "omega_first": c.omega_first,
                "omega_hidden": c.omega_hidden,
                "lr": c.lr,
            },
            "trials": state.trials.len(),
            "epochs_spent": state.epochs_spent,
            "brackets": state.brackets,
            "best_toml": path.display().to_string(),
        });
        return Ok(serde_json::to_string_pretty(&summary)? + "\n");
    }
    Ok(format!(
        "best: trial {} with score {score:.6} (reconstruction MSE / mean power) after {} epochs: \
         omega_first {:.1}, omega_hidden {:.1}, lr {:.3e}\n\
         {} trials, {} epochs in {} bracket(s); wrote {} (train with: trainer fit --config {})\n",
        best.trial.id,
        best.result.epochs,
        c.omega_first,
        c.omega_hidden,
        c.lr,
        state.trials.len(),
        state.epochs_spent,
        state.brackets,
        path.display(),
        path.display()
    ))
}
