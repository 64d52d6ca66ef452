//! `cargo xtask bundle`: builds plugin packages and lays them out as CLAP and VST3 bundles.
//!
//! This forwards to nice-plug's bundler (`nice-plug-xtask`), which runs `cargo build` as a
//! subprocess, finds the exported `clap_entry` and `GetPluginFactory` symbols in the built
//! library, and writes `<target>/bundled/<Name>.clap` and
//! `<target>/bundled/<Name>.vst3/Contents/x86_64-linux/<Name>.so`. The bundle name comes from
//! `bundler.toml` at the workspace root (`sirenade-synth` → `Sirenade`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;

/// The plugin package and the name its bundles get (see `bundler.toml`).
pub const PLUGIN_PACKAGE: &str = "sirenade-synth";
/// File stem of the bundles (`Sirenade.clap`, `Sirenade.vst3`).
pub const BUNDLE_NAME: &str = "Sirenade";

/// Options of `cargo xtask bundle`: everything is passed on to nice-plug's bundler.
#[derive(Debug, Clone, Args)]
pub struct BundleArgs {
    /// `<package> [cargo build options]` or `-p <package> -p <package> ... [options]`, e.g.
    /// `sirenade-synth --release`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 1..,
        required = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// Runs nice-plug's `bundle` command with `args` (package names and `cargo build` options).
pub fn bundle(args: &BundleArgs) -> Result<()> {
    let forwarded = std::iter::once("bundle".to_string()).chain(args.args.iter().cloned());
    nice_plug_xtask::main_with_args("cargo xtask", forwarded)
}

/// Bundles the plugin in release mode and returns `<target>/bundled/Sirenade.vst3`.
pub fn bundle_plugin_release() -> Result<PathBuf> {
    bundle(&BundleArgs {
        args: vec![PLUGIN_PACKAGE.to_string(), "--release".to_string()],
    })?;
    Ok(bundled_dir()?.join(format!("{BUNDLE_NAME}.vst3")))
}

/// `<target>/bundled`, where the target folder is the one cargo uses (it honours
/// `CARGO_TARGET_DIR`), as the bundler computes it.
pub fn bundled_dir() -> Result<PathBuf> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .context("cannot run `cargo metadata`")?;
    anyhow::ensure!(
        output.status.success(),
        "`cargo metadata` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("cannot parse `cargo metadata`")?;
    let target = metadata["target_directory"]
        .as_str()
        .context("`cargo metadata` names no target_directory")?;
    Ok(PathBuf::from(target).join("bundled"))
}
