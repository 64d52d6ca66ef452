//! Reading data sets into fixed-length clips.
//!
//! Three on-disk formats are understood:
//! - **NSynth**: `examples.json` (note id → metadata) and `audio/<note_id>.wav`;
//! - **Speech Commands**: one sub-folder per word holding WAV files (folders starting with
//!   `_` or `.`, such as `_background_noise_`, are ignored);
//! - **WAV folder**: any folder tree of WAV files.
//!
//! Every file is decoded ([`crate::audio::read_wav`]), downmixed to mono, resampled to
//! 16 kHz with a band-limited resampler when needed, and cropped or end-padded to exactly
//! one second. Nothing is normalised (thesis section 5.5; docs/reference-code.md, "Data").

mod clip;
mod error;
mod nsynth;
mod selection;
mod speech;
mod stats;
mod wav_folder;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use clip::{fit_to_clip, Clip, Label};
pub use error::DatasetError;
pub use selection::{balanced_choice, parse_pitch_range, split_list, QualityFilter, Selection};
pub use stats::{Spread, Summary};

use crate::audio::read_wav;
use crate::dsp::resample;
use crate::SAMPLE_RATE;

/// The on-disk layout of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// NSynth: `examples.json` + `audio/<id>.wav`.
    Nsynth,
    /// Speech Commands: `<word>/<file>.wav`.
    SpeechCommands,
    /// Any folder tree of WAV files.
    WavFolder,
}

impl Format {
    /// Parses `nsynth`, `speech-commands` or `wav-folder`.
    pub fn parse(s: &str) -> Result<Self, DatasetError> {
        match s {
            "nsynth" => Ok(Self::Nsynth),
            "speech-commands" | "speech" => Ok(Self::SpeechCommands),
            "wav-folder" | "wav" => Ok(Self::WavFolder),
            other => Err(DatasetError::BadOption(format!(
                "unknown data format '{other}' (expected nsynth, speech-commands or wav-folder)"
            ))),
        }
    }

    /// Guesses the format of a folder: `examples.json` means NSynth; sub-folders with WAV
    /// files and no WAV files at the top means Speech Commands; anything else is a WAV folder.
    pub fn detect(root: &Path) -> Result<Self, DatasetError> {
        if !root.is_dir() {
            return Err(DatasetError::NotFound {
                path: root.to_path_buf(),
            });
        }
        if root.join("examples.json").is_file() {
            return Ok(Self::Nsynth);
        }
        let entries = list_dir(root)?;
        let top_wavs = entries.iter().any(|p| p.is_file() && is_wav(p));
        let word_dirs = entries.iter().any(|p| {
            p.is_dir()
                && !is_hidden_or_ignored(p)
                && list_dir(p)
                    .map(|e| e.iter().any(|f| f.is_file() && is_wav(f)))
                    .unwrap_or(false)
        });
        Ok(if word_dirs && !top_wavs {
            Self::SpeechCommands
        } else {
            Self::WavFolder
        })
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nsynth => "nsynth",
            Self::SpeechCommands => "speech-commands",
            Self::WavFolder => "wav-folder",
        }
    }
}

/// What had to be converted while reading, reported in the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conversions {
    /// Files resampled to 16 kHz, counted by their original rate.
    pub resampled_from: BTreeMap<u32, usize>,
    /// Files with more than one channel, averaged to mono.
    pub downmixed: usize,
    /// Files counted by sample encoding (e.g. `16-bit int`).
    pub encodings: BTreeMap<String, usize>,
    /// Files longer than one second (cropped to their first second).
    pub cropped: usize,
    /// Files shorter than one second (zero-padded at the end).
    pub padded: usize,
}

/// A loaded, selected data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The folder it was read from.
    pub root: PathBuf,
    /// Its format.
    pub format: Format,
    /// The selected clips, in ascending id order.
    pub clips: Vec<Clip>,
    /// What had to be converted while reading.
    pub conversions: Conversions,
    /// Files skipped under `--skip-bad`, with the reason.
    pub skipped: Vec<String>,
}

/// Reads the data set at `root` with the given selection. The format is detected when
/// `format` is `None`.
pub fn load(
    root: &Path,
    format: Option<Format>,
    selection: &Selection,
) -> Result<Dataset, DatasetError> {
    if !root.is_dir() {
        return Err(DatasetError::NotFound {
            path: root.to_path_buf(),
        });
    }
    if selection.items == Some(0) {
        return Err(DatasetError::BadOption("--items must be at least 1".into()));
    }
    let format = match format {
        Some(f) => f,
        None => Format::detect(root)?,
    };
    let mut reader = ClipReader::new(selection.skip_bad);
    let clips = match format {
        Format::Nsynth => nsynth::load(root, selection, &mut reader)?,
        Format::SpeechCommands => speech::load(root, selection, &mut reader)?,
        Format::WavFolder => wav_folder::load(root, selection, &mut reader)?,
    };
    if clips.is_empty() {
        return Err(DatasetError::EmptySelection {
            path: root.to_path_buf(),
            detail: format!(
                "{}; {} file(s) skipped as unreadable",
                selection.describe(),
                reader.skipped.len()
            ),
        });
    }
    Ok(Dataset {
        root: root.to_path_buf(),
        format,
        clips,
        conversions: reader.conversions,
        skipped: reader.skipped,
    })
}

