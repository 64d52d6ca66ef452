//! Engine tests against the evaluator itself (the time contract), against other block
//! splittings (bit-exact), and for the musician-facing rules.

use std::sync::{Arc, OnceLock};

use super::*;

fn sound() -> &'static Sound {
    static SOUND: OnceLock<Sound> = OnceLock::new();
    SOUND.get_or_init(Sound::embedded)
}

fn plain_controls() -> Controls {
    Controls {
        gain: 1.0,
        attack_s: 0.0,
        key_tracking: false,
        ..Controls::default()
    }
}

/// Renders `frames` samples with events `(frame, key, on)` and host blocks of `chunk`.
fn render(
    controls: Controls,
    rate: f32,
    events: &[(u64, u8, bool)],
    frames: usize,
    chunk: usize,
) -> Vec<f32> {
    let mut engine = Engine::new(Bank::new(Arc::new(sound().clone())), rate, controls);
    let (mut left, mut right) = (vec![0.0; frames], vec![0.0; frames]);
    let mut next = 0;
    let mut frame = 0;
    while frame < frames {
        while let Some(&(at, key, on)) = events.get(next) {
            if at as usize > frame {
                break;
            }
            if on {
                engine.note_on(key, 1.0, None, 0);
            } else {
                engine.note_off(NoteSelector::note(0, key));
            }
            next += 1;
        }
        let mut end = (frame + chunk).min(frames);
        if let Some(&(at, ..)) = events.get(next) {
            end = end.min(at as usize);
        }
        engine.render(&mut left[frame..end], &mut right[frame..end], &[]);
        assert_eq!(left[frame..end], right[frame..end]);
        frame = end;
    }
    left
}

#[test]
fn embedded_preset_is_valid_and_labelled() {
    let s = sound();
    assert!(s.items() >= 8);
    assert!(s.item_pitch(0).is_some());
    assert!(s.item_name(0).is_some_and(|n| !n.is_empty()));
    assert_eq!(s.sha256().len(), 64);
}

#[test]
fn a_voice_at_16_khz_plays_the_evaluator_on_the_training_grid() {
    let s = sound();
    let item = 3;
    let key = s.item_pitch(item).unwrap();
    let controls = Controls {
        sound: item,
        ..plain_controls()
    };
    let got = render(controls, 16_000.0, &[(0, key, true)], 16_100, 4096);
    let mut ev = s.new_evaluator();
    let mut z = vec![0.0; s.latent_dim()];
    s.latent_into(item, item, 0.0, &[0.0; LATENT_CONTROLS], &mut z);
    ev.prepare(&z).unwrap();
    let mut want = vec![0.0; 16_000];
    ev.render_f64(-1.0, 2.0 / 16_000.0, &mut want);
    for (j, w) in want.iter_mut().enumerate() {
        let t = -1.0 + 2.0 * j as f64 / 16_000.0;
        if t > 1.0 - END_FADE_T {
            *w *= (0.5 * (1.0 + (std::f64::consts::PI * (t - 1.0 + END_FADE_T) / END_FADE_T).cos()))
                as f32;
        }
    }
    let err = got[..16_000]
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    // Same evaluator, same coordinates; only the segment ramps of an unchanged latent differ.
    assert!(err < 1e-6, "max error {err}");
    assert!(
        got[16_000..].iter().all(|&x| x == 0.0),
        "the voice ends at t = 1"
    );
    assert!(
        got[15_999].abs() < 1e-4,
        "the clip fades to zero at its end: {}",
        got[15_999]
    );
}

