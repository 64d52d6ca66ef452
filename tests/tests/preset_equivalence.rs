//! Trainer → preset → evaluator: the real-time evaluator, built from an exported preset,
//! reproduces the trainer's candle forward (f32 presets within 1e-4, f16 presets at ≥ 50 dB SNR
//! against f32), on a model trained here and on random-weight thesis architectures. The f16
//! SNR is checked both in blocks (the block kernel) and one sample per call (the matrix–vector
//! kernel, which runs compact presets of layers at least 128 wide on 16-bit integers where the
//! CPU has AVX-512 VNNI).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use sirenade_common::evaluator::Evaluator;
use sirenade_common::model_config::ModelConfig;
use sirenade_common::preset::{LatentSpace, Precision, Preset};
use sirenade_common::CLIP_LEN;
use sirenade_trainer::export_cmd;
use sirenade_trainer::inference::LoadedRun;
use sirenade_trainer::model::{Decoder, ProgressiveSchedule};

/// The evaluator's 16000 samples of the training grid for `latent`.
fn render(preset: &Preset, latent: &[f32]) -> Vec<f32> {
    let mut ev = Evaluator::new(preset.network_weights()).unwrap();
    ev.prepare(latent).unwrap();
    let mut out = vec![0.0; CLIP_LEN];
    ev.render(-1.0, 2.0 / CLIP_LEN as f32, &mut out);
    out
}

/// The same samples one render call each.
fn render_per_sample(preset: &Preset, latent: &[f32]) -> Vec<f32> {
    let mut ev = Evaluator::new(preset.network_weights()).unwrap();
    ev.prepare(latent).unwrap();
    let dt = 2.0 / CLIP_LEN as f64;
    let mut out = vec![0.0; CLIP_LEN];
    for (i, y) in out.iter_mut().enumerate() {
        ev.render_f64(-1.0 + i as f64 * dt, dt, std::slice::from_mut(y));
    }
    out
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Signal-to-noise ratio of `test` against `reference`, in dB.
fn snr_db(reference: &[f32], test: &[f32]) -> f64 {
    let signal: f64 = reference.iter().map(|&x| f64::from(x).powi(2)).sum();
    let noise: f64 = reference
        .iter()
        .zip(test)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    10.0 * (signal / noise.max(f64::MIN_POSITIVE)).log10()
}

fn trainer(args: &[&str]) -> String {
    let mut all = vec!["trainer"];
    all.extend_from_slice(args);
    sirenade_trainer::cli::run(all).unwrap_or_else(|e| panic!("{args:?}: {e:#}"))
}

/// The shipped preset's size: f16 kernels.
#[test]
fn trained_demo_model_exports_and_evaluates_like_candle() {
    trained_model_exports_and_evaluates_like_candle("demo");
}

/// 128 wide: the integer kernels where the CPU has AVX-512 VNNI.
#[test]
fn trained_live_model_exports_and_evaluates_like_candle() {
    trained_model_exports_and_evaluates_like_candle("live");
}

fn trained_model_exports_and_evaluates_like_candle(model: &str) {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    trainer(&[
        "fit",
        "--data",
        "bundled:keyboard",
        "--model",
        model,
        "--items",
        "4",
        "--batch",
        "2",
        "--points",
        "250",
        "--epochs",
        "3",
        "--out",
        run_s,
        "--quiet",
    ]);
    let export = |name: &str, precision: &str| {
        let path = dir.path().join(name);
        let printed = trainer(&[
            "export",
            run_s,
            "--out",
            path.to_str().unwrap(),
            "--precision",
            precision,
        ]);
        assert!(printed.contains("4 items"), "{printed}");
        path
    };
    let f32_path = export("full.sirenade", "f32");
    let f16_path = export("compact.sirenade", "f16");
    let full = Preset::load(&f32_path).unwrap();
    let compact = Preset::load(&f16_path).unwrap();
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    println!(
        "{model} preset: {} bytes f32, {} bytes f16, matrices {} on this CPU",
        size(&f32_path),
        size(&f16_path),
        Evaluator::new(compact.network_weights())
            .unwrap()
            .matrix_storage()
    );
    assert!(size(&f16_path) < size(&f32_path) * 6 / 10);

    let loaded = LoadedRun::open(&run).unwrap();
    assert_eq!(full.info.data.items.len(), 4);
    assert_eq!(full.info.training.epochs, Some(3));
    assert!(full.info.training.final_loss.unwrap().is_finite());
    assert_eq!(
        full.info.data.items[2].label,
        loaded.info.data.items[2].label
    );
    for item in [0, 3] {
        let candle = loaded.reconstruct(item, CLIP_LEN as u32).unwrap();
        let exact = render(&full, full.latents.latent(item).unwrap());
        let small = render(&compact, compact.latents.latent(item).unwrap());
        let one = render_per_sample(&compact, compact.latents.latent(item).unwrap());
        let deviation = max_abs_diff(&exact, &candle);
        let (snr, snr_one) = (snr_db(&exact, &small), snr_db(&exact, &one));
        let peak = candle.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        println!(
            "{model} item {item}: peak {peak:.3}, max |evaluator − candle| {deviation:.2e}, \
             f16 SNR {snr:.1} dB (one sample per call: {snr_one:.1} dB)"
        );
        assert!(peak > 1e-3, "the trained output is not silent");
        assert!(deviation <= 1e-4, "item {item}: {deviation}");
        assert!(snr >= 50.0, "item {item}: {snr} dB");
        assert!(
            snr_one >= 50.0,
            "item {item}, one sample per call: {snr_one} dB"
        );
    }
}

/// A preset of a freshly initialised decoder with random latents (weights as the trainer
/// draws them), and that decoder.
fn random_model(model: &str, mask_epochs: Option<usize>) -> (Preset, Decoder, Tensor) {
    let config = ModelConfig::named(model).unwrap();
    let mut decoder = Decoder::new(&config, 11, DType::F32, &Device::Cpu).unwrap();
    let mask = config
        .progressive
        .zip(mask_epochs)
        .map(|(p, e)| ProgressiveSchedule::new(p.groups, config.layers[0].width, 2 * e).mask(e));
    if let Some(mask) = &mask {
        decoder.set_progressive_mask(mask).unwrap();
    }
    let layers = export_cmd::folded_layers(&decoder, mask.as_deref()).unwrap();
    let table: Vec<f32> = (0..2 * config.latent_size)
        .map(|k| 0.5 * (k as f32 * 12.9898).sin())
        .collect();
    let latents = Tensor::from_vec(table.clone(), (2, config.latent_size), &Device::Cpu).unwrap();
    let template = Preset::from_bytes(&tiny_template()).unwrap();
    let mut info = template.info;
    info.model = ModelConfig {
        weight_norm: false,
        ..config.clone()
    };
    info.data.items.truncate(2);
    let preset = Preset {
        info,
        layers,
        latents: LatentSpace::from_table(table, config.latent_size),
    };
    (preset, decoder, latents)
}

/// The bytes of a small valid preset, for its metadata.
fn tiny_template() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/preset_load/valid_f32");
    std::fs::read(path).unwrap()
}

