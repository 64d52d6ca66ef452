//! The editor's window: the sound and its neighbours on the left, the latent pad and what the
//! sound looks like in the middle, the playing settings below, meters on top.
//!
//! Every value shown is read from the parameters or the audio thread's atomics; every change
//! goes through nice-plug's `ParamSetter`, so the host records it as automation. The preview
//! is computed by the editor's own worker thread.

use std::sync::Arc;
use std::time::Duration;

use egui::{Pos2, Rect, RichText, ScrollArea, Sense, Shape, Stroke, Ui, Vec2};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{NiceEguiApp, RepaintNotifier};
use sirenade_common::SAMPLE_RATE;

use super::latent_pad::{latent_pad, Axes, PadAction};
use super::palette;
use super::preview::{band_edge_hz, PreviewWorker, Request, FLOOR_DB, SPECTRUM_BANDS};
use super::sound_list::grouped;
use super::widgets::{knob, meter};
use crate::engine::controls::LATENT_CONTROLS;
use crate::engine::{Sound, MAX_VOICES};
use crate::library::{LIBRARY, LIBRARY_PREFIX};
use crate::plugin::loader::Loader;
use crate::plugin::meters::Meters;
use crate::plugin::params::SirenadeParams;
use crate::plugin::preset_folder::{first_file_slot, PresetFolder};

/// Width of the left column (sound list and presets), points.
const LEFT_WIDTH: f32 = 270.0;

/// Height of each of the two preview plots, points.
const PLOT_HEIGHT: f32 = 84.0;

/// Width the six knobs beside the pad take, points.
const KNOBS_WIDTH: f32 = 190.0;

/// Width of a slider in the settings, points: three settings to a row fit the smallest
/// window.
const SETTING_SLIDER_WIDTH: f32 = 120.0;

/// How often the open editor repaints while nothing else asks it to (meters): ten times a
/// second keeps them readable at little cost.
const IDLE_REPAINT: Duration = Duration::from_millis(100);

/// Which parameter a click in the sound list sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListTarget {
    /// `Sound`, the base item.
    #[default]
    Sound,
    /// `Morph to`, the item the morph moves towards.
    MorphTo,
}

/// What the plugin shares with its editor.
#[derive(Clone)]
pub struct EditorShared {
    /// The parameters (read directly, changed through the host).
    pub params: Arc<SirenadeParams>,
    /// The background loader, for the sound now playing.
    pub loader: Arc<Loader>,
    /// The audio thread's voice count and load.
    pub meters: Arc<Meters>,
    /// The user's preset folder.
    pub folder: Arc<PresetFolder>,
}

/// Where the last frame drew the controls a pointer can reach (for tests that drive the
/// editor with synthetic input).
#[derive(Debug, Clone, Default)]
pub struct HitRegions {
    /// The latent pad.
    pub pad: Option<Rect>,
    /// The sound list's entries: (item index, rect).
    pub items: Vec<(usize, Rect)>,
    /// The preset browser's entries: (slot, rect).
    pub presets: Vec<(i32, Rect)>,
}

/// The training items' positions in the pad's plane, for one base latent and pair of axes.
struct PlaneCache {
    key: (String, usize, usize, u32, Axes),
    points: Vec<[f32; 2]>,
}

/// The editor application.
pub struct SirenadeEditor {
    shared: EditorShared,
    repaint: RepaintNotifier,
    gui: Option<GuiContext>,
    preview: Option<PreviewWorker>,
    requested: Option<Request>,
    /// The search text of the sound list.
    pub query: String,
    /// Which parameter the sound list sets.
    pub list_target: ListTarget,
    /// The directions the pad shows.
    pub axes: Axes,
    plane: Option<PlaneCache>,
    /// Where the last frame drew its controls.
    pub hits: HitRegions,
}

impl SirenadeEditor {
    /// An editor over `shared`; `repaint` is the window's repaint flag (the preview worker
    /// raises it when a result is ready).
    pub fn new(shared: EditorShared, repaint: RepaintNotifier) -> SirenadeEditor {
        SirenadeEditor {
            shared,
            repaint,
            gui: None,
            preview: None,
            requested: None,
            query: String::new(),
            list_target: ListTarget::default(),
            axes: Axes::default(),
            plane: None,
            hits: HitRegions::default(),
        }
    }

    /// Connects the editor to the host (the window opened): keeps the context parameter
    /// changes go through and starts the preview worker.
    pub fn attach(&mut self, gui: GuiContext) {
        self.gui = Some(gui);
        let repaint = self.repaint.clone();
        self.preview = Some(PreviewWorker::start(move || repaint.request_repaint()));
        self.requested = None;
    }