#[test]
fn output_does_not_depend_on_block_size() {
    for mode in [RenderRate::Host, RenderRate::Native] {
        let controls = Controls {
            render_rate: mode,
            release_s: 0.05,
            ..Controls::default()
        };
        let events = [
            (0, 60, true),
            (1001, 64, true),
            (5000, 60, false),
            (7003, 67, true),
            (9000, 64, false),
        ];
        let reference = render(controls, 44_100.0, &events, 12_000, 4096);
        assert!(
            reference.iter().any(|&x| x.abs() > 1e-3),
            "{mode:?}: silent"
        );
        for chunk in [1, 7, 64, 333] {
            let got = render(controls, 44_100.0, &events, 12_000, chunk);
            assert!(
                got == reference,
                "{mode:?}: block size {chunk} changes the output"
            );
        }
    }
}

#[test]
fn native_rate_matches_host_rate_after_its_latency() {
    let host = render(plain_controls(), 48_000.0, &[(0, 60, true)], 30_000, 512);
    let native = render(
        Controls {
            render_rate: RenderRate::Native,
            ..plain_controls()
        },
        48_000.0,
        &[(0, 60, true)],
        30_000,
        512,
    );
    let latency = Engine::latency_for(RenderRate::Native, 48_000.0) as usize;
    assert!(latency > 0 && latency < 200);
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for i in 2000..29_000 {
        let h = f64::from(host[i]);
        signal += h * h;
        noise += (h - f64::from(native[i + latency])).powi(2);
    }
    let snr = 10.0 * (signal / noise).log10();
    // Content above the 16 kHz stream's Nyquist exists only at the host rate.
    assert!(snr > 20.0, "native vs host SNR {snr:.1} dB");
}

