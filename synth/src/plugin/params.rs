//! The plugin's parameters: what a host's generic editor shows and automates, and the
//! persisted preset choice.

use std::sync::Arc;

use arc_swap::ArcSwap;
use nice_plug::prelude::*;

use super::preset_folder::{PresetFolder, MAX_SLOT};
use super::preset_slot::PresetSlot;
use crate::engine::controls::{
    db_to_gain, Control, Controls, RenderRate, ATTACK, BEND_RANGE, DEFAULT_PRESSURE_TO,
    DEFAULT_SLIDE_TO, EXPRESSION_DEPTH, GAIN, LATENT, LATENT_CONTROLS, LATENT_RANGE, MORPH,
    RELEASE, VOICES,
};
use crate::engine::modulation::ModTarget;

/// Largest item index `Sound` and `Morph to` offer (presets with more items reach only the
/// first ones from the host; the offline renderer reaches all).
pub const MAX_ITEM_PARAM: i32 = 1023;

/// Smoothing of the continuous sound controls, ms.
const SMOOTHING_MS: f32 = 20.0;

/// Polyphonic modulation id of `Morph`; `Latent k` has id k − 1.
pub const MORPH_POLY_ID: u32 = LATENT_CONTROLS as u32;

/// What a polyphonic modulation of parameter `poly_id` by `normalized_offset` (a fraction of
/// the parameter's range, as CLAP and nice-plug give it) does to a voice, in the control's
/// own units; none for an id no parameter has.
pub fn voice_modulation(poly_id: u32, normalized_offset: f32) -> Option<(ModTarget, f32)> {
    let id = poly_id as usize;
    if id < LATENT_CONTROLS {
        Some((
            ModTarget::Latent(id),
            normalized_offset * 2.0 * LATENT_RANGE,
        ))
    } else if poly_id == MORPH_POLY_ID {
        Some((ModTarget::Morph, normalized_offset))
    } else {
        None
    }
}

/// Names of the current preset's items, read by the `Sound` / `Morph to` displays.
pub type ItemNames = Arc<ArcSwap<Vec<String>>>;

/// One `Latent k` control.
#[derive(Params)]
pub struct LatentParam {
    /// Offset along principal direction k, in standard deviations.
    #[id = "latent"]
    pub value: FloatParam,
}

/// Every parameter, in the order a generic editor lists them.
#[derive(Params)]
pub struct SirenadeParams {
    /// The preset file (persisted with the project).
    #[persist = "preset"]
    pub preset: PresetSlot,
    /// `Preset`: 0 the embedded preset, k the k-th file of the preset folder. Moving it loads
    /// that file; the persisted path (above) is what a saved project restores.
    #[id = "preset_slot"]
    pub preset_slot: IntParam,
    /// `Sound`: the training item whose latent is the base.
    #[id = "sound"]
    pub sound: IntParam,
    /// `Morph to`: the item to interpolate towards.
    #[id = "morph_to"]
    pub morph_to: IntParam,
    /// `Morph`: interpolation from `Sound` (0 %) to `Morph to` (100 %).
    #[id = "morph"]
    pub morph: FloatParam,
    /// `Latent 1` … `Latent 8`.
    #[nested(array, group = "Latent")]
    pub latents: [LatentParam; LATENT_CONTROLS],
    /// Output gain, dB.
    #[id = "gain"]
    pub gain: FloatParam,
    /// Attack time, ms.
    #[id = "attack"]
    pub attack: FloatParam,
    /// Release time (to −60 dB), ms.
    #[id = "release"]
    pub release: FloatParam,
    /// Polyphony limit.
    #[id = "voices"]
    pub voices: IntParam,
    /// Key tracking on/off.
    #[id = "key_tracking"]
    pub key_tracking: BoolParam,
    /// Host or native render rate.
    #[id = "render_rate"]
    pub render_rate: EnumParam<RenderRate>,
    /// Semitones a full pitch bend moves the notes, each way.
    #[id = "bend_range"]
    pub bend_range: IntParam,

