//! The training state and one epoch of the autodecoder protocol (docs/reference-code.md,
//! "The autodecoder" and "One training step"):
//! per step, the latents of the batch take a plain SGD step, the plateau schedule sees the
//! loss, and the synthesis and mapping networks take their optimisers' steps, all from the
//! gradient of the same loss at the pre-update latents.

use std::collections::HashMap;

use anyhow::{anyhow, Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use sirenade_common::model_config::ModelConfig;
use sirenade_common::CLIP_LEN;

use super::batches::{epoch_batches, epoch_rng, gather, tiling, Batch};
use super::objective::Objective;
use super::settings::TrainSettings;
use crate::model::{Decoder, ParamGroup, ProgressiveSchedule};
use crate::optim::{Optimizer, ReduceLrOnPlateau, Slot, VarGroup};

/// What one epoch did.
#[derive(Debug, Clone, Serialize)]
pub struct EpochReport {
    /// The epoch's index (0-based).
    pub epoch: usize,
    /// Mean loss over the epoch's steps.
    pub loss: f64,
    /// Mean amplitude term.
    pub amplitude: f64,
    /// Mean derivative term.
    pub derivative: f64,
    /// Mean spectral (STFT) term; 0 when it is off.
    pub spectral: f64,
    /// Synthesis learning rate of the epoch's last step (the schedule's factor applied).
    pub lr: f64,
    /// Coordinate samples (items × points) processed.
    pub coordinate_samples: usize,
}

/// The outcome of running an epoch.
pub enum EpochOutcome {
    /// Every step's loss was finite; the updates were applied.
    Done(EpochReport),
    /// A step produced a NaN or infinite loss; nothing from that step was applied, but
    /// earlier steps of the epoch were, so the state must be rolled back.
    NonFinite {
        /// The epoch.
        epoch: usize,
        /// The step within the epoch.
        step: usize,
    },
}

/// The scalar state a checkpoint records besides tensors.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Counters {
    /// Epochs completed.
    pub epoch: usize,
    /// Synthesis optimiser learning rate.
    pub lr: f64,
    /// Mapping optimiser learning rate.
    pub mapping_lr: f64,
    /// The plateau schedule's state.
    pub plateau: Option<ReduceLrOnPlateau>,
    /// Per-variable optimiser step counts (synthesis, then mapping).
    pub slot_steps: Vec<u64>,
}

/// Everything that evolves during training.
pub struct Trainer {
    settings: TrainSettings,
    objective: Objective,
    device: Device,
    decoder: Decoder,
    latents: Var,
    targets: Tensor,
    synthesis_opt: Box<dyn Optimizer>,
    mapping_opt: Box<dyn Optimizer>,
    synthesis_count: usize,
    plateau: Option<ReduceLrOnPlateau>,
    progressive: Option<ProgressiveSchedule>,
    epoch: usize,
}

/// The compute device a settings string names.
pub fn device_for(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).map_err(|e| {
            anyhow!("cannot open CUDA device 0 ({e}); build with `--features cuda` on a machine with an NVIDIA GPU")
        }),
        other => Err(anyhow!("unknown device '{other}' (cpu or cuda)")),
    }
}