    /// The window closed: stops the worker and lets go of the host's context.
    pub fn detach(&mut self) {
        self.preview = None;
        self.gui = None;
        self.plane = None;
    }

    /// The preview worker (while attached).
    pub fn preview(&self) -> Option<&PreviewWorker> {
        self.preview.as_ref()
    }

    /// The latent the controls give now (targets, not smoothed values): what a new note
    /// would play on the base item.
    pub fn current_latent(&self, sound: &Sound) -> Vec<f32> {
        let p = &self.shared.params;
        let offsets: [f32; LATENT_CONTROLS] =
            std::array::from_fn(|k| p.latents[k].value.unmodulated_plain_value());
        let mut latent = vec![0.0; sound.latent_dim()];
        sound.latent_into(
            item_index(p.sound.value()),
            item_index(p.morph_to.value()),
            p.morph.unmodulated_plain_value(),
            &offsets,
            &mut latent,
        );
        latent
    }

    /// Draws one frame (the whole window) into `ui`.
    pub fn draw(&mut self, ui: &mut Ui) {
        let Some(gui) = self.gui.clone() else {
            ui.label("Sirenade: the editor is not connected to its plugin.");
            return;
        };
        let setter = gui.param_setter();
        let sound = self.shared.loader.sound();
        self.hits = HitRegions::default();
        self.ask_preview(&sound);

        // Top and bottom first: they span the whole width, the list and the centre share
        // what is left between them.
        egui::Panel::top("meters").show(ui, |ui| self.header(ui, &sound));
        egui::Panel::bottom("settings").show(ui, |ui| settings(ui, &setter, &self.shared.params));
        egui::Panel::left("sounds")
            .resizable(false)
            .exact_size(LEFT_WIDTH)
            .show(ui, |ui| self.left_column(ui, &setter, &sound));
        egui::CentralPanel::default().show(ui, |ui| {
            self.latent_section(ui, &setter, &sound);
            ui.separator();
            self.preview_section(ui);
        });

        let busy = self.preview.as_ref().is_some_and(PreviewWorker::busy);
        let after = if busy || self.shared.meters.voices() > 0 {
            IDLE_REPAINT / 3
        } else {
            IDLE_REPAINT
        };
        ui.ctx().request_repaint_after(after);
    }

    /// Posts a preview request when the sound or the latent changed since the last one.
    fn ask_preview(&mut self, sound: &Arc<Sound>) {
        let Some(worker) = self.preview.as_ref() else {
            return;
        };
        let request = Request {
            sha256: sound.sha256().to_string(),
            latent: self.current_latent(sound),
        };
        if self.requested.as_ref() != Some(&request) {
            worker.request(Arc::clone(sound), request.clone());
            self.requested = Some(request);
        }
    }

