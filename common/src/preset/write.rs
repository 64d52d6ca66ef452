//! Writing a preset: encode, check by loading the bytes back, then replace the file atomically.

use std::collections::HashMap;
use std::path::Path;

use super::error::{PresetError, Problem};
use super::read::Envelope;
use super::tensors::{self, Precision};
use super::{Preset, FORMAT_NAME, FORMAT_VERSION, METADATA_KEY};
use crate::atomic_file;

impl Preset {
    /// The file's bytes at `precision`. The result is loaded back with
    /// [`Preset::from_bytes`] before it is returned, so an invalid preset is never produced.
    pub fn to_bytes(&self, precision: Precision) -> Result<Vec<u8>, PresetError> {
        let file = "<bytes>";
        let envelope = Envelope {
            format: FORMAT_NAME.to_string(),
            version: FORMAT_VERSION,
            components: self.latents.components(),
            info: self.info.clone(),
        };
        let json = serde_json::to_string(&envelope)
            .map_err(|e| Problem::Metadata(e.to_string()).at(file))?;
        let mut values: HashMap<String, &[f32]> = HashMap::new();
        for layer in &self.layers {
            values.insert(format!("{}.weight", layer.name), &layer.weight);
            values.insert(format!("{}.bias", layer.name), &layer.bias);
            if let Some(omega) = &layer.omega {
                values.insert(format!("{}.omega", layer.name), omega);
            }
        }
        let l = &self.latents;
        for (name, v) in [
            (tensors::TABLE, &l.table),
            (tensors::MEAN, &l.mean),
            (tensors::DIRECTIONS, &l.directions),
            (tensors::STDS, &l.stds),
        ] {
            values.insert(name.to_string(), v);
        }
        let slots = tensors::slots(&self.info.model, self.info.data.items.len(), l.components());
        let mut encoded = Vec::with_capacity(slots.len());
        for slot in &slots {
            let v = values
                .get(&slot.name)
                .ok_or_else(|| Problem::MissingTensor(slot.name.clone()).at(file))?;
            if v.len() != slot.shape.iter().product::<usize>() {
                return Err(Problem::Shape {
                    name: slot.name.clone(),
                    found: vec![v.len()],
                    expected: slot.shape.clone(),
                }
                .at(file));
            }
            encoded.push((
                slot.name.clone(),
                tensors::encode(slot, v, precision).map_err(|p| p.at(file))?,
            ));
        }
        let metadata = HashMap::from([(METADATA_KEY.to_string(), json)]);
        let bytes = safetensors::serialize(encoded.iter().map(|(n, e)| (n, e)), Some(metadata))
            .map_err(|e| Problem::Container(e.to_string()).at(file))?;
        Preset::from_bytes(&bytes)?;
        Ok(bytes)
    }

    /// Writes the preset to `path` at `precision` through an
    /// [`AtomicFile`](crate::atomic_file::AtomicFile), so a reader never sees a partial file.
    pub fn write(&self, path: &Path, precision: Precision) -> Result<(), PresetError> {
        let file = path.display().to_string();
        let bytes = self.to_bytes(precision).map_err(|e| e.problem.at(&file))?;
        atomic_file::write(path, &bytes).map_err(|e| Problem::Io(e.to_string()).at(&file))
    }
}
