//! Round trips, sizes and every rejection of the preset loader.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, View};
use safetensors::SafeTensors;

use super::*;
use crate::evaluator::Evaluator;
use crate::label::Label;
use crate::model_config::ModelConfig;

/// A preset of `model` with random weights at roughly trained scales and `items` latents.
fn random_preset(model: &str, items: usize, seed: u64) -> Preset {
    let config = ModelConfig {
        weight_norm: false,
        ..ModelConfig::named(model).unwrap()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sym = |n: usize, bound: f32| -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-bound..bound)).collect()
    };
    let layers = config
        .layer_shapes()
        .iter()
        .map(|l| {
            let bound = if l.name == "synthesis.0" {
                1.0
            } else {
                (6.0 / l.inputs as f32).sqrt() / l.omega.unwrap_or(1.0).max(1.0) as f32
            };
            LayerWeights {
                name: l.name.clone(),
                weight: sym(l.inputs * l.outputs, bound),
                bias: sym(l.outputs, 0.1),
                omega: l
                    .name
                    .starts_with("synthesis.")
                    .then(|| vec![l.omega.unwrap() as f32; l.outputs]),
            }
        })
        .collect();
    let table = sym(items * config.latent_size, 0.3);
    Preset {
        info: PresetInfo {
            sample_rate: 16_000,
            duration_seconds: 1.0,
            data: DataSummary {
                source: "bundled:keyboard".into(),
                format: "nsynth".into(),
                selection: vec!["--items".into(), items.to_string()],
                mean_power: 0.02,
                items: (0..items)
                    .map(|i| PresetItem {
                        id: format!("keyboard_acoustic_000-{:03}-100", 60 + i),
                        label: Label {
                            pitch: Some(60 + i as u8),
                            family: Some("keyboard".into()),
                            ..Label::default()
                        },
                    })
                    .collect(),
            },
            training: TrainingSummary {
                model_name: model.into(),
                epochs: Some(3),
                final_loss: Some(0.5),
                eval: None,
            },
            model: config.clone(),
        },
        layers,
        latents: LatentSpace::from_table(table, config.latent_size),
    }
}

/// One tensor of a file taken apart.
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// A valid file's metadata JSON and tensors, to be broken and reassembled.
fn parts(bytes: &[u8]) -> (serde_json::Value, BTreeMap<String, Raw>) {
    let (_, metadata) = SafeTensors::read_metadata(bytes).unwrap();
    let json = metadata.metadata().as_ref().unwrap()[METADATA_KEY].clone();
    let st = SafeTensors::deserialize(bytes).unwrap();
    let tensors = st
        .tensors()
        .into_iter()
        .map(|(name, v)| {
            let raw = Raw {
                dtype: v.dtype(),
                shape: v.shape().to_vec(),
                bytes: v.data().to_vec(),
            };
            (name, raw)
        })
        .collect();
    (serde_json::from_str(&json).unwrap(), tensors)
}

fn assemble(json: &serde_json::Value, tensors: &BTreeMap<String, Raw>) -> Vec<u8> {
    let metadata = std::collections::HashMap::from([(METADATA_KEY.to_string(), json.to_string())]);
    safetensors::serialize(tensors.iter(), Some(metadata)).unwrap()
}

fn demo_bytes() -> Vec<u8> {
    random_preset("demo", 4, 1)
        .to_bytes(Precision::F32)
        .unwrap()
}

/// Loads `bytes`, expecting an error whose message contains every needle.
fn rejects(bytes: &[u8], needles: &[&str]) {
    let err = Preset::from_bytes(bytes).unwrap_err().to_string();
    for needle in needles {
        assert!(err.contains(needle), "`{err}` lacks `{needle}`");
    }
}

#[test]
fn f32_round_trip_is_bit_exact_through_a_file() {
    let preset = random_preset("demo", 5, 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.sirenade");
    preset.write(&path, Precision::F32).unwrap();
    let back = Preset::load(&path).unwrap();
    assert_eq!(back, preset);
    let bits = |p: &Preset| -> Vec<u32> {
        p.layers
            .iter()
            .flat_map(|l| l.weight.iter().chain(&l.bias))
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&back), bits(&preset));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary file left behind"
    );
}

#[test]
fn every_conditioning_kind_round_trips_and_builds_an_evaluator() {
    for model in [
        "pigan-concat-middle",
        "pigan-sine-last",
        "pigan-prog",
        "pigan-min-mapping",
    ] {
        let preset = random_preset(model, 3, 3);
        let back = Preset::from_bytes(&preset.to_bytes(Precision::F32).unwrap()).unwrap();
        assert_eq!(back, preset, "{model}");
        let mut ev = Evaluator::new(back.network_weights()).unwrap();
        ev.prepare(back.latents.latent(1).unwrap()).unwrap();
        let mut out = [0.0f32; 32];
        ev.render(-1.0, 2.0 / 16000.0, &mut out);
        assert!(out.iter().all(|v| v.is_finite()), "{model}");
    }
}

