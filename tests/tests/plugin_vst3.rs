//! The plugin as a VST3 host sees it: the plugin library (a debug build with nice-plug's
//! `assert_process_allocs`, so an allocation in `process` aborts; built on first use by
//! `sirenade_tests::plugin_bundle`) laid out as `Sirenade.vst3`, loaded through
//! `GetPluginFactory` by the test host in `sirenade_tests::vst3_host`.

use sirenade_synth::engine::channels::cc;
use sirenade_synth::engine::{Controls, NoteSelector, Sound};
use sirenade_synth::offline::{
    render_notes, render_performance, ChannelChange, ControlChange, ExpressionValue, Note,
    NoteExpression, Performance,
};
use sirenade_tests::plugin_bundle::vst3_bundle;
use sirenade_tests::vst3_host::{Event, ParamInfo, Vst3Instance, Vst3Module, AUDIO_MODULE_CLASS};
use sirenade_tests::PARAMETER_NAMES;
use vst3::Steinberg::Vst::{BusDirections_, MediaTypes_};

const SAMPLE_RATE: f64 = 48_000.0;
const BLOCK: usize = 512;
/// 1.5 s.
const TOTAL: usize = 72_000;
/// Note-off after 0.5 s.
const NOTE_OFF: u32 = 24_000;
const KEY: u8 = 60;
const VELOCITY: f32 = 0.8;

/// Copies the plugin library into a temporary `Sirenade.vst3` and loads it. Each test
/// loads its own copy, so tests running in parallel do not share the library's statics.
fn load() -> (tempfile::TempDir, Vst3Module) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let bundle = vst3_bundle(dir.path());
    let module = Vst3Module::load(&bundle).expect("load Sirenade.vst3");
    (dir, module)
}

/// A processing instance at 48 kHz with 512-frame blocks (realtime mode, as a DAW plays).
fn ready(module: &Vst3Module) -> Vst3Instance {
    let mut instance = module.instantiate_first().expect("instantiate Sirenade");
    instance
        .setup(SAMPLE_RATE, BLOCK, false)
        .expect("set up processing");
    instance
}

fn note_events() -> Vec<Event> {
    vec![
        Event::NoteOn {
            offset: 0,
            key: KEY,
            velocity: VELOCITY,
        },
        Event::NoteOff {
            offset: NOTE_OFF,
            key: KEY,
            velocity: 0.0,
        },
    ]
}

/// The note of [`note_events`] as the offline renderer takes it. nice-plug's VST3 wrapper
/// passes `NoteOnEvent::velocity` through unchanged, so the velocity is exactly the same.
fn offline_note() -> Note {
    Note {
        start: 0,
        end: Some(NOTE_OFF as u64),
        key: KEY,
        velocity: VELOCITY,
        channel: 0,
    }
}

fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
}

fn rms_diff(a: &[f32], b: &[f32]) -> f32 {
    let d: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    rms(&d)
}