#[test]
fn the_native_rate_carries_each_notes_pan_through_its_interpolator() {
    let native = Controls {
        render_rate: RenderRate::Native,
        ..plain_controls()
    };
    let play = |pan: Option<f32>| {
        let mut engine = Engine::new(Bank::new(Arc::new(sound().clone())), 48_000.0, native);
        engine.note_on(60, 1.0, None, 0);
        if let Some(pan) = pan {
            engine.note_pan(NoteSelector::note(0, 60), pan);
        }
        let (mut l, mut r) = (vec![0.0; 24_000], vec![0.0; 24_000]);
        engine.render(&mut l, &mut r, &[]);
        [l, r]
    };
    let [centre, centre_right] = play(None);
    assert_eq!(centre, centre_right);
    let [left, right] = play(Some(-0.5));
    let gains = expression::pan_gains(-0.5);
    assert!(gains[0] > 1.2 && gains[1] < 0.6, "{gains:?}");
    let peak = centre.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 1e-2);
    // The interpolator is linear: each side is the centred stream times its gain.
    for i in 0..24_000 {
        for (side, got) in [(0, left[i]), (1, right[i])] {
            let want = gains[side] * centre[i];
            assert!(
                (got - want).abs() <= 1e-6 * peak,
                "frame {i}, side {side}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn key_tracking_picks_the_nearest_pitch_of_the_instrument() {
    let s = sound();
    let base = 0;
    let base_pitch = s.item_pitch(base).unwrap();
    let on_pitch = s.resolve(base, base_pitch, true);
    assert_eq!(s.item_pitch(on_pitch.item), Some(base_pitch));
    assert!((on_pitch.rate - 1.0).abs() < 1e-12);
    let far = s.resolve(base, 100, true);
    let p = s.item_pitch(far.item).unwrap();
    assert!((far.rate - 2f64.powf((100.0 - f64::from(p)) / 12.0)).abs() < 1e-12);
    let off = s.resolve(base, base_pitch + 12, false);
    assert_eq!(off.item, base);
    assert!((off.rate - 2.0).abs() < 1e-12);
    let unpitched = s.with_latent(&vec![0.0; s.latent_dim()]).unwrap();
    let r = unpitched.resolve(0, 72, true);
    assert!(
        (r.rate - 2.0).abs() < 1e-12,
        "speech transposes from middle C"
    );
}

#[test]
fn an_octave_up_plays_the_clip_in_half_the_time() {
    let s = sound();
    let key = s.item_pitch(0).unwrap();
    let out = render(
        plain_controls(),
        16_000.0,
        &[(0, key + 12, true)],
        10_000,
        512,
    );
    let last = out.iter().rposition(|&x| x != 0.0).unwrap();
    assert!((7_900..8_000).contains(&last), "last sound at {last}");
}

#[test]
fn release_ends_in_silence_without_denormals() {
    let controls = Controls {
        release_s: 0.02,
        ..Controls::default()
    };
    let out = render(
        controls,
        48_000.0,
        &[(0, 60, true), (4800, 60, false)],
        48_000,
        256,
    );
    // −80 dB end of a 20 ms to −60 dB release: within 27 ms of the note-off.
    let last = out.iter().rposition(|&x| x != 0.0).unwrap();
    assert!(last < 4800 + 48 * 27, "sound until {last}");
    assert!(out
        .iter()
        .all(|x| x.is_finite() && (*x == 0.0 || x.is_normal())));
}

#[test]
fn the_polyphony_limit_fades_out_the_oldest_note() {
    let mut engine = Engine::new(
        Bank::new(Arc::new(sound().clone())),
        48_000.0,
        Controls {
            voices: 2,
            ..Controls::default()
        },
    );
    let (mut l, mut r) = (vec![0.0; 480], vec![0.0; 480]);
    for key in [60, 62, 64] {
        engine.note_on(key, 1.0, None, 0);
        engine.render(&mut l[..10], &mut r[..10], &[]);
    }
    assert_eq!(engine.active_voices(), 3, "the oldest is fading");
    engine.render(&mut l, &mut r, &[]);
    assert_eq!(engine.active_voices(), 2, "gone after its 5 ms fade");
    let mut ended = Vec::new();
    engine.drain_ended(|tag, _| ended.push(tag.key));
    assert_eq!(ended, vec![60]);
}

#[test]
fn a_voice_whose_network_blows_up_is_silenced() {
    let s = sound()
        .with_latent(&vec![3.0e38; sound().latent_dim()])
        .unwrap();
    let mut engine = Engine::new(Bank::new(Arc::new(s)), 48_000.0, Controls::default());
    engine.note_on(60, 1.0, None, 0);
    let (mut l, mut r) = (vec![1.0; 4096], vec![1.0; 4096]);
    engine.render(&mut l, &mut r, &[]);
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    assert_eq!(engine.active_voices(), 0);
    assert_eq!(engine.faults().1, 1, "one voice silenced");
}

#[test]
fn a_new_preset_fades_the_old_voices_and_plays_new_notes() {
    let mut engine = Engine::new(
        Bank::new(Arc::new(sound().clone())),
        48_000.0,
        Controls::default(),
    );
    engine.note_on(60, 1.0, None, 0);
    let (mut l, mut r) = (vec![0.0; 1000], vec![0.0; 1000]);
    engine.render(&mut l, &mut r, &[]);
    engine.swap_bank(Bank::new(Arc::new(sound().clone())));
    engine.note_on(64, 1.0, None, 0);
    assert_eq!(engine.active_voices(), 2);
    engine.render(&mut l, &mut r, &[]);
    assert_eq!(engine.active_voices(), 1, "the old voice faded out");
    assert!(
        engine.take_retired().is_some(),
        "the old bank is handed back"
    );
    assert!(l.iter().any(|&x| x != 0.0));
}

/// Renders `frames` samples at 48 kHz of one note of `key` (note id 0) on MIDI channel 0,
/// calling `at(engine, frame)` before every 64-sample block (the voices' segment length);
/// returns the left and right channels and the frame by which every voice had ended.
fn render_stereo_with(
    controls: Controls,
    key: u8,
    frames: usize,
    at: impl FnMut(&mut Engine, usize),
) -> ([Vec<f32>; 2], usize) {
    render_on_channel(controls, key, 0, frames, at)
}

/// [`render_stereo_with`] with the note on `channel`.
fn render_on_channel(
    controls: Controls,
    key: u8,
    channel: u8,
    frames: usize,
    mut at: impl FnMut(&mut Engine, usize),
) -> ([Vec<f32>; 2], usize) {
    let mut engine = Engine::new(Bank::new(Arc::new(sound().clone())), 48_000.0, controls);
    let (mut left, mut right) = (vec![0.0; frames], vec![0.0; frames]);
    let mut ended_at = frames;
    for start in (0..frames).step_by(64) {
        at(&mut engine, start);
        if start == 0 {
            engine.note_on(key, 1.0, Some(0), channel);
        }
        let end = (start + 64).min(frames);
        engine.render(&mut left[start..end], &mut right[start..end], &[]);
        if ended_at == frames && engine.active_voices() == 0 {
            ended_at = end;
        }
    }
    ([left, right], ended_at)
}

/// [`render_stereo_with`]'s left channel (the right one is the same without a pan).
fn render_with(
    controls: Controls,
    key: u8,
    frames: usize,
    at: impl FnMut(&mut Engine, usize),
) -> (Vec<f32>, usize) {
    let ([left, _], ended_at) = render_stereo_with(controls, key, frames, at);
    (left, ended_at)
}

/// The pitch of item 0, which the bend and pedal tests play.
fn item0_key() -> u8 {
    sound().item_pitch(0).unwrap()
}

/// [`plain_controls`] with a bend range of an octave each way.
fn octave_bend_controls() -> Controls {
    Controls {
        bend_range: 12.0,
        ..plain_controls()
    }
}

/// Frames within which a 20 ms release has reached −80 dB and its voice has been reported
/// (27 ms at 48 kHz, plus one 64-sample block of [`render_with`]).
const RELEASE_20MS_FRAMES: usize = 48 * 27 + 64;

#[test]
fn a_full_pitch_bend_transposes_exactly_by_the_bend_range() {
    let key = item0_key();
    let range_12 = octave_bend_controls();
    let (octave_up, octave_end) = render_with(plain_controls(), key + 12, 48_000, |_, _| {});
    // Bent before the note, with the range changed after the bend: the new range applies.
    let (bent, bent_end) = render_with(plain_controls(), key, 48_000, |engine, frame| {
        if frame == 0 {
            engine.pitch_bend(0, 1.0);
            engine.set_controls(&range_12);
        }
    });
    let deviation = bent
        .iter()
        .zip(&octave_up)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let peak = octave_up.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 1e-2);
    // The same clock up to the last bits of 2·2^(12/12) against 2·2^0·2.
    assert!(
        deviation <= 1e-5 * peak,
        "max |Δ| {deviation} (peak {peak})"
    );
    assert_eq!(bent_end, octave_end);
    assert!((24_000..24_100).contains(&bent_end), "ended at {bent_end}");
}

#[test]
fn a_bend_mid_note_changes_the_speed_from_the_next_segment_on() {
    let key = item0_key();
    let controls = octave_bend_controls();
    let (plain, plain_end) = render_with(controls, key, 48_000, |_, _| {});
    let (bent, bent_end) = render_with(controls, key, 48_000, |engine, frame| {
        if frame == 4_800 {
            engine.pitch_bend(0, 1.0);
        }
    });
    assert_eq!(plain[..4_800], bent[..4_800], "untouched before the bend");
    assert_ne!(
        plain[4_800..4_864],
        bent[4_800..4_864],
        "bent from the next segment"
    );
    assert!(
        (48_000..48_100).contains(&plain_end),
        "plain ended at {plain_end}"
    );
    // 43,200 samples of clip left at double speed: 21,600.
    let expected = 4_800 + 21_600;
    assert!(
        bent_end.abs_diff(expected) <= 64,
        "bent note ended at {bent_end}, expected about {expected}"
    );
    // A half bend from the start, then back to the centre: the start differs, all is finite.
    let (back, _) = render_with(controls, key, 48_000, |engine, frame| match frame {
        0 => engine.pitch_bend(0, 0.5),
        4_800 => engine.pitch_bend(0, 0.0),
        _ => {}
    });
    assert_ne!(back[..4_800], plain[..4_800]);
    assert!(back.iter().all(|x| x.is_finite()));
}

#[test]
fn the_sustain_pedal_holds_released_notes_until_it_lifts() {
    let key = item0_key();
    let controls = Controls {
        release_s: 0.02,
        ..plain_controls()
    };
    let (held, _) = render_with(controls, key, 24_000, |_, _| {});
    let (pedalled, pedalled_end) =
        render_with(controls, key, 24_000, |engine, frame| match frame {
            0 => engine.sustain_pedal(0, true),
            4_800 => engine.note_off(NoteSelector::note(0, key)),
            9_600 => engine.sustain_pedal(0, false),
            _ => {}
        });
    assert_eq!(
        held[..9_600],
        pedalled[..9_600],
        "the pedal keeps the note as if held"
    );
    // Released at the pedal: −80 dB within 27 ms.
    assert!(
        pedalled_end <= 9_600 + RELEASE_20MS_FRAMES,
        "ended at {pedalled_end}"
    );
    let (released, released_end) = render_with(controls, key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.note_off(NoteSelector::note(0, key));
        }
    });
    assert_eq!(held[..4_800], released[..4_800]);
    assert!(
        released_end <= 4_800 + RELEASE_20MS_FRAMES,
        "ended at {released_end}"
    );
    // All notes off releases pedalled notes too; the pedal of another channel does nothing.
    let (_, off_end) = render_with(controls, key, 24_000, |engine, frame| match frame {
        0 => {
            engine.sustain_pedal(0, true);
            engine.sustain_pedal(1, false);
        }
        4_800 => engine.note_off(NoteSelector::note(0, key)),
        6_400 => engine.all_notes_off(0),
        _ => {}
    });
    assert!(off_end <= 6_400 + RELEASE_20MS_FRAMES, "ended at {off_end}");
}

