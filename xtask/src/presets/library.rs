//! The shipped library: which sounds each preset holds and the recipe that trains it.
//!
//! Every notes preset is two General MIDI programs of one family from FluidR3 (the project's
//! soundfont, MIT), one note every four semitones from C2 to C6 at velocity 100: 26 items
//! cover the keyboard for key tracking, few enough for one `layered-96` network to hold them
//! with the notes recipe's fidelity (its error grows with the number of items a network
//! holds). The morph preset holds eight families on five pitches; the digits preset is spoken
//! digits in several voices with the speech recipe.

/// Where a preset's training set comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// NSynth-format notes rendered from FluidR3: these GM programs, MIDI pitches from `low`
    /// to `high` every `step`, at velocity 100.
    Notes {
        /// GM program numbers (0–127).
        programs: &'static [u8],
        /// Lowest MIDI pitch.
        low: u8,
        /// Highest MIDI pitch.
        high: u8,
        /// Semitones between the pitches kept.
        step: u8,
    },
    /// Speech-Commands-format spoken digits from espeak-ng: `per_word` clips of each digit.
    Digits {
        /// Clips per digit.
        per_word: usize,
        /// The voice, speed, level and onset seed.
        seed: u64,
    },
}

/// The training recipe a preset uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// `trainer/configs/notes.toml`.
    Notes,
    /// `trainer/configs/speech.toml`.
    Speech,
}

impl Recipe {
    /// The recipe's config file, relative to the workspace root.
    pub fn config(self) -> &'static str {
        match self {
            Recipe::Notes => "trainer/configs/notes.toml",
            Recipe::Speech => "trainer/configs/speech.toml",
        }
    }

    /// Minutes one item takes on 2 cores (the whole recipe on an idle machine): the notes
    /// recipe's 2400 epochs of 80 notes took 1,415 s, the speech recipe's 2000 epochs of 120
    /// digits about 18 minutes (BENCHMARKS.md, "Fidelity").
    pub fn minutes_per_item(self) -> f64 {
        match self {
            Recipe::Notes => 1415.0 / 60.0 / 80.0,
            Recipe::Speech => 18.0 / 120.0,
        }
    }
}

/// One preset of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryPreset {
    /// File stem in `presets/library/` and the name the plugin lists.
    pub name: &'static str,
    /// What a musician reads in the browser.
    pub description: &'static str,
    /// Its sounds.
    pub source: Source,
    /// How it is trained.
    pub recipe: Recipe,
}

impl LibraryPreset {
    /// Number of items the preset holds.
    pub fn items(&self) -> usize {
        match self.source {
            Source::Notes {
                programs,
                low,
                high,
                step,
            } => programs.len() * (usize::from((high - low) / step) + 1),
            Source::Digits { per_word, .. } => 10 * per_word,
        }
    }

    /// Estimated training minutes on 2 cores.
    pub fn minutes(&self) -> f64 {
        self.items() as f64 * self.recipe.minutes_per_item()
    }
}

/// The notes every notes preset plays: C2 to C6 every four semitones.
const fn notes(programs: &'static [u8]) -> Source {
    Source::Notes {
        programs,
        low: 36,
        high: 84,
        step: 4,
    }
}

/// The library, in the order the plugin lists it (after its built-in default).
pub const LIBRARY: [LibraryPreset; 10] = [
    LibraryPreset {
        name: "keyboard",
        description: "acoustic grand and electric piano",
        source: notes(&[0, 4]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "mallet",
        description: "vibraphone and marimba",
        source: notes(&[11, 12]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "guitar",
        description: "nylon and clean electric guitar",
        source: notes(&[24, 27]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "strings",
        description: "violin and cello",
        source: notes(&[40, 42]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "brass",
        description: "trumpet and French horn",
        source: notes(&[56, 60]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "reed-flute",
        description: "alto saxophone and flute",
        source: notes(&[65, 73]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "organ",
        description: "drawbar and church organ",
        source: notes(&[16, 19]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "synth-lead",
        description: "square and sawtooth lead",
        source: notes(&[80, 81]),
        recipe: Recipe::Notes,
    },
    LibraryPreset {
        name: "digits",
        description: "spoken digits, several voices",
        source: Source::Digits {
            per_word: 4,
            seed: 5,
        },
        recipe: Recipe::Speech,
    },
    LibraryPreset {
        name: "morph",
        description: "eight families on one set of notes, for morphing between instruments",
        source: Source::Notes {
            programs: &[0, 11, 19, 24, 40, 56, 73, 81],
            low: 48,
            high: 72,
            step: 6,
        },
        recipe: Recipe::Notes,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Names are unique file stems; sizes are what the docs say; the whole library fits an
    /// afternoon on 2 cores.
    #[test]
    fn the_library_is_well_formed() {
        let mut names: Vec<&str> = LIBRARY.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LIBRARY.len());
        for p in &LIBRARY {
            assert!(p.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
        }
        assert_eq!(LIBRARY[0].items(), 26);
        assert_eq!(LIBRARY[9].items(), 40);
        assert_eq!(LIBRARY[8].items(), 40);
        let total: f64 = LIBRARY.iter().map(LibraryPreset::minutes).sum();
        assert!((60.0..240.0).contains(&total), "{total} minutes");
    }
}
