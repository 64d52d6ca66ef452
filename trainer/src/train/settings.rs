//! Every training hyperparameter, in one serde struct saved with each run (`RUN/run.json`)
//! and readable from a TOML file (`trainer fit --config FILE.toml`).
//!
//! The defaults reproduce the reference code (docs/reference-code.md: "The autodecoder",
//! "The loss", "Coordinates and sampling", "Optimisers and learning-rate schedule") where it
//! has one:
//! latent SGD at 0.3 from N(0, 0.001²), 2000 evenly spaced points with a random phase, the
//! amplitude term summed over points and averaged over the batch plus the forward-difference
//! derivative term averaged over batch and positions, AdaBelief, ReduceLROnPlateau on the
//! synthesis optimiser, no weight decay, no gradient clipping; and the thesis' model and
//! schedule: `pigan`, learning rate 1e-5, 5000 epochs (thesis A.3.2). The batch defaults to 8
//! rather than the thesis' 128 (which assumes 1024 items: 8 steps per epoch).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::batches::Grid;
use crate::model::SineLayers;
use crate::optim::OptimizerKind;

/// An impossible setting, found before any work starts.
#[derive(Debug, Error)]
#[error("invalid training setting: {0}")]
pub struct SettingsError(pub String);

/// How the loss' derivative term measures the prediction's slope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DerivativeForm {
    /// Forward difference of prediction and target on the sampled grid (the reference code).
    Fd,
    /// The network's exact time derivative (forward mode) against the target's forward
    /// difference, as thesis eq. 4.7 states.
    Analytic,
    /// No derivative term.
    None,
}

/// How the loss terms are normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// The reference code: amplitude term summed over points and averaged over the batch,
    /// derivative term averaged over batch and positions.
    Reference,
    /// Both terms averaged over batch and positions, as thesis eq. 4.7 writes.
    Mean,
}

/// How the networks' learning rates evolve over the run, on top of their current values (which
/// the plateau schedule and a divergence rollback change). The factor is a function of the
/// step's position in the run alone, so a resumed run continues exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The rates as they are (the reference code).
    #[default]
    Constant,
    /// Half a cosine from the full rate at the first step to [`COSINE_FLOOR`] of it at the
    /// last: large steps while the network finds the sounds, small ones to settle them.
    Cosine,
}

/// The fraction of the rate a cosine schedule ends at.
pub const COSINE_FLOOR: f64 = 0.01;

impl LrSchedule {
    /// The factor on the learning rates at `progress` ∈ [0, 1], the fraction of the run's
    /// steps taken before this one.
    pub fn factor(self, progress: f64) -> f64 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => {
                let p = progress.clamp(0.0, 1.0);
                COSINE_FLOOR + (1.0 - COSINE_FLOOR) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
            }
        }
    }
}

/// How the coupled-L2 coefficient λ of the synthesis network evolves over epochs
/// (thesis §5.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DecaySchedule {
    /// λ stays constant.
    Constant,
    /// λ falls linearly from its start value to 0 over `epochs` epochs, then stays 0 (the
    /// thesis: over the first half of training).
    Linear {
        /// Epochs until λ reaches 0.
        epochs: usize,
    },
    /// At every epoch that is a multiple of `every`, λ = λ0 / factor^(epoch / every) (the
    /// reference code; it never reaches 0).
    Geometric {
        /// Division factor per step.
        factor: f64,
        /// Epochs between steps.
        every: usize,
    },
}

