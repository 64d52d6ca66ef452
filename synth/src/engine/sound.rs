//! A preset made playable: its evaluator, latent space and items, with the note → item and
//! controls → latent rules every voice uses.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use sirenade_common::evaluator::{Evaluator, EvaluatorError};
use sirenade_common::preset::{Preset, PresetError, PresetInfo};

use super::controls::LATENT_CONTROLS;

/// The preset built into the plugin: the project's demo model trained on its bundled keyboard
/// notes (see `presets/README.md`).
pub const EMBEDDED_PRESET: &[u8] = include_bytes!("../../../presets/keyboard-demo.sirenade");

/// Why a preset could not be made playable.
#[derive(Debug, thiserror::Error)]
pub enum SoundError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The problem.
        source: std::io::Error,
    },
    /// The preset failed validation.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The evaluator rejected the weights.
    #[error("{origin}: {source}")]
    Evaluator {
        /// The file (or `embedded`).
        origin: String,
        /// The problem.
        source: EvaluatorError,
    },
    /// The preset has no items to play.
    #[error("{0}: the preset has no items")]
    Empty(String),
    /// A saved project names a library preset this build does not have.
    #[error("{0}: no such preset in this build's library")]
    NotInLibrary(String),
}

/// MIDI key that sounds at the model's own speed when an item has no pitch label (speech).
pub const UNPITCHED_ROOT_KEY: u8 = 60;

/// What a note plays: an item and the speed factor that transposes it to the note.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved {
    /// The item whose latent is used.
    pub item: usize,
    /// Playback speed: 1 is the model's own time, 2 an octave up.
    pub rate: f64,
}

#[derive(Debug, Clone)]
struct Item {
    /// Its id in the training set.
    id: String,
    pitch: Option<u8>,
    velocity: Option<u8>,
    /// Index of the item's group in `Sound::groups`: its instrument, else its family, else
    /// its word (items with none of these share one group).
    group: usize,
}

/// A validated preset ready to play. Building one allocates (off the audio thread); using it
/// never does.
pub struct Sound {
    prototype: Evaluator,
    items: Vec<Item>,
    names: Vec<String>,
    /// Names of the item groups (instrument, family or word), in order of first appearance.
    groups: Vec<String>,
    dim: usize,
    table: Vec<f32>,
    /// `LATENT_CONTROLS × dim`: principal directions scaled by their standard deviations
    /// (zero rows where the preset has fewer).
    scaled_directions: Vec<f32>,
    origin: String,
    sha256: String,
    /// The preset's model, training set and training summary.
    info: PresetInfo,
    /// Standard deviation of the latents along each stored principal direction.
    direction_stds: Vec<f32>,
}

