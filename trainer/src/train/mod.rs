//! Fitting one conditional SIREN to a whole set of clips (autodecoder), faithfully to the
//! thesis' protocol with every part configurable.
//!
//! - [`settings`]: every hyperparameter, with the reference code's defaults.
//! - [`data_aware`]: the settings a run leaves open, chosen from its data.
//! - [`lr_probe`]: an open learning rate, measured on the data by short probe runs.
//! - [`objective`]: the amplitude + derivative (+ spectral) loss.
//! - [`spectral`]: the multi-resolution STFT term.
//! - [`batches`]: seeded batch order and where each item's points lie (strided or windows).
//! - [`trainer`]: the training state and one epoch of updates.
//! - [`checkpoint`]: atomic save and checked load of the whole state.
//! - [`recovery`]: the newest and previous checkpoints, and which one a rollback returns to.
//! - [`run_dir`]: the run folder (`run.json`, checkpoint, `log.jsonl`).
//! - [`log`]: the typed lines of `log.jsonl`.
//! - [`fit`]: the loop with progress, logging, checkpoints, Ctrl-C and NaN rollback.

pub mod batches;
pub mod checkpoint;
pub mod data_aware;
pub mod fit;
pub mod log;
pub mod lr_probe;
pub mod objective;
pub mod recovery;
pub mod run_dir;
pub mod settings;
pub mod spectral;
pub mod trainer;