    /// The latent a note's pressure moves (0: none).
    #[id = "pressure_to"]
    pub pressure_to: IntParam,

    /// The latent a note's slide (MPE's CC 74) moves (0: none).
    #[id = "slide_to"]
    pub slide_to: IntParam,

    /// How far full pressure or a full slide moves its latent, in standard deviations.
    #[id = "expression_depth"]
    pub expression_depth: FloatParam,
}

/// A continuous parameter over `control`'s range, starting at its default, with its unit.
fn linear(control: Control) -> FloatParam {
    FloatParam::new(
        control.name,
        control.default,
        FloatRange::Linear {
            min: control.min,
            max: control.max,
        },
    )
    .with_unit(control.unit)
}

/// A time parameter over `control`'s range, skewed by `skew` (`FloatRange::skew_factor`'s
/// argument) so that the short times a musician sets most get most of the travel.
fn skewed(control: Control, skew: f32) -> FloatParam {
    FloatParam::new(
        control.name,
        control.default,
        FloatRange::Skewed {
            min: control.min,
            max: control.max,
            factor: FloatRange::skew_factor(skew),
        },
    )
    .with_unit(control.unit)
}

/// An integer parameter over `control`'s range (its bounds are whole numbers).
fn integer(control: Control) -> IntParam {
    IntParam::new(
        control.name,
        control.default as i32,
        IntRange::Linear {
            min: control.min as i32,
            max: control.max as i32,
        },
    )
    .with_unit(control.unit)
}

/// A `Pressure to` / `Slide to` parameter: `off` or one of the latent controls.
fn latent_choice(name: &str, default: usize) -> IntParam {
    IntParam::new(
        name,
        default as i32,
        IntRange::Linear {
            min: 0,
            max: LATENT_CONTROLS as i32,
        },
    )
    .with_value_to_string(Arc::new(|v| match v {
        0 => "off".to_string(),
        k => format!("Latent {k}"),
    }))
    .with_string_to_value(Arc::new(|s| {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Some(0);
        }
        s.trim_start_matches("Latent").trim().parse().ok()
    }))
}

fn item_param(name: &str, names: &ItemNames) -> IntParam {
    let display = Arc::clone(names);
    IntParam::new(
        name,
        0,
        IntRange::Linear {
            min: 0,
            max: MAX_ITEM_PARAM,
        },
    )
    .with_value_to_string(Arc::new(move |v| {
        let names = display.load();
        let last = names.len().saturating_sub(1);
        let i = usize::try_from(v).unwrap_or(0);
        match names.get(i.min(last)) {
            Some(label) if i <= last => format!("{i}: {label}"),
            Some(label) => format!("{i} (= {last}: {label})"),
            None => i.to_string(),
        }
    }))
    .with_string_to_value(Arc::new(leading_index))
}

/// The index a `Sound`, `Morph to` or `Preset` display starts with ("41 (= 31: …)", "3: name",
/// "7"): every text those displays write reads back as its own value.
fn leading_index(text: &str) -> Option<i32> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text[..end].parse().ok()
}

