//! Which items of a data set to use: filters, an explicit id list, and a seeded, balanced
//! choice of a fixed number of items.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::DatasetError;

/// Which NSynth quality flags exclude an item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum QualityFilter {
    /// Exclude every item with any quality flag set (the thesis' rule, section 5.5).
    #[default]
    All,
    /// Keep items whatever their qualities.
    Keep,
    /// Exclude items having any of these quality names (e.g. `reverb`, `distortion`).
    Listed(Vec<String>),
}

impl QualityFilter {
    /// Parses `all`, `none`, or a comma-separated list of quality names.
    pub fn parse(s: &str) -> Result<Self, DatasetError> {
        match s.trim() {
            "all" => Ok(Self::All),
            "none" => Ok(Self::Keep),
            "" => Err(DatasetError::BadOption(
                "--exclude-qualities needs 'all', 'none' or a list of quality names".into(),
            )),
            list => Ok(Self::Listed(split_list(list))),
        }
    }

    /// Whether an item carrying these quality names is excluded.
    pub fn excludes(&self, qualities: &[String]) -> bool {
        match self {
            Self::All => !qualities.is_empty(),
            Self::Keep => false,
            Self::Listed(names) => qualities.iter().any(|q| names.contains(q)),
        }
    }
}

/// The selection flags shared by `trainer data info`, `trainer fit` and `trainer invert`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// NSynth instrument families to keep (all when `None`).
    pub families: Option<Vec<String>>,
    /// MIDI pitches to keep (all when `None`).
    pub pitches: Option<RangeInclusive<u8>>,
    /// Speech Commands words to keep (all word folders when `None`).
    pub words: Option<Vec<String>>,
    /// A JSON file listing the ids to use (an array of ids, or an object keyed by id as the
    /// thesis' subset files are).
    pub ids: Option<PathBuf>,
    /// How many items to take, balanced by pitch and family (notes) or word (speech).
    pub items: Option<usize>,
    /// Seed of the balanced choice.
    pub seed: u64,
    /// NSynth quality-flag exclusion.
    pub qualities: QualityFilter,
    /// Turn per-file errors into a counted warning instead of failing.
    pub skip_bad: bool,
}

impl Selection {
    /// A one-line description of the active filters, for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.families {
            parts.push(format!("families {}", f.join(",")));
        }
        if let Some(p) = &self.pitches {
            parts.push(format!("pitches {}-{}", p.start(), p.end()));
        }
        if let Some(w) = &self.words {
            parts.push(format!("words {}", w.join(",")));
        }
        if let Some(i) = &self.ids {
            parts.push(format!("ids from {}", i.display()));
        }
        if parts.is_empty() {
            "no filters".into()
        } else {
            parts.join("; ")
        }
    }
}

/// Splits a comma-separated list, trimming blanks and dropping empty entries.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Parses a pitch range `60-64` or a single pitch `60` (MIDI 0..=127).
pub fn parse_pitch_range(s: &str) -> Result<RangeInclusive<u8>, DatasetError> {
    let bad = || DatasetError::BadOption(format!("pitch range '{s}' is not LOW-HIGH in 0..=127"));
    let parse = |p: &str| -> Result<u8, DatasetError> {
        p.trim()
            .parse::<u8>()
            .ok()
            .filter(|&v| v <= 127)
            .ok_or_else(bad)
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let v = parse(s)?;
            (v, v)
        }
    };
    if lo > hi {
        return Err(bad());
    }
    Ok(lo..=hi)
}

/// Chooses `n` of the candidates, balanced over their group keys: the groups are visited
/// round-robin (in a seeded order each round), each contributing one seeded-random member
/// per visit, until `n` are chosen. With keys `(family, pitch)` this balances both pitch
/// and family counts, as the thesis' subsets are balanced (section 5.5).
///
/// Returns the chosen indices in ascending order.
pub fn balanced_choice<K: Ord + Clone>(keys: &[K], n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        groups.entry(k.clone()).or_default().push(i);
    }
    let mut queues: Vec<Vec<usize>> = groups.into_values().collect();
    for q in &mut queues {
        q.shuffle(&mut rng);
    }
    let mut chosen = Vec::with_capacity(n.min(keys.len()));
    let mut order: Vec<usize> = (0..queues.len()).collect();
    while chosen.len() < n && queues.iter().any(|q| !q.is_empty()) {
        order.shuffle(&mut rng);
        for &g in &order {
            if chosen.len() == n {
                break;
            }
            if let Some(i) = queues[g].pop() {
                chosen.push(i);
            }
        }
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_choice_balances_groups() {
        // 5 pitches with very unequal counts.
        let mut keys = Vec::new();
        for (pitch, count) in [(60u8, 50), (61, 10), (62, 30), (63, 8), (64, 100)] {
            keys.extend(std::iter::repeat_n(pitch, count));
        }
        let chosen = balanced_choice(&keys, 40, 7);
        assert_eq!(chosen.len(), 40);
        let mut hist = BTreeMap::new();
        for &i in &chosen {
            *hist.entry(keys[i]).or_insert(0) += 1;
        }
        assert_eq!(hist[&60], 8);
        assert_eq!(hist[&63], 8);
        // 41 would need one group to give a 9th item; 8 per group is exact here.
        let chosen = balanced_choice(&keys, 44, 7);
        let mut hist = BTreeMap::new();
        for &i in &chosen {
            *hist.entry(keys[i]).or_insert(0) += 1;
        }
        // Pitch 63 runs out at 8; the others share the rest evenly (9 each).
        assert_eq!(hist[&63], 8);
        assert!(hist.values().all(|&c| (8..=9).contains(&c)), "{hist:?}");
    }

    #[test]
    fn balanced_choice_is_seeded() {
        let keys: Vec<u8> = (0..100).map(|i| (i % 7) as u8).collect();
        assert_eq!(balanced_choice(&keys, 20, 1), balanced_choice(&keys, 20, 1));
        assert_ne!(balanced_choice(&keys, 20, 1), balanced_choice(&keys, 20, 2));
        assert_eq!(balanced_choice(&keys, 1000, 1).len(), 100);
    }

    #[test]
    fn pitch_ranges_and_qualities() {
        assert_eq!(parse_pitch_range("60-64").unwrap(), 60..=64);
        assert_eq!(parse_pitch_range("72").unwrap(), 72..=72);
        assert!(parse_pitch_range("64-60").is_err());
        assert!(parse_pitch_range("0-200").is_err());
        assert!(parse_pitch_range("a-b").is_err());
        assert!(QualityFilter::All.excludes(&["reverb".into()]));
        assert!(!QualityFilter::All.excludes(&[]));
        assert!(!QualityFilter::Keep.excludes(&["reverb".into()]));
        let listed = QualityFilter::parse("reverb, dark").unwrap();
        assert!(listed.excludes(&["dark".into()]));
        assert!(!listed.excludes(&["bright".into()]));
    }
}
