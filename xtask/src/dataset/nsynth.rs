//! NSynth-format notes from a General MIDI SoundFont, rendered with `rustysynth`: each note
//! is played for `--hold` seconds and recorded for `--seconds` seconds at 16 kHz, 16-bit, as
//! NSynth's are (4 s, held 3 s), with a complete `examples.json`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rustysynth::{SoundFont, Synthesizer, SynthesizerSettings};
use serde_json::{json, Value};
use sirenade_common::atomic_file::AtomicFile;
use sirenade_common::audio::{write_wav, WavFormat};
use sirenade_common::dataset::{parse_pitch_range, split_list};
use sirenade_common::SAMPLE_RATE;

use super::gm::{family_of, programs_of, source_of, FAMILIES, SOURCES};

/// Debian's `fluid-soundfont-gm` (FluidR3_GM, MIT licence): the project's own soundfont.
pub const DEFAULT_SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// NSynth's ten quality names, in its index order (every rendered note has none set).
const QUALITIES: usize = 10;

/// Options of `cargo xtask dataset nsynth`.
#[derive(Debug, Clone, Args)]
pub struct NsynthArgs {
    /// General MIDI SoundFont (.sf2) to render from.
    #[arg(long, default_value = DEFAULT_SOUNDFONT)]
    pub soundfont: PathBuf,
    /// Output folder (created; `examples.json` and `audio/` are written into it).
    #[arg(long)]
    pub out: PathBuf,
    /// NSynth families to render (keyboard = GM 0–7, mallet = 8–15, guitar = 24–31, ...).
    #[arg(long, default_value = "keyboard")]
    pub families: String,
    /// Restrict to these GM program numbers (comma separated) within the families.
    #[arg(long)]
    pub programs: Option<String>,
    /// MIDI pitch range, e.g. 60-64.
    #[arg(long, default_value = "60-64")]
    pub pitches: String,
    /// MIDI velocities, comma separated (NSynth uses 25,50,75,100,127).
    #[arg(long, default_value = "25,50,75,100,127")]
    pub velocities: String,
    /// Length of each recorded note in seconds (NSynth: 4).
    #[arg(long, default_value_t = 4.0)]
    pub seconds: f32,
    /// How long the key is held, in seconds (NSynth: 3).
    #[arg(long, default_value_t = 3.0)]
    pub hold: f32,
    /// Gain applied to the synthesiser's output. SoundFont renders are quiet (FluidR3 peaks
    /// near 0.2 at full velocity), NSynth notes are loud (the keyboard subset's mean power is
    /// 0.079): the default brings the level close. If any note would clip, the whole set is
    /// scaled down together, so velocities keep their relative levels.
    #[arg(long, default_value_t = 4.0)]
    pub gain: f32,
}

struct Job {
    id: String,
    program: u8,
    family: usize,
    source: usize,
    pitch: u8,
    velocity: u8,
}

fn plan(args: &NsynthArgs) -> Result<Vec<Job>> {
    ensure!(
        args.seconds >= 1.0 && args.seconds <= 30.0,
        "--seconds must be between 1 and 30 (got {})",
        args.seconds
    );
    ensure!(
        args.gain.is_finite() && args.gain > 0.0,
        "--gain must be a positive number (got {})",
        args.gain
    );
    ensure!(
        args.hold > 0.0 && args.hold <= args.seconds,
        "--hold must be positive and at most --seconds (got {})",
        args.hold
    );
    let pitches = parse_pitch_range(&args.pitches)?;
    let mut velocities = Vec::new();
    for v in split_list(&args.velocities) {
        match v.parse::<u8>() {
            Ok(v @ 1..=127) => velocities.push(v),
            _ => bail!("velocity '{v}' is not between 1 and 127"),
        }
    }
    ensure!(!velocities.is_empty(), "--velocities is empty");
    let only: Option<Vec<u8>> = match &args.programs {
        Some(list) => Some(
            split_list(list)
                .iter()
                .map(|p| {
                    p.parse::<u8>()
                        .ok()
                        .filter(|&v| v <= 127)
                        .with_context(|| format!("program '{p}' is not between 0 and 127"))
                })
                .collect::<Result<_>>()?,
        ),
        None => None,
    };
    let mut jobs = Vec::new();
    for name in split_list(&args.families) {
        let family = FAMILIES
            .iter()
            .position(|f| *f == name)
            .with_context(|| format!("unknown family '{name}' (known: {})", FAMILIES.join(", ")))?;
        for program in programs_of(family) {
            if only.as_ref().is_some_and(|o| !o.contains(&program)) {
                continue;
            }
            let source = source_of(program);
            let instrument = format!("{}_{}_{:03}", FAMILIES[family], SOURCES[source], program);
            for pitch in pitches.clone() {
                for &velocity in &velocities {
                    jobs.push(Job {
                        id: format!("{instrument}-{pitch:03}-{velocity:03}"),
                        program,
                        family,
                        source,
                        pitch,
                        velocity,
                    });
                }
            }
        }
    }
    if let Some(o) = &only {
        for p in o {
            ensure!(
                family_of(*p)
                    .is_some_and(|f| split_list(&args.families).contains(&FAMILIES[f].to_string())),
                "program {p} is not in the families {}",
                args.families
            );
        }
    }
    ensure!(
        !jobs.is_empty(),
        "nothing to render: the selection is empty"
    );
    Ok(jobs)
}

