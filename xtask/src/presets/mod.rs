//! `cargo xtask presets`: trains the shipped library from rendered data, one preset after
//! another, and writes each preset with its figures.
//!
//! For each preset of [`library::LIBRARY`], in a work folder of its own
//! (`target/presets-work/NAME/`), each step is skipped when its result is already there, so
//! a stopped run continues where it stopped (the training itself from its last checkpoint,
//! at most `checkpoint_every` epochs back):
//! 1. render its data set (`cargo xtask dataset` in process) and list the items it keeps;
//! 2. train it with its recipe (`trainer fit`, with `--resume` after a stop);
//! 3. export it (`trainer export --eval`) to `presets/library/NAME.sirenade`;
//! 4. score it (`trainer eval --json`) and measure its voices at 48 kHz on one core (the
//!    plugin benchmark), into `presets/library/NAME.figures.json`;
//!
//! then rewrites the library's table in `presets/README.md` from every figures file.

pub mod library;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use sirenade_common::atomic_file;

use crate::dataset::{
    family_of, render_nsynth, render_speech, NsynthArgs, SpeechArgs, DEFAULT_SOUNDFONT, DIGITS,
    FAMILIES,
};
use crate::workspace_root;
use library::{LibraryPreset, Source, LIBRARY};

/// Largest preset file the library ships, bytes.
pub const MAX_PRESET_BYTES: u64 = 2 * 1024 * 1024;

/// The marker lines around the generated table in `presets/README.md`.
const TABLE_BEGIN: &str = "<!-- library table: written by `cargo xtask presets` -->";
const TABLE_END: &str = "<!-- end of library table -->";

/// Options of `cargo xtask presets`.
#[derive(Debug, Args)]
pub struct PresetsArgs {
    /// Train only these presets (comma separated names; default: all).
    #[arg(long)]
    pub only: Option<String>,
    /// List the library with its sizes and estimated times, and stop.
    #[arg(long)]
    pub list: bool,
    /// Skip the voices benchmark (every preset of the library has the same model).
    #[arg(long)]
    pub skip_voices: bool,
    /// Work folder (data sets and runs).
    #[arg(long, default_value = "target/presets-work")]
    pub work: PathBuf,
}

/// Runs `cargo xtask presets`.
pub fn presets(args: &PresetsArgs) -> Result<()> {
    let chosen = choose(args.only.as_deref())?;
    let total: f64 = chosen.iter().map(|p| p.minutes()).sum();
    println!(
        "{} presets, about {total:.0} minutes of training on 2 cores (an idle machine):",
        chosen.len()
    );
    for p in &chosen {
        println!(
            "  {:<11} {:>3} items, ~{:>3.0} min  {}",
            p.name,
            p.items(),
            p.minutes(),
            p.description
        );
    }
    if args.list {
        return Ok(());
    }
    let root = workspace_root();
    let work = root.join(&args.work);
    let out = root.join("presets").join("library");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let trainer = build_trainer(&root)?;
    for p in &chosen {
        let started = Instant::now();
        println!("== {}: {}", p.name, p.description);
        make_preset(p, &trainer, &work.join(p.name), &out, args.skip_voices)?;
        println!(
            "== {} done in {:.1} min",
            p.name,
            started.elapsed().as_secs_f64() / 60.0
        );
    }
    write_table(&root.join("presets").join("README.md"), &out)?;
    Ok(())
}

/// The presets `only` names (all when none), in library order; an unknown name is an error.
fn choose(only: Option<&str>) -> Result<Vec<LibraryPreset>> {
    let Some(only) = only else {
        return Ok(LIBRARY.to_vec());
    };
    let names: Vec<&str> = only.split(',').map(str::trim).collect();
    for n in &names {
        if !LIBRARY.iter().any(|p| p.name == *n) {
            let known: Vec<&str> = LIBRARY.iter().map(|p| p.name).collect();
            bail!(
                "--only: no preset named {n:?} (the library: {})",
                known.join(", ")
            );
        }
    }
    Ok(LIBRARY
        .iter()
        .filter(|p| names.contains(&p.name))
        .copied()
        .collect())
}

/// Builds the release trainer and returns its path.
fn build_trainer(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "sirenade-trainer"])
        .status()
        .context("running cargo build for the trainer")?;
    ensure!(status.success(), "building the trainer failed");
    Ok(root.join("target").join("release").join("trainer"))
}

/// Runs `trainer ARGS`, failing with its exit status.
fn trainer_run(trainer: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new(trainer)
        .args(args)
        .status()
        .with_context(|| format!("running {}", trainer.display()))?;
    ensure!(
        status.success(),
        "trainer {} failed ({status})",
        args.join(" ")
    );
    Ok(())
}

