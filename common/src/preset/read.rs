//! Loading a preset: every check happens here, before anything is used.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use safetensors::SafeTensors;
use serde::Deserialize;

use super::error::{PresetError, Problem};
use super::info::PresetInfo;
use super::tensors::{self, Kind, Slot};
use super::{
    LatentSpace, LayerWeights, Preset, FORMAT_NAME, FORMAT_VERSION, MAX_FILE_BYTES,
    MAX_HEADER_BYTES, MAX_MAGNITUDE, MAX_OMEGA, METADATA_KEY, MIN_COMPONENTS,
};
use crate::model_config::ModelConfig;
use crate::SAMPLE_RATE;

/// The largest width (latent, mapping or synthesis) a preset may declare.
const MAX_WIDTH: usize = 1 << 16;
/// The most layers (mapping or synthesis) a preset may declare.
const MAX_LAYERS: usize = 1024;

/// The JSON stored under [`METADATA_KEY`].
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Envelope {
    /// [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Number of principal directions.
    pub components: usize,
    /// The rest.
    pub info: PresetInfo,
}

impl Preset {
    /// Reads and validates the preset at `path`. Files over [`MAX_FILE_BYTES`] are rejected
    /// before they are read.
    pub fn load(path: &Path) -> Result<Preset, PresetError> {
        let file = path.display().to_string();
        let io = |e: std::io::Error| Problem::Io(e.to_string()).at(&file);
        let handle = std::fs::File::open(path).map_err(io)?;
        let size = handle.metadata().map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            return Err(Problem::TooLarge {
                size,
                limit: MAX_FILE_BYTES,
            }
            .at(&file));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        handle
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        parse(&bytes).map_err(|p| p.at(&file))
    }

    /// Validates a preset held in memory (errors name the file `<bytes>`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Preset, PresetError> {
        parse(bytes).map_err(|p| p.at("<bytes>"))
    }
}

/// Checks the container, the metadata, the config and every tensor, in that order.
fn parse(bytes: &[u8]) -> Result<Preset, Problem> {
    check_sizes(bytes)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| Problem::Container(e.to_string()))?;
    let (_, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| Problem::Container(e.to_string()))?;
    let json = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(METADATA_KEY))
        .ok_or_else(not_a_preset)?;
    let envelope = envelope(json)?;
    let info = envelope.info;
    check_info(&info)?;
    let dim = info.model.latent_size;
    let min = MIN_COMPONENTS.min(dim);
    if envelope.components < min || envelope.components > dim {
        return Err(Problem::Components {
            found: envelope.components,
            min,
            max: dim,
        });
    }
    let slots = tensors::slots(&info.model, info.data.items.len(), envelope.components);
    let mut values: HashMap<String, Vec<f32>> = HashMap::new();
    for slot in &slots {
        values.insert(slot.name.clone(), read_tensor(&st, slot)?);
    }
    let mut names = st.names();
    names.sort_unstable();
    if let Some(extra) = names.iter().find(|n| !values.contains_key(**n)) {
        return Err(Problem::UnexpectedTensor(extra.to_string()));
    }
    let mut take = |name: &str| values.remove(name).unwrap_or_default();
    let layers = info
        .model
        .layer_shapes()
        .iter()
        .map(|l| LayerWeights {
            weight: take(&format!("{}.weight", l.name)),
            bias: take(&format!("{}.bias", l.name)),
            omega: l
                .name
                .starts_with("synthesis.")
                .then(|| take(&format!("{}.omega", l.name))),
            name: l.name.clone(),
        })
        .collect();
    let latents = LatentSpace {
        dim,
        table: take(tensors::TABLE),
        mean: take(tensors::MEAN),
        directions: take(tensors::DIRECTIONS),
        stds: take(tensors::STDS),
    };
    let preset = Preset {
        info,
        layers,
        latents,
    };
    preset.network_weights().validate()?;
    Ok(preset)
}

fn not_a_preset() -> Problem {
    Problem::NotAPreset {
        key: METADATA_KEY,
        format: FORMAT_NAME,
    }
}

