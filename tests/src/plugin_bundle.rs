//! Builds the plugin library for the host tests (a debug build with nice-plug's
//! `assert_process_allocs`, so any allocation inside `process` aborts the host) and lays it out
//! as the bundles hosts load: `Sirenade.clap` (the library itself on Linux) and
//! `Sirenade.vst3/Contents/x86_64-linux/Sirenade.so`.
//!
//! Cargo does not build a dependency's `cdylib`, so the tests build it themselves with
//! `cargo build`, in a target folder of their own (`target/plugin-test`) so as not to wait on
//! the lock of the `cargo test` that runs them. Concurrent test binaries share that build:
//! cargo's own lock serialises them and the second finds it fresh.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// File name of the plugin's shared library as cargo writes it.
pub const LIBRARY_NAME: &str = "libsirenade_synth.so";

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent folder")
        .to_path_buf()
}

/// The plugin library built with `assert_process_allocs` (built on first use in this process).
pub fn built_library() -> PathBuf {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let root = workspace_root();
            let target = root.join("target").join("plugin-test");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .current_dir(&root)
                .args([
                    "build",
                    "--locked",
                    "--quiet",
                    "-p",
                    "sirenade-synth",
                    "--lib",
                ])
                .args(["--features", "assert_process_allocs", "--target-dir"])
                .arg(&target)
                .status()
                .expect("run cargo build for the plugin");
            assert!(status.success(), "building the plugin library failed");
            let lib = target.join("debug").join(LIBRARY_NAME);
            assert!(lib.is_file(), "{} was not built", lib.display());
            lib
        })
        .clone()
}

/// Copies the built library into `dir` as `Sirenade.clap` and returns its path.
pub fn clap_bundle(dir: &Path) -> PathBuf {
    let path = dir.join("Sirenade.clap");
    std::fs::copy(built_library(), &path).expect("copy the plugin library to the .clap bundle");
    path
}

/// Builds `dir/Sirenade.vst3/Contents/x86_64-linux/Sirenade.so` and returns the bundle folder.
pub fn vst3_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("Sirenade.vst3");
    let binary_dir = bundle.join("Contents").join("x86_64-linux");
    std::fs::create_dir_all(&binary_dir).expect("create the .vst3 bundle folders");
    std::fs::copy(built_library(), binary_dir.join("Sirenade.so"))
        .expect("copy the plugin library into the .vst3 bundle");
    bundle
}
