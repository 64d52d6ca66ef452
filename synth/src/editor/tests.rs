//! The editor driven without a display: egui runs headless on synthetic pointer input, and a
//! recording host context stands in for the plugin wrapper (it applies each value as the
//! wrapper does and keeps the gestures a host would record).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use egui::{Event, Modifiers, PointerButton, Pos2, RawInput, Rect, Vec2};
use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::params::internals::ParamPtr;
use nice_plug::plugin::PluginState;
use nice_plug::prelude::Param;
use nice_plug_egui::RepaintNotifier;
use sirenade_common::CLIP_LEN;

use super::app::{EditorShared, SirenadeEditor};
use super::DEFAULT_SIZE;
use crate::engine::controls::LATENT;
use crate::engine::Sound;
use crate::plugin::loader::Loader;
use crate::plugin::meters::Meters;
use crate::plugin::params::{ItemNames, SirenadeParams};
use crate::plugin::preset_folder::PresetFolder;

/// What the host saw, in order.
#[derive(Debug, Clone, PartialEq)]
enum Gesture {
    Begin(String),
    Set(String, f32),
    End(String),
}

/// A host context that applies values to the parameters and records every call.
#[derive(Default)]
struct RecordingHost {
    log: Mutex<Vec<Gesture>>,
}

impl RecordingHost {
    fn take(&self) -> Vec<Gesture> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl GuiContextInner for RecordingHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, param: ParamPtr) {
        let name = unsafe { param.name() }.to_string();
        self.log.lock().unwrap().push(Gesture::Begin(name));
    }
    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        let name = unsafe { param.name() }.to_string();
        unsafe { param._internal_set_normalized_value(normalized) };
        self.log
            .lock()
            .unwrap()
            .push(Gesture::Set(name, normalized));
    }
    unsafe fn raw_end_set_parameter(&self, param: ParamPtr) {
        let name = unsafe { param.name() }.to_string();
        self.log.lock().unwrap().push(Gesture::End(name));
    }
    fn get_state(&self) -> PluginState {
        unreachable!("the editor never reads the whole state")
    }
    fn set_state(&self, _state: PluginState) {
        unreachable!("the editor never writes the whole state")
    }
    fn request_restart(&self) {}
}

/// An editor over fresh parameters and the embedded preset, attached to a recording host,
/// and the egui context it draws into.
struct Harness {
    editor: SirenadeEditor,
    params: Arc<SirenadeParams>,
    sound: Arc<Sound>,
    host: Arc<RecordingHost>,
    ctx: egui::Context,
}

impl Harness {
    fn new() -> Harness {
        let names: ItemNames = Arc::new(ArcSwap::from_pointee(Vec::new()));
        let dir = tempfile::tempdir().unwrap();
        let folder = Arc::new(PresetFolder::at(dir.path()));
        let params = Arc::new(SirenadeParams::new(&names, &folder));
        let sound = Arc::new(Sound::embedded());
        let (loader, _ends) = Loader::new(
            Arc::clone(&params),
            names,
            Arc::clone(&folder),
            Arc::clone(&sound),
        );
        let shared = EditorShared {
            params: Arc::clone(&params),
            loader,
            meters: Arc::new(Meters::default()),
            folder,
        };
        let mut editor = SirenadeEditor::new(shared, RepaintNotifier::new());
        let host = Arc::new(RecordingHost::default());
        editor.attach(GuiContext::new(
            Arc::clone(&host) as Arc<dyn GuiContextInner>
        ));
        let mut h = Harness {
            editor,
            params,
            sound,
            host,
            ctx: egui::Context::default(),
        };
        // egui sizes its panels from the frame before: the second frame has the final layout.
        h.frame(Vec::new());
        h.frame(Vec::new());
        h
    }

    /// Runs one frame with `events`.
    fn frame(&mut self, events: Vec<Event>) {
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(
                Pos2::ZERO,
                Vec2::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
            )),
            events,
            ..RawInput::default()
        };
        let editor = &mut self.editor;
        let mut output = self.ctx.run_ui(input, |ui| editor.draw(ui));
        // No renderer here to take the font atlas.
        output.textures_delta.clear();
    }

    fn press(&mut self, at: Pos2, pressed: bool) {
        self.frame(vec![Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::default(),
        }]);
    }

    /// A click (move there, press, release) at `at`.
    fn click(&mut self, at: Pos2) {
        self.frame(vec![Event::PointerMoved(at)]);
        self.press(at, true);
        self.press(at, false);
        self.frame(Vec::new());
    }

    /// The newest preview once it answers the editor's newest request.
    fn settled_preview(&mut self) -> Arc<super::preview::Preview> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.frame(Vec::new());
            let latent = self.editor.current_latent(&self.sound);
            if let Some(p) = self.editor.preview().and_then(|w| w.latest()) {
                if p.request.latent == latent {
                    return p;
                }
            }
            assert!(Instant::now() < deadline, "the preview never caught up");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Where the last frame drew the entry for `key`.
fn hit<K: PartialEq>(regions: &[(K, Rect)], key: K) -> Option<Rect> {
    regions.iter().find(|(k, _)| *k == key).map(|(_, r)| *r)
}