#[test]
fn bend_and_pedal_are_per_channel_and_reset_clears_them() {
    let key = item0_key();
    let controls = octave_bend_controls();
    let (plain, _) = render_with(controls, key, 9_600, |_, _| {});
    let (other_channel, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.pitch_bend(3, 1.0);
            engine.sustain_pedal(3, true);
        }
    });
    assert_eq!(plain, other_channel);
    let (reset, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.pitch_bend(0, 1.0);
            engine.reset_controllers(0);
            engine.pitch_bend(99, 1.0);
            engine.pitch_bend(0, f32::NAN);
        }
    });
    assert_eq!(plain, reset);
}

/// Every note of channel 0, whatever its key.
const CHANNEL_0: NoteSelector = NoteSelector {
    voice_id: None,
    channel: Some(0),
    key: None,
};

#[test]
fn a_tuning_expression_is_a_per_note_bend() {
    let key = item0_key();
    let controls = octave_bend_controls();
    let (bent, bent_end) = render_with(controls, key, 48_000, |engine, frame| {
        if frame == 4_800 {
            engine.pitch_bend(0, 1.0);
        }
    });
    let by_id = NoteSelector {
        voice_id: Some(0),
        channel: None,
        key: None,
    };
    let (tuned, tuned_end) = render_with(controls, key, 48_000, |engine, frame| {
        if frame == 4_800 {
            engine.note_tuning(by_id, 12.0);
        }
    });
    assert_eq!(bent, tuned, "+12 semitones of tuning = a full octave bend");
    assert_eq!(bent_end, tuned_end);
    // Bend and tuning multiply: an octave up and an octave down is the note untouched.
    let (plain, _) = render_with(controls, key, 48_000, |_, _| {});
    let (cancelled, _) = render_with(controls, key, 48_000, |engine, frame| {
        if frame == 4_800 {
            engine.pitch_bend(0, 1.0);
            engine.note_tuning(CHANNEL_0, -12.0);
        }
    });
    assert_eq!(plain, cancelled);
    // Another note's id, channel or key leaves this one alone.
    let (elsewhere, _) = render_with(controls, key, 48_000, |engine, frame| {
        if frame == 4_800 {
            engine.note_tuning(
                NoteSelector {
                    voice_id: Some(5),
                    ..by_id
                },
                12.0,
            );
            engine.note_tuning(NoteSelector::note(1, key), 12.0);
            engine.note_tuning(NoteSelector::note(0, key + 1), 12.0);
        }
    });
    assert_eq!(plain, elsewhere);
}

