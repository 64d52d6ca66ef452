//! The editor's own controls: a knob for a continuous parameter, and the gesture rule every
//! control here follows (a host records one automation gesture per drag).

use egui::{Pos2, Response, Sense, Shape, Stroke, Ui, Vec2};
use nice_plug::prelude::{Param, ParamSetter};

use super::palette;

/// Vertical pixels a drag needs to sweep a knob over its whole range; with Shift held the
/// same travel covers a tenth of it, for fine settings.
const KNOB_TRAVEL_PX: f32 = 200.0;

/// The angle a knob's arc spans, radians (the customary 270° with its gap at the bottom).
const KNOB_SWEEP: f32 = 1.5 * std::f32::consts::PI;

/// Reports a drag of `response` on `param` to the host as one gesture: begin when the drag
/// starts, `value` (normalised) while it moves, end when it stops. A double-click returns the
/// parameter to its default in a gesture of its own.
pub fn drive_param<P: Param>(
    setter: &ParamSetter,
    param: &P,
    response: &Response,
    value: Option<f32>,
) {
    if response.double_clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter_normalized(param, param.default_normalized_value());
        setter.end_set_parameter(param);
        return;
    }
    if response.drag_started() {
        setter.begin_set_parameter(param);
    }
    if let Some(v) = value {
        if response.dragged() || response.drag_started() {
            setter.set_parameter_normalized(param, v.clamp(0.0, 1.0));
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(param);
    }
}

/// A knob for `param` with its name below and its value on hover; dragging up raises it.
pub fn knob<P: Param>(ui: &mut Ui, setter: &ParamSetter, param: &P, diameter: f32) -> Response {
    let size = Vec2::new(diameter.max(24.0), diameter + 18.0);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let now = param.unmodulated_normalized_value();
    let next = response.dragged().then(|| {
        let fine = if ui.input(|i| i.modifiers.shift) {
            0.1
        } else {
            1.0
        };
        now - response.drag_delta().y / KNOB_TRAVEL_PX * fine
    });
    drive_param(setter, param, &response, next);

    let visuals = ui.style().interact(&response);
    let centre = Pos2::new(rect.center().x, rect.top() + diameter / 2.0);
    let radius = diameter / 2.0 - 3.0;
    let start = 0.75 * std::f32::consts::PI;
    let arc = |from: f32, to: f32| -> Vec<Pos2> {
        let steps = 32;
        (0..=steps)
            .map(|i| {
                let a = start + KNOB_SWEEP * (from + (to - from) * i as f32 / steps as f32);
                centre + radius * Vec2::angled(a)
            })
            .collect()
    };
    let painter = ui.painter_at(rect);
    painter.add(Shape::line(
        arc(0.0, 1.0),
        Stroke::new(3.0, ui.visuals().widgets.inactive.bg_fill),
    ));
    let shown = param.unmodulated_normalized_value();
    // Bipolar parameters (a default in the middle) light the arc from the centre.
    let origin = param.default_normalized_value();
    let (lo, hi) = if shown < origin {
        (shown, origin)
    } else {
        (origin, shown)
    };
    painter.add(Shape::line(
        arc(lo, hi),
        Stroke::new(3.0, ui.visuals().selection.bg_fill),
    ));
    let pointer = centre + (radius - 6.0) * Vec2::angled(start + KNOB_SWEEP * shown);
    painter.line_segment([centre, pointer], Stroke::new(2.0, visuals.fg_stroke.color));
    painter.text(
        Pos2::new(rect.center().x, rect.bottom() - 8.0),
        egui::Align2::CENTER_CENTER,
        param.name(),
        egui::FontId::proportional(11.0),
        ui.visuals().text_color(),
    );
    let label = param.normalized_value_to_string(shown, true);
    response.on_hover_text(label)
}

/// A horizontal bar meter from 0 to `full`, red above `warn`.
pub fn meter(ui: &mut Ui, value: f32, full: f32, warn: f32, width: f32) -> Response {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(width, 10.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let fraction = if value.is_finite() && full > 0.0 {
        (value / full).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut lit = rect;
    lit.set_width(rect.width() * fraction);
    let colour = if value > warn {
        palette::OVERLOAD
    } else {
        ui.visuals().selection.bg_fill
    };
    painter.rect_filled(lit, 2.0, colour);
    response
}
