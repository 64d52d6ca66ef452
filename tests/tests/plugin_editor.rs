//! The editor in a real embedding: an Xvfb of the test's own, a host window on it, and the
//! plugin's CLAP GUI (`clap.gui`, X11 API, embedded) created inside that window by the
//! `clack-host` harness, with the plugin active and playing. A screenshot of the window is
//! saved as a test artefact (`target/test-artifacts/editor-clap.png`) and checked: the size
//! the plugin asked for, not blank, the latent pad's dot, the waveform and the spectrum drawn
//! where the layout puts them.
//!
//! The VST3 editor (`IPlugView`, `X11EmbedWindowID`) is attached to a window the same way and
//! checked on its screenshot (`editor-vst3.png`).
//!
//! The plugin is the debug build with `assert_process_allocs`: rendering blocks while the
//! editor draws proves the audio thread stays allocation-free with the editor open.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sirenade_synth::editor::palette::{self, rgb};
use sirenade_synth::editor::{DEFAULT_SIZE, MIN_SIZE};
use sirenade_tests::clap_host::{ClapHost, Event};
use sirenade_tests::plugin_bundle::{clap_bundle, vst3_bundle, workspace_root};
use sirenade_tests::vst3_host::{self, Vst3Module};
use sirenade_tests::x11_display::{HostWindow, Screenshot, Xvfb};

/// Per-channel slack when looking for a drawn colour (anti-aliased edges, sRGB rounding).
const COLOUR_TOLERANCE: u8 = 8;

/// How long the editor gets to draw its first frames and its first preview.
const DRAW_TIMEOUT: Duration = Duration::from_secs(60);

/// The tests take turns on the one X server: each embeds its editor in a window of its own,
/// and a screenshot must not catch another test's window on top.
fn one_display_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process's X server, named in `DISPLAY`, where the plugin's window system looks.
fn display() -> &'static Xvfb {
    // Room for the editor at twice its size.
    let server = Xvfb::shared(
        2 * DEFAULT_SIZE.0 as u32 + 100,
        2 * DEFAULT_SIZE.1 as u32 + 100,
    )
    .expect("start Xvfb");
    std::env::set_var("DISPLAY", server.display());
    server
}

/// Checks a screenshot of the editor at its default size: not blank, the pad's dot above
/// the waveform, the waveform across the centre, the spectrum below it.
fn check_regions(shot: &Screenshot, saved: &std::path::Path, scale: usize) {
    assert_eq!(
        (shot.width, shot.height),
        (
            DEFAULT_SIZE.0 as usize * scale,
            DEFAULT_SIZE.1 as usize * scale
        )
    );
    let area = scale * scale;
    assert!(
        shot.distinct_colours() > 100,
        "the editor drew something ({} colours; {})",
        shot.distinct_colours(),
        saved.display()
    );
    let (dot, dot_box) = shot.find(rgb(palette::PAD_DOT), COLOUR_TOLERANCE);
    let (wave, wave_box) = shot.find(rgb(palette::WAVEFORM), COLOUR_TOLERANCE);
    let (spectrum, spectrum_box) = shot.find(rgb(palette::SPECTRUM), COLOUR_TOLERANCE);
    let (dot_box, wave_box, spectrum_box) = (
        dot_box.unwrap_or_else(|| panic!("no pad dot in {}", saved.display())),
        wave_box.unwrap_or_else(|| panic!("no waveform in {}", saved.display())),
        spectrum_box.unwrap_or_else(|| panic!("no spectrum in {}", saved.display())),
    );
    // The dot: a disc of radius 7 points with a white ring, drawn at the display's scale.
    assert!(
        (60 * area..=200 * area).contains(&dot),
        "pad dot of {dot} pixels at {dot_box:?} (scale {scale})"
    );
    // The waveform spans most of the centre panel's width; the spectrum sits below it.
    assert!(
        wave > 500 * scale && (wave_box[2] - wave_box[0]) as f32 > shot.width as f32 * 0.5,
        "waveform {wave} pixels in {wave_box:?}"
    );
    assert!(
        spectrum > 200 * scale && spectrum_box[1] > wave_box[1],
        "spectrum {spectrum} pixels in {spectrum_box:?}, waveform in {wave_box:?}"
    );
    // The pad above the plots, the plots right of the list.
    assert!(dot_box[3] < wave_box[1], "the pad is above the waveform");
    assert!(wave_box[0] as f32 > shot.width as f32 * 0.25);
}

