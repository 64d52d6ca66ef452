//! The characteristics the thesis uses to describe its data sets (section 5.5): label
//! histograms, mean power (the "silence MSE" reference: predicting zeros scores exactly
//! mean x²), amount of silence, onset-time spread and dominant-frequency spread.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{Conversions, Dataset};
use crate::dsp::dominant_frequency;
use crate::SAMPLE_RATE;

/// A sample with |x| below this (−60 dBFS) counts as near-silent.
pub const SILENCE_THRESHOLD: f32 = 1e-3;

/// A clip's onset is the first sample reaching this fraction of the clip's peak magnitude.
pub const ONSET_FRACTION: f32 = 0.1;

/// Mean, standard deviation (population) and range of a quantity over the items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Mean over the items.
    pub mean: f64,
    /// Population standard deviation over the items.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of a list of values (all zeros for an empty list).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Self {
            mean,
            std: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The summary printed by `trainer data info`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The data set folder.
    pub root: String,
    /// Its format.
    pub format: &'static str,
    /// Number of selected items.
    pub items: usize,
    /// Items per MIDI pitch (empty when unlabelled).
    pub by_pitch: BTreeMap<String, usize>,
    /// Items per instrument family (empty when unlabelled).
    pub by_family: BTreeMap<String, usize>,
    /// Items per spoken word (empty when unlabelled).
    pub by_word: BTreeMap<String, usize>,
    /// Items per MIDI velocity (empty when unlabelled).
    pub by_velocity: BTreeMap<String, usize>,
    /// Items per instrument (empty when unlabelled).
    pub by_instrument: BTreeMap<String, usize>,
    /// Mean of x² over all samples of all items: the MSE of predicting silence.
    pub mean_power: f64,
    /// Fraction of samples with |x| < [`SILENCE_THRESHOLD`].
    pub silence_fraction: f64,
    /// Onset time in seconds (first sample at [`ONSET_FRACTION`] of the clip's peak), over
    /// non-silent items.
    pub onset_seconds: Spread,
    /// Frequency (Hz) of the largest DFT magnitude over each whole clip (thesis figure 5.2).
    pub dominant_frequency_hz: Spread,
    /// Peak |x| over each clip.
    pub peak: Spread,
    /// What had to be converted while reading.
    pub conversions: Conversions,
    /// Files skipped under `--skip-bad`.
    pub skipped: Vec<String>,
}

fn count<'a>(values: impl Iterator<Item = Option<String>> + 'a) -> BTreeMap<String, usize> {
    let mut map = BTreeMap::new();
    for v in values.flatten() {
        *map.entry(v).or_insert(0) += 1;
    }
    map
}

impl Summary {
    /// Computes the summary of a loaded data set.
    pub fn of(ds: &Dataset) -> Self {
        let clips = &ds.clips;
        let total: usize = clips.iter().map(|c| c.samples.len()).sum();
        let power: f64 = clips
            .iter()
            .flat_map(|c| c.samples.iter())
            .map(|&x| (x as f64) * (x as f64))
            .sum();
        let silent = clips
            .iter()
            .flat_map(|c| c.samples.iter())
            .filter(|x| x.abs() < SILENCE_THRESHOLD)
            .count();
        let mut onsets = Vec::new();
        let mut dominant = Vec::new();
        let mut peaks = Vec::new();
        for c in clips {
            let peak = c.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            peaks.push(peak as f64);
            if peak >= SILENCE_THRESHOLD {
                let thr = ONSET_FRACTION * peak;
                if let Some(i) = c.samples.iter().position(|x| x.abs() >= thr) {
                    onsets.push(i as f64 / SAMPLE_RATE as f64);
                }
                dominant.push(dominant_frequency(&c.samples, SAMPLE_RATE));
            }
        }
        Self {
            root: ds.root.display().to_string(),
            format: ds.format.name(),
            items: clips.len(),
            by_pitch: count(clips.iter().map(|c| c.label.pitch.map(|p| p.to_string()))),
            by_family: count(clips.iter().map(|c| c.label.family.clone())),
            by_word: count(clips.iter().map(|c| c.label.word.clone())),
            by_velocity: count(
                clips
                    .iter()
                    .map(|c| c.label.velocity.map(|v| v.to_string())),
            ),
            by_instrument: count(clips.iter().map(|c| c.label.instrument.clone())),
            mean_power: if total > 0 { power / total as f64 } else { 0.0 },
            silence_fraction: if total > 0 {
                silent as f64 / total as f64
            } else {
                0.0
            },
            onset_seconds: Spread::of(&onsets),
            dominant_frequency_hz: Spread::of(&dominant),
            peak: Spread::of(&peaks),
            conversions: ds.conversions.clone(),
            skipped: ds.skipped.clone(),
        }
    }

