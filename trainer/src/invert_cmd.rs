//! `trainer invert RUN --data PATH --out DIR`: reconstructs clips the model never saw. The
//! decoder stays frozen; only new latents are optimised, with the run's own loss and Adam,
//! starting from the mean training latent (the autodecoder's way to encode, thesis §4.2).
//! DIR is a run folder like any other, so `trainer eval DIR` and `trainer render DIR` work on
//! it unchanged.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Result};
use candle_core::{DType, Tensor, Var};
use clap::Args;
use indicatif::ProgressBar;
use sirenade_common::dataset::Clip;

use crate::data_cmd::DataArgs;
use crate::inference::LoadedRun;
use crate::optim::{OptimizerKind, VarGroup};
use crate::train::batches::{epoch_rng, gather, random_starts, Batch, Grid};
use crate::train::checkpoint;
use crate::train::fit::progress_bar;
use crate::train::objective::Objective;
use crate::train::run_dir::{checkpoint_path, ensure_writable, DataInfo, Inversion, RunInfo};
use crate::train::trainer::Counters;

/// Arguments of `trainer invert`.
#[derive(Debug, Clone, Args)]
pub struct InvertArgs {
    /// The trained run whose decoder is used.
    pub run: PathBuf,
    /// Clips to reconstruct and their selection.
    #[command(flatten)]
    pub data: DataArgs,
    /// Optimisation steps per item.
    #[arg(long, default_value_t = 300)]
    pub steps: usize,
    /// Adam learning rate of the latents.
    #[arg(long, default_value_t = 1e-2)]
    pub lr: f64,
    /// Output folder (a run folder holding the new latents).
    #[arg(long)]
    pub out: PathBuf,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `trainer invert` and returns its closing summary.
pub fn run(args: &InvertArgs) -> Result<String> {
    ensure!(args.steps >= 1, "--steps must be at least 1");
    ensure!(
        args.lr.is_finite() && args.lr > 0.0,
        "--lr must be a positive number (got {})",
        args.lr
    );
    let loaded = LoadedRun::open(&args.run)?;
    let ds = args.data.load()?;
    ensure!(
        !checkpoint_path(&args.out).exists(),
        "{}: already holds a run; choose another --out",
        args.out.display()
    );
    ensure_writable(&args.out)?;
    let settings = loaded.info.settings.clone();
    let device = loaded.latents.device().clone();
    let objective = Objective::new(&settings, DType::F32, &device)?;
    let grid = settings.grid();
    let seed = args.data.seed.unwrap_or(settings.seed);
    let mean = loaded.latents.mean_keepdim(0)?;
    let n = ds.clips.len();
    let group = settings.batch.min(n).max(1);
    let bar = progress_bar(
        "inverting, step",
        n.div_ceil(group) * args.steps,
        !args.quiet,
    );
    let inverter = Inverter {
        loaded: &loaded,
        objective: &objective,
        grid,
        seed,
        mean: &mean,
        steps: args.steps,
        lr: args.lr,
        bar: &bar,
    };
    let mut latents = Vec::with_capacity(n);
    let mut final_loss = 0.0;
    for (g, chunk) in ds.clips.chunks(group).enumerate() {
        let (z, loss) = inverter.fit_group(g, chunk)?;
        latents.push(z);
        final_loss = loss;
    }
    bar.finish_and_clear();
    let latents = Tensor::cat(&latents, 0)?;
    // The training run's settings and epoch count stay: they fix the decoder's progressive
    // mask when `eval` and `render` load this folder.
    let info = RunInfo {
        data: DataInfo::of(&args.data.data, args.data.describe(), &ds),
        inversion: Some(Inversion {
            run: args.run.display().to_string(),
            steps: args.steps,
            lr: args.lr,
        }),
        ..loaded.info.clone()
    };
    // The checkpoint first: a folder with a run.json always has its checkpoint.
    save_checkpoint(&args.out, &loaded, &info, latents, args.lr)?;
    info.write(&args.out)?;
    Ok(format!(
        "inverted {n} item(s) with the decoder of {} ({} steps each) into {}; last loss {final_loss:.6e}\n",
        args.run.display(),
        args.steps,
        args.out.display()
    ))
}

/// What inverting one group of clips needs: the trained decoder and objective, the sampling
/// grid and seed, the starting latent, and the optimiser's schedule.
struct Inverter<'a> {
    loaded: &'a LoadedRun,
    objective: &'a Objective,
    grid: Grid,
    seed: u64,
    /// The training latents' mean, where every inversion starts.
    mean: &'a Tensor,
    steps: usize,
    lr: f64,
    bar: &'a ProgressBar,
}

impl Inverter<'_> {
    /// Fits latents to the clips of group `g` (the decoder fixed) with Adam: the group's
    /// latents `[len, latent]` and the last step's loss.
    fn fit_group(&self, g: usize, chunk: &[Clip]) -> Result<(Tensor, f64)> {
        let device = self.mean.device();
        let flat: Vec<f32> = chunk
            .iter()
            .flat_map(|c| c.samples.iter().copied())
            .collect();
        let targets = Tensor::from_vec(flat, (chunk.len(), sirenade_common::CLIP_LEN), device)?;
        let z = Var::from_tensor(&self.mean.repeat((chunk.len(), 1))?)?;
        let mut opt = OptimizerKind::Adam.build(
            vec![VarGroup {
                vars: vec![z.clone()],
                weight_decay: 0.0,
            }],
            self.lr,
        )?;
        let mut rng = epoch_rng(self.seed, g);
        let mut last = 0.0;
        for _ in 0..self.steps {
            let batch = Batch {
                items: (0..chunk.len() as u32).collect(),
                starts: random_starts(&mut rng, self.grid, chunk.len()),
            };
            let (_, t, target) = gather(&targets, &batch, self.grid)?;
            let (pred, dpred) = self
                .objective
                .predict(&self.loaded.decoder, z.as_tensor(), &t)?;
            let terms = self.objective.loss(&pred, dpred.as_ref(), &target)?;
            let loss = terms.value;
            ensure!(
                loss.is_finite(),
                "inversion diverged (non-finite loss); try a smaller --lr"
            );
            let grads = terms.total.backward()?;
            opt.step(&grads)?;
            last = loss;
            self.bar.set_message(format!("loss {loss:.4e}"));
            self.bar.inc(1);
        }
        Ok((z.as_tensor().clone(), last))
    }
}

/// Writes the inverted run's checkpoint: the training run's decoder with the new `latents`,
/// its epoch count kept. A non-finite latent is reported as a divergence.
fn save_checkpoint(
    out: &Path,
    loaded: &LoadedRun,
    info: &RunInfo,
    latents: Tensor,
    lr: f64,
) -> Result<()> {
    let mut tensors: Vec<(String, Tensor)> = loaded
        .decoder
        .state_tensors()
        .into_iter()
        .map(|(k, v)| (format!("model.{k}"), v))
        .collect();
    tensors.push(("latents".into(), latents));
    let counters = Counters {
        epoch: loaded.epochs_trained,
        lr,
        mapping_lr: 0.0,
        plateau: None,
        slot_steps: Vec::new(),
    };
    checkpoint::save(
        &checkpoint_path(out),
        &tensors,
        &counters,
        &info.fingerprint(),
    )
    .map_err(|e| match e.downcast::<checkpoint::NonFiniteTensor>() {
        Ok(_) => anyhow::anyhow!(
            "inversion diverged (the latents' last update is not finite); try a smaller --lr"
        ),
        Err(e) => e,
    })
}