#[test]
fn random_thesis_architectures_evaluate_like_candle() {
    for (model, mask_epochs, tolerance) in [
        ("pigan", None, 1e-4),
        ("pigan-concat-middle", None, 1e-4),
        ("pigan-prog", Some(3), 1e-4),
        ("layered-96", None, 1e-4),
    ] {
        let (preset, decoder, latents) = random_model(model, mask_epochs);
        let bytes = preset.to_bytes(Precision::F32).unwrap();
        let full = Preset::from_bytes(&bytes).unwrap();
        assert_eq!(full, preset, "{model}: f32 round trip");
        let compact = Preset::from_bytes(&preset.to_bytes(Precision::F16).unwrap()).unwrap();
        let n = 4000;
        let t: Vec<f32> = (0..n)
            .map(|k| (-1.0 + 2.0 * k as f64 / CLIP_LEN as f64) as f32)
            .collect();
        let t = Tensor::from_vec(t, (1, n), &Device::Cpu).unwrap();
        let z = latents.narrow(0, 1, 1).unwrap();
        let candle = decoder.forward(&z, &t).unwrap().flatten_all().unwrap();
        let candle = candle.to_vec1::<f32>().unwrap();
        let exact = render(&full, full.latents.latent(1).unwrap());
        let small = render(&compact, compact.latents.latent(1).unwrap());
        let one = render_per_sample(&compact, compact.latents.latent(1).unwrap());
        let deviation = max_abs_diff(&exact[..n], &candle);
        let (snr, snr_one) = (snr_db(&exact, &small), snr_db(&exact, &one));
        println!(
            "{model}: f32 {} bytes, f16 {} bytes, max |evaluator − candle| {deviation:.2e}, \
             f16 SNR {snr:.1} dB (one sample per call: {snr_one:.1} dB)",
            bytes.len(),
            preset.to_bytes(Precision::F16).unwrap().len()
        );
        assert!(deviation <= tolerance, "{model}: {deviation}");
        assert!(snr >= 50.0, "{model}: {snr} dB");
        assert!(
            snr_one >= 50.0,
            "{model}, one sample per call: {snr_one} dB"
        );
    }
}