impl DecaySchedule {
    /// Parses `constant`, `linear:EPOCHS` or `geometric:FACTOR:EVERY`.
    pub fn parse(s: &str) -> Result<Self, SettingsError> {
        let bad = || {
            SettingsError(format!(
                "weight-decay schedule '{s}' is not constant, linear:EPOCHS or geometric:FACTOR:EVERY"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["constant"] => Ok(Self::Constant),
            ["linear", e] => Ok(Self::Linear {
                epochs: e.parse().map_err(|_| bad())?,
            }),
            ["geometric", f, k] => Ok(Self::Geometric {
                factor: f.parse().map_err(|_| bad())?,
                every: k.parse().map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }

    /// λ at the start of `epoch` (0-based) given the start value `lambda0`.
    pub fn at(&self, lambda0: f64, epoch: usize) -> f64 {
        match *self {
            Self::Constant => lambda0,
            Self::Linear { epochs: 0 } => 0.0,
            Self::Linear { epochs } => lambda0 * (1.0 - epoch as f64 / epochs as f64).max(0.0),
            Self::Geometric { factor, every } => {
                lambda0 / factor.powi((epoch / every.max(1)) as i32)
            }
        }
    }
}

/// All training hyperparameters. See the module doc for the defaults' provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainSettings {
    /// Named model configuration (`trainer model info` lists them).
    pub model: String,
    /// Overrides the model's first-layer omega.
    pub omega_first: Option<f64>,
    /// Overrides the model's hidden-layer omega.
    pub omega_hidden: Option<f64>,
    /// Number of epochs (passes over the data set).
    pub epochs: usize,
    /// Epochs a progressive model's fade-in schedule is laid over (thesis 5.4.2: every group
    /// is on after half of them). `None`: `epochs`. `trainer fit` records the span a run
    /// starts with, so that resuming it with a larger `--epochs` extends the run without
    /// moving its schedule.
    pub fade_in_epochs: Option<usize>,
    /// Items per step.
    pub batch: usize,
    /// Learning rate of the synthesis network's optimiser.
    pub lr: f64,
    /// Learning rate of the mapping network's optimiser (defaults to `lr`).
    pub mapping_lr: Option<f64>,
    /// `adabelief` (the reference) or `adam`.
    pub optimizer: OptimizerKind,
    /// How the learning rates evolve over the run's epochs.
    pub lr_schedule: LrSchedule,
    /// Step size of the latents' plain SGD (the reference: 0.3).
    pub latent_lr: f64,
    /// Standard deviation of the latents' initialisation (the reference: 0.001).
    pub latent_init_std: f64,
    /// Coordinates per item per step (the reference: 2000, stride 8 with a random phase).
    pub points: usize,
    /// Derivative term form.
    pub derivative: DerivativeForm,
    /// Weight of the amplitude term.
    pub amplitude_weight: f64,
    /// Weight of the derivative term.
    pub derivative_weight: f64,
    /// Normalisation of the terms.
    pub reduction: Reduction,
    /// Weight of the multi-resolution STFT term (0: off, the thesis' objective). The term reads
    /// contiguous full-rate windows drawn beside the strided points (an STFT cannot read
    /// strided points: they alias everything above `8000 / stride` Hz).
    pub stft_weight: f64,
    /// FFT sizes of the STFT term, each at most `stft_window` (hop a quarter of the size).
    pub stft_sizes: Vec<usize>,
    /// Samples per window of the STFT term.
    pub stft_window: usize,
    /// Windows per item and step for the STFT term (each from its own random start).
    pub stft_windows: usize,
    /// Coupled L2 coefficient λ on the synthesis network (0: off).
    pub weight_decay: f64,
    /// How λ evolves.
    pub weight_decay_schedule: DecaySchedule,
    /// ReduceLROnPlateau on the synthesis optimiser (the reference's schedule).
    pub plateau: bool,
    /// Clip the global gradient norm of the networks to this value (the thesis' future work).
    pub grad_clip: Option<f64>,
    /// Seed of weights, latents, batch order and phases.
    pub seed: u64,
    /// Epochs between checkpoints.
    pub checkpoint_every: usize,
    /// `cpu` or `cuda` (needs the `cuda` build).
    pub device: String,
    /// Which implementation runs the sine layers (`kernels` in runs written before the name).
    #[serde(alias = "kernels")]
    pub sine_layers: SineLayers,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            model: "pigan".into(),
            omega_first: None,
            omega_hidden: None,
            epochs: 5000,
            fade_in_epochs: None,
            batch: 8,
            lr: 1e-5,
            mapping_lr: None,
            optimizer: OptimizerKind::AdaBelief,
            lr_schedule: LrSchedule::Constant,
            latent_lr: 0.3,
            latent_init_std: 1e-3,
            points: 2000,
            derivative: DerivativeForm::Fd,
            amplitude_weight: 1.0,
            derivative_weight: 1.0,
            reduction: Reduction::Reference,
            stft_weight: 0.0,
            stft_sizes: vec![512, 256, 128, 64],
            stft_window: 512,
            stft_windows: 1,
            weight_decay: 0.0,
            weight_decay_schedule: DecaySchedule::Constant,
            plateau: true,
            grad_clip: None,
            seed: 0,
            checkpoint_every: 25,
            device: "cpu".into(),
            sine_layers: SineLayers::Fast,
        }
    }
}

impl TrainSettings {
    /// Checks every value that can be checked without the data; `items` is the data set size.
    pub fn validate(&self, items: usize) -> Result<(), SettingsError> {
        let err = |m: String| Err(SettingsError(m));
        if self.epochs == 0 {
            return err("--epochs must be at least 1".into());
        }
        if self.fade_in_epochs == Some(0) {
            return err("--fade-in-epochs must be at least 1".into());
        }
        if self.batch == 0 {
            return err("--batch must be at least 1".into());
        }
        if self.batch > items {
            return err(format!(
                "--batch {} is larger than the data set ({items} items)",
                self.batch
            ));
        }
        let positive = [
            ("lr", self.lr),
            ("mapping-lr", self.mapping_lr.unwrap_or(self.lr)),
            ("latent-lr", self.latent_lr),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return err(format!("--{name} must be a positive number (got {v})"));
            }
        }
        for (name, v) in [
            ("latent-init-std", self.latent_init_std),
            ("weight-decay", self.weight_decay),
            ("amplitude-weight", self.amplitude_weight),
            ("derivative-weight", self.derivative_weight),
            ("stft-weight", self.stft_weight),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return err(format!("--{name} must be a non-negative number (got {v})"));
            }
        }
        if let Some(c) = self.grad_clip {
            if !(c.is_finite() && c > 0.0) {
                return err(format!("--grad-clip must be positive (got {c})"));
            }
        }
        if self.points < 2 || self.points > sirenade_common::CLIP_LEN {
            return err(format!(
                "--points must be between 2 and {} (got {})",
                sirenade_common::CLIP_LEN,
                self.points
            ));
        }
        if self.stft_weight > 0.0 {
            let length = self.stft_window;
            if !(8..=sirenade_common::CLIP_LEN).contains(&length) {
                return err(format!(
                    "--stft-window must be between 8 and {} samples (got {length})",
                    sirenade_common::CLIP_LEN
                ));
            }
            if self.stft_windows == 0 {
                return err("--stft-windows must be at least 1".into());
            }
            if self.stft_sizes.is_empty() {
                return err("--stft-sizes must name at least one FFT size".into());
            }
            if let Some(&n) = self.stft_sizes.iter().find(|&&n| n < 8 || n > length) {
                return err(format!(
                    "--stft-sizes: FFT size {n} must be between 8 and the window length {length}"
                ));
            }
        }
        if self.checkpoint_every == 0 {
            return err("--checkpoint-every must be at least 1".into());
        }
        if let DecaySchedule::Geometric { factor, every } = self.weight_decay_schedule {
            if !(factor.is_finite() && factor > 0.0) || every == 0 {
                return err("geometric weight decay needs a positive factor and period".into());
            }
        }
        if !matches!(self.device.as_str(), "cpu" | "cuda") {
            return err(format!(
                "--device must be cpu or cuda (got {})",
                self.device
            ));
        }
        Ok(())
    }

