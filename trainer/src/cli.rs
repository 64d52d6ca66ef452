//! The `trainer` command line: parsing and dispatch. Errors print as one line with their
//! context chain and exit with status 1.

use std::ffi::OsString;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::{data_cmd, eval_cmd, export_cmd, fit_cmd, invert_cmd, model_cmd, render_cmd, tune_cmd};

/// Sirenade's trainer: fits one conditional SIREN to a whole set of one-second clips.
#[derive(Debug, Parser)]
#[command(name = "trainer", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The trainer's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect data sets.
    Data {
        /// What to do with the data.
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Fit one model to a whole data set (autodecoder).
    Fit(Box<fit_cmd::FitArgs>),
    /// Search omega_first, omega_hidden and the learning rate with BOHB over short runs and
    /// write the best as a `trainer fit --config` file.
    Tune(Box<tune_cmd::TuneArgs>),
    /// Score a run's full-resolution reconstructions with the thesis' metrics.
    Eval(eval_cmd::EvalArgs),
    /// Write original and reconstruction WAVs and PNG figures of a run's items.
    Render(render_cmd::RenderArgs),
    /// Write a run as a `.sirenade` preset for the real-time evaluator and the plugin.
    Export(export_cmd::ExportArgs),
    /// Reconstruct unseen clips with a trained, frozen decoder by optimising new latents.
    Invert(invert_cmd::InvertArgs),
    /// Inspect model architectures.
    Model {
        /// What to do with the model.
        #[command(subcommand)]
        command: ModelCommand,
    },
}

/// `trainer data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Print the selected set: counts per pitch / family / word and the thesis' set
    /// characteristics (mean power, silence, onset and dominant-frequency spread).
    Info(data_cmd::InfoArgs),
}

/// `trainer model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Print a named model's layer table and parameter count.
    Info(model_cmd::InfoArgs),
}

/// Runs the command line given as arguments (the first being the program name) and returns
/// what it prints on standard output.
pub fn run<I, T>(args: I) -> Result<String>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    match cli.command {
        Command::Data {
            command: DataCommand::Info(a),
        } => data_cmd::info(&a),
        Command::Fit(a) => fit_cmd::run(&a),
        Command::Tune(a) => tune_cmd::run(&a),
        Command::Eval(a) => eval_cmd::run(&a),
        Command::Render(a) => render_cmd::run(&a),
        Command::Export(a) => export_cmd::run(&a),
        Command::Invert(a) => invert_cmd::run(&a),
        Command::Model {
            command: ModelCommand::Info(a),
        } => model_cmd::info(&a),
    }
}

/// The binary's entry point: runs, prints, and ends as every tool does
/// ([`sirenade_common::exit`]).
pub fn main() -> std::process::ExitCode {
    sirenade_common::exit::exit_code(run(std::env::args_os()).map(|out| print!("{out}")))
}
