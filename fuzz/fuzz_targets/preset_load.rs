//! `Preset::from_bytes` on arbitrary bytes: it must return `Ok` or `Err`, never panic, and
//! whatever it accepts must build an evaluator and render without a panic. (Finite output is
//! not asked: weights within the accepted range can still overflow a network, and the voice
//! engine silences a voice whose output is not finite.) `common/tests/fuzz_corpus.rs` replays
//! the kept corpus under `cargo test`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sirenade_common::evaluator::Evaluator;
use sirenade_common::preset::Preset;

fuzz_target!(|data: &[u8]| {
    if let Ok(preset) = Preset::from_bytes(data) {
        let mut evaluator =
            Evaluator::new(preset.network_weights()).expect("a loaded preset builds");
        if let Some(latent) = preset.latents.latent(0) {
            evaluator
                .prepare(latent)
                .expect("a stored latent is usable");
            let mut out = [0.0f32; 16];
            evaluator.render(-1.0, 1.0 / 8000.0, &mut out);
        }
    }
});
