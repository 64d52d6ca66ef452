//! `cargo xtask bench ...`: speed and memory benchmarks. Each prints its figures (and ratios
//! against its baseline) as a table, or as one JSON object with `--json`.

mod train;

use anyhow::Result;
use clap::Subcommand;

pub use train::{bench_train, TrainBenchArgs};

/// Which benchmark to run.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training throughput of the thesis pi-GAN for both derivative forms.
    Train(TrainBenchArgs),
}

/// Runs a benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Train(a) => bench_train(&a),
    }
}