#[test]
fn factory_buses_and_parameters() {
    let (_dir, module) = load();
    let classes = module.classes().expect("class infos");
    let class = classes
        .iter()
        .find(|c| c.category == AUDIO_MODULE_CLASS)
        .unwrap_or_else(|| panic!("no {AUDIO_MODULE_CLASS} among {classes:?}"));
    println!("class: {class:?}");
    assert_eq!(class.name, "Sirenade");
    assert_eq!(class.subcategories, ["Instrument", "Synth"]);

    let instance = module.instantiate(&class.cid).expect("instantiate");
    let audio = MediaTypes_::kAudio;
    let event = MediaTypes_::kEvent;
    let (input, output) = (BusDirections_::kInput, BusDirections_::kOutput);
    assert_eq!(
        instance.bus_channel_counts(event, input).len(),
        1,
        "one event input bus"
    );
    assert!(
        instance.bus_channel_counts(audio, input).is_empty(),
        "no audio input"
    );
    assert_eq!(
        instance.bus_channel_counts(audio, output),
        [2],
        "one stereo output"
    );

    let params = instance.params().expect("parameter infos");
    for p in &params {
        let display = instance
            .param_display(p.id, p.default_normalized)
            .unwrap_or_else(|e| format!("<{e}>"));
        println!(
            "param {:>10} {:<14} steps {:>2} default {:.4} = {display} {}",
            p.id, p.title, p.step_count, p.default_normalized, p.units
        );
    }
    // ParameterInfo::kIsHidden: nice-plug registers 16 channels × 130 hidden, read-only
    // parameters that VST3 hosts route MIDI controllers, channel pressure and pitch bend to
    // (IMidiMapping); a host shows none of them.
    let hidden = |p: &&ParamInfo| p.flags & (1 << 4) != 0;
    let titles: Vec<&str> = params
        .iter()
        .filter(|p| !hidden(p))
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, PARAMETER_NAMES);
    let midi: Vec<&ParamInfo> = params.iter().filter(hidden).collect();
    assert_eq!(midi.len(), 16 * 130);
    assert!(midi.iter().all(|p| p.title.starts_with("MIDI Ch. ")));
    assert!(midi.iter().any(|p| p.title == "MIDI Ch. 1 Pitch Bend"));

    // Spot checks of ranges through the controller's conversions.
    let latent = instance.param_by_title("Latent 1").unwrap();
    assert_eq!(latent.step_count, 0, "Latent 1 is continuous");
    let lo = instance.normalized_to_plain(latent.id, 0.0).unwrap();
    let hi = instance.normalized_to_plain(latent.id, 1.0).unwrap();
    assert!(
        (lo + 3.0).abs() < 1e-6 && (hi - 3.0).abs() < 1e-6,
        "Latent 1 spans {lo}..{hi}, expected -3..3"
    );
    let voices = instance.param_by_title("Voices").unwrap();
    assert_eq!(voices.step_count, 15, "Voices 1..16");
    let rate = instance.param_by_title("Render rate").unwrap();
    assert_eq!(rate.step_count, 1, "Render rate: Host/Native");
    assert_eq!(instance.param_display(rate.id, 0.0).unwrap(), "Host");
    assert_eq!(instance.param_display(rate.id, 1.0).unwrap(), "Native");
}

#[test]
fn note_matches_offline_render() {
    let (_dir, module) = load();
    let mut instance = ready(&module);
    let [left, right] = instance.render(TOTAL, &note_events()).expect("render");
    assert!(
        left.iter().chain(&right).all(|v| v.is_finite()),
        "non-finite output"
    );
    println!("vst3: peak {:.4} rms {:.4} (left)", peak(&left), rms(&left));
    assert!(peak(&left) > 1e-3 && peak(&right) > 1e-3, "silent output");
    // The note is released at 0.5 s; with the default 300 ms release the last 0.5 s is quiet.
    assert!(rms(&left[..NOTE_OFF as usize]) > 10.0 * rms(&left[TOTAL - 12_000..]));

    let [ol, or] = render_notes(
        &Sound::embedded(),
        &Controls::default(),
        SAMPLE_RATE as f32,
        &[offline_note()],
        TOTAL,
    );
    let (dl, dr) = (max_diff(&left, &ol), max_diff(&right, &or));
    println!("max |vst3 - offline|: left {dl:.3e} right {dr:.3e}");
    assert!(dl <= 1e-4 && dr <= 1e-4, "VST3 output differs from offline");
}