/// One preset, from data to figures; finished steps are skipped.
fn make_preset(
    p: &LibraryPreset,
    trainer: &Path,
    work: &Path,
    out: &Path,
    skip_voices: bool,
) -> Result<()> {
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let data = work.join("data");
    let ids = work.join("ids.json");
    let rendered = work.join("data.done");
    if !rendered.is_file() {
        render_data(p, &data, &ids)?;
        atomic_file::write(&rendered, b"rendered\n")?;
    }
    let run = work.join("run");
    let trained = work.join("trained.done");
    if !trained.is_file() {
        let (data_s, run_s, ids_s) = (
            data.display().to_string(),
            run.display().to_string(),
            ids.display().to_string(),
        );
        let mut fit = vec![
            "fit",
            "--data",
            &data_s,
            "--config",
            p.recipe.config(),
            "--out",
            &run_s,
        ];
        if ids.is_file() {
            fit.extend(["--ids", &ids_s]);
        }
        if run.join("checkpoint.safetensors").is_file() {
            fit.push("--resume");
        }
        trainer_run(trainer, &fit)?;
        atomic_file::write(&trained, b"trained\n")?;
    }
    let preset = out.join(format!("{}.sirenade", p.name));
    let run_s = run.display().to_string();
    let preset_s = preset.display().to_string();
    trainer_run(trainer, &["export", &run_s, "--out", &preset_s, "--eval"])?;
    let bytes = std::fs::metadata(&preset)?.len();
    ensure!(
        bytes <= MAX_PRESET_BYTES,
        "{}: {bytes} bytes, over the library's {MAX_PRESET_BYTES}",
        preset.display()
    );
    let scores = eval_json(trainer, &run)?;
    let voices = if skip_voices {
        None
    } else {
        Some(crate::bench::plugin::plugin_voices(&preset)?)
    };
    let figures = figures_of(p, bytes, &scores, voices);
    let path = out.join(format!("{}.figures.json", p.name));
    atomic_file::write(&path, serde_json::to_string_pretty(&figures)?.as_bytes())?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Renders the preset's data set into `data` and, for notes, the kept items into `ids`.
fn render_data(p: &LibraryPreset, data: &Path, ids: &Path) -> Result<()> {
    if data.exists() {
        std::fs::remove_dir_all(data)
            .with_context(|| format!("clearing a partly rendered {}", data.display()))?;
    }
    match p.source {
        Source::Notes {
            programs,
            low,
            high,
            step,
        } => {
            let mut families: Vec<&str> = Vec::new();
            for &program in programs {
                let family = family_of(program)
                    .map(|f| FAMILIES[f])
                    .with_context(|| format!("GM program {program} has no NSynth family"))?;
                if !families.contains(&family) {
                    families.push(family);
                }
            }
            let list = |xs: &[u8]| xs.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
            let summary = render_nsynth(&NsynthArgs {
                soundfont: DEFAULT_SOUNDFONT.into(),
                out: data.to_path_buf(),
                families: families.join(","),
                programs: Some(list(programs)),
                pitches: format!("{low}-{high}"),
                velocities: "100".into(),
                seconds: 1.5,
                hold: 1.0,
                gain: 4.0,
            })?;
            println!("{summary}");
            let examples: Value = serde_json::from_slice(
                &std::fs::read(data.join("examples.json")).context("reading examples.json")?,
            )?;
            let mut keep: Vec<&str> = examples
                .as_object()
                .context("examples.json is not an object")?
                .iter()
                .filter(|(_, v)| {
                    v["pitch"]
                        .as_u64()
                        .is_some_and(|pitch| (pitch - u64::from(low)) % u64::from(step) == 0)
                })
                .map(|(id, _)| id.as_str())
                .collect();
            keep.sort_unstable();
            ensure!(
                keep.len() == p.items(),
                "{}: kept {} notes, the library says {}",
                p.name,
                keep.len(),
                p.items()
            );
            atomic_file::write(ids, serde_json::to_string_pretty(&keep)?.as_bytes())?;
        }
        Source::Digits { per_word, seed } => {
            let summary = render_speech(&SpeechArgs {
                out: data.to_path_buf(),
                words: DIGITS.into(),
                per_word,
                seed,
                espeak: "espeak-ng".into(),
            })?;
            println!("{summary}");
        }
    }
    Ok(())
}

/// `trainer eval RUN --json`.
fn eval_json(trainer: &Path, run: &Path) -> Result<Value> {
    let output = Command::new(trainer)
        .arg("eval")
        .arg(run)
        .arg("--json")
        .output()
        .with_context(|| format!("running {} eval", trainer.display()))?;
    ensure!(
        output.status.success(),
        "trainer eval {} failed: {}",
        run.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).context("reading trainer eval's JSON")
}

/// The figures the library's table shows, from `trainer eval`'s JSON.
fn figures_of(p: &LibraryPreset, bytes: u64, eval: &Value, voices: Option<(f64, f64)>) -> Value {
    let mean = |key: &str| eval["metrics"][key]["mean"].as_f64();
    let median = |key: &str| eval["metrics"][key]["median"].as_f64();
    let silence = eval["silence"]["mse_x1e3"]["mean"].as_f64();
    let relative = mean("mse_x1e3")
        .zip(silence)
        .map(|(m, s)| if s > 0.0 { m / s } else { f64::NAN });
    json!({
        "name": p.name,
        "description": p.description,
        "items": p.items(),
        "recipe": p.recipe.config(),
        "bytes": bytes,
        "mse_over_silence": relative,
        "lsd_x10": mean("lsd_x10"),
        "harmonic_error_db": median("harmonic_error_db"),
        "harmonic_reach_hz": median("harmonic_reach_hz"),
        "voices_48k_host": voices.map(|v| v.0),
        "voices_48k_native": voices.map(|v| v.1),
    })
}

/// Rewrites the table between the markers of `readme` from the figures files in `dir`.
fn write_table(readme: &Path, dir: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(readme).with_context(|| format!("reading {}", readme.display()))?;
    let (Some(begin), Some(end)) = (text.find(TABLE_BEGIN), text.find(TABLE_END)) else {
        bail!(
            "{}: the markers {TABLE_BEGIN:?} and {TABLE_END:?} are missing",
            readme.display()
        );
    };
    let mut table = String::from(
        "| preset | sounds | items | × silence | LSD ×10 | harmonic error dB | reach Hz | voices at 48 kHz (Host / Native) | size |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut missing = Vec::new();
    for p in &LIBRARY {
        let path = dir.join(format!("{}.figures.json", p.name));
        let Ok(bytes) = std::fs::read(&path) else {
            missing.push(p.name);
            continue;
        };
        let f: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        let num = |key: &str, digits: usize| {
            f[key]
                .as_f64()
                .map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
        };
        table.push_str(&format!(
            "| `{}.sirenade` | {} | {} | {} | {} | {} | {} | {} / {} | {} KB |\n",
            p.name,
            p.description,
            p.items(),
            num("mse_over_silence", 3),
            num("lsd_x10", 1),
            num("harmonic_error_db", 1),
            num("harmonic_reach_hz", 0),
            num("voices_48k_host", 1),
            num("voices_48k_native", 1),
            f["bytes"].as_u64().unwrap_or(0) / 1024,
        ));
    }
    if !missing.is_empty() {
        table.push_str(&format!(
            "\nNot trained yet (`cargo xtask presets --only {}`).\n",
            missing.join(",")
        ));
    }
    let updated = format!("{}{TABLE_BEGIN}\n{table}{}", &text[..begin], &text[end..]);
    atomic_file::write(readme, updated.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is rewritten between the markers only: a row per figures file, the presets
    /// without one named; a README without the markers is an error that names it.
    #[test]
    fn the_library_table_is_written_between_its_markers() {
        let dir = tempfile::tempdir().unwrap();
        let readme = dir.path().join("README.md");
        std::fs::write(
            &readme,
            format!("# Presets\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nafter\n"),
        )
        .unwrap();
        let figures = figures_of(
            &LIBRARY[1],
            396_100,
            &json!({
                "metrics": {
                    "mse_x1e3": {"mean": 0.5}, "lsd_x10": {"mean": 6.8},
                    "harmonic_error_db": {"median": 4.17}, "harmonic_reach_hz": {"median": 415.0}
                },
                "silence": {"mse_x1e3": {"mean": 10.0}}
            }),
            Some((18.4, 52.6)),
        );
        std::fs::write(
            dir.path().join(format!("{}.figures.json", LIBRARY[1].name)),
            serde_json::to_vec(&figures).unwrap(),
        )
        .unwrap();
        write_table(&readme, dir.path()).unwrap();
        let text = std::fs::read_to_string(&readme).unwrap();
        assert!(text.starts_with("# Presets\n\n"));
        assert!(text.ends_with(&format!("{TABLE_END}\n\nafter\n")));
        assert!(!text.contains("old table"));
        assert!(text.contains(&format!(
            "| `{}.sirenade` | {} | 26 | 0.050 | 6.8 | 4.2 | 415 | 18.4 / 52.6 | 386 KB |",
            LIBRARY[1].name, LIBRARY[1].description
        )));
        assert!(text.contains(&format!("--only {},{}", LIBRARY[0].name, LIBRARY[2].name)));
        assert!(!text.contains(&format!("--only {}", LIBRARY[1].name)));

        std::fs::write(&readme, "no markers\n").unwrap();
        let err = write_table(&readme, dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("README.md") && err.contains("markers"),
            "{err}"
        );
    }

    /// `--only` keeps library order and refuses a name the library lacks, listing the names.
    #[test]
    fn only_chooses_by_name() {
        let chosen = choose(Some("organ, keyboard")).unwrap();
        let names: Vec<&str> = chosen.iter().map(|p| p.name).collect();
        assert_eq!(names, ["keyboard", "organ"]);
        assert_eq!(choose(None).unwrap().len(), LIBRARY.len());
        let err = choose(Some("kazoo")).unwrap_err().to_string();
        assert!(err.contains("kazoo") && err.contains("mallet"), "{err}");
    }
}