/// Decodes files into clips, recording conversions and (under `--skip-bad`) skipped files.
pub(crate) struct ClipReader {
    skip_bad: bool,
    conversions: Conversions,
    skipped: Vec<String>,
}

impl ClipReader {
    fn new(skip_bad: bool) -> Self {
        Self {
            skip_bad,
            conversions: Conversions::default(),
            skipped: Vec::new(),
        }
    }

    /// Reads one file into a clip. `Ok(None)` means the file was bad and skipped.
    pub(crate) fn read(
        &mut self,
        id: String,
        path: &Path,
        label: Label,
    ) -> Result<Option<Clip>, DatasetError> {
        match self.decode(path) {
            Ok(samples) => Ok(Some(Clip {
                id,
                source: path.to_path_buf(),
                label,
                samples,
            })),
            Err(e) => self.skip_or_fail(e).map(|()| None),
        }
    }

    /// Records a per-file error as skipped under `--skip-bad`, or returns it.
    pub(crate) fn skip_or_fail(&mut self, e: DatasetError) -> Result<(), DatasetError> {
        if self.skip_bad {
            self.skipped.push(e.to_string());
            Ok(())
        } else {
            Err(e)
        }
    }

    fn decode(&mut self, path: &Path) -> Result<Vec<f32>, DatasetError> {
        let wav = read_wav(path)?;
        let samples = if wav.sample_rate == SAMPLE_RATE {
            wav.samples
        } else {
            resample(&wav.samples, wav.sample_rate, SAMPLE_RATE).map_err(|source| {
                DatasetError::Resample {
                    path: path.to_path_buf(),
                    source,
                }
            })?
        };
        let c = &mut self.conversions;
        if wav.sample_rate != SAMPLE_RATE {
            *c.resampled_from.entry(wav.sample_rate).or_default() += 1;
        }
        if wav.channels > 1 {
            c.downmixed += 1;
        }
        *c.encodings.entry(wav.encoding.to_string()).or_default() += 1;
        match samples.len().cmp(&crate::CLIP_LEN) {
            std::cmp::Ordering::Greater => c.cropped += 1,
            std::cmp::Ordering::Less => c.padded += 1,
            std::cmp::Ordering::Equal => {}
        }
        Ok(fit_to_clip(samples))
    }
}

/// Reads an id list: a JSON array of ids, or a JSON object whose keys are the ids (the
/// thesis' subset files map note id → metadata).
pub fn read_id_list(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let meta_err = |reason: String| DatasetError::Metadata {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| meta_err(format!("not valid JSON: {e}")))?;
    match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                other => Err(meta_err(format!("id list entry {other} is not a string"))),
            })
            .collect(),
        serde_json::Value::Object(map) => Ok(map.keys().cloned().collect()),
        _ => Err(meta_err(
            "an id list must be a JSON array of ids or an object keyed by id".into(),
        )),
    }
}

/// Restricts candidates (by id) to those named in the selection's id list, failing on ids
/// the data set does not have.
fn restrict_to_id_list(
    ids_of_candidates: &[String],
    selection: &Selection,
    all_ids: &dyn Fn(&str) -> bool,
) -> Result<Option<Vec<bool>>, DatasetError> {
    let Some(list_path) = &selection.ids else {
        return Ok(None);
    };
    let wanted = read_id_list(list_path)?;
    let unknown: Vec<&String> = wanted.iter().filter(|id| !all_ids(id)).collect();
    if !unknown.is_empty() {
        return Err(DatasetError::UnknownIds {
            path: list_path.clone(),
            count: unknown.len(),
            examples: unknown
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let wanted: std::collections::HashSet<String> = wanted.into_iter().collect();
    Ok(Some(
        ids_of_candidates
            .iter()
            .map(|id| wanted.contains(id))
            .collect(),
    ))
}

/// Picks the final candidates: applies the id list, then `--items` balanced by `key`.
/// Returns candidate indices in ascending order.
fn choose<K: Ord + Clone>(
    root: &Path,
    ids: &[String],
    keys: &[K],
    selection: &Selection,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<usize>, DatasetError> {
    let mask = restrict_to_id_list(ids, selection, known)?;
    let pool: Vec<usize> = (0..ids.len())
        .filter(|&i| mask.as_ref().is_none_or(|m| m[i]))
        .collect();
    if pool.is_empty() {
        return Err(DatasetError::EmptySelection {
            path: root.to_path_buf(),
            detail: selection.describe(),
        });
    }
    match selection.items {
        None => Ok(pool),
        Some(n) if n > pool.len() => Err(DatasetError::TooFewItems {
            path: root.to_path_buf(),
            requested: n,
            available: pool.len(),
        }),
        Some(n) => {
            let pool_keys: Vec<K> = pool.iter().map(|&i| keys[i].clone()).collect();
            Ok(balanced_choice(&pool_keys, n, selection.seed)
                .into_iter()
                .map(|j| pool[j])
                .collect())
        }
    }
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let rd = std::fs::read_dir(dir).map_err(|source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|source| DatasetError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

fn is_wav(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

fn is_hidden_or_ignored(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('_') || n.starts_with('.'))
}

fn reject_option(set: bool, flag: &str, format: Format) -> Result<(), DatasetError> {
    if set {
        Err(DatasetError::BadOption(format!(
            "{flag} does not apply to {} data",
            format.name()
        )))
    } else {
        Ok(())
    }
}