    /// The top bar: name, preset, voices sounding and the audio thread's load.
    fn header(&self, ui: &mut Ui, sound: &Sound) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Sirenade").strong().size(18.0));
            ui.separator();
            ui.label(preset_title(sound));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let load = self.shared.meters.load();
                meter(ui, load, 1.0, 0.7, 90.0)
                    .on_hover_text("time spent in process / block duration");
                ui.label(format!("load {:>3.0} %", 100.0 * load));
                ui.separator();
                let voices = self.shared.meters.voices();
                meter(
                    ui,
                    voices as f32,
                    MAX_VOICES as f32,
                    MAX_VOICES as f32,
                    90.0,
                );
                ui.label(format!("voices {voices} / {MAX_VOICES}"));
            });
        });
    }

    /// The left column: current sound, the searchable list, morph, and the preset browser.
    fn left_column(&mut self, ui: &mut Ui, setter: &ParamSetter, sound: &Sound) {
        let p = Arc::clone(&self.shared.params);
        let current = item_index(p.sound.value());
        let target = item_index(p.morph_to.value());
        ui.heading(sound.item_name(current).unwrap_or("—"));
        ui.horizontal(|ui| {
            ui.label("morph to");
            ui.label(RichText::new(sound.item_name(target).unwrap_or("—")).italics());
        });
        ui.horizontal(|ui| {
            ui.label("Morph");
            ui.add(ParamSlider::for_param(&p.morph, setter).with_width(LEFT_WIDTH - 130.0));
        });
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("the list sets");
            ui.selectable_value(&mut self.list_target, ListTarget::Sound, "Sound");
            ui.selectable_value(&mut self.list_target, ListTarget::MorphTo, "Morph to");
        });
        ui.add(
            egui::TextEdit::singleline(&mut self.query)
                .hint_text("search: instrument, note, word")
                .desired_width(LEFT_WIDTH - 16.0),
        );
        let chosen = match self.list_target {
            ListTarget::Sound => current,
            ListTarget::MorphTo => target,
        };
        let groups = grouped(sound, &self.query);
        let mut clicked = None;
        ScrollArea::vertical()
            .id_salt("sound-list")
            .max_height(ui.available_height() * 0.55)
            .show(ui, |ui| {
                for group in &groups {
                    egui::CollapsingHeader::new(format!("{} ({})", group.name, group.items.len()))
                        .id_salt(("group", &group.name))
                        .default_open(groups.len() <= 4 || !self.query.is_empty())
                        .show(ui, |ui| {
                            for (i, name) in &group.items {
                                let r = ui.selectable_label(*i == chosen, format!("{i}: {name}"));
                                if r.clicked() {
                                    clicked = Some(*i);
                                }
                                self.hits.items.push((*i, r.rect));
                            }
                        });
                }
            });
        if let Some(i) = clicked {
            let param = match self.list_target {
                ListTarget::Sound => &p.sound,
                ListTarget::MorphTo => &p.morph_to,
            };
            set_once(setter, param, i as i32);
        }
        ui.separator();
        self.preset_browser(ui, setter, sound);
    }

    /// The shipped library and the user's folder; a click loads through the `Preset` slot (the
    /// plugin's background loader).
    fn preset_browser(&mut self, ui: &mut Ui, setter: &ParamSetter, sound: &Sound) {
        let p = Arc::clone(&self.shared.params);
        let folder = Arc::clone(&self.shared.folder);
        let slot = p.preset_slot.value();
        ui.horizontal(|ui| {
            ui.strong("Presets");
            if ui.small_button("rescan").clicked() {
                folder.rescan();
            }
        });
        let mut chosen = None;
        ScrollArea::vertical().id_salt("presets").show(ui, |ui| {
            ui.label(RichText::new("library").small().weak());
            let r = ui.selectable_label(slot == 0, "keyboard-demo (built in)");
            if r.clicked() {
                chosen = Some(0);
            }
            self.hits.presets.push((0, r.rect));
            for (i, preset) in LIBRARY.iter().enumerate() {
                let k = i as i32 + 1;
                let r = ui.selectable_label(slot == k, preset.name);
                if r.clicked() {
                    chosen = Some(k);
                }
                self.hits.presets.push((k, r.rect));
            }
            ui.label(RichText::new("your presets").small().weak());
            if folder.is_empty() {
                let place = folder
                    .dir()
                    .map_or_else(|| "(no folder)".into(), |d| d.display().to_string());
                ui.label(RichText::new(format!("none in {place}")).small().weak());
            }
            let first = first_file_slot();
            for k in first..first + folder.len() as i32 {
                let r = ui.selectable_label(slot == k, folder.describe(k));
                if r.clicked() {
                    chosen = Some(k);
                }
                self.hits.presets.push((k, r.rect));
            }
        });
        if let Some(k) = chosen {
            set_once(setter, &p.preset_slot, k);
        }
        ui.label(
            RichText::new(format!("playing: {}", sound.origin()))
                .small()
                .weak(),
        );
    }

    /// The pad over two latent directions, the other six as knobs.
    fn latent_section(&mut self, ui: &mut Ui, setter: &ParamSetter, sound: &Sound) {
        let p = Arc::clone(&self.shared.params);
        ui.horizontal(|ui| {
            ui.strong("Latent space");
            axis_choice(ui, "across", &mut self.axes.x, self.axes.y);
            axis_choice(ui, "up", &mut self.axes.y, self.axes.x);
        });
        let points = self.plane_points(sound).to_vec();
        let (x, y) = (&p.latents[self.axes.x].value, &p.latents[self.axes.y].value);
        let side = (ui.available_height() - 2.0 * PLOT_HEIGHT - 60.0)
            .min(ui.available_width() - KNOBS_WIDTH)
            .clamp(140.0, 420.0)
            .floor();
        ui.horizontal(|ui| {
            let (_, geometry, action) = latent_pad(
                ui,
                side,
                &points,
                (x.unmodulated_plain_value(), y.unmodulated_plain_value()),
            );
            self.hits.pad = Some(geometry.rect);
            match action {
                PadAction::Begin(vx, vy) => {
                    setter.begin_set_parameter(x);
                    setter.begin_set_parameter(y);
                    setter.set_parameter(x, vx);
                    setter.set_parameter(y, vy);
                }
                PadAction::Move(vx, vy) => {
                    setter.set_parameter(x, vx);
                    setter.set_parameter(y, vy);
                }
                PadAction::End => {
                    setter.end_set_parameter(x);
                    setter.end_set_parameter(y);
                }
                PadAction::Pick(i) => {
                    set_once(setter, &p.sound, i as i32);
                    for param in [x, y] {
                        setter.begin_set_parameter(param);
                        setter.set_parameter(param, 0.0);
                        setter.end_set_parameter(param);
                    }
                }
                PadAction::None => {}
            }
            egui::Grid::new("knobs").spacing([6.0, 8.0]).show(ui, |ui| {
                for (n, k) in self.axes.others().enumerate() {
                    knob(ui, setter, &p.latents[k].value, 52.0);
                    if n % 3 == 2 {
                        ui.end_row();
                    }
                }
            });
        });
    }

    /// The items' positions around the current base latent along the pad's two directions.
    fn plane_points(&mut self, sound: &Sound) -> &[[f32; 2]] {
        let p = &self.shared.params;
        let key = (
            sound.sha256().to_string(),
            item_index(p.sound.value()),
            item_index(p.morph_to.value()),
            p.morph.unmodulated_plain_value().to_bits(),
            self.axes,
        );
        if self.plane.as_ref().is_none_or(|c| c.key != key) {
            let mut base = vec![0.0; sound.latent_dim()];
            sound.latent_into(
                key.1,
                key.2,
                f32::from_bits(key.3),
                &[0.0; LATENT_CONTROLS],
                &mut base,
            );
            let points = (0..sound.items())
                .filter_map(|i| sound.item_latent(i))
                .map(|z| {
                    let o = sound.control_offsets(&base, z);
                    [o[self.axes.x], o[self.axes.y]]
                })
                .collect();
            self.plane = Some(PlaneCache { key, points });
        }
        self.plane.as_ref().map_or(&[], |c| &c.points)
    }

    /// The waveform and spectrum of the current latent's whole clip.
    fn preview_section(&self, ui: &mut Ui) {
        let latest = self.preview.as_ref().and_then(PreviewWorker::latest);
        let current = latest
            .as_ref()
            .is_some_and(|p| Some(&p.request) == self.requested.as_ref());
        ui.horizontal(|ui| {
            ui.strong("What it sounds like");
            if !current {
                ui.spinner();
            }
        });
        let width = ui.available_width();
        let Some(preview) = latest else {
            ui.allocate_space(Vec2::new(width, 2.0 * PLOT_HEIGHT));
            return;
        };
        waveform_plot(ui, &preview.samples, width);
        spectrum_plot(ui, &preview.spectrum_db, width);
    }
}