fn render_note(font: &Arc<SoundFont>, job: &Job, seconds: f32, hold: f32) -> Result<Vec<f32>> {
    let settings = SynthesizerSettings::new(SAMPLE_RATE as i32);
    let mut synth = Synthesizer::new(font, &settings)
        .map_err(|e| anyhow::anyhow!("cannot start the synthesizer: {e:?}"))?;
    synth.process_midi_message(0, 0xC0, job.program as i32, 0);
    synth.note_on(0, job.pitch as i32, job.velocity as i32);
    let total = (seconds * SAMPLE_RATE as f32).round() as usize;
    let held = ((hold * SAMPLE_RATE as f32).round() as usize).min(total);
    let mut left = vec![0.0f32; total];
    let mut right = vec![0.0f32; total];
    synth.render(&mut left[..held], &mut right[..held]);
    synth.note_off(0, job.pitch as i32);
    synth.render(&mut left[held..], &mut right[held..]);
    Ok(left
        .iter()
        .zip(&right)
        .map(|(l, r)| 0.5 * (l + r))
        .collect())
}

/// Renders the notes and writes `examples.json` last (atomically), so a folder with an
/// `examples.json` is always complete. Returns a one-paragraph summary.
pub fn render_nsynth(args: &NsynthArgs) -> Result<String> {
    let jobs = plan(args)?;
    if !args.soundfont.is_file() {
        bail!(
            "{}: SoundFont not found (Debian: apt-get install fluid-soundfont-gm)",
            args.soundfont.display()
        );
    }
    let mut reader = BufReader::new(
        File::open(&args.soundfont).with_context(|| args.soundfont.display().to_string())?,
    );
    let font = Arc::new(SoundFont::new(&mut reader).map_err(|e| {
        anyhow::anyhow!("{}: not a valid SoundFont: {e:?}", args.soundfont.display())
    })?);
    let audio = args.out.join("audio");
    std::fs::create_dir_all(&audio)
        .with_context(|| format!("{}: cannot create the output folder", audio.display()))?;
    let bar = ProgressBar::new(jobs.len() as u64).with_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} notes ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message("rendering");
    let mut rendered = Vec::with_capacity(jobs.len());
    let mut silent = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        let samples = render_note(&font, job, args.seconds, args.hold)?;
        let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        if peak < 1e-3 {
            silent.push(job.id.clone());
        } else {
            rendered.push((index, job, samples));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let peak = rendered
        .iter()
        .flat_map(|(_, _, x)| x.iter())
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let gain = args.gain.min(0.95 / peak.max(f32::MIN_POSITIVE));
    let mut examples = serde_json::Map::new();
    for (index, job, mut samples) in rendered {
        samples.iter_mut().for_each(|x| *x *= gain);
        let path = audio.join(format!("{}.wav", job.id));
        write_wav(&path, &samples, SAMPLE_RATE, WavFormat::Int16)?;
        examples.insert(job.id.clone(), note_metadata(index, job));
    }
    write_json_atomically(
        &args.out.join("examples.json"),
        &Value::Object(examples.clone()),
    )?;
    let mut s = format!(
        "rendered {} NSynth-format notes from {} into {}",
        examples.len(),
        args.soundfont.display(),
        args.out.display()
    );
    if gain < args.gain {
        s.push_str(&format!(
            "\ngain lowered from {} to {gain:.3} so that no note clips",
            args.gain
        ));
    }
    if !silent.is_empty() {
        s.push_str(&format!(
            "\nskipped {} silent note(s) (the SoundFont has no sample there): {}",
            silent.len(),
            silent.join(", ")
        ));
    }
    Ok(s)
}

fn note_metadata(index: usize, job: &Job) -> Value {
    let family = FAMILIES[job.family];
    let source = SOURCES[job.source];
    json!({
        "note": index,
        "note_str": job.id,
        "instrument": job.program,
        "instrument_str": format!("{family}_{source}_{:03}", job.program),
        "instrument_family": job.family,
        "instrument_family_str": family,
        "instrument_source": job.source,
        "instrument_source_str": source,
        "pitch": job.pitch,
        "velocity": job.velocity,
        "sample_rate": SAMPLE_RATE,
        "qualities": vec![0; QUALITIES],
        "qualities_str": Vec::<String>::new(),
    })
}

/// Writes pretty JSON to `path` through an [`AtomicFile`].
pub(crate) fn write_json_atomically(path: &Path, value: &Value) -> Result<()> {
    let tmp = AtomicFile::new(path)
        .with_context(|| format!("{}: cannot create a temporary file", path.display()))?;
    serde_json::to_writer_pretty(tmp.file(), value)
        .with_context(|| format!("{}: write failed", path.display()))?;
    tmp.commit().with_context(|| {
        format!(
            "{}: cannot move the finished file into place",
            path.display()
        )
    })
}