impl Trainer {
    /// A fresh run: weights from `seed`, latents N(0, σ²) from the seed's latent stream.
    pub fn new(settings: &TrainSettings, config: &ModelConfig, clips: &[Vec<f32>]) -> Result<Self> {
        settings.validate(clips.len())?;
        let device = device_for(&settings.device)?;
        let mut decoder = Decoder::new(config, settings.seed, DType::F32, &device)?;
        decoder.set_sine_layers(settings.sine_layers);
        let n = clips.len();
        let latent = config.latent_size;
        let mut rng = epoch_rng(settings.seed, usize::MAX - 1);
        let normal = Normal::new(0.0f32, settings.latent_init_std as f32)
            .map_err(|e| anyhow!("latent init: {e}"))?;
        let init: Vec<f32> = (0..n * latent).map(|_| normal.sample(&mut rng)).collect();
        let latents = Var::from_tensor(&Tensor::from_vec(init, (n, latent), &device)?)?;
        let flat: Vec<f32> = clips.iter().flat_map(|c| c.iter().copied()).collect();
        let targets = Tensor::from_vec(flat, (n, CLIP_LEN), &device)?;
        let kind = settings.optimizer;
        let synthesis = decoder.vars(ParamGroup::Synthesis);
        let synthesis_count = synthesis.len();
        let synthesis_opt = kind.build(
            vec![VarGroup {
                vars: synthesis,
                weight_decay: settings.weight_decay,
            }],
            settings.lr,
        )?;
        let mapping_opt = kind.build(
            vec![VarGroup {
                vars: decoder.vars(ParamGroup::Mapping),
                weight_decay: 0.0,
            }],
            settings.mapping_lr.unwrap_or(settings.lr),
        )?;
        let steps_per_epoch = n.div_ceil(settings.batch) as u64;
        let plateau = settings
            .plateau
            .then(|| ReduceLrOnPlateau::reference(steps_per_epoch));
        let progressive = config.progressive.as_ref().map(|p| {
            ProgressiveSchedule::new(p.groups, config.layers[0].width, settings.fade_in_span())
        });
        Ok(Self {
            settings: settings.clone(),
            objective: Objective::new(settings, DType::F32, &device)?,
            device,
            decoder,
            latents,
            targets,
            synthesis_opt,
            mapping_opt,
            synthesis_count,
            plateau,
            progressive,
            epoch: 0,
        })
    }

    /// Waits until the device has finished the work queued so far (a GPU runs behind the
    /// host): what a timing must do before reading the clock.
    pub fn synchronize(&self) -> Result<()> {
        Ok(self.device.synchronize()?)
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The settings of this run.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// The synthesis and mapping optimisers' learning rates.
    pub fn learning_rates(&self) -> (f64, f64) {
        (
            self.synthesis_opt.learning_rate(),
            self.mapping_opt.learning_rate(),
        )
    }

    /// Sets the synthesis and mapping optimisers' learning rates (NaN recovery halves them).
    pub fn set_learning_rates(&mut self, (synthesis, mapping): (f64, f64)) {
        self.synthesis_opt.set_learning_rate(synthesis);
        self.mapping_opt.set_learning_rate(mapping);
    }

    /// Fault injection for testing the NaN recovery: makes the first value of item 0's latent
    /// NaN, so that the next step whose batch holds item 0 gives a NaN loss.
    pub fn inject_nan(&mut self) -> Result<()> {
        let (n, width) = self.latents.as_tensor().dims2()?;
        let mut values: Vec<f32> = self.latents.as_tensor().flatten_all()?.to_vec1()?;
        values[0] = f32::NAN;
        self.latents
            .set(&Tensor::from_vec(values, (n, width), &self.device)?)?;
        Ok(())
    }

    /// The synthesis learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.synthesis_opt.learning_rate()
    }

