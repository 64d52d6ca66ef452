//! The Python baselines of the benchmarks (PyTorch for `bench train`, ONNX Runtime for `bench
//! engine`): finding their interpreter and running their scripts in `xtask/python/`.
//!
//! The interpreter is `--python PATH`, else the virtualenv `scripts/bench-venv.sh` makes
//! (`target/bench-venv`, pinned torch 2.15.0, adabelief-pytorch 0.2.0, onnxruntime 1.32.0:
//! the versions the goals' reference figures in BENCHMARKS.md were measured with). Without either, the
//! benchmarks say so and print their Rust-side figures alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::workspace_root;

/// The virtualenv `scripts/bench-venv.sh` creates, relative to the workspace root.
pub const BENCH_VENV: &str = "target/bench-venv";

/// The interpreter to run the baselines with: `explicit` if given (it must exist), else the
/// bench virtualenv's if it exists, else `None`.
pub fn interpreter(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!("--python {}: no such interpreter", p.display());
        }
        return Ok(Some(p.to_path_buf()));
    }
    let venv = workspace_root().join(BENCH_VENV).join("bin/python");
    Ok(venv.is_file().then_some(venv))
}

/// The note printed when no interpreter was found.
pub fn missing_note(what: &str) -> String {
    format!(
        "({what} baseline skipped: no {BENCH_VENV}; `bash scripts/bench-venv.sh` installs it, or \
         pass --python PATH)"
    )
}

/// Runs `xtask/python/SCRIPT` with `args` and parses the JSON object it prints last.
pub fn run_script(python: &Path, script: &str, args: &[String]) -> Result<serde_json::Value> {
    let path = workspace_root().join("xtask/python").join(script);
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {} {}", python.display(), path.display()))?;
    if !out.status.success() {
        bail!(
            "{script} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("{script} printed no JSON: {stdout}"))
}
