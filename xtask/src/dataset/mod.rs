//! `cargo xtask dataset`: renders data sets in the NSynth and Speech Commands layouts from
//! real recorded sounds (SoundFont samples, a speech synthesiser).

mod gm;
mod nsynth;
mod speech;

use anyhow::Result;
use clap::Subcommand;

pub use gm::{family_of, FAMILIES};
pub use nsynth::{render_nsynth, NsynthArgs, DEFAULT_SOUNDFONT};
pub use speech::{render_speech, SpeechArgs, DIGITS};

/// Which data set to render.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// NSynth-format notes rendered from a General MIDI SoundFont with rustysynth.
    Nsynth(NsynthArgs),
    /// Speech-Commands-format spoken digits rendered with espeak-ng.
    Speech(SpeechArgs),
}

/// Runs a dataset command.
pub fn run(cmd: DatasetCommand) -> Result<()> {
    let summary = match cmd {
        DatasetCommand::Nsynth(a) => render_nsynth(&a)?,
        DatasetCommand::Speech(a) => render_speech(&a)?,
    };
    println!("{summary}");
    Ok(())
}