    /// Runs one epoch. A non-finite loss stops it before that step's update.
    pub fn run_epoch(&mut self) -> Result<EpochOutcome> {
        let epoch = self.epoch;
        let s = &self.settings;
        let lambda = s.weight_decay_schedule.at(s.weight_decay, epoch);
        self.synthesis_opt.set_weight_decay(0, lambda);
        if let Some(p) = &self.progressive {
            let mask = p.mask(epoch + 1);
            self.decoder.set_progressive_mask(&mask)?;
        }
        let grid = s.grid();
        let batches = epoch_batches(s.seed, epoch, self.targets.dim(0)?, s.batch, grid);
        let (schedule, run_steps) = (s.lr_schedule, (s.epochs * batches.len()).max(1));
        let (mut loss_sum, mut amp_sum, mut der_sum, mut spec_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut coords = 0;
        let mut factor = 1.0;
        for (step, b) in batches.iter().enumerate() {
            let (rows, t, target) = gather(&self.targets, b, grid)?;
            let z = self.latents.as_tensor().index_select(&rows, 0)?;
            let (pred, dpred) = self.predict(&z, &t)?;
            let terms = self.objective.loss(&pred, dpred.as_ref(), &target)?;
            let loss = terms.value;
            if !loss.is_finite() {
                return Ok(EpochOutcome::NonFinite { epoch, step });
            }
            let mut grads = terms.total.backward()?;
            if let Some(g) = grads.remove(self.latents.as_tensor()) {
                let updated = (self.latents.as_tensor() - (g * self.settings.latent_lr)?)?;
                self.latents.set(&updated)?;
            }
            if let Some(p) = &mut self.plateau {
                let lr = p.step(loss, self.synthesis_opt.learning_rate());
                self.synthesis_opt.set_learning_rate(lr);
            }
            if let Some(max_norm) = self.settings.grad_clip {
                clip_gradients(&mut grads, &self.decoder, max_norm)?;
            }
            // The schedule scales the rates for this step only: the rates themselves stay the
            // state the plateau schedule and a rollback act on.
            factor = schedule.factor((epoch * batches.len() + step) as f64 / run_steps as f64);
            let rates = self.learning_rates();
            self.set_learning_rates((rates.0 * factor, rates.1 * factor));
            let stepped = self
                .synthesis_opt
                .step(&grads)
                .and_then(|()| self.mapping_opt.step(&grads));
            self.set_learning_rates(rates);
            stepped?;
            loss_sum += loss;
            amp_sum += terms.amplitude;
            der_sum += terms.derivative;
            spec_sum += terms.spectral;
            coords += b.items.len() * grid.total_points();
        }
        self.epoch += 1;
        let steps = batches.len() as f64;
        Ok(EpochOutcome::Done(EpochReport {
            epoch,
            loss: loss_sum / steps,
            amplitude: amp_sum / steps,
            derivative: der_sum / steps,
            spectral: spec_sum / steps,
            lr: self.synthesis_opt.learning_rate() * factor,
            coordinate_samples: coords,
        }))
    }

    /// The decoder's output for latents z at coordinates t, with its exact time derivative when
    /// the objective uses it.
    fn predict(&self, z: &Tensor, t: &Tensor) -> Result<(Tensor, Option<Tensor>)> {
        Ok(self.objective.predict(&self.decoder, z, t)?)
    }

    /// The training objective over every sample of every clip, per item: each phase
    /// `0..stride` in turn (or each group of windows tiling the clip) over all items (in
    /// batches of the run's size), averaged. Unlike an epoch's loss it draws no random starts,
    /// so two calls differ only by what training changed in between. Nothing is updated.
    pub fn full_loss(&self) -> Result<f64> {
        let s = &self.settings;
        let grid = s.grid();
        let items: Vec<u32> = (0..self.targets.dim(0)? as u32).collect();
        let (mut sum, mut count) = (0.0, 0usize);
        for starts in tiling(grid, CLIP_LEN) {
            for chunk in items.chunks(s.batch) {
                let b = Batch {
                    items: chunk.to_vec(),
                    starts: starts.repeat(chunk.len()),
                };
                let (rows, t, target) = gather(&self.targets, &b, grid)?;
                let z = self.latents.as_tensor().index_select(&rows, 0)?.detach();
                let (pred, dpred) = self.predict(&z, &t)?;
                let terms = self.objective.loss(&pred, dpred.as_ref(), &target)?;
                let loss = terms.value;
                sum += loss * chunk.len() as f64;
                count += chunk.len();
            }
        }
        Ok(sum / count as f64)
    }

    /// Every tensor of the state (decoder, latents, optimiser moments) and the counters.
    pub fn snapshot(&self) -> Result<(Vec<(String, Tensor)>, Counters)> {
        let mut tensors: Vec<(String, Tensor)> = self
            .decoder
            .state_tensors()
            .into_iter()
            .map(|(k, v)| (format!("model.{k}"), v))
            .collect();
        tensors.push(("latents".into(), self.latents.as_tensor().clone()));
        let mut steps = Vec::new();
        let slots = self
            .synthesis_opt
            .state()
            .into_iter()
            .chain(self.mapping_opt.state());
        for (i, slot) in slots.enumerate() {
            tensors.push((format!("optim.{i}.first"), slot.first));
            tensors.push((format!("optim.{i}.second"), slot.second));
            steps.push(slot.step);
        }
        let counters = Counters {
            epoch: self.epoch,
            lr: self.synthesis_opt.learning_rate(),
            mapping_lr: self.mapping_opt.learning_rate(),
            plateau: self.plateau.clone(),
            slot_steps: steps,
        };
        Ok((tensors, counters))
    }

    /// Restores a state taken with [`Trainer::snapshot`] (from a checkpoint).
    pub fn restore(
        &mut self,
        tensors: &HashMap<String, Tensor>,
        counters: &Counters,
    ) -> Result<()> {
        let model: HashMap<String, Tensor> = tensors
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("model.").map(|n| (n.to_string(), v.clone())))
            .collect();
        self.decoder.load_state(&model)?;
        let latents = tensors
            .get("latents")
            .context("checkpoint lacks the latent table")?;
        anyhow::ensure!(
            latents.dims() == self.latents.as_tensor().dims(),
            "checkpoint latents have shape {:?}, the run needs {:?}",
            latents.dims(),
            self.latents.as_tensor().dims()
        );
        self.latents
            .set(&latents.to_dtype(DType::F32)?.to_device(&self.device)?)?;
        let mut slots = Vec::new();
        for (i, &step) in counters.slot_steps.iter().enumerate() {
            let get = |part: &str| -> Result<Tensor> {
                let t = tensors
                    .get(&format!("optim.{i}.{part}"))
                    .with_context(|| format!("checkpoint lacks optim.{i}.{part}"))?;
                Ok(t.to_dtype(DType::F32)?.to_device(&self.device)?)
            };
            slots.push(Slot {
                step,
                first: get("first")?,
                second: get("second")?,
            });
        }
        anyhow::ensure!(
            slots.len() >= self.synthesis_count,
            "checkpoint holds {} optimiser slots, the model needs more",
            slots.len()
        );
        let mapping = slots.split_off(self.synthesis_count);
        self.synthesis_opt.load_state(slots)?;
        self.mapping_opt.load_state(mapping)?;
        self.synthesis_opt.set_learning_rate(counters.lr);
        self.mapping_opt.set_learning_rate(counters.mapping_lr);
        self.plateau = counters.plateau.clone();
        self.epoch = counters.epoch;
        Ok(())
    }