impl NiceEguiApp for SirenadeEditor {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.attach(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        self.draw(ui);
    }

    fn editor_closed(&mut self) {
        self.detach();
    }
}

/// An integer parameter set in one gesture (a list choice).
fn set_once<P: Param<Plain = i32>>(setter: &ParamSetter, param: &P, value: i32) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// A parameter's item index (negative values cannot occur; read as 0).
fn item_index(v: i32) -> usize {
    usize::try_from(v).unwrap_or(0)
}

/// The preset's name for the header: its file stem, or the built-in one.
fn preset_title(sound: &Sound) -> String {
    let origin = sound.origin();
    if let Some(name) = origin.strip_prefix(LIBRARY_PREFIX) {
        return format!("{name} · {} sounds", sound.items());
    }
    let name = std::path::Path::new(origin)
        .file_stem()
        .map_or_else(|| origin.to_string(), |s| s.to_string_lossy().into_owned());
    format!("{name} · {} sounds", sound.items())
}

/// A choice of latent direction for one pad axis (never the other axis's).
fn axis_choice(ui: &mut Ui, label: &str, axis: &mut usize, other: usize) {
    egui::ComboBox::from_id_salt(("axis", label))
        .selected_text(format!("{label}: Latent {}", *axis + 1))
        .show_ui(ui, |ui| {
            for k in (0..LATENT_CONTROLS).filter(|&k| k != other) {
                ui.selectable_value(axis, k, format!("Latent {}", k + 1));
            }
        });
}

