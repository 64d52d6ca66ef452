//! `trainer export RUN --out NAME.sirenade [--precision f16|f32] [--eval]`: a trained run as a
//! preset for the evaluator and the plugin (see `sirenade_common::preset` for the format).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use sirenade_common::model_config::ModelConfig;
use sirenade_common::preset::{
    DataSummary, EvalSummary, LatentSpace, LayerWeights, Precision, Preset, PresetInfo, PresetItem,
    TrainingSummary,
};
use sirenade_common::SAMPLE_RATE;

use crate::eval_cmd;
use crate::inference::LoadedRun;
use crate::model::{Decoder, ProgressiveSchedule};
use crate::train::log::{self, LogLine};
use crate::train::run_dir::log_path;

/// Arguments of `trainer export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The run folder.
    pub run: PathBuf,
    /// The preset file to write (`NAME.sirenade`).
    #[arg(long)]
    pub out: PathBuf,
    /// Weight precision: `f16` ("compact", the default) or `f32` (bit-exact).
    #[arg(long, default_value = "f16")]
    pub precision: Precision,
    /// Also score full-resolution reconstructions (re-reads the data set) and store the
    /// metrics in the preset.
    #[arg(long)]
    pub eval: bool,
}

/// Runs `trainer export` and returns what it prints.
pub fn run(args: &ExportArgs) -> Result<String> {
    let loaded = LoadedRun::open(&args.run)?;
    let preset = build(&loaded, args.eval)?;
    preset.write(&args.out, args.precision)?;
    let size = std::fs::metadata(&args.out)
        .with_context(|| format!("{}: written but unreadable", args.out.display()))?
        .len();
    Ok(format!(
        "wrote {} ({} bytes, {:?}, model {}, {} items, {} principal directions)\n",
        args.out.display(),
        size,
        args.precision,
        preset.info.training.model_name,
        preset.latents.rows(),
        preset.latents.components()
    ))
}

/// The preset of a loaded run: folded weights, latent summary, labels and training summary
/// (with reconstruction metrics when `eval` is set).
pub fn build(loaded: &LoadedRun, eval: bool) -> Result<Preset> {
    let info = &loaded.info;
    // The checkpoint's own epoch count, not the log's: a run stopped between checkpoints has
    // logged epochs its checkpoint does not hold.
    let epochs = loaded.epochs_trained;
    let final_loss = epoch_loss(&log_path(&loaded.dir), epochs)?;
    let mask = info.model.progressive.map(|p| {
        ProgressiveSchedule::new(
            p.groups,
            info.model.layers[0].width,
            info.settings.fade_in_span(),
        )
        .mask(epochs)
    });
    let layers = folded_layers(&loaded.decoder, mask.as_deref())?;
    let table = loaded.latents.flatten_all()?.to_vec1::<f32>()?;
    let eval = if eval {
        let clips = loaded.clips()?;
        let pitches: Vec<Option<u8>> = clips.iter().map(|c| c.label.pitch).collect();
        let targets: Vec<Vec<f32>> = clips.into_iter().map(|c| c.samples).collect();
        let m = eval_cmd::score(&loaded.reconstruct_all()?, &targets, &pitches);
        Some(EvalSummary {
            mse_x1e3: m.mse_x1e3.mean,
            stft_mse: m.stft_mse.mean,
            lsd_x10: m.lsd_x10.mean,
        })
    } else {
        None
    };
    Ok(Preset {
        info: PresetInfo {
            model: ModelConfig {
                weight_norm: false,
                ..info.model.clone()
            },
            sample_rate: SAMPLE_RATE,
            duration_seconds: 1.0,
            data: DataSummary {
                source: info.data.source.clone(),
                format: info.data.format.clone(),
                selection: info.data.selection.clone(),
                mean_power: info.data.mean_power,
                items: info
                    .data
                    .items
                    .iter()
                    .map(|i| PresetItem {
                        id: i.id.clone(),
                        label: i.label.clone(),
                    })
                    .collect(),
            },
            training: TrainingSummary {
                model_name: info.settings.model.clone(),
                epochs: Some(epochs),
                final_loss,
                eval,
            },
        },
        layers,
        latents: LatentSpace::from_table(table, info.model.latent_size),
    })
}

/// Every linear map of `decoder` with weight normalisation folded, in the config's layer order,
/// synthesis layers with their omegas. A progressive first-layer `mask` is folded into the
/// columns of the next linear map that read the first layer's units.
pub fn folded_layers(decoder: &Decoder, mask: Option<&[f64]>) -> Result<Vec<LayerWeights>> {
    let omegas = decoder.omegas();
    let mut layers = Vec::new();
    for (name, weight, bias) in decoder.folded_linears()? {
        let omega = match name.strip_prefix("synthesis.") {
            Some(i) => {
                let i: usize = i.parse().context("synthesis layer index")?;
                Some(omegas[i].to_dtype(candle_core::DType::F32)?.to_vec1()?)
            }
            None => None,
        };
        layers.push(LayerWeights {
            name,
            weight: weight
                .to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1()?,
            bias: bias.to_dtype(candle_core::DType::F32)?.to_vec1()?,
            omega,
        });
    }
    if let Some(mask) = mask {
        let first = layers
            .iter()
            .position(|l| l.name == "synthesis.0")
            .context("no first synthesis layer")?;
        let next = &mut layers[first + 1];
        let columns = next.weight.len() / next.bias.len().max(1);
        for row in next.weight.chunks_exact_mut(columns) {
            for (w, m) in row.iter_mut().zip(mask) {
                *w = (f64::from(*w) * m) as f32;
            }
        }
    }
    Ok(layers)
}

/// The loss the run's log records for the last of `epochs` epochs (`None` when the log or
/// that line is absent: an inversion has no log). Event lines (rollbacks) are skipped.
fn epoch_loss(log: &Path, epochs: usize) -> Result<Option<f64>> {
    let Some(last) = epochs.checked_sub(1) else {
        return Ok(None);
    };
    Ok(log::read(log)?
        .into_iter()
        .rev()
        .find_map(|line| match line {
            LogLine::Epoch(e) if e.epoch == last => Some(e.loss),
            _ => None,
        }))
}

#[cfg(test)]
mod tests {
    use super::epoch_loss;

    #[test]
    fn the_loss_is_the_checkpointed_epochs_last_line_not_the_logs_last() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        std::fs::write(
            &log,
            concat!(
                "{\"epoch\":0,\"loss\":4.0}\n",
                "{\"event\":\"rollback\",\"epoch\":2,\"step\":0,\"resumed_at_epoch\":1}\n",
                "{\"epoch\":1,\"loss\":2.5}\n",
                "{\"epoch\":2,\"loss\":2.0}\n",
                "{\"event\":\"rollback\",\"epoch\":3,\"step\":1,\"resumed_at_epoch\":3}\n",
            ),
        )
        .unwrap();
        // What a run that rolled back twice logs (each rollback dropped the epoch lines from
        // the epoch it returned to): the last line is an event, not the checkpoint's epoch.
        assert_eq!(epoch_loss(&log, 2).unwrap(), Some(2.5));
        assert_eq!(epoch_loss(&log, 3).unwrap(), Some(2.0));
        assert_eq!(epoch_loss(&log, 0).unwrap(), None);
        assert_eq!(epoch_loss(&log, 9).unwrap(), None);
        assert_eq!(epoch_loss(&dir.path().join("none"), 2).unwrap(), None);
        std::fs::write(&log, "{\"epoch\":0,\"loss\":4.0}\nnot json\n").unwrap();
        let err = epoch_loss(&log, 1).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