    /// The epochs a progressive fade-in schedule spans: `fade_in_epochs`, else `epochs`.
    pub fn fade_in_span(&self) -> usize {
        self.fade_in_epochs.unwrap_or(self.epochs)
    }

    /// The coordinates each item gets per step: the strided points, and the STFT term's
    /// windows when that term is on.
    pub fn grid(&self) -> Grid {
        Grid {
            stride: sirenade_common::CLIP_LEN / self.points,
            points: self.points,
            window: self.stft_window,
            windows: if self.stft_weight > 0.0 {
                self.stft_windows
            } else {
                0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cosine schedule against its closed form: full rate at the start, half-way between
    /// full and floor at the middle, the floor at the end, never rising; constant is 1.
    #[test]
    fn cosine_schedule_falls_from_the_rate_to_its_floor() {
        let c = LrSchedule::Cosine;
        assert_eq!(c.factor(0.0), 1.0);
        assert!((c.factor(0.5) - (1.0 + COSINE_FLOOR) / 2.0).abs() < 1e-12);
        assert!((c.factor(1.0) - COSINE_FLOOR).abs() < 1e-12);
        assert!(
            (c.factor(0.25) - (COSINE_FLOOR + (1.0 - COSINE_FLOOR) * (0.5 + 0.5 * 0.5f64.sqrt())))
                .abs()
                < 1e-12
        );
        let mut last = f64::INFINITY;
        for i in 0..=100 {
            let f = c.factor(f64::from(i) / 100.0);
            assert!(f <= last);
            last = f;
        }
        assert_eq!(LrSchedule::Constant.factor(0.7), 1.0);
    }

    /// A run.json written before the sine layers had their name (`"kernels": "fused"`) still
    /// resumes, as the default implementation.
    #[test]
    fn settings_written_under_the_old_name_still_read() {
        let old: TrainSettings = serde_json::from_str(r#"{"kernels": "fused"}"#).unwrap();
        assert_eq!(old.sine_layers, SineLayers::Fast);
        let written = serde_json::to_value(TrainSettings::default()).unwrap();
        assert_eq!(written["sine_layers"], "fast");
        assert!(written.get("kernels").is_none());
    }

    #[test]
    fn decay_schedules() {
        assert_eq!(DecaySchedule::Constant.at(10.0, 99), 10.0);
        let lin = DecaySchedule::parse("linear:100").unwrap();
        assert_eq!(lin.at(10.0, 0), 10.0);
        assert!((lin.at(10.0, 25) - 7.5).abs() < 1e-12);
        assert_eq!(lin.at(10.0, 150), 0.0);
        let geo = DecaySchedule::parse("geometric:2:10").unwrap();
        assert_eq!(geo.at(8.0, 9), 8.0);
        assert_eq!(geo.at(8.0, 10), 4.0);
        assert_eq!(geo.at(8.0, 35), 1.0);
        assert!(DecaySchedule::parse("linear").is_err());
        assert!(DecaySchedule::parse("cosine:3").is_err());
    }

    #[test]
    fn validation_names_the_bad_option() {
        let ok = TrainSettings::default();
        ok.validate(40).unwrap();
        let big_batch = TrainSettings {
            batch: 50,
            ..ok.clone()
        };
        let e = big_batch.validate(40).unwrap_err().to_string();
        assert!(e.contains("--batch 50") && e.contains("40 items"), "{e}");
        let bad_lr = TrainSettings {
            lr: f64::NAN,
            ..ok.clone()
        };
        assert!(bad_lr
            .validate(40)
            .unwrap_err()
            .to_string()
            .contains("--lr"));
        // An unknown optimiser is refused when the config is read, naming it.
        let bad_opt = toml::from_str::<TrainSettings>("optimizer = \"sgd\"\n");
        assert!(bad_opt.unwrap_err().to_string().contains("sgd"));
        let toml_text = "epochs = 12\nderivative = \"analytic\"\n[weight_decay_schedule]\nkind = \"linear\"\nepochs = 6\n";
        let s: TrainSettings = toml::from_str(toml_text).unwrap();
        assert_eq!(s.epochs, 12);
        assert_eq!(s.derivative, DerivativeForm::Analytic);
        assert_eq!(s.weight_decay_schedule, DecaySchedule::Linear { epochs: 6 });
        assert!(toml::from_str::<TrainSettings>("epoch = 3").is_err());
    }

    /// Every shipped recipe parses, names a known model and validates.
    #[test]
    fn shipped_recipes_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let s: TrainSettings =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            s.validate(s.batch).unwrap();
            crate::fit_cmd::resolve_model(&s).unwrap();
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        names.sort();
        assert_eq!(names, ["demo.toml", "notes.toml", "speech.toml"]);
    }
}
