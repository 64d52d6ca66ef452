//! `synth`: Sirenade's offline renderer. Plays a preset's notes or a MIDI file through the
//! plugin's own voice engine and writes a WAV (`render`), and describes presets (`info`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use sirenade_common::audio::{write_wav_channels, WavFormat};
use sirenade_synth::engine::controls::{
    db_to_gain, ATTACK, BEND_RANGE, DEFAULT_PRESSURE_TO, DEFAULT_SLIDE_TO, EXPRESSION_DEPTH, GAIN,
    LATENT, MORPH, RELEASE, VOICES,
};
use sirenade_synth::engine::{Controls, RenderRate, Sound, LATENT_CONTROLS};
use sirenade_synth::midi::read_midi;
use sirenade_synth::offline::{max_render_frames, render_to_end, Note, Performance};
use sirenade_synth::preset_report::PresetReport;

#[derive(Parser)]
#[command(
    name = "synth",
    about = "Sirenade's offline renderer and preset inspector",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render one note, or a MIDI file, through the plugin's voice engine to a WAV file.
    Render(RenderArgs),
    /// Describe a preset: its model, training, latent controls and numbered items.
    Info(InfoArgs),
}

#[derive(Parser)]
struct InfoArgs {
    /// Preset file (`.sirenade`); the embedded preset when omitted.
    #[arg(long)]
    preset: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn info(args: InfoArgs) -> Result<()> {
    let sound = load_sound(args.preset.as_deref())?;
    let report = PresetReport::of(&sound);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(())
}

fn load_sound(preset: Option<&Path>) -> Result<Sound> {
    Ok(match preset {
        Some(path) => Sound::load(path)?,
        None => Sound::embedded(),
    })
}

#[derive(Clone, Copy, ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Parser)]
struct RenderArgs {
    /// Preset file (`.sirenade`); the embedded preset when omitted.
    #[arg(long)]
    preset: Option<PathBuf>,
    /// The `Sound` item (its latent is the base).
    #[arg(long, conflicts_with = "latent")]
    item: Option<usize>,
    /// A latent vector instead of an item: comma-separated values, the preset's latent size.
    #[arg(long, allow_hyphen_values = true)]
    latent: Option<String>,
    /// MIDI key of the single note (default: the item's own pitch, else 60).
    #[arg(long, conflicts_with = "midi")]
    note: Option<u8>,
    /// Velocity of the single note, 0..1.
    #[arg(long, default_value_t = 1.0, conflicts_with = "midi")]
    velocity: f32,
    /// Hold the single note this many seconds (default: until its clip ends; at most the
    /// longest render: an hour, 46 minutes at 192 kHz).
    #[arg(long, conflicts_with = "midi")]
    hold: Option<f64>,
    /// A standard MIDI file to render instead of one note.
    #[arg(long)]
    midi: Option<PathBuf>,
    /// Output sample rate, Hz (22050 to 192000).
    #[arg(long, default_value_t = 48_000)]
    rate: u32,
    /// `Morph to` item.
    #[arg(long, default_value_t = 0)]
    morph_to: usize,
    /// `Morph` amount, 0..1.
    #[arg(long, default_value_t = MORPH.default)]
    morph: f32,
    /// `Latent 1`..`Latent 8` in standard deviations, comma-separated (missing ones are 0).
    #[arg(long, allow_hyphen_values = true)]
    latents: Option<String>,
    /// Output gain, dB (-48..12).
    #[arg(long, default_value_t = GAIN.default, allow_hyphen_values = true)]
    gain_db: f32,
    /// Attack, ms (0..2000).
    #[arg(long, default_value_t = ATTACK.default)]
    attack_ms: f32,
    /// Release to -60 dB, ms (5..5000).
    #[arg(long, default_value_t = RELEASE.default)]
    release_ms: f32,
    /// Polyphony, 1..16.
    #[arg(long, default_value_t = VOICES.default as usize)]
    voices: usize,
    /// Key tracking (default: off for a single note, so it plays the item itself; on for MIDI).
    #[arg(long)]
    key_tracking: Option<OnOff>,
    /// Render rate.
    #[arg(long, value_enum, default_value_t = RenderRate::Host)]
    render_rate: RenderRate,
    /// Semitones a full pitch bend of the MIDI file moves its notes, each way (0..48).
    #[arg(long, default_value_t = BEND_RANGE.default)]
    bend_range: f32,
    /// The latent (1..8) a note's pressure moves (MIDI channel or key aftertouch), 0 for none.
    #[arg(long, default_value_t = DEFAULT_PRESSURE_TO)]
    pressure_to: usize,
    /// The latent (1..8) a note's slide moves (CC 74), 0 for none.
    #[arg(long, default_value_t = DEFAULT_SLIDE_TO)]
    slide_to: usize,
    /// Standard deviations full pressure or a full slide moves its latent (0..3).
    #[arg(long, default_value_t = EXPRESSION_DEPTH.default)]
    expression_depth: f32,
    /// Output WAV (32-bit float, stereo).
    #[arg(long)]
    out: PathBuf,
}

fn parse_list(text: &str, what: &str) -> Result<Vec<f32>> {
    text.split(',')
        .map(|v| {
            v.trim()
                .parse::<f32>()
                .with_context(|| format!("{what}: `{}` is not a number", v.trim()))
        })
        .collect()
}

fn render(args: RenderArgs) -> Result<()> {
    check_ranges(&args)?;
    let (sound, item) = sound_and_item(&args)?;
    let controls = controls_of(&args, item)?;
    let rate = args.rate as f32;
    let performance = performance_of(&args, &sound, item, rate)?;
    let [left, right] = render_to_end(&sound, &controls, rate, &performance);
    write_wav_channels(&args.out, &[&left, &right], args.rate, WavFormat::Float32)?;
    let peak = left.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    println!(
        "wrote {} ({:.2} s at {} Hz, {} notes, peak {:.3})",
        args.out.display(),
        left.len() as f64 / f64::from(rate),
        args.rate,
        performance.notes.len(),
        peak
    );
    Ok(())
}

/// The flags' ranges that need no preset to check.
fn check_ranges(args: &RenderArgs) -> Result<()> {
    if !(22_050..=192_000).contains(&args.rate) {
        bail!("--rate {}: must be between 22050 and 192000 Hz", args.rate);
    }
    VOICES.check(args.voices as f32)?;
    MORPH.check(args.morph)?;
    if !(0.0..=1.0).contains(&args.velocity) {
        bail!("--velocity {}: must be between 0 and 1", args.velocity);
    }
    GAIN.check(args.gain_db)?;
    ATTACK.check(args.attack_ms)?;
    RELEASE.check(args.release_ms)?;
    Ok(())
}

/// The preset (with `--latent` as its only item when given) and the `Sound` item, checked
/// against it.
fn sound_and_item(args: &RenderArgs) -> Result<(Sound, usize)> {
    let mut sound = load_sound(args.preset.as_deref())?;
    if let Some(text) = &args.latent {
        let z = parse_list(text, "--latent")?;
        sound = sound
            .with_latent(&z)
            .map_err(|e| anyhow::anyhow!("--latent: {e}"))?;
    }
    let item = args.item.unwrap_or(0);
    if item >= sound.items() {
        bail!(
            "--item {item}: the preset has {} items (0 to {})",
            sound.items(),
            sound.items() - 1
        );
    }
    if args.morph_to >= sound.items() {
        bail!(
            "--morph-to {}: the preset has {} items",
            args.morph_to,
            sound.items()
        );
    }
    Ok((sound, item))
}

/// The controls the flags set (items already checked against the preset).
fn controls_of(args: &RenderArgs, item: usize) -> Result<Controls> {
    let mut latents = [0.0; LATENT_CONTROLS];
    if let Some(text) = &args.latents {
        let values = parse_list(text, "--latents")?;
        if values.len() > LATENT_CONTROLS {
            bail!("--latents: at most {LATENT_CONTROLS} values");
        }
        if let Some(v) = values.iter().find(|&&v| LATENT.check(v).is_err()) {
            bail!(
                "--latents: {v} is outside {}..{} standard deviations",
                LATENT.min,
                LATENT.max
            );
        }
        latents[..values.len()].copy_from_slice(&values);
    }
    BEND_RANGE.check(args.bend_range)?;
    for (flag, target) in [
        ("--pressure-to", args.pressure_to),
        ("--slide-to", args.slide_to),
    ] {
        if target > LATENT_CONTROLS {
            bail!("{flag} {target}: must be 0 (none) or a latent from 1 to {LATENT_CONTROLS}");
        }
    }
    EXPRESSION_DEPTH.check(args.expression_depth)?;
    Ok(Controls {
        sound: item,
        morph_to: args.morph_to,
        morph: args.morph,
        latents,
        gain: db_to_gain(args.gain_db),
        attack_s: args.attack_ms * 1e-3,
        release_s: args.release_ms * 1e-3,
        voices: args.voices,
        key_tracking: match args.key_tracking {
            Some(OnOff::On) => true,
            Some(OnOff::Off) => false,
            None => args.midi.is_some(),
        },
        render_rate: args.render_rate,
        bend_range: args.bend_range,
        pressure_to: args.pressure_to,
        slide_to: args.slide_to,
        expression_depth: args.expression_depth,
    })
}

/// What is played: the MIDI file's notes, or the one note the flags describe.
fn performance_of(args: &RenderArgs, sound: &Sound, item: usize, rate: f32) -> Result<Performance> {
    Ok(match &args.midi {
        Some(path) => {
            let performance = read_midi(path, rate)?;
            if performance.notes.is_empty() {
                bail!("{}: the MIDI file has no notes", path.display());
            }
            performance
        }
        None => {
            let key = args
                .note
                .or_else(|| sound.item_pitch(item))
                .unwrap_or(sirenade_synth::engine::sound::UNPITCHED_ROOT_KEY);
            if key > 127 {
                bail!("--note {key}: MIDI keys are 0 to 127");
            }
            let longest = max_render_frames(rate) as f64 / f64::from(rate);
            let end = match args.hold {
                Some(s) if (0.0..=longest).contains(&s) => {
                    Some((s * f64::from(rate)).round() as u64)
                }
                Some(s) if s > longest => {
                    bail!(
                        "--hold {s}: the longest render at {} Hz is {longest:.0} s",
                        args.rate
                    )
                }
                Some(s) => bail!("--hold {s}: must be a non-negative number of seconds"),
                None => None,
            };
            Performance {
                notes: vec![Note {
                    start: 0,
                    end,
                    key,
                    velocity: args.velocity,
                    channel: 0,
                }],
                ..Performance::default()
            }
        }
    })
}

fn run() -> Result<()> {
    match Cli::try_parse()?.command {
        Command::Render(args) => render(args),
        Command::Info(args) => info(args),
    }
}

fn main() -> ExitCode {
    sirenade_common::exit::exit_code(run())
}