/// Runs the host's `turn` until `window` holds no embedded window (10 s at most): closing an
/// editor takes its window away.
fn wait_for_no_embedded_window(window: &HostWindow, what: &str, turn: &mut dyn FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !window.children().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "{what} takes its window away");
        turn();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where the screenshots go (kept after the run, for a person to look at).
fn artefact(name: &str) -> PathBuf {
    workspace_root()
        .join("target")
        .join("test-artifacts")
        .join(name)
}

/// Renders a few blocks with notes (the allocation check runs inside `process`).
fn play(host: &mut ClapHost, key: u8) {
    let on = Event::NoteOn {
        time: 0,
        key,
        velocity: 0.8,
        note_id: -1,
    };
    host.process(256, &[on]).expect("process with a note on");
    for _ in 0..8 {
        let out = host.process(256, &[]).expect("process");
        assert!(out.iter().flatten().all(|s| s.is_finite()));
    }
    host.process(
        256,
        &[Event::NoteOff {
            time: 0,
            key,
            note_id: -1,
        }],
    )
    .expect("process with a note off");
}

/// One turn of a CLAP host's loop: its main thread serviced for 0.2 s, then a note played.
fn host_turn(host: &mut ClapHost) {
    for _ in 0..20 {
        host.pump_main_thread();
        std::thread::sleep(Duration::from_millis(10));
    }
    play(host, 62);
}

/// Runs the host's `turn` until the screenshot shows the waveform and the spectrum (the
/// preview worker has answered), or the timeout passes.
fn settle(turn: &mut dyn FnMut(), window: &HostWindow) -> Screenshot {
    let deadline = Instant::now() + DRAW_TIMEOUT;
    loop {
        turn();
        let shot = window.screenshot().expect("screenshot");
        let drawn = |c| shot.find(rgb(c), COLOUR_TOLERANCE).0 > 200;
        if (drawn(palette::WAVEFORM) && drawn(palette::SPECTRUM)) || Instant::now() > deadline {
            return shot;
        }
    }
}

#[test]
fn the_clap_editor_opens_in_an_x11_window_and_draws_its_regions() {
    let _turn = one_display_at_a_time();
    let server = display();
    let dir = tempfile::tempdir().unwrap();
    let mut host = ClapHost::load(&clap_bundle(dir.path())).expect("load Sirenade.clap");
    host.activate(48_000.0, 512).expect("activate");

    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);
    let mut window = HostWindow::open(server.display(), w, h).expect("host window");
    let size = host
        .open_editor_x11(window.id(), 1.0)
        .expect("open the editor");
    assert_eq!(
        size,
        (DEFAULT_SIZE.0 as u32, DEFAULT_SIZE.1 as u32),
        "the editor's size at scale 1"
    );
    let shot = settle(&mut || host_turn(&mut host), &window);
    let saved = shot
        .save_png(&artefact("editor-clap.png"))
        .expect("save the screenshot");
    assert_eq!(
        window.children().unwrap().len(),
        1,
        "the editor embeds one window in the host's"
    );
    check_regions(&shot, &saved, 1);

    // The host may resize the editor down to its minimum, and the editor follows.
    let (resizable, adjusted) = host
        .editor_adjusted_size((MIN_SIZE.0 as u32 - 100, MIN_SIZE.1 as u32 - 100))
        .unwrap();
    assert!(resizable);
    assert_eq!(adjusted, (MIN_SIZE.0 as u32, MIN_SIZE.1 as u32));
    let bigger = (1100u16, 760u16);
    window.resize(bigger.0, bigger.1).unwrap();
    host.set_editor_size((u32::from(bigger.0), u32::from(bigger.1)))
        .expect("set_size");
    let shot = settle(&mut || host_turn(&mut host), &window);
    shot.save_png(&artefact("editor-clap-resized.png")).unwrap();
    assert_eq!(
        host.editor_size().unwrap(),
        (u32::from(bigger.0), u32::from(bigger.1))
    );
    let (_, wave_box) = shot.find(rgb(palette::WAVEFORM), COLOUR_TOLERANCE);
    let wave_box = wave_box.expect("the waveform after the resize");
    assert!(
        wave_box[2] > usize::from(w),
        "the layout follows the new width: {wave_box:?}"
    );

    host.close_editor();
    wait_for_no_embedded_window(&window, "destroying the GUI", &mut || {
        host.pump_main_thread();
    });
    // Playing on after the editor closed (its worker stopped) is unaffected.
    play(&mut host, 60);
    host.deactivate().unwrap();
}