#[test]
fn volume_and_pan_expressions_ramp_to_exact_gains() {
    let key = item0_key();
    let controls = plain_controls();
    let ([plain, plain_right], _) = render_stereo_with(controls, key, 24_000, |_, _| {});
    assert_eq!(plain, plain_right);
    // 5 ms at 48 kHz.
    let ramp = 240;
    let ([quiet, quiet_right], _) = render_stereo_with(controls, key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.note_volume(NoteSelector::note(0, key), 0.5);
        }
    });
    assert_eq!(quiet, quiet_right);
    assert_eq!(plain[..4_800], quiet[..4_800]);
    for i in 4_800 + ramp..24_000 {
        assert_eq!(quiet[i], 0.5 * plain[i], "frame {i}");
    }
    let step = (4_801..4_800 + ramp)
        .map(|i| (quiet[i] - quiet[i - 1]).abs())
        .fold(0.0f32, f32::max);
    let plain_step = (4_801..4_800 + ramp)
        .map(|i| (plain[i] - plain[i - 1]).abs())
        .fold(0.0f32, f32::max);
    assert!(
        step <= plain_step * 1.01 + 1e-6,
        "no jump: {step} vs {plain_step}"
    );
    let ([left, right], _) = render_stereo_with(controls, key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.note_pan(CHANNEL_0, -1.0);
        }
    });
    assert_eq!(left[..4_800], plain[..4_800]);
    assert_eq!(right[..4_800], plain[..4_800]);
    for i in 4_800 + ramp..24_000 {
        assert_eq!(right[i], 0.0, "hard left: nothing right at {i}");
        let want = std::f32::consts::SQRT_2 * plain[i];
        assert!(
            (left[i] - want).abs() <= 1e-6 * want.abs().max(1e-3),
            "frame {i}"
        );
    }
}