/// Asserts that `vst3` (left, right) equals the offline render of `performance` (default
/// controls) within 1e-4, and that the performance sounds different from its notes alone;
/// returns the offline render.
fn assert_matches_offline(
    what: &str,
    vst3: &[Vec<f32>; 2],
    performance: &Performance,
) -> [Vec<f32>; 2] {
    let controls = Controls::default();
    let rate = SAMPLE_RATE as f32;
    let sound = Sound::embedded();
    let offline = render_performance(&sound, &controls, rate, performance, TOTAL);
    let [plain, _] = render_notes(&sound, &controls, rate, &performance.notes, TOTAL);
    assert!(
        max_diff(&offline[0], &plain) > 1e-2,
        "{what}: the performance changes the sound"
    );
    let (dl, dr) = (
        max_diff(&vst3[0], &offline[0]),
        max_diff(&vst3[1], &offline[1]),
    );
    println!("{what}: max |vst3 - offline|: left {dl:.3e} right {dr:.3e}");
    assert!(
        dl <= 1e-4 && dr <= 1e-4,
        "{what}: VST3 output differs from offline"
    );
    offline
}

/// Pitch bend, the sustain pedal, aftertouch and the slide (CC 74) reach the plugin the VST3
/// way — as changes of the parameters its `IMidiMapping` assigns to them — and sound as the
/// offline renderer plays the same MIDI.
#[test]
fn pitch_bend_and_pedal_arrive_through_the_midi_mapping() {
    let (_dir, module) = load();
    let mut instance = ready(&module);
    let bend = instance.midi_controller_param(0, 129).expect("pitch bend");
    let pedal = instance
        .midi_controller_param(0, 64)
        .expect("sustain pedal");
    let aftertouch = instance.midi_controller_param(0, 128).expect("aftertouch");
    let slide = instance.midi_controller_param(0, 74).expect("CC 74");
    assert_ne!(bend, pedal);
    let bend_at = 20 * BLOCK as u32;
    let (pressure_at, slide_at) = (30 * BLOCK as u32 + 5, 40 * BLOCK as u32 + 9);
    let mut events = note_events();
    for (offset, id, value) in [
        (64, pedal, 1.0),
        (bend_at, bend, 1.0),
        (pressure_at, aftertouch, 0.5),
        (slide_at, slide, 0.0),
    ] {
        events.push(Event::Param { offset, id, value });
    }
    let [left, right] = instance.render(TOTAL, &events).expect("render");
    let note = offline_note();
    let change = |frame: u32, change| ControlChange {
        frame: u64::from(frame),
        channel: 0,
        change,
    };
    let performance = Performance {
        notes: vec![note],
        changes: vec![
            change(
                64,
                ChannelChange::Control {
                    controller: cc::SUSTAIN,
                    value: 127,
                },
            ),
            change(bend_at, ChannelChange::PitchBend(8_191.0 / 8_192.0)),
            change(pressure_at, ChannelChange::Pressure(0.5)),
            change(
                slide_at,
                ChannelChange::Control {
                    controller: cc::SLIDE,
                    value: 0,
                },
            ),
        ],
        ..Performance::default()
    };
    assert_matches_offline("MIDI controllers", &[left, right], &performance);
}

/// VST3 note expression values (tuning, volume, pan; normalized as VST3 defines them) reach
/// the note they name and sound as the offline renderer plays the same expressions. The
/// normalized values are exact binary fractions, so the wrapper's conversions are exact too.
#[test]
fn note_expressions_match_the_offline_renderer() {
    let (_dir, module) = load();
    let mut instance = ready(&module);
    // (frame, VST3 type id, normalized value, what the engine is told)
    let sent = [
        (10 * BLOCK as u32, 2, 0.5625, ExpressionValue::Tuning(15.0)),
        (
            20 * BLOCK as u32 + 17,
            0,
            0.125,
            ExpressionValue::Volume(0.5),
        ),
        (30 * BLOCK as u32 + 3, 1, 0.25, ExpressionValue::Pan(-0.5)),
    ];
    let mut events = note_events();
    events.extend(
        sent.iter()
            .map(|&(offset, type_id, value, _)| Event::NoteExpression {
                offset,
                key: KEY,
                type_id,
                value,
            }),
    );
    let [left, right] = instance.render(TOTAL, &events).expect("render");
    let note = offline_note();
    let performance = Performance {
        notes: vec![note],
        expressions: sent
            .iter()
            .map(|&(frame, _, _, value)| NoteExpression {
                frame: u64::from(frame),
                notes: NoteSelector::note(0, KEY),
                value,
            })
            .collect(),
        ..Performance::default()
    };
    let [ol, or] = assert_matches_offline("note expressions", &[left, right], &performance);
    assert!(max_diff(&ol, &or) > 1e-2, "the pan separates the channels");
}

