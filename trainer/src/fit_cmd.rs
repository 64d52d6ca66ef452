//! `trainer fit`: builds the settings (defaults < `--config FILE.toml` < flags), reads the
//! data, checks everything, then trains.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::Args;
use sirenade_common::dataset::Summary;
use sirenade_common::model_config::ModelConfig;

use crate::data_cmd::DataArgs;
use crate::model::SineLayers;
use crate::optim::OptimizerKind;
use crate::train::data_aware;
use crate::train::fit::{epoch_bar, fit, prepare_run_dir, FitOptions};
use crate::train::lr_probe;
use crate::train::run_dir::{DataInfo, RunInfo, RUN_VERSION};
use crate::train::settings::{DecaySchedule, DerivativeForm, LrSchedule, Reduction, TrainSettings};
use crate::train::trainer::Trainer;

/// Arguments of `trainer fit`.
#[derive(Debug, Clone, Args)]
pub struct FitArgs {
    /// Data set and selection.
    #[command(flatten)]
    pub data: DataArgs,
    /// The run folder to write (or continue with --resume).
    #[arg(long, value_name = "RUN")]
    pub out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// TOML file of training settings (flags override it).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Named model configuration (see `trainer model info`).
    #[arg(long)]
    pub model: Option<String>,
    /// First-layer omega.
    #[arg(long, value_name = "F")]
    pub omega_first: Option<f64>,
    /// Hidden-layer omega.
    #[arg(long, value_name = "H")]
    pub omega_hidden: Option<f64>,
    /// Number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Epochs a progressive model's fade-in is laid over (default: --epochs of the run's
    /// first session; a resume keeps the run's).
    #[arg(long)]
    pub fade_in_epochs: Option<usize>,
    /// Items per step.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate of the synthesis network.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning rate of the mapping network (default: --lr).
    #[arg(long)]
    pub mapping_lr: Option<f64>,
    /// The optimiser of the synthesis and mapping networks.
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// How the learning rates evolve over the run: constant (the reference) or cosine (from
    /// the rate down to 1% of it at the last epoch).
    #[arg(long, value_enum)]
    pub lr_schedule: Option<LrSchedule>,
    /// Step size of the latents' SGD.
    #[arg(long)]
    pub latent_lr: Option<f64>,
    /// Coordinates per item per step.
    #[arg(long)]
    pub points: Option<usize>,
    /// Derivative term.
    #[arg(long, value_enum)]
    pub derivative: Option<DerivativeForm>,
    /// Weight of the derivative term.
    #[arg(long)]
    pub derivative_weight: Option<f64>,
    /// Weight of the multi-resolution STFT term on contiguous windows (0: off).
    #[arg(long, value_name = "W")]
    pub stft_weight: Option<f64>,
    /// FFT sizes of the STFT term, comma separated (each at most --stft-window).
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    pub stft_sizes: Option<Vec<usize>>,
    /// Samples per window of the STFT term.
    #[arg(long, value_name = "LENGTH")]
    pub stft_window: Option<usize>,
    /// Windows per item and step of the STFT term.
    #[arg(long, value_name = "COUNT")]
    pub stft_windows: Option<usize>,
    /// Sine layers: fast (default: the fused CPU op, on CUDA the composed network op), the
    /// composed network op on any device, or plain candle ops under autograd (the reference).
    #[arg(long, value_enum, alias = "kernels")]
    pub sine_layers: Option<SineLayers>,
    /// Loss normalisation.
    #[arg(long, value_enum)]
    pub reduction: Option<Reduction>,
    /// Coupled L2 coefficient on the synthesis network.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// constant, linear:EPOCHS or geometric:FACTOR:EVERY.
    #[arg(long)]
    pub weight_decay_schedule: Option<String>,
    /// Turn off the ReduceLROnPlateau schedule.
    #[arg(long)]
    pub no_plateau: bool,
    /// Clip the networks' global gradient norm.
    #[arg(long)]
    pub grad_clip: Option<f64>,
    /// Epochs between checkpoints.
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// cpu or cuda.
    #[arg(long)]
    pub device: Option<String>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Testing aid: put a NaN into a latent when this epoch starts (once), to exercise the
    /// rollback.
    #[arg(long, hide = true, value_name = "EPOCH")]
    pub inject_nan_at: Option<usize>,
}