    /// The mean squared error of the reconstruction over every sample of every item: the
    /// decoder at all 16000 coordinates of each clip (items in batches of the run's size,
    /// coordinates in chunks of at most 32000 per pass), against the clips. Nothing is updated.
    pub fn reconstruction_mse(&self) -> Result<f64> {
        const CHUNK_POINTS: usize = 32_000;
        let items = self.targets.dim(0)?;
        let batch = self.settings.batch.max(1);
        let width = (CHUNK_POINTS / batch).clamp(1, CLIP_LEN);
        let mut sum = 0.0f64;
        for first in (0..items).step_by(batch) {
            let rows = batch.min(items - first);
            let z = self.latents.as_tensor().narrow(0, first, rows)?.detach();
            for start in (0..CLIP_LEN).step_by(width) {
                let len = width.min(CLIP_LEN - start);
                let t: Vec<f32> = (start..start + len)
                    .map(|k| (-1.0 + 2.0 * k as f64 / CLIP_LEN as f64) as f32)
                    .collect();
                let t = Tensor::from_vec(t, (1, len), &self.device)?
                    .broadcast_as((rows, len))?
                    .contiguous()?;
                let pred = self.decoder.forward(&z, &t)?;
                let target = self.targets.narrow(0, first, rows)?.narrow(1, start, len)?;
                sum += (pred.to_dtype(DType::F64)? - target.to_dtype(DType::F64)?)?
                    .sqr()?
                    .sum_all()?
                    .to_scalar::<f64>()?;
            }
        }
        Ok(sum / (items * CLIP_LEN) as f64)
    }
}

