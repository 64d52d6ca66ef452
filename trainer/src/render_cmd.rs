//! `trainer render RUN`: per item, the original and the reconstruction as 32-bit float WAVs
//! at any rate (the function is continuous: it is evaluated at the output rate's time points,
//! the original is band-limited-resampled), a PNG of the first 200 samples overlaid and a PNG
//! of both log-spectrograms.

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use clap::Args;
use sirenade_common::audio::{write_wav, WavFormat};
use sirenade_common::dataset::split_list;
use sirenade_common::dsp::resample;
use sirenade_common::SAMPLE_RATE;

use crate::inference::LoadedRun;
use crate::plots;

/// Arguments of `trainer render`.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The run (or inversion) folder.
    pub run: PathBuf,
    /// Item indices, comma separated (default: all).
    #[arg(long, value_name = "LIST")]
    pub items: Option<String>,
    /// Output sample rate in Hz.
    #[arg(long, default_value_t = SAMPLE_RATE)]
    pub rate: u32,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `trainer render` and returns what it prints.
pub fn run(args: &RenderArgs) -> Result<String> {
    ensure!(
        (1000..=384_000).contains(&args.rate),
        "--rate must be between 1000 and 384000 Hz (got {})",
        args.rate
    );
    let loaded = LoadedRun::open(&args.run)?;
    let count = loaded.info.data.items.len();
    let items: Vec<usize> = match &args.items {
        None => (0..count).collect(),
        Some(list) => split_list(list)
            .iter()
            .map(|s| {
                let i: usize = s
                    .parse()
                    .with_context(|| format!("item '{s}' is not an index"))?;
                ensure!(
                    i < count,
                    "item {i} does not exist (the run has {count} items)"
                );
                Ok(i)
            })
            .collect::<Result<_>>()?,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let clips = loaded.clips()?;
    for &i in &items {
        let original = resample(&clips[i].samples, SAMPLE_RATE, args.rate)?;
        let recon = loaded.reconstruct(i, args.rate)?;
        write_wav(
            &args.out.join(format!("{i:04}-original.wav")),
            &original,
            args.rate,
            WavFormat::Float32,
        )?;
        write_wav(
            &args.out.join(format!("{i:04}-reconstruction.wav")),
            &recon,
            args.rate,
            WavFormat::Float32,
        )?;
        let recon16 = if args.rate == SAMPLE_RATE {
            recon.clone()
        } else {
            loaded.reconstruct(i, SAMPLE_RATE)?
        };
        let title = format!("item {i}: {}", clips[i].id);
        plots::waveform(
            &args.out.join(format!("{i:04}-waveform.png")),
            &title,
            &clips[i].samples,
            &recon16,
            200,
        )?;
        plots::spectrograms(
            &args.out.join(format!("{i:04}-spectrogram.png")),
            &title,
            args.rate,
            &original,
            &recon,
        )?;
    }
    Ok(format!(
        "rendered {} item(s) at {} Hz into {}\n",
        items.len(),
        args.rate,
        args.out.display()
    ))
}
