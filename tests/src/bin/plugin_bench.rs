//! `plugin-bench`: the plugin's cost in a CLAP host (run by `cargo xtask bench plugin`).
//!
//! Renders 10 s of 8-voice polyphony at 48 kHz through the CLAP host harness with the embedded
//! preset or a preset file (`--preset`), at both render rates, and reports CPU time / audio
//! time and the most voices one core sustains in real time. The baseline measured in the same
//! run is the same notes through the voice engine directly (no host, no plugin wrapper), so the
//! ratio is the host path's overhead.
//!
//! A preset file reaches the plugin the way a musician's does: through the preset folder
//! (`$SIRENADE_PRESET_DIR`, here a private copy holding only that file) and the `Preset`
//! parameter's first folder slot, loaded by the plugin's background loader before the timed render.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sirenade_synth::engine::{Bank, Controls, Engine, NoteSelector, RenderRate, Sound};
use sirenade_tests::clap_host::{ClapHost, Event};

const RATE: f64 = 48_000.0;
const SECONDS: f64 = 10.0;
const BLOCK: u32 = 512;
const VOICES: usize = 8;
/// Notes are re-struck this often (a clip lasts about 1 s at its own pitch).
const PERIOD_S: f64 = 0.9;
const KEYS: [u8; VOICES] = [60, 61, 62, 63, 64, 60, 62, 64];

/// The note schedule: every `PERIOD_S`, eight notes start; each is released just before the
/// next strike.
fn schedule() -> Vec<(u64, u8, bool)> {
    let frames = (SECONDS * RATE) as u64;
    let period = (PERIOD_S * RATE) as u64;
    let mut events = Vec::new();
    let mut start = 0;
    while start < frames {
        for (v, &key) in KEYS.iter().enumerate() {
            let on = start + v as u64;
            let off = (start + period - 16 + v as u64).min(frames - 1);
            events.push((on, key, true));
            events.push((off, key, false));
        }
        start += period;
    }
    events.sort_by_key(|e| (e.0, !e.2));
    events
}

/// How long the plugin's loader may take to make a preset file the playing sound.
const LOAD_DEADLINE: Duration = Duration::from_secs(30);

/// Renders the schedule through the engine alone; returns (seconds, mean sounding voices).
fn direct(sound: &Arc<Sound>, mode: RenderRate) -> (f64, f64) {
    let controls = Controls {
        render_rate: mode,
        release_s: 0.005,
        ..Controls::default()
    };
    let mut engine = Engine::new(Bank::new(Arc::clone(sound)), RATE as f32, controls);
    let frames = (SECONDS * RATE) as usize;
    let (mut l, mut r) = (vec![0.0; BLOCK as usize], vec![0.0; BLOCK as usize]);
    let events = schedule();
    let mut next = 0;
    let mut frame = 0usize;
    let mut voice_frames = 0u64;
    let start = Instant::now();
    while frame < frames {
        let end = (frame + BLOCK as usize).min(frames);
        let mut at = frame;
        while at < end {
            while let Some(&(t, key, on)) = events.get(next) {
                if t as usize > at {
                    break;
                }
                if on {
                    engine.note_on(key, 0.8, None, 0);
                } else {
                    engine.note_off(NoteSelector::note(0, key));
                }
                next += 1;
            }
            let stop = events
                .get(next)
                .map_or(end, |e| (e.0 as usize).clamp(at + 1, end));
            let n = stop - at;
            voice_frames += (engine.active_voices() * n) as u64;
            engine.render(&mut l[..n], &mut r[..n], &[]);
            at = stop;
        }
        frame = end;
    }
    (
        start.elapsed().as_secs_f64(),
        voice_frames as f64 / frames as f64,
    )
}