#[test]
fn latent_change_changes_output() {
    let (_dir, module) = load();
    let reference = ready(&module)
        .render(TOTAL, &note_events())
        .expect("render");

    let mut instance = ready(&module);
    let latent = instance.param_by_title("Latent 1").unwrap();
    // Latent 1 to its maximum (+3) at offset 0 of block 20 (about 0.21 s into the note).
    let change_at = 20 * BLOCK as u32;
    assert_eq!(change_at as usize % BLOCK, 0, "a block boundary");
    let mut events = note_events();
    events.push(Event::Param {
        offset: change_at,
        id: latent.id,
        value: 1.0,
    });
    let changed = instance.render(TOTAL, &events).expect("render");
    assert!(changed[0].iter().all(|v| v.is_finite()));

    let before = change_at as usize;
    assert_eq!(
        max_diff(&reference[0][..before], &changed[0][..before]),
        0.0,
        "output before the change must not move"
    );
    let after = before..NOTE_OFF as usize;
    let diff = rms_diff(&reference[0][after.clone()], &changed[0][after.clone()]);
    let level = rms(&reference[0][after]);
    println!("rms of the difference after the change {diff:.4} (signal rms {level:.4})");
    assert!(
        diff > 0.05 * level,
        "Latent 1 = +3 barely changes the sound"
    );

    let value = instance.param_normalized(latent.id).unwrap();
    assert!(
        (value - 1.0).abs() < 1e-6,
        "the controller reports Latent 1 = {value} after the change"
    );
}

#[test]
fn state_round_trip_restores_a_parameter() {
    let (_dir, module) = load();
    let mut original = ready(&module);
    let latent = original.param_by_title("Latent 1").unwrap();
    let gain = original.param_by_title("Gain").unwrap();
    let latent_value = 0.75; // +1.5
    let gain_value = 0.25;
    original
        .process(
            BLOCK,
            &[
                Event::Param {
                    offset: 0,
                    id: latent.id,
                    value: latent_value,
                },
                Event::Param {
                    offset: 0,
                    id: gain.id,
                    value: gain_value,
                },
            ],
        )
        .expect("process a block with parameter changes");
    // Let the original's smoothers reach the new values (0.5 s without notes).
    original.render(24_000, &[]).expect("render silence");
    let state = original.get_state().expect("getState");
    println!("state: {} bytes", state.len());
    assert!(!state.is_empty());

    let fresh = module.instantiate_first().expect("a fresh instance");
    assert!((fresh.param_normalized(latent.id).unwrap() - latent.default_normalized).abs() < 1e-9);
    fresh.set_state(&state).expect("setState");
    for (id, want) in [(latent.id, latent_value), (gain.id, gain_value)] {
        let got = fresh.param_normalized(id).unwrap();
        assert!(
            (got - want).abs() < 1e-6,
            "param {id}: {got} after setState, want {want}"
        );
    }

    // The restored instance plays the restored sound: it matches the original instance, whose
    // smoothers settled on the new values above.
    let mut fresh = fresh;
    fresh.setup(SAMPLE_RATE, BLOCK, false).expect("setup");
    let restored = fresh.render(24_000, &note_events()[..1]).expect("render");
    let settled = original
        .render(24_000, &note_events()[..1])
        .expect("render");
    let d = max_diff(&restored[0], &settled[0]);
    println!("max |restored - original| {d:.3e}");
    assert!(d <= 1e-4, "restored instance sounds different");
}
