//! The BOHB loop: Hyperband's brackets run one after the other, each rung's trials scored in
//! turn, the best ⌊n_i/η⌋ promoted to continue from their state, and every new configuration
//! proposed by the TPE from all results so far (Falkner et al. 2018, run on one worker).
//!
//! The loop replays the saved state: a trial with a result for a rung is not run again, a
//! bracket's configurations are drawn lazily in order and from a random stream of their own
//! (the seed and the trial's index), and promotions are recomputed from the scores, so a
//! resumed search makes exactly the choices the uninterrupted one would have.

use anyhow::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::hyperband::{plan, survivors};
use super::space::TrialConfig;
use super::state::{Position, RungResult, Sampler, Trial, TuneState};
use super::tpe::Tpe;

/// Mixed into the run's seed for the proposals' random streams, which then differ from the
/// training's streams of the same seed.
const PROPOSAL_SALT: u64 = 0x7475_6e65_2d62_6f68;

/// What evaluating a trial gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Its score (lower is better); `None` when training diverged.
    pub score: Option<f64>,
    /// The epochs actually trained for it (more than the rung's step when its state had to be
    /// rebuilt from scratch).
    pub epochs_run: usize,
}

/// Trains and scores trials.
pub trait TrialRunner {
    /// Brings trial `trial` with configuration `config`, last scored after `from` epochs (0 for
    /// a new one), to `to` epochs and scores it; with `keep` its state is kept for a later
    /// rung.
    fn evaluate(
        &mut self,
        trial: usize,
        config: &TrialConfig,
        from: usize,
        to: usize,
        keep: bool,
    ) -> Result<Evaluation>;

    /// Forgets a trial's kept state (it was not promoted, or its bracket has finished).
    fn release(&mut self, trial: usize) -> Result<()>;
}

/// What the loop is about to do or has just done, for progress reports and saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Trial `trial` is about to be evaluated at [`TuneState::position`].
    Starting {
        /// The trial.
        trial: usize,
    },
    /// Trial `trial` has a new result (save the state now).
    Scored {
        /// The trial.
        trial: usize,
    },
    /// Every planned bracket has run.
    Finished,
}

/// The random stream of trial `trial`'s proposal.
fn proposal_rng(seed: u64, trial: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ PROPOSAL_SALT);
    rng.set_stream(trial as u64);
    rng
}

/// Draws a new trial for bracket `bracket` and appends it to the state.
fn draw(state: &mut TuneState, tpe: &Tpe, seed: u64, bracket: usize) -> usize {
    let id = state.trials.len();
    let proposal = tpe.propose(&state.observations(), &mut proposal_rng(seed, id));
    state.trials.push(Trial {
        id,
        bracket,
        config: state.space.from_unit(&proposal.x),
        sampler: match proposal.model_budget {
            Some(budget) => Sampler::Model { budget },
            None => Sampler::Random,
        },
        results: Vec::new(),
    });
    id
}

