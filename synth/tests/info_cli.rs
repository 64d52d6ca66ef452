//! The `synth info` command: a preset's summary and numbered items, as text and JSON, and a
//! clear error for a file that is not a valid preset.

use std::process::Command;

fn synth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_synth"))
        .args(args)
        .output()
        .expect("run synth")
}

const SHIPPED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../presets/keyboard-demo.sirenade"
);

#[test]
fn describes_the_shipped_preset_as_text_and_json() {
    let o = synth(&["info", "--preset", SHIPPED]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("model layered-96: 176,705 parameters"),
        "{text}"
    );
    assert!(text.contains("trained on bundled:keyboard"), "{text}");
    assert!(text.contains("Latent 1-8 at ±1 move:"), "{text}");

    let o = synth(&["info", "--preset", SHIPPED, "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["parameters"], 176_705);
    assert_eq!(v["sample_rate"], 16_000);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 32);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["index"], i);
        let line = format!("{i:>5}  {}", item["name"].as_str().unwrap());
        assert!(text.contains(&line), "item line `{line}` in\n{text}");
    }
    assert_eq!(v["latent_control_stds"].as_array().unwrap().len(), 8);
    // The embedded preset is the shipped file.
    let embedded = synth(&["info", "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&embedded.stdout).unwrap();
    assert_eq!(e["sha256"], v["sha256"]);
}

#[test]
fn a_broken_preset_is_named_with_its_problem() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("half.sirenade");
    let bytes = std::fs::read(SHIPPED).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let o = synth(&["info", "--preset", truncated.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("half.sirenade"), "{err}");
    assert!(o.stdout.is_empty(), "nothing printed before the error");
    let o = synth(&["info", "--preset", "/no/such.sirenade"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such.sirenade"));
}