/// The total size and the declared header size, before safetensors parses anything.
fn check_sizes(bytes: &[u8]) -> Result<(), Problem> {
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(Problem::TooLarge {
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let Some(length) = bytes.first_chunk::<8>() else {
        return Err(Problem::TooShort(bytes.len()));
    };
    let header = u64::from_le_bytes(*length);
    if header > MAX_HEADER_BYTES {
        return Err(Problem::HeaderTooLarge {
            size: header,
            limit: MAX_HEADER_BYTES,
        });
    }
    if header > size - 8 {
        return Err(Problem::HeaderTruncated {
            claimed: header,
            available: size - 8,
        });
    }
    Ok(())
}

/// Parses the metadata JSON: format name first, then version, then the fields.
fn envelope(json: &str) -> Result<Envelope, Problem> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Problem::Metadata(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(not_a_preset());
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(Problem::Version {
                found,
                supported: FORMAT_VERSION,
            })
        }
        None => return Err(Problem::Metadata("no numeric `version`".into())),
    }
    serde_json::from_value(value).map_err(|e| Problem::Metadata(e.to_string()))
}

/// The config must build, stay within the size bounds, and the rate and duration must be the
/// modelled ones.
fn check_info(info: &PresetInfo) -> Result<(), Problem> {
    check_bounds(&info.model)?;
    info.model.validate()?;
    if info.sample_rate != SAMPLE_RATE {
        return Err(Problem::SampleRate {
            found: info.sample_rate,
            expected: SAMPLE_RATE,
        });
    }
    if info.duration_seconds != 1.0 {
        return Err(Problem::Duration(info.duration_seconds));
    }
    Ok(())
}

/// Rejects widths and depths that no preset under the size limit could hold (and whose
/// products could overflow).
fn check_bounds(config: &ModelConfig) -> Result<(), Problem> {
    let widths = [
        ("latent_size", config.latent_size),
        ("mapping.hidden_width", config.mapping.hidden_width),
        ("mapping.output_size", config.mapping.output_size),
    ];
    for (what, width) in widths.into_iter().chain(
        config
            .layers
            .iter()
            .map(|l| ("a synthesis layer width", l.width)),
    ) {
        if width > MAX_WIDTH {
            return Err(Problem::ConfigTooLarge(format!(
                "{what} is {width} (at most {MAX_WIDTH})"
            )));
        }
    }
    for (what, count) in [
        ("synthesis layers", config.layers.len()),
        ("mapping hidden layers", config.mapping.hidden_layers),
    ] {
        if count > MAX_LAYERS {
            return Err(Problem::ConfigTooLarge(format!(
                "{count} {what} (at most {MAX_LAYERS})"
            )));
        }
    }
    Ok(())
}

/// Fetches one tensor and checks its dtype, shape and values.
fn read_tensor(st: &SafeTensors<'_>, slot: &Slot) -> Result<Vec<f32>, Problem> {
    let view = st
        .tensor(&slot.name)
        .map_err(|_| Problem::MissingTensor(slot.name.clone()))?;
    let values = tensors::decode(&slot.name, view.dtype(), view.data())?;
    if view.shape() != slot.shape.as_slice() {
        return Err(Problem::Shape {
            name: slot.name.clone(),
            found: view.shape().to_vec(),
            expected: slot.shape.clone(),
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(Problem::NotFinite {
            name: slot.name.clone(),
            index,
            value: values[index],
        });
    }
    if slot.kind == Kind::Omega {
        if let Some(index) = values.iter().position(|&w| !(w > 0.0 && w <= MAX_OMEGA)) {
            return Err(Problem::Omega {
                name: slot.name.clone(),
                index,
                value: values[index],
            });
        }
    } else if let Some(index) = values.iter().position(|v| v.abs() > MAX_MAGNITUDE) {
        return Err(Problem::Magnitude {
            name: slot.name.clone(),
            index,
            value: values[index],
        });
    }
    Ok(values)
}