impl SirenadeParams {
    /// The parameters with their defaults; `names` feeds the item displays and `folder` the
    /// `Preset` display.
    pub fn new(names: &ItemNames, folder: &Arc<PresetFolder>) -> SirenadeParams {
        let describe = Arc::clone(folder);
        SirenadeParams {
            preset: PresetSlot::default(),
            preset_slot: IntParam::new(
                "Preset",
                0,
                IntRange::Linear {
                    min: 0,
                    max: MAX_SLOT,
                },
            )
            .with_value_to_string(Arc::new(move |v| describe.describe(v)))
            .with_string_to_value(Arc::new(leading_index)),
            sound: item_param("Sound", names),
            morph_to: item_param("Morph to", names),
            morph: FloatParam::new(
                MORPH.name,
                MORPH.default,
                FloatRange::Linear {
                    min: MORPH.min,
                    max: MORPH.max,
                },
            )
            .with_poly_modulation_id(MORPH_POLY_ID)
            .with_smoother(SmoothingStyle::Linear(SMOOTHING_MS))
            .with_unit(" %")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            latents: std::array::from_fn(|k| LatentParam {
                value: FloatParam::new(
                    format!("{} {}", LATENT.name, k + 1),
                    LATENT.default,
                    FloatRange::Linear {
                        min: LATENT.min,
                        max: LATENT.max,
                    },
                )
                .with_poly_modulation_id(k as u32)
                .with_smoother(SmoothingStyle::Linear(SMOOTHING_MS))
                .with_unit(LATENT.unit)
                .with_step_size(0.01),
            }),
            gain: linear(GAIN)
                .with_smoother(SmoothingStyle::Linear(SMOOTHING_MS))
                .with_step_size(0.1),
            attack: skewed(ATTACK, -2.5).with_step_size(0.1),
            release: skewed(RELEASE, -2.0).with_step_size(1.0),
            voices: integer(VOICES),
            key_tracking: BoolParam::new("Key tracking", true),
            render_rate: EnumParam::new("Render rate", RenderRate::Host),
            bend_range: integer(BEND_RANGE),
            pressure_to: latent_choice("Pressure to", DEFAULT_PRESSURE_TO),
            slide_to: latent_choice("Slide to", DEFAULT_SLIDE_TO),
            expression_depth: linear(EXPRESSION_DEPTH).with_step_size(0.01),
        }
    }

    /// The controls as they stand, smoothed values where their smoothers are now (no
    /// advance). Called on the audio thread; reads atomics only.
    pub fn controls_now(&self) -> Controls {
        self.controls_with(|p| p.smoothed.previous_value())
    }

    /// The controls for the next `steps` (≥ 1) samples: smoothed values advanced by `steps`.
    /// Called on the audio thread; reads atomics only.
    pub fn controls_after(&self, steps: u32) -> Controls {
        let steps = steps.max(1);
        self.controls_with(|p| p.smoothed.next_step(steps))
    }

    fn controls_with(&self, smoothed: impl Fn(&FloatParam) -> f32) -> Controls {
        Controls {
            sound: usize::try_from(self.sound.value()).unwrap_or(0),
            morph_to: usize::try_from(self.morph_to.value()).unwrap_or(0),
            morph: smoothed(&self.morph),
            latents: std::array::from_fn(|k| smoothed(&self.latents[k].value)),
            gain: db_to_gain(self.gain.value()),
            attack_s: self.attack.value() * 1e-3,
            release_s: self.release.value() * 1e-3,
            voices: usize::try_from(self.voices.value()).unwrap_or(VOICES.default as usize),
            key_tracking: self.key_tracking.value(),
            render_rate: self.render_rate.value(),
            bend_range: self.bend_range.value() as f32,
            pressure_to: usize::try_from(self.pressure_to.value()).unwrap_or(0),
            slide_to: usize::try_from(self.slide_to.value()).unwrap_or(0),
            expression_depth: self.expression_depth.value(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::leading_index;

    /// Every form the item and preset displays write reads back as its index; text without a
    /// leading number reads as nothing.
    #[test]
    fn displays_read_back_as_their_index() {
        assert_eq!(
            leading_index("41 (= 31: keyboard_electronic_004 E4)"),
            Some(41)
        );
        assert_eq!(leading_index("3: keyboard_acoustic_000 C4"), Some(3));
        assert_eq!(leading_index(" 7"), Some(7));
        assert_eq!(leading_index("0: embedded"), Some(0));
        assert_eq!(leading_index("keyboard"), None);
        assert_eq!(leading_index(""), None);
    }
}
