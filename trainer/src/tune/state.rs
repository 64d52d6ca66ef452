//! `DIR/tune.json`: everything a search has done, rewritten atomically after every scored
//! evaluation, so that `trainer tune --resume` continues where it stopped and the result can be
//! read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sirenade_common::atomic_file;

use super::space::{SearchSpace, TrialConfig, DIMENSIONS};
use super::tpe::Observation;
use crate::train::run_dir::DataInfo;
use crate::train::settings::TrainSettings;

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// The state file of the search in `dir`.
pub fn state_path(dir: &Path) -> PathBuf {
    dir.join("tune.json")
}

/// How a trial's configuration was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Sampler {
    /// Uniformly at random on the log scales.
    Random,
    /// By the TPE model fitted on the results at `budget` epochs.
    Model {
        /// The budget (epochs) whose results the model was fitted on.
        budget: usize,
    },
}

/// A trial's score after one rung.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RungResult {
    /// The epochs the trial had been trained for.
    pub epochs: usize,
    /// Reconstruction MSE over the set divided by its mean power (1 = silence); `null` when the
    /// training diverged (a non-finite loss or state).
    pub score: Option<f64>,
}

/// One configuration and its results, rung by rung.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Its index in [`TuneState::trials`].
    pub id: usize,
    /// The bracket (index in the search's plan) it ran in.
    pub bracket: usize,
    /// The searched values.
    pub config: TrialConfig,
    /// How they were chosen.
    pub sampler: Sampler,
    /// Its score after each rung it reached, in order.
    pub results: Vec<RungResult>,
}

/// Where the search was last at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The bracket's index in the plan.
    pub bracket: usize,
    /// Its Hyperband s.
    pub s: usize,
    /// The rung within it.
    pub rung: usize,
}

/// The whole search: what it searches, over which data, and every trial so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneState {
    /// Format version.
    pub version: u32,
    /// The data the trials train on.
    pub data: DataInfo,
    /// The base training settings the trials start from (their omegas and lr replaced).
    pub settings: TrainSettings,
    /// The searched ranges.
    pub space: SearchSpace,
    /// Hyperband's largest budget R, in epochs.
    pub max_epochs: usize,
    /// Hyperband's halving rate η.
    pub eta: usize,
    /// Brackets planned (Hyperband's s_max..0, repeated).
    pub brackets: usize,
    /// The rung of the last evaluation started; `None` before the first.
    pub position: Option<Position>,
    /// Whether every planned bracket has finished.
    pub complete: bool,
    /// Epochs trained so far, counting those run again after an interruption.
    pub epochs_spent: usize,
    /// Every trial, in the order drawn.
    pub trials: Vec<Trial>,
}

/// The best result: the lowest score at the largest budget that has a finite one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Incumbent<'a> {
    /// Its trial.
    pub trial: &'a Trial,
    /// Its result at that budget.
    pub result: RungResult,
}

impl TuneState {
    /// Reads `DIR/tune.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = state_path(dir);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read the search state", path.display()))?;
        let state: Self = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a trainer tune state", path.display()))?;
        if state.version != STATE_VERSION {
            bail!(
                "{}: state version {} (this trainer reads {STATE_VERSION})",
                path.display(),
                state.version
            );
        }
        if let Some((i, t)) = state.trials.iter().enumerate().find(|(i, t)| t.id != *i) {
            bail!(
                "{}: trial {} is listed at position {i} (the trials must be in id order)",
                path.display(),
                t.id
            );
        }
        Ok(state)
    }

    /// Writes `DIR/tune.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = state_path(dir);
        let text = serde_json::to_string_pretty(self)? + "\n";
        atomic_file::write(&path, text.as_bytes())
            .with_context(|| format!("{}: cannot write the search state", path.display()))
    }

    /// Checks that `other` (what the command line asks for) searches the same thing over the
    /// same data as this saved state, naming the first difference. The plan's length may
    /// change; so may the device and the settings the trials do not use (epochs, checkpoint
    /// period).
    pub fn check_same_search(&self, other: &TuneState) -> Result<()> {
        let why = if self.data.items != other.data.items {
            Some(format!(
                "different data ({} items in tune.json, {} now, or other ids)",
                self.data.items.len(),
                other.data.items.len()
            ))
        } else if self.data.digest != other.data.digest {
            Some("different audio for the same items (the data set's files changed)".into())
        } else if let Some((name, saved, now)) = self.space.difference(&other.space) {
            Some(format!(
                "a different search space (--{name} {saved} in tune.json, {now} now)"
            ))
        } else if self.max_epochs != other.max_epochs {
            Some(format!(
                "a different --max-epochs ({} in tune.json, {} now)",
                self.max_epochs, other.max_epochs
            ))
        } else if self.eta != other.eta {
            Some(format!(
                "a different --eta ({} in tune.json, {} now)",
                self.eta, other.eta
            ))
        } else {
            settings_difference(&self.settings, &other.settings)
                .map(|d| format!("different training settings ({d})"))
        };
        match why {
            Some(why) => bail!("cannot resume: the search was started with {why}"),
            None => Ok(()),
        }
    }

    /// Every result so far as surrogate observations, keyed by budget (epochs).
    pub fn observations(&self) -> BTreeMap<usize, Vec<Observation<DIMENSIONS>>> {
        let mut by_budget = BTreeMap::<usize, Vec<Observation<DIMENSIONS>>>::new();
        for t in &self.trials {
            let x = self.space.to_unit(&t.config);
            for r in &t.results {
                by_budget
                    .entry(r.epochs)
                    .or_default()
                    .push(Observation { x, score: r.score });
            }
        }
        by_budget
    }

    /// The best configuration: the lowest score at the largest budget that has a finite one
    /// (scores at different budgets are not comparable), ties to the earlier trial.
    pub fn incumbent(&self) -> Option<Incumbent<'_>> {
        let finite = || {
            self.trials.iter().flat_map(|t| {
                t.results
                    .iter()
                    .filter(|r| r.score.is_some_and(f64::is_finite))
                    .map(move |r| Incumbent {
                        trial: t,
                        result: *r,
                    })
            })
        };
        let budget = finite().map(|i| i.result.epochs).max()?;
        finite()
            .filter(|i| i.result.epochs == budget)
            .min_by(|a, b| {
                let score = |i: &Incumbent| i.result.score.unwrap_or(f64::INFINITY);
                score(a).total_cmp(&score(b))
            })
    }

    /// Epochs the recorded results stand for (each trial at its last rung): the progress
    /// through the plan.
    pub fn epochs_done(&self) -> usize {
        self.trials
            .iter()
            .filter_map(|t| t.results.last().map(|r| r.epochs))
            .sum()
    }
}