#[test]
fn compact_pigan_is_under_two_megabytes_and_close_to_f32() {
    let preset = random_preset("pigan", 40, 4);
    let compact = preset.to_bytes(Precision::F16).unwrap();
    let full = preset.to_bytes(Precision::F32).unwrap();
    assert!(compact.len() < 2_000_000, "{} bytes", compact.len());
    assert!(full.len() > 3_000_000, "{} bytes", full.len());
    let back = Preset::from_bytes(&compact).unwrap();
    for (a, b) in back.layers.iter().zip(&preset.layers) {
        let exact = a.name == "synthesis.0";
        for (x, y) in a.weight.iter().zip(&b.weight) {
            let tolerance = if exact { 0.0 } else { y.abs() / 2048.0 + 1e-7 };
            assert!((x - y).abs() <= tolerance, "{}: {x} vs {y}", a.name);
        }
        assert_eq!(a.bias, b.bias, "biases stay f32");
        assert_eq!(a.omega, b.omega, "omegas stay f32");
    }
    assert_eq!(back.latents.directions, preset.latents.directions);
}

#[test]
fn f16_overflow_is_an_error_not_an_infinity() {
    let mut preset = random_preset("demo", 2, 5);
    preset.layers[1].weight[3] = 1e6;
    let err = preset.to_bytes(Precision::F16).unwrap_err().to_string();
    assert!(
        err.contains("mapping.1.weight[3]") && err.contains("f16"),
        "{err}"
    );
}

#[test]
fn truncated_files_are_rejected() {
    let bytes = demo_bytes();
    rejects(&bytes[..5], &["<bytes>", "truncated", "5 bytes"]);
    rejects(&bytes[..100], &["truncated", "header claims"]);
    rejects(&bytes[..bytes.len() - 1], &["not a valid safetensors file"]);
}

#[test]
fn oversized_header_and_file_are_rejected() {
    let mut bytes = demo_bytes();
    bytes[..8].copy_from_slice(&(MAX_HEADER_BYTES + 1).to_le_bytes());
    rejects(&bytes, &["header claims 8388609 bytes", "limit"]);
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    rejects(&bytes, &["header claims"]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.sirenade");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();
    let err = Preset::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("huge.sirenade") && err.contains("over the 67108864-byte limit"),
        "{err}"
    );
}

#[test]
fn wrong_shapes_are_named_precisely() {
    let (json, mut tensors) = parts(&demo_bytes());
    let w = tensors.get_mut("synthesis.3.weight").unwrap();
    w.shape = vec![96, 48];
    w.bytes.truncate(96 * 48 * 4);
    rejects(
        &assemble(&json, &tensors),
        &["tensor synthesis.3.weight has shape [96, 48], config says [96, 96]"],
    );
}

#[test]
fn latent_table_must_match_the_items() {
    let (mut json, tensors) = parts(&demo_bytes());
    json["info"]["data"]["items"]
        .as_array_mut()
        .unwrap()
        .truncate(3);
    rejects(
        &assemble(&json, &tensors),
        &["tensor latent.table has shape [4, 256], config says [3, 256]"],
    );
}

#[test]
fn non_finite_weights_are_rejected() {
    for (value, shown) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf")] {
        let (json, mut tensors) = parts(&demo_bytes());
        let w = tensors.get_mut("synthesis.2.weight").unwrap();
        w.bytes[20..24].copy_from_slice(&value.to_le_bytes());
        rejects(
            &assemble(&json, &tensors),
            &["tensor synthesis.2.weight[5] is not finite", shown],
        );
    }
}

#[test]
fn values_beyond_the_f16_range_are_rejected() {
    for (tensor, value) in [("synthesis.2.weight", 3.03e32f32), ("mapping.0.bias", -7e4)] {
        let (json, mut tensors) = parts(&demo_bytes());
        let w = tensors.get_mut(tensor).unwrap();
        w.bytes[20..24].copy_from_slice(&value.to_le_bytes());
        rejects(
            &assemble(&json, &tensors),
            &[&format!("tensor {tensor}[5] is {value:e}"), "beyond ±65504"],
        );
    }
    // The f16 maximum itself is a value a compact preset can hold.
    let (json, mut tensors) = parts(&demo_bytes());
    let w = tensors.get_mut("synthesis.2.weight").unwrap();
    w.bytes[20..24].copy_from_slice(&65_504.0f32.to_le_bytes());
    Preset::from_bytes(&assemble(&json, &tensors)).unwrap();
}

#[test]
fn insane_omegas_are_rejected() {
    for value in [0.0f32, -3.0, 2e5] {
        let (json, mut tensors) = parts(&demo_bytes());
        let w = tensors.get_mut("synthesis.1.omega").unwrap();
        w.bytes[..4].copy_from_slice(&value.to_le_bytes());
        rejects(
            &assemble(&json, &tensors),
            &["tensor synthesis.1.omega[0] is omega"],
        );
    }
}

