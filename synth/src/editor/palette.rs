//! The colours the editor draws its data in, on egui's dark theme. Each is distinct from the
//! theme's own colours, so a screenshot test can find the regions by colour.

use egui::Color32;

/// The waveform.
pub const WAVEFORM: Color32 = Color32::from_rgb(90, 170, 255);

/// The spectrum.
pub const SPECTRUM: Color32 = Color32::from_rgb(255, 170, 80);

/// The pad's dot at the current position.
pub const PAD_DOT: Color32 = Color32::from_rgb(250, 214, 60);

/// A load above the warning level.
pub const OVERLOAD: Color32 = Color32::from_rgb(220, 80, 60);

/// A colour's red, green and blue bytes (screenshots are compared in these).
pub const fn rgb(c: Color32) -> [u8; 3] {
    [c.r(), c.g(), c.b()]
}