    /// A human-readable multi-line rendering.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "data set   {} ({})", self.root, self.format);
        let _ = writeln!(s, "items      {}", self.items);
        for (name, hist) in [
            ("pitch", &self.by_pitch),
            ("family", &self.by_family),
            ("word", &self.by_word),
            ("velocity", &self.by_velocity),
        ] {
            if !hist.is_empty() {
                let parts: Vec<String> = hist.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                let _ = writeln!(s, "by {name:<8} {}", parts.join("  "));
            }
        }
        if !self.by_instrument.is_empty() {
            let _ = writeln!(s, "instruments {}", self.by_instrument.len());
        }
        let _ = writeln!(
            s,
            "mean power {:.6}  (silence MSE x1e3 = {:.2})",
            self.mean_power,
            self.mean_power * 1e3
        );
        let _ = writeln!(
            s,
            "near-silent samples (|x| < {SILENCE_THRESHOLD}) {:.1}%",
            self.silence_fraction * 100.0
        );
        let sp = |x: &Spread, unit: &str, scale: f64| {
            format!(
                "{:.1} ± {:.1} {unit} (range {:.1}–{:.1})",
                x.mean * scale,
                x.std * scale,
                x.min * scale,
                x.max * scale
            )
        };
        let _ = writeln!(s, "onset      {}", sp(&self.onset_seconds, "ms", 1e3));
        let _ = writeln!(
            s,
            "dominant f {}",
            sp(&self.dominant_frequency_hz, "Hz", 1.0)
        );
        let _ = writeln!(
            s,
            "peak |x|   {:.3} ± {:.3} (max {:.3})",
            self.peak.mean, self.peak.std, self.peak.max
        );
        let c = &self.conversions;
        let enc: Vec<String> = c
            .encodings
            .iter()
            .map(|(k, v)| format!("{v}× {k}"))
            .collect();
        let _ = writeln!(s, "files      {}", enc.join(", "));
        for (rate, n) in &c.resampled_from {
            let _ = writeln!(
                s,
                "resampled  {n} file(s) from {rate} Hz to {SAMPLE_RATE} Hz (band-limited FFT resampler, rubato)"
            );
        }
        if c.downmixed > 0 {
            let _ = writeln!(
                s,
                "downmixed  {} multi-channel file(s) to mono",
                c.downmixed
            );
        }
        if c.cropped + c.padded > 0 {
            let _ = writeln!(
                s,
                "length     {} cropped to 1 s, {} zero-padded to 1 s",
                c.cropped, c.padded
            );
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(s, "WARNING    {} bad file(s) skipped:", self.skipped.len());
            for e in &self.skipped {
                let _ = writeln!(s, "  {e}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Clip, Format, Label};

    #[test]
    fn spread_matches_hand_values() {
        let s = Spread::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (1.0, 4.0));
    }

    #[test]
    fn summary_of_hand_made_clips() {
        let mut a = vec![0.0f32; crate::CLIP_LEN];
        for (i, v) in a.iter_mut().enumerate().skip(1600) {
            *v = 0.5 * (2.0 * std::f32::consts::PI * 500.0 * i as f32 / 16_000.0).sin();
        }
        let b = vec![0.0f32; crate::CLIP_LEN];
        let ds = Dataset {
            root: "x".into(),
            format: Format::WavFolder,
            clips: vec![
                Clip {
                    id: "a".into(),
                    source: "a.wav".into(),
                    label: Label {
                        word: Some("one".into()),
                        ..Label::default()
                    },
                    samples: a,
                },
                Clip {
                    id: "b".into(),
                    source: "b.wav".into(),
                    label: Label::default(),
                    samples: b,
                },
            ],
            conversions: Conversions::default(),
            skipped: vec![],
        };
        let s = Summary::of(&ds);
        assert_eq!(s.items, 2);
        assert_eq!(s.by_word["one"], 1);
        // Half of clip a is a 0.5-amplitude sine (power 0.125 over 90% of it), b is silent.
        let expected = 0.125 * 0.9 / 2.0;
        assert!((s.mean_power - expected).abs() < 1e-4, "{}", s.mean_power);
        assert!(s.silence_fraction > 0.55 && s.silence_fraction < 0.6);
        assert!((s.onset_seconds.mean - 0.1).abs() < 2e-3);
        assert!((s.dominant_frequency_hz.mean - 500.0).abs() < 1.0);
    }
}