#[test]
fn unknown_versions_and_foreign_files_are_rejected() {
    let (mut json, tensors) = parts(&demo_bytes());
    json["version"] = serde_json::json!(2);
    rejects(
        &assemble(&json, &tensors),
        &["format version 2", "reads version 1"],
    );
    json["format"] = serde_json::json!("something-else");
    rejects(&assemble(&json, &tensors), &["not a Sirenade preset"]);
    let plain = safetensors::serialize(tensors.iter(), None).unwrap();
    rejects(&plain, &["not a Sirenade preset"]);
}

#[test]
fn missing_unexpected_and_mistyped_tensors_are_rejected() {
    let (json, mut tensors) = parts(&demo_bytes());
    let bias = tensors.remove("output.bias").unwrap();
    rejects(
        &assemble(&json, &tensors),
        &["tensor output.bias is missing"],
    );
    tensors.insert("output.bias".into(), bias);
    tensors.insert(
        "extra".into(),
        Raw {
            dtype: Dtype::F32,
            shape: vec![1],
            bytes: vec![0; 4],
        },
    );
    rejects(&assemble(&json, &tensors), &["unexpected tensor extra"]);
    tensors.remove("extra");
    let b = tensors.get_mut("synthesis.1.bias").unwrap();
    b.dtype = Dtype::I32;
    rejects(
        &assemble(&json, &tensors),
        &["tensor synthesis.1.bias has dtype I32; presets hold F16 or F32"],
    );
}

#[test]
fn bad_metadata_is_rejected() {
    let (json, tensors) = parts(&demo_bytes());
    let mut zero = json.clone();
    zero["info"]["model"]["latent_size"] = serde_json::json!(0);
    rejects(
        &assemble(&zero, &tensors),
        &["invalid model config", "latent_size"],
    );
    let mut huge = json.clone();
    huge["info"]["model"]["layers"][0]["width"] = serde_json::json!(1u64 << 40);
    rejects(&assemble(&huge, &tensors), &["implausibly large"]);
    let mut rate = json.clone();
    rate["info"]["sample_rate"] = serde_json::json!(44_100);
    rejects(&assemble(&rate, &tensors), &["sample rate 44100 Hz"]);
    let mut few = json.clone();
    few["components"] = serde_json::json!(3);
    rejects(&assemble(&few, &tensors), &["3 principal directions"]);
    let mut extra = json;
    extra["info"]["colour"] = serde_json::json!("blue");
    rejects(
        &assemble(&extra, &tensors),
        &["malformed preset metadata", "colour"],
    );
}

/// Writes the fuzz target's seed corpus (valid tiny presets and broken ones):
/// `cargo test -p sirenade-common write_fuzz_seed_corpus -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/preset_load");
    std::fs::create_dir_all(&dir).unwrap();
    let mut tiny = random_preset("demo", 2, 7);
    let config = &mut tiny.info.model;
    config.latent_size = 8;
    config.mapping.hidden_layers = 1;
    config.mapping.hidden_width = 8;
    config.mapping.output_size = 16;
    for l in &mut config.layers {
        l.width = 8;
    }
    let config = config.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    tiny.layers = config
        .layer_shapes()
        .iter()
        .map(|l| LayerWeights {
            name: l.name.clone(),
            weight: (0..l.inputs * l.outputs)
                .map(|_| rng.random_range(-0.5..0.5))
                .collect(),
            bias: vec![0.1; l.outputs],
            omega: l
                .name
                .starts_with("synthesis.")
                .then(|| vec![30.0; l.outputs]),
        })
        .collect();
    tiny.latents =
        LatentSpace::from_table((0..16).map(|_| rng.random_range(-0.5..0.5)).collect(), 8);
    let f32_bytes = tiny.to_bytes(Precision::F32).unwrap();
    let mut concat = tiny.clone();
    concat.info.model.conditioning = crate::model_config::Conditioning::Concat {
        hidden_layers: vec![2],
    };
    concat.info.model.mapping.output_size = 8;
    concat.layers = concat
        .info
        .model
        .layer_shapes()
        .iter()
        .zip(&tiny.layers)
        .map(|(l, s)| LayerWeights {
            name: l.name.clone(),
            weight: vec![0.01; l.inputs * l.outputs],
            bias: vec![0.0; l.outputs],
            omega: s.omega.clone(),
        })
        .collect();
    let (json, mut tensors) = parts(&f32_bytes);
    tensors.get_mut("synthesis.1.weight").unwrap().shape = vec![4, 16];
    let files = [
        ("valid_f32", f32_bytes.clone()),
        ("valid_f16", tiny.to_bytes(Precision::F16).unwrap()),
        ("valid_concat", concat.to_bytes(Precision::F32).unwrap()),
        ("truncated", f32_bytes[..f32_bytes.len() / 2].to_vec()),
        ("wrong_shape", assemble(&json, &tensors)),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