/// Makes the preset file of `sound` the plugin's sound through the `Preset` parameter (the
/// preset folder's first slot) and waits until the plugin's saved state names it by its hash.
fn choose_preset(host: &mut ClapHost, sound: &Sound) -> Result<()> {
    let preset = host.param("Preset")?.id;
    host.activate(RATE, BLOCK)?;
    let first = sirenade_synth::plugin::preset_folder::first_file_slot();
    host.flush_params(&[(preset, f64::from(first))])?;
    let deadline = Instant::now() + LOAD_DEADLINE;
    loop {
        host.process(BLOCK, &[])?;
        host.pump_main_thread();
        let state = host.save_state()?;
        if state
            .windows(sound.sha256().len())
            .any(|w| w == sound.sha256().as_bytes())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "{}: the plugin did not load it within {} s (see its log)",
                sound.origin(),
                LOAD_DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Renders the schedule through the CLAP plugin, playing `preset` when given (else its
/// embedded preset); returns seconds.
fn hosted(plugin: &Path, preset: Option<&Sound>, mode: RenderRate) -> Result<f64> {
    let mut host = ClapHost::load(plugin)?;
    if let Some(sound) = preset {
        choose_preset(&mut host, sound)?;
    }
    let render_rate = host.param("Render rate")?.id;
    let release = host.param("Release")?.id;
    let native = match mode {
        RenderRate::Host => 0.0,
        RenderRate::Native => 1.0,
    };
    // CLAP values of float parameters are normalised: 0 is the shortest release (5 ms).
    host.flush_params(&[(render_rate, native), (release, 0.0)])?;
    let events: Vec<Event> = schedule()
        .into_iter()
        .map(|(t, key, on)| {
            if on {
                Event::NoteOn {
                    time: t as u32,
                    key,
                    velocity: 0.8,
                    note_id: -1,
                }
            } else {
                Event::NoteOff {
                    time: t as u32,
                    key,
                    note_id: -1,
                }
            }
        })
        .collect();
    let frames = (SECONDS * RATE) as usize;
    let start = Instant::now();
    let out = host.render(RATE, BLOCK, frames, &events)?;
    let seconds = start.elapsed().as_secs_f64();
    if out[0].iter().any(|x| !x.is_finite()) || out[0].iter().all(|&x| x == 0.0) {
        bail!("the plugin's output is silent or not finite");
    }
    Ok(seconds)
}

/// A private preset folder holding a copy of one preset file, named by
/// `$SIRENADE_PRESET_DIR` for the plugin instances this process loads; removed on drop.
struct PresetFolder {
    dir: PathBuf,
}

impl PresetFolder {
    fn holding(file: &Path) -> Result<PresetFolder> {
        let dir =
            std::env::temp_dir().join(format!("sirenade-plugin-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let copy = dir.join("bench.sirenade");
        std::fs::copy(file, &copy)
            .with_context(|| format!("cannot copy {} to {}", file.display(), copy.display()))?;
        // Read by the plugin when it is instantiated; this process starts no other thread yet.
        std::env::set_var("SIRENADE_PRESET_DIR", &dir);
        Ok(PresetFolder { dir })
    }
}

impl Drop for PresetFolder {
    fn drop(&mut self) {
        // A leftover copy in the temporary folder is harmless; nothing to report.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut plugin = None;
    let mut preset_file = None;
    let mut json = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--plugin" => {
                plugin = Some(PathBuf::from(args.next().context("--plugin needs a path")?))
            }
            "--preset" => {
                preset_file = Some(PathBuf::from(args.next().context("--preset needs a path")?))
            }
            "--json" => json = true,
            other => {
                bail!(
                    "unknown argument {other} \
                     (usage: plugin-bench --plugin X.clap [--preset FILE.sirenade] [--json])"
                )
            }
        }
    }
    let plugin = plugin.context("--plugin X.clap is required")?;
    if !plugin.is_file() {
        bail!(
            "{}: no such plugin (run `cargo xtask bundle sirenade-synth --release`)",
            plugin.display()
        );
    }
    let (sound, _folder) = match &preset_file {
        None => (Arc::new(Sound::embedded()), None),
        Some(file) => {
            let sound = Sound::load(file)?;
            (Arc::new(sound), Some(PresetFolder::holding(file)?))
        }
    };
    if !json {
        println!(
            "preset {} ({} items)",
            preset_file
                .as_ref()
                .map_or_else(|| "embedded".to_string(), |f| f.display().to_string()),
            sound.items()
        );
    }
    let preset = preset_file.as_ref().map(|_| sound.as_ref());
    let mut results = Vec::new();
    for (name, mode) in [("host", RenderRate::Host), ("native", RenderRate::Native)] {
        let (direct_s, mean_voices) = direct(&sound, mode);
        let hosted_s = hosted(&plugin, preset, mode)?;
        let load = hosted_s / SECONDS;
        let voices = mean_voices / load;
        if !json {
            println!(
                "{name:>6}: {mean_voices:.2} voices on average; CPU/audio {load:.4} through CLAP \
                 ({hosted_s:.3} s for {SECONDS} s), engine alone {:.4} (host path ×{:.2}); \
                 ≈ {voices:.1} voices sustainable at 48 kHz on one core",
                direct_s / SECONDS,
                hosted_s / direct_s
            );
        }
        results.push((name, load, voices, hosted_s / direct_s));
    }
    if json {
        let get = |n: &str| results.iter().find(|r| r.0 == n).map_or(0.0, |r| r.2);
        println!(
            "{{\"preset\": {}, \"voices_48k_host\": {:.2}, \"voices_48k_native\": {:.2}, \"cpu_per_audio_host\": {:.5}, \"cpu_per_audio_native\": {:.5}}}",
            serde_json::Value::from(sound.origin()),
            get("host"),
            get("native"),
            results[0].1,
            results[1].1
        );
    } else {
        println!(
            "native vs host: ×{:.2} voices",
            results[1].2 / results[0].2.max(1e-9)
        );
    }
    Ok(())
}
