//! Checkpoints: one safetensors file holding every tensor of the training state (in f32) with
//! the counters and the run's fingerprint as JSON metadata, written to a temporary file and
//! renamed into place so that a crash or Ctrl-C never leaves a half-written checkpoint.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sirenade_common::atomic_file;

use super::trainer::Counters;

/// Metadata key of the checkpoint's JSON header.
const META_KEY: &str = "sirenade_checkpoint";

/// Checkpoint format version.
const VERSION: u32 = 1;

/// A state holding a NaN or an infinity: [`save`] refuses to write it (nothing is written), so
/// that a checkpoint is never a diverged state.
#[derive(Debug, thiserror::Error)]
#[error("tensor {0} holds a NaN or an infinity")]
pub struct NonFiniteTensor(pub String);

/// What a checkpoint records besides tensors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointMeta {
    /// Format version.
    pub version: u32,
    /// Identifies the run's model and data: a resume must match it.
    pub fingerprint: String,
    /// Counters of the training state.
    pub counters: Counters,
}

/// Writes `tensors` and `meta` atomically to `path`; a [`NonFiniteTensor`] error, and nothing
/// written, if any value is not finite.
pub fn save(
    path: &Path,
    tensors: &[(String, Tensor)],
    counters: &Counters,
    fingerprint: &str,
) -> Result<()> {
    let mut blobs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let values: Vec<f32> = t
            .to_dtype(DType::F32)?
            .to_device(&Device::Cpu)?
            .flatten_all()?
            .to_vec1()?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(NonFiniteTensor(name.clone()).into());
        }
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        blobs.push((name.clone(), t.dims().to_vec(), bytes));
    }
    let views: Vec<(String, TensorView<'_>)> = blobs
        .iter()
        .map(|(n, shape, bytes)| {
            Ok((
                n.clone(),
                TensorView::new(Dtype::F32, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<_, safetensors::SafeTensorError>>()?;
    let meta = CheckpointMeta {
        version: VERSION,
        fingerprint: fingerprint.to_string(),
        counters: counters.clone(),
    };
    let info = HashMap::from([(META_KEY.to_string(), serde_json::to_string(&meta)?)]);
    let bytes = safetensors::serialize(views, Some(info))?;
    atomic_file::write(path, &bytes)
        .with_context(|| format!("{}: cannot write the checkpoint", path.display()))
}

/// Reads a checkpoint written by [`save`], checking its version, its fingerprint and that
/// every value is finite.
pub fn load(
    path: &Path,
    fingerprint: &str,
    device: &Device,
) -> Result<(HashMap<String, Tensor>, Counters)> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{}: cannot read the checkpoint", path.display()))?;
    let st = SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{}: not a valid checkpoint (safetensors)", path.display()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .with_context(|| format!("{}: unreadable checkpoint header", path.display()))?;
    let meta_json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .with_context(|| {
            format!(
                "{}: not a Sirenade checkpoint (no {META_KEY} metadata)",
                path.display()
            )
        })?;
    let meta: CheckpointMeta = serde_json::from_str(meta_json)
        .with_context(|| format!("{}: malformed checkpoint metadata", path.display()))?;
    if meta.version != VERSION {
        bail!(
            "{}: checkpoint version {} (this trainer reads {VERSION})",
            path.display(),
            meta.version
        );
    }
    if meta.fingerprint != fingerprint {
        bail!(
            "{}: the checkpoint belongs to a different run (model or data differ: {} vs {})",
            path.display(),
            meta.fingerprint,
            fingerprint
        );
    }
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            bail!(
                "{}: tensor {name} is {:?}, expected F32",
                path.display(),
                view.dtype()
            );
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            bail!(
                "{}: tensor {name} holds a NaN or an infinity",
                path.display()
            );
        }
        let t = Tensor::from_vec(values, view.shape(), device)?;
        tensors.insert(name, t);
    }
    Ok((tensors, meta.counters))
}
