//! `cargo xtask bench plugin`: the plugin's cost in a CLAP host. Bundles the release plugin,
//! then runs `plugin_bench` (in `sirenade-tests`, where the CLAP host harness lives): 10 s of
//! 8-voice polyphony at 48 kHz with the embedded preset or `--preset FILE`, both render rates, CPU time / audio
//! time, voices sustainable on one core, and the host path's overhead against the engine alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};
use clap::Args;

use crate::bundle::{bundle_plugin_release, bundled_dir};

/// Options of `bench plugin`.
#[derive(Debug, Args)]
pub struct PluginBenchArgs {
    /// Print one JSON object (`voices_48k_host`, `voices_48k_native`, ...).
    #[arg(long)]
    pub json: bool,
    /// Play this preset file instead of the embedded one (loaded through the plugin's
    /// preset folder and `Preset` parameter, as a musician would).
    #[arg(long, value_name = "FILE")]
    pub preset: Option<PathBuf>,
}

/// Runs the plugin benchmark.
pub fn bench_plugin(args: &PluginBenchArgs) -> Result<()> {
    // The benchmark runs from the workspace root: a relative path is resolved here first, and
    // a missing file is reported before the bundler's minutes of work.
    let preset = args
        .preset
        .as_ref()
        .map(|p| {
            std::fs::canonicalize(p)
                .with_context(|| format!("{}: cannot read the preset", p.display()))
        })
        .transpose()?;
    bundle_plugin_release()?;
    let clap = bundled_dir()?.join("Sirenade.clap");
    ensure!(
        clap.is_file(),
        "{}: the bundler did not write it",
        clap.display()
    );
    let mut cmd = plugin_bench_command(&clap, preset.as_deref());
    if args.json {
        cmd.arg("--json");
    }
    let status = cmd.status().context("cannot run plugin_bench")?;
    ensure!(status.success(), "plugin_bench failed");
    Ok(())
}

/// The `plugin_bench` run on the bundle `clap` with `preset` (the embedded one when none).
fn plugin_bench_command(clap: &Path, preset: Option<&Path>) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "run",
            "--quiet",
            "--release",
            "--locked",
            "-p",
            "sirenade-tests",
        ])
        .args(["--bin", "plugin_bench", "--", "--plugin"])
        .arg(clap);
    if let Some(preset) = preset {
        cmd.arg("--preset").arg(preset);
    }
    cmd
}

/// Voices of `preset` sustainable at 48 kHz on one core, at the Host and the Native render
/// rates (the benchmark's JSON), for `cargo xtask presets`.
pub fn plugin_voices(preset: &Path) -> Result<(f64, f64)> {
    let preset = std::fs::canonicalize(preset)
        .with_context(|| format!("{}: cannot read the preset", preset.display()))?;
    bundle_plugin_release()?;
    let clap = bundled_dir()?.join("Sirenade.clap");
    let output = plugin_bench_command(&clap, Some(&preset))
        .arg("--json")
        .output()
        .context("cannot run plugin_bench")?;
    ensure!(
        output.status.success(),
        "plugin_bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading plugin_bench's JSON")?;
    let get = |key: &str| {
        v[key]
            .as_f64()
            .with_context(|| format!("plugin_bench's JSON has no {key}"))
    };
    Ok((get("voices_48k_host")?, get("voices_48k_native")?))
}