/// Dragging the pad moves `Latent 1` across and `Latent 2` up, each in one gesture a host
/// records (begin, values, end), ending where the pointer let go.
#[test]
fn dragging_the_pad_sets_the_two_latents_in_one_gesture_each() {
    let mut h = Harness::new();
    let pad = h.editor.hits.pad.expect("the pad is drawn");
    h.host.take();
    let start = pad.center();
    let end = start + Vec2::new(pad.width() / 4.0, -pad.height() / 6.0);
    h.frame(vec![Event::PointerMoved(start)]);
    h.press(start, true);
    for step in 1..=4 {
        let p = start + (end - start) * (step as f32 / 4.0);
        h.frame(vec![Event::PointerMoved(p)]);
    }
    h.press(end, false);
    h.frame(Vec::new());

    let log = h.host.take();
    let names = ["Latent 1", "Latent 2"];
    for name in names {
        let begins = log
            .iter()
            .filter(|g| **g == Gesture::Begin(name.into()))
            .count();
        let ends = log
            .iter()
            .filter(|g| **g == Gesture::End(name.into()))
            .count();
        assert_eq!((begins, ends), (1, 1), "{name}: {log:?}");
        let first_set = log
            .iter()
            .position(|g| matches!(g, Gesture::Set(n, _) if n == name))
            .unwrap();
        let begin = log
            .iter()
            .position(|g| *g == Gesture::Begin(name.into()))
            .unwrap();
        let end_at = log
            .iter()
            .position(|g| *g == Gesture::End(name.into()))
            .unwrap();
        assert!(begin < first_set && first_set < end_at, "{log:?}");
    }
    assert!(
        log.iter().all(|g| match g {
            Gesture::Begin(n) | Gesture::End(n) | Gesture::Set(n, _) => names.contains(&n.as_str()),
        }),
        "only the two latents move: {log:?}"
    );
    assert_eq!(h.editor.hits.pad, Some(pad), "the pad stays put");
    let span = LATENT.max - LATENT.min;
    let expect_x = (end.x - pad.center().x) / pad.width() * span;
    let expect_y = (pad.center().y - end.y) / pad.height() * span;
    let x = h.params.latents[0].value.unmodulated_plain_value();
    let y = h.params.latents[1].value.unmodulated_plain_value();
    // The parameters step by 0.01.
    assert!((x - expect_x).abs() <= 0.011, "x {x} vs {expect_x}");
    assert!((y - expect_y).abs() <= 0.011, "y {y} vs {expect_y}");
}

/// Choosing an item in the list sets `Sound` in one gesture; with the list switched to
/// `Morph to`, a choice sets that instead.
#[test]
fn choosing_a_sound_in_the_list_sets_the_parameter() {
    let mut h = Harness::new();
    let target = 5usize;
    h.editor.query = h.sound.item_name(target).unwrap().to_string();
    h.frame(Vec::new());
    let rect = hit(&h.editor.hits.items, target).expect("the searched item is listed");
    h.host.take();
    h.click(rect.center());
    assert_eq!(h.params.sound.value(), target as i32);
    let log = h.host.take();
    assert_eq!(log.first(), Some(&Gesture::Begin("Sound".into())));
    assert_eq!(log.last(), Some(&Gesture::End("Sound".into())));

    h.editor.list_target = super::app::ListTarget::MorphTo;
    let other = 2usize;
    h.editor.query = h.sound.item_name(other).unwrap().to_string();
    h.frame(Vec::new());
    let rect = hit(&h.editor.hits.items, other).unwrap();
    h.click(rect.center());
    assert_eq!(h.params.morph_to.value(), other as i32);
    assert_eq!(h.params.sound.value(), target as i32);
}

/// The waveform view shows the evaluator's output for the latent the controls give, and
/// follows a change of a latent control.
#[test]
fn the_waveform_view_shows_the_evaluators_output_for_the_current_latent() {
    let mut h = Harness::new();
    let check = |h: &mut Harness| {
        let preview = h.settled_preview();
        let latent = h.editor.current_latent(&h.sound);
        let mut ev = h.sound.new_evaluator();
        ev.prepare(&latent).unwrap();
        let mut expected = vec![0.0f32; CLIP_LEN];
        ev.render_f64(-1.0, 2.0 / CLIP_LEN as f64, &mut expected);
        assert_eq!(preview.samples, expected);
        preview
    };
    let before = check(&mut h);
    let setter_host = Arc::clone(&h.host);
    let gui = GuiContext::new(setter_host as Arc<dyn GuiContextInner>);
    let setter = gui.param_setter();
    setter.begin_set_parameter(&h.params.latents[2].value);
    setter.set_parameter(&h.params.latents[2].value, 1.5);
    setter.end_set_parameter(&h.params.latents[2].value);
    let after = check(&mut h);
    assert_ne!(before.samples, after.samples);
}

/// Choosing the built-in preset in the browser sets the `Preset` slot (the plugin's loader
/// acts on it).
#[test]
fn the_browser_lists_the_library_and_loads_through_the_preset_slot() {
    let mut h = Harness::new();
    let setter_host = Arc::clone(&h.host);
    let gui = GuiContext::new(setter_host as Arc<dyn GuiContextInner>);
    gui.param_setter().set_parameter(&h.params.preset_slot, 3);
    h.frame(Vec::new());
    let rect = hit(&h.editor.hits.presets, 0).expect("the library is listed");
    h.host.take();
    h.click(rect.center());
    assert_eq!(h.params.preset_slot.value(), 0);
    assert!(h.host.take().contains(&Gesture::End("Preset".into())));
    // Every preset of the library has its entry, at its slot.
    for k in 1..=crate::library::LIBRARY.len() as i32 {
        h.frame(Vec::new());
        let rect = hit(&h.editor.hits.presets, k)
            .unwrap_or_else(|| panic!("library slot {k} is not listed"));
        if h.ctx.content_rect().contains(rect.center()) {
            h.click(rect.center());
            assert_eq!(h.params.preset_slot.value(), k);
        }
    }
}