/// The first field, in the settings file's order, whose value differs (epochs, checkpoint
/// period and device are not compared: the trials do not depend on them). Numbers equal to
/// 1e-12 relative are the same: JSON may bring a long one back an ulp off.
fn settings_difference(saved: &TrainSettings, now: &TrainSettings) -> Option<String> {
    let normal = |s: &TrainSettings| {
        let mut s = s.clone();
        s.epochs = 0;
        s.checkpoint_every = 0;
        s.device = String::new();
        serde_json::to_value(s).unwrap_or_default()
    };
    let (a, b) = (normal(saved), normal(now));
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return None;
    };
    let null = serde_json::Value::Null;
    a.iter()
        .map(|(k, v)| (k, v, b.get(k).unwrap_or(&null)))
        .find(|(_, v, w)| !same(v, w))
        .map(|(k, v, w)| {
            let shown = |v: &serde_json::Value| match v {
                serde_json::Value::Null => "none".to_string(),
                v => v.to_string(),
            };
            format!("{k} {} in tune.json, {} now", shown(v), shown(w))
        })
}

/// Whether two JSON values are equal, numbers to 1e-12 relative.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> TuneState {
        TuneState {
            version: STATE_VERSION,
            data: DataInfo {
                source: "x".into(),
                root: "x".into(),
                format: "wav-folder".into(),
                selection: vec![],
                items: vec![],
                mean_power: 0.5,
                digest: "0".into(),
            },
            settings: TrainSettings::default(),
            space: SearchSpace::default(),
            max_epochs: 9,
            eta: 3,
            brackets: 3,
            position: None,
            complete: false,
            epochs_spent: 0,
            trials: vec![],
        }
    }

    fn trial(id: usize, results: &[(usize, Option<f64>)]) -> Trial {
        Trial {
            id,
            bracket: 0,
            config: TrialConfig {
                omega_first: 1000.0 + id as f64,
                omega_hidden: 100.0,
                lr: 1e-4,
            },
            sampler: Sampler::Random,
            results: results
                .iter()
                .map(|&(epochs, score)| RungResult { epochs, score })
                .collect(),
        }
    }

    #[test]
    fn the_incumbent_is_the_best_at_the_largest_scored_budget() {
        let mut s = state();
        s.trials = vec![
            trial(0, &[(1, Some(0.01))]),
            trial(1, &[(1, Some(0.5)), (3, Some(0.4))]),
            trial(2, &[(1, Some(0.4)), (3, Some(0.3)), (9, None)]),
        ];
        let best = s.incumbent().unwrap();
        assert_eq!((best.trial.id, best.result.epochs), (2, 3));
        assert_eq!(s.epochs_done(), 1 + 3 + 9);
        assert_eq!(s.observations()[&1].len(), 3);
        assert_eq!(s.observations()[&9][0].score, None);
        assert!(state().incumbent().is_none());
    }

    #[test]
    fn a_different_search_is_named() {
        let a = state();
        let mut b = state();
        b.settings.epochs = 7;
        b.settings.device = "cuda".into();
        b.brackets = 10;
        a.check_same_search(&b).unwrap();
        // A number an ulp off is the same.
        b.settings.lr = f64::from_bits(a.settings.lr.to_bits() + 1);
        a.check_same_search(&b).unwrap();
        b.settings.omega_first = Some(5.0);
        let e = a.check_same_search(&b).unwrap_err().to_string();
        assert!(e.contains("omega_first none in tune.json, 5.0 now"), "{e}");
        let mut c = state();
        c.eta = 4;
        let e = a.check_same_search(&c).unwrap_err().to_string();
        assert!(e.contains("--eta (3 in tune.json, 4 now)"), "{e}");
        let mut d = state();
        d.space.omega_first.high = 500.0;
        let e = a.check_same_search(&d).unwrap_err().to_string();
        assert!(
            e.contains("--omega-first 100-20000 in tune.json, 100-500 now"),
            "{e}"
        );
        let mut e2 = state();
        e2.data.digest = "1".into();
        let e = a.check_same_search(&e2).unwrap_err().to_string();
        assert!(e.contains("different audio"), "{e}");
    }
}