fn read_config(path: &Path) -> Result<TrainSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // toml's own message spans several lines (a caret under the source); one line here.
        let at = e.span().map_or(String::new(), |span| {
            let before = text.get(..span.start).unwrap_or(&text);
            let line = before.matches('\n').count() + 1;
            let column = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
            format!(" (line {line}, column {column})")
        });
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        anyhow!(
            "{}: invalid training settings{at}: {message}",
            path.display()
        )
    })
}

/// The settings of a `--config FILE.toml` (the defaults without one), before any flag: the
/// base that `trainer fit` and `trainer tune` put their flags over.
pub fn config_settings(config: Option<&Path>) -> Result<TrainSettings> {
    match config {
        Some(p) => read_config(p),
        None => Ok(TrainSettings::default()),
    }
}

impl FitArgs {
    /// Whether the learning rate is given (`--lr`, or `lr` in the config file); an open one is
    /// measured on the data ([`lr_probe`]).
    pub fn lr_given(&self) -> Result<bool> {
        if self.lr.is_some() {
            return Ok(true);
        }
        let Some(path) = &self.config else {
            return Ok(false);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("{}: invalid training settings", path.display()))?;
        Ok(table.contains_key("lr"))
    }

    /// The settings: defaults, then the config file, then the flags.
    pub fn settings(&self) -> Result<TrainSettings> {
        let mut s = match &self.config {
            Some(p) => read_config(p)?,
            None => TrainSettings::default(),
        };
        if let Some(v) = &self.model {
            s.model = v.clone();
        }
        if self.omega_first.is_some() {
            s.omega_first = self.omega_first;
        }
        if self.omega_hidden.is_some() {
            s.omega_hidden = self.omega_hidden;
        }
        macro_rules! set {
            ($($field:ident),*) => {$( if let Some(v) = self.$field.clone() { s.$field = v; } )*};
        }
        set!(
            epochs,
            batch,
            lr,
            optimizer,
            latent_lr,
            points,
            derivative_weight,
            stft_weight,
            stft_sizes,
            stft_window,
            stft_windows,
            weight_decay,
            checkpoint_every,
            device
        );
        if self.mapping_lr.is_some() {
            s.mapping_lr = self.mapping_lr;
        }
        if self.fade_in_epochs.is_some() {
            s.fade_in_epochs = self.fade_in_epochs;
        }
        if let Some(d) = self.derivative {
            s.derivative = d;
        }
        if let Some(l) = self.lr_schedule {
            s.lr_schedule = l;
        }
        if let Some(k) = self.sine_layers {
            s.sine_layers = k;
        }
        if let Some(r) = self.reduction {
            s.reduction = r;
        }
        if let Some(w) = &self.weight_decay_schedule {
            s.weight_decay_schedule = DecaySchedule::parse(w)?;
        }
        if self.no_plateau {
            s.plateau = false;
        }
        if self.grad_clip.is_some() {
            s.grad_clip = self.grad_clip;
        }
        if let Some(seed) = self.data.seed {
            s.seed = seed;
        }
        Ok(s)
    }
}

/// The model a run's settings name, omega overrides applied and validated.
pub fn resolve_model(s: &TrainSettings) -> Result<ModelConfig> {
    let mut m = ModelConfig::named(&s.model)?;
    if let Some(f) = s.omega_first {
        m.omega_first = f;
    }
    if let Some(h) = s.omega_hidden {
        m.omega_hidden = h;
    }
    m.validate()?;
    Ok(m)
}

