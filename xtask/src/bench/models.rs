//! The benchmarked networks: thesis-initialised decoders (the trainer's own init) as candle
//! models and as the evaluator's folded weights, read back from a preset of the chosen
//! precision (compact f16 by default, as `trainer export` writes and the presets ship).

use anyhow::Result;
use candle_core::{DType, Device};
use sirenade_common::evaluator::NetworkWeights;
use sirenade_common::model_config::ModelConfig;
use sirenade_common::preset::{
    DataSummary, LatentSpace, Precision, Preset, PresetInfo, TrainingSummary,
};
use sirenade_common::SAMPLE_RATE;
use sirenade_trainer::export_cmd::folded_layers;
use sirenade_trainer::model::{Decoder, SineLayers};

/// The models of the benchmark: the bench's name and the trainer's model name.
pub const MODELS: [(&str, &str); 3] = [
    ("pigan", "pigan"),
    ("wide", "pigan-wide"),
    ("small", "live"),
];

/// One benchmarked network in both forms.
pub struct BenchModel {
    /// The candle decoder, freshly initialised, with plain candle layers (the trainer's fused
    /// ops are this project's own kernels, not candle's forward).
    pub decoder: Decoder,
    /// The same weights, folded and stored at the benchmark's precision, for the evaluator.
    pub weights: NetworkWeights,
    /// A latent to condition on.
    pub latent: Vec<f32>,
}

impl BenchModel {
    /// Builds `model` (a trainer model name) with the trainer's initialisation from `seed`;
    /// the evaluator's weights are those of a preset written at `precision` and read back.
    pub fn new(model: &str, seed: u64, precision: Precision) -> Result<BenchModel> {
        let config = ModelConfig::named(model)?;
        let mut decoder = Decoder::new(&config, seed, DType::F32, &Device::Cpu)?;
        decoder.set_sine_layers(SineLayers::Plain);
        let dim = config.latent_size;
        let preset = Preset {
            info: PresetInfo {
                model: ModelConfig {
                    weight_norm: false,
                    ..config
                },
                sample_rate: SAMPLE_RATE,
                duration_seconds: 1.0,
                data: DataSummary {
                    source: String::new(),
                    format: String::new(),
                    selection: Vec::new(),
                    mean_power: 0.0,
                    items: Vec::new(),
                },
                training: TrainingSummary::default(),
            },
            layers: folded_layers(&decoder, None)?,
            latents: LatentSpace::from_table(Vec::new(), dim),
        };
        let stored = Preset::from_bytes(&preset.to_bytes(precision)?)?;
        Ok(BenchModel {
            weights: stored.network_weights(),
            decoder,
            latent: (0..dim).map(|k| 0.5 * (k as f32 * 12.9898).sin()).collect(),
        })
    }

    /// Floating-point operations per sample of the synthesis network (2 per multiply-add; the
    /// mapping network runs once per latent, not per sample).
    pub fn flops_per_sample(&self) -> f64 {
        let macs: usize = self
            .weights
            .layers
            .iter()
            .map(|l| l.out_features * (l.in_features + usize::from(l.concat.is_some())))
            .sum();
        2.0 * macs as f64
    }
}
