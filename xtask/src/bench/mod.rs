//! `cargo xtask bench ...`: speed and memory benchmarks. Each prints its figures (and ratios
//! against its baseline) as a table, or as one JSON object with `--json`.
//!
//! - `train`: training throughput; `evaluator`: the real-time evaluator per model and block size;
//!   `plugin`: the bundled plugin in a CLAP host.
//! - `peak`: this core's single-thread FP32 peak (SGEMM and an FMA loop); `models`: the
//!   networks the evaluator benchmark runs; `clock`: CPU-time rates; `python`: the PyTorch and
//!   ONNX Runtime baselines' interpreter and scripts.

mod clock;
mod evaluator;
mod models;
mod peak;
pub mod plugin;
mod python;
mod train;

use anyhow::Result;
use clap::Subcommand;

pub use evaluator::{
    bench_evaluator, EvaluatorBenchArgs, EvaluatorBenchReport, EvaluatorBenchResult,
};
pub use plugin::{bench_plugin, PluginBenchArgs};
pub use train::{bench_train, TrainBenchArgs};

/// Which benchmark to run.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training throughput of the thesis pi-GAN for both derivative forms.
    Train(TrainBenchArgs),
    /// The real-time evaluator (pigan 8×256, wide 4×365, small 4×128; blocks 1–256; one
    /// thread) against this core's FP32 peak and candle's CPU forward.
    #[command(alias = "engine")]
    Evaluator(EvaluatorBenchArgs),
    /// The bundled plugin in a CLAP host: 10 s of 8 voices at 48 kHz, both render rates.
    Plugin(PluginBenchArgs),
}

/// Runs a benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Train(a) => bench_train(&a),
        BenchCommand::Evaluator(a) => {
            print!("{}", bench_evaluator(&a)?);
            Ok(())
        }
        BenchCommand::Plugin(a) => bench_plugin(&a),
    }
}