/// Runs `trainer fit` and returns its closing summary.
pub fn run(args: &FitArgs) -> Result<String> {
    let mut settings = args.settings()?;
    let model = resolve_model(&settings)?;
    if model.progressive.is_some() && settings.fade_in_epochs.is_none() {
        // The schedule stays where the run started it, whatever --epochs a resume gives.
        settings.fade_in_epochs = Some(if args.resume {
            RunInfo::read(&args.out)?.settings.fade_in_span()
        } else {
            settings.epochs
        });
    }
    let ds = args.data.load()?;
    let lr_open = !args.lr_given()?;
    let mut note = None;
    if args.resume {
        // A resumed run keeps the omegas and the rate chosen from the data when it started.
        let stored = RunInfo::read(&args.out)?.settings;
        settings.omega_first = settings.omega_first.or(stored.omega_first);
        settings.omega_hidden = settings.omega_hidden.or(stored.omega_hidden);
        if lr_open {
            settings.lr = stored.lr;
        }
    } else {
        let named = ModelConfig::named(&settings.model)?;
        let (chosen, reason) = data_aware::fill(&mut settings, &named, &Summary::of(&ds));
        if !chosen.is_empty() {
            let list: Vec<String> = chosen
                .iter()
                .map(|c| format!("{} {}", c.setting, c.value))
                .collect();
            note = Some(format!(
                "data-aware defaults: {} for {reason}",
                list.join(", ")
            ));
        }
    }
    let model = resolve_model(&settings)?;
    settings.validate(ds.clips.len())?;
    if let Some(note) = note {
        eprintln!("{note}");
    }
    let mut info = RunInfo {
        version: RUN_VERSION,
        settings: settings.clone(),
        model: model.clone(),
        data: DataInfo::of(&args.data.data, args.data.describe(), &ds),
        inversion: None,
    };
    // Checked before a probe's minutes of training; a probe changes only the rate, which a
    // new run's folder does not depend on.
    prepare_run_dir(&args.out, &info, args.resume)?;
    let clips: Vec<Vec<f32>> = ds.clips.iter().map(|c| c.samples.clone()).collect();
    if lr_open && !args.resume {
        let epochs = lr_probe::probe_epochs(clips.len(), settings.batch, settings.epochs);
        let bar = epoch_bar(epochs * lr_probe::CANDIDATES.len(), !args.quiet);
        bar.set_message("probing the learning rate");
        let probe = lr_probe::probe(&settings, &model, &clips, info.data.mean_power, &bar)?;
        bar.finish_and_clear();
        eprintln!("data-aware defaults: {}", probe.describe());
        settings.lr = probe.lr;
        info.settings.lr = probe.lr;
    }
    let mut trainer = Trainer::new(&settings, &model, &clips)?;
    if settings.device == "cuda" && settings.sine_layers == SineLayers::Fast {
        eprintln!(
            "note: the fused sine op is CPU code; on cuda all-sine FiLM networks run as the composed network op, other layers as candle's plain ops (the same function, other rounding)"
        );
    }
    let summary = fit(
        &mut trainer,
        &args.out,
        &info,
        FitOptions {
            resume: args.resume,
            progress: !args.quiet,
            inject_nan_at: args.inject_nan_at,
        },
    )?;
    let loss = summary
        .final_loss
        .map_or("n/a".to_string(), |l| format!("{l:.6e}"));
    let mut out =
        format!(
        "{} {} of {} epochs in {} (model {}, {} parameters, {} items); last epoch loss {loss}\n",
        if summary.interrupted { "interrupted after" } else { "trained" },
        summary.epochs,
        settings.epochs,
        args.out.display(),
        settings.model,
        model.parameter_count(),
        ds.clips.len(),
    );
    if summary.rollbacks > 0 {
        out.push_str(&format!(
            "{} rollback(s) after non-finite losses or states\n",
            summary.rollbacks
        ));
    }
    if summary.interrupted {
        out.push_str(&format!(
            "resume with: trainer fit ... --out {} --resume\n",
            args.out.display()
        ));
    }
    Ok(out)
}
