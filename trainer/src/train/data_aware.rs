//! Data-aware defaults: the settings a run leaves open, chosen from what its data is.
//!
//! The thesis searched the omegas once per data set (section 5.7) and its code applies the
//! optimum by the data set's name: 615 / 200 for Speech Commands, 1760 / 245 for NSynth
//! (`docs/fidelity.md`, "Data-aware defaults"). A user's folder has no such name, so the
//! trainer measures what separates the two kinds of set — spoken words start anywhere in their
//! second and leave most of it silent, notes start at once and sound throughout — and applies
//! the optimum of the kind the data is. What it chose, and why, is printed at the start of a run
//! and recorded in `run.json` as the run's settings.

use sirenade_common::dataset::Summary;
use sirenade_common::model_config::{ModelConfig, NSYNTH_OMEGA_FIRST, NSYNTH_OMEGA_HIDDEN};

use super::settings::TrainSettings;

/// The thesis' first-layer omega for Speech Commands (its code's `--autoconfig`).
pub const SPEECH_OMEGA_FIRST: f64 = 615.0;
/// The thesis' hidden-layer omega for Speech Commands.
pub const SPEECH_OMEGA_HIDDEN: f64 = 200.0;

/// A set whose onsets spread by more than this (standard deviation, seconds) is time-localised:
/// notes start within a few milliseconds of the clip's start, words anywhere in it.
pub const ONSET_SPREAD_SECONDS: f64 = 0.05;

/// A set with more than this fraction of near-silent samples is time-localised: sustained
/// notes leave a few percent of their second near silence, spoken words more than half.
pub const SILENT_FRACTION: f64 = 0.3;

/// What kind of sounds a set holds, as far as the defaults are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// Sounds that start at the clip's start and fill it: instrument notes.
    Sustained,
    /// Sounds that start anywhere and leave much of the clip silent: spoken words, hits.
    TimeLocalised,
}

impl DataKind {
    /// The kind of the set `summary` describes, with the measurement that decided it.
    pub fn of(summary: &Summary) -> (DataKind, String) {
        let spread = summary.onset_seconds.std;
        let silent = summary.silence_fraction;
        let measured = format!(
            "onsets spread {:.0} ms, {:.0}% near-silent samples",
            spread * 1000.0,
            silent * 100.0
        );
        if spread > ONSET_SPREAD_SECONDS || silent > SILENT_FRACTION {
            (
                DataKind::TimeLocalised,
                format!("time-localised sounds ({measured})"),
            )
        } else {
            (
                DataKind::Sustained,
                format!("sustained sounds ({measured})"),
            )
        }
    }
}

/// One setting chosen from the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The setting's name as in `run.json` and the TOML config.
    pub setting: &'static str,
    /// The value chosen.
    pub value: f64,
}

/// Fills the omegas that `settings` leave open (`None`) for the named `model` (before any
/// override) from the data `summary` describes, and returns what was chosen with the reason (empty when nothing was open, or
/// when the model's own omegas are not the NSynth ones a data set could replace, as
/// `pigan-prog`'s are not).
pub fn fill(
    settings: &mut TrainSettings,
    model: &ModelConfig,
    summary: &Summary,
) -> (Vec<Choice>, String) {
    let (kind, reason) = DataKind::of(summary);
    let nsynth_model =
        model.omega_first == NSYNTH_OMEGA_FIRST && model.omega_hidden == NSYNTH_OMEGA_HIDDEN;
    let (first, hidden) = match (kind, nsynth_model) {
        (DataKind::TimeLocalised, true) => (SPEECH_OMEGA_FIRST, SPEECH_OMEGA_HIDDEN),
        _ => (model.omega_first, model.omega_hidden),
    };
    let mut chosen = Vec::new();
    if settings.omega_first.is_none() {
        settings.omega_first = Some(first);
        chosen.push(Choice {
            setting: "omega_first",
            value: first,
        });
    }
    if settings.omega_hidden.is_none() {
        settings.omega_hidden = Some(hidden);
        chosen.push(Choice {
            setting: "omega_hidden",
            value: hidden,
        });
    }
    (chosen, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sirenade_common::dataset::Spread;

    fn summary(onset_std: f64, silence: f64) -> Summary {
        let spread = |std: f64| Spread {
            mean: 0.0,
            std,
            min: 0.0,
            max: 0.0,
        };
        Summary {
            root: "set".into(),
            format: "wav",
            items: 4,
            by_pitch: Default::default(),
            by_family: Default::default(),
            by_word: Default::default(),
            by_velocity: Default::default(),
            by_instrument: Default::default(),
            mean_power: 0.01,
            silence_fraction: silence,
            onset_seconds: spread(onset_std),
            dominant_frequency_hz: spread(100.0),
            peak: spread(0.1),
            conversions: Default::default(),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn words_get_the_speech_omegas_and_notes_keep_the_models() {
        let demo = ModelConfig::named("demo").unwrap();
        let mut s = TrainSettings::default();
        let (chosen, reason) = fill(&mut s, &demo, &summary(0.18, 0.6));
        assert_eq!((s.omega_first, s.omega_hidden), (Some(615.0), Some(200.0)));
        assert_eq!(chosen.len(), 2);
        assert!(reason.starts_with("time-localised"), "{reason}");
        let mut s = TrainSettings::default();
        let (_, reason) = fill(&mut s, &demo, &summary(0.002, 0.02));
        assert_eq!((s.omega_first, s.omega_hidden), (Some(1760.0), Some(245.0)));
        assert!(reason.starts_with("sustained"), "{reason}");
        // Either measurement alone makes a set time-localised.
        let mut s = TrainSettings::default();
        fill(&mut s, &demo, &summary(0.002, 0.5));
        assert_eq!(s.omega_first, Some(615.0));
    }

    #[test]
    fn set_omegas_and_other_models_omegas_are_kept() {
        let demo = ModelConfig::named("demo").unwrap();
        let mut s = TrainSettings {
            omega_first: Some(3000.0),
            ..TrainSettings::default()
        };
        let (chosen, _) = fill(&mut s, &demo, &summary(0.18, 0.6));
        assert_eq!(s.omega_first, Some(3000.0));
        assert_eq!(
            chosen,
            [Choice {
                setting: "omega_hidden",
                value: 200.0
            }]
        );
        let prog = ModelConfig::named("pigan-prog").unwrap();
        let mut s = TrainSettings::default();
        fill(&mut s, &prog, &summary(0.18, 0.6));
        assert_eq!(
            (s.omega_first, s.omega_hidden),
            (Some(10_000.0), Some(300.0))
        );
    }
}
