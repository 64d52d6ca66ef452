//! `trainer model info` as a user runs it: the binary, its output and its exit status.

use std::process::Command;

fn trainer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("the trainer binary runs")
}

#[test]
fn json_reports_the_thesis_count() {
    let out = trainer(&["model", "info", "--model", "pigan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["parameters"], 790_273);
    assert_eq!(v["name"], "pigan");
}

#[test]
fn unknown_model_is_one_error_line_and_a_failure() {
    let out = trainer(&["model", "info", "--model", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown model `nope`") && err.contains("pigan-prog"),
        "{err}"
    );
}