/// Runs (or continues) the search in `state` with proposals seeded by `seed`; `report` sees
/// every [`Step`] and is where the caller saves the state.
pub fn run_search(
    state: &mut TuneState,
    tpe: &Tpe,
    seed: u64,
    runner: &mut dyn TrialRunner,
    report: &mut dyn FnMut(&TuneState, Step) -> Result<()>,
) -> Result<()> {
    let brackets = plan(state.max_epochs, state.eta, state.brackets);
    for (b, bracket) in brackets.iter().enumerate() {
        let mut alive: Vec<usize> = Vec::new();
        for (i, rung) in bracket.rungs.iter().enumerate() {
            let from = if i == 0 {
                0
            } else {
                bracket.rungs[i - 1].epochs
            };
            let next = bracket.rungs.get(i + 1);
            let count = if i == 0 { rung.configs } else { alive.len() };
            for k in 0..count {
                let id = if i == 0 {
                    let drawn = state.trials.iter().filter(|t| t.bracket == b).nth(k);
                    match drawn {
                        Some(t) => t.id,
                        None => draw(state, tpe, seed, b),
                    }
                } else {
                    alive[k]
                };
                if i == 0 {
                    alive.push(id);
                }
                if state.trials[id].results.len() > i {
                    continue;
                }
                state.position = Some(Position {
                    bracket: b,
                    s: bracket.s,
                    rung: i,
                });
                report(state, Step::Starting { trial: id })?;
                let config = state.trials[id].config;
                let e = runner.evaluate(id, &config, from, rung.epochs, next.is_some())?;
                state.trials[id].results.push(RungResult {
                    epochs: rung.epochs,
                    score: e.score,
                });
                state.epochs_spent += e.epochs_run;
                report(state, Step::Scored { trial: id })?;
            }
            let kept = match next {
                Some(n) => {
                    let scores: Vec<Option<f64>> = alive
                        .iter()
                        .map(|&id| state.trials[id].results[i].score)
                        .collect();
                    survivors(&scores, n.configs)
                        .into_iter()
                        .map(|k| alive[k])
                        .collect()
                }
                None => Vec::new(),
            };
            for &id in alive.iter().filter(|id| !kept.contains(id)) {
                runner.release(id)?;
            }
            alive = kept;
        }
    }
    state.complete = true;
    report(state, Step::Finished)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use anyhow::bail;

    use super::*;
    use crate::train::run_dir::DataInfo;
    use crate::train::settings::TrainSettings;
    use crate::tune::space::SearchSpace;
    use crate::tune::state::STATE_VERSION;

    /// A synthetic objective: the score falls with the epochs and is lowest at omega_first
    /// 2000, omega_hidden 100 and lr 1e-4; it can stop after a number of evaluations (a
    /// crash), and records what it was asked to do.
    struct Synthetic {
        calls: Vec<(usize, usize, usize)>,
        kept: BTreeSet<usize>,
        crash_after: Option<usize>,
    }

    impl Synthetic {
        fn new(crash_after: Option<usize>) -> Self {
            Self {
                calls: Vec::new(),
                kept: BTreeSet::new(),
                crash_after,
            }
        }
    }

    impl TrialRunner for Synthetic {
        fn evaluate(
            &mut self,
            trial: usize,
            c: &TrialConfig,
            from: usize,
            to: usize,
            keep: bool,
        ) -> Result<Evaluation> {
            if self.crash_after == Some(self.calls.len()) {
                bail!("stopped");
            }
            assert!(
                from == 0 || self.kept.contains(&trial),
                "trial {trial} lost"
            );
            self.calls.push((trial, from, to));
            if keep {
                self.kept.insert(trial);
            }
            let d = (c.omega_first / 2000.0).ln().powi(2)
                + (c.omega_hidden / 100.0).ln().powi(2)
                + (c.lr / 1e-4).ln().powi(2);
            Ok(Evaluation {
                score: (c.omega_first >= 150.0).then_some(d + 1.0 / to as f64),
                epochs_run: to - from,
            })
        }

        fn release(&mut self, trial: usize) -> Result<()> {
            self.kept.remove(&trial);
            Ok(())
        }
    }

    fn fresh() -> TuneState {
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
            brackets: 6,
            position: None,
            complete: false,
            epochs_spent: 0,
            trials: vec![],
        }
    }

    fn search(state: &mut TuneState, runner: &mut Synthetic) -> Result<()> {
        run_search(state, &Tpe::default(), 7, runner, &mut |_, _| Ok(()))
    }

    #[test]
    fn brackets_run_as_planned_and_trials_continue_from_their_rung() {
        let mut state = fresh();
        let mut runner = Synthetic::new(None);
        search(&mut state, &mut runner).unwrap();
        assert!(state.complete);
        // Two Hyperband iterations of R = 9, η = 3: 9 + 5 + 3 configurations each.
        assert_eq!(state.trials.len(), 2 * 17);
        assert_eq!(state.epochs_spent, 2 * 69);
        assert!(runner.kept.is_empty(), "{:?}", runner.kept);
        // Every continuation started where the trial's previous rung ended.
        for &(trial, from, _) in &runner.calls {
            let t = &state.trials[trial];
            assert!(from == 0 || t.results.iter().any(|r| r.epochs == from));
        }
        // The model takes over once a budget has 4 results.
        assert!(state
            .trials
            .iter()
            .skip(9)
            .any(|t| matches!(t.sampler, Sampler::Model { .. })));
        let best = state.incumbent().unwrap();
        assert_eq!(best.result.epochs, 9);
        // Promoted trials are the best of their rung.
        for b in 0..state.brackets {
            let first: Vec<&Trial> = state.trials.iter().filter(|t| t.bracket == b).collect();
            let promoted: Vec<f64> = first
                .iter()
                .filter(|t| t.results.len() > 1)
                .map(|t| t.results[0].score.unwrap())
                .collect();
            let dropped = first.iter().filter(|t| t.results.len() == 1);
            for t in dropped {
                if let Some(s) = t.results[0].score {
                    assert!(promoted.iter().all(|&p| p <= s));
                }
            }
        }
    }

    #[test]
    fn a_resumed_search_repeats_nothing_and_ends_where_the_whole_one_does() {
        let mut whole = fresh();
        let mut runner = Synthetic::new(None);
        search(&mut whole, &mut runner).unwrap();

        let mut state = fresh();
        let mut first = Synthetic::new(Some(20));
        assert!(search(&mut state, &mut first).is_err());
        // What was saved: the state as of the last scored evaluation.
        let scored: usize = state.trials.iter().map(|t| t.results.len()).sum();
        assert_eq!(scored, 20);
        state.trials.retain(|t| !t.results.is_empty());
        // The states kept on disk survive the crash.
        let mut second = Synthetic::new(None);
        second.kept = first.kept;
        search(&mut state, &mut second).unwrap();
        assert_eq!(state.trials, whole.trials);
        assert_eq!(runner.calls.len(), 20 + second.calls.len());
        assert_eq!(runner.calls[20..], second.calls[..]);
    }
}
