//! Errors of the data pipeline. Every variant names the file or folder concerned.

use std::path::PathBuf;

use thiserror::Error;

use crate::audio::AudioError;
use crate::dsp::ResampleError;

/// Why a data set could not be read or selected.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// A WAV file could not be decoded.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// A WAV file could not be brought to 16 kHz.
    #[error("{path}: {source}")]
    Resample {
        /// The file concerned.
        path: PathBuf,
        /// What the resampler reported.
        source: ResampleError,
    },
    /// The data set path does not exist or is not a folder.
    #[error("{path}: no such data set folder")]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// A folder or file could not be listed or read.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `examples.json` (or an id list) does not parse or lacks a field.
    #[error("{path}: {reason}")]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `examples.json` names a note whose audio file is missing.
    #[error("{metadata}: note '{id}' has no audio file {audio}")]
    MissingAudio {
        /// The metadata file naming the note.
        metadata: PathBuf,
        /// The note id.
        id: String,
        /// The audio path expected.
        audio: PathBuf,
    },
    /// An id list names ids that the data set does not contain.
    #[error("{path}: {count} id(s) not in the data set, e.g. {examples}")]
    UnknownIds {
        /// The id list file.
        path: PathBuf,
        /// How many ids were unknown.
        count: usize,
        /// The first few unknown ids, comma separated.
        examples: String,
    },
    /// The selection matched no item.
    #[error("{path}: the selection matches no item ({detail})")]
    EmptySelection {
        /// The data set folder.
        path: PathBuf,
        /// Which filters were active.
        detail: String,
    },
    /// More items were requested than the selection holds.
    #[error("{path}: {requested} items requested but the selection holds only {available}")]
    TooFewItems {
        /// The data set folder.
        path: PathBuf,
        /// Items requested with `--items`.
        requested: usize,
        /// Items that match the filters.
        available: usize,
    },
    /// An option value that cannot be satisfied.
    #[error("invalid option: {0}")]
    BadOption(String),
}
