//! Compiles the preset library into the instrument: every `presets/library/*.sirenade`, in
//! name order, becomes an entry of `sirenade_synth::library::LIBRARY` (`include_bytes!`), so
//! the plugin lists them without an install step.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest)
        .join("..")
        .join("presets")
        .join("library");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sirenade") && p.is_file())
        .collect();
    files.sort();
    let mut code = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("library preset names are UTF-8");
        let full = path
            .canonicalize()
            .expect("a listed preset can be resolved");
        code.push_str(&format!(
            "    LibraryPreset {{ name: {name:?}, bytes: include_bytes!({:?}) }},\n",
            full.display().to_string()
        ));
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("library.rs");
    std::fs::write(&out, code).expect("write the generated library list");
}
