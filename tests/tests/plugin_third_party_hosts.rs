//! The plugin in third-party hosts: Spotify's pedalboard (JUCE, VST3) renders MIDI with it, and
//! qtractor's plugin scanner instantiates the CLAP.
//!
//! Both load the library this `cargo test` built (debug, with `assert_process_allocs`), bundled
//! into a temporary folder. The hosts come from `bash scripts/setup.sh`: the `qtractor` Debian
//! package, and a virtualenv at `target/host-venv` with pinned `pedalboard` and `mido`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sirenade_tests::plugin_bundle::{clap_bundle, vst3_bundle, workspace_root};

/// Debian's path of qtractor's out-of-process plugin scanner.
const QTRACTOR_SCANNER: &str = "/usr/lib/x86_64-linux-gnu/qtractor/qtractor_plugin_scan";
/// Number of parameters the plugin exposes.
const PARAMETER_COUNT: usize = sirenade_tests::PARAMETER_NAMES.len();

/// Runs `cmd` with `stdin` as its input, killing it after `timeout`.
fn run_with_timeout(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .expect("write the host's stdin");
    // Read the pipes on threads so a chatty host cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).ok();
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).ok();
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the host") {
            break status;
        }
        if start.elapsed() > timeout {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "{cmd:?} ran past {timeout:?}; stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.join().unwrap_or_default()),
                String::from_utf8_lossy(&err.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

#[test]
fn pedalboard_plays_the_vst3_and_follows_latent_1() {
    let python = workspace_root().join("target/host-venv/bin/python");
    assert!(
        python.is_file(),
        "{} not found: run `bash scripts/setup.sh` (it creates the virtualenv with pedalboard and \
         mido)",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = vst3_bundle(dir.path());
    let script = workspace_root().join("tests/hosts/pedalboard_check.py");
    let output = run_with_timeout(
        Command::new(&python).arg(&script).arg(&bundle),
        b"",
        Duration::from_secs(180),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pedalboard_check.py failed ({}); stdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stdout:\n{stdout}\nstderr:\n{stderr}"));
    println!("pedalboard: {report}");

    assert_eq!(
        report["is_instrument"], true,
        "pedalboard does not see an instrument"
    );
    let all: Vec<&str> = report["parameters"]
        .as_array()
        .expect("parameter list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    // JUCE lists the 16 × 130 hidden parameters VST3 routes MIDI controllers and pitch bend
    // through (nice-plug's IMidiMapping, as JUCE's own plugins do); the rest are ours.
    let (midi, names): (Vec<&str>, Vec<&str>) =
        all.iter().partition(|name| name.starts_with("midi_ch_"));
    assert_eq!(midi.len(), 16 * 130, "MIDI mapping parameters: {midi:?}");
    for i in 1..=8 {
        let latent = format!("latent_{i}");
        assert!(
            names.contains(&latent.as_str()),
            "no {latent} among {names:?}"
        );
    }
    assert_eq!(names.len(), PARAMETER_COUNT, "parameters: {names:?}");
    assert_eq!(
        report["shape"],
        serde_json::json!([2, 48000]),
        "render shape (1 s of stereo at 48 kHz)"
    );
    assert_eq!(
        report["finite"], true,
        "the render holds NaN or infinite samples"
    );
    let peak = report["peak"].as_f64().unwrap();
    let rms = report["rms"].as_f64().unwrap();
    assert!(
        peak > 1e-3 && rms > 1e-4,
        "the render is silent: peak {peak}, RMS {rms}"
    );
    assert!(peak <= 4.0, "the render is implausibly loud: peak {peak}");

    assert_eq!(
        report["moved_finite"], true,
        "the render after moving Latent 1 is not finite"
    );
    let repeat = report["repeat_diff_rms"]
        .as_f64()
        .expect("repeat difference");
    let moved = report["latent_diff_rms"]
        .as_f64()
        .expect("latent difference");
    assert!(
        moved > 1e-3 && moved > 0.01 * rms,
        "moving Latent 1 ({} → {}) leaves the output nearly unchanged: RMS of the difference \
         {moved} against a render RMS of {rms}",
        report["latent_before"],
        report["latent_after"]
    );
    assert!(
        moved > 2.0 * repeat,
        "moving Latent 1 changes the output ({moved}) no more than rendering twice does \
         ({repeat})"
    );
}

#[test]
fn qtractor_instantiates_the_clap() {
    let scanner = Path::new(QTRACTOR_SCANNER);
    assert!(
        scanner.is_file(),
        "{QTRACTOR_SCANNER} not found: run `bash scripts/setup.sh` (it installs qtractor)"
    );
    let dir = tempfile::tempdir().unwrap();
    let clap = clap_bundle(dir.path());
    let request = format!("CLAP:{}\n", clap.display());
    let output = run_with_timeout(
        Command::new(scanner).env("QT_QPA_PLATFORM", "offscreen"),
        request.as_bytes(),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "qtractor_plugin_scan failed ({}); stdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    // CLAP|<name>|<audio in>:<audio out>|<MIDI in>:<MIDI out>|<params in>:<params out>|<flags>|...
    let line = stdout
        .lines()
        .find(|l| l.starts_with("CLAP|"))
        .unwrap_or_else(|| {
            panic!("no CLAP line from the scanner; stdout:\n{stdout}\nstderr:\n{stderr}")
        });
    println!("qtractor_plugin_scan: {line}");
    let fields: Vec<&str> = line.split('|').collect();
    assert!(fields.len() >= 5, "short scanner line: {line}");
    assert_eq!(fields[1], "Sirenade", "plugin name in {line}");
    assert_eq!(fields[2], "0:2", "audio inputs:outputs in {line}");
    let midi_in: u32 = fields[3]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("MIDI field in {line}"));
    assert!(midi_in >= 1, "no MIDI input in {line}");
    let params_in: usize = fields[4]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("parameter field in {line}"));
    assert_eq!(params_in, PARAMETER_COUNT, "input parameters in {line}");
}
