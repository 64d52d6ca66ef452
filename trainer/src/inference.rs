//! A trained run (or an inversion) loaded for inference: its description, decoder and latent
//! table, the items' audio, and full-resolution reconstructions at any sample rate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use sirenade_common::dataset::{self, Clip, Format, QualityFilter, Selection};
use sirenade_common::CLIP_LEN;

use crate::model::{Decoder, ProgressiveSchedule};
use crate::train::checkpoint;
use crate::train::run_dir::{checkpoint_path, clips_digest, items_path, RunInfo};

/// Coordinates evaluated per forward pass when reconstructing (bounds memory).
const CHUNK_POINTS: usize = 32_000;

/// A run ready for inference.
pub struct LoadedRun {
    /// The run folder.
    pub dir: PathBuf,
    /// Its description.
    pub info: RunInfo,
    /// The trained decoder.
    pub decoder: Decoder,
    /// Latent table `[N, latent]`, row i for item i.
    pub latents: Tensor,
    /// Epochs the decoder was trained for (its progressive mask is that epoch's).
    pub epochs_trained: usize,
}

impl LoadedRun {
    /// Loads `RUN/run.json` and the model and latents of `RUN/checkpoint.safetensors`.
    pub fn open(dir: &Path) -> Result<Self> {
        let info = RunInfo::read(dir)?;
        let device = Device::Cpu;
        let (tensors, counters) =
            checkpoint::load(&checkpoint_path(dir), &info.fingerprint(), &device)?;
        let mut decoder = Decoder::new(&info.model, info.settings.seed, DType::F32, &device)?;
        let model: HashMap<String, Tensor> = tensors
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("model.").map(|n| (n.to_string(), v.clone())))
            .collect();
        decoder.load_state(&model).with_context(|| {
            format!(
                "{}: model tensors do not fit the run's model",
                dir.display()
            )
        })?;
        if let Some(p) = &info.model.progressive {
            // The mask in force during the last completed epoch (epoch e runs with mask(e + 1)).
            let schedule = ProgressiveSchedule::new(
                p.groups,
                info.model.layers[0].width,
                info.settings.fade_in_span(),
            );
            decoder.set_progressive_mask(&schedule.mask(counters.epoch))?;
        }
        let latents = tensors
            .get("latents")
            .cloned()
            .with_context(|| format!("{}: no latent table", checkpoint_path(dir).display()))?;
        anyhow::ensure!(
            latents.dims() == [info.data.items.len(), info.model.latent_size],
            "{}: latent table has shape {:?} for {} items",
            dir.display(),
            latents.dims(),
            info.data.items.len()
        );
        Ok(Self {
            dir: dir.to_path_buf(),
            info,
            decoder,
            latents,
            epochs_trained: counters.epoch,
        })
    }

    /// Re-reads the run's items from their data set, by id.
    pub fn clips(&self) -> Result<Vec<Clip>> {
        let root = Path::new(&self.info.data.root);
        let selection = Selection {
            ids: Some(items_path(&self.dir)),
            qualities: QualityFilter::Keep,
            ..Selection::default()
        };
        let format = Format::parse(&self.info.data.format)?;
        let ds = dataset::load(root, Some(format), &selection)
            .with_context(|| format!("re-reading the items of {}", self.dir.display()))?;
        let want: Vec<&str> = self.info.data.items.iter().map(|i| i.id.as_str()).collect();
        let got: Vec<&str> = ds.clips.iter().map(|c| c.id.as_str()).collect();
        anyhow::ensure!(
            want == got,
            "{}: the data set's items changed since training",
            root.display()
        );
        anyhow::ensure!(
            clips_digest(&ds.clips) == self.info.data.digest,
            "{}: the audio of the run's items changed since training (same ids, other samples)",
            root.display()
        );
        Ok(ds.clips)
    }

    /// The reconstruction of item `item` at `rate` Hz: `rate` samples covering t ∈ [−1, 1)
    /// (at 16 kHz exactly the training grid).
    pub fn reconstruct(&self, item: usize, rate: u32) -> Result<Vec<f32>> {
        anyhow::ensure!(
            item < self.info.data.items.len(),
            "item {item} does not exist ({} items)",
            self.info.data.items.len()
        );
        let z = self.latents.narrow(0, item, 1)?;
        let n = rate as usize;
        let mut out = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let len = (n - start).min(CHUNK_POINTS);
            let t: Vec<f32> = (start..start + len)
                .map(|k| (-1.0 + 2.0 * k as f64 / n as f64) as f32)
                .collect();
            let t = Tensor::from_vec(t, (1, len), self.latents.device())?;
            let y = self.decoder.forward(&z, &t)?;
            out.extend(y.flatten_all()?.to_vec1::<f32>()?);
            start += len;
        }
        Ok(out)
    }

    /// Reconstructions of every item at the training rate.
    pub fn reconstruct_all(&self) -> Result<Vec<Vec<f32>>> {
        (0..self.info.data.items.len())
            .map(|i| self.reconstruct(i, CLIP_LEN as u32))
            .collect()
    }
}
