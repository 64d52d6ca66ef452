//! The JSON part of a preset: model config, sample rate, training set and training summary.

use serde::{Deserialize, Serialize};

use crate::label::Label;
use crate::model_config::ModelConfig;

/// Everything a preset says about its model besides the tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetInfo {
    /// The architecture, with weight normalisation already folded (`weight_norm: false`). A
    /// progressive model's final first-layer mask is folded into the next layer's weights; its
    /// drawn omegas are the `synthesis.0.omega` tensor.
    pub model: ModelConfig,
    /// The rate the model was trained at (Hz); always [`SAMPLE_RATE`](crate::SAMPLE_RATE).
    pub sample_rate: u32,
    /// The clip duration the model spans (t from −1 to 1), in seconds; always 1.
    pub duration_seconds: f64,
    /// The training set.
    pub data: DataSummary,
    /// How the model was trained.
    pub training: TrainingSummary,
}

/// The training set: where it came from and each item (latent row i is item i).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSummary {
    /// The data source as given to the trainer (`bundled:keyboard` or a path).
    pub source: String,
    /// Its format (`nsynth`, `speech_commands`, `wav_folder`).
    pub format: String,
    /// The selection flags as given.
    pub selection: Vec<String>,
    /// Mean x² over the set (the MSE of predicting silence).
    pub mean_power: f64,
    /// The items, in latent-table order.
    pub items: Vec<PresetItem>,
}

/// One training item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetItem {
    /// Its id in the data set.
    pub id: String,
    /// Its labels (pitch, family, instrument, word, ...).
    pub label: Label,
}

/// How the model was trained; every figure is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TrainingSummary {
    /// The trainer's model name (`pigan`, `demo`, ...).
    pub model_name: String,
    /// Epochs trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Mean loss of the last epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_loss: Option<f64>,
    /// Full-resolution reconstruction metrics over the items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalSummary>,
}

/// The thesis' metrics of the reconstructions, means over the items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSummary {
    /// MSE × 10³.
    pub mse_x1e3: f64,
    /// Multi-resolution STFT magnitude MSE.
    pub stft_mse: f64,
    /// Log-spectral distance × 10.
    pub lsd_x10: f64,
}
