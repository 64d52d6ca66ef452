//! The small data sets committed with the repository (rendered by `cargo xtask dataset`),
//! addressed on the command line as `bundled:keyboard` and `bundled:speech`.

use std::path::PathBuf;

use anyhow::{bail, Result};

/// Names of the bundled data sets.
pub const BUNDLED: [&str; 2] = ["keyboard", "speech"];

/// The folder holding the bundled data sets (`trainer/data` in the source tree).
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Resolves a `--data` argument: `bundled:NAME` names a bundled set, anything else is a path.
pub fn resolve(arg: &str) -> Result<PathBuf> {
    match arg.strip_prefix("bundled:") {
        Some(name) if BUNDLED.contains(&name) => {
            let dir = data_dir().join(name);
            if !dir.is_dir() {
                bail!(
                    "{}: the bundled data set '{name}' is missing from this checkout",
                    dir.display()
                );
            }
            Ok(dir)
        }
        Some(name) => bail!(
            "unknown bundled data set '{name}' (available: {})",
            BUNDLED.map(|b| format!("bundled:{b}")).join(", ")
        ),
        None => Ok(PathBuf::from(arg)),
    }
}
