//! Replays the preset loader's fuzz corpus (`fuzz/corpus/preset_load/`: the named seeds and
//! the inputs of earlier `cargo fuzz` runs that reach distinct code) on stable Rust, so that
//! every test run keeps the fuzz target's contract: each input is accepted or rejected without
//! a panic, and each accepted preset builds an evaluator that renders.

use std::path::Path;

use sirenade_common::evaluator::Evaluator;
use sirenade_common::preset::Preset;

/// What the fuzz target does with one input; returns whether the loader accepted it.
fn replay(bytes: &[u8], name: &str) -> bool {
    let Ok(preset) = Preset::from_bytes(bytes) else {
        return false;
    };
    let mut evaluator = Evaluator::new(preset.network_weights())
        .unwrap_or_else(|e| panic!("{name}: loaded but builds no evaluator: {e}"));
    if let Some(latent) = preset.latents.latent(0) {
        evaluator
            .prepare(latent)
            .unwrap_or_else(|e| panic!("{name}: its stored latent is refused: {e}"));
        let mut out = [0.0f32; 16];
        evaluator.render(-1.0, 1.0 / 8000.0, &mut out);
    }
    true
}

#[test]
fn every_corpus_input_is_accepted_or_rejected_without_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/preset_load");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let (mut accepted, mut rejected) = (0, 0);
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        let ok = std::panic::catch_unwind(|| replay(&bytes, &name))
            .unwrap_or_else(|_| panic!("{name}: panicked"));
        // The named seeds say what the loader must make of them.
        match name.as_str() {
            "valid_f32" | "valid_f16" | "valid_concat" => assert!(ok, "{name} was rejected"),
            "truncated" | "wrong_shape" => assert!(!ok, "{name} was accepted"),
            _ => {}
        }
        if ok {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        entries.len() >= 500,
        "only {} corpus inputs in {}",
        entries.len(),
        dir.display()
    );
    eprintln!("{accepted} accepted, {rejected} rejected");
}
