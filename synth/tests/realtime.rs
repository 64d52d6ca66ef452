//! The engine's audio-thread calls allocate nothing: every call a `process` makes runs under
//! `assert_no_alloc`, with the allocation-checking global allocator that nice-plug installs
//! when built with `assert_process_allocs` (this test requires that feature; `cargo test
//! --workspace` enables it through the host tests). An allocation aborts the test.

use std::sync::Arc;

use nice_assert_no_alloc::assert_no_alloc;
use sirenade_synth::engine::{Bank, Controls, Engine, ModTarget, NoteSelector, RenderRate, Sound};

#[test]
fn notes_controls_rendering_and_preset_swaps_allocate_nothing() {
    let sound = Arc::new(Sound::embedded());
    for mode in [RenderRate::Host, RenderRate::Native] {
        let controls = Controls {
            render_rate: mode,
            ..Controls::default()
        };
        let mut engine = Engine::new(Bank::new(Arc::clone(&sound)), 48_000.0, controls);
        let next_bank = Bank::new(Arc::clone(&sound));
        let (mut left, mut right) = (vec![0.0f32; 512], vec![0.0f32; 512]);
        let gain = vec![0.5f32; 512];
        let mut moved = controls;
        moved.latents[0] = 2.0;
        moved.morph = 0.5;
        moved.morph_to = 3;
        let mut ended = 0;
        let retired = assert_no_alloc(|| {
            for key in 0..20u8 {
                engine.note_on(48 + key, 0.8, Some(i32::from(key)), 0);
                engine.render(&mut left[..64], &mut right[..64], &gain[..64]);
            }
            engine.set_controls(&moved);
            engine.render(&mut left, &mut right, &gain);
            engine.pitch_bend(0, 0.7);
            engine.sustain_pedal(0, true);
            let by_id = NoteSelector {
                voice_id: Some(2),
                channel: Some(0),
                key: Some(50),
            };
            engine.note_off(by_id);
            engine.note_tuning(by_id, 7.5);
            engine.note_volume(by_id, 0.3);
            let whole_channel = NoteSelector {
                voice_id: None,
                channel: Some(0),
                key: None,
            };
            engine.note_pan(whole_channel, -0.4);
            engine.modulate_voice(3, ModTarget::Latent(2), 1.0);
            engine.modulate_voice(4, ModTarget::Morph, 0.5);
            engine.render(&mut left, &mut right, &gain);
            engine.sustain_pedal(0, false);
            // RPN 0 (a bend range), then an MPE Configuration Message (a lower zone).
            for (controller, value) in [(101, 0), (100, 0), (6, 12), (38, 50), (100, 6), (6, 15)] {
                engine.control_change(0, controller, value);
            }
            engine.pitch_bend(0, -0.3);
            engine.channel_pressure(0, 0.7);
            engine.control_change(0, 74, 20);
            engine.note_pressure(by_id, 0.2);
            engine.note_slide(whole_channel, 0.4);
            engine.render(&mut left, &mut right, &gain);
            engine.reset_controllers(0);
            engine.all_notes_off(0);
            engine.all_sound_off(1);
            engine.choke(NoteSelector::note(0, 51));
            engine.swap_bank(next_bank);
            for _ in 0..20 {
                engine.render(&mut left, &mut right, &[]);
            }
            engine.drain_ended(|_, _| ended += 1);
            engine.reset();
            engine.take_retired()
        });
        assert!(ended > 0);
        assert!(
            retired.is_some(),
            "{mode:?}: the old bank waits to be freed"
        );
        assert!(left.iter().all(|x| x.is_finite()));
    }
}