#[test]
fn a_volume_sent_with_the_note_on_starts_the_note_at_that_volume() {
    let key = item0_key();
    let (plain, _) = render_with(plain_controls(), key, 4_800, |_, _| {});
    let mut engine = Engine::new(
        Bank::new(Arc::new(sound().clone())),
        48_000.0,
        plain_controls(),
    );
    engine.note_on(key, 1.0, Some(0), 0);
    engine.note_volume(NoteSelector::note(0, key), 0.5);
    let (mut l, mut r) = (vec![0.0; 4_800], vec![0.0; 4_800]);
    engine.render(&mut l, &mut r, &[]);
    for i in 0..4_800 {
        assert_eq!(l[i], 0.5 * plain[i], "frame {i}: no ramp from unity");
    }
}

#[test]
fn wildcard_note_offs_and_chokes_reach_every_matching_note() {
    let controls = Controls {
        release_s: 0.02,
        ..plain_controls()
    };
    let mut engine = Engine::new(Bank::new(Arc::new(sound().clone())), 48_000.0, controls);
    let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 64]);
    for (key, channel) in [(60, 0), (64, 0), (67, 1)] {
        engine.note_on(key, 1.0, None, channel);
    }
    engine.render(&mut l, &mut r, &[]);
    assert_eq!(engine.active_voices(), 3);
    engine.note_off(CHANNEL_0);
    for _ in 0..RELEASE_20MS_FRAMES / 64 + 1 {
        engine.render(&mut l, &mut r, &[]);
    }
    assert_eq!(
        engine.active_voices(),
        1,
        "both notes of channel 0 released"
    );
    engine.note_on(72, 1.0, Some(9), 2);
    engine.choke(NoteSelector {
        voice_id: None,
        channel: None,
        key: None,
    });
    assert_eq!(
        engine.active_voices(),
        0,
        "a choke of anything cuts everything"
    );
}