/// The playing settings, three to a row: gain and envelope, polyphony and rate, the bend and
/// the expression routing.
fn settings(ui: &mut Ui, setter: &ParamSetter, p: &SirenadeParams) {
    ui.add_space(4.0);
    egui::Grid::new("settings")
        .num_columns(6)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let slider = |ui: &mut Ui, name: &str, add: &dyn Fn(&mut Ui)| {
                ui.label(name);
                add(ui);
            };
            let w = SETTING_SLIDER_WIDTH;
            slider(ui, "Gain", &|ui| {
                ui.add(ParamSlider::for_param(&p.gain, setter).with_width(w));
            });
            slider(ui, "Attack", &|ui| {
                ui.add(ParamSlider::for_param(&p.attack, setter).with_width(w));
            });
            slider(ui, "Release", &|ui| {
                ui.add(ParamSlider::for_param(&p.release, setter).with_width(w));
            });
            ui.end_row();
            slider(ui, "Voices", &|ui| {
                ui.add(ParamSlider::for_param(&p.voices, setter).with_width(w));
            });
            slider(ui, "Render rate", &|ui| {
                ui.add(ParamSlider::for_param(&p.render_rate, setter).with_width(w));
            });
            slider(ui, "Key tracking", &|ui| {
                ui.add(ParamSlider::for_param(&p.key_tracking, setter).with_width(w));
            });
            ui.end_row();
            slider(ui, "Bend range", &|ui| {
                ui.add(ParamSlider::for_param(&p.bend_range, setter).with_width(w));
            });
            slider(ui, "Pressure to", &|ui| {
                ui.add(ParamSlider::for_param(&p.pressure_to, setter).with_width(w));
            });
            slider(ui, "Slide to", &|ui| {
                ui.add(ParamSlider::for_param(&p.slide_to, setter).with_width(w));
            });
            ui.end_row();
            slider(ui, "Expression depth", &|ui| {
                ui.add(ParamSlider::for_param(&p.expression_depth, setter).with_width(w));
            });
            ui.end_row();
        });
    ui.add_space(4.0);
}

/// The clip's waveform as a min/max envelope per pixel column, time along, amplitude up.
fn waveform_plot(ui: &mut Ui, samples: &[f32], width: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, PLOT_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    let mid = rect.center().y;
    painter.line_segment(
        [Pos2::new(rect.left(), mid), Pos2::new(rect.right(), mid)],
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
    );
    let columns = rect.width().max(1.0) as usize;
    let colour = palette::WAVEFORM;
    let half = rect.height() / 2.0 - 2.0;
    for c in 0..columns {
        let from = c * samples.len() / columns;
        let to = ((c + 1) * samples.len() / columns)
            .max(from + 1)
            .min(samples.len());
        let Some(chunk) = samples.get(from..to) else {
            continue;
        };
        let (lo, hi) = chunk
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let x = rect.left() + c as f32 + 0.5;
        let top = mid - hi.clamp(-1.0, 1.0) * half;
        let bottom = mid - lo.clamp(-1.0, 1.0) * half;
        painter.line_segment(
            [Pos2::new(x, top), Pos2::new(x, bottom.max(top + 1.0))],
            Stroke::new(1.0, colour),
        );
    }
    painter.text(
        rect.left_top() + Vec2::new(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        "waveform, 1 s",
        egui::FontId::proportional(10.0),
        ui.visuals().weak_text_color(),
    );
}

/// The clip's spectrum: band levels on a log-frequency axis from 20 Hz to Nyquist.
fn spectrum_plot(ui: &mut Ui, spectrum_db: &[f32], width: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, PLOT_HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    let log_span = (band_edge_hz(SPECTRUM_BANDS) / band_edge_hz(0)).ln();
    let x_of = |hz: f32| rect.left() + (hz / band_edge_hz(0)).ln() / log_span * rect.width();
    let grid = Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color);
    for hz in [100.0f32, 1000.0, 4000.0] {
        let x = x_of(hz);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            grid,
        );
        painter.text(
            Pos2::new(x + 2.0, rect.bottom() - 2.0),
            egui::Align2::LEFT_BOTTOM,
            if hz >= 1000.0 {
                format!("{} kHz", hz / 1000.0)
            } else {
                format!("{hz} Hz")
            },
            egui::FontId::proportional(10.0),
            ui.visuals().weak_text_color(),
        );
    }
    let y_of = |db: f32| rect.top() + (db / FLOOR_DB).clamp(0.0, 1.0) * rect.height();
    let points: Vec<Pos2> = spectrum_db
        .iter()
        .enumerate()
        .map(|(b, &db)| {
            let centre = (band_edge_hz(b) * band_edge_hz(b + 1)).sqrt();
            Pos2::new(x_of(centre), y_of(db))
        })
        .collect();
    painter.add(Shape::line(points, Stroke::new(1.5, palette::SPECTRUM)));
    painter.text(
        rect.left_top() + Vec2::new(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        format!(
            "spectrum, 0 to {} dB, to {} kHz",
            FLOOR_DB,
            SAMPLE_RATE / 2000
        ),
        egui::FontId::proportional(10.0),
        ui.visuals().weak_text_color(),
    );
}
