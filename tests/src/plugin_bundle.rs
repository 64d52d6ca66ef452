//! Locates the plugin library that `cargo test` built (with `assert_process_allocs`) and lays it
//! out as the bundles hosts load: `Sirenade.clap` (the library itself on Linux) and
//! `Sirenade.vst3/Contents/x86_64-linux/Sirenade.so`.

use std::path::{Path, PathBuf};

/// File name of the plugin's shared library as cargo writes it.
pub const LIBRARY_NAME: &str = "libsirenade_synth.so";

/// The plugin library next to the running test executable (`target/<profile>/`), built by the
/// same `cargo test` because this crate depends on `sirenade-synth`.
pub fn built_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test-exe> → target/<profile>/
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let lib = profile_dir.join(LIBRARY_NAME);
    assert!(
        lib.is_file(),
        "{} not found: the plugin library must be built by the same cargo run",
        lib.display()
    );
    lib
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