#[test]
fn expressions_address_notes_by_id_among_equal_keys() {
    let key = item0_key();
    let controls = plain_controls();
    let (single, _) = render_with(controls, key, 9_600, |_, _| {});
    // Two notes of the same key, told apart by their ids: silencing id 1 leaves id 0 alone.
    let (pair, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.note_on(key, 1.0, Some(1), 0);
        }
        if frame == 64 {
            engine.note_volume(
                NoteSelector {
                    voice_id: Some(1),
                    channel: Some(0),
                    key: Some(key),
                },
                0.0,
            );
        }
    });
    assert_ne!(pair[..64], single[..64], "both notes sound at first");
    assert_eq!(pair[64 + 240..], single[64 + 240..]);
}

#[test]
fn per_voice_modulation_equals_the_control_moved_for_that_voice() {
    let key = item0_key();
    let controls = plain_controls();
    let moved = |latent_1: f32, morph: f32| Controls {
        latents: [latent_1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        morph,
        morph_to: 5,
        ..controls
    };
    let (global, _) = render_with(moved(0.0, 0.0), key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.set_controls(&moved(2.0, 0.25));
        }
    });
    let (modulated, _) = render_with(moved(0.0, 0.0), key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.modulate_voice(0, ModTarget::Latent(0), 2.0);
            engine.modulate_voice(0, ModTarget::Morph, 0.25);
        }
    });
    assert_eq!(
        global, modulated,
        "voice 0's latent and morph, moved for it alone"
    );
    let (plain, _) = render_with(moved(0.0, 0.0), key, 24_000, |_, _| {});
    assert_ne!(plain[4_800..], modulated[4_800..]);
    let (other_voice, _) = render_with(moved(0.0, 0.0), key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.modulate_voice(1, ModTarget::Latent(0), 2.0);
        }
    });
    assert_eq!(plain, other_voice, "another voice id changes nothing");
    // The sum is clamped to the control's range, as a host clamps a modulated parameter (the
    // segment after the change ramps the conditioning from the old latent to the new one).
    let (top, _) = render_with(moved(3.0, 0.0), key, 9_600, |_, _| {});
    let (clamped, _) = render_with(moved(2.5, 0.0), key, 9_600, |engine, frame| {
        if frame == 64 {
            engine.modulate_voice(0, ModTarget::Latent(0), 2.0);
        }
    });
    assert_ne!(top[..64], clamped[..64]);
    assert_eq!(top[128..], clamped[128..]);
}

#[test]
fn rpn_bend_ranges_and_mpe_master_bends_move_notes_exactly() {
    let key = item0_key();
    let controls = plain_controls();
    // Reference: channel 0's own wheel full up with `Bend range` 12 from frame 4,800.
    let (octave, _) = render_with(octave_bend_controls(), key, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.pitch_bend(0, 1.0);
        }
    });
    // The same range from RPN 0 on the note's channel, `Bend range` left at 2.
    let (rpn, _) = render_with(controls, key, 24_000, |engine, frame| match frame {
        0 => {
            for (controller, value) in [(101, 0), (100, 0), (6, 12)] {
                engine.control_change(0, controller, value);
            }
        }
        4_800 => engine.pitch_bend(0, 1.0),
        _ => {}
    });
    assert_eq!(octave, rpn);
    // An MPE lower zone (its configuration on channel 0, MIDI's channel 1, with 15 member
    // channels): the master's bend, over MPE's master range of 2 semitones, moves a note on a
    // member channel exactly as the member's own bend over `Bend range` 2 would.
    let ([two_up, _], _) = render_on_channel(controls, key, 3, 24_000, |engine, frame| {
        if frame == 4_800 {
            engine.pitch_bend(3, 1.0);
        }
    });
    let ([master_bent, _], _) =
        render_on_channel(controls, key, 3, 24_000, |engine, frame| match frame {
            0 => {
                for (controller, value) in [(101, 0), (100, 6), (6, 15)] {
                    engine.control_change(0, controller, value);
                }
            }
            4_800 => engine.pitch_bend(0, 1.0),
            _ => {}
        });
    assert_eq!(two_up, master_bent);
}