#[test]
fn the_vst3_editor_attaches_to_an_x11_window_and_draws_its_regions() {
    let _turn = one_display_at_a_time();
    let server = display();
    let dir = tempfile::tempdir().unwrap();
    let module = Vst3Module::load(&vst3_bundle(dir.path())).expect("load Sirenade.vst3");
    let mut instance = module.instantiate_first().expect("instantiate Sirenade");
    instance.setup(48_000.0, 512, false).expect("setup");

    let (w, h) = (DEFAULT_SIZE.0 as u16, DEFAULT_SIZE.1 as u16);
    let window = HostWindow::open(server.display(), w, h).expect("host window");
    let editor = instance
        .open_editor_x11(window.id())
        .expect("attach the editor");
    assert_eq!(
        editor.size().unwrap(),
        (DEFAULT_SIZE.0 as i32, DEFAULT_SIZE.1 as i32)
    );
    let mut turn = || {
        std::thread::sleep(Duration::from_millis(200));
        let on = vst3_host::Event::NoteOn {
            offset: 0,
            key: 64,
            velocity: 0.8,
        };
        instance
            .process(256, &[on])
            .expect("process with a note on");
        for _ in 0..4 {
            let out = instance.process(256, &[]).expect("process");
            assert!(out.iter().flatten().all(|s| s.is_finite()));
        }
        instance
            .process(
                256,
                &[vst3_host::Event::NoteOff {
                    offset: 0,
                    key: 64,
                    velocity: 0.0,
                }],
            )
            .expect("process with a note off");
    };
    let shot = settle(&mut turn, &window);
    let saved = shot.save_png(&artefact("editor-vst3.png")).unwrap();
    assert_eq!(window.children().unwrap().len(), 1);
    check_regions(&shot, &saved, 1);
    drop(editor);
    // The editor's thread closes its window on its own time.
    wait_for_no_embedded_window(&window, "removing the view", &mut || {});
}

/// At a scale of 2 (a HiDPI display) the editor asks for twice the pixels and draws everything
/// at twice the size: the same layout, the dot four times the pixels.
#[test]
fn the_clap_editor_draws_at_twice_the_scale() {
    let _turn = one_display_at_a_time();
    let server = display();
    let dir = tempfile::tempdir().unwrap();
    let mut host = ClapHost::load(&clap_bundle(dir.path())).expect("load Sirenade.clap");
    host.activate(48_000.0, 512).expect("activate");
    let (w, h) = (2 * DEFAULT_SIZE.0 as u16, 2 * DEFAULT_SIZE.1 as u16);
    let window = HostWindow::open(server.display(), w, h).expect("host window");
    let size = host
        .open_editor_x11(window.id(), 2.0)
        .expect("open the editor at scale 2");
    assert_eq!(size, (u32::from(w), u32::from(h)));
    let shot = settle(&mut || host_turn(&mut host), &window);
    let saved = shot.save_png(&artefact("editor-clap-2x.png")).unwrap();
    check_regions(&shot, &saved, 2);
    host.close_editor();
    host.deactivate().unwrap();
}
