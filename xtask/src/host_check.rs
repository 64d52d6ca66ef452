//! `cargo xtask host-check`: renders the Sirenade VST3 in Ardour, headless, and measures the
//! recording.
//!
//! Ardour's Lua session tool (`ardour7-lua`, Debian package `ardour`) runs
//! `xtask/host-check/render.lua` with the Dummy backend: a MIDI track hosts the plugin, two notes
//! play, `Latent 1` moves while they sound, and an armed audio track records the output. Ardour
//! only loads VST3s from its search path, so the bundle is copied to `~/.vst3/Sirenade.vst3` and
//! scanned with `ardour-vst3-scanner` first. The check passes when every recorded WAV is finite and
//! the recording is not silent; it prints peak and RMS.
//!
//! Nothing is installed here: without Ardour the command fails and says what to install. The
//! render runs in real time (about 4 s of audio).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Args;

use crate::bundle::{bundle_plugin_release, BUNDLE_NAME};

/// The Lua script Ardour runs (kept in the repository next to this crate).
const RENDER_LUA: &str = include_str!("../host-check/render.lua");
/// Where Debian's `ardour` package keeps its helper programs and libraries.
const ARDOUR_LIB_DIR: &str = "/usr/lib/ardour7";
/// Peak below which the recording counts as silent.
const SILENCE_PEAK: f32 = 1e-3;
/// The render takes about 4 s in real time; allow for a slow start.
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// Options of `cargo xtask host-check`.
#[derive(Debug, Clone, Args)]
pub struct HostCheckArgs {
    /// VST3 bundle to check. Without it, `cargo xtask bundle sirenade-synth --release` runs
    /// first and its `Sirenade.vst3` is used.
    #[arg(long)]
    pub vst3: Option<PathBuf>,
    /// Create the Ardour session in this folder (it must not exist) and keep it, instead of a
    /// temporary one.
    #[arg(long)]
    pub session: Option<PathBuf>,
    /// The `ardour7-lua` program.
    #[arg(long, default_value = "ardour7-lua")]
    pub ardour_lua: String,
}

/// Peak and RMS of one recorded file, over all its channels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WavLevels {
    /// Largest absolute sample value.
    pub peak: f32,
    /// Root mean square over all samples.
    pub rms: f32,
    /// Number of NaN or infinite samples.
    pub non_finite: usize,
    /// Frames in the file.
    pub frames: usize,
    /// Sample rate of the file.
    pub sample_rate: u32,
}

/// Reads a WAV file (integer or float samples) and measures it.
pub fn wav_levels(path: &Path) -> Result<WavLevels> {
    let mut reader =
        hound::WavReader::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let non_finite = samples.iter().filter(|s| !s.is_finite()).count();
    let finite = samples.iter().copied().filter(|s| s.is_finite());
    let peak = finite.clone().fold(0.0f32, |m, s| m.max(s.abs()));
    let sum_sq: f64 = finite.map(|s| f64::from(s) * f64::from(s)).sum();
    let rms = if samples.is_empty() {
        0.0
    } else {
        (sum_sq / samples.len() as f64).sqrt() as f32
    };
    Ok(WavLevels {
        peak,
        rms,
        non_finite,
        frames: samples.len() / usize::from(spec.channels.max(1)),
        sample_rate: spec.sample_rate,
    })
}

/// Finds `program` on `PATH` (or checks it when it is a path).
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy to {}", target.display()))?;
        }
    }
    Ok(())
}

