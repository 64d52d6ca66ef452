//! Speech-Commands-format spoken digits rendered with the `espeak-ng` program: many voices,
//! speeds and pitches, each word placed at a random onset inside its one-second clip (the
//! real set's onsets vary, thesis section 5.5), at a random level.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sirenade_common::audio::{read_wav, write_wav, WavFormat};
use sirenade_common::dataset::split_list;
use sirenade_common::dsp::resample;
use sirenade_common::{CLIP_LEN, SAMPLE_RATE};

/// The ten digit words of the thesis' Speech Commands subset.
pub const DIGITS: &str = "zero,one,two,three,four,five,six,seven,eight,nine";

/// espeak-ng English voices (all shipped with Debian's espeak-ng-data).
const VOICES: [&str; 8] = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en",
];

/// espeak-ng voice variants (speaker characters), "" being the plain voice.
const VARIANTS: [&str; 14] = [
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt",
];

/// Options of `cargo xtask dataset speech`.
#[derive(Debug, Clone, Args)]
pub struct SpeechArgs {
    /// Output folder; one sub-folder per word is written into it.
    #[arg(long)]
    pub out: PathBuf,
    /// Words to speak, comma separated.
    #[arg(long, default_value = DIGITS)]
    pub words: String,
    /// Clips per word.
    #[arg(long, default_value_t = 10)]
    pub per_word: usize,
    /// Seed of the voice, speed, pitch, level and onset choices.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The espeak-ng program.
    #[arg(long, default_value = "espeak-ng")]
    pub espeak: String,
}

/// Drops leading and trailing samples below 1% of the peak (espeak pads with silence).
fn trim(x: &[f32]) -> &[f32] {
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let thr = 0.01 * peak;
    let start = x.iter().position(|v| v.abs() > thr).unwrap_or(0);
    let end = x
        .iter()
        .rposition(|v| v.abs() > thr)
        .map_or(x.len(), |e| e + 1);
    &x[start..end.max(start)]
}

/// Renders the words and returns a one-line summary.
pub fn render_speech(args: &SpeechArgs) -> Result<String> {
    let words = split_list(&args.words);
    ensure!(!words.is_empty(), "--words is empty");
    ensure!(args.per_word >= 1, "--per-word must be at least 1");
    for w in &words {
        ensure!(
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "word '{w}' must be plain letters or digits (it names a folder)"
        );
    }
    match Command::new(&args.espeak).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => bail!(
            "'{}' not found or not working: install it with `apt-get install espeak-ng`",
            args.espeak
        ),
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let bar = ProgressBar::new((words.len() * args.per_word) as u64).with_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} clips ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message("speaking");
    let mut written = 0usize;
    for word in &words {
        let dir = args.out.join(word);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
        for k in 0..args.per_word {
            let voice_i = rng.random_range(0..VOICES.len());
            let variant_i = rng.random_range(0..VARIANTS.len());
            let voice = match VARIANTS[variant_i] {
                "" => VOICES[voice_i].to_string(),
                v => format!("{}+{v}", VOICES[voice_i]),
            };
            let speed: u32 = rng.random_range(120..=210);
            let pitch: u32 = rng.random_range(20..=80);
            let level: f32 = rng.random_range(0.25..0.9);
            let raw = tmp.path().join("word.wav");
            let status = Command::new(&args.espeak)
                .args([
                    "-v",
                    &voice,
                    "-s",
                    &speed.to_string(),
                    "-p",
                    &pitch.to_string(),
                    "-w",
                ])
                .arg(&raw)
                .arg(word)
                .status()
                .with_context(|| format!("running {}", args.espeak))?;
            ensure!(status.success(), "{} failed for voice {voice}", args.espeak);
            let wav = read_wav(&raw)?;
            let at_16k = resample(&wav.samples, wav.sample_rate, SAMPLE_RATE)?;
            let spoken = trim(&at_16k);
            let peak = spoken.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            ensure!(
                peak > 0.0,
                "{} produced silence for '{word}' ({voice})",
                args.espeak
            );
            let len = spoken.len().min(CLIP_LEN);
            let onset = rng.random_range(0..=CLIP_LEN - len);
            let mut clip = vec![0.0f32; CLIP_LEN];
            for (dst, src) in clip[onset..onset + len].iter_mut().zip(spoken) {
                *dst = src * level / peak;
            }
            let speaker = (voice_i * VARIANTS.len() + variant_i) as u32;
            let name = format!("{:08x}_nohash_{k}.wav", speaker.wrapping_mul(0x9E37_79B9));
            write_wav(&dir.join(name), &clip, SAMPLE_RATE, WavFormat::Int16)?;
            written += 1;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(format!(
        "rendered {written} Speech-Commands-format clips ({} words × {}) into {}",
        words.len(),
        args.per_word,
        args.out.display()
    ))
}
