//! The tensors a preset holds, as implied by its model config, and their f16/f32 encoding.

use std::borrow::Cow;

use half::f16;
use safetensors::tensor::{Dtype, View};

use super::error::Problem;
use crate::model_config::ModelConfig;

/// Storage precision of a preset's large tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// "Compact": weight matrices of layers with more than one input and the latent table in
    /// f16; vectors (biases, omegas), the first synthesis layer (its products with omega reach
    /// thousands of radians) and the PCA summary stay f32, and so does everything a
    /// concat-conditioned model feeds its conditioning vector through (latent table, mapping
    /// network, layers reading `c`): `c` enters the first layer's sine at omega_first, which
    /// amplifies f16 rounding to 35–45 dB SNR.
    #[default]
    F16,
    /// Everything f32: bit-exact.
    F32,
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Precision, String> {
        match s {
            "f16" | "compact" => Ok(Precision::F16),
            "f32" => Ok(Precision::F32),
            _ => Err(format!("unknown precision `{s}` (f16 or f32)")),
        }
    }
}

/// What a tensor is, which decides its checks and its storage precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A weight matrix that may be stored in f16.
    Matrix,
    /// A tensor that is always f32 (biases, the first layer, PCA summary).
    Exact,
    /// A per-unit omega: always f32, finite, in (0, `MAX_OMEGA`].
    Omega,
    /// The latent table (f16 in compact presets).
    Table,
}

/// One tensor the config requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slot {
    /// Its name in the file.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// What it is.
    pub kind: Kind,
}

/// Names of the latent-space tensors.
pub(super) const TABLE: &str = "latent.table";
/// The mean latent.
pub(super) const MEAN: &str = "latent.mean";
/// The principal directions.
pub(super) const DIRECTIONS: &str = "latent.directions";
/// Their standard deviations.
pub(super) const STDS: &str = "latent.stds";

/// Every tensor a preset of `config` with `items` latents and `components` principal
/// directions holds, in layer order: per linear map `{name}.weight` `[out, in]` and
/// `{name}.bias` `[out]`, per synthesis layer `{name}.omega` `[out]`, then the latent tensors.
/// The config must have passed `validate` and the size bounds.
pub(super) fn slots(config: &ModelConfig, items: usize, components: usize) -> Vec<Slot> {
    let mut slots = Vec::new();
    let concat = !config.conditioning.is_film();
    for layer in config.layer_shapes() {
        let reads_c = layer.name.starts_with("mapping.")
            || layer
                .name
                .strip_prefix("synthesis.")
                .and_then(|i| i.parse().ok())
                .is_some_and(|i| config.is_concat_hidden(i));
        let exact = layer.name == "synthesis.0" || layer.inputs == 1 || (concat && reads_c);
        let matrix = if exact { Kind::Exact } else { Kind::Matrix };
        slots.push(Slot {
            name: format!("{}.weight", layer.name),
            shape: vec![layer.outputs, layer.inputs],
            kind: matrix,
        });
        slots.push(Slot {
            name: format!("{}.bias", layer.name),
            shape: vec![layer.outputs],
            kind: Kind::Exact,
        });
        if layer.name.starts_with("synthesis.") {
            slots.push(Slot {
                name: format!("{}.omega", layer.name),
                shape: vec![layer.outputs],
                kind: Kind::Omega,
            });
        }
    }
    let dim = config.latent_size;
    for (name, shape, kind) in [
        (
            TABLE,
            vec![items, dim],
            if concat { Kind::Exact } else { Kind::Table },
        ),
        (MEAN, vec![dim], Kind::Exact),
        (DIRECTIONS, vec![components, dim], Kind::Exact),
        (STDS, vec![components], Kind::Exact),
    ] {
        slots.push(Slot {
            name: name.to_string(),
            shape,
            kind,
        });
    }
    slots
}

/// A tensor encoded for safetensors.
pub(super) struct Encoded {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Encoded {
    fn dtype(&self) -> Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }

    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Encodes `values` for `slot` at `precision` (little-endian), failing if f16 cannot hold one.
pub(super) fn encode(
    slot: &Slot,
    values: &[f32],
    precision: Precision,
) -> Result<Encoded, Problem> {
    let half = precision == Precision::F16 && matches!(slot.kind, Kind::Matrix | Kind::Table);
    let bytes = if half {
        let mut bytes = Vec::with_capacity(values.len() * 2);
        for (index, &value) in values.iter().enumerate() {
            let h = f16::from_f32(value);
            if !h.is_finite() {
                return Err(Problem::F16Overflow {
                    name: slot.name.clone(),
                    index,
                    value,
                });
            }
            bytes.extend(h.to_le_bytes());
        }
        bytes
    } else {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    };
    Ok(Encoded {
        dtype: if half { Dtype::F16 } else { Dtype::F32 },
        shape: slot.shape.clone(),
        bytes,
    })
}

/// Decodes little-endian F16 or F32 bytes (whose length safetensors has checked).
pub(super) fn decode(name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>, Problem> {
    match dtype {
        Dtype::F32 => Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        Dtype::F16 => Ok(bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()),
        other => Err(Problem::Dtype {
            name: name.to_string(),
            dtype: format!("{other:?}"),
        }),
    }
}