#[test]
fn pressure_and_slide_move_the_latents_they_are_routed_to() {
    let key = item0_key();
    let controls = Controls {
        pressure_to: 1,
        slide_to: 2,
        expression_depth: 2.0,
        ..plain_controls()
    };
    let with_latents = |l1: f32, l2: f32| Controls {
        latents: [l1, l2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ..controls
    };
    // Pressure sent on the note's channel before the note (as MPE does) = Latent 1 at +1.
    let (reference, _) = render_with(with_latents(1.0, 0.0), key, 9_600, |_, _| {});
    let (pressed, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.channel_pressure(0, 0.5);
        }
    });
    assert_eq!(reference, pressed);
    // Polyphonic aftertouch of the note's key from the start: the same.
    let (key_pressed, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 64 {
            engine.note_pressure(NoteSelector::note(0, key), 0.5);
        }
    });
    assert_eq!(reference[128..], key_pressed[128..]);
    // A full slide (CC 74 = 127) mid-note = Latent 2 moved to +2 at that moment.
    let (moved, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 4_800 {
            engine.set_controls(&with_latents(0.0, 2.0));
        }
    });
    let (slid, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 4_800 {
            engine.control_change(0, 74, 127);
        }
    });
    assert_eq!(moved, slid);
    // Routed nowhere, or reset (CC 121 zeroes the pressure): the plain note.
    let (plain, _) = render_with(controls, key, 9_600, |_, _| {});
    let unrouted = Controls {
        pressure_to: 0,
        ..controls
    };
    let (ignored, _) = render_with(unrouted, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.channel_pressure(0, 1.0);
        }
    });
    assert_eq!(plain, ignored);
    let (reset, _) = render_with(controls, key, 9_600, |engine, frame| {
        if frame == 0 {
            engine.channel_pressure(0, 1.0);
            engine.control_change(0, 121, 0);
        }
    });
    assert_eq!(plain, reset);
}

/// `control_offsets` inverts the offsets `latent_into` adds (to 1e-4 σ, f32 sums over the
/// latent), reads 0 from a latent to itself, and groups the keyboard items by instrument.
#[test]
fn control_offsets_invert_the_latent_controls() {
    let s = sound();
    let offsets = [0.7, -1.2, 0.0, 2.5, -0.3, 0.0, 1.0, -2.0];
    let mut origin = vec![0.0; s.latent_dim()];
    let mut moved = vec![0.0; s.latent_dim()];
    s.latent_into(4, 9, 0.25, &[0.0; LATENT_CONTROLS], &mut origin);
    s.latent_into(4, 9, 0.25, &offsets, &mut moved);
    let back = s.control_offsets(&origin, &moved);
    let stored = s.direction_stds().len().min(LATENT_CONTROLS);
    for k in 0..LATENT_CONTROLS {
        let expected = if k < stored { offsets[k] } else { 0.0 };
        assert!(
            (back[k] - expected).abs() < 1e-4,
            "direction {k}: {} vs {expected}",
            back[k]
        );
    }
    assert_eq!(s.control_offsets(&origin, &origin), [0.0; LATENT_CONTROLS]);
    assert_eq!(s.item_latent(0).map(<[f32]>::len), Some(s.latent_dim()));
    assert_eq!(s.item_latent(s.items()), None);
    let first = s.item_group(0).unwrap();
    assert!(first.starts_with("keyboard"), "{first}");
}
