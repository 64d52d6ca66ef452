//! Sirenade's development tasks, run as `cargo xtask ...`.
//!
//! - [`dataset`]: renders NSynth-format notes from a SoundFont and Speech-Commands-format
//!   spoken digits with espeak-ng, since neither data set can be downloaded here.
//! - [`check_cuda`]: compiles the CUDA build without a GPU.
//! - [`bench`]: speed and memory benchmarks.
//! - [`bundle`]: builds the plugin's CLAP and VST3 bundles (nice-plug's bundler).
//! - [`host_check`]: renders the VST3 in Ardour, headless, and measures the recording.
//! - [`large_allocs`]: the binary's allocator wrapper that counts tensor-sized allocations.
//! - [`presets`]: trains the shipped preset library from rendered data.

pub mod bench;
pub mod bundle;
pub mod check_cuda;
pub mod dataset;
pub mod host_check;
pub mod large_allocs;
pub mod presets;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Sirenade development tasks.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render look-alike data sets in the NSynth and Speech Commands formats.
    Dataset {
        #[command(subcommand)]
        kind: dataset::DatasetCommand,
    },
    /// Speed and memory benchmarks.
    Bench {
        #[command(subcommand)]
        kind: bench::BenchCommand,
    },
    /// Compile the trainer's CUDA build with a CUDA 13.0 toolchain from PyPI (no GPU needed).
    CheckCuda(check_cuda::CheckCudaArgs),
    /// Build plugin bundles into `target/bundled/` (e.g. `bundle sirenade-synth --release`).
    Bundle(bundle::BundleArgs),
    /// Render the bundled VST3 in Ardour's headless Lua session and check the recording.
    HostCheck(host_check::HostCheckArgs),
    /// Train the shipped preset library (presets/library/) from rendered data: a long job,
    /// resumable; `--list` says how long.
    Presets(presets::PresetsArgs),
}

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Parses the arguments (the first being the program name) and runs the task.
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args)?.command {
        Command::Dataset { kind } => dataset::run(kind),
        Command::CheckCuda(a) => check_cuda::check_cuda(&a),
        Command::Bench { kind } => bench::run(kind),
        Command::Bundle(a) => bundle::bundle(&a),
        Command::HostCheck(a) => host_check::host_check(&a),
        Command::Presets(a) => presets::presets(&a),
    }
}
