//! A run folder: `run.json` (settings, resolved model config, data description),
//! `checkpoint.safetensors` (the newest state), `checkpoint-previous.safetensors` (the one
//! before it, kept for NaN recovery) and `log.jsonl`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sirenade_common::atomic_file::AtomicFile;
use sirenade_common::dataset::{Clip, Dataset, Label};
use sirenade_common::model_config::ModelConfig;

use super::settings::TrainSettings;

/// Run folder format version (2: the data's digest and the fade-in span are recorded).
/// `scripts/main.sh` starts over a run of another version instead of resuming it.
pub const RUN_VERSION: u32 = 2;

/// One training item as recorded in the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemInfo {
    /// The item's id in its data set.
    pub id: String,
    /// Its labels.
    pub label: Label,
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// The `--data` argument as given (`bundled:keyboard` or a path).
    pub source: String,
    /// The folder read.
    pub root: String,
    /// Its format.
    pub format: String,
    /// The data-selection flags, as given.
    pub selection: Vec<String>,
    /// The items, in training order (latent row i is item i).
    pub items: Vec<ItemInfo>,
    /// Mean x² over the set: the MSE of predicting silence.
    pub mean_power: f64,
    /// [`clips_digest`] of the items' audio: a resume, `eval` or `render` refuses audio that
    /// changed since training even when the ids are the same.
    pub digest: String,
}

/// A stable 64-bit FNV-1a digest of `bytes`, as 16 hex digits.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The digest of clips' samples (f32 little-endian, clip after clip, in order).
pub fn clips_digest(clips: &[Clip]) -> String {
    fnv1a(
        clips
            .iter()
            .flat_map(|c| c.samples.iter().flat_map(|x| x.to_le_bytes())),
    )
}

impl DataInfo {
    /// Describes a loaded data set.
    pub fn of(source: &str, selection: Vec<String>, ds: &Dataset) -> Self {
        let total: f64 = ds
            .clips
            .iter()
            .flat_map(|c| c.samples.iter())
            .map(|&x| (x as f64).powi(2))
            .sum();
        let n = (ds.clips.len() * sirenade_common::CLIP_LEN).max(1) as f64;
        Self {
            source: source.to_string(),
            root: ds.root.display().to_string(),
            format: ds.format.name().to_string(),
            selection,
            items: ds
                .clips
                .iter()
                .map(|c| ItemInfo {
                    id: c.id.clone(),
                    label: c.label.clone(),
                })
                .collect(),
            mean_power: total / n,
            digest: clips_digest(&ds.clips),
        }
    }
}

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Format version.
    pub version: u32,
    /// Training settings.
    pub settings: TrainSettings,
    /// The model configuration, omega overrides applied.
    pub model: ModelConfig,
    /// The training data (of an inversion: the clips it reconstructed).
    pub data: DataInfo,
    /// Set in the folders `trainer invert` writes: where their latents came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inversion: Option<Inversion>,
}

/// How an inversion's latents were found (`trainer invert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inversion {
    /// The training run whose frozen decoder was used.
    pub run: String,
    /// Adam steps per item.
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
}

impl RunInfo {
    /// A stable 64-bit FNV-1a digest of what must not change on `--resume`: the model, the
    /// items and their audio, and the settings that shape the trajectory (not epochs,
    /// checkpoint period or device).
    pub fn fingerprint(&self) -> String {
        let mut s = self.settings.clone();
        s.epochs = 0;
        s.checkpoint_every = 0;
        s.device = String::new();
        let ids: Vec<&str> = self.data.items.iter().map(|i| i.id.as_str()).collect();
        let text =
            serde_json::to_string(&(&self.model, ids, &self.data.digest, &s)).unwrap_or_default();
        fnv1a(text.bytes())
    }

    /// Reads `RUN/run.json`.
    pub fn read(run: &Path) -> Result<Self> {
        let path = run.join("run.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read (is {} a training run?)",
                path.display(),
                run.display()
            )
        })?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: malformed run description", path.display()))?;
        // The version first: an older format lacks fields this one requires.
        let version = value["version"].as_u64().unwrap_or(0);
        anyhow::ensure!(
            version == RUN_VERSION as u64,
            "{}: run format version {version} (this trainer reads {RUN_VERSION}; train the run again, into a new folder)",
            path.display()
        );
        let info: RunInfo = serde_json::from_value(value)
            .with_context(|| format!("{}: malformed run description", path.display()))?;
        Ok(info)
    }

    /// Writes `RUN/run.json` and `RUN/items.json` (the item ids, an id list that re-reads
    /// exactly these items) atomically.
    pub fn write(&self, run: &Path) -> Result<()> {
        let ids: Vec<&str> = self.data.items.iter().map(|i| i.id.as_str()).collect();
        write_json(&items_path(run), &ids)?;
        write_json(&run.join("run.json"), self)
    }
}

/// Creates `dir` if needed and checks that files can be created in it, so that a command
/// fails before its long work rather than after.
pub fn ensure_writable(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    tempfile::NamedTempFile::new_in(dir)
        .map(drop)
        .map_err(|e| anyhow::anyhow!("{}: the folder is not writable ({e})", dir.display()))
}

/// The checkpoint file of a run.
pub fn checkpoint_path(run: &Path) -> PathBuf {
    run.join("checkpoint.safetensors")
}

/// The checkpoint before the newest one: where a rollback goes when the newest state itself
/// gives a non-finite loss.
pub fn previous_checkpoint_path(run: &Path) -> PathBuf {
    run.join("checkpoint-previous.safetensors")
}

/// The per-epoch log of a run.
pub fn log_path(run: &Path) -> PathBuf {
    run.join("log.jsonl")
}

/// The item-id list of a run (a JSON array of ids, readable with `--ids`).
pub fn items_path(run: &Path) -> PathBuf {
    run.join("items.json")
}

/// Writes pretty JSON to `path` through an [`AtomicFile`].
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let tmp = AtomicFile::new(path)
        .with_context(|| format!("{}: cannot write into its folder", path.display()))?;
    serde_json::to_writer_pretty(tmp.file(), value)?;
    tmp.commit()
        .with_context(|| format!("{}: cannot move into place", path.display()))
}