impl Sound {
    /// Reads, validates and prepares the preset file at `path` (at most
    /// [`MAX_FILE_BYTES`](sirenade_common::preset::MAX_FILE_BYTES) are read).
    pub fn load(path: &Path) -> Result<Sound, SoundError> {
        let name = path.display().to_string();
        let io = |source| SoundError::Io {
            path: name.clone(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(sirenade_common::preset::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        Sound::from_bytes(&bytes, &name)
    }

    /// Validates and prepares a preset held in memory; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Sound, SoundError> {
        let preset = Preset::from_bytes(bytes).map_err(|mut e| {
            e.file = origin.to_string();
            e
        })?;
        Sound::from_preset(preset, origin.to_string(), bytes)
    }

    /// The preset built into the plugin.
    pub fn embedded() -> Sound {
        // The embedded file is checked by the crate's tests; failing here is a build defect.
        Sound::from_bytes(EMBEDDED_PRESET, "embedded preset")
            .expect("the embedded preset is valid (tested)")
    }

    fn from_preset(preset: Preset, origin: String, bytes: &[u8]) -> Result<Sound, SoundError> {
        let items_info = &preset.info.data.items;
        if items_info.is_empty() || preset.latents.rows() == 0 {
            return Err(SoundError::Empty(origin));
        }
        let prototype =
            Evaluator::new(preset.network_weights()).map_err(|source| SoundError::Evaluator {
                origin: origin.clone(),
                source,
            })?;
        let mut groups: Vec<String> = Vec::new();
        let items = items_info
            .iter()
            .map(|item| {
                let key = item
                    .label
                    .instrument
                    .clone()
                    .or_else(|| item.label.family.clone())
                    .or_else(|| item.label.word.clone())
                    .unwrap_or_default();
                let group = groups.iter().position(|g| *g == key).unwrap_or_else(|| {
                    groups.push(key);
                    groups.len() - 1
                });
                Item {
                    id: item.id.clone(),
                    pitch: item.label.pitch,
                    velocity: item.label.velocity,
                    group,
                }
            })
            .collect();
        let names = items_info
            .iter()
            .map(|item| {
                let l = &item.label;
                match (&l.word, &l.instrument, l.pitch) {
                    (Some(word), _, _) => format!("{word} ({})", item.id),
                    (None, Some(inst), Some(p)) => format!("{inst} {}", note_name(p)),
                    _ => item.id.clone(),
                }
            })
            .collect();
        let latents = &preset.latents;
        let dim = latents.dim;
        let mut scaled_directions = vec![0.0; LATENT_CONTROLS * dim];
        for k in 0..LATENT_CONTROLS.min(latents.components()) {
            let (Some(dir), Some(&std)) = (latents.direction(k), latents.stds.get(k)) else {
                continue;
            };
            for (d, &v) in scaled_directions[k * dim..(k + 1) * dim]
                .iter_mut()
                .zip(dir)
            {
                *d = v * std;
            }
        }
        let table = latents.table[..latents.rows().min(items_info.len()) * dim].to_vec();
        Ok(Sound {
            prototype,
            items,
            names,
            groups,
            dim,
            table,
            scaled_directions,
            origin,
            sha256: hex_sha256(bytes),
            direction_stds: latents.stds.clone(),
            info: preset.info,
        })
    }

    /// This preset with one item whose latent is `latent` (unpitched: it sounds at the model's
    /// own speed on [`UNPITCHED_ROOT_KEY`]); the principal directions stay the preset's.
    pub fn with_latent(&self, latent: &[f32]) -> Result<Sound, String> {
        if latent.len() != self.dim {
            return Err(format!(
                "the latent has {} values, the preset's latents have {}",
                latent.len(),
                self.dim
            ));
        }
        if let Some(i) = latent.iter().position(|v| !v.is_finite()) {
            return Err(format!("latent value {} is not finite", i + 1));
        }
        Ok(Sound {
            items: vec![Item {
                id: "custom latent".to_string(),
                pitch: None,
                velocity: None,
                group: 0,
            }],
            names: vec!["custom latent".to_string()],
            groups: vec![String::new()],
            table: latent.to_vec(),
            ..self.clone()
        })
    }

    /// The training-set id of item `i`.
    pub fn item_id(&self, i: usize) -> Option<&str> {
        self.items.get(i).map(|it| it.id.as_str())
    }

    /// The pitch label of item `i`, if it has one.
    pub fn item_pitch(&self, i: usize) -> Option<u8> {
        self.items.get(i).and_then(|it| it.pitch)
    }

    /// Number of playable items.
    pub fn items(&self) -> usize {
        self.table.len() / self.dim.max(1)
    }

    /// The latent size.
    pub fn latent_dim(&self) -> usize {
        self.dim
    }

    /// A readable name of item `i` (instrument and note, or word), for parameter displays.
    pub fn item_name(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
    }

    /// The group item `i` belongs to: its instrument, else its family, else its word (empty
    /// when the preset labels none of these).
    pub fn item_group(&self, i: usize) -> Option<&str> {
        let item = self.items.get(i)?;
        self.groups.get(item.group).map(String::as_str)
    }

    /// The latent of item `i` (`latent_dim` values).
    pub fn item_latent(&self, i: usize) -> Option<&[f32]> {
        self.table.get(i * self.dim..(i + 1) * self.dim)
    }

    /// How far `latent` lies from `origin` along each `Latent k` direction, in that control's
    /// units (standard deviations of the training latents): the inverse of the offsets
    /// [`latent_into`](Self::latent_into) adds, exact for a latent within the directions'
    /// span. Directions the preset lacks read 0.
    pub fn control_offsets(&self, origin: &[f32], latent: &[f32]) -> [f32; LATENT_CONTROLS] {
        let dim = self.dim;
        std::array::from_fn(|k| {
            let std = self.direction_stds.get(k).copied().unwrap_or(0.0);
            if std <= 0.0 || !std.is_finite() {
                return 0.0;
            }
            let dir = &self.scaled_directions[k * dim..(k + 1) * dim];
            let along: f32 = dir
                .iter()
                .zip(latent.iter().zip(origin))
                .map(|(&d, (&z, &o))| d * (z - o))
                .sum();
            along / (std * std)
        })
    }

    /// Where the preset came from (a path, or `embedded preset`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// SHA-256 of the preset file's bytes, lower-case hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// What the preset says about its model, training set and training.
    pub fn info(&self) -> &PresetInfo {
        &self.info
    }

    /// Standard deviation of the training latents along each principal direction the preset
    /// stores, largest first: `Latent k` at ±1 moves the latent this far along direction k.
    pub fn direction_stds(&self) -> &[f32] {
        &self.direction_stds
    }

    /// A new voice of the preset's network (allocates).
    pub fn new_evaluator(&self) -> Evaluator {
        self.prototype.new_voice()
    }

    /// The item (and speed) a note on `key` plays, starting from item `base` (clamped to the
    /// items). With key tracking and a pitched base item, the nearest pitch among the items of
    /// the base's instrument (ties: the base's velocity, then the lower index); otherwise the
    /// base itself. Unpitched items transpose relative to [`UNPITCHED_ROOT_KEY`].
    pub fn resolve(&self, base: usize, key: u8, key_tracking: bool) -> Resolved {
        let base = base.min(self.items.len() - 1);
        let b = &self.items[base];
        let item = match (key_tracking, b.pitch) {
            (true, Some(_)) => self
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| {
                    let pitch = it.pitch?;
                    (it.group == b.group).then(|| {
                        let distance = (i32::from(pitch) - i32::from(key)).unsigned_abs();
                        (distance, it.velocity != b.velocity, i)
                    })
                })
                .min()
                .map_or(base, |(_, _, i)| i),
            _ => base,
        };
        let root = self.items[item].pitch.unwrap_or(UNPITCHED_ROOT_KEY);
        Resolved {
            item,
            rate: 2f64.powf((f64::from(key) - f64::from(root)) / 12.0),
        }
    }

    /// Writes the latent for items `a` → `b` at `morph` plus `offsets` standard deviations
    /// along the principal directions into `out` (`latent_dim` values; items are clamped).
    pub fn latent_into(
        &self,
        a: usize,
        b: usize,
        morph: f32,
        offsets: &[f32; LATENT_CONTROLS],
        out: &mut [f32],
    ) {
        let dim = self.dim;
        let last = self.items() - 1;
        let za = &self.table[a.min(last) * dim..][..dim];
        let zb = &self.table[b.min(last) * dim..][..dim];
        let m = if morph.is_finite() {
            morph.clamp(0.0, 1.0)
        } else {
            0.0
        };
        for ((o, &x), &y) in out.iter_mut().zip(za).zip(zb) {
            *o = x + m * (y - x);
        }
        for (k, &amount) in offsets.iter().enumerate() {
            if amount == 0.0 || !amount.is_finite() {
                continue;
            }
            let dir = &self.scaled_directions[k * dim..(k + 1) * dim];
            for (o, &d) in out.iter_mut().zip(dir) {
                *o += amount * d;
            }
        }
    }
}

impl Clone for Sound {
    /// Shares the packed weights; the copy's evaluator starts from the zero latent.
    fn clone(&self) -> Sound {
        Sound {
            prototype: self.prototype.new_voice(),
            items: self.items.clone(),
            names: self.names.clone(),
            groups: self.groups.clone(),
            dim: self.dim,
            table: self.table.clone(),
            scaled_directions: self.scaled_directions.clone(),
            origin: self.origin.clone(),
            sha256: self.sha256.clone(),
            info: self.info.clone(),
            direction_stds: self.direction_stds.clone(),
        }
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `C4`-style name of a MIDI key (60 = C4).
pub fn note_name(key: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
    ];
    format!(
        "{}{}",
        NAMES[usize::from(key % 12)],
        i32::from(key / 12) - 1
    )
}
