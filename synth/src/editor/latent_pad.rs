//! The latent pad: two `Latent` controls as a plane, with the preset's training items drawn
//! where they lie in that plane around the current sound, so a musician sees where the sounds
//! are. Dragging moves both controls in one gesture each; a double-click on an item's point
//! makes it the `Sound` and centres the pad on it.

use egui::{Color32, Pos2, Rect, Response, Sense, Stroke, Ui, Vec2};

use super::palette;
use crate::engine::controls::{LATENT, LATENT_CONTROLS};

/// Radius within which a double-click picks an item's point, pixels.
const PICK_RADIUS: f32 = 8.0;

/// The two directions the pad shows (indices of `Latent k` − 1, distinct).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axes {
    /// The horizontal direction.
    pub x: usize,
    /// The vertical direction.
    pub y: usize,
}

impl Default for Axes {
    /// `Latent 1` across, `Latent 2` up: the two directions the training latents vary most.
    fn default() -> Axes {
        Axes { x: 0, y: 1 }
    }
}

impl Axes {
    /// The other controls, in order (the knobs beside the pad).
    pub fn others(self) -> impl Iterator<Item = usize> {
        (0..LATENT_CONTROLS).filter(move |&k| k != self.x && k != self.y)
    }
}

/// What the musician did with the pad this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PadAction {
    /// Nothing.
    None,
    /// A drag started at (x, y), in the controls' units.
    Begin(f32, f32),
    /// The drag moved to (x, y).
    Move(f32, f32),
    /// The drag ended (after its last move).
    End,
    /// Item i's point was double-clicked.
    Pick(usize),
}

/// Maps between the controls' units and the pad's pixels.
#[derive(Debug, Clone, Copy)]
pub struct PadGeometry {
    /// The pad's square on screen.
    pub rect: Rect,
}

impl PadGeometry {
    /// The screen position of control values (x, y); up is positive.
    pub fn to_screen(self, x: f32, y: f32) -> Pos2 {
        let span = LATENT.max - LATENT.min;
        Pos2::new(
            self.rect.left() + (x - LATENT.min) / span * self.rect.width(),
            self.rect.bottom() - (y - LATENT.min) / span * self.rect.height(),
        )
    }

    /// The control values at screen position `p`, clamped to their range.
    pub fn to_values(self, p: Pos2) -> (f32, f32) {
        let span = LATENT.max - LATENT.min;
        let x = LATENT.min + (p.x - self.rect.left()) / self.rect.width() * span;
        let y = LATENT.min + (self.rect.bottom() - p.y) / self.rect.height() * span;
        (
            x.clamp(LATENT.min, LATENT.max),
            y.clamp(LATENT.min, LATENT.max),
        )
    }
}

/// Draws the pad in a square of side `side`: a grid, the items' `points` (control units,
/// relative to the current sound; those outside the range are drawn at its edge), the current
/// position `at`, and reports what the pointer did.
pub fn latent_pad(
    ui: &mut Ui,
    side: f32,
    points: &[[f32; 2]],
    at: (f32, f32),
) -> (Response, PadGeometry, PadAction) {
    let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::click_and_drag());
    let geometry = PadGeometry { rect };
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 4.0, visuals.extreme_bg_color);
    let grid = Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color);
    let mut v = LATENT.min.ceil();
    while v <= LATENT.max {
        let stroke = if v == 0.0 {
            Stroke::new(1.5, visuals.widgets.inactive.fg_stroke.color)
        } else {
            grid
        };
        let p = geometry.to_screen(v, v);
        painter.line_segment(
            [Pos2::new(p.x, rect.top()), Pos2::new(p.x, rect.bottom())],
            stroke,
        );
        painter.line_segment(
            [Pos2::new(rect.left(), p.y), Pos2::new(rect.right(), p.y)],
            stroke,
        );
        v += 1.0;
    }
    let faint = visuals.text_color().gamma_multiply(0.35);
    for &[x, y] in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let p = geometry.to_screen(x, y);
        painter.circle_filled(rect.clamp(p), 2.5, faint);
    }
    let dot = geometry.to_screen(at.0, at.1);
    painter.circle_filled(dot, 7.0, palette::PAD_DOT);
    painter.circle_stroke(dot, 7.0, Stroke::new(1.5, Color32::WHITE));

    let action = if response.double_clicked() {
        response
            .interact_pointer_pos()
            .and_then(|p| nearest(points, geometry, p))
            .map_or(PadAction::None, PadAction::Pick)
    } else if response.drag_started() {
        response
            .interact_pointer_pos()
            .map_or(PadAction::None, |p| {
                let (x, y) = geometry.to_values(p);
                PadAction::Begin(x, y)
            })
    } else if response.drag_stopped() {
        PadAction::End
    } else if response.dragged() {
        response
            .interact_pointer_pos()
            .map_or(PadAction::None, |p| {
                let (x, y) = geometry.to_values(p);
                PadAction::Move(x, y)
            })
    } else {
        PadAction::None
    };
    let response = match (response.hover_pos(), response.dragged()) {
        (Some(p), false) => match nearest(points, geometry, p) {
            Some(i) => response.on_hover_text(format!("item {i}: double-click to play it")),
            None => response,
        },
        _ => response,
    };
    (response, geometry, action)
}

/// The item whose point lies nearest to `p` within [`PICK_RADIUS`].
fn nearest(points: &[[f32; 2]], geometry: PadGeometry, p: Pos2) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter(|(_, q)| q[0].is_finite() && q[1].is_finite())
        .map(|(i, q)| {
            let s = geometry.rect.clamp(geometry.to_screen(q[0], q[1]));
            (i, s.distance(p))
        })
        .filter(|&(_, d)| d <= PICK_RADIUS)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Screen and control coordinates are each other's inverse; the centre is (0, 0); up is
    /// positive; positions outside clamp to the range.
    #[test]
    fn pad_coordinates_round_trip() {
        let g = PadGeometry {
            rect: Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::splat(300.0)),
        };
        let c = g.to_screen(0.0, 0.0);
        assert!((c - g.rect.center()).length() < 1e-4);
        assert!(g.to_screen(0.0, 1.0).y < c.y);
        for &(x, y) in &[(1.5f32, -2.0f32), (LATENT.min, LATENT.max), (0.3, 0.7)] {
            let (bx, by) = g.to_values(g.to_screen(x, y));
            assert!((bx - x).abs() < 1e-4 && (by - y).abs() < 1e-4);
        }
        assert_eq!(
            g.to_values(Pos2::new(-100.0, 1000.0)),
            (LATENT.min, LATENT.min)
        );
        assert_eq!(nearest(&[[0.0, 0.0], [2.0, 2.0]], g, c), Some(0));
        assert_eq!(nearest(&[[2.0, 2.0]], g, c), None);
    }

    /// The knobs are the six controls the pad does not show.
    #[test]
    fn the_knobs_are_the_other_directions() {
        let axes = Axes { x: 2, y: 5 };
        let others: Vec<usize> = axes.others().collect();
        assert_eq!(others, vec![0, 1, 3, 4, 6, 7]);
        assert_eq!(Axes::default().others().count(), LATENT_CONTROLS - 2);
    }
}
