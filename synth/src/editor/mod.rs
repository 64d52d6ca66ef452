//! The instrument's window (egui through nice-plug-egui): the sound by name with a searchable
//! list of the preset's items, an XY pad over two latent directions with the training items
//! drawn in its plane, the waveform and spectrum of the current latent, a preset browser,
//! the playing settings and the audio thread's meters.
//!
//! - [`app`]: the window's layout and its connection to the parameters.
//! - [`latent_pad`], [`widgets`]: the pad, the knobs and the meters; [`palette`]: the
//!   colours of the data they draw.
//! - [`preview`]: the worker that renders the current latent off the GUI thread.
//! - [`sound_list`]: grouping and search of the preset's items.

pub mod app;
pub mod latent_pad;
pub mod palette;
pub mod preview;
pub mod sound_list;
pub mod widgets;

use std::sync::Arc;

use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::ResizeHint;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings};

pub use app::{EditorShared, SirenadeEditor};

/// The window's size when it first opens, logical points.
pub const DEFAULT_SIZE: (f32, f32) = (1000.0, 720.0);

/// The smallest size the host may make it: the pad, two plots and the list still fit.
pub const MIN_SIZE: (f32, f32) = (880.0, 620.0);

/// The plugin's editor over `shared`.
pub fn create(shared: EditorShared) -> Option<EguiEditor<SirenadeEditor>> {
    let state: Arc<EguiEditorState> =
        EguiEditorState::from_size(LogicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1), 1.0);
    let repaint = nice_plug_egui::RepaintNotifier::new();
    let settings = EguiNiceSettings::new()
        .with_tile("Sirenade")
        .with_resize_hint(
            ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)),
        );
    create_egui_editor(
        state,
        repaint.clone(),
        settings,
        SirenadeEditor::new(shared, repaint),
    )
}

#[cfg(test)]
mod tests;