/// Scales the networks' gradients so that their global L2 norm is at most `max_norm`.
fn clip_gradients(
    grads: &mut candle_core::backprop::GradStore,
    decoder: &Decoder,
    max_norm: f64,
) -> Result<()> {
    let vars: Vec<Var> = decoder.named_vars().into_iter().map(|v| v.var).collect();
    let sums = vars
        .iter()
        .filter_map(|v| grads.get(v.as_tensor()))
        .map(|g| g.sqr()?.sum_all())
        .collect::<candle_core::Result<Vec<Tensor>>>()?;
    if sums.is_empty() {
        return Ok(());
    }
    // One transfer of every variable's sum (a GPU waits for each read), summed in f64.
    let sq: f64 = Tensor::stack(&sums, 0)?
        .to_dtype(DType::F64)?
        .to_vec1::<f64>()?
        .iter()
        .sum();
    let norm = sq.sqrt();
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-12);
        for v in &vars {
            if let Some(g) = grads.remove(v.as_tensor()) {
                grads.insert(v.as_tensor(), (g * scale)?);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor};
    use sirenade_common::model_config::ModelConfig;

    use super::clip_gradients;
    use crate::model::Decoder;

    /// Gradients of `Σ_v c_v · Σ v`: every element of variable v has gradient c_v.
    fn grads(decoder: &Decoder) -> (candle_core::backprop::GradStore, f64) {
        let vars = decoder.named_vars();
        let mut loss = Tensor::zeros((), DType::F32, &Device::Cpu).unwrap();
        let mut norm_sq = 0.0f64;
        for (i, v) in vars.iter().enumerate() {
            let c = 0.25 + 0.125 * (i % 5) as f64;
            let term = (v.var.as_tensor().sum_all().unwrap() * c).unwrap();
            loss = (loss + term).unwrap();
            norm_sq += c * c * v.var.as_tensor().elem_count() as f64;
        }
        (loss.backward().unwrap(), norm_sq.sqrt())
    }

    #[test]
    fn clipping_scales_the_global_norm_to_the_limit_and_leaves_smaller_ones() {
        let config = ModelConfig::named("demo").unwrap();
        let decoder = Decoder::new(&config, 1, DType::F32, &Device::Cpu).unwrap();
        let global = |g: &candle_core::backprop::GradStore| -> f64 {
            decoder
                .named_vars()
                .iter()
                .map(|v| {
                    let t = g.get(v.var.as_tensor()).unwrap();
                    t.to_dtype(DType::F64)
                        .unwrap()
                        .sqr()
                        .unwrap()
                        .sum_all()
                        .unwrap()
                        .to_scalar::<f64>()
                        .unwrap()
                })
                .sum::<f64>()
                .sqrt()
        };
        let (mut g, norm) = grads(&decoder);
        assert!((global(&g) - norm).abs() <= 1e-9 * norm);
        // A limit above the norm changes nothing.
        clip_gradients(&mut g, &decoder, norm * 1.5).unwrap();
        assert!((global(&g) - norm).abs() <= 1e-9 * norm);
        // A limit below it scales every gradient by limit / norm (f32 values: 1e-6).
        let limit = norm / 8.0;
        clip_gradients(&mut g, &decoder, limit).unwrap();
        assert!(
            (global(&g) - limit).abs() <= 1e-6 * limit,
            "{} vs {limit}",
            global(&g)
        );
        let first = decoder.named_vars()[0].var.clone();
        let values = g
            .get(first.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert!(values
            .iter()
            .all(|&x| (x as f64 - 0.25 / 8.0).abs() <= 1e-7));
    }
}
