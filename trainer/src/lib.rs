//! Sirenade's offline trainer.
//!
//! - [`cli`]: the `trainer` command line (argument parsing and dispatch).
//! - [`data_cmd`]: `trainer data info`, the data set summary.
//! - [`fit_cmd`]: `trainer fit`, the command line of training.
//! - [`train`]: the training loop, loss, checkpoints and run folders.
//! - [`tune_cmd`]: `trainer tune`, the omega and learning-rate search on the user's data.
//! - [`tune`]: the search itself (BOHB: Hyperband's brackets with a TPE surrogate).
//! - [`eval_cmd`]: `trainer eval`, the thesis' metrics on full-resolution reconstructions.
//! - [`inference`]: a trained run loaded for reconstruction.
//! - [`render_cmd`]: `trainer render`, WAVs and figures of reconstructions.
//! - [`export_cmd`]: `trainer export`, a run as a `.sirenade` preset.
//! - [`plots`]: the PNG figures.
//! - [`invert_cmd`]: `trainer invert`, latents for clips the model never saw.
//! - [`bundled`]: where the data sets bundled with the repository live.
//! - [`model`]: the decoder network in candle (layers, init, forward and time derivative).
//! - [`optim`]: AdaBelief, Adam and ReduceLROnPlateau over candle variables.
//! - [`model_cmd`]: `trainer model info`, the layer table of a named model.

pub mod allocator;
pub mod bundled;
pub mod cli;
pub mod data_cmd;
pub mod eval_cmd;
pub mod export_cmd;
pub mod fit_cmd;
pub mod inference;
pub mod invert_cmd;
pub mod model;
pub mod model_cmd;
pub mod optim;
pub mod plots;
pub mod render_cmd;
pub mod train;
pub mod tune;
pub mod tune_cmd;
