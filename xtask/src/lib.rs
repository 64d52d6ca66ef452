//! Sirenade's development tasks, run as `cargo xtask ...`.
//!
//! - [`dataset`]: renders NSynth-format notes from a SoundFont and Speech-Commands-format
//!   spoken digits with espeak-ng, since neither data set can be downloaded here.

pub mod dataset;

use std::ffi::OsString;

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
}

/// Parses the arguments (the first being the program name) and runs the task.
pub fn run<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(args)?.command {
        Command::Dataset { kind } => dataset::run(kind),
    }
}