/// Runs `cmd` to completion, killing it after `timeout`; returns its combined output.
fn run_with_timeout(cmd: &mut Command, what: &str, timeout: Duration) -> Result<String> {
    let dir = tempfile::tempdir()?;
    let log_path = dir.path().join("log");
    let log = std::fs::File::create(&log_path)?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > timeout {
            child.kill().ok();
            child.wait().ok();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("{what} ran past {timeout:?}; its output:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = String::from_utf8_lossy(&std::fs::read(&log_path)?).into_owned();
    ensure!(
        status.success(),
        "{what} failed ({status}); its output:\n{log}"
    );
    Ok(log)
}

/// The recorded WAVs of a session (`interchange/*/audiofiles/*.wav`), sorted.
fn recorded_wavs(session: &Path) -> Result<Vec<PathBuf>> {
    let mut wavs = Vec::new();
    let interchange = session.join("interchange");
    for dir in std::fs::read_dir(&interchange)
        .with_context(|| format!("no {} after the render", interchange.display()))?
    {
        let audio = dir?.path().join("audiofiles");
        let Ok(files) = std::fs::read_dir(&audio) else {
            continue;
        };
        for file in files {
            let path = file?.path();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
            {
                wavs.push(path);
            }
        }
    }
    wavs.sort();
    Ok(wavs)
}

/// Runs the check (see the module docs).
pub fn host_check(args: &HostCheckArgs) -> Result<()> {
    let Some(ardour_lua) = find_program(&args.ardour_lua) else {
        bail!(
            "{} not found: host-check needs Ardour 7's Lua session tool. Install it with \
             `sudo apt-get install --no-install-recommends ardour` (Debian/Ubuntu); host-check \
             installs nothing itself",
            args.ardour_lua
        );
    };
    let scanner = Path::new(ARDOUR_LIB_DIR).join("ardour-vst3-scanner");
    ensure!(
        scanner.is_file(),
        "{} not found: install Ardour with `sudo apt-get install --no-install-recommends ardour`",
        scanner.display()
    );

    let vst3 = match &args.vst3 {
        Some(path) => path.clone(),
        None => bundle_plugin_release()?,
    };
    ensure!(vst3.is_dir(), "no VST3 bundle at {}", vst3.display());

    // Ardour loads VST3s from its search path only; copy the bundle into the per-user folder.
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let installed = Path::new(&home)
        .join(".vst3")
        .join(format!("{BUNDLE_NAME}.vst3"));
    if installed.exists() {
        std::fs::remove_dir_all(&installed)
            .with_context(|| format!("cannot replace {}", installed.display()))?;
    }
    copy_tree(&vst3, &installed)?;
    println!(
        "host-check: installed {} → {}",
        vst3.display(),
        installed.display()
    );
    // Ardour treats a scan cache that is not strictly newer than the module as stale: give the
    // module a clearly older time stamp than the scan.
    std::thread::sleep(Duration::from_millis(1100));
    let scan = run_with_timeout(
        Command::new(&scanner)
            .env("LD_LIBRARY_PATH", ARDOUR_LIB_DIR)
            .args(["-q", "-f"])
            .arg(&installed),
        "ardour-vst3-scanner",
        Duration::from_secs(60),
    )?;
    if !scan.trim().is_empty() {
        println!("{}", scan.trim_end());
    }

    let temp = tempfile::tempdir()?;
    let session = match &args.session {
        Some(dir) => {
            ensure!(
                !dir.exists(),
                "{} exists: Ardour creates the session itself",
                dir.display()
            );
            std::path::absolute(dir)?
        }
        None => temp.path().join("session"),
    };
    let script = temp.path().join("render.lua");
    std::fs::write(&script, RENDER_LUA)?;
    println!(
        "host-check: rendering with {} (real time, about 4 s)",
        ardour_lua.display()
    );
    let started = Instant::now();
    let log = run_with_timeout(
        Command::new(&ardour_lua)
            .arg(&script)
            .env("SIRENADE_SESSION", &session)
            .env("PLUGIN_NAME", BUNDLE_NAME)
            .env("LATENT_PARAM", "Latent 1"),
        "ardour7-lua",
        RENDER_TIMEOUT,
    )?;
    for line in log.lines().filter(|l| l.starts_with("host-check:")) {
        println!("{line}");
    }
    ensure!(
        log.lines().any(|l| l.trim() == "host-check: done"),
        "render.lua did not finish; ardour7-lua's output:\n{log}"
    );
    println!(
        "host-check: Ardour finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let wavs = recorded_wavs(&session)?;
    ensure!(
        !wavs.is_empty(),
        "Ardour recorded no WAV under {}",
        session.display()
    );
    let mut peak = 0.0f32;
    for wav in &wavs {
        let levels = wav_levels(wav)?;
        println!(
            "host-check: {}: {} frames at {} Hz, peak {:.4} ({:.1} dBFS), RMS {:.4}",
            wav.file_name().unwrap_or_default().to_string_lossy(),
            levels.frames,
            levels.sample_rate,
            levels.peak,
            20.0 * levels.peak.max(1e-12).log10(),
            levels.rms
        );
        ensure!(
            levels.non_finite == 0,
            "{} holds {} NaN or infinite samples",
            wav.display(),
            levels.non_finite
        );
        peak = peak.max(levels.peak);
    }
    ensure!(
        peak >= SILENCE_PEAK,
        "the recording is silent (peak {peak:.2e} < {SILENCE_PEAK:.0e})"
    );
    println!(
        "host-check: ok ({} recorded files, peak {peak:.4})",
        wavs.len()
    );
    Ok(())
}
