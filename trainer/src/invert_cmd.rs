//! `trainer invert RUN --data PATH --out DIR`: reconstructs clips the model never saw. The
//! decoder stays frozen; only new latents are optimised, with the run's own loss and Adam,
//! starting from the mean training latent (the autodecoder's way to encode, thesis §4.2).
//! DIR is a run folder like any other, so `trainer eval DIR` and `trainer render DIR` work on
//! it unchanged.

use std::path::PathBuf;

use anyhow::{ensure, Result};
use candle_core::{DType, Tensor, Var};
use clap::Args;

use crate::data_cmd::DataArgs;
use crate::inference::LoadedRun;
use crate::optim::{OptimizerKind, VarGroup};
use crate::train::batches::{epoch_rng, gather, random_starts, Batch};
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
    let mut latents = Vec::with_capacity(n);
    let mut final_loss = 0.0;
    for (g, chunk) in ds.clips.chunks(group).enumerate() {
        let flat: Vec<f32> = chunk
            .iter()
            .flat_map(|c| c.samples.iter().copied())
            .collect();
        let targets = Tensor::from_vec(flat, (chunk.len(), sirenade_common::CLIP_LEN), &device)?;
        let z = Var::from_tensor(&mean.repeat((chunk.len(), 1))?)?;
        let mut opt = OptimizerKind::Adam.build(
            vec![VarGroup {
                vars: vec![z.clone()],
                weight_decay: 0.0,
            }],
            args.lr,
        )?;
        let mut rng = epoch_rng(seed, g);
        for _ in 0..args.steps {
            let batch = Batch {
                items: (0..chunk.len() as u32).collect(),
                starts: random_starts(&mut rng, grid, chunk.len()),
            };
            let (_, t, target) = gather(&targets, &batch, grid)?;
            let (pred, dpred) = objective.predict(&loaded.decoder, z.as_tensor(), &t)?;
            let terms = objective.loss(&pred, dpred.as_ref(), &target)?;
            let loss = terms.value;
            ensure!(
                loss.is_finite(),
                "inversion diverged (non-finite loss); try a smaller --lr"
            );
            let grads = terms.total.backward()?;
            opt.step(&grads)?;
            final_loss = loss;
            bar.set_message(format!("loss {loss:.4e}"));
            bar.inc(1);
        }
        latents.push(z.as_tensor().clone());
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
    let mut tensors: Vec<(String, Tensor)> = loaded
        .decoder
        .state_tensors()
        .into_iter()
        .map(|(k, v)| (format!("model.{k}"), v))
        .collect();
    tensors.push(("latents".into(), latents));
    let counters = Counters {
        epoch: loaded.epochs_trained,
        lr: args.lr,
        mapping_lr: 0.0,
        plateau: None,
        slot_steps: Vec::new(),
    };
    // The checkpoint first: a folder with a run.json always has its checkpoint.
    checkpoint::save(
        &checkpoint_path(&args.out),
        &tensors,
        &counters,
        &info.fingerprint(),
    )
    .map_err(|e| match e.downcast::<checkpoint::NonFiniteTensor>() {
        Ok(_) => anyhow::anyhow!(
            "inversion diverged (the latents' last update is not finite); try a smaller --lr"
        ),
        Err(e) => e,
    })?;
    info.write(&args.out)?;
    Ok(format!(
        "inverted {n} item(s) with the decoder of {} ({} steps each) into {}; last loss {final_loss:.6e}\n",
        args.run.display(),
        args.steps,
        args.out.display()
    ))
}
